# Stratus quickstart: an external network and a router, a tenant network
# behind it, a security group, a key pair, servers with a data volume each,
# and a floating IP on the first server. See README.md.

terraform {
  required_version = ">= 1.5"
  required_providers {
    stratus = {
      source = "stratus-cloud/stratus"
    }
  }
}

# Settings come from admin-openrc.sh (source it first).
provider "stratus" {}

# The outside world: an external network whose subnet floating IPs and the
# router's gateway come from. Creating it needs the admin role.
resource "stratus_networking_network" "public" {
  name     = "${var.prefix}-public"
  external = true
}

resource "stratus_networking_subnet" "public" {
  name        = "${var.prefix}-public"
  network_id  = stratus_networking_network.public.id
  cidr        = var.public_cidr
  enable_dhcp = false
}

resource "stratus_networking_router" "edge" {
  name                = "${var.prefix}-edge"
  external_network_id = stratus_networking_network.public.id

  # The gateway takes an address of the public subnet.
  depends_on = [stratus_networking_subnet.public]
}

# The tenant network the servers live on.
resource "stratus_networking_network" "app" {
  name = "${var.prefix}-app"
}

resource "stratus_networking_subnet" "app" {
  name            = "${var.prefix}-app"
  network_id      = stratus_networking_network.app.id
  cidr            = var.app_cidr
  dns_nameservers = var.dns_nameservers
}

resource "stratus_networking_router_interface" "app" {
  router_id = stratus_networking_router.edge.id
  subnet_id = stratus_networking_subnet.app.id
}

# Only what the rules below allow comes in.
resource "stratus_networking_secgroup" "app" {
  name        = "${var.prefix}-app"
  description = "SSH, HTTP and ping from anywhere"
}

resource "stratus_networking_secgroup_rule" "ingress" {
  for_each = {
    ssh  = { protocol = "tcp", port = 22 }
    http = { protocol = "tcp", port = 80 }
    ping = { protocol = "icmp", port = 0 }
  }
  security_group_id = stratus_networking_secgroup.app.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = each.value.protocol
  port_range_min    = each.value.port
  port_range_max    = each.value.port
  remote_ip_prefix  = "0.0.0.0/0"
}

resource "stratus_compute_keypair" "admin" {
  name       = "${var.prefix}-admin"
  public_key = var.public_key
}

# One port per server, so the servers get the security group.
resource "stratus_networking_port" "server" {
  count              = var.server_count
  name               = "${var.prefix}-server-${count.index}"
  network_id         = stratus_networking_network.app.id
  security_group_ids = [stratus_networking_secgroup.app.id]

  fixed_ip {
    subnet_id = stratus_networking_subnet.app.id
  }
}

resource "stratus_compute_instance" "server" {
  count       = var.server_count
  name        = "${var.prefix}-server-${count.index}"
  image_name  = var.image_name
  flavor_name = var.flavor_name
  key_pair    = stratus_compute_keypair.admin.name

  network {
    port = stratus_networking_port.server[count.index].id
  }

  metadata = {
    role = "app"
  }
}

resource "stratus_blockstorage_volume" "data" {
  count = var.server_count
  name  = "${var.prefix}-data-${count.index}"
  size  = var.volume_size
}

resource "stratus_compute_volume_attach" "data" {
  count       = var.server_count
  instance_id = stratus_compute_instance.server[count.index].id
  volume_id   = stratus_blockstorage_volume.data[count.index].id
}

# The first server is reachable from outside.
resource "stratus_networking_floatingip" "server" {
  pool       = stratus_networking_network.public.name
  depends_on = [stratus_networking_subnet.public]
}

resource "stratus_networking_floatingip_associate" "server" {
  floating_ip = stratus_networking_floatingip.server.address
  port_id     = stratus_networking_port.server[0].id

  # NAT needs the router on the server's subnet.
  depends_on = [stratus_networking_router_interface.app]
}
