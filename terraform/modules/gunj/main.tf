data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # Topic-triggered functions are reached by Pub/Sub or Eventarc only, hence internal ingress.
  # The alertmanager function is called over HTTP by a relay or Alertmanager, with its webhook:
  # no topic triggers it, and it is reached from the project's networks or through a load
  # balancer put in front of it (var.alertmanager_ingress), never straight from the internet.
  functions = {
    reconcile    = { entry_point = "reconcile", trigger = "platform-specs", publishes = ["platform-events"], ingress = "ALLOW_INTERNAL_ONLY" }
    rollback     = { entry_point = "rollback", trigger = "platform-alerts", publishes = ["platform-events"], ingress = "ALLOW_INTERNAL_ONLY" }
    upgrades     = { entry_point = "upgrades", trigger = "upgrade-checks", publishes = ["upgrade-reports", "platform-specs"], ingress = "ALLOW_INTERNAL_ONLY" }
    resync       = { entry_point = "resync", trigger = "resync-ticks", publishes = ["platform-specs", "platform-events"], ingress = "ALLOW_INTERNAL_ONLY" }
    alertmanager = { entry_point = "alertmanager", trigger = null, publishes = ["platform-events"], ingress = var.alertmanager_ingress }
  }
  # The functions a topic triggers: each gets a trigger identity, a subscription (or Eventarc
  # trigger) and a dead-letter topic.
  triggered      = { for name, f in local.functions : name => f if f.trigger != null }
  topics         = toset(["platform-specs", "platform-alerts", "upgrade-checks", "resync-ticks", "platform-events", "upgrade-reports"])
  trigger_topics = toset([for f in values(local.triggered) : f.trigger])

  # Clusters reached through a kubeconfig in Secret Manager, and GKE clusters reached with the
  # functions' own identity.
  secret_clusters      = toset([for name, c in var.clusters : name if c.gke == null])
  gke_clusters         = { for name, c in var.clusters : name => c.gke if c.gke != null }
  private_gke_clusters = sort([for name, gke in local.gke_clusters : name if gke.endpoint == "private"])
  gke_projects         = toset([for gke in values(local.gke_clusters) : gke.project])
  kubeconfig_secrets   = [for name in local.secret_clusters : "kubeconfig-${name}"]

  # Which secrets each function reads: the clusters' kubeconfigs, nothing else. The
  # alertmanager function checks Alertmanager's tokens against the hashes the cluster registry
  # lists: it holds no token of its own.
  secret_readers = { for name in keys(local.functions) : name => local.kubeconfig_secrets }
  # Every function looks up the endpoint of every GKE cluster.
  gke_grants = {
    for pair in setproduct(keys(local.functions), local.gke_projects) :
    "${pair[0]}/${pair[1]}" => { function = pair[0], project = pair[1] }
  }

  # The cluster registry the functions read (GUNJ_CLUSTER_REGISTRY): secret names, GKE
  # coordinates, and the hashes of the Alertmanager tokens, never a credential.
  cluster_settings = {
    for name, c in var.clusters : name => {
      aliases        = c.aliases
      allowTemplates = c.allow_templates
      namespaces     = c.namespaces
      serviceAccount = c.service_account
      alertTokens    = c.alert_token_hashes
      wave           = c.wave
    }
  }
  cluster_registry = merge(
    {
      for name in local.secret_clusters : name => merge(local.cluster_settings[name], {
        secret = "projects/${var.project_id}/secrets/${var.name_prefix}-kubeconfig-${name}"
      })
    },
    {
      for name, gke in local.gke_clusters : name => merge(local.cluster_settings[name], {
        gke = {
          project  = gke.project
          location = gke.location
          name     = coalesce(gke.name, name)
          endpoint = gke.endpoint
        }
      })
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
    "firestore.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
  ])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
