resource "stratus_networking_network" "app" {
  name = "app"
}

resource "stratus_networking_subnet" "app" {
  name            = "app-v4"
  network_id      = stratus_networking_network.app.id
  cidr            = "10.10.0.0/24"
  dns_nameservers = ["192.0.2.53"]

  allocation_pool {
    start = "10.10.0.100"
    end   = "10.10.0.200"
  }
}
