//! Inference throughput of TwoLayerNet<784, 50, 10> (f32) on MNIST test images, at batch 1 and
//! batch 100: prints the median images/s over repeated passes, from dense f32 rows (as the
//! PyTorch side of `bench/compare.sh` takes them), from the same rows kept sparse (as
//! `train_mnist` keeps them), `classify` over all 10 000 at once (which, from sparse rows,
//! multiplies them by a copy of the first layer's weights on whole cache lines, as
//! `train_mnist`'s evaluations do), and how fast dense rows convert to sparse ones.
//! Used by `bench/compare.sh`.
//!
//! ```text
//! cargo run --release --example inference_speed -- [--model out/model.cnnm]
//! ```

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use common::Error;
use constnn::TwoLayerNet;
use constnn::matrix::Heap;
use constnn::matrix::sparse::{SparseRow, SparseRows};
use rand_core::SeedableRng;

fn main() -> ExitCode {
    common::run(measure)
}

/// The median over seven passes of how many `images` a second `pass` (one pass over all of
/// them) handles.
fn rate(images: usize, mut pass: impl FnMut()) -> f64 {
    let mut rates: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            pass();
            images as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// [`rate`] of `predict` over `rows`, `B` at a time.
fn rate_by<X, const B: usize>(rows: &[X], predict: impl Fn(&[X; B], &mut [[f32; 10]; B])) -> f64 {
    let mut out = [[0.0f32; 10]; B];
    rate(rows.len(), || {
        for chunk in rows.chunks_exact(B) {
            let batch: &[X; B] = chunk.try_into().expect("B rows");
            predict(batch, &mut out);
            std::hint::black_box(&out);
        }
    })
}

const HELP: &str = "\
inference_speed: images a second that TwoLayerNet<784, 50, 10> (f32) classifies on one thread,
over MNIST's 10 000 test images (the median of seven passes)

USAGE: cargo run --release --example inference_speed -- [OPTIONS]

Prints one line each: batch 1 and batch 100 from dense f32 rows (as PyTorch takes them in
bench/compare.sh) and from the same rows kept sparse (as train_mnist keeps them), `classify` of
all 10 000 at once from either, and how fast dense rows convert to sparse ones.

OPTIONS:
  --model PATH  a model written by train_mnist; without one, weights drawn with std 0.01
  --data DIR    the MNIST files [default: this repo's data/mnist]
  -h, --help    this text";

fn measure() -> Result<(), Error> {
    let Some(args) = common::args(&["--model", "--data"], HELP)? else {
        return Ok(());
    };
    let data =
        PathBuf::from(args.get("--data", common::DEFAULT_DATA_DIR.to_owned(), "a directory")?);
    let test = common::load_part(&data, constnn::data::Part::Test)?;
    // A trained model if there is one (its sparsity of activations is the realistic one).
    let mut net =
        TwoLayerNet::<784, 50, 10, f32, Heap>::new(0.01, &mut rand_pcg::Pcg64::seed_from_u64(0));
    let model: String = args.get("--model", String::new(), "a file")?;
    if !model.is_empty() {
        common::load_model(&mut net.layers, std::path::Path::new(&model))?;
    }
    // Scaled to f32 beforehand, as the PyTorch side of `bench/compare.sh` takes its input.
    let images = &test.images(0..10_000);

    let n = images.len();
    let dense1 = rate_by::<_, 1>(images, |x, out| net.predict(x, out));
    let dense100 = rate_by::<_, 100>(images, |x, out| net.predict(x, out));
    let mut set = SparseRows::new();
    let converts = rate(n, || {
        set = SparseRows::new();
        for img in images {
            set.push_dense(img);
        }
    });
    let sparse: Vec<SparseRow<'_, f32, 784>> = set.iter().collect();
    let sparse1 = rate_by::<_, 1>(&sparse, |x, out| net.predict(x, out));
    let sparse100 = rate_by::<_, 100>(&sparse, |x, out| net.predict(x, out));
    let mut classes = vec![0usize; n];
    let classify_dense = rate(n, || {
        net.classify(images, &mut classes).expect("finite images");
    });
    let classify_sparse = rate(n, || {
        net.classify(&sparse, &mut classes).expect("finite images");
    });
    println!("batch 1, dense rows: {dense1:.0} images/s");
    println!("batch 100, dense rows: {dense100:.0} images/s");
    println!("batch 1, sparse rows: {sparse1:.0} images/s");
    println!("batch 100, sparse rows: {sparse100:.0} images/s");
    println!("classify all, dense rows: {classify_dense:.0} images/s");
    println!("classify all, sparse rows (weights on lines): {classify_sparse:.0} images/s");
    println!("dense to sparse rows: {converts:.0} images/s");
    Ok(())
}
