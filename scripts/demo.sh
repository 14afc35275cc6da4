#!/usr/bin/env bash
# Boots the tiny guest on a running Stratus (`make run` in another terminal)
# with the openstack CLI, on a tenant network behind a router, and shows its
# console (the address DHCP gave it, the user_data it ran, the hostname it
# took from the config drive), then fetches a page from the web server it
# runs, through its floating IP.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

if [ -z "${STRATUS_STATE_DIR:-}" ]; then
	if [ "$(id -u)" = 0 ]; then STRATUS_STATE_DIR=/var/lib/stratus; else STRATUS_STATE_DIR=${XDG_STATE_HOME:-$HOME/.local/state}/stratus; fi
fi
# shellcheck disable=SC1091
source "$STRATUS_STATE_DIR/admin-openrc.sh"

image=$(scripts/build-guest-image.sh | tail -n 1)
openstack image show stratus-tiny >/dev/null 2>&1 ||
	openstack image create --file "$image" --disk-format qcow2 --container-format bare --public stratus-tiny >/dev/null
openstack flavor show guest.tiny >/dev/null 2>&1 ||
	openstack flavor create --vcpus 1 --ram 256 --disk 1 guest.tiny >/dev/null

# The network: an external network (a documentation range; the host holds
# its gateway address), a tenant network behind a router, a security group
# that opens the web server's port.
openstack network show public >/dev/null 2>&1 ||
	openstack network create --external public >/dev/null
openstack subnet show public-subnet >/dev/null 2>&1 ||
	openstack subnet create --network public --subnet-range 203.0.113.0/24 public-subnet >/dev/null
openstack network show demo-net >/dev/null 2>&1 ||
	openstack network create demo-net >/dev/null
openstack subnet show demo-subnet >/dev/null 2>&1 ||
	openstack subnet create --network demo-net --subnet-range 10.0.0.0/24 demo-subnet >/dev/null
if ! openstack router show demo-router >/dev/null 2>&1; then
	openstack router create demo-router >/dev/null
	openstack router set --external-gateway public demo-router
	openstack router add subnet demo-router demo-subnet
fi
if ! openstack security group show demo-web >/dev/null 2>&1; then
	openstack security group create demo-web >/dev/null
	openstack security group rule create --protocol tcp --dst-port 8080 demo-web >/dev/null
fi

userdata=$(mktemp)
trap 'rm -f "$userdata"' EXIT
cat >"$userdata" <<'USERDATA'
#!/bin/sh
echo "hello from $(hostname), booted by Stratus"
mkdir -p /www && echo "hello from $(hostname) over the network" >/www/index.html
busybox httpd -p 8080 -h /www
USERDATA
name=demo-$(date +%H%M%S)
echo "creating $name ..."
openstack server create --image stratus-tiny --flavor guest.tiny --network demo-net --security-group demo-web \
	--user-data "$userdata" --wait "$name" -f value -c id -c status
ready=
for _ in $(seq 60); do
	if openstack console log show "$name" 2>/dev/null | grep -q 'stratus-guest: ready'; then
		ready=1
		break
	fi
	sleep 2
done
if [ -z "$ready" ]; then
	echo "the guest did not report ready in 2 minutes; its console:" >&2
	openstack console log show "$name" >&2 || true
	exit 1
fi
openstack console log show "$name" | grep 'stratus-guest\|hello from'

port=$(openstack port list --server "$name" -f value -c ID | head -n 1)
fip=$(openstack floating ip create public --port "$port" -f value -c floating_ip_address)
echo "floating IP $fip -> $name; fetching http://$fip:8080/ ..."
for _ in $(seq 30); do
	if curl -fsS --max-time 2 "http://$fip:8080/"; then
		echo "done: openstack server delete $name; openstack floating ip delete $fip when you are finished"
		exit 0
	fi
	sleep 1
done
echo "http://$fip:8080/ did not answer (is cloudd running as root on a qemu:///system host?)" >&2
exit 1
