//! What a network reads: rows of `I` input values, each kept dense (`[T; I]`) or sparse
//! ([`SparseRow`]: its non-zero values and their columns), and batches of them ([`Batch`]):
//! an array of rows of either kind, or a [`SparseBatch`](crate::matrix::sparse::SparseBatch)
//! that also lists its values by column.
//!
//! Every pass of a [`Network`](crate::Network) takes any of them and gives the same numbers:
//! the first layer picks the fastest product for the kind it is given (an
//! [`Affine`](crate::Affine) skips a sparse row's zeros, and computes its weight gradient from a
//! `SparseBatch`'s columns), and a layer with no such product reads the rows written out in
//! full.
//!
//! # Examples
//!
//! ```
//! use constnn::{TwoLayerNet, matrix::sparse::SparseRow};
//! use rand_core::SeedableRng;
//! let net = TwoLayerNet::<6, 4, 2>::new(0.5, &mut rand_pcg::Pcg64::seed_from_u64(3));
//! let dense = [[0.0, 1.0, 0.0, 0.0, -2.0, 0.0], [0.0; 6]];
//! let sparse = [SparseRow::new(&[1, 4], &[1.0, -2.0]).unwrap(), SparseRow::EMPTY];
//! let (mut a, mut b) = ([[0.0; 2]; 2], [[0.0; 2]; 2]);
//! net.predict(&dense, &mut a);
//! net.predict(&sparse, &mut b);
//! assert_eq!(a, b);
//! assert_eq!(net.accuracy(&dense, &[1u8, 0]), net.accuracy(&sparse, &[1u8, 0]));
//! ```

use crate::float::{Float, first_non_finite};
use crate::matrix::sparse::{self, SparseRow};
use crate::matrix::{Matrix, Zeros, matmul, matmul_at};

/// The dense row type a layer takes, `[T; I]`: what its batches are made of.
pub trait InputRow: Copy + Zeros + private::Sealed {
    /// The scalar type of its values.
    type Scalar: Float;
    /// A weight matrix with a row per value of this row: `[[T; O]; I]`.
    type Weights<const O: usize>;
}

impl<T: Float, const I: usize> InputRow for [T; I] {
    type Scalar = T;
    type Weights<const O: usize> = Matrix<T, I, O>;
}

impl<T: Float, const I: usize> private::Sealed for [T; I] {}

/// One input row of width `I`: `[T; I]` or a [`SparseRow`].
pub trait Row<T: Float, const I: usize>: Copy + private::RowProducts<T, I> {
    /// The column of its first NaN or infinite value, if it has one.
    fn non_finite(&self) -> Option<usize>;

    /// The row written out in full.
    fn write_dense(&self, out: &mut [T; I]);
}

/// A batch of `N` rows of the dense row type `R` (`[T; I]`), kept in any of the kinds a
/// network reads (see the [module](self)).
pub trait Batch<R: InputRow, const N: usize>: private::BatchProducts<R, N> {
    /// The column of the first NaN or infinite value of row `r`, if it has one.
    fn non_finite(&self, r: usize) -> Option<usize>;

    /// The rows written out in full.
    fn write_dense(&self, out: &mut [R; N]);
}

impl<T: Float, const I: usize> Row<T, I> for [T; I] {
    fn non_finite(&self) -> Option<usize> {
        first_non_finite(self)
    }

    fn write_dense(&self, out: &mut [T; I]) {
        *out = *self;
    }
}

impl<T: Float, const I: usize> Row<T, I> for SparseRow<'_, T, I> {
    fn non_finite(&self) -> Option<usize> {
        self.first_non_finite()
    }

    fn write_dense(&self, out: &mut [T; I]) {
        self.to_dense(out);
    }
}

impl<T: Float, X: Row<T, I>, const N: usize, const I: usize> Batch<[T; I], N> for [X; N] {
    fn non_finite(&self, r: usize) -> Option<usize> {
        self.get(r).and_then(Row::non_finite)
    }

    fn write_dense(&self, out: &mut [[T; I]; N]) {
        for (row, o) in self.iter().zip(out) {
            row.write_dense(o);
        }
    }
}

impl<T: Float, X: Row<T, I>, const N: usize, const I: usize> private::BatchProducts<[T; I], N>
    for [X; N]
{
    fn matmul<const O: usize>(&self, w: &Matrix<T, I, O>, out: &mut Matrix<T, N, O>) {
        X::rows_matmul(self, w, out);
    }

    fn matmul_at<const O: usize>(&self, dy: &Matrix<T, N, O>, out: &mut Matrix<T, I, O>) {
        X::rows_matmul_at(self, dy, out);
    }

    fn as_dense(&self) -> Option<&[[T; I]; N]> {
        X::rows_dense(self)
    }
}

/// A boxed batch (a big one, made on the heap with
/// [`boxed_zeros`](crate::matrix::boxed_zeros)) is read where it is.
#[cfg(feature = "alloc")]
impl<R: InputRow, X: Batch<R, N>, const N: usize> Batch<R, N> for alloc::boxed::Box<X> {
    fn non_finite(&self, r: usize) -> Option<usize> {
        (**self).non_finite(r)
    }

