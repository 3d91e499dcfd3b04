// The book's MultiLayerNet and MultiLayerNetExtend as types, built from layers of the same
// widths, and trained a step.
use constnn::layers::{Affine, BatchNorm, Dropout, Relu};
use constnn::matrix::Heap;
use constnn::{MultiLayerNet, MultiLayerNetExtend, Network, Sgd, chain};

type Net = MultiLayerNet![f32, Heap; 784, 100, 50, 10];
type Extended = MultiLayerNetExtend![f32, Heap; 8, 6, 4, 3; batch_norm, dropout];

fn main() {
    let mut net: Net = Network::from_layers(chain![
        Affine::<f32, 784, 100, Heap>::zeros(),
        Relu::new(),
        Affine::<f32, 100, 50, Heap>::zeros(),
        Relu::new(),
        Affine::zeros(),
    ]);
    let x = constnn::matrix::boxed_zeros::<f32, 2, 784>();
    net.train_step(&x, &[1u8, 2], &mut Sgd::new(0.1)).unwrap();
    let mut extended: Extended = Network::from_layers(chain![
        Affine::zeros(),
        BatchNorm::new(),
        Relu::new(),
        Dropout::new(0.5, 1),
        Affine::zeros(),
        BatchNorm::new(),
        Relu::new(),
        Dropout::new(0.5, 2),
        Affine::zeros(),
    ]);
    extended.train_step(&[[0.5f32; 8]; 4], &[0u8, 1, 2, 0], &mut Sgd::new(0.1)).unwrap();
}
