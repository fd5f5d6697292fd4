variable "name" {
  description = "Deployed name (lowercase, hyphens): also the Cloud Run service's name."
  type        = string
}

variable "entry_point" {
  description = "Python function in main.py (the folder name in functions/)."
  type        = string
}

variable "description" {
  type    = string
  default = ""
}

variable "region" {
  type = string
}

variable "runtime" {
  type = string
}

variable "source_bucket" {
  type = string
}

variable "source_object" {
  type = string
}

variable "build_service_account" {
  description = "projects/PROJECT/serviceAccounts/EMAIL of the build account."
  type        = string
}

variable "service_account_email" {
  description = "The function's own runtime service account."
  type        = string
}

variable "memory" {
  type    = string
  default = "256M"
}

variable "timeout" {
  description = "Seconds."
  type        = number
  default     = 60
}

variable "max_instances" {
  type    = number
  default = 3
}

variable "public" {
  description = "Grant allUsers run.invoker (only for callers that cannot send OIDC; the function authenticates them itself)."
  type        = bool
  default     = false
}

variable "env" {
  type    = map(string)
  default = {}
}

variable "secrets" {
  description = "Environment variable name -> Secret Manager secret id (latest version)."
  type        = map(string)
  default     = {}
}

variable "secret_files" {
  description = "Environment variable name -> secret id mounted as a file; the variable holds the file's path."
  type        = map(string)
  default     = {}
}

variable "labels" {
  type    = map(string)
  default = {}
}
