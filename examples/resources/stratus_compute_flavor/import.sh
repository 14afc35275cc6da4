# A flavor is imported by its id.
terraform import stratus_compute_flavor.web 3c2f9d8e-1b0a-4f6e-9d8c-7b6a5f4e3d2c
