resource "stratus_networking_floatingip" "web" {
  pool        = "public"
  description = "web front"
}
