//! Optimisers: how parameters move along their gradients (the book's `common/optimizer.py`,
//! chapter 6): [`Sgd`], [`Momentum`], [`Nesterov`], [`AdaGrad`], [`RmsProp`], [`Adam`], each
//! with the book's update rule, defaults and `1e-7` guard, step for step as its NumPy code
//! computes them in the same precision.
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

/// A boxed optimiser, of a type chosen at run time (`Box<dyn Optimizer<L>>`), is one.
///
/// # Examples
///
/// ```
/// use constnn::optim::{Adam, Optimizer, Sgd};
/// use constnn::layers::{Affine, Train};
/// type L = Affine<f64, 1, 1>;
/// let mut chosen: Box<dyn Optimizer<L>> =
///     if true { Box::new(Sgd::new(0.1)) } else { Box::new(Adam::new(0.001, 0.9, 0.999)) };
/// let mut layer = L::from_parts([[1.0]], [0.0]);
/// layer.for_each_param(|p| p.grad.fill(1.0));
/// chosen.update(&mut layer);
/// assert_eq!(layer.w()[0][0], 0.9);
/// ```
#[cfg(feature = "alloc")]
impl<L: Train, O: Optimizer<L> + ?Sized> Optimizer<L> for alloc::boxed::Box<O> {
    fn update(&mut self, layers: &mut L) {
        (**self).update(layers);
    }
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
            crate::matrix::kernels::vectorized(
                #[inline(always)]
                || {
                    for (v, g) in p.value.iter_mut().zip(p.grad.iter()) {
                        *v -= self.lr * *g;
                    }
                },
            )
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
            crate::matrix::kernels::vectorized(
                #[inline(always)]
                || {
                    for ((w, g), v) in p.value.iter_mut().zip(p.grad.iter()).zip(v.iter_mut()) {
                        *v = momentum * *v - lr * *g;
                        *w += *v;
                    }
                },
            )
        });
    }
}

/// The book's guard against dividing by a zero root: `1e-7`.
pub const EPS: f64 = 1e-7;

/// Nesterov's accelerated gradient (the book's `Nesterov`, after Sutskever et al.): with
/// `v ← α·v − lr·g`, the step `p ← p + α²·v − (1 + α)·lr·g`.
///
/// # Examples
///
/// ```
/// use constnn::optim::{Nesterov, Optimizer};
/// use constnn::layers::{Affine, Train};
/// let mut layer = Affine::<f64, 1, 1>::from_parts([[1.0]], [0.0]);
/// let mut opt = Nesterov::new(0.5, 0.9);
/// layer.for_each_param(|p| p.grad.fill(1.0));
/// opt.update(&mut layer); // v = −0.5; p += 0.81·(−0.5) − 1.9·0.5
/// assert!((layer.w()[0][0] - (1.0 - 0.405 - 0.95)).abs() < 1e-15);
/// ```
pub struct Nesterov<L: Train> {
    /// The learning rate (the book's default: 0.01).
    pub lr: L::Scalar,
    /// α (the book's default: 0.9).
    pub momentum: L::Scalar,
    v: Moments<L, 1>,
}

impl<L: Train> Nesterov<L> {
    /// Nesterov with learning rate `lr` and factor `momentum`, every velocity zero.
    pub fn new(lr: L::Scalar, momentum: L::Scalar) -> Self {
        Self {
            lr,
            momentum,
            v: L::moments(),
        }
    }
}

impl<L: Train> Optimizer<L> for Nesterov<L> {
    fn update(&mut self, layers: &mut L) {
        let (lr, momentum) = (self.lr, self.momentum);
        layers.for_each_param_with(&mut self.v, |p, [v]| {
            crate::matrix::kernels::vectorized(
                #[inline(always)]
                || {
                    for ((w, g), v) in p.value.iter_mut().zip(p.grad.iter()).zip(v.iter_mut()) {
                        *v *= momentum;
                        *v -= lr * *g;
                        *w += momentum * momentum * *v;
                        *w -= (L::Scalar::ONE + momentum) * lr * *g;
                    }
                },
            )
        });
    }
}

