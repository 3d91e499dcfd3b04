//! Networks: a chain of layers under a [`SoftmaxWithLoss`] (the book's `TwoLayerNet`, typed).
//!
//! A [`Network`] owns its layers. A training step keeps each activation between layers and its
//! gradient in a [`Workspace`] (on the heap with the `alloc` feature; made once and reused with
//! [`Network::train_step_with`], or made for the call by [`Network::train_step`]); the scores and
//! the loss layer's cache, `N` rows of the class count, live on the stack of the call. A
//! forward pass alone keeps its activations on the stack: `classify` and `accuracy` run any
//! number of rows a chunk at a time.

use crate::float::Float;
use crate::layers::{Affine, Chain, Layer, Relu, Train, param_list};
use crate::params::{Param, ParamId};
use core::fmt;

use crate::input::{Batch, Row};
use crate::loss::{LabelOutOfRange, SoftmaxWithLoss, Targets};
use crate::matrix::{Frozen, Inline, TrainStorage, Zeros, argmax};
use crate::optim::Optimizer;

/// Rows per chunk when classifying a slice of any length (bounds the stack a call uses).
pub(crate) const CHUNK: usize = 64;

/// The book's central-difference step `h = 1e-4`.
pub const NUMERICAL_H: f64 = 1e-4;

/// A network: `layers` (a [`Layer`], usually a [`Chain`]) whose output rows are class scores.
#[derive(Debug, Clone, Default)]
pub struct Network<L> {
    /// The layers, first to last.
    pub layers: L,
}

/// The book's `TwoLayerNet`: Affine (I→H), ReLU, Affine (H→O), softmax with loss.
///
/// ```
/// use constnn::TwoLayerNet;
/// use rand_core::SeedableRng;
/// let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
/// let mut net = TwoLayerNet::<4, 5, 3>::new(0.01, &mut rng);
/// let x = [[0.5, -1.0, 0.25, 2.0]; 2];
/// let loss = net.gradient(&x, &[0u8, 2]).unwrap();
/// assert!((loss - 3f32.ln()).abs() < 0.1); // small weights: close to chance
/// assert_eq!(net.w1().len(), 4);
/// ```
pub type TwoLayerNet<const I: usize, const H: usize, const O: usize, T = f32, S = Inline> =
    Network<Chain<Affine<T, I, H, S>, Chain<Relu<T, H>, Affine<T, H, O, S>>>>;

/// The type of the book's `MultiLayerNet` (section 6.1): Affine and ReLU layers of the widths
/// listed, any number of them, ending in an Affine. The widths are the type's, so a network
/// built with other widths does not compile.
///
/// `MultiLayerNet![f32, Heap; 784, 100, 100, 10]` is
/// `Network<Chain![Affine<f32, 784, 100, Heap>, Relu<f32, 100>, Affine<f32, 100, 100, Heap>,
/// Relu<f32, 100>, Affine<f32, 100, 10, Heap>]>`.
///
/// # Examples
///
/// ```
/// use constnn::{MultiLayerNet, init::{NumpyRandom, WeightInit}, matrix::Heap};
/// type Net = MultiLayerNet![f32, Heap; 784, 100, 100, 10];
/// let mut net = Net::default(); // zeros
/// let mut np = NumpyRandom::seed(0);
/// net.init_weights(WeightInit::He, || np.randn()); // the book's weight_init_std='relu'
/// assert_eq!(net.param_count(), 6); // W1, b1, W2, b2, W3, b3
/// ```
#[macro_export]
macro_rules! MultiLayerNet {
    ($t:ty, $s:ty; $($w:expr),+ $(,)?) => {
        $crate::Network<$crate::__layers!(plain; $t, $s; $($w),+)>
    };
}

