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
    /// Those weights laid out on cache lines, for many sparse rows.
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    type Lined<const O: usize>;
}

impl<T: Float, const I: usize> InputRow for [T; I] {
    type Scalar = T;
    type Weights<const O: usize> = Matrix<T, I, O>;
    #[cfg(feature = "alloc")]
    type Lined<const O: usize> = crate::matrix::sparse::LinedRows<T, I, O>;
}

impl<T: Float, const I: usize> private::Sealed for [T; I] {}

/// One input row of the dense row type `R` (`[T; I]`): `[T; I]` itself or a [`SparseRow`].
pub trait Row<R: InputRow>: Copy + private::RowProducts<R> {
    /// The column of its first NaN or infinite value, if it has one.
    fn non_finite(&self) -> Option<usize>;

    /// The row written out in full.
    fn write_dense(&self, out: &mut R);
}

/// A batch of `N` rows of the dense row type `R` (`[T; I]`), kept in any of the kinds a
/// network reads (see the [module](self)).
pub trait Batch<R: InputRow, const N: usize>: private::BatchProducts<R, N> {
    /// The column of the first NaN or infinite value of row `r`, if it has one.
    fn non_finite(&self, r: usize) -> Option<usize>;

    /// The rows written out in full.
    fn write_dense(&self, out: &mut [R; N]);
}

impl<T: Float, const I: usize> Row<[T; I]> for [T; I] {
    fn non_finite(&self) -> Option<usize> {
        first_non_finite(self)
    }

    fn write_dense(&self, out: &mut [T; I]) {
        *out = *self;
    }
}

impl<T: Float, const I: usize> Row<[T; I]> for SparseRow<'_, T, I> {
    fn non_finite(&self) -> Option<usize> {
        self.first_non_finite()
    }

    fn write_dense(&self, out: &mut [T; I]) {
        self.to_dense(out);
    }
}

impl<R: InputRow, X: Row<R>, const N: usize> Batch<R, N> for [X; N] {
    fn non_finite(&self, r: usize) -> Option<usize> {
        self.get(r).and_then(Row::non_finite)
    }

    fn write_dense(&self, out: &mut [R; N]) {
        for (row, o) in self.iter().zip(out) {
            row.write_dense(o);
        }
    }
}

impl<R: InputRow, X: Row<R>, const N: usize> private::BatchProducts<R, N> for [X; N] {
    fn matmul<const O: usize>(&self, w: &R::Weights<O>, out: &mut [[R::Scalar; O]; N]) {
        X::rows_matmul(self, w, out);
    }

    fn matmul_at<const O: usize>(&self, dy: &[[R::Scalar; O]; N], out: &mut R::Weights<O>) {
        X::rows_matmul_at(self, dy, out);
    }

    fn as_dense(&self) -> Option<&[R; N]> {
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

    fn known_finite(&self) -> bool {
        (**self).known_finite()
    }
}

impl<T: Float, const I: usize> private::RowProducts<[T; I]> for [T; I] {
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
    const SPARSE: bool = false;

    #[cfg(feature = "alloc")]
    fn rows_lined<const O: usize>(
        _: &[Self],
        _: &crate::matrix::sparse::LinedRows<T, I, O>,
        _: &mut [[T; O]],
    ) -> bool {
        false
    }

    #[cfg(feature = "alloc")]
    type Listed<const N: usize> = [[T; I]; N];

    #[cfg(feature = "alloc")]
    fn listed<const N: usize>() -> alloc::boxed::Box<[[T; I]; N]> {
        crate::matrix::boxed_zeros()
    }

    #[cfg(feature = "alloc")]
    fn list<const N: usize>(batch: &mut [[T; I]; N], rows: &[Self; N]) {
        *batch = *rows;
    }

    fn touch(rows: &[Self]) {
        let mut sum = T::ZERO;
        for row in rows {
            for v in row.iter().step_by(64 / T::BYTES) {
                sum += *v;
            }
        }
        core::hint::black_box(sum);
    }

    fn all_finite(rows: &[Self]) -> bool {
        first_non_finite(rows.as_flattened()).is_none()
    }
}

impl<'a, T: Float, const I: usize> private::RowProducts<[T; I]> for SparseRow<'a, T, I> {
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
    const SPARSE: bool = true;

    #[cfg(feature = "alloc")]
    fn rows_lined<const O: usize>(
        rows: &[Self],
        w: &crate::matrix::sparse::LinedRows<T, I, O>,
        out: &mut [[T; O]],
    ) -> bool {
        w.matmul(rows, out);
        true
    }

