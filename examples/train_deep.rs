//! A deeper network than the book's chapter 5 on MNIST, through the library alone:
//! 784-100-100-10 with ReLU, He initialisation (the book's `weight_init_std='relu'`:
//! `√(2/n)` for a layer of `n` inputs), SGD at 0.1, batch 100, 10 000 iterations.
//!
//! ```text
//! cargo run --release --example train_deep -- [--data DIR] [--out DIR] [--iters N] [--lr X] [--seed N]
//! ```
//!
//! Trained through the crate's trainer (`constnn::train`), as `train_mnist` is. The weights and
//! batches come from NumPy's stream (`--seed`, as `np.random.seed`), in the book's order (W1,
//! W2, W3, then `np.random.choice(60000, 100)` per step), so `bench/train_deep_numpy.py` starts
//! from the same weights and draws the same batches. Prints one line per epoch (600
//! iterations) and ends with `time: …` and `final train_acc=… test_acc=…`; writes
//! `train_deep_log.csv` and `deep.cnnm` to `--out`.

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use common::Error;
use constnn::init::WeightInit;
use constnn::matrix::Heap;
use constnn::matrix::sparse::SparseRow;
use constnn::train::{Progress, Samples, Trainer};
use constnn::{MultiLayerNet, Sgd};

const BATCH: usize = 100;

type Deep = MultiLayerNet![f32, Heap; 784, 100, 100, 10];

const HELP: &str = "\
train_deep: 784-100-100-10 (ReLU, He initialisation) on MNIST with SGD, batch 100

USAGE: cargo run --release --example train_deep -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write train_deep_log.csv and deep.cnnm [default: out]
  --iters N     training iterations [default: 10000]
  --lr X        learning rate [default: 0.1]
  --seed N      random seed for the weights and the batches [default: 0]
  --rng NAME    numpy (the book's np.random, as bench/train_deep_numpy.py) or pcg
                [default: numpy]
  --threads N   threads: with 2 or more, a helper thread makes the batches and evaluates
                while training runs [default: cores]
  -h, --help    this text";

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
    let (mut stream, _, _) = common::Stream::from_args(&args)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = common::at_least_1(&args, "--threads", cores)?;

    let t_load = Instant::now();
    let mnist = common::load_mnist(&data)?;
    let (train_rows, test_rows) = (mnist.train.sparse(), mnist.test.sparse());
    let (train_x, test_x): (Vec<SparseRow<'_, f32, 784>>, Vec<_>) =
        (train_rows.iter().collect(), test_rows.iter().collect());
    println!(
        "loaded {} training and {} test images in {:.2} s",
        train_x.len(),
        test_x.len(),
        t_load.elapsed().as_secs_f64()
    );
    common::create_dir(&out)?;

    // The book's MultiLayerNet with weight_init_std='relu': W drawn in order, b = 0.
    let mut net = Deep::default();
    net.init_weights(WeightInit::He, || stream.randn());
    let samples = |x, t| Samples::new(x, t).map_err(|e| common::train_error(e, lr));
    let train = samples(&train_x, mnist.train.labels())?;
    let test = samples(&test_x, mnist.test.labels())?;
    let report = Trainer::<_, BATCH>::new(Sgd::new(lr))
        .iterations(iters)
        .threads(threads)
        .log_csv(out.join("train_deep_log.csv"))
        .save_model(out.join("deep.cnnm"))
        .run(&mut net, train, test, stream, |p| {
            if let Progress::Evaluated(e) = p {
                println!(
                    "epoch {:2}  iteration {:5}  loss {:.4}  train_acc {:.4}  test_acc {:.4}",
                    e.epoch, e.iteration, e.mean_loss, e.train_acc, e.test_acc
                );
            }
        })
        .map_err(|e| common::train_error(e, lr))?;
    common::print_time(&report);
    println!(
        "wrote {}, {}",
        out.join("train_deep_log.csv").display(),
        out.join("deep.cnnm").display()
    );
    println!(
        "final train_acc={:.4} test_acc={:.4}",
        report.train_acc, report.test_acc
    );
    Ok(())
}
