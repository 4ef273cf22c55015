#!/usr/bin/env bash
# Runs every test: unit test binaries ($BUILD/tests/unit/*), then every guest that has
# a golden tests/guests/<name>.expect under QEMU and under bt, comparing outputs with
# the golden file and with each other and exit statuses with 1 (guest_exit(0)); a
# guest with a native build ($BUILD/tests/guests/<name>-native) must print what QEMU
# printed: all of it, or with tests/guests/<name>.native-filter (an extended regular
# expression) only the lines that match it. One "PASS name" / "FAIL name: why" line
# per check, then one summary line "tests: N passed, M failed"; the exit status is
# non-zero if anything failed.
#
# A guest may have tests/guests/<name>.args: its kernel command line, and
# tests/guests/<name>.oracle: "sdm: why" when QEMU deviates from the SDM there. Environment:
# BUILD (build), BT ($BUILD/bt), QEMU, TIMEOUT (see run-guest.sh).
set -u
cd "$(dirname "$0")/.." || exit 2

export BUILD=${BUILD:-build}
export BT=${BT:-$BUILD/bt}
EXPECT_STATUS=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0

ok() {
	echo "PASS $1"
	pass=$((pass + 1))
}

# bad NAME WHY [DETAIL-FILE]: DETAIL-FILE (a diff, stderr) is shown indented.
bad() {
	echo "FAIL $1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then
		head -n 40 "$3" | sed 's/^/    /'
	fi
	fail=$((fail + 1))
}

# same NAME WANT-FILE GOT-FILE WANT-LABEL GOT-LABEL: passes if the files are equal,
# else shows a diff.
same() {
	if diff -u --label "$4" --label "$5" "$2" "$3" >"$tmp/diff"; then
		ok "$1"
	else
		bad "$1" "output differs from $4" "$tmp/diff"
	fi
}

