//! The vector unit the kernels run on, chosen at run time, and the fused multiply-add of
//! x86-64's units and aarch64: the crate's only `unsafe` code.
//!
//! A plain `cargo build` for x86-64 targets the 2003 baseline (SSE2, no FMA), and a
//! dependency cannot change that (Cargo ignores its `.cargo/config.toml`). So the kernels are
//! compiled once per vector unit and the best unit the CPU has runs them, chosen when a kernel
//! is called (`cpuid`, asked once and kept in a static: then a load and a test; from `core`,
//! so `no_std` builds have it too): [`Avx512`] (512-bit vectors), else [`Avx2Fma`] (256-bit),
//! else [`Base`].
//!
//! A unit is a token type implementing [`Isa`]: a value of [`Avx2Fma`] exists only where the
//! CPU has AVX2 and FMA (its field is private; only [`Avx2Fma::detect`] makes one), and so on.
//! Each of the kernels' functions that must stay a call of its own (an entry point, or a
//! function kept apart for register allocation) is called as a method of `Isa`
//! (`isa.row_blocks(…)`), which runs it inlined into a function compiled for the unit whose
//! parameters are the function's own: so the compiler still knows that `c` aliases nothing (a
//! closure's captures would hide it, and cost the listing of sparse rows a factor of three).
//! The functions take the token and pass it on, so that all of a kernel's code runs on the unit
//! that called it, and [`Isa::WIDE`] picks tiles a whole number of the unit's vectors wide (a
//! constant: each unit's copy compiles only its own widths).
//!
//! A unit may also have code written for it alone with its intrinsics ([`VectorTile`]: AVX2 +
//! FMA's split tile in `avx2`, AVX-512's tiles and one-row step in `avx512`;
//! [`ListNonzero`]: AVX2's listing of non-zero values in `pack`, which both x86 units run),
//! which is safe code; the call into it after detection is the `unsafe` here, with the same
//! argument as the others (and [`store`]'s and [`load`]'s whole and masked vectors, which
//! go through a pointer).
//!
//! Every step of every product is [`Isa::add_product`]: [`Float::add_product`]'s number,
//! computed by the unit's FMA instruction on the x86-64 units that have it (fused builds:
//! `core` has no `mul_add` on stable Rust, so the kernels reach the instruction through a
//! [`HasFma`], which only a unit's token makes), and by `Float::add_product` itself elsewhere.
//!
//! Without detection (a target other than x86-64, or soft-float bare-metal x86-64) there is one
//! unit, [`Base`]: whatever the build targets (the Cortex-M4's FPU, aarch64's NEON, or the
//! features a build enables), with the tiles of 256-bit vectors. Every unit sums every product
//! in the same order with the same rounding: the numbers are the same whichever unit runs them
//! (`kernels::tests` runs each unit the machine has).
//!
//! The AVX-512 copy is written as the others are (arrays the compiler turns into vectors), so
//! the vector width would be the compiler's choice: 512 bits with the default tuning, 256 in a
//! build with `-C target-cpu=native` on an Intel CPU whose tuning prefers 256-bit vectors
//! (Skylake-SP to Emerald Rapids). So its steps that carry the work are written with `__m512`
//! and `__m512d` (`avx512`): the dense tiles of four rows, and the step of every one-row tile
//! ([`Isa::add_row`]: sparse rows, rows by column, lined rows, the narrow products). What is
//! left to the compiler's width is the few steps at a tile's end (PERFORMANCE.md has the
//! figures).

use super::dense::{self, Panel};
#[cfg(feature = "alloc")]
use super::{Line, columns, lined};
use super::{listing, sparse_rows};
use crate::float::Float;
use crate::matrix::sparse::SparseRow;

