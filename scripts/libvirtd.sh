#!/usr/bin/env bash
# libvirtd.sh start|stop|status: runs virtlogd and libvirtd by hand on a machine
# without systemd, so qemu:///system answers for `make run` and the tests.
#
#   start   idempotent: does nothing when `virsh -c qemu:///system version`
#           already answers; otherwise makes /dev/kvm usable by group kvm,
#           starts virtlogd and libvirtd detached, and waits until virsh answers
#           (up to STRATUS_LIBVIRTD_TIMEOUT seconds, default 60; the first start
#           probes QEMU and takes about 12 s).
#   stop    stops the daemons this script started (by pid), libvirtd first.
#   status  exit 0 when qemu:///system answers, 3 when it does not.
#
# Pid files live in STRATUS_RUN_DIR (default /run/stratus), daemon output in
# STRATUS_LOG_DIR (default /var/log/stratus). Needs root.
set -euo pipefail

RUN_DIR=${STRATUS_RUN_DIR:-/run/stratus}
LOG_DIR=${STRATUS_LOG_DIR:-/var/log/stratus}
TIMEOUT=${STRATUS_LIBVIRTD_TIMEOUT:-60}
URI=qemu:///system

say() { echo "libvirtd: $*"; }
die() {
	echo "libvirtd: $*" >&2
	exit 1
}

answers() { timeout 10 virsh -c "$URI" version >/dev/null 2>&1; }

# pid_of NAME: the pid from NAME's pid file when that process is still NAME.
pid_of() {
	local pid
	pid=$(cat "$RUN_DIR/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] && echo "$pid"
}

# launch NAME ARGS...: starts NAME in its own session, detached from our stdio
# (so a caller reading our output never waits on the daemon), and records its pid.
launch() {
	local name=$1 pid
	shift
	if pid=$(pid_of "$name"); then
		return 0
	fi
	command -v "$name" >/dev/null 2>&1 || die "$name not found; run scripts/setup.sh"
	setsid "$name" "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
	echo $! >"$RUN_DIR/$name.pid"
}

start() {
	if answers; then
		say "already answering on $URI"
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "start needs root"
	mkdir -p "$RUN_DIR" "$LOG_DIR"

	# Without this, libvirt sees KVM as unusable for the libvirt-qemu user,
	# distrusts its cached QEMU capabilities and re-probes QEMU on every define
	# (30+ s each). There is no udev rule here to do it for us.
	if [ -e /dev/kvm ] && getent group kvm >/dev/null; then
		chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
	fi

	launch virtlogd
	launch libvirtd
	local pid t0=$SECONDS
	pid=$(pid_of libvirtd)
	say "starting (pid $pid, log $LOG_DIR/libvirtd.log)"
	until answers; do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 20 "$LOG_DIR/libvirtd.log" >&2
			die "libvirtd exited during start-up"
		fi
		if [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
			tail -n 20 "$LOG_DIR/libvirtd.log" >&2
			die "no answer on $URI after ${TIMEOUT}s"
		fi
		sleep 0.2
	done
	say "answering on $URI after $((SECONDS - t0))s"
}

# stop_one NAME: SIGTERM by pid, then wait up to 15 s (SIGKILL after that).
stop_one() {
	local name=$1 pid i
	if ! pid=$(pid_of "$name"); then
		rm -f "$RUN_DIR/$name.pid"
		return 0
	fi
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 75; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "$name (pid $pid) ignored SIGTERM; killing"
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$RUN_DIR/$name.pid"
	say "stopped $name (pid $pid)"
}

stop() {
	if ! pid_of libvirtd >/dev/null && ! pid_of virtlogd >/dev/null; then
		if answers; then
			say "running, but not started by this script; leaving it alone"
		else
			say "not running"
		fi
		return 0
	fi
	stop_one libvirtd
	stop_one virtlogd
}

status() {
	local name pid
	for name in libvirtd virtlogd; do
		if pid=$(pid_of "$name"); then
			say "$name pid $pid"
		fi
	done
	if answers; then
		say "answering on $URI ($(virsh -c "$URI" version 2>/dev/null | awk -F': ' '/^Running hypervisor/ {print $2}'))"
		return 0
	fi
	say "not answering on $URI"
	return 3
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
