//! The book's `train_neuralnet.py`: TwoLayerNet<784, 50, 10> trained on MNIST with SGD.
//!
//! ```text
//! cargo run --release --example train_mnist -- [--data DIR] [--out DIR] [--iters N] [--lr X] [--seed N]
//! ```
//!
//! Prints one line per epoch (600 iterations) with train and test accuracy and ends with
//! `final train_acc=0.9788 test_acc=0.9704` (the default settings, seed 0). Writes to `--out`
//! (default `out/`): `train_log.csv`, `accuracy.png` and the trained weights `model.cnnm`.

#[path = "common/mod.rs"]
mod common;

use std::collections::VecDeque;
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use common::{Args, Error, PIXELS};
use constnn::init::{NumpyRandom, below, randn};
use constnn::matrix::Heap;
use constnn::matrix::sparse::{SparseBatch, SparseRow};
use constnn::network::{SparseReady, Workspace};
use constnn::{Affine, BatchError, Chain, Relu, Sgd, TwoLayerNet};
use indicatif::{ProgressBar, ProgressStyle};
use rand_core::SeedableRng;

/// The book's batch size. It is part of the types (a batch is a `SparseBatch<_, 100, 784>`).
const BATCH: usize = 100;

type Net = TwoLayerNet<784, 50, 10, f32, Heap>;

/// The network as evaluations take it: its first layer's weights laid out for sparse rows
/// (see [`SparseReady`]), once for each evaluation's 70 000 images.
type Ready = SparseReady<f32, 784, 50, Heap, Chain<Relu<f32, 50>, Affine<f32, 50, 10, Heap>>>;

/// An image kept sparse: its non-zero pixels, scaled to [0, 1], and their columns.
type Image<'a> = SparseRow<'a, f32, PIXELS>;

/// A data set as the training loop reads it: every image kept sparse, and the labels.
struct Set<'a> {
    images: Vec<Image<'a>>,
    labels: &'a [u8],
}

/// A training batch: its images (with their values also listed by column, for the first
/// layer's `dW`) and their labels.
struct Batch<'a> {
    x: SparseBatch<'a, f32, BATCH, PIXELS>,
    t: [u8; BATCH],
}

