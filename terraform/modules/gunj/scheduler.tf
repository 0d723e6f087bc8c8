resource "google_cloud_scheduler_job" "upgrade_check" {
  project     = var.project_id
  region      = var.region
  name        = "${var.name_prefix}-upgrade-check"
  description = "Asks the upgrades function to look for safe chart upgrades."
  schedule    = var.upgrade_check_schedule
  time_zone   = var.time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topics["upgrade-checks"].id
    data       = base64encode(jsonencode({ trigger = "schedule" }))
    attributes = {
      source = "cloud-scheduler"
    }
  }

  depends_on = [google_project_service.apis]
}

# The fleet resync: every platform of every registered cluster is reconciled from the spec its
# cluster holds, so drift is corrected (or reported) within one interval with no spec message.
resource "google_cloud_scheduler_job" "resync" {
  project     = var.project_id
  region      = var.region
  name        = "${var.name_prefix}-resync"
  description = "Asks the resync function to reconcile every platform from its cluster's spec."
  schedule    = "*/${var.resync_interval_minutes} * * * *"
  time_zone   = var.time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topics["resync-ticks"].id
    data       = base64encode(jsonencode({ trigger = "schedule" }))
    attributes = {
      source = "cloud-scheduler"
    }
  }

  depends_on = [google_project_service.apis]
}
