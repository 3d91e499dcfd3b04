//! Sparse rows by column: `xᵀ·dY` and `x·W` from a batch's values listed by column.

use super::*;

/// `c (k×n) = xᵀ · d` for `x` listed column by column: `starts[p]..starts[p + 1]` are the
/// entries of column `p`, each a row of `x` (increasing) and its value; `d (m×n)`. Row `p` of
/// `c` is then `Σ value · d[row]` over its entries, in row order: [`gemm_tn`]'s sum without
/// its zeros, accumulated in registers by `row_into`'s tiles (a column is to `d` what a
/// sparse row is to B in [`sparse_nn`]) and stored once, where [`sparse_tn`] loads and stores
/// a row of `c` for every value.
///
/// `d` is copied into a 64-byte-aligned buffer with its rows a whole number of vectors apart
/// (MNIST's 50 columns: 56): read in place, rows 200 bytes apart, most of a tile's loads
/// straddle two cache lines. A `d` too wide for the buffer, or for two rows of sums in the
/// registers, goes through in passes of columns, each copied in turn (chapter 6's 128 rows by
/// 100: 56 + 44 columns).
pub(crate) fn sparse_columns_tn<T: Float>(
    starts: &[u32],
    rows: &[u16],
    values: &[T],
    d: &[T],
    c: &mut [T],
    n: usize,
) {
    dispatch!(isa => isa.sparse_columns_tn::<T>(starts, rows, values, d, c, n))
}

/// The body of [`sparse_columns_tn`], compiled for the unit that runs it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn sparse_columns_tn_body<I: Isa, T: Float>(
    isa: I,
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
    let lanes = lanes!(I, T);
    let m = d.len() / n;
    // Columns of `d` a pass: as many vectors as fit the copy and keep two rows of sums in the
    // registers (seven vectors each of 16 registers, eight of 32), the passes as wide as one
    // another (100 columns of f32 on 256-bit vectors: 56 + 44; 64 + 36 spilled). Eight in
    // one pass, spilling, still beat two passes of four. A `d` too tall for even one vector of
    // each row in the copy is read in place, its rows `n` apart.
    let vectors = n.div_ceil(lanes);
    let regs = if lanes * T::BYTES >= 64 || vectors == 8 {
        8
    } else {
        7
    };
    let fits = COPY / (m.max(1) * lanes);
    let most = if fits == 0 { regs } else { fits.min(regs) };
    let passes = vectors.div_ceil(most);
    // Not `then_some`: that would zero the 32 KB for nothing.
    let mut buf = if fits > 0 {
        Some(Band([T::ZERO; COPY]))
    } else {
        None
    };
    let mut j0 = 0;
    for pass in 0..passes {
        let width = (vectors / passes + usize::from(pass < vectors % passes)) * lanes;
        let cols = width.min(n - j0);
        let (part, ldd) = match &mut buf {
            None => (&d[j0..], n),
            Some(buf) => {
                let copy = &mut buf.0[..m * width];
                for (dst, src) in copy.chunks_exact_mut(width).zip(d.chunks_exact(n)) {
                    dst[..cols].copy_from_slice(&src[j0..j0 + cols]);
                }
                (&buf.0[..m * width], width)
            }
        };
        match lanes {
            16 => columns_pass::<_, T, 16>(isa, starts, rows, values, part, ldd, c, n, j0, cols),
            8 => columns_pass::<_, T, 8>(isa, starts, rows, values, part, ldd, c, n, j0, cols),
            _ => columns_pass::<_, T, 4>(isa, starts, rows, values, part, ldd, c, n, j0, cols),
        }
        j0 += cols;
    }
}

