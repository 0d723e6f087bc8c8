output "topics" {
  description = "Publish platform specs to topics[\"platform-specs\"]."
  value       = module.gunj.topics
}

output "events_subscription" {
  description = "Read outcomes here: gunj events --project PROJECT --subscription <this>."
  value       = module.gunj.events_subscription
}

output "notification_channel" {
  description = "Add this channel to the alerting policies that should trigger rollbacks."
  value       = module.gunj.notification_channel
}

output "kubeconfig_secrets" {
  description = "Add each cluster's kubeconfig as a version of its secret."
  value       = module.gunj.kubeconfig_secrets
}

output "service_accounts" {
  description = "Function identities: bind each in the RBAC of every GKE cluster they manage."
  value       = module.gunj.service_accounts
}

output "alertmanager_url" {
  description = "The `url` of Alertmanager's gunj webhook receiver (or of the relay's upstream)."
  value       = module.gunj.alertmanager_url
}

output "cluster_registry" {
  description = "The cluster registry the functions read: `GUNJ_CLUSTER_REGISTRY=$(terraform output -raw cluster_registry) gunj clusters rbac ...` prints each cluster's RBAC from it."
  value       = module.gunj.cluster_registry
}
