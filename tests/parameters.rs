//! Parameters come from one declaration per layer: the list of names and shapes (a `const`),
//! the typed accessors, model files, and optimisers' state shaped like the network.

use crate::common;

use constnn::layers::{Affine, Chain, Relu, Sigmoid, Train, param_list};
use constnn::matrix::{Frozen, Heap, Inline};
use constnn::optim::Optimizer;
use constnn::params::{Moments, ParamList, Shape};
use constnn::{Layer, Momentum, Network, Sgd, TwoLayerNet, chain};

/// Three Affine layers with a Sigmoid and a ReLU between them.
type Deep<T> = Chain<
    Affine<T, 5, 4>,
    Chain<Sigmoid<T, 4>, Chain<Affine<T, 4, 3>, Chain<Relu<T, 3>, Affine<T, 3, 2>>>>,
>;

fn deep<T: constnn::Float>(seed: u64) -> Deep<T> {
    let mut rng = common::rng(seed);
    chain![
        Affine::new(0.5, &mut rng),
        Sigmoid::new(),
        Affine::new(0.5, &mut rng),
        Relu::new(),
        Affine::new(0.5, &mut rng),
    ]
}

/// The declared list, evaluated while compiling: a wrong count or shape fails the build.
const DEEP: ParamList = param_list::<Deep<f32>>();
const _: () = assert!(DEEP.len() == 6 && DEEP.values() == 5 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2);

#[test]
fn a_chain_declares_its_layers_tensors_in_order_with_the_books_names() {
    let ids: Vec<String> = (0..DEEP.len()).map(|k| DEEP.id(k).to_string()).collect();
    assert_eq!(ids, ["W1", "b1", "W2", "b2", "W3", "b3"]);
    let shapes: Vec<Shape> = (0..DEEP.len()).map(|k| DEEP.shape(k).unwrap()).collect();
    assert_eq!(
        shapes,
        [
            Shape::Matrix(5, 4),
            Shape::Vector(4),
            Shape::Matrix(4, 3),
            Shape::Vector(3),
            Shape::Matrix(3, 2),
            Shape::Vector(2)
        ]
    );
    assert_eq!(DEEP.get(6), None);
}

#[test]
fn the_walks_yield_the_fields_themselves_in_the_declared_order() {
    let mut net = deep::<f64>(1);
    let mut seen = Vec::new();
    net.for_each_tensor(|t| seen.push((t.id.to_string(), t.shape, t.values.to_vec())));
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0].2, net.first.w().as_flattened());
    assert_eq!(seen[1].2, net.first.b);
    let w3 = net.rest.rest.rest.rest.w().as_flattened().to_vec();
    assert_eq!(seen[4], ("W3".to_owned(), Shape::Matrix(3, 2), w3));
    // The typed accessor: the declaration fixes these types.
    let ((w1, b1), (_, ((w2, _), _))) = net.params();
    let (w1, b1, w2): (&[[f64; 4]; 5], &[f64; 4], &[[f64; 3]; 4]) = (w1, b1, w2);
    assert_eq!(
        (w1[4][3], b1[0], w2[0][0]),
        (seen[0].2[19], 0.0, seen[2].2[0])
    );
    // Gradients beside their values, in the same order.
    let x = [[0.5; 5], [-1.0; 5]];
    let mut tape = constnn::matrix::Zeros::zeros();
    let mut out = [[0.0; 2]; 2];
    net.forward_train(&x, &mut tape, &mut out);
    net.backward(&x, &mut tape, &out, &[[1.0, -1.0]; 2], None);
    let mut k = 0;
    net.for_each_param(|p| {
        assert_eq!(p.id.to_string(), seen[k].0);
        assert_eq!(p.value.len(), p.grad.len());
        assert_eq!(p.shape.len(), p.grad.len());
        k += 1;
    });
    assert_eq!(k, 6);
    let (_, grads) = net.params_and_grads();
    let db3: &mut [f64; 2] = grads.1.1.1.1.1;
    assert_eq!(*db3, [2.0, -2.0], "db = Σ over the batch of dout");
}

#[test]
fn a_three_layer_sigmoid_chain_round_trips_through_a_model_file() {
    let net = deep::<f32>(2);
    let mut bytes = vec![0u8; constnn::format::model::encoded_len(&net)];
    let n = constnn::format::model::encode(&net, &mut bytes).unwrap();
    // Header 8, three matrix records of 9 and three vector records of 5, the values, CRC.
    assert_eq!(n, 8 + 3 * 9 + 3 * 5 + 4 * DEEP.values() + 4);
    let mut back = Deep::<f32>::default_zeros();
    constnn::format::model::decode_into(&bytes, &mut back).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    net.for_each_tensor(|t| a.extend_from_slice(t.values));
    back.for_each_tensor(|t| b.extend_from_slice(t.values));
    assert_eq!(a, b);
    // A file of another chain (the last layer 3→4) is refused, naming the tensor.
    let other = chain![
        Affine::<f32, 5, 4>::zeros(),
        Sigmoid::new(),
        Affine::<f32, 4, 3>::zeros(),
        Relu::new(),
        Affine::<f32, 3, 4>::zeros(),
    ];
    let mut buf = vec![0u8; constnn::format::model::encoded_len(&other)];
    constnn::format::model::encode(&other, &mut buf).unwrap();
    let e = constnn::format::model::decode_into(&buf, &mut back).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tensor W3 has shape (3, 4) in the file but the network needs (3, 2)"
    );
}

