//! The std side shared by the examples (and the tests that drive them): reading the MNIST
//! files, atomic file writes, saving and loading models, and a small argument parser.
#![allow(dead_code)]

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use constnn::format::idx::{IdxError, Images, LabeledImages, Labels};
use constnn::format::model::{self, ModelError};
use constnn::layers::Layer;

pub mod plot;

/// Where `train_mnist` looks for the data when `--data` is not given: the copy in this repo.
pub const DEFAULT_DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist");

/// The largest file we decompress (MNIST's largest is 47 MB): a gzip bomb stops here.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// Pixels of one MNIST image.
pub const PIXELS: usize = 784;

/// Anything that can go wrong on the std side, each naming the file involved.
#[derive(Debug)]
pub enum Error {
    /// A file could not be opened or read.
    Io {
        path: PathBuf,
        source: io::Error,
        hint: Option<String>,
    },
    /// An IDX file is malformed.
    Idx { path: PathBuf, source: IdxError },
    /// A model file is malformed or of another network.
    Model { path: PathBuf, source: ModelError },
    /// A file is larger than we are willing to read.
    TooLarge { path: PathBuf, limit: u64 },
    /// Training diverged.
    Diverged {
        iteration: usize,
        loss: f64,
        lr: f64,
    },
    /// A command-line problem.
    Usage(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source, hint } => {
                write!(f, "{}: {source}", path.display())?;
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
            Error::Idx { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Model { path, source } => write!(f, "{}: {source}", path.display()),
            Error::TooLarge { path, limit } => write!(
                f,
                "{}: larger than {} MiB once decompressed; not an MNIST file",
                path.display(),
                limit >> 20
            ),
            Error::Diverged {
                iteration,
                loss,
                lr,
            } => write!(
                f,
                "training diverged at iteration {iteration}: loss is {loss}; try a smaller \
                 learning rate than {lr} (the book uses 0.1). No model was saved."
            ),
            Error::Usage(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

/// Reads a whole file, decompressing it if it is gzipped, up to [`MAX_FILE_BYTES`].
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, Error> {
    let io_err = |source: io::Error| Error::Io {
        path: path.to_owned(),
        source,
        hint: None,
    };
    let mut file = fs::File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(io_err)?;
    let mut raw = Vec::with_capacity(size.min(MAX_FILE_BYTES) as usize);
    raw.extend_from_slice(&magic[..n]);
    file.take(MAX_FILE_BYTES)
        .read_to_end(&mut raw)
        .map_err(io_err)?;
    if raw.len() as u64 >= MAX_FILE_BYTES {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            limit: MAX_FILE_BYTES,
        });
    }
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .take(MAX_FILE_BYTES)
            .read_to_end(&mut out)
            .map_err(|e| Error::Io {
                path: path.to_owned(),
                source: e,
                hint: Some("corrupt or truncated gzip data".into()),
            })?;
        if out.len() as u64 >= MAX_FILE_BYTES {
            return Err(Error::TooLarge {
                path: path.to_owned(),
                limit: MAX_FILE_BYTES,
            });
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Finds `name` or `name.gz` in `dir`.
fn find(dir: &Path, name: &str) -> Result<PathBuf, Error> {
    for candidate in [dir.join(name), dir.join(format!("{name}.gz"))] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::Io {
        path: dir.join(format!("{name}.gz")),
        source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
        hint: Some(format!(
            "put the four MNIST files ({name} and the others, gzipped or not) in {} or pass --data DIR",
            dir.display()
        )),
    })
}

/// One split of MNIST: images scaled to [0, 1] as f32 (the book's `normalize=True`) and labels.
pub struct Split {
    pub x: Vec<[f32; PIXELS]>,
    pub y: Vec<u8>,
    /// The raw bytes of the images, for display.
    pub raw: Vec<u8>,
}

/// The four MNIST files.
pub struct Mnist {
    pub train: Split,
    pub test: Split,
}

/// Reads one images file and its labels file, validating both and their pairing.
pub fn load_split(dir: &Path, images: &str, labels: &str) -> Result<Split, Error> {
    let (ipath, lpath) = (find(dir, images)?, find(dir, labels)?);
    let ibytes = read_maybe_gz(&ipath)?;
    let lbytes = read_maybe_gz(&lpath)?;
    let ierr = |source| Error::Idx {
        path: ipath.clone(),
        source,
    };
    let lerr = |source| Error::Idx {
        path: lpath.clone(),
        source,
    };
    let imgs = Images::parse(&ibytes).map_err(ierr)?;
    imgs.require_pixels(PIXELS).map_err(ierr)?;
    let lbls = Labels::parse(&lbytes, 10).map_err(lerr)?;
    let set = LabeledImages::new(imgs, lbls).map_err(|source| Error::Idx {
        path: lpath.clone(),
        source,
    })?;
    let x = set
        .images
        .as_bytes()
        .chunks_exact(PIXELS)
        .map(|img| std::array::from_fn(|i| f32::from(img[i]) / 255.0))
        .collect();
    let y = set.labels.as_slice().to_vec();
    Ok(Split {
        x,
        y,
        raw: set.images.as_bytes().to_vec(),
    })
}

/// Reads the four MNIST files from `dir`.
pub fn load_mnist(dir: &Path) -> Result<Mnist, Error> {
    Ok(Mnist {
        train: load_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")?,
        test: load_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?,
    })
}

/// Writes `path` atomically: the bytes go to a temporary file beside it, which is flushed to
/// disk and then renamed over `path`. A crash at any point leaves the old file or the new one,
/// never half of one.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
        hint: None,
    })
}

