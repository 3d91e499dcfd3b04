//! The book's optimisers (`common/optimizer.py`), each checked over several steps against its
//! update rule written out here as the book's NumPy code computes it (the same operations in
//! the same order, in the same precision), bit for bit, in f32 and f64; and on a task each
//! must solve.

use crate::common;

use constnn::layers::{Affine, Train};
use constnn::optim::{AdaGrad, Adam, EPS, Momentum, Nesterov, Optimizer, RmsProp, Sgd};
use constnn::{Float, TwoLayerNet};

type Layer<T> = Affine<T, 2, 3>;

/// A layer's parameters (W then b), flattened.
fn values<T: Float>(layer: &mut Layer<T>) -> Vec<T> {
    let mut v = Vec::new();
    layer.for_each_param(|p| v.extend_from_slice(p.value));
    v
}

/// Runs `steps` updates of `opt` on a layer whose gradients are drawn anew before each, and the
/// same updates through `rule` (state per value: `state`, the step from 1, the gradient, the
/// value), and checks that every value agrees bit for bit after every step.
fn check<T: Float, const K: usize>(
    name: &str,
    mut opt: impl Optimizer<Layer<T>>,
    mut rule: impl FnMut(&mut [T; K], i32, T, T) -> T,
) {
    let mut rng = common::rng(3);
    let w = [[0.5, -1.0, 0.25], [2.0, 0.0, -0.75]].map(|r| r.map(T::from_f64));
    let mut layer = Layer::<T>::from_parts(w, [0.1, -0.2, 0.3].map(T::from_f64));
    let mut expected = values(&mut layer);
    let mut state = vec![[T::ZERO; K]; expected.len()];
    for step in 1..=6 {
        let grads: Vec<T> = (0..expected.len())
            .map(|_| T::from_f64(common::uniform(&mut rng, -2.0, 2.0)))
            .collect();
        let mut k = 0;
        layer.for_each_param(|p| {
            for g in p.grad.iter_mut() {
                *g = grads[k];
                k += 1;
            }
        });
        opt.update(&mut layer);
        for ((e, s), g) in expected.iter_mut().zip(&mut state).zip(&grads) {
            *e = rule(s, step, *g, *e);
        }
        let bits = |v: &[T]| v.iter().map(|x| x.to_f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&values(&mut layer)),
            bits(&expected),
            "{name} {}, step {step}",
            T::NAME
        );
    }
}

fn all_rules<T: Float>() {
    let c = T::from_f64;
    let (lr, eps) = (c(0.01), c(EPS));
    check::<T, 0>("SGD", Sgd::new(lr), |_, _, g, p| p - lr * g);
    check::<T, 1>("Momentum", Momentum::new(lr, c(0.9)), |[v], _, g, p| {
        *v = c(0.9) * *v - lr * g;
        p + *v
    });
    check::<T, 1>("Nesterov", Nesterov::new(lr, c(0.9)), |[v], _, g, p| {
        let m = c(0.9);
        *v *= m;
        *v -= lr * g;
        let p = p + m * m * *v;
        p - (T::ONE + m) * lr * g
    });
    check::<T, 1>("AdaGrad", AdaGrad::new(lr), |[h], _, g, p| {
        *h += g * g;
        p - lr * g / (h.sqrt() + eps)
    });
    check::<T, 1>("RMSprop", RmsProp::new(lr, c(0.99)), |[h], _, g, p| {
        *h *= c(0.99);
        *h += (T::ONE - c(0.99)) * g * g;
        p - lr * g / (h.sqrt() + eps)
    });
    check::<T, 2>("Adam", Adam::new(0.001, 0.9, 0.999), |[m, v], t, g, p| {
        let t = f64::from(t);
        let lr_t = c(0.001 * (1.0 - libm::pow(0.999, t)).sqrt() / (1.0 - libm::pow(0.9, t)));
        let (b1, b2) = (c(0.9), c(0.999));
        *m += (T::ONE - b1) * (g - *m);
        *v += (T::ONE - b2) * (g * g - *v);
        p - lr_t * *m / (v.sqrt() + eps)
    });
}

#[test]
fn every_optimizer_follows_the_books_rule_bit_for_bit_in_f64() {
    all_rules::<f64>();
}

#[test]
fn every_optimizer_follows_the_books_rule_bit_for_bit_in_f32() {
    all_rules::<f32>();
}

/// Adam's first step moves every parameter by about `lr` against its gradient's sign,
/// whatever the gradient's size (the bias correction's point): 0.001 ± 1e-6.
#[test]
fn adams_first_step_is_about_lr_whatever_the_gradient() {
    for g in [0.01, 0.5, 40.0] {
        let mut layer = Layer::<f64>::from_parts([[0.0; 3]; 2], [0.0; 3]);
        layer.for_each_param(|p| p.grad.fill(g));
        Adam::new(0.001, 0.9, 0.999).update(&mut layer);
        let step = -layer.w()[0][0];
        assert!((step - 0.001).abs() < 1e-6, "gradient {g}: step {step}");
    }
}

/// Each optimiser at the book's defaults (Adam's lr 0.001, the others' 0.01, here ten times
/// larger for a short run) takes a small network from chance to solving XOR.
#[test]
fn every_optimizer_learns_xor() {
    type Net = TwoLayerNet<2, 8, 2, f64>;
    fn train(name: &str, opt: &mut impl Optimizer<<Net as HasLayers>::L>) {
        let (x, t) = (
            [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
            [0u8, 1, 1, 0],
        );
        let mut net = Net::new(1.0, &mut common::rng(1));
        for _ in 0..3000 {
            net.train_step(&x, &t, opt).unwrap();
        }
        assert_eq!(net.accuracy(&x, &t).unwrap(), 1.0, "{name}");
    }
    train("SGD", &mut Sgd::new(0.1));
    train("Momentum", &mut Momentum::new(0.1, 0.9));
    train("Nesterov", &mut Nesterov::new(0.1, 0.9));
    train("AdaGrad", &mut AdaGrad::new(0.1));
    train("RMSprop", &mut RmsProp::new(0.01, 0.99));
    train("Adam", &mut Adam::new(0.01, 0.9, 0.999));
}

/// The layers of a network type, to name an optimiser's type.
trait HasLayers {
    type L: Train;
}

impl<L: Train> HasLayers for constnn::Network<L> {
    type L = L;
}
