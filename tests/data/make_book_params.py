"""Writes book_params.npz, the checked-in file tests/npz.rs loads: the `params` dict of the book's
MultiLayerNetExtend(input_size=4, hidden_size_list=[5], output_size=3, use_batchnorm=True) as
NumPy writes it, with the first BatchNorm layer's running averages beside it.

Values come from a formula (no random stream), in float64 as the book's are; W2 is stored in
Fortran order and the file is compressed, so that both paths of the reader are taken. It
prints the book's inference-mode scores of three inputs, which the test pins.

    python3 tests/data/make_book_params.py tests/data/book_params.npz
"""
import sys

import numpy as np

params = {
    "W1": np.arange(20, dtype=np.float64).reshape(4, 5) / 7 - 1.3,
    "b1": np.array([0.1, -0.2, 0.3, -0.4, 0.5]),
    "gamma1": np.array([1.0, 0.9, 1.1, 0.8, 1.2]),
    "beta1": np.array([0.0, 0.05, -0.05, 0.1, -0.1]),
    "running_mean1": np.array([0.5, -0.25, 0.125, 1.0, -1.0]),
    "running_var1": np.array([1.0, 2.0, 0.5, 4.0, 0.25]),
    "W2": np.asfortranarray(np.cos(np.arange(15, dtype=np.float64)).reshape(5, 3)),
    "b2": np.array([0.01, 0.02, 0.03]),
}


def scores(params, x):
    """The book's predict(x, train_flg=False): Affine, BatchNorm, ReLU, Affine."""
    a = x @ params["W1"] + params["b1"]
    xn = (a - params["running_mean1"]) / np.sqrt(params["running_var1"] + 10e-7)
    h = np.maximum(params["gamma1"] * xn + params["beta1"], 0)
    return h @ params["W2"] + params["b2"]


if __name__ == "__main__":
    np.savez_compressed(sys.argv[1], **params)
    x = np.array([[0.5, -1.0, 0.25, 2.0], [1.0, 1.0, 1.0, 1.0], [2.0, -0.5, 0.0, 0.3]])
    for row in scores(params, x):
        print(", ".join(repr(float(v)) for v in row))
