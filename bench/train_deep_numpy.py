# NumPy float32 reference for constnn's `train_deep` example: 784-100-100-10 with ReLU, the
# book's MultiLayerNet (chapter 6) with weight_init_std='relu' (He: W = sqrt(2/n) * randn, drawn
# W1, W2, W3 in order; biases 0), SoftmaxWithLoss (mean over the batch), plain SGD lr 0.1,
# batch 100 drawn with np.random.choice(60000, 100) (with replacement, as the book), train and
# test accuracy every 600 iterations. Backprop by the book's formulas (Affine: dX = dY W^T,
# dW = X^T dY, db = sum dY; ReLU: mask x <= 0), without the first layer's dX.
# Prints per-epoch accuracies and a final 'RESULT {json}' line, as ../shared/bench's scripts.
#
#   MNIST_DIR=data/mnist python3 bench/train_deep_numpy.py [--seed 0] [--iters 10000]
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.environ.get("REFS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench")))
from mnist_local import load_mnist  # noqa: E402  (the shared loader: gzipped IDX, /255, one-hot)

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=None)
ap.add_argument("--iters", type=int, default=10000)
ap.add_argument("--lr", type=float, default=0.1)
args = ap.parse_args()
if args.seed is not None:
    np.random.seed(args.seed)

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
x_train = np.ascontiguousarray(x_train, dtype=np.float32)
x_test = np.ascontiguousarray(x_test, dtype=np.float32)
y_train, y_test = t_train.argmax(axis=1), t_test.argmax(axis=1)
t_train = t_train.astype(np.float32)

sizes = [784, 100, 100, 10]
W, b = [], []
for n_in, n_out in zip(sizes[:-1], sizes[1:]):
    W.append((np.sqrt(2.0 / n_in) * np.random.randn(n_in, n_out)).astype(np.float32))
    b.append(np.zeros(n_out, np.float32))


def predict(x):
    for k in range(len(W) - 1):
        x = np.maximum(x @ W[k] + b[k], 0)
    return x @ W[-1] + b[-1]


def accuracy(x, y):
    return float((predict(x).argmax(axis=1) == y).mean())


iters_num, train_size, batch_size, lr = args.iters, 60000, 100, np.float32(args.lr)
iter_per_epoch = max(train_size // batch_size, 1)
evals, eval_time, loss, first_losses = [], 0.0, float("nan"), []
t_start = time.perf_counter()
for i in range(iters_num):
    mask = np.random.choice(train_size, batch_size)
    x, t = x_train[mask], t_train[mask]
    # Forward, keeping each layer's input and pre-activation.
    inputs, pre = [x], []
    for k in range(len(W)):
        a = inputs[-1] @ W[k] + b[k]
        pre.append(a)
        if k < len(W) - 1:
            inputs.append(np.maximum(a, 0))
    a = pre[-1]
    e = np.exp(a - a.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    loss = float(-np.sum(t * np.log(y + 1e-7)) / batch_size)
    if len(first_losses) < 10:
        first_losses.append(loss)
    d = (y - t) / batch_size
    grads = [None] * len(W)
    for k in reversed(range(len(W))):
        grads[k] = (inputs[k].T @ d, d.sum(axis=0))
        if k > 0:
            d = d @ W[k].T
            d[pre[k - 1] <= 0] = 0
    for k in range(len(W)):
        W[k] -= lr * grads[k][0]
        b[k] -= lr * grads[k][1]
    if i % iter_per_epoch == 0:
        te0 = time.perf_counter()
        evals.append((accuracy(x_train, y_train), accuracy(x_test, y_test)))
        eval_time += time.perf_counter() - te0
        print(i, loss, *evals[-1], flush=True)
total = time.perf_counter() - t_start
final = (accuracy(x_train, y_train), accuracy(x_test, y_test))
res = dict(framework="numpy " + np.__version__ + " float32", network="784-100-100-10", seed=args.seed,
           iters=iters_num, total_s=round(total, 3), eval_s=round(eval_time, 3), n_evals=len(evals),
           ms_per_iter_train_only=round(1000 * (total - eval_time) / iters_num, 4),
           final_after_iters=final, final_loss=loss, first_losses=first_losses)
print("RESULT " + json.dumps(res))
