//! Classifies MNIST test images with a model saved by `train_mnist` (f32) or `quantize` (int8),
//! drawing each digit as ASCII art beside its true label, the prediction and the top-3
//! probabilities.
//!
//! ```text
//! cargo run --release --example classify -- [--model out/model.cnnm] [--data DIR] [INDEX ...]
//! ```

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use common::{Args, Error};
use constnn::data::{self, DataError};
use constnn::format::model::{self, DTYPE_INT8};
use constnn::loss::softmax;
use constnn::matrix::Heap;
use constnn::quant::{QuantAffine, QuantNet};
use constnn::{Chain, TwoLayerNet};

type Net = TwoLayerNet<784, 50, 10, f32, Heap>;
type Int8 = QuantNet<Chain<QuantAffine<784, 50>, QuantAffine<50, 10>>>;

/// Either kind of model file, told apart by its header.
enum Model {
    F32(Box<Net>),
    Int8(Box<Int8>),
}

impl Model {
    /// The scores of an image (scaled to [0, 1]): the f32 network's, or the int8 network's
    /// dequantised.
    fn scores(&self, x: &[f32; 784]) -> [f32; 10] {
        match self {
            Model::F32(net) => {
                let mut logits = [[0.0f32; 10]];
                net.predict(std::array::from_ref(x), &mut logits);
                logits[0]
            }
            Model::Int8(q) => {
                let mut scores = [0i8; 10];
                q.predict(&q.quantize_input(x), &mut scores);
                scores.map(|s| q.dequantize(s))
            }
        }
    }
}

const HELP: &str = "\
classify: show MNIST test images and what a trained model says they are

USAGE: cargo run --release --example classify -- [OPTIONS] [INDEX ...]

  INDEX          test-set images to show (0..=9999) [default: 0 1 2]
  --model PATH   a model written by train_mnist, or its int8 version by quantize
                 [default: out/model.cnnm]
  --data DIR     the MNIST files [default: this repo's data/mnist]
  -h, --help     this text";

/// Darker to brighter.
const RAMP: &[u8] = b" .:-=+*#%@";

fn main() -> ExitCode {
    common::run(classify)
}

fn classify() -> Result<(), Error> {
    let args = Args::parse(
        std::env::args().skip(1),
        &["--model", "--data"],
        &["--help", "-h"],
    )?;
    if args.has("--help") || args.has("-h") {
        println!("{HELP}");
        return Ok(());
    }
    let model = PathBuf::from(args.get("--model", "out/model.cnnm".to_owned(), "a file")?);
    let data =
        PathBuf::from(args.get("--data", common::DEFAULT_DATA_DIR.to_owned(), "a directory")?);
    let test = common::load_part(&data, constnn::data::Part::Test)?;
    let indices: Vec<usize> = if args.positional.is_empty() {
        vec![0, 1, 2]
    } else {
        args.positional
            .iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) if i < test.len() => Ok(i),
                _ => Err(Error::Args(common::ArgError::Invalid {
                    option: "INDEX".into(),
                    value: s.clone(),
                    expected: "a test image index, 0..=9999",
                })),
            })
            .collect::<Result<_, _>>()?
    };

    let hint = |e| match e {
        Error::Data(DataError::Io { path, source, .. }) => Error::Data(DataError::Io {
            path,
            source,
            hint: Some("train one first: cargo run --release --example train_mnist".into()),
        }),
        e => e,
    };
    // The header's dtype byte says which network the file is for; each loader then checks all
    // of it.
    let mut header = [0u8; 8];
    let dtype = std::fs::File::open(&model)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut header))
        .ok()
        .and_then(|n| model::file_dtype(&header[..n]));
    let net = if dtype == Some(DTYPE_INT8) {
        Model::Int8(Box::new(
            data::load_quantized(&model).map_err(|e| hint(Error::Data(e)))?,
        ))
    } else {
        let mut net = Box::new(Net::zeros());
        common::load_model(&mut net.layers, &model).map_err(hint)?;
        Model::F32(net)
    };

    let mut correct = 0;
    for &i in &indices {
        let mut p = [0.0f32; 10];
        softmax(&net.scores(&test.image(i)), &mut p);
        let mut order: Vec<usize> = (0..10).collect();
        order.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
        let (label, predicted) = (test.labels()[i], order[0]);
        correct += usize::from(usize::from(label) == predicted);

        let side = [
            format!("test image #{i}"),
            format!("true label: {label}"),
            format!(
                "predicted:  {predicted}  {}",
                if usize::from(label) == predicted {
                    "(right)"
                } else {
                    "(WRONG)"
                }
            ),
            String::new(),
            "top 3:".to_owned(),
            format!("  {}  {:6.2}%", order[0], 100.0 * p[order[0]]),
            format!("  {}  {:6.2}%", order[1], 100.0 * p[order[1]]),
            format!("  {}  {:6.2}%", order[2], 100.0 * p[order[2]]),
        ];
        for (r, row) in test.pixels()[i].chunks_exact(28).enumerate() {
            // Two characters per pixel keep the digit's aspect ratio in a terminal.
            let art: String = row
                .iter()
                .flat_map(|&byte| {
                    let c = RAMP[usize::from(byte) * (RAMP.len() - 1) / 255] as char;
                    [c, c]
                })
                .collect();
            let text = r
                .checked_sub(10)
                .and_then(|k| side.get(k))
                .map_or("", String::as_str);
            println!("{}", format!("|{art}|  {text}").trim_end());
        }
        println!();
    }
    println!("{correct} of {} right", indices.len());
    Ok(())
}
