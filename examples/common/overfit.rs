//! The book's overfitting experiments (section 6.4, figures 6-20/6-21 and 6-23): a deep
//! network trained on only 300 MNIST images, with and without a regulariser, its train and
//! test accuracy per epoch; the gap between them is the overfitting.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use constnn::init::NumpyRandom;
use constnn::matrix::sparse::SparseRow;
use constnn::optim::Optimizer;
use constnn::train::{Report, Samples, Trainer};
use constnn::{Network, Train};

use super::{Args, Error};

/// Training images used: the book's `x_train[:300]`.
pub const TRAIN: usize = 300;

/// The book's batch size here.
pub const BATCH: usize = 100;

/// What an overfitting run is asked to do (`--data`, `--out`, `--epochs`, `--seed`).
pub struct Settings {
    pub data: PathBuf,
    pub out: PathBuf,
    pub epochs: usize,
    pub seed: u32,
}

impl Settings {
    /// The settings the options give; `epochs` by default.
    pub fn from_args(args: &Args, epochs: usize) -> Result<Self, Error> {
        let data = args.get("--data", super::DEFAULT_DATA_DIR.to_owned(), "a directory")?;
        Ok(Self {
            data: PathBuf::from(data),
            out: PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?),
            epochs: super::at_least_1(args, "--epochs", epochs)?,
            seed: args.get("--seed", 0, "a whole number below 2^32")?,
        })
    }

    /// Iterations for the epochs: an epoch is `TRAIN / BATCH` = 3 iterations, evaluated after
    /// its first, as the book counts (201 epochs: iterations 0 to 600).
    pub fn iterations(&self) -> usize {
        (self.epochs - 1) * (TRAIN / BATCH) + 1
    }
}

/// Trains `net` with `opt` on `train` (batches drawn from `stream`, after the weights), the
/// accuracies evaluated on `train` and `test` every epoch, on one thread.
pub fn curves<L, O>(
    net: &mut Network<L>,
    opt: O,
    train: Samples<'_, SparseRow<'_, f32, 784>>,
    test: Samples<'_, SparseRow<'_, f32, 784>>,
    s: &Settings,
    stream: NumpyRandom,
) -> Result<Report, Error>
where
    L: Train<Input = [f32; 784], Output = [f32; 10], Scalar = f32> + Clone + Send + Sync,
    O: Optimizer<L>,
{
    Trainer::<_, BATCH>::new(opt)
        .iterations(s.iterations())
        .evaluate_every(TRAIN / BATCH)
        .threads(1)
        .run(net, train, test, stream, |_| {})
        .map_err(|e| super::train_error(e, 0.01))
}

/// What an overfitting experiment is called: its files `stem`.csv and `stem`.png, its
/// figure's title, and `label` for the regularised run (`decay`, `dropout`).
pub struct Experiment {
    pub stem: &'static str,
    pub title: &'static str,
    pub label: &'static str,
}

/// The whole experiment: MNIST read (the first 300 training images, all test images), `plain`
/// trained with `opt_plain` and `regular` with `opt_regular` side by side on two threads, both
/// on the batches `stream` draws, and the [`report`].
pub fn side_by_side<L, A, B>(
    s: &Settings,
    e: &Experiment,
    [mut plain, mut regular]: [Network<L>; 2],
    (opt_plain, opt_regular): (A, B),
    stream: NumpyRandom,
) -> Result<(), Error>
where
    L: Train<Input = [f32; 784], Output = [f32; 10], Scalar = f32> + Clone + Send + Sync,
    A: Optimizer<L> + Send,
    B: Optimizer<L> + Send,
{
    let mnist = super::load_mnist(&s.data)?;
    let (train_rows, test_rows) = (mnist.train.sparse(), mnist.test.sparse());
    let train_x: Vec<_> = train_rows.iter().take(TRAIN).collect();
    let test_x: Vec<_> = test_rows.iter().collect();
    let samples = |x, t| Samples::new(x, t).map_err(|e| super::train_error(e, 0.01));
    let train = samples(&train_x, &mnist.train.labels()[..train_x.len()])?;
    let test = samples(&test_x, mnist.test.labels())?;
    super::create_dir(&s.out)?;
    println!(
        "training 784-100x6-10 on {} images for {} epochs, without and with {}",
        train.len(),
        s.epochs,
        e.label
    );
    let started = Instant::now();
    let (a, b) = std::thread::scope(|scope| {
        let other =
            scope.spawn(|| curves(&mut regular, opt_regular, train, test, s, stream.clone()));
        let a = curves(&mut plain, opt_plain, train, test, s, stream.clone());
        let b = other
            .join()
            .map_err(|_| Error::Failed("a training thread panicked".into()))?;
        Ok::<_, Error>((a?, b?))
    })?;
    report(&s.out, e, [&a, &b], started)
}

/// The end of a run: a line per 20 epochs, the `time:` line, the CSV and the figure (`stem`
/// in `out`: train and test accuracy of both runs), and the final line, `label` naming the
/// regularised run (`decay`, `dropout`).
pub fn report(
    out: &Path,
    e: &Experiment,
    [plain, regular]: [&Report; 2],
    started: Instant,
) -> Result<(), Error> {
    let Experiment { stem, title, label } = *e;
    for (a, b) in plain.epochs.iter().zip(&regular.epochs).step_by(20) {
        println!(
            "epoch {:>3}: without: train {:.4} test {:.4}   with {label}: train {:.4} test {:.4}",
            a.epoch, a.train_acc, a.test_acc, b.train_acc, b.test_acc
        );
    }
    println!(
        "time: {:.2} s ({} epochs of 2 networks, side by side; loading excluded)",
        started.elapsed().as_secs_f64(),
        plain.epochs.len()
    );
    let mut csv = format!("epoch,train_acc,test_acc,{label}_train_acc,{label}_test_acc\n");
    for (a, b) in plain.epochs.iter().zip(&regular.epochs) {
        let _ = writeln!(
            csv,
            "{},{},{},{},{}",
            a.epoch, a.train_acc, a.test_acc, b.train_acc, b.test_acc
        );
    }
    let csv_path = out.join(format!("{stem}.csv"));
    super::write_atomic(&csv_path, |f| std::io::Write::write_all(f, csv.as_bytes()))?;
    let curve = |r: &Report, f: fn(&constnn::train::Epoch) -> f64| {
        r.epochs.iter().map(|e| (e.epoch as f64, f(e))).collect()
    };
    let png_path = out.join(format!("{stem}.png"));
    super::plot::Chart {
        title: title.into(),
        x_desc: "epochs",
        y_desc: "accuracy",
        x: 0.0..(plain.epochs.len().max(2) - 1) as f64,
        y: 0.0..1.0,
        series: vec![
            ("train".into(), curve(plain, |e| e.train_acc)),
            ("test".into(), curve(plain, |e| e.test_acc)),
            (format!("train, {label}"), curve(regular, |e| e.train_acc)),
            (format!("test, {label}"), curve(regular, |e| e.test_acc)),
        ],
        legend: plotters::chart::SeriesLabelPosition::LowerRight,
    }
    .png(&png_path)?;
    println!("wrote {}, {}", csv_path.display(), png_path.display());
    println!(
        "final train_acc={:.4} test_acc={:.4} {label}_train_acc={:.4} {label}_test_acc={:.4}",
        plain.train_acc, plain.test_acc, regular.train_acc, regular.test_acc
    );
    Ok(())
}
