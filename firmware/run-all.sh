#!/usr/bin/env bash
# Builds and runs every board and model under QEMU, one line per run:
#   board=mps2-an386 model=int8 right=965/1000 identical=1000/1000 instructions=… stack=… ram=… code=… weights=…
# (stack: one inference's; ram: the whole program's peak stack and its statics, measured on the target)
# Boards: mps2-an386 (Cortex-M4F, thumbv7em-none-eabihf) and microbit (nRF51822, Cortex-M0
# without an FPU, thumbv6m-none-eabi). Models: f32 (src/main.rs), int8 (src/bin/int8.rs).
# Exits non-zero if any run fails: a label other than the host's, a panic, a fault or a hang.
set -euo pipefail
cd "$(dirname "$0")"
status=0
for board in mps2-an386 microbit; do
  case $board in
    mps2-an386) target=thumbv7em-none-eabihf ;;
    microbit) target=thumbv6m-none-eabi ;;
  esac
  cargo build -q --release --target "$target" --bins
  for model in f32 int8; do
    case $model in
      f32) bin=constnn-firmware ;;
      int8) bin=int8 ;;
    esac
    log=target/run-$board-$model.log
    if cargo run -q --release --target "$target" --bin "$bin" >"$log" 2>&1; then
      figures=$(grep '^right=' "$log" | tail -n 1)
      echo "board=$board model=$model $figures $(./footprint.sh --kv "target/$target/release/$bin")"
    else
      echo "board=$board model=$model FAILED (see firmware/$log):"
      tail -n 5 "$log"
      status=1
    fi
  done
done
exit $status
