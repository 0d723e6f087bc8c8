output "topics" {
  description = "Publish platform specs to topics[\"platform-specs\"]."
  value       = module.gunj.topics
}

output "notification_channel" {
  description = "Add this channel to the alerting policies that should trigger rollbacks."
  value       = module.gunj.notification_channel
}

output "kubeconfig_secrets" {
  description = "Add each cluster's kubeconfig as a version of its secret."
  value       = module.gunj.kubeconfig_secrets
}
