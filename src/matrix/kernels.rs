//! The matrix-product kernels, over row-major slices with run-time sizes.
//!
//! Each is written once and shared by every shape (see `matrix`'s wrappers, which check the
//! shapes at compile time and pass the sizes down).
//!
//! **Register tiles.** The output is cut into tiles of [`MR`] rows × `NR` columns (4 × 16 for
//! f32: eight 256-bit accumulators) that stay in registers while the inner dimension streams
//! through; each step multiplies `MR` values of A by one `NR`-wide row of B. The `MR` values of
//! each step are first packed side by side on the stack ([`KC`] steps at a time), so the inner
//! loop reads A contiguously whatever its layout, and B's rows are read in place (or, for
//! A·Bᵀ, copied transposed 64 columns at a time). A block of rows of A with no all-zero step is
//! read in place instead: packing it would copy every value to skip nothing (one whose first
//! row has no zero, unchecked: see `in_place`). An Aᵀ without a
//! zero is copied four blocks at a time, its steps unlisted (see `copy_t4`).
//!
//! **Same order everywhere.** Every output element is accumulated as `((a₀b₀ + a₁b₁) + a₂b₂) …`
//! in the order of the inner index, one [`Float::add_product`] per step: fused (one rounding)
//! where the build has FMA, else a multiply then an add (see [`crate::float::FUSED`]). So a
//! product is bit-for-bit the same whatever the tiling, the batch size or the zero skipping,
//! and equal to a plain sequential sum with the same `add_product` (but for the sign of an
//! underflowed zero, below): a host built without the `fma` feature computes the very numbers
//! the Cortex-M4 does.
//!
//! **Zero skipping is exact.** A step whose `MR` values of A are all zero is left out when A
//! is packed: adding `0·b` to an accumulator changes nothing, unless `b` is infinite or NaN, or
//! the accumulator is −0. Accumulators start at +0; unfused, they never become −0 (a product
//! that rounds to −0, added to +0, gives +0), but fused, a negative product too small to round
//! to anything but zero (below 2⁻¹⁵⁰ in f32) leaves −0, which an added `0·b` would make +0
//! again: equal as numbers, not in the sign bit (`tests/matrix_ops.rs` pins it). MNIST images
//! are about 80% zero pixels, so the products with a batch of images (Affine's `x·W` and
//! `xᵀ·dY`) skip most of their work; on dense data the list of steps is simply all of them.
//!
//! **Sparse rows run alone.** Four MNIST images share few of their non-zero pixels: a block
//! of four has non-zero steps wherever any of them does (314 of 784 on average, against 156
//! per image). So on x86 a block whose first row is at most half non-zero runs row by row
//! instead, each row over its own steps, with a tile of up to 64 columns (eight vectors of
//! accumulators, enough to keep the adders busy with one row). Its non-zero values are found
//! with vector compares, a bit each in a mask per 64 values, and listed bit by bit; eight rows
//! are listed before their products run, so that their reads from memory overlap (see
//! `Listed`). The Cortex-M4 keeps the blocks: it has no vectors to fill.
//!
//! **Sparse rows by column.** For `xᵀ·dY` of a batch of sparse rows, each row of the result
//! is one column of `x` times `dY`: given `x`'s values listed by column, it is a sparse row's
//! product again, with `dY` as B (`sparse_columns_tn`); otherwise each value updates a row of
//! the result in memory (`sparse_tn`). `x·W` from the same listing takes each row of `W` into
//! registers once and adds it into the rows of the result its column lists
//! (`sparse_columns_nn`): one run of memory to read, where the rows may lie all over a data
//! set.
//!
//! **Narrow products** (A·B and Aᵀ·B at most two vectors wide, as MNIST's second layer) skip
//! none of this: blocks of four rows read in place, zeros and all (`narrow_blocks`,
//! `narrow_tn`).
//!
//! **The last columns of Aᵀ·B** (one or two past the last whole tile, as in 50 = 3·16 + 2)
//! run down the rows instead, 32 rows at a time, where each block would spend a nearly
//! full tile's time on them (see `column_tail`). **Those of A·B** join the tile before them in
//! a tile a vector wider (16 + 16 + 18 on 24 lanes), which shares its broadcasts of A (see
//! `strip` and `wide_tile`).

use super::sparse::SparseRow;
use crate::float::Float;

/// Rows of a register tile.
pub const MR: usize = 4;

/// Steps of the inner dimension packed at a time for a block of rows: few enough that the
/// `KC` rows of B they read (25 KB at MNIST's 50 columns, f32) stay in an x86 core's L1 cache
/// while every block of rows goes through them. A Cortex-M4 has no cache: there, more steps a
/// time mean fewer reloads of the accumulators (6% fewer instructions per MNIST image).
pub const KC: usize = if WIDE_ROWS { 128 } else { 256 };

/// Steps packed at a time for one row on its own (see "sparse rows" above): a whole MNIST
/// image, so that its outputs are loaded and stored once (6 KB of stack for f32).
pub const KR: usize = 1024;

/// `f::<T, W, L>(args)` for `W` the lanes of the 1 to 8 whole vectors of `lanes` (8 or 4)
/// lanes that `cols` values take, `L = lanes`: a tile whose width is a constant in each
/// branch. Const generics cannot compute `v · L` for a generic `L`, so both lane counts are
/// spelt out.
macro_rules! by_vectors {
    ($lanes:expr, $cols:expr, $f:ident::<$t:ty>($($arg:expr),* $(,)?)) => {
        if $lanes == 8 {
            by_vectors!(@8 $cols, $f, $t, ($($arg),*); 1 2 3 4 5 6 7 8)
        } else {
            by_vectors!(@4 $cols, $f, $t, ($($arg),*); 1 2 3 4 5 6 7 8)
        }
    };
    (@$lanes:literal $cols:expr, $f:ident, $t:ty, $args:tt; $($v:literal)*) => {
        match $cols.div_ceil($lanes) {
            $($v => $f::<$t, { $v * $lanes }, $lanes> $args,)*
            _ => unreachable!("1 to 8 vectors"),
        }
    };
}

/// `c (m×n) = a (m×k) · b (k×n)`.
pub fn gemm_nn<T: Float>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    assert!(
        a.len() == m * k && b.len() == k * n && c.len() == m * n,
        "gemm_nn: sizes"
    );
    if narrow::<T>(m, k, n) {
        if T::BYTES == 4 {
            narrow_blocks::<T, 16, 8>(a, b, c, m, k, n);
        } else {
            narrow_blocks::<T, 8, 4>(a, b, c, m, k, n);
        }
    } else if T::BYTES == 4 {
        driver::<T, false, 16, 8>(a, k, b, c, m, k, n);
    } else {
        driver::<T, false, 8, 4>(a, k, b, c, m, k, n);
    }
}

/// `c (m×n) = aᵀ · b` with `a (k×m)`, `b (k×n)`.
pub fn gemm_tn<T: Float>(a: &[T], b: &[T], c: &mut [T], k: usize, m: usize, n: usize) {
    assert!(
        a.len() == k * m && b.len() == k * n && c.len() == m * n,
        "gemm_tn: sizes"
    );
    if narrow::<T>(m, k, n) {
        if T::BYTES == 4 {
            narrow_tn::<T, 16, 8>(a, b, c, m, k, n);
        } else {
            narrow_tn::<T, 8, 4>(a, b, c, m, k, n);
        }
    } else if T::BYTES == 4 {
        driver::<T, true, 16, 8>(a, m, b, c, m, k, n);
    } else {
        driver::<T, true, 8, 4>(a, m, b, c, m, k, n);
    }
}

/// Whether [`narrow_blocks`] takes a product `a · b`: at most two vectors of columns (16
/// f32), a `B` that fits a [`Band`] two vectors a row, and rows enough to pay for copying it.
fn narrow<T: Float>(m: usize, k: usize, n: usize) -> bool {
    let width = 64 / T::BYTES;
    WIDE_ROWS && m >= 16 && (1..=width).contains(&n) && k * width <= BAND
}

/// `c = a · b` at most `W` (two vectors of `L`) wide (MNIST's second layer, 100×50·50×10), in
/// blocks of four rows read in place, zeros and all, with plain loops of their own: 1.9 µs
/// for MNIST's product against 5.7 through [`driver`], which runs a row with few non-zero
/// values on its own (half of a ReLU's outputs are zero; a lone row has two vectors of sums,
/// each waiting on its last add), and packs the other blocks to skip the steps where all four
/// rows are zero, which costs here what it saves. Adding `0·b` leaves a sum as it is, so these
/// are the same sums (see the module's notes). `B` is first copied with its rows two vectors
/// apart, so that a step loads one aligned 64-byte line. Called before `driver`, whose code
/// stays as it was: choosing this inside `row_blocks` made its 4×24 tile spill.
#[inline(never)]
fn narrow_blocks<T: Float, const W: usize, const L: usize>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    let mut band = Band([T::ZERO; BAND]);
    let b = pad_rows::<T, W>(&mut band, b, k, n);
    let full = m - m % MR;
    for i0 in (0..full).step_by(MR) {
        let row = |r: usize| &a[(i0 + r) * k..][..k];
        let steps = b.iter().zip(row(0)).zip(row(1)).zip(row(2)).zip(row(3));
        let mut acc = [[T::ZERO; W]; MR];
        for ((((b_row, &x0), &x1), &x2), &x3) in steps {
            fma_tile(&mut acc, &[x0, x1, x2, x3], b_row);
        }
        for (r, acc) in acc.iter().enumerate() {
            store_narrow::<T, W, L>(&mut c[(i0 + r) * n..][..n], acc);
        }
    }
    for i in full..m {
        let mut acc = [[T::ZERO; W]];
        for (b_row, &x) in b.iter().zip(&a[i * k..][..k]) {
            fma_tile(&mut acc, &[x], b_row);
        }
        store_narrow::<T, W, L>(&mut c[i * n..][..n], &acc[0]);
    }
}

