variable "project_id" {
  description = "Google Cloud project that runs the functions and holds the topics."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, the scheduler job and the source bucket."
  type        = string
  default     = "europe-west1"

  validation {
    # A pattern rather than a list: every Cloud Functions region is named this way
    # (europe-west1, europe-west10, northamerica-northeast2, me-central2), and a new region
    # must not wait for the module.
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1, europe-west12 or us-central1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name, so several installations can share a project."
  type        = string
  default     = "gunj"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,11}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 12 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "function_archives" {
  description = "Path of each function's source archive, built by `gunj package` (keys: reconcile, rollback, upgrades, resync, alertmanager)."
  type        = map(string)

  validation {
    condition     = length(setsubtract(["reconcile", "rollback", "upgrades", "resync", "alertmanager"], keys(var.function_archives))) == 0
    error_message = "function_archives must name an archive for each of reconcile, rollback, upgrades, resync and alertmanager."
  }
}

variable "alertmanager_invokers" {
  description = "IAM members allowed to call the alertmanager function (roles/run.invoker on it alone): the relay, or the service account whose Google ID token Alertmanager's requests carry. Empty (the default) lets no one call it. Each request must also carry an Alertmanager token whose hash a cluster's alert_token_hashes lists, and acts on those clusters only."
  type        = list(string)
  default     = []

  # Named identities only: public members and whole domains are refused, so the function is
  # never open to callers nobody chose. Cloud Run checks a Google-signed ID token, which only
  # service accounts and Google accounts (users, group members) hold.
  validation {
    condition     = alltrue([for member in var.alertmanager_invokers : can(regex("^(serviceAccount|user|group):[^@: ]+@[^@: ]+$", member))])
    error_message = "alertmanager_invokers must be IAM members naming identities: serviceAccount:, user: or group: followed by an email. Public members and domain: are refused."
  }
}

variable "alertmanager_ingress" {
  description = "Where the alertmanager function accepts requests from: ALLOW_INTERNAL_ONLY (the default: the project's VPC networks and its VPC Service Controls perimeter, e.g. a relay or an Alertmanager running there) or ALLOW_INTERNAL_AND_GCLB (also through a Google Cloud load balancer you put in front of it, for Alertmanagers elsewhere). ALLOW_ALL is refused."
  type        = string
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.alertmanager_ingress)
    error_message = "alertmanager_ingress must be ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "clusters" {
  description = "Clusters the functions manage, by name. A cluster without `gke` is reached through a kubeconfig kept in Secret Manager (`<prefix>-kubeconfig-<name>`; add its value with `gcloud secrets versions add`, never through Terraform). A cluster with `gke` (project, location, name defaulting to the key, endpoint public, private or dns) is reached with the functions' own identity: endpoint and CA from the GKE API, an access token as bearer token. `aliases` are other names alerts may use for the cluster; `allow_templates` lets its specs carry Helm template expressions in free-form configuration; `namespaces` (patterns with * and ?) are the only namespaces that may hold platforms; `service_account` is the ServiceAccount of each platform's namespace that its work acts as; `alert_token_hashes` are the SHA-256 hashes (`sha256:<hex>`, from `gunj clusters token`) of the Alertmanager tokens that may act on the cluster, never the tokens; `wave` is the rollout wave it is in (one of `rollout_waves`; default the last)."
  type = map(object({
    gke = optional(object({
      project  = string
      location = string
      name     = optional(string)
      endpoint = optional(string, "public")
    }))
    aliases            = optional(list(string), [])
    allow_templates    = optional(bool, false)
    namespaces         = optional(list(string), [])
    service_account    = optional(string)
    alert_token_hashes = optional(list(string), [])
    wave               = optional(string)
  }))

  validation {
    condition     = length(var.clusters) > 0 && alltrue([for name in keys(var.clusters) : can(regex("^[a-z][a-z0-9-]{0,39}$", name))])
    error_message = "clusters must name at least one cluster; each name 1 to 40 lowercase letters, digits or hyphens, starting with a letter."
  }

  validation {
    condition = alltrue([for c in values(var.clusters) : c.gke == null ? true : (
      can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", c.gke.project)) &&
      can(regex("^[a-z]+-[a-z]+[0-9]{1,2}(-[a-z])?$", c.gke.location)) &&
      (c.gke.name == null ? true : can(regex("^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$", c.gke.name))) &&
      contains(["public", "private", "dns"], c.gke.endpoint)
    )])
    error_message = "clusters[*].gke needs a project ID, a region or zone (us-east1, europe-west1-b), an optional GKE cluster name, and endpoint public, private or dns."
  }

  validation {
    condition     = alltrue(flatten([for c in values(var.clusters) : [for a in c.aliases : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", a))]]))
    error_message = "clusters[*].aliases must be names of 1 to 63 letters, digits, '.', '_' or '-'."
  }

  validation {
    condition = alltrue([for c in values(var.clusters) : alltrue([for n in c.namespaces : can(regex("^[a-z0-9*?]([-a-z0-9*?]{0,61}[a-z0-9*?])?$", n))]) && (
      c.service_account == null ? true : can(regex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", c.service_account))
    )])
    error_message = "clusters[*].namespaces must be namespaces or patterns of them (lower-case letters, digits, '-', '*' and '?'), and clusters[*].service_account a ServiceAccount name."
  }

  # Hashes only: a token given here would sit in Terraform's state and the functions'
  # environment, readable by whoever reads either.
  validation {
    condition     = alltrue(flatten([for c in values(var.clusters) : [for h in c.alert_token_hashes : can(regex("^sha256:[0-9a-f]{64}$", h))]]))
    error_message = "clusters[*].alert_token_hashes must be token hashes as `gunj clusters token` prints them (sha256: and 64 lower-case hex digits), never the tokens."
  }
}

variable "spec_publishers" {
  description = "IAM members allowed to publish platform specs to the platform-specs topic (roles/pubsub.publisher on that topic alone): the CI pipelines or groups that deploy platforms. Whoever publishes there asks gunj to act on any registered cluster, within the namespaces and identity its registry entry allows. Empty (the default): only gunj's own upgrades and resync functions publish there."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for member in var.spec_publishers : can(regex("^(serviceAccount|user|group):[^@: ]+@[^@: ]+$", member))])
    error_message = "spec_publishers must be IAM members naming identities: serviceAccount:, user: or group: followed by an email. Public members and domain: are refused."
  }
}

variable "alert_publishers" {
  description = "IAM members allowed to publish health alerts to the platform-alerts topic (roles/pubsub.publisher on that topic alone), besides Cloud Monitoring's notification agent, which the module grants itself. An alert there may roll back a component on any registered cluster: no token is involved on this path. Empty (the default): Cloud Monitoring only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for member in var.alert_publishers : can(regex("^(serviceAccount|user|group):[^@: ]+@[^@: ]+$", member))])
    error_message = "alert_publishers must be IAM members naming identities: serviceAccount:, user: or group: followed by an email. Public members and domain: are refused."
  }
}

variable "gke_endpoint_role" {
  description = "Role granted to each function identity on the projects of the GKE clusters, to read their endpoint and CA (container.clusters.get). A custom role holding only that permission (projects/P/roles/R or organizations/O/roles/R) is narrower than the default."
  type        = string
  default     = "roles/container.clusterViewer"

  validation {
    condition     = can(regex("^(roles/[A-Za-z.]+|projects/[^/]+/roles/[A-Za-z0-9_.]+|organizations/[0-9]+/roles/[A-Za-z0-9_.]+)$", var.gke_endpoint_role))
    error_message = "gke_endpoint_role must be a predefined role (roles/...) or a custom role (projects/P/roles/R, organizations/O/roles/R)."
  }
}

variable "trigger_transport" {
  description = "How events reach the functions: \"pubsub-push\" (push subscriptions owned by this module, with dead-letter topics and retry policies) or \"eventarc\" (Eventarc triggers; Eventarc manages their subscriptions, so no dead-letter topic can be attached)."
  type        = string
  default     = "pubsub-push"

  validation {
    condition     = contains(["pubsub-push", "eventarc"], var.trigger_transport)
    error_message = "trigger_transport must be pubsub-push or eventarc."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of an event before it goes to its dead-letter topic."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "retry_backoff" {
  description = "Minimum and maximum backoff between redeliveries of a failed event."
  type = object({
    minimum = string
    maximum = string
  })
  default = {
    minimum = "10s"
    maximum = "600s"
  }

  validation {
    condition     = can(regex("^[0-9]+s$", var.retry_backoff.minimum)) && can(regex("^[0-9]+s$", var.retry_backoff.maximum)) && tonumber(trimsuffix(var.retry_backoff.minimum, "s")) <= tonumber(trimsuffix(var.retry_backoff.maximum, "s")) && tonumber(trimsuffix(var.retry_backoff.maximum, "s")) <= 600
    error_message = "retry_backoff must be seconds such as \"10s\", with minimum <= maximum <= 600s."
  }
}

variable "upgrade_check_schedule" {
  description = "Cron schedule of the upgrade check (Cloud Scheduler syntax)."
  type        = string
  default     = "0 6 * * *"

  validation {
    condition     = length(split(" ", var.upgrade_check_schedule)) == 5
    error_message = "upgrade_check_schedule must be a five-field cron expression, e.g. \"0 6 * * *\"."
  }
}

variable "resync_interval_minutes" {
  description = "Minutes between two resyncs of the whole fleet: every platform reconciled from the spec its cluster holds, drift corrected (or reported) and not-ready workloads reported."
  type        = number
  default     = 10

  validation {
    condition     = var.resync_interval_minutes >= 1 && var.resync_interval_minutes <= 59 && floor(var.resync_interval_minutes) == var.resync_interval_minutes
    error_message = "resync_interval_minutes must be a whole number of minutes from 1 to 59."
  }
}

variable "time_zone" {
  description = "Time zone of the upgrade check schedule (tz database name)."
  type        = string
  default     = "Etc/UTC"
}

variable "manager_mode" {
  description = "Default management mode of components: helm or native."
  type        = string
  default     = "helm"

  validation {
    condition     = contains(["helm", "native"], var.manager_mode)
    error_message = "manager_mode must be helm or native."
  }
}

variable "repository_mirrors" {
  description = "Upstream chart repository URL prefixes mapped to internal mirrors (GUNJ_REPOSITORY_MIRRORS)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for upstream, mirror in var.repository_mirrors : can(regex("^(https|oci)://", upstream)) && can(regex("^(https|oci)://", mirror))])
    error_message = "repository_mirrors keys and values must be https:// or oci:// URLs."
  }
}

variable "allowed_repositories" {
  description = "URL prefixes of the chart repositories specs may use and of every URL fetched for them (GUNJ_ALLOWED_REPOSITORIES); the default is the engine's: the supported charts' upstream repositories, where their indexes keep the archives, and where GitHub redirects those downloads. A list given replaces it; mirrors serving an allowed prefix are allowed too."
  type        = list(string)
  default = [
    "https://prometheus-community.github.io/helm-charts",
    "oci://ghcr.io/prometheus-community/charts",
    "https://github.com/prometheus-community/helm-charts/releases/download",
    "https://grafana-community.github.io/helm-charts",
    "oci://ghcr.io/grafana-community/helm-charts",
    "https://github.com/grafana-community/helm-charts/releases/download",
    "https://grafana.github.io/helm-charts",
    "https://github.com/grafana/helm-charts/releases/download",
    "https://release-assets.githubusercontent.com",
    "https://objects.githubusercontent.com",
    "https://pkg-containers.githubusercontent.com",
  ]

  validation {
    condition     = length(var.allowed_repositories) > 0 && alltrue([for r in var.allowed_repositories : can(regex("^(https|oci)://[^/@\\s]+(/[^@\\s]*)?$", r)) && !can(regex("/\\.\\.?(/|$)", r))])
    error_message = "allowed_repositories must list at least one https:// or oci:// URL prefix, without user information or dot segments; the allow-list cannot be turned off."
  }
}

variable "function_memory" {
  description = "Memory of each function instance."
  type        = string
  default     = "1Gi"

  validation {
    condition     = contains(["512Mi", "1Gi", "2Gi", "4Gi"], var.function_memory)
    error_message = "function_memory must be one of 512Mi, 1Gi, 2Gi, 4Gi."
  }
}

variable "function_timeout_seconds" {
  description = "Time a function may take for one event. Kept within Cloud Functions' 540 s for event functions and under Pub/Sub's 600 s push ack deadline, so an event is never redelivered while its first delivery still runs; the functions stop their own work 60 s earlier (GUNJ_WORK_SECONDS) to report the outcome, and the next delivery resumes what remains."
  type        = number
  default     = 540

  validation {
    condition     = var.function_timeout_seconds >= 120 && var.function_timeout_seconds <= 540
    error_message = "function_timeout_seconds must be between 120 and 540 (Cloud Functions' limit for event functions, under Pub/Sub's 600 s ack deadline)."
  }
}

variable "max_instances" {
  description = "Upper bound of concurrent instances per function."
  type        = number
  default     = 10

  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 100
    error_message = "max_instances must be between 1 and 100."
  }
}

