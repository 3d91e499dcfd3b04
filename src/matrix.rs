//! Fixed-size matrices: plain `[[T; C]; R]` arrays whose shapes the compiler checks.
//!
//! A matrix is an ordinary nested array, so `[[1.0, 2.0], [3.0, 4.0]]` is a `Matrix<f32, 2, 2>`.
//! The operations write into an output the caller owns (`out: &mut Matrix<..>`): big matrices are
//! never returned by value, so nothing large is copied through the stack.
//!
//! Each const-generic function is a thin, checked wrapper over one slice kernel (crate-private,
//! written once with run-time sizes): shapes cost nothing at compile time beyond the check.

pub(crate) mod kernels;
#[forbid(unsafe_code)]
pub mod sparse;

use crate::float::Float;

/// An `R`×`C` matrix, stored row-major as a nested array.
pub type Matrix<T, const R: usize, const C: usize> = [[T; C]; R];

/// Values that have an all-zero form: scalars, arrays of them, and `()`.
///
/// Used to make activation buffers; `zeros()` builds its value in place of the caller, so keep
/// it for values that fit the stack (the big ones have [`Storage`]).
pub trait Zeros {
    /// The all-zero value.
    fn zeros() -> Self;
}

impl<Z: Zeros + Copy, const N: usize> Zeros for [Z; N] {
    #[inline]
    fn zeros() -> Self {
        // A repeat expression becomes one fill of memory; `array::from_fn` built each
        // element apart and then copied the whole array into place.
        [Z::zeros(); N]
    }
}

impl Zeros for () {
    #[inline]
    fn zeros() -> Self {}
}

/// `N` rows of activations: on the heap with the `alloc` feature (made zeroed there, a row at
/// a time, never whole on the stack), by value without it.
#[cfg(feature = "alloc")]
pub(crate) type Rows<Z, const N: usize> = alloc::boxed::Box<[Z; N]>;

/// `N` rows of activations: on the heap with the `alloc` feature, by value without it.
#[cfg(not(feature = "alloc"))]
pub(crate) type Rows<Z, const N: usize> = [Z; N];

/// The rows a [`Rows`] holds, mutably.
#[inline]
pub(crate) fn rows_mut<Z, const N: usize>(rows: &mut Rows<Z, N>) -> &mut [Z; N] {
    rows
}

#[cfg(feature = "alloc")]
impl<Z: Zeros + Copy, const N: usize> Zeros for alloc::boxed::Box<[Z; N]> {
    fn zeros() -> Self {
        // One row on the stack, cloned into each of the N; the length is N by construction.
        let rows: alloc::boxed::Box<[Z]> = alloc::vec![Z::zeros(); N].into_boxed_slice();
        match rows.try_into() {
            Ok(rows) => rows,
            Err(_) => unreachable!("vec![_; N] has N rows"),
        }
    }
}

/// `out = a · b`: (R,K)·(K,C) → (R,C). A mismatched inner dimension K does not compile.
///
/// ```
/// use constnn::matrix::matmul;
/// let a = [[1.0, 2.0], [3.0, 4.0]];
/// let b = [[5.0, 6.0, 7.0], [8.0, 9.0, 10.0]];
/// let mut out = [[0.0; 3]; 2];
/// matmul(&a, &b, &mut out);
/// assert_eq!(out, [[21.0, 24.0, 27.0], [47.0, 54.0, 61.0]]);
/// ```
#[inline]
pub fn matmul<T: Float, const R: usize, const K: usize, const C: usize>(
    a: &Matrix<T, R, K>,
    b: &Matrix<T, K, C>,
    out: &mut Matrix<T, R, C>,
) {
    T::gemm_nn(
        a.as_flattened(),
        b.as_flattened(),
        out.as_flattened_mut(),
        R,
        K,
        C,
    );
}

