//! The book's weight decay experiment (section 6.4.2, figures 6-20 and 6-21,
//! `overfit_weight_decay.py`): a seven-layer network 784-100×6-10 (ReLU, He initialisation)
//! trained with SGD (lr 0.01, batch 100) on only 300 MNIST images for 201 epochs, without and
//! with weight decay λ = 0.1, from the same weights and batches; train and test accuracy
//! per epoch.
//!
//! ```text
//! cargo run --release --example overfit_weight_decay -- [--out DIR] [--epochs N] [--lambda X] [--seed N]
//! ```
//!
//! Writes `overfit_weight_decay.csv` and `.png` (both runs' curves) and ends with
//! `final train_acc=… test_acc=… decay_train_acc=… decay_test_acc=…`. The book's result:
//! without decay the network learns its 300 images perfectly and the test accuracy stays far
//! below; with it, the gap narrows.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Instant;

use common::overfit::{self, Settings, TRAIN};
use common::{Args, Error};
use constnn::MultiLayerNet;
use constnn::init::{NumpyRandom, WeightInit};
use constnn::matrix::Heap;
use constnn::optim::{Sgd, WeightDecay};
use constnn::train::Samples;

type Net = MultiLayerNet![f32, Heap; 784, 100, 100, 100, 100, 100, 100, 10];

const HELP: &str = "\
overfit_weight_decay: the book's figures 6-20/6-21, overfitting 300 MNIST images with a
784-100x6-10 network (ReLU, He, SGD 0.01, batch 100), without and with weight decay

USAGE: cargo run --release --example overfit_weight_decay -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write overfit_weight_decay.csv and .png [default: out]
  --epochs N    epochs of 3 iterations [default: 201]
  --lambda X    the weight decay λ [default: 0.1]
  --seed N      NumPy seed (np.random.seed) for the weights and the batches [default: 0]
  -h, --help    this text";

fn main() -> ExitCode {
    common::run(|| {
        let args = Args::parse(
            std::env::args().skip(1),
            &["--data", "--out", "--epochs", "--lambda", "--seed"],
            &["--help", "-h"],
        )?;
        if args.has("--help") || args.has("-h") {
            println!("{HELP}");
            return Ok(());
        }
        args.no_positional()?;
        let s = Settings::from_args(&args, 201)?;
        let lambda = f64::from(common::positive(&args, "--lambda", 0.1)?);
        run(&s, lambda)
    })
}

fn run(s: &Settings, lambda: f64) -> Result<(), Error> {
    let mnist = common::load_mnist(&s.data)?;
    let (train_rows, test_rows) = (mnist.train.sparse(), mnist.test.sparse());
    let train_x: Vec<_> = train_rows.iter().take(TRAIN).collect();
    let test_x: Vec<_> = test_rows.iter().collect();
    let samples = |x, t| Samples::new(x, t).map_err(|e| common::train_error(e, 0.01));
    let train = samples(&train_x, &mnist.train.labels()[..train_x.len()])?;
    let test = samples(&test_x, mnist.test.labels())?;
    common::create_dir(&s.out)?;
    println!(
        "training 784-100x6-10 on {} images for {} epochs, without and with weight decay λ = {lambda}",
        train.len(),
        s.epochs
    );
    // Both from the same weights and batches: the stream after the weights, twice.
    let mut np = NumpyRandom::seed(s.seed);
    let mut plain = Net::default();
    plain.init_weights(WeightInit::He, || np.randn());
    let mut decayed = plain.clone();
    let started = Instant::now();
    let (a, b) = std::thread::scope(|scope| {
        let other = scope.spawn(|| {
            let opt = WeightDecay::new(lambda, Sgd::new(0.01));
            overfit::curves(&mut decayed, opt, train, test, s, np.clone())
        });
        let a = overfit::curves(&mut plain, Sgd::new(0.01), train, test, s, np.clone());
        let b = other
            .join()
            .map_err(|_| Error::Failed("a thread panicked".into()))?;
        Ok::<_, Error>((a?, b?))
    })?;
    overfit::report(
        &s.out,
        "overfit_weight_decay",
        "weight decay on 300 MNIST images (the book's figures 6-20/6-21)",
        "decay",
        [&a, &b],
        started,
    )
}
