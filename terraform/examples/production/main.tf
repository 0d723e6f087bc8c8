# Deploys gunj functions for a production project: functions, topics, dead letters, the daily
# upgrade check, the alert channel and least-privilege identities.
#
#   gunj package --output dist                # from the repository root
#   cd terraform/examples/production
#   terraform init && terraform apply -var project_id=my-project -var 'clusters={"prod-eu":{}}'
#   gcloud secrets versions add gunj-kubeconfig-prod-eu --data-file=prod-eu.kubeconfig
#
# GKE clusters need no secret: give their coordinates (clusters = { prod-us = { gke = {...} } })
# and grant the function identities (output service_accounts) RBAC in each cluster
# (`gunj clusters rbac`, see the module's README).
# Alertmanager's webhook goes to output alertmanager_url, called as one of alertmanager_invokers,
# with a token of its cluster's: `gunj clusters token prod-eu` prints one and its hash, which goes
# in clusters.prod-eu.alert_token_hashes (see "Wiring alerts to gunj" in the module's README).
module "gunj" {
  source = "../../modules/gunj"

  project_id = var.project_id
  region     = var.region
  clusters   = var.clusters

  function_archives = {
    reconcile    = "${var.archives_dir}/reconcile.zip"
    rollback     = "${var.archives_dir}/rollback.zip"
    upgrades     = "${var.archives_dir}/upgrades.zip"
    resync       = "${var.archives_dir}/resync.zip"
    alertmanager = "${var.archives_dir}/alertmanager.zip"
  }

  alertmanager_invokers = var.alertmanager_invokers
  spec_publishers       = var.spec_publishers
  alert_publishers      = var.alert_publishers
  event_readers         = var.event_readers
  vpc_connector         = var.vpc_connector

  upgrade_check_schedule = "0 6 * * 1-5"
  time_zone              = "Europe/Paris"
  # allowed_repositories keeps its default: the supported charts' upstream repositories and
  # where they keep their archives. A list given here would replace it.

  labels = {
    team = "platform"
  }
}
