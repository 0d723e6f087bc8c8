# Secret containers only: their values (the clusters' kubeconfigs) are added with
# `gcloud secrets versions add`, so they never pass through Terraform state.
resource "google_secret_manager_secret" "secrets" {
  for_each = toset(local.kubeconfig_secrets)

  project   = var.project_id
  secret_id = "${var.name_prefix}-${each.key}"
  labels    = local.labels

  replication {
    auto {
      dynamic "customer_managed_encryption" {
        for_each = var.secrets_kms_key_name == null ? [] : [var.secrets_kms_key_name]
        content {
          kms_key_name = customer_managed_encryption.value
        }
      }
    }
  }

  depends_on = [google_project_service.apis]
}
