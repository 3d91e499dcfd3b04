//! The chapter's layers — [`Relu`], [`Sigmoid`], [`Affine`] — and [`Chain`], which composes them.
//!
//! A layer works on a batch `[Input; N]` of rows, for any batch size `N`. Its row types carry
//! its widths (`Affine<f32, 784, 50>` takes `[f32; 784]` rows and gives `[f32; 50]` rows), so
//! feeding it the wrong width, or chaining two layers whose widths differ, does not compile.
//!
//! **Where the book caches, we hand back.** The book's layers keep `self.x`, `self.mask` or
//! `self.out` for the backward pass; in Python those are references. Copying a (100, 784) batch
//! into a layer would cost 313 KB per step, so here `backward` receives the forward pass's input
//! `x` and output `out` again, and the owner of the batch (a [`Chain`], a network) keeps each
//! activation exactly once. The mask of `Relu` is read from `x`, the cached output of `Sigmoid`
//! is `out`, and Affine's `self.x` is `x`.
//!
//! **Forward is `&self`.** A forward pass only reads parameters, so a trained network can be
//! an immutable `static` in flash; training state (gradients) is written only by `backward`.

use core::marker::PhantomData;

mod batch_norm;
mod dropout;
pub use batch_norm::{BatchNorm, BatchNormTape};
pub use dropout::Dropout;

use crate::float::Float;
use crate::init::randn;
use crate::input::{Batch, InputRow, Row};
use crate::matrix::{
    Inline, Rows, Storage, TrainStorage, Zeros, add_row, matmul, matmul_at, matmul_bt, rows_mut,
    sum_rows,
};
use crate::network::CHUNK;
use crate::params::{
    Bias, GradsMut, Moments, Param, ParamId, ParamList, Params, ParamsMut, ParamsRef, Shape,
    Tensor, TrainParams, Weights,
};

/// Rows from which an [`Affine`]'s [`forward_rows`](Layer::forward_rows) multiplies rows kept
/// sparse by a copy of its weights on cache lines: the copy costs about 30 rows' products and
/// saves about 15% of each (see PERFORMANCE.md).
#[cfg(feature = "alloc")]
const LINED_ROWS: usize = 4 * CHUNK;

/// A layer: maps each row of a batch from `Input` to `Output`.
pub trait Layer {
    /// One input row, `[T; width]`.
    type Input: InputRow<Scalar = Self::Scalar>;
    /// One output row, `[T; width]`.
    type Output: Copy + Zeros;
    /// The scalar type of its rows and parameters.
    type Scalar: Float;
    /// Its parameter tensors, declared as a type ([`params`](crate::params)): `()` for none,
    /// `(Weights<I, O, S>, Bias<O>)` for an [`Affine`]. Their names, shapes and count, and
    /// the types [`params`](Self::params) returns, all follow from it.
    type Params: Params;

    /// Computes `out` from `x` for a batch of any size `N`.
    fn forward<const N: usize>(&self, x: &[Self::Input; N], out: &mut [Self::Output; N]);

    /// [`forward`](Self::forward) from a batch of any kind ([`Batch`]: dense or sparse rows),
    /// as the first layer of a network. By default the rows are written out in full (on the
    /// stack) unless they are dense; an [`Affine`] multiplies them as they come.
    fn forward_batch<const N: usize>(
        &self,
        x: &impl Batch<Self::Input, N>,
        out: &mut [Self::Output; N],
    ) {
        with_dense(x, |dense| self.forward(dense, out));
    }

    /// Runs the layer over any number of rows of any kind ([`Row`]), a chunk at a time,
    /// handing `f` each chunk's first row number and its output rows (the last chunk may be
    /// shorter); stops at `f`'s first error. What a network's `classify` and `accuracy` run.
    ///
    /// A layer may prepare once per call what every chunk reuses: an [`Affine`] given
    /// hundreds of rows kept sparse first copies its weights onto whole cache lines, which a
    /// sparse row's product reads fewer of (the same numbers, bit for bit).
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::layers::{Affine, Layer};
    /// let layer = Affine::<f32, 2, 1>::from_parts([[1.0], [10.0]], [0.5]);
    /// let x = vec![[1.0, 2.0]; 100];
    /// let mut sum = 0.0;
    /// layer
    ///     .forward_rows(&x, |_first, out| {
    ///         sum += out.iter().map(|r| r[0]).sum::<f32>();
    ///         Ok::<(), ()>(())
    ///     })
    ///     .unwrap();
    /// assert_eq!(sum, 2150.0);
    /// ```
    fn forward_rows<X: Row<Self::Input>, E>(
        &self,
        x: &[X],
        f: impl FnMut(usize, &[Self::Output]) -> Result<(), E>,
    ) -> Result<(), E> {
        in_chunks(
            x,
            f,
            |chunk, out| self.forward_batch(chunk, out),
            |row, out| self.forward_batch(row, out),
        )
    }

