//! The book's chapter-6 comparisons of training curves (figures 6-9 and 6-15): several
//! networks 784-100-100-100-100-10 trained side by side on the same MNIST batches of 128, the
//! loss of each batch recorded after its update; a CSV of every loss and the figure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use constnn::init::{NumpyRandom, WeightInit};
use constnn::matrix::Heap;
use constnn::matrix::sparse::{SparseBatch, SparseRow, SparseRows};
use constnn::network::Workspace;
use constnn::optim::Optimizer;
use constnn::{Float, MultiLayerNet};
use indicatif::{ProgressBar, ProgressStyle};

use super::{Args, Error};

/// The book's batch size for these experiments.
pub const BATCH: usize = 128;

/// The book's network for them: 784-100-100-100-100-10, ReLU.
pub type Net<T> = MultiLayerNet![T, Heap; 784, 100, 100, 100, 100, 10];

/// Its layers.
pub type Layers<T> = <Net<T> as Deref>::L;

/// The layers of a network type, to name an optimiser's.
pub trait Deref {
    type L;
}

impl<L> Deref for constnn::Network<L> {
    type L = L;
}

/// What a comparison is asked to do (`--data`, `--out`, `--iters`, `--seed`, `--threads`).
pub struct Settings {
    pub data: PathBuf,
    pub out: PathBuf,
    pub iters: usize,
    pub seed: u32,
    pub threads: usize,
}

impl Settings {
    /// The settings the options give; `iters` by default.
    pub fn from_args(args: &Args, iters: usize) -> Result<Self, Error> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let data = args.get("--data", super::DEFAULT_DATA_DIR.to_owned(), "a directory")?;
        Ok(Self {
            data: PathBuf::from(data),
            out: PathBuf::from(args.get("--out", "out".to_owned(), "a directory")?),
            iters: super::at_least_1(args, "--iters", iters)?,
            seed: args.get("--seed", 0, "a whole number below 2^32")?,
            threads: super::at_least_1(args, "--threads", cores)?,
        })
    }
}

/// MNIST kept sparse in the precision `T` (f64: the f32 pixels widened, as NumPy's
/// `astype(float64)` of the book's float32 data), and its labels.
pub struct SparseMnist<T> {
    pub train: SparseRows<T, 784>,
    pub test: SparseRows<T, 784>,
    pub train_t: Vec<u8>,
    pub test_t: Vec<u8>,
}

impl<T: Float> SparseMnist<T> {
    /// Reads MNIST from `dir` and prints what was read.
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let t = Instant::now();
        let mnist = super::load_mnist(dir)?;
        let sparse = |split: &super::Split| {
            let mut rows = SparseRows::<T, 784>::new();
            for i in 0..split.len() {
                rows.push_dense(&split.image(i).map(|p| T::from_f64(f64::from(p))));
            }
            rows
        };
        let loaded = Self {
            train: sparse(&mnist.train),
            test: sparse(&mnist.test),
            train_t: mnist.train.labels().to_vec(),
            test_t: mnist.test.labels().to_vec(),
        };
        println!(
            "loaded {} training and {} test images in {:.2} s",
            loaded.train.len(),
            loaded.test.len(),
            t.elapsed().as_secs_f64()
        );
        Ok(loaded)
    }
}

/// Networks to train side by side on one thread: each one's index, losses and test accuracy.
pub type Job<'a> = Box<dyn FnOnce() -> Result<Vec<Trained>, Error> + Send + 'a>;

/// A trained network: its index among the contenders, its loss after every update, its test
/// accuracy.
pub type Trained = (usize, Vec<f64>, f64);

/// What every job reads: the data sets, every batch's indices, the progress bar.
#[derive(Clone, Copy)]
pub struct Data<'a, T> {
    pub train: &'a [SparseRow<'a, T, 784>],
    pub train_t: &'a [u8],
    pub test: &'a [SparseRow<'a, T, 784>],
    pub test_t: &'a [u8],
    pub batches: &'a [[u32; BATCH]],
    pub bar: &'a ProgressBar,
}

/// The batches' indices, as the book's `np.random.choice(60000, 128)` per iteration, drawn
/// after the networks' weights from the same stream.
pub fn batches(np: &mut NumpyRandom, iters: usize, n: usize) -> Result<Vec<[u32; BATCH]>, Error> {
    let n = u32::try_from(n).map_err(|_| Error::Failed("too many images".into()))?;
    Ok((0..iters)
        .map(|_| std::array::from_fn(|_| np.choice(n)))
        .collect())
}

