# One Cloud Function (2nd gen), HTTP-triggered, running as its own service account.

locals {
  secret_mounts = { for env_name, secret in var.secret_files : env_name => "/secrets/${lower(replace(env_name, "_", "-"))}" }
  file_env      = { for env_name, dir in local.secret_mounts : env_name => "${dir}/value" }
}

resource "google_cloudfunctions2_function" "this" {
  #checkov:skip=CKV_GCP_124:Ingress must be ALLOW_ALL: Cloud Scheduler, Zoom and Apps Script call from outside any VPC; private functions are guarded by IAM run.invoker.
  name        = var.name
  location    = var.region
  description = var.description
  labels      = var.labels

  build_config {
    runtime         = var.runtime
    entry_point     = var.entry_point
    service_account = var.build_service_account

    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    available_memory                 = var.memory
    timeout_seconds                  = var.timeout
    max_instance_count               = var.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    service_account_email            = var.service_account_email
    all_traffic_on_latest_revision   = true
    # Webhooks and Scheduler come from the internet; private functions are protected by IAM
    # (run.invoker), public ones by their own signature/token checks.
    ingress_settings = "ALLOW_ALL"

    environment_variables = merge(var.env, local.file_env)

    dynamic "secret_environment_variables" {
      for_each = var.secrets
      content {
        key        = secret_environment_variables.key
        project_id = data.google_project.this.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }

    dynamic "secret_volumes" {
      for_each = var.secret_files
      content {
        mount_path = local.secret_mounts[secret_volumes.key]
        project_id = data.google_project.this.project_id
        secret     = secret_volumes.value

        versions {
          version = "latest"
          path    = "value"
        }
      }
    }
  }
}

data "google_project" "this" {}

# Public invocation: Cloud Functions 2nd gen are invoked through their Cloud Run service.
resource "google_cloud_run_service_iam_member" "public" {
  #checkov:skip=CKV_GCP_102:Only for callers that cannot send OIDC (form/Zoom webhooks, action links, ICS feed); those functions verify an HMAC signature or token themselves.
  count    = var.public ? 1 : 0
  location = google_cloudfunctions2_function.this.location
  service  = google_cloudfunctions2_function.this.name # the service carries the function's name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