    /// Sets the dropout ratio of every [`Dropout`] in it, their masks drawn from `seed`,
    /// `seed + 1`, … in order, and returns the next seed (`seed` itself for a layer with no
    /// Dropout, which is unchanged).
    fn set_dropout(&mut self, ratio: f64, seed: u64) -> u64 {
        let _ = ratio;
        seed
    }

    /// Its parameters, typed as [`Params`](Self::Params) declares them.
    fn params(&self) -> ParamsRef<'_, Self>;

    /// Its parameters, mutably (to load a model).
    fn params_mut(&mut self) -> ParamsMut<'_, Self>;

    /// Calls `f` on each parameter tensor, in order, with its name in the network (`W1`, `b1`,
    /// …), shape and values.
    fn for_each_tensor(&self, mut f: impl FnMut(Tensor<'_, Self::Scalar>)) {
        let list = <Self::Params as Params>::LIST;
        let mut k = 0;
        <Self::Params as Params>::each(self.params(), &mut |values| {
            f(Tensor {
                id: list.id(k),
                shape: spec_shape(&list, k),
                values,
            });
            k += 1;
        });
    }

    /// Calls `f` on each parameter tensor's values, mutably, in order, with its name and
    /// shape.
    fn for_each_tensor_mut(&mut self, mut f: impl FnMut(ParamId, Shape, &mut [Self::Scalar])) {
        let list = <Self::Params as Params>::LIST;
        let mut k = 0;
        <Self::Params as Params>::each_mut(self.params_mut(), &mut |values| {
            f(list.id(k), spec_shape(&list, k), values);
            k += 1;
        });
    }
}

/// The names and shapes of the parameter tensors of `L`, in order (a `const`).
pub const fn param_list<L: Layer + ?Sized>() -> ParamList {
    <L::Params as Params>::LIST
}

/// `f` of the rows of `x` as a dense array: in place if they are kept dense, else written out
/// in full on the stack (the default of the first layer's `*_batch` passes).
fn with_dense<R: InputRow, const N: usize, U>(
    x: &impl Batch<R, N>,
    f: impl FnOnce(&[R; N]) -> U,
) -> U {
    match x.as_dense() {
        Some(dense) => f(dense),
        None => {
            let mut dense: [R; N] = Zeros::zeros();
            x.write_dense(&mut dense);
            f(&dense)
        }
    }
}

/// `rows` run through `chunk` `CHUNK` at a time and the rest through `one` row by row,
/// each output handed to `f` with its first row number (the default of
/// [`Layer::forward_rows`]).
fn in_chunks<X, O: Copy + Zeros, E>(
    rows: &[X],
    mut f: impl FnMut(usize, &[O]) -> Result<(), E>,
    mut chunk: impl FnMut(&[X; CHUNK], &mut [O; CHUNK]),
    mut one: impl FnMut(&[X; 1], &mut [O; 1]),
) -> Result<(), E> {
    let mut out: [O; CHUNK] = Zeros::zeros();
    let mut chunks = rows.chunks_exact(CHUNK);
    for (k, c) in (&mut chunks).enumerate() {
        chunk(
            c.try_into().expect("chunks_exact gives CHUNK rows"),
            &mut out,
        );
        f(k * CHUNK, &out)?;
    }
    let start = rows.len() - chunks.remainder().len();
    for (i, row) in chunks.remainder().iter().enumerate() {
        let mut o: [O; 1] = Zeros::zeros();
        one(core::array::from_ref(row), &mut o);
        f(start + i, &o)?;
    }
    Ok(())
}

fn spec_shape(list: &ParamList, k: usize) -> Shape {
    list.shape(k).unwrap_or(Shape::Vector(0))
}

/// A layer that can be trained: it has a backward pass and a gradient beside each parameter.
pub trait Train: Layer<Params: TrainParams> {
    /// What its forward pass must keep for backward beyond its input and output (`()` for
    /// single layers; a [`Chain`] keeps its intermediate activations here).
    type Tape<const N: usize>: Zeros;

    /// Forward pass that records in `tape` what backward will need (by default: the plain
    /// forward pass, for layers whose backward needs only `x` and `out`).
    fn forward_train<const N: usize>(
        &self,
        x: &[Self::Input; N],
        _tape: &mut Self::Tape<N>,
        out: &mut [Self::Output; N],
    ) {
        self.forward(x, out);
    }

