resource "google_pubsub_topic" "topics" {
  for_each = local.topics

  project                    = var.project_id
  name                       = "${var.name_prefix}-${each.key}"
  labels                     = local.labels
  message_retention_duration = "604800s"
  kms_key_name               = var.secrets_kms_key_name # checkov:skip=CKV_GCP_83: CMEK is optional (var.secrets_kms_key_name, global like the topics); Google-managed keys otherwise

  depends_on = [google_project_service.apis]
}

# Events that could not be handled after max_delivery_attempts land here, one topic per trigger.
resource "google_pubsub_topic" "dead_letter" {
  for_each = local.trigger_topics

  project                    = var.project_id
  name                       = "${var.name_prefix}-${each.key}-dead-letter"
  labels                     = local.labels
  message_retention_duration = "604800s"
  kms_key_name               = var.secrets_kms_key_name # checkov:skip=CKV_GCP_83: CMEK is optional (var.secrets_kms_key_name, global like the topics); Google-managed keys otherwise

  depends_on = [google_project_service.apis]
}

# A topic without subscriptions drops what is published to it: keep dead letters for a week.
resource "google_pubsub_subscription" "dead_letter_inbox" {
  for_each = local.trigger_topics

  project                    = var.project_id
  name                       = "${var.name_prefix}-${each.key}-dead-letter-inbox"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  labels                     = local.labels
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

# The triggers: Pub/Sub pushes each event to its function, authenticated as that function's
# invoker, retrying with backoff and dead-lettering after max_delivery_attempts.
resource "google_pubsub_subscription" "triggers" {
  for_each = local.use_push ? local.triggered : {}

  project                    = var.project_id
  name                       = "${var.name_prefix}-${each.value.trigger}-${each.key}"
  topic                      = google_pubsub_topic.topics[each.value.trigger].id
  labels                     = local.labels
  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = google_cloudfunctions2_function.functions[each.key].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.invokers[each.key].email
      audience              = google_cloudfunctions2_function.functions[each.key].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = var.retry_backoff.minimum
    maximum_backoff = var.retry_backoff.maximum
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.trigger].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_pubsub_topic_iam_member.pubsub_agent_dead_letter_publisher,
  ]
}

# Outcomes: every function publishes one document per event to platform-events. A topic
# without subscriptions drops what is published to it, so the module keeps one, read with
# `gunj events --project P --subscription <this>` or `gcloud pubsub subscriptions pull`.
resource "google_pubsub_subscription" "events" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-platform-events-outcomes"
  topic                      = google_pubsub_topic.topics["platform-events"].id
  labels                     = local.labels
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription_iam_member" "event_readers" {
  for_each = toset(var.event_readers)

  project      = var.project_id
  subscription = google_pubsub_subscription.events.name
  role         = "roles/pubsub.subscriber"
  member       = each.value
}
