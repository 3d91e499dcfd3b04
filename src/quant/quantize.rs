//! Post-training quantisation: a trained float network and sample inputs in, a [`QuantNet`] out.

use alloc::vec::Vec;
use core::fmt;

use super::fixed::quantize_multiplier;
use super::{QuantAffine, QuantLayer, QuantNet, QuantParams};
use crate::layers::{Affine, Chain, Relu};
use crate::matrix::Storage;
use crate::network::Network;

/// Why a network could not be quantised.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantizeError {
    /// No calibration rows were given.
    NoCalibration,
    /// A calibration input, or an activation computed from one, is NaN or infinite.
    NonFinite {
        /// The layer (1-based) whose input or output it is; 0 for the calibration rows.
        layer: usize,
        /// The calibration row.
        row: usize,
    },
    /// A weight or bias is NaN or infinite.
    NonFiniteParameter {
        /// The layer, 1-based.
        layer: usize,
    },
    /// A requantisation multiplier `s_in · s_w / s_out` is 2³⁰ or more: no int32 shift holds
    /// it.
    MultiplierOutOfRange {
        /// The layer, 1-based.
        layer: usize,
        /// The output channel.
        channel: usize,
        /// The multiplier.
        value: f64,
    },
}

impl fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCalibration => write!(f, "no calibration inputs to take ranges from"),
            Self::NonFinite { layer: 0, row } => {
                write!(f, "calibration input {row} holds a NaN or infinite value")
            }
            Self::NonFinite { layer, row } => write!(
                f,
                "layer {layer}'s output for calibration input {row} is NaN or infinite"
            ),
            Self::NonFiniteParameter { layer } => {
                write!(f, "layer {layer} has a NaN or infinite weight or bias")
            }
            Self::MultiplierOutOfRange {
                layer,
                channel,
                value,
            } => write!(
                f,
                "layer {layer} channel {channel}: requantisation multiplier {value:e} is too \
                 large for int32 fixed point"
            ),
        }
    }
}

impl core::error::Error for QuantizeError {}

/// A float network (or the layers from some point on) that [`quantize`] turns into int8: an
/// `Affine` followed by a `Relu` (fused) and the rest, or a last `Affine`.
pub trait Quantize {
    /// The int8 layers.
    type Quantized: QuantLayer;
    /// The quantised layers, given the quantisation of their input and `x`, calibration inputs
    /// of the first layer's width one after another; `layer` numbers the first of them
    /// (1-based) in errors.
    fn quantize_from(
        &self,
        input: QuantParams,
        x: &[f32],
        layer: usize,
    ) -> Result<Self::Quantized, QuantizeError>;
}

/// `x · W + b` for each row of `x` (f32, summed in order), then ReLU if asked.
fn affine_outputs<const I: usize, const O: usize>(
    w: &[[f32; O]; I],
    b: &[f32; O],
    x: &[f32],
    relu: bool,
) -> Vec<f32> {
    let mut y = Vec::with_capacity(x.len() / I.max(1) * O);
    for row in x.chunks_exact(I) {
        let mut acc = *b;
        for (&xi, wr) in row.iter().zip(w) {
            if xi != 0.0 {
                for (a, &wv) in acc.iter_mut().zip(wr) {
                    *a += xi * wv;
                }
            }
        }
        if relu {
            for a in &mut acc {
                *a = a.max(0.0);
            }
        }
        y.extend_from_slice(&acc);
    }
    y
}

/// The range of `values` (rows of `width`), or the row of the first NaN or infinity.
fn range(values: &[f32], width: usize) -> Result<(f32, f32), usize> {
    let (mut min, mut max) = (0.0f32, 0.0f32);
    for (r, row) in values.chunks(width.max(1)).enumerate() {
        for &v in row {
            if !v.is_finite() {
                return Err(r);
            }
            min = min.min(v);
            max = max.max(v);
        }
    }
    Ok((min, max))
}

