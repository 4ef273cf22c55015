#!/usr/bin/env bash
# The sensitive-instruction corpus (tests/corpus/README): runs the corpus guest under
# bt and compares each case's line with tests/corpus/expected.out (from QEMU), where
# tests/corpus/sdm-overrides replaces QEMU's line for the cases QEMU gets wrong.
# Prints "FAIL corpus:NAME" with what was wanted and got for each failure, one
# "KNOWN ..." line per entry of tests/corpus/known-bt-bugs that matched, then
# "corpus: N passed, M failed"; exit status 1 if any failed.
#
#   tests/corpus/run.sh            compare bt with the expectations
#   tests/corpus/run.sh --oracle   rewrite expected.out from qemu-system-i386 -accel tcg
#
# If bt stops in the middle (a case it cannot run), that case fails and the run goes
# on from the next one (the guest's start=N). Environment: BUILD, BT, QEMU, TIMEOUT.
set -u
cd "$(dirname "$0")/../.." || exit 2
export BUILD=${BUILD:-build}
ELF=$BUILD/tests/corpus/corpus.elf
DIR=tests/corpus
EXPECTED=$DIR/expected.out
QEMU=${QEMU:-qemu-system-i386}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$ELF" ] || { echo "FAIL corpus: $ELF not built"; echo "corpus: 0 passed, 1 failed"; exit 1; }

# Case lines: "NAME: ..." but the guest's own "corpus: ..." lines.
cases_of() { grep -E '^[^ ]+: ' "$1" | grep -v '^corpus: '; }

if [ "${1:-}" = --oracle ]; then
	TIMEOUT=${TIMEOUT:-120} tests/run-guest.sh --qemu "$ELF" oracle=1 >"$tmp/q.out" 2>"$tmp/q.err"
	if ! grep -q '^corpus: ran ' "$tmp/q.out"; then
		echo "corpus-oracle: QEMU did not finish the corpus:" >&2
		tail -n 5 "$tmp/q.out" "$tmp/q.err" >&2
		exit 1
	fi
	{
		echo "# oracle: $("$QEMU" --version | head -n 1) -accel tcg (tests/corpus/run.sh --oracle)"
		cases_of "$tmp/q.out"
	} >"$EXPECTED"
	echo "corpus-oracle: $(grep -vc '^#' "$EXPECTED") cases written to $EXPECTED"
	exit 0
fi

# Expectations: QEMU's lines with the SDM overrides in their place.
grep -v '^#' "$EXPECTED" >"$tmp/want"
grep -E '^[^#[:space:]]' "$DIR/sdm-overrides" >"$tmp/over" 2>/dev/null || :
awk 'NR == FNR { k = $1; over[k] = $0; next } { print ($1 in over) ? over[$1] : $0 }' \
	"$tmp/over" "$tmp/want" >"$tmp/want.sdm"
cut -d' ' -f1 "$tmp/want" >"$tmp/names"
total=$(wc -l <"$tmp/names")

# bt, restarted after any case that stops it.
: >"$tmp/got"
start=0
while [ "$start" -lt "$total" ]; do
	TIMEOUT=${TIMEOUT:-120} tests/run-guest.sh --bt "$ELF" start="$start" >"$tmp/b.out" 2>"$tmp/b.err"
	cases_of "$tmp/b.out" >>"$tmp/got"
	grep -q '^corpus: ran ' "$tmp/b.out" && break
	last=$(cases_of "$tmp/b.out" | tail -n 1 | cut -d' ' -f1)
	if [ -n "$last" ]; then
		start=$(grep -nxF -- "$last" "$tmp/names" | head -n 1 | cut -d: -f1)
	fi
	stopped=$(sed -n "$((start + 1))p" "$tmp/names")
	echo "$stopped bt stopped: $(grep '^bt:' "$tmp/b.err" | tail -n 1)" >>"$tmp/got"
	start=$((start + 1))
done

# Known bt bugs: "GLOB description", one per line.
known_glob=()
known_why=()
while read -r glob why; do
	case $glob in '' | '#'*) continue ;; esac
	known_glob+=("$glob")
	known_why+=("$why")
done <"$DIR/known-bt-bugs"
declare -A known_hits=()

pass=0
fail=0
known=0
declare -A got=()
while IFS= read -r line; do got[${line%% *}]=$line; done <"$tmp/got"
while IFS= read -r want; do
	name=${want%% *}
	have=${got[$name]:-"$name (no line)"}
	if [ "$have" = "$want" ]; then
		pass=$((pass + 1))
		continue
	fi
	matched=-1
	for i in "${!known_glob[@]}"; do
		# shellcheck disable=SC2053 # a glob on purpose
		if [[ ${name%:} == ${known_glob[$i]} ]]; then matched=$i; break; fi
	done
	if [ $matched -ge 0 ]; then
		known=$((known + 1))
		known_hits[$matched]=$((${known_hits[$matched]:-0} + 1))
		continue
	fi
	echo "FAIL corpus:${name%:}"
	echo "    want: ${want#* }"
	echo "    got:  ${have#* }"
	fail=$((fail + 1))
done <"$tmp/want.sdm"
for i in "${!known_glob[@]}"; do
	[ -n "${known_hits[$i]:-}" ] && echo "KNOWN corpus:${known_glob[$i]} (${known_hits[$i]} cases): ${known_why[$i]}"
done
echo "corpus: $known known bt bugs (tests/corpus/known-bt-bugs), not counted as failures"
echo "corpus: $pass passed, $fail failed"
[ $fail -eq 0 ]