/// The type of the book's `MultiLayerNetExtend` (section 6.3 and 6.4): [`MultiLayerNet!`]
/// with a [`BatchNorm`](crate::layers::BatchNorm) after each hidden Affine (`batch_norm`), a
/// [`Dropout`](crate::layers::Dropout) after each hidden ReLU (`dropout`), or both, as the
/// book's `use_batchnorm` and `use_dropout`. Set the Dropout layers' ratio and seeds with
/// [`Layer::set_dropout`](crate::Layer::set_dropout).
///
/// # Examples
///
/// ```
/// use constnn::{MultiLayerNetExtend, Layer, init::{NumpyRandom, WeightInit}, matrix::Heap};
/// type Net = MultiLayerNetExtend![f64, Heap; 784, 100, 100, 10; batch_norm, dropout];
/// let mut net = Net::default();
/// let mut np = NumpyRandom::seed(0);
/// net.init_weights(WeightInit::He, || np.randn());
/// assert_eq!(net.layers.set_dropout(0.2, 7), 9); // two Dropout layers: seeds 7 and 8
/// let names: Vec<String> = (0..net.param_count()).map(|k| net.param_id(k).to_string()).collect();
/// assert_eq!(names, ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]);
/// ```
#[macro_export]
macro_rules! MultiLayerNetExtend {
    ($t:ty, $s:ty; $($w:expr),+ ; batch_norm, dropout $(,)?) => {
        $crate::Network<$crate::__layers!(batch_norm_dropout; $t, $s; $($w),+)>
    };
    ($t:ty, $s:ty; $($w:expr),+ ; batch_norm $(,)?) => {
        $crate::Network<$crate::__layers!(batch_norm; $t, $s; $($w),+)>
    };
    ($t:ty, $s:ty; $($w:expr),+ ; dropout $(,)?) => {
        $crate::Network<$crate::__layers!(dropout; $t, $s; $($w),+)>
    };
    ($t:ty, $s:ty; $($w:expr),+ $(,)?) => {
        $crate::Network<$crate::__layers!(plain; $t, $s; $($w),+)>
    };
}

/// The layers of [`MultiLayerNet!`] and [`MultiLayerNetExtend!`]: an Affine per pair of
/// widths, each hidden one followed by the block `$kind` names.
#[doc(hidden)]
#[macro_export]
macro_rules! __layers {
    ($kind:ident; $t:ty, $s:ty; $a:expr, $b:expr) => {
        $crate::layers::Affine<$t, { $a }, { $b }, $s>
    };
    ($kind:ident; $t:ty, $s:ty; $a:expr, $b:expr, $($rest:expr),+) => {
        $crate::layers::Chain<
            $crate::layers::Affine<$t, { $a }, { $b }, $s>,
            $crate::__hidden!($kind; $t, { $b }; $crate::__layers!($kind; $t, $s; $b, $($rest),+)),
        >
    };
}

/// What follows a hidden Affine of width `$w` before `$rest`: ReLU, with BatchNorm before it
/// and Dropout after it as `$kind` says.
#[doc(hidden)]
#[macro_export]
macro_rules! __hidden {
    (plain; $t:ty, $w:expr; $rest:ty) => {
        $crate::layers::Chain<$crate::layers::Relu<$t, { $w }>, $rest>
    };
    (batch_norm; $t:ty, $w:expr; $rest:ty) => {
        $crate::layers::Chain<
            $crate::layers::BatchNorm<$t, { $w }>,
            $crate::layers::Chain<$crate::layers::Relu<$t, { $w }>, $rest>,
        >
    };
    (dropout; $t:ty, $w:expr; $rest:ty) => {
        $crate::layers::Chain<
            $crate::layers::Relu<$t, { $w }>,
            $crate::layers::Chain<$crate::layers::Dropout<$t, { $w }>, $rest>,
        >
    };
    (batch_norm_dropout; $t:ty, $w:expr; $rest:ty) => {
        $crate::layers::Chain<
            $crate::layers::BatchNorm<$t, { $w }>,
            $crate::layers::Chain<
                $crate::layers::Relu<$t, { $w }>,
                $crate::layers::Chain<$crate::layers::Dropout<$t, { $w }>, $rest>,
            >,
        >
    };
}

impl<L> Network<L> {
    /// A network of these layers.
    pub const fn from_layers(layers: L) -> Self {
        Self { layers }
    }
}

