#!/usr/bin/env bash
# The benchmark harness (`make bench`; bench/README.md): runs the nanobenchmarks
# (bench/nano) natively, under bt and under QEMU TCG, and the macro workloads
# (bench/macro) natively and inside the Linux guest under both VMMs, then prints the
# table of medians and ratios (bench/table.awk) and writes $BUILD/bench/results.csv
# and results.png (gnuplot).
#
#   bench/run.sh
#
# Runs are taken in turns (native, bt, qemu) so that a busy host weighs on all alike.
# Environment: REPS (runs of each figure, 3), BUILD (build), TIMEOUT (seconds per
# Linux boot, 300), BT, QEMU, LINUX_CACHE (see tests/linux/run-linux.sh and
# scripts/linux-image.sh). Raw output lands in $BUILD/bench/logs/.
set -u
cd "$(dirname "$0")/.." || exit 2

export BUILD=${BUILD:-build}
export TIMEOUT=${TIMEOUT:-300}
REPS=${REPS:-3}
cache=${LINUX_CACHE:-cache/linux}
out=$BUILD/bench
logs=$out/logs
raw=$out/raw.txt
case $REPS in '' | *[!0-9]* | 0) echo "bench: REPS must be a positive number" >&2; exit 2 ;; esac
for f in "$BUILD/bt" "$out/nano/nano.elf" "$out/nano/nano-native" "$out/macro/macro"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "bench: $f: not built (make bench builds it)" >&2; exit 2; }
done
start=$SECONDS

scripts/linux-image.sh || exit 1
rm -rf "$logs" && mkdir -p "$logs"
: >"$raw"

# The bench initramfs: the test one with a second archive appended (the kernel unpacks
# both, later files win) that holds /bench/macro and a /test.sh running it.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bench"
cp bench/guest/test.sh "$stage/test.sh"
cp "$out/macro/macro" "$stage/bench/macro"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
	gzip -9n >"$out/overlay.gz"
cat "$cache/initrd.gz" "$out/overlay.gz" >"$out/initrd.gz"

# collect SUITE PREFIX VMM REP < output: the lines "PREFIX NAME: X ns/op" as raw records
# "SUITE NAME VMM REP X"; a line "bench-rep I" sets REP to I (the guest's rounds).
collect() {
	tr -d '\r' | awk -v suite="$1" -v prefix="$2" -v vmm="$3" -v rep="$4" '
		$1 == "bench-rep" { rep = $2 }
		$1 == prefix && $2 ~ /:$/ && $4 == "ns/op" { sub(/:$/, "", $2); print suite, $2, vmm, rep, $3 }' >>"$raw"
}

# --- nanobenchmarks: REPS runs of each, in turns ---
for ((r = 1; r <= REPS; r++)); do
	log=$logs/nano.native.$r
	"$out/nano/nano-native" >"$log" 2>&1
	collect nano nano native "$r" <"$log"
	for vmm in bt qemu; do
		log=$logs/nano.$vmm.$r
		TIMEOUT=120 tests/run-guest.sh --"$vmm" "$out/nano/nano.elf" >"$log" 2>&1
		status=$?
		[ $status -eq 1 ] || echo "bench: nano under $vmm, run $r: exit status $status (see $log)" >&2
		collect nano nano "$vmm" "$r" <"$log"
	done
	echo "bench: nano run $r/$REPS done ($((SECONDS - start)) s)" >&2
done

# --- macro workloads: REPS rounds natively, then one boot per VMM running REPS rounds ---
busybox=$(realpath "$cache/busybox")
macro=$(realpath "$out/macro/macro")
ntmp=$(mktemp -d /dev/shm/bt-bench.XXXXXX 2>/dev/null || mktemp -d)
for ((r = 1; r <= REPS; r++)); do
	log=$logs/macro.native.$r
	BENCH_TMP=$ntmp BUSYBOX=$busybox "$macro" all >"$log" 2>&1
	collect macro bench native "$r" <"$log"
done
rm -rf "$ntmp"
for vmm in bt qemu; do
	log=$logs/macro.$vmm
	tests/linux/run-linux.sh --"$vmm" --times "$log.times" "$cache/vmlinuz" "$out/initrd.gz" \
		"console=ttyS0 panic=-1 quiet bt.test=1 bench.reps=$REPS" >"$log" 2>&1
	grep -q '^bench-done' <(tr -d '\r' <"$log") ||
		echo "bench: the Linux guest under $vmm did not finish (see $log)" >&2
	collect macro bench "$vmm" 0 <"$log"
	echo "bench: macro under $vmm done ($((SECONDS - start)) s)" >&2
done

awk -v csv="$out/results.csv" -v dat="$out/results.dat" -f bench/table.awk "$raw"
if command -v gnuplot >/dev/null; then
	gnuplot -e "dat='$out/results.dat'; png='$out/results.png'" bench/chart.gp &&
		echo "bench: chart $out/results.png"
else
	echo "bench: no gnuplot (scripts/setup.sh installs gnuplot-nox): no chart" >&2
fi
echo "bench: table $out/results.csv; $((SECONDS - start)) s in all"
