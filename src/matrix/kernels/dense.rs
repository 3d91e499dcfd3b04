//! Dense tiles: `A·B`, `Aᵀ·B` and `A·Bᵀ` in register tiles over blocks of four rows (packed
//! or read in place, all-zero steps skipped), the narrow products, the last columns, and
//! single rows.

use super::*;

/// `c (m×n) = a (m×k) · b (k×n)`.
pub(crate) fn gemm_nn<T: Float>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    assert!(
        a.len() == m * k && b.len() == k * n && c.len() == m * n,
        "gemm_nn: sizes"
    );
    dispatch!(isa => gemm_nn_on(isa, a, b, c, m, k, n));
}

/// [`gemm_nn`] on the unit `isa`.
pub(super) fn gemm_nn_on<I: Isa, T: Float>(
    isa: I,
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    if narrow::<T>(m, k, n) {
        if T::BYTES == 4 {
            isa.narrow_blocks::<T, 16, 8>(a, b, c, m, k, n);
        } else {
            isa.narrow_blocks::<T, 8, 4>(a, b, c, m, k, n);
        }
    } else {
        drive::<_, T, false>(isa, a, k, b, c, m, k, n);
    }
}

/// [`driver`] with the unit's tile widths: `NR` two vectors of 256 bits (16 f32) and `NR2`
/// one, or, on 512-bit vectors, `NR` three (48 f32: twelve of the 32 registers for a tile of
/// four rows) and `NR2` one.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn drive<I: Isa, T: Float, const TA: bool>(
    isa: I,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    match (I::WIDE, T::BYTES) {
        (true, 4) => isa.driver::<T, TA, 48, 16>(a, lda, b, c, m, k, n),
        (true, _) => isa.driver::<T, TA, 24, 8>(a, lda, b, c, m, k, n),
        (false, 4) => isa.driver::<T, TA, 16, 8>(a, lda, b, c, m, k, n),
        (false, _) => isa.driver::<T, TA, 8, 4>(a, lda, b, c, m, k, n),
    }
}

/// `c (m×n) = aᵀ · b` with `a (k×m)`, `b (k×n)`.
pub(crate) fn gemm_tn<T: Float>(a: &[T], b: &[T], c: &mut [T], k: usize, m: usize, n: usize) {
    assert!(
        a.len() == k * m && b.len() == k * n && c.len() == m * n,
        "gemm_tn: sizes"
    );
    dispatch!(isa => gemm_tn_on(isa, a, b, c, k, m, n));
}

/// [`gemm_tn`] on the unit `isa`.
pub(super) fn gemm_tn_on<I: Isa, T: Float>(
    isa: I,
    a: &[T],
    b: &[T],
    c: &mut [T],
    k: usize,
    m: usize,
    n: usize,
) {
    if narrow::<T>(m, k, n) {
        if T::BYTES == 4 {
            isa.narrow_tn::<T, 16, 8>(a, b, c, m, k, n);
        } else {
            isa.narrow_tn::<T, 8, 4>(a, b, c, m, k, n);
        }
    } else {
        drive::<_, T, true>(isa, a, m, b, c, m, k, n);
    }
}

/// Whether [`narrow_blocks`] takes a product `a · b`: at most two vectors of columns (16
/// f32), a `B` that fits a [`Band`] two vectors a row, and rows enough to pay for copying it.
#[inline(always)]
pub(super) fn narrow<T: Float>(m: usize, k: usize, n: usize) -> bool {
    let width = 64 / T::BYTES;
    WIDE_ROWS && m >= 16 && (1..=width).contains(&n) && k * width <= BAND
}

/// `c = a · b` at most `W` (two vectors of `L`) wide (MNIST's second layer, 100×50·50×10), in
/// blocks of four rows read in place, zeros and all, with plain loops of their own, faster
/// than [`driver`] here, which runs a row with few non-zero
/// values on its own (half of a ReLU's outputs are zero; a lone row has two vectors of sums,
/// each waiting on its last add), and packs the other blocks to skip the steps where all four
/// rows are zero, which costs here what it saves. Adding `0·b` leaves a sum as it is, so these
/// are the same sums (see the module's notes). `B` is first copied with its rows two vectors
/// apart, so that a step loads one aligned 64-byte line. Called before `driver`, whose code
/// stays as it was: choosing this inside `row_blocks` made its 4×24 tile spill.
///
/// Called as `isa.narrow_blocks(…)`: a call of its own, compiled for each unit (see `isa`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn narrow_blocks<I: Isa, T: Float, const W: usize, const L: usize>(
    isa: I,
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
            fma_tile(isa, &mut acc, &[x0, x1, x2, x3], b_row);
        }
        for (r, acc) in acc.iter().enumerate() {
            store_narrow::<T, W, L>(&mut c[(i0 + r) * n..][..n], acc);
        }
    }
    for i in full..m {
        let mut acc = [[T::ZERO; W]];
        for (b_row, &x) in b.iter().zip(&a[i * k..][..k]) {
            fma_tile(isa, &mut acc, &[x], b_row);
        }
        store_narrow::<T, W, L>(&mut c[i * n..][..n], &acc[0]);
    }
}

/// `b`'s `k` rows of `n` copied into `band` `W` apart (zeros between), 64-byte aligned.
#[inline(always)]
pub(super) fn pad_rows<'a, T: Float, const W: usize>(
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
/// whole vectors where it can, rather than a call to `memcpy` for a few values (nor for one
/// vector or less: [`store_first`]).
#[inline(always)]
pub(super) fn store_narrow<T: Copy, const W: usize, const L: usize>(row: &mut [T], acc: &[T; W]) {
    if row.len() > W - L {
        store_row::<T, W, L>(row, acc);
    } else {
        store_first(row, &acc[..W - L]);
    }
}