    /// Backward pass: from dL/d`out` (`dout`), stores the gradients of the parameters and, when
    /// `dx` is given, writes dL/d`x` (the first layer's caller passes `None`: nobody needs it).
    fn backward<const N: usize>(
        &mut self,
        x: &[Self::Input; N],
        tape: &mut Self::Tape<N>,
        out: &[Self::Output; N],
        dout: &[Self::Output; N],
        dx: Option<&mut [Self::Input; N]>,
    );

    /// [`forward_train`](Self::forward_train) from a batch of any kind, as the first layer
    /// (see [`Layer::forward_batch`]).
    fn forward_train_batch<const N: usize>(
        &self,
        x: &impl Batch<Self::Input, N>,
        tape: &mut Self::Tape<N>,
        out: &mut [Self::Output; N],
    ) {
        with_dense(x, |dense| self.forward_train(dense, tape, out));
    }

    /// [`backward`](Self::backward) from a batch of any kind, as the first layer: the
    /// parameters' gradients, no input gradient.
    fn backward_batch<const N: usize>(
        &mut self,
        x: &impl Batch<Self::Input, N>,
        tape: &mut Self::Tape<N>,
        out: &[Self::Output; N],
        dout: &[Self::Output; N],
    ) {
        with_dense(x, |dense| self.backward(dense, tape, out, dout, None));
    }

    /// Its parameters and their gradients (as the last backward pass left them), mutably,
    /// both typed as [`Params`](Layer::Params) declares them.
    fn params_and_grads(&mut self) -> (ParamsMut<'_, Self>, GradsMut<'_, Self>);

