//! `NumpyRandom` reproduces NumPy's legacy stream, so `train_mnist`'s default run starts from the
//! book's weights and draws the book's batches. Expected values printed by NumPy 2.4.

use constnn::TwoLayerNet;
use constnn::init::NumpyRandom;
use constnn::matrix::Frozen;

#[test]
fn randn_after_seed_0_is_numpys() {
    // np.random.seed(0); np.random.randn(3)
    let mut np = NumpyRandom::seed(0);
    assert_eq!(
        [np.randn(), np.randn(), np.randn()],
        [1.764052345967664, 0.4001572083672233, 0.9787379841057392]
    );
}

#[test]
fn choice_after_the_books_weight_draws_is_numpys() {
    // np.random.seed(0); np.random.randn(39700); np.random.choice(60000, 5)
    let mut np = NumpyRandom::seed(0);
    for _ in 0..39_700 {
        np.randn();
    }
    let batch: Vec<u32> = (0..5).map(|_| np.choice(60_000)).collect();
    assert_eq!(batch, [39900, 54078, 52289, 14774, 17976]);
}

#[test]
fn randint_and_random_sample_after_seed_5_are_numpys() {
    // np.random.seed(5); np.random.randint(0, 60000, size=4); np.random.random_sample(2)
    let mut np = NumpyRandom::seed(5);
    let ints: Vec<u32> = (0..4).map(|_| np.choice(60_000)).collect();
    assert_eq!(ints, [35683, 18638, 20463, 59069]);
    let (a, b) = (np.random(), np.random());
    assert!(
        (a - 0.20671916).abs() < 5e-9 && (b - 0.91861091).abs() < 5e-9,
        "{a} {b}"
    );
}

#[test]
fn the_books_initial_weights_come_from_the_stream_w1_then_w2() {
    let mut np = NumpyRandom::seed(0);
    let net =
        TwoLayerNet::<784, 50, 10, f32, constnn::matrix::Heap>::with_normal(0.01, || np.randn());
    // 0.01 · np.random.randn(784, 50) after np.random.seed(0), as float32.
    assert_eq!(net.w1()[0][..3], [0.017640524f32, 0.0040015722, 0.00978738]);
    let mut np = NumpyRandom::seed(0);
    let z: Vec<f64> = (0..39_200 + 500).map(|_| np.randn()).collect();
    assert_eq!(
        f64::from(net.w2()[0][0]),
        f64::from((0.01 * z[39_200]) as f32)
    );
    assert!(net.b1().iter().all(|b| *b == 0.0));
}

/// The firmware's model is what `train_mnist` writes with its defaults; it decodes at compile
/// time into a flash-resident network that classifies the first test image (a 7) right.
#[test]
fn the_embedded_model_decodes_at_compile_time() {
    static NET: TwoLayerNet<784, 50, 10, f32, Frozen> =
        TwoLayerNet::from_model(include_bytes!("../firmware/model/mnist-784-50-10.cnnm"));
    let mut runtime = TwoLayerNet::<784, 50, 10>::zeros();
    constnn::format::model::decode_into(
        include_bytes!("../firmware/model/mnist-784-50-10.cnnm"),
        &mut runtime.layers,
    )
    .unwrap();
    assert_eq!(NET.w1()[400], runtime.w1()[400]);
    assert_eq!(NET.b2(), runtime.b2());
}
