# Least privilege: one runtime service account per function, one for the Scheduler, one for builds.

locals {
  # (function, secret) pairs: each function reads only the secrets its catalogue entry names
  function_secrets = merge([
    for name, f in local.workers : {
      for s in distinct(concat(f.secrets, f.secret_files)) : "${name}/${s}" => { function = name, secret = s }
    }
  ]...)
}

resource "google_service_account" "function" {
  for_each     = local.workers
  account_id   = substr("fn-${replace(each.key, "_", "-")}", 0, 30)
  display_name = "Alumni Autopilot function ${each.key}"
}

# Firestore read/write (Firestore has no narrower data role than the project-level datastore.user).
resource "google_project_iam_member" "function_firestore" {
  for_each = local.workers
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = "serviceAccount:${google_service_account.function[each.key].email}"
}

# Google Workspace: each function that calls a Google API (its catalogue entry names
# GOOGLE_API_CREDENTIALS) signs its own domain-wide delegation JWT with the IAM Credentials signJwt
# method, acting as itself: that needs iam.serviceAccounts.signJwt, i.e. the token-creator role on
# its own account, and nothing on any other (shared/adapters/google_auth.py; README, Deploy, step 5).
resource "google_service_account_iam_member" "signs_its_own_delegation" {
  for_each           = { for name, f in var.functions : name => f if f.kind != "dispatch" && contains(f.secret_files, "GOOGLE_API_CREDENTIALS") }
  service_account_id = google_service_account.function[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.function[each.key].email}"
}

resource "google_secret_manager_secret_iam_member" "function" {
  for_each  = local.function_secrets
  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# Cloud Scheduler signs its OIDC tokens as this account, and cron_dispatch runs as it (so the cron
# functions see the same caller either way); it may invoke the dispatcher and the cron functions only.
resource "google_service_account" "scheduler" {
  account_id   = "autopilot-scheduler"
  display_name = "Alumni Autopilot Cloud Scheduler invoker"
}

resource "google_cloud_run_service_iam_member" "scheduler_invoker" {
  for_each = local.cron_functions
  location = var.region
  service  = module.function[each.key].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_run_service_iam_member" "scheduler_invokes_dispatch" {
  for_each = local.dispatcher
  location = var.region
  service  = module.dispatch[each.key].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

# Builds run as their own account instead of the default compute account (which has broad Editor
# rights in older projects and none in new ones).
resource "google_service_account" "build" {
  account_id   = "autopilot-build"
  display_name = "Alumni Autopilot Cloud Functions builds"
}

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

# `autopilot doctor` checks each Google-using function's own delegation and calendar access by
# acting as that function's account: the people in var.doctor_members may do so (nothing else).
resource "google_service_account_iam_member" "doctor" {
  for_each = { for pair in setproduct(keys(google_service_account_iam_member.signs_its_own_delegation), var.doctor_members) :
  "${pair[0]}/${pair[1]}" => { function = pair[0], member = pair[1] } }
  service_account_id = google_service_account.function[each.value.function].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = each.value.member
}