    /// Calls `f` on each parameter tensor with its gradient, in order.
    fn for_each_param(&mut self, mut f: impl FnMut(Param<'_, Self::Scalar>)) {
        let mut none = <Self::Params as TrainParams>::moments::<Self::Scalar, 0>();
        self.for_each_param_with(&mut none, |p, []| f(p));
    }

    /// Calls `f` on each parameter tensor with its gradient and its `K` buffers in `moments`
    /// (an optimiser's state, made by [`moments`](Self::moments)), in order.
    fn for_each_param_with<const K: usize>(
        &mut self,
        moments: &mut Moments<Self, K>,
        mut f: impl FnMut(Param<'_, Self::Scalar>, [&mut [Self::Scalar]; K]),
    ) {
        let list = <Self::Params as Params>::LIST;
        let mut k = 0;
        let (values, grads) = self.params_and_grads();
        <Self::Params as TrainParams>::each_with(values, grads, moments, &mut |value, grad, m| {
            // Past the state tensors, which each_with does not visit.
            while list.get(k).is_some_and(|spec| !spec.trained) {
                k += 1;
            }
            let param = Param {
                id: list.id(k),
                shape: spec_shape(&list, k),
                value,
                grad,
            };
            f(param, m);
            k += 1;
        });
    }

    /// `K` zeroed buffers shaped like each parameter tensor: an optimiser's state.
    fn moments<const K: usize>() -> Moments<Self, K> {
        <Self::Params as TrainParams>::moments()
    }
}

// ---------------------------------------------------------------------------------------------

/// ReLU: `out = x` where `x > 0`, else 0. Backward passes `dout` where `x > 0` (the book's mask
/// is `x <= 0`, so the gradient at exactly 0 is 0).
///
/// # Examples
///
/// The book's 5.5.1: the mask of `[[1.0, -0.5], [-2.0, 3.0]]` is read from `x` again in
/// backward, not kept in the layer.
///
/// ```
/// use constnn::{Layer, Relu, Train};
/// let mut relu = Relu::<f32, 2>::new();
/// let x = [[1.0, -0.5], [-2.0, 3.0]];
/// let mut out = [[0.0; 2]; 2];
/// relu.forward(&x, &mut out);
/// assert_eq!(out, [[1.0, 0.0], [0.0, 3.0]]);
/// let mut dx = [[0.0; 2]; 2];
/// relu.backward(&x, &mut (), &out, &[[5.0, 6.0], [7.0, 8.0]], Some(&mut dx));
/// assert_eq!(dx, [[5.0, 0.0], [0.0, 8.0]]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Relu<T: Float, const W: usize>(PhantomData<T>);

impl<T: Float, const W: usize> Default for Relu<T, W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float, const W: usize> Relu<T, W> {
    /// A ReLU over rows of width `W`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: Float, const W: usize> Layer for Relu<T, W> {
    type Input = [T; W];
    type Output = [T; W];
    type Scalar = T;
    type Params = ();
    fn params(&self) {}
    fn params_mut(&mut self) {}

    fn forward<const N: usize>(&self, x: &[[T; W]; N], out: &mut [[T; W]; N]) {
        // `<= 0` rather than `max(0)`: a NaN input stays NaN instead of becoming 0.
        crate::matrix::kernels::relu(x.as_flattened(), out.as_flattened_mut());
    }
}

impl<T: Float, const W: usize> Train for Relu<T, W> {
    type Tape<const N: usize> = ();
    fn params_and_grads(&mut self) -> ((), ()) {
        ((), ())
    }

    fn backward<const N: usize>(
        &mut self,
        x: &[[T; W]; N],
        _: &mut (),
        _out: &[[T; W]; N],
        dout: &[[T; W]; N],
        dx: Option<&mut [[T; W]; N]>,
    ) {
        let Some(dx) = dx else { return };
        let (x, dout) = (x.as_flattened(), dout.as_flattened());
        crate::matrix::kernels::relu_backward(x, dout, dx.as_flattened_mut());
    }
}

/// Sigmoid: `y = 1 / (1 + e^(−x))`; backward `dx = dout · (1 − y) · y` from the output `y`.
///
/// # Examples
///
/// ```
/// use constnn::{Layer, Sigmoid, Train};
/// let mut sigmoid = Sigmoid::<f64, 2>::new();
/// let x = [[0.0, 2.0]];
/// let mut y = [[0.0; 2]; 1];
/// sigmoid.forward(&x, &mut y);
/// assert_eq!(y[0][0], 0.5);
/// assert!((y[0][1] - 0.8807970779778823).abs() < 1e-15);
/// let mut dx = [[0.0; 2]; 1];
/// sigmoid.backward(&x, &mut (), &y, &[[1.0, 1.0]], Some(&mut dx)); // from y alone
/// assert_eq!(dx[0][0], 0.25);
/// assert!((dx[0][1] - (1.0 - y[0][1]) * y[0][1]).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Sigmoid<T: Float, const W: usize>(PhantomData<T>);

impl<T: Float, const W: usize> Default for Sigmoid<T, W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float, const W: usize> Sigmoid<T, W> {
    /// A sigmoid over rows of width `W`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: Float, const W: usize> Layer for Sigmoid<T, W> {
    type Input = [T; W];
    type Output = [T; W];
    type Scalar = T;
    type Params = ();
    fn params(&self) {}
    fn params_mut(&mut self) {}

    fn forward<const N: usize>(&self, x: &[[T; W]; N], out: &mut [[T; W]; N]) {
        for (o, v) in out.as_flattened_mut().iter_mut().zip(x.as_flattened()) {
            *o = T::ONE / (T::ONE + (-*v).exp());
        }
    }
}

impl<T: Float, const W: usize> Train for Sigmoid<T, W> {
    type Tape<const N: usize> = ();
    fn params_and_grads(&mut self) -> ((), ()) {
        ((), ())
    }

    fn backward<const N: usize>(
        &mut self,
        _x: &[[T; W]; N],
        _: &mut (),
        out: &[[T; W]; N],
        dout: &[[T; W]; N],
        dx: Option<&mut [[T; W]; N]>,
    ) {
        let Some(dx) = dx else { return };
        let it = dx.as_flattened_mut().iter_mut().zip(out.as_flattened());
        for ((d, y), g) in it.zip(dout.as_flattened()) {
            *d = *g * (T::ONE - *y) * *y;
        }
    }
}

/// Affine (fully connected): `out = x · W + b`, with `W` (I, O) and `b` (O).
///
/// Backward (the book's 5.6.2): `dx = dout · Wᵀ`, `dW = xᵀ · dout`, `db = Σ_batch dout`.
///
/// `S` says where `W` and `dW` live ([`Storage`]): by value ([`Inline`], the default),
/// on the heap (`Heap`) or frozen for inference ([`Frozen`](crate::matrix::Frozen)).
///
/// # Examples
///
/// A batch of two rows through an Affine of 2 → 3, forward then backward. Every shape is
/// the type's: a batch of rows of 3, or a `dout` of width 2, would not compile.
///
/// ```
/// use constnn::{Affine, Layer, Train};
/// let w = [[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]]; // (2, 3)
/// let mut affine = Affine::<f64, 2, 3>::from_parts(w, [0.1, 0.2, 0.3]);
/// let x = [[1.0, 2.0], [3.0, 4.0]]; // (N, 2), N = 2
/// let mut out = [[0.0; 3]; 2];
/// affine.forward(&x, &mut out); // x · W + b
/// assert_eq!(out, [[2.1, 4.2, 1.3], [5.1, 8.2, 1.3]]);
///
/// let dout = [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]];
/// let mut dx = [[0.0; 2]; 2];
/// affine.backward(&x, &mut (), &out, &dout, Some(&mut dx));
/// assert_eq!(dx, [[1.0, 0.5], [-1.0, 3.0]]); // dout · Wᵀ
/// assert_eq!(*affine.dw(), [[1.0, 3.0, 3.0], [2.0, 4.0, 4.0]]); // xᵀ · dout
/// assert_eq!(affine.db, [1.0, 1.0, 1.0]); // Σ dout over the batch
/// ```
pub struct Affine<T: Float, const I: usize, const O: usize, S: Storage = Inline> {
    /// Weights, (I, O).
    pub w: S::Mat<T, I, O>,
    /// Bias, (O).
    pub b: [T; O],
    /// dL/dW from the last backward pass.
    pub dw: S::Grad<T, I, O>,
    /// dL/db from the last backward pass (nothing, for [`Frozen`](crate::matrix::Frozen)).
    pub db: S::VecGrad<T, O>,
}

/// Shows the shape and bias; a weight matrix of 40 000 numbers is no help in a debug print.
impl<T: Float, const I: usize, const O: usize, S: Storage> core::fmt::Debug for Affine<T, I, O, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Affine")
            .field("inputs", &I)
            .field("outputs", &O)
            .field("b", &self.b.as_slice())
            .finish_non_exhaustive()
    }
}

impl<T: Float, const I: usize, const O: usize, S: Storage> Clone for Affine<T, I, O, S>
where
    S::Mat<T, I, O>: Clone,
    S::Grad<T, I, O>: Clone,
    S::VecGrad<T, O>: Clone,
{
    fn clone(&self) -> Self {
        Self {
            w: self.w.clone(),
            b: self.b,
            dw: self.dw.clone(),
            db: self.db.clone(),
        }
    }
}

/// All zeros: a layer to load a model into, or to draw with
/// [`Network::init_weights`](crate::Network::init_weights).
impl<T: Float, const I: usize, const O: usize, S: TrainStorage> Default for Affine<T, I, O, S> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<T: Float, const I: usize, const O: usize, S: TrainStorage> Affine<T, I, O, S> {
    /// All weights and biases zero.
    pub fn zeros() -> Self {
        Self {
            w: S::zeros(),
            b: [T::ZERO; O],
            dw: S::grad_zeros(),
            db: S::vec_grad_zeros(),
        }
    }

