//! Batch normalisation (section 6.3): the backward pass against numerical gradients of the
//! training-mode loss, the statistics by hand, the running averages at inference, and the
//! running averages saved in model files as state, not parameters.

use crate::common;

use constnn::layers::{Affine, BatchNorm, Relu, Train};
use constnn::matrix::Zeros;
use constnn::{Layer, Network, Sgd, chain};

/// Backprop through two BatchNorm layers — γ, β and everything upstream of them through the
/// batch's mean and variance — equals the numerical gradient of the training-mode loss.
#[test]
fn batch_norm_gradients_match_numerical_gradients() {
    let mut rng = common::rng(51);
    let mut net = Network::from_layers(chain![
        Affine::<f64, 4, 6>::new(0.7, &mut rng),
        BatchNorm::new(),
        Relu::new(),
        Affine::<f64, 6, 5>::new(0.7, &mut rng),
        BatchNorm::new(),
        Relu::new(),
        Affine::<f64, 5, 3>::new(0.7, &mut rng),
    ]);
    // γ and β away from 1 and 0, so that their gradients matter.
    for k in [2, 3, 6, 7] {
        common::for_trained(&mut net.layers, k, |v| {
            for (i, x) in v.iter_mut().enumerate() {
                *x += 0.1 * i as f64 - 0.2;
            }
        });
    }
    let x: [[f64; 4]; 5] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let t = [2u8, 0, 1, 1, 0];
    let names: Vec<String> = (0..net.param_count())
        .map(|k| net.param_id(k).to_string())
        .collect();
    assert_eq!(
        names,
        [
            "W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"
        ]
    );
    let numerical = common::numerical_gradients(&mut net, 1e-5, |n| common::train_loss(n, &x, &t));
    net.gradient(&x, &t).unwrap();
    let backprop: Vec<f64> = common::params_of(&mut net.layers)
        .into_iter()
        .flat_map(|(_, _, g)| g)
        .collect();
    assert_eq!(numerical.len(), backprop.len());
    for (j, (n, b)) in numerical.iter().zip(&backprop).enumerate() {
        assert!(
            (n - b).abs() < 1e-6,
            "value {j}: numerical {n}, backprop {b}"
        );
    }
    // b1 and b2 feed a BatchNorm, which subtracts the batch mean: their gradients are zero.
    let b1 = &common::params_of(&mut net.layers)[1].2;
    assert!(b1.iter().all(|g| g.abs() < 1e-12), "{b1:?}");
}

/// In training each column comes out with mean β and standard deviation γ (to the 10⁻⁶ in
/// the root); each step moves the running averages 10% of the way to the batch's; at
/// inference the layer normalises by them.
#[test]
fn statistics_by_hand_and_running_averages_at_inference() {
    let mut bn = BatchNorm::<f64, 2>::new();
    bn.gamma = [2.0, 1.0];
    bn.beta = [0.5, -1.0];
    let x = [[1.0, 4.0], [2.0, 4.0], [6.0, 4.0], [3.0, 4.0]];
    let (mut out, mut tape) = ([[0.0; 2]; 4], Zeros::zeros());
    bn.forward_train(&x, &mut tape, &mut out);
    // Column 0: μ = 3, σ² = (4 + 1 + 9 + 0) / 4 = 3.5; column 1 is constant: xn = 0.
    let std = (3.5f64 + 1e-6).sqrt();
    for (o, x) in out.iter().zip(&x) {
        assert!((o[0] - (2.0 * (x[0] - 3.0) / std + 0.5)).abs() < 1e-12);
        assert_eq!(o[1], -1.0);
    }
    for step in 1..=40 {
        bn.backward(&x, &mut tape, &out, &[[0.0; 2]; 4], None);
        let share = 1.0 - 0.9f64.powi(step);
        assert!(
            (bn.running_mean()[0] - 3.0 * share).abs() < 1e-9,
            "step {step}"
        );
        assert!(
            (bn.running_var()[0] - 3.5 * share).abs() < 1e-9,
            "step {step}"
        );
    }
    // Inference: normalised by the running averages, about the batch's by now.
    let mut inferred = [[0.0; 2]; 4];
    bn.forward(&x, &mut inferred);
    let (m, v) = (bn.running_mean()[0], bn.running_var()[0]);
    assert!((inferred[2][0] - (2.0 * (6.0 - m) / (v + 1e-6).sqrt() + 0.5)).abs() < 1e-12);
    assert!((inferred[2][0] - out[2][0]).abs() < 0.1);
}

