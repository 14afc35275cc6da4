# An attachment is imported by <instance_id>/<volume_id>.
terraform import stratus_compute_volume_attach.data 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
