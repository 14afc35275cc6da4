resource "stratus_identity_project" "web" {
  name        = "web"
  description = "The web team"
  tags        = ["prod"]
}
