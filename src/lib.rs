//! # constnn
//!
//! Neural networks whose shapes are checked by the compiler: the backpropagation of chapter 5
//! of *Deep Learning from Scratch* (Saito), `#![no_std]`, with no heap.
//!
//! - [`matrix`]: `[[T; C]; R]` matrices and their products; a wrong shape does not compile.
//!   [`matrix::sparse`]: rows kept as their non-zero values, with the same products, and
//!   training batches of them also listed by column.
//! - [`input`]: what a network reads — dense or sparse rows, one at a time or a batch — through
//!   one trait, `Batch`; every pass takes any of them.
//! - [`graph`]: the scalar computational-graph nodes `MulLayer`, `AddLayer`.
//! - [`layers`]: `Relu`, `Sigmoid`, `Affine`, chapter 6's `BatchNorm` and `Dropout`, and
//!   `Chain` to compose them.
//! - [`loss`]: softmax, cross-entropy, `SoftmaxWithLoss`.
//! - [`network`]: `Network` and the book's `TwoLayerNet`, with backprop and numerical gradients.
//! - [`params`]: each layer's parameters, declared once as a type: names, shapes, typed
//!   access, an optimiser's state shaped like the network.
//! - [`optim`]: the book's optimisers — `Sgd`, `Momentum`, `Nesterov`, `AdaGrad`, `RmsProp`,
//!   `Adam` — each with its state typed and shaped like the network.
//! - [`init`]: normal draws for the weights, and NumPy's legacy stream (the book's `np.random`).
//! - [`quant`]: int8 networks in TensorFlow Lite's scheme — post-training quantisation of a
//!   trained network and integer-only inference, the same bits on every target.
//! - [`embed`]: any `chain!` network compiled in from a model file ([`include_model!`]).
//! - `data` (the `std` feature): MNIST's files read from disk with bounded allocation, model
//!   files saved atomically and loaded no further than a network needs; with the `npz`
//!   feature, parameters as NumPy `.npz` files named as the book names them (`W1`, `b1`, …).
//! - `train` (the `std` feature): the book's training loop for any network and optimiser —
//!   batches drawn and made ahead on a helper thread, evaluations beside training, progress,
//!   a CSV log, the model saved atomically.
//! - [`format`]: MNIST's IDX files and this crate's model files, parsed from `&[u8]`.
//!
//! ```
//! use constnn::{TwoLayerNet, Sgd};
//! use rand_core::SeedableRng;
//!
//! let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
//! let mut net = TwoLayerNet::<2, 8, 2>::new(1.0, &mut rng);
//! // XOR, batch of four: inputs and class labels.
//! let x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let t = [0u8, 1, 1, 0];
//! let mut sgd = Sgd::new(0.5);
//! for _ in 0..2000 {
//!     net.train_step(&x, &t, &mut sgd).unwrap();
//! }
//! assert_eq!(net.accuracy(&x, &t).unwrap(), 1.0);
//! ```
#![cfg_attr(not(test), no_std)]
// `unsafe` only in `matrix::kernels::isa`, which runs the kernels compiled for the vector unit
// the CPU has (see there): forbidden in every module but `matrix` and `matrix::kernels` (whose
// own files deny it), allowed in that one.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

// Only for the `std` feature's files: the kernels, their fused multiply-add and the detection of
// the vector unit need nothing but `core` (see `float::FUSED`).
#[cfg(all(not(test), feature = "std"))]
extern crate std;

#[cfg(feature = "std")]
#[forbid(unsafe_code)]
pub mod data;
#[forbid(unsafe_code)]
pub mod embed;
#[forbid(unsafe_code)]
pub mod float;
#[forbid(unsafe_code)]
pub mod format;
#[forbid(unsafe_code)]
pub mod graph;
#[forbid(unsafe_code)]
pub mod init;
#[forbid(unsafe_code)]
pub mod input;
#[forbid(unsafe_code)]
pub mod layers;
#[forbid(unsafe_code)]
pub mod loss;
pub mod matrix;
#[forbid(unsafe_code)]
pub mod network;
#[forbid(unsafe_code)]
pub mod optim;
#[forbid(unsafe_code)]
pub mod params;
#[forbid(unsafe_code)]
pub mod quant;
#[cfg(feature = "std")]
#[forbid(unsafe_code)]
pub mod train;

pub use float::Float;
pub use layers::{Affine, BatchNorm, Chain, Dropout, Layer, Relu, Sigmoid, Train};
pub use loss::{LabelOutOfRange, SoftmaxWithLoss, Targets};
pub use matrix::Matrix;
pub use network::{BatchError, Network, TwoLayerNet};
pub use optim::{AdaGrad, Adam, Momentum, Nesterov, Optimizer, RmsProp, Sgd, WeightDecay};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
