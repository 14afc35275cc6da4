resource "stratus_networking_port" "db" {
  name               = "db"
  network_id         = stratus_networking_network.app.id
  security_group_ids = [stratus_networking_secgroup.db.id]

  fixed_ip {
    subnet_id  = stratus_networking_subnet.app.id
    ip_address = "10.10.0.10"
  }
}
