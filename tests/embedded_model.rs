//! Any `chain!` network of `Frozen` layers compiles in from a model file (`include_model!`):
//! here a three-layer network with a Sigmoid and a ReLU, in f32 and f64, and one with
//! BatchNorm (its running averages from the file), checked against the networks the files were
//! written from.

use crate::common;

use constnn::layers::{Affine, BatchNorm, Relu, Sigmoid};
use constnn::matrix::{Frozen, Inline, Storage};
use constnn::{Chain, Float, Layer, Network, chain, include_model};

/// 20 → 16 (Sigmoid) → 8 (ReLU) → 4, with the storage `S`.
type Deep<T, S> = Network<
    Chain<
        Affine<T, 20, 16, S>,
        Chain<Sigmoid<T, 16>, Chain<Affine<T, 16, 8, S>, Chain<Relu<T, 8>, Affine<T, 8, 4, S>>>>,
    >,
>;

static F32: Deep<f32, Frozen> = include_model!(Deep<f32, Frozen>, "data/deep-20-16-8-4-f32.cnnm");
static F64: Deep<f64, Frozen> = include_model!(Deep<f64, Frozen>, "data/deep-20-16-8-4-f64.cnnm");

/// The network the fixtures hold: seeded, so the files can be made again.
fn trained<T: Float>() -> Deep<T, Inline> {
    let mut rng = common::rng(7);
    Network::from_layers(constnn::chain![
        Affine::new(0.5, &mut rng),
        Sigmoid::new(),
        Affine::new(0.5, &mut rng),
        Relu::new(),
        Affine::new(0.5, &mut rng),
    ])
}

/// The fixture `name` is exactly the encoding of `net`; with `REGENERATE_FIXTURES=1` it is
/// written instead.
fn check_fixture<L: Layer>(net: &L, name: &str) {
    let mut bytes = vec![0u8; constnn::format::model::encoded_len(net)];
    constnn::format::model::encode(net, &mut bytes).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    if std::env::var_os("REGENERATE_FIXTURES").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    assert!(
        std::fs::read(&path).unwrap() == bytes,
        "{name} is not the encoding of the seeded network: REGENERATE_FIXTURES=1 writes it"
    );
}

fn same_network<T: Float, S: Storage>(embedded: &Deep<T, Frozen>, net: &Deep<T, S>) {
    assert_eq!(
        common::tensors(&embedded.layers),
        common::tensors(&net.layers)
    );
    let mut rng = common::rng(8);
    let x: [[f64; 20]; 5] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let x = x.map(|r| r.map(T::from_f64));
    let (mut a, mut b) = ([[T::ZERO; 4]; 5], [[T::ZERO; 4]; 5]);
    embedded.predict(&x, &mut a);
    net.predict(&x, &mut b);
    assert_eq!(a, b, "the same numbers, bit for bit");
}

#[test]
fn a_three_layer_network_compiles_in_from_its_model_file_in_f32() {
    let net = trained::<f32>();
    check_fixture(&net.layers, "deep-20-16-8-4-f32.cnnm");
    same_network(&F32, &net);
}

#[test]
fn a_three_layer_network_compiles_in_from_its_model_file_in_f64() {
    let net = trained::<f64>();
    check_fixture(&net.layers, "deep-20-16-8-4-f64.cnnm");
    same_network(&F64, &net);
}

#[test]
fn an_embedded_network_is_its_parameters_and_nothing_else() {
    let list = <Deep<f32, Frozen> as constnn::embed::Declared>::LIST;
    assert_eq!(list.values(), 20 * 16 + 16 + 16 * 8 + 8 + 8 * 4 + 4);
    assert_eq!(std::mem::size_of::<Deep<f32, Frozen>>(), 4 * list.values());
}

/// 6 → 5 (BatchNorm, ReLU) → 3, the book's `MultiLayerNetExtend` shape, with the storage `S`.
type WithBatchNorm<T, S> =
    Network<Chain![Affine<T, 6, 5, S>, BatchNorm<T, 5>, Relu<T, 5>, Affine<T, 5, 3, S>]>;

static BN32: WithBatchNorm<f32, Frozen> =
    include_model!(WithBatchNorm<f32, Frozen>, "data/batch-norm-6-5-3-f32.cnnm");
static BN64: WithBatchNorm<f64, Frozen> =
    include_model!(WithBatchNorm<f64, Frozen>, "data/batch-norm-6-5-3-f64.cnnm");

/// The network the BatchNorm fixtures hold: seeded weights, and γ, β and running averages set
/// away from their starting values (a running variance of 0 would hide a misplaced one).
fn with_batch_norm<T: Float>() -> WithBatchNorm<T, Inline> {
    let mut rng = common::rng(9);
    let mut net = Network::from_layers(chain![
        Affine::new(0.5, &mut rng),
        BatchNorm::new(),
        Relu::new(),
        Affine::new(0.5, &mut rng),
    ]);
    // Tensors 2..6: gamma1, beta1, running_mean1, running_var1.
    for (k, (lo, hi)) in [(0.5, 1.5), (-0.3, 0.3), (-0.2, 0.2), (0.1, 2.0)]
        .into_iter()
        .enumerate()
    {
        let values: Vec<T> = (0..5)
            .map(|_| T::from_f64(common::uniform(&mut rng, lo, hi)))
            .collect();
        common::set_tensor(&mut net.layers, 2 + k, &values);
    }
    net
}

fn same_batch_norm_network<T: Float>(
    embedded: &WithBatchNorm<T, Frozen>,
    net: &WithBatchNorm<T, Inline>,
) {
    let all = common::tensors(&embedded.layers);
    assert_eq!(all[5].0, "running_var1");
    assert!(all[5].1.iter().all(|v| v.to_f64() >= 0.1), "{:?}", all[5]);
    assert_eq!(all, common::tensors(&net.layers));
    let mut rng = common::rng(10);
    let x: [[f64; 6]; 4] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let x = x.map(|r| r.map(T::from_f64));
    let (mut a, mut b) = ([[T::ZERO; 3]; 4], [[T::ZERO; 3]; 4]);
    embedded.predict(&x, &mut a);
    net.predict(&x, &mut b);
    assert_eq!(a, b, "the same numbers, bit for bit");
}

#[test]
fn a_network_with_batch_norm_compiles_in_with_its_running_averages() {
    let (net32, net64) = (with_batch_norm::<f32>(), with_batch_norm::<f64>());
    check_fixture(&net32.layers, "batch-norm-6-5-3-f32.cnnm");
    check_fixture(&net64.layers, "batch-norm-6-5-3-f64.cnnm");
    same_batch_norm_network(&BN32, &net32);
    same_batch_norm_network(&BN64, &net64);
}
