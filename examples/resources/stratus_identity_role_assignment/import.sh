# An assignment is imported as <project_id>/<user_id>/<role_id>;
# terraform-provider-openstack's /<project_id>//<user_id>/<role_id> works too.
terraform import stratus_identity_role_assignment.alice_web 0c4e939acacf4376bdcd1129f1a054ad/8d4b2b0c6f1e4f5d9a3c2b1a0f9e8d7c/5f0c1f3e9a7b4c2d8e6f0a1b2c3d4e5f
