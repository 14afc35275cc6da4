resource "stratus_compute_servergroup" "web" {
  name     = "web"
  policies = ["anti-affinity"]
}

resource "stratus_compute_instance" "web" {
  count       = 2
  name        = "web-${count.index}"
  image_name  = "debian-12"
  flavor_name = "m1.small"
  key_pair    = "deploy"
  power_state = "active"

  user_data = <<-EOT
    #cloud-config
    packages: [nginx]
  EOT

  metadata = {
    role = "web"
  }

  scheduler_hints {
    group = stratus_compute_servergroup.web.id
  }

  timeouts {
    create = "10m"
  }
}
