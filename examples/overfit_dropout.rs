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

use common::overfit::{self, Experiment, Settings};
use constnn::init::{NumpyRandom, WeightInit};
use constnn::matrix::Heap;
use constnn::optim::Sgd;
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
        let flags = ["--data", "--out", "--epochs", "--ratio", "--seed"];
        let Some(args) = common::args(&flags, HELP)? else {
            return Ok(());
        };
        let s = Settings::from_args(&args, 301)?;
        let ratio = common::positive(&args, "--ratio", 0.2_f64)?;
        if ratio >= 1.0 {
            return Err(common::Error::Args(common::ArgError::Invalid {
                option: "--ratio".into(),
                value: common::short(ratio),
                expected: "a ratio below 1",
            }));
        }
        // Both from the same weights and batches; a ratio of 0 keeps every value (and scales
        // by 1).
        let mut np = NumpyRandom::seed(s.seed);
        let mut plain = Net::default();
        plain.init_weights(WeightInit::He, || np.randn());
        let mut dropped = plain.clone();
        plain.layers.set_dropout(0.0, u64::from(s.seed));
        dropped.layers.set_dropout(ratio, u64::from(s.seed));
        let experiment = Experiment {
            stem: "overfit_dropout",
            title: "Dropout on 300 MNIST images (the book's figure 6-23)",
            label: "dropout",
        };
        println!("dropout ratio {}", common::short(ratio));
        let optimizers = (Sgd::new(0.01), Sgd::new(0.01));
        overfit::side_by_side(&s, &experiment, [plain, dropped], optimizers, np)
    })
}
