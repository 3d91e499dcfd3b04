//! Training on the real MNIST files in `data/mnist` takes test accuracy far above chance.

use crate::examples_common as common;

use constnn::init::below;
use constnn::matrix::{Heap, boxed_zeros};
use constnn::{Sgd, TwoLayerNet};
use rand_core::SeedableRng;
use std::path::Path;

#[test]
fn three_hundred_iterations_take_test_accuracy_from_chance_to_above_85_percent() {
    let mnist = common::load_mnist(Path::new(common::DEFAULT_DATA_DIR)).unwrap();
    let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
    let mut net = TwoLayerNet::<784, 50, 10, f32, Heap>::new(0.01, &mut rng);
    let test = mnist.test.images(0..mnist.test.len());
    let before = net.accuracy(&test, mnist.test.labels()).unwrap();
    assert!(before < 0.3, "untrained accuracy {before}");

    let mut x = boxed_zeros::<f32, 100, 784>();
    let mut t = [0u8; 100];
    let mut sgd = Sgd::new(0.1);
    for _ in 0..300 {
        for (row, label) in x.iter_mut().zip(&mut t) {
            let k = below(&mut rng, 60_000) as usize;
            mnist.train.image_into(k, row);
            *label = mnist.train.labels()[k];
        }
        net.train_step(&x, &t, &mut sgd).unwrap();
    }
    let after = net.accuracy(&test, mnist.test.labels()).unwrap();
    // The example's evaluation, from the images kept sparse (and the first layer's weights on
    // lines, for 10 000 of them), counts the same.
    let sparse = mnist.test.sparse();
    let images: Vec<_> = sparse.iter().collect();
    let correct = net.correct(&images, mnist.test.labels()).unwrap();
    assert_eq!(correct, (after * mnist.test.len() as f64).round() as usize);
    assert!(after > 0.85, "test accuracy after 300 iterations: {after}");
}
