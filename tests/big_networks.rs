//! A wide network trains on a plain test thread (2 MiB of stack): its weights live on the heap
//! (`Heap` storage) and so do its activations (a chain's tape, kept in a `Workspace`).

use crate::common;

use constnn::layers::{Affine, Chain, Relu};
use constnn::matrix::{Heap, boxed_zeros};
use constnn::network::Workspace;
use constnn::{Network, Sgd, chain};

type Wide = Network<
    Chain<
        Affine<f32, 784, 1024, Heap>,
        Chain<
            Relu<f32, 1024>,
            Chain<
                Affine<f32, 1024, 1024, Heap>,
                Chain<Relu<f32, 1024>, Affine<f32, 1024, 10, Heap>>,
            >,
        >,
    >,
>;

#[test]
fn a_784_1024_1024_10_network_trains_at_batch_256_on_a_test_thread() {
    let mut rng = common::rng(41);
    let mut net: Wide = Network::from_layers(chain![
        Affine::new(0.03, &mut rng),
        Relu::new(),
        Affine::new(0.03, &mut rng),
        Relu::new(),
        Affine::new(0.03, &mut rng),
    ]);
    // A learnable task at MNIST's width: the class is which tenth of the row is brightest.
    let mut x = boxed_zeros::<f32, 256, 784>();
    let mut t = [0u8; 256];
    for (n, (row, label)) in x.iter_mut().zip(&mut t).enumerate() {
        *label = (n * 7 % 10) as u8;
        for (i, v) in row.iter_mut().enumerate() {
            *v = if i * 10 / 784 == usize::from(*label) {
                1.0
            } else {
                0.05
            };
        }
    }
    let mut workspace = Workspace::new();
    let mut sgd = Sgd::new(0.1);
    let first = net
        .train_step_with(&mut workspace, &x, &t, &mut sgd)
        .unwrap();
    assert!(
        (first - 10f32.ln()).abs() < 0.1,
        "small weights: about ln 10, got {first}"
    );
    let mut last = first;
    for _ in 0..7 {
        last = net
            .train_step_with(&mut workspace, &x, &t, &mut sgd)
            .unwrap();
    }
    assert!(last < first / 2.0, "loss {first} → {last}");
    // The plain step (a workspace of its own) gives the same loss as one kept between steps.
    let mut again = net.clone();
    let kept = net.gradient_with(&mut workspace, &x, &t).unwrap();
    assert_eq!(kept, again.gradient(&x, &t).unwrap());
    assert_eq!(net.correct(&x[..], &t).unwrap(), 256);
}
