data "stratus_compute_hypervisor" "kvm1" {
  hostname = "kvm1"
}
