#!/usr/bin/env bash
# setup.sh installs what Stratus needs to build, test and run on Debian 12.
#
#   scripts/setup.sh                 apt packages, staticcheck and a Terraform CLI
#   scripts/setup.sh --no-terraform  skip the Terraform CLI
#
# The Terraform CLI (for the provider's acceptance tests and `make docs`) is
# built only when no `terraform` is on PATH and none was built before: about
# 2 minutes, once. `--terraform` is accepted for older callers; it is the default.
#
# Idempotent: when everything is present it only checks and exits in well under a
# second; apt-get update runs only when a package is missing. Prints one line per
# thing it installs. Needs root (or password-less sudo) only to install packages.
#
# PostgreSQL is installed as server binaries only (/usr/lib/postgresql/15/bin):
# Stratus runs its own private PostgreSQL, so no "main" cluster is created or
# started. libvirtd is started by scripts/libvirtd.sh, not here.
#
# Environment:
#   STRATUS_TOOLS        where the Terraform CLI is built
#                        (default ${XDG_CACHE_HOME:-$HOME/.cache}/stratus/bin)
#   STATICCHECK_VERSION  default v0.8.2 (staticcheck 2026.x, built for Go 1.26)
#   TERRAFORM_VERSION    default v1.5.7 (the last MPL release; newer ones do not
#                        build with `go install` because of replace directives)
set -euo pipefail

APT_PKGS=(
	postgresql-15           # server binaries for the private/test PostgreSQL
	python3-openstackclient # the `openstack` CLI used by compatibility tests
	libvirt-dev pkg-config  # cgo build of libvirt.org/go/libvirt
	libvirt-daemon-system   # libvirtd, virtlogd, virsh
	qemu-system-x86 qemu-utils
	dnsmasq-base nftables iproute2 # the host dataplane (DHCP, security groups, NAT)
	busybox-static          # udhcpc for the host dataplane tests
	syslinux syslinux-common mtools dosfstools # scripts/build-guest-image.sh (boot disk)
	curl                    # make demo fetches a page from its guest
)
STATICCHECK_VERSION=${STATICCHECK_VERSION:-v0.8.2}
TERRAFORM_VERSION=${TERRAFORM_VERSION:-v1.5.7}
STRATUS_TOOLS=${STRATUS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/stratus/bin}

want_terraform=1
for arg in "$@"; do
	case $arg in
	--terraform) want_terraform=1 ;;
	--no-terraform) want_terraform=0 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	*)
		echo "setup.sh: unknown argument '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

say() { echo "setup: $*"; }
die() {
	echo "setup: $*" >&2
	exit 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root to run: $*"
	fi
}

# run_logged LOG CMD...: runs CMD quietly; on failure shows the end of its output.
run_logged() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
}

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

# --- apt packages -----------------------------------------------------------
missing=()
for p in "${APT_PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get (Debian 12 expected)"
	say "installing apt packages: ${missing[*]}"
	logdir=$(mktemp -d "${TMPDIR:-/tmp}/stratus-setup.XXXXXX")
	apt=(as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q
		-o DPkg::Lock::Timeout=300 --no-install-recommends)

	# Package scripts must not start services (there is no systemd here and we
	# run our own daemons): deny them through policy-rc.d for this run, unless
	# the image already has one.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 0755 $policy"
		trap 'as_root rm -f "$policy"' EXIT
	fi

	run_logged "$logdir/apt-update.log" "${apt[@]}" update

	# No default cluster: install postgresql-common first and switch off
	# create_main_cluster before postgresql-15's postinst would create one.
	if ! installed postgresql-15; then
		installed postgresql-common ||
			run_logged "$logdir/apt-install.log" "${apt[@]}" install postgresql-common
		as_root sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' \
			/etc/postgresql-common/createcluster.conf
	fi

	run_logged "$logdir/apt-install.log" "${apt[@]}" install "${missing[@]}"
	rm -rf "$logdir"
fi

# --- Go tools -----------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH"
gobin=$(go env GOPATH)/bin

if ! command -v staticcheck >/dev/null 2>&1 && [ ! -x "$gobin/staticcheck" ]; then
	say "installing staticcheck $STATICCHECK_VERSION into $gobin"
	log=$(mktemp "${TMPDIR:-/tmp}/stratus-staticcheck.XXXXXX")
	run_logged "$log" env GOBIN="$gobin" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	rm -f "$log"
fi

if [ "$want_terraform" = 1 ] && ! command -v terraform >/dev/null 2>&1 && [ ! -x "$STRATUS_TOOLS/terraform" ]; then
	say "building terraform $TERRAFORM_VERSION into $STRATUS_TOOLS (about 2 minutes)"
	mkdir -p "$STRATUS_TOOLS"
	log=$(mktemp "${TMPDIR:-/tmp}/stratus-terraform.XXXXXX")
	run_logged "$log" env GOFLAGS=-mod=mod GOBIN="$STRATUS_TOOLS" \
		go install "github.com/hashicorp/terraform@$TERRAFORM_VERSION"
	rm -f "$log"
fi
