//! The matrix-product kernels, over row-major slices with run-time sizes.
//!
//! Each is written once and shared by every shape (see `matrix`'s wrappers, which check the
//! shapes at compile time and pass the sizes down).
//!
//! **Register tiles.** The output is cut into tiles of [`MR`] rows × `NR` columns (4 × 16 for
//! f32: eight 256-bit accumulators; 4 × 48 on 512-bit vectors, twelve of their 32 registers)
//! that stay in registers while the inner dimension streams
//! through; each step multiplies `MR` values of A by one `NR`-wide row of B. The `MR` values of
//! each step are first packed side by side on the stack ([`KC`] steps at a time), so the inner
//! loop reads A contiguously whatever its layout, and B's rows are read in place (or, for
//! A·Bᵀ, copied transposed: whole if B has at most 12 288 values, else 64 columns at a time).
//! A block of rows of A with no all-zero step is
//! read in place instead: packing it would copy every value to skip nothing (one whose first
//! row has no zero, unchecked: see `in_place`). An Aᵀ that looks dense (its first and last
//! rows without a zero) is read whole, if no step it could skip would change a sum (B has no
//! infinity or NaN, below, or A no zero at all): copied four blocks at a time, its steps
//! unlisted (see `copy_t4`), or on 512-bit vectors read in place, each step's four values
//! side by side in a row of A (`strided`).
//!
//! **Same order everywhere.** Every output element is accumulated as `((a₀b₀ + a₁b₁) + a₂b₂) …`
//! in the order of the inner index, one [`Float::add_product`] per step: fused (one rounding)
//! where the build has FMA, else a multiply then an add (see [`crate::float::FUSED`]). So a
//! product is bit-for-bit the same whatever the tiling, the batch size or the zero skipping,
//! and equal to a plain sequential sum with the same `add_product` (but for the sign of an
//! underflowed zero, below): a host built without the `fma` feature computes the very numbers
//! the Cortex-M4 does.
//!
//! **Zero skipping is exact.** A step whose `MR` values of A are all zero is left out when A
//! is packed: adding `0·b` to an accumulator changes nothing, unless `b` is infinite or NaN, or
//! the accumulator is −0. Accumulators start at +0; unfused, they never become −0 (a product
//! that rounds to −0, added to +0, gives +0), but fused, a negative product too small to round
//! to anything but zero (below 2⁻¹⁵⁰ in f32) leaves −0, which an added `0·b` would make +0
//! again: equal as numbers, not in the sign bit (`tests/matrix_ops.rs` pins it). Aᵀ read
//! whole (above) adds its all-zero steps, so there only the sign of such a zero can differ
//! from the skipping sum; the same on every unit, whose choice is the same. MNIST images
//! are about 80% zero pixels, so the products with a batch of images (Affine's `x·W` and
//! `xᵀ·dY`) skip most of their work; on dense data the list of steps is simply all of them.
//!
//! **One copy per vector unit.** Each kernel is compiled for every vector unit the build can
//! use and runs on the best one the CPU has, chosen when it is called (see [`isa`]): the same
//! sums in the same order on each, so the same numbers. Tiles are a whole number of the unit's
//! vectors wide: on 512-bit vectors, MNIST's 50 columns are one tile of four (64 lanes, where
//! 256-bit vectors take 16 + 16 + 18 in seven).
//!
//! **Sparse rows run alone.** Four MNIST images share few of their non-zero pixels: a block
//! of four has non-zero steps wherever any of them does (314 of 784 on average, against 156
//! per image). So on x86 a block whose first row is at most half non-zero runs row by row
//! instead, each row over its own steps, with a tile of up to 64 columns (eight vectors of
//! accumulators, enough to keep the adders busy with one row). Its non-zero values are found
//! with vector compares and, in f32 on AVX2, listed eight at a time by one permutation each
//! (`pack`); otherwise marked a bit each in a mask per 64 values and listed bit by bit. Eight
//! rows are listed before their products run, so that their reads from memory overlap (see
//! `Listed`). The Cortex-M4 keeps the blocks: it has no vectors to fill.
//!
//! **Sparse rows by column.** For `xᵀ·dY` of a batch of sparse rows, each row of the result
//! is one column of `x` times `dY`: given `x`'s values listed by column, it is a sparse row's
//! product again, with `dY` as B (`sparse_columns_tn`); otherwise each value updates a row of
//! the result in memory (`sparse_tn`). `x·W` of such a batch runs from its rows where a row
//! of the result fits the registers (MNIST's 50 outputs in f32: each value loads a row of `W`
//! and adds it in registers); wider, or on Intel's AVX-512 cores, from the same listing, which
//! takes each row of `W` into registers once and adds it into the rows of the result its
//! column lists (`sparse_columns_nn`, a load and a store of a row of sums for each value; see
//! `batch_by_rows`).
//!
//! **Narrow products** (A·B and Aᵀ·B at most two vectors wide, as MNIST's second layer) skip
//! none of this: blocks of four rows read in place, zeros and all (`narrow_blocks`,
//! `narrow_tn`).
//!
//! **The last columns of Aᵀ·B** (one or two past the last whole tile, as in 50 = 3·16 + 2)
//! run down the rows instead, 32 rows at a time, where each block would spend a nearly
//! full tile's time on them (see `column_tail`). **Those of A·B** join the tile before them in
//! a tile a vector wider (16 + 16 + 18 on 24 lanes), which shares its broadcasts of A (see
//! `strip` and `wide_tile`); on AVX2 + FMA, 17 to 20 such columns of f32 are a 4 × 16 tile
//! and one vector per two rows for the rest, written with intrinsics (see `avx2`). On
//! AVX-512, the tiles of four rows are written with its intrinsics too, so that their vectors
//! are 512 bits whatever the build's tuning (see `avx512`).

