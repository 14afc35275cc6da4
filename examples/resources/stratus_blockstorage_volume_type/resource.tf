resource "stratus_blockstorage_volume_type" "fast" {
  name        = "fast"
  description = "local SSD"

  extra_specs = {
    volume_backend_name = "local"
  }
}
