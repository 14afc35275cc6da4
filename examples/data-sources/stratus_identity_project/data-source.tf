data "stratus_identity_project" "admin" {
  name = "admin"
}
