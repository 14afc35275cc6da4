resource "stratus_identity_project" "web" {
  name = "web"
}

resource "stratus_identity_user" "alice" {
  name               = "alice"
  description        = "Web team lead"
  password           = var.alice_password
  default_project_id = stratus_identity_project.web.id
}

variable "alice_password" {
  type      = string
  sensitive = true
}
