//! Matrix operations against hand-computed results and explicit transposes.

use crate::common;

use constnn::Float;
use constnn::matrix::{add_row, argmax, matmul, matmul_at, matmul_bt, sum_rows};

fn transpose<const R: usize, const C: usize>(m: &[[f64; C]; R]) -> [[f64; R]; C] {
    core::array::from_fn(|c| core::array::from_fn(|r| m[r][c]))
}

#[test]
fn book_bias_broadcast_and_batch_sum() {
    // The book's 5.6.2: X_dot_W + B broadcasts B over the rows; dB sums dY over the batch.
    let mut x_dot_w = [[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]];
    add_row(&mut x_dot_w, &[1.0, 2.0, 3.0]);
    assert_eq!(x_dot_w, [[1.0, 2.0, 3.0], [11.0, 12.0, 13.0]]);

    let dy = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let mut db = [0.0; 3];
    sum_rows(&dy, &mut db);
    assert_eq!(db, [5.0, 7.0, 9.0]);
}

#[test]
fn affine_shapes_n2_times_2x3() {
    // (N,2)·(2,3) → (N,3), the book's figure 5-25 shapes.
    let x = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]];
    let w = [[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]];
    let mut y = [[0.0; 3]; 4];
    matmul(&x, &w, &mut y);
    assert_eq!(y[0], [2.0, 4.0, 1.0]);
    assert_eq!(y[3], [11.0, 16.0, 1.0]);
}

#[test]
fn transposed_products_equal_products_with_explicit_transposes() {
    let mut rng = common::rng(7);
    let a: [[f64; 5]; 7] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let b: [[f64; 5]; 3] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);
    let c: [[f64; 3]; 7] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);

    // a · bᵀ
    let (mut got, mut want) = ([[0.0; 3]; 7], [[0.0; 3]; 7]);
    matmul_bt(&a, &b, &mut got);
    matmul(&a, &transpose(&b), &mut want);
    for (g, w) in got.as_flattened().iter().zip(want.as_flattened()) {
        assert!((g - w).abs() < 1e-12, "{g} vs {w}");
    }

    // aᵀ · c
    let (mut got, mut want) = ([[0.0; 3]; 5], [[0.0; 3]; 5]);
    matmul_at(&a, &c, &mut got);
    matmul(&transpose(&a), &c, &mut want);
    for (g, w) in got.as_flattened().iter().zip(want.as_flattened()) {
        assert!((g - w).abs() < 1e-12, "{g} vs {w}");
    }
}

#[test]
fn matmul_matches_naive_triple_loop_at_training_shapes() {
    let mut rng = common::rng(3);
    let a: Box<[[f64; 33]; 17]> = Box::new(common::random_matrix(&mut rng, -1.0, 1.0, 0.0));
    let b: Box<[[f64; 19]; 33]> = Box::new(common::random_matrix(&mut rng, -1.0, 1.0, 0.0));
    let mut out = [[0.0; 19]; 17];
    matmul(&a, &b, &mut out);
    for i in 0..17 {
        for j in 0..19 {
            let want: f64 = (0..33).map(|k| a[i][k] * b[k][j]).sum();
            assert!((out[i][j] - want).abs() < 1e-12);
        }
    }
}

#[test]
fn argmax_takes_the_first_of_ties_like_numpy() {
    assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
    assert_eq!(argmax(&[3.0f32]), 0);
    assert_eq!(argmax::<f32>(&[]), 0);
    assert_eq!(argmax(&[-3.0, -1.0, -2.0, -1.0]), 1);
    assert_eq!(argmax(&[0.0, -0.0, 0.5, 0.5, 0.75]), 4);
    assert_eq!(argmax(&[-0.0, 0.0]), 0, "−0 and +0 are a tie");
}

/// Every row of scores (ties, signed zeros, infinities and NaNs among them) gets the index of
/// the first value greater than all before it, as a scan that keeps the index alone finds it:
/// a NaN is never greater, and one in first place stays there.
#[test]
fn argmax_is_the_first_value_no_other_exceeds() {
    let pool = [
        -f64::INFINITY,
        -1.5,
        -0.0,
        0.0,
        0.25,
        0.25,
        1.0,
        f64::INFINITY,
        f64::NAN,
    ];
    let mut s = 7u64;
    for n in 1..=12 {
        for _ in 0..500 {
            let row: Vec<f64> = (0..n)
                .map(|_| {
                    s = s
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    pool[(s >> 33) as usize % pool.len()]
                })
                .collect();
            let mut want = 0;
            for (i, v) in row.iter().enumerate() {
                if *v > row[want] {
                    want = i;
                }
            }
            assert_eq!(argmax(&row), want, "{row:?}");
            let row32: Vec<f32> = row.iter().map(|&v| v as f32).collect();
            assert_eq!(argmax(&row32), want, "{row32:?}");
        }
    }
}

