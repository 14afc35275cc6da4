data "stratus_compute_availability_zones" "all" {}

output "zones" {
  value = data.stratus_compute_availability_zones.all.names
}
