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
	acpica-tools		# iasl/acpiexec: devices_acpi_test checks bt's ACPI tables with them
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
