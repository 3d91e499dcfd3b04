//! The book's hyperparameter search (section 6.5, figure 6-24,
//! `hyperparameter_optimization.py`): 100 trials of a network 784-100×6-10 (ReLU, He
//! initialisation) trained for 50 epochs with SGD and weight decay on 400 of 500 MNIST images,
//! the other 100 held out for validation; the learning rate drawn as `10^U(−6, −2)` and the
//! weight decay λ as `10^U(−8, −4)`; the best trials by final validation accuracy.
//!
//! ```text
//! cargo run --release --example hyperparameter_search -- [--out DIR] [--trials N] [--epochs N] [--seed N]
//! ```
//!
//! Prints every trial and the best 20, writes `hyperparameter_search.csv` (every trial) and
//! `hyperparameter_search.png` (the best 20 trials' validation and training accuracy per
//! epoch, the book's 5×4 grid), and ends with `final best val_acc=… lr=… weight_decay=…`.
//! The book's result: the good learning rates lie around 10⁻³ to 10⁻², the good weight
//! decays around 10⁻⁸ to 10⁻⁶.

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use common::Error;
use common::plot::{Chart, grid_png};
use constnn::MultiLayerNet;
use constnn::init::{NumpyRandom, WeightInit};
use constnn::matrix::Heap;
use constnn::matrix::sparse::SparseRow;
use constnn::optim::{Sgd, WeightDecay};
use constnn::train::{Report, Samples, TrainError, Trainer};

type Net = MultiLayerNet![f32, Heap; 784, 100, 100, 100, 100, 100, 100, 10];

/// The book's sizes: 500 images, a fifth of them for validation, batch 100.
const IMAGES: usize = 500;
const VALIDATION: usize = 100;
const BATCH: usize = 100;
/// Trials shown in the figure and listed at the end.
const BEST: usize = 20;

const HELP: &str = "\
hyperparameter_search: the book's figure 6-24, a random search of the learning rate
(10^U(-6,-2)) and the weight decay (10^U(-8,-4)) for 784-100x6-10 on 500 MNIST images, 100 of
them held out for validation

USAGE: cargo run --release --example hyperparameter_search -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write hyperparameter_search.csv and .png [default: out]
  --trials N    trials [default: 100]
  --epochs N    epochs of 4 iterations per trial [default: 50]
  --seed N      NumPy seed for the split, the draws, the weights and batches [default: 0]
  --threads N   trials run at once [default: cores]
  -h, --help    this text";

/// One trial: its hyperparameters and its run.
struct Trial {
    lr: f64,
    weight_decay: f64,
    report: Report,
}

