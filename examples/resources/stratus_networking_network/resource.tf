resource "stratus_networking_network" "app" {
  name        = "app"
  description = "application tier"
}

# An external network (admin only): routers take their gateway from it and
# floating IPs come from it.
resource "stratus_networking_network" "public" {
  name     = "public"
  external = true
  shared   = true
}
