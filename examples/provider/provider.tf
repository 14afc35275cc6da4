terraform {
  required_providers {
    stratus = {
      source = "stratus-cloud/stratus"
    }
  }
}

# With no settings, the provider reads the OS_* variables of admin-openrc.sh:
#   source /var/lib/stratus/admin-openrc.sh && terraform apply
provider "stratus" {}

# Or give the settings explicitly (terraform-provider-openstack's names):
provider "stratus" {
  alias               = "explicit"
  auth_url            = "http://127.0.0.1:5000/identity/v3"
  user_name           = "admin"
  password            = var.admin_password
  tenant_name         = "admin"
  user_domain_name    = "Default"
  project_domain_name = "Default"
  region              = "RegionOne"
}

# Or name an entry of clouds.yaml:
provider "stratus" {
  alias = "clouds_yaml"
  cloud = "stratus"
}

variable "admin_password" {
  type      = string
  sensitive = true
}
