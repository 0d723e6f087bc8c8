data "google_project" "this" {
  project_id = var.project_id
}

locals {
  functions = {
    reconcile = { entry_point = "reconcile", trigger = "platform-specs", publishes = ["platform-events"] }
    rollback  = { entry_point = "rollback", trigger = "platform-alerts", publishes = ["platform-events"] }
    upgrades  = { entry_point = "upgrades", trigger = "upgrade-checks", publishes = ["upgrade-reports", "platform-specs"] }
  }
  topics         = toset(["platform-specs", "platform-alerts", "upgrade-checks", "platform-events", "upgrade-reports"])
  trigger_topics = toset([for f in local.functions : f.trigger])

  # Which secrets each function reads: every function reaches the clusters; rollback also
  # checks the token Alertmanager sends with its webhooks.
  secret_readers = {
    reconcile = [for c in var.clusters : "kubeconfig-${c}"]
    rollback  = concat([for c in var.clusters : "kubeconfig-${c}"], ["alertmanager-token"])
    upgrades  = [for c in var.clusters : "kubeconfig-${c}"]
  }

  pubsub_agent     = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  monitoring_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
  labels           = merge({ app = "gunj-functions", managed-by = "terraform" }, var.labels)
  use_push         = var.trigger_transport == "pubsub-push"
}

resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
  ])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
