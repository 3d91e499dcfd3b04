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

use crate::float::Float;
use crate::init::randn;
use crate::matrix::sparse::SparseInput;
use crate::matrix::{
    Inline, Storage, TrainStorage, Zeros, add_row, matmul, matmul_at, matmul_bt, sum_rows,
};

/// A layer: maps each row of a batch from `Input` to `Output`.
pub trait Layer {
    /// One input row, `[T; width]`.
    type Input: Copy + Zeros;
    /// One output row, `[T; width]`.
    type Output: Copy + Zeros;

    /// The scalar type of its rows and parameters.
    type Scalar: Float;
    /// How many parameter tensors it has (Affine: 2, `W` and `b`; none by default).
    const PARAMS: usize = 0;
    /// The shapes of its parameter tensors, known at compile time (for checking a model file
    /// against the network in a `const`).
    const SHAPES: ShapeList = ShapeList::EMPTY;

    /// Computes `out` from `x` for a batch of any size `N`.
    fn forward<const N: usize>(&self, x: &[Self::Input; N], out: &mut [Self::Output; N]);

    /// Parameter tensor `k` (`0..PARAMS`), flattened row-major; `None` past the end.
    fn tensor(&self, _k: usize) -> Option<Tensor<'_, Self::Scalar>> {
        None
    }

    /// The values of parameter tensor `k`, mutably (to load a model); `None` past the end.
    fn tensor_mut(&mut self, _k: usize) -> Option<&mut [Self::Scalar]> {
        None
    }
}

/// The shape of a parameter tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A vector of this length (a bias).
    Vector(usize),
    /// A matrix of (rows, columns) (a weight matrix).
    Matrix(usize, usize),
}

impl Shape {
    /// The number of elements.
    pub const fn len(self) -> usize {
        match self {
            Shape::Vector(n) => n,
            Shape::Matrix(r, c) => r * c,
        }
    }
    /// Whether it has no elements.
    pub const fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl core::fmt::Display for Shape {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Shape::Vector(n) => write!(f, "({n},)"),
            Shape::Matrix(r, c) => write!(f, "({r}, {c})"),
        }
    }
}

/// Most parameter tensors a network can have in a [`ShapeList`].
pub const MAX_TENSORS: usize = 32;

/// The shapes of a network's parameter tensors, in order: a list usable in `const` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeList {
    shapes: [Shape; MAX_TENSORS],
    len: usize,
}

impl ShapeList {
    /// No tensors.
    pub const EMPTY: Self = Self {
        shapes: [Shape::Vector(0); MAX_TENSORS],
        len: 0,
    };

    /// These shapes (at most [`MAX_TENSORS`]; more fail the build when used in a `const`).
    pub const fn of(shapes: &[Shape]) -> Self {
        let mut list = Self::EMPTY;
        let mut i = 0;
        while i < shapes.len() {
            list = list.push(shapes[i]);
            i += 1;
        }
        list
    }

    /// This list with `shape` appended.
    pub const fn push(mut self, shape: Shape) -> Self {
        assert!(
            self.len < MAX_TENSORS,
            "a network has more parameter tensors than MAX_TENSORS"
        );
        self.shapes[self.len] = shape;
        self.len += 1;
        self
    }

    /// This list followed by `other`.
    pub const fn concat(self, other: Self) -> Self {
        let mut list = self;
        let mut i = 0;
        while i < other.len {
            list = list.push(other.shapes[i]);
            i += 1;
        }
        list
    }

    /// How many shapes.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Shape `k`, if `k < len`.
    pub const fn get(&self, k: usize) -> Option<Shape> {
        if k < self.len {
            Some(self.shapes[k])
        } else {
            None
        }
    }

    /// The book's name of tensor `k`: matrices are `W`, vectors `b`, numbered per name.
    pub const fn id(&self, k: usize) -> ParamId {
        let name = match self.get(k) {
            Some(Shape::Matrix(..)) => "W",
            _ => "b",
        };
        let mut index = 1;
        let mut j = 0;
        while j < k && j < self.len {
            let same = matches!(
                (self.shapes[j], self.get(k)),
                (Shape::Matrix(..), Some(Shape::Matrix(..)))
                    | (Shape::Vector(_), Some(Shape::Vector(_)))
            );
            if same {
                index += 1;
            }
            j += 1;
        }
        ParamId { name, index }
    }
}

/// A parameter's name as the book writes it: `W1`, `b2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamId {
    /// `"W"` or `"b"`.
    pub name: &'static str,
    /// 1 for the first layer that has one, 2 for the next, …
    pub index: usize,
}