/// `c = aᵀ · b` at most `W` (two vectors) wide (MNIST's second layer's `dW`, 50×100·100×10):
/// blocks of four rows of `c` in eight vectors of sums, each step adding four values of A
/// (contiguous: a row of `a`) times a row of B, copied two vectors apart as in
/// [`narrow_blocks`]. Nothing packed, no step skipped: the same sums, faster than packed by
/// `driver`.
///
/// Called as `isa.narrow_tn(…)`: a call of its own, compiled for each unit (see `isa`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn narrow_tn<I: Isa, T: Float, const W: usize, const L: usize>(
    isa: I,
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
            fma_tile(isa, &mut acc, av, b_row);
        }
        for (r, acc) in acc.iter().enumerate() {
            store_narrow::<T, W, L>(&mut c[(i0 + r) * n..][..n], acc);
        }
    }
    for i in full..m {
        let mut acc = [[T::ZERO; W]];
        for (a_row, b_row) in a.chunks_exact(m).zip(b) {
            fma_tile(isa, &mut acc, &[a_row[i]], b_row);
        }
        store_narrow::<T, W, L>(&mut c[i * n..][..n], &acc[0]);
    }
}

/// `c (m×n) = a · bᵀ` with `a (m×k)`, `b (n×k)`.
///
/// `B`'s columns are strided here, so each `NR`-row strip of `B` is first copied, transposed,
/// into a buffer on the stack ([`KC`] steps at a time); then the tiles run as in [`gemm_nn`].
pub(crate) fn gemm_nt<T: Float>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    assert!(
        a.len() == m * k && b.len() == n * k && c.len() == m * n,
        "gemm_nt: sizes"
    );
    dispatch!(isa => gemm_nt_on(isa, a, b, c, m, k, n));
}

/// [`gemm_nt`] on the unit `isa`.
pub(super) fn gemm_nt_on<I: Isa, T: Float>(
    isa: I,
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    if WIDE_ROWS && n > 0 && k > 0 && n * k <= NT_SMALL {
        isa.nt_small(a, b, c, m, k, n);
    } else if WIDE_ROWS && n * k <= NT_WHOLE {
        isa.nt_whole(a, b, c, m, k, n);
    } else {
        // Tiles of four rows by two 256-bit vectors, or by four 512-bit ones (sixteen of
        // their 32 registers).
        match (I::WIDE, T::BYTES) {
            (true, 4) => isa.nt_driver::<T, 64>(a, b, c, m, k, n),
            (true, _) => isa.nt_driver::<T, 32>(a, b, c, m, k, n),
            (false, 4) => isa.nt_driver::<T, 16>(a, b, c, m, k, n),
            (false, _) => isa.nt_driver::<T, 8>(a, b, c, m, k, n),
        }
    }
}

/// At most this many values of B (48 KB of f32) make [`gemm_nt`] transpose all of B onto
/// the stack and run [`gemm_nn`]'s blocks on it (see [`nt_whole`]).
pub(super) const NT_WHOLE: usize = 12288;

/// `c = a · bᵀ` for a `b` of at most [`NT_WHOLE`] values (as chapter 6's 100×100 weights,
/// whose `dX` backpropagation needs): `b` transposed onto the stack once, then [`gemm_nn`]'s
/// driver, whose tiles read B's rows in place, where [`nt_driver`] would copy its strips
/// again for every `KC` steps and run narrower tiles. The same sums in the same order.
///
/// Called as `isa.nt_whole(…)`: a call of its own, compiled for each unit (see `isa`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn nt_whole<I: Isa, T: Float>(
    isa: I,
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    transposed_drive::<_, T, NT_WHOLE>(isa, a, b, c, m, k, n);
}

/// `c = a · bᵀ` for a `b` of at most `CAP` values: all of `b` transposed onto the stack, then
/// [`gemm_nn`]'s driver on it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn transposed_drive<I: Isa, T: Float, const CAP: usize>(
    isa: I,
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    let mut bt = Band([T::ZERO; CAP]);
    transpose(isa, b, k, 0..k, n, &mut bt.0);
    drive::<_, T, false>(isa, a, k, &bt.0[..k * n], c, m, k, n);
}

/// At most this many values of B make [`gemm_nt`] transpose all of B at once (see
/// [`nt_small`]): 8 KB of f32.
pub(super) const NT_SMALL: usize = 2048;

/// `0, 1, 2, …`: every step of a dense row, for the one-row tiles (see [`nt_small`]).
pub(super) const STEPS: [u16; NT_SMALL] = {
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
/// which read A in place, where [`nt_driver`] would pack A again for every 16 columns of `c`.
/// Wider than four vectors, each row runs alone through the
/// one-row tiles instead, over every step (dense), with `bᵀ`'s rows a whole number of vectors
/// apart: its seven vectors of sums keep the adders busy, and it stores them as vectors where
/// a block's tiles store through `memcpy`. The same sums in the same order.
///
/// Called as `isa.nt_small(…)`: a call of its own, compiled for each unit (see `isa`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn nt_small<I: Isa, T: Float>(
    isa: I,
    a: &[T],
    b: &[T],
    c: &mut [T],
    m: usize,
    k: usize,
    n: usize,
) {
    let lanes = lanes!(I, T);
    if n > 4 * lanes {
        // n·k ≤ NT_SMALL and n > 4·lanes, so k·ldb < 2·NT_SMALL = BAND.
        let ldb = n.next_multiple_of(lanes);
        let mut bt = Band([T::ZERO; BAND]);
        transpose(isa, b, k, 0..k, ldb, &mut bt.0);
        let (bt, steps) = (&bt.0[..k * ldb], &STEPS[..k]);
        for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
            match lanes {
                16 => row_into::<_, T, 16>(isa, a_row, steps, bt, ldb, c_row, false),
                8 => row_into::<_, T, 8>(isa, a_row, steps, bt, ldb, c_row, false),
                _ => row_into::<_, T, 4>(isa, a_row, steps, bt, ldb, c_row, false),
            }
        }
        return;
    }
    transposed_drive::<_, T, NT_SMALL>(isa, a, b, c, m, k, n);
}

