//! `f32`'s `exp` is libm's `expf` bit for bit, though written without branches so that a loop
//! of them runs in vector registers (softmax over a batch); and softmax, alone and in
//! `SoftmaxWithLoss`, gives the numbers of libm's `expf` used value by value.

use constnn::loss::{SoftmaxWithLoss, softmax};
use constnn::{Float, Matrix};

fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// The inputs where libm's `expf` changes path (its special cases and reductions), a few
/// values either side, both signs.
fn edges() -> impl Iterator<Item = f32> {
    let edges = [
        0u32,
        0x3900_0000, // 2^-14: below, 1 + x
        0x3eb1_7218, // ln 2 / 2: above, reduced by ±ln 2
        0x3f85_1592, // 1.5 ln 2: above, reduced by k ln 2
        0x42ae_ac50, // 87.34: the special cases begin
        0x42b1_7218, // 88.72: overflow
        0x42cf_f1b5, // 103.97: underflow to zero
        0x7f80_0000, // ∞ (and NaN above)
    ];
    edges.into_iter().flat_map(|e| {
        (e.saturating_sub(4)..=e.saturating_add(4))
            .flat_map(|bits| [f32::from_bits(bits), -f32::from_bits(bits)])
    })
}

/// Inputs where a first version, with 1/ln 2 one unit in the last place off, was one unit
/// off (found by the test on every input below).
const ONCE_WRONG: [u32; 6] = [
    0x4115_b844,
    0x4163_5a2e,
    0x429e_bb0f,
    0xc120_cf65,
    0xc1f6_c2a8,
    0xc2a5_a984,
];

#[test]
fn f32_exp_is_libm_expf_bit_for_bit() {
    // Every 997th bit pattern: 4.3 million values across every exponent, both signs, NaNs.
    let sampled = (0..=u32::MAX).step_by(997).map(f32::from_bits);
    let wrong: Vec<f32> = sampled
        .chain(edges())
        .chain(ONCE_WRONG.map(f32::from_bits))
        .filter(|&x| !same(Float::exp(x), libm::expf(x)))
        .take(5)
        .collect();
    assert!(wrong.is_empty(), "exp differs from libm::expf at {wrong:?}");
}

/// The same on every `f32`, through a loop over a slice (the vectorised path in a release
/// build), the 2¹⁶ blocks of 2¹⁶ bit patterns dealt to a thread per core. About a minute on
/// one core in release mode (CI runs it):
/// `cargo test --release --test integration -- --ignored exp::`.
#[test]
#[ignore = "every f32: run in release mode with --ignored"]
fn f32_exp_is_libm_expf_on_every_input() {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let block = |high: u32, values: &mut [f32]| {
        for (low, v) in (0u32..).zip(values.iter_mut()) {
            *v = f32::from_bits(high << 16 | low);
        }
        for v in values.iter_mut() {
            *v = Float::exp(*v);
        }
        let results = (0u32..).zip(values.iter());
        results
            .filter(|&(low, v)| !same(*v, libm::expf(f32::from_bits(high << 16 | low))))
            .count() as u64
    };
    let wrong: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut values = vec![0f32; 1 << 16];
                    (0u32..1 << 16)
                        .skip(t)
                        .step_by(threads)
                        .map(|high| block(high, &mut values))
                        .sum::<u64>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a thread of the test panicked"))
            .sum()
    });
    assert_eq!(wrong, 0, "values where exp differs from libm::expf");
}

/// Softmax as the book writes it, with libm's `expf` value by value.
fn reference(x: &[f32; 10]) -> [f32; 10] {
    let max = x.iter().fold(x[0], |m, v| if *v > m { *v } else { m });
    let mut out = [0.0; 10];
    let mut sum = 0.0;
    for (o, v) in out.iter_mut().zip(x) {
        *o = libm::expf(*v - max);
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
    out
}

#[test]
fn softmax_gives_libm_expf_numbers_bit_for_bit() {
    // Rows of logits from small to wide spreads, so that some exponentials underflow to zero
    // or to subnormals.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut x: Matrix<f32, 100, 10> = [[0.0; 10]; 100];
    for (i, row) in x.iter_mut().enumerate() {
        let spread = [1.0, 10.0, 100.0, 250.0][i % 4];
        for v in row.iter_mut() {
            *v = spread * uniform();
        }
    }
    let labels: [u8; 100] = core::array::from_fn(|i| (i % 10) as u8);
    let mut layer = SoftmaxWithLoss::<f32, 10, 100>::new();
    layer.forward(&x, &labels).expect("labels in range");
    let mut underflowed = 0;
    for (i, (row, y)) in x.iter().zip(layer.y()).enumerate() {
        let want = reference(row);
        let mut alone = [0.0; 10];
        softmax(row, &mut alone);
        for j in 0..10 {
            assert!(same(alone[j], want[j]), "softmax row {i} column {j}");
            assert!(same(y[j], want[j]), "SoftmaxWithLoss row {i} column {j}");
            underflowed += usize::from(want[j] < f32::MIN_POSITIVE);
        }
    }
    assert!(underflowed > 10, "the wide rows reach subnormals and zeros");
}
