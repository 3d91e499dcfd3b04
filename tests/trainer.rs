//! The crate's training loop (`constnn::train`): the steps of the book's loop exactly (the same
//! weights as a hand-written loop of `train_step`s drawing the same batches), the same figures
//! and model whatever the number of threads and whether the rows are kept dense or sparse,
//! progress in order, a log and a model written only on success, and clear errors.

use crate::common;

use constnn::init::NumpyRandom;
use constnn::layers::{Affine, Relu, Sigmoid};
use constnn::matrix::Heap;
use constnn::matrix::sparse::{SparseRow, SparseRows};
use constnn::train::{Progress, Report, Samples, TrainError, Trainer};
use constnn::{BatchError, Layer, Momentum, Network, Sgd, TwoLayerNet, chain};

const I: usize = 12;

/// `n` rows of `I` values, about two thirds zeros, labelled by which of three column groups
/// holds the largest sum: a task a small network learns.
fn data(n: usize, seed: u64) -> (Vec<[f32; I]>, Vec<u8>) {
    let mut rng = common::rng(seed);
    let rows: Vec<[f32; I]> = (0..n)
        .map(|_| {
            std::array::from_fn(|_| {
                if common::uniform(&mut rng, 0.0, 1.0) < 0.67 {
                    0.0
                } else {
                    common::uniform(&mut rng, 0.0, 1.0) as f32
                }
            })
        })
        .collect();
    let labels = rows
        .iter()
        .map(|r| {
            let sums: Vec<f32> = r.chunks(I / 3).map(|c| c.iter().sum()).collect();
            (0..3).max_by(|&a, &b| sums[a].total_cmp(&sums[b])).unwrap() as u8
        })
        .collect();
    (rows, labels)
}

fn sparse(rows: &[[f32; I]]) -> SparseRows<f32, I> {
    let mut set = SparseRows::new();
    rows.iter().for_each(|r| set.push_dense(r));
    set
}

type Net = TwoLayerNet<I, 16, 3, f32, Heap>;

fn net(seed: u32) -> Net {
    let mut np = NumpyRandom::seed(seed);
    Net::with_normal(0.3, || np.randn())
}

fn bits(net: &Net) -> Vec<u32> {
    let mut v = Vec::new();
    net.layers
        .for_each_tensor(|t| v.extend(t.values.iter().map(|x| x.to_bits())));
    v
}

/// The epochs' figures without their times.
fn figures(r: &Report) -> Vec<(usize, usize, u64, u64, u64)> {
    r.epochs
        .iter()
        .map(|e| {
            let b = |x: f64| x.to_bits();
            (
                e.epoch,
                e.iteration,
                b(e.mean_loss),
                b(e.train_acc),
                b(e.test_acc),
            )
        })
        .collect()
}

/// The trainer takes the book's steps: after `np.random.seed(s)`, the weights, then per step
/// `np.random.choice(n, N)` and one `train_step`: the same weights, bit for bit, as that loop
/// written by hand.
#[test]
fn the_trainer_takes_the_steps_of_the_books_loop() {
    let (rows, labels) = data(500, 1);
    let mut np = NumpyRandom::seed(5);
    let mut by_hand = Net::with_normal(0.3, || np.randn());
    let mut sgd = Sgd::new(0.2);
    for _ in 0..120 {
        let (mut x, mut t) = ([[0.0f32; I]; 20], [0u8; 20]);
        for (x, t) in x.iter_mut().zip(&mut t) {
            let k = np.choice(500) as usize;
            (*x, *t) = (rows[k], labels[k]);
        }
        by_hand.train_step(&x, &t, &mut sgd).unwrap();
    }

    let mut np = NumpyRandom::seed(5);
    let mut trained = Net::with_normal(0.3, || np.randn());
    let set = Samples::new(&rows, &labels).unwrap();
    let report = Trainer::<_, 20>::new(Sgd::new(0.2))
        .iterations(120)
        .threads(1)
        .run(&mut trained, set, set, np, |_| {})
        .unwrap();
    assert_eq!(bits(&trained), bits(&by_hand));
    // An epoch is 500 / 20 = 25 iterations: evaluated after iterations 0, 25, …, 100.
    let at: Vec<usize> = report.epochs.iter().map(|e| e.iteration).collect();
    assert_eq!(at, [0, 25, 50, 75, 100]);
    assert_eq!(report.test_acc, by_hand.accuracy(&rows, &labels).unwrap());
    assert!(report.test_acc > 0.8, "{}", report.test_acc);
}

