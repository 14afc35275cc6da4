output "floating_ip" {
  description = "Address the first server is reachable at from the external network."
  value       = stratus_networking_floatingip.server.address
}

output "servers" {
  description = "Name, fixed IP and data volume device of each server."
  value = [for i, s in stratus_compute_instance.server : {
    name     = s.name
    fixed_ip = s.access_ip_v4
    volume   = stratus_compute_volume_attach.data[i].device
  }]
}

output "private_key" {
  description = "The generated private key when public_key was not given."
  value       = stratus_compute_keypair.admin.private_key
  sensitive   = true
}
