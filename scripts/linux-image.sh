#!/usr/bin/env bash
# Prepares the Linux guest: Debian's own i386 kernel (linux-image-686) and a busybox
# initramfs, downloaded with apt-get and cached in cache/linux/.
#
#   scripts/linux-image.sh
#
# Resolves the kernel through the metapackage (linux-image-686:i386 depends on
# linux-image-6.1.0-NN-686:i386 of one version) and busybox-static:i386 to their
# candidate versions, downloads what is not cached yet (a newer Debian kernel is a new
# download), extracts vmlinuz and busybox, and builds a gzip-compressed newc
# initramfs: busybox, /init (below) and the files of tests/linux/rootfs/ (the boot
# test's /test.sh). Leaves, each a symbolic link to the versioned file:
#
#   cache/linux/vmlinuz     the bzImage
#   cache/linux/initrd.gz   the initramfs
#   cache/linux/busybox     the same busybox, for the host (tests run it natively)
#
# /init prints "bt-init: start" first, mounts proc, sysfs and devtmpfs, then with
# bt.test=1 on the kernel command line runs /test.sh, with bt.poweroff=1 nothing
# (bench/boot.sh), else a shell on the console (with job control); then it powers
# off (poweroff -f).
# Environment: LINUX_CACHE (cache/linux). Needs the i386 package lists (see
# scripts/setup.sh) the first time and each time Debian has a newer kernel.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${LINUX_CACHE:-cache/linux}
rootfs=tests/linux/rootfs

die() {
	echo "bt: linux-image: $*" >&2
	exit 1
}

mkdir -p "$cache"
# One preparation at a time (make -j, a test and `make run` side by side).
exec 9>"$cache/.lock"
flock 9

# --- resolve: package names and versions, from apt's lists (one apt-cache call: each
# reads all the lists) ---
show=$(apt-cache show --no-all-versions linux-image-686:i386 busybox-static:i386 2>/dev/null) ||
	die "cannot find linux-image-686:i386 or busybox-static:i386 with apt-cache; run: bash scripts/setup.sh"
