//! The book's chapter-6 optimizer comparison (figure 6-9, `optimizer_compare_mnist.py`): four
//! networks 784-100-100-100-100-10 (ReLU, He initialisation) trained on the same MNIST batches
//! of 128 for 2 000 iterations with SGD (lr 0.01), Momentum (0.01, 0.9), AdaGrad (0.01) and
//! Adam (0.001, 0.9, 0.999); the loss of each batch after its update, per iteration.
//!
//! ```text
//! cargo run --release --example optimizer_compare -- [--out DIR] [--iters N] [--seed N] [--dtype f32|f64]
//! ```
//!
//! With NumPy's stream and the same seed, the networks start from the weights, and train on the
//! batches, of `../shared/bench/optimizer_compare_numpy.py` (the networks made in that order,
//! then `np.random.choice(60000, 128)` per iteration), so the two runs' losses can be compared
//! number by number. Writes `optimizer_compare.csv` (every iteration's losses) and
//! `optimizer_compare.png` (the book's figure: the losses smoothed as its `smooth_curve` does),
//! prints a `time:` line (training only) and ends with
//! `final mean_loss_last_100 SGD=… Momentum=… AdaGrad=… Adam=…`.

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use common::{Args, Error};
use constnn::init::{NumpyRandom, WeightInit};
use constnn::layers::{Affine, Relu};
use constnn::matrix::Heap;
use constnn::matrix::sparse::{SparseBatch, SparseRow, SparseRows};
use constnn::network::Workspace;
use constnn::optim::{AdaGrad, Adam, Momentum, Optimizer, Sgd};
use constnn::{Chain, Float, Network, chain};
use indicatif::{ProgressBar, ProgressStyle};

/// The book's batch size for this experiment.
const BATCH: usize = 128;

/// The optimisers, in the book's order.
const NAMES: [&str; 4] = ["SGD", "Momentum", "AdaGrad", "Adam"];

type Layers<T> = Chain![
    Affine<T, 784, 100, Heap>,
    Relu<T, 100>,
    Affine<T, 100, 100, Heap>,
    Relu<T, 100>,
    Affine<T, 100, 100, Heap>,
    Relu<T, 100>,
    Affine<T, 100, 100, Heap>,
    Relu<T, 100>,
    Affine<T, 100, 10, Heap>,
];
type Net<T> = Network<Layers<T>>;

const HELP: &str = "\
optimizer_compare: the book's figure 6-9, SGD vs Momentum vs AdaGrad vs Adam on MNIST
(784-100-100-100-100-10, ReLU, He initialisation, batch 128, the same batches for all four)

USAGE: cargo run --release --example optimizer_compare -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write optimizer_compare.csv and .png [default: out]
  --iters N     training iterations [default: 2000]
  --seed N      NumPy seed (np.random.seed) for the weights and the batches [default: 0]
  --dtype T     f32 or f64 [default: f32]
  --threads N   threads the four networks are trained on [default: cores]
  -h, --help    this text";

fn main() -> ExitCode {
    common::run(compare)
}

/// What a run is asked to do.
struct Settings {
    data: PathBuf,
    out: PathBuf,
    iters: usize,
    seed: u32,
    threads: usize,
}

fn compare() -> Result<(), Error> {
    let args = Args::parse(
        std::env::args().skip(1),
        &[
            "--data",
            "--out",
            "--iters",
            "--seed",
            "--dtype",
            "--threads",
        ],
        &["--help", "-h"],
    )?;
    if args.has("--help") || args.has("-h") {
        println!("{HELP}");
        return Ok(());
    }
    args.no_positional()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let settings = Settings {
        data: PathBuf::from(args.get(
            "--data",
            common::DEFAULT_DATA_DIR.to_owned(),
            "a directory",
        )?),
        out: PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?),
        iters: common::at_least_1(&args, "--iters", 2000)?,
        seed: args.get("--seed", 0, "a whole number below 2^32")?,
        threads: common::at_least_1(&args, "--threads", cores)?,
    };
    let dtype: String = args.get("--dtype", "f32".to_owned(), "f32 or f64")?;
    match dtype.as_str() {
        "f32" => run::<f32>(&settings),
        "f64" => run::<f64>(&settings),
        _ => Err(Error::Args(common::ArgError::Invalid {
            option: "--dtype".into(),
            value: dtype,
            expected: "f32 or f64",
        })),
    }
}