impl ParamId {
    /// The name of parameter tensor `k` of `layers`, numbered per name: `W1`, `b1`, `W2`, …
    pub fn of<L: Layer + ?Sized>(layers: &L, k: usize) -> Self {
        let name = layers.tensor(k).map_or("?", |t| t.name);
        let before = (0..k)
            .filter(|&j| layers.tensor(j).is_some_and(|t| t.name == name))
            .count();
        ParamId {
            name,
            index: before + 1,
        }
    }
}

impl core::fmt::Display for ParamId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}{}", self.name, self.index)
    }
}

/// A parameter tensor, read-only.
#[derive(Debug, Clone, Copy)]
pub struct Tensor<'a, T> {
    /// The book's name for it within its layer: `"W"` or `"b"`.
    pub name: &'static str,
    /// Its shape.
    pub shape: Shape,
    /// Its values, flattened row-major.
    pub values: &'a [T],
}

/// A layer that can be trained: it has a backward pass and (possibly) parameters.
pub trait Train: Layer {
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

    /// Parameter tensor `k` (`0..PARAMS`) with its gradient, flattened; `None` past the end
    /// (always, by default: a layer without parameters).
    fn param(&mut self, _k: usize) -> Option<Param<'_, Self::Scalar>> {
        None
    }
}

/// One parameter tensor and its gradient, as flat slices of equal length.
#[derive(Debug)]
pub struct Param<'a, T> {
    /// The book's name for it within its layer: `"W"` or `"b"`.
    pub name: &'static str,
    /// The values.
    pub value: &'a mut [T],
    /// dL/d(value), as the last `backward` (or numerical gradient) left it.
    pub grad: &'a mut [T],
}

// ---------------------------------------------------------------------------------------------

/// ReLU: `out = x` where `x > 0`, else 0. Backward passes `dout` where `x > 0` (the book's mask
/// is `x <= 0`, so the gradient at exactly 0 is 0).
#[derive(Debug, Clone, Copy, Default)]
pub struct Relu<T: Float, const W: usize>(PhantomData<T>);

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

    fn forward<const N: usize>(&self, x: &[[T; W]; N], out: &mut [[T; W]; N]) {
        for (o, v) in out.as_flattened_mut().iter_mut().zip(x.as_flattened()) {
            // `<= 0` rather than `max(0)`: a NaN input stays NaN instead of becoming 0.
            *o = if *v <= T::ZERO { T::ZERO } else { *v };
        }
    }
}

impl<T: Float, const W: usize> Train for Relu<T, W> {
    type Tape<const N: usize> = ();

    fn backward<const N: usize>(
        &mut self,
        x: &[[T; W]; N],
        _: &mut (),
        _out: &[[T; W]; N],
        dout: &[[T; W]; N],
        dx: Option<&mut [[T; W]; N]>,
    ) {
        let Some(dx) = dx else { return };
        let it = dx.as_flattened_mut().iter_mut().zip(x.as_flattened());
        for ((d, v), g) in it.zip(dout.as_flattened()) {
            *d = if *v <= T::ZERO { T::ZERO } else { *g };
        }
    }
}

/// Sigmoid: `y = 1 / (1 + e^(−x))`; backward `dx = dout · (1 − y) · y` from the output `y`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sigmoid<T: Float, const W: usize>(PhantomData<T>);

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

    fn forward<const N: usize>(&self, x: &[[T; W]; N], out: &mut [[T; W]; N]) {
        for (o, v) in out.as_flattened_mut().iter_mut().zip(x.as_flattened()) {
            *o = T::ONE / (T::ONE + (-*v).exp());
        }
    }
}

