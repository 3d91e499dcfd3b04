//! The std side shared by the examples (and the tests that drive them): reading the MNIST
//! files, atomic file writes, saving and loading models, and a small argument parser.
#![allow(dead_code)]

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use constnn::data::{self, DataError};
use constnn::layers::Layer;

pub mod compare;
pub mod overfit;
pub mod plot;

/// Where `train_mnist` looks for the data when `--data` is not given: the copy in this repo.
pub const DEFAULT_DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist");

/// Pixels of one MNIST image.
pub const PIXELS: usize = 784;

/// A command-line problem: each names the option and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    /// An option this program does not have.
    Unknown(String),
    /// An option that needs a value was given none.
    MissingValue(String),
    /// A value that does not parse, or is out of range.
    Invalid {
        option: String,
        value: String,
        expected: &'static str,
    },
    /// A bare word where none is expected.
    Unexpected(String),
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgError::Unknown(o) => write!(f, "unknown option {o} (try --help)"),
            ArgError::MissingValue(o) => write!(f, "option {o} needs a value (try --help)"),
            ArgError::Invalid {
                option,
                value,
                expected,
            } => {
                write!(
                    f,
                    "invalid value {value:?} for {option}: expected {expected}"
                )
            }
            ArgError::Unexpected(w) => write!(f, "unexpected argument {w:?} (try --help)"),
        }
    }
}

/// Anything that can go wrong in an example, each naming the file or option involved.
#[derive(Debug)]
pub enum Error {
    /// A data or model file could not be read or written, or is malformed.
    Data(DataError),
    /// Training diverged: the loss became NaN or infinite, or an epoch's mean loss exceeded
    /// twice that of guessing uniformly.
    Diverged { iteration: usize, lr: f32 },
    /// A batch could not be evaluated.
    Batch {
        context: String,
        source: constnn::BatchError,
    },
    /// A command-line problem.
    Args(ArgError),
    /// A check the program makes of its own results failed, or a plot could not be drawn.
    Failed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Data(e) => e.fmt(f),
            Error::Diverged { iteration, lr } => write!(
                f,
                "training diverged at iteration {iteration}: the loss became NaN or infinite or \
                 grew past twice that of guessing; try a smaller learning rate than {} (the \
                 book uses 0.1). No model was saved.",
                short(*lr)
            ),
            Error::Batch { context, source } => write!(f, "{context}: {source}"),
            Error::Args(e) => e.fmt(f),
            Error::Failed(msg) => f.write_str(msg),
        }
    }
}

impl From<DataError> for Error {
    fn from(e: DataError) -> Self {
        Error::Data(e)
    }
}

impl std::error::Error for Error {}

impl From<ArgError> for Error {
    fn from(e: ArgError) -> Self {
        Error::Args(e)
    }
}

/// Reads an IDX file, gzipped or not, with allocation bounded by its header.
pub fn read_idx_file(path: &Path) -> Result<Vec<u8>, Error> {
    Ok(data::read_idx(path)?)
}

/// One of MNIST's sets, as the examples read it.
pub type Split = data::Split<PIXELS>;

/// Reads one of MNIST's sets from `dir`.
pub fn load_part(dir: &Path, part: data::Part) -> Result<Split, Error> {
    data::load_mnist_part(dir, part).map_err(or_pass_data)
}

/// Reads the four MNIST files from `dir`.
pub fn load_mnist(dir: &Path) -> Result<data::Mnist, Error> {
    data::load_mnist(dir).map_err(or_pass_data)
}

/// A data directory that is missing, is not one, or lacks a file: the message also names the
/// examples' option for another one.
fn or_pass_data(e: DataError) -> Error {
    match e {
        DataError::Io {
            path,
            source,
            hint: Some(hint),
        } if matches!(
            source.kind(),
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
        ) =>
        {
            Error::Data(DataError::Io {
                path,
                source,
                hint: Some(format!("{hint}; or pass --data DIR")),
            })
        }
        e => Error::Data(e),
    }
}

/// Writes `path` atomically (see [`data::write_atomic`]).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> Result<(), Error> {
    Ok(data::write_atomic(path, write)?)
}

/// Saves the parameters of `layers` to `path` (atomically).
pub fn save_model<L: Layer>(layers: &L, path: &Path) -> Result<(), Error> {
    Ok(data::save_model(layers, path)?)
}

/// Loads a model file into `layers`, read no further than the network needs.
pub fn load_model<L: Layer>(layers: &mut L, path: &Path) -> Result<(), Error> {
    Ok(data::load_model(layers, path)?)
}

