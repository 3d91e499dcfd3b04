//! MNIST inference on a Cortex-M: the f32 TwoLayerNet trained by `train_mnist`, in flash,
//! classifies the first 1000 test images and checks every label against the host's.
//!
//! Prints the accuracy, instructions per inference (SysTick under `-icount`), the peak stack of
//! one inference (stack painting) and exits 0, or 1 on any mismatch, panic or fault. On the
//! Cortex-M0 (`thumbv6m-none-eabi`, the micro:bit) the arithmetic is software floating point.
#![no_std]
#![no_main]

mod harness;

use constnn::TwoLayerNet;
use constnn::matrix::{Frozen, argmax};
use cortex_m_rt::entry;

type Net = TwoLayerNet<784, 50, 10, f32, Frozen>;

/// The model, decoded and checked against `Net` when the firmware is built. Immutable, so it
/// stays in flash (.rodata).
static NET: Net = Net::from_model(include_bytes!("../model/mnist-784-50-10.cnnm"));

/// The labels the host computes for the images with the same model and core code.
static EXPECTED: [u8; harness::COUNT] = *include_bytes!(concat!(env!("OUT_DIR"), "/expected.bin"));

/// Scales an image like the host (the book's `normalize=True`) and classifies it.
#[inline(never)]
fn classify(pixels: &[u8; harness::PIXELS]) -> usize {
    let mut x = [[0.0f32; 784]; 1];
    for (v, &p) in x[0].iter_mut().zip(pixels) {
        *v = f32::from(p) / 255.0;
    }
    let mut logits = [[0.0f32; 10]; 1];
    NET.predict(&x, &mut logits);
    argmax(&logits[0])
}

#[entry]
fn main() -> ! {
    harness::run(&EXPECTED, classify)
}
