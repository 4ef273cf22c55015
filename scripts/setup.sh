#!/usr/bin/env bash
# Installs everything bt needs to build, test and benchmark on Debian 12; idempotent.
set -euo pipefail

pkgs=(
	build-essential make pkg-config
	libzydis-dev		# guest decoder and host encoder
	libcapstone-dev		# disassembly of translated code; second decoder in tests
	libcmocka-dev		# unit tests
	gcc-multilib		# 32-bit test guests and native reference builds
	qemu-system-x86		# the oracle: qemu-system-i386 -accel tcg
	cpio			# the Linux guest's initramfs (scripts/linux-image.sh)
	python3			# tests/ttyrun.py: the console checks on a pseudo-terminal
	acpica-tools		# iasl/acpiexec: devices_acpi_test checks bt's ACPI tables with them
	gnuplot-nox		# make bench: the chart (bench/chart.gp)
)

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: need root to $1" >&2
		exit 1
	fi
}

export DEBIAN_FRONTEND=noninteractive
updated=0

# A failed apt-get update (a mirror being synced) leaves the lists there were: go on.
update() {
	apt-get update -qq || echo "setup: apt-get update failed; going on with the package lists there are" >&2
	updated=1
}

# The Linux guest is Debian's i386 kernel and busybox, fetched by scripts/linux-image.sh
# with apt-get download: apt needs the i386 architecture and its package lists.
if ! dpkg --print-foreign-architectures | grep -qx i386; then
	need_root "add the i386 architecture (dpkg --add-architecture i386)"
	echo "setup: adding the i386 architecture" >&2
	dpkg --add-architecture i386
fi
if ! apt-cache show linux-image-686:i386 >/dev/null 2>&1; then
	need_root "fetch the i386 package lists (apt-get update)"
	echo "setup: fetching the package lists (apt-get update)" >&2
	update
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
need_root "install: ${missing[*]}"
echo "setup: installing ${missing[*]}" >&2
[ $updated -eq 1 ] || update
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
