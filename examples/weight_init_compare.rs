//! The book's chapter-6 weight initialisation comparison (figure 6-15,
//! `weight_init_compare.py`): three networks 784-100-100-100-100-10 (ReLU) whose weights are
//! drawn with σ = 0.01, Xavier's `√(1/n)` and He's `√(2/n)`, trained with SGD (lr 0.01) on the
//! same MNIST batches of 128 for 2 000 iterations; the loss of each batch after its update.
//!
//! ```text
//! cargo run --release --example weight_init_compare -- [--out DIR] [--iters N] [--seed N] [--dtype f32|f64]
//! ```
//!
//! Writes `weight_init_compare.csv` and `weight_init_compare.png` (the book's figure), prints
//! a `time:` line and ends with `final mean_loss_last_100 std=0.01=… Xavier=… He=…`. The
//! book's result: σ = 0.01 does not learn (its activations vanish), He learns fastest.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use common::Error;
use common::compare::{self, Contender, Figure, Settings};
use constnn::Float;
use constnn::init::WeightInit;
use constnn::optim::Sgd;

const HELP: &str = "\
weight_init_compare: the book's figure 6-15, weights drawn with std 0.01 vs Xavier vs He
(784-100-100-100-100-10, ReLU, SGD 0.01, batch 128, the same batches for all three)

USAGE: cargo run --release --example weight_init_compare -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write weight_init_compare.csv and .png [default: out]
  --iters N     training iterations [default: 2000]
  --seed N      NumPy seed (np.random.seed) for the weights and the batches [default: 0]
  --dtype T     f32 or f64 [default: f32]
  --threads N   threads the three networks are trained on [default: cores]
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
    let contenders = [
        ("std=0.01", WeightInit::Std(0.01)),
        ("Xavier", WeightInit::Xavier),
        ("He", WeightInit::He),
    ]
    .into_iter()
    .map(|(name, init)| Contender {
        name,
        init,
        optimizer: Box::new(Sgd::new(T::from_f64(0.01))),
    })
    .collect();
    let figure = Figure {
        stem: "weight_init_compare",
        title: "weight initialisation on MNIST (the book's figure 6-15)",
        y: 0.0..2.5,
    };
    compare::side_by_side(s, contenders, &figure)
}
