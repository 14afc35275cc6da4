# A rule is imported by its id.
terraform import stratus_networking_secgroup_rule.http 2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e
