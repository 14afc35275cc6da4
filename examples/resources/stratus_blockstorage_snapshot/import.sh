# A snapshot is imported by its id (force is taken as false).
terraform import stratus_blockstorage_snapshot.nightly 2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f
