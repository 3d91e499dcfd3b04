use constnn::matrix::kernels::{gemm_nn, gemm_tn};
fn run(m: usize, k: usize, n: usize, sparse: bool) {
    let a: Vec<f32> = (0..m*k).map(|i| if sparse && (i*2654435761usize) % 100 < 80 { 0.0 } else { ((i * 7919) % 1000) as f32 / 1000.0 + 0.001 }).collect();
    let b: Vec<f32> = (0..k*n).map(|i| ((i * 104729) % 1000) as f32 / 1000.0 - 0.5).collect();
    let mut c = vec![0.0f32; m*n];
    let reps = (2e9 / (2.0*(m*k*n) as f64)) as usize + 1;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        for _ in 0..reps { gemm_nn(std::hint::black_box(&a), std::hint::black_box(&b), &mut c, m, k, n); }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    let mut best_tn = f64::MAX;
    let at: Vec<f32> = a.clone(); // treat as k×m
    for _ in 0..5 {
        let t = std::time::Instant::now();
        for _ in 0..reps { gemm_tn(std::hint::black_box(&at), std::hint::black_box(&b), &mut c, k, m, n); }
        best_tn = best_tn.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    let f = 2.0*(m*k*n) as f64;
    println!("m{m} k{k} n{n} sparse={sparse}: nn {:.1} GFLOP/s ({:.1} us), tn {:.1} GFLOP/s", f/best/1e9, best*1e6, f/best_tn/1e9);
}
fn main() {
    run(4, 256, 16, false);
    run(100, 256, 48, false);
    run(100, 784, 48, false);
    run(100, 784, 50, false);
    run(100, 784, 50, true);
    run(64, 784, 50, true);
}
