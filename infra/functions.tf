# The function catalogue: ONE entry per folder in functions/ (the offline checks in
# tests/infra/test_terraform.py fail when the two drift apart). Adding a function = its folder +
# one entry here. The entry point is the folder name; the deployed name uses hyphens.
#
#   kind          "http" (called by someone), "cron" (run on its schedule, called with OIDC by the
#                 dispatcher) or "dispatch" (exactly one: cron_dispatch, the target of the one
#                 Cloud Scheduler job; see shared/entrypoints/dispatch.py)
#   schedule      cron: unix-cron in the community time zone (var.time_zone); dispatch: the tick
#   public        true only for callers that cannot send an OIDC token (Apps Script form webhook,
#                 Zoom webhook, action links in mails, the ICS feed); such functions check a
#                 signature or token themselves. Never for cron functions.
#   env           names (from shared/platform/env.py) whose values come from var.settings; every function
#                 also gets local.common_env (main.tf). `make infra-check` follows each function's code
#                 path (tools/code_paths.py) and fails when it reads a setting its entry does not list,
#                 or when an entry lists one its code never reads
#   secrets       Secret Manager secrets (local.secrets) passed as environment variables
#   secret_files  secrets mounted as a file; the variable holds the file's path
#   memory/timeout/max_instances   sizing (var.function_overrides can change them per deployment)

