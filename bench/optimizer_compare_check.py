# Runs ../shared/bench/optimizer_compare_numpy.py (the book's chapter-6 optimizer comparison in
# NumPy) for a few iterations and compares its per-iteration losses with the CSV that
# `cargo run --release --example optimizer_compare -- --iters N --dtype T` wrote: prints, per
# optimizer, the largest relative difference over the first iterations, and exits non-zero if
# one exceeds --tol.
#
#   python3 bench/optimizer_compare_check.py --csv out/optimizer_compare.csv --iters 20 --dtype float64
import argparse, csv, io, os, runpy, sys, contextlib

ap = argparse.ArgumentParser()
ap.add_argument('--csv', required=True)
ap.add_argument('--iters', type=int, default=20)
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--dtype', default='float64')
ap.add_argument('--tol', type=float, default=None)
ap.add_argument('--refs', default=os.environ.get('REFS', os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'bench')))
a = ap.parse_args()

script = os.path.join(a.refs, 'optimizer_compare_numpy.py')
sys.argv = [script, '--seed', str(a.seed), '--iters', str(a.iters), '--dtype', a.dtype]
with contextlib.redirect_stdout(io.StringIO()):
    ref = runpy.run_path(script, run_name='__main__')['losses']
ours = {}
with open(a.csv) as f:
    for row in csv.DictReader(f):
        for k, v in row.items():
            if k != 'iteration':
                ours.setdefault(k, []).append(float(v))
tol = a.tol if a.tol is not None else (1e-9 if a.dtype == 'float64' else 1e-3)
worst = 0.0
for k, losses in ref.items():
    n = min(len(losses), len(ours[k]), a.iters)
    diffs = [abs(ours[k][i] - losses[i]) / abs(losses[i]) for i in range(n)]
    worst = max(worst, max(diffs))
    print(f"{k:9s} first {n} iterations: largest relative difference {max(diffs):.2e} "
          f"(iteration {diffs.index(max(diffs))}; NumPy {losses[0]:.10f}, constnn {ours[k][0]:.10f} at 0)")
print(f"worst {worst:.2e} (tolerance {tol:.0e}, {a.dtype})")
sys.exit(0 if worst <= tol else 1)
