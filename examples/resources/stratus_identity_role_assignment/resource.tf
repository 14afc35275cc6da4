data "stratus_identity_role" "member" {
  name = "member"
}

resource "stratus_identity_role_assignment" "alice_web" {
  project_id = stratus_identity_project.web.id
  user_id    = stratus_identity_user.alice.id
  role_id    = data.stratus_identity_role.member.id
}