/// One thread or two (a helper making batches and evaluating snapshots), rows kept dense or
/// sparse: the same model bit for bit, the same figures, the same progress.
#[test]
fn threads_and_row_kinds_change_nothing_but_the_time() {
    let (rows, labels) = data(2000, 2);
    let (test_rows, test_labels) = data(700, 3);
    let (train_sparse, test_sparse) = (sparse(&rows), sparse(&test_rows));
    let train_sparse: Vec<SparseRow<'_, f32, I>> = train_sparse.iter().collect();
    let test_sparse: Vec<SparseRow<'_, f32, I>> = test_sparse.iter().collect();
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        for kind in ["dense", "sparse"] {
            let mut n = net(7);
            let mut steps = 0;
            let mut evaluated = Vec::new();
            let trainer = Trainer::<_, 50>::new(Momentum::new(0.05, 0.9))
                .iterations(400)
                .threads(threads);
            let mut trainer = trainer;
            let progress = |p: Progress<'_>| match p {
                Progress::Step { iteration, .. } => {
                    assert_eq!(iteration, steps);
                    steps += 1;
                }
                Progress::EpochEnd { .. } => {}
                Progress::Evaluated(e) => evaluated.push(e.iteration),
            };
            let report = if kind == "dense" {
                let (train, test) = (
                    Samples::new(&rows, &labels).unwrap(),
                    Samples::new(&test_rows, &test_labels).unwrap(),
                );
                trainer.run(&mut n, train, test, NumpyRandom::seed(9), progress)
            } else {
                let (train, test) = (
                    Samples::new(&train_sparse, &labels).unwrap(),
                    Samples::new(&test_sparse, &test_labels).unwrap(),
                );
                trainer.run(&mut n, train, test, NumpyRandom::seed(9), progress)
            }
            .unwrap();
            assert_eq!(steps, 400);
            assert_eq!(evaluated, [0, 40, 80, 120, 160, 200, 240, 280, 320, 360]);
            assert_eq!(report.helper, threads >= 2);
            results.push((
                format!("{threads} threads, {kind}"),
                bits(&n),
                figures(&report),
                report.train_acc,
                report.test_acc,
            ));
        }
    }
    let first = &results[0];
    assert!(first.4 > 0.8, "test accuracy {}", first.4);
    for r in &results[1..] {
        assert_eq!(r.1, first.1, "{}: the model", r.0);
        assert_eq!(r.2, first.2, "{}: the epochs' figures", r.0);
        assert_eq!((r.3, r.4), (first.3, first.4), "{}: the final figures", r.0);
    }
}

