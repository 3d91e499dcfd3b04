//! Prepares what the firmware checks itself against, on the host, with the same core code:
//! the first 1000 MNIST test images (u8, for flash), their true labels, and the labels the
//! host computes for them with the embedded models (f32 and int8); the memory map of the board
//! the target is for (`memory-mps2.x` for mps2-an386, `memory-microbit.x` for `thumbv6m-none-eabi`; copied to `memory.x` where the linker looks).

use std::io::Read;
use std::path::PathBuf;

use constnn::format::idx::{Images, Labels};
use constnn::format::model;
use constnn::matrix::Heap;
use constnn::quant::{QuantAffine, QuantNet};
use constnn::{Chain, TwoLayerNet};

const COUNT: usize = 1000;

fn gunzip(path: &PathBuf) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let data = root.join("../data/mnist");
    let model_path = root.join("model/mnist-784-50-10.cnnm");
    let int8_path = root.join("model/mnist-784-50-10-int8.cnnm");
    for p in [
        &model_path,
        &int8_path,
        &data.join("t10k-images-idx3-ubyte.gz"),
        &data.join("t10k-labels-idx1-ubyte.gz"),
    ] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    // The Cortex-M0 board, the micro:bit: its memory map, and `cfg(m0)` for what differs.
    println!("cargo::rustc-check-cfg=cfg(m0)");
    let m0 = std::env::var("TARGET").unwrap().starts_with("thumbv6m");
    let memory = if m0 {
        "memory-microbit.x"
    } else {
        "memory-mps2.x"
    };
    if m0 {
        println!("cargo::rustc-cfg=m0");
    }
    println!("cargo:rerun-if-changed={memory}");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::copy(root.join(memory), out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());

    let images = gunzip(&data.join("t10k-images-idx3-ubyte.gz"));
    let labels = gunzip(&data.join("t10k-labels-idx1-ubyte.gz"));
    let images = Images::parse(&images).expect("t10k images");
    images.require_pixels(784).expect("28×28 images");
    let labels = Labels::parse(&labels, 10).expect("t10k labels");
    let pixels = &images.as_bytes()[..COUNT * 784];
    std::fs::write(out.join("images.bin"), pixels).unwrap();
    std::fs::write(out.join("labels.bin"), &labels.as_slice()[..COUNT]).unwrap();

    // The host's predictions: the same model, the same scaling, the same core code.
    let mut net = TwoLayerNet::<784, 50, 10, f32, Heap>::zeros();
    let bytes = std::fs::read(&model_path).unwrap();
    model::decode_into(&bytes, &mut net.layers).expect("the embedded model");
    let x: Vec<[f32; 784]> = pixels
        .chunks_exact(784)
        .map(|img| std::array::from_fn(|i| f32::from(img[i]) / 255.0))
        .collect();
    let mut classes = vec![0usize; COUNT];
    net.classify(&x, &mut classes)
        .expect("finite scores for every image");
    let expected: Vec<u8> = classes.iter().map(|&c| c as u8).collect();
    std::fs::write(out.join("expected.bin"), expected).unwrap();

    // The int8 model's labels: integer arithmetic, the same on every target.
    let bytes = std::fs::read(&int8_path).unwrap();
    let int8: QuantNet<Chain<QuantAffine<784, 50>, QuantAffine<50, 10>>> =
        model::decode_quantized(&bytes).expect("the embedded int8 model");
    let expected: Vec<u8> = pixels
        .chunks_exact(784)
        .map(|img| int8.classify(&std::array::from_fn(|i| (img[i] ^ 0x80) as i8)) as u8)
        .collect();
    std::fs::write(out.join("expected-int8.bin"), expected).unwrap();
}
