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

use common::overfit::{self, Experiment, Settings};
use constnn::MultiLayerNet;
use constnn::init::{NumpyRandom, WeightInit};
use constnn::matrix::Heap;
use constnn::optim::{Sgd, WeightDecay};

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
        let flags = ["--data", "--out", "--epochs", "--lambda", "--seed"];
        let Some(args) = common::args(&flags, HELP)? else {
            return Ok(());
        };
        let s = Settings::from_args(&args, 201)?;
        let lambda = common::positive(&args, "--lambda", 0.1_f64)?;
        // Both from the same weights and batches: the stream after the weights, twice.
        let mut np = NumpyRandom::seed(s.seed);
        let mut net = Net::default();
        net.init_weights(WeightInit::He, || np.randn());
        let experiment = Experiment {
            stem: "overfit_weight_decay",
            title: "weight decay on 300 MNIST images (the book's figures 6-20/6-21)",
            label: "decay",
        };
        let optimizers = (Sgd::new(0.01), WeightDecay::new(lambda, Sgd::new(0.01)));
        println!("weight decay λ = {}", common::short(lambda));
        overfit::side_by_side(&s, &experiment, [net.clone(), net], optimizers, np)
    })
}
