//! Training on a labelled data set (the `std` feature): the book's loop — draw a batch, take a
//! step, evaluate every epoch — run as fast as the machine allows, for any network and any
//! optimiser.
//!
//! A [`Trainer`] draws each batch's rows at random (the book's `np.random.choice`, from
//! [`NumpyRandom`] or any [`rand_core::Rng`]: see [`Draw`]), takes a step with its optimiser,
//! and at the end of every epoch evaluates the network on the training and test sets (both
//! checked once, before the first step, for NaN and infinite values). With two threads or
//! more, a helper thread makes the batches ahead of the steps (rows kept sparse are also listed
//! by column then) and evaluates snapshots of the network while training goes on; the figures
//! are the same whatever the number of threads. It reports progress through a callback
//! ([`Progress`]), stops with an error if training diverges, and can write its log (CSV) and
//! the trained model, each atomically.
//!
//! # Examples
//!
//! ```
//! use constnn::train::{Samples, Trainer};
//! use constnn::{Sgd, TwoLayerNet};
//! use rand_core::SeedableRng;
//!
//! // Points in the plane, labelled by the quadrant they lie in.
//! let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
//! let rows: Vec<[f32; 2]> = (0..400)
//!     .map(|k| [((k * 37 % 101) as f32 - 50.0) / 25.0, ((k * 53 % 97) as f32 - 48.0) / 24.0])
//!     .collect();
//! let labels: Vec<u8> = rows.iter().map(|r| (r[0] > 0.0) as u8 * 2 + (r[1] > 0.0) as u8).collect();
//! let set = Samples::new(&rows, &labels)?;
//!
//! let mut net = TwoLayerNet::<2, 16, 4>::new(0.5, &mut rng);
//! let report = Trainer::<_, 20>::new(Sgd::new(0.5))
//!     .iterations(1_000)
//!     .threads(1)
//!     .run(&mut net, set, set, rng, |_| {})?;
//! assert!(report.test_acc > 0.95);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::format;
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use crate::data::{self, DataError};
use crate::float::Float;
use crate::init::NumpyRandom;
use crate::input::Row;
use crate::layers::Train;
use crate::network::{BatchError, Network, Workspace};
use crate::optim::Optimizer;

/// A labelled data set as training reads it: rows (dense `[T; I]` or
/// [`SparseRow`](crate::matrix::sparse::SparseRow)s) and their class labels, as many of each
/// and at least one.
#[derive(Debug)]
pub struct Samples<'a, X> {
    rows: &'a [X],
    labels: &'a [u8],
}

impl<X> Clone for Samples<'_, X> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<X> Copy for Samples<'_, X> {}

impl<'a, X> Samples<'a, X> {
    /// These rows and labels; an error if their numbers differ or there are none.
    pub fn new(rows: &'a [X], labels: &'a [u8]) -> Result<Self, TrainError> {
        if rows.len() != labels.len() {
            return Err(TrainError::Samples {
                rows: rows.len(),
                labels: labels.len(),
            });
        }
        if rows.is_empty() {
            return Err(TrainError::Samples { rows: 0, labels: 0 });
        }
        Ok(Self { rows, labels })
    }

    /// The rows.
    pub fn rows(&self) -> &'a [X] {
        self.rows
    }

    /// The labels.
    pub fn labels(&self) -> &'a [u8] {
        self.labels
    }

    /// How many rows (at least one).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Never: a set has at least one row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Where a trainer draws each batch's rows from: one index below `n` per row, as the book's
/// `np.random.choice(train_size, batch_size)`.
pub trait Draw: Send {
    /// An index below `n`, uniformly.
    fn below(&mut self, n: u32) -> u32;
}

/// NumPy's legacy stream: after `NumpyRandom::seed(s)` and the same draws of the weights, the
/// batches of the book's code after `np.random.seed(s)`.
impl Draw for NumpyRandom {
    fn below(&mut self, n: u32) -> u32 {
        self.choice(n)
    }
}

/// Any `rand_core` generator, through [`init::below`](crate::init::below).
impl<R: rand_core::Rng + Send> Draw for R {
    fn below(&mut self, n: u32) -> u32 {
        crate::init::below(self, n)
    }
}

