// The f32 MNIST network compiled in from the int8 model file: the build fails on the dtype.
use constnn::TwoLayerNet;
use constnn::matrix::Frozen;
use constnn::include_model;

type Net = TwoLayerNet<784, 50, 10, f32, Frozen>;

static NET: Net = include_model!(Net, "../../../firmware/model/mnist-784-50-10-int8.cnnm");

fn main() {
    let _ = &NET;
}
