//! Random initialisation: standard normal draws from any `rand_core` generator.

use core::f64::consts::PI;

/// A uniform draw in (0, 1]: 53 random bits, never 0 (so its logarithm is finite).
fn uniform_open0<R: rand_core::Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// One draw from N(0, 1) by the Box–Muller transform: `√(−2 ln u₁) · cos(2π u₂)`.
///
/// Uses two `u64`s per draw (the sine half is not kept, so each draw is independent of call
/// order). Computed in `f64` with `libm`, so the stream is the same on every target.
pub fn randn<R: rand_core::Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = uniform_open0(rng);
    let u2 = uniform_open0(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * PI * u2)
}

/// A uniform integer in `0..n` without modulo bias (Lemire's multiply-and-reject); 0 if `n == 0`.
///
/// The book's `np.random.choice(train_size, batch_size)` draws batch indices like this: with
/// replacement, each uniform.
pub fn below<R: rand_core::Rng + ?Sized>(rng: &mut R, n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u64::from(rng.next_u32()) * u64::from(n);
        if (m as u32) >= threshold {
            return (m >> 32) as u32;
        }
    }
}
