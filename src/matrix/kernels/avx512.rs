//! The A·B tiles of 512-bit vectors, the step of the one-row tiles and A·Bᵀ's transposition,
//! written with AVX-512's safe intrinsics (no `unsafe` here: only the call into the function,
//! after detection, and the loads and stores through a pointer, whole or masked, are
//! `unsafe`, in [`isa`](super::isa)).
//!
//! A tile of 4 rows × one, three or four vectors (16, 48 or 64 f32 columns, 8, 24 or 32 f64;
//! the wider ones take twelve or sixteen of the 32 registers), which
//! [`micro`](super::dense::micro) writes with arrays for the compiler to turn into vectors.
//! Then the compiler picks the vectors' width, and a build with `-C target-cpu=native` on an
//! Intel CPU whose tuning prefers 256-bit vectors (Skylake-SP to Emerald Rapids) got 256-bit
//! code: twice the instructions, and a 4 × 64 tile's sums spilled from the registers. Written
//! with `__m512` and `__m512d`, the width is the code's whatever the tuning. The same goes for
//! the one-row tiles' step, `acc += a · b_row` ([`add_row_f32`], [`add_row_f64`]), which
//! [`Isa::add_row`](super::isa::Isa::add_row) runs for rows a whole number of vectors wide.
//! Each lane still adds its products in the order of the steps, fused once each: the same sums
//! as every other tile (so the module exists only where the kernels fuse, the `fused` cfg).

use super::dense::Panel;
use super::isa::{load, store};
use core::arch::x86_64::{
    __m512, __m512d, _mm_setr_ps, _mm256_blend_ps, _mm256_fmadd_ps, _mm256_setr_ps,
    _mm512_broadcast_f32x4, _mm512_castpd_ps, _mm512_castps_pd, _mm512_castps256_ps512,
    _mm512_castps512_ps256, _mm512_fmadd_pd, _mm512_fmadd_ps, _mm512_mask_blend_ps,
    _mm512_permutex2var_ps, _mm512_permutexvar_ps, _mm512_set1_pd, _mm512_set1_ps,
    _mm512_setr_epi32, _mm512_setr_pd, _mm512_setr_ps, _mm512_setzero_pd, _mm512_setzero_ps,
    _mm512_shuffle_f32x4, _mm512_shuffle_f64x2, _mm512_unpackhi_pd, _mm512_unpackhi_ps,
    _mm512_unpacklo_pd, _mm512_unpacklo_ps,
};

/// Sixteen f32 as a vector (one unaligned load).
#[target_feature(enable = "avx512f")]
#[inline]
fn load_f32(v: &[f32; 16]) -> __m512 {
    _mm512_setr_ps(
        v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
        v[14], v[15],
    )
}