/// [`transpose_into`] in the unit's own vectors where it has them
/// ([`VectorTile::vector_transpose`](super::isa::VectorTile::vector_transpose)).
#[inline(always)]
fn transpose<I: Isa, T: Float>(
    isa: I,
    b: &[T],
    k: usize,
    steps: core::ops::Range<usize>,
    ld: usize,
    out: &mut [T],
) {
    if !isa.vector_transpose(b, k, steps.clone(), ld, out) {
        transpose_into(b, k, steps, ld, out);
    }
}

/// Values `steps` of `b`'s rows of `k` as the columns of `out`, whose rows are `ld` apart.
#[inline(always)]
pub(super) fn transpose_into<T: Float>(
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

/// The `R` values of A for each of up to `CAP` steps, and which steps are not all zero.
pub(super) struct PackedA<T, const R: usize, const CAP: usize = KC_MAX> {
    pub(super) values: [[T; R]; CAP],
    pub(super) steps: [u16; CAP],
    pub(super) count: usize,
    /// No step was skipped (`steps` is `0..count`).
    pub(super) dense: bool,
}

impl<T: Float, const CAP: usize> PackedA<T, 1, CAP> {
    /// A single row's packed values and their steps.
    #[inline(always)]
    pub(super) fn row(&self) -> (&[T], &[u16]) {
        (
            &self.values.as_flattened()[..self.count],
            &self.steps[..self.count],
        )
    }
}

impl<T: Float, const R: usize, const CAP: usize> PackedA<T, R, CAP> {
    #[inline(always)]
    pub(super) fn new() -> Self {
        Self {
            values: [[T::ZERO; R]; CAP],
            steps: [0; CAP],
            count: 0,
            dense: true,
        }
    }

    /// Packs `op(a)[i0 + r][p0 + q]` for `r < rows`, `q < kc` (rows past `rows` are zero).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn pack<I: Isa, const TA: bool>(
        &mut self,
        isa: I,
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
            // One row: its non-zero values listed (by the unit's own listing, eight at a time,
            // where it has one; else marked and listed, see `list_part`).
            let row = &a[i0 * lda + p0..][..kc];
            let (values, steps) = (self.values.as_flattened_mut(), &mut self.steps[..]);
            let count = isa
                .list_nonzero(row, 0, values, steps)
                .unwrap_or_else(|| list_part(row, 0, values, steps));
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
pub(super) enum Panel<'a, T, const R: usize> {
    /// Packed: the steps that are not all zero, and their values side by side.
    Packed(&'a PackedA<T, R>),
    /// A block of rows of A (not transposed) without an all-zero step, read in place: row `r`
    /// of the block is `rows[r]`, one value per step. Packing it would copy every value to
    /// skip nothing (a fifth of a dense product's time).
    Rows([&'a [T]; R]),
    /// A block of Aᵀ's rows read whole, in place (see [`driver`]): step `q`'s `R` values lie
    /// side by side at `a[q·lda..]`, one of A's rows (see [`strided`]).
    Strided {
        a: &'a [T],
        lda: usize,
        count: usize,
    },
}

impl<'a, T: Float, const R: usize> Panel<'a, T, R> {
    /// The same panel, if its values are `f32` in blocks of four rows (for the tiles written
    /// for that alone: see `avx2` and `avx512`).
    #[cfg(all(detect, fused))]
    #[inline(always)]
    pub(super) fn as_f32(self) -> Option<Panel<'a, f32, 4>> {
        self.as_scalar(T::f32s)
    }

    /// The same panel, if its values are `f64` in blocks of four rows (see `avx512`).
    #[cfg(all(detect, fused))]
    #[inline(always)]
    pub(super) fn as_f64(self) -> Option<Panel<'a, f64, 4>> {
        self.as_scalar(T::f64s)
    }

    /// The same panel, if its values are `U` (which `cast` tells) in blocks of four rows.
    #[cfg(all(detect, fused))]
    #[inline(always)]
    fn as_scalar<U: Float>(
        self,
        cast: impl Fn(&'a [T]) -> Option<&'a [U]>,
    ) -> Option<Panel<'a, U, 4>> {
        match self {
            Panel::Packed(p) => {
                let p: &dyn core::any::Any = p;
                p.downcast_ref::<PackedA<U, 4>>().map(Panel::Packed)
            }
            Panel::Rows(rows) => {
                if R != 4 {
                    return None;
                }
                let mut out = [&[][..]; 4];
                for (out, row) in out.iter_mut().zip(rows) {
                    *out = cast(row)?;
                }
                Some(Panel::Rows(out))
            }
            Panel::Strided { a, lda, count } => (R == 4).then_some(Panel::Strided {
                a: cast(a)?,
                lda,
                count,
            }),
        }
    }

    /// How many steps there are to run.
    #[inline(always)]
    pub(super) fn count(&self) -> usize {
        match self {
            Panel::Packed(p) => p.count,
            Panel::Rows(rows) => rows[0].len(),
            Panel::Strided { count, .. } => *count,
        }
    }

    /// How many of the first steps read all `width` values of B at `q·ldb` within its `len`
    /// (all of them unless a tile wider than its columns reaches B's last row or so).
    #[inline(always)]
    pub(super) fn within(&self, ldb: usize, width: usize, len: usize) -> usize {
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
    pub(super) fn fold<A>(
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
            Panel::Strided { a, lda, count } => {
                // Whole rows of `lda` values, then the last step's `R` (see `strided`): the
                // rows' iterator checks no bounds a step.
                let end = range.end.min(*count);
                let mut q = range.start.min(end);
                let mut rows = a.get(q * lda..).unwrap_or_default().chunks_exact(*lda);
                for row in rows.by_ref().take(end - q) {
                    match row.first_chunk::<R>() {
                        Some(values) => acc = f(acc, q, values),
                        None => unreachable!("`strided` made each row at least R values long"),
                    }
                    q += 1;
                }
                if q < end {
                    match rows.remainder().first_chunk::<R>() {
                        Some(values) => acc = f(acc, q, values),
                        None => unreachable!("`strided` made the last step R values long"),
                    }
                }
            }
        }
        acc
    }
}

/// Rows `i0 .. i0 + R` of Aᵀ (A's columns), steps `p0 .. p0 + kc`, read in place
/// ([`Panel::Strided`]): each step's `R` values are side by side in one of A's rows, `lda`
/// apart from the next. For an Aᵀ read whole (see [`driver`]), on AVX-512 only: there the copy
/// ([`copy_t4`]) was a sixth of a dense 784×100·100×50 product's time, and a step of 12 or 16
/// multiply-adds absorbs the strided loop's few more instructions; AVX2's 4 × 16 tile, bound
/// by how fast its instructions issue, was slower so (PERFORMANCE.md, "Aᵀ read in place on
/// AVX-512").
#[inline(always)]
pub(super) fn strided<T: Float, const R: usize>(
    a: &[T],
    lda: usize,
    i0: usize,
    p0: usize,
    kc: usize,
) -> Panel<'_, T, R> {
    let start = p0 * lda + i0;
    Panel::Strided {
        a: &a[start..start + (kc - 1) * lda + R],
        lda,
        count: kc,
    }
}

/// Rows `i0 .. i0 + R` of A (not transposed), steps `p0 .. p0 + kc`, to be read in place
/// ([`Panel::Rows`]) if no step has all its `R` values zero. Checking costs a fraction of
/// packing, and nothing when `known`: the block's first row has no zero (see
/// [`sparse_blocks`]), so no step can be all zero. (Aᵀ's steps are strided: see [`strided`],
/// for AVX-512's tiles alone.)
#[inline(always)]
pub(super) fn in_place<T: Float, const R: usize>(
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

/// `c = op(a) · b` for B read in place: a pass of steps at a time (see [`pass_length`]), `MR`
/// rows at a time, then every column tile (`NR` wide, then `NR2`, then single columns).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn driver<I: Isa, T: Float, const TA: bool, const NR: usize, const NR2: usize>(
    isa: I,
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
        // Aᵀ's blocks are read whole, zeros and all (copied four at a time, see `copy_t4`, or
        // on 512-bit units read in place, see `strided`), where leaving out its all-zero steps
        // would add the same: B has no infinity or NaN (an added `0·b` is then ±0: see "Zero
        // skipping is exact"), or A has no zero. And only where A looks dense, its first and
        // last rows without a zero; otherwise its blocks are packed, all-zero steps left out.
        // So sparse data pay for a few values, and a dense Aᵀ·B for a pass over B, which its
        // tiles read next, rather than over all of A (PERFORMANCE.md, "xᵀ·dY without a pass
        // over x").
        let dense = TA
            && WIDE_ROWS
            && no_zero(&a[..m])
            && no_zero(&a[(k - 1) * lda..][..m])
            && (T::all_finite(&b[..k * n]) || no_zero(a));
        if TA || !WIDE_ROWS {
            if dense {
                isa.row_blocks::<T, TA, NR, NR2, true, true>(a, lda, b, c, 0..full, k, n, 0, 0);
            } else {
                isa.row_blocks::<T, TA, NR, NR2, false, true>(a, lda, b, c, 0..full, k, n, 0, 0);
            }
        } else {
            // Up to 64 blocks at a time: those whose first row is sparse run first, row by row
            // (`sparse_blocks`); the others (a bit each in `blocks`) run together after, so
            // that each pass's rows of B serve all of them in turn from the L1 cache.
            for g0 in (0..full).step_by(64 * MR) {
                let group = g0..full.min(g0 + 64 * MR);
                let all = u64::MAX >> (64 - group.len() / MR);
                let (blocks, filled) =
                    isa.sparse_blocks::<T, NR2>(a, lda, b, c, group.clone(), k, n);
                if blocks == all {
                    row_blocks::<_, T, TA, NR, NR2, false, true>(
                        isa, a, lda, b, c, group, k, n, 0, filled,
                    );
                } else if blocks != 0 {
                    row_blocks::<_, T, TA, NR, NR2, false, false>(
                        isa, a, lda, b, c, group, k, n, blocks, filled,
                    );
                }
            }
        }
    }
    if full < m {
        isa.single_rows::<T, TA, NR, NR2>(a, lda, b, c, full..m, k, n);
    }
}

