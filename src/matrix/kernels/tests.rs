//! The kernels against a plain sequential sum, bit for bit, on every path: run-time shapes that
//! the const-generic products cannot name one by one.

#[cfg(detect)]
use super::isa::{Avx2Fma, Avx512};
use super::isa::{Base, Isa};
use super::{gemm_nn_on, gemm_nt_on, gemm_tn_on};
use crate::float::{FUSED, Float};

/// A small seeded generator (SplitMix64), so every run sees the same numbers.
struct Rng(u64);

impl Rng {
    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        lo + (hi - lo) * ((z >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Checks `gemm_nn`, `gemm_tn` and `gemm_nt` on `$t` against a plain sequential sum, bit for
/// bit, for each shape and each kind of input: dense, sparse, very sparse, and "mixed" (blocks
/// of four rows alternately dense and 80% zeros, so that one product runs both its block path
/// and its row-by-row path).
macro_rules! check_kernels_bit_for_bit {
    ($t:ty, $shapes:expr, $isa:expr) => {{
        let isa = $isa;
        let mut rng = Rng(9);
        for &(m, k, n) in $shapes {
            for kind in ["dense", "80% zeros", "97% zeros", "mixed", "sparse firsts"] {
                let zeros = |i: usize| match kind {
                    "dense" => 0.0,
                    "80% zeros" => 0.8,
                    "97% zeros" => 0.97,
                    // Blocks of four rows alternately dense and sparse.
                    "mixed" => [0.0, 0.8][(i / 4) % 2],
                    // Each block's first row sparse, the other three dense: the block runs row
                    // by row, and its rows fill the values listed ahead of their products.
                    _ => [0.8, 0.0, 0.0, 0.0][i % 4],
                };
                // `rows` × `cols` values; row `i`'s share of zeros is `zeros(i)`.
                let mut draw = |rows: usize, cols: usize| -> Vec<$t> {
                    (0..rows * cols)
                        .map(|at| {
                            if rng.uniform(0.0, 1.0) < zeros(at / cols) {
                                0.0
                            } else {
                                rng.uniform(-1.0, 1.0) as $t
                            }
                        })
                        .collect()
                };
                let a = draw(m, k); // m×k
                let b = draw(k, n); // k×n
                let bt = draw(n, k); // n×k
                let at = draw(k, m); // k×m
                let seq = |f: &dyn Fn(usize, usize, usize) -> ($t, $t)| -> Vec<$t> {
                    let mut c = vec![0.0; m * n];
                    for i in 0..m {
                        for j in 0..n {
                            let mut s: $t = 0.0;
                            for p in 0..k {
                                let (x, y) = f(i, j, p);
                                s = s.add_product(x, y);
                            }
                            c[i * n + j] = s;
                        }
                    }
                    c
                };
                let bits = |v: &[$t]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let what = |op| format!("{op} {} {m}×{k}×{n} {kind} on {isa:?}", stringify!($t));
                let mut c = vec![<$t>::NAN; m * n];
                gemm_nn_on(isa, &a, &b, &mut c, m, k, n);
                let expected = seq(&|i, j, p| (a[i * k + p], b[p * n + j]));
                assert_eq!(bits(&c), bits(&expected), "{}", what("nn"));
                let mut c = vec![<$t>::NAN; m * n];
                gemm_tn_on(isa, &at, &b, &mut c, k, m, n);
                let expected = seq(&|i, j, p| (at[p * m + i], b[p * n + j]));
                assert_eq!(bits(&c), bits(&expected), "{}", what("tn"));
                let mut c = vec![<$t>::NAN; m * n];
                gemm_nt_on(isa, &a, &bt, &mut c, m, k, n);
                let expected = seq(&|i, j, p| (a[i * k + p], bt[j * k + p]));
                assert_eq!(bits(&c), bits(&expected), "{}", what("nt"));
            }
        }
    }};
}

/// Shapes that reach every path of the kernels: single rows and blocks of four, column tails
/// of every width below a vector and wider tiles read past the row's end (50 = 48 + 2),
/// several row tiles (130 > 64), inner dimensions chunked by `KC` (128) and `KR` (1024),
/// Aᵀ·B's last one or two columns run down 32 rows at a time (37 rows: 32 so, the rest not),
/// A·Bᵀ with B small enough to be transposed whole (n·k ≤ 2048, as MNIST's second layer,
/// 100×10·10×50; row by row when wider than four vectors) or not, and A·B and Aᵀ·B at most two
/// vectors wide in blocks whatever their zeros (MNIST's 100×50·50×10 and 50×100·100×10; 1 to
/// 16 columns, rows not a multiple of four, inner dimensions past `KC` and past what the padded
/// copy of B holds); a dense Aᵀ
/// copied four blocks at a time, in groups of 64 blocks with one to three left over (300
/// rows); A·Bᵀ's B transposed 64 columns at a time, the last strip narrower than a tile; A·B's
/// last tile at each width it takes (17 to 24 columns of f32, 9 to 12 of f64; 40 and 44 make
/// the widest); sparse rows listed a run at a time, with their values past what a run holds
/// (784 and 1024 steps), 64 steps at a time or not (1024 = 16·64, 1000); and the tiles of
/// 512-bit vectors: 48 columns and one more tile of up to 64 (49 to 64, 100 = 48 + 52, 113;
/// 49 to 52 split: four rows' last two columns in half a vector, or their last three or four
/// in a whole one; 50 columns two blocks at a time, eight rows' last two columns in one
/// vector, with 16 steps laid out at a time or fewer: 9, 16, 37 and 300 rows),
/// A·Bᵀ in tiles of 64 (200), and its last 16 columns or fewer in one vector's tile when B is
/// copied a strip at a time (208 = 3·64 + 16 and 130 = 2·64 + 2, 100 and 200 steps).
const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (3, 5, 7),
    (4, 16, 16),
    (9, 33, 50),
    (100, 300, 19),
    (6, 600, 3),
    (16, 784, 50),
    (12, 200, 130),
    (9, 1100, 21),
    (37, 70, 50),
    (64, 9, 17),
    (100, 10, 50),
    (100, 50, 10),
    (50, 100, 10),
    (18, 7, 1),
    (21, 200, 16),
    (33, 256, 8),
    (16, 257, 5),
    (300, 150, 50),
    (10, 140, 150),
    (8, 40, 40),
    (8, 40, 44),
    (12, 1024, 20),
    (24, 1000, 9),
    (12, 100, 100),
    (8, 30, 64),
    (8, 30, 63),
    (9, 20, 113),
    (40, 60, 49),
    (64, 50, 200),
    (12, 70, 51),
    (9, 300, 52),
    (8, 100, 208),
];

/// Runs `check` on every vector unit this machine has: the build's own, and the ones chosen
/// at run time (see `isa`). `CONSTNN_UNITS`, if set, names the only ones to run (`base`,
/// `avx2`, `avx512`, separated by commas), each of which must then be there: for
/// `bench/avx512_emulated.sh`, whose emulated CPU would take hours over the others.
fn on_every_unit(check: impl Fn(&dyn UnitCheck)) {
    let only = std::env::var("CONSTNN_UNITS").ok();
    let named = |unit: &str| {
        only.as_deref()
            .is_some_and(|v| v.split(',').any(|u| u == unit))
    };
    let wanted = |unit: &str| only.is_none() || named(unit);
    if wanted("base") {
        check(&Base);
    }
    #[cfg(detect)]
    match Avx2Fma::detect() {
        Some(unit) if wanted("avx2") => check(&unit),
        Some(_) => {}
        None if named("avx2") => {
            panic!("CONSTNN_UNITS names avx2, and this CPU has no AVX2 and FMA")
        }
        None => std::eprintln!("this CPU has no AVX2 and FMA: that unit is not tested here"),
    }
    #[cfg(detect)]
    match Avx512::detect() {
        Some(unit) if wanted("avx512") => check(&unit),
        Some(_) => {}
        None if named("avx512") => {
            panic!("CONSTNN_UNITS names avx512, and this CPU has no AVX-512")
        }
        None => std::eprintln!("this CPU has no AVX-512: that unit is not tested here"),
    }
}

#[cfg(feature = "alloc")]
/// Widths of the sparse-row products' outputs: below, at and past a vector of each unit, one
/// and several one-row tiles (130 > 64, 140 > 128), MNIST's 50 and 10, optimizer_compare's 100,
/// and last vectors of 512-bit tiles read as their values alone (1, 17, 50, 51, 100, 130: one
/// to four f32).
const SPARSE_WIDTHS: &[usize] = &[1, 7, 10, 16, 17, 50, 51, 64, 100, 130, 140];

/// Checks the products of sparse rows (`sparse_nn`, `sparse_tn`, and from values listed by
/// column `sparse_columns_nn` and `sparse_columns_tn`) on the unit `$isa` against a plain
/// sequential sum in the order of the inner index, bit for bit: 37 rows of width 71 with 80%
/// of their values zero (and one row all zero); 71 columns, so that `sparse_columns_tn`, which
/// takes two at a time, has one left over.
macro_rules! check_sparse_bit_for_bit {
    ($t:ty, $isa:expr) => {{
        use crate::matrix::sparse::SparseRow;
        use alloc::vec::Vec;
        const K: usize = 71;
        const M: usize = 37;
        let isa = $isa;
        let mut rng = Rng(21);
        // Row i's non-zero steps and values (row 5 all zero; columns 10 to 12 and 15 zero in
        // every row, as an image's border: two pairs of columns with nothing, one with one).
        let mut steps: Vec<Vec<u16>> = Vec::new();
        let mut values: Vec<Vec<$t>> = Vec::new();
        for i in 0..M {
            let (mut st, mut va) = (Vec::new(), Vec::new());
            for q in 0..K {
                let border = (10..13).contains(&q) || q == 15;
                if i != 5 && !border && rng.uniform(0.0, 1.0) < 0.2 {
                    st.push(q as u16);
                    va.push(rng.uniform(-1.0, 1.0) as $t);
                }
            }
            steps.push(st);
            values.push(va);
        }
        let x: Vec<SparseRow<'_, $t, K>> = steps
            .iter()
            .zip(&values)
            .map(|(s, v)| SparseRow::new(s, v).expect("a valid sparse row"))
            .collect();
        // The same values listed by column: each column's rows, increasing.
        let mut starts = alloc::vec![0u32];
        let (mut col_rows, mut col_values) = (Vec::new(), Vec::new());
        for p in 0..K {
            for (i, (s, v)) in steps.iter().zip(&values).enumerate() {
                if let Ok(at) = s.binary_search(&(p as u16)) {
                    col_rows.push(i as u16);
                    col_values.push(v[at]);
                }
            }
            starts.push(col_rows.len() as u32);
        }
        let bits = |v: &[$t]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for &n in SPARSE_WIDTHS {
            let what = |op| format!("{op} {} n = {n} on {isa:?}", stringify!($t));
            let b: Vec<$t> = (0..K * n).map(|_| rng.uniform(-1.0, 1.0) as $t).collect();
            let d: Vec<$t> = (0..M * n).map(|_| rng.uniform(-1.0, 1.0) as $t).collect();
            // x·b: row i is Σ over its steps, increasing, of value · b's row.
            let mut expected = alloc::vec![0.0 as $t; M * n];
            for (i, (s, v)) in steps.iter().zip(&values).enumerate() {
                for j in 0..n {
                    let mut sum: $t = 0.0;
                    for (&q, &a) in s.iter().zip(v) {
                        sum = sum.add_product(a, b[usize::from(q) * n + j]);
                    }
                    expected[i * n + j] = sum;
                }
            }
            let mut c = alloc::vec![<$t>::NAN; M * n];
            // `sparse_nn`'s width is a constant: a branch for each of `SPARSE_WIDTHS`.
            match n {
                1 => isa.sparse_nn::<$t, K, 1>(&x, &b, &mut c),
                7 => isa.sparse_nn::<$t, K, 7>(&x, &b, &mut c),
                10 => isa.sparse_nn::<$t, K, 10>(&x, &b, &mut c),
                16 => isa.sparse_nn::<$t, K, 16>(&x, &b, &mut c),
                17 => isa.sparse_nn::<$t, K, 17>(&x, &b, &mut c),
                50 => isa.sparse_nn::<$t, K, 50>(&x, &b, &mut c),
                51 => isa.sparse_nn::<$t, K, 51>(&x, &b, &mut c),
                64 => isa.sparse_nn::<$t, K, 64>(&x, &b, &mut c),
                100 => isa.sparse_nn::<$t, K, 100>(&x, &b, &mut c),
                130 => isa.sparse_nn::<$t, K, 130>(&x, &b, &mut c),
                140 => isa.sparse_nn::<$t, K, 140>(&x, &b, &mut c),
                _ => panic!("no branch for the width {n}"),
            }
            assert_eq!(bits(&c), bits(&expected), "{}", what("sparse_nn"));
            let mut c = alloc::vec![<$t>::NAN; M * n];
            isa.sparse_columns_nn::<$t>(&starts, &col_rows, &col_values, &b, &mut c, n);
            assert_eq!(bits(&c), bits(&expected), "{}", what("sparse_columns_nn"));
            let by_rows = expected;
            // xᵀ·d: row p is Σ over the rows with a value in column p, increasing.
            let mut expected = alloc::vec![0.0 as $t; K * n];
            for p in 0..K {
                for j in 0..n {
                    let mut sum: $t = 0.0;
                    for (i, (s, v)) in steps.iter().zip(&values).enumerate() {
                        if let Ok(at) = s.binary_search(&(p as u16)) {
                            sum = sum.add_product(v[at], d[i * n + j]);
                        }
                    }
                    expected[p * n + j] = sum;
                }
            }
            let mut c = alloc::vec![<$t>::NAN; K * n];
            isa.sparse_columns_tn::<$t>(&starts, &col_rows, &col_values, &d, &mut c, n);
            assert_eq!(bits(&c), bits(&expected), "{}", what("sparse_columns_tn"));
            // The products of a constant width: MNIST's 50 outputs, and 64, a whole number of
            // every unit's vectors.
            macro_rules! of_width {
                ($n:literal) => {
                    if n == $n {
                        let d: Vec<[$t; $n]> =
                            d.chunks_exact($n).map(|r| r.try_into().unwrap()).collect();
                        let mut c = alloc::boxed::Box::new([[<$t>::NAN; $n]; K]);
                        isa.sparse_tn::<$t, K, $n>(&x, &d, &mut c);
                        assert_eq!(bits(c.as_flattened()), bits(&expected), "{}", what("sparse_tn"));
                        // x·b with b's rows on lines (`LinedRows`' layout).
                        let (mut main, mut tail) = (Vec::new(), Vec::new());
                        for row in b.chunks_exact($n) {
                            super::push_lined(row, &mut main, &mut tail);
                        }
                        let mut c = alloc::vec![[<$t>::NAN; $n]; M];
                        isa.sparse_lined::<$t, K, $n>(&x, &main, &tail, &mut c);
                        assert_eq!(bits(c.as_flattened()), bits(&by_rows), "{}", what("sparse_lined"));
                    }
                };
            }
            of_width!(50);
            of_width!(64);
        }
        // xᵀ·d with more rows than a copy of one vector of each holds: `d` read in place.
        const TALL: usize = 2100;
        let mut starts = alloc::vec![0u32];
        let (mut col_rows, mut col_values) = (Vec::new(), Vec::new());
        for _ in 0..K {
            for i in 0..TALL {
                if rng.uniform(0.0, 1.0) < 0.01 {
                    col_rows.push(i as u16);
                    col_values.push(rng.uniform(-1.0, 1.0) as $t);
                }
            }
            starts.push(col_rows.len() as u32);
        }
        for n in [10, 100] {
            let d: Vec<$t> = (0..TALL * n).map(|_| rng.uniform(-1.0, 1.0) as $t).collect();
            let mut expected = alloc::vec![0.0 as $t; K * n];
            for p in 0..K {
                let span = starts[p] as usize..starts[p + 1] as usize;
                for j in 0..n {
                    let mut sum: $t = 0.0;
                    for (&i, &v) in col_rows[span.clone()].iter().zip(&col_values[span.clone()]) {
                        sum = sum.add_product(v, d[usize::from(i) * n + j]);
                    }
                    expected[p * n + j] = sum;
                }
            }
            let mut c = alloc::vec![<$t>::NAN; K * n];
            isa.sparse_columns_tn::<$t>(&starts, &col_rows, &col_values, &d, &mut c, n);
            let what = format!("sparse_columns_tn {} {TALL} rows, n = {n} on {isa:?}", stringify!($t));
            assert_eq!(bits(&c), bits(&expected), "{what}");
        }
    }};
}

/// Checks the unit's own listing of a row's non-zero f32 values (see `pack`), if it has one,
/// against the plain one: every length around the vectors' eight and the kernels' 64 (with
/// a tail of fewer than eight), no value, some and every value non-zero, −0 (not listed), NaN,
/// infinities and subnormals (listed), steps from 0 and from 1000. Returns whether it had one.
fn check_listing<I: Isa + core::fmt::Debug>(isa: I) -> bool {
    use alloc::vec::Vec;
    let mut rng = Rng(5);
    let special = [
        -0.0,
        f32::NAN,
        f32::INFINITY,
        -f32::INFINITY,
        1e-40,
        -1e-45,
        0.0,
    ];
    let mut own = false;
    for len in [0, 1, 7, 8, 9, 15, 16, 63, 64, 65, 100, 784, 1024] {
        for density in [0.0, 0.2, 0.5, 1.0] {
            let row: Vec<f32> = (0..len)
                .map(|q| match rng.uniform(0.0, 1.0) {
                    u if u >= density => 0.0,
                    _ if q % 13 == 5 => special[q / 13 % special.len()],
                    _ => rng.uniform(-1.0, 1.0) as f32,
                })
                .collect();
            for start in [0, 1000] {
                let listed: Vec<(u32, u16)> = (0..len)
                    .filter(|&q| row[q] != 0.0)
                    .map(|q| (row[q].to_bits(), (start + q) as u16))
                    .collect();
                let (mut values, mut steps) = (alloc::vec![-1.0f32; len], alloc::vec![7u16; len]);
                let Some(count) = isa.list_nonzero(&row, start, &mut values, &mut steps) else {
                    continue;
                };
                own = true;
                let got: Vec<(u32, u16)> = values[..count]
                    .iter()
                    .zip(&steps[..count])
                    .map(|(v, &q)| (v.to_bits(), q))
                    .collect();
                assert_eq!(
                    got, listed,
                    "{len} values, {density} non-zero, from {start} on {isa:?}"
                );
            }
        }
    }
    own
}

/// Checks that `gemm_tn` leaves out Aᵀ's all-zero steps wherever B could tell, on `isa`: Aᵀ
/// (200 × 100, 50 columns: MNIST's `xᵀ·dY` made smaller) looks dense, its first and last steps
/// without a zero, but step 37 is all zero. With B finite, the sums equal a plain sequential
/// sum (adding `0·b` changes none of them); with B infinite at step 37, they are those of the
/// sum without that step (a skipped `0·∞` is not NaN); and where A has no zero at all, an
/// infinite B gives the plain sum's infinities.
fn check_skipping<I: Isa + core::fmt::Debug, T: Float>(isa: I) {
    let (m, k, n) = (200, 100, 50);
    let mut rng = Rng(11);
    let mut at: Vec<T> = (0..k * m)
        .map(|_| {
            T::from_f64(
                rng.uniform(0.5, 1.0) * [-1.0, 1.0][usize::from(rng.uniform(0.0, 1.0) < 0.5)],
            )
        })
        .collect();
    let b_finite: Vec<T> = (0..k * n)
        .map(|_| T::from_f64(rng.uniform(-1.0, 1.0)))
        .collect();
    let mut b_infinite = b_finite.clone();
    b_infinite[37 * n + 5] = T::from_f64(f64::INFINITY);
    // `c[i][j]` summed over the steps `p` for which `take(p)` holds, in order.
    let sum = |at: &[T], b: &[T], take: &dyn Fn(usize) -> bool| -> Vec<u64> {
        let mut c = vec![0; m * n];
        for i in 0..m {
            for j in 0..n {
                let s = (0..k)
                    .filter(|&p| take(p))
                    .fold(T::ZERO, |s, p| s.add_product(at[p * m + i], b[p * n + j]));
                c[i * n + j] = s.to_f64().to_bits();
            }
        }
        c
    };
    let run = |at: &[T], b: &[T]| -> Vec<u64> {
        let mut c = vec![T::from_f64(f64::NAN); m * n];
        gemm_tn_on(isa, at, b, &mut c, k, m, n);
        c.iter().map(|v| v.to_f64().to_bits()).collect()
    };
    // The first sum that differs, named, rather than 10 000 of them.
    let same = |got: Vec<u64>, expected: &[u64], case: &str| {
        if let Some(at) = (0..m * n).find(|&at| got[at] != expected[at]) {
            panic!(
                "{case}, {} bytes a value, on {isa:?}: c[{}][{}] is {}, not {}",
                T::BYTES,
                at / n,
                at % n,
                f64::from_bits(got[at]),
                f64::from_bits(expected[at])
            );
        }
    };
    at[37 * m..38 * m].fill(T::ZERO);
    let all = |_| true;
    same(run(&at, &b_finite), &sum(&at, &b_finite, &all), "B finite");
    let skipped = sum(&at, &b_infinite, &|p| p != 37);
    same(
        run(&at, &b_infinite),
        &skipped,
        "B infinite at the zero step",
    );
    assert!(
        skipped.iter().all(|v| f64::from_bits(*v).is_finite()),
        "the sums without step 37 are finite"
    );
    at[37 * m..38 * m].fill(T::ONE);
    let plain = sum(&at, &b_infinite, &all);
    same(
        run(&at, &b_infinite),
        &plain,
        "A without a zero, B infinite",
    );
    assert!(plain.iter().any(|v| f64::from_bits(*v).is_infinite()));
}

/// A unit the checks run on, as a trait object (`Isa` itself has generic methods).
trait UnitCheck {
    fn f32(&self);
    fn f64(&self);
    fn listing(&self) -> bool;
    fn skipping(&self);
    #[cfg(feature = "alloc")]
    fn sparse_f32(&self);
    #[cfg(feature = "alloc")]
    fn sparse_f64(&self);
}

impl<I: Isa + core::fmt::Debug> UnitCheck for I {
    fn f32(&self) {
        check_kernels_bit_for_bit!(f32, SHAPES, *self);
    }
    fn f64(&self) {
        check_kernels_bit_for_bit!(f64, SHAPES, *self);
    }
    fn listing(&self) -> bool {
        check_listing(*self)
    }
    fn skipping(&self) {
        check_skipping::<_, f32>(*self);
        check_skipping::<_, f64>(*self);
    }
    #[cfg(feature = "alloc")]
    fn sparse_f32(&self) {
        check_sparse_bit_for_bit!(f32, *self);
    }
    #[cfg(feature = "alloc")]
    fn sparse_f64(&self) {
        check_sparse_bit_for_bit!(f64, *self);
    }
}

/// The kernels accumulate every output in the order of the inner index, one `add_product` per
/// step (fused or not, see `FUSED`), so they must equal a plain sequential sum bit for bit,
/// whatever the tiling, zero skipping (sparse inputs, row by row or in blocks), column tails,
/// chunking of a long inner dimension (for values such as these, whose products do not
/// underflow: see the test above), and whichever vector unit runs them.
#[test]
fn kernels_equal_a_sequential_sum_bit_for_bit_dense_and_sparse() {
    on_every_unit(|unit| unit.f32());
}

/// The same for f64, whose vectors hold half as many values (other tile widths).
#[test]
fn f64_kernels_equal_a_sequential_sum_bit_for_bit_dense_and_sparse() {
    on_every_unit(|unit| unit.f64());
}

/// Aᵀ·B reads a dense-looking Aᵀ whole, zeros and all, only where that adds what leaving out
/// its all-zero steps would: with B finite, its sums are a plain sequential sum's; with B
/// infinite at an all-zero step, that step is still left out (not NaN), on every unit and for
/// f32 and f64.
#[test]
fn a_transposed_product_leaves_out_all_zero_steps_wherever_b_could_tell() {
    on_every_unit(|unit| unit.skipping());
}

/// The products of sparse rows, row by row and from values listed by column, equal a plain
/// sequential sum in the order of the inner index on every unit, bit for bit: so a sparse
/// batch gives the numbers of the dense product whichever unit runs it.
#[cfg(feature = "alloc")]
#[test]
fn sparse_row_kernels_equal_a_sequential_sum_bit_for_bit_on_every_unit() {
    on_every_unit(|unit| {
        unit.sparse_f32();
        unit.sparse_f64();
    });
}

/// A unit's own listing of a row's non-zero values (AVX2's: eight at a time, by a table of
/// where a mask's lanes are) lists what the plain one lists, in order; on a CPU with AVX2 it
/// is checked (both its units have it), not skipped.
#[test]
fn every_units_listing_of_non_zero_values_is_the_plain_one() {
    let own = core::cell::Cell::new(0);
    on_every_unit(|unit| own.set(own.get() + usize::from(unit.listing())));
    #[cfg(detect)]
    if Avx2Fma::detect().is_some() {
        assert!(own.get() >= 1, "AVX2's listing ran");
    }
}

/// The vector units found by `cpuid` from `core` (`isa::cpu`) are the ones `std`'s detection
/// finds: AVX2 and FMA, and AVX-512 F, VL, BW and DQ beside them.
#[cfg(detect)]
#[test]
fn units_found_without_std_are_those_std_finds() {
    use std::is_x86_feature_detected as has;
    let avx2_fma = has!("avx2") && has!("fma");
    let avx512 =
        avx2_fma && has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq");
    assert_eq!(Avx2Fma::detect().is_some(), avx2_fma);
    assert_eq!(Avx512::detect().is_some(), avx512);
}

/// A unit's multiply-add (FMA's instruction, on units that have it, in fused builds) gives
/// `Float::add_product`'s number (`libm`'s fused multiply-add, outside the units) bit for bit:
/// on products that round differently fused (`(1 + 2⁻¹²)² − (1 + 2⁻¹¹)` is 2⁻²⁴ fused in f32, 0
/// in two steps), at the edges (signed zeros, underflow, subnormals, infinities, NaN) and on
/// random values across the exponents.
#[test]
fn every_units_multiply_add_is_add_product_bit_for_bit() {
    fn check<T: Float>(unit: impl Isa, cases: &[(T, T, T)]) {
        for &(s, a, b) in cases {
            let (ours, theirs) = (unit.add_product(s, a, b), s.add_product(a, b));
            assert!(
                ours.to_f64().to_bits() == theirs.to_f64().to_bits()
                    || (ours.to_f64().is_nan() && theirs.to_f64().is_nan()),
                "{s} + {a}·{b}: {ours} against {theirs}"
            );
        }
    }
    let near = 1.0 + 2f64.powi(-12);
    let mut rng = Rng(3);
    let mut cases: std::vec::Vec<(f64, f64, f64)> = std::vec![
        (-(1.0 + 2f64.powi(-11)), near, near),
        (-0.0, 0.0, 1.0),
        (-0.0, -0.0, 1.0),
        (0.0, 2f64.powi(-75), 2f64.powi(-75)),
        (0.0, 2f64.powi(-74), 2f64.powi(-75)),
        // The same in f64: (1 + 2⁻²⁷)² − (1 + 2⁻²⁶) is 2⁻⁵⁴ fused; and a subnormal product.
        (
            -(1.0 + 2f64.powi(-26)),
            1.0 + 2f64.powi(-27),
            1.0 + 2f64.powi(-27)
        ),
        (0.0, 2f64.powi(-540), 2f64.powi(-540)),
        (1.0, f64::INFINITY, 0.5),
        (f64::INFINITY, 1.0, -1.0),
        (f64::NAN, 1.0, 1.0),
    ];
    for _ in 0..10_000 {
        let mut value = |span: f64| rng.uniform(-1.0, 1.0) * 2f64.powf(rng.uniform(-span, span));
        cases.push((value(30.0), value(30.0), value(30.0)));
    }
    let narrow: std::vec::Vec<(f32, f32, f32)> = cases
        .iter()
        .map(|&(s, a, b)| (s as f32, a as f32, b as f32))
        .collect();
    // An x86-64 build with the fma feature fuses, std or not.
    #[cfg(all(feature = "fma", target_arch = "x86_64"))]
    const {
        assert!(FUSED)
    };
    if FUSED {
        let (s, a, b) = narrow[0];
        assert_eq!(s.add_product(a, b), 2f32.powi(-24), "add_product is fused");
        let (s, a, b) = cases[5];
        assert_eq!(s.add_product(a, b), 2f64.powi(-54), "add_product is fused");
    }
    // (`Base`'s multiply-add is `Float::add_product` itself: nothing to compare.)
    #[cfg(detect)]
    if let Some(unit) = Avx2Fma::detect() {
        check(unit, &narrow);
        check(unit, &cases);
    }
    #[cfg(detect)]
    if let Some(unit) = Avx512::detect() {
        check(unit, &narrow);
        check(unit, &cases);
    }
}

/// A pass of a block of rows takes `KC` steps of B, or on a core with an L1 data cache of
/// 48 KB or more, as many as fill 40 KB of it, from `KC` to `KC_MAX`: MNIST's x·W (B's rows
/// 200 bytes) in 4 passes of 196 steps there, not 7 of 112.
#[test]
fn a_pass_takes_as_many_steps_as_a_large_l1_holds() {
    use super::dense::pass_length_for;
    use super::{KC, KC_MAX};
    let f32_row = 50 * 4;
    if KC_MAX > KC {
        assert_eq!(pass_length_for(48 * 1024, f32_row), 204);
        assert_eq!(784usize.div_ceil(pass_length_for(48 * 1024, f32_row)), 4);
        // At most `KC_MAX`; never fewer than `KC`.
        assert_eq!(pass_length_for(48 * 1024, 21 * 4), KC_MAX);
        assert_eq!(pass_length_for(48 * 1024, 50 * 8), KC);
    }
    for small in [0, 32 * 1024, 48 * 1024 - 1] {
        assert_eq!(pass_length_for(small, f32_row), KC);
    }
}

/// The L1 data cache `cpuid` tells (`isa::cpu`) is the one Linux reports, where it reports one
/// (`/sys/devices/system/cpu/cpu0/cache`: the level-1 cache of type `Data`).
#[cfg(detect)]
#[test]
fn the_l1_data_cache_found_by_cpuid_is_the_one_linux_reports() {
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let read = |path: std::path::PathBuf| std::fs::read_to_string(path).ok();
    let reported = (0..8).find_map(|i| {
        let index = dir.join(format!("index{i}"));
        let level = read(index.join("level"))?;
        let kind = read(index.join("type"))?;
        let size = read(index.join("size"))?;
        let kb: usize = size.trim().strip_suffix('K')?.parse().ok()?;
        (level.trim() == "1" && kind.trim() == "Data").then_some(kb * 1024)
    });
    match reported {
        Some(bytes) => assert_eq!(super::isa::l1_data_bytes(), bytes),
        None => eprintln!(
            "no L1 data cache reported in {}: not compared",
            dir.display()
        ),
    }
}

/// A sparse batch's `x · b` runs from its rows where a row of sums fits the registers (MNIST's
/// 50 f32 outputs), except on Intel's AVX-512 cores, where the listing by column was measured
/// the faster; wider rows go by column everywhere.
#[cfg(feature = "alloc")]
#[test]
fn a_sparse_batch_multiplies_by_column_on_intel_avx512_and_where_rows_are_wide() {
    use super::columns::by_rows;
    for intel in [false, true] {
        assert!(by_rows::<_, f32>(Base, 50, intel));
        assert!(!by_rows::<_, f32>(Base, 200, intel));
    }
    #[cfg(detect)]
    if let Some(unit) = Avx2Fma::detect() {
        for intel in [false, true] {
            assert!(by_rows::<_, f32>(unit, 50, intel));
            assert!(!by_rows::<_, f32>(unit, 100, intel));
        }
    }
    #[cfg(detect)]
    if let Some(unit) = Avx512::detect() {
        assert!(by_rows::<_, f32>(unit, 50, false));
        assert!(by_rows::<_, f32>(unit, 100, false));
        assert!(!by_rows::<_, f32>(unit, 200, false));
        assert!(!by_rows::<_, f32>(unit, 50, true));
        assert!(!by_rows::<_, f64>(unit, 50, true));
    }
}

/// The vendor `cpuid` tells (`isa::cpu`) is the one Linux reports in `/proc/cpuinfo`.
#[cfg(detect)]
#[test]
fn the_vendor_found_by_cpuid_is_the_one_linux_reports() {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let vendor = info
        .lines()
        .find_map(|line| line.strip_prefix("vendor_id")?.split(':').nth(1))
        .map(str::trim);
    match vendor {
        Some(vendor) => assert_eq!(super::isa::intel(), vendor == "GenuineIntel", "{vendor}"),
        None => eprintln!("no vendor_id in /proc/cpuinfo: not compared"),
    }
}
