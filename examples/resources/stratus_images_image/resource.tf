# Upload a local file; the provider verifies Stratus stored exactly its bytes.
resource "stratus_images_image" "debian" {
  name             = "debian-12"
  local_file_path  = "${path.module}/debian-12-genericcloud-amd64.qcow2"
  container_format = "bare"
  disk_format      = "qcow2"
  visibility       = "public"
  min_disk_gb      = 2

  properties = {
    os_distro = "debian"
  }
}

# Or let the provider download it and stream it to Stratus.
resource "stratus_images_image" "debian_url" {
  name             = "debian-12-url"
  image_source_url = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
  container_format = "bare"
  disk_format      = "qcow2"
}
