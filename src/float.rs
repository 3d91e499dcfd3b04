//! The scalar types a network computes in: `f32` (the default) and `f64` (for gradient checks).
//!
//! Every transcendental function goes through `libm`, so the same code builds without `std`.
//! The one exception is the fused multiply-add of the matrix kernels ([`FUSED`]).

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::matrix::Zeros;

/// Whether [`Float::add_product`] is fused (`a·b + s` with one rounding, one instruction): with
/// the `fma` feature (on by default), on CPUs built with FMA (x86-64 with `+fma`, as this
/// repository's `.cargo/config.toml` sets, and every aarch64). `core` has no fused
/// multiply-add on stable Rust, so there the crate links `std` for `f32::mul_add` alone; it
/// still allocates nothing. Elsewhere (a Cortex-M4, or `default-features = false`), a
/// multiply then an add, rounded twice.
///
/// The two give products that differ in the last bits, so a host built with FMA and a
/// microcontroller without agree on a network's outputs to about 1e-6, not bit for bit; build
/// the host without the `fma` feature to reproduce a microcontroller exactly.
pub const FUSED: bool = cfg!(all(
    feature = "fma",
    any(
        all(target_arch = "x86_64", target_feature = "fma"),
        target_arch = "aarch64"
    )
));

/// A floating-point scalar: `f32` or `f64`.
pub trait Float:
    Copy
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
    /// `true` unless NaN or ±∞.
    fn is_finite(self) -> bool;
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
    ($t:ty, $n:literal, $exp:path, $ln:path) => {
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
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline(always)]
            fn add_product(self, a: Self, b: Self) -> Self {
                // The condition of `FUSED` (and of `extern crate std` in lib.rs): `mul_add`
                // exists only with `std`, so a plain `if FUSED` would not compile without it.
                #[cfg(all(
                    feature = "fma",
                    any(
                        all(target_arch = "x86_64", target_feature = "fma"),
                        target_arch = "aarch64"
                    )
                ))]
                let sum = a.mul_add(b, self);
                #[cfg(not(all(
                    feature = "fma",
                    any(
                        all(target_arch = "x86_64", target_feature = "fma"),
                        target_arch = "aarch64"
                    )
                )))]
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

impl_float!(f32, 4, libm::expf, libm::logf);
impl_float!(f64, 8, libm::exp, libm::log);
