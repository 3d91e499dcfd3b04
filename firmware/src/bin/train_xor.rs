//! Chapter 6 on the Cortex-M4F, in the `no_std`, heap-free core: the book's
//! `MultiLayerNetExtend` with BatchNorm and Dropout, He-initialised from NumPy's stream, learns
//! XOR with each of the six optimisers, weight decay on one of them, all state on the stack.
//!
//! Prints each run's loss before and after and its accuracy; exits 0 only if every run
//! classifies all four points and its loss fell at least tenfold, 1 otherwise (or on a panic or
//! fault).
#![no_std]
#![no_main]

use constnn::init::{NumpyRandom, WeightInit};
use constnn::matrix::Inline;
use constnn::optim::{AdaGrad, Adam, Momentum, Nesterov, Optimizer, RmsProp, Sgd, WeightDecay};
use constnn::{Layer, MultiLayerNetExtend, Network};
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;

type Net = MultiLayerNetExtend![f32, Inline; 2, 16, 16, 2; batch_norm, dropout];
type Layers = <Net as Layers_>::Of;

/// The layers' type of a `Network`, to name the optimisers' types.
trait Layers_ {
    type Of;
}
impl<L> Layers_ for Network<L> {
    type Of = L;
}

const X: [[f32; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
const T: [u8; 4] = [0, 1, 1, 0];
const STEPS: usize = 400;

/// Trains a fresh network with `opt` and reports; true if it learnt XOR.
fn learn(name: &str, opt: &mut impl Optimizer<Layers>) -> bool {
    let mut net = Net::default();
    let mut np = NumpyRandom::seed(0);
    net.init_weights(WeightInit::He, || np.randn());
    net.layers.set_dropout(0.1, 1);
    let before = net.loss(&X, &T).unwrap();
    for _ in 0..STEPS {
        net.train_step(&X, &T, opt).unwrap();
    }
    let after = net.loss(&X, &T).unwrap();
    let accuracy = net.accuracy(&X, &T).unwrap();
    hprintln!(
        "{}: loss {} -> {} after {} steps, accuracy {}",
        name,
        before,
        after,
        STEPS,
        accuracy
    );
    accuracy == 1.0 && after < before / 10.0
}

#[entry]
fn main() -> ! {
    let mut ok = true;
    ok &= learn("SGD", &mut Sgd::new(0.1));
    ok &= learn("Momentum", &mut Momentum::new(0.1, 0.9));
    ok &= learn("Nesterov", &mut Nesterov::new(0.1, 0.9));
    ok &= learn("AdaGrad", &mut AdaGrad::new(0.1));
    ok &= learn("RMSprop", &mut RmsProp::new(0.01, 0.99));
    ok &= learn("Adam", &mut Adam::new(0.01, 0.9, 0.999));
    ok &= learn(
        "Momentum with weight decay 1e-4",
        &mut WeightDecay::new(1e-4, Momentum::new(0.1, 0.9)),
    );
    hprintln!("{}", if ok { "all learnt XOR" } else { "FAILED" });
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HardFault at PC {:#010x}", frame.pc());
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