/// `b`'s `k` rows of `n` copied into `band` `W` apart (zeros between), 64-byte aligned.
fn pad_rows<'a, T: Float, const W: usize>(
    band: &'a mut Band<T>,
    b: &[T],
    k: usize,
    n: usize,
) -> &'a [[T; W]] {
    for (dst, src) in band.0.chunks_exact_mut(W).zip(b.chunks_exact(n)) {
        dst[..n].copy_from_slice(src);
    }
    band.0[..k * W].as_chunks::<W>().0
}

/// `row.copy_from_slice(&acc[..row.len()])` for a row of at most `W` (two vectors of `L`):
/// whole vectors where it can, rather than a call to `memcpy` for a few values.
#[inline(always)]
fn store_narrow<T: Copy, const W: usize, const L: usize>(row: &mut [T], acc: &[T; W]) {
    if row.len() > W - L {
        store_row::<T, W, L>(row, acc);
    } else {
        for (v, &s) in row.iter_mut().zip(acc) {
            *v = s;
        }
    }
}

/// `c = aᵀ · b` at most `W` (two vectors) wide (MNIST's second layer's `dW`, 50×100·100×10):
/// blocks of four rows of `c` in eight vectors of sums, each step adding four values of A
/// (contiguous: a row of `a`) times a row of B, copied two vectors apart as in
/// [`narrow_blocks`]. Nothing packed, no step skipped: the same sums (MNIST's: 3.7 µs packed
/// by `driver`, 2.1 this way).
#[inline(never)]
fn narrow_tn<T: Float, const W: usize, const L: usize>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    let mut band = Band([T::ZERO; BAND]);
    let b = pad_rows::<T, W>(&mut band, b, k, n);
    let full = m - m % MR;
    for i0 in (0..full).step_by(MR) {
        let mut acc = [[T::ZERO; W]; MR];
        for (a_row, b_row) in a.chunks_exact(m).zip(b) {
            let Ok(av) = <&[T; MR]>::try_from(&a_row[i0..i0 + MR]) else {
                unreachable!("MR values")
            };
            fma_tile(&mut acc, av, b_row);
        }
        for (r, acc) in acc.iter().enumerate() {
            store_narrow::<T, W, L>(&mut c[(i0 + r) * n..][..n], acc);
        }
    }
    for i in full..m {
        let mut acc = [[T::ZERO; W]];
        for (a_row, b_row) in a.chunks_exact(m).zip(b) {
            fma_tile(&mut acc, &[a_row[i]], b_row);
        }
        store_narrow::<T, W, L>(&mut c[i * n..][..n], &acc[0]);
    }
}

/// `c (m×n) = a · bᵀ` with `a (m×k)`, `b (n×k)`.
///
/// `B`'s columns are strided here, so each `NR`-row strip of `B` is first copied, transposed,
/// into a buffer on the stack ([`KC`] steps at a time); then the tiles run as in [`gemm_nn`].
pub fn gemm_nt<T: Float>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    assert!(
        a.len() == m * k && b.len() == n * k && c.len() == m * n,
        "gemm_nt: sizes"
    );
    if WIDE_ROWS && n > 0 && k > 0 && n * k <= NT_SMALL {
        nt_small(a, b, c, m, k, n);
    } else if T::BYTES == 4 {
        nt_driver::<T, 16>(a, b, c, m, k, n);
    } else {
        nt_driver::<T, 8>(a, b, c, m, k, n);
    }
}

/// At most this many values of B make [`gemm_nt`] transpose all of B at once (see
/// [`nt_small`]): 8 KB of f32.
const NT_SMALL: usize = 2048;

/// `0, 1, 2, …`: every step of a dense row, for the one-row tiles (see [`nt_small`]).
const STEPS: [u16; NT_SMALL] = {
    let mut steps = [0; NT_SMALL];
    let mut q = 0;
    while q < NT_SMALL {
        steps[q] = q as u16;
        q += 1;
    }
    steps
};

/// `c = a · bᵀ` for a small `b` (as the 50×10 weights of MNIST's second layer, whose `dX`
/// backpropagation needs): `b` transposed onto the stack once, then [`gemm_nn`]'s blocks,
/// which read A in place, where [`nt_driver`] would pack A again for every 16 columns of `c`
/// (the 100×10·10×50 product: 5.4 µs so, 2.9 this way). Wider than four vectors, each row
/// runs alone through the one-row tiles instead, over every step (dense), with `bᵀ`'s rows
/// a whole number of vectors apart: its seven vectors of sums keep the adders busy, and it
/// stores them as vectors where a block's tiles store through `memcpy` (2.2 µs). The same
/// sums in the same order.
#[inline(never)]
fn nt_small<T: Float>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    let lanes = 32 / T::BYTES;
    if n > 4 * lanes {
        // n·k ≤ NT_SMALL and n > 4·lanes, so k·ldb < 2·NT_SMALL = BAND.
        let ldb = n.next_multiple_of(lanes);
        let mut bt = Band([T::ZERO; BAND]);
        transpose_into(b, k, 0..k, ldb, &mut bt.0);
        let (bt, steps) = (&bt.0[..k * ldb], &STEPS[..k]);
        for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
            if T::BYTES == 4 {
                row_into::<T, 8>(a_row, steps, bt, ldb, c_row, false);
            } else {
                row_into::<T, 4>(a_row, steps, bt, ldb, c_row, false);
            }
        }
        return;
    }
    let mut bt = [T::ZERO; NT_SMALL];
    transpose_into(b, k, 0..k, n, &mut bt);
    let bt = &bt[..k * n];
    if T::BYTES == 4 {
        driver::<T, false, 16, 8>(a, k, bt, c, m, k, n);
    } else {
        driver::<T, false, 8, 4>(a, k, bt, c, m, k, n);
    }
}

/// Values `steps` of `b`'s rows of `k` as the columns of `out`, whose rows are `ld` apart.
fn transpose_into<T: Float>(
    b: &[T],
    k: usize,
    steps: core::ops::Range<usize>,
    ld: usize,
    out: &mut [T],
) {
    for (j, row) in b.chunks_exact(k).enumerate() {
        for (q, &v) in row[steps.clone()].iter().enumerate() {
            out[q * ld + j] = v;
        }
    }
}