/// The int8 layer of an `Affine` whose input is quantised as `input`, its outputs for the
/// calibration rows being `y`.
fn quantize_affine<const I: usize, const O: usize>(
    w: &[[f32; O]; I],
    b: &[f32; O],
    input: QuantParams,
    y: &[f32],
    relu: bool,
    layer: usize,
) -> Result<QuantAffine<I, O>, QuantizeError> {
    if w.iter().flatten().chain(b).any(|v| !v.is_finite()) {
        return Err(QuantizeError::NonFiniteParameter { layer });
    }
    let (min, max) = range(y, O).map_err(|row| QuantizeError::NonFinite { layer, row })?;
    let output = QuantParams::from_range(min, max);
    let mut q = QuantAffine {
        w: [[0; O]; I],
        b: [0; O],
        multiplier: [0; O],
        shift: [0; O],
        input,
        output,
        relu,
    };
    for j in 0..O {
        let peak = w.iter().map(|r| r[j].abs()).fold(0.0f32, f32::max);
        let s_w = if peak > 0.0 {
            f64::from(peak) / 127.0
        } else {
            1.0
        };
        for (qr, wr) in q.w.iter_mut().zip(w) {
            qr[j] = libm::round(f64::from(wr[j]) / s_w).clamp(-127.0, 127.0) as i8;
        }
        let s_acc = f64::from(input.scale) * s_w;
        q.b[j] =
            libm::round(f64::from(b[j]) / s_acc).clamp(i32::MIN as f64, i32::MAX as f64) as i32;
        let m = s_acc / f64::from(output.scale);
        let (multiplier, shift) =
            quantize_multiplier(m).ok_or(QuantizeError::MultiplierOutOfRange {
                layer,
                channel: j,
                value: m,
            })?;
        q.multiplier[j] = multiplier;
        q.shift[j] = shift;
    }
    Ok(q)
}

impl<const I: usize, const O: usize, S: Storage> Quantize for Affine<f32, I, O, S> {
    type Quantized = QuantAffine<I, O>;
    fn quantize_from(
        &self,
        input: QuantParams,
        x: &[f32],
        layer: usize,
    ) -> Result<QuantAffine<I, O>, QuantizeError> {
        let y = affine_outputs(self.w(), &self.b, x, false);
        quantize_affine(self.w(), &self.b, input, &y, false, layer)
    }
}

impl<const I: usize, const H: usize, S: Storage, R> Quantize
    for Chain<Affine<f32, I, H, S>, Chain<Relu<f32, H>, R>>
where
    R: Quantize,
    R::Quantized: QuantLayer<Input = [i8; H]>,
{
    type Quantized = Chain<QuantAffine<I, H>, R::Quantized>;
    fn quantize_from(
        &self,
        input: QuantParams,
        x: &[f32],
        layer: usize,
    ) -> Result<Self::Quantized, QuantizeError> {
        let affine = &self.first;
        let y = affine_outputs(affine.w(), &affine.b, x, true);
        let first = quantize_affine(affine.w(), &affine.b, input, &y, true, layer)?;
        let rest = self.rest.rest.quantize_from(first.output, &y, layer + 1)?;
        Ok(Chain { first, rest })
    }
}

/// A trained network quantised to int8 with TensorFlow Lite's scheme (see [`super`]): the
/// ranges of its input and of every layer's output are taken from `calibration` (the book's
/// training images, say: a thousand are plenty).
///
/// The input range is that of the calibration rows, widened to hold 0 — for MNIST's pixels
/// scaled to 0..=1 the input scale is 1/255 and its zero point −128, so that a pixel byte `p`
/// is the int8 `p − 128` exactly.
///
/// # Examples
///
/// ```
/// use constnn::{TwoLayerNet, quant};
/// use rand_core::SeedableRng;
///
/// let net = TwoLayerNet::<4, 8, 3>::new(0.5, &mut rand_pcg::Pcg64::seed_from_u64(0));
/// let calibration: Vec<[f32; 4]> =
///     (0..50).map(|i| [0.0, 0.5, 1.0, (i % 10) as f32 / 10.0]).collect();
/// let q = quant::quantize(&net, &calibration)?;
/// let (input, scores) = (q.input_params(), q.output_params());
/// assert_eq!(input.zero_point, -128); // the inputs are in 0..=1
///
/// // The int8 scores are the float ones to within a few steps.
/// let x = [0.0, 0.5, 1.0, 0.3];
/// let mut real = [[0.0f32; 3]];
/// net.predict(&[x], &mut real);
/// let mut int8 = [0i8; 3];
/// q.predict(&q.quantize_input(&x), &mut int8);
/// for (r, &s) in real[0].iter().zip(&int8) {
///     assert!((r - scores.dequantize(s)).abs() <= 3.0 * scores.scale);
/// }
/// # Ok::<(), quant::QuantizeError>(())
/// ```
pub fn quantize<L, const I: usize>(
    net: &Network<L>,
    calibration: &[[f32; I]],
) -> Result<QuantNet<L::Quantized>, QuantizeError>
where
    L: Quantize,
    L::Quantized: QuantLayer<Input = [i8; I]>,
{
    if calibration.is_empty() {
        return Err(QuantizeError::NoCalibration);
    }
    let x: Vec<f32> = calibration.iter().flatten().copied().collect();
    let (min, max) = range(&x, I).map_err(|row| QuantizeError::NonFinite { layer: 0, row })?;
    let input = QuantParams::from_range(min, max);
    let layers = net.layers.quantize_from(input, &x, 1)?;
    Ok(QuantNet::new(layers))
}