/// One of the four networks with its optimiser, to train.
type Job<'a> = Box<dyn FnOnce() -> Result<(usize, Vec<f64>, f64), Error> + Send + 'a>;

fn run<T: Float + Sync>(s: &Settings) -> Result<(), Error> {
    let t_load = Instant::now();
    let mnist = common::load_mnist(&s.data)?;
    // Kept sparse, in the precision of the run (f64: the f32 pixels widened, as NumPy's
    // `astype(float64)` of the book's float32 data).
    let sparse = |split: &common::Split| {
        let mut rows = SparseRows::<T, 784>::new();
        for i in 0..split.len() {
            rows.push_dense(&split.image(i).map(|p| T::from_f64(f64::from(p))));
        }
        rows
    };
    let (train_rows, test_rows) = (sparse(&mnist.train), sparse(&mnist.test));
    let train_x: Vec<SparseRow<'_, T, 784>> = train_rows.iter().collect();
    let test_x: Vec<SparseRow<'_, T, 784>> = test_rows.iter().collect();
    let (train_t, test_t) = (mnist.train.labels(), mnist.test.labels());
    let n = u32::try_from(train_x.len()).map_err(|_| Error::Failed("too many images".into()))?;
    println!(
        "loaded {} training and {} test images in {:.2} s",
        train_x.len(),
        test_x.len(),
        t_load.elapsed().as_secs_f64()
    );
    common::create_dir(&s.out)?;

    // The book's order: the four networks, each layer by layer, then every batch.
    let mut np = NumpyRandom::seed(s.seed);
    let mut nets: Vec<Net<T>> = (0..4)
        .map(|_| {
            let mut net = Net::<T>::from_layers(chain![
                Affine::zeros(),
                Relu::new(),
                Affine::zeros(),
                Relu::new(),
                Affine::zeros(),
                Relu::new(),
                Affine::zeros(),
                Relu::new(),
                Affine::zeros(),
            ]);
            net.init_weights(WeightInit::He, || np.randn());
            net
        })
        .collect();
    let batches: Vec<[u32; BATCH]> = (0..s.iters)
        .map(|_| std::array::from_fn(|_| np.choice(n)))
        .collect();

    println!(
        "training 4 networks 784-100-100-100-100-10 ({}): {} iterations, batch {BATCH}, seed {}, {} threads",
        T::NAME,
        s.iters,
        s.seed,
        s.threads.min(4)
    );
    let bar = ProgressBar::new(4 * s.iters as u64).with_style(
        ProgressStyle::with_template("[{bar:40}] {pos}/{len} steps, {eta} left")
            .expect("static template")
            .progress_chars("=> "),
    );
    let t_train = Instant::now();
    let data = Data {
        train: &train_x,
        train_t,
        test: &test_x,
        test_t,
        batches: &batches,
        bar: &bar,
    };
    let mut nets = nets.drain(..);
    let mut net = || nets.next().expect("four networks");
    let jobs: Vec<Job<'_>> = vec![
        job(0, net(), Sgd::new(T::from_f64(0.01)), data),
        job(
            1,
            net(),
            Momentum::new(T::from_f64(0.01), T::from_f64(0.9)),
            data,
        ),
        job(2, net(), AdaGrad::new(T::from_f64(0.01)), data),
        job(3, net(), Adam::new(0.001, 0.9, 0.999), data),
    ];
    let results = run_jobs(jobs, s.threads)?;
    let seconds = t_train.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let mut losses: [Vec<f64>; 4] = Default::default();
    let mut accuracy = [0.0; 4];
    for (k, l, _) in &results {
        losses[*k].clone_from(l);
    }
    for (k, _, acc) in results {
        accuracy[k] = acc;
    }
    for i in (0..s.iters).step_by(100) {
        let line: Vec<String> = (0..4)
            .map(|k| format!("{} {:.4}", NAMES[k], losses[k][i]))
            .collect();
        println!("iteration {i}: {}", line.join(", "));
    }
    println!(
        "time: {seconds:.2} s ({} iterations of 4 networks on {} threads; loading excluded)",
        s.iters,
        s.threads.min(4)
    );
    let figures = |v: [f64; 4]| -> String {
        (0..4)
            .map(|k| format!("{}={:.4}", NAMES[k], v[k]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("test accuracy: {}", figures(accuracy));
    let (csv, png) = write_outputs(&s.out, &losses)?;
    println!("wrote {}, {}", csv.display(), png.display());
    let last = losses.each_ref().map(|l| {
        let tail = &l[l.len().saturating_sub(100)..];
        tail.iter().sum::<f64>() / tail.len() as f64
    });
    println!("final mean_loss_last_100 {}", figures(last));
    Ok(())
}

/// What every job reads: the data sets, every batch's indices, the progress bar.
#[derive(Clone, Copy)]
struct Data<'a, T> {
    train: &'a [SparseRow<'a, T, 784>],
    train_t: &'a [u8],
    test: &'a [SparseRow<'a, T, 784>],
    test_t: &'a [u8],
    batches: &'a [[u32; BATCH]],
    bar: &'a ProgressBar,
}

