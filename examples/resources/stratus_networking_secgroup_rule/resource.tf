resource "stratus_networking_secgroup" "web" {
  name = "web"
}

resource "stratus_networking_secgroup_rule" "http" {
  security_group_id = stratus_networking_secgroup.web.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 80
  port_range_max    = 80
  remote_ip_prefix  = "0.0.0.0/0"
}