/// Eight f64 as a vector (one unaligned load).
#[target_feature(enable = "avx512f")]
#[inline]
fn load_f64(v: &[f64; 8]) -> __m512d {
    _mm512_setr_pd(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
}

/// One step of a tile: B's row (`V` vectors of `LANES`) first, then each of A's four values
/// read where it is broadcast, so that it is broadcast from memory (copied first, A's values
/// were loaded as scalars and broadcast from registers, an instruction more each). A macro, to
/// be written out in each loop: as a closure, the 4 × 64 step was not inlined.
macro_rules! step {
    ($vector:ty, $lanes:expr, $load:ident, $set1:ident, $fmadd:ident; $sums:expr, $b:expr,
     [$($a:expr),*]) => {{
        let mut sums: [[$vector; V]; 4] = $sums;
        let (chunks, _) = $b.as_chunks::<{ $lanes }>();
        let b: [$vector; V] = core::array::from_fn(|v| $load(&chunks[v]));
        let mut rows = sums.iter_mut();
        $(
            if let Some(sums) = rows.next() {
                let a = $set1(*$a);
                for (s, &b) in sums.iter_mut().zip(&b) {
                    *s = $fmadd(a, b, *s);
                }
            }
        )*
        sums
    }};
}

/// `fn $name<NR, V>`: the tile of `$t` in vectors of `$lanes` (`$vector`).
macro_rules! tile {
    ($name:ident, $t:ty, $vector:ty, $lanes:expr, $load:ident, $load_first:path,
     $store_first:path, $set1:ident, $fmadd:ident, $zero:ident) => {
        /// `c[i0 + r][j0 + j] (+)= Σ_q a[q][r] · b_rows[q·ldb + j]` for `r < rows`,
        /// `j < cols ≤ NR` (`NR` = `V` vectors), over the first steps of `panel` whose `NR`
        /// values of B lie within `b_rows`; returns how many steps that was (the caller adds
        /// the others to `c`, in order). With `cols < NR` the extra lanes read on into B's
        /// next row and are never stored.
        #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
        #[inline(never)]
        #[allow(clippy::too_many_arguments)]
        pub(super) fn $name<const NR: usize, const V: usize>(
            panel: Panel<'_, $t, 4>,
            b_rows: &[$t],
            ldb: usize,
            cols: usize,
            c: &mut [$t],
            ldc: usize,
            i0: usize,
            rows: usize,
            j0: usize,
            accumulate: bool,
        ) -> usize {
            const { assert!(NR == V * $lanes) };
            debug_assert!(rows <= 4 && cols <= NR);
            let mut sums = [[$zero(); V]; 4];
            if accumulate {
                for (r, sums) in sums.iter_mut().enumerate().take(rows) {
                    let at = (i0 + r) * ldc + j0;
                    let row = &c[at..at + cols];
                    for (v, s) in sums.iter_mut().enumerate() {
                        *s = $load_first(row.get(v * $lanes..).unwrap_or_default());
                    }
                }
            }
            let whole = panel.within(ldb, NR, b_rows.len());
            let b_row = |q: usize| -> &[$t; NR] {
                match b_rows[q * ldb..][..NR].try_into() {
                    Ok(b) => b,
                    Err(_) => unreachable!("a slice of NR values"),
                }
            };
            let sums = match panel {
                Panel::Rows([r0, r1, r2, r3]) => {
                    let steps = r0.iter().zip(r1).zip(r2).zip(r3).take(whole).enumerate();
                    steps.fold(
                        sums,
                        #[inline(always)]
                        |sums, (q, (((a0, a1), a2), a3))| {
                            step!($vector, $lanes, $load, $set1, $fmadd;
                                sums, b_row(q), [a0, a1, a2, a3])
                        },
                    )
                }
                Panel::Packed(_) | Panel::Strided { .. } => panel.fold(
                    0..whole,
                    sums,
                    #[inline(always)]
                    |sums, q, a| {
                        step!($vector, $lanes, $load, $set1, $fmadd;
                            sums, b_row(q), [&a[0], &a[1], &a[2], &a[3]])
                    },
                ),
            };
            for (r, sums) in sums.iter().enumerate().take(rows) {
                let at = (i0 + r) * ldc + j0;
                let row = &mut c[at..at + cols];
                for (v, &s) in sums.iter().enumerate() {
                    if let Some(part) = row.get_mut(v * $lanes..) {
                        $store_first(part, s);
                    }
                }
            }
            whole
        }
    };
}

tile!(
    tile_f32,
    f32,
    __m512,
    16,
    load_f32,
    load::f32x16_first,
    store::f32x16_first,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_setzero_ps
);
tile!(
    tile_f64,
    f64,
    __m512d,
    8,
    load_f64,
    load::f64x8_first,
    store::f64x8_first,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_setzero_pd
);

row_step!(
    "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma",
    add_row_f32,
    f32,
    16,
    load_f32,
    store::f32x16,
    _mm512_set1_ps,
    _mm512_fmadd_ps
);
row_step!(
    "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma",
    add_row_f64,
    f64,
    8,
    load_f64,
    store::f64x8,
    _mm512_set1_pd,
    _mm512_fmadd_pd
);

/// Sixteen vectors of sixteen f32 transposed: lane `c` of vector `r` becomes lane `r` of
/// vector `c`. Pairs of rows interleaved, then pairs of pairs, then 128-bit quarters.
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose16(rows: [__m512; 16]) -> [__m512; 16] {
    // After these, `quads[g][c]` holds, in its quarter `l`, column `4l + c` of rows `4g` to
    // `4g + 3`.
    let quads: [[__m512; 4]; 4] = core::array::from_fn(|g| {
        let [a, b, c, d] = [
            rows[4 * g],
            rows[4 * g + 1],
            rows[4 * g + 2],
            rows[4 * g + 3],
        ];
        let (ab_lo, ab_hi) = (_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
        let (cd_lo, cd_hi) = (_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
        let pair = |x: __m512, y: __m512, high: bool| {
            let (x, y) = (_mm512_castps_pd(x), _mm512_castps_pd(y));
            _mm512_castpd_ps(if high {
                _mm512_unpackhi_pd(x, y)
            } else {
                _mm512_unpacklo_pd(x, y)
            })
        };
        [
            pair(ab_lo, cd_lo, false),
            pair(ab_lo, cd_lo, true),
            pair(ab_hi, cd_hi, false),
            pair(ab_hi, cd_hi, true),
        ]
    });
    // Quarters 0 and 2 (`EVEN`) or 1 and 3 (`ODD`) of `x`, then the same of `y`.
    const EVEN: i32 = 0b10_00_10_00;
    const ODD: i32 = 0b11_01_11_01;
    let mut out = rows;
    for c in 0..4 {
        // Rows 0 to 7, then 8 to 15: columns `c` and `8 + c` (`even`), `4 + c` and `12 + c`.
        let halves = |h: usize| {
            let (x, y) = (quads[2 * h][c], quads[2 * h + 1][c]);
            (
                _mm512_shuffle_f32x4::<EVEN>(x, y),
                _mm512_shuffle_f32x4::<ODD>(x, y),
            )
        };
        let ((even0, odd0), (even1, odd1)) = (halves(0), halves(1));
        out[c] = _mm512_shuffle_f32x4::<EVEN>(even0, even1);
        out[8 + c] = _mm512_shuffle_f32x4::<ODD>(even0, even1);
        out[4 + c] = _mm512_shuffle_f32x4::<EVEN>(odd0, odd1);
        out[12 + c] = _mm512_shuffle_f32x4::<ODD>(odd0, odd1);
    }
    out
}

/// Eight vectors of eight f64 transposed: lane `c` of vector `r` becomes lane `r` of vector
/// `c`. Pairs of rows interleaved, then 128-bit quarters twice.
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose8(rows: [__m512d; 8]) -> [__m512d; 8] {
    // `pairs[g]`: rows `2g` and `2g + 1` interleaved, their even columns (`.0`: quarter `l`
    // holds column `2l` of both) and odd ones (`.1`: column `2l + 1`).
    let pairs: [(__m512d, __m512d); 4] = core::array::from_fn(|g| {
        let (a, b) = (rows[2 * g], rows[2 * g + 1]);
        (_mm512_unpacklo_pd(a, b), _mm512_unpackhi_pd(a, b))
    });
    // Quarters 0 and 2 (`EVEN`) or 1 and 3 (`ODD`) of `x`, then the same of `y`.
    const EVEN: i32 = 0b10_00_10_00;
    const ODD: i32 = 0b11_01_11_01;
    // `quads[h][c]`: rows `4h` to `4h + 3`, columns `c` and `c + 4` (as `c` = 0, 2 from the
    // even columns, 1, 3 from the odd ones).
    let quads: [[__m512d; 4]; 2] = core::array::from_fn(|h| {
        let ((e0, o0), (e1, o1)) = (pairs[2 * h], pairs[2 * h + 1]);
        [
            _mm512_shuffle_f64x2::<EVEN>(e0, e1),
            _mm512_shuffle_f64x2::<EVEN>(o0, o1),
            _mm512_shuffle_f64x2::<ODD>(e0, e1),
            _mm512_shuffle_f64x2::<ODD>(o0, o1),
        ]
    });
    let mut out = rows;
    for c in 0..4 {
        let (x, y) = (quads[0][c], quads[1][c]);
        out[c] = _mm512_shuffle_f64x2::<EVEN>(x, y);
        out[c + 4] = _mm512_shuffle_f64x2::<ODD>(x, y);
    }
    out
}

/// `fn $name`: [`transpose_into`](super::dense::transpose_into) for `$t`, `$lanes` rows by
/// `$lanes` steps at a time in registers (`$transpose`), the rest one value at a time.
macro_rules! transpose_blocks {
    ($name:ident, $t:ty, $lanes:literal, $vector:ty, $zero:ident, $load:ident, $store:path,
     $transpose:ident) => {
        /// `out[(q − steps.start)·ld + j] = b[j·k + q]` for every row `j` of `b` (rows of `k`
        /// values) and every `q` in `steps`: [`transpose_into`](super::dense::transpose_into),
        /// a square of whole vectors at a time in registers, the rest one value at a time. The
        /// compiler's own version wrote a column at a time with scatter stores, which AMD's
        /// cores run one value at a time.
        #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
        #[inline(never)]
        pub(super) fn $name(
            b: &[$t],
            k: usize,
            steps: core::ops::Range<usize>,
            ld: usize,
            out: &mut [$t],
        ) {
            let (q0, q1) = (steps.start, steps.end);
            let cols = b.len() / k;
            let whole_q = q0 + (q1 - q0) / $lanes * $lanes;
            let whole_j = cols / $lanes * $lanes;
            for j0 in (0..whole_j).step_by($lanes) {
                for qb in (q0..whole_q).step_by($lanes) {
                    let mut rows: [$vector; $lanes] = [$zero(); $lanes];
                    for (r, row) in rows.iter_mut().enumerate() {
                        match b[(j0 + r) * k + qb..][..$lanes].try_into() {
                            Ok(v) => *row = $load(v),
                            Err(_) => unreachable!("a slice of a vector's values"),
                        }
                    }
                    for (i, v) in $transpose(rows).into_iter().enumerate() {
                        let at = (qb - q0 + i) * ld + j0;
                        match (&mut out[at..at + $lanes]).try_into() {
                            Ok(out) => $store(out, v),
                            Err(_) => unreachable!("a slice of a vector's values"),
                        }
                    }
                }
            }
            for j in 0..cols {
                let rest = if j < whole_j { whole_q..q1 } else { q0..q1 };
                for q in rest {
                    out[(q - q0) * ld + j] = b[j * k + q];
                }
            }
        }
    };
}

transpose_blocks!(
    transpose_f32,
    f32,
    16,
    __m512,
    _mm512_setzero_ps,
    load_f32,
    store::f32x16,
    transpose16
);
transpose_blocks!(
    transpose_f64,
    f64,
    8,
    __m512d,
    _mm512_setzero_pd,
    load_f64,
    store::f64x8,
    transpose8
);

/// Two blocks of sixteen laid-out steps, on whole cache lines, so that no step's eight values
/// straddle two.
#[repr(align(64))]
struct Laid([[f32; 128]; 2]);

/// Where a step's eight values lie in a block of sixteen steps laid out by
/// [`split_tile8_f32`]: steps `j`, `j + 4`, `j + 8` and `j + 12` share a 128-value record.
const fn slot8(s: usize) -> usize {
    32 * (s % 4) + 8 * (s / 4)
}

/// Step `s`'s eight values in a record laid out by [`split_tile8_f32`] (`s` < 16).
#[inline(always)]
fn step8(record: &[f32; 128], s: usize) -> &[f32; 8] {
    match record[slot8(s)..].first_chunk() {
        Some(a) => a,
        None => unreachable!("eight values"),
    }
}

/// Columns of B and C that [`split_tile8_f32`] takes: MNIST's 50.
pub(super) const PAIR_COLS: usize = 50;

/// `c[i0 + r][j] (+)= Σ_q a[r][q] · b_rows[q·50 + j]` for the eight `rows` of A (two blocks
/// read in place, all as long: the steps) and B's [`PAIR_COLS`] = 50 columns (its rows side by
/// side), over the steps whose row of B lies within `b_rows`; returns how many steps that was
/// (the caller adds the others to `c`, in order).
///
/// [`split_tile_f32`] on eight rows at once: the 8 × 48 head in 24 multiply-adds a step, and
/// the last two columns of all eight rows in one vector, `[a₀ a₀ a₁ a₁ … a₇ a₇] · [b₄₈ b₄₉ b₄₈
/// b₄₉ …]`, 25 multiply-adds for 400 of a step's products where two blocks of four take 26
/// and six shuffles. Its `a`s come from a copy of sixteen steps at a time, the eight rows'
/// values of each step side by side (24 shuffles for the sixteen, then one permutation a
/// step), made while the steps before it run. Each row of B is read once for eight rows of A,
/// not four: a pass of B (about 40 KB) does not quite stay in a 48 KB L1 cache beside A's
/// rows, and with B's rows held in L1 the four-row tile ran about 10% faster
/// (PERFORMANCE.md, "x·W eight rows at a time"). Each lane still adds its products in the
/// order of the steps, fused once each.
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
#[inline(never)]
pub(super) fn split_tile8_f32(
    rows: [&[f32]; 8],
    b_rows: &[f32],
    c: &mut [f32],
    ldc: usize,
    i0: usize,
    accumulate: bool,
) -> usize {
    const HEAD: usize = 48;
    const COLS: usize = PAIR_COLS;
    let kc = rows[0].len();
    let mut head = [[_mm512_setzero_ps(); 3]; 8];
    let mut tail = _mm512_setzero_ps();
    if accumulate {
        let mut start = [0.0; 16];
        for (r, head) in head.iter_mut().enumerate() {
            let at = (i0 + r) * ldc;
            let row = &c[at..at + COLS];
            for (v, s) in head.iter_mut().enumerate() {
                *s = load::f32x16_first(&row[v * 16..]);
            }
            start[2 * r..2 * r + COLS - HEAD].copy_from_slice(&row[HEAD..]);
        }
        tail = load_f32(&start);
    }
    // B's rows as arrays: a step's reads need no check of their bounds.
    let (b_steps, _) = b_rows.as_chunks::<COLS>();
    let whole = kc.min(b_steps.len());
    // Lane 2r and 2r + 1 take row r's value.
    let pairs = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    macro_rules! step {
        ($sums:expr, $b:expr, $a:expr) => {{
            let (mut head, tail): ([[__m512; 3]; 8], __m512) = $sums;
            let (b, a): (&[f32; COLS], &[f32; 8]) = ($b, $a);
            let (chunks, b0, b1) = match b.as_chunks::<16>() {
                (chunks, &[b0, b1]) => (chunks, b0, b1),
                _ => unreachable!("three vectors and two values"),
            };
            let bv: [__m512; 3] = core::array::from_fn(|v| load_f32(&chunks[v]));
            for (sums, &a) in head.iter_mut().zip(a) {
                let a = _mm512_set1_ps(a);
                for (s, &b) in sums.iter_mut().zip(&bv) {
                    *s = _mm512_fmadd_ps(a, b, *s);
                }
            }
            let b_tail = _mm512_setr_ps(
                b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1,
            );
            let row = _mm256_setr_ps(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
            let a_tail = _mm512_permutexvar_ps(pairs, _mm512_castps256_ps512(row));
            (head, _mm512_fmadd_ps(a_tail, b_tail, tail))
        }};
    }
    // Sixteen steps from `q0` of the eight rows into `out`, step `s` at `slot8(s)`: rows
    // paired, then four rows of a step in each 128-bit lane, then each lane's step beside the
    // same step of the other four rows.
    macro_rules! lay_out {
        ($q0:expr, $out:expr) => {{
            let (q0, out): (usize, &mut [f32; 128]) = ($q0, $out);
            let v: [__m512; 8] = core::array::from_fn(|r| match rows[r][q0..q0 + 16].try_into() {
                Ok(a) => load::f32x16(a),
                Err(_) => unreachable!("sixteen values"),
            });
            let pd = _mm512_castps_pd;
            let ps = _mm512_castpd_ps;
            let low = |x, y| pd(_mm512_unpacklo_ps(x, y));
            let high = |x, y| pd(_mm512_unpackhi_ps(x, y));
            let (t0, t1) = (low(v[0], v[1]), high(v[0], v[1]));
            let (t2, t3) = (low(v[2], v[3]), high(v[2], v[3]));
            let (t4, t5) = (low(v[4], v[5]), high(v[4], v[5]));
            let (t6, t7) = (low(v[6], v[7]), high(v[6], v[7]));
            let steps = [
                (
                    ps(_mm512_unpacklo_pd(t0, t2)),
                    ps(_mm512_unpacklo_pd(t4, t6)),
                ),
                (
                    ps(_mm512_unpackhi_pd(t0, t2)),
                    ps(_mm512_unpackhi_pd(t4, t6)),
                ),
                (
                    ps(_mm512_unpacklo_pd(t1, t3)),
                    ps(_mm512_unpacklo_pd(t5, t7)),
                ),
                (
                    ps(_mm512_unpackhi_pd(t1, t3)),
                    ps(_mm512_unpackhi_pd(t5, t7)),
                ),
            ];
            let first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
            let last =
                _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
            let (records, _) = out.as_chunks_mut::<16>();
            for (j, (low, high)) in steps.into_iter().enumerate() {
                store::f32x16(
                    &mut records[2 * j],
                    _mm512_permutex2var_ps(low, first, high),
                );
                store::f32x16(
                    &mut records[2 * j + 1],
                    _mm512_permutex2var_ps(low, last, high),
                );
            }
        }};
    }
    let blocks = whole / 16;
    let mut laid = Laid([[0.0; 128]; 2]);
    let laid = &mut laid.0;
    if blocks > 0 {
        lay_out!(0, &mut laid[0]);
    }
    let mut sums = (head, tail);
    let (b_blocks, _) = b_steps[..16 * blocks].as_chunks::<16>();
    for (g, b_block) in b_blocks.iter().enumerate() {
        // The next block's copy first, so that it runs beside this block's multiply-adds.
        if g + 1 < blocks {
            lay_out!(16 * (g + 1), &mut laid[(g + 1) % 2]);
        }
        let here = &laid[g % 2];
        for (s, b) in b_block.iter().enumerate() {
            sums = step!(sums, b, step8(here, s));
        }
    }
    // The last few steps laid out one value at a time into the free record, then run the same
    // way: gathered into registers instead, their eight values pushed the sums onto the stack.
    let (q0, rest) = (16 * blocks, &b_steps[16 * blocks..whole]);
    let free = &mut laid[blocks % 2];
    for s in 0..rest.len() {
        for (r, row) in rows.iter().enumerate() {
            free[slot8(s) + r] = row[q0 + s];
        }
    }
    let free = &laid[blocks % 2];
    for (s, b) in rest.iter().enumerate() {
        sums = step!(sums, b, step8(free, s));
    }
    let (head, tail) = sums;
    let mut last = [0.0; 16];
    store::f32x16(&mut last, tail);
    for (r, head) in head.iter().enumerate() {
        let at = (i0 + r) * ldc;
        let row = &mut c[at..at + COLS];
        for (v, &s) in head.iter().enumerate() {
            store::f32x16_first(&mut row[v * 16..], s);
        }
        row[HEAD..].copy_from_slice(&last[2 * r..2 * r + COLS - HEAD]);
    }
    whole
}

/// The most columns of B a step of [`split_tile_f32`] reads: three vectors, then four for the
/// last (two for 49 or 50 columns).
const SPLIT_WIDTH: usize = 52;

/// `c[i0 + r][j0 + j] (+)= Σ_q a[q][r] · b_rows[q·ldb + j]` for `r < rows`, `j < COLS` (49 to
/// 52: MNIST's 50), over the first steps of `panel` whose values of B (50 or 52) lie within
/// `b_rows`; returns how many steps that was (the caller adds the others to `c`, in order).
///
/// The first 48 columns are a 4 × 48 tile; the last columns of all four rows share one
/// vector, its `a`s put together from the broadcasts the 4 × 48 tile makes anyway. Thirteen
/// multiply-adds a step instead of the 4 × 64 tile's sixteen (whose last vector of each row
/// held 2 of MNIST's columns in 16 lanes). Two last columns (49 or 50) take half a vector,
/// `[a₀ a₀ a₁ a₁ a₂ a₂ a₃ a₃] · [b₄₈ b₄₉ b₄₈ b₄₉ …]`, whose `a`s take two in-lane shuffles and an
/// insert, and whose `b`s are one 64-bit broadcast from memory; three or four (51, 52) take a
/// whole one, `[a₀ a₀ a₀ a₀ a₁ … a₃] · [b₄₈ … b₅₁ b₄₈ … b₅₁ …]`, whose `a`s the compiler makes
/// with four shuffles, two across lanes (PERFORMANCE.md, "A Zen 5 with AVX-512", and "x·W's
/// last two columns in half a vector"). Each lane still adds its products in the order of the
/// steps, fused once each.
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(super) fn split_tile_f32<const COLS: usize>(
    panel: Panel<'_, f32, 4>,
    b_rows: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    i0: usize,
    rows: usize,
    j0: usize,
    accumulate: bool,
) -> usize {
    const HEAD: usize = 48;
    const { assert!(HEAD < COLS && COLS <= SPLIT_WIDTH) };
    debug_assert!(rows <= 4);
    // Lanes of the last vector a row's last columns take: two (the low half) or four.
    let pairs = const { COLS <= HEAD + 2 };
    let lanes = if pairs { 2 } else { 4 };
    let mut head = [[_mm512_setzero_ps(); 3]; 4];
    let mut tail = _mm512_setzero_ps();
    if accumulate {
        let mut start = [0.0; 16];
        for (r, head) in head.iter_mut().enumerate().take(rows) {
            let at = (i0 + r) * ldc + j0;
            let row = &c[at..at + COLS];
            for (v, s) in head.iter_mut().enumerate() {
                *s = load::f32x16_first(&row[v * 16..]);
            }
            start[lanes * r..lanes * r + COLS - HEAD].copy_from_slice(&row[HEAD..]);
        }
        tail = load_f32(&start);
    }
    // B's values a step reads: the head's, then the last vector's (two or four).
    let width = HEAD + lanes;
    let whole = panel.within(ldb, width, b_rows.len());
    let b_row = |q: usize| -> (&[f32; HEAD], &[f32]) {
        let (head, last) = b_rows[q * ldb..][..width].split_at(HEAD);
        match head.try_into() {
            Ok(head) => (head, last),
            Err(_) => unreachable!("a slice of HEAD values"),
        }
    };
    // B's row first, then each of A's values broadcast where it is read (see `step!`).
    macro_rules! split_step {
        ($sums:expr, $b:expr, [$a0:expr, $a1:expr, $a2:expr, $a3:expr]) => {{
            let (mut head, mut tail): ([[__m512; 3]; 4], __m512) = $sums;
            let (b, last): (&[f32; HEAD], &[f32]) = $b;
            let (chunks, _) = b.as_chunks::<16>();
            let bv: [__m512; 3] = core::array::from_fn(|v| load_f32(&chunks[v]));
            let a = [
                _mm512_set1_ps(*$a0),
                _mm512_set1_ps(*$a1),
                _mm512_set1_ps(*$a2),
                _mm512_set1_ps(*$a3),
            ];
            for (sums, &a) in head.iter_mut().zip(&a) {
                for (s, &b) in sums.iter_mut().zip(&bv) {
                    *s = _mm512_fmadd_ps(a, b, *s);
                }
            }
            tail = if pairs {
                let (b0, b1) = (last[0], last[1]);
                let b_tail = _mm256_setr_ps(b0, b1, b0, b1, b0, b1, b0, b1);
                let half = |a| _mm512_castps512_ps256(a);
                let low = _mm256_blend_ps::<0b1100_1100>(half(a[0]), half(a[1]));
                let high = _mm256_blend_ps::<0b1100_1100>(half(a[2]), half(a[3]));
                let a_tail = _mm256_blend_ps::<0b1111_0000>(low, high);
                let t = _mm256_fmadd_ps(a_tail, b_tail, _mm512_castps512_ps256(tail));
                _mm512_castps256_ps512(t)
            } else {
                let b_tail =
                    _mm512_broadcast_f32x4(_mm_setr_ps(last[0], last[1], last[2], last[3]));
                let low = _mm512_mask_blend_ps(0x00f0, a[0], a[1]);
                let high = _mm512_mask_blend_ps(0xf000, a[2], a[3]);
                _mm512_fmadd_ps(_mm512_mask_blend_ps(0xff00, low, high), b_tail, tail)
            };
            (head, tail)
        }};
    }
    let (head, tail) = match panel {
        Panel::Rows([r0, r1, r2, r3]) => {
            let steps = r0.iter().zip(r1).zip(r2).zip(r3).take(whole).enumerate();
            steps.fold(
                (head, tail),
                #[inline(always)]
                |sums, (q, (((a0, a1), a2), a3))| split_step!(sums, b_row(q), [a0, a1, a2, a3]),
            )
        }
        Panel::Packed(_) | Panel::Strided { .. } => panel.fold(
            0..whole,
            (head, tail),
            #[inline(always)]
            |sums, q, a| split_step!(sums, b_row(q), [&a[0], &a[1], &a[2], &a[3]]),
        ),
    };
    let mut last = [0.0; 16];
    store::f32x16(&mut last, tail);
    for (r, head) in head.iter().enumerate().take(rows) {
        let at = (i0 + r) * ldc + j0;
        let row = &mut c[at..at + COLS];
        for (v, &s) in head.iter().enumerate() {
            store::f32x16_first(&mut row[v * 16..], s);
        }
        row[HEAD..].copy_from_slice(&last[lanes * r..lanes * r + COLS - HEAD]);
    }
    whole
}