/// `c (m×n) = x · b` for `m` sparse rows `x` of width `k`, `b (k×n)`: each row runs over its
/// own values through the one-row tiles of the sparse-row path (`row_strip`).
pub fn sparse_nn<T: Float, const K: usize>(
    x: &[SparseRow<'_, T, K>],
    b: &[T],
    c: &mut [T],
    n: usize,
) {
    assert!(
        b.len() == K * n && c.len() == x.len() * n,
        "sparse_nn: sizes"
    );
    for (i, row) in x.iter().enumerate() {
        if T::BYTES == 4 {
            row_strip::<T, 8>(row.values(), row.indices(), b, c, n, i, 0);
        } else {
            row_strip::<T, 4>(row.values(), row.indices(), b, c, n, i, 0);
        }
    }
}

/// Values in a [`Line`]: 64 bytes of f32 (128 of f64: two cache lines).
pub const LINE: usize = 16;

/// [`LINE`] values on a 64-byte boundary: whole cache lines. A weight matrix's rows laid out
/// as lines for [`sparse_lined`] (see [`LinedRows`](super::sparse::LinedRows)).
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line<T>(pub [T; LINE]);

/// [`sparse_nn`] with `b` laid out so that its rows cost fewer cache lines: `c[i] = x[i] · b`
/// for `m` sparse rows `x` of width `K`, where row `p` of `b (K×O)` is `main[p·M/LINE ..]`
/// (its first `M = O − O % LINE` values, on whole lines) then `tail[p·(O − M) ..]` (the rest).
///
/// A sparse row's product loads a whole row of `b` for each of its values, from L2 where `b`
/// is bigger than L1 (MNIST's 784×50 f32: 157 KB), and is bound by how many lines that is: a
/// row of 50 f32 lying 200 bytes apart spans four lines, its first 48 on whole lines three
/// (and its last two come from 6 KB that stay in L1). An MNIST evaluation chunk of 64 images
/// here: 0.84–0.85 of [`sparse_nn`]'s time streamed from memory, 0.77 in the cache. Each
/// row's `O` sums stay in registers, one `add_product` per value in column order, from +0:
/// the same numbers as [`sparse_nn`], bit for bit. For rows of at most 256 bytes (64 f32, 32
/// f64), which fit the registers; `LinedRows` uses [`sparse_nn`] for wider ones.
pub fn sparse_lined<T: Float, const K: usize, const O: usize>(
    x: &[SparseRow<'_, T, K>],
    main: &[Line<T>],
    tail: &[T],
    c: &mut [[T; O]],
) {
    assert!(
        main.len() == K * (O / LINE) && tail.len() == K * (O % LINE) && c.len() == x.len(),
        "sparse_lined: sizes"
    );
    for (row, out) in x.iter().zip(c) {
        *out = lined_row([T::ZERO; O], row.values(), row.indices(), main, tail);
    }
}

/// [`sparse_lined`] for dense rows `x (m×K)`: each row's non-zero values found and listed as
/// a sparse row's (see `nonzero_masks`), eight rows before their products, so that their
/// reads from memory overlap (see `Listed`); rows longer than [`KR`], a part at a time. For
/// rows mostly zero, such as MNIST images given as f32; a dense row runs too, at the speed of
/// a sparse row as long. The stack it takes is bounded whatever `K`: at most eight rows of
/// [`KR`] values and their steps (48 KB for f32).
pub fn dense_lined<T: Float, const K: usize, const O: usize>(
    x: &[[T; K]],
    main: &[Line<T>],
    tail: &[T],
    c: &mut [[T; O]],
) {
    assert!(
        main.len() == K * (O / LINE) && tail.len() == K * (O % LINE) && c.len() == x.len(),
        "dense_lined: sizes"
    );
    assert!(K <= 1 << 16, "dense_lined: steps are u16");
    if K <= KR {
        lined_ahead(x, main, tail, c);
    } else {
        lined_parts(x, main, tail, c);
    }
}

/// [`dense_lined`] for rows of at most [`KR`] values. A function of its own, so that its
/// room for eight rows is on the stack only when it runs.
#[inline(never)]
fn lined_ahead<T: Float, const K: usize, const O: usize>(
    x: &[[T; K]],
    main: &[Line<T>],
    tail: &[T],
    c: &mut [[T; O]],
) {
    const AHEAD: usize = 8;
    if let ([row], [out]) = (x, &mut *c) {
        // One row: room for one (zeroing room for eight took longer than the product).
        let (mut values, mut steps) = ([T::ZERO; K], [0u16; K]);
        let count = list_part(row, 0, &mut values, &mut steps);
        *out = lined_row([T::ZERO; O], &values[..count], &steps[..count], main, tail);
        return;
    }
    let mut values = [[T::ZERO; K]; AHEAD];
    let mut steps = [[0u16; K]; AHEAD];
    for (rows, outs) in x.chunks(AHEAD).zip(c.chunks_mut(AHEAD)) {
        let mut counts = [0usize; AHEAD];
        for (((row, values), steps), count) in rows
            .iter()
            .zip(&mut values)
            .zip(&mut steps)
            .zip(&mut counts)
        {
            *count = list_part(row, 0, values, steps);
        }
        for (((out, values), steps), &count) in
            outs.iter_mut().zip(&values).zip(&steps).zip(&counts)
        {
            *out = lined_row([T::ZERO; O], &values[..count], &steps[..count], main, tail);
        }
    }
}

/// [`dense_lined`] for rows longer than [`KR`]: row by row, [`KR`] values at a time, the sums
/// carried from part to part (so still in the order of the columns).
#[inline(never)]
fn lined_parts<T: Float, const K: usize, const O: usize>(
    x: &[[T; K]],
    main: &[Line<T>],
    tail: &[T],
    c: &mut [[T; O]],
) {
    let (mut values, mut steps) = ([T::ZERO; KR], [0u16; KR]);
    for (row, out) in x.iter().zip(c) {
        let mut acc = [T::ZERO; O];
        for (k, part) in row.chunks(KR).enumerate() {
            let count = list_part(part, k * KR, &mut values, &mut steps);
            acc = lined_row(acc, &values[..count], &steps[..count], main, tail);
        }
        *out = acc;
    }
}

/// Lists the non-zero values of `part` (at most [`KR`] of them), the part of a row from step
/// `start` on, and their steps, and returns how many.
#[inline(always)]
fn list_part<T: Float>(part: &[T], start: usize, values: &mut [T], steps: &mut [u16]) -> usize {
    let mut masks = [0u64; KR / 64];
    nonzero_masks(part, &mut masks);
    let count = list_nonzero(part, &masks, values, steps);
    if start > 0 {
        for q in &mut steps[..count] {
            // `dense_lined` checked that a row has at most 2¹⁶ steps.
            *q += start as u16;
        }
    }
    count
}

/// One row of [`sparse_lined`]: `acc + Σ values[k] · b[steps[k]]`, one `add_product` a value
/// in turn, `b`'s rows as `main` and `tail`.
#[inline(always)]
fn lined_row<T: Float, const O: usize>(
    mut acc: [T; O],
    values: &[T],
    steps: &[u16],
    main: &[Line<T>],
    tail: &[T],
) -> [T; O] {
    let (lines, rest) = (O / LINE, O % LINE);
    // Whole-array reads and writes of `acc`, and loops of constant length: it stays in
    // registers.
    for (&p, &v) in steps.iter().zip(values) {
        let p = usize::from(p);
        for (l, line) in main[p * lines..][..lines].iter().enumerate() {
            for (s, &w) in acc[l * LINE..][..LINE].iter_mut().zip(&line.0) {
                *s = s.add_product(v, w);
            }
        }
        for (s, &w) in acc[lines * LINE..]
            .iter_mut()
            .zip(&tail[p * rest..][..rest])
        {
            *s = s.add_product(v, w);
        }
    }
    acc
}

/// `c (k×n) = xᵀ · d` for `m` sparse rows `x` of width `k`, `d (m×n)`: each row's values add
/// themselves times its row of `d` into the rows of `c` they sit on, row after row, from +0.
/// So every element of `c` is still summed in the order of `x`'s rows, as the dense
/// [`gemm_tn`] sums it (skipping zeros).
///
/// `c` is done a band of rows at a time (`Band`: 16 KB, in the L1 cache), copied 64 bytes
/// apart so that no vector access straddles two cache lines (MNIST's rows of 50 values lie 200
/// bytes apart in `c`); every row of `x` adds its values that fall in the band (its columns
/// are increasing, so a cursor per row finds them), then the band is copied back. The width
/// `N` is a constant, so that each update is a few whole-vector operations with no loop.
///
/// On an MNIST batch this is only as fast as the dense product (55 against 56 µs here): each
/// value loads and stores its row of `c` (seven vectors), where the dense product keeps its
/// tiles in registers, though over every image in which any of four pixels is non-zero.
/// Measured and not kept: the same without the aligned band (58 µs). Sorting the values by
/// column first, to keep each row of `c` in registers, costs here as much as it saves (62 µs);
/// a [`SparseBatch`](super::sparse::SparseBatch) sorts them once, where it can be done ahead,
/// and then [`sparse_columns_tn`] takes about 27 µs.
pub fn sparse_tn<T: Float, const K: usize, const N: usize>(
    x: &[SparseRow<'_, T, K>],
    d: &[[T; N]],
    c: &mut [[T; N]; K],
) {
    assert!(d.len() == x.len(), "sparse_tn: sizes");
    let stride = N.next_multiple_of(64 / T::BYTES);
    if x.is_empty() || K == 0 || N == 0 || stride > BAND {
        c.as_flattened_mut().fill(T::ZERO);
        if N > 0 {
            scatter(x, d, c);
        }
        return;
    }
    let rows_per_band = (BAND / stride).min(K);
    let mut band = Band([T::ZERO; BAND]);
    // Rows of `x` at a time, each with its cursor (bounded, so that the cursors fit the stack).
    const GROUP: usize = 128;
    let mut cursor = [0usize; GROUP];
    for (group, (rows, d_rows)) in x.chunks(GROUP).zip(d.chunks(GROUP)).enumerate() {
        cursor.fill(0);
        for b0 in (0..K).step_by(rows_per_band) {
            let c_band = &mut c[b0..(b0 + rows_per_band).min(K)];
            let end = b0 + c_band.len();
            let buf = &mut band.0[..c_band.len() * stride];
            if group == 0 {
                buf.fill(T::ZERO);
            } else {
                for (dst, src) in buf.chunks_exact_mut(stride).zip(&*c_band) {
                    dst[..N].copy_from_slice(src);
                }
            }
            for ((row, d_row), at) in rows.iter().zip(d_rows).zip(cursor.iter_mut()) {
                let (cols, values) = (row.indices(), row.values());
                while let (Some(&col), Some(&v)) = (cols.get(*at), values.get(*at)) {
                    let col = usize::from(col);
                    if col >= end {
                        break;
                    }
                    let r = (col - b0) * stride;
                    let sums: &mut [T; N] = match (&mut buf[r..r + N]).try_into() {
                        Ok(sums) => sums,
                        Err(_) => unreachable!("a slice of N elements"),
                    };
                    for (s, &dv) in sums.iter_mut().zip(d_row) {
                        *s = s.add_product(v, dv);
                    }
                    *at += 1;
                }
            }
            for (src, dst) in buf.chunks_exact(stride).zip(c_band) {
                dst.copy_from_slice(&src[..N]);
            }
        }
    }
}

/// `c (k×n) = xᵀ · d` for `x` listed column by column: `starts[p]..starts[p + 1]` are the
/// entries of column `p`, each a row of `x` (increasing) and its value; `d (m×n)`. Row `p` of
/// `c` is then `Σ value · d[row]` over its entries, in row order: [`gemm_tn`]'s sum without
/// its zeros, accumulated in registers by `row_into`'s tiles (a column is to `d` what a
/// sparse row is to B in [`sparse_nn`]) and stored once, where [`sparse_tn`] loads and stores
/// a row of `c` for every value.
///
/// `d` is first copied into a 64-byte-aligned buffer with its rows a whole number of vectors
/// apart (MNIST's 50 columns: 56), if it fits: read in place, rows 200 bytes apart, most of a
/// tile's loads straddle two cache lines (40 against 31 µs for an MNIST batch here).
pub fn sparse_columns_tn<T: Float>(
    starts: &[u32],
    rows: &[u16],
    values: &[T],
    d: &[T],
    c: &mut [T],
    n: usize,
) {
    assert!(
        n == 0 || (starts.len() == c.len() / n + 1 && d.len().is_multiple_of(n)),
        "sparse_columns_tn: sizes"
    );
    if n == 0 {
        return;
    }
    let lanes = 32 / T::BYTES;
    let stride = n.next_multiple_of(lanes);
    let mut buf = Band([T::ZERO; COPY]);
    let (d, ldd) = if d.len() / n * stride <= COPY {
        for (dst, src) in buf.0.chunks_exact_mut(stride).zip(d.chunks_exact(n)) {
            dst[..n].copy_from_slice(src);
        }
        (&buf.0[..d.len() / n * stride], stride)
    } else {
        (d, n)
    };
    for (c_row, span) in c.chunks_exact_mut(n).zip(starts.windows(2)) {
        let span = span[0] as usize..span[1] as usize;
        let (values, rows) = (&values[span.clone()], &rows[span]);
        if T::BYTES == 4 {
            row_into::<T, 8>(values, rows, d, ldd, c_row, false);
        } else {
            row_into::<T, 4>(values, rows, d, ldd, c_row, false);
        }
    }
}

/// `c (m×n) = x · b` for `x` listed column by column (as for [`sparse_columns_tn`]), `b (k×n)`:
/// each column `p` takes row `p` of `b` into registers once and adds its values times that row
/// into the rows of `c` it lists. The rows of `c` are summed in a 64-byte-aligned buffer, their
/// rows a whole number of vectors apart, up to eight vectors wide at a time (and, past
/// 8192 values, a group of rows at a time); a column lists its rows increasing, so each
/// group's entries are a run of them.
///
/// Every element of `c` is still `Σ value · b[p]` over its row's values in the order of
/// their columns, from +0, as [`sparse_nn`] sums it from the rows. That one reads a row of `b`
/// (seven vectors for MNIST's 50 outputs, from L2) for every value; this one reads each row of
/// `b` once a batch and loads and stores a row of the buffer (in L1) for every value. On a
/// batch already in the cache it is no faster (1.0–1.14× the time); from batches in memory
/// the listing is one run where the rows lie all over the data set: 39 against 62–66 µs for
/// a random MNIST batch here, and a training step 2% faster with batches listed on another
/// thread.
pub fn sparse_columns_nn<T: Float>(
    starts: &[u32],
    rows: &[u16],
    values: &[T],
    b: &[T],
    c: &mut [T],
    n: usize,
) {
    assert!(
        n == 0
            || (!starts.is_empty()
                && b.len() == (starts.len() - 1) * n
                && c.len().is_multiple_of(n)),
        "sparse_columns_nn: sizes"
    );
    if n == 0 {
        return;
    }
    let lanes = 32 / T::BYTES;
    let mut buf = Band([T::ZERO; COPY]);
    let mut j0 = 0;
    while j0 < n {
        let cols = (n - j0).min(8 * lanes);
        let (b_part, c_part, zeroed) = (&b[j0..], &mut c[j0..], j0 == 0);
        let buf = &mut buf.0;
        by_vectors!(
            lanes,
            cols,
            column_strip::<T>(starts, rows, values, b_part, c_part, n, cols, buf, zeroed,)
        );
        j0 += cols;
    }
}

/// Columns `0..cols` of [`sparse_columns_nn`]'s `c` (`W − L < cols ≤ W`), whose rows, like
/// `b`'s, are `ld` apart: summed in `buf` with rows `W` apart, [`COPY`]` / W` rows at a time
/// (`zeroed`: `buf` is still all zeros).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn column_strip<T: Float, const W: usize, const L: usize>(
    starts: &[u32],
    rows: &[u16],
    values: &[T],
    b: &[T],
    c: &mut [T],
    ld: usize,
    cols: usize,
    buf: &mut [T],
    zeroed: bool,
) {
    let m = c.len().div_ceil(ld);
    let group = COPY / W;
    for r0 in (0..m).step_by(group) {
        let r1 = (r0 + group).min(m);
        let sums = &mut buf[..(r1 - r0) * W];
        if r0 > 0 || !zeroed {
            sums.fill(T::ZERO);
        }
        for (p, span) in starts.windows(2).enumerate() {
            let (mut lo, mut hi) = (span[0] as usize, span[1] as usize);
            if lo == hi {
                continue;
            }
            if r0 > 0 || r1 < m {
                lo += rows[lo..hi].partition_point(|&r| usize::from(r) < r0);
                hi = lo + rows[lo..hi].partition_point(|&r| usize::from(r) < r1);
            }
            // Row p of b, in registers for all its entries: W values, reading on into the
            // next row (lanes past `cols` are summed but never stored), or padded with zeros
            // at the end of b. A copy of `cols` values would be a call to `memcpy`.
            let mut b_row = [T::ZERO; W];
            match b.get(p * ld..p * ld + W) {
                Some(whole) => b_row.copy_from_slice(whole),
                None => {
                    for (d, &v) in b_row.iter_mut().zip(&b[p * ld..][..cols]) {
                        *d = v;
                    }
                }
            }
            for (&r, &v) in rows[lo..hi].iter().zip(&values[lo..hi]) {
                let at = (usize::from(r) - r0) * W;
                let row: &mut [T; W] = match (&mut sums[at..at + W]).try_into() {
                    Ok(row) => row,
                    Err(_) => unreachable!("a slice of W elements"),
                };
                for (s, &bv) in row.iter_mut().zip(&b_row) {
                    *s = s.add_product(v, bv);
                }
            }
        }
        for (r, src) in (r0..r1).zip(sums.chunks_exact(W)) {
            let src: &[T; W] = match src.try_into() {
                Ok(src) => src,
                Err(_) => unreachable!("a chunk of W elements"),
            };
            store_row::<T, W, L>(&mut c[r * ld..][..cols], src);
        }
    }
}

/// Values of `d` that [`sparse_columns_tn`] copies (32 KB of f32: an MNIST batch's 100 rows
/// of 56).
const COPY: usize = 8192;

/// `c += xᵀ · d` straight into `c`, row after row of `x` (for rows of `c` too wide for a
/// [`Band`]).
fn scatter<T: Float, const K: usize, const N: usize>(
    x: &[SparseRow<'_, T, K>],
    d: &[[T; N]],
    c: &mut [[T; N]; K],
) {
    for (row, d_row) in x.iter().zip(d) {
        for (&col, &v) in row.indices().iter().zip(row.values()) {
            for (s, &dv) in c[usize::from(col)].iter_mut().zip(d_row) {
                *s = s.add_product(v, dv);
            }
        }
    }
}

/// Values in a [`Band`].
const BAND: usize = 4096;

/// Rows of `c` that [`sparse_tn`] sums at a time, 64 bytes apart from a 64-byte boundary (or
/// of `d` that [`sparse_columns_tn`] reads, a whole number of vectors apart).
#[repr(C, align(64))]
struct Band<T, const S: usize = BAND>([T; S]);

/// The `R` values of A for each of up to `CAP` steps, and which steps are not all zero.
struct PackedA<T, const R: usize, const CAP: usize = KC> {
    values: [[T; R]; CAP],
    steps: [u16; CAP],
    count: usize,
    /// No step was skipped (`steps` is `0..count`).
    dense: bool,
}

impl<T: Float, const CAP: usize> PackedA<T, 1, CAP> {
    /// A single row's packed values and their steps.
    fn row(&self) -> (&[T], &[u16]) {
        (
            &self.values.as_flattened()[..self.count],
            &self.steps[..self.count],
        )
    }
}

impl<T: Float, const R: usize, const CAP: usize> PackedA<T, R, CAP> {
    fn new() -> Self {
        Self {
            values: [[T::ZERO; R]; CAP],
            steps: [0; CAP],
            count: 0,
            dense: true,
        }
    }

    /// Packs `op(a)[i0 + r][p0 + q]` for `r < rows`, `q < kc` (rows past `rows` are zero).
    #[inline(always)]
    fn pack<const TA: bool>(
        &mut self,
        a: &[T],
        lda: usize,
        i0: usize,
        rows: usize,
        p0: usize,
        kc: usize,
    ) {
        let mut count = 0;
        // On x86, branch-free: every step is written at `count`, which only moves past a
        // non-zero one (on sparse data a branch per step would mispredict about as often as
        // not). A Cortex-M4 pays little for a branch and more for the stores.
        let mut push = |q: usize, v: [T; R]| {
            let nonzero = v.iter().any(|x| *x != T::ZERO);
            if WIDE_ROWS || nonzero {
                self.values[count] = v;
                self.steps[count] = q as u16;
                count += usize::from(nonzero);
            }
        };
        if TA {
            // Step q's values are contiguous: a[(p0 + q)·lda + i0 ..][..rows].
            for q in 0..kc {
                let at = (p0 + q) * lda + i0;
                let mut v = [T::ZERO; R];
                if rows == R {
                    v.copy_from_slice(&a[at..at + R]);
                } else {
                    v[..rows].copy_from_slice(&a[at..at + rows]);
                }
                push(q, v);
            }
        } else if R == 1 && WIDE_ROWS {
            // One row: its non-zero values marked and listed (see `list_part`).
            let row = &a[i0 * lda + p0..][..kc];
            let count = list_part(row, 0, self.values.as_flattened_mut(), &mut self.steps);
            self.count = count;
            self.dense = count == kc;
            return;
        } else if R == 1 {
            // (On a Cortex-M4, which has no vectors to mark values with.) Eight values at a
            // time, and only those with a non-zero among them: a sparse row's zeros come in
            // runs (an image's border), which this skips at a glance.
            let row = &a[i0 * lda + p0..][..kc];
            let mut chunks = row.chunks_exact(8);
            let mut q0 = 0;
            for chunk in &mut chunks {
                if chunk.iter().fold(false, |any, x| any | (*x != T::ZERO)) {
                    for (q, &x) in (q0..).zip(chunk) {
                        push(q, [x; R]);
                    }
                }
                q0 += 8;
            }
            for (q, &x) in (q0..).zip(chunks.remainder()) {
                push(q, [x; R]);
            }
        } else if R == 4 && rows == 4 {
            // Four rows of A, each read contiguously.
            let row = |r: usize| &a[(i0 + r) * lda + p0..][..kc];
            let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
            for (q, (((&x0, &x1), &x2), &x3)) in r0.iter().zip(r1).zip(r2).zip(r3).enumerate() {
                let mut v = [T::ZERO; R];
                v.copy_from_slice(&[x0, x1, x2, x3][..R]);
                push(q, v);
            }
        } else {
            for q in 0..kc {
                let mut v = [T::ZERO; R];
                for (r, v) in v.iter_mut().enumerate().take(rows) {
                    *v = a[(i0 + r) * lda + p0 + q];
                }
                push(q, v);
            }
        }
        self.count = count;
        self.dense = count == kc;
    }
}

/// Where a tile reads its `R` values of A for each step.
#[derive(Clone, Copy)]
enum Panel<'a, T, const R: usize> {
    /// Packed: the steps that are not all zero, and their values side by side.
    Packed(&'a PackedA<T, R>),
    /// A block of rows of A (not transposed) without an all-zero step, read in place: row `r`
    /// of the block is `rows[r]`, one value per step. Packing it would copy every value to
    /// skip nothing (a fifth of a dense product's time).
    Rows([&'a [T]; R]),
}

impl<T: Float, const R: usize> Panel<'_, T, R> {
    /// How many steps there are to run.
    #[inline(always)]
    fn count(&self) -> usize {
        match self {
            Panel::Packed(p) => p.count,
            Panel::Rows(rows) => rows[0].len(),
        }
    }

    /// How many of the first steps read all `width` values of B at `q·ldb` within its `len`
    /// (all of them unless a tile wider than its columns reaches B's last row or so).
    #[inline(always)]
    fn within(&self, ldb: usize, width: usize, len: usize) -> usize {
        match self {
            Panel::Packed(p) if !p.dense => steps_within(&p.steps[..p.count], ldb, width, len),
            _ => match len.checked_sub(width) {
                Some(room) => self.count().min(room / ldb + 1),
                None => 0,
            },
        }
    }

    /// `acc = f(acc, q, values)` for the steps `range` (indices among [`Panel::count`]), in
    /// order. The accumulators go in and out by value, so that they stay in registers.
    #[inline(always)]
    fn fold<A>(
        &self,
        range: core::ops::Range<usize>,
        mut acc: A,
        mut f: impl FnMut(A, usize, &[T; R]) -> A,
    ) -> A {
        match self {
            Panel::Packed(p) if p.dense => {
                // No step was skipped: step `i` is `i`, without the index list.
                for (q, av) in p.values[range.clone()].iter().enumerate() {
                    acc = f(acc, range.start + q, av);
                }
            }
            Panel::Packed(p) => {
                for (av, &q) in p.values[range.clone()].iter().zip(&p.steps[range]) {
                    acc = f(acc, usize::from(q), av);
                }
            }
            Panel::Rows(rows) => {
                let kc = rows[0].len();
                let rows: [&[T]; R] = core::array::from_fn(|r| &rows[r][..kc]);
                #[allow(clippy::needless_range_loop, reason = "step q of all R rows at once")]
                for q in range.start..range.end.min(kc) {
                    acc = f(acc, q, &core::array::from_fn(|r| rows[r][q]));
                }
            }
        }
        acc
    }
}

/// Rows `i0 .. i0 + R` of A (not transposed), steps `p0 .. p0 + kc`, to be read in place
/// ([`Panel::Rows`]) if no step has all its `R` values zero. Checking costs a fraction of
/// packing (about 5 µs of the 27 that packing takes in a dense 100×784·784×50 product), and
/// nothing when `known`: the block's first row has no zero (see [`sparse_blocks`]), so no
/// step can be all zero. (Aᵀ's steps are strided, and read in place they ran no faster than
/// packed.)
#[inline(always)]
fn in_place<T: Float, const R: usize>(
    a: &[T],
    lda: usize,
    i0: usize,
    p0: usize,
    kc: usize,
    known: bool,
) -> Option<Panel<'_, T, R>> {
    let rows: [&[T]; R] = core::array::from_fn(|r| &a[(i0 + r) * lda + p0..][..kc]);
    if known {
        return Some(Panel::Rows(rows));
    }
    // Counted, not searched: the count vectorises, a search stopping early would not.
    let mut zero_steps = 0u32;
    for q in 0..kc {
        zero_steps += u32::from(rows.iter().all(|row| row[q] == T::ZERO));
    }
    (zero_steps == 0).then_some(Panel::Rows(rows))
}

/// `c = op(a) · b` for B read in place: `KC` steps at a time, `MR` rows at a time, then every
/// column tile (`NR` wide, then `NR2`, then single columns).
#[inline(always)]
fn driver<T: Float, const TA: bool, const NR: usize, const NR2: usize>(
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    if k == 0 {
        c.fill(T::ZERO);
        return;
    }
    let full = m - m % MR;
    if full > 0 {
        // Aᵀ without a single zero has no step to skip: its blocks are copied four at a time
        // (see `copy_t4`). Checking stops at the first zero, so sparse data pay nothing.
        let dense = TA && WIDE_ROWS && no_zero(a);
        if TA || !WIDE_ROWS {
            if dense {
                row_blocks::<T, TA, NR, NR2, true, true>(a, lda, b, c, 0..full, k, n, 0, 0);
            } else {
                row_blocks::<T, TA, NR, NR2, false, true>(a, lda, b, c, 0..full, k, n, 0, 0);
            }
        } else {
            // Up to 64 blocks at a time: those whose first row is sparse run first, row by row
            // (`sparse_blocks`); the others (a bit each in `blocks`) run together after, so
            // that each `KC` rows of B serve all of them in turn from the L1 cache.
            for g0 in (0..full).step_by(64 * MR) {
                let group = g0..full.min(g0 + 64 * MR);
                let all = u64::MAX >> (64 - group.len() / MR);
                let (blocks, filled) = sparse_blocks::<T, NR2>(a, lda, b, c, group.clone(), k, n);
                if blocks == all {
                    row_blocks::<T, TA, NR, NR2, false, true>(a, lda, b, c, group, k, n, 0, filled);
                } else if blocks != 0 {
                    row_blocks::<T, TA, NR, NR2, false, false>(
                        a, lda, b, c, group, k, n, blocks, filled,
                    );
                }
            }
        }
    }
    if full < m {
        single_rows::<T, TA, NR, NR2>(a, lda, b, c, full..m, k, n);
    }
}

/// Rows `rows` (a multiple of [`MR`] of them) in blocks of `MR`: all of them (`ALL`), or
/// those whose bit is set in `blocks` (`rows` then make one group of at most 64 blocks).
/// `filled`: the blocks of such a group whose first row has no zero (see [`in_place`]).
/// `DENSE`: A is Aᵀ and has no zero (see [`copy_t4`]). Separate instances, so that the usual
/// one compiles as before.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn row_blocks<
    T: Float,
    const TA: bool,
    const NR: usize,
    const NR2: usize,
    const DENSE: bool,
    const ALL: bool,
>(
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    rows: core::ops::Range<usize>,
    k: usize,
    n: usize,
    blocks: u64,
    filled: u64,
) {
    let mut packed = PackedA::<T, MR>::new();
    // Four blocks of a dense Aᵀ (set up only for those).
    let mut quad: Option<[PackedA<T, MR>; 4]> = None;
    let mut dense_before = true;
    // Aᵀ·B's last one or two columns, which run down the rows (see `column_tail`).
    let tail = if TA && WIDE_ROWS {
        tail_columns(n, NR)
    } else {
        0
    };
    // Up to 64 blocks at a time, so that each `KC` rows of B serve all of them in turn from
    // the L1 cache.
    for g0 in rows.clone().step_by(64 * MR) {
        let group = g0..rows.end.min(g0 + 64 * MR);
        // Aᵀ's last one or two columns, down the rows (see `column_tail`), for as many rows of
        // the group as make whole tiles; the blocks leave those columns out.
        let down = if tail > 0 {
            group.len() - group.len() % TAIL_ROWS
        } else {
            0
        };
        for i0 in (group.start..group.start + down).step_by(TAIL_ROWS) {
            match (tail, T::BYTES) {
                (1, 4) => column_tail::<T, 32, 1>(a, lda, b, c, n, k, i0),
                (2, 4) => column_tail::<T, 32, 2>(a, lda, b, c, n, k, i0),
                (1, _) => column_tail::<T, 16, 1>(a, lda, b, c, n, k, i0),
                _ => column_tail::<T, 16, 2>(a, lda, b, c, n, k, i0),
            }
        }
        for p0 in (0..k).step_by(KC) {
            let kc = (k - p0).min(KC);
            for (bit, i0) in group.clone().step_by(MR).enumerate() {
                if DENSE {
                    // Every fourth block copies itself and the next three, if there are three
                    // more in the group; the group's last one to three blocks pack as usual.
                    let slot = bit % 4;
                    if slot == 0 && i0 + 4 * MR <= group.end {
                        let quad =
                            quad.get_or_insert_with(|| core::array::from_fn(|_| PackedA::new()));
                        copy_t4(quad, a, lda, i0, p0, kc);
                    }
                    let panel = match &quad {
                        Some(quad) if i0 + (4 - slot) * MR <= group.end => {
                            Panel::Packed(&quad[slot])
                        }
                        _ => {
                            packed.pack::<TA>(a, lda, i0, MR, p0, kc);
                            Panel::Packed(&packed)
                        }
                    };
                    let end = if i0 < group.start + down { n - tail } else { n };
                    strip::<T, TA, MR, NR, NR2>(panel, b, c, n, end, i0, MR, p0);
                    continue;
                }
                if ALL || blocks & (1 << bit) != 0 {
                    // Blocks of one product are alike: a block is checked for reading in
                    // place only if the one before had no all-zero step either, so sparse
                    // data do not pay for a check that would fail. (Measured on x86 only;
                    // the Cortex-M4 firmware runs single rows, and keeps the smaller code.)
                    // A block whose first row has no zero (a bit in `filled`) is read in place
                    // unchecked: a dense x·W spent 4% of its time checking (and 1–2% more
                    // with the check's rows made a second way: LLVM then kept a row pointer
                    // of the 4×16 loop on the stack).
                    let known = filled & (1 << bit) != 0;
                    let direct = (!TA && WIDE_ROWS && (dense_before || known))
                        .then(|| in_place::<T, MR>(a, lda, i0, p0, kc, known));
                    let panel = match direct.flatten() {
                        Some(panel) => panel,
                        None => {
                            packed.pack::<TA>(a, lda, i0, MR, p0, kc);
                            dense_before = packed.dense;
                            Panel::Packed(&packed)
                        }
                    };
                    let end = if i0 < group.start + down { n - tail } else { n };
                    strip::<T, TA, MR, NR, NR2>(panel, b, c, n, end, i0, MR, p0);
                }
            }
        }
    }
}

/// Packs the four blocks of rows `i0 .. i0 + 4·R` of `aᵀ` (steps `p0 .. p0 + kc`) for an A
/// without zeros: every step, no check, and each step's `4·R` values read at once (a 64-byte
/// line for f32). Packed one block at a time, a dense 784×100·100×50 Aᵀ·B spent a quarter of
/// its time packing: each block reads a line of each of its 100 steps, 3 KB apart, which the
/// tiles between two blocks push out of the L1 cache, and lists its non-zero steps one by one.
/// This way: 102 → 91 µs. The same steps in the same order as `pack` (which would list them
/// all), so the same sums.
#[inline(always)]
fn copy_t4<T: Float, const R: usize>(
    quad: &mut [PackedA<T, R>; 4],
    a: &[T],
    lda: usize,
    i0: usize,
    p0: usize,
    kc: usize,
) {
    for q in 0..kc {
        let at = (p0 + q) * lda + i0;
        let line = &a[at..at + 4 * R];
        for (pack, v) in quad.iter_mut().zip(line.chunks_exact(R)) {
            pack.values[q].copy_from_slice(v);
        }
    }
    for pack in quad.iter_mut() {
        pack.count = kc;
        pack.dense = true;
    }
}

/// Whether no value of `a` is zero (or −0); stops at the first 64 values with one.
fn no_zero<T: Float>(a: &[T]) -> bool {
    !a.chunks(64)
        .any(|c| c.iter().fold(false, |z, x| z | (*x == T::ZERO)))
}

/// Rows of `c` that [`column_tail`] takes at a time: four vectors of f32, or two passes of
/// four vectors of f64.
const TAIL_ROWS: usize = 32;

/// How many columns a product of width `n` has past its last whole `NR`-wide tile, if one or
/// two: those run down the rows in Aᵀ·B (see [`column_tail`]); otherwise 0.
fn tail_columns(n: usize, nr: usize) -> usize {
    match n % nr {
        t @ 1..=2 if n > nr => t,
        _ => 0,
    }
}

/// `c[i][n − TAIL + j]` for rows `i0 .. i0 + W` of Aᵀ·B, all `k` steps: the vectors run down
/// the rows, with one value of B broadcast per column. The last columns of 50 = 3·16 + 2
/// would otherwise cost a tile of one vector per row of each block, whose four accumulators
/// each wait on their last add: as long as a whole 16-column tile. Step `q`'s `W` values of
/// Aᵀ are contiguous (`a[q·lda + i0 ..]`), so nothing is packed. Every element is still
/// summed in the order of the steps, from +0 (with no step skipped: a zero adds nothing).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn column_tail<T: Float, const W: usize, const TAIL: usize>(
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    n: usize,
    k: usize,
    i0: usize,
) {
    for rows in (i0..i0 + TAIL_ROWS).step_by(W) {
        let mut acc = [[T::ZERO; W]; TAIL];
        for q in 0..k {
            let av: &[T; W] = match a[q * lda + rows..][..W].try_into() {
                Ok(av) => av,
                Err(_) => unreachable!("a slice of W elements"),
            };
            let bq: &[T; TAIL] = match b[q * n + n - TAIL..][..TAIL].try_into() {
                Ok(bq) => bq,
                Err(_) => unreachable!("a slice of TAIL elements"),
            };
            fma_tile(&mut acc, bq, av);
        }
        for (j, acc) in acc.iter().enumerate() {
            for (r, &s) in acc.iter().enumerate() {
                c[(rows + r) * n + n - TAIL + j] = s;
            }
        }
    }
}

/// `c`'s rows of the sparse blocks of `group`, listed and multiplied row by row, up to
/// [`RUN`] rows at a time (see [`Listed`]); returns which blocks are not sparse, a bit each,
/// for `row_blocks` to run, and which of those have no zero in their first row.
///
/// A block is sparse if at most half the values of its first row are non-zero (rows of a
/// batch are alike: the first row stands for the block). Such rows run faster one by one,
/// each over its own non-zero steps ([`row_strip`]), than in a block over the steps where any
/// of its rows is non-zero: MNIST images (about 20% non-zero pixels) share few of theirs, so a
/// block of four would do twice the work.
///
/// A function of its own, called before `row_blocks`, so that that one compiles as before:
/// run from inside it, inlined or not, this made a dense x·W 1–9% slower (the compiler kept a
/// row pointer of the dense tiles' loop on the stack).
#[inline(never)]
fn sparse_blocks<T: Float, const L: usize>(
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    group: core::ops::Range<usize>,
    k: usize,
    n: usize,
) -> (u64, u64) {
    let (mut dense, mut filled) = (0u64, 0u64);
    // Set up for the first sparse block.
    let mut listed: Option<Listed<T>> = None;
    for (bit, i0) in group.step_by(MR).enumerate() {
        let mut masks = [0u64; KR / 64];
        // Rows longer than `KR` are not marked, and run in blocks.
        let count = (k <= KR).then(|| nonzero_masks(&a[i0 * lda..][..k], &mut masks));
        match count {
            Some(count) if 2 * count <= k => {}
            _ => {
                dense |= 1 << bit;
                if count == Some(k) {
                    filled |= 1 << bit;
                }
                continue;
            }
        }
        let listed = listed.get_or_insert_with(Listed::new);
        listed.push::<L>(&a[i0 * lda..][..k], i0, Some(&masks), b, c, n);
        for i in i0 + 1..i0 + MR {
            listed.push::<L>(&a[i * lda..][..k], i, None, b, c, n);
        }
    }
    if let Some(listed) = &mut listed {
        listed.run::<L>(b, c, n);
    }
    (dense, filled)
}

/// How many rows (two blocks) and values (two rows of [`KR`]) are listed ahead of their
/// products at most (see [`Listed`]): on x86 and aarch64; none elsewhere (the Cortex-M4 runs
/// blocks), so that they take no stack there.
const RUN: usize = if WIDE_ROWS { 2 * MR } else { 0 };
const POOL: usize = if WIDE_ROWS { 2 * KR } else { 0 };

/// The sparse rows of a product, listed up to [`RUN`] at a time before their products run
/// ([`row_strip`]). Listing reads a row whole (an MNIST image: 3 KB); listed one at a time,
/// each row's reads from memory wait for the product before to finish, where eight rows
/// listed in turn keep their reads going together: `x·W₁` for 100 MNIST images streamed from
/// memory took 73 against 88 µs here (in the cache, 54 against 52).
struct Listed<T> {
    values: [T; POOL],
    steps: [u16; POOL],
    /// Each listed row's row of the product and where its entries end.
    rows: [(usize, usize); RUN],
    len: usize,
}

impl<T: Float> Listed<T> {
    fn new() -> Self {
        Self {
            values: [T::ZERO; POOL],
            steps: [0; POOL],
            rows: [(0, 0); RUN],
            len: 0,
        }
    }

    /// Lists `row` (at most [`KR`] values), row `i` of `c`, first running the rows listed if
    /// there is no room left; `masks`: its non-zero values, if marked already.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn push<const L: usize>(
        &mut self,
        row: &[T],
        i: usize,
        masks: Option<&[u64; KR / 64]>,
        b: &[T],
        c: &mut [T],
        n: usize,
    ) {
        let mut used = self.len.checked_sub(1).map_or(0, |last| self.rows[last].1);
        if self.len == RUN || POOL - used < row.len() {
            self.run::<L>(b, c, n);
            used = 0;
        }
        let mut marked = [0u64; KR / 64];
        let masks = masks.unwrap_or_else(|| {
            nonzero_masks(row, &mut marked);
            &marked
        });
        let count = list_nonzero(
            row,
            masks,
            &mut self.values[used..],
            &mut self.steps[used..],
        );
        self.rows[self.len] = (i, used + count);
        self.len += 1;
    }

    /// `c`'s rows of the rows listed (`b` is `k × n`), which are then no longer listed.
    #[inline(always)]
    fn run<const L: usize>(&mut self, b: &[T], c: &mut [T], n: usize) {
        let mut start = 0;
        for &(i, end) in &self.rows[..self.len] {
            let (values, steps) = (&self.values[start..end], &self.steps[start..end]);
            row_strip::<T, L>(values, steps, b, c, n, i, 0);
            start = end;
        }
        self.len = 0;
    }
}

/// Lists the non-zero values of `row` and their steps into `values` and `steps`, given which
/// they are (see [`nonzero_masks`]), and returns how many: each set bit in turn, a few
/// instructions a value, with one branch to mispredict for every 64 values. Testing every
/// value instead costs a store and an add each and, eight at a time with a branch for those
/// with none (an image's border), a branch that mispredicts about as often as not: MNIST's 100
/// images listed in 17 against 31 µs here with the rows in the cache, 26 against 45 from
/// memory.
#[inline(always)]
pub(crate) fn list_nonzero<T: Float>(
    row: &[T],
    masks: &[u64; KR / 64],
    values: &mut [T],
    steps: &mut [u16],
) -> usize {
    let mut count = 0;
    for (w, &mask) in masks.iter().enumerate().take(row.len().div_ceil(64)) {
        let mut mask = mask;
        while mask != 0 {
            let q = 64 * w + mask.trailing_zeros() as usize;
            values[count] = row[q];
            // `row` has at most `KR` values.
            steps[count] = q as u16;
            count += 1;
            mask &= mask - 1;
        }
    }
    count
}

/// Sets bit `j` of `masks[w]` where `row[64·w + j]` is not zero (nor −0) and returns how many
/// are, for a `row` of at most [`KR`] values, whose set bits [`list_nonzero`] then visits.
#[inline(always)]
pub(crate) fn nonzero_masks<T: Float>(row: &[T], masks: &mut [u64; KR / 64]) -> usize {
    assert!(row.len() <= KR, "a row of at most KR values");
    let bits = |chunk: &[T]| {
        chunk
            .iter()
            .enumerate()
            .fold(0, |m, (j, x)| m | u64::from(*x != T::ZERO) << j)
    };
    // Whole chunks as arrays, so that the compares unroll into vectors (1.6× as fast as
    // chunks of a length not known to be 64).
    let mut chunks = row.chunks_exact(64);
    for (mask, chunk) in masks.iter_mut().zip(&mut chunks) {
        let chunk: &[T; 64] = match chunk.try_into() {
            Ok(chunk) => chunk,
            Err(_) => unreachable!("a chunk of 64 values"),
        };
        *mask = bits(chunk);
    }
    if !chunks.remainder().is_empty() {
        masks[row.len() / 64] = bits(chunks.remainder());
    }
    masks.iter().map(|m| m.count_ones() as usize).sum()
}

/// Row `i` through [`row_strip`], [`KR`] steps at a time.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn whole_row<T: Float, const TA: bool, const L: usize>(
    single: &mut PackedA<T, 1, KR>,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    i: usize,
    k: usize,
    n: usize,
) {
    for p0 in (0..k).step_by(KR) {
        let kc = (k - p0).min(KR);
        single.pack::<TA>(a, lda, i, 1, p0, kc);
        let (values, steps) = single.row();
        row_strip::<T, L>(values, steps, b, c, n, i, p0);
    }
}