variable "bucket_kms_key_name" {
  description = "Cloud KMS key (CMEK) of the regional resources: the source bucket and the functions' Artifact Registry repository. It must be in the functions' region (var.region); null uses Google-managed keys."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_kms_key_name == null || can(regex("^projects/[^/]+/locations/[a-z]+-[a-z]+[0-9]{1,2}/keyRings/[^/]+/cryptoKeys/[^/]+$", var.bucket_kms_key_name))
    error_message = "bucket_kms_key_name must be a key resource name in a region: projects/P/locations/REGION/keyRings/R/cryptoKeys/K (the functions' region; a global or multi-region key cannot encrypt a regional bucket)."
  }
}

variable "secrets_kms_key_name" {
  description = "Cloud KMS key (CMEK) of the global resources: the kubeconfig secrets (automatic replication) and the topics. It must be a global key (locations/global); null uses Google-managed keys."
  type        = string
  default     = null

  validation {
    condition     = var.secrets_kms_key_name == null || can(regex("^projects/[^/]+/locations/global/keyRings/[^/]+/cryptoKeys/[^/]+$", var.secrets_kms_key_name))
    error_message = "secrets_kms_key_name must be a global key resource name: projects/P/locations/global/keyRings/R/cryptoKeys/K (secrets replicated automatically take only a global key)."
  }
}

