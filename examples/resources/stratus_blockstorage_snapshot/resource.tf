resource "stratus_blockstorage_snapshot" "nightly" {
  volume_id = stratus_blockstorage_volume.data.id
  name      = "data-nightly"
  force     = true
}

resource "stratus_blockstorage_volume" "restored" {
  name        = "data-restored"
  size        = stratus_blockstorage_snapshot.nightly.size
  snapshot_id = stratus_blockstorage_snapshot.nightly.id
}
