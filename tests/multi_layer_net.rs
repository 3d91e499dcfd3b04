//! The book's MultiLayerNet and MultiLayerNetExtend as types: initialised as the book draws
//! them, trained with BatchNorm and Dropout, their Dropout layers configured together.

use constnn::init::{NumpyRandom, WeightInit};
use constnn::layers::Train;
use constnn::matrix::Heap;
use constnn::{Layer, MultiLayerNet, MultiLayerNetExtend, Sgd};

/// `init_weights(He)` draws W1, then W2, then W3 from the stream, each `√(2/n)·randn(n, m)`,
/// as the book's `MultiLayerNet(weight_init_std='relu')` after `np.random.seed(0)`.
#[test]
fn init_weights_draws_as_the_books_multi_layer_net() {
    type Net = MultiLayerNet![f64, Heap; 784, 100, 100, 10];
    let mut net = Net::default();
    let mut np = NumpyRandom::seed(0);
    net.init_weights(WeightInit::He, || np.randn());
    let mut expected = NumpyRandom::seed(0);
    let mut tensors = Vec::new();
    net.layers
        .for_each_tensor(|t| tensors.push((t.id.to_string(), t.values.to_vec())));
    let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2", "W3", "b3"]);
    for (name, values) in &tensors {
        if name.starts_with('b') {
            assert!(values.iter().all(|v| *v == 0.0), "{name}");
            continue;
        }
        let inputs = if name == "W1" { 784.0 } else { 100.0 };
        for v in values {
            assert_eq!(*v, (2.0f64 / inputs).sqrt() * expected.randn(), "{name}");
        }
    }
}

/// MultiLayerNetExtend with BatchNorm and Dropout learns a small task; `set_dropout` numbers
/// its Dropout layers' seeds in order; Xavier and a fixed σ draw other scales.
#[test]
fn an_extended_net_with_batch_norm_and_dropout_learns() {
    type Net = MultiLayerNetExtend![f64, Heap; 6, 32, 32, 3; batch_norm, dropout];
    let mut net = Net::default();
    let mut np = NumpyRandom::seed(3);
    net.init_weights(WeightInit::Xavier, || np.randn());
    let w1 = net.layers.first.w()[0][0];
    let mut again = NumpyRandom::seed(3);
    assert_eq!(w1, (1.0f64 / 6.0).sqrt() * again.randn());
    assert_eq!(net.layers.set_dropout(0.1, 40), 42);
    let x: [[f64; 6]; 30] = std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            if j == 2 * (i % 3) {
                1.0
            } else {
                ((i * 5 + j) % 7) as f64 * 0.1
            }
        })
    });
    let t: [u8; 30] = std::array::from_fn(|i| (i % 3) as u8);
    let before = net.loss(&x, &t).unwrap();
    let mut sgd = Sgd::new(0.1);
    for _ in 0..300 {
        net.train_step(&x, &t, &mut sgd).unwrap();
    }
    let after = net.loss(&x, &t).unwrap();
    assert!(after < before / 4.0, "loss {before} → {after}");
    assert_eq!(net.accuracy(&x, &t).unwrap(), 1.0);
    // The Dropout layers counted 300 steps each.
    let first_dropout = &net.layers.rest.rest.rest.first;
    assert_eq!(first_dropout.steps(), 300);
    let mut fixed = Net::default();
    fixed.init_weights(WeightInit::Std(0.01), || 1.0);
    assert_eq!(fixed.layers.first.w()[5][31], 0.01);
    let mut count = 0;
    fixed.layers.for_each_param(|p| count += p.value.len());
    assert_eq!(
        count,
        6 * 32 + 32 + 2 * 32 + 32 * 32 + 32 + 2 * 32 + 32 * 3 + 3
    );
}