/// Rows `rows` (a multiple of [`MR`] of them) in blocks of `MR`: all of them (`ALL`), or
/// those whose bit is set in `blocks` (`rows` then make one group of at most 64 blocks).
/// `filled`: the blocks of such a group whose first row has no zero (see [`in_place`]).
/// `DENSE`: A is Aᵀ, read whole (see [`driver`] and [`copy_t4`]). Separate instances, so that
/// the usual one compiles as before.
///
/// Called as `isa.row_blocks(…)`: a call of its own, compiled for each unit (see `isa`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn row_blocks<
    I: Isa,
    T: Float,
    const TA: bool,
    const NR: usize,
    const NR2: usize,
    const DENSE: bool,
    const ALL: bool,
>(
    isa: I,
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
    let passes = k.div_ceil(pass_length::<I, T>(n));
    // Two blocks read in place may run as one tile of eight rows, where the unit has one for
    // `n` columns (MNIST's 50 of f32 on AVX-512, see `VectorTile::vector_pair`): the second
    // block is then skipped.
    let pairs = !TA && !DENSE && WIDE_ROWS && I::WIDE && T::BYTES == 4 && n == 50;
    // Up to 64 blocks at a time, so that each pass's rows of B serve all of them in turn from
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
        if down > 0 {
            isa.column_tail(a, lda, b, c, n, k, group.start..group.start + down, tail);
        }
        let mut p0 = 0;
        for pass in 0..passes {
            let kc = k / passes + usize::from(pass < k % passes);
            let (bp, ldb) = (&b[p0 * n..], n);
            let mut paired = false;
            for (bit, i0) in group.clone().step_by(MR).enumerate() {
                if core::mem::take(&mut paired) {
                    continue;
                }
                if DENSE {
                    let panel = if I::WIDE {
                        // AVX-512's tiles read Aᵀ's steps in place (see `strided`).
                        strided::<T, MR>(a, lda, i0, p0, kc)
                    } else {
                        // Every fourth block copies itself and the next three, if there are
                        // three more in the group; the group's last one to three blocks pack
                        // as usual.
                        let slot = bit % 4;
                        if slot == 0 && i0 + 4 * MR <= group.end {
                            let quad = quad
                                .get_or_insert_with(|| core::array::from_fn(|_| PackedA::new()));
                            copy_t4(quad, a, lda, i0, p0, kc);
                        }
                        match &quad {
                            Some(quad) if i0 + (4 - slot) * MR <= group.end => {
                                Panel::Packed(&quad[slot])
                            }
                            _ => {
                                packed.pack::<_, TA>(isa, a, lda, i0, MR, p0, kc);
                                Panel::Packed(&packed)
                            }
                        }
                    };
                    let end = if i0 < group.start + down { n - tail } else { n };
                    strip::<_, T, TA, MR, NR, NR2>(isa, panel, bp, ldb, c, n, end, i0, MR, p0 > 0);
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
                            packed.pack::<_, TA>(isa, a, lda, i0, MR, p0, kc);
                            dense_before = packed.dense;
                            Panel::Packed(&packed)
                        }
                    };
                    let next = 2 << bit;
                    if let Panel::Rows(first) = panel
                        && pairs
                        && i0 + 2 * MR <= group.end
                        && (ALL || blocks & next != 0)
                        && let Some(Panel::Rows(second)) =
                            in_place::<T, MR>(a, lda, i0 + MR, p0, kc, filled & next != 0)
                    {
                        let mut rows = [first[0]; 2 * MR];
                        rows[..MR].copy_from_slice(&first);
                        rows[MR..].copy_from_slice(&second);
                        if let Some(done) = isa.vector_pair(rows, bp, ldb, n, c, n, i0, p0 > 0) {
                            for (i, rows) in [(i0, first), (i0 + MR, second)] {
                                let panel = Panel::Rows(rows);
                                add_steps(isa, panel, done..kc, bp, ldb, n, c, n, i, MR, 0);
                            }
                            paired = true;
                            continue;
                        }
                    }
                    let end = if i0 < group.start + down { n - tail } else { n };
                    strip::<_, T, TA, MR, NR, NR2>(isa, panel, bp, ldb, c, n, end, i0, MR, p0 > 0);
                }
            }
            p0 += kc;
        }
    }
}

