// Firmware embedding the 784-50-10 MNIST model into a network declared 784-100-10: the build
// fails, naming the reason, instead of the run.
use constnn::TwoLayerNet;
use constnn::matrix::Frozen;

static NET: TwoLayerNet<784, 100, 10, f32, Frozen> =
    TwoLayerNet::from_model(include_bytes!("../../../firmware/model/mnist-784-50-10.cnnm"));

fn main() {
    let _ = NET.b2();
}
