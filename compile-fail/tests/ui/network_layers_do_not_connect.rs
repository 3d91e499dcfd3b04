// Affine 784→50 followed by Affine 100→10: 50-wide rows cannot feed a 100-wide layer.
use constnn::chain;
use constnn::layers::{Affine, Relu};

fn main() {
    let _net = chain![
        Affine::<f32, 784, 50>::zeros(),
        Relu::<f32, 50>::new(),
        Affine::<f32, 100, 10>::zeros(),
    ];
}