/// A progress bar over `steps` steps of every network.
pub fn bar(steps: usize) -> ProgressBar {
    ProgressBar::new(steps as u64).with_style(
        ProgressStyle::with_template("[{bar:40}] {pos}/{len} steps, {eta} left")
            .expect("static template")
            .progress_chars("=> "),
    )
}

/// One network of a [`job`]: its index, name, weights and optimiser.
pub struct Member<'a, T: Float> {
    pub k: usize,
    pub name: &'a str,
    pub net: Net<T>,
    pub optimizer: Box<dyn Optimizer<Layers<T>> + Send>,
}

/// The `members` trained in turn on every batch, listed by column once for all of them, each
/// batch's loss recorded after its update (as the book records it), then each one's test
/// accuracy.
pub fn job<'a, T: Float + Sync>(mut members: Vec<Member<'a, T>>, d: Data<'a, T>) -> Job<'a> {
    Box::new(move || {
        let mut batch = Box::new(SparseBatch::<T, BATCH, 784>::new());
        let mut workspaces: Vec<Workspace<Layers<T>, BATCH>> =
            members.iter().map(|_| Workspace::new()).collect();
        let mut losses: Vec<Vec<f64>> = members
            .iter()
            .map(|_| Vec::with_capacity(d.batches.len()))
            .collect();
        for (i, picks) in d.batches.iter().enumerate() {
            batch.set(picks.map(|p| d.train[p as usize]));
            let t = picks.map(|p| d.train_t[p as usize]);
            let three = members.iter_mut().zip(&mut workspaces).zip(&mut losses);
            for ((m, workspace), losses) in three {
                let failed = |source| Error::Batch {
                    context: format!("{}, iteration {i}", m.name),
                    source,
                };
                m.net
                    .train_step_with(workspace, &*batch, &t, &mut m.optimizer)
                    .map_err(failed)?;
                losses.push(m.net.loss(&*batch, &t).map_err(failed)?.to_f64());
                d.bar.inc(1);
            }
        }
        members
            .iter()
            .zip(losses)
            .map(|(m, losses)| {
                let accuracy = m
                    .net
                    .accuracy(d.test, d.test_t)
                    .map_err(|source| Error::Batch {
                        context: format!("{}: evaluation", m.name),
                        source,
                    })?;
                Ok((m.k, losses, accuracy))
            })
            .collect()
    })
}

/// Runs the jobs, one a thread; every network's losses and test accuracy, in the
/// contenders' order.
pub fn run_jobs(jobs: Vec<Job<'_>>) -> Result<Vec<(Vec<f64>, f64)>, Error> {
    let mut all = std::thread::scope(|s| {
        let workers: Vec<_> = jobs.into_iter().map(|job| s.spawn(job)).collect();
        let mut all = Vec::new();
        for w in workers {
            let done = w
                .join()
                .map_err(|_| Error::Failed("a training thread panicked".into()))??;
            all.extend(done);
        }
        Ok::<_, Error>(all)
    })?;
    all.sort_by_key(|(k, _, _)| *k);
    Ok(all.into_iter().map(|(_, l, a)| (l, a)).collect())
}

/// One of the networks a comparison trains: its name, how its weights are drawn, and the
/// optimiser that trains it.
pub struct Contender<T: Float> {
    pub name: &'static str,
    pub init: WeightInit,
    pub optimizer: Box<dyn Optimizer<Layers<T>> + Send>,
}

