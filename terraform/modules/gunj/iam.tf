# One identity per function, holding only what that function does.
resource "google_service_account" "functions" {
  for_each = local.functions

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "gunj ${each.key} function"
  description  = "Runs the ${each.key} function: publishes to ${join(", ", each.value.publishes)}; reads ${length(local.secret_readers[each.key])} secret(s)."
}

# The identity Pub/Sub (or Eventarc) presents when it delivers events to a function.
resource "google_service_account" "invokers" {
  for_each = local.triggered

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}-trigger"
  display_name = "gunj ${each.key} trigger"
  description  = "Delivers ${var.name_prefix}-${each.value.trigger} events to the ${each.key} function; may invoke that function only."
}

# Builds the functions' images from their source archives.
resource "google_service_account" "builder" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-builder"
  display_name = "gunj function builder"
}

locals {
  publish_grants = merge([
    for name, function in local.functions : {
      for topic in function.publishes : "${name}/${topic}" => { function = name, topic = topic }
    }
  ]...)
  secret_grants = merge([
    for name, secrets in local.secret_readers : {
      for secret in secrets : "${name}/${secret}" => { function = name, secret = secret }
    }
  ]...)
}

resource "google_pubsub_topic_iam_member" "function_publishers" {
  for_each = local.publish_grants

  project = var.project_id
  topic   = google_pubsub_topic.topics[each.value.topic].name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.functions[each.value.function].member
}

resource "google_secret_manager_secret_iam_member" "function_secret_readers" {
  for_each = local.secret_grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.secrets[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.functions[each.value.function].member
}

# GKE clusters: each function identity reads the clusters' endpoint and CA certificate on the
# projects holding them (what it may do inside a cluster is Kubernetes RBAC, granted there).
resource "google_project_iam_member" "function_gke_endpoint_readers" {
  for_each = local.gke_grants

  project = each.value.project
  role    = var.gke_endpoint_role
  member  = google_service_account.functions[each.value.function].member
}

resource "google_cloud_run_v2_service_iam_member" "invokers" {
  for_each = local.triggered

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.functions[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.invokers[each.key].member
}

# The alertmanager function is called by the identities named in var.alertmanager_invokers
# (a relay, or the service account whose ID token Alertmanager's requests carry), and by no one
# when it is empty. Their requests still need an Alertmanager token listed for the clusters they
# name: this only lets them past Cloud Run.
resource "google_cloud_run_v2_service_iam_member" "alertmanager_invokers" {
  for_each = toset(var.alertmanager_invokers)

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.functions["alertmanager"].name
  role     = "roles/run.invoker"
  member   = each.value
}

# Eventarc triggers need their identity to receive events.
resource "google_project_iam_member" "eventarc_receivers" {
  for_each = local.use_push ? {} : local.triggered

  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.invokers[each.key].member
}

# Pub/Sub signs the push requests' OIDC tokens as the invoker.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  for_each = local.use_push ? local.triggered : {}

  service_account_id = google_service_account.invokers[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# Dead-lettering: Pub/Sub forwards undeliverable events to the dead-letter topic and must be
# able to acknowledge them on the trigger subscription.
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letter_publisher" {
  for_each = local.trigger_topics

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_trigger_subscriber" {
  for_each = local.use_push ? local.triggered : {}

  project      = var.project_id
  subscription = google_pubsub_subscription.triggers[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# Cloud Monitoring publishes incidents to platform-alerts through its notification agent.
resource "google_pubsub_topic_iam_member" "monitoring_agent_alerts_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.topics["platform-alerts"].name
  role    = "roles/pubsub.publisher"
  member  = local.monitoring_agent
}

resource "google_storage_bucket_iam_member" "builder_source_reader" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.builder.member
}

# The builder writes the functions' images to their repository only.
resource "google_artifact_registry_repository_iam_member" "builder_image_writer" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.builder.member
}

# Build logs: Cloud Logging grants writing log entries on a project, not on a narrower resource.
# The role writes entries and reads nothing.
resource "google_project_iam_member" "builder_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.builder.member
}

# Who may ask gunj to act: the members the variables name, each on its topic alone.
resource "google_pubsub_topic_iam_member" "spec_publishers" {
  for_each = toset(var.spec_publishers)

  project = var.project_id
  topic   = google_pubsub_topic.topics["platform-specs"].name
  role    = "roles/pubsub.publisher"
  member  = each.value
}

resource "google_pubsub_topic_iam_member" "alert_publishers" {
  for_each = toset(var.alert_publishers)

  project = var.project_id
  topic   = google_pubsub_topic.topics["platform-alerts"].name
  role    = "roles/pubsub.publisher"
  member  = each.value
}
