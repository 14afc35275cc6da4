# A security group is imported by its id (delete_default_rules is taken as
# false).
terraform import stratus_networking_secgroup.web 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
