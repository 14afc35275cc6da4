# A subnet is imported by its id; allocation_pool blocks are filled in unless
# the subnet has the default pool.
terraform import stratus_networking_subnet.app 5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f
