//! Parameters: each layer declares its tensors once, as a type, and everything else derives
//! from that declaration.
//!
//! An [`Affine`](crate::Affine) declares `type Params = (Weights<I, O, S>, Bias<O>)`. From that
//! one type come:
//! - the names and shapes, as a `const` [`ParamList`] usable while compiling (a model file
//!   embedded in firmware is checked against it), and so the tensor count;
//! - the types its accessors must return (`params` gives `(&[[T; O]; I], &[T; O])`): a layer
//!   whose fields disagree with its declaration does not compile;
//! - an optimiser's state shaped like the network ([`Moments`]): `K` buffers per tensor,
//!   kept by value for [`Inline`](crate::matrix::Inline) storage and boxed for `Heap`;
//! - the walks that model files, numerical gradients and optimisers use
//!   ([`Layer::for_each_tensor`](crate::Layer::for_each_tensor),
//!   [`Train::for_each_param`](crate::Train::for_each_param) and its kin).
//!
//! A chain's declaration is the pair of its parts' (`(A::Params, B::Params)`), a layer without
//! parameters declares `()`.
//!
//! # Examples
//!
//! A layer of one's own, `out = x ⊙ s` with a learnt scale `s` per column: it declares one
//! vector, and its name and shape, the model file, the gradient check and every optimiser
//! follow.
//!
//! ```
//! use constnn::layers::{Layer, Train};
//! use constnn::params::{Bias, ParamsMut, ParamsRef};
//! use constnn::{Momentum, Network, chain, format::model, layers::Affine};
//!
//! #[derive(Clone)]
//! struct Scale<const W: usize> {
//!     s: [f64; W],
//!     ds: [f64; W],
//! }
//!
//! impl<const W: usize> Layer for Scale<W> {
//!     type Input = [f64; W];
//!     type Output = [f64; W];
//!     type Scalar = f64;
//!     type Params = Bias<W>; // one vector of W values (named `b` in model files)
//!     fn forward<const N: usize>(&self, x: &[[f64; W]; N], out: &mut [[f64; W]; N]) {
//!         for (o, x) in out.iter_mut().zip(x) {
//!             for ((o, x), s) in o.iter_mut().zip(x).zip(&self.s) {
//!                 *o = x * s;
//!             }
//!         }
//!     }
//!     fn params(&self) -> ParamsRef<'_, Self> {
//!         &self.s
//!     }
//!     fn params_mut(&mut self) -> ParamsMut<'_, Self> {
//!         &mut self.s
//!     }
//! }
//!
//! impl<const W: usize> Train for Scale<W> {
//!     type Tape<const N: usize> = ();
//!     fn backward<const N: usize>(
//!         &mut self,
//!         x: &[[f64; W]; N],
//!         _: &mut (),
//!         _out: &[[f64; W]; N],
//!         dout: &[[f64; W]; N],
//!         dx: Option<&mut [[f64; W]; N]>,
//!     ) {
//!         self.ds = [0.0; W];
//!         for (x, d) in x.iter().zip(dout) {
//!             for ((g, x), d) in self.ds.iter_mut().zip(x).zip(d) {
//!                 *g += x * d; // dL/ds = Σ x · dout
//!             }
//!         }
//!         if let Some(dx) = dx {
//!             for (dx, d) in dx.iter_mut().zip(dout) {
//!                 for ((dx, d), s) in dx.iter_mut().zip(d).zip(&self.s) {
//!                     *dx = d * s;
//!                 }
//!             }
//!         }
//!     }
//!     fn params_and_grads(&mut self) -> (ParamsMut<'_, Self>, ParamsMut<'_, Self>) {
//!         (&mut self.s, &mut self.ds)
//!     }
//! }
//!
//! let mut net = Network::from_layers(chain![
//!     Scale { s: [0.5, -0.3, 0.2], ds: [0.0; 3] },
//!     Affine::<f64, 3, 2>::from_parts([[0.4, -0.2], [0.1, 0.3], [-0.5, 0.2]], [0.0; 2]),
//! ]);
//! let (x, t) = ([[1.0, 0.5, -0.5], [0.25, -1.0, 0.75]], [0u8, 1]);
//! // Backprop agrees with numerical differentiation, the scale included.
//! net.gradient_check(&x, &t, |c| assert!(c.max < 1e-6, "{c:?}")).unwrap();
//! // Its tensor is in the model file, named by the book's rule, beside the Affine's.
//! let ids: Vec<String> = (0..net.param_count()).map(|k| net.param_id(k).to_string()).collect();
//! assert_eq!(ids, ["b1", "W1", "b2"]);
//! let mut bytes = vec![0u8; model::encoded_len(&net.layers)];
//! model::encode(&net.layers, &mut bytes).unwrap();
//! // Momentum keeps a velocity for it too, with no change to the optimiser.
//! let mut momentum = Momentum::new(0.1, 0.9);
//! let before = net.loss(&x, &t).unwrap();
//! for _ in 0..20 {
//!     net.train_step(&x, &t, &mut momentum).unwrap();
//! }
//! assert!(net.loss(&x, &t).unwrap() < before);
//! ```

