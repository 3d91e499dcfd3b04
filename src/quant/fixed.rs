//! TensorFlow Lite's fixed-point requantisation (gemmlowp's), in integers only.
//!
//! A real multiplier `m > 0` is stored as a Q31 `multiplier` in `[2³⁰, 2³¹)` and a `shift`, with
//! `m = multiplier · 2^(shift − 31)` ([`quantize_multiplier`]); `x · m` is then
//! [`multiply_by_quantized_multiplier`]. Every function is `const` and exact to the bit on
//! every target.
//!
//! # Examples
//!
//! ```
//! use constnn::quant::fixed::{multiply_by_quantized_multiplier, quantize_multiplier};
//! let (m, shift) = quantize_multiplier(0.3).unwrap();
//! assert_eq!((m, shift), (1_288_490_189, -1)); // 0.6 · 2³¹, then 2⁻¹
//! assert_eq!(multiply_by_quantized_multiplier(1000, m, shift), 300);
//! assert_eq!(multiply_by_quantized_multiplier(-5, m, shift), -2); // −1.5 rounds away from 0
//! ```

/// `round(a · b / 2³¹)`, saturating: the high half of the doubled product, rounded to nearest
/// with ties upwards (what TFLite's nudge and C's truncating division give). The one product
/// that overflows, `i32::MIN · i32::MIN`, gives `i32::MAX`.
pub const fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    // TFLite adds 2³⁰ (or 1 − 2³⁰ to a negative product) and divides by 2³¹ truncating: that is
    // the floor of (ab + 2³⁰) / 2³¹ either way, one shift.
    ((a as i64 * b as i64 + (1 << 30)) >> 31) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero (`exponent` in 0..=31; a larger
/// one is taken as 31).
pub const fn rounding_divide_by_pot(x: i32, exponent: u32) -> i32 {
    let exponent = if exponent > 31 { 31 } else { exponent };
    // The bits shifted out, against half of 2^exponent (a hair more below zero).
    let mask = (1u32 << exponent).wrapping_sub(1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// `x · multiplier · 2^(shift − 31)`, rounded: TFLite's `MultiplyByQuantizedMultiplier`. A
/// left shift (`shift > 0`) saturates instead of overflowing. `shift` is in −31..=30 (model
/// files are checked for it); one outside is taken as the nearer end.
pub const fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let shift = if shift > 30 {
        30
    } else if shift < -31 {
        -31
    } else {
        shift
    };
    if shift > 0 {
        let shifted = x.saturating_mul(1 << shift);
        saturating_rounding_doubling_high_mul(shifted, multiplier)
    } else {
        rounding_divide_by_pot(
            saturating_rounding_doubling_high_mul(x, multiplier),
            shift.unsigned_abs(),
        )
    }
}

/// The Q31 multiplier and shift of a real multiplier `m ≥ 0`: `m = multiplier · 2^(shift − 31)`
/// with `multiplier` in `[2³⁰, 2³¹)`, or `(0, 0)` for a multiplier too small to matter
/// (below 2⁻³²). `None` if `m` is negative, not finite, or `2³⁰` or more (its shift would
/// be over 30).
pub fn quantize_multiplier(m: f64) -> Option<(i32, i32)> {
    if !(m >= 0.0 && m.is_finite()) {
        return None;
    }
    if m == 0.0 {
        return Some((0, 0));
    }
    let (q, mut shift) = libm::frexp(m); // m = q · 2^shift, q in [0.5, 1)
    let mut q31 = libm::round(q * (1u64 << 31) as f64) as i64;
    if q31 == 1 << 31 {
        q31 /= 2;
        shift += 1;
    }
    if shift < -31 {
        return Some((0, 0));
    }
    if shift > 30 {
        return None;
    }
    Some((q31 as i32, shift))
}