impl<T, const I: usize, const H: usize, const O: usize, S> TwoLayerNet<I, H, O, T, S>
where
    T: Float,
    S: TrainStorage,
{
    /// The book's initialisation: weights `weight_init_std · N(0, 1)` (W1 drawn before W2),
    /// biases zero.
    pub fn new<R: rand_core::Rng + ?Sized>(weight_init_std: f64, rng: &mut R) -> Self {
        Self::with_normal(weight_init_std, || crate::init::randn(rng))
    }

    /// The book's initialisation with N(0, 1) draws from `normal` (W1 first, row by row, then
    /// W2). With [`NumpyRandom::randn`](crate::init::NumpyRandom::randn) after
    /// `NumpyRandom::seed(s)`, these are the weights of the book's code after
    /// `np.random.seed(s)`.
    pub fn with_normal(weight_init_std: f64, mut normal: impl FnMut() -> f64) -> Self {
        let w1 = Affine::with_normal(weight_init_std, &mut normal);
        let w2 = Affine::with_normal(weight_init_std, &mut normal);
        Network::from_layers(Chain::new(w1, Chain::new(Relu::new(), w2)))
    }

    /// Every parameter zero: a network to load a model file into.
    pub fn zeros() -> Self {
        Network::from_layers(Chain::new(
            Affine::zeros(),
            Chain::new(Relu::new(), Affine::zeros()),
        ))
    }
}

impl<const I: usize, const H: usize, const O: usize> TwoLayerNet<I, H, O, f32, Frozen> {
    /// Decodes an f32 model file in a `const`, for a network that lives in flash:
    ///
    /// ```
    /// use constnn::{TwoLayerNet, matrix::Frozen};
    /// static NET: TwoLayerNet<784, 50, 10, f32, Frozen> =
    ///     TwoLayerNet::from_model(include_bytes!("../firmware/model/mnist-784-50-10.cnnm"));
    /// assert_eq!(NET.b2().len(), 10);
    /// ```
    ///
    /// The file is validated against this network's shapes when the program is built
    /// ([`validate`](crate::format::model::validate)): a model of another shape or dtype, or a
    /// damaged one, fails the build with the reason, never the run. (Any other network of
    /// `Frozen` layers: [`include_model!`](crate::include_model!).)
    pub const fn from_model(bytes: &[u8]) -> Self {
        let data = crate::embed::data_of::<Self>(bytes);
        let second = data
            .split_at(4 * param_list::<Affine<f32, I, H, Frozen>>().values())
            .1;
        let first = Affine::<f32, I, H, Frozen>::from_data(data);
        let last = Affine::<f32, H, O, Frozen>::from_data(second);
        Network::from_layers(Chain::new(first, Chain::new(Relu::new(), last)))
    }
}

impl<T: Float, const I: usize, const H: usize, const O: usize, S: crate::matrix::Storage>
    TwoLayerNet<I, H, O, T, S>
{
    /// W1, (I, H).
    pub fn w1(&self) -> &[[T; H]; I] {
        self.layers.first.w()
    }
    /// b1, (H).
    pub fn b1(&self) -> &[T; H] {
        &self.layers.first.b
    }
    /// W2, (H, O).
    pub fn w2(&self) -> &[[T; O]; H] {
        self.layers.rest.rest.w()
    }
    /// b2, (O).
    pub fn b2(&self) -> &[T; O] {
        &self.layers.rest.rest.b
    }
}