use super::sparse::SparseRow;
use crate::float::Float;

/// Rows of a register tile.
pub(crate) const MR: usize = 4;

/// Steps of the inner dimension packed at a time for a block of rows: few enough that the
/// `KC` rows of B they read (25 KB at MNIST's 50 columns, f32) stay in an x86 core's L1 cache
/// (32 KB on the smallest) while every block of rows goes through them. A Cortex-M4 has no
/// cache: there, more steps a time mean fewer reloads of the accumulators.
pub(crate) const KC: usize = if WIDE_ROWS { 128 } else { 256 };

/// The most steps a block of rows takes at a time: more than [`KC`] where the core's L1 data
/// cache holds more of B's rows (see `dense::pass_length`).
pub(crate) const KC_MAX: usize = if WIDE_ROWS { 2 * KC } else { KC };

/// Steps packed at a time for one row on its own (see "sparse rows" above): a whole MNIST
/// image, so that its outputs are loaded and stored once (6 KB of stack for f32).
pub(crate) const KR: usize = 1024;

/// Whether single rows run through [`row_strip`]'s wide tiles: where SIMD registers make a
/// wide row of accumulators cheap. A Cortex-M4 keeps [`strip`]'s narrow tiles, which fit its
/// 32 scalar float registers.
const WIDE_ROWS: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// Vectors in the widest one-row tile (`row_into`, `row_pair_into`, `column_strip`): the
/// sums of a row of up to this many vectors stay in registers in one pass. `by_vectors`
/// has a branch for each of 1 to this many.
pub(super) const TILE_VECTORS: usize = 8;

/// `f::<T, W, L>(args)` for `W` the lanes of the 1 to 8 ([`TILE_VECTORS`]) whole vectors of
/// `lanes` (16, 8 or 4) lanes that `cols` values take, `L = lanes`: a tile whose width is a
/// constant in each branch. Const generics cannot compute `v · L` for a generic `L`, so each
/// lane count is spelt out. With `const` before `lanes`, `cols` is a constant expression (of
/// the caller's const generics): the branch is then chosen while compiling, and only its tile
/// is compiled.
macro_rules! by_vectors {
    (const $lanes:expr, $cols:expr, $f:ident::<$($t:tt),+>($($arg:expr),* $(,)?)) => {
        match $lanes {
            16 => by_vectors!(
                @16 const { ($cols).div_ceil(16) }, $f, [$($t),+], ($($arg),*); 1 2 3 4 5 6 7 8
            ),
            8 => by_vectors!(
                @8 const { ($cols).div_ceil(8) }, $f, [$($t),+], ($($arg),*); 1 2 3 4 5 6 7 8
            ),
            _ => by_vectors!(
                @4 const { ($cols).div_ceil(4) }, $f, [$($t),+], ($($arg),*); 1 2 3 4 5 6 7 8
            ),
        }
    };
    ($lanes:expr, $cols:expr, $f:ident::<$($t:tt),+>($($arg:expr),* $(,)?)) => {
        match $lanes {
            16 => by_vectors!(@16 $cols.div_ceil(16), $f, [$($t),+], ($($arg),*); 1 2 3 4 5 6 7 8),
            8 => by_vectors!(@8 $cols.div_ceil(8), $f, [$($t),+], ($($arg),*); 1 2 3 4 5 6 7 8),
            _ => by_vectors!(@4 $cols.div_ceil(4), $f, [$($t),+], ($($arg),*); 1 2 3 4 5 6 7 8),
        }
    };
    (@$lanes:literal $vectors:expr, $f:ident, $t:tt, $args:tt; $($v:literal)*) => {
        match $vectors {
            $($v => by_vectors!(@call $f, $t, { $v * $lanes }, $lanes, $args),)*
            _ => unreachable!("1 to 8 vectors"),
        }
    };
    (@call $f:ident, [$($t:tt),+], $w:expr, $lanes:literal, $args:tt) => {
        $f::<$($t),+, $w, $lanes> $args
    };
}

