//! Matrix operations against hand-computed results and explicit transposes.

mod common;

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
}

/// The kernels accumulate every output in the order of the inner index, multiply then add, so
/// they must equal a plain sequential sum bit for bit, whatever the tiling, zero skipping
/// (sparse inputs), column tails, and chunking of a long inner dimension.
#[test]
fn kernels_equal_a_sequential_sum_bit_for_bit_dense_and_sparse() {
    use constnn::matrix::kernels::{gemm_nn, gemm_nt, gemm_tn};
    let mut rng = common::rng(9);
    for &(m, k, n) in &[
        (1, 1, 1),
        (3, 5, 7),
        (4, 16, 16),
        (9, 33, 50),
        (100, 300, 19),
        (6, 600, 3),
    ] {
        for zeros in [0.0, 0.8, 0.97] {
            let mut draw = |len: usize| -> Vec<f32> {
                (0..len)
                    .map(|_| {
                        if common::uniform(&mut rng, 0.0, 1.0) < zeros {
                            0.0
                        } else {
                            common::uniform(&mut rng, -1.0, 1.0) as f32
                        }
                    })
                    .collect()
            };
            let a = draw(m * k); // m×k
            let b = draw(k * n); // k×n
            let bt = draw(n * k); // n×k
            let at = draw(k * m); // k×m
            let seq = |f: &dyn Fn(usize, usize, usize) -> (f32, f32)| -> Vec<f32> {
                let mut c = vec![0.0f32; m * n];
                for i in 0..m {
                    for j in 0..n {
                        let mut s = 0.0f32;
                        for p in 0..k {
                            let (x, y) = f(i, j, p);
                            s += x * y;
                        }
                        c[i * n + j] = s;
                    }
                }
                c
            };
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let mut c = vec![f32::NAN; m * n];
            gemm_nn(&a, &b, &mut c, m, k, n);
            assert_eq!(
                bits(&c),
                bits(&seq(&|i, j, p| (a[i * k + p], b[p * n + j]))),
                "nn {m}×{k}×{n} zeros {zeros}"
            );
            let mut c = vec![f32::NAN; m * n];
            gemm_tn(&at, &b, &mut c, k, m, n);
            assert_eq!(
                bits(&c),
                bits(&seq(&|i, j, p| (at[p * m + i], b[p * n + j]))),
                "tn {m}×{k}×{n} zeros {zeros}"
            );
            let mut c = vec![f32::NAN; m * n];
            gemm_nt(&a, &bt, &mut c, m, k, n);
            assert_eq!(
                bits(&c),
                bits(&seq(&|i, j, p| (a[i * k + p], bt[j * k + p]))),
                "nt {m}×{k}×{n} zeros {zeros}"
            );
        }
    }
}
