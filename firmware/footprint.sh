#!/usr/bin/env bash
# Prints a firmware's flash and RAM footprint from its ELF (after `cargo build --release`):
#   ./footprint.sh [ELF]        a table
#   ./footprint.sh --kv [ELF]   code=… weights=… on one line (for run-all.sh)
# Code is everything in flash but the model (the `NET` static) and the test data.
set -euo pipefail
cd "$(dirname "$0")"
kv=false
if [ "${1:-}" = --kv ]; then kv=true; shift; fi
elf=${1:-target/thumbv7em-none-eabihf/release/constnn-firmware}
# Section size (hex in readelf's table) and symbol size (decimal, or hex with 0x); 0 if absent.
sec() { printf '%d' "0x$(readelf -SW "$elf" | awk -v n="$1" '{ for (i = 1; i <= NF; i++) if ($i == n) { print $(i+4); exit } }')"; }
sym() { local s; s=$(readelf -sW "$elf" | awk -v n="$1" '$8 ~ n { print $3; exit }'); printf '%d' "${s:-0}"; }
vt=$(sec .vector_table); text=$(sec .text); rodata=$(sec .rodata)
data=$(sec .data); bss=$(sec .bss)
net=$(sym 3NET); images=$(sym 6IMAGES); labels=$(sym 6LABELS); expected=$(sym 8EXPECTED)
code=$((vt + text + rodata - net - images - labels - expected))
if $kv; then
  echo "code=$code weights=$net"
  exit 0
fi
printf '| what | bytes |\n|---|---|\n'
printf '| flash: code and its constants (no weights, no test data) | %d |\n' "$code"
printf '| flash: the model (the `static` network) | %d |\n' "$net"
printf '| flash: test images and label lists | %d |\n' "$((images + labels + expected))"
printf '| RAM: statics (.data + .bss) | %d |\n' "$((data + bss))"
