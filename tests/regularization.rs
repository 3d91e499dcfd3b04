//! Chapter 6.4's regularisation: weight decay (L2) and Dropout, checked against numerical
//! gradients of the decayed or masked loss and against the book's formulas by hand.

use crate::common;

use constnn::layers::{Affine, Relu, Sigmoid, Train};
use constnn::optim::Optimizer;
use constnn::{Network, chain};

/// Weight decay's gradient, backprop's `dW + λ·W` (what `WeightDecay` steps with), equals
/// the numerical gradient of the decayed loss `L + ½λΣW²` (`decay_loss`); biases have no
/// decay term. Equal to 1e-7.
#[test]
fn weight_decay_gradients_match_numerical_gradients_of_the_decayed_loss() {
    let lambda = 0.3;
    let mut rng = common::rng(41);
    let mut net = Network::from_layers(chain![
        Affine::<f64, 6, 5>::new(0.5, &mut rng),
        Relu::new(),
        Affine::<f64, 5, 4>::new(0.5, &mut rng),
        Sigmoid::new(),
        Affine::<f64, 4, 3>::new(0.5, &mut rng),
    ]);
    let x: [[f64; 6]; 4] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let t = [2u8, 0, 1, 1];
    let numerical = common::numerical_gradients(&mut net, 1e-5, |n| {
        n.loss(&x, &t).unwrap() + n.decay_loss(lambda)
    });
    net.gradient(&x, &t).unwrap();
    let mut decayed = Vec::new();
    net.layers.for_each_param(|p| {
        let matrix = matches!(p.shape, constnn::params::Shape::Matrix(..));
        for (g, w) in p.grad.iter().zip(p.value.iter()) {
            decayed.push(if matrix { g + lambda * w } else { *g });
        }
    });
    assert_eq!(numerical.len(), decayed.len());
    for (n, d) in numerical.iter().zip(&decayed) {
        assert!((n - d).abs() < 1e-7, "numerical {n} against {d}");
    }
    // And what WeightDecay steps with is that gradient: one SGD step of 1 moves p by it.
    let before = common::params_of(&mut net.layers);
    constnn::WeightDecay::new(lambda, constnn::Sgd::new(1.0)).update(&mut net.layers);
    let after = common::params_of(&mut net.layers);
    let moved: Vec<f64> = before
        .iter()
        .zip(&after)
        .flat_map(|((_, b, _), (_, a, _))| b.iter().zip(a).map(|(b, a)| b - a).collect::<Vec<_>>())
        .collect();
    for (m, d) in moved.iter().zip(&decayed) {
        assert!((m - d).abs() < 1e-15, "moved {m}, gradient {d}");
    }
}

/// The decay term is `½λ·ΣW²` over the weight matrices only, by hand.
#[test]
fn the_decay_term_is_half_lambda_times_the_squared_weights() {
    let net = Network::from_layers(chain![
        Affine::<f64, 2, 2>::from_parts([[1.0, -2.0], [0.5, 0.0]], [7.0, 7.0]),
        Relu::new(),
        Affine::<f64, 2, 2>::from_parts([[3.0, 0.0], [0.0, -1.0]], [9.0, -9.0]),
    ]);
    // ΣW² = 1 + 4 + 0.25 + 9 + 1 = 15.25; biases do not count.
    assert_eq!(net.decay_loss(0.1), 0.5 * 0.1 * 15.25);
    assert_eq!(net.decay_loss(0.0), 0.0);
}

/// Dropout's backward pass against the numerical gradient of the training-mode loss with the
/// step's mask (the mask stays until `backward` counts the step): equal to 1e-6, what the
/// loss's `1e-7` inside the logarithm leaves (backprop's `y − t` ignores it: a relative 1e-7/y).
#[test]
fn dropout_gradients_match_numerical_gradients_of_the_masked_loss() {
    use constnn::layers::Dropout;
    let mut rng = common::rng(43);
    let mut net = Network::from_layers(chain![
        Affine::<f64, 5, 40>::new(0.3, &mut rng),
        Relu::new(),
        Dropout::new(0.5, 99),
        Affine::<f64, 40, 3>::new(0.3, &mut rng),
    ]);
    let x: [[f64; 5]; 4] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let t = [2u8, 0, 1, 1];
    let numerical = common::numerical_gradients(&mut net, 1e-5, |n| common::train_loss(n, &x, &t));
    let step = net.layers.rest.rest.first.steps();
    let loss = net.gradient(&x, &t).unwrap();
    assert_eq!(net.layers.rest.rest.first.steps(), step + 1);
    let backprop: Vec<f64> = common::params_of(&mut net.layers)
        .into_iter()
        .flat_map(|(_, _, g)| g)
        .collect();
    assert_eq!(numerical.len(), backprop.len());
    let worst = numerical
        .iter()
        .zip(&backprop)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let at = numerical
        .iter()
        .zip(&backprop)
        .position(|(a, b)| (a - b).abs() == worst);
    assert!(
        worst < 1e-6,
        "largest |numerical − backprop| {worst:e} at {at:?}: {:?}",
        at.map(|i| (numerical[i], backprop[i]))
    );
    // Half the hidden units were dropped: some of W2's rows have no gradient at all.
    let w2 = &common::params_of(&mut net.layers)[2].2;
    let dead_rows = w2.chunks(3).filter(|r| r.iter().all(|g| *g == 0.0)).count();
    assert!((10..30).contains(&dead_rows), "{dead_rows} of 40 rows");
    assert!(loss.is_finite());
}

/// At inference Dropout scales by `1 − ratio` exactly; in training it keeps about `1 − ratio`
/// of the values, the same ones until `backward` counts the step, new ones after; the same
/// seed gives the same masks.
#[test]
fn dropout_masks_are_fresh_each_step_and_reproducible() {
    use constnn::layers::{Dropout, Layer, Train};
    let x = [[1.5f32; 500]; 4];
    let mut out = [[0.0f32; 500]; 4];
    let mut drop = Dropout::<f32, 500>::new(0.2, 5);
    drop.forward(&x, &mut out);
    assert!(out.as_flattened().iter().all(|v| *v == 1.5 * 0.8f32));
    let mask = |d: &Dropout<f32, 500>| {
        let mut out = [[0.0f32; 500]; 4];
        d.forward_train(&x, &mut (), &mut out);
        out.as_flattened()
            .iter()
            .map(|v| *v != 0.0)
            .collect::<Vec<_>>()
    };
    let first = mask(&drop);
    assert_eq!(mask(&drop), first);
    let kept = first.iter().filter(|k| **k).count() as f64 / 2000.0;
    assert!((kept - 0.8).abs() < 0.03, "kept {kept}");
    let mut dx = [[0.0f32; 500]; 4];
    drop.backward(&x, &mut (), &out, &x, Some(&mut dx));
    let from_dx: Vec<bool> = dx.as_flattened().iter().map(|v| *v != 0.0).collect();
    assert_eq!(from_dx, first, "backward's mask is the forward's");
    let second = mask(&drop);
    let same = first.iter().zip(&second).filter(|(a, b)| a == b).count();
    assert!(
        same < 1800,
        "the next step's mask should be new: {same} of 2000 alike"
    );
    let mut again = Dropout::<f32, 500>::new(0.2, 5);
    assert_eq!(mask(&again), first);
    again.backward(&x, &mut (), &out, &x, None);
    assert_eq!(mask(&again), second);
}