/// `out = a · bᵀ`: (R,K)·(C,K)ᵀ → (R,C), without materialising the transpose.
///
/// Affine's input gradient dX = dY·Wᵀ.
///
/// ```
/// use constnn::matrix::matmul_bt;
/// let dy = [[1.0, 0.0, 2.0]]; // (N, 3), N = 1
/// let w = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]; // (2, 3)
/// let mut dx = [[0.0; 2]; 1];
/// matmul_bt(&dy, &w, &mut dx); // (N, 3)·(3, 2) → (N, 2)
/// assert_eq!(dx, [[7.0, 16.0]]);
/// ```
#[inline]
pub fn matmul_bt<T: Float, const R: usize, const K: usize, const C: usize>(
    a: &Matrix<T, R, K>,
    b: &Matrix<T, C, K>,
    out: &mut Matrix<T, R, C>,
) {
    T::gemm_nt(
        a.as_flattened(),
        b.as_flattened(),
        out.as_flattened_mut(),
        R,
        K,
        C,
    );
}

/// `out = aᵀ · b`: (K,R)ᵀ·(K,C) → (R,C), without materialising the transpose.
///
/// Affine's weight gradient dW = Xᵀ·dY.
///
/// ```
/// use constnn::matrix::matmul_at;
/// let x = [[1.0, 2.0], [3.0, 4.0]]; // (N, 2), N = 2
/// let dy = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]; // (N, 3)
/// let mut dw = [[0.0; 3]; 2];
/// matmul_at(&x, &dy, &mut dw); // (2, N)·(N, 3) → (2, 3)
/// assert_eq!(dw, [[1.0, 3.0, 4.0], [2.0, 4.0, 6.0]]);
/// ```
#[inline]
pub fn matmul_at<T: Float, const R: usize, const K: usize, const C: usize>(
    a: &Matrix<T, K, R>,
    b: &Matrix<T, K, C>,
    out: &mut Matrix<T, R, C>,
) {
    T::gemm_tn(
        a.as_flattened(),
        b.as_flattened(),
        out.as_flattened_mut(),
        K,
        R,
        C,
    );
}

/// `m[r] += row` for every row: NumPy's broadcast of a bias row over the batch.
///
/// ```
/// let mut x = [[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]];
/// constnn::matrix::add_row(&mut x, &[1.0, 2.0, 3.0]);
/// assert_eq!(x, [[1.0, 2.0, 3.0], [11.0, 12.0, 13.0]]);
/// ```
#[inline]
pub fn add_row<T: Float, const R: usize, const C: usize>(m: &mut Matrix<T, R, C>, row: &[T; C]) {
    for r in m.iter_mut() {
        for (v, b) in r.iter_mut().zip(row) {
            *v += *b;
        }
    }
}

/// `out = Σ_r m[r]`: the sum over the batch axis, NumPy's `np.sum(m, axis=0)`.
///
/// ```
/// let dy = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// let mut db = [0.0; 3];
/// constnn::matrix::sum_rows(&dy, &mut db);
/// assert_eq!(db, [5.0, 7.0, 9.0]);
/// ```
#[inline]
pub fn sum_rows<T: Float, const R: usize, const C: usize>(m: &Matrix<T, R, C>, out: &mut [T; C]) {
    out.fill(T::ZERO);
    for r in m {
        for (o, v) in out.iter_mut().zip(r) {
            *o += *v;
        }
    }
}

/// `out[i][j] = f(a[i][j])`.
#[inline]
pub fn map<T: Float, const R: usize, const C: usize>(
    a: &Matrix<T, R, C>,
    out: &mut Matrix<T, R, C>,
    f: impl Fn(T) -> T,
) {
    for (o, v) in out.as_flattened_mut().iter_mut().zip(a.as_flattened()) {
        *o = f(*v);
    }
}

/// Index of the largest value (the first one on ties, like NumPy's `argmax`); 0 for an empty row.
///
/// ```
/// use constnn::matrix::argmax;
/// assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
/// ```
#[inline]
pub fn argmax<T: Float>(row: &[T]) -> usize {
    let Some((&first, rest)) = row.split_first() else {
        return 0;
    };
    // The best so far kept by value and chosen without a branch: which class wins is data,
    // and a branch on it mispredicted about once a row of scores.
    let (mut best, mut top) = (0, first);
    for (i, &v) in rest.iter().enumerate() {
        let higher = v > top;
        best = if higher { i + 1 } else { best };
        top = if higher { v } else { top };
    }
    best
}