/// Why training stopped, or could not start.
#[derive(Debug)]
pub enum TrainError {
    /// A data set's rows and labels differ in number, there are none, or (the same number of
    /// each) more training rows than batches can be drawn from (2³² − 1).
    Samples {
        /// Rows given.
        rows: usize,
        /// Labels given.
        labels: usize,
    },
    /// The loss became NaN or infinite, or an epoch's mean loss exceeded twice that of
    /// guessing every class alike (`2 ln O`): the updates overshoot. Nothing was written.
    Diverged {
        /// The iteration at which it was seen.
        iteration: usize,
    },
    /// A batch could not be trained on or evaluated (a label out of range, a NaN input).
    Batch {
        /// What was being done: `"checking the training set"`, `"training batch 12"`,
        /// `"evaluating the test set"`.
        context: String,
        /// What was wrong.
        source: BatchError,
    },
    /// The log or the model could not be written.
    Data(DataError),
    /// A thread of the trainer's stopped unexpectedly (it panicked).
    Stopped,
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Samples { rows: 0, labels: 0 } => f.write_str("a data set with no rows"),
            TrainError::Samples { rows, labels } if rows == labels => write!(
                f,
                "a training set of {rows} rows: batches are drawn from at most 2^32 - 1"
            ),
            TrainError::Samples { rows, labels } => {
                write!(f, "a data set of {rows} rows but {labels} labels")
            }
            TrainError::Diverged { iteration } => write!(
                f,
                "training diverged at iteration {iteration}: the loss became NaN or infinite or \
                 grew past twice that of guessing"
            ),
            TrainError::Batch { context, source } => write!(f, "{context}: {source}"),
            TrainError::Data(e) => e.fmt(f),
            TrainError::Stopped => f.write_str("a training thread stopped unexpectedly"),
        }
    }
}

impl std::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrainError::Batch { source, .. } => Some(source),
            TrainError::Data(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DataError> for TrainError {
    fn from(e: DataError) -> Self {
        TrainError::Data(e)
    }
}

/// An epoch's figures: the network after its last iteration, evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epoch {
    /// Which epoch: 0 for the network after the first iteration, as the book counts.
    pub epoch: usize,
    /// The iteration after which the network was evaluated.
    pub iteration: usize,
    /// The mean loss of the epoch's batches (the first: of iteration 0 alone).
    pub mean_loss: f64,
    /// Accuracy on the training set.
    pub train_acc: f64,
    /// Accuracy on the test set.
    pub test_acc: f64,
    /// Seconds from the start of training to the end of the iteration.
    pub seconds: f64,
}

/// What a trainer tells its progress callback, in order of iterations.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// Iteration `iteration` took a step; `loss` is its batch's, before the update.
    Step {
        /// The iteration, from 0.
        iteration: usize,
        /// The batch's loss.
        loss: f64,
    },
    /// Iteration `iteration` ended epoch `epoch`, whose evaluation has begun (on the helper
    /// thread with two threads or more).
    EpochEnd {
        /// The epoch.
        epoch: usize,
        /// The iteration.
        iteration: usize,
        /// The mean loss of its batches.
        mean_loss: f64,
    },
    /// An epoch's evaluation is done (they come in order of epochs).
    Evaluated(&'a Epoch),
}

/// What a run did: the epochs' figures, the final ones, and where the time went.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every epoch's figures, in order.
    pub epochs: Vec<Epoch>,
    /// Accuracy on the training set after the last iteration.
    pub train_acc: f64,
    /// Accuracy on the test set after the last iteration.
    pub test_acc: f64,
    /// Seconds the final evaluation took (after `seconds`, as the book's references time it).
    pub final_seconds: f64,
    /// Seconds from the first iteration to the last epoch's figures: the iterations and the
    /// epochs' evaluations.
    pub seconds: f64,
    /// Seconds spent evaluating the epochs, on whichever thread.
    pub evaluation_seconds: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Whether a helper thread made the batches and evaluated while training ran (then the
    /// evaluations overlapped the iterations).
    pub helper: bool,
}

impl Report {
    /// Seconds the iterations took: all of [`seconds`](Self::seconds) with a helper thread (the
    /// evaluations overlapped them), less the evaluations without one.
    pub fn training_seconds(&self) -> f64 {
        if self.helper {
            self.seconds
        } else {
            self.seconds - self.evaluation_seconds
        }
    }

    /// The log as CSV: a header, then a line per epoch
    /// (`epoch,iteration,mean_loss,train_acc,test_acc,elapsed_s`).
    pub fn csv(&self) -> String {
        let mut s = String::from("epoch,iteration,mean_loss,train_acc,test_acc,elapsed_s\n");
        for e in &self.epochs {
            s += &format!(
                "{},{},{:.6},{:.4},{:.4},{:.3}\n",
                e.epoch, e.iteration, e.mean_loss, e.train_acc, e.test_acc, e.seconds
            );
        }
        s
    }

