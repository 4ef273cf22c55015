#!/usr/bin/env bash
# Runs one test guest under QEMU (the oracle) or bt, prints its serial output on
# stdout and exits with the guest's status ((code << 1) | 1 after guest_exit(code)).
#
#   tests/run-guest.sh [--qemu | --bt] GUEST.elf [WORD...]
#
# The WORDs form the kernel command line (e.g. iters=1000). Environment: BUILD
# (build), BT ($BUILD/bt), QEMU (qemu-system-i386), TIMEOUT (seconds, 60).
# Status 124 means the guest timed out; 2 a usage error.
#
# A guest NAME.elf may have tests/guests/NAME.qemu: more QEMU options for it
# alone, split on white space, lines starting with # left out; e.g. a CPU model
# with the features the guest checks (-cpu qemu32,+nx: the default qemu32 has
# no NX). bt does not read it: its virtual CPU is the same for every guest.
#
# A guest NAME.elf may have tests/guests/NAME.stdin: its serial input, the
# standard input of QEMU (-serial stdio) and of bt alike; without one both
# read /dev/null.
set -u

BUILD=${BUILD:-build}
BT=${BT:-$BUILD/bt}
QEMU=${QEMU:-qemu-system-i386}
TIMEOUT=${TIMEOUT:-60}

usage() {
	echo "usage: $0 [--qemu | --bt] GUEST.elf [WORD...]" >&2
	exit 2
}

runner=qemu
case ${1:-} in
--qemu) runner=qemu; shift ;;
--bt) runner=bt; shift ;;
-*) usage ;;
esac
[ $# -ge 1 ] || usage
kernel=$1
shift
append="$*"
[ -f "$kernel" ] || { echo "run-guest: $kernel: no such file" >&2; exit 2; }

qemu_opts=()
opts_file=$(dirname "$0")/guests/$(basename "$kernel" .elf).qemu
if [ -f "$opts_file" ]; then
	read -r -a qemu_opts <<<"$(grep -v '^[[:space:]]*#' "$opts_file" | tr '\n' ' ')"
fi
input=$(dirname "$0")/guests/$(basename "$kernel" .elf).stdin
[ -f "$input" ] || input=/dev/null

case $runner in
qemu)
	timeout "$TIMEOUT" "$QEMU" -accel tcg "${qemu_opts[@]}" -kernel "$kernel" -append "$append" \
		-display none -serial stdio -monitor none -nodefaults \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot <"$input"
	;;
bt)
	[ -x "$BT" ] || { echo "run-guest: $BT: not built" >&2; exit 2; }
	timeout "$TIMEOUT" "$BT" run --kernel "$kernel" --append "$append" <"$input"
	;;
esac
status=$?
[ $status -eq 124 ] && echo "run-guest: $runner: $kernel timed out after ${TIMEOUT}s" >&2
exit $status