/// AdaGrad (the book's `AdaGrad`): `h ← h + g²`, then `p ← p − lr·g / (√h + 1e-7)`: each
/// parameter's steps shrink with the squares of its past gradients.
///
/// # Examples
///
/// ```
/// use constnn::optim::{AdaGrad, Optimizer};
/// use constnn::layers::{Affine, Train};
/// let mut layer = Affine::<f64, 1, 1>::from_parts([[1.0]], [0.0]);
/// let mut opt = AdaGrad::new(0.1);
/// layer.for_each_param(|p| p.grad.fill(2.0));
/// opt.update(&mut layer); // h = 4: p −= 0.1·2 / (2 + 1e-7)
/// opt.update(&mut layer); // h = 8
/// let w = 1.0 - 0.2 / (2.0 + 1e-7) - 0.2 / (8f64.sqrt() + 1e-7);
/// assert_eq!(layer.w()[0][0], w);
/// ```
pub struct AdaGrad<L: Train> {
    /// The learning rate (the book's default: 0.01).
    pub lr: L::Scalar,
    h: Moments<L, 1>,
}

impl<L: Train> AdaGrad<L> {
    /// AdaGrad with learning rate `lr`, every sum of squares zero.
    pub fn new(lr: L::Scalar) -> Self {
        Self {
            lr,
            h: L::moments(),
        }
    }
}

impl<L: Train> Optimizer<L> for AdaGrad<L> {
    fn update(&mut self, layers: &mut L) {
        let (lr, eps) = (self.lr, L::Scalar::from_f64(EPS));
        layers.for_each_param_with(&mut self.h, |p, [h]| {
            crate::matrix::kernels::vectorized(
                #[inline(always)]
                || {
                    for ((w, g), h) in p.value.iter_mut().zip(p.grad.iter()).zip(h.iter_mut()) {
                        *h += *g * *g;
                        *w -= lr * *g / (h.sqrt() + eps);
                    }
                },
            )
        });
    }
}

/// RMSprop (the book's `RMSprop`): `h ← ρ·h + (1 − ρ)·g²`, then `p ← p − lr·g / (√h + 1e-7)`:
/// AdaGrad with the past forgotten at the rate `1 − ρ`.
///
/// # Examples
///
/// ```
/// use constnn::optim::{Optimizer, RmsProp};
/// use constnn::layers::{Affine, Train};
/// let mut layer = Affine::<f64, 1, 1>::from_parts([[1.0]], [0.0]);
/// let mut opt = RmsProp::new(0.01, 0.99);
/// layer.for_each_param(|p| p.grad.fill(2.0));
/// opt.update(&mut layer); // h = 0.01·4 = 0.04: p −= 0.01·2 / (0.2 + 1e-7)
/// let h: f64 = 0.99 * 0.0 + (1.0 - 0.99) * 4.0;
/// assert_eq!(layer.w()[0][0], 1.0 - 0.01 * 2.0 / (h.sqrt() + 1e-7));
/// ```
pub struct RmsProp<L: Train> {
    /// The learning rate (the book's default: 0.01).
    pub lr: L::Scalar,
    /// How much of the running mean of squares is kept per step, ρ (the book's default: 0.99).
    pub decay_rate: L::Scalar,
    h: Moments<L, 1>,
}

impl<L: Train> RmsProp<L> {
    /// RMSprop with learning rate `lr` and decay rate `decay_rate`, every mean of squares zero.
    pub fn new(lr: L::Scalar, decay_rate: L::Scalar) -> Self {
        Self {
            lr,
            decay_rate,
            h: L::moments(),
        }
    }
}

impl<L: Train> Optimizer<L> for RmsProp<L> {
    fn update(&mut self, layers: &mut L) {
        let (lr, rho, eps) = (self.lr, self.decay_rate, L::Scalar::from_f64(EPS));
        layers.for_each_param_with(&mut self.h, |p, [h]| {
            crate::matrix::kernels::vectorized(
                #[inline(always)]
                || {
                    for ((w, g), h) in p.value.iter_mut().zip(p.grad.iter()).zip(h.iter_mut()) {
                        *h *= rho;
                        *h += (L::Scalar::ONE - rho) * *g * *g;
                        *w -= lr * *g / (h.sqrt() + eps);
                    }
                },
            )
        });
    }
}