    /// Writes [`csv`](Self::csv) to `path`, atomically.
    pub fn write_csv(&self, path: &Path) -> Result<(), DataError> {
        data::write_atomic(path, |f| f.write_all(self.csv().as_bytes()))
    }
}

/// The book's training loop for a network of batch size `N`, with optimiser `Opt`: see the
/// [module](self).
#[derive(Debug, Clone)]
pub struct Trainer<Opt, const N: usize> {
    optimizer: Opt,
    iterations: usize,
    epoch: Option<usize>,
    threads: usize,
    diverged_loss: Option<f64>,
    log: Option<PathBuf>,
    model: Option<PathBuf>,
}

/// How many batches the helper thread may have ready ahead of training: enough that training
/// seldom waits for one while the helper evaluates a chunk.
const AHEAD: usize = 8;

impl<Opt, const N: usize> Trainer<Opt, N> {
    /// A trainer taking steps with `optimizer`: by default the book's 10 000 iterations, an
    /// epoch every `rows / N` of them, as many threads as the machine has cores.
    pub fn new(optimizer: Opt) -> Self {
        const { assert!(N > 0, "a batch of no rows") };
        Self {
            optimizer,
            iterations: 10_000,
            epoch: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            diverged_loss: None,
            log: None,
            model: None,
        }
    }

    /// Runs `iterations` steps (at least one).
    pub fn iterations(mut self, iterations: usize) -> Self {
        self.iterations = iterations.max(1);
        self
    }

    /// Evaluates every `iterations` steps (at least one) instead of once an epoch.
    pub fn evaluate_every(mut self, iterations: usize) -> Self {
        self.epoch = Some(iterations.max(1));
        self
    }

    /// Uses `threads` threads (at least one): with two or more, a helper thread makes batches
    /// and evaluates while training runs, and the final evaluation is split between all.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Stops with [`TrainError::Diverged`] when an epoch's mean loss exceeds `loss` (by
    /// default `2 ln O` for `O` classes, twice the loss of guessing; `f64::INFINITY`: only a
    /// NaN or infinite loss stops it, for experiments that show a network failing to learn).
    pub fn divergence_loss(mut self, loss: f64) -> Self {
        self.diverged_loss = Some(loss);
        self
    }

    /// Writes the log ([`Report::csv`]) to `path` when training succeeds, atomically.
    pub fn log_csv(mut self, path: impl Into<PathBuf>) -> Self {
        self.log = Some(path.into());
        self
    }

    /// Saves the trained model to `path` when training succeeds, atomically
    /// ([`data::save_model`]).
    pub fn save_model(mut self, path: impl Into<PathBuf>) -> Self {
        self.model = Some(path.into());
        self
    }

    /// The optimiser (with its state after a run).
    pub fn optimizer(&self) -> &Opt {
        &self.optimizer
    }

    /// Iterations in an epoch for a training set of `rows` rows.
    pub fn epoch_length(&self, rows: usize) -> usize {
        self.epoch.unwrap_or((rows / N).max(1))
    }

