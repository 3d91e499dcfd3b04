//! The book's Dropout experiment (section 6.4.3, figure 6-23, `overfit_dropout.py`): a
//! seven-layer network 784-100×6-10 (ReLU, He initialisation, a Dropout after each hidden
//! ReLU) trained with SGD (lr 0.01, batch 100) on only 300 MNIST images for 301 epochs,
//! without dropout and with a ratio of 0.2, from the same weights and batches; train and test
//! accuracy per epoch.
//!
//! ```text
//! cargo run --release --example overfit_dropout -- [--out DIR] [--epochs N] [--ratio X] [--seed N]
//! ```
//!
//! Writes `overfit_dropout.csv` and `.png` (both runs' curves) and ends with
//! `final train_acc=… test_acc=… dropout_train_acc=… dropout_test_acc=…`. The book's result:
//! with Dropout the train and test accuracies stay closer.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Instant;

use common::overfit::{self, Settings, TRAIN};
use common::{Args, Error};
use constnn::init::{NumpyRandom, WeightInit};
use constnn::matrix::Heap;
use constnn::optim::Sgd;
use constnn::train::Samples;
use constnn::{Layer, MultiLayerNetExtend};

type Net = MultiLayerNetExtend![f32, Heap; 784, 100, 100, 100, 100, 100, 100, 10; dropout];

const HELP: &str = "\
overfit_dropout: the book's figure 6-23, overfitting 300 MNIST images with a 784-100x6-10
network (ReLU, He, SGD 0.01, batch 100), without Dropout and with a ratio of 0.2

USAGE: cargo run --release --example overfit_dropout -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write overfit_dropout.csv and .png [default: out]
  --epochs N    epochs of 3 iterations [default: 301]
  --ratio X     the dropout ratio, below 1 [default: 0.2]
  --seed N      NumPy seed (np.random.seed) for the weights, the batches and the masks
                [default: 0]
  -h, --help    this text";

fn main() -> ExitCode {
    common::run(|| {
        let args = Args::parse(
            std::env::args().skip(1),
            &["--data", "--out", "--epochs", "--ratio", "--seed"],
            &["--help", "-h"],
        )?;
        if args.has("--help") || args.has("-h") {
            println!("{HELP}");
            return Ok(());
        }
        args.no_positional()?;
        let s = Settings::from_args(&args, 301)?;
        let ratio = f64::from(common::positive(&args, "--ratio", 0.2)?);
        if ratio >= 1.0 {
            return Err(Error::Args(common::ArgError::Invalid {
                option: "--ratio".into(),
                value: ratio.to_string(),
                expected: "a ratio below 1",
            }));
        }
        run(&s, ratio)
    })
}

fn run(s: &Settings, ratio: f64) -> Result<(), Error> {
    let mnist = common::load_mnist(&s.data)?;
    let (train_rows, test_rows) = (mnist.train.sparse(), mnist.test.sparse());
    let train_x: Vec<_> = train_rows.iter().take(TRAIN).collect();
    let test_x: Vec<_> = test_rows.iter().collect();
    let samples = |x, t| Samples::new(x, t).map_err(|e| common::train_error(e, 0.01));
    let train = samples(&train_x, &mnist.train.labels()[..train_x.len()])?;
    let test = samples(&test_x, mnist.test.labels())?;
    common::create_dir(&s.out)?;
    println!(
        "training 784-100x6-10 on {} images for {} epochs, without Dropout and with a ratio of {ratio}",
        train.len(),
        s.epochs
    );
    // Both from the same weights and batches; a ratio of 0 keeps every value (and scales by 1).
    let mut np = NumpyRandom::seed(s.seed);
    let mut plain = Net::default();
    plain.init_weights(WeightInit::He, || np.randn());
    let mut dropped = plain.clone();
    plain.layers.set_dropout(0.0, u64::from(s.seed));
    dropped.layers.set_dropout(ratio, u64::from(s.seed));
    let started = Instant::now();
    let (a, b) = std::thread::scope(|scope| {
        let other = scope
            .spawn(|| overfit::curves(&mut dropped, Sgd::new(0.01), train, test, s, np.clone()));
        let a = overfit::curves(&mut plain, Sgd::new(0.01), train, test, s, np.clone());
        let b = other
            .join()
            .map_err(|_| Error::Failed("a thread panicked".into()))?;
        Ok::<_, Error>((a?, b?))
    })?;
    overfit::report(
        &s.out,
        "overfit_dropout",
        "Dropout on 300 MNIST images (the book's figure 6-23)",
        "dropout",
        [&a, &b],
        started,
    )
}
