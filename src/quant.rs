//! int8 networks: TensorFlow Lite's quantisation scheme, integer arithmetic only at inference.
//!
//! A trained float network of [`Affine`](crate::Affine) and [`Relu`](crate::Relu) layers
//! becomes a [`QuantNet`] of [`QuantAffine`] layers ([`quantize`], with the `alloc` feature),
//! the way TensorFlow Lite and CMSIS-NN quantise a fully-connected layer:
//!
//! - **activations** (the input and each layer's output) are int8, asymmetric, one
//!   ([`QuantParams`]) per tensor: `real = scale · (q − zero_point)`, the range calibrated on
//!   sample inputs and widened to hold 0 exactly;
//! - **weights** are int8, symmetric (zero point 0, values in −127..=127), one scale per output
//!   channel: `s_w[j] = max_i |W[i][j]| / 127`;
//! - **biases** are int32 with scale `s_in · s_w[j]`;
//! - each output is **requantised** by a fixed-point multiplier and shift standing for
//!   `s_in · s_w[j] / s_out` ([`fixed::multiply_by_quantized_multiplier`]: a rounding
//!   doubling high multiply, then a rounding right shift), then clamped; a ReLU after the layer
//!   is only the clamp's lower end, the output zero point.
//!
//! A layer multiplies the input's offsets from its zero point, `q − zero_point`, rather than
//! `q` itself: the two give the same integer sums (TFLite's kernels fold `−zero_point · Σ W`
//! into the bias instead), but an offset is 0 for a zero pixel and for every output a ReLU
//! cut, and a zero offset is skipped. For MNIST's input (`scale` 1/255, `zero_point` −128) the
//! offset is the pixel byte itself.
//!
//! Everything at inference is integer arithmetic: the same int8 outputs on every target, with
//! or without an FPU. The class is the argmax of the int8 scores ([`QuantNet::classify`]);
//! [`QuantNet::dequantize`] gives real scores on request.
//!
//! # Examples
//!
//! ```
//! use constnn::quant::{QuantAffine, QuantNet, QuantParams};
//!
//! // y = relu(2·x0 − x1), x and y in 0..=2.55 by steps of 0.01, one int8 layer by hand.
//! let params = QuantParams { scale: 0.01, zero_point: -128 };
//! let layer = QuantAffine::<2, 1> {
//!     w: [[127], [-64]],   // per-channel weight scale 2/127: 2 → 127, −1 → −63.5 ≈ −64
//!     b: [0],
//!     // s_in · s_w / s_out = 0.01 · (2/127) / 0.01 = 0.01575 = 0.504 · 2⁻⁵
//!     multiplier: [1_082_196_484],
//!     shift: [-5],
//!     input: params,
//!     output: params,
//!     relu: true,
//! };
//! let net = QuantNet::new(layer);
//! let x = [params.quantize(1.0), params.quantize(0.5)]; // offsets 100 and 50
//! let mut y = [0i8; 1];
//! net.predict(&x, &mut y);
//! assert!((net.dequantize(y[0]) - 1.5).abs() <= 0.02);
//! // A negative result is clamped to the ReLU's zero.
//! net.predict(&[params.quantize(0.0), params.quantize(1.0)], &mut y);
//! assert_eq!(y[0], -128);
//! ```

use crate::layers::Chain;
use crate::params::{ParamList, ParamSpec, Shape};

pub mod fixed;
#[cfg(feature = "alloc")]
mod quantize;

#[cfg(feature = "alloc")]
pub use quantize::{Quantize, QuantizeError, quantize};

/// The element type of a quantised network's tensor `name` in a model file: int8 weights,
/// f32 scales, int32 for the rest (format codes: 1 f32, 3 i8, 4 i32).
pub(crate) const fn element_of(name: &str) -> u8 {
    match name.as_bytes() {
        b"W" => 3,
        b"scales" => 1,
        _ => 4,
    }
}

/// An int8 tensor's quantisation: `real = scale · (q − zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantParams {
    /// The real value of one step.
    pub scale: f32,
    /// The int8 value that stands for real 0.
    pub zero_point: i8,
}

