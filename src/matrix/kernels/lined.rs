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
    let mut done = 0;
    // Four rows side by side (see `lined_group`) where their sums fit the registers: the
    // 512-bit units' 32, each row at most four vectors and four values past its lines.
    if I::WIDE && O * T::BYTES <= 256 && O % LINE <= LINE / 4 {
        for (g, (rows, out)) in x.chunks_exact(4).zip(c.chunks_exact_mut(4)).enumerate() {
            sparse_rows::prefetch_rows(isa, x.iter().skip((g + 1) * 4).take(4));
            let Ok(rows) = <&[SparseRow<'_, T, K>; 4]>::try_from(rows) else {
                unreachable!("chunks of four");
            };
            out.copy_from_slice(&lined_group(isa, rows, main, tail));
            done += 4;
        }
    }
    for (row, out) in x.iter().zip(c).skip(done) {
        *out = lined_row(isa, [T::ZERO; O], row.values(), row.indices(), main, tail);
    }
}

/// `G` rows of [`sparse_lined`] side by side: each step of all of them in turn, as far as the
/// shortest goes, then each one's rest alone. One row's sums wait on each add before (about
/// four cycles a value); `G` rows keep `G` times as many adds in flight. Each row is still
/// summed in the order of its own values: the numbers of [`lined_row`].
#[inline(always)]
fn lined_group<I: Isa, T: Float, const K: usize, const O: usize, const G: usize>(
    isa: I,
    rows: &[SparseRow<'_, T, K>; G],
    main: &[Line<T>],
    tail: &[T],
) -> [[T; O]; G] {
    // `K` rows of `b`, and each step's row number at most `K − 1` (as a sparse row's are): the
    // compiler then knows every row read to lie within them, and checks none.
    let (main, tail) = (&main[..K * (O / LINE)], &tail[..K * (O % LINE)]);
    let last_row = sparse_rows::last_row::<K>();
    let (common, values, steps) = sparse_rows::common_steps(rows);
    let mut acc = [[T::ZERO; O]; G];
    for k in 0..common {
        for r in 0..G {
            let p = usize::from(steps[r][k].min(last_row));
            lined_step(isa, &mut acc[r], values[r][k], p, main, tail);
        }
    }
    // Each row's rest alone, its sums taken by value (as `rows_narrow` takes them): through
    // `&mut acc`, a build tuned for 256-bit vectors (`target-cpu=native` on Intel's servers)
    // stored every row's sums to the stack at every step of the loop above.
    let mut out = [[T::ZERO; O]; G];
    for ((row, mut acc), out) in rows.iter().zip(acc).zip(&mut out) {
        let (values, steps) = (&row.values()[common..], &row.indices()[common..]);
        for (&v, &p) in values.iter().zip(steps) {
            lined_step(isa, &mut acc, v, usize::from(p.min(last_row)), main, tail);
        }
        *out = acc;
    }
    out
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
    for (&p, &v) in steps.iter().zip(values) {
        lined_step(isa, &mut acc, v, usize::from(p), main, tail);
    }
    acc
}

/// `acc += v · b[p]`, `b`'s row `p` as `main` and `tail` hold it: one step of [`lined_row`].
#[inline(always)]
fn lined_step<I: Isa, T: Float, const O: usize>(
    isa: I,
    acc: &mut [T; O],
    v: T,
    p: usize,
    main: &[Line<T>],
    tail: &[T],
) {
    let (lines, rest) = (O / LINE, O % LINE);
    // Whole-array reads and writes of `acc`, and loops of constant length: it stays in
    // registers.
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