/// How many values of `$t` (a [`Float`]) a vector of the unit `$i` (an [`Isa`]) holds, as a
/// constant, so that each unit's copy of a kernel compiles only the branches of its own width.
macro_rules! lanes {
    ($i:ty, $t:ty) => {
        const {
            if <$i as Isa>::WIDE {
                64 / <$t as Float>::BYTES
            } else {
                32 / <$t as Float>::BYTES
            }
        }
    };
}

/// `fn $name`: a one-row tile's step in the unit's vectors of `$lanes` `$t` (AVX2's or
/// AVX-512's, `$features`).
#[cfg(all(detect, fused))]
macro_rules! row_step {
    (
        $features:literal, $name:ident, $t:ty, $lanes:expr, $load:path, $store:path, $set1:ident,
        $fmadd:ident
    ) => {
        /// `acc[j] = acc[j] + a·b[j]` for every `j`, fused, a vector at a time, for `acc` and
        /// `b` of one length, a whole number of vectors: the step of the one-row tiles, whose
        /// rows are arrays the compiler would otherwise vectorise at its own width, or not at
        /// all.
        #[target_feature(enable = $features)]
        #[inline]
        pub(super) fn $name(acc: &mut [$t], a: $t, b: &[$t]) {
            debug_assert!(acc.len() == b.len() && acc.len().is_multiple_of($lanes));
            let a = $set1(a);
            let (b, _) = b.as_chunks::<{ $lanes }>();
            let (acc, _) = acc.as_chunks_mut::<{ $lanes }>();
            for (s, b) in acc.iter_mut().zip(b) {
                let sum = $fmadd(a, $load(b), $load(s));
                $store(s, sum);
            }
        }
    };
}

#[cfg(all(detect, fused))]
#[forbid(unsafe_code)]
mod avx2;
#[cfg(all(detect, fused))]
#[forbid(unsafe_code)]
mod avx512;
#[cfg(feature = "alloc")]
#[forbid(unsafe_code)]
mod columns;
#[forbid(unsafe_code)]
mod dense;
#[forbid(unsafe_code)]
mod elementwise;
#[allow(unsafe_code)]
pub(crate) mod isa;
#[cfg(feature = "alloc")]
#[forbid(unsafe_code)]
mod lined;
#[forbid(unsafe_code)]
mod listing;
#[cfg(detect)]
#[forbid(unsafe_code)]
mod pack;
#[forbid(unsafe_code)]
mod sparse_rows;
#[cfg(test)]
mod tests;

#[cfg(feature = "alloc")]
pub(crate) use self::{columns::*, lined::*};
pub(crate) use self::{dense::*, elementwise::*, listing::*, sparse_rows::*};
#[cfg(feature = "alloc")]
pub(crate) use isa::prefetch_sparse_rows;
use isa::{Isa, dispatch};