variable "functions" {
  description = "The function catalogue (code, not a deployment setting: do not set it in tfvars)."
  type = map(object({
    kind          = string
    description   = optional(string, "")
    schedule      = optional(string)
    public        = optional(bool, false)
    env           = optional(list(string), [])
    secrets       = optional(list(string), [])
    secret_files  = optional(list(string), [])
    memory        = optional(string, "256M")
    timeout       = optional(number, 60)
    max_instances = optional(number, 3)
  }))

  default = {
    cron_dispatch = {
      kind          = "dispatch"
      description   = "The one Cloud Scheduler job's target: calls each cron function when its schedule is due"
      schedule      = "*/5 * * * *" # the tick; every cron schedule fires at most 5 minutes late
      env           = ["CRON_PLAN"] # written by main.tf from this catalogue (not from var.settings)
      timeout       = 600           # waits for the runs it calls (provision_events: 540 s)
      max_instances = 3
    }
    generate_slots = {
      kind          = "cron"
      description   = "Keeps the next months of event slots in Firestore"
      schedule      = "15 4 * * *" # daily 04:15, community time
      timeout       = 300
      max_instances = 1
    }
    provision_events = {
      kind        = "cron"
      description = "One Zoom meeting and one calendar entry per slot, kept in sync"
      schedule    = "40 * * * *" # hourly; Zoom allows 100 meeting creates/updates per host and day
      # Zoom ids are identifiers, not secrets (var.settings); the mail settings because every run
      # also finishes the mail intents other functions left unfinished (ExactlyOnceMailer.resume),
      # held ones too: the base URLs fill in their links (shared/platform/links.py)
      env           = ["ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["ZOOM_CLIENT_SECRET", "SMTP_PASSWORD"]
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 540
      max_instances = 1
    }
    assign_speakers = {
      kind          = "cron"
      description   = "Offers slots to queued speakers, rolls them forward, rotates host duty"
      schedule      = "0 9 * * *" # daily 09:00, when mails are welcome
      env           = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["ACTION_LINK_KEY", "SMTP_PASSWORD"]
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 300
      max_instances = 1
    }
    poll_form_responses = {
      kind          = "cron"
      description   = "Safety net: re-sends form responses the Apps Script trigger missed"
      schedule      = "*/30 * * * *"
      env           = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["ACTION_LINK_KEY", "SMTP_PASSWORD"]
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 300
      max_instances = 1
    }
    form_webhook = {
      kind         = "http"
      description  = "Signed Google Form submissions (Apps Script) become applications"
      public       = true # Apps Script cannot send OIDC; HMAC-signed body instead
      env          = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets      = ["FORM_WEBHOOK_SECRET", "ACTION_LINK_KEY", "SMTP_PASSWORD"]
      secret_files = ["GOOGLE_API_CREDENTIALS"]
      timeout      = 60
    }
    actions = {
      kind         = "http"
      description  = "One-click signed links in mails (approve, reject, accept an offer, ...)"
      public       = true # opened from a mail client; the link carries an HMAC token
      env          = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets      = ["ACTION_LINK_KEY", "SMTP_PASSWORD"]
      secret_files = ["GOOGLE_API_CREDENTIALS"]
      timeout      = 60
    }
    events = {
      kind          = "http"
      description   = "Public events pages (JSON-LD, Open Graph), RSVP with seats and waitlist, the public feed, one-click unsubscribe"
      public        = true # anyone reads the events; RSVP links carry an HMAC token, forms a CSRF token
      env           = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["ACTION_LINK_KEY", "SMTP_PASSWORD"]
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 60
      max_instances = 10 # an RSVP burst: the seats are decided by create() claims, whatever the instances
    }
    event_sweep = {
      kind          = "cron"
      description   = "Around events: lapsed offers, invitation updates, reminders, headcounts, thank-yous, announcements"
      schedule      = "10 * * * *" # hourly: an offer's deadline, the day-before reminder, the roundup's hour
      env           = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["ACTION_LINK_KEY", "SMTP_PASSWORD"]
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 540
      max_instances = 1
    }
    zoom_webhook = {
      kind          = "http"
      description   = "Zoom events (URL validation, meeting ended/deleted), signature-checked"
      public        = true # Zoom signs with x-zm-signature; it cannot send OIDC
      secrets       = ["ZOOM_WEBHOOK_SECRET"]
      timeout       = 30 # Zoom retries when there is no answer within 3 s
      max_instances = 5
    }
    send_newsletter = {
      kind          = "cron"
      description   = "Monthly newsletter: assembled by itself, previewed to organizers, sent when approved or due"
      schedule      = "20 * * * *" # hourly: an approval goes out within the hour; the day's batches resume each day
      env           = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["ACTION_LINK_KEY", "SMTP_PASSWORD"] # the key: the approve link in the preview
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 540
      max_instances = 1
    }
    send_digest = {
      kind          = "cron"
      description   = "Weekly organizer digest mail"
      schedule      = "0 8 * * 1" # replaced by rhythm.digest.weekday/time of the community config (main.tf)
      env           = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["ACTION_LINK_KEY", "SMTP_PASSWORD"] # the key: approve/reject links in the digest
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 300
      max_instances = 1
    }
    send_reminders = {
      kind          = "cron"
      description   = "Reminders to speakers and hosts before their event"
      schedule      = "0 10 * * *"
      env           = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["SMTP_PASSWORD"]
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 300
      max_instances = 1
    }
    weekly_prompt = {
      kind          = "cron"
      description   = "The weekly prompt to Slack and opted-in members"
      schedule      = "0 9 * * *" # daily: the prompt on rhythm.prompt.weekday, later days the deferred batches; time from the config (main.tf)
      env           = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets       = ["SLACK_WEBHOOK_URL", "SMTP_PASSWORD", "ACTION_LINK_KEY"] # the key signs each member's unsubscribe link
      secret_files  = ["GOOGLE_API_CREDENTIALS"]
      timeout       = 540
      max_instances = 1
    }
    propose_event = {
      kind         = "http"
      description  = "A member's event proposal (signed webhook) checked against the guidelines"
      public       = true # same signed-webhook contract as form_webhook
      env          = ["MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets      = ["FORM_WEBHOOK_SECRET", "ACTION_LINK_KEY", "SMTP_PASSWORD"] # the key: the organizers' confirm link
      secret_files = ["GOOGLE_API_CREDENTIALS"]
    }
    console = {
      kind         = "http"
      description  = "The organizer console: pages for organizers and hosts, signed in with Google or a link by mail"
      public       = true # opened in a browser; the console signs people in itself (docs/console.md)
      env          = ["CONSOLE_URL", "CONSOLE_OAUTH_CLIENT_ID", "MAIL_TRANSPORT", "MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_STARTTLS", "ACTIONS_BASE_URL", "EVENTS_BASE_URL"]
      secrets      = ["CONSOLE_SESSION_KEY", "ACTION_LINK_KEY", "SMTP_PASSWORD"] # the action key: the same decisions as the mail links
      secret_files = ["GOOGLE_API_CREDENTIALS"]
      timeout      = 60
      memory       = "512M" # a page renders from a few hundred documents (10,000 members: tools/bench/bench_console.py)
    }
    ics_feed = {
      kind        = "http"
      description = "Upcoming events as iCalendar, behind a secret token in the URL"
      public      = true # calendar apps cannot send OIDC; the URL token is checked
      secrets     = ["ICS_FEED_TOKEN"]
      timeout     = 30
    }
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["http", "cron", "dispatch"], f.kind)])
    error_message = "Each function's kind must be \"http\", \"cron\" or \"dispatch\"."
  }
  validation {
    condition     = length([for f in values(var.functions) : f if f.kind == "dispatch"]) == 1
    error_message = "Exactly one function is the dispatcher (kind = \"dispatch\"): the one Scheduler job calls it."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : (f.kind != "http") == (f.schedule != null)])
    error_message = "Cron functions (and the dispatcher's tick) need a schedule; http functions must not have one."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : !(f.kind != "http" && f.public)])
    error_message = "A cron function (or the dispatcher) is never public: it is called with an OIDC token."
  }
}

