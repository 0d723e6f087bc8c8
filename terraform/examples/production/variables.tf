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
  description = "Clusters the functions manage, by name: {} for a kubeconfig kept in Secret Manager, or { gke = { project, location, name } } for a GKE cluster (see the module's clusters input)."
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