    /// Trains `net` on `train`, drawing each batch's rows from `draw`, and evaluates it on
    /// `train` and `test` every epoch and at the end; `progress` hears of every step and
    /// epoch. On success writes the log and the model if asked to; on an error, nothing.
    ///
    /// Both sets are checked first: a NaN or infinite value in any row is an error naming the
    /// set, the row and the column ([`TrainError::Batch`]) before the first step.
    pub fn run<L, T, X, const I: usize, const O: usize>(
        &mut self,
        net: &mut Network<L>,
        train: Samples<'_, X>,
        test: Samples<'_, X>,
        draw: impl Draw,
        mut progress: impl FnMut(Progress<'_>),
    ) -> Result<Report, TrainError>
    where
        L: Train<Input = [T; I], Output = [T; O], Scalar = T> + Clone + Send + Sync,
        T: Float,
        X: Row<[T; I]> + Send + Sync,
        Opt: Optimizer<L>,
    {
        let every = self.epoch_length(train.len());
        let sets = Sets { train, test };
        let n = u32::try_from(train.len()).map_err(|_| TrainError::Samples {
            rows: train.len(),
            labels: train.len(),
        })?;
        let ahead = Ahead::new(
            Drawing {
                draw,
                set: train,
                n,
            },
            self.iterations,
        );
        let helper = self.threads >= 2;
        let mut epochs = Epochs::new(&mut progress);
        let mut workspace = Workspace::<L, N>::new();
        let (mut loss_sum, mut loss_n) = (0.0f64, 0usize);
        // Twice the loss of guessing every class alike: an epoch worse than this is not
        // learning (finite only because softmax subtracts the max).
        let diverged_loss = self.diverged_loss.unwrap_or(2.0 * (O as f64).ln());
        let t_start = Instant::now();
        check_sets(sets)?;
        let (results_tx, results) = mpsc::channel::<Result<Evaluated, TrainError>>();
        std::thread::scope(|s| -> Result<(), TrainError> {
            let mut batches = if helper {
                Batches::thread(s, ahead, results_tx, sets)
            } else {
                Batches::inline(ahead)
            };
            // The helper stops early only after sending an evaluation's error: when it is gone,
            // report that error rather than its absence.
            let helper_error = |e| results.try_iter().find_map(Result::err).unwrap_or(e);
            for i in 0..self.iterations {
                let batch = batches.next().map_err(helper_error)?;
                let loss = match net.train_step_with(
                    &mut workspace,
                    &*batch.x,
                    &batch.t,
                    &mut self.optimizer,
                ) {
                    Ok(loss) if loss.is_finite() => loss.to_f64(),
                    Ok(_) | Err(BatchError::NonFiniteOutput { .. }) => {
                        return Err(TrainError::Diverged { iteration: i });
                    }
                    Err(source) => {
                        let context = format!("training batch {i}");
                        return Err(TrainError::Batch { context, source });
                    }
                };
                batches.done(batch);
                loss_sum += loss;
                loss_n += 1;
                epochs.progress(Progress::Step { iteration: i, loss });
                if i % every == 0 {
                    let epoch = i / every;
                    let mean_loss = loss_sum / loss_n as f64;
                    if epoch > 0 && mean_loss > diverged_loss {
                        return Err(TrainError::Diverged { iteration: i });
                    }
                    epochs.progress(Progress::EpochEnd {
                        epoch,
                        iteration: i,
                        mean_loss,
                    });
                    let snapshot = batches.evaluate_later(i, net).map_err(helper_error)?;
                    let inline = snapshot.is_none();
                    epochs.pending.push_back(Pending {
                        figures: Epoch {
                            epoch,
                            iteration: i,
                            mean_loss,
                            train_acc: 0.0,
                            test_acc: 0.0,
                            seconds: t_start.elapsed().as_secs_f64(),
                        },
                        done: false,
                        snapshot,
                    });
                    if inline {
                        epochs.complete(evaluate(net, sets, 1, i))?;
                    }
                    (loss_sum, loss_n) = (0.0, 0);
                }
                while let Ok(result) = results.try_recv() {
                    epochs.complete(result)?;
                }
            }
            // The helper stops once it has no evaluation left. Rather than wait idle, this
            // thread now takes chunks of those not done, oldest first, as the helper does: the
            // two end within a chunk of each other.
            drop(batches);
            let left: Vec<_> = epochs
                .pending
                .iter()
                .filter_map(|e| e.snapshot.clone())
                .collect();
            for snapshot in &left {
                while snapshot.open(sets) {
                    if let Some(result) = snapshot.step(sets) {
                        epochs.complete(result)?;
                    }
                }
            }
            while !epochs.pending.is_empty() {
                let result = results.recv().map_err(|_| TrainError::Stopped)?;
                epochs.complete(result)?;
            }
            Ok(())
        })?;
        let seconds = t_start.elapsed().as_secs_f64();
        let (_, train_acc, test_acc, final_seconds) =
            evaluate(net, sets, self.threads, self.iterations)?;
        let report = Report {
            epochs: epochs.log,
            train_acc,
            test_acc,
            final_seconds,
            seconds,
            evaluation_seconds: epochs.seconds,
            iterations: self.iterations,
            helper,
        };
        if let Some(path) = &self.log {
            report.write_csv(path)?;
        }
        if let Some(path) = &self.model {
            data::save_model(&net.layers, path)?;
        }
        Ok(report)
    }
}

/// The two sets a run evaluates on.
struct Sets<'d, X> {
    train: Samples<'d, X>,
    test: Samples<'d, X>,
}

