resource "stratus_compute_flavor" "web" {
  name  = "web.medium"
  ram   = 4096
  vcpus = 2
  disk  = 20

  extra_specs = {
    "hw:cpu_policy" = "shared"
  }
}
