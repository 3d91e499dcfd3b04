//! Whole-network work on real MNIST images: one training step (batch 100, the book's), and
//! inference at batch 1 and batch 100, in f32 and f64; each from dense rows and from the same
//! rows kept sparse (`matrix::sparse`); the training step also from a `SparseBatch`, which
//! lists them by column too (as `train_mnist` runs, the listing made ahead on another thread),
//! and that listing alone (of those rows, in the cache, and of rows drawn from all 60 000, as
//! training draws them); `classify` of 1 000 images, which from sparse rows multiplies them
//! by a copy of the first layer's weights on whole cache lines (f32; f64's rows of 50 are too
//! wide for them, and run as without).
//!
//! `cargo bench --bench network`.

use constnn::matrix::sparse::{SparseBatch, SparseRow, SparseRows};
use constnn::matrix::{Heap, boxed_zeros};
use constnn::{Float, Sgd, TwoLayerNet};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_core::SeedableRng;
use std::hint::black_box;

fn network<T: Float>(c: &mut Criterion, name: &str, mnist: &constnn::data::Mnist) {
    let mut g = c.benchmark_group(format!("network_{name}"));
    let mut net =
        TwoLayerNet::<784, 50, 10, T, Heap>::new(0.01, &mut rand_pcg::Pcg64::seed_from_u64(0));
    let mut x = boxed_zeros::<T, 100, 784>();
    let mut t = [0u8; 100];
    for (n, (row, label)) in x.iter_mut().zip(&mut t).enumerate() {
        for (v, p) in row.iter_mut().zip(&mnist.train.image(n * 37)) {
            *v = T::from_f64(f64::from(*p));
        }
        *label = mnist.train.labels()[n * 37];
    }
    let mut set = SparseRows::new();
    for row in x.iter() {
        set.push_dense(row);
    }
    let xs: [SparseRow<'_, T, 784>; 100] = std::array::from_fn(|i| set.row(i));
    g.throughput(Throughput::Elements(100));
    let mut sgd = Sgd::new(T::from_f64(0.01));
    g.bench_function("train_step batch 100", |b| {
        b.iter(|| net.train_step(black_box(&*x), &t, &mut sgd).unwrap())
    });
    g.bench_function("train_step batch 100, sparse rows", |b| {
        b.iter(|| net.train_step(black_box(&xs), &t, &mut sgd).unwrap())
    });
    let mut batch = Box::new(SparseBatch::from_rows(xs));
    g.bench_function("train_step batch 100, sparse batch", |b| {
        b.iter(|| net.train_step(black_box(&*batch), &t, &mut sgd).unwrap())
    });
    g.bench_function("sparse batch 100: list by column", |b| {
        b.iter(|| batch.set(black_box(xs)))
    });
    // As training lists them: each batch 100 rows drawn from all 60 000, most of them not in
    // the cache.
    let mut all = SparseRows::new();
    for n in 0..mnist.train.len() {
        all.push_dense(&mnist.train.image(n).map(|p| T::from_f64(f64::from(p))));
    }
    let mut draw = 0u64;
    let mut next = || {
        draw = draw
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((draw >> 33) % all.len() as u64) as usize
    };
    g.bench_function("sparse batch 100 of 60 000: list by column", |b| {
        b.iter(|| batch.set(std::array::from_fn(|_| all.row(next()))))
    });
    let mut out = [[T::ZERO; 10]; 100];
    g.bench_function("inference batch 100", |b| {
        b.iter(|| net.predict(black_box(&*x), &mut out))
    });
    g.bench_function("inference batch 100, sparse rows", |b| {
        b.iter(|| net.predict(black_box(&xs), &mut out))
    });
    // 1 000 test images, dense and kept sparse (hundreds of sparse rows: W₁ on lines).
    let test: Vec<[T; 784]> = (0..1000)
        .map(|k| mnist.test.image(k).map(|p| T::from_f64(f64::from(p))))
        .collect();
    let mut test_set = SparseRows::new();
    test.iter().for_each(|row| test_set.push_dense(row));
    let test_sparse: Vec<_> = test_set.iter().collect();
    let mut classes = vec![0usize; 1000];
    g.throughput(Throughput::Elements(1000));
    g.bench_function("classify 1000", |b| {
        b.iter(|| net.classify(black_box(&test), &mut classes).unwrap())
    });
    g.bench_function("classify 1000, sparse rows", |b| {
        b.iter(|| net.classify(black_box(&test_sparse), &mut classes).unwrap())
    });
    g.throughput(Throughput::Elements(1));
    let one: &[[T; 784]; 1] = (&x[..1]).try_into().unwrap();
    let mut out1 = [[T::ZERO; 10]; 1];
    g.bench_function("inference batch 1", |b| {
        b.iter(|| net.predict(black_box(one), &mut out1))
    });
    g.bench_function("inference batch 1, sparse row", |b| {
        b.iter(|| net.predict(black_box(&[xs[0]]), &mut out1))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"));
    let mnist = constnn::data::load_mnist(dir).unwrap();
    network::<f32>(c, "f32", &mnist);
    network::<f64>(c, "f64", &mnist);
}

criterion_group!(network_benches, benches);
criterion_main!(network_benches);
