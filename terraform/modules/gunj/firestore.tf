# The fleet store: a Firestore database of its own, holding only what is fleet-wide
# (quarantines, rollouts and their waves, a summary of each platform). The clusters stay the
# truth for their platforms; losing this database loses no cluster's state (docs/fleet.md says
# how it is rebuilt), so it is protected from deletion but needs no backups of its own beyond
# point-in-time recovery.
resource "google_firestore_database" "fleet" {
  project                           = var.project_id
  name                              = "${var.name_prefix}-fleet"
  location_id                       = coalesce(var.fleet_location, var.region)
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"

  lifecycle {
    precondition {
      condition     = alltrue([for c in values(var.clusters) : c.wave == null ? true : contains(var.rollout_waves, c.wave)])
      error_message = "clusters[*].wave must be one of rollout_waves (${join(", ", var.rollout_waves)})."
    }
  }

  depends_on = [google_project_service.apis]
}

# Each function reads and writes documents of the fleet database and of no other database of
# the project: roles/datastore.user, held only on this database by an IAM condition.
resource "google_project_iam_member" "function_fleet_users" {
  for_each = local.functions

  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.functions[each.key].member

  condition {
    title       = "${var.name_prefix}-fleet-only"
    description = "Documents of the ${google_firestore_database.fleet.name} database only."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${google_firestore_database.fleet.name}\" || resource.name.startsWith(\"projects/${var.project_id}/databases/${google_firestore_database.fleet.name}/\")"
  }
}
