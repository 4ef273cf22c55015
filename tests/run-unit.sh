#!/usr/bin/env bash
# Runs the unit test binaries given as arguments (cmocka programs: non-zero exit on
# failure), one "PASS name" / "FAIL name: why" line each, then one summary line.
set -u

pass=0
fail=0
for t in "$@"; do
	name=unit:$(basename "$t")
	if [ ! -x "$t" ]; then
		echo "FAIL $name: $t not built"
		fail=$((fail + 1))
		continue
	fi
	out=$("$t" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name: exit status $rc"
		printf '%s\n' "$out" | tail -n 40 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