impl<X> Clone for Sets<'_, X> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<X> Copy for Sets<'_, X> {}

impl<'d, X> Sets<'d, X> {
    fn get(&self, k: usize) -> Samples<'d, X> {
        [self.train, self.test][k]
    }

    /// Set `k`'s name in errors: `"training"` (0) or `"test"`.
    fn name(k: usize) -> &'static str {
        ["training", "test"][k.min(1)]
    }
}

/// An evaluation's figures: after which iteration, train and test accuracy, seconds spent.
type Evaluated = (usize, f64, f64, f64);

/// An epoch waiting for its figures.
struct Pending<L> {
    figures: Epoch,
    /// Evaluated: the figures are complete.
    done: bool,
    /// The network the helper thread evaluates, if it does.
    snapshot: Option<Arc<Snapshot<L>>>,
}

/// The epochs, pending and done, and the callback that hears of them.
struct Epochs<'p, L, P> {
    pending: VecDeque<Pending<L>>,
    log: Vec<Epoch>,
    /// Seconds spent evaluating, by whichever thread.
    seconds: f64,
    progress: &'p mut P,
}

impl<'p, L, P: FnMut(Progress<'_>)> Epochs<'p, L, P> {
    fn new(progress: &'p mut P) -> Self {
        Self {
            pending: VecDeque::new(),
            log: Vec::new(),
            seconds: 0.0,
            progress,
        }
    }

    fn progress(&mut self, p: Progress<'_>) {
        (self.progress)(p);
    }

    /// An evaluation's figures complete their epoch; the epochs complete from the oldest are
    /// reported and logged, in order.
    fn complete(&mut self, result: Result<Evaluated, TrainError>) -> Result<(), TrainError> {
        let (i, train_acc, test_acc, seconds) = result?;
        self.seconds += seconds;
        let e = self
            .pending
            .iter_mut()
            .find(|e| e.figures.iteration == i && !e.done)
            .ok_or(TrainError::Stopped)?;
        (e.figures.train_acc, e.figures.test_acc) = (train_acc, test_acc);
        (e.done, e.snapshot) = (true, None);
        while let Some(e) = self.pending.pop_front_if(|e| e.done) {
            (self.progress)(Progress::Evaluated(&e.figures));
            self.log.push(e.figures);
        }
        Ok(())
    }
}

/// The network after an iteration, to be evaluated once, a chunk of rows at a time: by the
/// helper thread, and, for those still not done when training ends, by both threads, each
/// taking the next chunk (see [`Snapshot::step`]).
struct Snapshot<L> {
    iteration: usize,
    net: Network<L>,
    /// The next chunk to take: of the training set, then the test set.
    next: AtomicUsize,
    /// Chunks done, rows classified right in each set, nanoseconds spent, by all threads.
    done: AtomicUsize,
    correct: [AtomicUsize; 2],
    nanos: AtomicU64,
}

impl<L> Snapshot<L> {
    /// Rows evaluated at a time: enough that the first layer's weights laid out for sparse
    /// rows (about 30 rows' work) pay, few enough (about 0.6 ms for MNIST) that the batches
    /// made ahead last while the helper evaluates.
    const CHUNK: usize = 1024;

    fn new(iteration: usize, net: Network<L>) -> Self {
        Self {
            iteration,
            net,
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            correct: [AtomicUsize::new(0), AtomicUsize::new(0)],
            nanos: AtomicU64::new(0),
        }
    }

    /// How many chunks each set makes.
    fn chunks<X>(sets: Sets<'_, X>) -> [usize; 2] {
        [0, 1].map(|k| sets.get(k).len().div_ceil(Self::CHUNK))
    }

    /// How many chunks to take in all.
    fn total<X>(sets: Sets<'_, X>) -> usize {
        Self::chunks(sets).iter().sum()
    }

    /// Whether a chunk is left to take.
    fn open<X>(&self, sets: Sets<'_, X>) -> bool {
        self.next.load(Ordering::Relaxed) < Self::total(sets)
    }

