//! Quantises the model `train_mnist` wrote to int8 (TensorFlow Lite's scheme: `constnn::quant`),
//! calibrated on training images, writes it, and prints the test accuracy of both models over
//! all 10 000 test images.
//!
//! ```text
//! cargo run --release --example quantize -- [--model out/model.cnnm] [--data DIR] [--out DIR]
//! ```

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use common::Error;
use constnn::TwoLayerNet;
use constnn::data::{self, DataError, Part};
use constnn::matrix::Heap;
use constnn::quant;

type Net = TwoLayerNet<784, 50, 10, f32, Heap>;

const HELP: &str = "\
quantize: the MNIST model in int8 (TensorFlow Lite's scheme), and how accurate each model is

USAGE: cargo run --release --example quantize -- [OPTIONS]

Weights become int8 per output channel, activations int8 per tensor with ranges taken from
training images, biases int32; inference is integer arithmetic only. Writes DIR/model-int8.cnnm
and prints the test accuracy of both models over all 10 000 test images.

  --model PATH        a model written by train_mnist [default: out/model.cnnm]
  --data DIR          the MNIST files [default: this repo's data/mnist]
  --out DIR           where to write model-int8.cnnm [default: out]
  --calibration N     training images whose ranges are taken [default: 1000]
  -h, --help          this text";

/// How many parameters `layers` has.
fn param_values<L: constnn::Layer>(_: &L) -> usize {
    constnn::layers::param_list::<L>().values()
}

fn main() -> ExitCode {
    common::run(run)
}

fn run() -> Result<(), Error> {
    let Some(args) = common::args(&["--model", "--data", "--out", "--calibration"], HELP)? else {
        return Ok(());
    };
    let model_path = PathBuf::from(args.get("--model", "out/model.cnnm".to_owned(), "a file")?);
    let data_dir =
        PathBuf::from(args.get("--data", common::DEFAULT_DATA_DIR.to_owned(), "a directory")?);
    let out = PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?);
    let calibration = common::at_least_1(&args, "--calibration", 1000)?;

    let mut net = Net::zeros();
    common::load_model(&mut net.layers, &model_path).map_err(|e| match e {
        Error::Data(DataError::Io { path, source, .. }) => Error::Data(DataError::Io {
            path,
            source,
            hint: Some("train one first: cargo run --release --example train_mnist".into()),
        }),
        e => e,
    })?;
    let train = common::load_part(&data_dir, Part::Train)?;
    let test = common::load_part(&data_dir, Part::Test)?;
    let calibration = calibration.min(train.len());

    let q = quant::quantize(&net, &train.images(0..calibration))
        .map_err(|e| Error::Failed(format!("cannot quantise {}: {e}", model_path.display())))?;
    common::create_dir(&out)?;
    let int8_path = out.join("model-int8.cnnm");
    data::save_quantized(&q, &int8_path)?;

    // Both models on every test image.
    let images = test.images(0..test.len());
    let mut f32_classes = vec![0usize; images.len()];
    net.classify(&images, &mut f32_classes)
        .map_err(|source| Error::Batch {
            context: "the f32 model on the test set".into(),
            source,
        })?;
    let int8_classes: Vec<usize> = images
        .iter()
        .map(|x| q.classify(&q.quantize_input(x)))
        .collect();
    let accuracy = |classes: &[usize]| {
        let right = classes
            .iter()
            .zip(test.labels())
            .filter(|(c, l)| **c == usize::from(**l))
            .count();
        right as f64 / classes.len() as f64
    };
    let (f32_acc, int8_acc) = (accuracy(&f32_classes), accuracy(&int8_classes));
    let agree = f32_classes
        .iter()
        .zip(&int8_classes)
        .filter(|(a, b)| a == b)
        .count();
    let f32_bytes = 4 * param_values(&net.layers);
    let int8_bytes = q.weight_bytes();
    let (input, scores) = (q.input_params(), q.output_params());
    let hidden = q.layers.first.output;

    println!("calibrated on the first {calibration} training images:");
    println!(
        "  input  scale {:.6}  zero point {}",
        input.scale, input.zero_point
    );
    println!(
        "  hidden scale {:.6}  zero point {} (after the fused ReLU)",
        hidden.scale, hidden.zero_point
    );
    println!(
        "  scores scale {:.6}  zero point {}",
        scores.scale, scores.zero_point
    );
    println!();
    println!("| model | file | test accuracy (10 000 images) | weights |");
    println!("|---|---|---|---|");
    println!(
        "| f32  | {} | {f32_acc:.4} | {f32_bytes} bytes |",
        model_path.display()
    );
    println!(
        "| int8 | {} | {int8_acc:.4} | {int8_bytes} bytes (int8 weights; int32 biases, \
         multipliers, shifts) |",
        int8_path.display()
    );
    println!(
        "labels the two models agree on: {agree} of {}",
        images.len()
    );
    println!(
        "final f32_test_acc={f32_acc:.4} int8_test_acc={int8_acc:.4} int8_weight_bytes={int8_bytes}"
    );
    Ok(())
}