/// Rows `rows` one at a time: the last few of a batch, or all of a batch of one (as on a
/// microcontroller), with no lanes spent on rows that are not there. A separate function, so
/// that a batch of one needs only this one's (smaller) buffer on its stack.
#[inline(never)]
fn single_rows<T: Float, const TA: bool, const NR: usize, const NR2: usize>(
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    rows: core::ops::Range<usize>,
    k: usize,
    n: usize,
) {
    if WIDE_ROWS {
        let mut single = PackedA::<T, 1, KR>::new();
        for i in rows {
            whole_row::<T, TA, NR2>(&mut single, a, lda, b, c, i, k, n);
        }
        return;
    }
    let mut single = PackedA::<T, 1>::new();
    for p0 in (0..k).step_by(KC) {
        let kc = (k - p0).min(KC);
        for i in rows.clone() {
            single.pack::<TA>(a, lda, i, 1, p0, kc);
            strip::<T, TA, 1, NR, NR2>(Panel::Packed(&single), b, c, n, n, i, 1, p0);
        }
    }
}

/// Whether single rows run through [`row_strip`]'s wide tiles: where SIMD registers make a
/// wide row of accumulators cheap. A Cortex-M4 keeps [`strip`]'s narrow tiles, which fit its
/// 32 scalar float registers.
const WIDE_ROWS: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// One row of `c` over the packed (non-zero) steps of one row of A, in tiles of up to eight
/// `L`-lane vectors. A single row has one accumulator per column, and each accumulator waits
/// for its last add (about 3 cycles): only a wide tile keeps enough adds in flight. A tile is
/// rounded up to whole vectors; its extra lanes read past the row's end (or zeros, at the end
/// of B) and are never stored.
#[inline(always)]
fn row_strip<T: Float, const L: usize>(
    values: &[T],
    steps: &[u16],
    b: &[T],
    c: &mut [T],
    n: usize,
    i: usize,
    p0: usize,
) {
    row_into::<T, L>(values, steps, &b[p0 * n..], n, &mut c[i * n..][..n], p0 > 0);
}

