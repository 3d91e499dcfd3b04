//! Softmax, cross-entropy and the [`SoftmaxWithLoss`] output layer (the book's 5.6.3).

use core::fmt;

use crate::float::Float;
use crate::matrix::{Matrix, argmax};

/// The book's `delta` in `-Σ t · log(y + 1e-7)`: keeps `log(0)` finite.
pub const CROSS_ENTROPY_DELTA: f64 = 1e-7;

/// Softmax of one row, `out[i] = e^(x[i] − max x) / Σ e^(x[j] − max x)`.
///
/// Subtracting the row's maximum changes nothing mathematically and keeps `e^x` from
/// overflowing: logits like `[1000, 0, −1000]` give `[1, 0, 0]`, not NaN.
///
/// # Examples
///
/// The book's 3.5.1:
///
/// ```
/// use constnn::loss::softmax;
/// let mut y = [0.0; 3];
/// softmax(&[0.3f64, 2.9, 4.0], &mut y);
/// for (y, book) in y.iter().zip([0.01821127, 0.24519181, 0.73659691]) {
///     assert!((y - book).abs() < 5e-9);
/// }
/// softmax(&[1000.0f64, 0.0, -1000.0], &mut y);
/// assert_eq!(y, [1.0, 0.0, 0.0]);
/// ```
pub fn softmax<T: Float, const O: usize>(x: &[T; O], out: &mut [T; O]) {
    shift_by_max(x, out);
    exp_all(out);
    normalize(out);
}

/// `out = x − max(x)`: softmax's guard against overflow (the book's `x - np.max(x)`).
fn shift_by_max<T: Float, const O: usize>(x: &[T; O], out: &mut [T; O]) {
    let max = x.iter().fold(x[0], |m, v| if *v > m { *v } else { m });
    for (o, v) in out.iter_mut().zip(x) {
        *o = *v - max;
    }
}

/// Every value's `exp`, in a loop of its own so that it compiles to vector code for `f32`.
fn exp_all<T: Float>(values: &mut [T]) {
    crate::matrix::kernels::vectorized(
        #[inline(always)]
        || {
            for v in values {
                *v = v.exp();
            }
        },
    )
}

/// Divides the values by their sum (summed in order).
fn normalize<T: Float>(values: &mut [T]) {
    let mut sum = T::ZERO;
    for v in values.iter() {
        sum += *v;
    }
    for v in values {
        *v /= sum;
    }
}

/// Cross-entropy error of a batch of probabilities against class labels:
/// `−Σₙ log(y[n][tₙ] + 1e-7) / N`, as the book computes it. A label not below `O` is an error.
///
/// ```
/// use constnn::loss::cross_entropy_error;
/// let y = [[0.1f64, 0.9], [0.5, 0.5]];
/// let e = cross_entropy_error(&y, &[1, 0]).unwrap();
/// assert!((e - (-(0.9f64 + 1e-7).ln() - (0.5f64 + 1e-7).ln()) / 2.0).abs() < 1e-15);
/// assert_eq!(cross_entropy_error(&y, &[1, 2]).unwrap_err().row, 1);
/// ```
pub fn cross_entropy_error<T: Float, const O: usize, const N: usize>(
    y: &Matrix<T, N, O>,
    labels: &[usize; N],
) -> Result<T, LabelOutOfRange> {
    let delta = T::from_f64(CROSS_ENTROPY_DELTA);
    let mut sum = T::ZERO;
    for (row, (y, &t)) in y.iter().zip(labels).enumerate() {
        let Some(p) = y.get(t) else {
            return Err(LabelOutOfRange {
                row,
                label: t,
                classes: O,
            });
        };
        sum += (*p + delta).ln();
    }
    Ok(-sum / T::from_f64(N as f64))
}

/// A class label that is not below the number of classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelOutOfRange {
    /// Row of the batch.
    pub row: usize,
    /// The label found there.
    pub label: usize,
    /// How many classes the network has (labels must be below this).
    pub classes: usize,
}

impl fmt::Display for LabelOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "label {} in row {} is out of range: the network has {} classes (0..={})",
            self.label,
            self.row,
            self.classes,
            self.classes.saturating_sub(1)
        )
    }
}

impl core::error::Error for LabelOutOfRange {}

/// Targets for a batch of `N` rows over `O` classes: one-hot rows (`[[T; O]; N]`) or class
/// indices (`[usize; N]`, `[u8; N]`).
pub trait Targets<T: Float, const O: usize, const N: usize> {
    /// Writes the targets as one-hot rows, checking each index against `O`.
    fn one_hot(&self, out: &mut Matrix<T, N, O>) -> Result<(), LabelOutOfRange>;

