#!/usr/bin/env bash
# Boot time of the Linux guest (scripts/linux-image.sh) under bt and under
# qemu-system-i386 -accel tcg, side by side: the median seconds from the VMM's start
# to /init's first line and to the VMM's exit after /init powers off at once
# (bt.poweroff=1), then bt's times over QEMU's (the goal: init in at most 0.5).
#
#   bench/boot.sh [RUNS]
#
# RUNS boots per VMM (3), taken in turns so that a busy host weighs on both alike.
# Environment: VMMS (the VMMs, "bt qemu"), APPEND (the kernel command line, that of
# make run; bt.poweroff=1 is added), TIMEOUT (seconds per boot, 300), BUILD, BT,
# QEMU, MEM (see tests/linux/run-linux.sh), LINUX_CACHE (see scripts/linux-image.sh).
set -u
cd "$(dirname "$0")/.." || exit 2

runs=${1:-3}
VMMS=${VMMS:-bt qemu}
APPEND=${APPEND:-console=ttyS0 loglevel=6 panic=-1}
export TIMEOUT=${TIMEOUT:-300}
cache=${LINUX_CACHE:-cache/linux}
case $runs in '' | *[!0-9]* | 0) echo "usage: $0 [RUNS]" >&2; exit 2 ;; esac

scripts/linux-image.sh || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for ((i = 1; i <= runs; i++)); do
	for vmm in $VMMS; do
		t=$tmp/$vmm.$i
		tests/linux/run-linux.sh --"$vmm" --times "$t" "$cache/vmlinuz" "$cache/initrd.gz" \
			"$APPEND bt.poweroff=1" >"$t.log" 2>&1
		if [ "$(awk '$1 == "status" { print $2 }' "$t")" = 0 ] && grep -q '^init ' "$t"; then
			awk '$1 == "init" { print $2 }' "$t" >>"$tmp/$vmm.init"
			awk '$1 == "end" { print $2 }' "$t" >>"$tmp/$vmm.end"
			echo "boot: $vmm run $i: $(tr '\n' ' ' <"$t")" >&2
		else
			echo "boot: $vmm run $i failed: $(tr '\n' ' ' <"$t"); its last lines:" >&2
			tail -n 5 "$t.log" | sed 's/^/    /' >&2
		fi
	done
done

# median FILE: the median of the numbers in FILE, or - if none.
median() {
	[ -s "$1" ] || { echo -; return; }
	sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.2f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

printf '%-6s %5s %10s %14s\n' vmm boots "init (s)" "poweroff (s)"
for vmm in $VMMS; do
	n=0
	[ -f "$tmp/$vmm.init" ] && n=$(wc -l <"$tmp/$vmm.init")
	printf '%-6s %5s %10s %14s\n' "$vmm" "$n/$runs" "$(median "$tmp/$vmm.init")" "$(median "$tmp/$vmm.end")"
done
if [[ " $VMMS " == *" bt "* && " $VMMS " == *" qemu "* ]]; then
	echo "bt/qemu: init $(ratio "$(median "$tmp/bt.init")" "$(median "$tmp/qemu.init")")," \
		"poweroff $(ratio "$(median "$tmp/bt.end")" "$(median "$tmp/qemu.end")")"
fi
