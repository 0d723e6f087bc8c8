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

# gunj's own metrics, made by Cloud Logging from the one structured line each function writes
# per outcome: its figures under jsonPayload.telemetry (shared/telemetry/figures.py). The
# names are those `gunj serve` exposes at /metrics (shared/telemetry/metrics.py), with the
# name prefix's dashes as underscores in place of "gunj".
variable "stalled_alert_after_minutes" {
  description = "Minutes a platform must keep being stalled or failed (each reconcile of it, resyncs included, reporting so) before the alert policy opens an incident."
  type        = number
  default     = 30

  validation {
    condition     = var.stalled_alert_after_minutes >= 1 && var.stalled_alert_after_minutes <= 1380 && floor(var.stalled_alert_after_minutes) == var.stalled_alert_after_minutes
    error_message = "stalled_alert_after_minutes must be a whole number of minutes from 1 to 1380 (23 hours)."
  }
}

variable "stalled_alert_notification_channels" {
  description = "Notification channels (projects/P/notificationChannels/ID) told when a platform stays stalled or failed: a person's, not the rollback function's. Empty (the default): incidents show in Cloud Monitoring only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.stalled_alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "Each of stalled_alert_notification_channels must be a channel's name, projects/PROJECT/notificationChannels/ID."
  }
}

locals {
  metric_prefix = replace(var.name_prefix, "-", "_")
  # The module's functions, as a regular expression of their Cloud Run services.
  outcome_services = join("|", sort(keys(local.functions)))
  outcome_filter   = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=~\"^${var.name_prefix}-(${local.outcome_services})$\""
  # Counters: the outcomes carrying a figure, each label extracted from a figure.
  counters = {
    reconciles_total = {
      description = "Outcomes reported by gunj's functions, by function, result, cluster and components"
      when        = "result"
      labels      = { function = "function", result = "result", cluster = "cluster", components = "components" }
    }
    rollbacks_total = {
      description = "Outcomes in which components were rolled back"
      when        = "rolled_back"
      labels      = { function = "function", cluster = "cluster", platform = "platform", component = "rolled_back" }
    }
    drift_corrections_total = {
      description = "Outcomes in which live objects that had drifted were put back"
      when        = "corrected"
      labels      = { cluster = "cluster", platform = "platform", component = "corrected" }
    }
    quarantines_total = {
      description = "Outcomes in which what a rollback returned from was quarantined"
      when        = "quarantined"
      labels      = { cluster = "cluster", platform = "platform", component = "quarantined" }
    }
    stalled_total = {
      description = "Outcomes that left a platform stalled or failed, needing a person"
      when        = "stalled"
      labels      = { cluster = "cluster", platform = "platform", result = "result", component = "stuck" }
    }
  }
  duration_labels = { function = "function", result = "result" }
  metric_types    = { for name in concat(keys(local.counters), ["reconcile_duration_seconds"]) : name => "logging.googleapis.com/user/${local.metric_prefix}_${name}" }
}

resource "google_logging_metric" "counters" {
  for_each = local.counters

  project     = var.project_id
  name        = "${local.metric_prefix}_${each.key}"
  description = each.value.description
  filter      = "${local.outcome_filter} AND jsonPayload.telemetry.${each.value.when}:*"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "${var.name_prefix} ${replace(each.key, "_", " ")}"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  label_extractors = { for label, figure in each.value.labels : label => "EXTRACT(jsonPayload.telemetry.${figure})" }
}

resource "google_logging_metric" "duration" {
  project     = var.project_id
  name        = "${local.metric_prefix}_reconcile_duration_seconds"
  description = "How long each function took for an outcome, in seconds"
  filter      = "${local.outcome_filter} AND jsonPayload.telemetry.duration:*"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "s"
    display_name = "${var.name_prefix} reconcile duration"

    dynamic "labels" {
      for_each = local.duration_labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  value_extractor  = "EXTRACT(jsonPayload.telemetry.duration)"
  label_extractors = { for label, figure in local.duration_labels : label => "EXTRACT(jsonPayload.telemetry.${figure})" }

  # The bounds of shared/telemetry/metrics.py's DURATION_BUCKETS: 0.5 s to 2048 s.
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 12
      growth_factor      = 2
      scale              = 0.5
    }
  }
}

resource "google_monitoring_dashboard" "gunj" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "${var.name_prefix}: reconciles"
    mosaicLayout = {
      columns = 12
      tiles = [
        for index, chart in [
          { title = "Outcomes by result", metric = "reconciles_total", aligner = "ALIGN_RATE", by = ["metric.label.result"] },
          { title = "Outcomes by components", metric = "reconciles_total", aligner = "ALIGN_RATE", by = ["metric.label.components"] },
          { title = "Duration, 95th percentile (s)", metric = "reconcile_duration_seconds", aligner = "ALIGN_PERCENTILE_95", by = ["metric.label.function"] },
          { title = "Rollbacks", metric = "rollbacks_total", aligner = "ALIGN_SUM", by = ["metric.label.platform", "metric.label.component"] },
          { title = "Drift corrections", metric = "drift_corrections_total", aligner = "ALIGN_SUM", by = ["metric.label.platform", "metric.label.component"] },
          { title = "Quarantines", metric = "quarantines_total", aligner = "ALIGN_SUM", by = ["metric.label.platform", "metric.label.component"] },
          { title = "Stalled or failed platforms", metric = "stalled_total", aligner = "ALIGN_SUM", by = ["metric.label.cluster", "metric.label.platform"] },
          ] : {
          xPos   = (index % 2) * 6
          yPos   = floor(index / 2) * 4
          width  = 6
          height = 4
          widget = {
            title = chart.title
            xyChart = {
              dataSets = [{
                plotType = "LINE"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = "metric.type=\"${local.metric_types[chart.metric]}\" resource.type=\"cloud_run_revision\""
                    aggregation = {
                      alignmentPeriod    = "300s"
                      perSeriesAligner   = chart.aligner
                      crossSeriesReducer = chart.aligner == "ALIGN_PERCENTILE_95" ? "REDUCE_MAX" : "REDUCE_SUM"
                      groupByFields      = chart.by
                    }
                  }
                }
              }]
            }
          }
        }
      ]
    }
  })

  depends_on = [google_logging_metric.counters, google_logging_metric.duration]
}

# A platform that keeps being stalled or failed: every reconcile of it (a resync's at least
# every resync_interval_minutes) counts in stalled_total, so a window of two resync intervals
# holds at least one while it lasts.
resource "google_monitoring_alert_policy" "stalled" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: platform stalled or failed"
  combiner              = "OR"
  notification_channels = var.stalled_alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "A platform stalled or failed for ${var.stalled_alert_after_minutes} minutes"

    condition_threshold {
      filter          = "metric.type=\"${local.metric_types["stalled_total"]}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "${var.stalled_alert_after_minutes * 60}s"

      aggregations {
        alignment_period     = "${var.resync_interval_minutes * 2 * 60}s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.cluster", "metric.label.platform"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A platform has been stalled or failed for ${var.stalled_alert_after_minutes} minutes: gunj cannot progress it until its spec changes or a person acts. `gunj status NAMESPACE/NAME --cluster CLUSTER` says what to change; the platform's Events and its outcomes on platform-events say what happened."
  }

  depends_on = [google_logging_metric.counters]
}