    /// The book's initialisation: `W = weight_init_std · N(0, 1)`, `b = 0`, the normal draws
    /// from any `rand_core` generator ([`randn`]).
    pub fn new<R: rand_core::Rng + ?Sized>(weight_init_std: f64, rng: &mut R) -> Self {
        Self::with_normal(weight_init_std, || randn(rng))
    }

    /// `W = weight_init_std · z` for N(0, 1) draws `z` from `normal`, row by row; `b = 0`.
    /// (For the book's own stream: [`NumpyRandom::randn`](crate::init::NumpyRandom::randn).)
    pub fn with_normal(weight_init_std: f64, mut normal: impl FnMut() -> f64) -> Self {
        let mut layer = Self::zeros();
        for w in S::get_mut(&mut layer.w).as_flattened_mut() {
            *w = T::from_f64(weight_init_std * normal());
        }
        layer
    }

    /// Weights drawn as `init` says for a layer of `I` inputs (the book's `weight_init_std`:
    /// a fixed σ, Xavier's `√(1/I)` or He's `√(2/I)`), row by row from `normal`; biases zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::{Affine, init::{NumpyRandom, WeightInit}};
    /// let mut np = NumpyRandom::seed(0);
    /// let layer = Affine::<f64, 2, 3>::with_init(WeightInit::He, || np.randn());
    /// // np.random.seed(0); np.sqrt(2 / 2) * np.random.randn(2, 3)
    /// assert_eq!(layer.w()[0][0], 1.764052345967664);
    /// ```
    pub fn with_init(init: crate::init::WeightInit, normal: impl FnMut() -> f64) -> Self {
        Self::with_normal(init.std(I), normal)
    }

    /// Weights and bias given; gradients zero.
    pub fn from_parts(w: S::Mat<T, I, O>, b: [T; O]) -> Self {
        Self {
            w,
            b,
            dw: S::grad_zeros(),
            db: S::vec_grad_zeros(),
        }
    }

