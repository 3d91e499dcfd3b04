//! Lined weights: `x·W` with each row of `W` on whole cache lines, for sparse rows.

use super::*;

/// Values in a [`Line`]: 64 bytes of f32 (128 of f64: two cache lines).
pub(crate) const LINE: usize = 16;

/// [`LINE`] values on a 64-byte boundary: whole cache lines. A weight matrix's rows laid out
/// as lines for [`sparse_lined`] (see [`LinedRows`](crate::matrix::sparse::LinedRows)).
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Line<T>(pub [T; LINE]);

/// Row `row` of `b` laid out for [`sparse_lined`]: its whole [`Line`]s onto `main`, the values
/// past the last one onto `tail`.
pub(crate) fn push_lined<T: Copy>(
    row: &[T],
    main: &mut alloc::vec::Vec<Line<T>>,
    tail: &mut alloc::vec::Vec<T>,
) {
    let (lines, rest) = row.as_chunks::<LINE>();
    main.extend(lines.iter().map(|&line| Line(line)));
    tail.extend_from_slice(rest);
}

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
    dispatch!(isa => isa.sparse_lined::<T, K, O>(x, main, tail, c))
}

/// The body of [`sparse_lined`], compiled for the unit that runs it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn sparse_lined_body<I: Isa, T: Float, const K: usize, const O: usize>(
    isa: I,
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
        *out = lined_row(isa, [T::ZERO; O], row.values(), row.indices(), main, tail);
    }
}

/// One row of [`sparse_lined`]: `acc + Σ values[k] · b[steps[k]]`, one `add_product` a value
/// in turn, `b`'s rows as `main` and `tail`.
#[inline(always)]
fn lined_row<I: Isa, T: Float, const O: usize>(
    isa: I,
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
            let sums: &mut [T; LINE] = match (&mut acc[l * LINE..][..LINE]).try_into() {
                Ok(sums) => sums,
                Err(_) => unreachable!("a slice of LINE elements"),
            };
            isa.add_row(sums, v, &line.0);
        }
        for (s, &w) in acc[lines * LINE..]
            .iter_mut()
            .zip(&tail[p * rest..][..rest])
        {
            *s = isa.add_product(*s, v, w);
        }
    }
    acc
}
