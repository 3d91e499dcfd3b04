//! Networks compiled in from a model file: any [`chain!`](crate::chain!) of
//! [`Frozen`] layers (with [`BatchNorm`] at inference: its running averages are in the file),
//! decoded and shape-checked while the program compiles, kept in a `static`
//! (in flash, on a microcontroller).
//!
//! Use [`include_model!`](crate::include_model!). It validates the file against the network's
//! declared parameters ([`param_list`]) in a `const`: a model of another shape, dtype or a
//! damaged one fails the build with the reason, never the run. Then every layer takes its
//! tensors from the data section in order ([`Embed`]): the offsets follow from the declaration,
//! none is written by hand.
//!
//! Stable Rust has no `const` trait methods, so the model's bytes travel as a type
//! ([`ModelData`]) whose associated `const` each layer reads; the macro makes that type.

use crate::format::model;
use crate::layers::{Affine, BatchNorm, Chain, Layer, Relu, Sigmoid, param_list};
use crate::matrix::{Frozen, NoGrad};
use crate::network::Network;
use crate::params::ParamList;
use crate::quant::{QuantAffine, QuantLayer, QuantNet};

/// The data section of a validated model file, as a type: what [`Embed`] reads from. Made by
/// [`include_model!`](crate::include_model!); [`After`] is the same data past a layer's
/// tensors.
pub trait ModelData {
    /// The parameter values still to be read, little-endian, in declaration order.
    const DATA: &'static [u8];
}

/// The data of `M` after the tensors of the layer `L`.
pub struct After<M, L>(core::marker::PhantomData<(M, L)>);

/// A layer's size in a model file's data section: where the next layer's tensors start.
pub trait Stored {
    /// The bytes of its tensors.
    const BYTES: usize;
}

impl<L: Layer> Stored for L {
    const BYTES: usize = param_list::<L>().values() * core::mem::size_of::<L::Scalar>();
}

impl<const I: usize, const O: usize> Stored for QuantAffine<I, O> {
    const BYTES: usize = <Self as QuantLayer>::BYTES;
}

impl<M: ModelData, L: Stored> ModelData for After<M, L> {
    const DATA: &'static [u8] = M::DATA.split_at(L::BYTES).1;
}

/// A layer (or chain) that can be built, in a `const`, from the model data `M`.
pub trait Embed<M: ModelData>: Sized {
    /// The layer, with its parameters read from `M`.
    const EMBEDDED: Self;
}

/// What a model file for `Self` must hold: a layer's (or a network's layers') declared
/// parameters and dtype.
pub trait Declared {
    /// The parameter tensors' names and shapes, in order.
    const LIST: ParamList;
    /// The dtype byte of its scalar ([`model::dtype_code`]).
    const DTYPE: u8;
}

impl<L: Layer> Declared for L {
    const LIST: ParamList = param_list::<L>();
    const DTYPE: u8 = model::dtype_code::<L::Scalar>();
}

impl<L: Layer> Declared for Network<L> {
    const LIST: ParamList = param_list::<L>();
    const DTYPE: u8 = model::dtype_code::<L::Scalar>();
}

impl<L: QuantLayer> Declared for QuantNet<L> {
    const LIST: ParamList = L::LIST;
    const DTYPE: u8 = model::DTYPE_INT8;
}

/// The data section of `bytes`, a model file for `N`; a compile-time error naming what is wrong
/// when used in a `const`. Used by [`include_model!`](crate::include_model!).
pub const fn data_of<N: Declared>(bytes: &[u8]) -> &[u8] {
    match model::validate(bytes, &N::LIST, N::DTYPE) {
        // The data runs from `start` to the 4-byte CRC at the end.
        Ok(start) => bytes.split_at(bytes.len() - 4).0.split_at(start).1,
        Err(e) => panic!("{}", e.kind()),
    }
}

macro_rules! embed_affine {
    ($t:ty, $bytes:literal, $from:ident) => {
        impl<const I: usize, const O: usize> Affine<$t, I, O, Frozen> {
            /// The layer whose tensors start `data` (validated: long enough).
            pub(crate) const fn from_data(data: &[u8]) -> Self {
                let mut w = [[0.0; O]; I];
                let mut b = [0.0; O];
                let mut at = 0;
                let mut r = 0;
                while r < I {
                    let mut c = 0;
                    while c < O {
                        w[r][c] = $from(data, at);
                        at += $bytes;
                        c += 1;
                    }
                    r += 1;
                }
                let mut c = 0;
                while c < O {
                    b[c] = $from(data, at);
                    at += $bytes;
                    c += 1;
                }
                Affine {
                    w,
                    b,
                    dw: NoGrad,
                    db: NoGrad,
                }
            }
        }

        impl<M: ModelData, const I: usize, const O: usize> Embed<M> for Affine<$t, I, O, Frozen> {
            const EMBEDDED: Self = Self::from_data(M::DATA);
        }
    };
}

/// The little-endian `f32` at byte `at` of validated data.
const fn f32_at(data: &[u8], at: usize) -> f32 {
    f32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// The little-endian `f64` at byte `at` of validated data.
const fn f64_at(data: &[u8], at: usize) -> f64 {
    let mut b = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        b[i] = data[at + i];
        i += 1;
    }
    f64::from_le_bytes(b)
}

