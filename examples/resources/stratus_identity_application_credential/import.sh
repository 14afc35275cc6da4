# A credential of the provider's user is imported by its id; the secret
# cannot be read back.
terraform import stratus_identity_application_credential.ci 1b9c6c3a2f2e4d7a9f0b8e7d6c5b4a39
