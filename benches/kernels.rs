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

/// Rounds of the chains per measured call.
const ROUNDS: usize = 1000;

/// Independent chains of `acc = acc·a + b`, enough to cover the FMA latency on current x86
/// cores with two FMA units (4 cycles × 2 units, and some to spare).
const CHAINS: usize = 12;

/// This CPU's single-core f32 peak, the yardstick for the kernels, for each vector unit it has:
/// `CHAINS` independent vector-wide chains of fused `acc = acc·a + b`, compiled for the unit
/// (8 lanes for AVX2 and FMA, 16 for AVX-512; 2 FLOP a lane a round), as the library's kernels
/// are compiled for each unit and chosen at run time. Not run where the CPU lacks the unit.
fn peak(c: &mut Criterion) {
    let mut g = c.benchmark_group("peak_f32");
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            g.throughput(Throughput::Elements((CHAINS * 8 * 2 * ROUNDS) as u64));
            g.bench_function("AVX2 and FMA (8 lanes)", |bench| {
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                bench.iter(|| unsafe { chains_avx2(black_box([0.999; 8]), black_box([0.001; 8])) })
            });
        }
        if is_x86_feature_detected!("avx512f") {
            g.throughput(Throughput::Elements((CHAINS * 16 * 2 * ROUNDS) as u64));
            g.bench_function("AVX-512 (16 lanes)", |bench| {
                // SAFETY: the CPU has AVX-512F (checked above).
                bench.iter(|| unsafe {
                    chains_avx512(black_box([0.999; 16]), black_box([0.001; 16]))
                })
            });
        }
    }
    g.finish();
}

/// `ROUNDS` rounds of `s = s·a + b` on `CHAINS` independent 256-bit vectors, with the
/// instruction itself (`vfmadd`), so that the compiler can only keep the chains in registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn chains_avx2(a: [f32; 8], b: [f32; 8]) -> [[f32; 8]; CHAINS] {
    use std::arch::x86_64::_mm256_storeu_ps;
    use std::arch::x86_64::{__m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps};
    // SAFETY: reads of 8 values from arrays of 8.
    let (a, b) = unsafe { (_mm256_loadu_ps(a.as_ptr()), _mm256_loadu_ps(b.as_ptr())) };
    let mut acc: [__m256; CHAINS] = [_mm256_set1_ps(1.0); CHAINS];
    for _ in 0..ROUNDS {
        for s in &mut acc {
            *s = _mm256_fmadd_ps(*s, a, b);
        }
    }
    let mut out = [[0.0; 8]; CHAINS];
    for (o, s) in out.iter_mut().zip(acc) {
        // SAFETY: a write of 8 values into an array of 8.
        unsafe { _mm256_storeu_ps(o.as_mut_ptr(), s) };
    }
    out
}

/// The same on 512-bit vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn chains_avx512(a: [f32; 16], b: [f32; 16]) -> [[f32; 16]; CHAINS] {
    use std::arch::x86_64::_mm512_storeu_ps;
    use std::arch::x86_64::{__m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps};
    // SAFETY: reads of 16 values from arrays of 16.
    let (a, b) = unsafe { (_mm512_loadu_ps(a.as_ptr()), _mm512_loadu_ps(b.as_ptr())) };
    let mut acc: [__m512; CHAINS] = [_mm512_set1_ps(1.0); CHAINS];
    for _ in 0..ROUNDS {
        for s in &mut acc {
            *s = _mm512_fmadd_ps(*s, a, b);
        }
    }
    let mut out = [[0.0; 16]; CHAINS];
    for (o, s) in out.iter_mut().zip(acc) {
        // SAFETY: a write of 16 values into an array of 16.
        unsafe { _mm512_storeu_ps(o.as_mut_ptr(), s) };
    }
    out
}

fn benches(c: &mut Criterion) {
    peak(c);
    products::<f32>(c, "f32");
    products::<f64>(c, "f64");
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