/// `impl Isa for $unit`, whose methods run the kernels' functions compiled with the target
/// features `$features`, in a module `$module` (one function per kernel).
#[cfg(detect)]
macro_rules! unit {
    ($unit:ident, $module:ident, $features:literal, $wide:literal; $(
        $(#[$meta:meta])*
        fn $name:ident [$($gen:tt)*] [$($tf:tt)*] ($($arg:ident: $ty:ty),*) $(-> $ret:ty)? = $($body:ident)::+;
    )*) => {
        impl Isa for $unit {
            const WIDE: bool = $wide;
            #[cfg(fused)]
            #[inline(always)]
            fn add_product<T: Float>(self, s: T, a: T, b: T) -> T {
                s.add_product_fma(a, b, HasFma(()))
            }
            #[inline(always)]
            fn run<R>(self, f: impl FnOnce() -> R) -> R {
                // SAFETY: a value of the unit is made only by its `detect`, which found its
                // features on this CPU: the function's instructions exist here.
                unsafe { $module::run(f) }
            }
            #[inline(always)]
            fn prefetch<T>(self, data: &[T]) {
                prefetch_lines(data);
            }
            $(
                $(#[$meta])*
                #[inline(always)]
                fn $name<$($gen)*>(self, $($arg: $ty),*) $(-> $ret)? {
                    // SAFETY: as for `run`.
                    unsafe { $module::$name::<$($tf)*>(self, $($arg),*) }
                }
            )*
        }

        /// The kernels compiled for the unit.
        mod $module {
            use super::*;

            #[target_feature(enable = $features)]
            #[inline(never)]
            pub(super) fn run<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            $(
                $(#[$meta])*
                #[target_feature(enable = $features)]
                #[inline(never)]
                #[allow(clippy::too_many_arguments)]
                pub(super) fn $name<$($gen)*>(isa: $unit, $($arg: $ty),*) $(-> $ret)? {
                    $($body)::+::<$unit, $($tf)*>(isa, $($arg),*)
                }
            )*
        }
    };
}

#[cfg(not(detect))]
macro_rules! unit {
    ($($tt:tt)*) => {};
}

/// The kernels' functions that are calls of their own, once per unit: `fn name[generics]
/// [turbofish](params) -> return = path;` makes a method `name` of [`Isa`] that runs the
/// function at `path` (whose first parameter is the unit) inlined into the unit's copy.
macro_rules! units {
    ($(
        $(#[$meta:meta])*
        fn $name:ident [$($gen:tt)*] [$($tf:tt)*] ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? = $($body:ident)::+;
    )*) => {
        /// A vector unit the kernels can be compiled for; its methods run the kernels'
        /// functions compiled for it.
        pub(super) trait Isa: Copy + VectorTile + ListNonzero {
            /// Whether the unit's vectors are 512 bits wide (16 f32), not 256: the tiles are
            /// chosen a whole number of its vectors wide.
            const WIDE: bool;
            /// `s + a·b`, the kernels' step: [`Float::add_product`]'s number, with the unit's
            /// own instruction where it has one (x86-64's FMA: outside a unit with it, `libm`
            /// computes the fused sum, a call per value).
            #[inline(always)]
            fn add_product<T: Float>(self, s: T, a: T, b: T) -> T {
                s.add_product(a, b)
            }
            /// `acc[j] = acc[j] + a·b[j]` for every `j`, [`Isa::add_product`] on each: the
            /// step of every one-row tile, in the unit's own vectors where it has them
            /// ([`VectorTile::vector_row`]), else in a loop the compiler vectorises.
            #[inline(always)]
            fn add_row<T: Float, const W: usize>(self, acc: &mut [T; W], a: T, b: &[T; W]) {
                if !(Self::WIDE && self.vector_row(acc, a, b)) {
                    for (s, &x) in acc.iter_mut().zip(b) {
                        *s = self.add_product(*s, a, x);
                    }
                }
            }
            /// [`Isa::add_row`] in the unit's own vectors on AVX2 too, where `add_row` leaves
            /// AVX2's rows to the compiler (whose loops were measured that way): for
            /// `column_tail`, whose 16 × 2 f64 sums the compiler kept in scalars, on the stack.
            #[inline(always)]
            fn add_row_vectors<T: Float, const W: usize>(
                self,
                acc: &mut [T; W],
                a: T,
                b: &[T; W],
            ) {
                if !self.vector_row(acc, a, b) {
                    self.add_row(acc, a, b);
                }
            }
            /// Asks the cache for `data`'s lines ahead of their use: a hint, which changes no
            /// value (nothing on a unit without the instruction). For the rows of a batch that
            /// another thread drew from a data set far larger than the cache and listed by
            /// column: each row's first reads would otherwise wait on its lines one by one.
            #[inline(always)]
            fn prefetch<T>(self, _data: &[T]) {}
            /// `f()`, compiled for this unit (with what `f` inlines), behind a call: for
            /// elementwise loops (see `vectorized`), whose captures hide nothing that matters.
            fn run<R>(self, f: impl FnOnce() -> R) -> R;
            $(
                $(#[$meta])*
                #[allow(clippy::too_many_arguments)]
                fn $name<$($gen)*>(self, $($arg: $ty),*) $(-> $ret)?;
            )*
        }

        impl Isa for Base {
            const WIDE: bool = false;
            #[inline(never)]
            fn run<R>(self, f: impl FnOnce() -> R) -> R {
                f()
            }
            $(
                $(#[$meta])*
                #[inline(never)]
                fn $name<$($gen)*>(self, $($arg: $ty),*) $(-> $ret)? {
                    $($body)::+::<Base, $($tf)*>(self, $($arg),*)
                }
            )*
        }

        unit!(Avx2Fma, avx2_fma, "avx2,fma", false; $(
            $(#[$meta])* fn $name [$($gen)*] [$($tf)*] ($($arg: $ty),*) $(-> $ret)? = $($body)::+;
        )*);
        unit!(Avx512, avx512, "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma", true; $(
            $(#[$meta])* fn $name [$($gen)*] [$($tf)*] ($($arg: $ty),*) $(-> $ret)? = $($body)::+;
        )*);
    };
}

units! {
    fn narrow_blocks[T: Float, const W: usize, const L: usize][T, W, L](
        a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize,
    ) = dense::narrow_blocks;
    fn narrow_tn[T: Float, const W: usize, const L: usize][T, W, L](
        a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize,
    ) = dense::narrow_tn;
    fn nt_small[T: Float][T](
        a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize,
    ) = dense::nt_small;
    fn nt_whole[T: Float][T](
        a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize,
    ) = dense::nt_whole;
    fn nt_driver[T: Float, const NR: usize][T, NR](
        a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize,
    ) = dense::nt_driver;
    fn driver[T: Float, const TA: bool, const NR: usize, const NR2: usize][T, TA, NR, NR2](
        a: &[T], lda: usize, b: &[T], c: &mut [T], m: usize, k: usize, n: usize,
    ) = dense::driver;
    fn row_blocks[
        T: Float, const TA: bool, const NR: usize, const NR2: usize, const DENSE: bool,
        const ALL: bool
    ][T, TA, NR, NR2, DENSE, ALL](
        a: &[T], lda: usize, b: &[T], c: &mut [T], rows: core::ops::Range<usize>, k: usize,
        n: usize, blocks: u64, filled: u64,
    ) = dense::row_blocks;
    fn column_tail[T: Float][T](
        a: &[T], lda: usize, b: &[T], c: &mut [T], n: usize, k: usize,
        tails: core::ops::Range<usize>, tail: usize,
    ) = dense::column_tail;
    fn single_rows[T: Float, const TA: bool, const NR: usize, const NR2: usize][T, TA, NR, NR2](
        a: &[T], lda: usize, b: &[T], c: &mut [T], rows: core::ops::Range<usize>, k: usize,
        n: usize,
    ) = dense::single_rows;
    fn wide_tile[T: Float, const R: usize, const W: usize, const L: usize][T, R, W, L](
        panel: Panel<'_, T, R>, b_rows: &[T], ldb: usize, cols: usize, c: &mut [T], ldc: usize,
        i0: usize, rows: usize, j0: usize, accumulate: bool,
    ) = dense::wide_tile;
    fn sparse_blocks[T: Float, const L: usize][T, L](
        a: &[T], lda: usize, b: &[T], c: &mut [T], group: core::ops::Range<usize>, k: usize,
        n: usize,
    ) -> (u64, u64) = listing::sparse_blocks;
    fn sparse_nn[T: Float, const K: usize, const N: usize][T, K, N](
        x: &[SparseRow<'_, T, K>], b: &[T], c: &mut [T],
    ) = sparse_rows::sparse_nn_body;
    fn sparse_tn[T: Float, const K: usize, const N: usize][T, K, N](
        x: &[SparseRow<'_, T, K>], d: &[[T; N]], c: &mut [[T; N]; K],
    ) = sparse_rows::sparse_tn_body;
    #[cfg(feature = "alloc")]
    fn row_pair_whole[T: Float, const W: usize, const L: usize][T, W, L](
        rows: [(&[T], &[u16]); 2], b: &[[T; W]], c: [&mut [T]; 2],
    ) = sparse_rows::row_pair_whole;
    #[cfg(feature = "alloc")]
    fn sparse_columns_tn[T: Float][T](
        starts: &[u32], rows: &[u16], values: &[T], d: &[T], c: &mut [T], n: usize,
    ) = columns::sparse_columns_tn_body;
    #[cfg(feature = "alloc")]
    fn sparse_columns_nn[T: Float][T](
        starts: &[u32], rows: &[u16], values: &[T], b: &[T], c: &mut [T], n: usize,
    ) = columns::sparse_columns_nn_body;
    #[cfg(feature = "alloc")]
    fn sparse_lined[T: Float, const K: usize, const O: usize][T, K, O](
        x: &[SparseRow<'_, T, K>], main: &[Line<T>], tail: &[T], c: &mut [[T; O]],
    ) = lined::sparse_lined_body;
}

/// [`VectorTile::vector_row`]'s body: `$f32` (`$f64`), `$lanes32` (`$lanes64`) values a
/// vector, run on the slices seen as their scalar type, if it is that and the row is a whole
/// number of vectors. `unsafe { f }` marks the call, whose SAFETY argument precedes the use.
#[cfg(all(detect, fused))]
macro_rules! vector_row {
    (
        $t:ty, $acc:ident, $a:ident, $b:ident; unsafe { $f32:ident }, $lanes32:literal;
        unsafe { $f64:ident }, $lanes64:literal
    ) => {{
        macro_rules! run {
            ($add_row:ident, $values:ident, $values_mut:ident, $lanes:literal) => {
                match (
                    <$t>::$values_mut($acc),
                    <$t>::$values(core::slice::from_ref(&$a)),
                    <$t>::$values($b),
                ) {
                    (Some(acc), Some(&[a]), Some(b))
                        if !acc.is_empty() && acc.len() % $lanes == 0 =>
                    {
                        // SAFETY: the caller's, above the use.
                        unsafe { $add_row(acc, a, b) };
                        true
                    }
                    _ => false,
                }
            };
        }
        match <$t as Float>::BYTES {
            4 => run!($f32, f32s, f32s_mut, $lanes32),
            8 => run!($f64, f64s, f64s_mut, $lanes64),
            _ => false,
        }
    }};
}

/// The A·B tiles written with one unit's own vectors and intrinsics, where it has them (only
/// where the kernels fuse: the tiles do).
pub(super) trait VectorTile: Sized {
    /// The unit's own tile of `R` rows and `NR` columns (`cols` of them stored) for the steps
    /// of `panel` it can take (how many: the caller adds the others), or `None`:
    /// - AVX2 + FMA: [`avx2::split_tile`](super::avx2::split_tile) for `f32`, `R` = 4, `NR` =
    ///   24 and 17 to 20 columns, or `split_tile_f64`, `NR` = 12 and 9 or 10 columns (asked by
    ///   `wide_tile`);
    /// - AVX-512: [`avx512::tile_f32`](super::avx512::tile_f32) or `tile_f64` for `R` = 4
    ///   and a tile one, three or four vectors wide (`NR` 16, 48 or 64 f32, 8, 24 or 32 f64;
    ///   asked by `micro`), or [`avx512::split_tile_f32`](super::avx512::split_tile_f32) for
    ///   `NR` = 64 and 49 to 52 columns of f32.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn vector_tile<T: Float, const R: usize, const NR: usize>(
        self,
        _panel: Panel<'_, T, R>,
        _b_rows: &[T],
        _ldb: usize,
        _cols: usize,
        _c: &mut [T],
        _ldc: usize,
        _i0: usize,
        _rows: usize,
        _j0: usize,
        _accumulate: bool,
    ) -> Option<usize> {
        None
    }

    /// The unit's own tile of two blocks of rows read in place (`rows`, eight of them) and
    /// `cols` columns, for the steps it can take (how many: the caller adds the others), or
    /// `None`: AVX-512's [`split_tile8_f32`](super::avx512::split_tile8_f32), f32 and 50
    /// columns (MNIST's), B's rows side by side (asked by `row_blocks`).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn vector_pair<T: Float>(
        self,
        _rows: [&[T]; 8],
        _b_rows: &[T],
        _ldb: usize,
        _cols: usize,
        _c: &mut [T],
        _ldc: usize,
        _i0: usize,
        _accumulate: bool,
    ) -> Option<usize> {
        None
    }

    /// `acc[j] = acc[j] + a·b[j]` for every `j`, fused, in the unit's own vectors
    /// ([`avx512::add_row_f32`](super::avx512::add_row_f32) or `add_row_f64`, AVX2's
    /// [`avx2::add_row_f32`](super::avx2::add_row_f32) or `add_row_f64`), where the unit has
    /// them and the row is a whole number of them (`true`), else `false`: the caller adds the
    /// products.
    #[inline(always)]
    fn vector_row<T: Float>(self, _acc: &mut [T], _a: T, _b: &[T]) -> bool {
        false
    }

    /// [`dense::transpose_into`](super::dense::transpose_into) in the unit's own vectors
    /// (AVX-512's [`avx512::transpose_f32`](super::avx512::transpose_f32) and
    /// `transpose_f64`), where it has them (`true`), else `false`: the caller transposes.
    #[inline(always)]
    fn vector_transpose<T: Float>(
        self,
        _b: &[T],
        _k: usize,
        _steps: core::ops::Range<usize>,
        _ld: usize,
        _out: &mut [T],
    ) -> bool {
        false
    }
}

impl VectorTile for Base {}

#[cfg(all(detect, not(fused)))]
impl VectorTile for Avx2Fma {}

#[cfg(all(detect, fused))]
impl VectorTile for Avx2Fma {
    #[inline(always)]
    fn vector_tile<T: Float, const R: usize, const NR: usize>(
        self,
        panel: Panel<'_, T, R>,
        b_rows: &[T],
        ldb: usize,
        cols: usize,
        c: &mut [T],
        ldc: usize,
        i0: usize,
        rows: usize,
        j0: usize,
        accumulate: bool,
    ) -> Option<usize> {
        use super::avx2::{split_tile, split_tile_f64};
        // `$split::<COLS>` for the matching `cols`, on the slices seen as their scalar type.
        macro_rules! run {
            ($split:ident, $as:ident, $values:ident, $values_mut:ident; $($cols:literal)*) => {{
                let panel = panel.$as()?;
                let (b, c) = (T::$values(b_rows)?, T::$values_mut(c)?);
                // SAFETY: a value of `Avx2Fma` is made only by its `detect`, which found AVX2
                // and FMA on this CPU: the function's instructions exist here.
                unsafe {
                    match cols {
                        $($cols => Some($split::<$cols>(
                            panel, b, ldb, c, ldc, i0, rows, j0, accumulate,
                        )),)*
                        _ => None,
                    }
                }
            }};
        }
        match (T::BYTES, NR) {
            (4, 24) => run!(split_tile, as_f32, f32s, f32s_mut; 17 18 19 20),
            (8, 12) => run!(split_tile_f64, as_f64, f64s, f64s_mut; 9 10),
            _ => None,
        }
    }

    #[inline(always)]
    fn vector_row<T: Float>(self, acc: &mut [T], a: T, b: &[T]) -> bool {
        use super::avx2::{add_row_f32, add_row_f64};
        // SAFETY: a value of `Avx2Fma` is made only by its `detect`, which found AVX2 and FMA
        // on this CPU: the functions' instructions exist here.
        vector_row!(T, acc, a, b; unsafe { add_row_f32 }, 8; unsafe { add_row_f64 }, 4)
    }
}

#[cfg(all(detect, not(fused)))]
impl VectorTile for Avx512 {}

#[cfg(all(detect, fused))]
impl VectorTile for Avx512 {
    #[inline(always)]
    fn vector_tile<T: Float, const R: usize, const NR: usize>(
        self,
        panel: Panel<'_, T, R>,
        b_rows: &[T],
        ldb: usize,
        cols: usize,
        c: &mut [T],
        ldc: usize,
        i0: usize,
        rows: usize,
        j0: usize,
        accumulate: bool,
    ) -> Option<usize> {
        use super::avx512::{tile_f32, tile_f64};
        if R != 4 {
            return None;
        }
        // The tile `$tile` of `NR` = `$nr` columns in `$v` vectors, on the panel and slices
        // seen as its scalar type.
        macro_rules! run {
            ($tile:ident, $panel:ident, $values:ident, $values_mut:ident;
             $($nr:literal => $v:literal),*) => {{
                let panel = panel.$panel()?;
                let (b, c) = (T::$values(b_rows)?, T::$values_mut(c)?);
                // SAFETY: a value of `Avx512` is made only by its `detect`, which found AVX-512
                // F, VL, BW and DQ, AVX2 and FMA on this CPU: the function's instructions exist
                // here.
                Some(unsafe {
                    match NR {
                        $($nr => $tile::<$nr, $v>(
                            panel, b, ldb, cols, c, ldc, i0, rows, j0, accumulate,
                        ),)*
                        _ => unreachable!("a width matched below"),
                    }
                })
            }};
        }
        if (T::BYTES, NR) == (4, 64) && (49..=52).contains(&cols) {
            use super::avx512::split_tile_f32;
            let panel = panel.as_f32()?;
            let (b, c) = (T::f32s(b_rows)?, T::f32s_mut(c)?);
            // SAFETY: a value of `Avx512` is made only by its `detect`, which found AVX-512 F,
            // VL, BW and DQ, AVX2 and FMA on this CPU: the function's instructions exist here.
            return Some(unsafe {
                match cols {
                    49 => split_tile_f32::<49>(panel, b, ldb, c, ldc, i0, rows, j0, accumulate),
                    50 => split_tile_f32::<50>(panel, b, ldb, c, ldc, i0, rows, j0, accumulate),
                    51 => split_tile_f32::<51>(panel, b, ldb, c, ldc, i0, rows, j0, accumulate),
                    _ => split_tile_f32::<52>(panel, b, ldb, c, ldc, i0, rows, j0, accumulate),
                }
            });
        }
        match (T::BYTES, NR) {
            (4, 16 | 48 | 64) => run!(tile_f32, as_f32, f32s, f32s_mut; 16 => 1, 48 => 3, 64 => 4),
            (8, 8 | 24 | 32) => run!(tile_f64, as_f64, f64s, f64s_mut; 8 => 1, 24 => 3, 32 => 4),
            _ => None,
        }
    }

    #[inline(always)]
    fn vector_pair<T: Float>(
        self,
        rows: [&[T]; 8],
        b_rows: &[T],
        ldb: usize,
        cols: usize,
        c: &mut [T],
        ldc: usize,
        i0: usize,
        accumulate: bool,
    ) -> Option<usize> {
        use super::avx512::{PAIR_COLS, split_tile8_f32};
        if (cols, ldb) != (PAIR_COLS, PAIR_COLS) {
            return None;
        }
        let (b, c) = (T::f32s(b_rows)?, T::f32s_mut(c)?);
        let mut a: [&[f32]; 8] = [&[]; 8];
        for (a, row) in a.iter_mut().zip(rows) {
            *a = T::f32s(row)?;
        }
        // SAFETY: a value of `Avx512` is made only by its `detect`, which found AVX-512 F, VL,
        // BW and DQ, AVX2 and FMA on this CPU: the function's instructions exist here.
        Some(unsafe { split_tile8_f32(a, b, c, ldc, i0, accumulate) })
    }

    #[inline(always)]
    fn vector_row<T: Float>(self, acc: &mut [T], a: T, b: &[T]) -> bool {
        use super::avx512::{add_row_f32, add_row_f64};
        // SAFETY: a value of `Avx512` is made only by its `detect`, which found AVX-512 F, VL,
        // BW and DQ, AVX2 and FMA on this CPU: the functions' instructions exist here.
        vector_row!(T, acc, a, b; unsafe { add_row_f32 }, 16; unsafe { add_row_f64 }, 8)
    }

    #[inline(always)]
    fn vector_transpose<T: Float>(
        self,
        b: &[T],
        k: usize,
        steps: core::ops::Range<usize>,
        ld: usize,
        out: &mut [T],
    ) -> bool {
        use super::avx512::{transpose_f32, transpose_f64};
        // SAFETY (both calls): a value of `Avx512` is made only by its `detect`, which found
        // AVX-512 F, VL, BW and DQ, AVX2 and FMA on this CPU: the functions' instructions
        // exist here.
        if let (Some(b), Some(out)) = (T::f32s(b), T::f32s_mut(out)) {
            unsafe { transpose_f32(b, k, steps, ld, out) };
            true
        } else if let (Some(b), Some(out)) = (T::f64s(b), T::f64s_mut(out)) {
            unsafe { transpose_f64(b, k, steps, ld, out) };
            true
        } else {
            false
        }
    }
}

/// Listing a row's non-zero values written for one unit with its intrinsics (see `pack`),
/// where it has them.
pub(super) trait ListNonzero: Sized {
    /// [`pack::list_nonzero_f32`](super::pack::list_nonzero_f32) where the unit has it and `T`
    /// is `f32` (how many values it listed), else `None`.
    #[inline(always)]
    fn list_nonzero<T: Float>(
        self,
        _row: &[T],
        _start: usize,
        _values: &mut [T],
        _steps: &mut [u16],
    ) -> Option<usize> {
        None
    }
}

impl ListNonzero for Base {}

/// AVX2's list, for both units that have it.
#[cfg(detect)]
macro_rules! list_with_avx2 {
    ($unit:ty) => {
        impl ListNonzero for $unit {
            #[inline(always)]
            fn list_nonzero<T: Float>(
                self,
                row: &[T],
                start: usize,
                values: &mut [T],
                steps: &mut [u16],
            ) -> Option<usize> {
                let (row, values) = (T::f32s(row)?, T::f32s_mut(values)?);
                // SAFETY: a value of the unit is made only by its `detect`, which found AVX2
                // on this CPU (with FMA, or with AVX-512 besides): the function's
                // instructions exist here.
                Some(unsafe { super::pack::list_nonzero_f32(row, start, values, steps) })
            }
        }
    };
}

#[cfg(detect)]
list_with_avx2!(Avx2Fma);
#[cfg(detect)]
list_with_avx2!(Avx512);

/// What the build targets, with no run-time check: the only unit without detection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Base;

/// AVX2 and FMA (x86-64 since 2013–2015): 256-bit vectors, fused multiply-add.
#[cfg(detect)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2Fma(());

#[cfg(detect)]
impl Avx2Fma {
    /// The token, if this CPU has AVX2 and FMA (and the OS keeps the 256-bit registers).
    #[inline(always)]
    pub(crate) fn detect() -> Option<Self> {
        (cpu::features() & cpu::AVX2_FMA != 0).then_some(Self(()))
    }
}

/// AVX-512 (F, VL, BW, DQ; Intel since 2017, AMD since 2022) with AVX2 and FMA: 512-bit
/// vectors and 32 registers of them.
#[cfg(detect)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512(());

#[cfg(detect)]
impl Avx512 {
    /// The token, if this CPU has AVX-512 F, VL, BW and DQ, AVX2 and FMA (and the OS keeps the
    /// 512-bit registers).
    #[inline(always)]
    pub(crate) fn detect() -> Option<Self> {
        (cpu::features() & cpu::AVX512 != 0).then_some(Self(()))
    }
}

/// The size of this core's L1 data cache in bytes, or 0 where it is not known (builds that
/// do not choose their unit at run time).
#[inline(always)]
pub(super) fn l1_data_bytes() -> usize {
    #[cfg(detect)]
    {
        cpu::l1_data()
    }
    #[cfg(not(detect))]
    {
        0
    }
}

/// Whether this is an Intel CPU, for the choices measured to differ between Intel's cores and
/// AMD's (`false` in builds that do not choose their unit at run time).
#[cfg(feature = "alloc")]
#[inline(always)]
pub(super) fn intel() -> bool {
    #[cfg(detect)]
    {
        cpu::features() & cpu::INTEL != 0
    }
    #[cfg(not(detect))]
    {
        false
    }
}

/// What this CPU has, found once by `cpuid` (from `core`: `std`'s detection macro is the only
/// other way on stable Rust) and kept in a static: after the first call, a load and a test.
#[cfg(detect)]
mod cpu {
    use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};
    use core::sync::atomic::{AtomicU8, AtomicU32, Ordering};

    /// Set once the CPU has been asked.
    const ASKED: u8 = 1;
    /// AVX2 and FMA, with the OS saving the 256-bit registers.
    pub(super) const AVX2_FMA: u8 = 2;
    /// AVX-512 F, VL, BW and DQ besides, with the OS saving the 512-bit registers and masks.
    pub(super) const AVX512: u8 = 4;
    /// An Intel CPU (`cpuid` leaf 0's vendor "GenuineIntel").
    pub(super) const INTEL: u8 = 8;

    static FEATURES: AtomicU8 = AtomicU8::new(0);

    /// The bits above for this CPU.
    #[inline(always)]
    pub(super) fn features() -> u8 {
        match FEATURES.load(Ordering::Relaxed) {
            0 => ask(),
            known => known,
        }
    }

    /// Asks the CPU (two threads may both ask: they find the same answer).
    #[cold]
    #[inline(never)]
    fn ask() -> u8 {
        let bit = |word: u32, n: u32| word >> n & 1 == 1;
        let mut found = ASKED;
        // Leaf 0: the highest leaf in EAX, the vendor's twelve letters in EBX, EDX, ECX.
        let vendor = __cpuid(0);
        if [vendor.ebx, vendor.edx, vendor.ecx] == [0x756e_6547, 0x4965_6e69, 0x6c65_746e] {
            found |= INTEL;
        }
        let basic = __cpuid(1).ecx;
        // FMA, AVX, and OSXSAVE: the OS has turned XSAVE on, so XGETBV may run.
        if vendor.eax >= 7 && bit(basic, 12) && bit(basic, 28) && bit(basic, 27) {
            // SAFETY: CPUID.1:ECX.OSXSAVE, just read, says XGETBV exists and is enabled: its
            // `xsave` target feature is there, and it only reads a control register.
            let saved = unsafe { _xgetbv(0) };
            let extended = __cpuid_count(7, 0).ebx;
            // XCR0: SSE and AVX state (bits 1, 2), then AVX-512's mask and upper registers
            // (5 to 7).
            let ymm = saved & 0b110 == 0b110;
            let zmm = saved & 0b1110_0000 == 0b1110_0000;
            if ymm && bit(extended, 5) {
                found |= AVX2_FMA;
                // F, DQ, BW, VL.
                if zmm && [16, 17, 30, 31].into_iter().all(|n| bit(extended, n)) {
                    found |= AVX512;
                }
            }
        }
        FEATURES.store(found, Ordering::Relaxed);
        found
    }

    /// The L1 data cache's size in bytes, once asked (`u32::MAX` before).
    static L1_DATA: AtomicU32 = AtomicU32::new(u32::MAX);

    /// The size of this core's L1 data cache in bytes (0 if `cpuid` does not tell).
    #[inline(always)]
    pub(super) fn l1_data() -> usize {
        match L1_DATA.load(Ordering::Relaxed) {
            u32::MAX => ask_l1_data() as usize,
            bytes => bytes as usize,
        }
    }

    /// Asks the CPU: Intel lists its caches in leaf 4, one a subleaf (type 1 is data), with
    /// ways, partitions, line size and sets; AMD leaves that leaf empty and gives the L1 data
    /// cache's kilobytes in leaf 0x8000_0005 (ECX bits 24 to 31).
    #[cold]
    #[inline(never)]
    fn ask_l1_data() -> u32 {
        let listed = (__cpuid(0).eax >= 4)
            .then(|| {
                (0..8)
                    .map(|i| __cpuid_count(4, i))
                    .take_while(|r| r.eax & 0x1f != 0)
                    .find(|r| r.eax & 0x1f == 1 && (r.eax >> 5) & 7 == 1)
            })
            .flatten()
            .map(|r| {
                let ways = (r.ebx >> 22) + 1;
                let partitions = ((r.ebx >> 12) & 0x3ff) + 1;
                let line = (r.ebx & 0xfff) + 1;
                ways * partitions * line * (r.ecx + 1)
            });
        let bytes = listed.unwrap_or_else(|| {
            if __cpuid(0x8000_0000).eax >= 0x8000_0005 {
                (__cpuid(0x8000_0005).ecx >> 24) * 1024
            } else {
                0
            }
        });
        let bytes = bytes.min(u32::MAX - 1);
        L1_DATA.store(bytes, Ordering::Relaxed);
        bytes
    }
}

/// Proof that this CPU has x86-64's fused multiply-add: made only by a unit whose token's
/// `detect` found FMA ([`Avx2Fma`], [`Avx512`]), for [`Isa::add_product`].
#[cfg(all(detect, fused))]
#[derive(Clone, Copy, Debug)]
pub struct HasFma(());

#[cfg(all(detect, fused))]
impl HasFma {
    /// `s + a·b`, rounded once: FMA's instruction on one value, which LLVM treats as the plain
    /// fused multiply-add it is (`vfmadd…ps` on whole vectors when a loop of them is
    /// vectorised, in a function compiled with the `fma` feature).
    #[inline(always)]
    pub(crate) fn f32(self, s: f32, a: f32, b: f32) -> f32 {
        use core::arch::x86_64::{_mm_cvtss_f32, _mm_fmadd_ss, _mm_set_ss};
        // SAFETY: a `HasFma` exists only where `detect` found FMA on this CPU.
        unsafe { _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(s))) }
    }

    /// `s + a·b`, rounded once.
    #[inline(always)]
    pub(crate) fn f64(self, s: f64, a: f64, b: f64) -> f64 {
        use core::arch::x86_64::{_mm_cvtsd_f64, _mm_fmadd_sd, _mm_set_sd};
        // SAFETY: as for `f32`.
        unsafe { _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(a), _mm_set_sd(b), _mm_set_sd(s))) }
    }
}

/// Stores of 512-bit vectors, for `avx512`'s one-row step and tiles (a store through a pointer
/// is `unsafe`): whole, or a row's last lanes under a mask. Built from its lanes instead, a row
/// of sums is written as the compiler's own vectors: two 256-bit halves under a tuning that
/// prefers them, which no 512-bit load reads back from the store buffer, and which keep the
/// sums of a loop in memory (or in scalars), where one store of the whole vector lets the
/// compiler keep them in a register.
#[cfg(all(detect, fused))]
pub(super) mod store {
    use core::arch::x86_64::{
        __m512, __m512d, _mm512_mask_storeu_pd, _mm512_mask_storeu_ps, _mm512_storeu_pd,
        _mm512_storeu_ps,
    };

    /// `out = v`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(in super::super) fn f32x16(out: &mut [f32; 16], v: __m512) {
        // SAFETY: `out` is sixteen `f32` this function may write (an exclusive reference), and
        // the unaligned store needs no alignment; the function runs only where AVX-512 F is
        // (its `target_feature`).
        unsafe { _mm512_storeu_ps(out.as_mut_ptr(), v) }
    }

    /// `out = v`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(in super::super) fn f64x8(out: &mut [f64; 8], v: __m512d) {
        // SAFETY: as for `f32x16`, with eight `f64`.
        unsafe { _mm512_storeu_pd(out.as_mut_ptr(), v) }
    }

    /// `out[j] = v[j]` for the first `out.len()` lanes (all sixteen if `out` is longer): one
    /// masked store, where a copy of a run-time length is a call to `memcpy`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(in super::super) fn f32x16_first(out: &mut [f32], v: __m512) {
        let mask = (1u32 << out.len().min(16)) - 1;
        // SAFETY: the mask's lanes are the first `min(out.len(), 16)`, values `out` holds and
        // this function may write (an exclusive reference); a masked-off lane's memory is
        // neither written nor read, and cannot fault. AVX-512 F is there (`target_feature`).
        unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr(), mask as u16, v) }
    }

    /// `out[j] = v[j]` for the first `out.len()` lanes (all eight if `out` is longer).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(in super::super) fn f64x8_first(out: &mut [f64], v: __m512d) {
        let mask = (1u32 << out.len().min(8)) - 1;
        // SAFETY: as for `f32x16_first`, with eight `f64`.
        unsafe { _mm512_mask_storeu_pd(out.as_mut_ptr(), mask as u8, v) }
    }
}

