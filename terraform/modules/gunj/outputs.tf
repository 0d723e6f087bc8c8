output "topics" {
  description = "Topic IDs by purpose (platform-specs, platform-alerts, upgrade-checks, resync-ticks, platform-events, upgrade-reports)."
  value       = { for name, topic in google_pubsub_topic.topics : name => topic.id }
}

output "events_subscription" {
  description = "Subscription keeping every outcome published to platform-events for a week: `gunj events --project P --subscription <this>`."
  value       = google_pubsub_subscription.events.id
}

output "dead_letter_topics" {
  description = "Dead-letter topic ID of each trigger topic."
  value       = { for name, topic in google_pubsub_topic.dead_letter : name => topic.id }
}

output "dead_letter_subscriptions" {
  description = "Subscriptions keeping each trigger's dead letters, to inspect or replay them."
  value       = { for name, subscription in google_pubsub_subscription.dead_letter_inbox : name => subscription.id }
}

output "functions" {
  description = "Function name and URI of reconcile, rollback, upgrades, resync and alertmanager."
  value = { for name, function in google_cloudfunctions2_function.functions : name => {
    name = function.name
    uri  = function.service_config[0].uri
  } }
}

output "alertmanager_url" {
  description = "URL of the alertmanager function: the `url` of Alertmanager's webhook receiver (or of the relay's upstream), and the audience of its callers' Google ID tokens."
  value       = google_cloudfunctions2_function.functions["alertmanager"].service_config[0].uri
}

output "service_accounts" {
  description = "Email of each function's runtime identity."
  value       = { for name, account in google_service_account.functions : name => account.email }
}

output "kubeconfig_secrets" {
  description = "Secret Manager secret of each cluster's kubeconfig (add versions with gcloud)."
  value       = { for c in local.secret_clusters : c => google_secret_manager_secret.secrets["kubeconfig-${c}"].id }
}

output "cluster_registry" {
  description = "The cluster registry the functions read (GUNJ_CLUSTER_REGISTRY, JSON): each cluster's kubeconfig secret or GKE coordinates, aliases, allowTemplates, namespaces, serviceAccount and alertTokens (token hashes)."
  value       = jsonencode(local.cluster_registry)
}

output "artifact_repository" {
  description = "Artifact Registry repository holding the functions' images (the only one the builder identity may write to)."
  value       = google_artifact_registry_repository.functions.id
}

output "notification_channel" {
  description = "Cloud Monitoring notification channel to add to alerting policies."
  value       = google_monitoring_notification_channel.alerts.id
}
