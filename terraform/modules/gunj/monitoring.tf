# Alerting policies that should roll a platform back notify this channel; their incidents
# reach the rollback function through platform-alerts.
resource "google_monitoring_notification_channel" "alerts" {
  project      = var.project_id
  display_name = "${var.name_prefix} platform alerts"
  type         = "pubsub"
  description  = "Incidents for gunj's rollback function (label alerts with gunj_cluster, gunj_platform, gunj_component)."
  user_labels  = local.labels

  labels = {
    topic = google_pubsub_topic.topics["platform-alerts"].id
  }

  depends_on = [google_pubsub_topic_iam_member.monitoring_agent_alerts_publisher]
}
