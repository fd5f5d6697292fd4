# Pinned toolchain. `optional()` attribute defaults need Terraform >= 1.3; we test with 1.5+.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0" # 7.x is the current major (2026); bump deliberately, after reading its upgrade guide
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
