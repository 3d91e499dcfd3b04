//! The scalar types a network computes in: `f32` (the default) and `f64` (for gradient checks).
//!
//! Every transcendental function goes through `libm`, so the same code builds without `std`;
//! `f32`'s `exp` is libm's `expf` rewritten to run in vectors (the same bits), and the fused
//! multiply-add of the matrix kernels ([`FUSED`]) needs no `std` either.

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::matrix::Zeros;

/// Whether [`Float::add_product`] is fused (`a·b + s` with one rounding): with the `fma`
/// feature (on by default), on aarch64 (bare-metal too) and on x86-64 with hardware floats
/// (every hosted target), `std` or not. aarch64 always has the instruction (NEON's `fmla`). On
/// x86-64 the kernels run it as one instruction on a CPU with FMA (found at run time by
/// `cpuid`, from `core`), and `libm`'s `fma` computes the same number on one without (an
/// x86-64 from before 2013), slowly. Elsewhere (a Cortex-M4, soft-float bare-metal x86-64, or
/// `default-features = false`), a multiply then an add, rounded twice.
///
/// The two give products that differ in the last bits, so a host built with FMA and a
/// microcontroller without agree on a network's outputs to about 1e-6, not bit for bit; build
/// the host without the `fma` feature to reproduce a microcontroller exactly.
pub const FUSED: bool = cfg!(fused);

/// A floating-point scalar: `f32` or `f64` (sealed: the matrix kernels are compiled for these
/// two, in this crate).
pub trait Float:
    crate::matrix::kernels::Kernels
    + crate::matrix::kernels::AsF32
    + Copy
    + PartialOrd
    + Debug
    + Display
    + Zeros
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Send
    + Sync
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Size in bytes of one value, as stored in model files.
    const BYTES: usize;
    /// The name used in model files and messages: `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(v: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root, correctly rounded (as IEEE 754 and NumPy's `np.sqrt`).
    fn sqrt(self) -> Self;
    /// `true` unless NaN or ±∞.
    fn is_finite(self) -> bool;
    /// Whether every value is finite: one pass over their bits, with no branch, that runs in
    /// vectors (a value is NaN or ±∞ when its magnitude's bits reach those of ∞).
    fn all_finite(values: &[Self]) -> bool;
    /// The larger of two values (NaN-ignoring, like `f32::max`).
    fn max(self, other: Self) -> Self;
    /// `self + a·b`, the step of every dot product in the matrix kernels: fused, rounded once,
    /// if [`FUSED`]; else a multiply then an add.
    fn add_product(self, a: Self, b: Self) -> Self;
    /// Little-endian bytes into `out[..Self::BYTES]`.
    fn write_le(self, out: &mut [u8]);
    /// Reads little-endian bytes from `b[..Self::BYTES]`; `None` if `b` is too short.
    fn read_le(b: &[u8]) -> Option<Self>;
}

macro_rules! impl_float {
    ($t:ty, $n:literal, $exp:path, $ln:path, $sqrt:path, $fma:path, $bits:ty, $neon:ident) => {
        impl Zeros for $t {
            #[inline]
            fn zeros() -> Self {
                0.0
            }
        }
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const BYTES: usize = $n;
            const NAME: &'static str = stringify!($t);
            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                // Correctly rounded either way (IEEE 754), so the same bits: `std`'s is the
                // instruction, which the optimisers' loops run in vectors; `libm`'s (no `std`)
                // is a call per value.
                #[cfg(any(test, feature = "std"))]
                let root = <$t>::sqrt(self);
                #[cfg(not(any(test, feature = "std")))]
                let root = $sqrt(self);
                root
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn all_finite(values: &[Self]) -> bool {
                const MAGNITUDE: $bits = <$bits>::MAX >> 1;
                let largest = values
                    .iter()
                    .fold(0, |m: $bits, v| m.max(v.to_bits() & MAGNITUDE));
                largest < <$t>::INFINITY.to_bits()
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline(always)]
            fn add_product(self, a: Self, b: Self) -> Self {
                // aarch64 runs NEON's instruction. On x86-64 the kernels compiled for a unit
                // with FMA run its instruction instead of this (`Isa::add_product`); here,
                // outside them, `libm`'s `fma` is correctly rounded, so the same number: the
                // instruction where the CPU has it, else computed in software.
                #[cfg(all(fused, target_arch = "aarch64"))]
                let sum = crate::matrix::kernels::isa::neon::$neon(self, a, b);
                #[cfg(all(fused, not(target_arch = "aarch64")))]
                let sum = $fma(a, b, self);
                #[cfg(not(fused))]
                let sum = self + a * b;
                sum
            }
            #[inline]
            fn write_le(self, out: &mut [u8]) {
                out[..$n].copy_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn read_le(b: &[u8]) -> Option<Self> {
                let bytes: [u8; $n] = b.get(..$n)?.try_into().ok()?;
                Some(<$t>::from_le_bytes(bytes))
            }
        }
    };
}