/// Adam (the book's `Adam`, after Kingma and Ba): at step `t`,
/// `lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)` (computed in f64, then rounded to the scalar type, as
/// NumPy does), `m ← m + (1 − β₁)(g − m)`, `v ← v + (1 − β₂)(g² − v)`, then
/// `p ← p − lr_t·m / (√v + 1e-7)`.
///
/// # Examples
///
/// ```
/// use constnn::optim::{Adam, Optimizer};
/// use constnn::layers::{Affine, Train};
/// let mut layer = Affine::<f64, 1, 1>::from_parts([[1.0]], [0.0]);
/// let mut opt = Adam::new(0.001, 0.9, 0.999);
/// layer.for_each_param(|p| p.grad.fill(0.5));
/// opt.update(&mut layer);
/// // Step 1: m = 0.05, v = 0.00025, lr_t = 0.001·√0.001/0.1: a step of about lr.
/// let (m, v) = ((1.0 - 0.9) * 0.5, (1.0 - 0.999) * 0.25);
/// let lr_t = 0.001 * (1.0f64 - 0.999).sqrt() / (1.0 - 0.9);
/// assert_eq!(layer.w()[0][0], 1.0 - lr_t * m / (f64::sqrt(v) + 1e-7));
/// assert_eq!(opt.steps(), 1);
/// ```
pub struct Adam<L: Train> {
    /// The learning rate (the book's default: 0.001).
    pub lr: f64,
    /// β₁, the first moment's decay (the book's default: 0.9).
    pub beta1: f64,
    /// β₂, the second moment's decay (the book's default: 0.999).
    pub beta2: f64,
    t: i32,
    moments: Moments<L, 2>,
}

impl<L: Train> Adam<L> {
    /// Adam with learning rate `lr` and decays `beta1`, `beta2`, every moment zero.
    pub fn new(lr: f64, beta1: f64, beta2: f64) -> Self {
        Self {
            lr,
            beta1,
            beta2,
            t: 0,
            moments: L::moments(),
        }
    }

    /// How many updates it has made (`t`).
    pub fn steps(&self) -> i32 {
        self.t
    }
}

impl<L: Train> Optimizer<L> for Adam<L> {
    fn update(&mut self, layers: &mut L) {
        self.t = self.t.saturating_add(1);
        let t = self.t;
        let lr_t = self.lr * libm::sqrt(1.0 - libm::pow(self.beta2, f64::from(t)))
            / (1.0 - libm::pow(self.beta1, f64::from(t)));
        let from = L::Scalar::from_f64;
        let (lr_t, b1, b2, eps) = (from(lr_t), from(self.beta1), from(self.beta2), from(EPS));
        let one = L::Scalar::ONE;
        layers.for_each_param_with(&mut self.moments, |p, [m, v]| {
            crate::matrix::kernels::vectorized(
                #[inline(always)]
                || {
                    for (((w, g), m), v) in p
                        .value
                        .iter_mut()
                        .zip(p.grad.iter())
                        .zip(m.iter_mut())
                        .zip(v.iter_mut())
                    {
                        *m += (one - b1) * (*g - *m);
                        *v += (one - b2) * (*g * *g - *v);
                        *w -= lr_t * *m / (v.sqrt() + eps);
                    }
                },
            )
        });
    }
}

/// Weight decay (the book's section 6.4.2, L2): the optimiser `O` steps with each weight
/// matrix's gradient plus `λ·W` — the gradient of the `½λ·ΣW²` the book adds to the loss
/// ([`Network::decay_loss`](crate::Network::decay_loss)); biases as they are. Any optimiser
/// takes it, as PyTorch's `weight_decay` does.
///
/// # Examples
///
/// ```
/// use constnn::optim::{Optimizer, Sgd, WeightDecay};
/// use constnn::layers::{Affine, Train};
/// let mut layer = Affine::<f64, 1, 1>::from_parts([[2.0]], [2.0]);
/// layer.for_each_param(|p| p.grad.fill(1.0));
/// WeightDecay::new(0.5, Sgd::new(0.1)).update(&mut layer);
/// assert_eq!(layer.w()[0][0], 2.0 - 0.1 * (1.0 + 0.5 * 2.0)); // W decays
/// assert_eq!(layer.b[0], 2.0 - 0.1 * 1.0); // b does not
/// ```
#[derive(Debug, Clone)]
pub struct WeightDecay<O> {
    /// λ (the book's `weight_decay_lambda`).
    pub lambda: f64,
    /// The optimiser that takes the steps.
    pub inner: O,
}

impl<O> WeightDecay<O> {
    /// `inner` with weight decay `lambda`.
    pub const fn new(lambda: f64, inner: O) -> Self {
        Self { lambda, inner }
    }
}

impl<L: Train, O: Optimizer<L>> Optimizer<L> for WeightDecay<O> {
    fn update(&mut self, layers: &mut L) {
        let lambda = L::Scalar::from_f64(self.lambda);
        layers.for_each_param(|p| {
            crate::matrix::kernels::vectorized(
                #[inline(always)]
                || {
                    if let crate::params::Shape::Matrix(..) = p.shape {
                        for (g, w) in p.grad.iter_mut().zip(p.value.iter()) {
                            *g += lambda * *w;
                        }
                    }
                },
            )
        });
        self.inner.update(layers);
    }
}
