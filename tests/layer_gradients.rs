//! Every layer's backward pass against numerical differentiation, in f64.
//!
//! Each layer is wrapped in the scalar `L = Σ out ⊙ R` for a fixed random `R`, so `dL/dout = R`,
//! and backward's input and parameter gradients are compared with central differences
//! (h = 1e-5) at relative error < 1e-6.

use crate::common;

use common::{assert_close, numerical_grad, random_matrix};
use constnn::layers::{Affine, Chain, Layer, Relu, Sigmoid, Train};
use constnn::loss::{SoftmaxWithLoss, softmax};

const H: f64 = 1e-5;
const TOL: f64 = 1e-6;
const N: usize = 4;

fn weighted_sum<const C: usize>(out: &[[f64; C]; N], r: &[[f64; C]; N]) -> f64 {
    out.as_flattened()
        .iter()
        .zip(r.as_flattened())
        .map(|(a, b)| a * b)
        .sum()
}

/// Checks dL/dx of any layer with `W`-wide input and `O`-wide output.
fn check_input_gradient<L, const W: usize, const O: usize>(
    layer: &mut L,
    x: [[f64; W]; N],
    what: &str,
) where
    L: Train<Input = [f64; W], Output = [f64; O], Scalar = f64>,
{
    let mut rng = common::rng(11);
    let r: [[f64; O]; N] = random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let mut tape = constnn::matrix::Zeros::zeros();
    let mut out = [[0.0; O]; N];
    layer.forward_train(&x, &mut tape, &mut out);
    let mut dx = [[0.0; W]; N];
    layer.backward(&x, &mut tape, &out, &r, Some(&mut dx));

    let mut xv = x;
    let num = numerical_grad(xv.as_flattened_mut(), H, |p| {
        let xp: [[f64; W]; N] = core::array::from_fn(|n| core::array::from_fn(|i| p[n * W + i]));
        let mut o = [[0.0; O]; N];
        layer.forward(&xp, &mut o);
        weighted_sum(&o, &r)
    });
    assert_close(&format!("{what} dx"), &num, dx.as_flattened(), TOL);
}

/// Checks every parameter gradient of a layer against central differences.
fn check_param_gradients<L, const W: usize, const O: usize>(
    layer: &mut L,
    x: [[f64; W]; N],
    what: &str,
) where
    L: Train<Input = [f64; W], Output = [f64; O], Scalar = f64>,
{
    let mut rng = common::rng(12);
    let r: [[f64; O]; N] = random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let mut tape = constnn::matrix::Zeros::zeros();
    let mut out = [[0.0; O]; N];
    layer.forward_train(&x, &mut tape, &mut out);
    layer.backward(&x, &mut tape, &out, &r, None);
    let params = common::params_of(layer);
    assert!(!params.is_empty());
    for (k, (name, mut values, analytic)) in params.into_iter().enumerate() {
        let num = numerical_grad(&mut values, H, |v| {
            common::set_tensor(layer, k, v);
            let mut o = [[0.0; O]; N];
            layer.forward(&x, &mut o);
            weighted_sum(&o, &r)
        });
        // The closure last saw the final element at −h: put the parameter back whole.
        common::set_tensor(layer, k, &values);
        assert_close(&format!("{what} d{name}"), &num, &analytic, TOL);
    }
}

#[test]
fn relu_backward_matches_numerical_gradient() {
    let x: [[f64; 6]; N] = random_matrix(&mut common::rng(1), -2.0, 2.0, 0.01);
    assert!(x.as_flattened().iter().any(|v| *v < 0.0) && x.as_flattened().iter().any(|v| *v > 0.0));
    check_input_gradient::<_, 6, 6>(&mut Relu::<f64, 6>::new(), x, "Relu");
}

#[test]
fn relu_gradient_at_exactly_zero_is_zero_like_the_book_mask() {
    let mut relu = Relu::<f64, 3>::new();
    let x = [[0.0, -1.0, 2.0]];
    let mut out = [[9.0; 3]];
    relu.forward(&x, &mut out);
    assert_eq!(out, [[0.0, 0.0, 2.0]]);
    let mut dx = [[9.0; 3]];
    relu.backward(&x, &mut (), &out, &[[5.0, 5.0, 5.0]], Some(&mut dx));
    assert_eq!(dx, [[0.0, 0.0, 5.0]]);
}

#[test]
fn sigmoid_backward_matches_numerical_gradient() {
    let x: [[f64; 5]; N] = random_matrix(&mut common::rng(2), -4.0, 4.0, 0.0);
    check_input_gradient::<_, 5, 5>(&mut Sigmoid::<f64, 5>::new(), x, "Sigmoid");
}

#[test]
fn affine_backward_matches_numerical_gradient() {
    let mut rng = common::rng(3);
    let mut affine = Affine::<f64, 5, 3>::new(1.0, &mut rng);
    affine.b = [0.3, -0.2, 0.1];
    let x: [[f64; 5]; N] = random_matrix(&mut rng, -1.0, 1.0, 0.0);
    check_input_gradient::<_, 5, 3>(&mut affine, x, "Affine");
    check_param_gradients::<_, 5, 3>(&mut affine, x, "Affine");
}

#[test]
fn chain_backward_matches_numerical_gradient() {
    let mut rng = common::rng(4);
    let mut net = constnn::chain![
        Affine::<f64, 6, 5>::new(1.0, &mut rng),
        Sigmoid::new(),
        Affine::<f64, 5, 4>::new(1.0, &mut rng),
        Relu::new(),
        Affine::<f64, 4, 3>::new(1.0, &mut rng),
    ];
    let x: [[f64; 6]; N] = random_matrix(&mut rng, -1.0, 1.0, 0.0);
    check_input_gradient::<_, 6, 3>(&mut net, x, "Chain");
    check_param_gradients::<_, 6, 3>(&mut net, x, "Chain");
    let _: &Chain<_, _> = &net;
}

