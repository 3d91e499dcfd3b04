//! Batch normalisation (section 6.3): the book's `BatchNormalization` layer.

use super::{Layer, Train};
use crate::float::Float;
use crate::matrix::{Rows, Zeros, rows_mut};
use crate::params::{Beta, Gamma, GradsMut, ParamsMut, ParamsRef, RunningMean, RunningVar};

/// The book's guard inside the square root: `10e-7`.
const EPS: f64 = 10e-7;

/// The book's BatchNormalization: each column normalised to mean 0 and variance 1, then
/// scaled by `γ` and shifted by `β` (both learnt): `y = γ·(x − μ)/√(σ² + 10⁻⁶) + β`.
///
/// The mode is the call's, never a flag: in training ([`forward_train`](Train::forward_train),
/// what `gradient` and `train_step` run) μ and σ² are the batch's own; at inference
/// ([`forward`](Layer::forward), what `predict`, `classify` and a frozen model run) they are
/// running averages of the training batches' (`momentum` 0.9, as the book: `r ← 0.9·r + 0.1·μ`),
/// which `backward` updates once per training step and which a model file saves beside `γ`
/// and `β` (as `running_mean` and `running_var`: state, not trained).
///
/// # Examples
///
/// ```
/// use constnn::layers::{BatchNorm, Layer, Train};
/// use constnn::matrix::Zeros;
/// let mut bn = BatchNorm::<f64, 2>::new();
/// let x = [[1.0, 10.0], [3.0, 30.0]];
/// let (mut out, mut tape) = ([[0.0; 2]; 2], Zeros::zeros());
/// bn.forward_train(&x, &mut tape, &mut out); // the batch's mean and variance
/// assert!((out[0][0] + 1.0).abs() < 1e-5 && (out[1][1] - 1.0).abs() < 1e-5);
/// bn.backward(&x, &mut tape, &out, &[[0.0; 2]; 2], None); // a step: running averages move
/// let mean = bn.running_mean(); // (1 − 0.9) · μ
/// assert!((mean[0] - 0.2).abs() < 1e-12 && (mean[1] - 2.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm<T, const W: usize> {
    /// γ, the scale (ones at first).
    pub gamma: [T; W],
    /// β, the shift (zeros at first).
    pub beta: [T; W],
    running_mean: [T; W],
    running_var: [T; W],
    dgamma: [T; W],
    dbeta: [T; W],
    momentum: f64,
}

impl<T: Float, const W: usize> Default for BatchNorm<T, W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float, const W: usize> BatchNorm<T, W> {
    /// γ = 1, β = 0, running averages zero, momentum 0.9: the book's defaults.
    pub fn new() -> Self {
        Self::with_momentum(0.9)
    }

    /// The book's defaults with running averages that keep `momentum` of themselves per step.
    pub fn with_momentum(momentum: f64) -> Self {
        Self {
            gamma: [T::ONE; W],
            beta: [T::ZERO; W],
            running_mean: [T::ZERO; W],
            running_var: [T::ZERO; W],
            dgamma: [T::ZERO; W],
            dbeta: [T::ZERO; W],
            momentum,
        }
    }

    /// A layer of these parameters and running averages, momentum 0.9 (for
    /// [`include_model!`](crate::include_model!), in a `const`).
    pub(crate) const fn from_state(
        gamma: [T; W],
        beta: [T; W],
        running_mean: [T; W],
        running_var: [T; W],
    ) -> Self {
        Self {
            gamma,
            beta,
            running_mean,
            running_var,
            dgamma: [T::ZERO; W],
            dbeta: [T::ZERO; W],
            momentum: 0.9,
        }
    }

    /// The running average of the training batches' means, used at inference.
    pub fn running_mean(&self) -> &[T; W] {
        &self.running_mean
    }

    /// The running average of the training batches' variances, used at inference.
    pub fn running_var(&self) -> &[T; W] {
        &self.running_var
    }

    /// dL/dγ and dL/dβ, as the last backward pass left them.
    pub fn grads(&self) -> (&[T; W], &[T; W]) {
        (&self.dgamma, &self.dbeta)
    }
}

/// What a training pass of [`BatchNorm`] keeps for backward: the centred rows `x − μ`, the
/// normalised rows, and the batch's μ, σ² and `√(σ² + 10⁻⁶)` per column.
pub struct BatchNormTape<T, const W: usize, const N: usize> {
    xc: Rows<[T; W], N>,
    xn: Rows<[T; W], N>,
    mu: [T; W],
    var: [T; W],
    std: [T; W],
}

impl<T: Float, const W: usize, const N: usize> Zeros for BatchNormTape<T, W, N> {
    fn zeros() -> Self {
        Self {
            xc: Zeros::zeros(),
            xn: Zeros::zeros(),
            mu: [T::ZERO; W],
            var: [T::ZERO; W],
            std: [T::ZERO; W],
        }
    }
}

impl<T: Float, const W: usize> Layer for BatchNorm<T, W> {
    type Input = [T; W];
    type Output = [T; W];
    type Scalar = T;
    type Params = ((Gamma<W>, Beta<W>), (RunningMean<W>, RunningVar<W>));

