output "function_urls" {
  description = "Every function's HTTPS URL, by function name."
  value       = merge({ for name, m in module.function : name => m.url }, { for name, m in module.dispatch : name => m.url })
}

output "apps_script_properties" {
  description = "Script properties of the Apps Script bound to the form (infra/apps_script/Code.gs): WEBHOOK_URL here; WEBHOOK_SECRET = the FORM_WEBHOOK_SECRET value you stored in Secret Manager."
  value = {
    WEBHOOK_URL = try(module.function["form_webhook"].url, "(form_webhook is not deployed)")
  }
}

output "zoom_event_notification_url" {
  description = "Paste into the Zoom app: Features > Event Subscriptions > Event notification endpoint URL."
  value       = try(module.function["zoom_webhook"].url, "(zoom_webhook is not deployed)")
}

output "actions_base_url" {
  description = "Public URL of the action links in mails (set it as settings.ACTIONS_BASE_URL and apply again)."
  value       = try(module.function["actions"].url, "(actions is not deployed)")
}

output "console_url" {
  description = "The organizer console: set it as settings.CONSOLE_URL and apply again; its origin goes into the OAuth client's Authorized JavaScript origins and <url>/login/google into its Authorized redirect URIs (README, Deploy)."
  value       = try(module.function["console"].url, "(console is not deployed)")
}

output "events_base_url" {
  description = "Public URL of the events pages (set it as settings.EVENTS_BASE_URL and apply again; share it)."
  value       = try(module.function["events"].url, "(events is not deployed)")
}

output "ics_feed_url" {
  description = "Public URL of the ICS feed (members add ?token=...)."
  value       = try(module.function["ics_feed"].url, "(ics_feed is not deployed)")
}

output "scheduler_service_account" {
  description = "The Scheduler's OIDC identity: cron_auth.service_account in config/community.yaml when cron_auth.mode is oidc."
  value       = google_service_account.scheduler.email
}

output "function_service_accounts" {
  description = "Runtime service account of each function (share the community calendar with the calendar-writing ones when you use a service account)."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "secrets_to_fill" {
  description = "Secret Manager secrets created without a value: add a version to each (README, Deploy, step 6)."
  value       = sort(keys(google_secret_manager_secret.secret))
}

output "time_zone" {
  description = "Time zone of the Scheduler job and of every cron schedule."
  value       = local.time_zone
}

output "delegation_client_ids" {
  description = "Google Workspace: the client ID of each function's service account that calls Google APIs; authorise each in the Admin console > Security > API controls > Domain-wide delegation for the scopes of README, Deploy, step 5."
  value       = { for name, m in google_service_account_iam_member.signs_its_own_delegation : name => google_service_account.function[name].unique_id }
}
