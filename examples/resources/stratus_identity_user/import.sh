# A user is imported by its id; the password is not imported.
terraform import stratus_identity_user.alice 8d4b2b0c6f1e4f5d9a3c2b1a0f9e8d7c
