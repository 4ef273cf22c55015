#!/bin/sh
# /test.sh of the bench initramfs (bench/run.sh appends it to the test initramfs, so
# it replaces the boot test's): runs /bench/macro all bench.reps=N times (3) in a
# tmpfs, each round after a "bench-rep I" line, then /init powers off.
reps=3
for w in $(cat /proc/cmdline); do
	case $w in bench.reps=*) reps=${w#bench.reps=} ;; esac
done
mount -t tmpfs tmpfs /tmp
i=1
while [ "$i" -le "$reps" ]; do
	echo "bench-rep $i"
	BENCH_TMP=/tmp BUSYBOX=/bin/busybox /bench/macro all || echo "bench-rep $i: macro failed"
	i=$((i + 1))
done
echo "bench-done"