impl QuantParams {
    /// The asymmetric int8 quantisation of the range `[min, max]`, widened to hold 0 (so that 0
    /// is exactly a zero point): `scale = (max − min) / 255`, `zero_point = −128 − min / scale`
    /// rounded. A range of one point (all zeros) gets scale 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::quant::QuantParams;
    /// // MNIST's pixels, 0..=1: the zero point is −128 and a pixel byte p is p − 128.
    /// let p = QuantParams::from_range(0.0, 1.0);
    /// assert_eq!((p.scale, p.zero_point), (1.0 / 255.0, -128));
    /// assert_eq!(p.quantize(200.0 / 255.0), 72); // 200 − 128
    /// ```
    pub fn from_range(min: f32, max: f32) -> Self {
        let (min, max) = (min.min(0.0), max.max(0.0));
        let scale = if max > min { (max - min) / 255.0 } else { 1.0 };
        let zero_point = libm::roundf(-128.0 - min / scale).clamp(-128.0, 127.0) as i8;
        Self { scale, zero_point }
    }

    /// `x` quantised: `round(x / scale) + zero_point`, clamped to int8 (TFLite's rounding,
    /// half away from zero). NaN gives the zero point.
    pub fn quantize(&self, x: f32) -> i8 {
        let q = libm::roundf(x / self.scale) + f32::from(self.zero_point);
        if q.is_nan() {
            self.zero_point
        } else {
            q.clamp(-128.0, 127.0) as i8
        }
    }

    /// The real value of `q`: `scale · (q − zero_point)`.
    pub fn dequantize(&self, q: i8) -> f32 {
        self.scale * (f32::from(q) - f32::from(self.zero_point))
    }
}

/// A fully-connected layer in int8, `Affine` quantised: `I` inputs, `O` outputs, with its ReLU
/// (if it had one) fused as the clamp.
///
/// Output `j` is `clamp(zero_point_out + M_j(b[j] + Σ_i (x[i] − zero_point_in) · w[i][j]))`,
/// where `M_j` is [`fixed::multiply_by_quantized_multiplier`] by `multiplier[j]` and
/// `shift[j]`, and the clamp is to `−128..=127`, or `zero_point_out..=127` with `relu`.
#[derive(Clone, PartialEq)]
pub struct QuantAffine<const I: usize, const O: usize> {
    /// Weights, (I, O), symmetric per output channel: `W[i][j] ≈ s_w[j] · w[i][j]`.
    pub w: [[i8; O]; I],
    /// Biases, with scale `s_in · s_w[j]`.
    pub b: [i32; O],
    /// The requantisation multipliers: Q31 fixed point in `[2³⁰, 2³¹)` (or 0), with `shift`
    /// standing for `s_in · s_w[j] / s_out = multiplier[j] · 2^(shift[j] − 31)`.
    pub multiplier: [i32; O],
    /// The requantisation shifts, −31..=30: positive to the left, negative to the right.
    pub shift: [i32; O],
    /// The input's quantisation.
    pub input: QuantParams,
    /// The output's quantisation.
    pub output: QuantParams,
    /// Whether a ReLU follows (fused: the output is clamped at its zero point).
    pub relu: bool,
}

/// Shows the shape and the quantisation; the weights would be thousands of numbers.
impl<const I: usize, const O: usize> core::fmt::Debug for QuantAffine<I, O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("QuantAffine")
            .field("shape", &(I, O))
            .field("input", &self.input)
            .field("output", &self.output)
            .field("relu", &self.relu)
            .finish_non_exhaustive()
    }
}

impl<const I: usize, const O: usize> QuantAffine<I, O> {
    /// The layer's output for one input row. An input at the zero point (a zero pixel, an
    /// output a ReLU cut) costs nothing.
    #[inline(never)] // one copy per shape: inlined, a `static` model's values became code
    pub fn forward(&self, x: &[i8; I], out: &mut [i8; O]) {
        // The inputs whose offset is not 0 are listed a CHUNK at a time; then each BLOCK of
        // outputs runs down the list with its sums in registers.
        let mut acc = self.b;
        if let Some(first) = self.w.first() {
            let mut list = [(first, 0i32); CHUNK];
            for (x, w) in x.chunks(CHUNK).zip(self.w.chunks(CHUNK)) {
                let n = gather(x, w, self.input.zero_point, &mut list);
                accumulate(&mut acc, list.get(..n).unwrap_or_default());
            }
        }
        self.requantize(&acc, out);
    }

    /// The int32 sums scaled to the output's int8: TFLite's requantisation, then the clamp.
    fn requantize(&self, acc: &[i32; O], out: &mut [i8; O]) {
        let zero = i32::from(self.output.zero_point);
        let low = if self.relu { zero } else { -128 };
        for (((o, &a), &m), &s) in out
            .iter_mut()
            .zip(acc)
            .zip(&self.multiplier)
            .zip(&self.shift)
        {
            let scaled = fixed::multiply_by_quantized_multiplier(a, m, s);
            *o = zero.saturating_add(scaled).clamp(low, 127) as i8;
        }
    }
}