/// Columns `j0 .. j0 + cols` of every row of [`sparse_columns_tn`]'s `c` (`n` wide), from
/// `d`'s rows `ldd` apart, starting at column `j0`: two rows of `c` at a time (see
/// `row_pair_into`), the last one alone if their number is odd.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn columns_pass<I: Isa, T: Float, const L: usize>(
    isa: I,
    starts: &[u32],
    rows: &[u16],
    values: &[T],
    d: &[T],
    ldd: usize,
    c: &mut [T],
    n: usize,
    j0: usize,
    cols: usize,
) {
    let column = |p: usize| {
        let span = starts[p] as usize..starts[p + 1] as usize;
        (&values[span.clone()], &rows[span])
    };
    let mut pairs = c.chunks_exact_mut(2 * n);
    for (p, pair) in (0..).step_by(2).zip(&mut pairs) {
        let (c0, c1) = pair.split_at_mut(n);
        let parts = [&mut c0[j0..j0 + cols], &mut c1[j0..j0 + cols]];
        if starts[p] == starts[p + 2] {
            // Two columns with no values (an image's border): sums of nothing, +0, without
            // the call of a tile.
            parts.into_iter().for_each(|part| part.fill(T::ZERO));
            continue;
        }
        row_pair_into::<_, T, L>(isa, [column(p), column(p + 1)], d, ldd, parts);
    }
    let last = pairs.into_remainder();
    if !last.is_empty() {
        let (values, rows) = column(starts.len() - 2);
        row_into::<_, T, L>(isa, values, rows, d, ldd, &mut last[j0..j0 + cols], false);
    }
}

/// Whether `x · b` of a batch both in rows and listed by column (a
/// [`SparseBatch`](crate::matrix::sparse::SparseBatch)) runs from its rows ([`sparse_nn`])
/// rather than from the listing ([`sparse_columns_nn`]): where a row of `c`, `n` wide, fits
/// one tile of the unit's registers ([`TILE_VECTORS`]: 64 f32 on 256-bit vectors), except on
/// Intel's AVX-512 cores. From the rows, each value costs the loads of its row of `b` and one
/// multiply-add a vector, where the listing also loads and stores a row of sums in memory for
/// it; but the rows read a row of `b` for every value (MNIST's `W₁`, from L2), the listing
/// each row once. Which costs more depends on the core: on an Intel Xeon the listing was the
/// faster, on AMD's Zen 3 the rows, on Zen 5 neither (PERFORMANCE.md, "The Intel Xeon a sixth
/// time"). Wider rows take the row's values through the tiles more than once, and the listing
/// wins everywhere. The same sums either way.
pub(crate) fn batch_by_rows<T: Float>(n: usize) -> bool {
    dispatch!(isa => by_rows::<_, T>(isa, n, super::isa::intel()))
}

/// [`batch_by_rows`] on the unit `I`, of an Intel CPU or not.
pub(super) fn by_rows<I: Isa, T: Float>(isa: I, n: usize, intel: bool) -> bool {
    one_tile::<_, T>(isa, n) && !(I::WIDE && intel)
}

/// Whether `n` columns of `T` fit one tile of `row_into` on the unit `I`.
fn one_tile<I: Isa, T: Float>(_isa: I, n: usize) -> bool {
    n.div_ceil(lanes!(I, T)) <= TILE_VECTORS
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
/// batch already in the cache it is no faster; from batches in memory the listing is one run
/// where the rows lie all over the data set.
pub(crate) fn sparse_columns_nn<T: Float>(
    starts: &[u32],
    rows: &[u16],
    values: &[T],
    b: &[T],
    c: &mut [T],
    n: usize,
) {
    dispatch!(isa => isa.sparse_columns_nn::<T>(starts, rows, values, b, c, n))
}

/// The body of [`sparse_columns_nn`], compiled for the unit that runs it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn sparse_columns_nn_body<I: Isa, T: Float>(
    isa: I,
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
    let lanes = lanes!(I, T);
    let mut buf = Band([T::ZERO; COPY]);
    let mut j0 = 0;
    while j0 < n {
        let cols = (n - j0).min(TILE_VECTORS * lanes);
        let (b_part, c_part, zeroed) = (&b[j0..], &mut c[j0..], j0 == 0);
        let buf = &mut buf.0;
        by_vectors!(
            lanes,
            cols,
            column_strip::<I, T>(
                isa, starts, rows, values, b_part, c_part, n, cols, buf, zeroed,
            )
        );
        j0 += cols;
    }
}

/// Columns `0..cols` of [`sparse_columns_nn`]'s `c` (`W − L < cols ≤ W`), whose rows, like
/// `b`'s, are `ld` apart: summed in `buf` with rows `W` apart, [`COPY`]` / W` rows at a time
/// (`zeroed`: `buf` is still all zeros).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn column_strip<I: Isa, T: Float, const W: usize, const L: usize>(
    isa: I,
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
                isa.add_row(row, v, &b_row);
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
pub(super) const COPY: usize = 8192;
