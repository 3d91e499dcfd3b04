//! Sparse input rows (`matrix::sparse`): checked when made, and every pass over them gives the
//! dense pass's numbers bit for bit — products (from rows, and from a `SparseBatch` listing them
//! by column), training steps, classification — and names a NaN by its row and column as the
//! dense pass does.

use crate::common;

use constnn::layers::Layer;
use constnn::matrix::sparse::{self, SparseBatch, SparseError, SparseRow, SparseRows};
use constnn::matrix::{boxed_zeros, matmul, matmul_at};
use constnn::{BatchError, Sgd, TwoLayerNet};

/// Fills `rows` with values in [-1, 1), row `i` having the share `zeros(i)` of zeros, and
/// returns the same rows kept sparse.
fn fill<T: constnn::Float, const I: usize>(
    rows: &mut [[T; I]],
    seed: u64,
    zeros: impl Fn(usize) -> f64,
) -> SparseRows<T, I> {
    let mut rng = common::rng(seed);
    let mut set = SparseRows::new();
    for (i, row) in rows.iter_mut().enumerate() {
        for v in row.iter_mut() {
            let zero = common::uniform(&mut rng, 0.0, 1.0) < zeros(i);
            *v = if zero {
                T::ZERO
            } else {
                T::from_f64(common::uniform(&mut rng, -1.0, 1.0))
            };
        }
        set.push_dense(row);
    }
    set
}

/// The kinds of rows a batch may hold: all zero, very sparse, MNIST-like, dense, in turn.
fn kind(i: usize) -> f64 {
    [1.0, 0.97, 0.8, 0.0][i % 4]
}

fn bits<T: constnn::Float>(v: &[T]) -> Vec<u64> {
    v.iter().map(|x| x.to_f64().to_bits()).collect()
}