/// Steps of B (`n` columns of `T`) that [`row_blocks`] takes a pass: [`KC`], or on 512-bit
/// units, [`pass_length_for`] this core's L1 data cache.
#[inline(always)]
pub(super) fn pass_length<I: Isa, T: Float>(n: usize) -> usize {
    if I::WIDE {
        pass_length_for(super::isa::l1_data_bytes(), n * T::BYTES)
    } else {
        KC
    }
}

/// Steps a pass for an L1 data cache of `l1` bytes (0: not known) and B's rows of `row` bytes:
/// [`KC`], or where the cache holds 48 KB or more, as many rows as fill 40 KB of it, up to
/// [`KC_MAX`]. A dense x·W 100×784·784×50 then runs 4 passes of 196 steps instead of 7 of
/// 112, each tile storing and reloading its sums fewer times (PERFORMANCE.md, "The Intel Xeon
/// a fifth time"). Timed on AVX-512 only, so the 256-bit units keep `KC`.
pub(super) fn pass_length_for(l1: usize, row: usize) -> usize {
    if l1 >= 48 * 1024 {
        (40 * 1024 / row.max(1)).clamp(KC, KC_MAX)
    } else {
        KC
    }
}

/// Packs the four blocks of rows `i0 .. i0 + 4·R` of `aᵀ` (steps `p0 .. p0 + kc`) for an Aᵀ
/// read whole (see [`driver`]), on 256-bit units (AVX-512's tiles read them in place:
/// [`strided`]): every step, no check, and each step's `4·R` values read at once (a 64-byte
/// line for f32). Packed one block at a time, a dense 784×100·100×50 Aᵀ·B spent a quarter of
/// its time packing: each block reads a line of each of its 100 steps, 3 KB apart, which the
/// tiles between two blocks push out of the L1 cache, and lists its non-zero steps one by one.
/// All the steps, in order: where `driver` reads Aᵀ whole, a step `pack` would leave out adds
/// nothing to a sum (but the sign of an underflowed zero, see the module's notes).
#[inline(always)]
pub(super) fn copy_t4<T: Float, const R: usize>(
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
#[inline(always)]
pub(super) fn no_zero<T: Float>(a: &[T]) -> bool {
    !a.chunks(64)
        .any(|c| c.iter().fold(false, |z, x| z | (*x == T::ZERO)))
}

/// Rows of `c` that [`column_tail`] takes at a time: four vectors of f32, or two passes of
/// four vectors of f64.
pub(super) const TAIL_ROWS: usize = 32;

/// How many columns a product of width `n` has past its last whole `NR`-wide tile, if one or
/// two: those run down the rows in Aᵀ·B (see [`column_tail`]); otherwise 0.
#[inline(always)]
pub(super) fn tail_columns(n: usize, nr: usize) -> usize {
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
///
/// `tails`: a multiple of [`TAIL_ROWS`] rows; `tail`: 1 or 2 columns. Called as
/// `isa.column_tail(…)`: a call of its own, compiled for each unit (see `isa`), so that its
/// loop is compiled the same whatever `row_blocks` around it becomes, and the other way round.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn column_tail<I: Isa, T: Float>(
    isa: I,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    n: usize,
    k: usize,
    tails: core::ops::Range<usize>,
    tail: usize,
) {
    match (tail, T::BYTES) {
        (1, 4) => columns_down::<_, T, 32, 1>(isa, a, lda, b, c, n, k, tails),
        (_, 4) => columns_down::<_, T, 32, 2>(isa, a, lda, b, c, n, k, tails),
        (1, _) => columns_down::<_, T, 16, 1>(isa, a, lda, b, c, n, k, tails),
        _ => columns_down::<_, T, 16, 2>(isa, a, lda, b, c, n, k, tails),
    }
}

/// [`column_tail`] for `TAIL` columns, `W` rows at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn columns_down<I: Isa, T: Float, const W: usize, const TAIL: usize>(
    isa: I,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    n: usize,
    k: usize,
    tails: core::ops::Range<usize>,
) {
    for rows in tails.step_by(W) {
        // The sums go from step to step by value: an array added to in place, which the copy
        // below reads at a run-time index, was stored to memory every step in some builds.
        // Each step is the unit's own vectors (`add_row_vectors`): left to the compiler, f64's
        // 16 × 2 sums were not vectorised at all.
        let acc = (0..k).fold([[T::ZERO; W]; TAIL], |mut acc, q| {
            let av: &[T; W] = match a[q * lda + rows..][..W].try_into() {
                Ok(av) => av,
                Err(_) => unreachable!("a slice of W elements"),
            };
            let bq: &[T; TAIL] = match b[q * n + n - TAIL..][..TAIL].try_into() {
                Ok(bq) => bq,
                Err(_) => unreachable!("a slice of TAIL elements"),
            };
            for (acc, &bj) in acc.iter_mut().zip(bq) {
                isa.add_row_vectors(acc, bj, av);
            }
            acc
        });
        for (j, acc) in acc.iter().enumerate() {
            for (r, &s) in acc.iter().enumerate() {
                c[(rows + r) * n + n - TAIL + j] = s;
            }
        }
    }
}