/// Network `k` trained with `opt` on every batch, the loss of each batch recorded after its
/// update (as the book records it), then its test accuracy.
fn job<'a, T: Float + Sync, O: Optimizer<Layers<T>> + Send + 'a>(
    k: usize,
    mut net: Net<T>,
    mut opt: O,
    d: Data<'a, T>,
) -> Job<'a> {
    Box::new(move || {
        let mut batch = Box::new(SparseBatch::<T, BATCH, 784>::new());
        let mut workspace = Workspace::new();
        let mut losses = Vec::with_capacity(d.batches.len());
        for (i, picks) in d.batches.iter().enumerate() {
            batch.set(picks.map(|p| d.train[p as usize]));
            let t = picks.map(|p| d.train_t[p as usize]);
            let failed = |source| Error::Batch {
                context: format!("{}, iteration {i}", NAMES[k]),
                source,
            };
            net.train_step_with(&mut workspace, &*batch, &t, &mut opt)
                .map_err(failed)?;
            losses.push(net.loss(&*batch, &t).map_err(failed)?.to_f64());
            d.bar.inc(1);
        }
        let accuracy = net
            .accuracy(d.test, d.test_t)
            .map_err(|source| Error::Batch {
                context: format!("{}: evaluation", NAMES[k]),
                source,
            })?;
        Ok((k, losses, accuracy))
    })
}

/// Runs the jobs on `threads` threads, each taking the next job left.
fn run_jobs(jobs: Vec<Job<'_>>, threads: usize) -> Result<Vec<(usize, Vec<f64>, f64)>, Error> {
    let queue = Mutex::new(jobs);
    let next = || queue.lock().ok().and_then(|mut q| q.pop());
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.clamp(1, 4))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(job) = next() {
                        done.push(job()?);
                    }
                    Ok::<_, Error>(done)
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            let done = w
                .join()
                .map_err(|_| Error::Failed("a training thread panicked".into()))??;
            all.extend(done);
        }
        Ok(all)
    })
}

/// Writes every iteration's losses as CSV and the book's figure as PNG, in `out`.
fn write_outputs(out: &Path, losses: &[Vec<f64>; 4]) -> Result<(PathBuf, PathBuf), Error> {
    let mut csv = format!("iteration,{}\n", NAMES.join(","));
    for (i, sgd) in losses[0].iter().enumerate() {
        let _ = writeln!(
            csv,
            "{i},{sgd},{},{},{}",
            losses[1][i], losses[2][i], losses[3][i]
        );
    }
    let csv_path = out.join("optimizer_compare.csv");
    common::write_atomic(&csv_path, |f| std::io::Write::write_all(f, csv.as_bytes()))?;
    let png_path = out.join("optimizer_compare.png");
    let series = (0..4)
        .map(|k| {
            let smooth = common::plot::smooth_curve(&losses[k]);
            let points = smooth.iter().enumerate().map(|(i, l)| (i as f64, *l));
            (NAMES[k].to_owned(), points.collect())
        })
        .collect();
    common::plot::Chart {
        title: "optimizers on MNIST (the book's figure 6-9)",
        x_desc: "iterations",
        y_desc: "loss",
        x: 0.0..(losses[0].len().max(2) - 1) as f64,
        y: 0.0..1.0,
        series,
        legend: plotters::chart::SeriesLabelPosition::UpperRight,
    }
    .png(&png_path)?;
    Ok((csv_path, png_path))
}
