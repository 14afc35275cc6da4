# An association is imported by the id of its floating IP.
terraform import stratus_networking_floatingip_associate.web 8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e