use core::fmt;

use crate::float::Float;
use crate::matrix::{Storage, TrainStorage};

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

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Vector(n) => write!(f, "({n},)"),
            Shape::Matrix(r, c) => write!(f, "({r}, {c})"),
        }
    }
}

/// One parameter tensor as a layer declares it: the book's name within the layer (`"W"`,
/// `"b"`), its shape, and whether it is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// The book's name for it within its layer.
    pub name: &'static str,
    /// Its shape.
    pub shape: Shape,
    /// Whether it has a gradient and optimisers train it (`W`, `b`, `gamma`, `beta`), or is
    /// state the layer keeps itself, saved with the model but never trained (BatchNorm's
    /// `running_mean` and `running_var`).
    pub trained: bool,
}

/// Most parameter tensors a network can have in a [`ParamList`].
pub const MAX_TENSORS: usize = 32;

/// The names and shapes of a network's parameter tensors, in order: a list usable in `const`
/// code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamList {
    specs: [ParamSpec; MAX_TENSORS],
    len: usize,
}

impl ParamList {
    /// No tensors.
    pub const EMPTY: Self = Self {
        specs: [ParamSpec {
            name: "",
            shape: Shape::Vector(0),
            trained: true,
        }; MAX_TENSORS],
        len: 0,
    };

    /// This list with `spec` appended (more than [`MAX_TENSORS`] fails the build).
    pub const fn push(mut self, spec: ParamSpec) -> Self {
        assert!(
            self.len < MAX_TENSORS,
            "a network has more parameter tensors than MAX_TENSORS"
        );
        self.specs[self.len] = spec;
        self.len += 1;
        self
    }

    /// This list followed by `other`.
    pub const fn concat(self, other: Self) -> Self {
        let mut list = self;
        let mut i = 0;
        while i < other.len {
            list = list.push(other.specs[i]);
            i += 1;
        }
        list
    }

    /// How many tensors.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Tensor `k`, if `k < len`.
    pub const fn get(&self, k: usize) -> Option<ParamSpec> {
        if k < self.len {
            Some(self.specs[k])
        } else {
            None
        }
    }

    /// The shape of tensor `k`, if `k < len`.
    pub const fn shape(&self, k: usize) -> Option<Shape> {
        match self.get(k) {
            Some(spec) => Some(spec.shape),
            None => None,
        }
    }

    /// The number of values in all tensors.
    pub const fn values(&self) -> usize {
        let mut n = 0;
        let mut k = 0;
        while k < self.len {
            n += self.specs[k].shape.len();
            k += 1;
        }
        n
    }

    /// How many of the tensors are trained (see [`ParamSpec::trained`]).
    pub const fn trained(&self) -> usize {
        let (mut n, mut k) = (0, 0);
        while k < self.len {
            n += self.specs[k].trained as usize;
            k += 1;
        }
        n
    }

    /// The place in the list of trained tensor `j` (`j` counting trained tensors only), if
    /// there is one.
    pub const fn of_trained(&self, j: usize) -> Option<usize> {
        let (mut seen, mut k) = (0, 0);
        while k < self.len {
            if self.specs[k].trained {
                if seen == j {
                    return Some(k);
                }
                seen += 1;
            }
            k += 1;
        }
        None
    }

