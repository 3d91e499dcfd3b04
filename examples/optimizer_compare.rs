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

use common::Error;
use common::compare::{self, Contender, Figure, Settings};
use constnn::Float;
use constnn::init::WeightInit;
use constnn::optim::{AdaGrad, Adam, Momentum, Sgd};

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
        let flags = [
            "--data",
            "--out",
            "--iters",
            "--seed",
            "--dtype",
            "--threads",
        ];
        let Some(args) = common::args(&flags, HELP)? else {
            return Ok(());
        };
        let settings = Settings::from_args(&args, 2000)?;
        match common::dtype(&args)? {
            "f32" => run::<f32>(&settings),
            _ => run::<f64>(&settings),
        }
    })
}

fn run<T: Float + Sync>(s: &Settings) -> Result<(), Error> {
    let c = T::from_f64;
    let contender = |name, optimizer| Contender {
        name,
        init: WeightInit::He,
        optimizer,
    };
    let contenders = vec![
        contender("SGD", Box::new(Sgd::new(c(0.01)))),
        contender("Momentum", Box::new(Momentum::new(c(0.01), c(0.9)))),
        contender("AdaGrad", Box::new(AdaGrad::new(c(0.01)))),
        contender("Adam", Box::new(Adam::new(0.001, 0.9, 0.999))),
    ];
    let figure = Figure {
        stem: "optimizer_compare",
        title: "optimizers on MNIST (the book's figure 6-9)",
        y: 0.0..1.0,
    };
    compare::side_by_side(s, contenders, &figure)
}