/// Outputs a layer sums together, in registers (a Cortex-M has thirteen general ones).
const BLOCK: usize = 8;
/// Inputs a layer lists at a time (the list is on the stack: 8 bytes an entry on a Cortex-M).
const CHUNK: usize = 128;

/// Lists the inputs of `x` whose offset from `zero` is not 0, with their weight rows, into
/// `list`; returns how many. Eight inputs at the zero point are passed over at once.
fn gather<'w, const O: usize>(
    x: &[i8],
    w: &'w [[i8; O]],
    zero: i8,
    list: &mut [(&'w [i8; O], i32)],
) -> usize {
    let mut slots = list.iter_mut();
    let mut n = 0;
    let mut add = |xi: i8, row: &'w [i8; O]| {
        if xi != zero
            && let Some(slot) = slots.next()
        {
            *slot = (row, i32::from(xi) - i32::from(zero));
            n += 1;
        }
    };
    let (eights, rest) = x.as_chunks::<8>();
    let (row_eights, row_rest) = w.as_chunks::<8>();
    for (e, rows) in eights.iter().zip(row_eights) {
        if *e != [zero; 8] {
            for (&xi, row) in e.iter().zip(rows) {
                add(xi, row);
            }
        }
    }
    for (&xi, row) in rest.iter().zip(row_rest) {
        add(xi, row);
    }
    n
}

/// Adds `v · row` to `acc` for every `(row, v)` of `list`, a [`BLOCK`] of outputs at a time.
fn accumulate<const O: usize>(acc: &mut [i32; O], list: &[(&[i8; O], i32)]) {
    let (blocks, tail) = acc.as_chunks_mut::<BLOCK>();
    for (b, sums) in blocks.iter_mut().enumerate() {
        block_sums(sums, list, b);
    }
    let start = O - tail.len();
    for &(row, v) in list {
        for (s, &w) in tail.iter_mut().zip(row.get(start..).unwrap_or_default()) {
            *s = s.wrapping_add(v * i32::from(w));
        }
    }
}

/// Adds `v · row[b]` to `sums` for every `(row, v)` of `list`, `row[b]` being block `b` of the
/// row. A call of its own, so that the sums stay in registers.
#[inline(never)]
fn block_sums<const O: usize>(sums: &mut [i32; BLOCK], list: &[(&[i8; O], i32)], b: usize) {
    let mut s = *sums;
    for &(row, v) in list {
        if let Some(w) = row.as_chunks::<BLOCK>().0.get(b) {
            for (s, &w) in s.iter_mut().zip(w) {
                *s = s.wrapping_add(v * i32::from(w));
            }
        }
    }
    *sums = s;
}

/// The tensors of a [`QuantAffine`] as a model file stores them, in order.
const fn affine_list(i: usize, o: usize) -> ParamList {
    const fn spec(name: &'static str, shape: Shape) -> ParamSpec {
        ParamSpec {
            name,
            shape,
            trained: false,
        }
    }
    ParamList::EMPTY
        .push(spec("W", Shape::Matrix(i, o)))
        .push(spec("b", Shape::Vector(o)))
        .push(spec("multiplier", Shape::Vector(o)))
        .push(spec("shift", Shape::Vector(o)))
        // input zero point, output zero point, ReLU (1) or not (0)
        .push(spec("zero_points", Shape::Vector(3)))
        // input scale, output scale
        .push(spec("scales", Shape::Vector(2)))
}

/// An int8 row, `[i8; N]`.
pub trait Row: Copy + AsRef<[i8]> + AsMut<[i8]> {
    /// All zeros.
    const ZEROS: Self;
}

impl<const N: usize> Row for [i8; N] {
    const ZEROS: Self = [0; N];
}

/// A quantised layer, or a [`Chain`] of them: int8 rows in, int8 rows out.
pub trait QuantLayer {
    /// An input row, `[i8; I]`.
    type Input: Row;
    /// An output row, `[i8; O]`.
    type Output: Row;
    /// The tensors a model file holds for it, in order.
    const LIST: ParamList;
    /// The bytes those tensors take in a model file.
    const BYTES: usize;
    /// The bytes of int8 weights, int32 biases, multipliers and shifts among them: all but two
    /// zero points, a ReLU flag and two scales per layer.
    const WEIGHT_BYTES: usize;
    /// The output for one input row.
    fn run(&self, x: &Self::Input, out: &mut Self::Output);
    /// The quantisation of its input.
    fn input_params(&self) -> QuantParams;
    /// The quantisation of its output.
    fn output_params(&self) -> QuantParams;
    /// Every tensor's bytes, little-endian, in [`LIST`](Self::LIST)'s order.
    fn write_tensors(&self, put: &mut impl FnMut(&[u8]));
    /// Reads the tensors from `data` (bytes in [`LIST`](Self::LIST)'s order, at least
    /// [`BYTES`](Self::BYTES) of them); the error names what is out of range.
    fn read_tensors(data: &[u8]) -> Result<Self, Invalid>
    where
        Self: Sized;
}

