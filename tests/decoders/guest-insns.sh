#!/usr/bin/env bash
# Prints the distinct instructions of the given 32-bit ELF files, one line of hex bytes
# each, as objdump disassembles their code sections (lines objdump cannot decode,
# "(bad)" and ".byte", are left out: they are data or padding, not instructions).
set -eu -o pipefail
for elf in "$@"; do
	objdump -d -w -M i386 "$elf"
done | awk -F'\t' 'NF >= 3 && $1 ~ /^ *[0-9a-f]+:$/ && $3 !~ /\(bad\)|^\.byte/ {
	gsub(/ +$/, "", $2); print $2 }' | sort -u