/// The whole comparison: MNIST read and kept sparse, the networks' weights drawn in order
/// from NumPy's stream, then every batch; the networks trained side by side on `s.threads`
/// threads, and the [`report`].
pub fn side_by_side<T: Float + Sync>(
    s: &Settings,
    contenders: Vec<Contender<T>>,
    figure: &Figure,
) -> Result<(), Error> {
    let mnist = SparseMnist::<T>::load(&s.data)?;
    let train: Vec<_> = mnist.train.iter().collect();
    let test: Vec<_> = mnist.test.iter().collect();
    super::create_dir(&s.out)?;
    // The book's order: every network, layer by layer, then every batch.
    let mut np = NumpyRandom::seed(s.seed);
    let nets: Vec<Net<T>> = contenders
        .iter()
        .map(|c| {
            let mut net = Net::<T>::default();
            net.init_weights(c.init, || np.randn());
            net
        })
        .collect();
    let batches = batches(&mut np, s.iters, train.len())?;
    println!(
        "training {} networks 784-100-100-100-100-10 ({}): {} iterations, batch {BATCH}, seed {}",
        nets.len(),
        T::NAME,
        s.iters,
        s.seed
    );
    let bar = bar(nets.len() * s.iters);
    let data = Data {
        train: &train,
        train_t: &mnist.train_t,
        test: &test,
        test_t: &mnist.test_t,
        batches: &batches,
        bar: &bar,
    };
    let names: Vec<&str> = contenders.iter().map(|c| c.name).collect();
    let started = Instant::now();
    // As many groups as threads, of neighbours in the contenders' order, none empty (4
    // networks on 2 threads: 2 and 2; 3: 2 and 1; 4 on 3: 2, 1, 1), each trained on one
    // thread, listing each batch once for its networks. (Dealt in turn instead, 4 on 2 threads
    // ran 1.02x as long: Momentum and Adam, the slower updates, then share a thread.)
    let count = nets.len();
    let groups = s.threads.clamp(1, count.max(1));
    let mut members: Vec<Vec<Member<'_, T>>> = (0..groups).map(|_| Vec::new()).collect();
    for (k, (c, net)) in contenders.into_iter().zip(nets).enumerate() {
        members[k * groups / count].push(Member {
            k,
            name: c.name,
            net,
            optimizer: c.optimizer,
        });
    }
    let jobs = members.into_iter().map(|m| job(m, data)).collect();
    let results = run_jobs(jobs)?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    report(&s.out, figure, &names, &results, seconds, s.threads)
}

/// A comparison's outputs: `stem`.csv and `stem`.png, the figure titled `title` with the loss
/// axis over `y`.
pub struct Figure {
    pub stem: &'static str,
    pub title: &'static str,
    pub y: std::ops::Range<f64>,
}

/// The end of a comparison: the losses every 100 iterations, the `time:` line, the test
/// accuracies, the CSV and the figure in `out` (the losses smoothed as the book's
/// `smooth_curve` does), and the final line of the last 100 losses' means.
pub fn report(
    out: &Path,
    figure: &Figure,
    names: &[&str],
    results: &[(Vec<f64>, f64)],
    seconds: f64,
    threads: usize,
) -> Result<(), Error> {
    let Figure { stem, title, y } = figure;
    let (title, y) = (*title, y.clone());
    let iters = results.first().map_or(0, |(l, _)| l.len());
    for i in (0..iters).step_by(100) {
        let line: Vec<String> = names
            .iter()
            .zip(results)
            .map(|(name, (l, _))| format!("{name} {:.4}", l[i]))
            .collect();
        println!("iteration {i}: {}", line.join(", "));
    }
    println!(
        "time: {seconds:.2} s ({iters} iterations of {} networks on {} threads; loading excluded)",
        names.len(),
        threads.min(names.len())
    );
    let figures = |v: &mut dyn Iterator<Item = f64>| -> String {
        names
            .iter()
            .zip(v)
            .map(|(name, x)| format!("{name}={x:.4}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "test accuracy: {}",
        figures(&mut results.iter().map(|(_, a)| *a))
    );
    let mut csv = format!("iteration,{}\n", names.join(","));
    for i in 0..iters {
        let row: Vec<String> = results.iter().map(|(l, _)| l[i].to_string()).collect();
        let _ = writeln!(csv, "{i},{}", row.join(","));
    }
    let csv_path = out.join(format!("{stem}.csv"));
    super::write_atomic(&csv_path, |f| std::io::Write::write_all(f, csv.as_bytes()))?;
    let png_path = out.join(format!("{stem}.png"));
    let series = names
        .iter()
        .zip(results)
        .map(|(name, (l, _))| {
            let smooth = super::plot::smooth_curve(l);
            let points = smooth.iter().enumerate().map(|(i, l)| (i as f64, *l));
            ((*name).to_owned(), points.collect())
        })
        .collect();
    super::plot::Chart {
        title: title.into(),
        x_desc: "iterations",
        y_desc: "loss",
        x: 0.0..(iters.max(2) - 1) as f64,
        y,
        series,
        legend: plotters::chart::SeriesLabelPosition::UpperRight,
    }
    .png(&png_path)?;
    println!("wrote {}, {}", csv_path.display(), png_path.display());
    let mean_last_100 = |l: &Vec<f64>| {
        let tail = &l[l.len().saturating_sub(100)..];
        tail.iter().sum::<f64>() / tail.len() as f64
    };
    println!(
        "final mean_loss_last_100 {}",
        figures(&mut results.iter().map(|(l, _)| mean_last_100(l)))
    );
    Ok(())
}