    fn params(&self) -> ParamsRef<'_, Self> {
        (
            (&self.gamma, &self.beta),
            (&self.running_mean, &self.running_var),
        )
    }

    fn params_mut(&mut self) -> ParamsMut<'_, Self> {
        (
            (&mut self.gamma, &mut self.beta),
            (&mut self.running_mean, &mut self.running_var),
        )
    }

    /// Inference: `γ·(x − running mean)/√(running var + 10⁻⁶) + β`.
    fn forward<const N: usize>(&self, x: &[[T; W]; N], out: &mut [[T; W]; N]) {
        let eps = T::from_f64(EPS);
        let std: [T; W] = core::array::from_fn(|c| (self.running_var[c] + eps).sqrt());
        for (o, x) in out.iter_mut().zip(x) {
            for c in 0..W {
                let xn = (x[c] - self.running_mean[c]) / std[c];
                o[c] = self.gamma[c] * xn + self.beta[c];
            }
        }
    }
}

impl<T: Float, const W: usize> Train for BatchNorm<T, W> {
    type Tape<const N: usize> = BatchNormTape<T, W, N>;

    /// Training: the batch's own μ and σ² (the book's `train_flg=True`).
    fn forward_train<const N: usize>(
        &self,
        x: &[[T; W]; N],
        tape: &mut BatchNormTape<T, W, N>,
        out: &mut [[T; W]; N],
    ) {
        let n = T::from_f64(N as f64);
        let mut mu = [T::ZERO; W];
        for row in x {
            for (m, v) in mu.iter_mut().zip(row) {
                *m += *v;
            }
        }
        mu.iter_mut().for_each(|m| *m /= n);
        let xc = rows_mut(&mut tape.xc);
        let mut var = [T::ZERO; W];
        for (c_row, row) in xc.iter_mut().zip(x) {
            for c in 0..W {
                c_row[c] = row[c] - mu[c];
                var[c] += c_row[c] * c_row[c];
            }
        }
        var.iter_mut().for_each(|v| *v /= n);
        let eps = T::from_f64(EPS);
        let std: [T; W] = core::array::from_fn(|c| (var[c] + eps).sqrt());
        let xn = rows_mut(&mut tape.xn);
        for ((n_row, c_row), o) in xn.iter_mut().zip(xc.iter()).zip(out.iter_mut()) {
            for c in 0..W {
                n_row[c] = c_row[c] / std[c];
                o[c] = self.gamma[c] * n_row[c] + self.beta[c];
            }
        }
        (tape.mu, tape.var, tape.std) = (mu, var, std);
    }

    /// The book's backward pass through the batch's statistics; then the running averages
    /// take this step's μ and σ².
    fn backward<const N: usize>(
        &mut self,
        _x: &[[T; W]; N],
        tape: &mut BatchNormTape<T, W, N>,
        _out: &[[T; W]; N],
        dout: &[[T; W]; N],
        dx: Option<&mut [[T; W]; N]>,
    ) {
        let (xc, xn) = (rows_mut(&mut tape.xc), rows_mut(&mut tape.xn));
        self.dbeta = [T::ZERO; W];
        self.dgamma = [T::ZERO; W];
        // dstd = −Σ (dxn · xc) / std², dxn = γ · dout.
        let mut dstd = [T::ZERO; W];
        for ((d, n_row), c_row) in dout.iter().zip(xn.iter()).zip(xc.iter()) {
            for c in 0..W {
                self.dbeta[c] += d[c];
                self.dgamma[c] += n_row[c] * d[c];
                let dxn = self.gamma[c] * d[c];
                dstd[c] -= dxn * c_row[c] / (tape.std[c] * tape.std[c]);
            }
        }
        if let Some(dx) = dx {
            let n = T::from_f64(N as f64);
            let two_over_n = T::from_f64(2.0) / n;
            let half = T::from_f64(0.5);
            let dvar: [T; W] = core::array::from_fn(|c| half * dstd[c] / tape.std[c]);
            // dxc = dxn / std + (2/N)·xc·dvar; dμ = Σ dxc; dx = dxc − dμ/N.
            let mut dmu = [T::ZERO; W];
            for ((o, d), c_row) in dx.iter_mut().zip(dout).zip(xc.iter()) {
                for c in 0..W {
                    let dxc = self.gamma[c] * d[c] / tape.std[c] + two_over_n * c_row[c] * dvar[c];
                    o[c] = dxc;
                    dmu[c] += dxc;
                }
            }
            for o in dx.iter_mut() {
                for c in 0..W {
                    o[c] -= dmu[c] / n;
                }
            }
        }
        let m = T::from_f64(self.momentum);
        let rest = T::from_f64(1.0 - self.momentum);
        for c in 0..W {
            self.running_mean[c] = m * self.running_mean[c] + rest * tape.mu[c];
            self.running_var[c] = m * self.running_var[c] + rest * tape.var[c];
        }
    }

    fn params_and_grads(&mut self) -> (ParamsMut<'_, Self>, GradsMut<'_, Self>) {
        (
            (
                (&mut self.gamma, &mut self.beta),
                (&mut self.running_mean, &mut self.running_var),
            ),
            ((&mut self.dgamma, &mut self.dbeta), ((), ())),
        )
    }
}
