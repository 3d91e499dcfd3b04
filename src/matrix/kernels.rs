//! The matrix-product kernels, over row-major slices with run-time sizes.
//!
//! Each is written once and shared by every shape (see `matrix`'s wrappers, which check the
//! shapes at compile time and pass the sizes down). Inner loops run over a contiguous output
//! row so that they vectorise.

use crate::float::Float;

/// `c (m×n) = a (m×k) · b (k×n)`.
pub fn gemm_nn<T: Float>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    debug_assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n);
    for (arow, crow) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
        crow.fill(T::ZERO);
        for (&av, brow) in arow.iter().zip(b.chunks_exact(n)) {
            for (cv, &bv) in crow.iter_mut().zip(brow) {
                *cv += av * bv;
            }
        }
    }
}

/// `c (m×n) = aᵀ · b` with `a (k×m)`, `b (k×n)`.
pub fn gemm_tn<T: Float>(a: &[T], b: &[T], c: &mut [T], k: usize, m: usize, n: usize) {
    debug_assert!(a.len() == k * m && b.len() == k * n && c.len() == m * n);
    c.fill(T::ZERO);
    for (arow, brow) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
        for (&av, crow) in arow.iter().zip(c.chunks_exact_mut(n)) {
            for (cv, &bv) in crow.iter_mut().zip(brow) {
                *cv += av * bv;
            }
        }
    }
}

/// `c (m×n) = a · bᵀ` with `a (m×k)`, `b (n×k)`: each output is a dot product of two rows.
pub fn gemm_nt<T: Float>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    debug_assert!(a.len() == m * k && b.len() == n * k && c.len() == m * n);
    for (arow, crow) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
        for (cv, brow) in crow.iter_mut().zip(b.chunks_exact(k)) {
            *cv = dot(arow, brow);
        }
    }
}

/// Dot product with eight independent accumulators, so it vectorises (a single running sum
/// would chain every addition). The order of additions is fixed, so results are reproducible.
#[inline]
pub fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::ZERO; 8];
    let xc = x.chunks_exact(8);
    let yc = y.chunks_exact(8);
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] += xs[l] * ys[l];
        }
    }
    let mut tail = T::ZERO;
    for (a, b) in xr.iter().zip(yr) {
        tail += *a * *b;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}
