# Values a deployer supplies (see terraform.tfvars.example). The function catalogue itself is code:
# infra/functions.tf.

variable "project_id" {
  description = "Google Cloud project id (Console > project picker; not the project number)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project id such as my-alumni-2026 (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  description = "Region of the functions, the Scheduler jobs and the source bucket."
  type        = string
  default     = "asia-northeast1" # Tokyo
}

variable "firestore" {
  description = "The Firestore database (native mode). Keep name \"(default)\" unless you run several communities in one project."
  type = object({
    name                   = optional(string, "(default)")
    location               = optional(string, "asia-northeast1")
    point_in_time_recovery = optional(bool, true)
    delete_protection      = optional(bool, true)
  })
  default = {}
}

variable "time_zone" {
  description = "IANA time zone of the Scheduler jobs. null: community.timezone from the community config (community_config_file), else Asia/Tokyo."
  type        = string
  default     = null
}

variable "community_config_file" {
  description = "The community YAML that `make bundles` puts in every bundle (relative to infra/). Its community.timezone sets the schedules' time zone."
  type        = string
  default     = "../config/community.yaml"
}

variable "bundles_dir" {
  description = "Where `make bundles` writes <function>.zip (relative to infra/)."
  type        = string
  default     = "../build/bundles"
}

variable "runtime" {
  description = "Cloud Functions Python runtime of every function."
  type        = string
  default     = "python311"

  validation {
    condition     = contains(["python311", "python312"], var.runtime)
    error_message = "runtime must be python311 or python312 (the versions the project is tested with)."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function (DEBUG, INFO, WARNING, ERROR)."
  type        = string
  default     = "INFO"
}

variable "settings" {
  description = "Plain (non-secret) environment values by name, e.g. MAIL_FROM or MAIL_TRANSPORT. Each function receives only the names its catalogue entry lists; a name you leave out arrives empty and the code uses its default."
  type        = map(string)
  default     = {}
}

variable "optional_secrets" {
  description = "Optional secrets this deployment uses (each active version beyond 6 costs $0.06/month): GOOGLE_API_CREDENTIALS (consumer Gmail: the OAuth refresh token; leave it out with Google Workspace), SLACK_WEBHOOK_URL (post the weekly prompt to Slack), SMTP_PASSWORD (needed with MAIL_TRANSPORT=smtp), ICS_FEED_TOKEN (a fixed feed token besides the rotated ones), CONSOLE_SESSION_KEY (the console's own session key; without it the console derives one from ACTION_LINK_KEY). A function runs without the ones left out."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.optional_secrets : contains(["GOOGLE_API_CREDENTIALS", "SLACK_WEBHOOK_URL", "SMTP_PASSWORD", "ICS_FEED_TOKEN", "CONSOLE_SESSION_KEY"], s)])
    error_message = "optional_secrets may name GOOGLE_API_CREDENTIALS, SLACK_WEBHOOK_URL, SMTP_PASSWORD, ICS_FEED_TOKEN and CONSOLE_SESSION_KEY only (the others are always created)."
  }
}

variable "schedule_overrides" {
  description = "Replace a cron function's schedule (unix-cron, in time_zone), by function name."
  type        = map(string)
  default     = {}
}

variable "function_overrides" {
  description = "Per-function sizing, by function name: memory (\"256M\"), timeout (seconds), max_instances."
  type = map(object({
    memory        = optional(string)
    timeout       = optional(number)
    max_instances = optional(number)
  }))
  default = {}
}

variable "alert_labels" {
  description = "Labels put on every resource that takes labels."
  type        = map(string)
  default     = { app = "alumni-autopilot" }
}

variable "doctor_members" {
  description = "Who runs `autopilot doctor` (e.g. [\"user:you@example.com\"]): they may get tokens as the functions' service accounts that call Google, to check each account's delegation and calendar access."
  type        = list(string)
  default     = []
}