/// Loads of up to a whole 512-bit vector, the counterpart of [`store`]'s masked stores.
#[cfg(all(detect, fused))]
pub(super) mod load {
    use core::arch::x86_64::{__m512, __m512d, _mm512_maskz_loadu_pd, _mm512_maskz_loadu_ps};

    /// The sixteen values of `src`: one unaligned load, which the compiler keeps whole (built
    /// from its lanes, a load next to shuffles was split into pieces and inserts).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(in super::super) fn f32x16(src: &[f32; 16]) -> __m512 {
        // SAFETY: `src` is sixteen `f32` this function may read, and the unaligned load needs
        // no alignment; AVX-512 F is there (`target_feature`).
        unsafe { core::arch::x86_64::_mm512_loadu_ps(src.as_ptr()) }
    }

    /// The first `src.len()` values of `src` (all sixteen if it is longer), the other lanes 0:
    /// one masked load, where a copy of a run-time length is a call to `memcpy`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(in super::super) fn f32x16_first(src: &[f32]) -> __m512 {
        let mask = (1u32 << src.len().min(16)) - 1;
        // SAFETY: the mask's lanes are the first `min(src.len(), 16)`, values `src` holds; a
        // masked-off lane's memory is not read and cannot fault. AVX-512 F is there
        // (`target_feature`).
        unsafe { _mm512_maskz_loadu_ps(mask as u16, src.as_ptr()) }
    }

    /// The first `src.len()` values of `src` (all eight if it is longer), the other lanes 0.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(in super::super) fn f64x8_first(src: &[f64]) -> __m512d {
        let mask = (1u32 << src.len().min(8)) - 1;
        // SAFETY: as for `f32x16_first`, with eight `f64`.
        unsafe { _mm512_maskz_loadu_pd(mask as u8, src.as_ptr()) }
    }
}

