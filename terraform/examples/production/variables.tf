variable "project_id" {
  description = "Google Cloud project to deploy gunj functions into."
  type        = string
}

variable "region" {
  description = "Region of the functions."
  type        = string
  default     = "europe-west1"
}

variable "clusters" {
  description = "Clusters the functions manage, by name: {} for a kubeconfig kept in Secret Manager, or { gke = { project, location, name } } for a GKE cluster; namespaces, service_account and alert_token_hashes as the module's clusters input describes."
  type        = any
}

variable "archives_dir" {
  description = "Folder holding reconcile.zip, rollback.zip, upgrades.zip and alertmanager.zip from `gunj package`."
  type        = string
  default     = "../../../dist"
}

variable "alertmanager_invokers" {
  description = "IAM members that may call the alertmanager function (the relay's identity); empty lets no one."
  type        = list(string)
  default     = []
}

variable "spec_publishers" {
  description = "IAM members that may publish platform specs to platform-specs (the deploying pipelines); empty lets only gunj's own functions."
  type        = list(string)
  default     = []
}

variable "alert_publishers" {
  description = "IAM members that may publish alerts to platform-alerts besides Cloud Monitoring; empty lets none."
  type        = list(string)
  default     = []
}

variable "event_readers" {
  description = "IAM members that may read outcomes from the module's platform-events subscription (gunj events --project)."
  type        = list(string)
  default     = []
}

variable "vpc_connector" {
  description = "Serverless VPC Access connector (projects/P/locations/REGION/connectors/NAME) for clusters with a private endpoint; null reaches clusters over the internet."
  type        = string
  default     = null
}