impl<L, T, const I: usize, const O: usize> Network<L>
where
    L: Layer<Input = [T; I], Output = [T; O], Scalar = T>,
    T: Float,
{
    /// Class scores (logits) for a batch of rows of any kind ([`Batch`]): dense, sparse, or a
    /// [`SparseBatch`](crate::matrix::sparse::SparseBatch). The same numbers for each.
    pub fn predict<const N: usize>(&self, x: &impl Batch<[T; I], N>, out: &mut [[T; O]; N]) {
        self.layers.forward_batch(x, out);
    }

    /// The loss (softmax + cross-entropy, mean over the batch) of a batch against targets.
    pub fn loss<const N: usize>(
        &self,
        x: &impl Batch<[T; I], N>,
        t: &impl Targets<T, O, N>,
    ) -> Result<T, BatchError> {
        let mut logits = [[T::ZERO; O]; N];
        self.predict(x, &mut logits);
        check_finite(x.known_finite(), |r| x.non_finite(r), &logits)?;
        Ok(SoftmaxWithLoss::new().forward(&logits, t)?)
    }

    /// `½λ·ΣW²` over every weight matrix, for `λ = lambda`: what the book's weight decay
    /// (section 6.4.2, its `weight_decay_lambda`) adds to the loss, whose gradient `λ·W`
    /// [`WeightDecay`](crate::optim::WeightDecay) adds to each weight's. Summed in f64.
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::{Affine, Network};
    /// let net = Network::from_layers(Affine::<f64, 1, 2>::from_parts([[2.0, 0.0]], [5.0; 2]));
    /// assert_eq!(net.decay_loss(0.1), 0.5 * 0.1 * 4.0); // biases do not count
    /// ```
    pub fn decay_loss(&self, lambda: f64) -> T {
        let mut sum = 0.0;
        self.layers.for_each_tensor(|t| {
            if let crate::params::Shape::Matrix(..) = t.shape {
                sum += t
                    .values
                    .iter()
                    .map(|w| w.to_f64() * w.to_f64())
                    .sum::<f64>();
            }
        });
        T::from_f64(0.5 * lambda * sum)
    }

    /// Classifies every row of `x` (any number of rows, dense `[T; I]` or
    /// [`SparseRow`](crate::matrix::sparse::SparseRow)s) into `classes`, a chunk of rows at a
    /// time ([`Layer::forward_rows`]): the classes of [`predict`](Self::predict)'s scores.
    /// Hundreds of sparse rows or more run faster per row than a few.
    ///
    /// A row with a NaN or infinite input value is an error naming its first such column,
    /// not a class; a finite row whose scores are not finite blames the parameters.
    ///
    /// # Panics
    /// If `classes` is shorter than `x`.
    pub fn classify<R: Row<[T; I]>>(
        &self,
        x: &[R],
        classes: &mut [usize],
    ) -> Result<(), BatchError> {
        assert!(
            classes.len() >= x.len(),
            "classify: {} rows but {} slots",
            x.len(),
            classes.len()
        );
        self.layers.forward_rows(x, |start, scores| {
            classes_of(x, start, scores, false, |r, class| classes[r] = class)
        })
    }

    /// How many rows of `x` (dense or sparse, any number) are classified as their label in
    /// `t`; an error for a row [`classify`](Self::classify) refuses or a label not below the
    /// number of classes ([`BatchError::Label`], as in [`loss`](Self::loss)).
    ///
    /// # Panics
    /// If `x` and `t` differ in length.
    pub fn correct<R: Row<[T; I]>, Lbl: Copy + Into<usize>>(
        &self,
        x: &[R],
        t: &[Lbl],
    ) -> Result<usize, BatchError> {
        self.correct_rows(x, t, false)
    }

    /// [`correct`](Self::correct) of rows known to be finite (a trainer checks its sets once,
    /// not at every evaluation): only the scores are checked.
    #[cfg(feature = "std")]
    pub(crate) fn correct_of_finite<R: Row<[T; I]>>(
        &self,
        x: &[R],
        t: &[u8],
    ) -> Result<usize, BatchError> {
        self.correct_rows(x, t, true)
    }

    /// [`correct`](Self::correct), the rows' own check left out if `inputs_finite`.
    fn correct_rows<R: Row<[T; I]>, Lbl: Copy + Into<usize>>(
        &self,
        x: &[R],
        t: &[Lbl],
        inputs_finite: bool,
    ) -> Result<usize, BatchError> {
        assert_eq!(
            x.len(),
            t.len(),
            "accuracy: {} rows but {} labels",
            x.len(),
            t.len()
        );
        if let Some(row) = t.iter().position(|l| (*l).into() >= O) {
            return Err(BatchError::Label(LabelOutOfRange {
                row,
                label: t[row].into(),
                classes: O,
            }));
        }
        let mut correct = 0usize;
        self.layers.forward_rows(x, |start, scores| {
            classes_of(x, start, scores, inputs_finite, |r, class| {
                correct += usize::from(class == t[r].into());
            })
        })?;
        Ok(correct)
    }

    /// The fraction of rows of `x` that are classified as their label in `t` (0 for no
    /// rows); the errors of [`correct`](Self::correct).
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::{TwoLayerNet, matrix::sparse::SparseRows};
    /// use rand_core::SeedableRng;
    /// let net = TwoLayerNet::<6, 4, 2>::new(0.5, &mut rand_pcg::Pcg64::seed_from_u64(3));
    /// let dense = vec![[0.0, 1.0, 0.0, 0.0, -2.0, 0.0]; 300];
    /// let mut sparse = SparseRows::new();
    /// dense.iter().for_each(|row| sparse.push_dense(row));
    /// let sparse: Vec<_> = sparse.iter().collect();
    /// let labels = vec![1u8; 300];
    /// assert_eq!(net.accuracy(&dense, &labels), net.accuracy(&sparse, &labels));
    /// ```
    ///
    /// # Panics
    /// If `x` and `t` differ in length.
    pub fn accuracy<R: Row<[T; I]>, Lbl: Copy + Into<usize>>(
        &self,
        x: &[R],
        t: &[Lbl],
    ) -> Result<f64, BatchError> {
        let correct = self.correct(x, t)?;
        Ok(if x.is_empty() {
            0.0
        } else {
            correct as f64 / x.len() as f64
        })
    }
}