/// Command-line arguments: `--flag value` (or `--flag=value`) pairs and bare words.
pub struct Args {
    pairs: Vec<(String, String)>,
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `args` given the options that take a value and the switches that do not.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        flags: &[&str],
        switches: &[&str],
    ) -> Result<Self, ArgError> {
        let mut it = args.into_iter();
        let (mut pairs, mut positional) = (Vec::new(), Vec::new());
        while let Some(a) = it.next() {
            if let Some((k, v)) = a.split_once('=').filter(|(k, _)| k.starts_with("--")) {
                if !flags.contains(&k) {
                    return Err(ArgError::Unknown(k.to_owned()));
                }
                pairs.push((k.to_owned(), v.to_owned()));
            } else if switches.contains(&a.as_str()) {
                pairs.push((a, String::new()));
            } else if flags.contains(&a.as_str()) {
                match it.next() {
                    Some(v) if !v.starts_with("--") => pairs.push((a, v)),
                    _ => return Err(ArgError::MissingValue(a)),
                }
            } else if a.starts_with('-') && a.len() > 1 && a.parse::<f64>().is_err() {
                return Err(ArgError::Unknown(a));
            } else {
                positional.push(a);
            }
        }
        Ok(Self { pairs, positional })
    }

    /// Whether a switch was given.
    pub fn has(&self, flag: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == flag)
    }

    /// The last value given for `flag`, parsed, or `default`.
    pub fn get<T: std::str::FromStr>(
        &self,
        flag: &str,
        default: T,
        expected: &'static str,
    ) -> Result<T, ArgError> {
        match self.pairs.iter().rev().find(|(k, _)| k == flag) {
            None => Ok(default),
            Some((_, v)) => v.parse().map_err(|_| ArgError::Invalid {
                option: flag.to_owned(),
                value: v.clone(),
                expected,
            }),
        }
    }

    /// Refuses bare words.
    pub fn no_positional(&self) -> Result<(), ArgError> {
        match self.positional.first() {
            Some(w) => Err(ArgError::Unexpected(w.clone())),
            None => Ok(()),
        }
    }
}

/// Runs `main`, printing an error as one line on stderr with exit status 1 (2 for a
/// command-line problem).
///
/// Output into a pipe that has closed (`train_mnist | head -3`) ends the program quietly,
/// with the status a shell shows for a program stopped by `SIGPIPE` (141), as a C program
/// would end: Rust ignores that signal, so `println!` panics on the failed write instead.
pub fn run(main: impl FnOnce() -> Result<(), Error>) -> std::process::ExitCode {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        // `std::io::stdio`'s message for a failed `print!`.
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(128 + 13);
        }
        report(info);
    }));
    match main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(if matches!(e, Error::Args(_)) { 2 } else { 1 })
        }
    }
}