/// Any `chain!` network (here three layers with a Sigmoid), trained through the trainer from a
/// PCG stream, writes its log and model; the model loads back into the same weights and the
/// log has a line per epoch.
#[test]
fn a_chain_trains_and_its_log_and_model_are_written() {
    let (rows, labels) = data(600, 4);
    let dir = std::env::temp_dir().join(format!("constnn-trainer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = common::rng(11);
    let mut deep = Network::from_layers(chain![
        Affine::<f32, I, 20, Heap>::new(0.5, &mut rng),
        Relu::new(),
        Affine::<f32, 20, 10, Heap>::new(0.5, &mut rng),
        Sigmoid::new(),
        Affine::<f32, 10, 3, Heap>::new(0.5, &mut rng),
    ]);
    let set = Samples::new(&rows, &labels).unwrap();
    let report = Trainer::<_, 30>::new(Sgd::new(0.5))
        .iterations(300)
        .log_csv(dir.join("log.csv"))
        .save_model(dir.join("model.cnnm"))
        .run(&mut deep, set, set, rng, |_| {})
        .unwrap();
    let csv = std::fs::read_to_string(dir.join("log.csv")).unwrap();
    assert_eq!(csv, report.csv());
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,iteration,mean_loss,train_acc,test_acc,elapsed_s"
    );
    assert_eq!(lines.len(), 1 + 15); // 600 / 30 = 20 iterations an epoch
    assert!(lines[15].starts_with("14,280,"), "{}", lines[15]);
    let mut back = deep.clone();
    back.layers
        .for_each_tensor_mut(|_, _, values| values.iter_mut().for_each(|v| *v = 0.0));
    constnn::data::load_model(&mut back.layers, &dir.join("model.cnnm")).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    deep.layers
        .for_each_tensor(|t| a.extend_from_slice(t.values));
    back.layers
        .for_each_tensor(|t| b.extend_from_slice(t.values));
    assert_eq!(a, b);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A learning rate far too large: training stops at the iteration where it diverged, with the
/// error, and writes neither log nor model (an earlier model stays as it was).
#[test]
fn a_diverging_run_stops_and_writes_nothing() {
    let (rows, labels) = data(400, 5);
    let dir = std::env::temp_dir().join(format!("constnn-diverge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.cnnm"), b"the previous model").unwrap();
    for threads in [1, 2] {
        let mut n = net(1);
        let set = Samples::new(&rows, &labels).unwrap();
        let e = Trainer::<_, 20>::new(Sgd::new(1e6))
            .iterations(500)
            .threads(threads)
            .log_csv(dir.join("log.csv"))
            .save_model(dir.join("model.cnnm"))
            .run(&mut n, set, set, NumpyRandom::seed(0), |_| {})
            .unwrap_err();
        let TrainError::Diverged { iteration } = e else {
            panic!("{e}");
        };
        assert!(iteration < 500, "{iteration}");
        assert!(e.to_string().starts_with("training diverged at iteration"));
    }
    assert!(!dir.join("log.csv").exists());
    assert_eq!(
        std::fs::read(dir.join("model.cnnm")).unwrap(),
        b"the previous model"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Rows and labels in different numbers, or none, are refused when the set is made; a label
/// the network has no class for stops training with an error naming the batch; one in the
/// test set, the evaluation.
#[test]
fn bad_data_sets_are_clear_errors() {
    let (rows, mut labels) = data(100, 6);
    assert_eq!(
        Samples::new(&rows, &labels[..99]).unwrap_err().to_string(),
        "a data set of 100 rows but 99 labels"
    );
    let none: &[[f32; I]] = &[];
    assert_eq!(
        Samples::new(none, &[]).unwrap_err().to_string(),
        "a data set with no rows"
    );
    let good = labels.clone();
    labels[37] = 3;
    for threads in [1, 2] {
        let bad = Samples::new(&rows, &labels).unwrap();
        let ok = Samples::new(&rows, &good).unwrap();
        // Whichever comes first: a batch that drew row 37, or the first evaluation.
        let e = Trainer::<_, 10>::new(Sgd::new(0.1))
            .iterations(60)
            .threads(threads)
            .run(&mut net(2), bad, ok, NumpyRandom::seed(0), |_| {})
            .unwrap_err();
        match &e {
            TrainError::Batch { context, source } => {
                assert!(
                    context.starts_with("training batch ")
                        || context == "evaluating the training set",
                    "{context}"
                );
                assert!(matches!(source, BatchError::Label(l) if l.label == 3));
            }
            e => panic!("{e}"),
        }
        let e = Trainer::<_, 10>::new(Sgd::new(0.1))
            .iterations(60)
            .threads(threads)
            .run(&mut net(2), ok, bad, NumpyRandom::seed(0), |_| {})
            .unwrap_err();
        match &e {
            TrainError::Batch { context, source } => {
                assert_eq!(context, "evaluating the test set");
                assert!(matches!(source, BatchError::Label(l) if l.row == 37));
            }
            e => panic!("{e}"),
        }
    }
}

/// A NaN or infinite value in either set stops the run before its first step, with an error
/// naming the set, the row and the column, whether the rows are dense or sparse: the sets are
/// checked once, and the evaluations then check only their scores.
#[test]
fn a_non_finite_value_in_a_set_is_refused_before_training() {
    let (mut rows, labels) = data(200, 7);
    let good = rows.clone();
    rows[123][5] = f32::NAN;
    rows[150][2] = f32::INFINITY;
    let (bad_sparse, good_sparse) = (sparse(&rows), sparse(&good));
    let bad_sparse: Vec<SparseRow<'_, f32, I>> = bad_sparse.iter().collect();
    let good_sparse: Vec<SparseRow<'_, f32, I>> = good_sparse.iter().collect();
    for threads in [1, 2] {
        let expect = |e: TrainError, set: &str| {
            assert_eq!(
                e.to_string(),
                format!(
                    "checking the {set} set: input row 123 has a NaN or infinite value at \
                     column 5"
                )
            );
        };
        let (bad, ok) = (
            Samples::new(&rows, &labels).unwrap(),
            Samples::new(&good, &labels).unwrap(),
        );
        expect(refused(bad, ok, threads), "training");
        expect(refused(ok, bad, threads), "test");
        let (bad, ok) = (
            Samples::new(&bad_sparse, &labels).unwrap(),
            Samples::new(&good_sparse, &labels).unwrap(),
        );
        expect(refused(bad, ok, threads), "training");
        expect(refused(ok, bad, threads), "test");
    }
}

/// The error of a run on `train` and `test`, checking that it took no step.
fn refused<X: constnn::input::Row<[f32; I]> + Send + Sync>(
    train: Samples<'_, X>,
    test: Samples<'_, X>,
    threads: usize,
) -> TrainError {
    let mut heard = 0;
    let e = Trainer::<_, 10>::new(Sgd::new(0.1))
        .iterations(30)
        .threads(threads)
        .run(&mut net(3), train, test, NumpyRandom::seed(0), |_| {
            heard += 1
        })
        .unwrap_err();
    assert_eq!(heard, 0, "no step nor epoch before the error");
    e
}
