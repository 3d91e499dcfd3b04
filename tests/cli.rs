//! The real `train_mnist` and `classify` programs, given bad arguments and corrupt files:
//! a one-line error naming the problem, a non-zero exit, never a panic, never a broken output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The example's executable, brought up to date once per test run (`cargo test --test cli`
/// alone does not build examples).
fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let profile_dir = deps.parent().unwrap();
    let bin = profile_dir.join("examples").join(name);
    // Build the example in the profile this test binary was built in, so that it lands where
    // `bin` looks: `target/debug` for `cargo test`, `target/release` for `cargo test --release`.
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "test",
        Some(other) => other,
        None => panic!("no profile directory above {}", deps.display()),
    };
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--profile", profile, "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --example {name}");
        built.push(name.to_owned());
    }
    bin
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(name: &str, args: &[&str]) -> Run {
    let out = Command::new(example(name)).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `train_mnist --data DIR --out OUT` plus `extra` arguments.
fn train(data: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run("train_mnist", &args)
}

/// The `name=value` figures of an example's final line after `prefix`, in order (a name may
/// hold `=` itself, as `std=0.01`); panics naming the line if it has another prefix.
fn final_figures<'a>(line: &'a str, prefix: &str) -> Vec<(&'a str, f64)> {
    line.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line}"))
        .split(' ')
        .map(|kv| {
            let (name, value) = kv.rsplit_once('=').unwrap_or_else(|| panic!("{line}"));
            (name, value.parse().unwrap_or_else(|_| panic!("{line}")))
        })
        .collect()
}

