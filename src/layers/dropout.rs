//! Dropout (section 6.4.3): the book's `Dropout` layer.

use core::marker::PhantomData;

use super::{Layer, Train};
use crate::float::Float;

/// The book's Dropout: in training each value is kept with probability `1 − ratio` and the
/// others zeroed, with a new mask every step; at inference every value is scaled by
/// `1 − ratio` (the book's `x * (1.0 - self.dropout_ratio)`), so that its expectation is the
/// training one.
///
/// The mode is the call's, never a flag: [`forward`](Layer::forward) (what `predict`,
/// `classify` and a frozen `static` model run) is inference; [`forward_train`](Train::forward_train)
/// (what `gradient` and `train_step` run) is training. The mask of a step is a fixed function
/// of the layer's seed, its step count and the value's place: `backward` draws it again rather
/// than storing it, then counts the step. So a network with Dropout trains the same way twice
/// from the same seed, on any target, and needs no random generator at run time.
///
/// # Examples
///
/// ```
/// use constnn::layers::{Dropout, Layer, Train};
/// let mut drop = Dropout::<f64, 1000>::new(0.25, 7);
/// let x = [[1.0; 1000]];
/// let mut out = [[0.0; 1000]];
/// drop.forward(&x, &mut out); // inference: scaled
/// assert_eq!(out[0][0], 0.75);
/// drop.forward_train(&x, &mut (), &mut out); // training: about a quarter dropped
/// let kept = out[0].iter().filter(|v| **v == 1.0).count();
/// assert!((700..800).contains(&kept), "{kept}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout<T, const W: usize> {
    ratio: f64,
    seed: u64,
    step: u64,
    _scalar: PhantomData<T>,
}

impl<T: Float, const W: usize> Dropout<T, W> {
    /// Dropout of `ratio` of the values in training (the book's `dropout_ratio`, 0.5 by
    /// default there), its masks drawn from `seed`.
    ///
    /// # Panics
    /// If `ratio` is not in [0, 1).
    pub const fn new(ratio: f64, seed: u64) -> Self {
        assert!(ratio >= 0.0 && ratio < 1.0, "a dropout ratio is in [0, 1)");
        Self {
            ratio,
            seed,
            step: 0,
            _scalar: PhantomData,
        }
    }

    /// The share of values dropped in training.
    pub const fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Training steps taken (each `backward` counts one): the next mask's number.
    pub const fn steps(&self) -> u64 {
        self.step
    }

    /// The current step's key: what every value's draw of this step mixes in.
    fn step_key(&self) -> u64 {
        mix(self.seed ^ mix(self.step))
    }

    /// Whether value `c` of row `r` is kept in the mask of the step whose key is `key`: a
    /// uniform draw in [0, 1) above `ratio`, as the book's
    /// `np.random.rand(*x.shape) > self.dropout_ratio`.
    #[inline]
    fn kept(&self, key: u64, r: usize, c: usize) -> bool {
        let z = mix(key ^ (r as u64).wrapping_mul(W as u64).wrapping_add(c as u64));
        (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64) > self.ratio
    }
}

/// SplitMix64's finaliser: a bijection of 64-bit words whose outputs pass as random.
#[inline]
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The book's default ratio, 0.5, seed 0.
impl<T: Float, const W: usize> Default for Dropout<T, W> {
    fn default() -> Self {
        Self::new(0.5, 0)
    }
}

impl<T: Float, const W: usize> Layer for Dropout<T, W> {
    type Input = [T; W];
    type Output = [T; W];
    type Scalar = T;
    type Params = ();

    fn params(&self) {}
    fn params_mut(&mut self) {}

    /// # Panics
    /// If `ratio` is not in [0, 1).
    fn set_dropout(&mut self, ratio: f64, seed: u64) -> u64 {
        *self = Self::new(ratio, seed);
        seed.wrapping_add(1)
    }

    /// Inference: `x · (1 − ratio)`.
    fn forward<const N: usize>(&self, x: &[[T; W]; N], out: &mut [[T; W]; N]) {
        let scale = T::from_f64(1.0 - self.ratio);
        for (o, v) in out.as_flattened_mut().iter_mut().zip(x.as_flattened()) {
            *o = *v * scale;
        }
    }
}

impl<T: Float, const W: usize> Train for Dropout<T, W> {
    type Tape<const N: usize> = ();

    fn params_and_grads(&mut self) -> ((), ()) {
        ((), ())
    }

    /// Training: `x` where the step's mask keeps it, else 0.
    fn forward_train<const N: usize>(&self, x: &[[T; W]; N], _: &mut (), out: &mut [[T; W]; N]) {
        let key = self.step_key();
        for (r, (o, v)) in out.iter_mut().zip(x).enumerate() {
            for (c, (o, v)) in o.iter_mut().zip(v).enumerate() {
                *o = if self.kept(key, r, c) { *v } else { T::ZERO };
            }
        }
    }

    /// `dx = dout` where the mask kept the value, else 0; then the step is counted, so that
    /// the next has a new mask.
    fn backward<const N: usize>(
        &mut self,
        _x: &[[T; W]; N],
        _: &mut (),
        _out: &[[T; W]; N],
        dout: &[[T; W]; N],
        dx: Option<&mut [[T; W]; N]>,
    ) {
        if let Some(dx) = dx {
            let key = self.step_key();
            for (r, (d, g)) in dx.iter_mut().zip(dout).enumerate() {
                for (c, (d, g)) in d.iter_mut().zip(g).enumerate() {
                    *d = if self.kept(key, r, c) { *g } else { T::ZERO };
                }
            }
        }
        self.step = self.step.wrapping_add(1);
    }
}