/// Row `i` through [`row_strip`], [`KR`] steps at a time.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn whole_row<I: Isa, T: Float, const TA: bool, const L: usize>(
    isa: I,
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
        single.pack::<_, TA>(isa, a, lda, i, 1, p0, kc);
        let (values, steps) = single.row();
        row_strip::<_, T, L>(isa, values, steps, b, c, n, i, p0);
    }
}

/// Rows `rows` one at a time: the last few of a batch, or all of a batch of one (as on a
/// microcontroller), with no lanes spent on rows that are not there. A separate function, so
/// that a batch of one needs only this one's (smaller) buffer on its stack.
///
/// Called as `isa.single_rows(…)`: a call of its own, compiled for each unit (see `isa`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn single_rows<I: Isa, T: Float, const TA: bool, const NR: usize, const NR2: usize>(
    isa: I,
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
            whole_row::<_, T, TA, NR2>(isa, &mut single, a, lda, b, c, i, k, n);
        }
        return;
    }
    let mut single = PackedA::<T, 1>::new();
    for p0 in (0..k).step_by(KC) {
        let kc = (k - p0).min(KC);
        for i in rows.clone() {
            single.pack::<_, TA>(isa, a, lda, i, 1, p0, kc);
            let panel = Panel::Packed(&single);
            strip::<_, T, TA, 1, NR, NR2>(isa, panel, &b[p0 * n..], n, c, n, n, i, 1, p0 > 0);
        }
    }
}

/// Every column tile of one row block, of columns `0..end`: `NR` wide, then `NR2`, then the
/// last few columns (on x86, one more vector tile that reads past them; see [`micro`]). `b`:
/// the rows of B from the block's first step on, `ldb` apart; `acc`: add to `c`'s values.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn strip<
    I: Isa,
    T: Float,
    const TA: bool,
    const R: usize,
    const NR: usize,
    const NR2: usize,
>(
    isa: I,
    panel: Panel<'_, T, R>,
    b: &[T],
    ldb: usize,
    c: &mut [T],
    n: usize,
    end: usize,
    i0: usize,
    rows: usize,
    acc: bool,
) {
    let mut j0 = 0;
    while j0 < end {
        let b_rows = &b[j0..];
        let left = end - j0;
        if WIDE_ROWS && (!TA || I::WIDE) && left > NR && left <= NR + NR2 {
            // The last few columns with the tile before them, as one tile a vector wider
            // (MNIST's 50 = 16 + 16 + 18, or a single tile of 64 on 512-bit vectors): each
            // step's broadcasts of A then serve both, and the three (or four) vectors of a row
            // keep more adds in flight than a tile of one vector, whose accumulators each wait
            // on their last add (dense x·W 1.06×). On 256-bit vectors, Aᵀ·B's last one or two
            // columns run down the rows instead (see `column_tail`).
            match (I::WIDE, T::BYTES) {
                (true, 4) => {
                    debug_assert_eq!((NR, NR2), (48, 16), "the tiles of 512-bit vectors");
                    isa.wide_tile::<T, R, 64, 16>(
                        panel, b_rows, ldb, left, c, n, i0, rows, j0, acc,
                    );
                }
                (true, _) => {
                    debug_assert_eq!((NR, NR2), (24, 8), "the tiles of 512-bit vectors");
                    isa.wide_tile::<T, R, 32, 8>(panel, b_rows, ldb, left, c, n, i0, rows, j0, acc);
                }
                (false, 4) => {
                    debug_assert_eq!((NR, NR2), (16, 8), "the tiles of 256-bit vectors");
                    isa.wide_tile::<T, R, 24, 8>(panel, b_rows, ldb, left, c, n, i0, rows, j0, acc);
                }
                (false, _) => {
                    debug_assert_eq!((NR, NR2), (8, 4), "the tiles of 256-bit vectors");
                    isa.wide_tile::<T, R, 12, 4>(panel, b_rows, ldb, left, c, n, i0, rows, j0, acc);
                }
            }
            j0 = end;
        } else if left >= NR {
            micro::<_, T, R, NR, false>(isa, panel, b_rows, ldb, NR, c, n, i0, rows, j0, acc);
            j0 += NR;
        } else if WIDE_ROWS && left > NR2 {
            micro::<_, T, R, NR, false>(isa, panel, b_rows, ldb, left, c, n, i0, rows, j0, acc);
            j0 = n;
        } else if left >= NR2 || (WIDE_ROWS && left > 0) {
            let cols = left.min(NR2);
            micro::<_, T, R, NR2, false>(isa, panel, b_rows, ldb, cols, c, n, i0, rows, j0, acc);
            j0 += cols;
        } else {
            match left {
                1 => micro_cols::<_, T, R, 1>(isa, panel, b_rows, ldb, c, n, i0, rows, j0, acc),
                2 => micro_cols::<_, T, R, 2>(isa, panel, b_rows, ldb, c, n, i0, rows, j0, acc),
                3 => micro_cols::<_, T, R, 3>(isa, panel, b_rows, ldb, c, n, i0, rows, j0, acc),
                _ => micro_cols::<_, T, R, 1>(isa, panel, b_rows, ldb, c, n, i0, rows, j0, acc),
            }
            j0 += if left <= 3 { left } else { 1 };
        }
    }
}

