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

  network {
    name = "app"
  }

  scheduler_hints {
    group = stratus_compute_servergroup.web.id
  }

  timeouts {
    create = "10m"
  }
}

# Booting from a volume made from an image.
resource "stratus_compute_instance" "db" {
  name        = "db"
  flavor_name = "m1.small"

  network {
    uuid = stratus_networking_network.app.id
  }

  block_device {
    source_type           = "image"
    uuid                  = "0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f3a"
    destination_type      = "volume"
    volume_size           = 10
    boot_index            = 0
    delete_on_termination = true
  }
}
