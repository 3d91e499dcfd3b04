//! Optimisers: how parameters move along their gradients.

use crate::float::Float;
use crate::layers::Train;

/// Updates every parameter of some layers from the gradients their last backward pass stored.
///
/// Layers expose parameters only through [`Train::param`], so a new optimiser (Momentum, Adam)
/// needs no change to any layer; one with per-parameter state indexes it by `(k, i)`.
pub trait Optimizer<T: Float> {
    /// One update of every parameter of `layers`.
    fn update<L: Train<Scalar = T>>(&mut self, layers: &mut L);
}

/// Stochastic gradient descent: `p −= lr · dL/dp` (the book's `params[key] -= lr * grad[key]`).
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

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn update<L: Train<Scalar = T>>(&mut self, layers: &mut L) {
        for k in 0..L::PARAMS {
            if let Some(p) = layers.param(k) {
                for (v, g) in p.value.iter_mut().zip(p.grad.iter()) {
                    *v -= self.lr * *g;
                }
            }
        }
    }
}
