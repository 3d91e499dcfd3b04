//! Lined weights: `x·W` with each row of `W` on whole cache lines, for sparse rows and for
//! dense rows whose non-zero values are listed first.

use super::*;

/// Values in a [`Line`]: 64 bytes of f32 (128 of f64: two cache lines).
pub(crate) const LINE: usize = 16;

/// [`LINE`] values on a 64-byte boundary: whole cache lines. A weight matrix's rows laid out
/// as lines for [`sparse_lined`] (see [`LinedRows`](crate::matrix::sparse::LinedRows)).
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Line<T>(pub [T; LINE]);

/// [`sparse_nn`] with `b` laid out so that its rows cost fewer cache lines: `c[i] = x[i] · b`
/// for `m` sparse rows `x` of width `K`, where row `p` of `b (K×O)` is `main[p·M/LINE ..]`
/// (its first `M = O − O % LINE` values, on whole lines) then `tail[p·(O − M) ..]` (the rest).
///
/// A sparse row's product loads a whole row of `b` for each of its values, from L2 where `b`
/// is bigger than L1 (MNIST's 784×50 f32: 157 KB), and is bound by how many lines that is: a
/// row of 50 f32 lying 200 bytes apart spans four lines, its first 48 on whole lines three
/// (and its last two come from 6 KB that stay in L1). Each
/// row's `O` sums stay in registers, one `add_product` per value in column order, from +0:
/// the same numbers as [`sparse_nn`], bit for bit. For rows of at most 256 bytes (64 f32, 32
/// f64), which fit the registers; `LinedRows` uses [`sparse_nn`] for wider ones.
pub(crate) fn sparse_lined<T: Float, const K: usize, const O: usize>(
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
pub(crate) fn dense_lined<T: Float, const K: usize, const O: usize>(
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
pub(super) fn lined_ahead<T: Float, const K: usize, const O: usize>(
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
pub(super) fn lined_parts<T: Float, const K: usize, const O: usize>(
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

/// One row of [`sparse_lined`]: `acc + Σ values[k] · b[steps[k]]`, one `add_product` a value
/// in turn, `b`'s rows as `main` and `tail`.
#[inline(always)]
pub(super) fn lined_row<T: Float, const O: usize>(
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