    /// Evaluates the next chunk, if one is left: `None` when none is, or when others are still
    /// doing theirs; the figures when this was the last chunk done; an error for a chunk that
    /// failed.
    fn step<T, X, const I: usize, const O: usize>(
        &self,
        sets: Sets<'_, X>,
    ) -> Option<Result<Evaluated, TrainError>>
    where
        L: Train<Input = [T; I], Output = [T; O], Scalar = T>,
        T: Float,
        X: Row<[T; I]>,
    {
        let t = Instant::now();
        let [in_train, _] = Self::chunks(sets);
        let total = Self::total(sets);
        let chunk = self.next.fetch_add(1, Ordering::Relaxed);
        if chunk >= total {
            return None;
        }
        let (k, at) = if chunk < in_train {
            (0, chunk)
        } else {
            (1, chunk - in_train)
        };
        let set = sets.get(k);
        let range = at * Self::CHUNK..set.len().min((at + 1) * Self::CHUNK);
        match count_correct(&self.net, set, range, k, self.iteration) {
            Ok(n) => self.correct[k].fetch_add(n, Ordering::Relaxed),
            Err(e) => return Some(Err(e)),
        };
        let nanos = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        // The last chunk done reports; AcqRel, so that it sees the others' counts.
        if self.done.fetch_add(1, Ordering::AcqRel) + 1 < total {
            return None;
        }
        let accuracy =
            |k: usize| self.correct[k].load(Ordering::Relaxed) as f64 / sets.get(k).len() as f64;
        let seconds = self.nanos.load(Ordering::Relaxed) as f64 * 1e-9;
        Some(Ok((self.iteration, accuracy(0), accuracy(1), seconds)))
    }
}

/// The first NaN or infinite value in the rows of either set, as an error: checked once here,
/// the sets' rows are not checked again at every evaluation (which took about a tenth of an
/// evaluation's time), only the scores.
fn check_sets<T: Float, X: Row<[T; I]>, const I: usize>(
    sets: Sets<'_, X>,
) -> Result<(), TrainError> {
    for k in 0..2 {
        let rows = sets.get(k).rows;
        if X::all_finite(rows) {
            continue;
        }
        let first = rows
            .iter()
            .enumerate()
            .find_map(|(r, x)| Some((r, x.non_finite()?)));
        if let Some((row, column)) = first {
            return Err(TrainError::Batch {
                context: format!("checking the {} set", Sets::<X>::name(k)),
                source: BatchError::NonFiniteInput { row, column },
            });
        }
    }
    Ok(())
}

/// How many rows of `range` of `set` (set `k`: 0 train, 1 test) the network classifies right.
/// A NaN or infinite output means that training diverged by `iteration`.
fn count_correct<L, T, X, const I: usize, const O: usize>(
    net: &Network<L>,
    set: Samples<'_, X>,
    range: Range<usize>,
    k: usize,
    iteration: usize,
) -> Result<usize, TrainError>
where
    L: Train<Input = [T; I], Output = [T; O], Scalar = T>,
    T: Float,
    X: Row<[T; I]>,
{
    let start = range.start;
    // `Trainer::run` checked the rows (`check_sets`).
    net.correct_of_finite(&set.rows[range.clone()], &set.labels[range])
        .map_err(|e| match e.offset_rows(start) {
            BatchError::NonFiniteOutput { .. } => TrainError::Diverged { iteration },
            source => TrainError::Batch {
                context: format!("evaluating the {} set", Sets::<X>::name(k)),
                source,
            },
        })
}

/// Train and test accuracy, the rows split over `threads` threads (the counts, hence the
/// figures, do not depend on how many).
fn evaluate<L, T, X, const I: usize, const O: usize>(
    net: &Network<L>,
    sets: Sets<'_, X>,
    threads: usize,
    iteration: usize,
) -> Result<Evaluated, TrainError>
where
    L: Train<Input = [T; I], Output = [T; O], Scalar = T> + Sync,
    T: Float,
    X: Row<[T; I]> + Sync,
{
    let t = Instant::now();
    let correct = |k: usize| -> Result<usize, TrainError> {
        let set = sets.get(k);
        let n = set.len();
        let part = n.div_ceil(threads.max(1)).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .step_by(part)
                .map(|start| {
                    let range = start..n.min(start + part);
                    s.spawn(move || count_correct(net, set, range, k, iteration))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| TrainError::Stopped)?)
                .sum()
        })
    };
    let train_acc = correct(0)? as f64 / sets.train.len() as f64;
    let test_acc = correct(1)? as f64 / sets.test.len() as f64;
    Ok((iteration, train_acc, test_acc, t.elapsed().as_secs_f64()))
}

/// A training batch: its rows as the step takes them ([`Row`]'s listed form) and their labels.
struct TrainBatch<X: Row<[T; I]>, T: Float, const I: usize, const N: usize> {
    x: Box<X::Listed<N>>,
    t: [u8; N],
}

