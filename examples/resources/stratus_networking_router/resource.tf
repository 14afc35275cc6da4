data "stratus_networking_network" "public" {
  name     = "public"
  external = true
}

resource "stratus_networking_router" "edge" {
  name                = "edge"
  external_network_id = data.stratus_networking_network.public.id
}