    /// [`one_hot`](Self::one_hot), and each row's class as the loss counts it: the index of
    /// the row's largest value ([`argmax`], as the book takes it from one-hot targets), which
    /// class indices give without a search.
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::loss::Targets;
    /// let mut one_hot = [[0.0f32; 3]; 2];
    /// assert_eq!([2u8, 0].one_hot_classes(&mut one_hot), Ok([2, 0]));
    /// assert_eq!(one_hot, [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
    /// assert_eq!(one_hot.one_hot_classes(&mut [[0.0; 3]; 2]), Ok([2, 0]));
    /// ```
    fn one_hot_classes(&self, out: &mut Matrix<T, N, O>) -> Result<[usize; N], LabelOutOfRange> {
        self.one_hot(out)?;
        Ok(core::array::from_fn(|n| argmax(&out[n])))
    }
}

impl<T: Float, const O: usize, const N: usize> Targets<T, O, N> for Matrix<T, N, O> {
    fn one_hot(&self, out: &mut Matrix<T, N, O>) -> Result<(), LabelOutOfRange> {
        *out = *self;
        Ok(())
    }
}

macro_rules! impl_index_targets {
    ($($t:ty),*) => {$(
        impl<T: Float, const O: usize, const N: usize> Targets<T, O, N> for [$t; N] {
            fn one_hot(&self, out: &mut Matrix<T, N, O>) -> Result<(), LabelOutOfRange> {
                for (row, (o, &label)) in out.iter_mut().zip(self).enumerate() {
                    let label = usize::from(label);
                    if label >= O {
                        return Err(LabelOutOfRange { row, label, classes: O });
                    }
                    *o = [T::ZERO; O];
                    o[label] = T::ONE;
                }
                Ok(())
            }

            fn one_hot_classes(
                &self,
                out: &mut Matrix<T, N, O>,
            ) -> Result<[usize; N], LabelOutOfRange> {
                // A one-hot row's argmax is its index: the search (a mispredicted branch a
                // row) is not needed.
                self.one_hot(out)?;
                Ok(core::array::from_fn(|n| usize::from(self[n])))
            }
        }
    )*};
}
impl_index_targets!(u8, u16, usize);

/// Softmax followed by the cross-entropy error: the network's last layer.
///
/// Forward caches the probabilities `y` and the targets `t` (as one-hot rows); backward is the
/// book's `(y − t) / N`, the gradient of the loss *without* the `1e-7` delta. The two differ by
/// about `1e-7 / y[t]` relative: for a gradient check, that is the floor.
///
/// # Examples
///
/// ```
/// use constnn::SoftmaxWithLoss;
/// let mut last = SoftmaxWithLoss::<f64, 3, 1>::new();
/// let loss = last.forward(&[[0.3, 2.9, 4.0]], &[2u8]).unwrap(); // the label: class 2
/// let y = last.y()[0];
/// assert!((loss - -(y[2] + 1e-7).ln()).abs() < 1e-15);
/// let mut dx = [[0.0; 3]; 1];
/// last.backward(1.0, &mut dx);
/// assert_eq!(dx, [[y[0], y[1], y[2] - 1.0]]); // (y − t) / N
/// assert!(last.forward(&[[0.3, 2.9, 4.0]], &[3u8]).is_err()); // no class 3
/// ```
pub struct SoftmaxWithLoss<T: Float, const O: usize, const N: usize> {
    y: Matrix<T, N, O>,
    t: Matrix<T, N, O>,
}

impl<T: Float, const O: usize, const N: usize> Default for SoftmaxWithLoss<T, O, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float, const O: usize, const N: usize> SoftmaxWithLoss<T, O, N> {
    /// A layer with nothing cached yet.
    pub fn new() -> Self {
        Self {
            y: [[T::ZERO; O]; N],
            t: [[T::ZERO; O]; N],
        }
    }

    /// The loss of logits `x` against targets `t`; caches what backward needs.
    pub fn forward(
        &mut self,
        x: &Matrix<T, N, O>,
        t: &impl Targets<T, O, N>,
    ) -> Result<T, LabelOutOfRange> {
        let labels = t.one_hot_classes(&mut self.t)?;
        // `softmax` row by row, but the exponentials of the whole batch in one loop: more
        // vectors of them at a time, the same numbers.
        for (row, y) in x.iter().zip(self.y.iter_mut()) {
            shift_by_max(row, y);
        }
        exp_all(self.y.as_flattened_mut());
        for y in self.y.iter_mut() {
            normalize(y);
        }
        // The labels as the book counts them (one-hot targets through their argmax).
        cross_entropy_error(&self.y, &labels)
    }

    /// `dx = dout · (y − t) / N`.
    pub fn backward(&self, dout: T, dx: &mut Matrix<T, N, O>) {
        let scale = dout / T::from_f64(N as f64);
        for ((d, y), t) in dx
            .as_flattened_mut()
            .iter_mut()
            .zip(self.y.as_flattened())
            .zip(self.t.as_flattened())
        {
            *d = (*y - *t) * scale;
        }
    }

    /// The softmax probabilities of the last forward pass.
    pub fn y(&self) -> &Matrix<T, N, O> {
        &self.y
    }
}
