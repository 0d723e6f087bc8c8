# Deploys gunj functions for a production project: functions, topics, dead letters, the daily
# upgrade check, the alert channel and least-privilege identities.
#
#   gunj package --output dist                # from the repository root
#   cd terraform/examples/production
#   terraform init && terraform apply -var project_id=my-project -var 'clusters={"prod-eu":{}}'
#   gcloud secrets versions add gunj-kubeconfig-prod-eu --data-file=prod-eu.kubeconfig
#
# GKE clusters need no secret: give their coordinates (clusters = { prod-us = { gke = {...} } })
# and grant the function identities (output service_accounts) RBAC in each cluster.
module "gunj" {
  source = "../../modules/gunj"

  project_id = var.project_id
  region     = var.region
  clusters   = var.clusters

  function_archives = {
    reconcile = "${var.archives_dir}/reconcile.zip"
    rollback  = "${var.archives_dir}/rollback.zip"
    upgrades  = "${var.archives_dir}/upgrades.zip"
  }

  upgrade_check_schedule = "0 6 * * 1-5"
  time_zone              = "Europe/Paris"
  allowed_repositories = [
    "https://prometheus-community.github.io/helm-charts",
    "https://grafana-community.github.io/helm-charts",
    "oci://ghcr.io/prometheus-community/charts",
    "oci://ghcr.io/grafana-community/helm-charts",
  ]

  labels = {
    team = "platform"
  }
}
