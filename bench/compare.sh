#!/usr/bin/env bash
# Side-by-side timing of the book's MNIST run (784-50-10, batch 100, lr 0.1, 10 000 iterations,
# accuracy over all 70 000 images every 600 iterations): constnn's train_mnist on 1 and 2
# threads, the NumPy and PyTorch references from ../shared/bench on 1 thread (PyTorch also on
# 2) and the same run written with candle, the Rust peer (`bench/candle`, on 1 and 2 threads),
# one after another on this machine; then inference throughput at batch 1 and 100; then the
# deeper network of `train_deep` (784-100-100-10, He initialisation, same schedule) against its
# NumPy reference `bench/train_deep_numpy.py` (same weights and batches from the same seed);
# then the book's chapter-6 optimizer comparison (`optimizer_compare`, figure 6-9) against
# `../shared/bench/optimizer_compare_numpy.py` (same weights and batches).
# Prints one table per comparison with the ratios. Needs `pip install numpy torch` (and the
# crates.io registry, once, for candle).
#
# The machine may be shared and noisy: ROUNDS=N repeats the whole sequence N times, interleaved
# (every program once per round), and the tables give the median of each figure, the ratios
# computed round by round (median, with their range).
#
#   [ROUNDS=3] bash bench/compare.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-0}
rounds=${ROUNDS:-1}
refs=${REFS:-../shared/bench}
export MNIST_DIR=${MNIST_DIR:-$PWD/data/mnist}
log=$(mktemp -d)

cargo build -q --release --example train_mnist --example inference_speed --example train_deep \
  --example optimizer_compare
# candle is built on its own (a crate outside the workspace: the repository never depends on it).
cargo build -q --release --manifest-path bench/candle/Cargo.toml
candle=bench/candle/target/release/train-candle
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)" >&2

run() { # name, command...
  local name=$1; shift
  echo "running $name ..." >&2
  "$@" > "$log/$name.out" 2> "$log/$name.err" || { cat "$log/$name.err" >&2; exit 1; }
}
for r in $(seq 1 "$rounds"); do
[ "$rounds" -gt 1 ] && echo "round $r of $rounds" >&2
run constnn_1t_$r ./target/release/examples/train_mnist --seed "$seed" --threads 1 --out "$log/o1"
run constnn_2t_$r ./target/release/examples/train_mnist --seed "$seed" --threads 2 --out "$log/o2"
# The references are timed with OpenBLAS on its fast kernel (see ../shared/bench/README.md).
run numpy_1t_$r env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
  python3 "$refs/train_numpy.py" --seed "$seed"
run torch_1t_$r python3 "$refs/train_torch.py" --threads 1 --seed "$seed"
run torch_2t_$r python3 "$refs/train_torch.py" --threads 2 --seed "$seed"
run candle_1t_$r env RAYON_NUM_THREADS=1 "$candle" --seed "$seed"
run candle_2t_$r env RAYON_NUM_THREADS=2 "$candle" --seed "$seed"
run constnn_infer_$r ./target/release/examples/inference_speed --model "$log/o1/model.cnnm"
run deep_$r ./target/release/examples/train_deep --seed "$seed" --threads 1 --out "$log/od"
run deep2_$r ./target/release/examples/train_deep --seed "$seed" --threads 2 --out "$log/od2"
run deep_numpy_$r env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
  REFS="$refs" python3 bench/train_deep_numpy.py --seed "$seed"
run optim_$r ./target/release/examples/optimizer_compare --seed "$seed" --out "$log/oc"
run optim_numpy_$r env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
  python3 "$refs/optimizer_compare_numpy.py" --seed "$seed"
run torch_infer_$r python3 - <<'PY'
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
done

python3 - "$log" "$rounds" <<'PY'
import json, re, sys, os
from statistics import median
log, rounds = sys.argv[1], int(sys.argv[2])
def text(name, r):
    return open(os.path.join(log, f"{name}_{r}.out")).read()
def ours(name, r):
    out = text(name, r)
    t = re.search(r"time: ([\d.]+) s \(([\d.]+) s training, ([\d.]+) ms per iteration", out)
    f = re.search(r"final train_acc=([\d.]+) test_acc=([\d.]+)", out)
    return float(t.group(1)), float(t.group(3)), float(f.group(1)), float(f.group(2))
def ref(name, r):
    res = json.loads(text(name, r).strip().splitlines()[-1].split("RESULT ", 1)[1])
    tr, te = res.get("final_after_iters") or res["final_after_10000"]
    return res["total_s"], res["ms_per_iter_train_only"], tr, te
runs = [
    ("constnn f32, 1 thread", "constnn_1t", ours),
    ("constnn f32, 2 threads (a helper makes batches, evaluates)", "constnn_2t", ours),
    ("NumPy f32, 1 thread", "numpy_1t", ref),
    ("PyTorch f32, 1 thread", "torch_1t", ref),
    ("PyTorch f32, 2 threads", "torch_2t", ref),
    ("candle f32, 1 thread", "candle_1t", ref),
    ("candle f32, 2 threads", "candle_2t", ref),
]
per = {name: [get(name, r) for r in range(1, rounds + 1)] for _, name, get in runs}
# The fastest reference of each round, and each run's speed-up over it in that round.
fastest = [min(per[n][r][0] for _, n, _ in runs if not n.startswith("constnn")) for r in range(rounds)]
def spread(v, digits=2):
    return f" ({min(v):.{digits}f}–{max(v):.{digits}f})" if rounds > 1 else ""