/// `c_row (+)= Σ_k values[k] · b[steps[k]·ldb ..][..c_row.len()]`, in tiles of up to eight
/// `L`-lane vectors (see [`row_strip`]).
#[inline(always)]
fn row_into<T: Float, const L: usize>(
    values: &[T],
    steps: &[u16],
    b: &[T],
    ldb: usize,
    c_row: &mut [T],
    accumulate: bool,
) {
    let n = c_row.len();
    let mut j0 = 0;
    while j0 < n {
        let b_rows = &b[j0..];
        let cols = (n - j0).min(8 * L);
        let c_part = &mut c_row[j0..j0 + cols];
        by_vectors!(
            L,
            cols,
            row_tile::<T>(values, steps, b_rows, ldb, c_part, accumulate)
        );
        j0 += cols;
    }
}

/// `c_row[j] (+)= Σ_k values[k] · b_rows[steps[k]·ldb + j]` for `W − L < c_row.len() ≤ W`
/// (`W` a multiple of the lane count `L`).
#[inline(always)]
fn row_tile<T: Float, const W: usize, const L: usize>(
    values: &[T],
    steps: &[u16],
    b_rows: &[T],
    ldb: usize,
    c_row: &mut [T],
    accumulate: bool,
) {
    let cols = c_row.len();
    let mut acc = [T::ZERO; W];
    if accumulate {
        for (s, &v) in acc.iter_mut().zip(&*c_row) {
            *s = v;
        }
    }
    let whole = steps_within(steps, ldb, W, b_rows.len());
    for (&av, &q) in values[..whole].iter().zip(&steps[..whole]) {
        let at = usize::from(q) * ldb;
        let brow: &[T; W] = match b_rows[at..at + W].try_into() {
            Ok(row) => row,
            Err(_) => unreachable!("a slice of W elements"),
        };
        for (s, &bv) in acc.iter_mut().zip(brow) {
            *s = s.add_product(av, bv);
        }
    }
    for (&av, &q) in values[whole..].iter().zip(&steps[whole..]) {
        let at = usize::from(q) * ldb;
        let mut brow = [T::ZERO; W];
        for (d, &v) in brow.iter_mut().zip(&b_rows[at..at + cols]) {
            *d = v;
        }
        for (s, &bv) in acc.iter_mut().zip(&brow) {
            *s = s.add_product(av, bv);
        }
    }
    store_row::<T, W, L>(c_row, &acc);
}