impl<T: Float, const W: usize> Train for Sigmoid<T, W> {
    type Tape<const N: usize> = ();

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
pub struct Affine<T: Float, const I: usize, const O: usize, S: Storage = Inline> {
    /// Weights, (I, O).
    pub w: S::Mat<T, I, O>,
    /// Bias, (O).
    pub b: [T; O],
    /// dL/dW from the last backward pass.
    pub dw: S::Grad<T, I, O>,
    /// dL/db from the last backward pass.
    pub db: [T; O],
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
{
    fn clone(&self) -> Self {
        Self {
            w: self.w.clone(),
            b: self.b,
            dw: self.dw.clone(),
            db: self.db,
        }
    }
}

impl<T: Float, const I: usize, const O: usize, S: TrainStorage> Affine<T, I, O, S> {
    /// All weights and biases zero.
    pub fn zeros() -> Self {
        Self {
            w: S::zeros(),
            b: [T::ZERO; O],
            dw: S::grad_zeros(),
            db: [T::ZERO; O],
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

    /// Weights and bias given; gradients zero.
    pub fn from_parts(w: S::Mat<T, I, O>, b: [T; O]) -> Self {
        Self {
            w,
            b,
            dw: S::grad_zeros(),
            db: [T::ZERO; O],
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

    /// [`forward`](Layer::forward) for a batch of sparse rows (an array of them or a
    /// [`SparseBatch`](crate::matrix::sparse::SparseBatch)): the same numbers, bit for bit,
    /// without going over the zeros (see [`matrix::sparse`](crate::matrix::sparse)).
    pub fn forward_sparse<const N: usize>(
        &self,
        x: &impl SparseInput<T, N, I>,
        out: &mut [[T; O]; N],
    ) {
        x.matmul(S::get(&self.w), out);
        add_row(out, &self.b);
    }
}

impl<T: Float, const I: usize, const O: usize, S: TrainStorage> Affine<T, I, O, S> {
    /// [`backward`](Train::backward) for a batch of sparse rows (an array of them or a
    /// [`SparseBatch`](crate::matrix::sparse::SparseBatch)), as the first layer of a network:
    /// `dW = xᵀ · dout` and `db`, but no `dx` (nobody needs a gradient of the data). The same
    /// numbers as the dense pass, bit for bit, for finite `dout`.
    pub fn backward_sparse<const N: usize>(
        &mut self,
        x: &impl SparseInput<T, N, I>,
        dout: &[[T; O]; N],
    ) {
        x.matmul_at(dout, S::grad_mut(&mut self.dw));
        sum_rows(dout, &mut self.db);
    }
}

impl<T: Float, const I: usize, const O: usize, S: Storage> Layer for Affine<T, I, O, S> {
    type Input = [T; I];
    type Output = [T; O];
    type Scalar = T;
    const PARAMS: usize = 2;
    const SHAPES: ShapeList = ShapeList::of(&[Shape::Matrix(I, O), Shape::Vector(O)]);

    fn forward<const N: usize>(&self, x: &[[T; I]; N], out: &mut [[T; O]; N]) {
        matmul(x, S::get(&self.w), out);
        add_row(out, &self.b);
    }

    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        match k {
            0 => Some(Tensor {
                name: "W",
                shape: Shape::Matrix(I, O),
                values: S::get(&self.w).as_flattened(),
            }),
            1 => Some(Tensor {
                name: "b",
                shape: Shape::Vector(O),
                values: &self.b,
            }),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, k: usize) -> Option<&mut [T]> {
        match k {
            0 => Some(S::get_mut(&mut self.w).as_flattened_mut()),
            1 => Some(&mut self.b),
            _ => None,
        }
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
        sum_rows(dout, &mut self.db);
        if let Some(dx) = dx {
            matmul_bt(dout, S::get(&self.w), dx);
        }
    }

    fn param(&mut self, k: usize) -> Option<Param<'_, T>> {
        match k {
            0 => Some(Param {
                name: "W",
                value: S::get_mut(&mut self.w).as_flattened_mut(),
                grad: S::grad_mut(&mut self.dw).as_flattened_mut(),
            }),
            1 => Some(Param {
                name: "b",
                value: &mut self.b,
                grad: &mut self.db,
            }),
            _ => None,
        }
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
#[derive(Debug, Clone, Default)]
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

impl<A: Layer, B: Layer<Input = A::Output, Scalar = A::Scalar>> Layer for Chain<A, B> {
    type Input = A::Input;
    type Output = B::Output;
    type Scalar = A::Scalar;
    const PARAMS: usize = A::PARAMS + B::PARAMS;
    const SHAPES: ShapeList = A::SHAPES.concat(B::SHAPES);

    fn tensor(&self, k: usize) -> Option<Tensor<'_, A::Scalar>> {
        if k < A::PARAMS {
            self.first.tensor(k)
        } else {
            self.rest.tensor(k - A::PARAMS)
        }
    }

    fn tensor_mut(&mut self, k: usize) -> Option<&mut [A::Scalar]> {
        if k < A::PARAMS {
            self.first.tensor_mut(k)
        } else {
            self.rest.tensor_mut(k - A::PARAMS)
        }
    }

    fn forward<const N: usize>(&self, x: &[A::Input; N], out: &mut [B::Output; N]) {
        let mut mid: [A::Output; N] = Zeros::zeros();
        self.first.forward(x, &mut mid);
        self.rest.forward(&mid, out);
    }
}

/// What a [`Chain`] keeps between forward and backward: the activation between its two parts,
/// the gradient flowing back into it, and the parts' own tapes.
pub struct ChainTape<A: Train, B: Train, const N: usize> {
    first: A::Tape<N>,
    mid: [A::Output; N],
    dmid: [A::Output; N],
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
        self.rest
            .backward(&tape.mid, &mut tape.rest, out, dout, Some(&mut tape.dmid));
        self.first
            .backward(x, &mut tape.first, &tape.mid, &tape.dmid, dx);
    }

    fn param(&mut self, k: usize) -> Option<Param<'_, A::Scalar>> {
        if k < A::PARAMS {
            self.first.param(k)
        } else {
            self.rest.param(k - A::PARAMS)
        }
    }
}
