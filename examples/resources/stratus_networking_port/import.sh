# A port is imported by its id; fixed_ip blocks are filled in with every
# address of the port.
terraform import stratus_networking_port.db 7f80a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b
