//! The matrix products at the shapes of the book's MNIST training step, in both layouts the
//! backward pass uses, on dense and on MNIST-like (80% zero) inputs, in f32 and f64.
//!
//! `cargo bench --bench kernels`; throughput is reported in FLOP (2 per multiply-add of the
//! dense product, whatever is skipped).

use constnn::Float;
use constnn::matrix::{Matrix, boxed_zeros, matmul, matmul_at, matmul_bt};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// Deterministic values in [-0.5, 0.5), with `zeros` of them (a fraction) set to 0.
fn fill<T: Float, const R: usize, const C: usize>(m: &mut Matrix<T, R, C>, seed: u64, zeros: f64) {
    let mut s = seed;
    for v in m.as_flattened_mut() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (s >> 11) as f64 / (1u64 << 53) as f64;
        *v = if u < zeros {
            T::ZERO
        } else {
            T::from_f64(u - 0.5)
        };
    }
}

fn products<T: Float>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(format!("matmul_{name}"));
    let flop = 2 * 100 * 784 * 50;
    g.throughput(Throughput::Elements(flop));
    let mut w = boxed_zeros::<T, 784, 50>();
    fill(&mut w, 1, 0.0);
    let mut dy = boxed_zeros::<T, 100, 50>();
    fill(&mut dy, 2, 0.0);
    for (label, zeros) in [("dense", 0.0), ("80%_zeros", 0.8)] {
        let mut x = boxed_zeros::<T, 100, 784>();
        fill(&mut x, 3, zeros);
        let mut y = boxed_zeros::<T, 100, 50>();
        g.bench_function(BenchmarkId::new("x·W (100×784·784×50)", label), |b| {
            b.iter(|| matmul(black_box(&*x), black_box(&*w), &mut y))
        });
        let mut dw = boxed_zeros::<T, 784, 50>();
        g.bench_function(
            BenchmarkId::new("xᵀ·dY (784×100·100×50)", label),
            |b| b.iter(|| matmul_at(black_box(&*x), black_box(&*dy), &mut dw)),
        );
    }
    let mut dx = boxed_zeros::<T, 100, 784>();
    g.bench_function(
        BenchmarkId::new("dY·Wᵀ (100×50·50×784)", "dense"),
        |b| b.iter(|| matmul_bt(black_box(&*dy), black_box(&*w), &mut dx)),
    );
    g.finish();
}

/// Rounds of [`chains`] per measured call.
const ROUNDS: usize = 1000;

/// The single-core f32 peak of this CPU, the yardstick for the kernels: twelve independent
/// 8-wide chains of `acc = acc·a + b` (1536 FLOP a round), once as a multiply then an add
/// (what the kernels execute) and once fused (FMA). Each chain waits for its previous value, and
/// twelve chains cover that latency on current x86 cores.
fn peak(c: &mut Criterion) {
    let mut g = c.benchmark_group("peak_f32");
    g.throughput(Throughput::Elements((12 * 8 * 2 * ROUNDS) as u64));
    let (a, b) = ([0.999f32; 8], [0.001f32; 8]);
    g.bench_function("multiply then add", |bench| {
        bench.iter(|| chains(black_box(a), black_box(b), |s, a, b| s * a + b))
    });
    g.bench_function("fused multiply-add", |bench| {
        bench.iter(|| chains(black_box(a), black_box(b), f32::mul_add))
    });
    g.finish();
}

/// `ROUNDS` rounds of `s = op(s, a, b)` on twelve independent 8-wide chains.
#[inline(always)]
fn chains(a: [f32; 8], b: [f32; 8], op: impl Fn(f32, f32, f32) -> f32) -> [[f32; 8]; 12] {
    let mut acc = [[1.0f32; 8]; 12];
    for _ in 0..ROUNDS {
        for acc in &mut acc {
            for ((s, &a), &b) in acc.iter_mut().zip(&a).zip(&b) {
                *s = op(*s, a, b);
            }
        }
    }
    acc
}

fn benches(c: &mut Criterion) {
    peak(c);
    products::<f32>(c, "f32");
    products::<f64>(c, "f64");
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