    #[cfg(feature = "alloc")]
    type Listed<const N: usize> = sparse::SparseBatch<'a, T, N, I>;

    #[cfg(feature = "alloc")]
    fn listed<const N: usize>() -> alloc::boxed::Box<sparse::SparseBatch<'a, T, N, I>> {
        alloc::boxed::Box::new(sparse::SparseBatch::new())
    }

    #[cfg(feature = "alloc")]
    fn list<const N: usize>(batch: &mut sparse::SparseBatch<'a, T, N, I>, rows: &[Self; N]) {
        batch.set(*rows);
    }

    fn touch(rows: &[Self]) {
        let mut sum = T::ZERO;
        for row in rows {
            for v in row.values().iter().step_by(64 / T::BYTES) {
                sum += *v;
            }
            for &c in row.indices().iter().step_by(32) {
                sum += T::from_f64(f64::from(c));
            }
        }
        core::hint::black_box(sum);
    }

    fn all_finite(rows: &[Self]) -> bool {
        crate::matrix::kernels::vectorized(
            #[inline(always)]
            || rows.iter().all(|row| T::all_finite(row.values())),
        )
    }
}

/// The products behind [`Row`] and [`Batch`]: how each kind of input is multiplied is the
/// crate's business (the traits are sealed by them).
pub(crate) mod private {
    use super::InputRow;

    /// Only `[T; I]` is an [`InputRow`].
    pub trait Sealed {}

    /// The products of a batch of rows of this kind.
    pub trait RowProducts<R: InputRow>: Sized {
        /// `out = rows · w`.
        fn rows_matmul<const N: usize, const O: usize>(
            rows: &[Self; N],
            w: &R::Weights<O>,
            out: &mut [[R::Scalar; O]; N],
        );
        /// `out = rowsᵀ · dy`.
        fn rows_matmul_at<const N: usize, const O: usize>(
            rows: &[Self; N],
            dy: &[[R::Scalar; O]; N],
            out: &mut R::Weights<O>,
        );
        /// The rows as a dense matrix, if that is how they are kept.
        fn rows_dense<const N: usize>(rows: &[Self; N]) -> Option<&[R; N]>;
        /// Whether rows of this kind are kept sparse: many of them are multiplied faster by
        /// weights on lines ([`rows_lined`](Self::rows_lined)).
        #[cfg(feature = "alloc")]
        const SPARSE: bool;
        /// `out = rows · w` with `w` laid out on lines, for rows kept sparse; `false`, with
        /// `out` untouched, for dense ones.
        #[cfg(feature = "alloc")]
        fn rows_lined<const O: usize>(
            rows: &[Self],
            w: &R::Lined<O>,
            out: &mut [[R::Scalar; O]],
        ) -> bool;
        /// A training batch of `N` rows of this kind as a trainer keeps it, made ahead of its
        /// step: dense rows copied, sparse rows also listed by column.
        #[cfg(feature = "alloc")]
        type Listed<const N: usize>: super::Batch<R, N> + Send;
        /// An empty batch.
        #[cfg(feature = "alloc")]
        fn listed<const N: usize>() -> alloc::boxed::Box<Self::Listed<N>>;
        /// Makes `batch` these rows.
        #[cfg(feature = "alloc")]
        fn list<const N: usize>(batch: &mut Self::Listed<N>, rows: &[Self; N]);
        /// Reads a value in every cache line of the rows, so that they are in the cache when
        /// [`list`](Self::list) reads them: rows drawn at random from a big data set lie far
        /// apart, and reading them all at once, a step ahead, lets the fetches overlap.
        fn touch(rows: &[Self]);
        /// Whether every value of every row is finite: one call for many rows, where
        /// [`Row::non_finite`](super::Row::non_finite) is one a row.
        fn all_finite(rows: &[Self]) -> bool;
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
        /// Whether all the batch's values are finite, found in one pass over them where it
        /// keeps them together (a [`SparseBatch`](crate::matrix::sparse::SparseBatch)'s
        /// listing); `false` where it cannot tell so, and then each row is checked with
        /// [`Batch::non_finite`](super::Batch::non_finite). Checked row by row, a training
        /// step's batch of 100 MNIST images made 100 calls of a vectorised loop (about 2% of
        /// a step's time).
        fn known_finite(&self) -> bool {
            false
        }
    }
}