    /// dL/dW from the last backward pass.
    pub fn dw(&self) -> &[[T; O]; I] {
        S::grad(&self.dw)
    }
}

impl<T: Float, const I: usize, const O: usize, S: Storage> Affine<T, I, O, S> {
    /// The weights, (I, O).
    pub fn w(&self) -> &[[T; O]; I] {
        S::get(&self.w)
    }
}

#[cfg(feature = "alloc")]
impl<T: Float, const I: usize, const O: usize, S: Storage> Affine<T, I, O, S> {
    /// [`forward_rows`](Layer::forward_rows) through a copy of `W` on cache lines, made for
    /// the call: `x·W` from the copy, plus `b`.
    fn forward_lined<X: Row<[T; I]>, E>(
        &self,
        x: &[X],
        mut f: impl FnMut(usize, &[[T; O]]) -> Result<(), E>,
    ) -> Result<(), E> {
        let lined = crate::matrix::sparse::LinedRows::new(S::get(&self.w));
        let mut out = [[T::ZERO; O]; CHUNK];
        for (k, rows) in x.chunks(CHUNK).enumerate() {
            let out = &mut out[..rows.len()];
            if X::rows_lined(rows, &lined, out) {
                for r in out.iter_mut() {
                    for (v, b) in r.iter_mut().zip(&self.b) {
                        *v += *b;
                    }
                }
            } else {
                // Rows not kept sparse (never sent here, but right for any).
                for (row, o) in rows.iter().zip(out.iter_mut()) {
                    self.forward_batch(core::array::from_ref(row), core::array::from_mut(o));
                }
            }
            f(k * CHUNK, out)?;
        }
        Ok(())
    }
}

impl<T: Float, const I: usize, const O: usize, S: Storage> Layer for Affine<T, I, O, S> {
    type Input = [T; I];
    type Output = [T; O];
    type Scalar = T;
    type Params = (Weights<I, O, S>, Bias<O>);

    fn forward<const N: usize>(&self, x: &[[T; I]; N], out: &mut [[T; O]; N]) {
        matmul(x, S::get(&self.w), out);
        add_row(out, &self.b);
    }

    /// `x·W + b` with the product for the kind of rows given: a sparse row's zeros are skipped.
    fn forward_batch<const N: usize>(&self, x: &impl Batch<[T; I], N>, out: &mut [[T; O]; N]) {
        x.matmul(S::get(&self.w), out);
        add_row(out, &self.b);
    }

    /// Many rows kept sparse (a few hundred or more) are multiplied by a copy of `W` on
    /// whole cache lines, made for the call; others as [`forward_batch`](Layer::forward_batch)
    /// does.
    fn forward_rows<X: Row<[T; I]>, E>(
        &self,
        x: &[X],
        f: impl FnMut(usize, &[[T; O]]) -> Result<(), E>,
    ) -> Result<(), E> {
        #[cfg(feature = "alloc")]
        if X::SPARSE && x.len() >= LINED_ROWS && crate::matrix::sparse::LinedRows::<T, I, O>::LINED
        {
            return self.forward_lined(x, f);
        }
        in_chunks(
            x,
            f,
            |chunk, out| self.forward_batch(chunk, out),
            |row, out| self.forward_batch(row, out),
        )
    }

    fn params(&self) -> (&[[T; O]; I], &[T; O]) {
        (S::get(&self.w), &self.b)
    }

    fn params_mut(&mut self) -> (&mut [[T; O]; I], &mut [T; O]) {
        (S::get_mut(&mut self.w), &mut self.b)
    }
}

impl<T: Float, const I: usize, const O: usize, S: TrainStorage> Train for Affine<T, I, O, S> {
    type Tape<const N: usize> = ();

    fn backward<const N: usize>(
        &mut self,
        x: &[[T; I]; N],
        _: &mut (),
        _out: &[[T; O]; N],
        dout: &[[T; O]; N],
        dx: Option<&mut [[T; I]; N]>,
    ) {
        matmul_at(x, dout, S::grad_mut(&mut self.dw));
        sum_rows(dout, S::vec_grad_mut(&mut self.db));
        if let Some(dx) = dx {
            matmul_bt(dout, S::get(&self.w), dx);
        }
    }

    fn forward_train_batch<const N: usize>(
        &self,
        x: &impl Batch<[T; I], N>,
        _: &mut (),
        out: &mut [[T; O]; N],
    ) {
        self.forward_batch(x, out);
    }

