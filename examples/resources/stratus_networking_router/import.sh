# A router is imported by its id.
terraform import stratus_networking_router.edge 4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a
