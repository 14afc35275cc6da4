data "stratus_networking_network" "public" {
  name     = "public"
  external = true
}