impl<X: Row<[T; I]>, T: Float, const I: usize, const N: usize> TrainBatch<X, T, I, N> {
    fn empty() -> Box<Self> {
        Box::new(Self {
            x: X::listed(),
            t: [0; N],
        })
    }
}

/// Draws batches' rows from the stream, as the book's `np.random.choice(train_size, N)`.
struct Drawing<'d, D, X> {
    draw: D,
    set: Samples<'d, X>,
    n: u32,
}

impl<D: Draw, X: Copy> Drawing<'_, D, X> {
    fn rows<T: Float, const I: usize, const N: usize>(&mut self) -> ([X; N], [u8; N])
    where
        X: Row<[T; I]>,
    {
        let mut ks = [0usize; N];
        for k in &mut ks {
            *k = self.draw.below(self.n) as usize;
        }
        let x = ks.map(|k| self.set.rows[k]);
        X::touch(&x);
        (x, ks.map(|k| self.set.labels[k]))
    }
}

/// The batches still to train on, drawn one ahead: each one's rows are read (see
/// `RowProducts::touch`) while the one before is listed.
struct Ahead<'d, D, X, const N: usize> {
    drawing: Drawing<'d, D, X>,
    next: Option<([X; N], [u8; N])>,
    /// Batches not drawn yet.
    left: usize,
}

impl<'d, D: Draw, X: Copy, const N: usize> Ahead<'d, D, X, N> {
    fn new(drawing: Drawing<'d, D, X>, batches: usize) -> Self {
        Self {
            drawing,
            next: None,
            left: batches,
        }
    }

    /// Whether a batch is left to make.
    fn any(&self) -> bool {
        self.next.is_some() || self.left > 0
    }

    /// Makes `batch` the next batch, after drawing the one after it; `false` if none is left.
    fn fill<T: Float, const I: usize>(&mut self, batch: &mut TrainBatch<X, T, I, N>) -> bool
    where
        X: Row<[T; I]>,
    {
        if self.next.is_none() && self.left > 0 {
            self.left -= 1;
            self.next = Some(self.drawing.rows());
        }
        let Some((x, t)) = self.next.take() else {
            return false;
        };
        if self.left > 0 {
            self.left -= 1;
            self.next = Some(self.drawing.rows());
        }
        X::list(&mut batch.x, &x);
        batch.t = t;
        true
    }
}

/// Where the training loop gets its batches (in the order of the one stream) and has its
/// evaluations made.
enum Batches<'d, D, X: Row<[T; I]>, L, T: Float, const I: usize, const N: usize> {
    /// One thread: each batch is made when it trains, in the one batch there is; evaluations
    /// are made on the spot.
    Inline {
        ahead: Box<Ahead<'d, D, X, N>>,
        batch: Option<Box<TrainBatch<X, T, I, N>>>,
    },
    /// Two threads or more: a helper thread makes batches, up to [`AHEAD`] ahead, while
    /// training runs, and evaluates snapshots of the network when no batch is wanted (see
    /// [`helper`]). Used batches go back to it to be filled again.
    Thread {
        ready: mpsc::Receiver<Box<TrainBatch<X, T, I, N>>>,
        jobs: mpsc::Sender<Job<X, L, T, I, N>>,
    },
}

/// What the training loop hands its helper thread.
enum Job<X: Row<[T; I]>, L, T: Float, const I: usize, const N: usize> {
    /// A batch trained on, to be filled again.
    Free(Box<TrainBatch<X, T, I, N>>),
    /// A snapshot of the network after an iteration, to evaluate.
    Evaluate(Arc<Snapshot<L>>),
}

