data "stratus_compute_instance" "web" {
  id = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
}
