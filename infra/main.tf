# Alumni Autopilot on Google Cloud: APIs, Firestore, the source bucket, one Cloud Function (2nd gen)
# per catalogue entry (functions.tf), ONE Cloud Scheduler job (the tick, calling cron_dispatch, which
# calls each cron function when its schedule is due: shared/entrypoints/dispatch.py), and the secrets.


locals {
  apis = [
    "artifactregistry.googleapis.com",
    "calendar-json.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "forms.googleapis.com",
    "gmail.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # signJwt: Workspace domain-wide delegation without a key
    "logging.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]

  community_config = fileexists(var.community_config_file) ? yamldecode(file(var.community_config_file)) : {}
  time_zone        = coalesce(var.time_zone, try(local.community_config.community.timezone, null), "Asia/Tokyo")

  # Every function gets these. Paths are relative to the bundle root (the function's working directory).
  common_env = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    FIRESTORE_DATABASE   = google_firestore_database.main.name
    COMMUNITY_CONFIG     = "config/community.yaml"
    LOG_LEVEL            = var.log_level
    OUTBOX_DIR           = "/tmp/outbox" # the only writable place; outbox delivery is for local runs
  }

  # The rhythm jobs run at the time the community config names (rhythm.digest, rhythm.prompt: time
  # "HH:MM", weekday a name or 0 = Monday), else on the catalogue's schedule: the digest on its
  # weekday; the prompt daily (the prompt goes out on its weekday, and the later days of the week
  # send what the daily limit deferred: shared/usecases/rhythm.py). tools/schedules.py reads the same.
  cron_dow = { mon = 1, tue = 2, wed = 3, thu = 4, fri = 5, sat = 6, sun = 0 }
  rhythm   = try(local.community_config.rhythm, {})
  config_schedules = {
    for fn, section in { send_digest = "digest", weekly_prompt = "prompt" } : fn => format("%d %d * * %s",
      tonumber(split(":", tostring(local.rhythm[section].time))[1]),
      tonumber(split(":", tostring(local.rhythm[section].time))[0]),
      fn == "weekly_prompt" ? "*" : tostring(can(tonumber(local.rhythm[section].weekday)) ? (tonumber(local.rhythm[section].weekday) + 1) % 7 : local.cron_dow[lower(substr(tostring(local.rhythm[section].weekday), 0, 3))])
    ) if can(local.rhythm[section].time) && can(local.rhythm[section].weekday)
  }

  # The secrets this deployment creates: the required ones and the optional ones you named.
  secrets = {
    for name, description in local.secret_catalogue : name => description
    if !contains(local.optional_secret_names, name) || contains(var.optional_secrets, name)
  }

  functions = {
    for name, f in var.functions : name => merge(f, {
      memory        = try(coalesce(var.function_overrides[name].memory), f.memory)
      timeout       = try(coalesce(var.function_overrides[name].timeout), f.timeout)
      max_instances = try(coalesce(var.function_overrides[name].max_instances), f.max_instances)
      schedule      = f.schedule == null ? null : lookup(var.schedule_overrides, name, lookup(local.config_schedules, name, f.schedule))
      # an optional secret left out of var.optional_secrets is not mounted: the function runs without it
      secrets      = [for s in f.secrets : s if contains(keys(local.secrets), s)]
      secret_files = [for s in f.secret_files : s if contains(keys(local.secrets), s)]
    })
  }
  cron_functions = { for name, f in local.functions : name => f if f.kind == "cron" }
  dispatcher     = { for name, f in local.functions : name => f if f.kind == "dispatch" }
  # Every function but the dispatcher (module.dispatch: its environment needs the others' URLs).
  workers = { for name, f in local.functions : name => f if f.kind != "dispatch" }

  # What the dispatcher calls (CRON_PLAN, shared/entrypoints/dispatch.py): each cron function's schedule, URL,
  # OIDC audience (its URL, as the Scheduler job of each function used to send) and timeout.
  cron_plan = {
    time_zone = local.time_zone
    tick      = one([for f in values(local.dispatcher) : f.schedule])
    jobs = {
      for name, f in local.cron_functions : name => {
        schedule = f.schedule
        url      = module.function[name].url
        audience = module.function[name].url
        timeout  = f.timeout
      }
    }
  }
}

resource "google_project_service" "api" {
  for_each           = toset(local.apis)
  service            = each.value
  disable_on_destroy = false
}

# ---------------------------------------------------------------- source bundles (`make bundles`)

