#!/usr/bin/env bash
# Side-by-side timing of the book's MNIST run (784-50-10, batch 100, lr 0.1, 10 000 iterations,
# accuracy over all 70 000 images every 600 iterations): constnn's train_mnist on 1 and 2
# threads, the NumPy and PyTorch references from ../shared/bench on 1 thread (PyTorch also on
# 2), one after another on this machine; then inference throughput at batch 1 and 100.
# Prints one table with the ratios. Needs `pip install numpy torch`.
#
#   bash bench/compare.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-0}
refs=${REFS:-../shared/bench}
export MNIST_DIR=${MNIST_DIR:-$PWD/data/mnist}
log=$(mktemp -d)

cargo build -q --release --example train_mnist --example inference_speed
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)" >&2

run() { # name, command...
  local name=$1; shift
  echo "running $name ..." >&2
  "$@" > "$log/$name.out" 2> "$log/$name.err" || { cat "$log/$name.err" >&2; exit 1; }
}
run constnn_1t ./target/release/examples/train_mnist --seed "$seed" --threads 1 --out "$log/o1"
run constnn_2t ./target/release/examples/train_mnist --seed "$seed" --threads 2 --out "$log/o2"
# The references are timed with OpenBLAS on its fast kernel (see ../shared/bench/README.md).
run numpy_1t env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
  python3 "$refs/train_numpy.py" --seed "$seed"
run torch_1t python3 "$refs/train_torch.py" --threads 1 --seed "$seed"
run torch_2t python3 "$refs/train_torch.py" --threads 2 --seed "$seed"
run constnn_infer ./target/release/examples/inference_speed --model "$log/o1/model.cnnm"
run torch_infer python3 - <<'PY'
import time, torch, numpy as np
torch.set_num_threads(1)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(784, 50), torch.nn.ReLU(), torch.nn.Linear(50, 10)).eval()
x = torch.rand(10000, 784)
def rate(batch):
    best = []
    with torch.inference_mode():
        for _ in range(5):
            t = time.perf_counter()
            for i in range(0, 10000, batch):
                net(x[i:i + batch])
            best.append(10000 / (time.perf_counter() - t))
    return sorted(best)[len(best) // 2]
print(f"batch 1: {rate(1):.0f} images/s")
print(f"batch 100: {rate(100):.0f} images/s")
PY

python3 - "$log" <<'PY'
import json, re, sys, os
log = sys.argv[1]
rows = []
def ours(name, label):
    out = open(os.path.join(log, name + ".out")).read()
    t = re.search(r"time: ([\d.]+) s \(([\d.]+) s training, ([\d.]+) ms per iteration", out)
    f = re.search(r"final train_acc=([\d.]+) test_acc=([\d.]+)", out)
    rows.append((label, float(t.group(1)), float(t.group(3)), float(f.group(1)), float(f.group(2))))
def ref(name, label):
    out = open(os.path.join(log, name + ".out")).read()
    r = json.loads(out.strip().splitlines()[-1].split("RESULT ", 1)[1])
    tr, te = r.get("final_after_iters") or r["final_after_10000"]
    rows.append((label, r["total_s"], r["ms_per_iter_train_only"], tr, te))
ours("constnn_1t", "constnn f32, 1 thread")
ours("constnn_2t", "constnn f32, 2 threads (evaluations beside training)")
ref("numpy_1t", "NumPy f32, 1 thread")
ref("torch_1t", "PyTorch f32, 1 thread")
ref("torch_2t", "PyTorch f32, 2 threads")
fastest_ref = min(r[1] for r in rows if not r[0].startswith("constnn"))
print("| run | wall time (s) | ms/iter (training) | training images/s | final train acc | final test acc | speed-up vs fastest reference |")
print("|---|---|---|---|---|---|---|")
for label, total, ms, tr, te in rows:
    print(f"| {label} | {total:.2f} | {ms:.3f} | {100 / ms * 1000:,.0f} | {tr:.4f} | {te:.4f} | {fastest_ref / total:.2f}× |")
def infer(name):
    out = open(os.path.join(log, name + ".out")).read()
    return [float(x) for x in re.findall(r"batch \d+: (\d+) images/s", out)]
c, t = infer("constnn_infer"), infer("torch_infer")
print()
print("| inference, 1 thread | constnn images/s | PyTorch images/s | ratio |")
print("|---|---|---|---|")
for i, b in enumerate([1, 100]):
    print(f"| batch {b} | {c[i]:,.0f} | {t[i]:,.0f} | {c[i] / t[i]:.1f}× |")
PY
