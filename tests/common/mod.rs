//! Helpers shared by the integration tests.
#![allow(dead_code)]

use rand_core::{Rng, SeedableRng};

/// A seeded generator, so every test sees the same numbers.
pub fn rng(seed: u64) -> rand_pcg::Pcg64 {
    rand_pcg::Pcg64::seed_from_u64(seed)
}

/// Uniform in [lo, hi).
pub fn uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
}

/// A matrix of uniform values in [lo, hi) whose magnitudes are at least `min_abs` (keeps ReLU's
/// kink out of a finite difference's reach).
pub fn random_matrix<const R: usize, const C: usize>(
    rng: &mut impl Rng,
    lo: f64,
    hi: f64,
    min_abs: f64,
) -> [[f64; C]; R] {
    let mut m = [[0.0; C]; R];
    for v in m.as_flattened_mut() {
        loop {
            *v = uniform(rng, lo, hi);
            if v.abs() >= min_abs {
                break;
            }
        }
    }
    m
}

/// `|a − b| / max(|a|, |b|)`, 0 when both are 0.
pub fn rel_err(a: f64, b: f64) -> f64 {
    let scale = a.abs().max(b.abs());
    if scale == 0.0 {
        0.0
    } else {
        (a - b).abs() / scale
    }
}

/// Central difference of `f` at every element of `p`: `(f(p + h) − f(p − h)) / 2h`.
pub fn numerical_grad(p: &mut [f64], h: f64, mut f: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
    (0..p.len())
        .map(|i| {
            let orig = p[i];
            p[i] = orig + h;
            let f1 = f(p);
            p[i] = orig - h;
            let f2 = f(p);
            p[i] = orig;
            (f1 - f2) / (2.0 * h)
        })
        .collect()
}

/// Asserts that two gradients agree element by element to relative error `tol`.
pub fn assert_close(what: &str, numerical: &[f64], analytic: &[f64], tol: f64) {
    assert_eq!(numerical.len(), analytic.len(), "{what}: lengths differ");
    for (i, (n, a)) in numerical.iter().zip(analytic).enumerate() {
        let e = rel_err(*n, *a);
        assert!(
            e < tol,
            "{what}[{i}]: numerical {n:e} vs analytic {a:e}: relative error {e:e}"
        );
    }
}

/// A parameter tensor's name (`W1`, …), values and gradient, copied.
pub type Copied<T> = (String, Vec<T>, Vec<T>);

/// Each parameter tensor of `layer`, copied.
pub fn params_of<L: constnn::Train>(layer: &mut L) -> Vec<Copied<L::Scalar>> {
    let mut all = Vec::new();
    layer.for_each_param(|p| all.push((p.id.to_string(), p.value.to_vec(), p.grad.to_vec())));
    all
}

/// Sets the values of parameter tensor `k` of `layer` to `values`.
pub fn set_tensor<L: constnn::Layer>(layer: &mut L, k: usize, values: &[L::Scalar]) {
    let mut j = 0;
    layer.for_each_tensor_mut(|_, _, v| {
        if j == k {
            v.copy_from_slice(values);
        }
        j += 1;
    });
}

/// Calls `f` on the values of trained parameter tensor `k` of `layer` (the order of
/// `for_each_param`, which skips state such as BatchNorm's running averages).
pub fn for_trained<L: constnn::Train>(
    layer: &mut L,
    k: usize,
    mut f: impl FnMut(&mut [L::Scalar]),
) {
    let mut j = 0;
    layer.for_each_param(|p| {
        if j == k {
            f(p.value);
        }
        j += 1;
    });
}

/// The training-mode loss of `net` on `x`, `t`: `forward_train` through the layers (Dropout's
/// mask of the current step, BatchNorm's batch statistics, the running averages untouched)
/// and the softmax loss.
pub fn train_loss<L, const I: usize, const O: usize, const N: usize>(
    net: &constnn::Network<L>,
    x: &[[f64; I]; N],
    t: &[u8; N],
) -> f64
where
    L: constnn::Train<Input = [f64; I], Output = [f64; O], Scalar = f64>,
{
    use constnn::matrix::Zeros;
    let mut tape = L::Tape::<N>::zeros();
    let mut logits = [[0.0; O]; N];
    net.layers.forward_train(x, &mut tape, &mut logits);
    constnn::SoftmaxWithLoss::new().forward(&logits, t).unwrap()
}

/// The central difference `(loss(p + h) − loss(p − h)) / 2h` of `loss` for every value of
/// every trained parameter of `net`, in `for_each_param`'s order (each value restored).
pub fn numerical_gradients<L: constnn::Train<Scalar = f64>>(
    net: &mut constnn::Network<L>,
    h: f64,
    mut loss: impl FnMut(&constnn::Network<L>) -> f64,
) -> Vec<f64> {
    let mut numerical = Vec::new();
    for k in 0..constnn::layers::param_list::<L>().trained() {
        let mut len = 0;
        for_trained(&mut net.layers, k, |v| len = v.len());
        for i in 0..len {
            let mut at = |d: f64| {
                for_trained(&mut net.layers, k, |v| v[i] += d);
                let l = loss(net);
                for_trained(&mut net.layers, k, |v| v[i] -= d);
                l
            };
            numerical.push((at(h) - at(-h)) / (2.0 * h));
        }
    }
    numerical
}

/// Every parameter tensor of `layers` (running averages included), by name, in order.
pub fn tensors<L: constnn::Layer>(layers: &L) -> Vec<(String, Vec<L::Scalar>)> {
    let mut all = Vec::new();
    layers.for_each_tensor(|t| all.push((t.id.to_string(), t.values.to_vec())));
    all
}