/// `row.copy_from_slice(&acc[..row.len()])` for `W − L < row.len() ≤ W` (`L` the lanes of a
/// vector), as every row of a one-row tile: whole vectors but the last, whose lanes are
/// stored one by one. A copy of run-time length is a call to `memcpy` (once for each row of a
/// product by column: MNIST's `xᵀ·dY` took 31.7 µs with it, 27.2 without).
#[inline(always)]
fn store_row<T: Copy, const W: usize, const L: usize>(row: &mut [T], acc: &[T; W]) {
    let (whole, last) = row.split_at_mut(W - L);
    whole.copy_from_slice(&acc[..W - L]);
    for (v, &a) in last.iter_mut().zip(&acc[W - L..]) {
        *v = a;
    }
}

/// How many of the (increasing) `steps` have all `width` values they read of B within its
/// `len`: all of them unless a tile wider than its columns reaches B's last row or so.
#[inline(always)]
fn steps_within(steps: &[u16], ldb: usize, width: usize, len: usize) -> usize {
    let fits = |q: &u16| usize::from(*q) * ldb + width <= len;
    if steps.last().is_none_or(fits) {
        steps.len()
    } else {
        steps.partition_point(fits)
    }
}

/// Every column tile of one row block, of columns `0..end`: `NR` wide, then `NR2`, then the
/// last few columns (on x86, one more vector tile that reads past them; see [`micro`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn strip<T: Float, const TA: bool, const R: usize, const NR: usize, const NR2: usize>(
    panel: Panel<'_, T, R>,
    b: &[T],
    c: &mut [T],
    n: usize,
    end: usize,
    i0: usize,
    rows: usize,
    p0: usize,
) {
    let acc = p0 > 0;
    let mut j0 = 0;
    while j0 < end {
        let b_rows = &b[p0 * n + j0..];
        let left = end - j0;
        if WIDE_ROWS && !TA && left > NR && left <= NR + NR2 {
            // The last few columns with the tile before them, as one tile a vector wider
            // (MNIST's 50 = 16 + 16 + 18): each step's broadcasts of A then serve both, and
            // the three vectors of a row keep more adds in flight than a tile of one vector,
            // whose accumulators each wait on their last add (dense x·W 1.06×).
            debug_assert_eq!(NR + NR2, 96 / T::BYTES, "the tiles are 16 + 8 or 8 + 4");
            if T::BYTES == 4 {
                wide_tile::<T, R, 24, 8>(panel, b_rows, n, left, c, n, i0, rows, j0, acc);
            } else {
                wide_tile::<T, R, 12, 4>(panel, b_rows, n, left, c, n, i0, rows, j0, acc);
            }
            j0 = end;
        } else if left >= NR {
            micro::<T, R, NR>(panel, b_rows, n, NR, c, n, i0, rows, j0, acc);
            j0 += NR;
        } else if WIDE_ROWS && left > NR2 {
            micro::<T, R, NR>(panel, b_rows, n, left, c, n, i0, rows, j0, acc);
            j0 = n;
        } else if left >= NR2 || (WIDE_ROWS && left > 0) {
            let cols = left.min(NR2);
            micro::<T, R, NR2>(panel, b_rows, n, cols, c, n, i0, rows, j0, acc);
            j0 += cols;
        } else {
            match left {
                1 => micro_cols::<T, R, 1>(panel, b_rows, n, c, n, i0, rows, j0, acc),
                2 => micro_cols::<T, R, 2>(panel, b_rows, n, c, n, i0, rows, j0, acc),
                3 => micro_cols::<T, R, 3>(panel, b_rows, n, c, n, i0, rows, j0, acc),
                _ => micro_cols::<T, R, 1>(panel, b_rows, n, c, n, i0, rows, j0, acc),
            }
            j0 += if left <= 3 { left } else { 1 };
        }
    }
}

