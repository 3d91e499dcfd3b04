//! A tile written for AVX2 + FMA with `core::arch`'s safe intrinsics (no `unsafe` here: they
//! are safe to call inside a function compiled for the features they need; only the call
//! into that function, after detection, is `unsafe`, in [`isa`](super::isa)).
//!
//! The last 17 to 20 columns of an A·B row block (MNIST's 50 = 16 + 16 + 18; 100 = 5·16 +
//! 20), which [`wide_tile`](super::dense::wide_tile) would take as a 4 × 24 tile: twelve
//! sums of eight lanes for 72 to 80 values, the sixteen registers all taken and LLVM
//! broadcasting A from registers. Here the first 16 columns are a 4 × 16 tile (eight sums)
//! and the last four of each pair of rows share one vector, `[a₀ a₀ a₀ a₀ a₁ a₁ a₁ a₁] · [b₁₆
//! … b₁₉ b₁₆ … b₁₉]`, whose `a`s come from the broadcasts the 4 × 16 tile makes anyway: ten
//! multiply-adds a step instead of twelve, and two registers to spare. Written with arrays,
//! LLVM split that shared vector back into one per row; the intrinsics keep it. The same for
//! f64 ([`split_tile_f64`]): the last 9 or 10 columns (MNIST's 50 = 5·8 + 10) as a 4 × 8 tile
//! and a vector `[a₀ a₀ a₁ a₁] · [b₈ b₉ b₈ b₉]` per two rows, where LLVM's 4 × 12 tile kept one
//! of its twelve sums on the stack in a plain build. Every lane still adds its own products in
//! the order of the steps, fused once each: the same sums as every other tile (so the module
//! exists only where the kernels fuse, the `fused` cfg).
//!
//! Also the one-row step in AVX2's vectors ([`add_row_f32`], [`add_row_f64`]), for the tile
//! whose sums the compiler left in scalars (see `Isa::add_row_vectors`).

use super::dense::Panel;
use super::pack::{load, unload};
use core::arch::x86_64::{
    __m256, __m256d, _mm_cvtsd_f64, _mm_unpackhi_pd, _mm256_blend_pd, _mm256_blend_ps,
    _mm256_castpd256_pd128, _mm256_extractf128_pd, _mm256_fmadd_pd, _mm256_fmadd_ps,
    _mm256_set1_pd, _mm256_set1_ps, _mm256_setr_pd, _mm256_setr_ps,
};

/// `fn $name`: the split tile for `$t`, vectors `$v` of `$lanes` values: a 4 × `2·$lanes` tile
/// and a vector for each two rows' last `$lanes / 2` columns. `$pair(upper, lower)`: those
/// columns of two rows as one vector; `$blend(a, b)`: `a`'s lower half and `b`'s upper one.
macro_rules! split_tile {
    (
        $name:ident, $t:ty, $v:ty, $lanes:literal, $load:ident, $unload:ident, $pair:ident,
        $blend:ident, $set1:ident, $fmadd:ident
    ) => {
        /// `c[i0 + r][j0 + j] (+)= Σ_q a[q][r] · b_rows[q·ldb + j]` for `r < rows`, `j < COLS`
        /// (more than two vectors, at most two and a half), over the first steps of `panel`
        /// whose two and a half vectors of B lie within `b_rows`; returns how many steps that
        /// was (the caller adds the others to `c`, in order). `COLS` is a constant so that the
        /// rows of `c` are read and written as vectors, not by calls to `memcpy` (6% of a dense
        /// x·W's time, with a run-time width).
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        pub(super) fn $name<const COLS: usize>(
            panel: Panel<'_, $t, 4>,
            b_rows: &[$t],
            ldb: usize,
            c: &mut [$t],
            ldc: usize,
            i0: usize,
            rows: usize,
            j0: usize,
            accumulate: bool,
        ) -> usize {
            const HEAD: usize = 2 * $lanes;
            const WIDTH: usize = HEAD + $lanes / 2;
            const { assert!(HEAD < COLS && COLS <= WIDTH) };
            debug_assert!(rows <= 4);
            let mut start = [[0.0; WIDTH]; 4];
            if accumulate {
                for (r, start) in start.iter_mut().enumerate().take(rows) {
                    let at = (i0 + r) * ldc + j0;
                    start[..COLS].copy_from_slice(&c[at..at + COLS]);
                }
            }
            let head = |r: usize| {
                let (head, _) = start[r].as_chunks::<$lanes>();
                [$load(&head[0]), $load(&head[1])]
            };
            let sums: ([[$v; 2]; 4], $v, $v) = (
                core::array::from_fn(head),
                $pair(&start[0][HEAD..], &start[1][HEAD..]),
                $pair(&start[2][HEAD..], &start[3][HEAD..]),
            );
            let whole = panel.within(ldb, WIDTH, b_rows.len());
            let b_row = |q: usize| -> &[$t; WIDTH] {
                match b_rows[q * ldb..][..WIDTH].try_into() {
                    Ok(b) => b,
                    Err(_) => unreachable!("a slice of WIDTH values"),
                }
            };
            let step = |(mut head, mut t01, mut t23): ([[$v; 2]; 4], $v, $v),
                        b: &[$t; WIDTH],
                        a: [$t; 4]| {
                let (b_head, b_tail) = b.as_chunks::<$lanes>();
                let (b0, b1) = ($load(&b_head[0]), $load(&b_head[1]));
                let b_pair = $pair(b_tail, b_tail);
                let a = a.map(|a| $set1(a));
                for (head, &a) in head.iter_mut().zip(&a) {
                    head[0] = $fmadd(a, b0, head[0]);
                    head[1] = $fmadd(a, b1, head[1]);
                }
                t01 = $fmadd($blend(a[0], a[1]), b_pair, t01);
                t23 = $fmadd($blend(a[2], a[3]), b_pair, t23);
                (head, t01, t23)
            };
            // Each step takes B's row before A's four values: so LLVM broadcasts them straight
            // from memory (read first, in the block before B's bounds check, they were loaded
            // as scalars and broadcast from registers, an instruction more each).
            let (head, t01, t23) = match panel {
                Panel::Rows([r0, r1, r2, r3]) => {
                    let steps = r0.iter().zip(r1).zip(r2).zip(r3).take(whole).enumerate();
                    steps.fold(sums, |sums, (q, (((a0, a1), a2), a3))| {
                        let b = b_row(q);
                        step(sums, b, [*a0, *a1, *a2, *a3])
                    })
                }
                Panel::Packed(_) | Panel::Strided { .. } => {
                    panel.fold(0..whole, sums, |sums, q, a| step(sums, b_row(q), *a))
                }
            };
            let (t01, t23) = ($unload(t01), $unload(t23));
            for (r, head) in head.iter().enumerate().take(rows) {
                let mut out = [0.0; WIDTH];
                out[..$lanes].copy_from_slice(&$unload(head[0]));
                out[$lanes..HEAD].copy_from_slice(&$unload(head[1]));
                let pair = if r < 2 { &t01 } else { &t23 };
                out[HEAD..].copy_from_slice(&pair[$lanes / 2 * (r % 2)..][..$lanes / 2]);
                let at = (i0 + r) * ldc + j0;
                c[at..at + COLS].copy_from_slice(&out[..COLS]);
            }
            whole
        }
    };
}

