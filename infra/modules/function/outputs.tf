output "url" {
  description = "HTTPS URL of the function (the Scheduler's OIDC audience too)."
  value       = google_cloudfunctions2_function.this.url
}

output "service" {
  description = "The Cloud Run service behind the function (for run.invoker bindings)."
  value       = google_cloudfunctions2_function.this.name
}

output "name" {
  value = google_cloudfunctions2_function.this.name
}