/// The last `W` (< `NR2`) columns of a row block: one short `MR`-vector of accumulators per
/// column. Same order of accumulation as [`micro`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn micro_cols<T: Float, const R: usize, const W: usize>(
    panel: Panel<'_, T, R>,
    b_rows: &[T],
    ldb: usize,
    c: &mut [T],
    ldc: usize,
    i0: usize,
    rows: usize,
    j0: usize,
    accumulate: bool,
) {
    let mut acc = [[T::ZERO; R]; W];
    if accumulate {
        for (j, acc) in acc.iter_mut().enumerate() {
            for (r, acc) in acc.iter_mut().enumerate() {
                if r < rows {
                    *acc = c[(i0 + r) * ldc + j0 + j];
                }
            }
        }
    }
    acc = panel.fold(
        0..panel.count(),
        acc,
        #[inline(always)]
        |mut acc, q, av| {
            let at = q * ldb;
            let bv: &[T; W] = match b_rows[at..at + W].try_into() {
                Ok(v) => v,
                Err(_) => unreachable!("a slice of W elements"),
            };
            for (acc, &b) in acc.iter_mut().zip(bv) {
                for (s, &ar) in acc.iter_mut().zip(av) {
                    *s = s.add_product(ar, b);
                }
            }
            acc
        },
    );
    for (j, acc) in acc.iter().enumerate() {
        for (r, acc) in acc.iter().enumerate() {
            if r < rows {
                c[(i0 + r) * ldc + j0 + j] = *acc;
            }
        }
    }
}

