resource "stratus_networking_floatingip" "web" {
  pool = "public"
}

resource "stratus_networking_floatingip_associate" "web" {
  floating_ip = stratus_networking_floatingip.web.address
  port_id     = stratus_compute_instance.web.network[0].port
}
