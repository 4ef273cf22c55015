#!/usr/bin/env bash
# The Linux boot test: Debian's i386 kernel (linux-image-686) and the busybox
# initramfs of scripts/linux-image.sh boot non-interactively under bt (or QEMU) with
# bt.test=1, /init runs /test.sh (tests/linux/rootfs/test.sh) and powers off; this
# checks each section of its output.
#
#   tests/linux/boot-test.sh
#
# Checks: the VMM exits with status 0 within TIMEOUT; /init's marker comes; uname
# shows i686 and a 6.1 kernel; /proc/cpuinfo has a processor line; mount shows
# proc; 1,000 fork+execs ran; the compute loops (tests/linux/rootfs/compute.sh) give
# what the same busybox gives on the host, natively; ls -R /proc/self printed; no
# Oops, BUG, WARNING, Kernel panic or Call Trace in the log. Prints one "PASS
# linux-VMM:CHECK" or "FAIL linux-VMM:CHECK: why" line per check (with the guest's
# log lines around a failure), then "linux-VMM: N passed, M failed; init at S s,
# poweroff at S s": seconds from the VMM's start to /init's first line and to its
# exit. The whole console log is left in $BUILD/tests/linux/boot-VMM.log. Exits 0
# if every check passed.
#
# Environment: VMM (bt or qemu; bt), TIMEOUT (seconds, 300), APPEND (the kernel
# command line; bt.test=1 is added), BUILD, BT, QEMU, MEM (see run-linux.sh),
# LINUX_CACHE (see scripts/linux-image.sh).
set -u
cd "$(dirname "$0")/../.." || exit 2

export BUILD=${BUILD:-build}
export TIMEOUT=${TIMEOUT:-300}
VMM=${VMM:-bt}
APPEND=${APPEND:-console=ttyS0 panic=-1}
cache=${LINUX_CACHE:-cache/linux}
case $VMM in
bt | qemu) ;;
*) echo "boot-test: VMM must be bt or qemu, not '$VMM'" >&2; exit 2 ;;
esac

name=linux-$VMM
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$BUILD/tests/linux"
log=$BUILD/tests/linux/boot-$VMM.log
pass=0
fail=0

ok() {
	echo "PASS $name:$1"
	pass=$((pass + 1))
}

# bad CHECK WHY [DETAIL-FILE]: DETAIL-FILE (guest log lines) is shown indented.
bad() {
	echo "FAIL $name:$1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then
		head -n 40 "$3" | sed 's/^/    /'
	fi
	fail=$((fail + 1))
}

summary() {
	local init end
	init=$(awk '$1 == "init" { print $2 }' "$tmp/times" 2>/dev/null)
	end=$(awk '$1 == "end" { print $2 }' "$tmp/times" 2>/dev/null)
	echo "$name: $pass passed, $fail failed; init at ${init:--} s, poweroff at ${end:--} s; log $log"
	[ $fail -eq 0 ]
	exit
}

# --- the image, and what the guest's compute loops must print ---
if ! scripts/linux-image.sh >"$tmp/image" 2>&1; then
	bad image "scripts/linux-image.sh failed" "$tmp/image"
	summary
fi
if ! "$cache/busybox" sh tests/linux/rootfs/compute.sh >"$tmp/native" 2>&1; then
	bad native "busybox (i386) does not run on the host" "$tmp/native"
	summary
fi

# --- the run ---
tests/linux/run-linux.sh --"$VMM" --times "$tmp/times" "$cache/vmlinuz" "$cache/initrd.gz" \
	"$APPEND bt.test=1" >"$log" 2>&1
status=$?

# tail_of FILE: its last 30 lines, for a failure without a better place to point at.
tail_of() {
	tail -n 30 "$1" >"$tmp/tail"
	echo "$tmp/tail"
}

if grep -q '^init ' "$tmp/times"; then
	ok init
else
	bad init "no \"bt-init: start\" from /init (exit status $status)" "$(tail_of "$log")"
	summary
fi

# section NAME: the lines between /test.sh's "bt-test: begin NAME" and "end NAME"
# into $tmp/NAME; fails (and returns 1) if it is missing.
section() {
	sed -n "/^bt-test: begin $1\$/,/^bt-test: end $1\$/p" "$log" | sed '1d;$d' >"$tmp/$1"
	if ! grep -q "^bt-test: end $1\$" "$log"; then
		bad "$1" "no section \"$1\" in the log" "$(tail_of "$log")"
		return 1
	fi
}

# expect NAME ERE WHY: section NAME has a line matching ERE.
expect() {
	section "$1" || return
	if grep -Eq "$2" "$tmp/$1"; then
		ok "$1"
	else
		bad "$1" "$3" "$tmp/$1"
	fi
}

expect uname '^Linux .* 6\.1\.[0-9]+-.* i686( .*)?$' "uname -a shows no i686 6.1 kernel"
expect cpuinfo '^processor[[:space:]]*: 0$' "/proc/cpuinfo has no \"processor : 0\" line"
expect mount '^proc on /proc type proc ' "mount does not show /proc"
expect fork '^fork: 1000$' "fewer than 1000 fork+execs of /bin/true"
if section compute; then
	grep '^compute: ' "$tmp/compute" >"$tmp/compute.got"
	if diff -u --label native --label "$VMM" "$tmp/native" "$tmp/compute.got" >"$tmp/diff"; then
		ok compute
	else
		bad compute "the results differ from busybox's on the host" "$tmp/diff"
	fi
fi
if section ls; then
	if grep -q '^/proc/self:$' "$tmp/ls" && [ "$(wc -l <"$tmp/ls")" -ge 10 ]; then
		ok ls
	else
		bad ls "ls -R /proc/self printed too little" "$tmp/ls"
	fi
fi
section dmesg && ok dmesg

# The kernel's complaints, in the console log or in dmesg.
if grep -Eq 'Oops|BUG|WARNING|Kernel panic|Call Trace' "$log"; then
	grep -E -m 1 -B 5 -A 20 'Oops|BUG|WARNING|Kernel panic|Call Trace' "$log" >"$tmp/oops"
	bad kernel "the kernel complained" "$tmp/oops"
else
	ok kernel
fi

if grep -q '^bt-test: /test.sh exit status 0$' "$log"; then
	ok test.sh
else
	bad test.sh "/test.sh did not finish with status 0" "$(tail_of "$log")"
fi

if [ "$status" -eq 0 ]; then
	ok poweroff
elif [ "$status" -eq 124 ]; then
	bad poweroff "timed out after ${TIMEOUT}s" "$(tail_of "$log")"
else
	bad poweroff "exit status $status, want 0 (ACPI poweroff)" "$(tail_of "$log")"
fi

summary
