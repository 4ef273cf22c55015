#!/bin/sh
# compute.sh: integer and floating-point loops whose results boot-test.sh compares:
# /test.sh runs it in the guest, the host runs it with the same busybox, natively.
i=0
s=1
while [ $i -lt 20000 ]; do
	s=$(((s * 1103515245 + 12345 + i) % 2147483648))
	i=$((i + 1))
done
echo "compute: sh $s"
awk 'BEGIN { x = 0; for (i = 1; i <= 200000; i++) x += 1 / i + (i % 7) / (i + 0.5); printf "compute: awk %.10f\n", x }'
