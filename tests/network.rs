//! Networks: backprop against numerical gradients, composition beyond TwoLayerNet, and
//! MNIST-sized training steps on the default 2 MiB test-thread stack.

use crate::common;

use constnn::layers::{Affine, Relu, Sigmoid};
use constnn::matrix::{Heap, boxed_zeros};
use constnn::{Network, Sgd, TwoLayerNet, chain};

#[test]
fn two_layer_net_backprop_matches_numerical_gradient_in_f64() {
    let mut rng = common::rng(21);
    let mut net = TwoLayerNet::<6, 5, 4, f64>::new(0.5, &mut rng);
    let x: [[f64; 6]; 3] = common::random_matrix(&mut rng, 0.0, 1.0, 0.0);
    let t = [1u8, 3, 0];

    net.numerical_gradient(&x, &t).unwrap();
    let numerical = common::params_of(&mut net.layers);
    assert_eq!(numerical.len(), net.param_count());
    net.gradient(&x, &t).unwrap();
    let backprop = common::params_of(&mut net.layers);
    for ((id, _, num), (_, _, bp)) in numerical.iter().zip(&backprop) {
        let mean: f64 =
            num.iter().zip(bp).map(|(a, b)| (a - b).abs()).sum::<f64>() / bp.len() as f64;
        // h = 1e-4 and the 1e-7 delta bound the agreement (the book gets 1e-10 .. 1e-7).
        assert!(mean < 1e-6, "{id}: mean |numerical − backprop| = {mean:e}");
        assert!(
            bp.iter().any(|g| g.abs() > 1e-4),
            "{id}: gradient is all but zero"
        );
    }
}

#[test]
fn gradient_check_reports_w1_b1_w2_b2_in_order() {
    let mut rng = common::rng(22);
    let mut net = TwoLayerNet::<8, 6, 3, f64>::new(0.1, &mut rng);
    let x: [[f64; 8]; 3] = common::random_matrix(&mut rng, 0.0, 1.0, 0.0);
    let mut lines = Vec::new();
    net.gradient_check(&x, &[2u8, 0, 1], |c| lines.push(c))
        .unwrap();
    let names: Vec<String> = lines.iter().map(|c| c.param.to_string()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2"]);
    for c in &lines {
        // Both figures are real comparisons: small, but not the zero of backprop against
        // itself (the central difference's truncation error is about 1e-10 here).
        assert!(c.mean_abs_diff > 0.0 && c.mean_abs_diff < 1e-6, "{c:?}");
        assert!(c.max < 1e-5, "{c:?}");
    }
}

#[test]
fn accuracy_refuses_a_label_out_of_range_as_loss_does() {
    let mut rng = common::rng(27);
    let net = TwoLayerNet::<4, 3, 2>::new(0.5, &mut rng);
    let x = [[0.5f32; 4]; 3];
    let t = [0u8, 2, 1];
    let expected = constnn::BatchError::Label(constnn::LabelOutOfRange {
        row: 1,
        label: 2,
        classes: 2,
    });
    assert_eq!(net.loss(&x, &t), Err(expected));
    assert_eq!(net.accuracy(&x[..], &t), Err(expected));
    let xs = [constnn::matrix::sparse::SparseRow::EMPTY; 3];
    assert_eq!(net.accuracy(&xs, &t), Err(expected));
    // Past the first chunk, the row is counted from the start of the slice.
    let many = vec![[0.5f32; 4]; 100];
    let mut labels = vec![1u8; 100];
    labels[70] = 9;
    let e = net.accuracy(&many, &labels).unwrap_err();
    assert_eq!(
        e,
        constnn::BatchError::Label(constnn::LabelOutOfRange {
            row: 70,
            label: 9,
            classes: 2
        })
    );
}

#[test]
fn sgd_moves_every_parameter_by_minus_lr_times_its_gradient() {
    let mut rng = common::rng(23);
    let mut net = TwoLayerNet::<4, 3, 2, f64>::new(1.0, &mut rng);
    let x: [[f64; 4]; 2] = common::random_matrix(&mut rng, 0.0, 1.0, 0.0);
    net.gradient(&x, &[0u8, 1]).unwrap();
    let before = common::params_of(&mut net.layers);
    constnn::Optimizer::update(&mut Sgd::new(0.25), &mut net.layers);
    let after = common::params_of(&mut net.layers);
    assert_eq!(before.len(), 4);
    for ((_, old, g), (_, new, _)) in before.iter().zip(&after) {
        for ((o, n), g) in old.iter().zip(new).zip(g) {
            assert_eq!(*n, o - 0.25 * g);
        }
    }
}

/// A network of three affine layers, built from the same parts as TwoLayerNet.
type ThreeLayer = Network<
    constnn::Chain<
        Affine<f32, 784, 100, Heap>,
        constnn::Chain<
            Relu<f32, 100>,
            constnn::Chain<
                Affine<f32, 100, 50, Heap>,
                constnn::Chain<Sigmoid<f32, 50>, Affine<f32, 50, 10, Heap>>,
            >,
        >,
    >,
>;

#[test]
fn a_three_layer_784_100_50_10_network_composes_and_learns() {
    let mut rng = common::rng(24);
    let mut net: ThreeLayer = Network::from_layers(chain![
        Affine::new(0.05, &mut rng),
        Relu::new(),
        Affine::new(0.1, &mut rng),
        Sigmoid::new(),
        Affine::new(0.1, &mut rng),
    ]);
    assert_eq!(net.param_count(), 6);
    assert_eq!(net.param_id(4).to_string(), "W3");

    // A learnable task at MNIST's shapes: the class is which tenth of the row is brightest.
    let mut x = boxed_zeros::<f32, 100, 784>();
    let mut t = [0u8; 100];
    for (n, (row, label)) in x.iter_mut().zip(&mut t).enumerate() {
        *label = (n % 10) as u8;
        for (i, v) in row.iter_mut().enumerate() {
            *v = if i * 10 / 784 == n % 10 { 1.0 } else { 0.1 };
        }
    }
    let mut sgd = Sgd::new(0.5);
    let first = net.train_step(&x, &t, &mut sgd).unwrap();
    let mut last = first;
    for _ in 0..60 {
        last = net.train_step(&x, &t, &mut sgd).unwrap();
    }
    assert!(first > 2.2 && last < first / 4.0, "loss {first} → {last}");
    assert_eq!(net.accuracy(&x[..], &t).unwrap(), 1.0);
}

#[test]
fn a_full_mnist_sized_training_step_at_batch_100_runs_in_a_plain_test() {
    let mut rng = common::rng(25);
    let mut net = TwoLayerNet::<784, 50, 10, f32, Heap>::new(0.01, &mut rng);
    let mut x = boxed_zeros::<f32, 100, 784>();
    for v in x.as_flattened_mut() {
        *v = common::uniform(&mut rng, 0.0, 1.0) as f32;
    }
    let t: [u8; 100] = core::array::from_fn(|n| (n * 7 % 10) as u8);
    let loss = net.train_step(&x, &t, &mut Sgd::new(0.1)).unwrap();
    // Weights of 0.01 · N(0,1): every class about equally likely, loss about ln 10.
    assert!((loss - 10f32.ln()).abs() < 0.05, "{loss}");
    assert!(net.b2().iter().any(|b| *b != 0.0), "SGD must have moved b2");
}
