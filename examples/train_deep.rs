//! A deeper network than the book's chapter 5 on MNIST, through the library alone:
//! 784-100-100-10 with ReLU, He initialisation (the book's `weight_init_std='relu'`:
//! `√(2/n)` for a layer of `n` inputs), SGD at 0.1, batch 100, 10 000 iterations.
//!
//! ```text
//! cargo run --release --example train_deep -- [--data DIR] [--out DIR] [--iters N] [--lr X] [--seed N]
//! ```
//!
//! The weights and batches come from NumPy's stream (`--seed`, as `np.random.seed`), in the
//! book's order (W1, W2, W3, then `np.random.choice(60000, 100)` per step), so
//! `bench/train_deep_numpy.py` starts from the same weights and draws the same batches. Prints
//! one line per epoch (600 iterations) and ends with `time: …` and
//! `final train_acc=… test_acc=…`; writes `train_deep_log.csv` and `deep.cnnm` to `--out`.

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use common::{Args, Error};
use constnn::init::NumpyRandom;
use constnn::layers::{Affine, Chain, Relu};
use constnn::matrix::Heap;
use constnn::matrix::sparse::{SparseBatch, SparseRow};
use constnn::network::Workspace;
use constnn::{BatchError, Network, Sgd};

const BATCH: usize = 100;

type Deep = Network<
    Chain<
        Affine<f32, 784, 100, Heap>,
        Chain<Relu<f32, 100>, Chain<Affine<f32, 100, 100, Heap>, Chain<Relu<f32, 100>, Last>>>,
    >,
>;
type Last = Affine<f32, 100, 10, Heap>;

const HELP: &str = "\
train_deep: 784-100-100-10 (ReLU, He initialisation) on MNIST with SGD, batch 100

USAGE: cargo run --release --example train_deep -- [OPTIONS]