embed_affine!(f32, 4, f32_at);
embed_affine!(f64, 8, f64_at);

macro_rules! embed_batch_norm {
    ($t:ty, $bytes:literal, $from:ident) => {
        impl<M: ModelData, const W: usize> Embed<M> for BatchNorm<$t, W> {
            /// γ, β, the running mean and the running variance, `W` values each, in the
            /// declaration's order.
            const EMBEDDED: Self = {
                let mut v = [[0.0; W]; 4];
                let mut at = 0;
                let mut k = 0;
                while k < 4 {
                    let mut c = 0;
                    while c < W {
                        v[k][c] = $from(M::DATA, at);
                        at += $bytes;
                        c += 1;
                    }
                    k += 1;
                }
                BatchNorm::from_state(v[0], v[1], v[2], v[3])
            };
        }
    };
}

embed_batch_norm!(f32, 4, f32_at);
embed_batch_norm!(f64, 8, f64_at);

impl<M: ModelData, T: crate::Float, const W: usize> Embed<M> for Relu<T, W> {
    const EMBEDDED: Self = Relu::new();
}

impl<M: ModelData, T: crate::Float, const W: usize> Embed<M> for Sigmoid<T, W> {
    const EMBEDDED: Self = Sigmoid::new();
}

impl<M, A, B> Embed<M> for Chain<A, B>
where
    M: ModelData,
    A: Embed<M> + Stored,
    B: Embed<After<M, A>>,
{
    const EMBEDDED: Self = Chain {
        first: A::EMBEDDED,
        rest: B::EMBEDDED,
    };
}

impl<M: ModelData, const I: usize, const O: usize> Embed<M> for QuantAffine<I, O> {
    /// The layer, its shifts, multipliers, zero points and scales checked to be in range.
    const EMBEDDED: Self = match QuantAffine::from_bytes(M::DATA) {
        Ok(layer) => layer,
        Err(e) => panic!("{}", e.problem),
    };
}

impl<M: ModelData, L: Embed<M> + QuantLayer> Embed<M> for QuantNet<L> {
    const EMBEDDED: Self = QuantNet {
        layers: L::EMBEDDED,
    };
}

impl<M: ModelData, L: Embed<M>> Embed<M> for Network<L> {
    const EMBEDDED: Self = Network::from_layers(L::EMBEDDED);
}

/// A network of [`Frozen`] layers compiled in from a model file: `include_model!(Type,
/// "path")` is a `const` expression of type `Type` (a [`Network`], a [`chain!`](crate::chain!)
/// of layers, or an int8 [`QuantNet`]), the file read as [`include_bytes!`] reads it (relative
/// to the current source file) and validated while compiling.
///
/// # Examples
///
/// ```
/// use constnn::{Network, include_model};
/// use constnn::layers::{Affine, Chain, Relu};
/// use constnn::matrix::Frozen;
///
/// type Mnist = Network<
///     Chain<Affine<f32, 784, 50, Frozen>, Chain<Relu<f32, 50>, Affine<f32, 50, 10, Frozen>>>,
/// >;
/// static NET: Mnist = include_model!(Mnist, "../firmware/model/mnist-784-50-10.cnnm");
///
/// // A blank image: its scores are relu(b1)·W2 + b2.
/// let mut scores = [[0.0; 10]];
/// NET.predict(&[[0.0; 784]], &mut scores);
/// let (b1, second) = (&NET.layers.first.b, &NET.layers.rest.rest);
/// for (j, s) in scores[0].iter().enumerate() {
///     let h = b1.iter().zip(second.w()).map(|(b, w)| b.max(0.0) * w[j]);
///     assert!((s - (h.sum::<f32>() + second.b[j])).abs() < 1e-5);
/// }
/// ```
///
/// The int8 MNIST network, as the firmware embeds it:
///
/// ```
/// use constnn::quant::{QuantAffine, QuantNet};
/// use constnn::{Chain, include_model};
///
/// type Int8 = QuantNet<Chain<QuantAffine<784, 50>, QuantAffine<50, 10>>>;
/// static NET: Int8 = include_model!(Int8, "../firmware/model/mnist-784-50-10-int8.cnnm");
///
/// // A blank image (every pixel at the input's zero point, −128) is a "7" to this network.
/// assert_eq!(NET.input_params().zero_point, -128);
/// assert_eq!(NET.classify(&[-128; 784]), 7);
/// ```
///
/// A file of another shape fails the build: `evaluation panicked: a tensor in the model file
/// has another shape than the network's`
/// (`compile-fail/tests/ui/included_model_of_another_shape.rs`).
#[macro_export]
macro_rules! include_model {
    ($network:ty, $path:expr $(,)?) => {{
        struct Model;
        impl $crate::embed::ModelData for Model {
            const DATA: &'static [u8] = $crate::embed::data_of::<$network>(include_bytes!($path));
        }
        <$network as $crate::embed::Embed<Model>>::EMBEDDED
    }};
}
