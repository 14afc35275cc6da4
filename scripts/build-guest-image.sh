#!/usr/bin/env bash
# build-guest-image.sh builds the Stratus tiny guest: a small qcow2 disk that
# boots (under QEMU TCG in a few seconds) a Debian cloud kernel and a busybox
# initramfs whose /init reads the OpenStack config drive. See guest/README.md.
#
#   scripts/build-guest-image.sh [--force] [OUTPUT.qcow2]
#
# OUTPUT defaults to $STRATUS_CACHE_DIR/images/stratus-tiny.qcow2. The image is
# rebuilt only when it is missing or older than this script or a file in
# guest/, unless OUTPUT.inputs shows it was built from the same files (or with
# --force); concurrent runs wait for each other. Prints the image's path on
# stdout, progress on stderr.
#
# Everything comes from Debian packages: the kernel (linux-image-cloud-amd64's
# current dependency) and busybox-static are fetched with `apt-get download`
# and unpacked with dpkg-deb (nothing is installed); mkfs.vfat, mtools and
# syslinux make a FAT "superfloppy" (no partition table) that SYSLINUX boots,
# and qemu-img turns it into qcow2. No root, mount or loop device is needed.
# scripts/setup.sh installs the tools.
#
# Environment:
#   STRATUS_CACHE_DIR         default /var/cache/stratus as root, else
#                             ${XDG_CACHE_HOME:-$HOME/.cache}/stratus; the
#                             downloaded .debs are kept in its debs/
#   STRATUS_GUEST_KERNEL_PKG  kernel package (default: what
#                             linux-image-cloud-amd64 depends on)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self=$root/scripts/build-guest-image.sh
guest=$root/guest
export PATH=$PATH:/usr/sbin:/sbin

say() { echo "build-guest-image: $*" >&2; }
die() {
	echo "build-guest-image: $*" >&2
	exit 1
}

force=0
out=
for arg in "$@"; do
	case $arg in
	--force) force=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$self"
		exit 0
		;;
	-*) die "unknown option '$arg' (try --help)" ;;
	*) out=$arg ;;
	esac
done

if [ -z "${STRATUS_CACHE_DIR:-}" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		STRATUS_CACHE_DIR=/var/cache/stratus
	else
		STRATUS_CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/stratus
	fi
fi
out=${out:-$STRATUS_CACHE_DIR/images/stratus-tiny.qcow2}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# inputs_hash: a hash of what the image is built from, recorded beside it.
inputs_hash() {
	{
		echo "kernel=${STRATUS_GUEST_KERNEL_PKG:-}"
		cd "$root" && find scripts/build-guest-image.sh guest -type f ! -name '*.md' |
			LC_ALL=C sort | xargs sha256sum
	} | sha256sum | cut -d ' ' -f 1
}

# up_to_date: the image exists, and nothing it is built from is newer or it
# was built from the same files (a fresh clone has new mtimes).
up_to_date() {
	[ "$force" = 0 ] && [ -s "$out" ] || return 1
	[ -z "$(find "$self" "$guest" -newer "$out" ! -name '*.md' -print -quit)" ] ||
		[ "$(cat "$out.inputs" 2>/dev/null)" = "$(inputs_hash)" ]
}

if up_to_date; then
	echo "$out"
	exit 0
fi
exec 9>"$out.lock"
flock 9
if up_to_date; then # built by a concurrent run while we waited
	echo "$out"
	exit 0
fi

for tool in apt-get apt-cache dpkg-deb mkfs.vfat mcopy syslinux qemu-img gzip flock sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run scripts/setup.sh"
done
start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stratus-guest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
debs=$STRATUS_CACHE_DIR/debs
mkdir -p "$debs"

# known PKG: apt knows PKG (after one apt-get update as root if need be).
updated=0
known() {
	[ -n "$(apt-cache show --no-all-versions "$1" 2>/dev/null)" ] && return 0
	if [ "$updated" = 0 ] && [ "$(id -u)" -eq 0 ]; then
		say "apt does not know $1: running apt-get update"
		apt-get update -q >"$tmp/apt-update.log" 2>&1 || {
			tail -n 20 "$tmp/apt-update.log" >&2
			die "apt-get update failed"
		}
		updated=1
		[ -n "$(apt-cache show --no-all-versions "$1" 2>/dev/null)" ] && return 0
	fi
	die "no Debian package $1 (run apt-get update?)"
}

# fetch PKG: prints the path of PKG's .deb in $debs, downloading it unless
# the cached file has the right checksum.
fetch() {
	local pkg=$1 line file size sum
	line=$(apt-get download --print-uris "$pkg" 2>/dev/null | tail -n 1)
	if [ -z "$line" ]; then
		known "$pkg"
		line=$(apt-get download --print-uris "$pkg" 2>/dev/null | tail -n 1)
	fi
	read -r _ file size sum <<<"$line"
	[ -n "${file:-}" ] || die "apt-get download --print-uris $pkg printed nothing"
	sum=${sum#SHA256:}
	if [ -f "$debs/$file" ] && [ "$(sha256sum <"$debs/$file" | cut -d ' ' -f 1)" = "$sum" ]; then
		echo "$debs/$file"
		return
	fi
	say "downloading $pkg ($((size / 1024 / 1024)) MiB)"
	# Older versions of the same package go.
	find "$debs" -maxdepth 1 -name "${pkg}_*.deb" -delete
	(cd "$tmp" && apt-get download -q "$pkg" >"$tmp/apt-download.log" 2>&1) || {
		tail -n 20 "$tmp/apt-download.log" >&2
		die "apt-get download $pkg failed"
	}
	mv "$tmp/$file" "$debs/$file"
	echo "$debs/$file"
}

# kernel_package: the package that linux-image-cloud-amd64 depends on.
kernel_package() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}
kpkg=${STRATUS_GUEST_KERNEL_PKG:-$(kernel_package)}
if [ -z "$kpkg" ]; then
	known linux-image-cloud-amd64
	kpkg=$(kernel_package)
	[ -n "$kpkg" ] || die "cannot tell which kernel linux-image-cloud-amd64 depends on"
fi
kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)

