resource "stratus_networking_router_interface" "app" {
  router_id = stratus_networking_router.edge.id
  subnet_id = stratus_networking_subnet.app.id
}
