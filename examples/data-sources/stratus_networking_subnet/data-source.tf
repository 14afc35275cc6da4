data "stratus_networking_subnet" "app" {
  network_id = data.stratus_networking_network.app.id
  ip_version = 4
}
