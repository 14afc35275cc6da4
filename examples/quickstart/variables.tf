variable "prefix" {
  description = "Prefix of every name, so several quickstarts can share a cloud."
  type        = string
  default     = "quickstart"
}

variable "server_count" {
  description = "Number of servers, each with a port and a data volume."
  type        = number
  default     = 2

  validation {
    condition     = var.server_count >= 1
    error_message = "At least one server: the floating IP goes to the first."
  }
}

variable "image_name" {
  description = "Image to boot, for example the tiny guest scripts/build-guest-image.sh builds."
  type        = string
  default     = "stratus-tiny"
}

variable "flavor_name" {
  description = "Flavor of the servers."
  type        = string
  default     = "m1.tiny"
}

variable "volume_size" {
  description = "Size of each server's data volume in GiB."
  type        = number
  default     = 1
}

variable "public_key" {
  description = "OpenSSH public key the servers accept; empty lets Nova generate a pair (the private key is then in the state)."
  type        = string
  default     = null
}

variable "public_cidr" {
  description = "CIDR of the external network's subnet: the router's gateway and the floating IPs."
  type        = string
  default     = "203.0.113.0/24"
}

variable "app_cidr" {
  description = "CIDR of the tenant subnet."
  type        = string
  default     = "10.0.0.0/24"
}

variable "dns_nameservers" {
  description = "DNS servers DHCP hands to the servers."
  type        = list(string)
  default     = []
}
