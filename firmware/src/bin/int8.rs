//! MNIST inference in int8 on a Cortex-M: the TwoLayerNet trained by `train_mnist`, quantised
//! by the `quantize` example (TensorFlow Lite's scheme), in flash, classifies the first 1000
//! test images with integer arithmetic only and checks every label against the host's.
//!
//! Prints the accuracy, instructions per inference (SysTick under `-icount`), the peak stack of
//! one inference (stack painting) and exits 0, or 1 on any mismatch, panic or fault.
#![no_std]
#![no_main]

#[path = "../harness.rs"]
mod harness;

use constnn::quant::{QuantAffine, QuantNet};
use constnn::{Chain, include_model};
use cortex_m_rt::entry;

type Net = QuantNet<Chain<QuantAffine<784, 50>, QuantAffine<50, 10>>>;

/// The int8 model, decoded and checked against `Net` when the firmware is built; in flash.
static NET: Net = include_model!(Net, "../../model/mnist-784-50-10-int8.cnnm");

/// The labels the host computes for the images with the same int8 model and core code.
static EXPECTED: [u8; harness::COUNT] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/expected-int8.bin"));

/// Classifies an image: the int8 input is each byte less 128 (scale 1/255, zero point −128),
/// four bytes at a time.
#[inline(never)]
fn classify(pixels: &[u8; harness::PIXELS]) -> usize {
    let mut x = [0i8; harness::PIXELS];
    for (x, p) in x
        .as_chunks_mut::<4>()
        .0
        .iter_mut()
        .zip(pixels.as_chunks::<4>().0)
    {
        *x = (u32::from_ne_bytes(*p) ^ 0x8080_8080)
            .to_ne_bytes()
            .map(|b| b as i8);
    }
    NET.classify(&x)
}

#[entry]
fn main() -> ! {
    harness::run(&EXPECTED, classify)
}
