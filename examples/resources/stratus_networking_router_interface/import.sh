# A router interface is imported by the id of the router's port on the subnet.
terraform import stratus_networking_router_interface.app 6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c