/// [`prefetch_rows`](sparse_rows::prefetch_rows) for code outside the kernels, with no unit
/// in hand (listing a batch): the lines of `rows` asked for ahead of their use (`prefetcht0`)
/// where the kernels detect their unit (x86-64); elsewhere nothing.
#[cfg(feature = "alloc")]
#[inline(always)]
pub(crate) fn prefetch_sparse_rows<'a, 'r: 'a, T: Float + 'a, const K: usize>(
    rows: impl IntoIterator<Item = &'a SparseRow<'r, T, K>>,
) {
    for row in rows {
        #[cfg(detect)]
        {
            prefetch_lines(row.indices());
            prefetch_lines(row.values());
        }
        #[cfg(not(detect))]
        let _ = row;
    }
}

/// Prefetches every 64-byte line that `data` touches into all levels of the cache (x86-64's
/// `prefetcht0`), for [`Isa::prefetch`].
#[cfg(detect)]
#[inline(always)]
fn prefetch_lines<T>(data: &[T]) {
    use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    let start = data.as_ptr().cast::<i8>();
    let skew = start.addr() % 64;
    let first = start.wrapping_sub(skew);
    for at in (0..skew + core::mem::size_of_val(data)).step_by(64) {
        // SAFETY: `_mm_prefetch` needs SSE, which every x86-64 CPU has (a unit that detects
        // features exists only on x86-64 builds with SSE). A prefetch is a hint: it neither
        // faults nor changes memory or any value, whatever the address (here the starts of
        // the lines `data` lies on, computed without dereferencing).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(first.wrapping_add(at)) };
    }
}

