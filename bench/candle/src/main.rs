//! The book's chapter-5 MNIST run with candle, as `../shared/bench/train_torch.py` writes it
//! with PyTorch: 784-50 (ReLU) -10, softmax cross-entropy, weights 0.01·N(0, 1) and zero
//! biases, plain SGD at 0.1, batches of 100 drawn with replacement, 10 000 iterations, train
//! and test accuracy over all 70 000 images every 600 iterations. f32 on the CPU.
//!
//! `RAYON_NUM_THREADS=N cargo run --release -- [--seed N] [--iters N] [--data DIR]`; the last
//! line is `RESULT {json}` with the fields `bench/compare.sh` reads from the Python references.
//! The weights and batches come from candle's and this program's own random streams, so the
//! accuracies are close to the others', not equal.

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{Optimizer, SGD};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seed = 0u64;
    let mut iters = 10_000usize;
    let mut data = std::env::var("MNIST_DIR").unwrap_or_else(|_| "data/mnist".into());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seed" => seed = value.parse()?,
            "--iters" => iters = value.parse()?,
            "--data" => data = value,
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }

    let dev = Device::Cpu;
    let mnist = constnn::data::load_mnist(std::path::Path::new(&data))?;
    let images = |split: &constnn::data::Split<784>| -> candle_core::Result<(Tensor, Tensor)> {
        let n = split.len();
        // Scaled to [0, 1] by the reader, as the references' `normalize=True`.
        let pixels: Vec<f32> = (0..n).flat_map(|i| split.image(i)).collect();
        let labels: Vec<u32> = split.labels().iter().map(|&l| u32::from(l)).collect();
        Ok((
            Tensor::from_vec(pixels, (n, 784), &dev)?,
            Tensor::from_vec(labels, n, &dev)?,
        ))
    };
    let (x_train, t_train) = images(&mnist.train)?;
    let (x_test, t_test) = images(&mnist.test)?;
    let train_size = mnist.train.len();

    // candle cannot seed its CPU generator: the weights come from this program's stream.
    let mut stream = Stream(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut weights = |rows: usize, cols: usize| -> candle_core::Result<Var> {
        let values: Vec<f32> = (0..rows * cols)
            .map(|_| (0.01 * stream.normal()) as f32)
            .collect();
        Var::from_tensor(&Tensor::from_vec(values, (rows, cols), &dev)?)
    };
    let w1 = weights(784, 50)?;
    let w2 = weights(50, 10)?;
    let b1 = Var::zeros(50, DType::F32, &dev)?;
    let b2 = Var::zeros(10, DType::F32, &dev)?;
    let predict = |x: &Tensor| -> candle_core::Result<Tensor> {
        x.matmul(&w1)?
            .broadcast_add(&b1)?
            .relu()?
            .matmul(&w2)?
            .broadcast_add(&b2)
    };
    let accuracy = |x: &Tensor, t: &Tensor| -> candle_core::Result<f64> {
        let right = predict(x)?
            .argmax(D::Minus1)?
            .eq(t)?
            .to_dtype(DType::F32)?
            .sum_all()?
            .to_scalar::<f32>()?;
        Ok(f64::from(right) / x.dim(0)? as f64)
    };
    let mut sgd = SGD::new(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()], 0.1)?;

    // The batches' indices, drawn with replacement as np.random.choice does.
    let per_epoch = (train_size / 100).max(1);
    let (mut eval_s, mut evals, mut last_loss) = (0.0, 0usize, 0.0f32);
    let start = Instant::now();
    for i in 0..iters {
        let picks: Vec<u32> = (0..100)
            .map(|_| (stream.next() % train_size as u64) as u32)
            .collect();
        let picks = Tensor::from_vec(picks, 100, &dev)?;
        let x = x_train.index_select(&picks, 0)?;
        let t = t_train.index_select(&picks, 0)?;
        let loss = candle_nn::loss::cross_entropy(&predict(&x)?, &t)?;
        sgd.backward_step(&loss)?;
        last_loss = loss.to_scalar::<f32>()?;
        if i % per_epoch == 0 {
            let e0 = Instant::now();
            let (train, test) = (accuracy(&x_train, &t_train)?, accuracy(&x_test, &t_test)?);
            eval_s += e0.elapsed().as_secs_f64();
            evals += 1;
            println!("{train} {test}");
        }
    }
    let total = start.elapsed().as_secs_f64();
    let (train, test) = (accuracy(&x_train, &t_train)?, accuracy(&x_test, &t_test)?);
    let train_only = total - eval_s;
    println!(
        "RESULT {{\"framework\": \"candle 0.11\", \"seed\": {seed}, \"iters\": {iters}, \
         \"total_s\": {total:.3}, \"eval_s\": {eval_s:.3}, \"n_evals\": {evals}, \
         \"train_only_s\": {train_only:.3}, \"ms_per_iter_train_only\": {:.4}, \
         \"final_after_10000\": [{train}, {test}], \"final_loss\": {last_loss}}}",
        1000.0 * train_only / iters as f64
    );
    Ok(())
}

/// SplitMix64: the weights and the batches' indices.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// N(0, 1) by Box–Muller.
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}
