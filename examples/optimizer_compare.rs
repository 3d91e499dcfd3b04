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
//! number by number (`bench/optimizer_compare_check.py`). Writes `optimizer_compare.csv` (every
//! iteration's losses) and `optimizer_compare.png` (the book's figure: the losses smoothed as
//! its `smooth_curve` does), prints a `time:` line (training only) and ends with
//! `final mean_loss_last_100 SGD=… Momentum=… AdaGrad=… Adam=…`.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Instant;

use common::compare::{self, Data, Figure, Job, Net, Settings, SparseMnist};
use common::{Args, Error};
use constnn::Float;
use constnn::init::{NumpyRandom, WeightInit};
use constnn::optim::{AdaGrad, Adam, Momentum, Sgd};

/// The optimisers, in the book's order.
const NAMES: [&str; 4] = ["SGD", "Momentum", "AdaGrad", "Adam"];

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
    common::run(|| {
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
        let settings = Settings::from_args(&args, 2000)?;
        match common::dtype(&args)? {
            "f32" => run::<f32>(&settings),
            _ => run::<f64>(&settings),
        }
    })
}

fn run<T: Float + Sync>(s: &Settings) -> Result<(), Error> {
    let mnist = SparseMnist::<T>::load(&s.data)?;
    let (train, test): (Vec<_>, Vec<_>) =
        (mnist.train.iter().collect(), mnist.test.iter().collect());
    common::create_dir(&s.out)?;
    // The book's order: the four networks, each layer by layer, then every batch.
    let mut np = NumpyRandom::seed(s.seed);
    let mut nets = (0..4).map(|_| {
        let mut net = Net::<T>::default();
        net.init_weights(WeightInit::He, || np.randn());
        net
    });
    let [sgd, momentum, adagrad, adam] = std::array::from_fn(|_| nets.next().expect("four"));
    let batches = compare::batches(&mut np, s.iters, train.len())?;
    println!(
        "training 4 networks 784-100-100-100-100-10 ({}): {} iterations, batch {}, seed {}",
        T::NAME,
        s.iters,
        compare::BATCH,
        s.seed
    );
    let bar = compare::bar(4 * s.iters);
    let data = Data {
        train: &train,
        train_t: &mnist.train_t,
        test: &test,
        test_t: &mnist.test_t,
        batches: &batches,
        bar: &bar,
    };
    let c = T::from_f64;
    let t_train = Instant::now();
    let jobs: Vec<Job<'_>> = vec![
        compare::job(0, NAMES[0], sgd, Sgd::new(c(0.01)), data),
        compare::job(1, NAMES[1], momentum, Momentum::new(c(0.01), c(0.9)), data),
        compare::job(2, NAMES[2], adagrad, AdaGrad::new(c(0.01)), data),
        compare::job(3, NAMES[3], adam, Adam::new(0.001, 0.9, 0.999), data),
    ];
    let results = compare::run_jobs(jobs, s.threads)?;
    let seconds = t_train.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let figure = Figure {
        stem: "optimizer_compare",
        title: "optimizers on MNIST (the book's figure 6-9)",
        y: 0.0..1.0,
    };
    compare::report(&s.out, &figure, &NAMES, &results, seconds, s.threads)
}
