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

/// NumPy's legacy random stream (`np.random.seed`, `randn`, `choice`), so that a seed gives
/// the book's very initial weights and batches.
///
/// The book's code draws everything from NumPy's global `RandomState`: a Mersenne Twister
/// (MT19937) seeded by `np.random.seed(s)`, normal draws by the polar Box–Muller method with
/// one value cached, and `np.random.choice(n, k)` as masked rejection sampling of 32-bit draws.
/// This reproduces those three exactly.
///
/// ```
/// let mut np = constnn::init::NumpyRandom::seed(0);
/// // np.random.seed(0); np.random.randn(3)
/// assert_eq!([np.randn(), np.randn(), np.randn()],
///            [1.764052345967664, 0.4001572083672233, 0.9787379841057392]);
/// // np.random.seed(0); np.random.choice(60000, 3)
/// let mut np = constnn::init::NumpyRandom::seed(0);
/// assert_eq!([np.choice(60000), np.choice(60000), np.choice(60000)], [2732, 43567, 42613]);
/// ```
#[derive(Clone)]
pub struct NumpyRandom {
    mt: [u32; 624],
    index: usize,
    gauss: Option<f64>,
}

impl core::fmt::Debug for NumpyRandom {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NumpyRandom")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl NumpyRandom {
    /// `np.random.seed(seed)` (MT19937's `init_genrand`).
    pub fn seed(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Self {
            mt,
            index: 624,
            gauss: None,
        }
    }

    /// The next 32 bits of MT19937.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for i in 0..624 {
                let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % 624] & 0x7fff_ffff);
                let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
                if y & 1 != 0 {
                    v ^= 0x9908_b0df;
                }
                self.mt[i] = v;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A uniform double in [0, 1) from 53 random bits (`np.random.random_sample`).
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// One N(0, 1) draw (`np.random.randn()`): the polar method, the second value cached.
    pub fn randn(&mut self) -> f64 {
        if let Some(g) = self.gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.random() - 1.0;
            let x2 = 2.0 * self.random() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = libm::sqrt(-2.0 * libm::log(r2) / r2);
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// A uniform integer in `0..n` (`np.random.choice(n)`, with replacement); 0 if `n == 0`.
    pub fn choice(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        let max = n - 1;
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }
}

/// How a layer's weights are drawn: the book's `weight_init_std` (chapter 6.2). Each weight of
/// a layer with `n` inputs is `σ · N(0, 1)`, its biases zero, where σ is
///
/// - [`Std`](WeightInit::Std)`(σ)`: a fixed standard deviation (the book's `0.01`);
/// - [`Xavier`](WeightInit::Xavier): `√(1/n)`, for sigmoid and tanh (the book's `'sigmoid'`);
/// - [`He`](WeightInit::He): `√(2/n)`, for ReLU (the book's `'relu'`).
///
/// # Examples
///
/// ```
/// use constnn::init::WeightInit;
/// assert_eq!(WeightInit::He.std(50), 0.2);
/// assert_eq!(WeightInit::Xavier.std(100), 0.1);
/// assert_eq!(WeightInit::Std(0.01).std(784), 0.01);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightInit {
    /// A fixed standard deviation.
    Std(f64),
    /// Xavier Glorot's: `√(1/n)` for `n` inputs.
    Xavier,
    /// Kaiming He's: `√(2/n)` for `n` inputs.
    He,
}

impl WeightInit {
    /// The standard deviation for a layer of `inputs` inputs.
    pub fn std(self, inputs: usize) -> f64 {
        match self {
            WeightInit::Std(s) => s,
            WeightInit::Xavier => libm::sqrt(1.0 / inputs as f64),
            WeightInit::He => libm::sqrt(2.0 / inputs as f64),
        }
    }
}
