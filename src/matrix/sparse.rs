//! Sparse input rows: a row of `I` values given by its non-zero ones and their columns.
//!
//! MNIST images are about 80% zero pixels. The dense kernels already skip zero steps, but they
//! must find them again in every product; a [`SparseRow`] lists them once, so that
//!
//! - `x·W` ([`matmul`]) runs each row over its own values without looking at the zeros, and
//! - `xᵀ·dY` ([`matmul_at`]) adds each image's pixels into the rows of `dW` they touch, image by
//!   image, instead of running blocks of pixels over the steps where any of them is non-zero;
//!   a [`SparseBatch`] (with the `alloc` feature) also lists a batch's values by column, so
//!   that each row of `dW` is summed in registers and stored once, about twice as fast (and
//!   `x·W` of outputs too wide for the registers takes each row of `W` once).
//!
//! Both give the dense product's numbers bit for bit (for finite `W` and `dY`): each output is
//! still accumulated in the order of the inner index, and the zeros left out would have added
//! `0·b = 0` (but for the sign of a zero that a fused product underflowed to, which
//! `tests/matrix_ops.rs` pins). A [`SparseRow`] borrows its two slices, so a batch is an array
//! of views into a data set kept sparse once ([`SparseRows`], with the `alloc` feature) and
//! costs no copy.

use core::fmt;

use super::{Matrix, kernels};
use crate::float::Float;

/// One row of `I` values: `value[k]` is at column `index[k]`, every other value is zero.
/// Columns are strictly increasing, which [`SparseRow::new`] checks.
///
/// ```
/// use constnn::matrix::sparse::SparseRow;
/// let row = SparseRow::<f32, 5>::new(&[1, 4], &[0.5, -2.0]).unwrap();
/// let mut dense = [9.0; 5];
/// row.to_dense(&mut dense);
/// assert_eq!(dense, [0.0, 0.5, 0.0, 0.0, -2.0]);
/// assert!(SparseRow::<f32, 5>::new(&[4, 1], &[0.5, -2.0]).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SparseRow<'a, T, const I: usize> {
    index: &'a [u16],
    value: &'a [T],
}

/// Why a [`SparseRow`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparseError {
    /// The two slices differ in length.
    Lengths {
        /// Number of columns given.
        indices: usize,
        /// Number of values given.
        values: usize,
    },
    /// A column is not below the row's width.
    OutOfRange {
        /// Position in the list.
        position: usize,
        /// The column found there.
        column: usize,
        /// The row's width `I`.
        width: usize,
    },
    /// A column is not greater than the one before it.
    NotIncreasing {
        /// Position in the list.
        position: usize,
        /// The column found there.
        column: usize,
        /// The column before it.
        previous: usize,
    },
}

impl fmt::Display for SparseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SparseError::Lengths { indices, values } => write!(
                f,
                "a sparse row has {indices} columns but {values} values: they must pair up"
            ),
            SparseError::OutOfRange {
                position,
                column,
                width,
            } => write!(
                f,
                "column {column} (entry {position}) of a sparse row is out of range: \
                 the row has {width} columns"
            ),
            SparseError::NotIncreasing {
                position,
                column,
                previous,
            } => write!(
                f,
                "column {column} (entry {position}) of a sparse row does not follow column \
                 {previous}: columns must be strictly increasing"
            ),
        }
    }
}

impl core::error::Error for SparseError {}

impl<'a, T: Float, const I: usize> SparseRow<'a, T, I> {
    /// A row of zeros.
    pub const EMPTY: Self = Self {
        index: &[],
        value: &[],
    };

    /// The row whose value at column `index[k]` is `value[k]`, and zero elsewhere; an error
    /// unless the two have one length and the columns are below `I` and strictly increasing.
    pub fn new(index: &'a [u16], value: &'a [T]) -> Result<Self, SparseError> {
        const { assert!(I <= 1 << 16, "sparse rows have u16 columns: at most 65536") };
        if index.len() != value.len() {
            return Err(SparseError::Lengths {
                indices: index.len(),
                values: value.len(),
            });
        }
        let mut previous: Option<usize> = None;
        for (position, &column) in index.iter().enumerate() {
            let column = usize::from(column);
            if column >= I {
                return Err(SparseError::OutOfRange {
                    position,
                    column,
                    width: I,
                });
            }
            if let Some(previous) = previous.filter(|&p| column <= p) {
                return Err(SparseError::NotIncreasing {
                    position,
                    column,
                    previous,
                });
            }
            previous = Some(column);
        }
        Ok(Self { index, value })
    }