say "unpacking $(basename "$kdeb") and $(basename "$bdeb")"
dpkg-deb -x "$kdeb" "$tmp/kernel"
dpkg-deb -x "$bdeb" "$tmp/busybox"
bb=$tmp/busybox/bin/busybox
[ -x "$bb" ] || die "busybox-static has no /bin/busybox"
kver=$(ls "$tmp/kernel/lib/modules")
[ "$(echo "$kver" | wc -w)" = 1 ] || die "expected one kernel in $kpkg, found: $kver"
vmlinuz=$tmp/kernel/boot/vmlinuz-$kver
mods=$tmp/kernel/lib/modules/$kver

# --- initramfs ----------------------------------------------------------------
rfs=$tmp/initramfs
mkdir -p "$rfs"/{bin,sbin,usr/bin,usr/sbin,etc,lib/stratus,lib/modules,dev,proc,sys,run,tmp,root,mnt}
chmod 1777 "$rfs/tmp"
chmod 0700 "$rfs/root"
cp "$bb" "$rfs/bin/busybox"
"$bb" --list-full | while read -r applet; do
	case $applet in bin/busybox | linuxrc) continue ;; esac
	[ -e "$rfs/$applet" ] || ln -s /bin/busybox "$rfs/$applet"
done
install -m 0755 "$guest/init" "$rfs/init"
install -m 0644 "$guest/json.awk" "$guest/network.awk" "$rfs/lib/stratus/"
install -m 0755 "$guest/udhcpc.script" "$rfs/lib/stratus/udhcpc.script"
install -m 0644 "$guest/inittab" "$rfs/etc/inittab"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rfs/etc/passwd"
printf 'root::0:0:99999:7:::\n' >"$rfs/etc/shadow"
chmod 0600 "$rfs/etc/shadow"
printf 'root:x:0:\ntty:x:5:\n' >"$rfs/etc/group"
printf 'export PATH=/sbin:/bin:/usr/sbin:/usr/bin\nPS1='"'"'\\h:\\w\\$ '"'"'\n' >"$rfs/etc/profile"
cat >"$rfs/etc/os-release" <<EOF
NAME="Stratus tiny guest"
ID=stratus-tiny
PRETTY_NAME="Stratus tiny guest (busybox, Linux $kver)"
HOME_URL="https://github.com/stratus-cloud/stratus/tree/main/guest"
EOF

# Kernel modules with their dependencies, dependencies first.
declare -A modpath=() seen=()
while read -r f; do
	n=${f##*/}
	n=${n%.ko}
	modpath[${n//-/_}]=$f
done < <(cd "$mods" && find kernel -name '*.ko')
order=()
add_module() {
	local n=${1//-/_} f d
	[ -z "${seen[$n]:-}" ] || return 0
	seen[$n]=1
	f=${modpath[$n]:-}
	if [ -z "$f" ]; then
		if grep -q "/${n}.ko\$" <(tr - _ <"$mods/modules.builtin"); then
			return 0
		fi
		say "note: $kpkg has no module $n; skipped"
		return 0
	fi
	for d in $(tr '\0' '\n' <"$mods/$f" | sed -n 's/^depends=//p' | head -n 1 | tr , ' '); do
		add_module "$d"
	done
	order+=("$f")
}
while read -r m _; do
	case $m in '' | '#'*) continue ;; esac
	add_module "$m"
done <"$guest/modules"
: >"$rfs/lib/modules/load-order"
for f in "${order[@]}"; do
	mkdir -p "$rfs/lib/modules/$(dirname "$f")"
	cp "$mods/$f" "$rfs/lib/modules/$f"
	echo "$f" >>"$rfs/lib/modules/load-order"
done
say "initramfs: busybox $("$bb" | head -n 1 | awk '{print $2}'), ${#order[@]} modules"

(cd "$rfs" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9 -n >"$tmp/initrd.gz"

# --- boot disk ------------------------------------------------------------------
# A FAT file system on the whole disk, sized for its files plus 2 MiB.
kib=$((($(stat -c %s "$vmlinuz") + $(stat -c %s "$tmp/initrd.gz")) / 1024 + 2048))
kib=$(((kib + 1023) / 1024 * 1024))
mkfs.vfat -C -n STRATUS -i 5354524d "$tmp/disk.img" "$kib" >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -i "$tmp/disk.img" "$vmlinuz" ::vmlinuz
mcopy -i "$tmp/disk.img" "$tmp/initrd.gz" ::initrd.gz
mcopy -i "$tmp/disk.img" "$guest/syslinux.cfg" ::syslinux.cfg
syslinux --install "$tmp/disk.img"
qemu-img convert -q -f raw -O qcow2 "$tmp/disk.img" "$tmp/disk.qcow2"
mv -f "$tmp/disk.qcow2" "$out"
inputs_hash >"$out.inputs"

say "built $out: $(($(stat -c %s "$out") / 1024)) KiB qcow2, $((kib / 1024)) MiB disk," \
	"kernel $kver, initramfs $(($(stat -c %s "$tmp/initrd.gz") / 1024)) KiB, in $(($(date +%s) - start)) s"
echo "$out"