impl_float!(
    f32,
    4,
    expf,
    libm::logf,
    libm::sqrtf,
    libm::fmaf,
    u32,
    add_product_f32
);
impl_float!(
    f64,
    8,
    libm::exp,
    libm::log,
    libm::sqrt,
    libm::fma,
    u64,
    add_product_f64
);

/// The index of the first NaN or infinite value of `values`, if any. The common case, all
/// finite, is one pass that runs in vectors (no early exit); only a row with a fault is
/// searched again for where.
#[inline]
pub(crate) fn first_non_finite<T: Float>(values: &[T]) -> Option<usize> {
    let finite = crate::matrix::kernels::vectorized(
        #[inline(always)]
        || T::all_finite(values),
    );
    if finite {
        None
    } else {
        values.iter().position(|v| !v.is_finite())
    }
}

/// `libm::expf` (FreeBSD's `e_expf.c`, as libm 0.2.16 has it) written without branches: every
/// path is computed and the right one selected, and the integer `k` of the reduction
/// `x = k·ln 2 + r` is kept as a float. It gives libm's result bit for bit — checked on all
/// 2³² inputs (`tests/exp.rs`, run in release by CI) — but a loop of them compiles to vector
/// code, eight at a time (see PERFORMANCE.md).
#[inline(always)]
fn expf(x: f32) -> f32 {
    // libm's constants, by their bits (0.693…, 1.43e-6, 1/ln 2, 0.1667…, -2.77e-3).
    const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
    const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
    const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
    const P1: f32 = f32::from_bits(0x3e2a_aa8f);
    const P2: f32 = f32::from_bits(0xbb35_5215);
    // Adding and subtracting 2²³ rounds a float below 2²³ to a whole number.
    const TWO23: f32 = 8_388_608.0;
    let bits = x.to_bits();
    let negative = bits >> 31 != 0;
    let hx = bits & 0x7fff_ffff;
    // k = x/ln 2 ± 1/2, truncated (|k| < 256 but for the special cases below).
    let t = (INV_LN2 * x + if negative { -0.5 } else { 0.5 }).clamp(-256.0, 256.0);
    let whole = (t.abs() + TWO23) - TWO23;
    let whole = if whole > t.abs() { whole - 1.0 } else { whole };
    let k_far = if t < 0.0 { -whole } else { whole };
    let reduce = hx > 0x3eb1_7218; // |x| > ln 2 / 2
    let far = hx > 0x3f85_1592; // |x| > 1.5 ln 2
    let k = match (reduce, far, negative) {
        (false, _, _) => 0.0,
        (true, true, _) => k_far,
        (true, false, true) => -1.0,
        (true, false, false) => 1.0,
    };
    let (hi, lo) = if reduce {
        (x - k * LN2_HI, k * LN2_LO)
    } else {
        (x, 0.0)
    };
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * P2);
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // libm's scalbnf(y, k): beyond the normal exponents, a first factor of 2^127 or 2^-102.
    let (y, n) = if k > 127.0 {
        (y * f32::from_bits(0x7f00_0000), k - 127.0)
    } else if k < -126.0 {
        (y * f32::from_bits(0x0c80_0000), k + 102.0)
    } else {
        (y, k)
    };
    // 2^n from n + 127 as an integer: the low bits of 2²³ + (n + 127). (Wrapping: in the
    // special cases below, n is whatever and the result unused.)
    let biased = ((n + 127.0) + TWO23)
        .to_bits()
        .wrapping_sub(TWO23.to_bits());
    let scaled = y * f32::from_bits(biased << 23);
    if hx > 0x7f80_0000 {
        x // NaN
    } else if hx >= 0x42b1_7218 && !negative {
        x * f32::from_bits(0x7f00_0000) // x ≥ 88.72: overflow to +∞
    } else if hx >= 0x42cf_f1b5 && negative {
        0.0 // x ≤ −103.97
    } else if hx <= 0x3900_0000 {
        1.0 + x // |x| ≤ 2^-14
    } else {
        scaled
    }
}