/// The helper thread: keeps batches ready for training, as many as it has free ([`AHEAD`] and
/// the one being made); between batches, evaluates the snapshots it is given, a chunk at a
/// time, in order, and sends the figures back. Making batches comes first, so that training
/// never waits on an evaluation. It returns when training has ended and nothing is left.
fn helper<D, X, L, T, const I: usize, const O: usize, const N: usize>(
    mut ahead: Ahead<'_, D, X, N>,
    jobs: mpsc::Receiver<Job<X, L, T, I, N>>,
    ready: mpsc::SyncSender<Box<TrainBatch<X, T, I, N>>>,
    results: mpsc::Sender<Result<Evaluated, TrainError>>,
    sets: Sets<'_, X>,
) where
    D: Draw,
    X: Row<[T; I]>,
    L: Train<Input = [T; I], Output = [T; O], Scalar = T>,
    T: Float,
{
    let (mut free, mut queue) = (Vec::new(), VecDeque::<Arc<Snapshot<L>>>::new());
    let take = |job, free: &mut Vec<_>, queue: &mut VecDeque<_>| match job {
        Job::Free(batch) => free.push(batch),
        Job::Evaluate(snapshot) => queue.push_back(snapshot),
    };
    loop {
        while let Ok(job) = jobs.try_recv() {
            take(job, &mut free, &mut queue);
        }
        if ahead.any()
            && let Some(mut batch) = free.pop()
        {
            ahead.fill(&mut batch);
            // Never blocks: the channel holds as many batches as there are.
            if ready.send(batch).is_err() {
                return;
            }
            continue;
        }
        // The oldest snapshot with a chunk left to take. Once training has ended, the training
        // thread takes chunks of the same ones; whoever does a snapshot's last chunk reports.
        while queue.front().is_some_and(|snapshot| !snapshot.open(sets)) {
            queue.pop_front();
        }
        if let Some(snapshot) = queue.front() {
            if let Some(result) = snapshot.step(sets) {
                let failed = result.is_err();
                if results.send(result).is_err() || failed {
                    return;
                }
            }
            continue;
        }
        match jobs.recv() {
            Ok(job) => take(job, &mut free, &mut queue),
            Err(_) => return,
        }
    }
}

impl<'d, D, X, L, T, const I: usize, const N: usize> Batches<'d, D, X, L, T, I, N>
where
    D: Draw,
    X: Row<[T; I]> + Send + Sync,
    L: Clone,
    T: Float,
{
    fn inline(ahead: Ahead<'d, D, X, N>) -> Self {
        Batches::Inline {
            ahead: Box::new(ahead),
            batch: Some(TrainBatch::empty()),
        }
    }

    /// Starts the [`helper`] thread in `s`.
    fn thread<'scope, const O: usize>(
        s: &'scope std::thread::Scope<'scope, '_>,
        ahead: Ahead<'d, D, X, N>,
        results: mpsc::Sender<Result<Evaluated, TrainError>>,
        sets: Sets<'d, X>,
    ) -> Self
    where
        'd: 'scope,
        L: Train<Input = [T; I], Output = [T; O], Scalar = T> + Send + Sync + 'scope,
        D: 'scope,
        X: 'scope,
    {
        let (ready_tx, ready) = mpsc::sync_channel(AHEAD + 1);
        let (jobs, jobs_rx) = mpsc::channel();
        for _ in 0..=AHEAD {
            let _ = jobs.send(Job::Free(TrainBatch::empty()));
        }
        s.spawn(move || helper(ahead, jobs_rx, ready_tx, results, sets));
        Batches::Thread { ready, jobs }
    }

    /// The next batch.
    fn next(&mut self) -> Result<Box<TrainBatch<X, T, I, N>>, TrainError> {
        match self {
            Batches::Inline { ahead, batch } => {
                let mut batch = batch.take().unwrap_or_else(TrainBatch::empty);
                if !ahead.fill(&mut batch) {
                    return Err(TrainError::Stopped);
                }
                Ok(batch)
            }
            Batches::Thread { ready, .. } => ready.recv().map_err(|_| TrainError::Stopped),
        }
    }

    /// Gives a batch trained on back, to be filled again.
    fn done(&mut self, used: Box<TrainBatch<X, T, I, N>>) {
        match self {
            Batches::Inline { batch, .. } => *batch = Some(used),
            // The helper may have finished, its batches all made: then nothing is needed.
            Batches::Thread { jobs, .. } => {
                let _ = jobs.send(Job::Free(used));
            }
        }
    }

    /// Hands the helper thread a snapshot of `net` to evaluate, and returns it; `None` if there
    /// is no helper (one thread): evaluate now.
    fn evaluate_later(
        &self,
        iteration: usize,
        net: &Network<L>,
    ) -> Result<Option<Arc<Snapshot<L>>>, TrainError> {
        match self {
            Batches::Inline { .. } => Ok(None),
            Batches::Thread { jobs, .. } => {
                let snapshot = Arc::new(Snapshot::new(iteration, net.clone()));
                jobs.send(Job::Evaluate(Arc::clone(&snapshot)))
                    .map_err(|_| TrainError::Stopped)?;
                Ok(Some(snapshot))
            }
        }
    }
}