/// A failure as the project promises it: non-zero, one line on stderr starting `error:`,
/// containing `needle`, and no panic.
fn assert_clean_failure(r: &Run, needle: &str) {
    assert_ne!(r.code, 0, "expected failure; stdout: {}", r.stdout);
    assert!(!r.stderr.contains("panicked"), "panicked: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {}", r.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(needle),
        "{:?} does not mention {needle:?}",
        lines[0]
    );
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("constnn-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

const NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// A small, valid MNIST in `dir`: the first `train` and `test` images of the real one.
fn small_mnist(dir: &Path, train: usize, test: usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let read = |name: &str| {
        let raw = std::fs::read(src.join(format!("{name}.gz"))).unwrap();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out).unwrap();
        out
    };
    for (name, n) in NAMES.iter().zip([train, train, test, test]) {
        let full = read(name);
        let bytes = if name.contains("images") {
            idx(&[n as u32, 28, 28], &full[16..16 + n * 784])
        } else {
            idx(&[n as u32], &full[8..8 + n])
        };
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn an_unknown_option_is_a_one_line_error_with_exit_status_2() {
    let r = run("train_mnist", &["--itres", "5"]);
    assert_clean_failure(&r, "unknown option --itres");
    assert_eq!(r.code, 2);
}

#[test]
fn an_option_without_its_value_is_refused() {
    assert_clean_failure(&run("train_mnist", &["--lr"]), "option --lr needs a value");
    assert_clean_failure(
        &run("train_mnist", &["--out", "--seed", "1"]),
        "option --out needs a value",
    );
}

#[test]
fn zero_negative_and_non_numeric_iteration_counts_are_refused() {
    for bad in ["0", "-5", "ten", "1e3"] {
        let r = run("train_mnist", &["--iters", bad]);
        assert_clean_failure(&r, &format!("invalid value {bad:?} for --iters"));
        assert_eq!(r.code, 2);
    }
    assert_clean_failure(
        &run("train_mnist", &["--lr", "-0.1"]),
        "for --lr: expected a positive number",
    );
    assert_clean_failure(&run("train_mnist", &["--lr", "NaN"]), "for --lr");
}

/// Every program with options explains them: `--help` and `-h` print its usage and exit 0.
#[test]
fn every_example_with_options_answers_help() {
    for name in [
        "train_mnist",
        "classify",
        "quantize",
        "gradient_check",
        "inference_speed",
        "train_deep",
        "optimizer_compare",
        "weight_init_compare",
        "batch_norm_test",
        "overfit_weight_decay",
        "overfit_dropout",
        "hyperparameter_search",
    ] {
        for flag in ["--help", "-h"] {
            let r = run(name, &[flag]);
            assert_eq!(r.code, 0, "{name} {flag}: {}", r.stderr);
            let usage = format!("USAGE: cargo run --release --example {name} -- [OPTIONS]");
            assert!(r.stdout.contains(&usage), "{name} {flag}: {}", r.stdout);
            assert!(
                r.stdout.contains("-h, --help"),
                "{name} {flag}: {}",
                r.stdout
            );
        }
    }
}

#[test]
fn a_data_dir_without_the_files_names_the_missing_file_and_where_to_put_it() {
    let dir = tmpdir("empty");
    let r = train(&dir, &dir, &[]);
    assert_clean_failure(&r, "train-images-idx3-ubyte");
    let wanted = format!(
        "train-images-idx3-ubyte.gz: no such file (put MNIST's four files, \
         train-images-idx3-ubyte and the others, gzipped or not, in {}; or pass --data DIR)",
        dir.display()
    );
    assert!(r.stderr.contains(&wanted), "{}", r.stderr);
}

#[test]
fn a_data_path_that_is_a_file_or_missing_is_named_as_such() {
    let dir = tmpdir("not-a-dir");
    let file = dir.join("README.md");
    std::fs::write(&file, b"# not MNIST\n").unwrap();
    for (given, says) in [
        (file, "not a directory"),
        (dir.join("nowhere"), "no such directory"),
    ] {
        let r = train(&given, &dir.join("out"), &[]);
        assert_clean_failure(
            &r,
            &format!("{}: {says} (expected a directory", given.display()),
        );
        assert!(r.stderr.contains("; or pass --data DIR)"), "{}", r.stderr);
    }
}

#[test]
fn corrupt_files_are_refused_naming_the_file_and_the_problem() {
    // Each case: which file to spoil, its bytes, and what the message must say.
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "train-images-idx3-ubyte",
            {
                let g = gz(&idx(&[100, 28, 28], &[7; 78_400]));
                g[..g.len() / 2].to_vec()
            },
            "corrupt or truncated gzip data",
        ),
        (
            "train-images-idx3-ubyte",
            b"this is not an IDX file at all".to_vec(),
            "not an IDX file",
        ),
        (
            "train-labels-idx1-ubyte",
            idx(&[100], &[10; 100]),
            "label 10 at index 0 is out of range",
        ),
        (
            "train-images-idx3-ubyte",
            gz(&idx(&[4_000_000_000, 28, 28], &[0; 784])),
            "header declares",
        ),
        (
            "train-images-idx3-ubyte",
            idx(&[99, 28, 28], &[0; 99 * 784]),
            "99 images but the labels file has 100",
        ),
        (
            "t10k-images-idx3-ubyte",
            idx(&[100, 32, 32], &[0; 100 * 1024]),
            "32×32 = 1024 pixels",
        ),
        ("t10k-labels-idx1-ubyte", idx(&[100], &[1; 90]), "truncated"),
    ];
    for (i, (file, bytes, needle)) in cases.iter().enumerate() {
        let dir = tmpdir(&format!("corrupt{i}"));
        small_mnist(&dir, 100, 100);
        std::fs::write(dir.join(file), bytes).unwrap();
        let out = dir.join("out");
        let r = train(&dir, &out, &[]);
        assert_clean_failure(&r, needle);
        assert!(
            r.stderr.contains(file),
            "case {i}: the message must name {file}: {}",
            r.stderr
        );
        assert!(
            !out.join("model.cnnm").exists(),
            "case {i}: no model may be written"
        );
    }
}

#[test]
fn an_empty_training_set_is_refused_before_training() {
    let dir = tmpdir("empty");
    small_mnist(&dir, 0, 10);
    let r = train(&dir, &dir.join("out"), &["--iters", "5"]);
    assert_clean_failure(&r, "train-images-idx3-ubyte and ");
    assert!(r.stderr.contains("hold no images"), "{}", r.stderr);
    assert!(!dir.join("out").join("model.cnnm").exists());
}

#[test]
fn a_diverging_learning_rate_stops_training_and_keeps_the_previous_model() {
    let dir = tmpdir("diverge");
    small_mnist(&dir, 1200, 100);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let previous = b"the previous model, which must survive".to_vec();
    std::fs::write(out.join("model.cnnm"), &previous).unwrap();
    let r = train(&dir, &out, &["--lr", "100", "--iters", "100"]);
    assert_clean_failure(&r, "training diverged at iteration 12");
    assert!(
        r.stderr.contains("try a smaller learning rate than 100"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(out.join("model.cnnm")).unwrap(), previous);
}

#[test]
fn a_learning_rate_is_shown_as_typed_not_in_all_its_digits() {
    let dir = tmpdir("lr_shown");
    small_mnist(&dir, 1200, 100);
    let r = train(&dir, &dir.join("out"), &["--lr", "1e30", "--iters", "10"]);
    assert_clean_failure(&r, "try a smaller learning rate than 1e30 ");
    assert!(r.stdout.contains(", lr 1e30, "), "{}", r.stdout);
    assert_clean_failure(
        &run("train_mnist", &["--lr", "-1e30"]),
        "invalid value \"-1e30\" for --lr",
    );
}

#[test]
fn output_into_a_closed_pipe_ends_the_program_quietly() {
    let dir = tmpdir("closed_pipe");
    small_mnist(&dir, 1200, 100);
    let out = dir.join("out");
    let mut child = Command::new(example("train_mnist"))
        .args([
            "--data",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--iters", "10"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end closed before the first line: every write fails.
    drop(child.stdout.take());
    let r = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(r.status.code(), Some(141));
    assert!(!out.join("model.cnnm").exists());
}

#[test]
fn a_short_run_on_a_small_dataset_writes_every_output() {
    let dir = tmpdir("short");
    small_mnist(&dir, 1200, 200);
    let out = dir.join("out");
    let r = train(&dir, &out, &["--iters", "30"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let last = r.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("final train_acc=0.") && last.contains(" test_acc=0."),
        "{last}"
    );
    let csv = std::fs::read_to_string(out.join("train_log.csv")).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        "epoch,iteration,mean_loss,train_acc,test_acc,elapsed_s"
    );
    assert_eq!(csv.lines().count(), 1 + 3); // iterations 0, 12, 24
    assert_accuracy_png(&out.join("accuracy.png"));
    // The model it wrote loads into classify, which prints the class the model gives each
    // image: computed here from the same file, independently of classify.
    let model = out.join("model.cnnm");
    let r = run(
        "classify",
        &[
            "--model",
            model.to_str().unwrap(),
            "--data",
            dir.to_str().unwrap(),
            "0",
            "1",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut net = constnn::TwoLayerNet::<784, 50, 10, f32, constnn::matrix::Heap>::zeros();
    let bytes = std::fs::read(&model).unwrap();
    constnn::format::model::decode_into(&bytes, &mut net.layers).unwrap();
    let images = test_images(&dir);
    let blocks: Vec<&str> = r.stdout.split("test image #").skip(1).collect();
    assert_eq!(blocks.len(), 2, "{}", r.stdout);
    for (i, block) in blocks.iter().enumerate() {
        let x: [f32; 784] = std::array::from_fn(|p| f32::from(images[i][p]) / 255.0);
        let mut logits = [[0.0f32; 10]];
        net.predict(&[x], &mut logits);
        let class = constnn::matrix::argmax(&logits[0]);
        assert!(
            block.contains(&format!("predicted:  {class} ")),
            "image {i}: the model gives {class}: {block}"
        );
    }
}

/// `train_deep` (784-100-100-10) on a small MNIST: the epoch lines, the `time:` line, the final
/// line, its log and a model file of its network that loads back.
#[test]
fn train_deep_runs_and_writes_its_log_and_model() {
    let dir = tmpdir("deep");
    small_mnist(&dir, 1200, 200);
    let out = dir.join("out");
    let r = run(
        "train_deep",
        &[
            "--data",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--iters",
            "30",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("epoch  2  iteration    24")),
        "{}",
        r.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("time: ")),
        "{}",
        r.stdout
    );
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("final train_acc=0.") && last.contains(" test_acc=0."),
        "{last}"
    );
    let csv = std::fs::read_to_string(out.join("train_deep_log.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3); // header, iterations 0, 12, 24
    type Deep = constnn::layers::Chain<
        constnn::Affine<f32, 784, 100, constnn::matrix::Heap>,
        constnn::layers::Chain<
            constnn::Relu<f32, 100>,
            constnn::layers::Chain<
                constnn::Affine<f32, 100, 100, constnn::matrix::Heap>,
                constnn::layers::Chain<
                    constnn::Relu<f32, 100>,
                    constnn::Affine<f32, 100, 10, constnn::matrix::Heap>,
                >,
            >,
        >,
    >;
    let mut net: Deep = constnn::chain![
        constnn::Affine::zeros(),
        constnn::Relu::new(),
        constnn::Affine::zeros(),
        constnn::Relu::new(),
        constnn::Affine::zeros(),
    ];
    constnn::data::load_model(&mut net, &out.join("deep.cnnm")).unwrap();
    assert!(net.first.w().as_flattened().iter().any(|w| *w != 0.0));
}

#[test]
fn without_a_font_the_plot_has_its_curves_and_no_text() {
    let dir = tmpdir("nofont");
    small_mnist(&dir, 600, 100);
    let out = dir.join("out");
    let r = Command::new(example("train_mnist"))
        .args([
            "--data",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--iters", "24"])
        .env("CONSTNN_FONT", "")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_accuracy_png(&out.join("accuracy.png"));
}

/// The test images of the small MNIST in `dir`, as bytes.
fn test_images(dir: &Path) -> Vec<[u8; 784]> {
    let bytes = std::fs::read(dir.join("t10k-images-idx3-ubyte")).unwrap();
    bytes[16..]
        .chunks_exact(784)
        .map(|c| c.try_into().unwrap())
        .collect()
}

/// `path` is a 640×480 PNG with both curves on it: pixels of the train curve's blue and of
/// the test curve's red.
fn assert_accuracy_png(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut rgb).unwrap();
    assert_eq!((info.width, info.height), (640, 480));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let count = |c: [u8; 3]| rgb.chunks_exact(3).filter(|p| **p == c).count();
    assert!(count([0, 0, 255]) > 100, "no train curve (blue)");
    assert!(count([255, 0, 0]) > 100, "no test curve (red)");
}

#[test]
fn classify_refuses_a_model_of_another_shape_and_a_bad_index() {
    let dir = tmpdir("classify");
    small_mnist(&dir, 12, 10);
    // A model file of a 784-40-10 network.
    let other = constnn::TwoLayerNet::<784, 40, 10>::zeros();
    let mut buf = vec![0u8; constnn::format::model::encoded_len(&other.layers)];
    constnn::format::model::encode(&other.layers, &mut buf).unwrap();
    let path = dir.join("other.cnnm");
    std::fs::write(&path, &buf).unwrap();
    let r = run(
        "classify",
        &[
            "--model",
            path.to_str().unwrap(),
            "--data",
            dir.to_str().unwrap(),
        ],
    );
    assert_clean_failure(
        &r,
        "tensor W1 has shape (784, 40) in the file but the network needs (784, 50)",
    );
    assert!(r.stderr.contains("other.cnnm"));
    let r = run(
        "classify",
        &[
            "--model",
            path.to_str().unwrap(),
            "--data",
            dir.to_str().unwrap(),
            "10000",
        ],
    );
    assert_clean_failure(&r, "invalid value \"10000\" for INDEX");
}

/// One thread (batches and evaluations inline), two (a helper thread makes the batches and
/// evaluates between them) and three give the same log, model and final figures: the threads
/// change where the work runs, not what it computes.
#[test]
fn the_thread_count_changes_nothing_but_the_time() {
    let dir = tmpdir("threads");
    small_mnist(&dir, 1200, 300);
    let runs: Vec<(String, Vec<u8>, String)> = ["1", "2", "3"]
        .iter()
        .map(|threads| {
            let out = dir.join(format!("out{threads}"));
            let r = train(&dir, &out, &["--iters", "70", "--threads", threads]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            let csv = std::fs::read_to_string(out.join("train_log.csv")).unwrap();
            // Every column but the elapsed time.
            let log: String = csv
                .lines()
                .map(|line| line.rsplit_once(',').unwrap().0.to_owned() + "\n")
                .collect();
            let model = std::fs::read(out.join("model.cnnm")).unwrap();
            (log, model, r.stdout.lines().last().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        runs[0].0.lines().count(),
        1 + 6,
        "evaluations at 0, 12, …, 60"
    );
    for run in &runs[1..] {
        assert_eq!(run.0, runs[0].0);
        assert!(run.1 == runs[0].1, "the models differ");
        assert_eq!(run.2, runs[0].2);
    }
}

/// `optimizer_compare` (the book's figure 6-9) on a small MNIST: a loss line per 100
/// iterations, the `time:` line, the final line with the four optimisers' mean losses, a CSV of
/// every iteration's four losses and the figure with four curves; its options are checked.
#[test]
fn optimizer_compare_writes_its_losses_and_figure() {
    let dir = tmpdir("optimizers");
    small_mnist(&dir, 600, 100);
    let out = dir.join("out");
    let (data, out_s) = (dir.to_str().unwrap(), out.to_str().unwrap());
    let args = ["--data", data, "--out", out_s, "--iters", "101"];
    let r = run(
        "optimizer_compare",
        &[&args[..], &["--dtype", "f64"]].concat(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    for start in [
        "iteration 0: SGD ",
        "iteration 100: SGD ",
        "time: ",
        "test accuracy: SGD=",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(start)),
            "{start}: {}",
            r.stdout
        );
    }
    let last = lines.last().unwrap();
    let (names, figures): (Vec<&str>, Vec<f64>) = final_figures(last, "final mean_loss_last_100 ")
        .into_iter()
        .unzip();
    assert_eq!(names, ["SGD", "Momentum", "AdaGrad", "Adam"], "{last}");
    // The book's result, already after 101 iterations: Momentum, AdaGrad and Adam well below
    // SGD (here SGD 1.8064, Momentum 0.6535, AdaGrad 0.2182, Adam 0.3504).
    assert!(figures[1..].iter().all(|&l| l < figures[0] / 2.0), "{last}");
    let csv = std::fs::read_to_string(out.join("optimizer_compare.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "iteration,SGD,Momentum,AdaGrad,Adam");
    assert_eq!(rows.len(), 1 + 101);
    assert!(rows[101].starts_with("100,"));
    let file = std::fs::File::open(out.join("optimizer_compare.png")).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut rgb).unwrap();
    let count = |c: [u8; 3]| rgb.chunks_exact(3).filter(|p| **p == c).count();
    for (color, name) in [([0, 0, 255], "SGD"), ([255, 0, 0], "Momentum")] {
        assert!(count(color) > 100, "no {name} curve");
    }
    for (color, name) in [([0, 150, 0], "AdaGrad"), ([230, 140, 0], "Adam")] {
        assert!(count(color) > 100, "no {name} curve");
    }
    assert_clean_failure(
        &run(
            "optimizer_compare",
            &[&args[..], &["--dtype", "f16"]].concat(),
        ),
        "invalid value \"f16\" for --dtype: expected f32 or f64",
    );
    let help = run("optimizer_compare", &["--help"]);
    assert!(help.stdout.contains("--dtype T"), "{}", help.stdout);
}

/// `weight_init_compare` (figure 6-15) on a small MNIST, with the book's result: σ = 0.01 does
/// not learn in 101 iterations (its loss stays at ln 10), Xavier's starts to, He's is lowest
/// (here 2.3016, 2.2657, 1.8151); its CSV and figure are written.
#[test]
fn weight_init_compare_shows_that_a_tiny_sigma_does_not_learn() {
    let dir = tmpdir("weight_init");
    small_mnist(&dir, 600, 100);
    let out = dir.join("out");
    let (data, out_s) = (dir.to_str().unwrap(), out.to_str().unwrap());
    let r = run(
        "weight_init_compare",
        &["--data", data, "--out", out_s, "--iters", "101"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let last = r.stdout.lines().last().unwrap();
    let (names, figures): (Vec<&str>, Vec<f64>) = final_figures(last, "final mean_loss_last_100 ")
        .into_iter()
        .unzip();
    assert_eq!(names, ["std=0.01", "Xavier", "He"], "{last}");
    assert!((figures[0] - 10f64.ln()).abs() < 0.01, "{last}");
    assert!(
        figures[1] < figures[0] - 0.01,
        "Xavier below σ = 0.01: {last}"
    );
    assert!(figures[2] < figures[1] - 0.3, "He below Xavier: {last}");
    let csv = std::fs::read_to_string(out.join("weight_init_compare.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("iteration,std=0.01,Xavier,He"));
    assert!(out.join("weight_init_compare.png").exists());
}

/// `overfit_weight_decay` and `overfit_dropout` (figures 6-20/6-21, 6-23) for 50 epochs of 300
/// images, with the book's result: the train–test gap is smaller with weight decay and with
/// dropout (here 0.207 without, 0.167 with decay, 0.027 with dropout). Also the setting, an
/// epoch line per 20 epochs, the `time:` line, a CSV line per epoch and the figure; a dropout ratio of 1 is
/// refused.
#[test]
fn the_overfitting_examples_write_both_runs_curves() {
    let dir = tmpdir("overfit");
    small_mnist(&dir, 300, 100);
    let out = dir.join("out");
    let (data, out_s) = (dir.to_str().unwrap(), out.to_str().unwrap());
    for (name, label, setting) in [
        ("overfit_weight_decay", "decay", "weight decay λ = 0.1"),
        ("overfit_dropout", "dropout", "dropout ratio 0.2"),
    ] {
        let r = run(name, &["--data", data, "--out", out_s, "--epochs", "50"]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let lines: Vec<&str> = r.stdout.lines().collect();
        // The setting as the user gave it (by default), not an `f32` widened to 0.1000000015.
        assert_eq!(lines.first(), Some(&setting), "{name}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("epoch   0: without: train "))
        );
        assert!(lines.iter().any(|l| l.starts_with("time: ")));
        let last = lines.last().unwrap();
        let (keys, acc): (Vec<&str>, Vec<f64>) = final_figures(last, "final ").into_iter().unzip();
        let expected = [
            "train_acc".to_owned(),
            "test_acc".to_owned(),
            format!("{label}_train_acc"),
            format!("{label}_test_acc"),
        ];
        assert_eq!(keys, expected, "{last}");
        let (gap, regularised_gap) = (acc[0] - acc[1], acc[2] - acc[3]);
        assert!(acc[0] > 0.85, "{name}: the plain run overfits: {last}");
        assert!(
            regularised_gap < gap - 0.03,
            "{name}: the gap shrinks: {last}"
        );
        let csv = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
        assert_eq!(csv.lines().count(), 1 + 50, "{name}");
        assert!(out.join(format!("{name}.png")).exists());
    }
    assert_clean_failure(
        &run("overfit_dropout", &["--data", data, "--ratio", "1"]),
        "invalid value \"1\" for --ratio: expected a ratio below 1",
    );
}

/// `batch_norm_test` (figures 6-18/6-19) for two epochs on 1 000 images, with the book's
/// result: BatchNorm ahead at most weight scales (here 14 of 16). Also a line per weight scale,
/// a CSV line per scale and epoch, the 4×4 figure.
#[test]
fn batch_norm_test_writes_a_curve_per_scale() {
    let dir = tmpdir("batch_norm_test");
    small_mnist(&dir, 1000, 10);
    let out = dir.join("out");
    let (data, out_s) = (dir.to_str().unwrap(), out.to_str().unwrap());
    let r = run(
        "batch_norm_test",
        &["--data", data, "--out", out_s, "--epochs", "2"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let scales = r.stdout.lines().filter(|l| l.starts_with("σ = ")).count();
    assert_eq!(scales, 16, "{}", r.stdout);
    let last = r.stdout.lines().last().unwrap();
    let ahead: u32 = last
        .strip_prefix("final batch_norm_ahead=")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("{last}"))
        .parse()
        .unwrap();
    assert!(ahead >= 12, "BatchNorm ahead at most scales: {last}");
    assert!(last.contains(" learnt_with=") && last.contains(" learnt_without="));
    let csv = std::fs::read_to_string(out.join("batch_norm_test.csv")).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("scale,epoch,batch_norm_train_acc,train_acc")
    );
    assert_eq!(csv.lines().count(), 1 + 16 * 2);
    assert!(csv.lines().nth(1).unwrap().starts_with("1,0,"));
    let file = std::fs::File::open(out.join("batch_norm_test.png")).unwrap();
    let reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    assert_eq!((reader.info().width, reader.info().height), (1280, 960));
}

/// `hyperparameter_search` (figure 6-24) with 4 short trials: a line per trial, the best ones
/// listed, the final line naming the best hyperparameters, a CSV line per trial, the figure.
#[test]
fn hyperparameter_search_lists_its_trials_and_the_best() {
    let dir = tmpdir("hyperparameters");
    small_mnist(&dir, 500, 10);
    let out = dir.join("out");
    let (data, out_s) = (dir.to_str().unwrap(), out.to_str().unwrap());
    let args = [
        "--data", data, "--out", out_s, "--trials", "4", "--epochs", "2",
    ];
    let r = run("hyperparameter_search", &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let trials = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("val acc: "))
        .count();
    let overflowed = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("weights overflowed"))
        .count();
    assert_eq!(trials + overflowed, 4, "{}", r.stdout);
    assert!(r.stdout.contains("Best-1: val acc "), "{}", r.stdout);
    let last = r.stdout.lines().last().unwrap();
    assert!(last.starts_with("final best val_acc=0."), "{last}");
    assert!(
        last.contains(" lr=") && last.contains(" weight_decay="),
        "{last}"
    );
    let csv = std::fs::read_to_string(out.join("hyperparameter_search.csv")).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("trial,lr,weight_decay,val_acc,train_acc")
    );
    assert_eq!(csv.lines().count(), 1 + trials);
    assert!(out.join("hyperparameter_search.png").exists());
}

/// `quantize` on the checked-in f32 model and a small MNIST: its final line, an int8 model file
/// that loads, and `classify` reading that file and giving the int8 network's classes, computed
/// here from the same file independently of both programs.
#[test]
fn quantize_writes_an_int8_model_that_classify_reads() {
    let dir = tmpdir("quantize");
    small_mnist(&dir, 200, 300);
    let f32_model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/model/mnist-784-50-10.cnnm");
    let out = dir.join("out");
    let r = run(
        "quantize",
        &[
            "--model",
            f32_model.to_str().unwrap(),
            "--data",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--calibration",
            "100",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let figures = final_figures(r.stdout.lines().last().unwrap(), "final ");
    assert_eq!(
        figures.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        ["f32_test_acc", "int8_test_acc", "int8_weight_bytes"],
        "{}",
        r.stdout
    );
    assert_eq!(figures[2].1, 40_420.0);
    // Both accuracies over the 300 test images, computed here.
    let int8_path = out.join("model-int8.cnnm");
    let q: constnn::quant::QuantNet<
        constnn::Chain<constnn::quant::QuantAffine<784, 50>, constnn::quant::QuantAffine<50, 10>>,
    > = constnn::data::load_quantized(&int8_path).unwrap();
    let images = test_images(&dir);
    let labels = std::fs::read(dir.join("t10k-labels-idx1-ubyte")).unwrap()[8..].to_vec();
    let int8_classes: Vec<usize> = images
        .iter()
        .map(|p| q.classify(&p.map(|b| (i16::from(b) - 128) as i8)))
        .collect();
    let right = int8_classes
        .iter()
        .zip(&labels)
        .filter(|(c, l)| **c == usize::from(**l))
        .count();
    assert_eq!(figures[1].1, (right as f64 / 300.0 * 1e4).round() / 1e4);

    let r = run(
        "classify",
        &[
            "--model",
            int8_path.to_str().unwrap(),
            "--data",
            dir.to_str().unwrap(),
            "0",
            "1",
            "2",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let blocks: Vec<&str> = r.stdout.split("test image #").skip(1).collect();
    assert_eq!(blocks.len(), 3, "{}", r.stdout);
    for (i, block) in blocks.iter().enumerate() {
        let class = int8_classes[i];
        assert!(
            block.contains(&format!("predicted:  {class} ")),
            "image {i}: the int8 model gives {class}: {block}"
        );
    }
}

#[test]
fn quantize_refuses_a_missing_or_damaged_model() {
    let dir = tmpdir("quantize-bad");
    small_mnist(&dir, 20, 10);
    let missing = dir.join("none.cnnm");
    let args = |model: &Path| {
        run(
            "quantize",
            &[
                "--model",
                model.to_str().unwrap(),
                "--data",
                dir.to_str().unwrap(),
                "--out",
                dir.join("out").to_str().unwrap(),
            ],
        )
    };
    let r = args(&missing);
    assert_clean_failure(&r, "train one first");
    let damaged = dir.join("damaged.cnnm");
    let mut bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/model/mnist-784-50-10.cnnm"),
    )
    .unwrap();
    bytes[100] ^= 1;
    std::fs::write(&damaged, &bytes).unwrap();
    let r = args(&damaged);
    assert_clean_failure(&r, "CRC-32");
    assert!(!dir.join("out/model-int8.cnnm").exists());
}
