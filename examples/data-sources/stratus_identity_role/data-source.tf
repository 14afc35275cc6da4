data "stratus_identity_role" "member" {
  name = "member"
}
