use constnn::matrix::{boxed_zeros, matmul, matmul_at, matmul_bt};
use std::time::Instant;
fn med(mut v: Vec<f64>) -> f64 { v.sort_by(|a,b| a.partial_cmp(b).unwrap()); v[v.len()/2] }
fn main() {
    let mut x = boxed_zeros::<f32, 100, 784>();
    let mut w = boxed_zeros::<f32, 784, 50>();
    for (i, v) in x.as_flattened_mut().iter_mut().enumerate() { *v = ((i * 7919) % 1000) as f32 / 1000.0; }
    for (i, v) in w.as_flattened_mut().iter_mut().enumerate() { *v = ((i * 104729) % 1000) as f32 / 1000.0 - 0.5; }
    let mut y = [[0.0f32; 50]; 100];
    let mut dw = boxed_zeros::<f32, 784, 50>();
    let mut dx = boxed_zeros::<f32, 100, 784>();
    let flop = 2.0 * 100.0 * 784.0 * 50.0;
    for (name, f) in [
        ("nn x·W", &mut (|| matmul(&x, &w, &mut y)) as &mut dyn FnMut()),
    ] { let mut t = vec![]; for _ in 0..200 { let s = Instant::now(); f(); t.push(s.elapsed().as_secs_f64()); } let m = med(t); println!("{name}: {:.1} us {:.1} GFLOP/s", m*1e6, flop/m/1e9); }
    let mut t = vec![]; for _ in 0..200 { let s = Instant::now(); matmul_at(&x, &y, &mut dw); t.push(s.elapsed().as_secs_f64()); } let m = med(t); println!("tn xT·dY: {:.1} us {:.1} GFLOP/s", m*1e6, flop/m/1e9);
    let mut t = vec![]; for _ in 0..200 { let s = Instant::now(); matmul_bt(&y, &w, &mut dx); t.push(s.elapsed().as_secs_f64()); } let m = med(t); println!("nt dY·WT: {:.1} us {:.1} GFLOP/s", m*1e6, flop/m/1e9);
    std::hint::black_box((&y, &dw, &dx));
}