variable "vpc_connector" {
  description = "Serverless VPC Access connector the functions reach clusters through (projects/P/locations/REGION/connectors/NAME, in the functions' region): needed for GKE clusters with a private endpoint (gke.endpoint = \"private\") and for kubeconfig clusters whose API server is reachable only inside a VPC network. Null: the functions reach clusters over the internet."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_connector == null || can(regex("^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z]+-[a-z]+[0-9]{1,2}/connectors/[a-z][-a-z0-9]{0,23}[a-z0-9]$", var.vpc_connector))
    error_message = "vpc_connector must be a connector resource name: projects/P/locations/REGION/connectors/NAME."
  }
}

variable "vpc_connector_egress" {
  description = "Which of the functions' outbound traffic goes through vpc_connector: PRIVATE_RANGES_ONLY (the default: private addresses, such as a private GKE endpoint; Google APIs and chart repositories directly) or ALL_TRAFFIC (everything, e.g. to leave through the network's Cloud NAT and its fixed addresses, which a cluster's authorized networks can then list)."
  type        = string
  default     = "PRIVATE_RANGES_ONLY"

  validation {
    condition     = contains(["PRIVATE_RANGES_ONLY", "ALL_TRAFFIC"], var.vpc_connector_egress)
    error_message = "vpc_connector_egress must be PRIVATE_RANGES_ONLY or ALL_TRAFFIC."
  }
}