resource "google_storage_bucket" "sources" {
  name                        = "${var.project_id}-autopilot-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = var.alert_labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }

  #checkov:skip=CKV_GCP_62:Access logs of a bucket that only holds our own build artifacts add cost and no insight.
  depends_on = [google_project_service.api]
}

resource "google_storage_bucket_object" "bundle" {
  for_each = local.functions
  # content-addressed: a changed bundle gets a new name, which redeploys exactly that function
  name   = "${each.key}/${filemd5("${var.bundles_dir}/${each.key}.zip")}.zip"
  bucket = google_storage_bucket.sources.name
  source = "${var.bundles_dir}/${each.key}.zip"
}

# ---------------------------------------------------------------- functions

module "function" {
  source   = "./modules/function"
  for_each = local.workers

  name                  = replace(each.key, "_", "-")
  entry_point           = each.key
  description           = each.value.description
  region                = var.region
  runtime               = var.runtime
  source_bucket         = google_storage_bucket.sources.name
  source_object         = google_storage_bucket_object.bundle[each.key].name
  build_service_account = google_service_account.build.id
  service_account_email = google_service_account.function[each.key].email
  memory                = each.value.memory
  timeout               = each.value.timeout
  max_instances         = each.value.max_instances
  public                = each.value.public
  labels                = var.alert_labels

  env          = merge(local.common_env, { for name in each.value.env : name => lookup(var.settings, name, "") })
  secrets      = { for name in each.value.secrets : name => google_secret_manager_secret.secret[name].secret_id }
  secret_files = { for name in each.value.secret_files : name => google_secret_manager_secret.secret[name].secret_id }

  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function,
    google_project_iam_member.build,
  ]
}

# ---------------------------------------------------------------- the dispatcher and its one Scheduler job

# cron_dispatch runs as the Scheduler's service account: the tokens it sends carry the same identity
# the Scheduler's did (cron_auth.service_account), and it needs no Firestore and no secrets.
module "dispatch" {
  source   = "./modules/function"
  for_each = local.dispatcher

  name                  = replace(each.key, "_", "-")
  entry_point           = each.key
  description           = each.value.description
  region                = var.region
  runtime               = var.runtime
  source_bucket         = google_storage_bucket.sources.name
  source_object         = google_storage_bucket_object.bundle[each.key].name
  build_service_account = google_service_account.build.id
  service_account_email = google_service_account.scheduler.email
  memory                = each.value.memory
  timeout               = each.value.timeout
  max_instances         = each.value.max_instances
  public                = false
  labels                = var.alert_labels

  env          = merge(local.common_env, { CRON_PLAN = jsonencode(local.cron_plan) })
  secrets      = {}
  secret_files = {}

  depends_on = [google_project_service.api, google_project_iam_member.build]
}

# One job for every cron function: Cloud Scheduler charges $0.10 a month per job beyond 3.
resource "google_cloud_scheduler_job" "tick" {
  for_each = local.dispatcher

  name             = "autopilot-tick"
  description      = "Calls cron_dispatch, which runs each cron function when its own schedule is due"
  region           = var.region
  schedule         = each.value.schedule
  time_zone        = local.time_zone
  attempt_deadline = "${min(max(each.value.timeout + 30, 15), 1800)}s"

  retry_config {
    retry_count          = 2 # safe: a retry carries the same X-CloudScheduler-ScheduleTime, hence the same runs, which the functions replay
    min_backoff_duration = "30s"
  }

  http_target {
    http_method = "POST"
    uri         = module.dispatch[each.key].url

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = module.dispatch[each.key].url
    }
  }

  lifecycle {
    precondition {
      condition     = alltrue([for f in values(local.cron_functions) : f.timeout + 30 <= each.value.timeout])
      error_message = "cron_dispatch waits for the runs it calls: its timeout must be at least every cron function's timeout + 30 s (function_overrides)."
    }
    precondition {
      condition     = lookup(var.settings, "MAIL_TRANSPORT", "") != "smtp" || contains(var.optional_secrets, "SMTP_PASSWORD")
      error_message = "settings.MAIL_TRANSPORT is smtp: add \"SMTP_PASSWORD\" to optional_secrets."
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invoker, google_cloud_run_service_iam_member.scheduler_invokes_dispatch]
}

# ---------------------------------------------------------------- secrets (no versions: you add them)

resource "google_secret_manager_secret" "secret" {
  for_each  = local.secrets
  secret_id = each.key
  labels    = var.alert_labels
  annotations = {
    description = each.value
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}