    fn write_dense(&self, out: &mut [R; N]) {
        (**self).write_dense(out);
    }
}

#[cfg(feature = "alloc")]
impl<R: InputRow, X: Batch<R, N>, const N: usize> private::BatchProducts<R, N>
    for alloc::boxed::Box<X>
{
    fn matmul<const O: usize>(&self, w: &R::Weights<O>, out: &mut [[R::Scalar; O]; N]) {
        (**self).matmul(w, out);
    }

    fn matmul_at<const O: usize>(&self, dy: &[[R::Scalar; O]; N], out: &mut R::Weights<O>) {
        (**self).matmul_at(dy, out);
    }

    fn as_dense(&self) -> Option<&[R; N]> {
        (**self).as_dense()
    }
}

impl<T: Float, const I: usize> private::RowProducts<T, I> for [T; I] {
    fn rows_matmul<const N: usize, const O: usize>(
        rows: &[Self; N],
        w: &Matrix<T, I, O>,
        out: &mut Matrix<T, N, O>,
    ) {
        matmul(rows, w, out);
    }

    fn rows_matmul_at<const N: usize, const O: usize>(
        rows: &[Self; N],
        dy: &Matrix<T, N, O>,
        out: &mut Matrix<T, I, O>,
    ) {
        matmul_at(rows, dy, out);
    }

    fn rows_dense<const N: usize>(rows: &[Self; N]) -> Option<&[[T; I]; N]> {
        Some(rows)
    }

    #[cfg(feature = "alloc")]
    fn rows_lined<const O: usize>(
        rows: &[Self],
        w: &crate::matrix::sparse::LinedRows<T, I, O>,
        out: &mut [[T; O]],
    ) {
        w.matmul_dense(rows, out);
    }
}

impl<T: Float, const I: usize> private::RowProducts<T, I> for SparseRow<'_, T, I> {
    fn rows_matmul<const N: usize, const O: usize>(
        rows: &[Self; N],
        w: &Matrix<T, I, O>,
        out: &mut Matrix<T, N, O>,
    ) {
        sparse::matmul(rows, w, out);
    }

    fn rows_matmul_at<const N: usize, const O: usize>(
        rows: &[Self; N],
        dy: &Matrix<T, N, O>,
        out: &mut Matrix<T, I, O>,
    ) {
        sparse::matmul_at(rows, dy, out);
    }

    fn rows_dense<const N: usize>(_: &[Self; N]) -> Option<&[[T; I]; N]> {
        None
    }

    #[cfg(feature = "alloc")]
    fn rows_lined<const O: usize>(
        rows: &[Self],
        w: &crate::matrix::sparse::LinedRows<T, I, O>,
        out: &mut [[T; O]],
    ) {
        w.matmul(rows, out);
    }
}

/// The products behind [`Row`] and [`Batch`]: how each kind of input is multiplied is the
/// crate's business (the traits are sealed by them).
pub(crate) mod private {
    use super::InputRow;
    use crate::float::Float;
    use crate::matrix::Matrix;

    /// Only `[T; I]` is an [`InputRow`].
    pub trait Sealed {}

    /// The products of a batch of rows of this kind.
    pub trait RowProducts<T: Float, const I: usize>: Sized {
        /// `out = rows · w`.
        fn rows_matmul<const N: usize, const O: usize>(
            rows: &[Self; N],
            w: &Matrix<T, I, O>,
            out: &mut Matrix<T, N, O>,
        );
        /// `out = rowsᵀ · dy`.
        fn rows_matmul_at<const N: usize, const O: usize>(
            rows: &[Self; N],
            dy: &Matrix<T, N, O>,
            out: &mut Matrix<T, I, O>,
        );
        /// The rows as a dense matrix, if that is how they are kept.
        fn rows_dense<const N: usize>(rows: &[Self; N]) -> Option<&[[T; I]; N]>;
        /// `out = rows · w` with `w` laid out on cache lines.
        #[cfg(feature = "alloc")]
        fn rows_lined<const O: usize>(
            rows: &[Self],
            w: &crate::matrix::sparse::LinedRows<T, I, O>,
            out: &mut [[T; O]],
        );
    }

    /// The products of a batch: `x·W` (a first Affine's forward pass) and `xᵀ·dY` (its
    /// weight gradient), bit for bit those of the dense rows when `W` and `dY` are finite.
    pub trait BatchProducts<R: InputRow, const N: usize> {
        /// `out = x · w`.
        fn matmul<const O: usize>(&self, w: &R::Weights<O>, out: &mut [[R::Scalar; O]; N]);
        /// `out = xᵀ · dy`.
        fn matmul_at<const O: usize>(&self, dy: &[[R::Scalar; O]; N], out: &mut R::Weights<O>);
        /// The rows as they are, if they are kept dense.
        fn as_dense(&self) -> Option<&[R; N]>;
    }
}