/// A value out of range in a quantised model: which tensor of the layer's list, which element,
/// and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid {
    /// The tensor's place in the network's tensor list.
    pub tensor: usize,
    /// The element.
    pub index: usize,
    /// What is wrong.
    pub problem: &'static str,
}

const fn bad<T>(tensor: usize, index: usize, problem: &'static str) -> Result<T, Invalid> {
    Err(Invalid {
        tensor,
        index,
        problem,
    })
}

const fn le_i32(data: &[u8], at: usize) -> i32 {
    i32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

const fn le_f32(data: &[u8], at: usize) -> f32 {
    f32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

impl<const I: usize, const O: usize> QuantAffine<I, O> {
    /// The layer stored at the start of `data` (its tensors in [`QuantLayer::LIST`]'s order,
    /// [`QuantLayer::BYTES`] of them), or what is wrong: too few bytes, a shift outside
    /// −31..=30, a negative multiplier, a zero point outside int8, a ReLU flag other than 0 or
    /// 1, a scale that is not positive and finite. A `const fn`, so that a model compiled into
    /// firmware is checked while building.
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // bounded by BYTES
    pub const fn from_bytes(data: &[u8]) -> Result<Self, Invalid> {
        if data.len() < <Self as QuantLayer>::BYTES {
            return bad(0, 0, "fewer bytes than the layer's tensors take");
        }
        let mut w = [[0i8; O]; I];
        let mut at = 0;
        let mut r = 0;
        while r < I {
            let mut c = 0;
            while c < O {
                w[r][c] = data[at] as i8;
                at += 1;
                c += 1;
            }
            r += 1;
        }
        let (mut b, mut multiplier, mut shift) = ([0i32; O], [0i32; O], [0i32; O]);
        let mut j = 0;
        while j < O {
            b[j] = le_i32(data, at + 4 * j);
            multiplier[j] = le_i32(data, at + 4 * (O + j));
            shift[j] = le_i32(data, at + 4 * (2 * O + j));
            if multiplier[j] < 0 {
                return bad(2, j, "a requantisation multiplier is negative");
            }
            if shift[j] < -31 || shift[j] > 30 {
                return bad(3, j, "a requantisation shift is outside -31..=30");
            }
            j += 1;
        }
        at += 12 * O;
        let mut zero_points = [0i8; 2];
        let mut k = 0;
        while k < 2 {
            let z = le_i32(data, at + 4 * k);
            if z < -128 || z > 127 {
                return bad(4, k, "a zero point is outside -128..=127");
            }
            zero_points[k] = z as i8;
            k += 1;
        }
        let relu = match le_i32(data, at + 8) {
            0 => false,
            1 => true,
            _ => return bad(4, 2, "the ReLU flag is neither 0 nor 1"),
        };
        at += 12;
        let scales = [le_f32(data, at), le_f32(data, at + 4)];
        let mut k = 0;
        while k < 2 {
            if !(scales[k] > 0.0 && scales[k] < f32::INFINITY) {
                return bad(5, k, "a scale is not positive and finite");
            }
            k += 1;
        }
        Ok(Self {
            w,
            b,
            multiplier,
            shift,
            input: QuantParams {
                scale: scales[0],
                zero_point: zero_points[0],
            },
            output: QuantParams {
                scale: scales[1],
                zero_point: zero_points[1],
            },
            relu,
        })
    }
}

impl<const I: usize, const O: usize> QuantLayer for QuantAffine<I, O> {
    type Input = [i8; I];
    type Output = [i8; O];
    const LIST: ParamList = affine_list(I, O);
    const BYTES: usize = Self::WEIGHT_BYTES + 12 + 8;
    const WEIGHT_BYTES: usize = I * O + 12 * O;

    fn run(&self, x: &[i8; I], out: &mut [i8; O]) {
        self.forward(x, out);
    }
    fn input_params(&self) -> QuantParams {
        self.input
    }
    fn output_params(&self) -> QuantParams {
        self.output
    }
    fn write_tensors(&self, put: &mut impl FnMut(&[u8])) {
        for row in &self.w {
            for &w in row {
                put(&w.to_le_bytes());
            }
        }
        for v in [&self.b, &self.multiplier, &self.shift] {
            for x in v {
                put(&x.to_le_bytes());
            }
        }
        let zero_points = [self.input.zero_point, self.output.zero_point];
        for z in zero_points {
            put(&i32::from(z).to_le_bytes());
        }
        put(&i32::from(self.relu).to_le_bytes());
        for s in [self.input.scale, self.output.scale] {
            put(&s.to_le_bytes());
        }
    }
    fn read_tensors(data: &[u8]) -> Result<Self, Invalid> {
        Self::from_bytes(data)
    }
}

impl<A, B> QuantLayer for Chain<A, B>
where
    A: QuantLayer,
    B: QuantLayer<Input = A::Output>,
{
    type Input = A::Input;
    type Output = B::Output;
    const LIST: ParamList = A::LIST.concat(B::LIST);
    const BYTES: usize = A::BYTES + B::BYTES;
    const WEIGHT_BYTES: usize = A::WEIGHT_BYTES + B::WEIGHT_BYTES;

    fn run(&self, x: &A::Input, out: &mut B::Output) {
        let mut mid = A::Output::ZEROS;
        self.first.run(x, &mut mid);
        self.rest.run(&mid, out);
    }
    fn input_params(&self) -> QuantParams {
        self.first.input_params()
    }
    fn output_params(&self) -> QuantParams {
        self.rest.output_params()
    }
    fn write_tensors(&self, put: &mut impl FnMut(&[u8])) {
        self.first.write_tensors(put);
        self.rest.write_tensors(put);
    }
    fn read_tensors(data: &[u8]) -> Result<Self, Invalid> {
        let first = A::read_tensors(data)?;
        let rest =
            B::read_tensors(data.get(A::BYTES..).unwrap_or_default()).map_err(|e| Invalid {
                tensor: e.tensor + A::LIST.len(),
                ..e
            })?;
        Ok(Chain { first, rest })
    }
}

/// An int8 network: quantised layers ([`QuantAffine`], or a [`Chain`] of them), int8 rows in,
/// int8 scores out.
///
/// Build one with [`quantize`] from a trained network, load it from a model file
/// (`format::model::decode_quantized`, `data::load_quantized`) or compile it in with
/// [`include_model!`](crate::include_model!).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantNet<L> {
    /// The layers, first to last.
    pub layers: L,
}

impl<L: QuantLayer> QuantNet<L> {
    /// The network of `layers`.
    pub const fn new(layers: L) -> Self {
        Self { layers }
    }

    /// The int8 scores of one int8 input row.
    pub fn predict(&self, x: &L::Input, scores: &mut L::Output) {
        self.layers.run(x, scores);
    }

    /// The class of one int8 input row: the argmax of its int8 scores (the first of equal
    /// ones).
    pub fn classify(&self, x: &L::Input) -> usize {
        let mut scores = L::Output::ZEROS;
        self.predict(x, &mut scores);
        let scores = scores.as_ref();
        let mut best = 0;
        for (j, &s) in scores.iter().enumerate() {
            if scores.get(best).is_some_and(|&b| s > b) {
                best = j;
            }
        }
        best
    }

    /// The quantisation of the input: [`QuantParams::quantize`] makes an int8 row of a real
    /// one.
    pub fn input_params(&self) -> QuantParams {
        self.layers.input_params()
    }

    /// The quantisation of the scores.
    pub fn output_params(&self) -> QuantParams {
        self.layers.output_params()
    }

    /// The real input row `x` quantised (its length is the network's input width; extra values
    /// are ignored, missing ones are 0).
    pub fn quantize_input(&self, x: &[f32]) -> L::Input {
        let params = self.input_params();
        let mut q = L::Input::ZEROS;
        for (q, &x) in q
            .as_mut()
            .iter_mut()
            .zip(x.iter().chain(core::iter::repeat(&0.0)))
        {
            *q = params.quantize(x);
        }
        q
    }

    /// A score's real value.
    pub fn dequantize(&self, score: i8) -> f32 {
        self.output_params().dequantize(score)
    }

    /// [`WEIGHT_BYTES`](Self::WEIGHT_BYTES) of this network.
    pub const fn weight_bytes(&self) -> usize {
        Self::WEIGHT_BYTES
    }

    /// The bytes of int8 weights, int32 biases, multipliers and shifts: what the network
    /// weighs in flash, besides two zero points and two scales per layer.
    pub const WEIGHT_BYTES: usize = L::WEIGHT_BYTES;
}