/// The library fuses as the run expects, where it says (`CONSTNN_EXPECT_FUSED`, 0 or 1): CI's
/// run without the `fma` feature sets 0, so that it tests the unfused kernels (the Cortex-M4's
/// arithmetic) and cannot test fused ones without a word. Cargo builds the library once with
/// every feature any crate in the build asks for, so a dependency of another crate of the
/// workspace asking for `fma` would turn it on here too, in `cfg!(feature = "fma")` as well.
#[test]
fn fused_as_the_run_expects() {
    let Some(expected) = std::env::var_os("CONSTNN_EXPECT_FUSED") else {
        return;
    };
    let expected = match expected.to_str() {
        Some("0") => false,
        Some("1") => true,
        _ => panic!("CONSTNN_EXPECT_FUSED is {expected:?}: 0 or 1"),
    };
    assert_eq!(constnn::float::FUSED, expected, "CONSTNN_EXPECT_FUSED");
}

/// `add_product`, the step of every kernel, is fused exactly when `FUSED` says so: a·a for
/// a = 1 + 2⁻¹² is 1 + 2⁻¹¹ + 2⁻²⁴, one bit more than f32 holds, so a separate multiply rounds
/// the 2⁻²⁴ away (a tie, to even) and only a fused one keeps it. The same with 2⁻²⁷ for f64.
#[test]
fn add_product_is_fused_exactly_when_fused_says_so() {
    use constnn::float::FUSED;
    let a = 1.0f32 + 2f32.powi(-12);
    let (fused, unfused) = (2f32.powi(-11) + 2f32.powi(-24), 2f32.powi(-11));
    assert_ne!(fused, unfused);
    assert_eq!(
        (-1.0f32).add_product(a, a),
        if FUSED { fused } else { unfused }
    );
    let a = 1.0f64 + 2f64.powi(-27);
    let (fused, unfused) = (2f64.powi(-26) + 2f64.powi(-54), 2f64.powi(-26));
    assert_ne!(fused, unfused);
    assert_eq!(
        (-1.0f64).add_product(a, a),
        if FUSED { fused } else { unfused }
    );
}

/// The one way skipping zero steps differs from adding `0·b`: fused, a product too small to
/// round to anything but zero (−10⁻³⁰ × 10⁻²⁰) turns an accumulator's +0 into −0, and adding
/// the skipped `0·5` would turn it back into +0. Equal as numbers, not in the sign bit; unfused,
/// the product itself rounds to −0 and +0 + −0 is +0, so skipping changes nothing at all.
#[test]
fn skipping_a_zero_step_keeps_the_sign_of_an_underflowed_zero() {
    use constnn::float::FUSED;
    let (x, w) = ([[-1e-30f32, 0.0]], [[1e-20f32], [5.0]]);
    let mut out = [[9.0f32]];
    matmul(&x, &w, &mut out);
    let skipped = 0.0f32.add_product(x[0][0], w[0][0]);
    let plain = skipped.add_product(x[0][1], w[1][0]);
    assert_eq!(out[0][0].to_bits(), skipped.to_bits());
    assert_eq!(out[0][0], plain);
    assert_eq!(out[0][0].is_sign_negative(), FUSED);
    assert!(plain.is_sign_positive());
}

/// The same in a block of four rows: a step where all four are zero is skipped, even in a
/// block whose first row is mostly non-zero (which runs in blocks, not row by row), so the
/// underflowed −0 stays. A block whose first row has no zero at all is read in place without
/// looking for such steps; this one has a zero, so it must be looked at.
#[test]
fn a_block_skips_its_all_zero_steps() {
    use constnn::float::FUSED;
    let mut x = [[0.0f32; 8]; 4];
    x[0] = [-1e-30, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0];
    // B's first column: the underflowing product, −0 for the other non-zero steps (whose
    // products leave a −0 as it is) and 5 at the all-zero step 7. Wider than two vectors, so
    // that the product runs in blocks of four rows.
    let mut w = [[0.0f32; 20]; 8];
    w[0][0] = 1e-20;
    for row in &mut w[1..7] {
        row[0] = -0.0;
    }
    w[7][0] = 5.0;
    let mut out = [[9.0f32; 20]; 4];
    matmul(&x, &w, &mut out);
    let skipped = (0..7).fold(0.0f32, |s, p| s.add_product(x[0][p], w[p][0]));
    assert_eq!(out[0][0].to_bits(), skipped.to_bits());
    assert_eq!(out[0][0].is_sign_negative(), FUSED);
}