/// `$body` with `$isa` the best unit this CPU has (one copy of `$body` per unit).
#[cfg(detect)]
macro_rules! dispatch {
    ($isa:ident => $body:expr) => {{
        use $crate::matrix::kernels::isa::{Avx2Fma, Avx512, Base};
        if let Some($isa) = Avx512::detect() {
            $body
        } else if let Some($isa) = Avx2Fma::detect() {
            $body
        } else {
            let $isa = Base;
            $body
        }
    }};
}

/// `$body` with `$isa` the build's only unit.
#[cfg(not(detect))]
macro_rules! dispatch {
    ($isa:ident => $body:expr) => {{
        let $isa = $crate::matrix::kernels::isa::Base;
        $body
    }};
}

pub(crate) use dispatch;

/// aarch64's fused multiply-add without `std` (`core` has no `mul_add` on stable Rust): NEON's
/// instruction on a vector of one value, which LLVM treats as the plain fused multiply-add it
/// is (a scalar `fmadd`, and `fmla` on whole vectors when a loop of them is vectorised).
#[cfg(all(fused, target_arch = "aarch64"))]
pub(crate) mod neon {
    use core::arch::aarch64::{vdup_n_f32, vdup_n_f64, vfma_f32, vfma_f64};
    use core::arch::aarch64::{vget_lane_f32, vget_lane_f64};

    /// `s + a·b`, rounded once.
    #[inline(always)]
    pub(crate) fn add_product_f32(s: f32, a: f32, b: f32) -> f32 {
        // SAFETY: `build.rs` sets `fused` on aarch64 only where the build enables NEON
        // (`target_feature = "neon"`), so these instructions exist on every CPU it runs on.
        unsafe { vget_lane_f32::<0>(vfma_f32(vdup_n_f32(s), vdup_n_f32(a), vdup_n_f32(b))) }
    }

    /// `s + a·b`, rounded once.
    #[inline(always)]
    pub(crate) fn add_product_f64(s: f64, a: f64, b: f64) -> f64 {
        // SAFETY: as for `add_product_f32`.
        unsafe { vget_lane_f64::<0>(vfma_f64(vdup_n_f64(s), vdup_n_f64(a), vdup_n_f64(b))) }
    }
}