trait DefaultZeros {
    fn default_zeros() -> Self;
}

impl DefaultZeros for Deep<f32> {
    fn default_zeros() -> Self {
        chain![
            Affine::zeros(),
            Sigmoid::new(),
            Affine::zeros(),
            Relu::new(),
            Affine::zeros(),
        ]
    }
}

#[test]
fn moments_are_kept_where_the_layer_keeps_its_weights() {
    use std::mem::size_of;
    // Inline: by value, two buffers of W (12 values) and of b (3).
    assert_eq!(
        size_of::<Moments<Affine<f32, 4, 3, Inline>, 2>>(),
        2 * (12 + 3) * 4
    );
    // Heap: each W-shaped buffer boxed (a pointer each), the small bias buffers by value.
    assert_eq!(
        size_of::<Moments<Affine<f32, 784, 50, Heap>, 2>>(),
        2 * size_of::<Box<[[f32; 50]; 784]>>() + 2 * 50 * 4
    );
    let m = <Affine<f32, 784, 50, Heap> as Train>::moments::<2>();
    assert!(
        m.0.iter()
            .all(|w| w.as_flattened().iter().all(|v| *v == 0.0))
    );
    // A frozen layer keeps no gradient buffers at all: just its weights and biases.
    assert_eq!(
        size_of::<Affine<f32, 784, 50, Frozen>>(),
        (784 * 50 + 50) * 4
    );
}

/// Momentum by hand, in T: two steps with gradient g on each element.
fn momentum_steps<T: constnn::Float>() {
    let mut net = TwoLayerNet::<3, 2, 2, T>::new(1.0, &mut common::rng(3));
    let start = common::params_of(&mut net.layers);
    let (lr, alpha, g) = (T::from_f64(0.1), T::from_f64(0.9), T::from_f64(0.25));
    let mut opt = Momentum::new(lr, alpha);
    for _ in 0..2 {
        net.layers.for_each_param(|p| p.grad.fill(g));
        opt.update(&mut net.layers);
    }
    let v1 = T::ZERO * alpha - lr * g;
    let v2 = alpha * v1 - lr * g;
    for ((_, w0, _), (_, w2, _)) in start.iter().zip(&common::params_of(&mut net.layers)) {
        for (a, b) in w0.iter().zip(w2) {
            assert_eq!(*b, *a + v1 + v2);
        }
    }
}

#[test]
fn momentum_follows_the_books_rule_in_f32_and_f64() {
    momentum_steps::<f32>();
    momentum_steps::<f64>();
}

#[test]
fn momentum_trains_a_network_through_train_step_and_heap_storage() {
    let mut rng = common::rng(4);
    let mut net = TwoLayerNet::<2, 8, 2, f32, Heap>::new(1.0, &mut rng);
    let x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let t = [0u8, 1, 1, 0];
    let mut opt = Momentum::new(0.1, 0.9);
    let first = net.train_step(&x, &t, &mut opt).unwrap();
    for _ in 0..500 {
        net.train_step(&x, &t, &mut opt).unwrap();
    }
    let last = net.loss(&x, &t).unwrap();
    assert!(last < first / 10.0, "loss {first} → {last}");
    assert_eq!(net.accuracy(&x, &t).unwrap(), 1.0);
}

#[test]
fn sgd_and_momentum_are_optimisers_of_any_chain() {
    fn step<L: Train<Scalar = f32>>(net: &mut Network<L>, opt: &mut impl Optimizer<L>) {
        opt.update(&mut net.layers);
    }
    let mut net = Network::from_layers(deep::<f32>(5));
    let before = common::params_of(&mut net.layers);
    net.layers.for_each_param(|p| p.grad.fill(1.0));
    step(&mut net, &mut Sgd::new(0.5));
    let mut momentum = Momentum::new(0.5, 0.9);
    step(&mut net, &mut momentum);
    for ((_, a, _), (_, b, _)) in before.iter().zip(&common::params_of(&mut net.layers)) {
        for (a, b) in a.iter().zip(b) {
            assert_eq!(*b, *a - 0.5 - 0.5);
        }
    }
}
