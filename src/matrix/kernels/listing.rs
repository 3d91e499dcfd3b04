//! Listing: finding a row's non-zero values with bit masks (on AVX2, eight at a time by a
//! permutation instead: `pack`), and listing sparse rows ahead of their products.

use super::*;

/// `c`'s rows of the sparse blocks of `group`, listed and multiplied row by row, up to
/// [`RUN`] rows at a time (see [`Listed`]); returns which blocks are not sparse, a bit each,
/// for `row_blocks` to run, and which of those have no zero in their first row.
///
/// A block is sparse if at most 45% of the values of its first row are non-zero (rows of a
/// batch are alike: the first row stands for the block). Such rows run faster one by one,
/// each over its own non-zero steps ([`row_strip`]), than in a block over the steps where any
/// of its rows is non-zero: MNIST images (about 20% non-zero pixels) share few of theirs, so a
/// block of four would do twice the work. Near half, blocks win: a ReLU's outputs, about half
/// non-zero row by row around their mean, ran 1.03–1.04× as fast with 45% than with 50%.
///
/// A function of its own, called before `row_blocks`, so that that one compiles as before:
/// run from inside it, inlined or not, the compiler kept a row pointer of the dense tiles'
/// loop on the stack.
///
/// Called as `isa.sparse_blocks(…)`: a call of its own, compiled for each unit (see `isa`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn sparse_blocks<I: Isa, T: Float, const L: usize>(
    isa: I,
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
        // A first row without a zero is dense and filled, whatever its length: found by a
        // pass that stops at the first zero, without marking each value.
        if no_zero(&a[i0 * lda..][..k]) {
            dense |= 1 << bit;
            filled |= 1 << bit;
            continue;
        }
        let mut masks = [0u64; KR / 64];
        // Rows longer than `KR` are not marked, and run in blocks.
        let count = (k <= KR).then(|| nonzero_masks(&a[i0 * lda..][..k], &mut masks));
        match count {
            Some(count) if 20 * count <= 9 * k => {}
            // Not sparse (a row without a zero was taken above, so none is filled here).
            _ => {
                dense |= 1 << bit;
                continue;
            }
        }
        let listed = listed.get_or_insert_with(Listed::new);
        listed.push::<_, L>(isa, &a[i0 * lda..][..k], i0, Some(&masks), b, c, n);
        for i in i0 + 1..i0 + MR {
            listed.push::<_, L>(isa, &a[i * lda..][..k], i, None, b, c, n);
        }
    }
    if let Some(listed) = &mut listed {
        listed.run::<_, L>(isa, b, c, n);
    }
    (dense, filled)
}

/// How many rows (two blocks) and values (two rows of [`KR`]) are listed ahead of their
/// products at most (see [`Listed`]): on x86 and aarch64; none elsewhere (the Cortex-M4 runs
/// blocks), so that they take no stack there.
pub(super) const RUN: usize = if WIDE_ROWS { 2 * MR } else { 0 };

pub(super) const POOL: usize = if WIDE_ROWS { 2 * KR } else { 0 };

/// The sparse rows of a product, listed up to [`RUN`] at a time before their products run
/// ([`row_strip`]). Listing reads a row whole (an MNIST image: 3 KB); listed one at a time,
/// each row's reads from memory wait for the product before to finish, where eight rows
/// listed in turn keep their reads going together.
pub(super) struct Listed<T> {
    pub(super) values: [T; POOL],
    pub(super) steps: [u16; POOL],
    /// Each listed row's row of the product and where its entries end.
    pub(super) rows: [(usize, usize); RUN],
    pub(super) len: usize,
}

impl<T: Float> Listed<T> {
    #[inline(always)]
    pub(super) fn new() -> Self {
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
    pub(super) fn push<I: Isa, const L: usize>(
        &mut self,
        isa: I,
        row: &[T],
        i: usize,
        masks: Option<&[u64; KR / 64]>,
        b: &[T],
        c: &mut [T],
        n: usize,
    ) {
        let mut used = self.len.checked_sub(1).map_or(0, |last| self.rows[last].1);
        if self.len == RUN || POOL - used < row.len() {
            self.run::<_, L>(isa, b, c, n);
            used = 0;
        }
        let (values, steps) = (&mut self.values[used..], &mut self.steps[used..]);
        let count = isa.list_nonzero(row, 0, values, steps).unwrap_or_else(|| {
            let mut marked = [0u64; KR / 64];
            let masks = masks.unwrap_or_else(|| {
                nonzero_masks(row, &mut marked);
                &marked
            });
            list_nonzero(row, masks, values, steps)
        });
        self.rows[self.len] = (i, used + count);
        self.len += 1;
    }

    /// `c`'s rows of the rows listed (`b` is `k × n`), which are then no longer listed.
    #[inline(always)]
    pub(super) fn run<I: Isa, const L: usize>(&mut self, isa: I, b: &[T], c: &mut [T], n: usize) {
        let mut start = 0;
        for &(i, end) in &self.rows[..self.len] {
            let (values, steps) = (&self.values[start..end], &self.steps[start..end]);
            row_strip::<_, T, L>(isa, values, steps, b, c, n, i, 0);
            start = end;
        }
        self.len = 0;
    }
}

/// Lists the non-zero values of `row` and their steps into `values` and `steps`, given which
/// they are (see [`nonzero_masks`]), and returns how many: each set bit in turn, a few
/// instructions a value, with one branch to mispredict for every 64 values. Testing every
/// value instead costs a store and an add each and, eight at a time with a branch for those
/// with none (an image's border), a branch that mispredicts about as often as not.
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

/// Appends the non-zero values of `row` (at most [`KR`] of them) to `values` and their steps
/// (from `start`, which with the row must fit a `u16`) to `steps`.
///
/// On x86-64, listed eight at a time where the CPU's unit has its own listing (see `pack`),
/// on the stack, where the whole row fits (that listing may store past its count), then
/// appended: the vectors grow only by what they keep. Elsewhere (a microcontroller's stack is
/// small) marked in bit masks and listed into the vectors directly.
#[cfg(feature = "alloc")]
pub(crate) fn append_nonzero<T: Float>(
    row: &[T],
    start: usize,
    values: &mut alloc::vec::Vec<T>,
    steps: &mut alloc::vec::Vec<u16>,
) {
    #[cfg(detect)]
    {
        use isa::ListNonzero;
        let (mut listed, mut at) = ([T::ZERO; KR], [0u16; KR]);
        let listing = dispatch!(unit => unit.list_nonzero(row, start, &mut listed, &mut at));
        if let Some(count) = listing {
            values.extend_from_slice(&listed[..count]);
            steps.extend_from_slice(&at[..count]);
            return;
        }
    }
    let mut masks = [0u64; KR / 64];
    let count = nonzero_masks(row, &mut masks);
    let end = values.len();
    values.resize(end + count, T::ZERO);
    steps.resize(end + count, 0);
    let (values, steps) = (&mut values[end..], &mut steps[end..]);
    list_nonzero(row, &masks, values, steps);
    if start > 0 {
        steps.iter_mut().for_each(|q| *q += start as u16);
    }
}

/// Lists the non-zero values of `part` (at most [`KR`] of them), the part of a row from step
/// `start` on, and their steps, and returns how many.
#[inline(always)]
pub(super) fn list_part<T: Float>(
    part: &[T],
    start: usize,
    values: &mut [T],
    steps: &mut [u16],
) -> usize {
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