/// `upper[..4]` and `lower[..4]` as one vector: columns 16 to 19 of two rows of sums (or of
/// one row of B, twice).
#[target_feature(enable = "avx2")]
#[inline]
fn pair_f32(upper: &[f32], lower: &[f32]) -> __m256 {
    let (u, l) = (&upper[..4], &lower[..4]);
    _mm256_setr_ps(u[0], u[1], u[2], u[3], l[0], l[1], l[2], l[3])
}

/// `upper[..2]` and `lower[..2]` as one vector: columns 8 and 9 of two rows of sums (or of
/// one row of B, twice).
#[target_feature(enable = "avx2")]
#[inline]
fn pair_f64(upper: &[f64], lower: &[f64]) -> __m256d {
    let (u, l) = (&upper[..2], &lower[..2]);
    _mm256_setr_pd(u[0], u[1], l[0], l[1])
}

/// `a`'s lower four lanes and `b`'s upper four.
#[target_feature(enable = "avx2")]
#[inline]
fn blend_f32(a: __m256, b: __m256) -> __m256 {
    _mm256_blend_ps::<0b1111_0000>(a, b)
}

/// `a`'s lower two lanes and `b`'s upper two.
#[target_feature(enable = "avx2")]
#[inline]
fn blend_f64(a: __m256d, b: __m256d) -> __m256d {
    _mm256_blend_pd::<0b1100>(a, b)
}

split_tile!(
    split_tile,
    f32,
    __m256,
    8,
    load,
    unload,
    pair_f32,
    blend_f32,
    _mm256_set1_ps,
    _mm256_fmadd_ps
);
split_tile!(
    split_tile_f64,
    f64,
    __m256d,
    4,
    load_f64,
    unload_f64,
    pair_f64,
    blend_f64,
    _mm256_set1_pd,
    _mm256_fmadd_pd
);

/// Four f64 as a vector (one unaligned load).
#[target_feature(enable = "avx2")]
#[inline]
fn load_f64(v: &[f64; 4]) -> __m256d {
    _mm256_setr_pd(v[0], v[1], v[2], v[3])
}

/// A vector's four f64 (stored whole where they go to memory).
#[target_feature(enable = "avx2")]
#[inline]
fn unload_f64(v: __m256d) -> [f64; 4] {
    let (lo, hi) = (_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
    [
        _mm_cvtsd_f64(lo),
        _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo)),
        _mm_cvtsd_f64(hi),
        _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi)),
    ]
}

/// `out = v`, for [`row_step`].
#[target_feature(enable = "avx2")]
#[inline]
fn store_f32(out: &mut [f32; 8], v: __m256) {
    *out = unload(v);
}

/// `out = v`, for [`row_step`].
#[target_feature(enable = "avx2")]
#[inline]
fn store_f64(out: &mut [f64; 4], v: __m256d) {
    *out = unload_f64(v);
}

row_step!(
    "avx2,fma",
    add_row_f32,
    f32,
    8,
    load,
    store_f32,
    _mm256_set1_ps,
    _mm256_fmadd_ps
);
row_step!(
    "avx2,fma",
    add_row_f64,
    f64,
    4,
    load_f64,
    store_f64,
    _mm256_set1_pd,
    _mm256_fmadd_pd
);
