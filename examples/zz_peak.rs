use std::hint::black_box;
fn peak_fma(iters: usize) -> f64 {
    let mut acc = [[0.0f32; 8]; 12];
    let x = black_box([1.0000001f32; 8]);
    let y = black_box([1e-9f32; 8]);
    let t = std::time::Instant::now();
    for _ in 0..iters {
        for a in acc.iter_mut() { for j in 0..8 { a[j] = a[j].mul_add(x[j], y[j]); } }
    }
    black_box(&acc);
    let s = t.elapsed().as_secs_f64();
    (iters * 12 * 8 * 2) as f64 / s / 1e9
}
fn peak_muladd(iters: usize) -> f64 {
    let mut acc = [[0.0f32; 8]; 12];
    let x = black_box([1.0000001f32; 8]);
    let y = black_box([1e-9f32; 8]);
    let t = std::time::Instant::now();
    for _ in 0..iters {
        for a in acc.iter_mut() { for j in 0..8 { a[j] += x[j] * y[j] ; } }
        black_box(&y);
    }
    black_box(&acc);
    let s = t.elapsed().as_secs_f64();
    (iters * 12 * 8 * 2) as f64 / s / 1e9
}
fn main() {
    for _ in 0..3 { println!("fma peak {:.1} GFLOP/s   mul+add {:.1}", peak_fma(50_000_000), peak_muladd(50_000_000)); }
}
