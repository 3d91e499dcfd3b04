// An Affine layer with 784 inputs fed a batch of 785-wide rows.
use constnn::layers::{Affine, Layer};

fn main() {
    let layer = Affine::<f32, 784, 50>::zeros();
    let x = [[0.0f32; 785]; 2];
    let mut y = [[0.0f32; 50]; 2];
    layer.forward(&x, &mut y);
}
