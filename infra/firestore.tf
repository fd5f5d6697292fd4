# Firestore (native mode), TTL policies and composite indexes (lists in functions.tf).

resource "google_firestore_database" "main" {
  name                              = var.firestore.name
  location_id                       = var.firestore.location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  point_in_time_recovery_enablement = var.firestore.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.firestore.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = "ABANDON" # `terraform destroy` never deletes the community's data

  depends_on = [google_project_service.api]
}

# TTL on `expires_at` (a timestamp): Firestore deletes the document within about 24 h after it.
resource "google_firestore_field" "ttl" {
  for_each   = toset(local.ttl_collections)
  database   = google_firestore_database.main.name
  collection = each.value
  field      = "expires_at"

  ttl_config {}

  # no single-field index on a TTL timestamp: nothing queries it, and it would be a write hotspot
  index_config {}
}

resource "google_firestore_index" "composite" {
  for_each   = { for i in local.firestore_indexes : "${i.collection}:${join(",", [for f in i.fields : "${f[0]}:${f[1]}"])}" => i }
  database   = google_firestore_database.main.name
  collection = each.value.collection

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value[0]
      order      = fields.value[1]
    }
  }
}