/// Cross-entropy without the book's delta: the function whose gradient is `(y − t) / N`.
fn exact_cross_entropy(x: &[[f64; 4]; N], labels: &[usize; N]) -> f64 {
    let mut sum = 0.0;
    for (row, &t) in x.iter().zip(labels) {
        let mut y = [0.0; 4];
        softmax(row, &mut y);
        sum -= y[t].ln();
    }
    sum / N as f64
}

#[test]
fn softmax_with_loss_backward_is_the_gradient_of_the_exact_cross_entropy() {
    let x: [[f64; 4]; N] = random_matrix(&mut common::rng(5), -3.0, 3.0, 0.0);
    let labels = [0usize, 3, 1, 3];
    let mut layer = SoftmaxWithLoss::<f64, 4, N>::new();
    layer.forward(&x, &labels).unwrap();
    let mut dx = [[0.0; 4]; N];
    layer.backward(1.0, &mut dx);

    let mut xv = x;
    let num = numerical_grad(xv.as_flattened_mut(), H, |p| {
        let xp = core::array::from_fn(|n| core::array::from_fn(|i| p[n * 4 + i]));
        exact_cross_entropy(&xp, &labels)
    });
    assert_close("SoftmaxWithLoss dx", &num, dx.as_flattened(), TOL);
}

#[test]
fn softmax_with_loss_forward_differs_from_backward_by_exactly_the_delta() {
    // The forward loss is −log(y_t + δ)/N. Its true gradient is (y − t)/N scaled by
    // y_t / (y_t + δ) in every element of the row: what backward returns, times that factor.
    let x: [[f64; 4]; N] = random_matrix(&mut common::rng(6), -3.0, 3.0, 0.0);
    let labels = [2usize, 0, 0, 1];
    let mut layer = SoftmaxWithLoss::<f64, 4, N>::new();
    layer.forward(&x, &labels).unwrap();
    let mut dx = [[0.0; 4]; N];
    layer.backward(1.0, &mut dx);
    let delta = constnn::loss::CROSS_ENTROPY_DELTA;
    let mut predicted = dx;
    for (row, (y, &t)) in predicted.iter_mut().zip(layer.y().iter().zip(&labels)) {
        for v in row.iter_mut() {
            *v *= y[t] / (y[t] + delta);
        }
    }

    let mut xv = x;
    let num = numerical_grad(xv.as_flattened_mut(), H, |p| {
        let xp = core::array::from_fn(|n| core::array::from_fn(|i| p[n * 4 + i]));
        SoftmaxWithLoss::<f64, 4, N>::new()
            .forward(&xp, &labels)
            .unwrap()
    });
    assert_close(
        "forward's own gradient",
        &num,
        predicted.as_flattened(),
        TOL,
    );
    // ... and the difference from backward is real, and of the predicted size δ/y_t.
    let row0 = layer.y()[0][labels[0]];
    let d = ((num[0] - dx[0][0]) / dx[0][0]).abs();
    assert!(
        (d - delta / (row0 + delta)).abs() < 1e-8,
        "relative gap {d:e}"
    );
}

#[test]
fn softmax_with_loss_is_finite_and_right_for_logits_1000_0_minus_1000() {
    let x = [[1000.0f32, 0.0, -1000.0], [-1000.0, 0.0, 1000.0]];
    let mut layer = SoftmaxWithLoss::<f32, 3, 2>::new();
    let loss = layer.forward(&x, &[0u8, 0]).unwrap();
    // Row 0: y = [1, 0, 0], loss −log(1 + δ) ≈ −1e-7; row 1: y_t = e^-2000 = 0, loss −log(δ).
    let want = (-(1.0f64 + 1e-7).ln() - 1e-7f64.ln()) / 2.0;
    assert!(loss.is_finite());
    assert!((f64::from(loss) - want).abs() < 1e-5, "{loss} vs {want}");
    assert_eq!(layer.y()[0], [1.0, 0.0, 0.0]);
    assert_eq!(layer.y()[1], [0.0, 0.0, 1.0]);
    let mut dx = [[0.0; 3]; 2];
    layer.backward(1.0, &mut dx);
    assert_eq!(dx, [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]]);
}

#[test]
fn one_hot_and_index_targets_give_the_same_loss_and_gradient() {
    let x: [[f64; 4]; N] = random_matrix(&mut common::rng(8), -3.0, 3.0, 0.0);
    let labels = [1u8, 2, 3, 0];
    let one_hot: [[f64; 4]; N] = core::array::from_fn(|n| {
        let mut r = [0.0; 4];
        r[labels[n] as usize] = 1.0;
        r
    });
    let (mut a, mut b) = (SoftmaxWithLoss::<f64, 4, N>::new(), SoftmaxWithLoss::new());
    assert_eq!(
        a.forward(&x, &labels).unwrap(),
        b.forward(&x, &one_hot).unwrap()
    );
    let (mut da, mut db) = ([[0.0; 4]; N], [[0.0; 4]; N]);
    a.backward(1.0, &mut da);
    b.backward(1.0, &mut db);
    assert_eq!(da, db);
}

#[test]
fn a_label_out_of_range_is_an_error_naming_it() {
    let mut layer = SoftmaxWithLoss::<f32, 3, 2>::new();
    let err = layer.forward(&[[0.0; 3]; 2], &[1u8, 3]).unwrap_err();
    assert_eq!((err.row, err.label, err.classes), (1, 3, 3));
    assert_eq!(
        err.to_string(),
        "label 3 in row 1 is out of range: the network has 3 classes (0..=2)"
    );
}
