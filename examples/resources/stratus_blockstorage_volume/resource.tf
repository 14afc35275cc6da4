resource "stratus_blockstorage_volume" "data" {
  name        = "data"
  description = "database files"
  size        = 20

  metadata = {
    tier = "db"
  }

  timeouts {
    create = "30m"
  }
}