    /// The book's name of tensor `k`, numbered per name: `W1`, `b1`, `W2`, …
    pub const fn id(&self, k: usize) -> ParamId {
        let name = match self.get(k) {
            Some(spec) => spec.name,
            None => "?",
        };
        let mut index = 1;
        let mut j = 0;
        while j < k && j < self.len {
            if str_eq(self.specs[j].name, name) {
                index += 1;
            }
            j += 1;
        }
        ParamId { name, index }
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A parameter's name as the book writes it: `W1`, `b2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamId {
    /// `"W"`, `"b"`, …: the name within its layer.
    pub name: &'static str,
    /// 1 for the first layer that has one of that name, 2 for the next, …
    pub index: usize,
}

impl fmt::Display for ParamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.name, self.index)
    }
}

/// A parameter tensor, read-only, as [`Layer::for_each_tensor`](crate::Layer::for_each_tensor)
/// yields it.
#[derive(Debug, Clone, Copy)]
pub struct Tensor<'a, T> {
    /// Its name in the network: `W1`, `b1`, …
    pub id: ParamId,
    /// Its shape.
    pub shape: Shape,
    /// Its values, flattened row-major.
    pub values: &'a [T],
}

/// A parameter tensor with its gradient, as
/// [`Train::for_each_param`](crate::Train::for_each_param) yields it.
#[derive(Debug)]
pub struct Param<'a, T> {
    /// Its name in the network: `W1`, `b1`, …
    pub id: ParamId,
    /// Its shape.
    pub shape: Shape,
    /// Its values, flattened row-major.
    pub value: &'a mut [T],
    /// dL/d(value), as the last backward pass (or numerical gradient) left it.
    pub grad: &'a mut [T],
}

