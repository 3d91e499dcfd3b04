// The book's MultiLayerNet with hidden widths 100 and 50: a network whose second layer is
// built 60 wide does not compile, whatever the layers' own types say.
use constnn::layers::{Affine, Relu};
use constnn::matrix::Heap;
use constnn::{MultiLayerNet, Network, chain};

type Net = MultiLayerNet![f32, Heap; 784, 100, 50, 10];

fn main() {
    let _net: Net = Network::from_layers(chain![
        Affine::<f32, 784, 100, Heap>::zeros(),
        Relu::new(),
        Affine::<f32, 100, 60, Heap>::zeros(),
        Relu::new(),
        Affine::zeros(),
    ]);
}
