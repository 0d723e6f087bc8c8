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

  # Clusters reached through a kubeconfig in Secret Manager, and GKE clusters reached with the
  # functions' own identity.
  secret_clusters    = toset([for name, c in var.clusters : name if c.gke == null])
  gke_clusters       = { for name, c in var.clusters : name => c.gke if c.gke != null }
  gke_projects       = toset([for gke in values(local.gke_clusters) : gke.project])
  kubeconfig_secrets = [for name in local.secret_clusters : "kubeconfig-${name}"]

  # Which secrets each function reads: every function reaches the clusters; rollback also
  # checks the token Alertmanager sends with its webhooks.
  secret_readers = {
    reconcile = local.kubeconfig_secrets
    rollback  = concat(local.kubeconfig_secrets, ["alertmanager-token"])
    upgrades  = local.kubeconfig_secrets
  }
  # Every function looks up the endpoint of every GKE cluster.
  gke_grants = {
    for pair in setproduct(keys(local.functions), local.gke_projects) :
    "${pair[0]}/${pair[1]}" => { function = pair[0], project = pair[1] }
  }

  # The cluster registry the functions read (GUNJ_CLUSTER_REGISTRY): secret names and GKE
  # coordinates, never a credential.
  cluster_registry = merge(
    {
      for name in local.secret_clusters : name => {
        secret         = "projects/${var.project_id}/secrets/${var.name_prefix}-kubeconfig-${name}"
        aliases        = var.clusters[name].aliases
        allowTemplates = var.clusters[name].allow_templates
      }
    },
    {
      for name, gke in local.gke_clusters : name => {
        gke = {
          project  = gke.project
          location = gke.location
          name     = coalesce(gke.name, name)
          endpoint = gke.endpoint
        }
        aliases        = var.clusters[name].aliases
        allowTemplates = var.clusters[name].allow_templates
      }
    },
  )

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