OPTIONS:
  --data DIR    the four MNIST files, gzipped or not [default: this repo's data/mnist]
  --out DIR     where to write train_deep_log.csv and deep.cnnm [default: out]
  --iters N     training iterations [default: 10000]
  --lr X        learning rate [default: 0.1]
  --seed N      NumPy seed for the weights and the batches [default: 0]
  -h, --help    this text";

fn main() -> ExitCode {
    common::run(train)
}

fn train() -> Result<(), Error> {
    let args = Args::parse(
        std::env::args().skip(1),
        &["--data", "--out", "--iters", "--lr", "--seed"],
        &["--help", "-h"],
    )?;
    if args.has("--help") || args.has("-h") {
        println!("{HELP}");
        return Ok(());
    }
    args.no_positional()?;
    let data =
        PathBuf::from(args.get("--data", common::DEFAULT_DATA_DIR.to_owned(), "a directory")?);
    let out = PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?);
    let iters: usize = args.get("--iters", 10_000, "a whole number of at least 1")?;
    let lr: f32 = args.get("--lr", 0.1, "a positive number")?;
    let seed: u32 = args.get("--seed", 0, "a whole number below 2^32")?;
    let invalid = |option: &str, value: String, expected| {
        Error::Args(common::ArgError::Invalid {
            option: option.into(),
            value,
            expected,
        })
    };
    if iters == 0 {
        return Err(invalid(
            "--iters",
            "0".into(),
            "a whole number of at least 1",
        ));
    }
    if !(lr.is_finite() && lr > 0.0) {
        return Err(invalid("--lr", lr.to_string(), "a positive number"));
    }

    let t_load = Instant::now();
    let mnist = common::load_mnist(&data)?;
    let (train_rows, test_rows) = (mnist.train.sparse(), mnist.test.sparse());
    let (train_x, test_x): (Vec<SparseRow<'_, f32, 784>>, Vec<_>) =
        (train_rows.iter().collect(), test_rows.iter().collect());
    let (train_t, test_t) = (mnist.train.labels(), mnist.test.labels());
    println!(
        "loaded {} training and {} test images in {:.2} s",
        train_x.len(),
        test_x.len(),
        t_load.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&out).map_err(|source| constnn::data::DataError::Io {
        path: out.clone(),
        source,
        hint: None,
    })?;

    // The book's MultiLayerNet with weight_init_std='relu': W drawn in order, b = 0.
    let mut np = NumpyRandom::seed(seed);
    let he = |inputs: f64| (2.0 / inputs).sqrt();
    let mut net: Deep = Network::from_layers(constnn::chain![
        Affine::with_normal(he(784.0), || np.randn()),
        Relu::new(),
        Affine::with_normal(he(100.0), || np.randn()),
        Relu::new(),
        Affine::with_normal(he(100.0), || np.randn()),
    ]);
    let mut sgd = Sgd::new(lr);
    let mut workspace = Workspace::new();
    let mut batch = Box::new(SparseBatch::<f32, BATCH, 784>::new());
    let n_train =
        u32::try_from(train_x.len()).map_err(|_| Error::Failed("too many images".into()))?;
    let iter_per_epoch = (train_x.len() / BATCH).max(1);

    let evaluate = |net: &Deep| -> Result<(f64, f64), Error> {
        let acc = |x: &[SparseRow<'_, f32, 784>], t: &[u8], what: &str| {
            net.accuracy(x, t).map_err(|source| Error::Batch {
                context: format!("evaluating on the {what} set"),
                source,
            })
        };
        Ok((
            acc(&train_x, train_t, "training")?,
            acc(&test_x, test_t, "test")?,
        ))
    };

    let mut csv = String::from("epoch,iteration,loss,train_acc,test_acc\n");
    let (mut eval_time, mut evaluations, mut last_loss) = (0.0, 0usize, f32::NAN);
    let t_train = Instant::now();
    for i in 0..iters {
        let mut rows = [SparseRow::EMPTY; BATCH];
        let mut t = [0u8; BATCH];
        for (row, label) in rows.iter_mut().zip(&mut t) {
            let k = np.choice(n_train) as usize;
            (*row, *label) = (train_x[k], train_t[k]);
        }
        batch.set(rows);
        last_loss = match net.train_step_with(&mut workspace, &*batch, &t, &mut sgd) {
            Ok(loss) if loss.is_finite() => loss,
            Ok(_) | Err(BatchError::NonFiniteOutput { .. }) => {
                return Err(Error::Diverged {
                    iteration: i,
                    lr: f64::from(lr),
                });
            }
            Err(source) => {
                return Err(Error::Batch {
                    context: format!("training batch {i}"),
                    source,
                });
            }
        };
        if i % iter_per_epoch == 0 {
            let t_eval = Instant::now();
            let (train_acc, test_acc) = evaluate(&net)?;
            eval_time += t_eval.elapsed().as_secs_f64();
            evaluations += 1;
            let epoch = i / iter_per_epoch;
            println!(
                "epoch {epoch:2}  iteration {i:5}  loss {last_loss:.4}  train_acc {train_acc:.4}  test_acc {test_acc:.4}"
            );
            let _ = writeln!(csv, "{epoch},{i},{last_loss},{train_acc},{test_acc}");
        }
    }
    let total = t_train.elapsed().as_secs_f64();
    let training = total - eval_time;
    println!(
        "time: {total:.2} s ({training:.2} s training, {:.3} ms per iteration; {eval_time:.2} s in {evaluations} evaluations)",
        1000.0 * training / iters as f64
    );
    let (train_acc, test_acc) = evaluate(&net)?;
    let _ = writeln!(csv, "final,{iters},{last_loss},{train_acc},{test_acc}");
    common::write_atomic(&out.join("train_deep_log.csv"), |f| {
        std::io::Write::write_all(f, csv.as_bytes())
    })?;
    common::save_model(&net.layers, &out.join("deep.cnnm"))?;
    println!(
        "wrote {}, {}",
        out.join("train_deep_log.csv").display(),
        out.join("deep.cnnm").display()
    );
    println!("final train_acc={train_acc:.4} test_acc={test_acc:.4}");
    Ok(())
}
