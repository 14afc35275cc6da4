# A network is imported by its id.
terraform import stratus_networking_network.app 3c2f4a5b-6d7e-4f80-9a1b-2c3d4e5f6a7b
