// An int8 network of another hidden width compiled in from the int8 MNIST model file: the build
// fails, naming the reason, instead of the run.
use constnn::quant::{QuantAffine, QuantNet};
use constnn::{Chain, include_model};

type Int8 = QuantNet<Chain<QuantAffine<784, 40>, QuantAffine<40, 10>>>;

static NET: Int8 = include_model!(Int8, "../../../firmware/model/mnist-784-50-10-int8.cnnm");

fn main() {
    let _ = &NET;
}
