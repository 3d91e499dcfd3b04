//! The book's batch normalisation experiment (section 6.3.2, figures 6-18 and 6-19,
//! `batch_norm_test.py`): for each of 16 weight scales σ from 1 down to 10⁻⁴, a network
//! 784-100×5-10 (ReLU, weights σ·N(0, 1)) trained with SGD (lr 0.01, batch 100) on 1 000 MNIST
//! images for 20 epochs, with and without a BatchNorm after each hidden Affine, from the same
//! weights and batches; the training accuracy per epoch.
//!
//! ```text
//! cargo run --release --example batch_norm_test -- [--out DIR] [--epochs N] [--seed N]
//! ```
//!
//! Writes `batch_norm_test.csv` and `batch_norm_test.png` (the book's 4×4 grid) and ends with
//! `final batch_norm_ahead=N/16 …`: at how many scales the network with BatchNorm ends with the
//! higher training accuracy (the book's result: at most of them, and it learns at scales where
//! the plain network does not learn at all).

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use common::Error;
use common::plot::{Chart, grid_png};
use constnn::init::{NumpyRandom, WeightInit};
use constnn::matrix::Heap;
use constnn::optim::Sgd;
use constnn::train::{Progress, Samples, TrainError, Trainer};
use constnn::{MultiLayerNet, MultiLayerNetExtend, Network, Train};

/// The book's settings: 1 000 training images, batch 100, so 10 iterations an epoch.
const TRAIN: usize = 1000;
const BATCH: usize = 100;
const SCALES: usize = 16;

type Plain = MultiLayerNet![f32, Heap; 784, 100, 100, 100, 100, 100, 10];
type Normalised = MultiLayerNetExtend![f32, Heap; 784, 100, 100, 100, 100, 100, 10; batch_norm];

const HELP: &str = "\
batch_norm_test: the book's figures 6-18/6-19, 784-100x5-10 with and without BatchNorm over 16
weight scales from 1 to 1e-4 (SGD 0.01, batch 100, 1000 MNIST images)

USAGE: cargo run --release --example batch_norm_test -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write batch_norm_test.csv and .png [default: out]
  --epochs N    epochs of 10 iterations [default: 20]
  --seed N      NumPy seed (np.random.seed) for the weights and the batches [default: 0]
  -h, --help    this text";

fn main() -> ExitCode {
    common::run(|| {
        let Some(args) = common::args(&["--data", "--out", "--epochs", "--seed"], HELP)? else {
            return Ok(());
        };
        let data = args.get("--data", common::DEFAULT_DATA_DIR.to_owned(), "a directory")?;
        let out = std::path::PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?);
        let epochs = common::at_least_1(&args, "--epochs", 20)?;
        let seed: u32 = args.get("--seed", 0, "a whole number below 2^32")?;
        let mnist = common::load_mnist(std::path::Path::new(&data))?;
        let rows = mnist.train.sparse();
        let x: Vec<_> = rows.iter().take(TRAIN).collect();
        let set = Samples::new(&x, &mnist.train.labels()[..x.len()])
            .map_err(|e| common::train_error(e, 0.01))?;
        common::create_dir(&out)?;
        println!(
            "training 784-100x5-10 with and without BatchNorm on {} images, {epochs} epochs, {SCALES} weight scales",
            set.len()
        );
        let started = Instant::now();
        let mut runs = Vec::new();
        for k in 0..SCALES {
            // np.logspace(0, -4, num=16)
            let scale = 10f64.powf(-4.0 * k as f64 / (SCALES - 1) as f64);
            // The book's order: the network with BatchNorm drawn first, then the plain one,
            // then the batches both train on.
            let mut np = NumpyRandom::seed(seed);
            let mut normalised = Normalised::default();
            normalised.init_weights(WeightInit::Std(scale), || np.randn());
            let mut plain = Plain::default();
            plain.init_weights(WeightInit::Std(scale), || np.randn());
            let (with, without) = std::thread::scope(|s| {
                let other = s.spawn(|| curve(&mut plain, set, epochs, np.clone()));
                let with = curve(&mut normalised, set, epochs, np.clone());
                let without = other
                    .join()
                    .map_err(|_| Error::Failed("a training thread panicked".into()))?;
                Ok::<_, Error>((with?, without?))
            })?;
            let shown = |c: &Curve| {
                if c.overflowed {
                    format!("{:.4} (its weights overflowed)", c.last())
                } else {
                    format!("{:.4}", c.last())
                }
            };
            println!(
                "σ = {scale:.6}: training accuracy {} with BatchNorm, {} without",
                shown(&with),
                shown(&without)
            );
            runs.push((scale, with, without));
        }
        println!(
            "time: {:.2} s ({SCALES} scales × 2 networks; loading excluded)",
            started.elapsed().as_secs_f64()
        );
        write_outputs(&out, &runs)?;
        let ahead = runs.iter().filter(|(_, w, o)| w.last() > o.last()).count();
        let learnt = |pick: fn(&(f64, Curve, Curve)) -> &Curve| {
            runs.iter().filter(|r| pick(r).last() > 0.5).count()
        };
        println!(
            "final batch_norm_ahead={ahead}/{SCALES} learnt_with={}/{SCALES} learnt_without={}/{SCALES}",
            learnt(|r| &r.1),
            learnt(|r| &r.2)
        );
        Ok(())
    })
}

