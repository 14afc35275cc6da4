#!/usr/bin/env bash
# Boots the tiny guest on a running Stratus (`make run` in another terminal)
# with the openstack CLI, and shows its console: the user_data it ran and
# the hostname it took from the config drive.
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

userdata=$(mktemp)
trap 'rm -f "$userdata"' EXIT
printf '#!/bin/sh\necho "hello from $(hostname), booted by Stratus"\n' >"$userdata"
name=demo-$(date +%H%M%S)
echo "creating $name ..."
openstack server create --image stratus-tiny --flavor guest.tiny --user-data "$userdata" --wait "$name" -f value -c id -c status
for _ in $(seq 60); do
	if openstack console log show "$name" 2>/dev/null | grep -q 'stratus-guest: ready'; then
		openstack console log show "$name" | grep 'stratus-guest\|hello from'
		echo "done: openstack server delete $name when you are finished"
		exit 0
	fi
	sleep 2
done
echo "the guest did not report ready in 2 minutes; its console:" >&2
openstack console log show "$name" >&2 || true
exit 1
