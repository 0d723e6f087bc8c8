resource "google_storage_bucket" "sources" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-function-sources"
  location                    = var.region
  labels                      = local.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  dynamic "encryption" {
    for_each = var.bucket_kms_key_name == null ? [] : [var.bucket_kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  dynamic "logging" {
    for_each = var.access_log_bucket == null ? [] : [var.access_log_bucket]
    content {
      log_bucket = logging.value
    }
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 5
    }
    action {
      type = "Delete"
    }
  }

  # checkov:skip=CKV_GCP_62: access logging is optional (var.access_log_bucket); the bucket holds only function source archives

  # A regional bucket takes a key of its own region only.
  lifecycle {
    precondition {
      condition     = var.bucket_kms_key_name == null || try(split("/", var.bucket_kms_key_name)[3] == var.region, false)
      error_message = "bucket_kms_key_name must be a key in the functions' region (locations/${var.region})."
    }
  }
}

# The functions' images, built by the builder identity, which may write here and nowhere else
# in Artifact Registry.
resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  format        = "DOCKER"
  description   = "Images of the gunj functions, built from their source archives."
  labels        = local.labels
  kms_key_name  = var.bucket_kms_key_name

  depends_on = [google_project_service.apis]
}

# Named by content: a new archive is a new object, which redeploys the function.
resource "google_storage_bucket_object" "sources" {
  for_each = local.functions

  bucket = google_storage_bucket.sources.name
  name   = "${each.key}-${filemd5(var.function_archives[each.key])}.zip"
  source = var.function_archives[each.key]
}

locals {
  # What every function is told of its deployment.
  function_environment = {
    GUNJ_CACHE_DIR             = "/tmp/gunj"
    GUNJ_WORK_SECONDS          = tostring(var.function_timeout_seconds - 60)
    GUNJ_MANAGER_MODE          = var.manager_mode
    GUNJ_PROJECT               = var.project_id
    GUNJ_TOPIC_PREFIX          = var.name_prefix
    GUNJ_SECRET_PREFIX         = var.name_prefix
    GUNJ_CLUSTER_REGISTRY      = jsonencode(local.cluster_registry)
    GUNJ_REPOSITORY_MIRRORS    = jsonencode(var.repository_mirrors)
    GUNJ_ALLOWED_REPOSITORIES  = join(",", var.allowed_repositories)
    GUNJ_PLAIN_HTTP_REGISTRIES = ""
    GUNJ_FLEET_PROJECT         = var.project_id
    GUNJ_FLEET_DATABASE        = google_firestore_database.fleet.name
    GUNJ_ROLLOUT_WAVES         = join(",", var.rollout_waves)
  }
}

resource "google_cloudfunctions2_function" "functions" {
  for_each = local.functions

  project     = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-${each.key}"
  description = each.value.trigger == null ? "gunj ${each.key}: Alertmanager's webhook over HTTP" : "gunj ${each.key}: triggered by ${var.name_prefix}-${each.value.trigger}"
  labels      = local.labels

  build_config {
    runtime           = "python311"
    entry_point       = each.value.entry_point
    service_account   = google_service_account.builder.id
    docker_repository = google_artifact_registry_repository.functions.id
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.sources[each.key].name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.functions[each.key].email
    available_memory                 = var.function_memory
    timeout_seconds                  = var.function_timeout_seconds
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = 1
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_environment
    # Private cluster endpoints are reached through the connector; without one, nothing changes.
    vpc_connector                 = var.vpc_connector
    vpc_connector_egress_settings = var.vpc_connector == null ? null : var.vpc_connector_egress
  }

  dynamic "event_trigger" {
    for_each = local.use_push || each.value.trigger == null ? [] : [each.value.trigger]
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = google_pubsub_topic.topics[event_trigger.value].id
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.invokers[each.key].email
    }
  }

  lifecycle {
    precondition {
      condition     = var.vpc_connector != null || length(local.private_gke_clusters) == 0
      error_message = "GKE clusters with a private endpoint (${join(", ", local.private_gke_clusters)}) are reached through a VPC connector: set vpc_connector."
    }
    precondition {
      condition     = var.vpc_connector == null || try(split("/", var.vpc_connector)[3] == var.region, false)
      error_message = "vpc_connector must be in the functions' region (locations/${var.region})."
    }
  }

  depends_on = [
    google_project_service.apis,
    google_project_iam_member.builder_log_writer,
    google_artifact_registry_repository_iam_member.builder_image_writer,
    google_storage_bucket_iam_member.builder_source_reader,
  ]
}
