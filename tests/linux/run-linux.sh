#!/usr/bin/env bash
# Boots a Linux kernel and initramfs under bt or QEMU with the serial console on
# standard output: `make run`, tests/linux/boot-test.sh and bench/boot.sh use it.
#
#   tests/linux/run-linux.sh [--bt | --qemu] [--times FILE] KERNEL INITRD [CMDLINE]
#
# Without --times the VMM takes over the terminal (Ctrl-A x quits). With --times
# it runs with standard input from /dev/null, copies the console to standard output
# line by line (carriage returns removed) and writes to FILE, in seconds since the
# VMM was started: "init S" when the line "bt-init: start" (the first thing /init
# prints) came, "end S" when the VMM exited, then "status N", its exit status (124:
# timed out). Exits with the VMM's status.
#
# Environment: BUILD (build), BT ($BUILD/bt), QEMU (qemu-system-i386), MEM (guest
# RAM in MiB, 256), TIMEOUT (seconds; none if empty or 0).
set -u

BUILD=${BUILD:-build}
BT=${BT:-$BUILD/bt}
QEMU=${QEMU:-qemu-system-i386}
MEM=${MEM:-256}
TIMEOUT=${TIMEOUT:-}

usage() {
	echo "usage: $0 [--bt | --qemu] [--times FILE] KERNEL INITRD [CMDLINE]" >&2
	exit 2
}

vmm=bt
times=
while [ $# -gt 0 ]; do
	case $1 in
	--bt | --qemu) vmm=${1#--}; shift ;;
	--times) [ $# -ge 2 ] || usage; times=$2; shift 2 ;;
	-*) usage ;;
	*) break ;;
	esac
done
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
kernel=$1 initrd=$2 cmdline=${3:-console=ttyS0}
for f in "$kernel" "$initrd"; do
	[ -f "$f" ] || { echo "run-linux: $f: no such file" >&2; exit 2; }
done

case $vmm in
bt)
	[ -x "$BT" ] || { echo "run-linux: $BT: not built" >&2; exit 2; }
	cmd=("$BT" run --kernel "$kernel" --initrd "$initrd" --append "$cmdline" --mem "$MEM")
	;;
qemu)
	# -nodefaults: no VGA, NIC or disks to probe, the serial port and the PIIX4's
	# ACPI (poweroff) stay; -no-reboot: a reset (panic=-1) ends QEMU.
	cmd=("$QEMU" -accel tcg -m "$MEM" -nodefaults -nographic -serial mon:stdio -no-reboot
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline")
	;;
esac
# --foreground: the VMM stays in the terminal's foreground process group, to read it.
if [ -n "$TIMEOUT" ] && [ "$TIMEOUT" != 0 ]; then
	cmd=(timeout --foreground "$TIMEOUT" "${cmd[@]}")
fi

if [ -z "$times" ]; then
	exec "${cmd[@]}"
fi

: >"$times" || exit 2
start=$EPOCHREALTIME
since() { # seconds from start to now, to the millisecond
	local now=$EPOCHREALTIME
	awk -v a="$start" -v b="$now" 'BEGIN { printf "%.3f\n", b - a }'
}
seen=0
"${cmd[@]}" </dev/null 2>&1 |
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line//$'\r'/}
		printf '%s\n' "$line"
		if [ $seen -eq 0 ] && [[ $line == *"bt-init: start"* ]]; then
			echo "init $(since)" >>"$times"
			seen=1
		fi
	done
status=${PIPESTATUS[0]}
echo "end $(since)" >>"$times"
echo "status $status" >>"$times"
[ "$status" -eq 124 ] && echo "run-linux: $vmm: timed out after ${TIMEOUT}s" >&2
exit "$status"