# --- unit tests ---
for t in "$BUILD"/tests/unit/*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	case $t in *.d | *.o) continue ;; esac
	name=unit:$(basename "$t")
	"$t" >"$tmp/unit" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$name"
	else
		tail -n 40 "$tmp/unit" >"$tmp/unit.tail"
		bad "$name" "exit status $rc" "$tmp/unit.tail"
	fi
done

# --- decoders: Zydis as bt configures it against Capstone (tests/decoders/crosscheck.c)
# on seeded random strings and on the instructions of the test guests and of the
# corpus; every disagreement must be a class of tests/decoders/known-differences.txt.
# More hex files go on the command line here. ---
xc=$BUILD/tests/decoders/crosscheck
if [ ! -x "$xc" ]; then
	bad decoders:crosscheck "$xc not built"
elif "$xc" --known tests/decoders/known-differences.txt "$BUILD/tests/decoders/guests.hex" \
	"$BUILD/tests/decoders/corpus.hex" >"$tmp/xc" 2>&1; then
	ok decoders:crosscheck
	echo "    $(tail -n 1 "$tmp/xc")"
else
	grep -v '^known ' "$tmp/xc" >"$tmp/xc.fail"
	bad decoders:crosscheck "disagreements not in tests/decoders/known-differences.txt" "$tmp/xc.fail"
fi

# --- guests ---
# run_guest RUNNER NAME ELF ARGS: runs it, checks output and status; leaves the
# output in $tmp/RUNNER.NAME.out. Returns 0 if the guest ran at all.
run_guest() {
	local runner=$1 name=$2 elf=$3 args=$4 out=$tmp/$1.$2.out err=$tmp/$1.$2.err rc
	# shellcheck disable=SC2086 # ARGS are words of the kernel command line
	tests/run-guest.sh --"$runner" "$elf" $args >"$out" 2>"$err"
	rc=$?
	if [ $rc -ne $EXPECT_STATUS ]; then
		cat "$out" "$err" | tail -n 40 >"$tmp/tail"
		bad "$runner:$name" "exit status $rc, want $EXPECT_STATUS" "$tmp/tail"
	elif ! diff -u --label "tests/guests/$name.expect" --label "$runner:$name" \
		"tests/guests/$name.expect" "$out" >"$tmp/diff"; then
		bad "$runner:$name" "output differs from tests/guests/$name.expect" "$tmp/diff"
	else
		ok "$runner:$name"
	fi
}

have_bt=1
[ -x "$BT" ] || have_bt=0

for expect in tests/guests/*.expect; do
	[ -f "$expect" ] || continue
	name=$(basename "$expect" .expect)
	elf=$BUILD/tests/guests/$name.elf
	args=
	[ -f "tests/guests/$name.args" ] && args=$(cat "tests/guests/$name.args")
	if [ ! -f "$elf" ]; then
		bad "qemu:$name" "$elf not built"
		bad "bt:$name" "$elf not built"
		continue
	fi

	# A guest with tests/guests/NAME.oracle starting "sdm:" checks behaviour QEMU
	# gets wrong: its golden file comes from the SDM, and it runs under bt only.
	if [ -f "tests/guests/$name.oracle" ] && grep -q '^sdm:' "tests/guests/$name.oracle"; then
		if [ $have_bt -eq 1 ]; then
			run_guest bt "$name" "$elf" "$args"
		else
			bad "bt:$name" "$BT not built"
		fi
		continue
	fi
	run_guest qemu "$name" "$elf" "$args"
	if [ $have_bt -eq 1 ]; then
		run_guest bt "$name" "$elf" "$args"
		same "bt-vs-qemu:$name" "$tmp/qemu.$name.out" "$tmp/bt.$name.out" "qemu:$name" "bt:$name"
	else
		bad "bt:$name" "$BT not built"
		bad "bt-vs-qemu:$name" "$BT not built"
	fi

	# Native oracle: same program on the host, same iteration count as the guest ran.
	native=$BUILD/tests/guests/$name-native
	if [ -x "$native" ]; then
		iters=$(sed -n 's/.* iters=\([0-9]*\) .*/\1/p' "$tmp/qemu.$name.out" | tail -n 1)
		if [ -z "$iters" ]; then
			bad "native:$name" "no iters=N in the output of qemu:$name"
		elif ! "$native" "iters=$iters" >"$tmp/native.$name.out" 2>&1; then
			bad "native:$name" "$native iters=$iters failed" "$tmp/native.$name.out"
		else
			cp "$tmp/qemu.$name.out" "$tmp/qemu-native.$name.out"
			if [ -f "tests/guests/$name.native-filter" ]; then
				grep -E -f "tests/guests/$name.native-filter" "$tmp/qemu.$name.out" \
					>"$tmp/qemu-native.$name.out"
			fi
			same "native:$name" "$tmp/qemu-native.$name.out" "$tmp/native.$name.out" "qemu:$name" \
				"native:$name"
		fi
	fi
done

# --- bad input and guest misbehaviour: one clear line on stderr, a non-zero exit ---
# expect_error NAME STATUS REGEX CMD...: CMD must exit with STATUS, print REGEX on
# stderr, and not be killed by a signal.
expect_error() {
	local name=$1 want=$2 re=$3
	shift 3
	if [ ! -x "$BT" ]; then
		bad "error:$name" "$BT not built"
		return
	fi
	timeout 20 "$@" >"$tmp/err.out" 2>"$tmp/err.err" </dev/null
	local rc=$?
	if [ $rc -ne "$want" ]; then
		bad "error:$name" "exit status $rc, want $want" "$tmp/err.err"
	elif ! grep -Eq "$re" "$tmp/err.err"; then
		bad "error:$name" "stderr lacks /$re/" "$tmp/err.err"
	else
		ok "error:$name"
	fi
}
G=$BUILD/tests/guests
head -c 4096 /dev/urandom >"$tmp/junk"
expect_error missing-kernel 1 "^bt: cannot open kernel '/nonexistent': No such file" \
	"$BT" run --kernel /nonexistent
expect_error not-multiboot 1 "is not a Multiboot kernel" "$BT" run --kernel "$tmp/junk"
expect_error 64-bit-elf 1 "is not a Multiboot kernel" "$BT" run --kernel "$BT"
expect_error does-not-fit 1 "does not fit in 2 MiB of guest RAM" \
	"$BT" run --kernel "$G/triple.elf" --mem 2
