resource "stratus_networking_secgroup" "web" {
  name                 = "web"
  description          = "HTTP from anywhere"
  delete_default_rules = true
}