variable "event_readers" {
  description = "IAM members allowed to read outcomes from the platform-events subscription the module keeps (roles/pubsub.subscriber on that subscription alone), e.g. with `gunj events --project P --subscription S`. Empty (the default): nobody but project owners."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for member in var.event_readers : can(regex("^(serviceAccount|user|group):[^@: ]+@[^@: ]+$", member))])
    error_message = "event_readers must be IAM members naming identities: serviceAccount:, user: or group: followed by an email. Public members and domain: are refused."
  }
}

variable "access_log_bucket" {
  description = "Bucket receiving access logs of the source bucket; null keeps none."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "fleet_location" {
  description = "Location of the fleet's Firestore database (a region such as europe-west1, or a multi-region such as eur3). Null (the default): the functions' region."
  type        = string
  default     = null

  validation {
    condition     = var.fleet_location == null ? true : can(regex("^([a-z]+[0-9]|[a-z]+-[a-z]+[0-9]{1,2})$", var.fleet_location))
    error_message = "fleet_location must be a Firestore location: a region (europe-west1) or a multi-region (eur3, nam5)."
  }
}

variable "rollout_waves" {
  description = "The rollout waves, in order: an upgrade goes to the clusters of one wave at a time (clusters[*].wave), the next only when every platform of the one before is Ready at the new version and has baked. Clusters without a wave are in the last."
  type        = list(string)
  default     = ["canary", "early", "main"]

  validation {
    condition     = length(var.rollout_waves) > 0 && length(distinct(var.rollout_waves)) == length(var.rollout_waves) && alltrue([for w in var.rollout_waves : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", w))])
    error_message = "rollout_waves must be distinct names of 1 to 63 letters, digits, '.', '_' or '-'."
  }
}
