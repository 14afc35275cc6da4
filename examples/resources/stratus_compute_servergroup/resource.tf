# Servers in this group run on different hosts.
resource "stratus_compute_servergroup" "web" {
  name     = "web"
  policies = ["anti-affinity"]
}