    /// `dW = xᵀ · dout` with the product for the kind of rows given (a `SparseBatch` from its
    /// columns), and `db`; no `dx`.
    fn backward_batch<const N: usize>(
        &mut self,
        x: &impl Batch<[T; I], N>,
        _: &mut (),
        _out: &[[T; O]; N],
        dout: &[[T; O]; N],
    ) {
        x.matmul_at(dout, S::grad_mut(&mut self.dw));
        sum_rows(dout, S::vec_grad_mut(&mut self.db));
    }

    #[allow(clippy::type_complexity)] // the declaration's two tensors, values then gradients
    fn params_and_grads(
        &mut self,
    ) -> (
        (&mut [[T; O]; I], &mut [T; O]),
        (&mut [[T; O]; I], &mut [T; O]),
    ) {
        (
            (S::get_mut(&mut self.w), &mut self.b),
            (S::grad_mut(&mut self.dw), S::vec_grad_mut(&mut self.db)),
        )
    }
}

// ---------------------------------------------------------------------------------------------

/// Two layers in sequence, `B` after `A`. Nest it for longer networks, or use
/// [`chain!`](crate::chain!).
///
/// [`Chain::new`] accepts `A` and `B` only if `A`'s output rows are `B`'s input rows, so
/// a network whose adjacent shapes do not connect is a compile error.
///
/// ```
/// use constnn::{chain, layers::{Affine, Relu, Layer}};
/// let net = chain![Affine::<f32, 4, 3>::zeros(), Relu::new(), Affine::<f32, 3, 2>::zeros()];
/// let mut out = [[9.0; 2]; 5];
/// net.forward(&[[1.0; 4]; 5], &mut out);
/// assert_eq!(out, [[0.0; 2]; 5]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chain<A, B> {
    /// The first layer.
    pub first: A,
    /// The layer (or chain) after it.
    pub rest: B,
}

impl<A: Layer, B: Layer<Input = A::Output, Scalar = A::Scalar>> Chain<A, B> {
    /// `first`, then `rest`.
    pub const fn new(first: A, rest: B) -> Self {
        Self { first, rest }
    }
}

/// Builds a [`Chain`] from a list of layers: `chain![a, b, c]` is
/// `Chain::new(a, Chain::new(b, c))`.
#[macro_export]
macro_rules! chain {
    ($last:expr $(,)?) => { $last };
    ($first:expr, $($rest:expr),+ $(,)?) => {
        $crate::layers::Chain::new($first, $crate::chain!($($rest),+))
    };
}

/// The type of a [`chain!`]: `Chain![A, B, C]` is `Chain<A, Chain<B, C>>`, so that a deep
/// network's type reads as its list of layers.
///
/// # Examples
///
/// ```
/// use constnn::{chain, Chain, Network, layers::{Affine, Relu}};
/// type Net = Network<Chain![Affine<f32, 4, 8>, Relu<f32, 8>, Affine<f32, 8, 3>]>;
/// let net: Net = Network::from_layers(chain![Affine::zeros(), Relu::new(), Affine::zeros()]);
/// assert_eq!(net.param_count(), 4);
/// ```
#[macro_export]
#[allow(non_snake_case)]
macro_rules! Chain {
    ($last:ty $(,)?) => { $last };
    ($first:ty, $($rest:ty),+ $(,)?) => {
        $crate::layers::Chain<$first, $crate::Chain![$($rest),+]>
    };
}

impl<A: Layer, B: Layer<Input = A::Output, Scalar = A::Scalar>> Layer for Chain<A, B> {
    type Input = A::Input;
    type Output = B::Output;
    type Scalar = A::Scalar;
    type Params = (A::Params, B::Params);

    fn params(&self) -> ParamsRef<'_, Self> {
        (self.first.params(), self.rest.params())
    }

    fn params_mut(&mut self) -> ParamsMut<'_, Self> {
        (self.first.params_mut(), self.rest.params_mut())
    }

    fn set_dropout(&mut self, ratio: f64, seed: u64) -> u64 {
        let seed = self.first.set_dropout(ratio, seed);
        self.rest.set_dropout(ratio, seed)
    }

    fn forward<const N: usize>(&self, x: &[A::Input; N], out: &mut [B::Output; N]) {
        let mut mid: [A::Output; N] = Zeros::zeros();
        self.first.forward(x, &mut mid);
        self.rest.forward(&mid, out);
    }

    fn forward_batch<const N: usize>(&self, x: &impl Batch<A::Input, N>, out: &mut [B::Output; N]) {
        let mut mid: [A::Output; N] = Zeros::zeros();
        self.first.forward_batch(x, &mut mid);
        self.rest.forward(&mid, out);
    }

    fn forward_rows<X: Row<A::Input>, E>(
        &self,
        x: &[X],
        mut f: impl FnMut(usize, &[B::Output]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut out: [B::Output; CHUNK] = Zeros::zeros();
        self.first.forward_rows(x, |start, mid| {
            if let Ok(mid) = <&[A::Output; CHUNK]>::try_from(mid) {
                self.rest.forward(mid, &mut out);
                return f(start, &out);
            }
            for (i, row) in mid.iter().enumerate() {
                let mut o: [B::Output; 1] = Zeros::zeros();
                self.rest.forward(core::array::from_ref(row), &mut o);
                f(start + i, &o)?;
            }
            Ok(())
        })
    }
}