/// A network's training accuracy after each epoch, and whether its weights overflowed (then
/// the curve stops there: the book's NumPy run goes on with NaN weights, at chance).
struct Curve {
    accuracy: Vec<f64>,
    overflowed: bool,
}

impl Curve {
    fn last(&self) -> f64 {
        if self.overflowed {
            return 0.0;
        }
        self.accuracy.last().copied().unwrap_or(0.0)
    }
}

/// `net` trained on `set` for `epochs` epochs, its training accuracy after each epoch's first
/// iteration (as the book evaluates), on one thread. A huge loss does not stop it (a network
/// that fails to learn is the experiment's point); weights that overflow end its curve.
fn curve<L>(
    net: &mut Network<L>,
    set: Samples<'_, constnn::matrix::sparse::SparseRow<'_, f32, 784>>,
    epochs: usize,
    stream: NumpyRandom,
) -> Result<Curve, Error>
where
    L: Train<Input = [f32; 784], Output = [f32; 10], Scalar = f32> + Clone + Send + Sync,
{
    let every = TRAIN / BATCH;
    let mut accuracy = Vec::new();
    let run = Trainer::<_, BATCH>::new(Sgd::new(0.01))
        .iterations((epochs - 1) * every + 1)
        .evaluate_every(every)
        .divergence_loss(f64::INFINITY)
        .threads(1)
        .run(net, set, set, stream, |p| {
            if let Progress::Evaluated(e) = p {
                accuracy.push(e.train_acc);
            }
        });
    match run {
        Ok(_) => Ok(Curve {
            accuracy,
            overflowed: false,
        }),
        Err(TrainError::Diverged { .. }) => Ok(Curve {
            accuracy,
            overflowed: true,
        }),
        Err(e) => Err(common::train_error(e, 0.01)),
    }
}

/// The CSV (a line per scale and epoch) and the book's 4×4 grid of curves.
fn write_outputs(out: &std::path::Path, runs: &[(f64, Curve, Curve)]) -> Result<(), Error> {
    // An epoch past a curve's end (its weights overflowed) is left empty.
    let mut csv = String::from("scale,epoch,batch_norm_train_acc,train_acc\n");
    for (scale, with, without) in runs {
        let epochs = with.accuracy.len().max(without.accuracy.len());
        for e in 0..epochs {
            let at = |c: &Curve| c.accuracy.get(e).map_or(String::new(), |a| a.to_string());
            let _ = writeln!(csv, "{scale},{e},{},{}", at(with), at(without));
        }
    }
    let csv_path = out.join("batch_norm_test.csv");
    common::write_atomic(&csv_path, |f| std::io::Write::write_all(f, csv.as_bytes()))?;
    let charts: Vec<Chart> = runs
        .iter()
        .map(|(scale, with, without)| {
            let curve = |c: &Curve| {
                let points = c.accuracy.iter().enumerate();
                points.map(|(e, a)| (e as f64, *a)).collect()
            };
            let epochs = with.accuracy.len().max(without.accuracy.len());
            Chart {
                title: format!("W: {scale:.5}"),
                x_desc: "epochs",
                y_desc: "accuracy",
                x: 0.0..(epochs.max(2) - 1) as f64,
                y: 0.0..1.0,
                series: vec![
                    ("Batch Normalization".into(), curve(with)),
                    ("Normal (without BatchNorm)".into(), curve(without)),
                ],
                legend: plotters::chart::SeriesLabelPosition::LowerRight,
            }
        })
        .collect();
    let png_path = out.join("batch_norm_test.png");
    grid_png(&png_path, &charts, 4, (1280, 960))?;
    println!("wrote {}, {}", csv_path.display(), png_path.display());
    Ok(())
}
