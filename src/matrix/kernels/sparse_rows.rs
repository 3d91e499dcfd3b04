//! Sparse rows one by one: a row's non-zero values times the rows of B, in wide tiles
//! (`x·W`), and `xᵀ·dY` from rows, a band of the result at a time.

use super::*;

/// `c (m×N) = x · b` for `m` sparse rows `x` of width `K`, `b (K×N)`: each row runs over its
/// own values through the one-row tiles of the sparse-row path ([`row_of`]), or, on 512-bit
/// units, a few rows side by side ([`rows_narrow`]). The width `N` is a constant, so that only
/// the tiles of its own width are compiled (once for each shape a program multiplies).
pub(crate) fn sparse_nn<T: Float, const K: usize, const N: usize>(
    x: &[SparseRow<'_, T, K>],
    b: &[T],
    c: &mut [T],
) {
    dispatch!(isa => isa.sparse_nn::<T, K, N>(x, b, c))
}

/// How many rows ahead [`sparse_nn`] asks for a row's values (see [`Isa::prefetch`]).
const PREFETCH_ROWS: usize = 2;

/// The body of [`sparse_nn`], compiled for the unit that runs it.
#[inline(always)]
pub(super) fn sparse_nn_body<I: Isa, T: Float, const K: usize, const N: usize>(
    isa: I,
    x: &[SparseRow<'_, T, K>],
    b: &[T],
    c: &mut [T],
) {
    assert!(
        b.len() == K * N && c.len() == x.len() * N,
        "sparse_nn: sizes"
    );
    if N == 0 {
        return;
    }
    let mut done = 0;
    // The rows side by side only on the 512-bit units, for the widths that take them: a
    // constant, so that the others' copies compile none of it.
    if const { narrow_group::<I, T>(N) > 0 } {
        let group = narrow_group::<I, T>(N);
        for (g, (rows, c)) in x
            .chunks_exact(group)
            .zip(c.chunks_exact_mut(group * N))
            .enumerate()
        {
            prefetch_rows(isa, x.iter().skip((g + 1) * group).take(group));
            match lanes!(I, T) {
                16 => rows_narrow::<_, T, K, N, 16>(isa, rows, b, c),
                _ => rows_narrow::<_, T, K, N, 8>(isa, rows, b, c),
            }
            done += group;
        }
    }
    for (i, (row, c_row)) in x.iter().zip(c.chunks_exact_mut(N)).enumerate().skip(done) {
        prefetch_rows(isa, x.get(i + PREFETCH_ROWS));
        let (values, steps) = (row.values(), row.indices());
        match lanes!(I, T) {
            16 => row_of::<_, T, N, 16>(isa, values, steps, b, c_row),
            8 => row_of::<_, T, N, 8>(isa, values, steps, b, c_row),
            _ => row_of::<_, T, N, 4>(isa, values, steps, b, c_row),
        }
    }
}

/// How many rows [`sparse_nn`] takes side by side ([`rows_narrow`]), 0 for one at a time: on
/// 512-bit units, when each row's sums are one tile whose last vector [`narrow_sums`] reads
/// narrow, four rows while their sums take at most four vectors each, else two.
const fn narrow_group<I: Isa, T: Float>(n: usize) -> usize {
    let lanes = lanes!(I, T);
    let vectors = n.div_ceil(lanes);
    if I::WIDE && n > 0 && vectors <= TILE_VECTORS && n - (vectors - 1) * lanes <= lanes / 4 {
        if vectors <= 4 { 4 } else { 2 }
    } else {
        0
    }
}

/// [`narrow_group`]'s rows of [`sparse_nn`] side by side, each one tile of `N` columns read
/// narrow, their sums into `c`. A row's sums wait on each add before (about four cycles a
/// value), so one row at a time leaves the multiply-add units mostly idle: four rows' sums
/// step by step (two where they take more than four vectors each) keep more adds in flight.
/// Each row is still summed in the order of its own values, from +0: the numbers of
/// [`row_of`].
#[inline(always)]
fn rows_narrow<I: Isa, T: Float, const K: usize, const N: usize, const L: usize>(
    isa: I,
    x: &[SparseRow<'_, T, K>],
    b: &[T],
    c: &mut [T],
) {
    by_vectors!(const L, N, group_tile::<I, T, K, N>(isa, x, b, c));
}

/// [`rows_narrow`] for a tile of `W` columns, `W − L < N ≤ W`.
#[inline(always)]
fn group_tile<I: Isa, T: Float, const K: usize, const N: usize, const W: usize, const L: usize>(
    isa: I,
    x: &[SparseRow<'_, T, K>],
    b: &[T],
    c: &mut [T],
) {
    // A constant, so that only the group size taken is compiled.
    if const { W / L <= 4 } {
        group_last::<I, T, K, N, W, L, 4>(isa, x, b, c);
    } else {
        group_last::<I, T, K, N, W, L, 2>(isa, x, b, c);
    }
}

/// [`rows_narrow`] for `G` rows at a time, by the columns in the tile's last vector (at most
/// `L / 4`).
#[inline(always)]
fn group_last<
    I: Isa,
    T: Float,
    const K: usize,
    const N: usize,
    const W: usize,
    const L: usize,
    const G: usize,
>(
    isa: I,
    x: &[SparseRow<'_, T, K>],
    b: &[T],
    c: &mut [T],
) {
    // Saturating, as `narrow_last`: a branch not taken names tiles wider than `N + L`.
    match const { (N + L).saturating_sub(W) } {
        1 => group_sums::<I, T, K, W, L, 1, G>(isa, x, b, c),
        2 => group_sums::<I, T, K, W, L, 2, G>(isa, x, b, c),
        3 => group_sums::<I, T, K, W, L, 3, G>(isa, x, b, c),
        4 => group_sums::<I, T, K, W, L, 4, G>(isa, x, b, c),
        _ => unreachable!("narrow_group: at most a quarter of a vector"),
    }
}

/// The sums of [`rows_narrow`] for `G` rows: step by step as far as the shortest goes, then
/// each row's rest alone.
#[inline(always)]
fn group_sums<
    I: Isa,
    T: Float,
    const K: usize,
    const W: usize,
    const L: usize,
    const R: usize,
    const G: usize,
>(
    isa: I,
    x: &[SparseRow<'_, T, K>],
    b: &[T],
    c: &mut [T],
) {
    // The tile's columns, as a constant; B as `K` rows of them, and each step's row number
    // at most `K − 1` (as a sparse row's are): the compiler then knows every row read to lie
    // within B, and checks none.
    let n = W - L + R;
    let b = &b[..K * n];
    let last_row = last_row::<K>();
    let Ok(rows) = <&[SparseRow<'_, T, K>; G]>::try_from(x) else {
        unreachable!("narrow_group's rows");
    };
    let (common, values, steps) = common_steps(rows);
    let mut acc = [[T::ZERO; W]; G];
    for k in 0..common {
        for r in 0..G {
            let q = steps[r][k].min(last_row);
            narrow_step::<I, T, W, L, R>(isa, &mut acc[r], values[r][k], q, b, n);
        }
    }
    // Each row's rest alone.
    for ((row, mut acc), c) in rows.iter().zip(acc).zip(c.chunks_exact_mut(n)) {
        let (values, steps) = (&row.values()[common..], &row.indices()[common..]);
        for (&a, &q) in values.iter().zip(steps) {
            narrow_step::<I, T, W, L, R>(isa, &mut acc, a, q.min(last_row), b, n);
        }
        store_row::<T, W, L>(c, &acc);
    }
}

/// Asks the cache for the lines of `rows` ahead of their use (see [`Isa::prefetch`]).
#[inline(always)]
pub(super) fn prefetch_rows<'a, 'r: 'a, I: Isa, T: Float + 'a, const K: usize>(
    isa: I,
    rows: impl IntoIterator<Item = &'a SparseRow<'r, T, K>>,
) {
    for row in rows {
        isa.prefetch(row.indices());
        isa.prefetch(row.values());
    }
}

/// The last row number of a B of `K` rows, to which the rows side by side clamp theirs (which
/// a sparse row's are already within), so that the compiler checks no row read from B.
#[inline(always)]
pub(super) const fn last_row<const K: usize>() -> u16 {
    const { assert!(K <= 1 << 16, "u16 row numbers") };
    K.saturating_sub(1) as u16
}

/// How far `G` rows taken side by side go together (the shortest one's length), and each
/// one's values and row numbers as far as that.
#[inline(always)]
pub(super) fn common_steps<'r, T: Float, const K: usize, const G: usize>(
    rows: &'r [SparseRow<'_, T, K>; G],
) -> (usize, [&'r [T]; G], [&'r [u16]; G]) {
    let common = rows.iter().map(SparseRow::len).min().unwrap_or(0);
    let values = core::array::from_fn(|r| &rows[r].values()[..common]);
    let steps = core::array::from_fn(|r| &rows[r].indices()[..common]);
    (common, values, steps)
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
/// On an MNIST batch this is only as fast as the dense product: each value loads and stores
/// its row of `c` (seven vectors), where the dense product keeps its tiles in registers,
/// though over every image in which any of four pixels is non-zero. Sorting the values by
/// column first, to keep each row of `c` in registers, costs here as much as it saves; a
/// [`SparseBatch`](crate::matrix::sparse::SparseBatch) sorts them once, where it can be done
/// ahead, for [`sparse_columns_tn`].
pub(crate) fn sparse_tn<T: Float, const K: usize, const N: usize>(
    x: &[SparseRow<'_, T, K>],
    d: &[[T; N]],
    c: &mut [[T; N]; K],
) {
    dispatch!(isa => isa.sparse_tn::<T, K, N>(x, d, c))
}

/// The body of [`sparse_tn`], compiled for the unit that runs it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn sparse_tn_body<I: Isa, T: Float, const K: usize, const N: usize>(
    isa: I,
    x: &[SparseRow<'_, T, K>],
    d: &[[T; N]],
    c: &mut [[T; N]; K],
) {
    assert!(d.len() == x.len(), "sparse_tn: sizes");
    let stride = N.next_multiple_of(64 / T::BYTES);
    if x.is_empty() || K == 0 || N == 0 || stride > BAND {
        c.as_flattened_mut().fill(T::ZERO);
        if N > 0 {
            scatter(isa, x, d, c);
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
                    isa.add_row(sums, v, d_row);
                    *at += 1;
                }
            }
            for (src, dst) in buf.chunks_exact(stride).zip(c_band) {
                dst.copy_from_slice(&src[..N]);
            }
        }
    }
}

/// `c += xᵀ · d` straight into `c`, row after row of `x` (for rows of `c` too wide for a
/// [`Band`]).
#[inline(always)]
pub(super) fn scatter<I: Isa, T: Float, const K: usize, const N: usize>(
    isa: I,
    x: &[SparseRow<'_, T, K>],
    d: &[[T; N]],
    c: &mut [[T; N]; K],
) {
    for (row, d_row) in x.iter().zip(d) {
        for (&col, &v) in row.indices().iter().zip(row.values()) {
            isa.add_row(&mut c[usize::from(col)], v, d_row);
        }
    }
}

/// Values in a [`Band`].
pub(super) const BAND: usize = 4096;

/// Rows of `c` that [`sparse_tn`] sums at a time, 64 bytes apart from a 64-byte boundary (or
/// of `d` that [`sparse_columns_tn`] reads, a whole number of vectors apart).
#[repr(C, align(64))]
pub(super) struct Band<T, const S: usize = BAND>(pub(super) [T; S]);

/// One row of `c` over the packed (non-zero) steps of one row of A, in tiles of up to eight
/// `L`-lane vectors. A single row has one accumulator per column, and each accumulator waits
/// for its last add (about 3 cycles): only a wide tile keeps enough adds in flight. A tile is
/// rounded up to whole vectors; its extra lanes read past the row's end (or zeros, at the end
/// of B) and are never stored.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn row_strip<I: Isa, T: Float, const L: usize>(
    isa: I,
    values: &[T],
    steps: &[u16],
    b: &[T],
    c: &mut [T],
    n: usize,
    i: usize,
    p0: usize,
) {
    row_into::<_, T, L>(
        isa,
        values,
        steps,
        &b[p0 * n..],
        n,
        &mut c[i * n..][..n],
        p0 > 0,
    );
}

/// `c_row (+)= Σ_k values[k] · b[steps[k]·ldb ..][..c_row.len()]`, in tiles of up to eight
/// `L`-lane vectors (see [`row_strip`]).
#[inline(always)]
pub(super) fn row_into<I: Isa, T: Float, const L: usize>(
    isa: I,
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
        let cols = (n - j0).min(TILE_VECTORS * L);
        let c_part = &mut c_row[j0..j0 + cols];
        by_vectors!(
            L,
            cols,
            row_tile::<I, T>(isa, values, steps, b_rows, ldb, c_part, accumulate)
        );
        j0 += cols;
    }
}

/// `one_row_sums::<I, T, W, L, R>(args)` for `R` the columns of [`narrow_last`]'s `last`, 1
/// to 4 (or 0: the last vector read whole). Given a constant `last`, only its branch is
/// compiled.
macro_rules! by_last {
    ($last:expr, $i:ident, $t:ident, $w:ident, $l:ident, $args:tt) => {
        match $last {
            1 => one_row_sums::<$i, $t, $w, $l, 1> $args,
            2 => one_row_sums::<$i, $t, $w, $l, 2> $args,
            3 => one_row_sums::<$i, $t, $w, $l, 3> $args,
            4 => one_row_sums::<$i, $t, $w, $l, 4> $args,
            _ => one_row_sums::<$i, $t, $w, $l, 0> $args,
        }
    };
}

/// `c_row[j] (+)= Σ_k values[k] · b_rows[steps[k]·ldb + j]` for `W − L < c_row.len() ≤ W`
/// (`W` a multiple of the lane count `L`).
#[inline(always)]
pub(super) fn row_tile<I: Isa, T: Float, const W: usize, const L: usize>(
    isa: I,
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
    let last = narrow_last(I::WIDE, cols, W, L);
    acc = by_last!(
        last,
        I,
        T,
        W,
        L,
        (isa, acc, values, steps, b_rows, ldb, cols)
    );
    store_row::<T, W, L>(c_row, &acc);
}

/// One row of `N` columns (a constant: [`sparse_nn`]'s) times B, into `c_row`: as
/// [`row_into`], in tiles of [`TILE_VECTORS`] vectors and a last one of what is left, but
/// each tile's width chosen while compiling, so that only those tiles are compiled.
#[inline(always)]
fn row_of<I: Isa, T: Float, const N: usize, const L: usize>(
    isa: I,
    values: &[T],
    steps: &[u16],
    b: &[T],
    c_row: &mut [T],
) {
    let last = const { last_tile_start(N, L) };
    if const { N > TILE_VECTORS * L } {
        let tile = TILE_VECTORS * L;
        for j0 in (0..last).step_by(tile) {
            let (b_rows, c_part) = (&b[j0..], &mut c_row[j0..j0 + tile]);
            by_vectors!(
                const L,
                TILE_VECTORS * L,
                tile_of::<I, T, N, false>(isa, values, steps, b_rows, c_part)
            );
        }
    }
    let (b_rows, c_part) = (&b[last..], &mut c_row[last..]);
    by_vectors!(
        const L,
        N - last_tile_start(N, L),
        tile_of::<I, T, N, true>(isa, values, steps, b_rows, c_part)
    );
}

/// Where the last tile of a row of `n` columns starts, in tiles of [`TILE_VECTORS`] vectors
/// of `lanes`.
const fn last_tile_start(n: usize, lanes: usize) -> usize {
    let tile = TILE_VECTORS * lanes;
    n.saturating_sub(1) / tile * tile
}

/// A tile of [`row_of`]: `W` columns, or for the `LAST` tile what is left of `N`.
#[inline(always)]
fn tile_of<I: Isa, T: Float, const N: usize, const LAST: bool, const W: usize, const L: usize>(
    isa: I,
    values: &[T],
    steps: &[u16],
    b_rows: &[T],
    c_row: &mut [T],
) {
    let (acc, cols) = ([T::ZERO; W], c_row.len());
    let last = const {
        let cols = if LAST { N - last_tile_start(N, L) } else { W };
        narrow_last(I::WIDE, cols, W, L)
    };
    let acc = by_last!(last, I, T, W, L, (isa, acc, values, steps, b_rows, N, cols));
    store_row::<T, W, L>(c_row, &acc);
}

/// The columns in the last vector of a one-row tile of `cols` columns, `w` wide, if a 512-bit
/// unit reads B's rows only as far as them: a quarter of its `lanes` or fewer
/// ([`narrow_sums`]); 0 where the tile reads its last vector whole.
const fn narrow_last(wide: bool, cols: usize, w: usize, lanes: usize) -> usize {
    // Saturating: the compiler evaluates this for tiles of every width a branch names, not only
    // the one taken.
    let last = (cols + lanes).saturating_sub(w);
    if wide && last <= lanes / 4 { last } else { 0 }
}

/// `acc` plus a one-row tile's sums (`cols` of its `W` columns B's): each step's row of B
/// read as far as the last vector's `R` columns ([`narrow_sums`]), or, for `R = 0`, whole
/// ([`tile_sums`]).
#[inline(always)]
fn one_row_sums<I: Isa, T: Float, const W: usize, const L: usize, const R: usize>(
    isa: I,
    acc: [T; W],
    values: &[T],
    steps: &[u16],
    b_rows: &[T],
    ldb: usize,
    cols: usize,
) -> [T; W] {
    if const { R == 0 } {
        let whole = steps_within(steps, ldb, W, b_rows.len());
        tile_sums(isa, acc, values, steps, b_rows, ldb, cols, whole)
    } else {
        narrow_sums::<I, T, W, L, R>(isa, acc, values, steps, b_rows, ldb)
    }
}

/// [`tile_sums`] for a tile whose last vector holds only `R` columns (`R ≤ L / 4`), reading
/// each step's row of B only as far as its columns: the whole vectors in the unit's own, the
/// last `R` values on their own. A whole last vector would read `L − R` values past the row,
/// which for MNIST's 50 columns (3 vectors and 2 values of f32) take a fifth cache line in
/// seven rows out of eight, from L2 for every value of `x·W₁`. Each lane's sum is the same.
#[inline(always)]
fn narrow_sums<I: Isa, T: Float, const W: usize, const L: usize, const R: usize>(
    isa: I,
    mut acc: [T; W],
    values: &[T],
    steps: &[u16],
    b_rows: &[T],
    ldb: usize,
) -> [T; W] {
    for (&a, &q) in values.iter().zip(steps) {
        narrow_step::<I, T, W, L, R>(isa, &mut acc, a, q, b_rows, ldb);
    }
    acc
}

/// One step of [`narrow_sums`] for one row's sums `acc`: `a` times B's row `q`, its whole
/// vectors in the unit's own, its last `R` values on their own.
#[inline(always)]
fn narrow_step<I: Isa, T: Float, const W: usize, const L: usize, const R: usize>(
    isa: I,
    acc: &mut [T; W],
    a: T,
    q: u16,
    b_rows: &[T],
    ldb: usize,
) {
    let head = W - L;
    let (whole, rest) = acc.split_at_mut(head);
    let last: &mut [T; R] = match (&mut rest[..R]).try_into() {
        Ok(last) => last,
        Err(_) => unreachable!("a slice of R elements"),
    };
    let (row_whole, row_last) = b_rows[usize::from(q) * ldb..][..head + R].split_at(head);
    if !isa.vector_row(whole, a, row_whole) {
        for (s, &x) in whole.iter_mut().zip(row_whole) {
            *s = isa.add_product(*s, a, x);
        }
    }
    match row_last.try_into() {
        Ok(row_last) => isa.add_row::<T, R>(last, a, row_last),
        Err(_) => unreachable!("a slice of R elements"),
    }
}

/// `acc[j] + Σ_k values[k] · b_rows[steps[k]·ldb + j]`, in the order of the steps: for the
/// first `whole` steps reading `W` values of B at once, then `cols` (the rest as zeros).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn tile_sums<I: Isa, T: Float, const W: usize>(
    isa: I,
    mut acc: [T; W],
    values: &[T],
    steps: &[u16],
    b_rows: &[T],
    ldb: usize,
    cols: usize,
    whole: usize,
) -> [T; W] {
    for (&av, &q) in values[..whole].iter().zip(&steps[..whole]) {
        isa.add_row(&mut acc, av, b_row::<T, W>(b_rows, usize::from(q) * ldb));
    }
    for (&av, &q) in values[whole..].iter().zip(&steps[whole..]) {
        let at = usize::from(q) * ldb;
        let mut brow = [T::ZERO; W];
        for (d, &v) in brow.iter_mut().zip(&b_rows[at..at + cols]) {
            *d = v;
        }
        isa.add_row(&mut acc, av, &brow);
    }
    acc
}

/// The `W` values of `b_rows` from `at`.
#[inline(always)]
fn b_row<T: Float, const W: usize>(b_rows: &[T], at: usize) -> &[T; W] {
    match b_rows[at..at + W].try_into() {
        Ok(row) => row,
        Err(_) => unreachable!("a slice of W elements"),
    }
}

/// Two rows of sums at once, as [`row_into`] (from +0) sums each: `c[r][j] = Σ_k
/// rows[r].0[k] · b[rows[r].1[k]·ldb + j]`. A row's vectors of sums take one add a value, each
/// waiting on the one before (about four cycles), where the core could start two adds a cycle:
/// two rows side by side, step by step, keep twice as many adds in flight. Each row is still
/// summed in the order of its own steps, so the numbers are [`row_into`]'s.
#[cfg(feature = "alloc")]
#[inline(always)]
pub(super) fn row_pair_into<I: Isa, T: Float, const L: usize>(
    isa: I,
    rows: [(&[T], &[u16]); 2],
    b: &[T],
    ldb: usize,
    c: [&mut [T]; 2],
) {
    let [c0, c1] = c;
    let n = c0.len();
    debug_assert_eq!(n, c1.len(), "two rows of one width");
    let mut j0 = 0;
    while j0 < n {
        let b_rows = &b[j0..];
        let cols = (n - j0).min(TILE_VECTORS * L);
        let parts = [&mut c0[j0..j0 + cols], &mut c1[j0..j0 + cols]];
        by_vectors!(
            L,
            cols,
            row_pair_tile::<I, T>(isa, rows, b_rows, ldb, parts)
        );
        j0 += cols;
    }
}

/// One tile of [`row_pair_into`]: `W − L < cols ≤ W` columns of both rows.
#[cfg(feature = "alloc")]
#[inline(always)]
fn row_pair_tile<I: Isa, T: Float, const W: usize, const L: usize>(
    isa: I,
    rows: [(&[T], &[u16]); 2],
    b_rows: &[T],
    ldb: usize,
    c: [&mut [T]; 2],
) {
    let [(v0, s0), (v1, s1)] = rows;
    let cols = c[0].len();
    let whole = [
        steps_within(s0, ldb, W, b_rows.len()),
        steps_within(s1, ldb, W, b_rows.len()),
    ];
    if ldb == W && whole == [s0.len(), s1.len()] {
        // B's rows exactly `W` apart and all whole (`sparse_columns_tn`'s aligned copy).
        let (b_whole, _) = b_rows.as_chunks::<W>();
        isa.row_pair_whole::<T, W, L>(rows, b_whole, c);
        return;
    }
    let both = whole[0].min(whole[1]);
    let (mut acc0, mut acc1) = ([T::ZERO; W], [T::ZERO; W]);
    let first = v0[..both].iter().zip(&s0[..both]);
    let second = v1[..both].iter().zip(&s1[..both]);
    for ((&a0, &q0), (&a1, &q1)) in first.zip(second) {
        let b0 = b_row::<T, W>(b_rows, usize::from(q0) * ldb);
        let b1 = b_row::<T, W>(b_rows, usize::from(q1) * ldb);
        add_pair(isa, [&mut acc0, &mut acc1], [a0, a1], [b0, b1]);
    }
    // The rest of each row alone (no closure here: one left out of line would be compiled
    // without the unit's features, and its `add_product` would call libm's `fma`).
    let (v0, s0, v1, s1) = (&v0[both..], &s0[both..], &v1[both..], &s1[both..]);
    let acc0 = tile_sums(isa, acc0, v0, s0, b_rows, ldb, cols, whole[0] - both);
    let acc1 = tile_sums(isa, acc1, v1, s1, b_rows, ldb, cols, whole[1] - both);
    let [c0, c1] = c;
    store_row::<T, W, L>(c0, &acc0);
    store_row::<T, W, L>(c1, &acc1);
}

/// [`row_pair_tile`] where B is whole rows of `W` (every step's row among them): each step's
/// rows found by one check each and no multiplication, and no row padded with zeros, whose
/// zero vector, live through the loop, took a register from the sums (chapter 6's tile of 48
/// columns spilled one).
///
/// Called as `isa.row_pair_whole(…)`: a call of its own, compiled for each unit (see `isa`):
/// inlined into `sparse_columns_tn`, the loop reloaded three pointers from the stack every
/// step (MNIST's `xᵀ·dY` 1.16× as slow).
#[cfg(feature = "alloc")]
#[inline(always)]
pub(super) fn row_pair_whole<I: Isa, T: Float, const W: usize, const L: usize>(
    isa: I,
    rows: [(&[T], &[u16]); 2],
    b: &[[T; W]],
    c: [&mut [T]; 2],
) {
    let [(v0, s0), (v1, s1)] = rows;
    let both = s0.len().min(s1.len());
    let (mut acc0, mut acc1) = ([T::ZERO; W], [T::ZERO; W]);
    let first = v0[..both].iter().zip(&s0[..both]);
    let second = v1[..both].iter().zip(&s1[..both]);
    for ((&a0, &q0), (&a1, &q1)) in first.zip(second) {
        let (b0, b1) = (&b[usize::from(q0)], &b[usize::from(q1)]);
        add_pair(isa, [&mut acc0, &mut acc1], [a0, a1], [b0, b1]);
    }
    // The rest of each row alone.
    let acc0 = whole_sums(isa, acc0, &v0[both..], &s0[both..], b);
    let acc1 = whole_sums(isa, acc1, &v1[both..], &s1[both..], b);
    let [c0, c1] = c;
    store_row::<T, W, L>(c0, &acc0);
    store_row::<T, W, L>(c1, &acc1);
}

/// `acc[j] + Σ_k values[k] · b[steps[k]][j]`, in the order of the steps.
#[cfg(feature = "alloc")]
#[inline(always)]
fn whole_sums<I: Isa, T: Float, const W: usize>(
    isa: I,
    mut acc: [T; W],
    values: &[T],
    steps: &[u16],
    b: &[[T; W]],
) -> [T; W] {
    for (&a, &q) in values.iter().zip(steps) {
        isa.add_row(&mut acc, a, &b[usize::from(q)]);
    }
    acc
}

/// One step of [`row_pair_tile`]: `acc[r][j] += a[r] · b[r][j]` for both rows.
#[cfg(feature = "alloc")]
#[inline(always)]
fn add_pair<I: Isa, T: Float, const W: usize>(
    isa: I,
    acc: [&mut [T; W]; 2],
    a: [T; 2],
    b: [&[T; W]; 2],
) {
    let [acc0, acc1] = acc;
    if I::WIDE {
        // A row's step in the unit's own vectors (see `Isa::add_row`).
        isa.add_row(acc0, a[0], b[0]);
        isa.add_row(acc1, a[1], b[1]);
        return;
    }
    // Both rows' values in turn: the compiler's vectors, in the order tuned on AVX2 (two
    // `add_row`s in a row schedule differently).
    for (((s0, &x0), s1), &x1) in acc0.iter_mut().zip(b[0]).zip(acc1).zip(b[1]) {
        *s0 = isa.add_product(*s0, a[0], x0);
        *s1 = isa.add_product(*s1, a[1], x1);
    }
}

/// `row.copy_from_slice(&acc[..row.len()])` for `W − L < row.len() ≤ W` (`L` the lanes of a
/// vector), as every row of a one-row tile: whole vectors but the last, whose lanes are
/// stored by [`store_first`]. A copy of run-time length is a call to `memcpy` (once for each
/// row of a product by column).
#[inline(always)]
pub(super) fn store_row<T: Copy, const W: usize, const L: usize>(row: &mut [T], acc: &[T; W]) {
    let (whole, last) = row.split_at_mut(W - L);
    whole.copy_from_slice(&acc[..W - L]);
    store_first(last, &acc[W - L..]);
}

/// `out.copy_from_slice(&values[..out.len()])` for an `out` no longer than `values`, whose
/// length is a constant: each value stored on its own, checked against `out`'s end. A loop
/// over the values `out` has was made a call to `memcpy` of run-time length by the compiler,
/// around which the AVX-512 copy saved its live vector registers: MNIST's `xᵀ·dY` by column,
/// a call for each of its 784 rows, took 1.04× as long.
#[inline(always)]
pub(super) fn store_first<T: Copy>(out: &mut [T], values: &[T]) {
    for (j, &a) in values.iter().enumerate() {
        if let Some(v) = out.get_mut(j) {
            *v = a;
        }
    }
}

/// How many of the (increasing) `steps` have all `width` values they read of B within its
/// `len`: all of them unless a tile wider than its columns reaches B's last row or so.
#[inline(always)]
pub(super) fn steps_within(steps: &[u16], ldb: usize, width: usize, len: usize) -> usize {
    let fits = |q: &u16| usize::from(*q) * ldb + width <= len;
    if steps.last().is_none_or(fits) {
        steps.len()
    } else {
        steps.partition_point(fits)
    }
}