    /// The columns of the listed values, increasing.
    pub fn indices(&self) -> &'a [u16] {
        self.index
    }

    /// The listed values, in the order of [`indices`](Self::indices).
    pub fn values(&self) -> &'a [T] {
        self.value
    }

    /// How many values are listed.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no value is listed (the row is all zeros).
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Writes the row out in full.
    pub fn to_dense(&self, out: &mut [T; I]) {
        out.fill(T::ZERO);
        for (&c, &v) in self.index.iter().zip(self.value) {
            out[usize::from(c)] = v;
        }
    }

    /// The first listed value that is NaN or infinite, as its column.
    pub fn first_non_finite(&self) -> Option<usize> {
        let at = crate::float::first_non_finite(self.value)?;
        Some(usize::from(self.index[at]))
    }
}

/// `out = x · w`: (N,I)·(I,O) → (N,O) for sparse rows `x`, as [`matmul`](super::matmul) would
/// compute it from the dense rows, bit for bit.
///
/// ```
/// use constnn::matrix::{matmul, sparse::{self, SparseRow}};
/// let w = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
/// let x = [SparseRow::new(&[0, 2], &[1.0, -1.0]).unwrap(), SparseRow::EMPTY];
/// let mut out = [[9.0; 2]; 2];
/// sparse::matmul(&x, &w, &mut out);
/// assert_eq!(out, [[-4.0, -4.0], [0.0, 0.0]]);
/// let mut dense = [[9.0; 2]; 2];
/// matmul(&[[1.0, 0.0, -1.0], [0.0; 3]], &w, &mut dense);
/// assert_eq!(out, dense);
/// ```
#[inline]
pub fn matmul<T: Float, const N: usize, const I: usize, const O: usize>(
    x: &[SparseRow<'_, T, I>; N],
    w: &Matrix<T, I, O>,
    out: &mut Matrix<T, N, O>,
) {
    kernels::sparse_nn::<T, I, O>(x, w.as_flattened(), out.as_flattened_mut());
}

/// `out = xᵀ · dy`: (N,I)ᵀ·(N,O) → (I,O) for sparse rows `x` (Affine's `dW`), as
/// [`matmul_at`](super::matmul_at) would compute it from the dense rows, bit for bit when `dy`
/// is finite (the dense product would also spread a NaN or ∞ of `dy` over zero pixels' rows).
///
/// ```
/// use constnn::matrix::{matmul_at, sparse::{self, SparseRow}};
/// let x = [SparseRow::new(&[1], &[2.0]).unwrap(), SparseRow::new(&[0, 1], &[1.0, 3.0]).unwrap()];
/// let dy = [[1.0, -1.0], [0.5, 4.0]];
/// let mut dw = [[9.0; 2]; 3];
/// sparse::matmul_at(&x, &dy, &mut dw);
/// assert_eq!(dw, [[0.5, 4.0], [3.5, 10.0], [0.0, 0.0]]);
/// let mut dense = [[9.0; 2]; 3];
/// matmul_at(&[[0.0, 2.0, 0.0], [1.0, 3.0, 0.0]], &dy, &mut dense);
/// assert_eq!(dw, dense);
/// ```
#[inline]
pub fn matmul_at<T: Float, const N: usize, const I: usize, const O: usize>(
    x: &[SparseRow<'_, T, I>; N],
    dy: &Matrix<T, N, O>,
    out: &mut Matrix<T, I, O>,
) {
    kernels::sparse_tn(x, dy, out);
}

#[cfg(feature = "alloc")]
pub(crate) use owned::LinedRows;
#[cfg(feature = "alloc")]
pub use owned::{SparseBatch, SparseRows};

#[cfg(feature = "alloc")]
mod owned {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::SparseRow;
    use crate::float::Float;
    use crate::matrix::{Matrix, kernels};

    /// A data set of rows of width `I` kept sparse (the `alloc` feature): all rows' columns
    /// and values in two vectors, and where each row ends. [`row`](Self::row) lends one as a
    /// [`SparseRow`], without copying.
    ///
    /// ```
    /// use constnn::matrix::sparse::SparseRows;
    /// let mut set = SparseRows::<f32, 4>::new();
    /// set.push_dense(&[0.0, 1.5, 0.0, 2.0]);
    /// set.push_dense(&[0.0; 4]);
    /// assert_eq!(set.len(), 2);
    /// assert_eq!(set.row(0).indices(), &[1, 3]);
    /// assert_eq!(set.iter().map(|row| row.len()).collect::<Vec<_>>(), [2, 0]);
    /// assert!(set.row(1).is_empty());
    /// ```
    #[derive(Debug, Clone)]
    pub struct SparseRows<T, const I: usize> {
        index: Vec<u16>,
        value: Vec<T>,
        ends: Vec<usize>,
    }

    /// [`SparseRows::new`], with its check that the columns fit `u16`.
    impl<T: Float, const I: usize> Default for SparseRows<T, I> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<T: Float, const I: usize> SparseRows<T, I> {
        /// No rows yet.
        pub fn new() -> Self {
            const { assert!(I <= 1 << 16, "sparse rows have u16 columns: at most 65536") };
            Self {
                index: Vec::new(),
                value: Vec::new(),
                ends: Vec::new(),
            }
        }

        /// No rows yet, with room for `rows` rows listing `values` values in all.
        pub fn with_capacity(rows: usize, values: usize) -> Self {
            let mut set = Self::new();
            set.index.reserve_exact(values);
            set.value.reserve_exact(values);
            set.ends.reserve_exact(rows);
            set
        }

        /// Appends a copy of `row`.
        pub fn push(&mut self, row: SparseRow<'_, T, I>) {
            self.index.extend_from_slice(row.index);
            self.value.extend_from_slice(row.value);
            self.ends.push(self.index.len());
        }

        /// Appends a row given in full, keeping its non-zero values (a NaN is kept too).
        pub fn push_dense(&mut self, row: &[T; I]) {
            // Found as the kernels find a dense row's, `KR` values at a time: no branch per
            // value. `new` checked that I ≤ 65536, so every column fits a `u16`.
            for (part, values) in row.chunks(kernels::KR).enumerate() {
                kernels::append_nonzero(
                    values,
                    part * kernels::KR,
                    &mut self.value,
                    &mut self.index,
                );
            }
            self.ends.push(self.index.len());
        }

        /// How many rows there are.
        pub fn len(&self) -> usize {
            self.ends.len()
        }

        /// Whether there are no rows.
        pub fn is_empty(&self) -> bool {
            self.ends.is_empty()
        }

        /// How many values all rows list together.
        pub fn stored(&self) -> usize {
            self.index.len()
        }

        /// Every row, borrowed, in order.
        pub fn iter(&self) -> impl ExactSizeIterator<Item = SparseRow<'_, T, I>> + '_ {
            (0..self.len()).map(|i| self.row(i))
        }

        /// Row `i`, borrowed.
        ///
        /// # Panics
        /// If `i` is not below [`len`](Self::len).
        pub fn row(&self, i: usize) -> SparseRow<'_, T, I> {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            let end = self.ends[i];
            // Built by `push_dense`: increasing columns below `I`, one value each.
            SparseRow {
                index: &self.index[start..end],
                value: &self.value[start..end],
            }
        }
    }

    /// A batch of `N` sparse rows of width `I` together with their values listed by column
    /// (the `alloc` feature): what a training step's first layer wants, the rows for `x·W`
    /// and the columns for `xᵀ·dY`. Column by column, each row of `dW` adds up its values in
    /// registers and is stored once; from rows alone ([`matmul_at`](super::matmul_at)) every
    /// value loads and stores a row of `dW`. On MNIST batches that product takes about half as
    /// long, with the same numbers, and listing the values by column (a counting sort) can be
    /// done ahead, on another thread, while the previous step trains.
    ///
    /// [`set`](Self::set) lists a new batch's values again in the space of the previous one.
    ///
    /// ```
    /// use constnn::{TwoLayerNet, matrix::sparse::{SparseBatch, SparseRow}};
    /// use rand_core::SeedableRng;
    /// let (a, b) = ([0.5, 2.0], [4.0]);
    /// let rows = [SparseRow::new(&[0, 2], &a).unwrap(), SparseRow::new(&[2], &b).unwrap()];
    /// let batch = SparseBatch::<f32, 2, 3>::from_rows(rows);
    /// assert_eq!(batch.column(2), (&[0, 1][..], &[2.0, 4.0][..]));
    /// assert!(batch.column(1).0.is_empty());
    ///
    /// // A gradient from the batch: the same numbers as from its rows alone.
    /// let mut net = TwoLayerNet::<3, 4, 2>::new(0.5, &mut rand_pcg::Pcg64::seed_from_u64(1));
    /// let mut same = net.clone();
    /// assert_eq!(net.gradient(&batch, &[0u8, 1]), same.gradient(batch.rows(), &[0u8, 1]));
    /// assert_eq!(net.layers.first.dw(), same.layers.first.dw());
    /// ```
    #[derive(Debug, Clone)]
    pub struct SparseBatch<'a, T, const N: usize, const I: usize> {
        rows: [SparseRow<'a, T, I>; N],
        /// Column `p`'s entries are `starts[p]..starts[p + 1]` (`I + 1` of them).
        starts: Vec<u32>,
        /// Each entry's row, increasing within a column.
        row: Vec<u16>,
        /// Each entry's value.
        value: Vec<T>,
        /// For each row, how many of its values `set` has placed.
        cursor: Vec<usize>,
    }

    impl<'a, T: Float, const N: usize, const I: usize> SparseBatch<'a, T, N, I> {
        /// A batch of rows of zeros.
        pub fn new() -> Self {
            const {
                assert!(
                    N <= 1 << 16,
                    "a sparse batch has u16 row numbers: at most 65536"
                );
                assert!(
                    (N as u64) * (I as u64) < 1 << 32,
                    "a sparse batch counts its values in u32: N·I must be below 2³²"
                );
            };
            Self {
                rows: [SparseRow::EMPTY; N],
                starts: vec![0; I + 1],
                row: Vec::new(),
                value: Vec::new(),
                cursor: Vec::new(),
            }
        }

        /// The batch of these rows.
        pub fn from_rows(rows: [SparseRow<'a, T, I>; N]) -> Self {
            let mut batch = Self::new();
            batch.set(rows);
            batch
        }

        /// Makes this the batch of `rows`, keeping the space of the previous one.
        pub fn set(&mut self, rows: [SparseRow<'a, T, I>; N]) {
            self.rows = rows;
            // A counting sort by column: count each column's values, turn the counts into
            // where each column starts, then place the values row after row, so that a
            // column lists its rows in increasing order.
            let starts = &mut self.starts[..];
            starts.fill(0);
            // The rows come from anywhere in a data set, most of them from memory: each row's
            // lines are asked for `AHEAD` rows before it is counted, so that their misses
            // overlap (and the placing below finds its values in the cache).
            const AHEAD: usize = 4;
            kernels::prefetch_sparse_rows(self.rows.iter().take(AHEAD));
            for (r, row) in self.rows.iter().enumerate() {
                kernels::prefetch_sparse_rows(self.rows.get(r + AHEAD));
                for &c in row.indices() {
                    starts[usize::from(c) + 1] += 1;
                }
            }
            for p in 0..I {
                starts[p + 1] += starts[p];
            }
            let total = starts[I] as usize;
            // Written whole, in order, before the values are placed column by column: when
            // another thread read the previous batch listed here (as in training, where one
            // thread lists batches ahead for another), that order takes its cache lines back
            // faster than the placing's scattered writes would.
            self.row.clear();
            self.row.resize(total, 0);
            self.value.clear();
            self.value.resize(total, T::ZERO);
            let (row_of, value) = (&mut self.row[..total], &mut self.value[..total]);
            // `next[p]` is where column p's next entry goes: its start, moving along.
            let next = &mut starts[..I];
            // Placed `COLUMNS` columns at a time, every row's values in them in turn (`cursor`:
            // where each row is), so that the places written at once are few enough to stay in
            // the L1 cache (all 784 of an MNIST batch's at once were 1.25× as slow).
            const COLUMNS: usize = 128;
            self.cursor.clear();
            self.cursor.resize(N, 0);
            for end in (COLUMNS..I + COLUMNS).step_by(COLUMNS) {
                let rows = self.rows.iter().zip(self.cursor.iter_mut()).enumerate();
                for (r, (row, cursor)) in rows {
                    let (columns, values) = (row.indices(), row.values());
                    let mut k = *cursor;
                    while let (Some(&c), Some(&v)) = (columns.get(k), values.get(k)) {
                        let c = usize::from(c);
                        if c >= end {
                            break;
                        }
                        // Read once and moved on before the stores: with `+= 1` after them,
                        // the compiler read it again after each (it cannot tell the vectors
                        // apart).
                        let at = next[c];
                        next[c] = at + 1;
                        // `new` checked that N ≤ 65536.
                        row_of[at as usize] = r as u16;
                        value[at as usize] = v;
                        k += 1;
                    }
                    *cursor = k;
                }
            }
            // Each `next[p]` has moved on to column p + 1's start: shift them back.
            starts.copy_within(0..I, 1);
            starts[0] = 0;
        }

        /// The rows.
        pub fn rows(&self) -> &[SparseRow<'a, T, I>; N] {
            &self.rows
        }

        /// Column `c`: the rows with a value there (increasing) and those values.
        ///
        /// # Panics
        /// If `c` is not below `I`.
        pub fn column(&self, c: usize) -> (&[u16], &[T]) {
            let span = self.starts[c] as usize..self.starts[c + 1] as usize;
            (&self.row[span.clone()], &self.value[span])
        }
    }

    impl<T: Float, const N: usize, const I: usize> Default for SparseBatch<'_, T, N, I> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<T: Float, const N: usize, const I: usize> crate::input::Batch<[T; I], N>
        for SparseBatch<'_, T, N, I>
    {
        fn non_finite(&self, r: usize) -> Option<usize> {
            self.rows.get(r).and_then(SparseRow::first_non_finite)
        }

        fn write_dense(&self, out: &mut [[T; I]; N]) {
            for (row, o) in self.rows.iter().zip(out) {
                row.to_dense(o);
            }
        }
    }

    impl<T: Float, const N: usize, const I: usize> crate::input::private::BatchProducts<[T; I], N>
        for SparseBatch<'_, T, N, I>
    {
        fn matmul<const O: usize>(&self, w: &Matrix<T, I, O>, out: &mut Matrix<T, N, O>) {
            SparseBatch::matmul(self, w, out);
        }

        fn matmul_at<const O: usize>(&self, dy: &Matrix<T, N, O>, out: &mut Matrix<T, I, O>) {
            SparseBatch::matmul_at(self, dy, out);
        }

        fn as_dense(&self) -> Option<&[[T; I]; N]> {
            None
        }

        fn known_finite(&self) -> bool {
            // The listing holds every value of every row.
            crate::float::first_non_finite(&self.value).is_none()
        }
    }

    impl<T: Float, const N: usize, const I: usize> SparseBatch<'_, T, N, I> {
        /// `out = x · w`: bit for bit [`matmul`](super::matmul) of the rows when `w` is
        /// finite. From the rows where a row of `out` fits the vector registers (MNIST's 50
        /// outputs in f32), each row's sums kept there; otherwise, and on Intel's AVX-512
        /// cores, which were measured faster that way, from the values by column, each row of
        /// `w` kept there.
        pub fn matmul<const O: usize>(&self, w: &Matrix<T, I, O>, out: &mut Matrix<T, N, O>) {
            if kernels::batch_by_rows::<T>(O) {
                super::matmul(&self.rows, w, out);
                return;
            }
            T::sparse_columns_nn(
                &self.starts,
                &self.row,
                &self.value,
                w.as_flattened(),
                out.as_flattened_mut(),
                O,
            );
        }

        /// `out = xᵀ · dy` from the values by column: bit for bit
        /// [`matmul_at`](super::matmul_at) of the rows when `dy` is finite.
        pub fn matmul_at<const O: usize>(&self, dy: &Matrix<T, N, O>, out: &mut Matrix<T, I, O>) {
            T::sparse_columns_tn(
                &self.starts,
                &self.row,
                &self.value,
                dy.as_flattened(),
                out.as_flattened_mut(),
                O,
            );
        }
    }

    /// A weight matrix `W (I×O)` copied for products `x·W` with sparse rows `x` (the `alloc`
    /// feature): each row's first `16·⌊O/16⌋` values on whole 64-byte cache lines and the rest
    /// beside them, where a `Matrix`'s rows lie `O` values apart. The products are the same,
    /// bit for bit, and cost fewer lines of `W` for every value. Worth it where one `W` meets
    /// many rows, as an evaluation over a data set does: the copy costs about 30 rows'
    /// products. An [`Affine`](crate::Affine) makes one for a call over many sparse rows
    /// ([`Layer::forward_rows`](crate::layers::Layer::forward_rows)). Rows of more than 256
    /// bytes (64 f32) are kept as they are.
    #[derive(Debug, Clone)]
    pub struct LinedRows<T, const I: usize, const O: usize> {
        /// Each row's whole lines, row after row (none if kept as they are).
        main: Vec<kernels::Line<T>>,
        /// Each row's last `O % 16` values, row after row (all of `W` if kept as they are).
        tail: Vec<T>,
    }

    impl<T: Float, const I: usize, const O: usize> LinedRows<T, I, O> {
        /// Whether rows are laid out as lines: they fit the registers of one row's sums.
        pub(crate) const LINED: bool = O * T::BYTES <= 256;

        /// `w` laid out as lines, in room made for it at once (an evaluation makes one for
        /// every chunk of rows: growing the vectors a row at a time copied them a dozen times).
        pub(crate) fn new(w: &Matrix<T, I, O>) -> Self {
            if !Self::LINED {
                return Self {
                    main: Vec::new(),
                    tail: w.as_flattened().to_vec(),
                };
            }
            let mut main = Vec::with_capacity(I * (O / kernels::LINE));
            let mut tail = Vec::with_capacity(I * (O % kernels::LINE));
            for row in w {
                kernels::push_lined(row, &mut main, &mut tail);
            }
            Self { main, tail }
        }

        /// `out = x · W`.
        ///
        /// # Panics
        /// If `out` and `x` differ in length.
        pub(crate) fn matmul(&self, x: &[SparseRow<'_, T, I>], out: &mut [[T; O]]) {
            assert_eq!(x.len(), out.len(), "LinedRows::matmul: rows");
            if Self::LINED {
                kernels::sparse_lined(x, &self.main, &self.tail, out);
            } else {
                kernels::sparse_nn::<T, I, O>(x, &self.tail, out.as_flattened_mut());
            }
        }
    }
}

/// `LinedRows` is crate-private: its products are checked here against the dense product, bit
/// for bit (the public path, `Layer::forward_rows`, in `tests/sparse_input.rs`).
#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::{LinedRows, SparseRows};
    use crate::float::Float;
    use crate::matrix::{boxed_zeros, matmul};
    use alloc::vec::Vec;

    /// Rows all zero, very sparse, MNIST-like and dense in turn, from a fixed stream.
    fn fill<T: Float, const N: usize, const I: usize>(x: &mut [[T; I]; N], seed: u64) {
        let mut s = seed;
        let mut uniform = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for (i, row) in x.iter_mut().enumerate() {
            let zeros = [1.0, 0.97, 0.8, 0.0][i % 4];
            for v in row.iter_mut() {
                let zero = uniform() < zeros;
                *v = if zero {
                    T::ZERO
                } else {
                    T::from_f64(2.0 * uniform() - 1.0)
                };
            }
        }
    }

    fn check<T: Float, const N: usize, const I: usize, const O: usize>() {
        let (mut x, mut w) = (boxed_zeros::<T, N, I>(), boxed_zeros::<T, I, O>());
        fill(&mut x, 1);
        fill(&mut w, 2);
        let mut set = SparseRows::new();
        x.iter().for_each(|row| set.push_dense(row));
        let rows: Vec<_> = set.iter().collect();
        let (mut dense, mut lined) = (boxed_zeros::<T, N, O>(), boxed_zeros::<T, N, O>());
        lined.as_flattened_mut().fill(T::from_f64(f64::NAN));
        matmul(&x, &w, &mut dense);
        LinedRows::new(&w).matmul(&rows, &mut lined[..]);
        let bits = |m: &[T]| m.iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(dense.as_flattened()),
            bits(lined.as_flattened()),
            "{N}×{I}×{O}, {} bytes a value",
            T::BYTES
        );
    }

    /// No whole line (1, 7, 10, 15 values a row), whole lines only (16, 32, 64 f32; 16, 32
    /// f64), lines and a tail (17, 50, 63 f32; 20 f64), and rows too wide for lines (130 f32;
    /// 50 and 130 f64), kept as they are.
    #[test]
    fn products_with_weights_on_lines_equal_dense_products_bit_for_bit() {
        check::<f32, 9, 33, 1>();
        check::<f32, 9, 33, 7>();
        check::<f32, 9, 33, 10>();
        check::<f32, 9, 33, 15>();
        check::<f32, 9, 33, 16>();
        check::<f32, 9, 33, 17>();
        check::<f32, 9, 33, 32>();
        check::<f32, 100, 784, 50>();
        check::<f32, 9, 33, 63>();
        check::<f32, 9, 33, 64>();
        check::<f32, 9, 33, 130>();
        check::<f64, 9, 33, 16>();
        check::<f64, 9, 33, 20>();
        check::<f64, 9, 33, 32>();
        check::<f64, 9, 33, 50>();
        check::<f64, 9, 33, 130>();
    }
}