/// The tile of [`strip`]'s last `cols` columns, `W − L < cols ≤ W` (`L` the lanes of a
/// vector), through [`micro`] with `cols` a constant, one branch per width: its rows are then
/// loaded and stored as vectors, not by calls to `memcpy` (two per row, on every `KC` steps).
/// In a function of its own: inlined into `row_blocks`, the 4×24 tile's loop kept its
/// accumulators in registers only with the calls; with a constant width there it spilled
/// them (dense x·W 1.2–1.3× as slow). This way, dense x·W 101 → 95 µs.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn wide_tile<T: Float, const R: usize, const W: usize, const L: usize>(
    panel: Panel<'_, T, R>,
    b_rows: &[T],
    ldb: usize,
    cols: usize,
    c: &mut [T],
    ldc: usize,
    i0: usize,
    rows: usize,
    j0: usize,
    accumulate: bool,
) {
    macro_rules! widths {
        ($($v:literal)*) => {
            match cols + L - W {
                $($v if $v <= L => micro::<T, R, W>(
                    panel, b_rows, ldb, W - L + $v, c, ldc, i0, rows, j0, accumulate,
                ),)*
                _ => unreachable!("W - L < cols <= W"),
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8);
}

/// One tile: `c[i0 + r][j0 + j] (+)= Σ_q packed[q][r] · b_rows[q·ldb + j]` over the packed
/// (non-zero) steps, for `r < rows`, `j < cols ≤ NR`. With `cols < NR` the tile's extra lanes
/// read on into B's next row (or zeros, past its end) and are never stored: one vector op per
/// row of the tile instead of a scalar op per element.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn micro<T: Float, const R: usize, const NR: usize>(
    panel: Panel<'_, T, R>,
    b_rows: &[T],
    ldb: usize,
    cols: usize,
    c: &mut [T],
    ldc: usize,
    i0: usize,
    rows: usize,
    j0: usize,
    accumulate: bool,
) {
    // Whole-array reads and writes of `acc` only: indexing it with a run-time bound would
    // keep it in memory instead of registers.
    let mut acc = [[T::ZERO; NR]; R];
    if accumulate {
        for (r, acc) in acc.iter_mut().enumerate() {
            if r < rows {
                let at = (i0 + r) * ldc + j0;
                let mut init = [T::ZERO; NR];
                init[..cols].copy_from_slice(&c[at..at + cols]);
                *acc = init;
            }
        }
    }
    let count = panel.count();
    // The steps whose `NR` values of B lie within `b_rows`: all but the last row or so of B
    // when the tile is wider than the columns left (`cols < NR`).
    let whole = if WIDE_ROWS {
        panel.within(ldb, NR, b_rows.len())
    } else {
        // Tiles are never wider than the columns left (see `strip`).
        count
    };
    acc = panel.fold(
        0..whole,
        acc,
        #[inline(always)]
        |mut acc, q, av| {
            let at = q * ldb;
            let brow: &[T; NR] = match b_rows[at..at + NR].try_into() {
                Ok(row) => row,
                Err(_) => unreachable!("a slice of NR elements"),
            };
            fma_tile(&mut acc, av, brow);
            acc
        },
    );
    acc = panel.fold(
        whole..count,
        acc,
        #[inline(always)]
        |mut acc, q, av| {
            let at = q * ldb;
            let mut brow = [T::ZERO; NR];
            for (d, &v) in brow.iter_mut().zip(&b_rows[at..at + cols]) {
                *d = v;
            }
            fma_tile(&mut acc, av, &brow);
            acc
        },
    );
    for (r, acc) in acc.iter().enumerate() {
        if r < rows {
            let at = (i0 + r) * ldc + j0;
            let out: [T; NR] = *acc;
            c[at..at + cols].copy_from_slice(&out[..cols]);
        }
    }
}

/// `acc[r][j] += a[r] · b[j]`, with [`Float::add_product`].
#[inline(always)]
fn fma_tile<T: Float, const R: usize, const NR: usize>(
    acc: &mut [[T; NR]; R],
    a: &[T; R],
    b: &[T; NR],
) {
    for (acc, &ar) in acc.iter_mut().zip(a) {
        for (s, &bv) in acc.iter_mut().zip(b) {
            *s = s.add_product(ar, bv);
        }
    }
}

/// Columns of `c` that [`nt_driver`] takes at a time (rows of B it transposes at once): four
/// 16-wide tiles on x86 (32 KB of f32 with [`KC`] steps: the L1 cache), one on a Cortex-M4
/// (16 KB of its RAM, with its `KC`).
const NT_STRIP: usize = if WIDE_ROWS { 64 } else { 16 };

/// `c = a · bᵀ`: `KC` steps and `NT_STRIP` rows of `b` at a time are copied transposed into an
/// aligned buffer, through which every block of rows of A runs, read in place if it has no
/// all-zero step, as in [`gemm_nn`]. A dense 100×50·50×784 product (a first layer's `dX`):
/// 90 µs, against 230 when B was transposed 16 columns at a time and A packed again for each
/// of them.
fn nt_driver<T: Float, const NR: usize>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    if k == 0 {
        c.fill(T::ZERO);
        return;
    }
    let mut bt = Band([T::ZERO; KC * NT_STRIP]);
    let mut packed = PackedA::<T, MR>::new();
    let mut dense_before = true;
    for p0 in (0..k).step_by(KC) {
        let kc = (k - p0).min(KC);
        for j0 in (0..n).step_by(NT_STRIP) {
            let cols = (n - j0).min(NT_STRIP);
            transpose_into(
                &b[j0 * k..(j0 + cols) * k],
                k,
                p0..p0 + kc,
                NT_STRIP,
                &mut bt.0,
            );
            let bt = &bt.0[..kc * NT_STRIP];
            for i0 in (0..m).step_by(MR) {
                let rows = (m - i0).min(MR);
                let direct = (WIDE_ROWS && rows == MR && dense_before)
                    .then(|| in_place::<T, MR>(a, k, i0, p0, kc, false));
                let panel = match direct.flatten() {
                    Some(panel) => panel,
                    None => {
                        packed.pack::<false>(a, k, i0, rows, p0, kc);
                        dense_before = packed.dense;
                        Panel::Packed(&packed)
                    }
                };
                for j in (0..cols).step_by(NR) {
                    let (b_rows, acc) = (&bt[j..], p0 > 0);
                    // A whole tile with its width a constant, so that its rows are stored as
                    // vectors, not by calls to `memcpy` (a tenth of the time otherwise).
                    if cols - j >= NR {
                        micro::<T, MR, NR>(
                            panel,
                            b_rows,
                            NT_STRIP,
                            NR,
                            c,
                            n,
                            i0,
                            rows,
                            j0 + j,
                            acc,
                        );
                    } else {
                        let w = cols - j;
                        micro::<T, MR, NR>(panel, b_rows, NT_STRIP, w, c, n, i0, rows, j0 + j, acc);
                    }
                }
            }
        }
    }
}