/// The classes of rows `start..start + scores.len()` of `x` from their `scores`, given to
/// `f` with each row's number in `x`; the first fault [`check_finite`] finds, if any, after
/// the rows before it have had their classes. With `inputs_finite` (the caller has checked
/// every row of `x`), only the scores are checked.
fn classes_of<T: Float, R: Row<[T; I]>, const I: usize, const O: usize>(
    x: &[R],
    start: usize,
    scores: &[[T; O]],
    inputs_finite: bool,
    mut f: impl FnMut(usize, usize),
) -> Result<(), BatchError> {
    let rows = &x[start..start + scores.len()];
    let inputs_finite = inputs_finite || R::all_finite(rows);
    let checked = check_finite(inputs_finite, |r| rows[r].non_finite(), scores);
    let classified = match checked {
        Err(BatchError::NonFiniteInput { row, .. } | BatchError::NonFiniteOutput { row }) => row,
        _ => scores.len(),
    };
    for (r, s) in scores[..classified].iter().enumerate() {
        f(start + r, argmax(s));
    }
    checked.map_err(|e| e.offset_rows(start))
}

impl<L, T, const I: usize, const O: usize> Network<L>
where
    L: Train<Input = [T; I], Output = [T; O], Scalar = T>,
    T: Float,
{
    /// Backpropagation: stores dL/dparam in every layer and returns the loss of this batch,
    /// of rows of any kind ([`Batch`]); the same numbers for each.
    ///
    /// The book's `gradient(x, t)`. The first layer's input gradient is not computed: no
    /// one needs it.
    pub fn gradient<const N: usize>(
        &mut self,
        x: &impl Batch<[T; I], N>,
        t: &impl Targets<T, O, N>,
    ) -> Result<T, BatchError> {
        self.gradient_with(&mut Workspace::new(), x, t)
    }

    /// [`gradient`](Self::gradient) with the activations kept in `workspace`, made once and
    /// reused for every step: nothing is allocated or zeroed per step.
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::{TwoLayerNet, Sgd, network::Workspace};
    /// use rand_core::SeedableRng;
    /// let mut net = TwoLayerNet::<2, 8, 2>::new(1.0, &mut rand_pcg::Pcg64::seed_from_u64(1));
    /// let (x, t) = ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0u8, 1, 1, 0]);
    /// let (mut workspace, mut sgd) = (Workspace::new(), Sgd::new(0.5));
    /// for _ in 0..2000 {
    ///     net.train_step_with(&mut workspace, &x, &t, &mut sgd).unwrap();
    /// }
    /// assert_eq!(net.accuracy(&x, &t).unwrap(), 1.0);
    /// ```
    pub fn gradient_with<const N: usize>(
        &mut self,
        workspace: &mut Workspace<L, N>,
        x: &impl Batch<[T; I], N>,
        t: &impl Targets<T, O, N>,
    ) -> Result<T, BatchError> {
        let tape = &mut workspace.tape;
        let mut logits = [[T::ZERO; O]; N];
        self.layers.forward_train_batch(x, tape, &mut logits);
        check_finite(x.known_finite(), |r| x.non_finite(r), &logits)?;
        let mut last = SoftmaxWithLoss::new();
        let loss = last.forward(&logits, t)?;
        let mut dlogits = [[T::ZERO; O]; N];
        last.backward(T::ONE, &mut dlogits);
        self.layers.backward_batch(x, tape, &logits, &dlogits);
        Ok(loss)
    }

    /// One training step: [`gradient`](Self::gradient), then `optimizer` updates every
    /// parameter. Returns the loss before the update.
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::{Sgd, TwoLayerNet};
    /// use rand_core::SeedableRng;
    /// let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
    /// let mut net = TwoLayerNet::<4, 5, 3>::new(0.1, &mut rng);
    /// let (x, t) = ([[0.5, -1.0, 0.25, 2.0], [1.5, 0.5, -0.75, 0.0]], [0u8, 2]);
    /// let mut sgd = Sgd::new(0.5);
    /// let first = net.train_step(&x, &t, &mut sgd).unwrap();
    /// for _ in 0..50 {
    ///     net.train_step(&x, &t, &mut sgd).unwrap();
    /// }
    /// assert!(net.loss(&x, &t).unwrap() < first / 10.0); // learnt the two rows
    /// ```
    pub fn train_step<const N: usize>(
        &mut self,
        x: &impl Batch<[T; I], N>,
        t: &impl Targets<T, O, N>,
        optimizer: &mut impl Optimizer<L>,
    ) -> Result<T, BatchError> {
        let loss = self.gradient(x, t)?;
        optimizer.update(&mut self.layers);
        Ok(loss)
    }

    /// [`train_step`](Self::train_step) with the activations kept in `workspace` (see
    /// [`gradient_with`](Self::gradient_with)).
    pub fn train_step_with<const N: usize>(
        &mut self,
        workspace: &mut Workspace<L, N>,
        x: &impl Batch<[T; I], N>,
        t: &impl Targets<T, O, N>,
        optimizer: &mut impl Optimizer<L>,
    ) -> Result<T, BatchError> {
        let loss = self.gradient_with(workspace, x, t)?;
        optimizer.update(&mut self.layers);
        Ok(loss)
    }

    /// The book's `numerical_gradient`: central differences `(L(p + h) − L(p − h)) / 2h` with
    /// `h = 1e-4`, for every element of every parameter, each restored afterwards. Stores the
    /// result where [`gradient`](Self::gradient) stores its own.
    pub fn numerical_gradient<const N: usize>(
        &mut self,
        x: &impl Batch<[T; I], N>,
        t: &impl Targets<T, O, N>,
    ) -> Result<(), BatchError> {
        for k in 0..self.param_count() {
            for i in 0..self.param_len(k) {
                let g = self.numerical_derivative(k, i, x, t)?;
                self.with_param(k, |p| p.grad[i] = g);
            }
        }
        Ok(())
    }

    /// Compares backpropagation with numerical differentiation, parameter by parameter (the
    /// book's `gradient_check.py`): runs [`gradient`](Self::gradient), then for every element
    /// the central difference, and reports each parameter's mean and largest
    /// `|numerical − backprop|` to `report`. Leaves the backprop gradients in the layers.
    ///
    /// # Examples
    ///
    /// In f64 the differences come down to about 1e-7, the floor that the loss's `1e-7` delta
    /// sets (see [`SoftmaxWithLoss`]); a wrong backward pass is off by far more.
    ///
    /// ```
    /// use constnn::TwoLayerNet;
    /// use rand_core::SeedableRng;
    /// let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
    /// let mut net = TwoLayerNet::<4, 5, 3, f64>::new(0.5, &mut rng);
    /// let (x, t) = ([[0.5, -1.0, 0.25, 2.0], [1.5, 0.5, -0.75, 0.0]], [0u8, 2]);
    /// let mut lines = Vec::new();
    /// net.gradient_check(&x, &t, |line| lines.push(line)).unwrap();
    /// let names: Vec<String> = lines.iter().map(|l| l.param.to_string()).collect();
    /// assert_eq!(names, ["W1", "b1", "W2", "b2"]);
    /// assert!(lines.iter().all(|l| l.mean_abs_diff < 1e-6), "{lines:?}");
    /// ```
    pub fn gradient_check<const N: usize>(
        &mut self,
        x: &impl Batch<[T; I], N>,
        t: &impl Targets<T, O, N>,
        mut report: impl FnMut(GradCheck),
    ) -> Result<(), BatchError> {
        self.gradient(x, t)?;
        for k in 0..self.param_count() {
            let len = self.param_len(k);
            let (mut sum, mut max) = (0.0f64, 0.0f64);
            for i in 0..len {
                let num = self.numerical_derivative(k, i, x, t)?;
                let bp = self.with_param(k, |p| p.grad[i]).unwrap_or(T::ZERO);
                let d = (num - bp).to_f64().abs();
                sum += d;
                max = max.max(d);
            }
            report(GradCheck {
                param: self.param_id(k),
                mean_abs_diff: sum / len as f64,
                max,
            });
        }
        Ok(())
    }

    /// Draws every weight matrix anew as `init` says for its layer's inputs (the book's
    /// `weight_init_std` for a `MultiLayerNet`: a fixed σ, Xavier or He), layer by layer and row
    /// by row from `normal`, as the book's `np.random.randn(n, m)` per layer; biases zero, a
    /// scale (`gamma`) one.
    ///
    /// # Examples
    ///
    /// ```
    /// use constnn::{chain, Network, layers::{Affine, Relu}, init::{NumpyRandom, WeightInit}};
    /// let mut net = Network::from_layers(chain![
    ///     Affine::<f64, 4, 3>::zeros(),
    ///     Relu::new(),
    ///     Affine::<f64, 3, 2>::zeros(),
    /// ]);
    /// let mut np = NumpyRandom::seed(0);
    /// net.init_weights(WeightInit::He, || np.randn());
    /// // np.random.seed(0); W1 = np.sqrt(2 / 4) * np.random.randn(4, 3)
    /// assert_eq!(net.layers.first.w()[0][0], 0.5f64.sqrt() * 1.764052345967664);
    /// ```
    pub fn init_weights(&mut self, init: crate::init::WeightInit, mut normal: impl FnMut() -> f64) {
        self.layers
            .for_each_tensor_mut(|id, shape, values| match shape {
                crate::params::Shape::Matrix(inputs, _) => {
                    let std = init.std(inputs);
                    for v in values {
                        *v = T::from_f64(std * normal());
                    }
                }
                crate::params::Shape::Vector(_) => {
                    let fill = if id.name == "gamma" { T::ONE } else { T::ZERO };
                    values.fill(fill);
                }
            });
    }

    /// How many parameter tensors the network trains (BatchNorm's running statistics are
    /// saved with the model, but are not parameters).
    pub const fn param_count(&self) -> usize {
        param_list::<L>().trained()
    }

    /// The book's name of parameter tensor `k` (of those [`param_count`](Self::param_count)
    /// counts): `W1`, `b1`, `W2`, … (numbered per name).
    pub const fn param_id(&self, k: usize) -> ParamId {
        let list = param_list::<L>();
        match list.of_trained(k) {
            Some(at) => list.id(at),
            None => list.id(list.len()),
        }
    }

    /// The number of values of parameter tensor `k` (0 past the last).
    const fn param_len(&self, k: usize) -> usize {
        let list = param_list::<L>();
        match list.of_trained(k) {
            Some(at) => match list.shape(at) {
                Some(shape) => shape.len(),
                None => 0,
            },
            None => 0,
        }
    }

    /// `f` applied to parameter tensor `k` (with its gradient); `None` past the last.
    fn with_param<R>(&mut self, k: usize, f: impl FnOnce(Param<'_, T>) -> R) -> Option<R> {
        let (mut f, mut result, mut j) = (Some(f), None, 0);
        self.layers.for_each_param(|p| {
            if j == k
                && let Some(f) = f.take()
            {
                result = Some(f(p));
            }
            j += 1;
        });
        result
    }

    /// dL/dp for element `i` of parameter `k`, by central difference; the value is restored.
    fn numerical_derivative<const N: usize>(
        &mut self,
        k: usize,
        i: usize,
        x: &impl Batch<[T; I], N>,
        t: &impl Targets<T, O, N>,
    ) -> Result<T, BatchError> {
        let h = T::from_f64(NUMERICAL_H);
        let Some(orig) = self.with_param(k, |p| p.value[i]) else {
            return Ok(T::ZERO);
        };
        self.with_param(k, |p| p.value[i] = orig + h);
        let fxh1 = self.loss(x, t);
        self.with_param(k, |p| p.value[i] = orig - h);
        let fxh2 = self.loss(x, t);
        self.with_param(k, |p| p.value[i] = orig);
        Ok((fxh1? - fxh2?) / (h + h))
    }
}

/// What a training step of `L` at batch size `N` keeps besides the parameters: each activation
/// between layers and its gradient (a [`ChainTape`](crate::layers::ChainTape)). On the heap with
/// the `alloc` feature, so that a wide network trains on any thread; made once and handed to
/// [`Network::train_step_with`] for every step, it is never allocated or zeroed again.
pub struct Workspace<L: Train, const N: usize> {
    tape: L::Tape<N>,
}

impl<L: Train, const N: usize> Workspace<L, N> {
    /// A workspace for steps of batch size `N`.
    pub fn new() -> Self {
        Self {
            tape: Zeros::zeros(),
        }
    }
}

impl<L: Train, const N: usize> Default for Workspace<L, N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a batch could not be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchError {
    /// A target label is not below the number of classes.
    Label(LabelOutOfRange),
    /// An input value is NaN or infinite.
    NonFiniteInput {
        /// Row of the batch.
        row: usize,
        /// Column (feature, pixel) of the row.
        column: usize,
    },
    /// The scores of a row are NaN or infinite although its input is finite: the network's
    /// parameters are (training diverged).
    NonFiniteOutput {
        /// Row of the batch.
        row: usize,
    },
}

impl BatchError {
    /// The same error with its row numbers shifted by `offset` (for a batch inside a larger one).
    pub fn offset_rows(self, offset: usize) -> Self {
        match self {
            BatchError::Label(l) => BatchError::Label(LabelOutOfRange {
                row: l.row + offset,
                ..l
            }),
            BatchError::NonFiniteInput { row, column } => BatchError::NonFiniteInput {
                row: row + offset,
                column,
            },
            BatchError::NonFiniteOutput { row } => {
                BatchError::NonFiniteOutput { row: row + offset }
            }
        }
    }
}

impl From<LabelOutOfRange> for BatchError {
    fn from(e: LabelOutOfRange) -> Self {
        BatchError::Label(e)
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Label(e) => e.fmt(f),
            BatchError::NonFiniteInput { row, column } => {
                write!(
                    f,
                    "input row {row} has a NaN or infinite value at column {column}"
                )
            }
            BatchError::NonFiniteOutput { row } => write!(
                f,
                "the network's output for row {row} is NaN or infinite although its input is \
                 finite: its parameters are not (did training diverge?)"
            ),
        }
    }
}