/// A number as a person would write it: six significant digits, no trailing zeros
/// (`220`, `2.2`, `3.3`, not `3.3000002`).
pub fn human(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (5 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A number as typed: `0.1`, `100`, but `1e30` and `1e-7` rather than all their digits (a
/// float's `Display` never uses an exponent).
pub fn short<T: Copy + Into<f64> + fmt::Display + fmt::LowerExp>(x: T) -> String {
    let a = x.into().abs();
    if a.is_finite() && a != 0.0 && !(1e-4..1e7).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// The value of `option`, a whole number of at least 1, or `default`.
pub fn at_least_1(args: &Args, option: &str, default: usize) -> Result<usize, Error> {
    const EXPECTED: &str = "a whole number of at least 1";
    let n: i64 = args.get(option, default as i64, EXPECTED)?;
    usize::try_from(n).ok().filter(|&n| n >= 1).ok_or_else(|| {
        Error::Args(ArgError::Invalid {
            option: option.into(),
            value: n.to_string(),
            expected: EXPECTED,
        })
    })
}

/// The value of `option`, a positive finite number, or `default`: parsed as the type the
/// library takes (`f32` for a learning rate, `f64` for a weight decay or a dropout ratio), so
/// that `0.1` stays the nearest value to 0.1 of that type.
pub fn positive<T>(args: &Args, option: &str, default: T) -> Result<T, Error>
where
    T: std::str::FromStr + Copy + Into<f64> + fmt::Display + fmt::LowerExp,
{
    const EXPECTED: &str = "a positive number";
    let x: T = args.get(option, default, EXPECTED)?;
    let v: f64 = x.into();
    if v.is_finite() && v > 0.0 {
        return Ok(x);
    }
    Err(Error::Args(ArgError::Invalid {
        option: option.into(),
        value: short(x),
        expected: EXPECTED,
    }))
}

/// Makes the output directory `out` (and its parents).
pub fn create_dir(out: &Path) -> Result<(), Error> {
    fs::create_dir_all(out).map_err(|source| {
        Error::Data(DataError::Io {
            path: out.to_owned(),
            source,
            hint: None,
        })
    })
}

/// A trainer's error as the examples report it: a divergence with the learning rate to lower.
pub fn train_error(e: constnn::train::TrainError, lr: f32) -> Error {
    use constnn::train::TrainError;
    match e {
        TrainError::Diverged { iteration } => Error::Diverged { iteration, lr },
        TrainError::Batch { context, source } => Error::Batch { context, source },
        TrainError::Data(e) => Error::Data(e),
        e => Error::Failed(e.to_string()),
    }
}

/// The `time:` line of a run, timed as the references time themselves: the iterations and
/// the epochs' evaluations, not the loading or the final evaluation.
pub fn print_time(report: &constnn::train::Report) {
    let train_s = report.training_seconds();
    println!(
        "time: {:.2} s ({train_s:.2} s training, {:.3} ms per iteration; {:.2} s in {} \
         evaluations{})",
        report.seconds,
        1000.0 * train_s / report.iterations as f64,
        report.evaluation_seconds,
        report.epochs.len(),
        if report.helper {
            ", overlapped with training on a helper thread"
        } else {
            ""
        }
    );
}

/// Where a run's initial weights and batches come from: one stream, the weights drawn first
/// (`--rng numpy|pcg`, `--seed N`).
pub enum Stream {
    /// NumPy's legacy `RandomState`, as the book's `np.random`: a seed gives the book's own
    /// initial weights and batches.
    Numpy(Box<constnn::init::NumpyRandom>),
    /// rand_core's PCG64.
    Pcg(rand_pcg::Pcg64),
}

impl Stream {
    /// The stream `--rng` and `--seed` name (NumPy's, seed 0, by default), with the seed and
    /// the stream's name.
    pub fn from_args(args: &Args) -> Result<(Self, u64, String), Error> {
        use rand_core::SeedableRng;
        let seed: u64 = args.get("--seed", 0, "a whole number")?;
        let name: String = args.get("--rng", "numpy".to_owned(), "numpy or pcg")?;
        let invalid = |option: &str, value: String, expected| {
            Error::Args(ArgError::Invalid {
                option: option.into(),
                value,
                expected,
            })
        };
        let stream = match name.as_str() {
            "numpy" => match u32::try_from(seed) {
                Ok(s) => Stream::Numpy(Box::new(constnn::init::NumpyRandom::seed(s))),
                Err(_) => {
                    let expected = "a seed below 2^32 (NumPy's limit) with --rng numpy";
                    return Err(invalid("--seed", seed.to_string(), expected));
                }
            },
            "pcg" => Stream::Pcg(rand_pcg::Pcg64::seed_from_u64(seed)),
            _ => return Err(invalid("--rng", name, "numpy or pcg")),
        };
        Ok((stream, seed, name))
    }

    /// A standard normal draw, for the weights.
    pub fn randn(&mut self) -> f64 {
        match self {
            Stream::Numpy(np) => np.randn(),
            Stream::Pcg(rng) => constnn::init::randn(rng),
        }
    }
}

impl constnn::train::Draw for Stream {
    fn below(&mut self, n: u32) -> u32 {
        match self {
            Stream::Numpy(np) => np.below(n),
            Stream::Pcg(rng) => rng.below(n),
        }
    }
}

/// The scalar type `--dtype` names: `"f32"` (the default) or `"f64"`.
pub fn dtype(args: &Args) -> Result<&'static str, Error> {
    let dtype: String = args.get("--dtype", "f32".to_owned(), "f32 or f64")?;
    match dtype.as_str() {
        "f32" => Ok("f32"),
        "f64" => Ok("f64"),
        _ => Err(Error::Args(ArgError::Invalid {
            option: "--dtype".into(),
            value: dtype,
            expected: "f32 or f64",
        })),
    }
}

/// The command line, its options `flags` (each with a value) and `--help`: `None` after
/// printing `help` when asked for it; an error for anything else.
pub fn args(flags: &[&str], help: &str) -> Result<Option<Args>, Error> {
    let args = Args::parse(std::env::args().skip(1), flags, &["--help", "-h"])?;
    if args.has("--help") || args.has("-h") {
        println!("{help}");
        return Ok(None);
    }
    args.no_positional()?;
    Ok(Some(args))
}
