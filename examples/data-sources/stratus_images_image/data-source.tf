data "stratus_images_image" "debian" {
  name        = "debian-12"
  most_recent = true
}