/// Saves the parameters of `layers` to `path` (atomically) in the crate's model format.
pub fn save_model<L: Layer>(layers: &L, path: &Path) -> Result<(), Error> {
    let mut buf = vec![0u8; model::encoded_len(layers)];
    let n = model::encode(layers, &mut buf).map_err(|source| Error::Model {
        path: path.to_owned(),
        source,
    })?;
    write_atomic(path, |f| f.write_all(&buf[..n]))
}

/// Loads a model file into `layers`, refusing one of another shape, dtype or a damaged one.
pub fn load_model<L: Layer>(layers: &mut L, path: &Path) -> Result<(), Error> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
        hint: None,
    };
    let size = fs::metadata(path).map_err(io_err)?.len();
    let expected = model::encoded_len(layers) as u64;
    if size > expected.saturating_mul(2).max(1 << 16) {
        return Err(Error::Model {
            path: path.to_owned(),
            source: ModelError::TrailingBytes {
                expected: expected as usize,
                found: size as usize,
            },
        });
    }
    let bytes = fs::read(path).map_err(io_err)?;
    model::decode_into(&bytes, layers).map_err(|source| Error::Model {
        path: path.to_owned(),
        source,
    })
}

/// Command-line arguments: `--flag value` pairs and bare positional words.
pub struct Args {
    pairs: Vec<(String, String)>,
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `args` given the flags that take a value and the switches that do not.
    /// Unknown flags and missing values are errors.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        flags: &[&str],
        switches: &[&str],
    ) -> Result<Self, Error> {
        let mut it = args.into_iter();
        let (mut pairs, mut positional) = (Vec::new(), Vec::new());
        while let Some(a) = it.next() {
            if let Some((k, v)) = a.split_once('=').filter(|(k, _)| k.starts_with("--")) {
                if !flags.contains(&k) {
                    return Err(Error::Usage(format!("unknown option {k} (try --help)")));
                }
                pairs.push((k.to_owned(), v.to_owned()));
            } else if switches.contains(&a.as_str()) {
                pairs.push((a, String::new()));
            } else if flags.contains(&a.as_str()) {
                let v = it.next().filter(|v| !v.starts_with("--")).ok_or_else(|| {
                    Error::Usage(format!("option {a} needs a value (try --help)"))
                })?;
                pairs.push((a, v));
            } else if a.starts_with('-') && a.len() > 1 && a.parse::<f64>().is_err() {
                return Err(Error::Usage(format!("unknown option {a} (try --help)")));
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
    pub fn get<T: std::str::FromStr>(&self, flag: &str, default: T) -> Result<T, Error> {
        match self.pairs.iter().rev().find(|(k, _)| k == flag) {
            None => Ok(default),
            Some((_, v)) => v
                .parse()
                .map_err(|_| Error::Usage(format!("invalid value {v:?} for {flag}"))),
        }
    }
}

/// Runs `main`, printing an error as one line on stderr with exit status 1 (2 for usage).
pub fn run(main: impl FnOnce() -> Result<(), Error>) -> std::process::ExitCode {
    match main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(if matches!(e, Error::Usage(_)) { 2 } else { 1 })
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