/// How a layer stores its weight matrix and the gradient of it.
///
/// An MNIST weight matrix is 157 KB; a layer that holds it by value cannot be built on a 2 MiB
/// test-thread stack without risk, because a by-value struct is assembled on the stack first.
/// So layers are generic over where their matrices live:
/// - [`Inline`]: by value, for small layers and for `static`s on a microcontroller;
/// - [`Heap`] (feature `alloc`): each matrix in its own `Box`, made zeroed on the heap directly;
/// - [`Frozen`]: inference only, by value with no gradient buffers at all, so a `static` model
///   is just its weights and biases (and sits in flash).
pub trait Storage {
    /// Holds a weight matrix.
    type Mat<T: Float, const R: usize, const C: usize>;
    /// Holds the gradient of a weight matrix (nothing, for inference-only storage).
    type Grad<T: Float, const R: usize, const C: usize>;
    /// Holds the gradient of a bias vector (nothing, for inference-only storage).
    type VecGrad<T: Float, const N: usize>;
    /// The matrix a `Mat` holds.
    fn get<T: Float, const R: usize, const C: usize>(m: &Self::Mat<T, R, C>) -> &Matrix<T, R, C>;
    /// The matrix a `Mat` holds, mutably.
    fn get_mut<T: Float, const R: usize, const C: usize>(
        m: &mut Self::Mat<T, R, C>,
    ) -> &mut Matrix<T, R, C>;
}

/// Storage that can be created zeroed and trained: it has gradient buffers.
pub trait TrainStorage: Storage {
    /// A zeroed weight matrix.
    fn zeros<T: Float, const R: usize, const C: usize>() -> Self::Mat<T, R, C>;
    /// A zeroed gradient buffer.
    fn grad_zeros<T: Float, const R: usize, const C: usize>() -> Self::Grad<T, R, C>;
    /// The gradient a `Grad` holds.
    fn grad<T: Float, const R: usize, const C: usize>(g: &Self::Grad<T, R, C>) -> &Matrix<T, R, C>;
    /// The gradient a `Grad` holds, mutably.
    fn grad_mut<T: Float, const R: usize, const C: usize>(
        g: &mut Self::Grad<T, R, C>,
    ) -> &mut Matrix<T, R, C>;
    /// A zeroed bias gradient.
    fn vec_grad_zeros<T: Float, const N: usize>() -> Self::VecGrad<T, N>;
    /// The gradient a `VecGrad` holds, mutably.
    fn vec_grad_mut<T: Float, const N: usize>(g: &mut Self::VecGrad<T, N>) -> &mut [T; N];
}

/// Matrices stored by value inside the layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inline;

/// Inference-only storage: weights by value, no gradient buffers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Frozen;

/// The gradient buffer of [`Frozen`] storage: there is none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoGrad;

impl Storage for Inline {
    type Mat<T: Float, const R: usize, const C: usize> = Matrix<T, R, C>;
    type Grad<T: Float, const R: usize, const C: usize> = Matrix<T, R, C>;
    type VecGrad<T: Float, const N: usize> = [T; N];
    #[inline]
    fn get<T: Float, const R: usize, const C: usize>(m: &Matrix<T, R, C>) -> &Matrix<T, R, C> {
        m
    }
    #[inline]
    fn get_mut<T: Float, const R: usize, const C: usize>(
        m: &mut Matrix<T, R, C>,
    ) -> &mut Matrix<T, R, C> {
        m
    }
}

impl TrainStorage for Inline {
    #[inline]
    fn zeros<T: Float, const R: usize, const C: usize>() -> Matrix<T, R, C> {
        [[T::ZERO; C]; R]
    }
    #[inline]
    fn grad_zeros<T: Float, const R: usize, const C: usize>() -> Matrix<T, R, C> {
        [[T::ZERO; C]; R]
    }
    #[inline]
    fn grad<T: Float, const R: usize, const C: usize>(g: &Matrix<T, R, C>) -> &Matrix<T, R, C> {
        g
    }
    #[inline]
    fn grad_mut<T: Float, const R: usize, const C: usize>(
        g: &mut Matrix<T, R, C>,
    ) -> &mut Matrix<T, R, C> {
        g
    }
    #[inline]
    fn vec_grad_zeros<T: Float, const N: usize>() -> [T; N] {
        [T::ZERO; N]
    }
    #[inline]
    fn vec_grad_mut<T: Float, const N: usize>(g: &mut [T; N]) -> &mut [T; N] {
        g
    }
}