fn main() -> ExitCode {
    common::run(|| {
        let flags = [
            "--data",
            "--out",
            "--trials",
            "--epochs",
            "--seed",
            "--threads",
        ];
        let Some(args) = common::args(&flags, HELP)? else {
            return Ok(());
        };
        let data = args.get("--data", common::DEFAULT_DATA_DIR.to_owned(), "a directory")?;
        let out = std::path::PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?);
        let trials = common::at_least_1(&args, "--trials", 100)?;
        let epochs = common::at_least_1(&args, "--epochs", 50)?;
        let seed: u32 = args.get("--seed", 0, "a whole number below 2^32")?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = common::at_least_1(&args, "--threads", cores)?;

        let mnist = common::load_mnist(std::path::Path::new(&data))?;
        let rows = mnist.train.sparse();
        let n = IMAGES.min(rows.len());
        // The book's shuffle_dataset, then the first fifth for validation (a Fisher–Yates
        // shuffle from NumPy's stream; not np.random.permutation's own order).
        let mut np = NumpyRandom::seed(seed);
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, np.choice(i as u32 + 1) as usize);
        }
        let x: Vec<SparseRow<'_, f32, 784>> = order.iter().map(|&k| rows.row(k)).collect();
        let t: Vec<u8> = order.iter().map(|&k| mnist.train.labels()[k]).collect();
        let held = (n * VALIDATION / IMAGES).max(1).min(n - 1);
        let samples = |x, t| Samples::new(x, t).map_err(|e| common::train_error(e, 0.01));
        let validation = samples(&x[..held], &t[..held])?;
        let train = samples(&x[held..], &t[held..])?;
        common::create_dir(&out)?;
        // Every trial's hyperparameters, drawn first, then its weights and batches in turn.
        let draws: Vec<(f64, f64)> = (0..trials)
            .map(|_| {
                let weight_decay = 10f64.powf(-8.0 + 4.0 * np.random());
                let lr = 10f64.powf(-6.0 + 4.0 * np.random());
                (lr, weight_decay)
            })
            .collect();
        println!(
            "{trials} trials: 784-100x6-10 on {} images ({} held out), {epochs} epochs each, {} at a time",
            train.len(),
            validation.len(),
            threads.min(trials)
        );
        let every = (train.len() / BATCH).max(1);
        let started = Instant::now();
        let queue = Mutex::new((0..trials).rev().collect::<Vec<_>>());
        let results = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads.clamp(1, trials))
                .map(|_| {
                    s.spawn(|| -> Result<(), Error> {
                        while let Some(k) = queue.lock().ok().and_then(|mut q| q.pop()) {
                            let (lr, weight_decay) = draws[k];
                            let mut stream = NumpyRandom::seed(seed.wrapping_add(1 + k as u32));
                            let mut net = Net::default();
                            net.init_weights(WeightInit::He, || stream.randn());
                            let optimizer = WeightDecay::new(weight_decay, Sgd::new(lr as f32));
                            let run = Trainer::<_, BATCH>::new(optimizer)
                                .iterations((epochs - 1) * every + 1)
                                .evaluate_every(every)
                                .divergence_loss(f64::INFINITY)
                                .threads(1)
                                .run(&mut net, train, validation, stream, |_| {});
                            let report = match run {
                                Ok(report) => report,
                                // Weights that overflow: a failed trial, left out.
                                Err(TrainError::Diverged { .. }) => {
                                    println!("weights overflowed | lr: {lr:.3e}, weight decay: {weight_decay:.3e}");
                                    continue;
                                }
                                Err(e) => return Err(common::train_error(e, lr as f32)),
                            };
                            println!(
                                "val acc: {:.4} | lr: {lr:.3e}, weight decay: {weight_decay:.3e}",
                                report.test_acc
                            );
                            if let Ok(mut r) = results.lock() {
                                r.push((k, Trial { lr, weight_decay, report }));
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            for w in workers {
                w.join()
                    .map_err(|_| Error::Failed("a trial's thread panicked".into()))??;
            }
            Ok::<_, Error>(())
        })?;
        let mut trials: Vec<(usize, Trial)> = results.into_inner().unwrap_or_default();
        trials.sort_by_key(|(k, _)| *k);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "time: {seconds:.2} s ({} trials; loading excluded)",
            trials.len()
        );
        let mut best: Vec<&Trial> = trials.iter().map(|(_, t)| t).collect();
        best.sort_by(|a, b| b.report.test_acc.total_cmp(&a.report.test_acc));
        best.truncate(BEST);
        println!("=========== the best {} trials ===========", best.len());
        for (i, t) in best.iter().enumerate() {
            println!(
                "Best-{}: val acc {:.4} | lr: {:.3e}, weight decay: {:.3e}",
                i + 1,
                t.report.test_acc,
                t.lr,
                t.weight_decay
            );
        }
        write_outputs(&out, &trials, &best)?;
        let top = best
            .first()
            .ok_or_else(|| Error::Failed("every trial's weights overflowed".into()))?;
        println!(
            "final best val_acc={:.4} lr={:.3e} weight_decay={:.3e}",
            top.report.test_acc, top.lr, top.weight_decay
        );
        Ok(())
    })
}

/// Every trial as CSV, and the best ones' curves in the book's 5×4 grid.
fn write_outputs(
    out: &std::path::Path,
    trials: &[(usize, Trial)],
    best: &[&Trial],
) -> Result<(), Error> {
    let mut csv = String::from("trial,lr,weight_decay,val_acc,train_acc\n");
    for (k, t) in trials {
        let _ = writeln!(
            csv,
            "{k},{},{},{},{}",
            t.lr, t.weight_decay, t.report.test_acc, t.report.train_acc
        );
    }
    let csv_path = out.join("hyperparameter_search.csv");
    common::write_atomic(&csv_path, |f| std::io::Write::write_all(f, csv.as_bytes()))?;
    let charts: Vec<Chart> = best
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let curve = |f: fn(&constnn::train::Epoch) -> f64| {
                let points = t.report.epochs.iter();
                points.map(|e| (e.epoch as f64, f(e))).collect()
            };
            Chart {
                title: format!("Best-{}: lr {:.1e}, λ {:.1e}", i + 1, t.lr, t.weight_decay),
                x_desc: "epochs",
                y_desc: "accuracy",
                x: 0.0..(t.report.epochs.len().max(2) - 1) as f64,
                y: 0.0..1.0,
                series: vec![
                    ("validation".into(), curve(|e| e.test_acc)),
                    ("training".into(), curve(|e| e.train_acc)),
                ],
                legend: plotters::chart::SeriesLabelPosition::LowerRight,
            }
        })
        .collect();
    let png_path = out.join("hyperparameter_search.png");
    grid_png(&png_path, &charts, 5, (1500, 1200))?;
    println!("wrote {}, {}", csv_path.display(), png_path.display());
    Ok(())
}
