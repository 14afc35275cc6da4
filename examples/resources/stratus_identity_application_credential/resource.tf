# A credential for CI jobs that may only read.
resource "stratus_identity_application_credential" "ci" {
  name        = "ci"
  description = "read-only access for CI"
  roles       = ["reader"]
  expires_at  = "2030-01-01T00:00:00Z"
}

output "ci_credential_id" {
  value = stratus_identity_application_credential.ci.id
}
