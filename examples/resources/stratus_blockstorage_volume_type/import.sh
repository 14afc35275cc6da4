# A volume type is imported by its id.
terraform import stratus_blockstorage_volume_type.fast 1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e