field() { # field PACKAGE NAME: the field NAME of PACKAGE's stanza in $show
	awk -v p="$1" -v f="$2:" '$1 == "Package:" { in_p = ($2 == p) } in_p && $1 == f { sub(/^[^:]*: /, ""); print; exit }' <<<"$show"
}
# The metapackage depends on the kernel package, e.g. linux-image-6.1.0-50-686 (= 6.1.176-1).
dep=$(field linux-image-686 Depends | tr ',' '\n' | grep -E '^ *linux-image-[0-9][^ ]*-686( |$)' | head -n 1)
kpkg=$(awk '{ print $1 ":i386" }' <<<"$dep")
kver=$(sed -n 's/.*(= \(.*\)).*/\1/p' <<<"$dep")
bver=$(field busybox-static Version)
[ -n "$kpkg" ] || die "linux-image-686:i386 depends on no linux-image-*-686; run: bash scripts/setup.sh"
if [ -z "$kver" ]; then
	kver=$(apt-cache policy "$kpkg" | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
	[ -n "$kver" ] || die "no candidate version of $kpkg; run: bash scripts/setup.sh"
fi
[ -n "$bver" ] || die "no version of busybox-static:i386; run: bash scripts/setup.sh"

# Versioned directories; an epoch's colon becomes %3a, as in apt's file names.
kdir=$cache/${kpkg%:i386}_$kver
bdir=$cache/busybox-static_${bver//:/%3a}

# --- download what is missing ---
want=()
[ -f "$kdir/vmlinuz" ] || want+=("$kpkg=$kver")
[ -f "$bdir/busybox" ] || want+=("busybox-static:i386=$bver")
if [ ${#want[@]} -gt 0 ]; then
	names=()
	for w in "${want[@]}"; do names+=("${w/=/ }"); done
	if [ ${#names[@]} -eq 2 ]; then
		echo "bt: downloading ${names[0]} and ${names[1]} with apt-get" >&2
	else
		echo "bt: downloading ${names[0]} with apt-get" >&2
	fi
	dl=$(mktemp -d "$cache/download.XXXXXX")
	trap 'rm -rf "$dl"' EXIT
	# apt's download user (_apt) may not reach the cache: download as ourselves.
	(cd "$dl" && apt-get -q -o APT::Sandbox::User="$(id -un)" download "${want[@]}" >/dev/null) ||
		die "apt-get download ${want[*]} failed"
	for deb in "$dl"/*.deb; do
		x=$dl/x
		rm -rf "$x" && mkdir -p "$x"
		case $(basename "$deb") in
		linux-image-*)
			# Only ./boot: the modules (most of the 50 MB) are not needed, the
			# kernel has the 8250 console, initrd, gzip and devtmpfs built in.
			dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$x" ./boot
			mkdir -p "$kdir.tmp"
			cp "$x"/boot/config-* "$kdir.tmp/config"
			cp "$x"/boot/vmlinuz-* "$kdir.tmp/vmlinuz"
			rm -rf "$kdir" && mv "$kdir.tmp" "$kdir"
			;;
		busybox-static_*)
			dpkg-deb -x "$deb" "$x"
			mkdir -p "$bdir.tmp"
			cp "$x/bin/busybox" "$bdir.tmp/busybox"
			rm -rf "$bdir" && mv "$bdir.tmp" "$bdir"
			;;
		esac
	done
	rm -rf "$dl"
	trap - EXIT
	if [ ! -f "$kdir/vmlinuz" ] || [ ! -f "$bdir/busybox" ]; then
		die "the downloaded packages lack vmlinuz or busybox"
	fi
fi

# --- the initramfs ---
# /init runs as PID 1 with the console (/dev/console of the kernel's built-in
# initramfs) as its standard input and output. Its first line is the boot marker.
init_script() {
	cat <<'EOF'
#!/bin/sh
# /init of bt's Linux guest (built by scripts/linux-image.sh).
echo "bt-init: start"
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root
hostname bt
read -r up idle </proc/uptime
echo "bt-init: kernel up ${up}s, $(uname -sr)"
case " $(cat /proc/cmdline) " in
*" bt.test=1 "*)
	sh /test.sh
	echo "bt-test: /test.sh exit status $?"
	;;
*" bt.poweroff=1 "*)
	echo "bt-init: powering off"
	;;
*)
	echo "bt-init: shell on the console; exit it to power off"
	export PS1='\h:\w\$ '
	setsid cttyhack sh -l
	;;
esac
sync
poweroff -f
EOF
}

# The initramfs is keyed by what goes into it: busybox's version, this script
# (/init) and the files of tests/linux/rootfs/.
key=$({
	echo "$bver"
	sha256sum "$0"
	(cd "$rootfs" && find . -type f | LC_ALL=C sort | xargs -r sha256sum)
} | sha256sum | cut -c1-12)
initrd=$cache/initrd-$key.gz
if [ ! -f "$initrd" ]; then
	echo "bt: building the initramfs $initrd" >&2
	stage=$(mktemp -d "$cache/initrd.XXXXXX")
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root}
	cp "$bdir/busybox" "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	init_script >"$stage/init"
	chmod 755 "$stage/init"
	cp -R "$rootfs"/. "$stage"/
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9n >"$stage.gz"
	rm -rf "$stage"
	trap - EXIT
	rm -f "$cache"/initrd-*.gz
	mv "$stage.gz" "$initrd"
fi

ln -sfn "$(basename "$kdir")/vmlinuz" "$cache/vmlinuz"
ln -sfn "$(basename "$initrd")" "$cache/initrd.gz"
ln -sfn "$(basename "$bdir")/busybox" "$cache/busybox"
echo "bt: Linux guest: $cache/vmlinuz (${kpkg%:i386} $kver), $cache/initrd.gz (busybox-static $bver)" >&2
