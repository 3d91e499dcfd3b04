//! Numerical faults are reported, not propagated: NaN inputs, diverged parameters, extreme
//! logits, zero probabilities.

use crate::common;

use constnn::layers::Layer;
use constnn::loss::{SoftmaxWithLoss, cross_entropy_error, softmax};
use constnn::matrix::sparse::{SparseBatch, SparseRow};
use constnn::{BatchError, TwoLayerNet};

#[test]
fn softmax_and_cross_entropy_stay_finite_for_logits_of_plus_minus_1e30() {
    let x = [
        [1e30f32, -1e30, 0.0],
        [-1e30, -1e30, -1e30],
        [1e30, 1e30, -1e30],
    ];
    let mut layer = SoftmaxWithLoss::<f32, 3, 3>::new();
    let loss = layer.forward(&x, &[1u8, 2, 0]).unwrap();
    assert!(loss.is_finite(), "{loss}");
    assert_eq!(layer.y()[0], [1.0, 0.0, 0.0]);
    // Equal logits, however extreme: uniform.
    for p in layer.y()[1] {
        assert!((p - 1.0 / 3.0).abs() < 1e-6);
    }
    assert_eq!(layer.y()[2], [0.5, 0.5, 0.0]);
    // Row 0's label has probability 0: its loss is −ln(1e-7), finite.
    let expected = (-(1e-7f64).ln() + -(1.0f64 / 3.0 + 1e-7).ln() + -(0.5f64 + 1e-7).ln()) / 3.0;
    assert!(
        (f64::from(loss) - expected).abs() < 1e-4,
        "{loss} vs {expected}"
    );
    let mut dx = [[0.0f32; 3]; 3];
    layer.backward(1.0, &mut dx);
    assert!(dx.as_flattened().iter().all(|v| v.is_finite()));
}

#[test]
fn cross_entropy_of_a_zero_probability_is_finite_thanks_to_the_delta() {
    let y = [[0.0f64, 1.0]];
    let e = cross_entropy_error(&y, &[0]).unwrap();
    assert!((e - -(1e-7f64).ln()).abs() < 1e-9, "{e}");
    let mut p = [0.0f32; 2];
    softmax(&[-1e30, 1e30], &mut p);
    assert_eq!(p, [0.0, 1.0]);
}

#[test]
fn a_nan_in_an_input_image_is_reported_with_its_row_and_column() {
    let mut rng = common::rng(1);
    let mut net = TwoLayerNet::<6, 4, 3>::new(0.5, &mut rng);
    let mut x = [[0.5f32; 6]; 4];
    x[2][5] = f32::NAN;
    let want = BatchError::NonFiniteInput { row: 2, column: 5 };
    assert_eq!(net.loss(&x, &[0u8; 4]), Err(want));
    assert_eq!(net.gradient(&x, &[0u8; 4]), Err(want));
    assert_eq!(net.accuracy(&x, &[0u8; 4]), Err(want));
    let mut classes = [0usize; 4];
    assert_eq!(net.classify(&x, &mut classes), Err(want));
    assert_eq!(
        want.to_string(),
        "input row 2 has a NaN or infinite value at column 5"
    );
}

#[test]
fn an_infinite_input_is_reported_too_even_past_the_first_chunk() {
    let net = TwoLayerNet::<6, 4, 3>::new(0.5, &mut common::rng(2));
    let mut x = vec![[0.25f32; 6]; 200];
    x[150][0] = f32::INFINITY;
    let e = net.accuracy(&x, &[1u8; 200]).unwrap_err();
    assert_eq!(
        e,
        BatchError::NonFiniteInput {
            row: 150,
            column: 0
        }
    );
}

/// A Sigmoid saturates: σ(+∞) = 1 and σ(−∞) = 0 are finite, so an infinite input can give
/// finite scores. It is still an input error, not a class.
#[test]
fn an_infinite_input_before_a_sigmoid_is_reported_not_classified() {
    use constnn::layers::{Affine, Sigmoid};
    let mut rng = common::rng(5);
    let net = constnn::Network::from_layers(constnn::chain![
        Sigmoid::<f32, 6>::new(),
        Affine::<f32, 6, 3>::new(0.5, &mut rng),
    ]);
    let mut x = [[0.25f32; 6]; 3];
    x[1][4] = f32::NEG_INFINITY;
    let mut scores = [[0.0f32; 3]; 3];
    net.predict(&x, &mut scores);
    assert!(scores.as_flattened().iter().all(|s| s.is_finite()));
    let want = BatchError::NonFiniteInput { row: 1, column: 4 };
    let mut classes = [0usize; 3];
    assert_eq!(net.classify(&x, &mut classes), Err(want));
    assert_eq!(net.accuracy(&x, &[0u8; 3]), Err(want));
    assert_eq!(net.loss(&x, &[0u8; 3]), Err(want));
    let mut trained = net.clone();
    assert_eq!(trained.gradient(&x, &[0u8; 3]), Err(want));
    // Sparse rows too, through a network whose first layer is an Affine.
    let net = constnn::Network::from_layers(constnn::chain![
        Affine::<f32, 6, 3>::new(0.5, &mut rng),
        Sigmoid::<f32, 3>::new(),
        Affine::<f32, 3, 2>::new(0.5, &mut rng),
    ]);
    let rows = [
        SparseRow::new(&[0], &[1.0]).unwrap(),
        SparseRow::new(&[2, 5], &[0.5, f32::INFINITY]).unwrap(),
    ];
    let want = BatchError::NonFiniteInput { row: 1, column: 5 };
    assert_eq!(net.accuracy(&rows, &[0u8; 2]), Err(want));
    let mut trained = net.clone();
    assert_eq!(trained.gradient(&rows, &[0u8; 2]), Err(want));
}

