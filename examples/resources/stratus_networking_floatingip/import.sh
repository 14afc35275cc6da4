# A floating IP is imported by its id.
terraform import stratus_networking_floatingip.web 8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e