/// `pub trait $trait` with the entry points listed, and its impls for `f32` and `f64`, each
/// method calling the kernel function of its name, a call of its own (never inlined into
/// another crate, which would compile the kernels there again).
macro_rules! entry_points {
    (
        $(#[$doc:meta])* pub trait $trait:ident;
        $($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?);)*
    ) => {
        $(#[$doc])*
        pub trait $trait: Sized {
            $($(#[$meta])* fn $name($($arg: $ty),*);)*
        }
        entry_points!(@impl $trait for f32; $($(#[$meta])* fn $name($($arg: $ty),*);)*);
        entry_points!(@impl $trait for f64; $($(#[$meta])* fn $name($($arg: $ty),*);)*);
    };
    (@impl $trait:ident for $t:ty; $($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),*);)*) => {
        impl $trait for $t {
            $(
                $(#[$meta])*
                #[inline(never)]
                fn $name($($arg: $ty),*) {
                    $name($($arg),*)
                }
            )*
        }
    };
}

/// A scalar seen as the type it is, for code written for one type alone: the tiles written
/// with intrinsics (see `avx2` and `avx512`) and x86-64's fused multiply-add. A supertrait of
/// [`Float`], which no other crate can name.
pub trait AsF32: Sized + 'static {
    /// The values, if they are `f32`.
    fn f32s(values: &[Self]) -> Option<&[f32]>;
    /// The values, if they are `f32`.
    fn f32s_mut(values: &mut [Self]) -> Option<&mut [f32]>;
    /// The values, if they are `f64`.
    fn f64s(values: &[Self]) -> Option<&[f64]>;
    /// The values, if they are `f64`.
    fn f64s_mut(values: &mut [Self]) -> Option<&mut [f64]>;
    /// `self + a·b` by FMA's instruction (see [`Isa::add_product`]).
    #[cfg(all(detect, fused))]
    fn add_product_fma(self, a: Self, b: Self, fma: isa::HasFma) -> Self;
}

impl AsF32 for f32 {
    #[cfg(all(detect, fused))]
    #[inline(always)]
    fn add_product_fma(self, a: Self, b: Self, fma: isa::HasFma) -> Self {
        fma.f32(self, a, b)
    }
    #[inline(always)]
    fn f32s(values: &[Self]) -> Option<&[f32]> {
        Some(values)
    }
    #[inline(always)]
    fn f32s_mut(values: &mut [Self]) -> Option<&mut [f32]> {
        Some(values)
    }
    #[inline(always)]
    fn f64s(_: &[Self]) -> Option<&[f64]> {
        None
    }
    #[inline(always)]
    fn f64s_mut(_: &mut [Self]) -> Option<&mut [f64]> {
        None
    }
}

impl AsF32 for f64 {
    #[cfg(all(detect, fused))]
    #[inline(always)]
    fn add_product_fma(self, a: Self, b: Self, fma: isa::HasFma) -> Self {
        fma.f64(self, a, b)
    }
    #[inline(always)]
    fn f32s(_: &[Self]) -> Option<&[f32]> {
        None
    }
    #[inline(always)]
    fn f32s_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
    #[inline(always)]
    fn f64s(values: &[Self]) -> Option<&[f64]> {
        Some(values)
    }
    #[inline(always)]
    fn f64s_mut(values: &mut [Self]) -> Option<&mut [f64]> {
        Some(values)
    }
}

entry_points! {
    /// The kernels' entry points for one scalar type, implemented for `f32` and `f64` here:
    /// each is compiled once, in this crate, instead of again in every crate (and every test or
    /// example) that multiplies matrices, where the kernels were most of the code. A supertrait
    /// of [`Float`] that no other crate can name, which seals `Float`.
    pub trait Kernels;
    /// `c (m×n) = a (m×k) · b (k×n)`: [`gemm_nn`].
    fn gemm_nn(a: &[Self], b: &[Self], c: &mut [Self], m: usize, k: usize, n: usize);
    /// `c (m×n) = aᵀ · b` with `a (k×m)`, `b (k×n)`: [`gemm_tn`].
    fn gemm_tn(a: &[Self], b: &[Self], c: &mut [Self], k: usize, m: usize, n: usize);
    /// `c (m×n) = a · bᵀ` with `a (m×k)`, `b (n×k)`: [`gemm_nt`].
    fn gemm_nt(a: &[Self], b: &[Self], c: &mut [Self], m: usize, k: usize, n: usize);
    /// `c = xᵀ · d` from values listed by column: [`sparse_columns_tn`].
    #[cfg(feature = "alloc")]
    fn sparse_columns_tn(
        starts: &[u32], rows: &[u16], values: &[Self], d: &[Self], c: &mut [Self], n: usize,
    );
    /// `c = x · b` from values listed by column: [`sparse_columns_nn`].
    #[cfg(feature = "alloc")]
    fn sparse_columns_nn(
        starts: &[u32], rows: &[u16], values: &[Self], b: &[Self], c: &mut [Self], n: usize,
    );
}
