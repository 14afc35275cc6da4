# A volume is imported by its id.
terraform import stratus_blockstorage_volume.data 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
