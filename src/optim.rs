//! Optimisers: how parameters move along their gradients (the book's `common/optimizer.py`).
//!
//! An optimiser is an [`Optimizer<L>`] for the layers `L` it updates. One that keeps state per
//! parameter (Momentum's velocity) owns it typed and shaped like the network
//! ([`Moments<L, K>`](crate::params::Moments)): made once, zeroed, by value for `Inline`
//! layers and boxed for `Heap` ones, with no index bookkeeping. Its update is a walk over
//! every tensor with its gradient and its moments
//! ([`Train::for_each_param_with`]).

use crate::float::Float;
use crate::layers::Train;
use crate::params::Moments;

/// Updates every parameter of the layers `L` from the gradients their last backward pass
/// stored.
pub trait Optimizer<L: Train> {
    /// One update of every parameter of `layers`.
    fn update(&mut self, layers: &mut L);
}

/// Stochastic gradient descent: `p −= lr · dL/dp` (the book's `params[key] -= lr * grad[key]`).
///
/// # Examples
///
/// ```
/// use constnn::{Sgd, layers::{Affine, Train}, optim::Optimizer};
/// let mut layer = Affine::<f64, 1, 1>::from_parts([[2.0]], [0.5]);
/// layer.for_each_param(|p| p.grad.fill(1.0));
/// Sgd::new(0.1).update(&mut layer);
/// assert_eq!((layer.w()[0][0], layer.b[0]), (2.0 - 0.1, 0.5 - 0.1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd<T = f32> {
    /// The learning rate.
    pub lr: T,
}

impl<T: Float> Sgd<T> {
    /// SGD with learning rate `lr`.
    pub const fn new(lr: T) -> Self {
        Self { lr }
    }
}

impl<T: Float, L: Train<Scalar = T>> Optimizer<L> for Sgd<T> {
    fn update(&mut self, layers: &mut L) {
        layers.for_each_param(|p| {
            for (v, g) in p.value.iter_mut().zip(p.grad.iter()) {
                *v -= self.lr * *g;
            }
        });
    }
}

/// Momentum SGD (the book's `Momentum`): `v ← α·v − lr · dL/dp`, then `p ← p + v`, with a
/// velocity `v` per parameter, zero at first.
///
/// # Examples
///
/// ```
/// use constnn::{Momentum, layers::{Affine, Train}, optim::Optimizer};
/// let mut layer = Affine::<f64, 1, 1>::from_parts([[1.0]], [0.0]);
/// let mut opt = Momentum::new(0.5, 0.9);
/// layer.for_each_param(|p| p.grad.fill(1.0));
/// opt.update(&mut layer); // v = −0.5
/// opt.update(&mut layer); // v = 0.9·(−0.5) − 0.5 = −0.95
/// assert_eq!(layer.w()[0][0], 1.0 - 0.5 - 0.95);
/// ```
pub struct Momentum<L: Train> {
    /// The learning rate (the book's default: 0.01).
    pub lr: L::Scalar,
    /// How much of the velocity is kept per step, α (the book's default: 0.9).
    pub momentum: L::Scalar,
    v: Moments<L, 1>,
}

impl<L: Train> Momentum<L> {
    /// Momentum with learning rate `lr` and factor `momentum`, every velocity zero.
    pub fn new(lr: L::Scalar, momentum: L::Scalar) -> Self {
        Self {
            lr,
            momentum,
            v: L::moments(),
        }
    }
}

impl<L: Train> Optimizer<L> for Momentum<L> {
    fn update(&mut self, layers: &mut L) {
        let (lr, momentum) = (self.lr, self.momentum);
        layers.for_each_param_with(&mut self.v, |p, [v]| {
            for ((w, g), v) in p.value.iter_mut().zip(p.grad.iter()).zip(v.iter_mut()) {
                *v = momentum * *v - lr * *g;
                *w += *v;
            }
        });
    }
}