if rounds > 1:
    print(f"medians of {rounds} interleaved rounds; speed-ups computed round by round (range)\n")
print("| run | wall time (s) | ms/iter (training) | training images/s | final train acc | final test acc | speed-up vs fastest reference |")
print("|---|---|---|---|---|---|---|")
for label, name, _ in runs:
    v = per[name]
    total, ms = median(x[0] for x in v), median(x[1] for x in v)
    tr, te = v[0][2], v[0][3]
    ups = [fastest[r] / v[r][0] for r in range(rounds)]
    print(f"| {label} | {total:.2f} | {ms:.3f} | {100 / ms * 1000:,.0f} | {tr:.4f} | {te:.4f} | {median(ups):.2f}×{spread(ups)} |")
def infer(name, r):
    return [float(x) for x in re.findall(r"(?:batch \d+|classify all)[^:]*: (\d+) images/s", text(name, r))]
def converts(r):
    return float(re.search(r"dense to sparse rows: (\d+) images/s", text("constnn_infer", r)).group(1))
c = [infer("constnn_infer", r) for r in range(1, rounds + 1)]
t = [infer("torch_infer", r) for r in range(1, rounds + 1)]
print()
print("| inference, 1 thread | constnn images/s | PyTorch images/s (dense f32) | ratio |")
print("|---|---|---|---|")
# Each constnn line against PyTorch at batch 1 (index 0) or batch 100 (index 1).
for i, (rows, j) in enumerate([("batch 1, dense f32 rows", 0), ("batch 100, dense f32 rows", 1),
                               ("batch 1, rows kept sparse", 0), ("batch 100, rows kept sparse", 1),
                               ("`classify` of all 10 000, dense f32 rows (vs batch 100)", 1),
                               ("`classify` of all 10 000, rows kept sparse: weights on lines (vs batch 100)", 1)]):
    ratios = [c[r][i] / t[r][j] for r in range(rounds)]
    cm, tm = median(x[i] for x in c), median(x[j] for x in t)
    print(f"| {rows} | {cm:,.0f} | {tm:,.0f} | {median(ratios):.1f}×{spread(ratios, 1)} |")
print(f"\n(constnn converts dense rows to sparse ones at {median(converts(r) for r in range(1, rounds + 1)):,.0f} images/s.)")
deep = {name: [get(name, r) for r in range(1, rounds + 1)] for name, get in [("deep", ours), ("deep2", ours), ("deep_numpy", ref)]}
print()
print("| 784-100-100-10 (train_deep) | wall time (s) | ms/iter (training) | final train acc | final test acc | speed-up vs NumPy |")
print("|---|---|---|---|---|---|")
for label, name in [("constnn f32, 1 thread", "deep"), ("constnn f32, 2 threads", "deep2"), ("NumPy f32, 1 thread", "deep_numpy")]:
    v = deep[name]
    ups = [deep["deep_numpy"][r][0] / v[r][0] for r in range(rounds)]
    up = f"{median(ups):.2f}×{spread(ups)}"
    print(f"| {label} | {median(x[0] for x in v):.2f} | {median(x[1] for x in v):.3f} | {v[0][2]:.4f} | {v[0][3]:.4f} | {up} |")
def optim_ours(r):
    out = text("optim", r)
    t = float(re.search(r"time: ([\d.]+) s", out).group(1))
    last = dict(re.findall(r"(\w+)=([\d.]+)", out.strip().splitlines()[-1]))
    return t, {k: float(v) for k, v in last.items()}
def optim_ref(r):
    res = json.loads(text("optim_numpy", r).strip().splitlines()[-1].split("RESULT ", 1)[1])
    return res["total_s"], res["mean_loss_last_100"]
o, n = [optim_ours(r) for r in range(1, rounds + 1)], [optim_ref(r) for r in range(1, rounds + 1)]
names = ["SGD", "Momentum", "AdaGrad", "Adam"]
print()
print("| optimizer_compare (figure 6-9), 2 000 iterations | time (s) | " + " | ".join(f"{k} mean loss, last 100" for k in names) + " | speed-up |")
print("|---|---|" + "---|" * len(names) + "---|")
ups = [n[r][0] / o[r][0] for r in range(rounds)]
print(f"| constnn f32 (4 networks on the machine's threads) | {median(x[0] for x in o):.2f} | " + " | ".join(f"{o[0][1][k]:.4f}" for k in names) + f" | {median(ups):.2f}×{spread(ups)} |")
print(f"| NumPy f32, 1 thread | {median(x[0] for x in n):.2f} | " + " | ".join(f"{n[0][1][k]:.4f}" for k in names) + " | 1.00× |")
PY