expect_error mem-too-big 2 "^bt: --mem 5000 is out of range" "$BT" run --kernel "$G/hello.elf" --mem 5000
expect_error mem-too-small 2 "^bt: --mem 1 is out of range" "$BT" run --kernel "$G/hello.elf" --mem 1
expect_error no-kernel 2 "^bt: run needs --kernel" "$BT" run
expect_error unknown-option 2 "^bt: unknown option" "$BT" run --frobnicate
# Linux bzImages (monitor/linuxboot.c): a synthetic one built here, protocol 2.15, 4 setup
# sectors, 4 KiB of protected-mode code decompressing into 16-32 MiB; its code (run
# below) checks the 32-bit boot protocol's entry state.
# putb FILE OFFSET BYTES: writes printf-escaped BYTES at OFFSET.
putb() { printf "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none; }
bz=$tmp/bz
head -c $((5 * 512 + 4096)) /dev/zero >"$bz"
putb "$bz" 0x1f1 '\x04'; putb "$bz" 0x1f4 '\x00\x01'; putb "$bz" 0x1fe '\x55\xaa'
putb "$bz" 0x200 '\xeb\x6aHdrS\x0f\x02'; putb "$bz" 0x211 '\x01'
putb "$bz" 0x214 '\x00\x00\x10\x00'; putb "$bz" 0x22c '\xff\xff\xff\x7f'
putb "$bz" 0x230 '\x00\x00\x00\x01\x01'; putb "$bz" 0x238 '\xff\x07'
putb "$bz" 0x248 '\x94\x00\x00\x00\x00\x08'; putb "$bz" 0x258 '\x00\x00\x00\x01'
putb "$bz" 0x260 '\x00\x00\x00\x01'
# Its code: the entry state below, then with a command line starting with "r" it counts
# its boots in CMOS byte 0x40 and resets the machine through the i8042 at the first:
#   cmpl $0x53726448,0x202(%esi); jne 2f; mov %ds,%eax; cmp $0x18,%eax; jne 2f
#   mov 0x228(%esi),%edx; cmpb $'r',(%edx); jne 1f
#   mov $0x40,%al; out %al,$0x70; in $0x71,%al; inc %al; mov %al,%bl
#   mov $0x40,%al; out %al,$0x70; mov %bl,%al; out %al,$0x71
#   cmp $2,%bl; jae 1f; mov $0xfe,%al; out %al,$0x64; hlt
#   1: xor %eax,%eax; out %al,$0xf4; hlt; 2: mov $1,%al; out %al,$0xf4; hlt
putb "$bz" 0xa00 '\x81\xbe\x02\x02\x00\x00\x48\x64\x72\x53\x75\x33\x8c\xd8\x83\xf8\x18'
putb "$bz" 0xa11 '\x75\x2c\x8b\x96\x28\x02\x00\x00\x80\x3a\x72\x75\x1c\xb0\x40\xe6\x70'
putb "$bz" 0xa22 '\xe4\x71\xfe\xc0\x88\xc3\xb0\x40\xe6\x70\x88\xd8\xe6\x71\x80\xfb\x02'
putb "$bz" 0xa33 '\x73\x05\xb0\xfe\xe6\x64\xf4\x31\xc0\xe6\xf4\xf4\xb0\x01\xe6\xf4\xf4'
cp "$tmp/junk" "$tmp/badbz"
putb "$tmp/badbz" 0x1fe '\x00\x00\xeb\x6aHdrS'
expect_error linux-corrupt 1 "^bt: '.*badbz': corrupt bzImage: boot sector flag" \
	"$BT" run --kernel "$tmp/badbz"
head -c 4000 "$bz" >"$tmp/shortbz"
expect_error linux-truncated 1 "^bt: '.*shortbz': truncated bzImage: syssize says 0x1000 bytes" \
	"$BT" run --kernel "$tmp/shortbz"
expect_error linux-missing-initrd 1 "^bt: cannot open initrd '/nonexistent': No such file" \
	"$BT" run --kernel "$bz" --initrd /nonexistent
expect_error linux-ram-too-small 1 "beyond the 16 MiB of guest RAM: use --mem 32 or more$" \
	"$BT" run --kernel "$bz" --mem 16
truncate -s 20M "$tmp/initrd"
expect_error linux-initrd-too-big 1 "^bt: initrd '.*initrd' .* use --mem 52 or more$" \
	"$BT" run --kernel "$bz" --initrd "$tmp/initrd" --mem 32
expect_error multiboot-initrd 1 "^bt: --initrd needs a Linux kernel" \
	"$BT" run --kernel "$G/hello.elf" --initrd "$tmp/initrd"
# A triple fault stops bt with the guest's registers and status 3; EIP is the INT3.
int3=$(nm "$G/triple.elf" >/dev/null 2>&1 && objdump -d "$G/triple.elf" | awk '/\tint3/ { sub(":", "", $1); print $1; exit }')
expect_error triple-fault 3 "triple fault.*" "$BT" run --kernel "$G/triple.elf"
if grep -q "eip=0*$int3 " "$tmp/err.err"; then ok "error:triple-fault-eip"; else bad "error:triple-fault-eip" "state dump does not show eip=$int3" "$tmp/err.err"; fi

# --- the PIT at 1 kHz against the RTC, with the bound a faithful PIT meets (QEMU, the
# oracle above, loses ticks under load, so the shared golden file uses a loose one).
# bt loses a tick too when the host does not run it for over a millisecond (the 8259A
# holds one edge per line): on a loaded machine one run in several falls short, so
# the check passes if one of three runs meets the bound. ---
if [ $have_bt -eq 1 ]; then
	pit_ok=0
	for try in 1 2 3; do
		tests/run-guest.sh --bt "$G/pit.elf" lo=990 >"$tmp/pit.strict" 2>&1
		if grep -q "^pit: ok   IRQ 0 in one RTC second at 1 kHz in \[990,1010\]" "$tmp/pit.strict"; then
			pit_ok=1
			break
		fi
	done
	if [ $pit_ok -eq 1 ]; then
		ok "bt:pit-1khz-strict"
	else
		bad "bt:pit-1khz-strict" "IRQ 0 count outside [990,1010] in 3 runs" "$tmp/pit.strict"
	fi
fi

# --- what QEMU gets wrong (pferr: P with RSVD, PSE-36 bits; pae: the same P, PDPTE
# registers and reserved bits; fpu: stack faults, SIMD exceptions, unmasked results,
# x87 pointers, #MF at waiting instructions, reserved MXCSR bits): bt against the
# SDM, with the guests' sdm=1 ---
if [ $have_bt -eq 1 ]; then
	for name in pferr pae fpu; do
		tests/run-guest.sh --bt "$G/$name.elf" sdm=1 >"$tmp/$name.sdm" 2>&1
		if grep -q "^$name: [0-9]* passed, 0 failed" "$tmp/$name.sdm"; then
			ok "bt:$name-sdm"
		else
			grep FAIL "$tmp/$name.sdm" >"$tmp/$name.fail"
			tail -n 2 "$tmp/$name.sdm" >>"$tmp/$name.fail"
			bad "bt:$name-sdm" "SDM-only checks failed" "$tmp/$name.fail"
		fi
	done
fi

# --- security: ring-3 programs that try to leave bt's jail (tests/guests/escape.c) ---
# None may reach the host: no "ESCAPED" written to bt's standard output, no marker
# file created; bt reports the attempts, ends those stubs, and the guest runs on.
if [ $have_bt -eq 1 ]; then
	marker=/tmp/bt-escape-marker
	rm -f "$marker"
	timeout 120 "$BT" run --kernel "$G/escape.elf" --stats >"$tmp/esc.out" 2>"$tmp/esc.err" </dev/null
	rc=$?
	ended=$(sed -n 's/.* \([0-9]*\) stubs ended.*/\1/p' "$tmp/esc.err")
	if [ $rc -ne 1 ]; then
		cat "$tmp/esc.out" "$tmp/esc.err" >"$tmp/esc.both"
		bad "security:escape" "exit status $rc, want 1 (the guest must finish)" "$tmp/esc.both"
	elif grep -q ESCAPED "$tmp/esc.out" "$tmp/esc.err"; then
		bad "security:escape" "guest code wrote to bt's output" "$tmp/esc.out"
	elif [ -e "$marker" ]; then
		bad "security:escape" "guest code created $marker on the host"
	elif grep -q "FAIL" "$tmp/esc.out" || ! grep -q "^escape: done" "$tmp/esc.out"; then
		bad "security:escape" "a program came back from 64-bit mode or the guest did not finish" "$tmp/esc.out"
	elif ! grep -q "its stub is ended" "$tmp/esc.err" || [ "${ended:-0}" -lt 10 ]; then
		bad "security:escape" "bt did not report and end the stubs (${ended:-0} ended)" "$tmp/esc.err"
	else
		ok "security:escape"
	fi
	rm -f "$marker"
fi

# --- machine reset: the i8042 (0xFE) and port 0x92 reset lines ---
# expect_run NAME STATUS WANT-STDOUT CMD...: CMD exits with STATUS and prints exactly
# WANT-STDOUT (\n-separated).
expect_run() {
	local name=$1 want=$2 out=$3
	shift 3
	timeout 20 "$@" >"$tmp/run.out" 2>"$tmp/run.err" </dev/null
	local rc=$?
	printf "$out" >"$tmp/run.want"
	if [ $rc -ne "$want" ]; then
		cat "$tmp/run.out" "$tmp/run.err" >"$tmp/run.both"
		bad "$name" "exit status $rc, want $want" "$tmp/run.both"
	else
		same "$name" "$tmp/run.want" "$tmp/run.out" "expected" "$name"
	fi
}
# Without --reboot a reset ends bt with status 0 (as QEMU's -no-reboot does, which
# is also checked); with --reboot the guest boots again and exits normally.
expect_run reset:qemu-kbc 0 "reset: boot 1\n" tests/run-guest.sh --qemu "$G/reset.elf"
expect_run reset:bt-kbc 0 "reset: boot 1\n" "$BT" run --kernel "$G/reset.elf"
expect_run reset:bt-port92 0 "reset: boot 1\n" "$BT" run --kernel "$G/reset.elf" --append how=92
expect_run reset:bt-kbc-reboot 1 "reset: boot 1\nreset: boot 2\n" \
	"$BT" run --kernel "$G/reset.elf" --reboot
expect_run reset:bt-port92-reboot 1 "reset: boot 1\nreset: boot 2\n" \
	"$BT" run --kernel "$G/reset.elf" --reboot --append how=92

# --- serial input: tests/guests/echo.stdin reaches the guest however it waits for it
# (HLT, a busy loop at CPL 0, one at CPL 3 in a stub) with and without a timer tick;
# the output is the golden file's in every mode ---
if [ $have_bt -eq 1 ]; then
	for args in "hz=250" "wait=1" "wait=1 hz=250" "wait=3" "wait=3 hz=250"; do
		name="echo-${args// /-}"
		# shellcheck disable=SC2086 # ARGS are words of the kernel command line
		tests/run-guest.sh --bt "$G/echo.elf" $args >"$tmp/$name.out" 2>"$tmp/$name.err"
		rc=$?
		if [ $rc -ne $EXPECT_STATUS ]; then
			cat "$tmp/$name.out" "$tmp/$name.err" | tail -n 40 >"$tmp/tail"
			bad "bt:$name" "exit status $rc, want $EXPECT_STATUS" "$tmp/tail"
		else
			same "bt:$name" tests/guests/echo.expect "$tmp/$name.out" tests/guests/echo.expect "bt:$name"
		fi
	done
fi

# --- the console on a terminal (tests/ttyrun.py runs bt on a pseudo-terminal, in the
# foreground): raw mode (typed bytes reach the guest as they are, Ctrl-C and Ctrl-A
# Ctrl-A included, and the host does not echo them), the Ctrl-A escapes, and the
# terminal's settings (stty -g) put back however bt ends ---
# tty_check NAME WANT-STATUS REGEX TTYRUN-OPTION...: bt on the echo guest must end with
# WANT-STATUS ("status N" or "signal NAME"), leave the terminal as it was, and print
# REGEX (if not empty) on the terminal.
tty_check() {
	local name=$1 want=$2 re=$3
	shift 3
	tests/ttyrun.py --out "$tmp/tty.out" --wait "echo: ready" "$@" -- \
		"$BT" run --kernel "$G/echo.elf" >"$tmp/tty.res" 2>&1
	cat "$tmp/tty.res" "$tmp/tty.out" >"$tmp/tty.both"
	if ! grep -qx "$want" "$tmp/tty.res"; then
		bad "$name" "want $want" "$tmp/tty.both"
	elif ! grep -qx "tty same" "$tmp/tty.res"; then
		bad "$name" "the terminal's settings were not restored" "$tmp/tty.both"
	elif [ -n "$re" ] && ! grep -Eq "$re" "$tmp/tty.out"; then
		bad "$name" "the terminal lacks /$re/" "$tmp/tty.both"
	else
		ok "$name"
	fi
}
if [ $have_bt -eq 1 ] && command -v python3 >/dev/null; then
	tty_check console:ctrl-a-x "status 0" "^bt: terminated by C-a x" --send '\x01x'
	tty_check console:help "status 0" "^C-a x +exit bt" --send '\x01h\x01x'
	# (SIGQUIT too, but it dumps core: not run here.)
	for sig in TERM HUP INT; do
		tty_check "console:sig$sig" "signal $sig" "" --signal "$sig"
	done
	# Typed: a sync line, then a, Ctrl-A Ctrl-A, b, Ctrl-C, c, Enter (CR), then quit.
	tty_check console:typed "status $EXPECT_STATUS" "^echo: 1: A\^AB\^CC" \
		--send 'sync\ra\x01\x01b\x03c\rquit\r'
	if grep -q sync "$tmp/tty.out"; then
		bad console:typed-no-host-echo "the terminal echoed what was typed" "$tmp/tty.out"
	else
		ok console:typed-no-host-echo
	fi
elif [ $have_bt -eq 1 ]; then
	bad console:tty "python3 is missing (scripts/setup.sh installs it)"
fi

# --- Linux: Debian's i386 kernel and the busybox initramfs boot to /test.sh and power
# off (tests/linux/boot-test.sh; scripts/linux-image.sh downloads them the first
# time). Under QEMU this checks the image and the test themselves; under bt it fails
# until bt boots Linux. LINUX_VMMS chooses the VMMs ("qemu bt"; empty: none). One
# line per VMM, with the seconds to /init and to poweroff. ---
for vmm in ${LINUX_VMMS-qemu bt}; do
	VMM=$vmm tests/linux/boot-test.sh >"$tmp/linux.$vmm" 2>&1
	rc=$?
	summary=$(sed -n "s/^linux-$vmm: //p" "$tmp/linux.$vmm")
	if [ $rc -eq 0 ]; then
		ok "linux:$vmm"
		echo "    ${summary#*; }"
		continue
	fi
	grep -v '^PASS ' "$tmp/linux.$vmm" | grep -v "^linux-$vmm: " >"$tmp/linux.detail"
	why=${summary:-exit status $rc}
	if [ "$vmm" = bt ] && [ -x "$BT" ] && ! "$BT" run --help 2>&1 | grep -q -- --initrd; then
		why="bt cannot boot Linux yet (no --initrd): $why"
	fi
	bad "linux:$vmm" "$why" "$tmp/linux.detail"
done
# --- the Linux 32-bit boot protocol: the synthetic bzImage above checks ESI = boot_params
# (with "HdrS" at 0x202) and DS = 0x18, and exits through port 0xF4: status 1 if they
# hold, 3 if not; with --reboot it is loaded and entered again after a reset ---
expect_run linux:entry-state 1 "" "$BT" run --kernel "$bz" --append console=ttyS0
expect_run linux:reset 0 "" "$BT" run --kernel "$bz" --append reboot-test
expect_run linux:reboot 1 "" "$BT" run --kernel "$bz" --append reboot-test --reboot

# --- the sensitive-instruction corpus (tests/corpus/run.sh): every case under bt against
# tests/corpus/expected.out (QEMU's lines, SDM overrides in tests/corpus/sdm-overrides);
# one PASS/FAIL line for the whole corpus, its failures, and its summary line ---
if [ $have_bt -eq 1 ]; then
	tests/corpus/run.sh >"$tmp/corpus.out" 2>&1
	rc=$?
	grep -E '^(FAIL|    |KNOWN)' "$tmp/corpus.out" | sed 's/^/    /' | cut -c1-200
	if [ $rc -eq 0 ]; then ok "corpus"; else bad "corpus" "$(tail -n 1 "$tmp/corpus.out")"; fi
	grep '^corpus: ' "$tmp/corpus.out"
fi

echo "tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