impl core::error::Error for BatchError {}

/// Checks rows and their scores: an input with a NaN or ∞ is an error naming its row and
/// first such column (`non_finite(row)`); a finite input whose scores are not finite blames
/// the parameters. The input is checked itself, not through the scores: a saturating layer
/// (σ(±∞) is finite; ReLU maps −∞ to 0) can hide an infinite input from them. Where the rows
/// can tell their inputs finite in one pass (`inputs_finite`), the scores are checked in one
/// too, and rows one by one only if that finds a fault: the same first error either way.
fn check_finite<T: Float, const O: usize>(
    inputs_finite: bool,
    non_finite: impl Fn(usize) -> Option<usize>,
    scores: &[[T; O]],
) -> Result<(), BatchError> {
    if inputs_finite && crate::float::first_non_finite(scores.as_flattened()).is_none() {
        return Ok(());
    }
    for (row, sr) in scores.iter().enumerate() {
        if !inputs_finite && let Some(column) = non_finite(row) {
            return Err(BatchError::NonFiniteInput { row, column });
        }
        if crate::float::first_non_finite(sr).is_some() {
            return Err(BatchError::NonFiniteOutput { row });
        }
    }
    Ok(())
}

/// One line of a gradient check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradCheck {
    /// Which parameter.
    pub param: ParamId,
    /// Mean of `|numerical − backprop|` over its elements (the book's figure).
    pub mean_abs_diff: f64,
    /// Largest `|numerical − backprop|`.
    pub max: f64,
}
