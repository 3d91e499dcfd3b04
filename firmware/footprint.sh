#!/usr/bin/env bash
# Prints the firmware's flash and RAM footprint from its ELF (run after `cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")"
elf=${1:-target/thumbv7em-none-eabihf/release/constnn-firmware}
# Section size (hex in readelf's table) and symbol size (decimal, or hex with 0x).
sec() { printf '%d' "0x$(readelf -SW "$elf" | awk -v n="$1" '{ for (i = 1; i <= NF; i++) if ($i == n) { print $(i+4); exit } }')"; }
sym() { printf '%d' "$(readelf -sW "$elf" | awk -v n="$1" '$8 ~ n { print $3; exit }')"; }
vt=$(sec .vector_table); text=$(sec .text); rodata=$(sec .rodata)
data=$(sec .data); bss=$(sec .bss)
net=$(sym 3NET); images=$(sym 6IMAGES); labels=$(sym 6LABELS); expected=$(sym 8EXPECTED)
code=$((vt + text + rodata - net - images - labels - expected))
printf '| what | bytes |\n|---|---|\n'
printf '| flash: code and its constants (no weights, no test data) | %d |\n' "$code"
printf '| flash: weights (the `static` TwoLayerNet<784, 50, 10>) | %d |\n' "$net"
printf '| flash: 1000 test images and two label lists | %d |\n' "$((images + labels + expected))"
printf '| RAM: statics (.data + .bss) | %d |\n' "$((data + bss))"