/// What a [`Chain`] keeps between forward and backward: the activation between its two parts,
/// the gradient flowing back into it, and the parts' own tapes. With the `alloc` feature the
/// two are on the heap (made zeroed there a row at a time), so that a wide network's training
/// step (784-1024-1024-10 at batch 256 keeps 8 MiB of them) runs on any thread; without it,
/// where the tape is put. Every pass writes them whole, so a tape kept between steps
/// ([`Workspace`](crate::network::Workspace)) is never zeroed again.
pub struct ChainTape<A: Train, B: Train, const N: usize> {
    first: A::Tape<N>,
    mid: Rows<A::Output, N>,
    dmid: Rows<A::Output, N>,
    rest: B::Tape<N>,
}

impl<A: Train, B: Train, const N: usize> Zeros for ChainTape<A, B, N> {
    fn zeros() -> Self {
        Self {
            first: Zeros::zeros(),
            mid: Zeros::zeros(),
            dmid: Zeros::zeros(),
            rest: Zeros::zeros(),
        }
    }
}

impl<A, B> Chain<A, B>
where
    A: Train,
    B: Train<Input = A::Output, Scalar = A::Scalar>,
{
    /// The rest of the chain's backward pass, from `dout`, into the gradient of the activation
    /// between the parts (which the first part's backward pass then reads).
    fn backward_rest<const N: usize>(
        &mut self,
        tape: &mut ChainTape<A, B, N>,
        out: &[B::Output; N],
        dout: &[B::Output; N],
    ) {
        self.rest.backward(
            &tape.mid,
            &mut tape.rest,
            out,
            dout,
            Some(rows_mut(&mut tape.dmid)),
        );
    }
}

impl<A, B> Train for Chain<A, B>
where
    A: Train,
    B: Train<Input = A::Output, Scalar = A::Scalar>,
{
    type Tape<const N: usize> = ChainTape<A, B, N>;

    fn forward_train<const N: usize>(
        &self,
        x: &[A::Input; N],
        tape: &mut ChainTape<A, B, N>,
        out: &mut [B::Output; N],
    ) {
        self.first.forward_train(x, &mut tape.first, &mut tape.mid);
        self.rest.forward_train(&tape.mid, &mut tape.rest, out);
    }

    fn backward<const N: usize>(
        &mut self,
        x: &[A::Input; N],
        tape: &mut ChainTape<A, B, N>,
        out: &[B::Output; N],
        dout: &[B::Output; N],
        dx: Option<&mut [A::Input; N]>,
    ) {
        self.backward_rest(tape, out, dout);
        self.first
            .backward(x, &mut tape.first, &tape.mid, &tape.dmid, dx);
    }

    fn forward_train_batch<const N: usize>(
        &self,
        x: &impl Batch<A::Input, N>,
        tape: &mut ChainTape<A, B, N>,
        out: &mut [B::Output; N],
    ) {
        self.first
            .forward_train_batch(x, &mut tape.first, &mut tape.mid);
        self.rest.forward_train(&tape.mid, &mut tape.rest, out);
    }

    fn backward_batch<const N: usize>(
        &mut self,
        x: &impl Batch<A::Input, N>,
        tape: &mut ChainTape<A, B, N>,
        out: &[B::Output; N],
        dout: &[B::Output; N],
    ) {
        self.backward_rest(tape, out, dout);
        self.first
            .backward_batch(x, &mut tape.first, &tape.mid, &tape.dmid);
    }

    fn params_and_grads(&mut self) -> (ParamsMut<'_, Self>, GradsMut<'_, Self>) {
        let (first_values, first_grads) = self.first.params_and_grads();
        let (rest_values, rest_grads) = self.rest.params_and_grads();
        ((first_values, rest_values), (first_grads, rest_grads))
    }
}