impl<'a> Batch<'a> {
    /// Makes this the batch of these images and labels.
    fn fill(&mut self, (x, t): ([Image<'a>; BATCH], [u8; BATCH])) {
        self.x.set(x);
        self.t = t;
    }
}

/// How many batches the thread making them may have ready ahead of training (with two threads
/// or more): enough that training seldom waits for one.
const AHEAD: usize = 4;

/// Mean loss over an epoch above which training counts as diverged: twice `ln 10`, the loss of
/// guessing every class with probability 1/10.
const DIVERGED_LOSS: f64 = 2.0 * std::f64::consts::LN_10;

const HELP: &str = "\
train_mnist: the book's chapter-5 MNIST run (TwoLayerNet 784-50-10, SGD, batch 100)

USAGE: cargo run --release --example train_mnist -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write train_log.csv, accuracy.png, model.cnnm [default: out]
  --iters N     training iterations [default: 10000]
  --lr X        learning rate [default: 0.1]
  --seed N      random seed for the weights and the batches [default: 0]
  --rng NAME    numpy: NumPy's legacy stream, so a seed gives the book's own initial weights
                and batches (its np.random.seed); pcg: rand_core's PCG64 [default: numpy]
  --threads N   threads: with 2 or more, a helper thread makes the batches and evaluates
                while training runs; the final evaluation uses all N [default: cores]
  -h, --help    this text

Training stops with an error, saving nothing, if the loss becomes NaN or infinite or an
epoch's mean loss exceeds 2 ln 10 (twice that of guessing uniformly): lower --lr then.";

struct Epoch {
    epoch: usize,
    iteration: usize,
    mean_loss: f64,
    train_acc: f64,
    test_acc: f64,
    seconds: f64,
    /// Evaluated: `train_acc` and `test_acc` are its figures.
    done: bool,
    /// The weights the helper thread has to evaluate, if it has them.
    snapshot: Option<Arc<Snapshot>>,
}

/// The network after an iteration, to be evaluated once, a chunk of images at a time: by the
/// helper thread, and, for those still not done when training ends, by both threads, each
/// taking the next chunk (see [`Snapshot::step`]).
struct Snapshot {
    iteration: usize,
    net: Ready,
    /// The next chunk to take (see [`Snapshot::CHUNK`]): of the training set, then the test set.
    next: AtomicUsize,
    /// Chunks done, images classified right in each set, nanoseconds spent, by all threads.
    done: AtomicUsize,
    correct: [AtomicUsize; 2],
    nanos: AtomicU64,
}

impl Snapshot {
    /// Images evaluated at a time: about 0.15 ms, so that training, which takes a batch every
    /// 0.1 ms or so, always finds one ready.
    const CHUNK: usize = 256;

    fn new(iteration: usize, net: Net) -> Self {
        Self {
            iteration,
            net: Ready::new(net),
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            correct: [AtomicUsize::new(0), AtomicUsize::new(0)],
            nanos: AtomicU64::new(0),
        }
    }

    /// How many chunks each set makes.
    fn chunks(sets: [&Set<'_>; 2]) -> [usize; 2] {
        sets.map(|set| set.images.len().div_ceil(Self::CHUNK))
    }

    /// How many chunks to take in all: two empty sets make one empty chunk, so that someone
    /// reports.
    fn total(sets: [&Set<'_>; 2]) -> usize {
        Self::chunks(sets).iter().sum::<usize>().max(1)
    }

    /// Whether a chunk is left to take.
    fn open(&self, sets: [&Set<'_>; 2]) -> bool {
        self.next.load(Ordering::Relaxed) < Self::total(sets)
    }

    /// Evaluates the next chunk, if one is left: `None` when none is, or when others are still
    /// doing theirs; the figures when this was the last chunk done; an error for a chunk that
    /// failed.
    fn step(&self, sets: [&Set<'_>; 2], lr: f32) -> Option<Result<Evaluated, Error>> {
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
        let set = sets[k];
        let range = at * Self::CHUNK..set.images.len().min((at + 1) * Self::CHUNK);
        match count_correct(&self.net, set, range, self.iteration, lr) {
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
            |k: usize| self.correct[k].load(Ordering::Relaxed) as f64 / sets[k].images.len() as f64;
        let seconds = self.nanos.load(Ordering::Relaxed) as f64 * 1e-9;
        Some(Ok((self.iteration, accuracy(0), accuracy(1), seconds)))
    }
}

fn main() -> ExitCode {
    common::run(train)
}

/// Where the initial weights and the batches come from.
enum Source {
    /// NumPy's legacy `RandomState`, as the book's `np.random`.
    Numpy(Box<NumpyRandom>),
    /// rand_core's PCG64.
    Pcg(rand_pcg::Pcg64),
}

impl Source {
    fn randn(&mut self) -> f64 {
        match self {
            Source::Numpy(np) => np.randn(),
            Source::Pcg(rng) => randn(rng),
        }
    }

    /// A batch index, as `np.random.choice(n)`.
    fn below(&mut self, n: u32) -> u32 {
        match self {
            Source::Numpy(np) => np.choice(n),
            Source::Pcg(rng) => below(rng, n),
        }
    }
}

/// Draws batches from the random stream, as the book's `np.random.choice(train_size, 100)`:
/// views of the images, nothing copied.
struct Draw<'a> {
    source: Source,
    set: &'a Set<'a>,
    n: u32,
}

impl<'a> Draw<'a> {
    fn rows(&mut self) -> ([Image<'a>; BATCH], [u8; BATCH]) {
        let (mut x, mut t) = ([Image::EMPTY; BATCH], [0u8; BATCH]);
        for (x, t) in x.iter_mut().zip(&mut t) {
            let k = self.source.below(self.n) as usize;
            (*x, *t) = (self.set.images[k], self.set.labels[k]);
        }
        touch(&x);
        (x, t)
    }
}

/// The batches still to train on, drawn one ahead: each one's images are read (see [`touch`])
/// while the one before is listed by column.
struct Ahead<'a> {
    draw: Draw<'a>,
    next: Option<([Image<'a>; BATCH], [u8; BATCH])>,
    /// Batches not drawn yet.
    left: usize,
}

impl<'a> Ahead<'a> {
    fn new(mut draw: Draw<'a>, batches: usize) -> Self {
        let next = (batches > 0).then(|| draw.rows());
        Self {
            draw,
            next,
            left: batches.saturating_sub(1),
        }
    }

    /// Whether a batch is left to make.
    fn any(&self) -> bool {
        self.next.is_some()
    }

    /// Makes `batch` the next batch, after drawing the one after it; `false` if none is left.
    fn fill(&mut self, batch: &mut Batch<'a>) -> bool {
        let Some(rows) = self.next.take() else {
            return false;
        };
        if self.left > 0 {
            self.left -= 1;
            self.next = Some(self.draw.rows());
        }
        batch.fill(rows);
        true
    }
}

/// Where the training loop gets its batches (in the order of the one random stream) and has
/// its evaluations made.
enum Batches<'a> {
    /// With one thread: each batch is listed by column when it trains (see [`Ahead`]), in the
    /// one batch there is. Evaluations are made on the spot.
    Inline(Box<Inline<'a>>),
    /// With two threads or more: a helper thread draws batches and lists them by column, up
    /// to [`AHEAD`] ahead, while training runs, and evaluates snapshots of the network when
    /// no batch is wanted (see [`helper`]). Used batches go back to it to be filled again.
    Thread {
        ready: mpsc::Receiver<Box<Batch<'a>>>,
        jobs: mpsc::Sender<Job<'a>>,
    },
}

/// See [`Batches::Inline`].
struct Inline<'a> {
    ahead: Ahead<'a>,
    batch: Option<Box<Batch<'a>>>,
}

/// What the training loop hands its helper thread.
enum Job<'a> {
    /// A batch trained on, to be filled again.
    Free(Box<Batch<'a>>),
    /// A snapshot of the network after an iteration, to evaluate.
    Evaluate(Arc<Snapshot>),
}

/// The helper thread: keeps batches ready for training, listed by column (see [`Ahead`]), as
/// many as it has free ([`AHEAD`] and the one being made); between batches, evaluates the
/// snapshots it is given, a chunk at a time, in order, and sends the figures back (see
/// [`Snapshot::step`]). Making batches comes first, so that training never waits on an
/// evaluation. It returns when training has ended and nothing is left to do.
fn helper<'a>(
    mut ahead: Ahead<'a>,
    jobs: mpsc::Receiver<Job<'a>>,
    ready: mpsc::SyncSender<Box<Batch<'a>>>,
    results: mpsc::Sender<Result<Evaluated, Error>>,
    sets: [&Set<'_>; 2],
    lr: f32,
) {
    let (mut free, mut queue) = (Vec::new(), VecDeque::<Arc<Snapshot>>::new());
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
            if let Some(result) = snapshot.step(sets, lr) {
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

impl<'a> Batches<'a> {
    fn empty() -> Box<Batch<'a>> {
        Box::new(Batch {
            x: SparseBatch::new(),
            t: [0; BATCH],
        })
    }

    fn inline(ahead: Ahead<'a>) -> Self {
        Batches::Inline(Box::new(Inline {
            ahead,
            batch: Some(Self::empty()),
        }))
    }

    /// Starts the [`helper`] thread in `s`.
    fn thread<'scope>(
        s: &'scope std::thread::Scope<'scope, '_>,
        ahead: Ahead<'a>,
        results: mpsc::Sender<Result<Evaluated, Error>>,
        sets: [&'a Set<'a>; 2],
        lr: f32,
    ) -> Self
    where
        'a: 'scope,
    {
        let (ready_tx, ready) = mpsc::sync_channel(AHEAD + 1);
        let (jobs, jobs_rx) = mpsc::channel();
        for _ in 0..=AHEAD {
            jobs.send(Job::Free(Self::empty()))
                .expect("the receiver is here");
        }
        s.spawn(move || helper(ahead, jobs_rx, ready_tx, results, sets, lr));
        Batches::Thread { ready, jobs }
    }

    /// The next batch.
    fn next(&mut self) -> Result<Box<Batch<'a>>, Error> {
        match self {
            Batches::Inline(inline) => {
                let mut batch = inline.batch.take().unwrap_or_else(Self::empty);
                if !inline.ahead.fill(&mut batch) {
                    return Err(Error::Failed("no batch left".into()));
                }
                Ok(batch)
            }
            Batches::Thread { ready, .. } => ready.recv().map_err(|_| helper_stopped()),
        }
    }

    /// Gives a batch trained on back, to be filled again.
    fn done(&mut self, batch: Box<Batch<'a>>) {
        match self {
            Batches::Inline(inline) => inline.batch = Some(batch),
            // The helper may have finished, its batches all made: then nothing is needed.
            Batches::Thread { jobs, .. } => {
                let _ = jobs.send(Job::Free(batch));
            }
        }
    }

    /// Hands the helper thread a snapshot of `net` to evaluate, and returns it; `None` if there
    /// is no helper (one thread): evaluate now.
    fn evaluate_later(&self, iteration: usize, net: &Net) -> Result<Option<Arc<Snapshot>>, Error> {
        match self {
            Batches::Inline(_) => Ok(None),
            Batches::Thread { jobs, .. } => {
                let snapshot = Arc::new(Snapshot::new(iteration, net.clone()));
                jobs.send(Job::Evaluate(Arc::clone(&snapshot)))
                    .map_err(|_| helper_stopped())?;
                Ok(Some(snapshot))
            }
        }
    }
}

fn helper_stopped() -> Error {
    Error::Failed("the helper thread stopped".into())
}

/// Reads one value and one column in every cache line of the images: 100 random images lie
/// in 54 MB, and listing them by column had to fetch them from memory one after another
/// (three times as long). Reading them all at once, a step ahead, lets the fetches overlap.
fn touch(images: &[Image<'_>]) {
    let mut sum = 0.0f32;
    for image in images {
        sum += image.values().iter().step_by(16).sum::<f32>();
        sum += image
            .indices()
            .iter()
            .step_by(32)
            .map(|&c| f32::from(c))
            .sum::<f32>();
    }
    std::hint::black_box(sum);
}

/// How many images of `range` of `set` the network classifies right. A NaN or infinite output
/// means that training diverged by `iteration`.
fn count_correct(
    net: &Ready,
    set: &Set<'_>,
    range: Range<usize>,
    iteration: usize,
    lr: f32,
) -> Result<usize, Error> {
    let start = range.start;
    net.correct(&set.images[range.clone()], &set.labels[range])
        .map_err(|e| match e.offset_rows(start) {
            BatchError::NonFiniteOutput { .. } => Error::Diverged {
                iteration,
                lr: f64::from(lr),
            },
            e => Error::Batch {
                context: "evaluation".into(),
                source: e,
            },
        })
}

/// An evaluation's figures: after which iteration, train and test accuracy, seconds spent.
type Evaluated = (usize, f64, f64, f64);

/// Train and test accuracy, the rows split over `threads` threads (the counts, hence the
/// figures, do not depend on how many).
fn evaluate(
    net: &Ready,
    sets: [&Set<'_>; 2],
    threads: usize,
    iteration: usize,
    lr: f32,
) -> Result<Evaluated, Error> {
    let t = Instant::now();
    let correct = |set: &Set<'_>| -> Result<usize, Error> {
        let n = set.images.len();
        let part = n.div_ceil(threads.max(1)).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .step_by(part)
                .map(|start| {
                    let range = start..n.min(start + part);
                    s.spawn(move || count_correct(net, set, range, iteration, lr))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("evaluation thread"))
                .sum()
        })
    };
    let [train, test] = sets;
    let train_acc = correct(train)? as f64 / train.images.len() as f64;
    let test_acc = correct(test)? as f64 / test.images.len() as f64;
    Ok((iteration, train_acc, test_acc, t.elapsed().as_secs_f64()))
}

fn train() -> Result<(), Error> {
    let args = Args::parse(
        std::env::args().skip(1),
        &[
            "--data",
            "--out",
            "--iters",
            "--lr",
            "--seed",
            "--rng",
            "--threads",
        ],
        &["--help", "-h"],
    )?;
    if args.has("--help") || args.has("-h") {
        println!("{HELP}");
        return Ok(());
    }
    args.no_positional()?;
    let data =
        PathBuf::from(args.get("--data", common::DEFAULT_DATA_DIR.to_owned(), "a directory")?);
    let out = PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?);
    let iters: i64 = args.get("--iters", 10_000, "a whole number of at least 1")?;
    let lr: f32 = args.get("--lr", 0.1, "a positive number")?;
    let seed: u64 = args.get("--seed", 0, "a whole number")?;
    let rng_name: String = args.get("--rng", "numpy".to_owned(), "numpy or pcg")?;
    if rng_name != "numpy" && rng_name != "pcg" {
        return Err(Error::Args(common::ArgError::Invalid {
            option: "--rng".into(),
            value: rng_name,
            expected: "numpy or pcg",
        }));
    }
    if rng_name == "numpy" && seed > u64::from(u32::MAX) {
        return Err(Error::Args(common::ArgError::Invalid {
            option: "--seed".into(),
            value: seed.to_string(),
            expected: "a seed below 2^32 (NumPy's limit) with --rng numpy",
        }));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads: usize = args.get("--threads", cores, "a whole number of at least 1")?;
    let invalid = |option: &str, value: String, expected| {
        Error::Args(common::ArgError::Invalid {
            option: option.into(),
            value,
            expected,
        })
    };
    if threads == 0 {
        return Err(invalid(
            "--threads",
            "0".into(),
            "a whole number of at least 1",
        ));
    }
    if iters < 1 {
        return Err(invalid(
            "--iters",
            iters.to_string(),
            "a whole number of at least 1",
        ));
    }
    let iters = iters as usize;
    if !(lr.is_finite() && lr > 0.0) {
        return Err(invalid("--lr", lr.to_string(), "a positive number"));
    }

    let t_load = Instant::now();
    let constnn::data::Mnist { train, test } = common::load_mnist(&data)?;
    // Kept sparse (about 150 of 784 pixels an image are not zero): a batch is then 100 views
    // into these, and every product skips the zeros without looking for them. The bytes are
    // dropped once converted.
    let (train_rows, test_rows) = (train.sparse(), test.sparse());
    let (train_y, test_y) = (train.labels().to_vec(), test.labels().to_vec());
    drop((train, test));
    let train = Set {
        images: train_rows.iter().collect(),
        labels: &train_y,
    };
    let test = Set {
        images: test_rows.iter().collect(),
        labels: &test_y,
    };
    println!(
        "loaded {} training and {} test images from {} in {:.2} s",
        train.images.len(),
        test.images.len(),
        data.display(),
        t_load.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&out).map_err(|source| constnn::data::DataError::Io {
        path: out.clone(),
        source,
        hint: None,
    })?;

    let mut source = match rng_name.as_str() {
        "numpy" => Source::Numpy(Box::new(NumpyRandom::seed(seed as u32))),
        _ => Source::Pcg(rand_pcg::Pcg64::seed_from_u64(seed)),
    };
    let mut net = Net::with_normal(0.01, || source.randn());
    let mut sgd = Sgd::new(lr);
    // The activations of a step, made once: nothing is allocated or zeroed per step.
    let mut workspace = Workspace::new();
    let iter_per_epoch = (train.images.len() / BATCH).max(1);
    let n_train =
        u32::try_from(train.images.len()).map_err(|_| Error::Failed("too many images".into()))?;

    println!(
        "training TwoLayerNet<784, 50, 10>: {iters} iterations, batch {BATCH}, lr {lr}, seed {seed} ({rng_name} stream)"
    );
    let bar = ProgressBar::new(iter_per_epoch.min(iters) as u64).with_style(
        ProgressStyle::with_template("epoch {prefix:>2} [{bar:30}] {pos}/{len} loss {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_prefix("0");
    // Evaluations see the weights after their iteration. With two threads or more the helper
    // thread evaluates a snapshot of the network while training goes on (see `helper`): the
    // figures are the same as inline, the wall time shorter.
    let background = threads >= 2;
    let (results_tx, results) = mpsc::channel::<Result<Evaluated, Error>>();
    let (mut log, mut pending) = (Vec::new(), VecDeque::new());
    let (mut loss_sum, mut loss_n) = (0.0f64, 0usize);
    let (t_start, mut eval_s) = (Instant::now(), 0.0f64);
    // An evaluation's result completes the oldest pending epoch: print it and log it.
    // An evaluation's figures complete their epoch; the epochs complete from the oldest are
    // printed and logged, in order.
    let mut complete = |result: Result<Evaluated, Error>,
                        pending: &mut VecDeque<Epoch>,
                        log: &mut Vec<Epoch>,
                        bar: &ProgressBar|
     -> Result<(), Error> {
        let (i, train_acc, test_acc, seconds) = result?;
        eval_s += seconds;
        let e = pending
            .iter_mut()
            .find(|e| e.iteration == i && !e.done)
            .ok_or_else(|| Error::Failed("an evaluation of no pending epoch".into()))?;
        (e.train_acc, e.test_acc, e.done, e.snapshot) = (train_acc, test_acc, true, None);
        while let Some(e) = pending.pop_front_if(|e| e.done) {
            bar.suspend(|| {
                println!(
                    "epoch {:>2} (iteration {:>5}): loss {:.4}  train acc {:.4}  test acc {:.4}",
                    e.epoch, e.iteration, e.mean_loss, e.train_acc, e.test_acc
                )
            });
            log.push(e);
        }
        Ok(())
    };
    std::thread::scope(|s| -> Result<(), Error> {
        let draw = Draw {
            source,
            set: &train,
            n: n_train,
        };
        let ahead = Ahead::new(draw, iters);
        let mut batches = if background {
            Batches::thread(s, ahead, results_tx, [&train, &test], lr)
        } else {
            Batches::inline(ahead)
        };
        for i in 0..iters {
            // The helper stops early only after sending an evaluation's error: report that.
            let batch = batches
                .next()
                .map_err(|e| results.try_iter().find_map(Result::err).unwrap_or(e))?;
            let (x, t) = (&batch.x, &batch.t);
            let loss = match net.train_step_with(&mut workspace, x, t, &mut sgd) {
                Ok(loss) if loss.is_finite() => loss,
                Ok(_) | Err(BatchError::NonFiniteOutput { .. }) => {
                    bar.abandon();
                    return Err(Error::Diverged {
                        iteration: i,
                        lr: f64::from(lr),
                    });
                }
                Err(e) => {
                    let context = format!("training batch {i}");
                    return Err(Error::Batch { context, source: e });
                }
            };
            batches.done(batch);
            loss_sum += f64::from(loss);
            loss_n += 1;
            bar.inc(1);
            bar.set_message(format!("{loss:.4}"));
            if i % iter_per_epoch == 0 {
                let epoch = i / iter_per_epoch;
                let mean_loss = loss_sum / loss_n as f64;
                // A whole epoch worse than twice the loss of guessing uniformly (ln 10) is not
                // learning: the updates overshoot (finite only because softmax subtracts the max).
                if epoch > 0 && mean_loss > DIVERGED_LOSS {
                    bar.abandon();
                    return Err(Error::Diverged {
                        iteration: i,
                        lr: f64::from(lr),
                    });
                }
                let seconds = t_start.elapsed().as_secs_f64();
                let snapshot = batches.evaluate_later(i, &net)?;
                let inline = snapshot.is_none();
                pending.push_back(Epoch {
                    epoch,
                    iteration: i,
                    mean_loss,
                    train_acc: 0.0,
                    test_acc: 0.0,
                    seconds,
                    done: false,
                    snapshot,
                });
                if inline {
                    let result = evaluate(&Ready::new(net.clone()), [&train, &test], 1, i, lr);
                    complete(result, &mut pending, &mut log, &bar)?;
                }
                (loss_sum, loss_n) = (0.0, 0);
                bar.reset();
                bar.set_length(iter_per_epoch.min(iters - i - 1) as u64);
                bar.set_prefix(format!("{}", epoch + 1));
            }
            while let Ok(result) = results.try_recv() {
                complete(result, &mut pending, &mut log, &bar)?;
            }
        }
        // The helper stops once it has no evaluation left. Rather than wait idle, the training
        // thread now takes chunks of those not done, oldest first, as the helper does: the two
        // end within a chunk of each other (taking whole snapshots, newest first, they ended
        // up to 30 ms apart).
        drop(batches);
        let left: Vec<_> = pending.iter().filter_map(|e| e.snapshot.clone()).collect();
        for snapshot in &left {
            while snapshot.open([&train, &test]) {
                if let Some(result) = snapshot.step([&train, &test], lr) {
                    complete(result, &mut pending, &mut log, &bar)?;
                }
            }
        }
        while !pending.is_empty() {
            let result = results.recv().map_err(|_| helper_stopped())?;
            complete(result, &mut pending, &mut log, &bar)?;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    // Timed as the references time themselves: the iterations and the evaluations of the
    // epochs; the final figures below come after.
    let total = t_start.elapsed().as_secs_f64();
    let train_s = if background { total } else { total - eval_s };
    println!(
        "time: {total:.2} s ({train_s:.2} s training, {:.3} ms per iteration; {eval_s:.2} s in {} \
         evaluations{})",
        1000.0 * train_s / iters as f64,
        log.len(),
        if background {
            ", overlapped with training on a helper thread"
        } else {
            ""
        }
    );
    let ready = Ready::new(net.clone());
    let (_, train_acc, test_acc, seconds) = evaluate(&ready, [&train, &test], threads, iters, lr)?;
    println!("final evaluation: {seconds:.3} s (after the time above, as in the references)");

    let csv_path = out.join("train_log.csv");
    common::write_atomic(&csv_path, |f| {
        use std::io::Write;
        writeln!(f, "epoch,iteration,mean_loss,train_acc,test_acc,elapsed_s")?;
        for e in &log {
            writeln!(
                f,
                "{},{},{:.6},{:.4},{:.4},{:.3}",
                e.epoch, e.iteration, e.mean_loss, e.train_acc, e.test_acc, e.seconds
            )?;
        }
        Ok(())
    })?;
    let model_path = out.join("model.cnnm");
    common::save_model(&net.layers, &model_path)?;
    let png_path = out.join("accuracy.png");
    let train_curve: Vec<f64> = log.iter().map(|e| e.train_acc).collect();
    let test_curve: Vec<f64> = log.iter().map(|e| e.test_acc).collect();
    common::plot::accuracy_png(&png_path, &train_curve, &test_curve)?;
    println!(
        "wrote {}, {}, {}",
        csv_path.display(),
        png_path.display(),
        model_path.display()
    );
    println!("final train_acc={train_acc:.4} test_acc={test_acc:.4}");
    Ok(())
}