/// The last `W` (< `NR2`) columns of a row block: one short `MR`-vector of accumulators per
/// column. Same order of accumulation as [`micro`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn micro_cols<I: Isa, T: Float, const R: usize, const W: usize>(
    isa: I,
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
                    *s = isa.add_product(*s, ar, b);
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
/// them.
///
/// Called as `isa.wide_tile(…)`: a call of its own, compiled for each unit (see `isa`). On
/// AVX2 + FMA, a tile of 17 to 20 f32 columns is the unit's split tile instead (see `avx2`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn wide_tile<I: Isa, T: Float, const R: usize, const W: usize, const L: usize>(
    isa: I,
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
    if (W == 24 && L == 8) || (W == 12 && L == 4) {
        // MNIST's last 18 columns (or chapter 6's 20) as a 4 × 16 tile and a vector per two
        // rows, where the unit has that tile (AVX2 + FMA, f32, 17 to 20 columns; f64, 9 or 10;
        // see `avx2`): ten multiply-adds a step instead of twelve, and no register broadcasts.
        if let Some(done) =
            isa.vector_tile::<T, R, W>(panel, b_rows, ldb, cols, c, ldc, i0, rows, j0, accumulate)
        {
            add_steps(
                isa,
                panel,
                done..panel.count(),
                b_rows,
                ldb,
                cols,
                c,
                ldc,
                i0,
                rows,
                j0,
            );
            return;
        }
    }
    macro_rules! widths {
        ($($v:literal)*) => {
            match cols + L - W {
                $($v if $v <= L => micro::<_, T, R, W, true>(
                    isa,
                    panel, b_rows, ldb, W - L + $v, c, ldc, i0, rows, j0, accumulate,
                ),)*
                _ => unreachable!("W - L < cols <= W"),
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
}

/// One tile: `c[i0 + r][j0 + j] (+)= Σ_q packed[q][r] · b_rows[q·ldb + j]` over the packed
/// (non-zero) steps, for `r < rows`, `j < cols ≤ NR`. With `cols < NR` the tile's extra lanes
/// read on into B's next row (or zeros, past its end) and are never stored: one vector op per
/// row of the tile instead of a scalar op per element. `IN_C`: the steps whose row of B
/// would run past its end are added to `c` after the tile is stored (for [`wide_tile`]'s
/// tiles, which need every vector register for their sums). On AVX-512, a tile of four rows
/// is the unit's own, written with its intrinsics (see `avx512`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn micro<I: Isa, T: Float, const R: usize, const NR: usize, const IN_C: bool>(
    isa: I,
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
    if I::WIDE {
        // The unit's own tile, where it has one (AVX-512's tiles of four rows, written with
        // its intrinsics; see `avx512`), then the last steps one by one.
        if let Some(done) =
            isa.vector_tile::<T, R, NR>(panel, b_rows, ldb, cols, c, ldc, i0, rows, j0, accumulate)
        {
            add_steps(
                isa,
                panel,
                done..panel.count(),
                b_rows,
                ldb,
                cols,
                c,
                ldc,
                i0,
                rows,
                j0,
            );
            return;
        }
    }
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
            fma_tile(isa, &mut acc, av, brow);
            acc
        },
    );
    if IN_C {
        // The last step or so, whose `NR` values would run past B's end: added to the sums
        // once stored, one by one, in the same order. Added in the tile's registers (from a
        // row of B padded with zeros), they kept a zero vector live through the loop above,
        // and a 4×24 tile's last accumulator went to the stack.
        store_tile(&acc, c, ldc, i0, rows, j0, cols);
        add_steps(
            isa,
            panel,
            whole..count,
            b_rows,
            ldb,
            cols,
            c,
            ldc,
            i0,
            rows,
            j0,
        );
        return;
    }
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
            fma_tile(isa, &mut acc, av, &brow);
            acc
        },
    );
    store_tile(&acc, c, ldc, i0, rows, j0, cols);
}