impl Storage for Frozen {
    type Mat<T: Float, const R: usize, const C: usize> = Matrix<T, R, C>;
    type Grad<T: Float, const R: usize, const C: usize> = NoGrad;
    type VecGrad<T: Float, const N: usize> = NoGrad;
    #[inline]
    fn get<T: Float, const R: usize, const C: usize>(m: &Matrix<T, R, C>) -> &Matrix<T, R, C> {
        m
    }
    #[inline]
    fn get_mut<T: Float, const R: usize, const C: usize>(
        m: &mut Matrix<T, R, C>,
    ) -> &mut Matrix<T, R, C> {
        m
    }
}

#[cfg(feature = "alloc")]
pub use heap::{Heap, boxed_zeros};

#[cfg(feature = "alloc")]
#[forbid(unsafe_code)]
mod heap {
    use super::{Matrix, Storage, TrainStorage};
    use crate::float::Float;
    use alloc::boxed::Box;
    use alloc::vec;

    /// Each matrix in its own `Box` (feature `alloc`).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Heap;

    /// A zeroed matrix made directly on the heap, with no stack temporary of its size.
    ///
    /// ```
    /// let batch: Box<constnn::Matrix<f32, 100, 784>> = constnn::matrix::boxed_zeros();
    /// assert_eq!(batch[99][783], 0.0);
    /// ```
    pub fn boxed_zeros<T: Float, const R: usize, const C: usize>() -> Box<Matrix<T, R, C>> {
        // `vec![row; R]` allocates R rows and clones one C-wide row into each: only that row is
        // ever on the stack. The length is R by construction, so the conversion cannot fail.
        let rows: Box<[[T; C]]> = vec![[T::ZERO; C]; R].into_boxed_slice();
        match rows.try_into() {
            Ok(m) => m,
            Err(_) => unreachable!("vec![_; R] has R rows"),
        }
    }

    impl Storage for Heap {
        type Mat<T: Float, const R: usize, const C: usize> = Box<Matrix<T, R, C>>;
        type Grad<T: Float, const R: usize, const C: usize> = Box<Matrix<T, R, C>>;
        type VecGrad<T: Float, const N: usize> = [T; N];
        #[inline]
        fn get<T: Float, const R: usize, const C: usize>(
            m: &Box<Matrix<T, R, C>>,
        ) -> &Matrix<T, R, C> {
            m
        }
        #[inline]
        fn get_mut<T: Float, const R: usize, const C: usize>(
            m: &mut Box<Matrix<T, R, C>>,
        ) -> &mut Matrix<T, R, C> {
            m
        }
    }

    impl TrainStorage for Heap {
        fn zeros<T: Float, const R: usize, const C: usize>() -> Box<Matrix<T, R, C>> {
            boxed_zeros()
        }
        fn grad_zeros<T: Float, const R: usize, const C: usize>() -> Box<Matrix<T, R, C>> {
            boxed_zeros()
        }
        #[inline]
        fn grad<T: Float, const R: usize, const C: usize>(
            g: &Box<Matrix<T, R, C>>,
        ) -> &Matrix<T, R, C> {
            g
        }
        #[inline]
        fn grad_mut<T: Float, const R: usize, const C: usize>(
            g: &mut Box<Matrix<T, R, C>>,
        ) -> &mut Matrix<T, R, C> {
            g
        }
        #[inline]
        fn vec_grad_zeros<T: Float, const N: usize>() -> [T; N] {
            [T::ZERO; N]
        }
        #[inline]
        fn vec_grad_mut<T: Float, const N: usize>(g: &mut [T; N]) -> &mut [T; N] {
            g
        }
    }
}
