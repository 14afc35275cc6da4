data "stratus_compute_flavor" "small" {
  name = "m1.small"
}
