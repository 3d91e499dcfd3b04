//! The book's `train_neuralnet.py`: TwoLayerNet<784, 50, 10> trained on MNIST with SGD, through
//! the crate's trainer (`constnn::train`).
//!
//! ```text
//! cargo run --release --example train_mnist -- [--data DIR] [--out DIR] [--iters N] [--lr X] [--seed N]
//! ```
//!
//! Prints one line per epoch (600 iterations) with train and test accuracy and ends with
//! `final train_acc=0.9788 test_acc=0.9704` (the default settings, seed 0). Writes to `--out`
//! (default `out/`): `train_log.csv`, `accuracy.png` and the trained weights `model.cnnm`.

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use common::Error;
use constnn::matrix::Heap;
use constnn::matrix::sparse::SparseRow;
use constnn::train::{Progress, Samples, Trainer};
use constnn::{Sgd, TwoLayerNet};
use indicatif::{ProgressBar, ProgressStyle};

/// The book's batch size. It is part of the types (a batch is `N` rows).
const BATCH: usize = 100;

const HELP: &str = "\
train_mnist: the book's chapter-5 MNIST run (TwoLayerNet 784-50-10, SGD, batch 100)

USAGE: cargo run --release --example train_mnist -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write train_log.csv, accuracy.png, model.cnnm [default: out]
  --iters N     training iterations [default: 10000]
  --lr X        learning rate [default: 0.1]
  --seed N      random seed for the weights and the batches [default: 0]
  --rng NAME    numpy: NumPy's legacy stream, so a seed gives the book's own initial weights
                and batches (its np.random.seed); pcg: rand_core's PCG64 [default: numpy]
  --threads N   threads: with 2 or more, a helper thread makes the batches and evaluates
                while training runs; the final evaluation uses all N [default: cores]
  -h, --help    this text

Training stops with an error, saving nothing, if the loss becomes NaN or infinite or an
epoch's mean loss exceeds 2 ln 10 (twice that of guessing uniformly): lower --lr then.";

fn main() -> ExitCode {
    common::run(train)
}

fn train() -> Result<(), Error> {
    let flags = &[
        "--data",
        "--out",
        "--iters",
        "--lr",
        "--seed",
        "--rng",
        "--threads",
    ];
    let Some(args) = common::args(flags, HELP)? else {
        return Ok(());
    };
    let data =
        PathBuf::from(args.get("--data", common::DEFAULT_DATA_DIR.to_owned(), "a directory")?);
    let out = PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?);
    let iters = common::at_least_1(&args, "--iters", 10_000)?;
    let lr = common::positive(&args, "--lr", 0.1_f32)?;
    let (mut source, seed, rng_name) = common::Stream::from_args(&args)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = common::at_least_1(&args, "--threads", cores)?;

    let t_load = Instant::now();
    let constnn::data::Mnist { train, test } = common::load_mnist(&data)?;
    // Kept sparse (about 150 of 784 pixels an image are not zero): a batch is then 100 views
    // into these, and every product skips the zeros without looking for them. The bytes are
    // dropped once converted.
    let (train_rows, test_rows) = (train.sparse(), test.sparse());
    let (train_y, test_y) = (train.labels().to_vec(), test.labels().to_vec());
    drop((train, test));
    let train_x: Vec<SparseRow<'_, f32, 784>> = train_rows.iter().collect();
    let test_x: Vec<SparseRow<'_, f32, 784>> = test_rows.iter().collect();
    println!(
        "loaded {} training and {} test images from {} in {:.2} s",
        train_x.len(),
        test_x.len(),
        data.display(),
        t_load.elapsed().as_secs_f64()
    );
    common::create_dir(&out)?;

    let mut net = TwoLayerNet::<784, 50, 10, f32, Heap>::with_normal(0.01, || source.randn());
    let mut trainer = Trainer::<_, BATCH>::new(Sgd::new(lr))
        .iterations(iters)
        .threads(threads)
        .log_csv(out.join("train_log.csv"))
        .save_model(out.join("model.cnnm"));
    let every = trainer.epoch_length(train_x.len());

    println!(
        "training TwoLayerNet<784, 50, 10>: {iters} iterations, batch {BATCH}, lr {}, seed {seed} ({rng_name} stream)",
        common::short(lr)
    );
    let bar = ProgressBar::new(every.min(iters) as u64).with_style(
        ProgressStyle::with_template("epoch {prefix:>2} [{bar:30}] {pos}/{len} loss {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_prefix("0");
    let (train_set, test_set) = (
        Samples::new(&train_x, &train_y).map_err(|e| common::train_error(e, lr))?,
        Samples::new(&test_x, &test_y).map_err(|e| common::train_error(e, lr))?,
    );
    let report = trainer
        .run(&mut net, train_set, test_set, source, |p| match p {
            Progress::Step { loss, .. } => {
                bar.inc(1);
                bar.set_message(format!("{loss:.4}"));
            }
            Progress::EpochEnd {
                epoch, iteration, ..
            } => {
                bar.reset();
                bar.set_length(every.min(iters - iteration - 1) as u64);
                bar.set_prefix(format!("{}", epoch + 1));
            }
            Progress::Evaluated(e) => bar.suspend(|| {
                println!(
                    "epoch {:>2} (iteration {:>5}): loss {:.4}  train acc {:.4}  test acc {:.4}",
                    e.epoch, e.iteration, e.mean_loss, e.train_acc, e.test_acc
                )
            }),
        })
        .map_err(|e| {
            bar.abandon();
            common::train_error(e, lr)
        })?;
    bar.finish_and_clear();
    common::print_time(&report);
    println!(
        "final evaluation: {:.3} s (after the time above, as in the references)",
        report.final_seconds
    );
    let png_path = out.join("accuracy.png");
    let train_curve: Vec<f64> = report.epochs.iter().map(|e| e.train_acc).collect();
    let test_curve: Vec<f64> = report.epochs.iter().map(|e| e.test_acc).collect();
    common::plot::accuracy_png(&png_path, &train_curve, &test_curve)?;
    println!(
        "wrote {}, {}, {}",
        out.join("train_log.csv").display(),
        png_path.display(),
        out.join("model.cnnm").display()
    );
    println!(
        "final train_acc={:.4} test_acc={:.4}",
        report.train_acc, report.test_acc
    );
    Ok(())
}