macro_rules! check_products {
    ($t:ty, $n:literal, $i:literal, $o:literal) => {{
        let mut x = boxed_zeros::<$t, $n, $i>();
        let set = fill(&mut x[..], 1, kind);
        let mut w = boxed_zeros::<$t, $i, $o>();
        fill(&mut w[..], 2, |_| 0.0);
        let mut dy = boxed_zeros::<$t, $n, $o>();
        fill(&mut dy[..], 3, |_| 0.1);
        let xs: [SparseRow<'_, $t, $i>; $n] = std::array::from_fn(|i| set.row(i));
        let what = concat!(stringify!($t), " ", $n, "×", $i, "×", $o);

        let (mut dense, mut sparse) = (boxed_zeros::<$t, $n, $o>(), boxed_zeros::<$t, $n, $o>());
        sparse.as_flattened_mut().fill(<$t>::NAN);
        matmul(&x, &w, &mut dense);
        sparse::matmul(&xs, &w, &mut sparse);
        assert_eq!(
            bits(dense.as_flattened()),
            bits(sparse.as_flattened()),
            "x·W {what}"
        );
        let (mut dense, mut sparse) = (boxed_zeros::<$t, $i, $o>(), boxed_zeros::<$t, $i, $o>());
        sparse.as_flattened_mut().fill(<$t>::NAN);
        matmul_at(&x, &dy, &mut dense);
        sparse::matmul_at(&xs, &dy, &mut sparse);
        assert_eq!(
            bits(dense.as_flattened()),
            bits(sparse.as_flattened()),
            "xᵀ·dY {what}"
        );

        let batch = Box::new(SparseBatch::from_rows(xs));
        let (mut dense, mut sparse) = (boxed_zeros::<$t, $n, $o>(), boxed_zeros::<$t, $n, $o>());
        sparse.as_flattened_mut().fill(<$t>::NAN);
        matmul(&x, &w, &mut dense);
        batch.matmul(&w, &mut sparse);
        assert_eq!(
            bits(dense.as_flattened()),
            bits(sparse.as_flattened()),
            "x·W by columns {what}"
        );

        let (mut dense, mut sparse) = (boxed_zeros::<$t, $i, $o>(), boxed_zeros::<$t, $i, $o>());
        sparse.as_flattened_mut().fill(<$t>::NAN);
        matmul_at(&x, &dy, &mut dense);
        batch.matmul_at(&dy, &mut sparse);
        assert_eq!(
            bits(dense.as_flattened()),
            bits(sparse.as_flattened()),
            "xᵀ·dY by columns {what}"
        );
    }};
}

/// x·W and xᵀ·dY from sparse rows, and from a `SparseBatch` (xᵀ·dY by column; x·W by row
/// where a row of the result fits the registers, else by column), equal the dense products
/// bit for bit, for f32 and f64, for rows all zero,
/// sparse and dense, at widths that reach every tile of the one-row kernel and every strip of
/// the column kernel (1 to 8 vectors, a last vector part-filled, several tiles), at MNIST's
/// shapes, and with more rows than the column kernels hold at once (200 of 56 or 52 values for
/// xᵀ·dY, which then reads `dY` in place; 200 or 300 rows of 130 for x·W by column, which then
/// sums a group of rows at a time). (x·W with W on lines: a unit test in `matrix::sparse`.)
#[test]
fn sparse_products_equal_dense_products_bit_for_bit() {
    check_products!(f32, 1, 1, 1);
    check_products!(f32, 5, 3, 7);
    check_products!(f32, 8, 40, 50);
    check_products!(f32, 9, 33, 130);
    check_products!(f32, 100, 784, 50);
    check_products!(f32, 100, 50, 10);
    check_products!(f64, 5, 3, 7);
    check_products!(f64, 9, 33, 130);
    check_products!(f64, 100, 784, 50);
    check_products!(f32, 200, 20, 50);
    check_products!(f64, 200, 20, 50);
    check_products!(f64, 300, 20, 50);
    check_products!(f32, 200, 20, 130);
    check_products!(f64, 300, 20, 130);
    check_products!(f32, 6, 9, 10);
    check_products!(f32, 6, 9, 15);
    check_products!(f32, 6, 9, 16);
    check_products!(f32, 6, 9, 17);
    check_products!(f32, 6, 9, 32);
    check_products!(f32, 6, 9, 63);
    check_products!(f32, 6, 9, 64);
    check_products!(f64, 6, 9, 16);
    check_products!(f64, 6, 9, 20);
    check_products!(f64, 6, 9, 32);
    check_products!(f32, 19, 1100, 20);
    check_products!(f64, 9, 1100, 20);
}

/// A `SparseBatch` lists every value of its rows under its column, rows increasing (300
/// columns: placed in several runs of columns), and a batch set again (here a smaller one)
/// lists the new rows only.
#[test]
fn a_sparse_batch_lists_its_rows_values_by_column() {
    let mut x = [[0.0f32; 300]; 12];
    let set = fill(&mut x, 5, kind);
    let xs: [SparseRow<'_, f32, 300>; 12] = std::array::from_fn(|i| set.row(i));
    let mut batch = SparseBatch::from_rows(xs);
    let check = |batch: &SparseBatch<'_, f32, 12, 300>, x: &[[f32; 300]; 12]| {
        for c in 0..300 {
            let expected: Vec<(u16, f32)> = (0u16..)
                .zip(x)
                .filter(|(_, row)| row[c] != 0.0)
                .map(|(r, row)| (r, row[c]))
                .collect();
            let (rows, values) = batch.column(c);
            let listed: Vec<(u16, f32)> =
                rows.iter().copied().zip(values.iter().copied()).collect();
            assert_eq!(listed, expected, "column {c}");
        }
    };
    check(&batch, &x);
    assert!(set.stored() > 60, "the batch lists many values");

    let mut y = [[0.0f32; 300]; 12];
    y[3][7] = 2.5;
    y[9][7] = -1.0;
    y[0][299] = 4.0;
    y[5][200] = 1.5;
    let mut small = SparseRows::new();
    for row in &y {
        small.push_dense(row);
    }
    batch.set(std::array::from_fn(|i| small.row(i)));
    check(&batch, &y);
    assert_eq!(batch.column(7), (&[3, 9][..], &[2.5, -1.0][..]));
    assert_eq!(batch.rows()[3].indices(), &[7]);
    assert_eq!(batch.column(200), (&[5][..], &[1.5][..]));
}

/// Edge shapes: rows of width 0, outputs of width 0, a batch of no rows.
#[test]
fn sparse_products_of_empty_shapes_are_empty_or_zero() {
    let dy = [[1.0f32, 2.0, 3.0]; 2];
    let mut dw: [[f32; 3]; 0] = [];
    sparse::matmul_at(&[SparseRow::<f32, 0>::EMPTY; 2], &dy, &mut dw);
    let mut out = [[9.0f32; 3]; 2];
    sparse::matmul(&[SparseRow::<f32, 0>::EMPTY; 2], &[], &mut out);
    assert_eq!(out, [[0.0; 3]; 2]);
    let mut dw = [[9.0f32; 3]; 4];
    sparse::matmul_at(&[] as &[SparseRow<'_, f32, 4>; 0], &[], &mut dw);
    assert_eq!(dw, [[0.0; 3]; 4]);
    let mut none = [[9.0f32; 0]; 4];
    let x = [SparseRow::<f32, 4>::new(&[1], &[2.0]).unwrap()];
    sparse::matmul_at(&x, &[[]], &mut none);

    // The same by column.
    let mut dw: [[f32; 3]; 0] = [];
    SparseBatch::from_rows([SparseRow::<f32, 0>::EMPTY; 2]).matmul_at(&dy, &mut dw);
    let mut dw = [[9.0f32; 3]; 4];
    SparseBatch::<f32, 0, 4>::new().matmul_at(&[], &mut dw);
    assert_eq!(dw, [[0.0; 3]; 4]);
    SparseBatch::from_rows(x).matmul_at(&[[]], &mut none);
}

/// Twenty SGD steps on sparse batches (arrays of rows, and `SparseBatch`es) leave every
/// parameter where twenty steps on the same batches given dense leave it, bit for bit, with the
/// same losses; f32 and f64.
#[test]
fn training_on_sparse_rows_equals_training_on_dense_rows() {
    macro_rules! check {
        ($t:ty) => {{
            let mut dense = TwoLayerNet::<40, 16, 5, $t>::new(0.3, &mut common::rng(4));
            let (mut sparse, mut by_column) = (dense.clone(), dense.clone());
            let mut sgd = [Sgd::new(0.5), Sgd::new(0.5), Sgd::new(0.5)];
            for step in 0..20u64 {
                let mut x = [[0.0 as $t; 40]; 8];
                let set = fill(&mut x, 10 + step, |i| kind(i + step as usize));
                let xs: [SparseRow<'_, $t, 40>; 8] = std::array::from_fn(|i| set.row(i));
                let batch = SparseBatch::from_rows(xs);
                let t: [u8; 8] = std::array::from_fn(|i| ((i as u64 * 3 + step) % 5) as u8);
                let a = dense.train_step(&x, &t, &mut sgd[0]).unwrap();
                let b = sparse.train_step(&xs, &t, &mut sgd[1]).unwrap();
                let c = by_column.train_step(&batch, &t, &mut sgd[2]).unwrap();
                assert_eq!(a.to_bits(), b.to_bits(), "loss at step {step}");
                assert_eq!(a.to_bits(), c.to_bits(), "loss at step {step}, by column");
            }
            for net in [&sparse, &by_column] {
                assert_eq!(
                    bits(dense.w1().as_flattened()),
                    bits(net.w1().as_flattened())
                );
                assert_eq!(bits(dense.b1()), bits(net.b1()));
                assert_eq!(
                    bits(dense.w2().as_flattened()),
                    bits(net.w2().as_flattened())
                );
                assert_eq!(bits(dense.b2()), bits(net.b2()));
            }
            assert_ne!(dense.b1(), &[0.0; 16], "training moved the parameters");
        }};
    }
    check!(f32);
    check!(f64);
}

/// Any chain trains from any kind of rows with the same numbers: three Affine layers with a
/// Sigmoid and a ReLU (the first Affine skips the zeros), and a chain whose first layer is a
/// Sigmoid (which reads the rows written out in full), f32 and f64, ten steps each.
#[test]
fn deeper_chains_and_a_first_sigmoid_train_from_sparse_rows_as_from_dense() {
    use constnn::chain;
    use constnn::layers::{Affine, Relu, Sigmoid};
    macro_rules! check {
        ($t:ty, $net:expr) => {{
            let mut rng = common::rng(31);
            let mut dense = constnn::Network::from_layers($net(&mut rng));
            let (mut sparse, mut by_column) = (dense.clone(), dense.clone());
            let mut sgd = [Sgd::new(0.5), Sgd::new(0.5), Sgd::new(0.5)];
            for step in 0..10u64 {
                let mut x = [[0.0 as $t; 24]; 8];
                let set = fill(&mut x, 40 + step, |i| kind(i + step as usize));
                let xs: [SparseRow<'_, $t, 24>; 8] = std::array::from_fn(|i| set.row(i));
                let batch = SparseBatch::from_rows(xs);
                let t: [u8; 8] = std::array::from_fn(|i| ((i as u64 + step) % 3) as u8);
                let a = dense.train_step(&x, &t, &mut sgd[0]).unwrap();
                let b = sparse.train_step(&xs, &t, &mut sgd[1]).unwrap();
                let c = by_column.train_step(&batch, &t, &mut sgd[2]).unwrap();
                assert_eq!((a.to_bits(), a.to_bits()), (b.to_bits(), c.to_bits()));
                let (mut p, mut q) = ([[0.0 as $t; 3]; 8], [[0.0 as $t; 3]; 8]);
                dense.predict(&x, &mut p);
                sparse.predict(&xs, &mut q);
                assert_eq!(bits(p.as_flattened()), bits(q.as_flattened()));
            }
            let all = common::params_of(&mut dense.layers);
            assert_eq!(all, common::params_of(&mut sparse.layers));
            assert_eq!(all, common::params_of(&mut by_column.layers));
        }};
    }
    type Deep<T> = constnn::layers::Chain<
        Affine<T, 24, 10>,
        constnn::layers::Chain<Sigmoid<T, 10>, constnn::layers::Chain<Affine<T, 10, 6>, Tail<T>>>,
    >;
    type Tail<T> = constnn::layers::Chain<Relu<T, 6>, Affine<T, 6, 3>>;
    fn deep<T: constnn::Float>(rng: &mut rand_pcg::Pcg64) -> Deep<T> {
        chain![
            Affine::new(0.5, rng),
            Sigmoid::new(),
            Affine::new(0.5, rng),
            Relu::new(),
            Affine::new(0.5, rng),
        ]
    }
    fn sigmoid_first<T: constnn::Float>(
        rng: &mut rand_pcg::Pcg64,
    ) -> constnn::layers::Chain<Sigmoid<T, 24>, Affine<T, 24, 3>> {
        chain![Sigmoid::new(), Affine::new(0.5, rng)]
    }
    check!(f32, deep::<f32>);
    check!(f64, deep::<f64>);
    check!(f32, sigmoid_first::<f32>);
    check!(f64, sigmoid_first::<f64>);
}

/// Classes and accuracy over 150 rows (two chunks of 64 and a tail) from sparse rows equal
/// those from dense rows.
#[test]
fn classify_and_accuracy_on_sparse_rows_equal_dense() {
    let net = TwoLayerNet::<30, 12, 4>::new(1.0, &mut common::rng(5));
    let mut x = vec![[0.0f32; 30]; 150];
    let set = fill(&mut x, 6, kind);
    let xs: Vec<SparseRow<'_, f32, 30>> = (0..set.len()).map(|i| set.row(i)).collect();
    let (mut a, mut b) = (vec![9; 150], vec![9; 150]);
    net.classify(&x, &mut a).unwrap();
    net.classify(&xs, &mut b).unwrap();
    assert_eq!(a, b);
    assert!(
        a.iter().any(|&c| c != a[0]),
        "the rows fall into several classes"
    );
    let t: Vec<u8> = (0..150).map(|i| (i % 4) as u8).collect();
    let accuracy = net.accuracy(&x, &t).unwrap();
    assert_eq!(accuracy, net.accuracy(&xs, &t).unwrap());
    let right = a
        .iter()
        .zip(&t)
        .filter(|(c, t)| **c == usize::from(**t))
        .count();
    assert_eq!(accuracy, right as f64 / 150.0);
}

/// Over many sparse rows (hundreds: the first layer then multiplies them by a copy of its
/// weights on cache lines) a network's `forward_rows`, `classify` and `accuracy` give
/// `predict`'s numbers for the same rows bit for bit, for f32 and f64 and at widths with and
/// without whole lines (10, 20, 50, 130 outputs), in whole chunks and the tail, and the dense
/// rows' numbers too; with an infinite weight, the sparse rows' own numbers (a skipped zero
/// times ∞ is not NaN); they name a NaN input as the dense pass does.
#[test]
fn many_sparse_rows_give_the_numbers_of_predict() {
    fn check<T: constnn::Float, const H: usize>(seed: u64) {
        const ROWS: usize = 1000;
        let mut net = TwoLayerNet::<30, H, 4, T>::new(1.0, &mut common::rng(seed));
        let mut x = vec![[T::ZERO; 30]; ROWS];
        let set = fill(&mut x, seed + 1, kind);
        let mut bad = x.clone();
        bad[941][3] = T::from_f64(f64::NAN);
        let mut bad_set = SparseRows::new();
        bad.iter().for_each(|row| bad_set.push_dense(row));
        let bad_rows: Vec<SparseRow<'_, T, 30>> = bad_set.iter().collect();
        let nan = Err(BatchError::NonFiniteInput {
            row: 941,
            column: 3,
        });
        assert_eq!(net.classify(&bad_rows, &mut vec![0; ROWS]), nan);
        assert_eq!(net.classify(&bad, &mut vec![0; ROWS]), nan);
        let xs: Vec<SparseRow<'_, T, 30>> = set.iter().collect();
        for infinite in [false, true] {
            if infinite {
                net.layers.first.params_mut().0[3][1] = T::from_f64(f64::INFINITY);
            }
            let mut expected = vec![[T::ZERO; 4]; ROWS];
            for (r, e) in xs.iter().zip(&mut expected) {
                net.predict(std::array::from_ref(r), std::array::from_mut(e));
            }
            if !infinite {
                let mut dense = vec![[T::ZERO; 4]; ROWS];
                for (r, e) in x.iter().zip(&mut dense) {
                    net.predict(std::array::from_ref(r), std::array::from_mut(e));
                }
                assert_eq!(bits(dense.as_flattened()), bits(expected.as_flattened()));
            }
            let mut seen = [[T::from_f64(f64::NAN); 4]; ROWS];
            net.layers
                .forward_rows(&xs, |start, out| {
                    seen[start..start + out.len()].copy_from_slice(out);
                    Ok::<(), ()>(())
                })
                .unwrap();
            assert_eq!(bits(seen.as_flattened()), bits(expected.as_flattened()));
            if infinite {
                continue;
            }
            let classes: Vec<usize> = expected
                .iter()
                .map(|s| constnn::matrix::argmax(s))
                .collect();
            let mut c = vec![9; ROWS];
            net.classify(&xs, &mut c).unwrap();
            assert_eq!(c, classes);
            let t: Vec<u8> = (0..ROWS).map(|i| (i % 4) as u8).collect();
            let right = classes
                .iter()
                .zip(&t)
                .filter(|(c, t)| **c == usize::from(**t));
            assert_eq!(net.correct(&xs, &t).unwrap(), right.count());
            assert_eq!(
                net.accuracy(&xs, &t).unwrap(),
                net.accuracy(&x, &t).unwrap()
            );
        }
    }
    check::<f32, 10>(8);
    check::<f32, 20>(10);
    check::<f32, 50>(12);
    check::<f32, 130>(14);
    check::<f64, 20>(16);
    check::<f64, 50>(18);
}

/// A NaN listed in a sparse row is named by its row and column, in a chunk and in the tail,
/// as in a dense row; in training too.
#[test]
fn a_nan_in_a_sparse_row_is_an_error_naming_row_and_column() {
    let mut net = TwoLayerNet::<30, 12, 4>::new(1.0, &mut common::rng(7));
    let mut x = vec![[0.0f32; 30]; 150];
    let mut set = SparseRows::new();
    for (i, row) in x.iter_mut().enumerate() {
        row[(i * 7) % 30] = 0.5;
        if i == 70 || i == 140 {
            row[23] = f32::NAN;
        }
        set.push_dense(row);
    }
    let xs: Vec<SparseRow<'_, f32, 30>> = (0..set.len()).map(|i| set.row(i)).collect();
    let mut classes = vec![0; 150];
    let expected = BatchError::NonFiniteInput {
        row: 70,
        column: 23,
    };
    assert_eq!(net.classify(&x, &mut classes), Err(expected));
    assert_eq!(net.classify(&xs, &mut classes), Err(expected));
    let t = [0u8; 150];
    assert_eq!(
        net.accuracy(&xs[130..], &t[130..]),
        Err(BatchError::NonFiniteInput {
            row: 10,
            column: 23
        })
    );
    let batch: [SparseRow<'_, f32, 30>; 4] = std::array::from_fn(|i| xs[68 + i]);
    let mut sgd = Sgd::new(0.1);
    assert_eq!(
        net.train_step(&batch, &[0u8; 4], &mut sgd),
        Err(BatchError::NonFiniteInput { row: 2, column: 23 })
    );
}

/// `SparseRow::new` refuses slices of two lengths, a column past the width and columns out of
/// order (or repeated), each with a message naming the entry.
#[test]
fn sparse_rows_are_checked_when_made() {
    let row = |index: &[u16], value: &[f32]| SparseRow::<f32, 10>::new(index, value).map(|_| ());
    assert_eq!(row(&[0, 9], &[1.0, 2.0]), Ok(()));
    assert_eq!(row(&[], &[]), Ok(()));
    let err = row(&[1, 2], &[1.0]).unwrap_err();
    assert_eq!(
        err,
        SparseError::Lengths {
            indices: 2,
            values: 1
        }
    );
    assert_eq!(
        err.to_string(),
        "a sparse row has 2 columns but 1 values: they must pair up"
    );
    let err = row(&[3, 10], &[1.0, 2.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "column 10 (entry 1) of a sparse row is out of range: the row has 10 columns"
    );
    let err = row(&[3, 5, 5], &[1.0, 2.0, 3.0]).unwrap_err();
    assert_eq!(
        err,
        SparseError::NotIncreasing {
            position: 2,
            column: 5,
            previous: 5
        }
    );
    assert_eq!(
        err.to_string(),
        "column 5 (entry 2) of a sparse row does not follow column 5: columns must be strictly \
         increasing"
    );
    assert!(row(&[4, 2], &[1.0, 2.0]).is_err());
}

/// Rows kept in a `SparseRows` (given in full, or as a `SparseRow`) come back whole: their
/// non-zero values (a NaN included) at their columns, zeros elsewhere.
#[test]
fn sparse_rows_round_trip_through_a_data_set() {
    let mut x = vec![[0.0f64; 25]; 12];
    let mut set = fill(&mut x, 8, kind);
    let mut odd = [0.0; 25];
    odd[0] = f64::NAN;
    odd[24] = -0.5;
    set.push_dense(&odd);
    x.push(odd);
    let mut listed = [0.0; 25];
    (listed[3], listed[7]) = (1.5, -2.0);
    set.push(SparseRow::new(&[3, 7], &[1.5, -2.0]).unwrap());
    x.push(listed);
    assert_eq!(set.len(), 14);
    let nonzero = x.iter().flatten().filter(|v| **v != 0.0).count();
    assert_eq!(set.stored(), nonzero);
    for (i, row) in x.iter().enumerate() {
        let mut back = [7.0; 25];
        set.row(i).to_dense(&mut back);
        assert_eq!(bits(&back), bits(row), "row {i}");
    }
    assert!(set.row(0).is_empty(), "row 0 is all zeros");
    assert_eq!(set.row(12).first_non_finite(), Some(0));
}

/// A row wider than the kernels list at a time (1024 values) is listed part by part: its
/// values in every part come back at their columns (part boundaries included), and −0 is left
/// out as 0 is.
#[test]
fn wide_rows_are_listed_part_by_part() {
    let mut row = [0.0f32; 2100];
    let given = [
        (0, 1.0),
        (63, 2.0),
        (64, -3.0),
        (1023, 4.0),
        (1024, 5.0),
        (1500, f32::NAN),
        (2047, 6.0),
        (2048, 7.0),
        (2099, -8.0),
    ];
    for (c, v) in given {
        row[c] = v;
    }
    row[700] = -0.0;
    let mut set = SparseRows::<f32, 2100>::new();
    set.push_dense(&row);
    set.push_dense(&[0.0; 2100]);
    let listed = set.row(0);
    let columns: Vec<u16> = given.iter().map(|&(c, _)| c as u16).collect();
    assert_eq!(listed.indices(), &columns[..]);
    let values: Vec<f32> = given.iter().map(|&(_, v)| v).collect();
    assert_eq!(bits(listed.values()), bits(&values));
    let mut back = [9.0f32; 2100];
    listed.to_dense(&mut back);
    row[700] = 0.0;
    assert_eq!(bits(&back), bits(&row));
    assert!(set.row(1).is_empty());
}