/// A network with BatchNorm trains (its loss falls), its model file holds γ, β and the
/// running averages (`running_mean1`, `running_var1`: state, not parameters), and loads back
/// into a network that infers the same.
#[test]
fn running_averages_travel_in_the_model_file() {
    let mut rng = common::rng(52);
    let mut net = Network::from_layers(chain![
        Affine::<f32, 6, 8>::new(0.5, &mut rng),
        BatchNorm::new(),
        Relu::new(),
        Affine::<f32, 8, 3>::new(0.5, &mut rng),
    ]);
    // Each row marks its class in a column of its own, among small distractions.
    let x: [[f32; 6]; 12] = std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            if j == 2 * (i % 3) {
                2.0
            } else {
                ((i * 7 + j * 3) % 5) as f32 * 0.1
            }
        })
    });
    let t: [u8; 12] = std::array::from_fn(|i| (i % 3) as u8);
    let first = net.train_step(&x, &t, &mut Sgd::new(0.1)).unwrap();
    let mut last = first;
    for _ in 0..100 {
        last = net.train_step(&x, &t, &mut Sgd::new(0.1)).unwrap();
    }
    assert!(last < first / 2.0, "loss {first} → {last}");
    let list = constnn::layers::param_list::<Chain6>();
    let all: Vec<String> = (0..list.len()).map(|k| list.id(k).to_string()).collect();
    assert_eq!(
        all,
        [
            "W1",
            "b1",
            "gamma1",
            "beta1",
            "running_mean1",
            "running_var1",
            "W2",
            "b2"
        ]
    );
    assert_eq!(net.param_count(), 6);
    let mut bytes = vec![0u8; constnn::format::model::encoded_len(&net.layers)];
    constnn::format::model::encode(&net.layers, &mut bytes).unwrap();
    let mut back = Network::from_layers(chain![
        Affine::<f32, 6, 8>::zeros(),
        BatchNorm::new(),
        Relu::new(),
        Affine::<f32, 8, 3>::zeros(),
    ]);
    constnn::format::model::decode_into(&bytes, &mut back.layers).unwrap();
    assert_eq!(
        back.layers.rest.first.running_var(),
        net.layers.rest.first.running_var()
    );
    assert!(net.layers.rest.first.running_var().iter().any(|v| *v > 0.0));
    let (mut a, mut b) = ([[0.0f32; 3]; 12], [[1.0f32; 3]; 12]);
    net.predict(&x, &mut a);
    back.predict(&x, &mut b);
    assert_eq!(a, b);
}

type Chain6 = constnn::Chain![
    Affine<f32, 6, 8>,
    BatchNorm<f32, 8>,
    Relu<f32, 8>,
    Affine<f32, 8, 3>,
];

#[test]
fn a_batch_norm_layer_is_a_layer() {
    // The layer's own view of its tensors: γ, β, then the running averages.
    let bn = BatchNorm::<f32, 3>::new();
    let mut seen = Vec::new();
    bn.for_each_tensor(|t| seen.push((t.id.to_string(), t.values.to_vec())));
    assert_eq!(seen[0], ("gamma1".to_string(), vec![1.0; 3]));
    assert_eq!(seen[3], ("running_var1".to_string(), vec![0.0; 3]));
}