/// A layer's parameter tensors, declared as a type: [`Weights`], [`Bias`], a pair of
/// declarations, or `()` for none. Its methods walk values typed by the declaration, in
/// [`LIST`](Self::LIST) order.
pub trait Params {
    /// Names and shapes, in order.
    const LIST: ParamList;
    /// The values, borrowed: `&[[T; C]; R]` for a matrix, `&[T; N]` for a vector, pairs of
    /// those for several.
    type Ref<'a, T: Float + 'a>;
    /// The values, borrowed mutably.
    type Mut<'a, T: Float + 'a>;
    /// Calls `f` on each tensor's values, flattened, in order.
    fn each<T: Float>(values: Self::Ref<'_, T>, f: &mut impl FnMut(&[T]));
    /// Calls `f` on each tensor's values, flattened and mutable, in order.
    fn each_mut<T: Float>(values: Self::Mut<'_, T>, f: &mut impl FnMut(&mut [T]));
}

/// Parameters that can be trained: each tensor has a gradient beside it, and an optimiser can
/// keep `K` buffers shaped like it ([`Moments`]).
pub trait TrainParams: Params {
    /// The gradients, borrowed mutably: shaped as the values for a trained tensor, `()` for
    /// state that is not trained.
    type Grads<'a, T: Float + 'a>;
    /// `K` buffers shaped like each trained tensor, kept where the layer keeps the tensor.
    type Moments<T: Float, const K: usize>;
    /// All moments zero.
    fn moments<T: Float, const K: usize>() -> Self::Moments<T, K>;
    /// Calls `f` on each trained tensor's values, gradient and moments, flattened, in order.
    fn each_with<T: Float, const K: usize>(
        values: Self::Mut<'_, T>,
        grads: Self::Grads<'_, T>,
        moments: &mut Self::Moments<T, K>,
        f: &mut impl FnMut(&mut [T], &mut [T], [&mut [T]; K]),
    );
}

/// An `R`×`C` weight matrix named `W`, kept as the storage `S` says.
#[derive(Debug, Clone, Copy)]
pub struct Weights<const R: usize, const C: usize, S>(core::marker::PhantomData<S>);

impl<const R: usize, const C: usize, S: Storage> Params for Weights<R, C, S> {
    const LIST: ParamList = ParamList::EMPTY.push(ParamSpec {
        name: "W",
        shape: Shape::Matrix(R, C),
        trained: true,
    });
    type Ref<'a, T: Float + 'a> = &'a [[T; C]; R];
    type Mut<'a, T: Float + 'a> = &'a mut [[T; C]; R];
    fn each<T: Float>(values: &[[T; C]; R], f: &mut impl FnMut(&[T])) {
        f(values.as_flattened());
    }
    fn each_mut<T: Float>(values: &mut [[T; C]; R], f: &mut impl FnMut(&mut [T])) {
        f(values.as_flattened_mut());
    }
}

impl<const R: usize, const C: usize, S: TrainStorage> TrainParams for Weights<R, C, S> {
    type Grads<'a, T: Float + 'a> = &'a mut [[T; C]; R];
    type Moments<T: Float, const K: usize> = [S::Grad<T, R, C>; K];
    fn moments<T: Float, const K: usize>() -> Self::Moments<T, K> {
        core::array::from_fn(|_| S::grad_zeros())
    }
    fn each_with<T: Float, const K: usize>(
        values: &mut [[T; C]; R],
        grads: &mut [[T; C]; R],
        moments: &mut Self::Moments<T, K>,
        f: &mut impl FnMut(&mut [T], &mut [T], [&mut [T]; K]),
    ) {
        let moments = moments
            .each_mut()
            .map(|m| S::grad_mut(m).as_flattened_mut());
        f(values.as_flattened_mut(), grads.as_flattened_mut(), moments);
    }
}

/// Declares a vector of `N` values named `$name`: trained (with a gradient, as a bias) or state
/// (kept and saved, never trained).
macro_rules! vector_param {
    ($(#[$doc:meta])* $ty:ident, $name:literal, trained) => {
        vector_param!(@decl $(#[$doc])* $ty, $name, true);
        impl<const N: usize> TrainParams for $ty<N> {
            type Grads<'a, T: Float + 'a> = &'a mut [T; N];
            type Moments<T: Float, const K: usize> = [[T; N]; K];
            fn moments<T: Float, const K: usize>() -> Self::Moments<T, K> {
                [[T::ZERO; N]; K]
            }
            fn each_with<T: Float, const K: usize>(
                values: &mut [T; N],
                grads: &mut [T; N],
                moments: &mut [[T; N]; K],
                f: &mut impl FnMut(&mut [T], &mut [T], [&mut [T]; K]),
            ) {
                f(values, grads, moments.each_mut().map(|m| &mut m[..]));
            }
        }
    };
    ($(#[$doc:meta])* $ty:ident, $name:literal, state) => {
        vector_param!(@decl $(#[$doc])* $ty, $name, false);
        impl<const N: usize> TrainParams for $ty<N> {
            type Grads<'a, T: Float + 'a> = ();
            type Moments<T: Float, const K: usize> = ();
            fn moments<T: Float, const K: usize>() {}
            fn each_with<T: Float, const K: usize>(
                _: &mut [T; N],
                (): (),
                (): &mut (),
                _: &mut impl FnMut(&mut [T], &mut [T], [&mut [T]; K]),
            ) {
            }
        }
    };
    (@decl $(#[$doc:meta])* $ty:ident, $name:literal, $trained:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty<const N: usize>;

        impl<const N: usize> Params for $ty<N> {
            const LIST: ParamList = ParamList::EMPTY.push(ParamSpec {
                name: $name,
                shape: Shape::Vector(N),
                trained: $trained,
            });
            type Ref<'a, T: Float + 'a> = &'a [T; N];
            type Mut<'a, T: Float + 'a> = &'a mut [T; N];
            fn each<T: Float>(values: &[T; N], f: &mut impl FnMut(&[T])) {
                f(values);
            }
            fn each_mut<T: Float>(values: &mut [T; N], f: &mut impl FnMut(&mut [T])) {
                f(values);
            }
        }
    };
}

vector_param!(
    /// A bias vector of length `N`, named `b`.
    Bias, "b", trained
);
vector_param!(
    /// BatchNorm's scale of length `N`, named `gamma`.
    Gamma, "gamma", trained
);
vector_param!(
    /// BatchNorm's shift of length `N`, named `beta`.
    Beta, "beta", trained
);
vector_param!(
    /// BatchNorm's running mean of length `N`, named `running_mean`: state, not trained.
    RunningMean, "running_mean", state
);
vector_param!(
    /// BatchNorm's running variance of length `N`, named `running_var`: state, not trained.
    RunningVar, "running_var", state
);

impl Params for () {
    const LIST: ParamList = ParamList::EMPTY;
    type Ref<'a, T: Float + 'a> = ();
    type Mut<'a, T: Float + 'a> = ();
    fn each<T: Float>((): (), _: &mut impl FnMut(&[T])) {}
    fn each_mut<T: Float>((): (), _: &mut impl FnMut(&mut [T])) {}
}

impl TrainParams for () {
    type Grads<'a, T: Float + 'a> = ();
    type Moments<T: Float, const K: usize> = ();
    fn moments<T: Float, const K: usize>() {}
    fn each_with<T: Float, const K: usize>(
        (): (),
        (): (),
        (): &mut (),
        _: &mut impl FnMut(&mut [T], &mut [T], [&mut [T]; K]),
    ) {
    }
}

impl<A: Params, B: Params> Params for (A, B) {
    const LIST: ParamList = A::LIST.concat(B::LIST);
    type Ref<'a, T: Float + 'a> = (A::Ref<'a, T>, B::Ref<'a, T>);
    type Mut<'a, T: Float + 'a> = (A::Mut<'a, T>, B::Mut<'a, T>);
    fn each<T: Float>((a, b): Self::Ref<'_, T>, f: &mut impl FnMut(&[T])) {
        A::each(a, f);
        B::each(b, f);
    }
    fn each_mut<T: Float>((a, b): Self::Mut<'_, T>, f: &mut impl FnMut(&mut [T])) {
        A::each_mut(a, f);
        B::each_mut(b, f);
    }
}

impl<A: TrainParams, B: TrainParams> TrainParams for (A, B) {
    type Grads<'a, T: Float + 'a> = (A::Grads<'a, T>, B::Grads<'a, T>);
    type Moments<T: Float, const K: usize> = (A::Moments<T, K>, B::Moments<T, K>);
    fn moments<T: Float, const K: usize>() -> Self::Moments<T, K> {
        (A::moments(), B::moments())
    }
    fn each_with<T: Float, const K: usize>(
        (va, vb): Self::Mut<'_, T>,
        (ga, gb): Self::Grads<'_, T>,
        (ma, mb): &mut Self::Moments<T, K>,
        f: &mut impl FnMut(&mut [T], &mut [T], [&mut [T]; K]),
    ) {
        A::each_with(va, ga, ma, f);
        B::each_with(vb, gb, mb, f);
    }
}

/// An optimiser's state for the network `L`: `K` buffers shaped like each of its parameter
/// tensors (Momentum's velocity: `K = 1`; Adam's two moments: `K = 2`), by value for
/// [`Inline`](crate::matrix::Inline) layers and boxed for `Heap` ones.
pub type Moments<L, const K: usize> =
    <<L as crate::Layer>::Params as TrainParams>::Moments<<L as crate::Layer>::Scalar, K>;

/// The borrowed parameters of the layer `L`, typed as it declares them.
pub type ParamsRef<'a, L> =
    <<L as crate::Layer>::Params as Params>::Ref<'a, <L as crate::Layer>::Scalar>;

/// The mutably borrowed gradients of the layer `L`'s trained parameters, typed as it declares
/// them (`()` in the place of state that is not trained).
pub type GradsMut<'a, L> =
    <<L as crate::Layer>::Params as TrainParams>::Grads<'a, <L as crate::Layer>::Scalar>;

/// The mutably borrowed parameters of the layer `L`, typed as it declares them.
pub type ParamsMut<'a, L> =
    <<L as crate::Layer>::Params as Params>::Mut<'a, <L as crate::Layer>::Scalar>;
