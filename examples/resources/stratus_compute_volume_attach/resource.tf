resource "stratus_blockstorage_volume" "data" {
  name = "data"
  size = 20
}

resource "stratus_compute_volume_attach" "data" {
  instance_id = stratus_compute_instance.db.id
  volume_id   = stratus_blockstorage_volume.data.id
}
