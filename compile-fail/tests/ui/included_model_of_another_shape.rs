// A three-layer network compiled in from the two-layer MNIST model file: the build fails,
// naming the reason, instead of the run.
use constnn::layers::{Affine, Chain, Relu};
use constnn::matrix::Frozen;
use constnn::{Network, include_model};

type Deep = Network<
    Chain<
        Affine<f32, 784, 50, Frozen>,
        Chain<Relu<f32, 50>, Chain<Affine<f32, 50, 50, Frozen>, Chain<Relu<f32, 50>, Affine<f32, 50, 10, Frozen>>>>,
    >,
>;

static NET: Deep = include_model!(Deep, "../../../firmware/model/mnist-784-50-10.cnnm");

fn main() {
    let _ = &NET;
}
