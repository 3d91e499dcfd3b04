use constnn::matrix::{boxed_zeros, matmul};
fn main() {
    let mut x = boxed_zeros::<f32, 100, 784>();
    let mut w = boxed_zeros::<f32, 784, 50>();
    for (i, v) in x.as_flattened_mut().iter_mut().enumerate() { *v = ((i * 7919) % 1000) as f32 / 1000.0; }
    for (i, v) in w.as_flattened_mut().iter_mut().enumerate() { *v = ((i * 104729) % 1000) as f32 / 1000.0 - 0.5; }
    let mut y = [[0.0f32; 50]; 100];
    let n: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(2000);
    let t = std::time::Instant::now();
    for _ in 0..n { matmul(std::hint::black_box(&x), std::hint::black_box(&w), &mut y); std::hint::black_box(&y); }
    let s = t.elapsed().as_secs_f64() / n as f64;
    println!("{:.1} us {:.1} GFLOP/s", s * 1e6, 2.0*100.0*784.0*50.0/s/1e9);
}