#[test]
fn a_nan_weight_is_reported_as_a_non_finite_output_not_a_class() {
    let mut net = TwoLayerNet::<6, 4, 3>::new(0.5, &mut common::rng(3));
    net.layers.rest.rest.b[1] = f32::NAN;
    let x = [[0.5f32; 6]; 2];
    assert_eq!(
        net.gradient(&x, &[0u8; 2]),
        Err(BatchError::NonFiniteOutput { row: 0 })
    );
    let mut classes = [9usize; 2];
    assert_eq!(
        net.classify(&x, &mut classes),
        Err(BatchError::NonFiniteOutput { row: 0 })
    );
}

#[test]
fn a_label_out_of_range_in_training_is_an_error_not_a_panic() {
    let mut net = TwoLayerNet::<6, 4, 3>::new(0.5, &mut common::rng(4));
    let e = net.gradient(&[[0.5f32; 6]; 2], &[0u8, 7]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "label 7 in row 1 is out of range: the network has 3 classes (0..=2)"
    );
}

/// `Float::all_finite` tells NaN (any payload, either sign) and ±∞ from every finite value,
/// the largest and the subnormal ones included, at every position of slices of every length
/// up to 70 (vector bodies and tails).
#[test]
fn all_finite_finds_each_nan_and_infinity_and_passes_every_finite_value() {
    use constnn::Float;
    fn check<T: Float>(finite: &[T], faults: &[T]) {
        for len in 0..70 {
            let mut v: Vec<T> = (0..len).map(|i| finite[i % finite.len()]).collect();
            assert!(T::all_finite(&v));
            for at in 0..len {
                for &f in faults {
                    let keep = v[at];
                    v[at] = f;
                    assert!(!T::all_finite(&v), "{f:?} at {at} of {len}");
                    v[at] = keep;
                }
            }
        }
    }
    check::<f32>(
        &[
            0.0,
            -0.0,
            1.0,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
        ],
        &[
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7f80_0001),
            f32::INFINITY,
            f32::NEG_INFINITY,
        ],
    );
    check::<f64>(
        &[
            0.0,
            -0.0,
            1.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
        ],
        &[
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
        ],
    );
}

/// A `SparseBatch` checks its values in one pass over its listing, and its rows one by one only
/// when that finds a fault: the errors are those of its rows alone. An input value that is not
/// finite is named by its row and column, before any row's scores; with finite inputs, a weight
/// that is not finite blames the first row whose scores it reaches.
#[test]
fn a_sparse_batch_names_the_same_fault_as_its_rows() {
    let net = TwoLayerNet::<6, 4, 3>::new(0.5, &mut common::rng(5));
    let (a, b, c) = ([0.5f32, 1.0], [2.0f32, f32::NEG_INFINITY], [0.25f32]);
    let rows = [
        SparseRow::new(&[0, 3], &a).unwrap(),
        SparseRow::new(&[1, 4], &b).unwrap(),
        SparseRow::new(&[5], &c).unwrap(),
    ];
    let batch = SparseBatch::from_rows(rows);
    let want = Err(BatchError::NonFiniteInput { row: 1, column: 4 });
    assert_eq!(net.clone().gradient(&rows, &[0u8; 3]), want);
    assert_eq!(net.clone().gradient(&batch, &[0u8; 3]), want);

    // Rows 0 and 1 read rows 0, 1, 3 and 4 of W₁, and row 2 reads row 5: an infinite row 5
    // makes row 2's scores infinite or NaN and leaves those of rows 0 and 1 finite.
    let finite = [
        SparseRow::new(&[0, 3], &a).unwrap(),
        SparseRow::new(&[1, 4], &[2.0, 3.0]).unwrap(),
        SparseRow::new(&[5], &c).unwrap(),
    ];
    let mut broken = net.clone();
    broken.layers.first.params_mut().0[5] = [f32::INFINITY; 4];
    let want = Err(BatchError::NonFiniteOutput { row: 2 });
    assert_eq!(broken.clone().gradient(&finite, &[0u8; 3]), want);
    assert_eq!(
        broken.gradient(&SparseBatch::from_rows(finite), &[0u8; 3]),
        want
    );
    // With nothing wrong, the batch's loss is its rows'.
    let loss = net.clone().gradient(&finite, &[0u8; 3]);
    assert!(loss.is_ok_and(f32::is_finite), "{loss:?}");
    assert_eq!(
        net.clone()
            .gradient(&SparseBatch::from_rows(finite), &[0u8; 3]),
        loss
    );
}