/// Adds the steps `range` of `panel` to the tile's sums already stored in `c`, one value at a
/// time, in order: the last step or so of a tile wider than its columns, whose row of B would
/// run past B's end.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn add_steps<I: Isa, T: Float, const R: usize>(
    isa: I,
    panel: Panel<'_, T, R>,
    range: core::ops::Range<usize>,
    b_rows: &[T],
    ldb: usize,
    cols: usize,
    c: &mut [T],
    ldc: usize,
    i0: usize,
    rows: usize,
    j0: usize,
) {
    panel.fold(
        range,
        (),
        #[inline(always)]
        |(), q, av| {
            let b_row = &b_rows[q * ldb..][..cols];
            for (r, &a) in av.iter().enumerate().take(rows) {
                let at = (i0 + r) * ldc + j0;
                for (s, &b) in c[at..at + cols].iter_mut().zip(b_row) {
                    *s = isa.add_product(*s, a, b);
                }
            }
        },
    );
}

/// The first `rows` rows and `cols` columns of a tile's sums into `c` at (`i0`, `j0`).
#[inline(always)]
fn store_tile<T: Float, const R: usize, const NR: usize>(
    acc: &[[T; NR]; R],
    c: &mut [T],
    ldc: usize,
    i0: usize,
    rows: usize,
    j0: usize,
    cols: usize,
) {
    for (r, acc) in acc.iter().enumerate() {
        if r < rows {
            let at = (i0 + r) * ldc + j0;
            let out: [T; NR] = *acc;
            c[at..at + cols].copy_from_slice(&out[..cols]);
        }
    }
}

/// `acc[r][j] += a[r] · b[j]`, with the unit's [`Isa::add_product`].
#[inline(always)]
pub(super) fn fma_tile<I: Isa, T: Float, const R: usize, const NR: usize>(
    isa: I,
    acc: &mut [[T; NR]; R],
    a: &[T; R],
    b: &[T; NR],
) {
    for (acc, &ar) in acc.iter_mut().zip(a) {
        isa.add_row(acc, ar, b);
    }
}

/// Blocks of [`MR`] rows (from the first) for which [`nt_driver`] checks A once for all its
/// strips: 1 024 rows.
const KNOWN_BLOCKS: usize = 256;

/// Columns of `c` that [`nt_driver`] takes at a time (rows of B it transposes at once): four
/// 16-wide tiles on x86 (32 KB of f32 with [`KC`] steps: the L1 cache), one on a Cortex-M4
/// (16 KB of its RAM, with its `KC`).
pub(super) const NT_STRIP: usize = if WIDE_ROWS { 64 } else { 16 };

/// `c = a · bᵀ`: `KC` steps and `NT_STRIP` rows of `b` at a time are copied transposed into an
/// aligned buffer, through which every block of rows of A runs, read in place if it has no
/// all-zero step, as in [`gemm_nn`].
///
/// Called as `isa.nt_driver(…)`: a call of its own, compiled for each unit (see `isa`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn nt_driver<I: Isa, T: Float, const NR: usize>(
    isa: I,
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
        // A block whose first row has no zero has no all-zero step: on 512-bit vectors that
        // row's one pass (`no_zero`, vectorised) replaces `in_place`'s count, which compares
        // the rows step by step in scalars. Its answer holds for every strip, so it is found
        // once for each of the first `KNOWN_BLOCKS` blocks (any after: for each strip). The
        // 256-bit units keep the count and their loops, tuned on a Zen 3 (this could not be
        // timed on them).
        let first_row_full = |i0: usize| I::WIDE && no_zero(&a[i0 * k + p0..][..kc]);
        let mut known_blocks = [0u64; KNOWN_BLOCKS / 64];
        for (block, i0) in (0..m).step_by(MR).take(KNOWN_BLOCKS).enumerate() {
            known_blocks[block / 64] |= u64::from(first_row_full(i0)) << (block % 64);
        }
        for j0 in (0..n).step_by(NT_STRIP) {
            let cols = (n - j0).min(NT_STRIP);
            let strip = &b[j0 * k..(j0 + cols) * k];
            transpose(isa, strip, k, p0..p0 + kc, NT_STRIP, &mut bt.0);
            let bt = &bt.0[..kc * NT_STRIP];
            for (block, i0) in (0..m).step_by(MR).enumerate() {
                let rows = (m - i0).min(MR);
                let known = match known_blocks.get(block / 64) {
                    Some(bits) => bits >> (block % 64) & 1 == 1,
                    None => first_row_full(i0),
                };
                let direct = (WIDE_ROWS && rows == MR && dense_before)
                    .then(|| in_place::<T, MR>(a, k, i0, p0, kc, known));
                let panel = match direct.flatten() {
                    Some(panel) => panel,
                    None => {
                        packed.pack::<_, false>(isa, a, k, i0, rows, p0, kc);
                        dense_before = packed.dense;
                        Panel::Packed(&packed)
                    }
                };
                for j in (0..cols).step_by(NR) {
                    let (b_rows, acc, w) = (&bt[j..], p0 > 0, cols - j);
                    // The tile `$nr` wide on this block, storing `$w` columns.
                    macro_rules! tile {
                        ($nr:tt, $w:expr) => {
                            micro::<_, T, MR, $nr, false>(
                                isa,
                                panel,
                                b_rows,
                                NT_STRIP,
                                $w,
                                c,
                                n,
                                i0,
                                rows,
                                j0 + j,
                                acc,
                            )
                        };
                    }
                    // A whole tile with its width a constant, so that its rows are stored as
                    // vectors, not by calls to `memcpy` (a tenth of the time otherwise).
                    if w >= NR {
                        tile!(NR, NR);
                    } else if I::WIDE && 4 * w <= NR {
                        // One 512-bit vector's columns or fewer (dY·Wᵀ's last 16 of 784): a tile
                        // one vector wide, not the strip's four, three of which would only read
                        // the buffer's stale lanes (the strip's step took as long as a whole
                        // strip's).
                        if T::BYTES == 4 {
                            tile!(16, w);
                        } else {
                            tile!(8, w);
                        }
                    } else {
                        tile!(NR, w);
                    }
                }
            }
        }
    }
}