locals {
  # Secret Manager secrets, created WITHOUT versions: you add each value yourself (README, Deploy).
  # The secret id is the environment variable name the code reads (shared/platform/env.py). Every active
  # version costs $0.06 a month beyond 6 per billing account: the required ones are 4, and the
  # optional ones exist only when var.optional_secrets names them (a function then runs without).
  # GOOGLE_API_CREDENTIALS is for consumer Gmail only: with Google Workspace the functions sign their
  # domain-wide delegation through IAM Credentials, without any key (shared/adapters/google_auth.py).
  secret_catalogue = {
    ZOOM_CLIENT_SECRET     = "Zoom Server-to-Server OAuth app: Client secret"
    ZOOM_WEBHOOK_SECRET    = "Zoom app: Secret Token of the event subscription (webhook signatures)"
    FORM_WEBHOOK_SECRET    = "Shared secret with the Apps Script that forwards form answers"
    ACTION_LINK_KEY        = "HMAC key of the one-click action links (at least 32 random bytes)"
    GOOGLE_API_CREDENTIALS = "Consumer Gmail only: authorized_user JSON (OAuth client id, client secret, refresh token) for Gmail and Forms"
    SMTP_PASSWORD          = "SMTP password (e.g. a Google App Password) when MAIL_TRANSPORT=smtp"
    SLACK_WEBHOOK_URL      = "Slack incoming webhook URL of the weekly prompt"
    ICS_FEED_TOKEN         = "A fixed token of the ICS feed URL, besides the rotated ones (autopilot feed-token rotate)"
    CONSOLE_SESSION_KEY    = "Signing key of the organizer console's sessions, CSRF tokens and sign-in links (at least 32 random bytes); without it the console derives one from ACTION_LINK_KEY"
  }
  optional_secret_names = ["GOOGLE_API_CREDENTIALS", "SMTP_PASSWORD", "SLACK_WEBHOOK_URL", "ICS_FEED_TOKEN", "CONSOLE_SESSION_KEY"]

  # Firestore collections whose documents carry `expires_at` as a retention time: a TTL policy
  # deletes them (within ~24 h after that time). Collections whose `expires_at` means something
  # else (a deadline that must not delete the document) go to firestore_no_ttl with the reason.
  # inbox and leases: the RSVP chain's per-event subcollections (a TTL policy applies to a collection
  # group), kept 60 days after the event; the day's mail tickets and announcement plans
  ttl_collections = ["idempotency", "claims", "console_sessions", "console_signin", "console_signin_nonces", "inbox", "leases", "rsvp_undelivered", "rsvp_mail_budget", "announce_tickets", "announce_plans"]
  firestore_no_ttl = {
  }

  # Composite indexes the code's queries need in production (the emulator never asks for one).
  # The test suite records the shape of every query it sends and fails when one needs an index
  # (Firestore's rules: tools/firestore_indexes.py) that this list lacks, or when the list holds
  # one that no query needs (tests/helpers/query_shapes.py); make infra-check checks the query
  # chains written out in shared/ by the same rules.
  firestore_indexes = [
    # the organizer digest: applications waiting for review, oldest first (shared/usecases/rhythm.py)
    { collection = "applications", fields = [["status", "ASCENDING"], ["received_at", "ASCENDING"]] },
  ]
}
