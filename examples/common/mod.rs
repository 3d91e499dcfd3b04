//! The std side shared by the examples (and the tests that drive them): reading the MNIST
//! files, atomic file writes, saving and loading models, and a small argument parser.
#![allow(dead_code)]

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use constnn::BatchError;
use constnn::format::idx::{IdxError, Images, LabeledImages, Labels};
use constnn::format::model::{self, ModelError};
use constnn::layers::Layer;
use constnn::matrix::Storage;
use constnn::matrix::sparse::{SparseRow, SparseRows};
use constnn::network::SparseReady;

pub mod plot;

/// Where `train_mnist` looks for the data when `--data` is not given: the copy in this repo.
pub const DEFAULT_DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist");

/// Pixels of one MNIST image.
pub const PIXELS: usize = 784;

/// DEFLATE cannot expand data more than 1032-fold: a gzipped file whose IDX header declares
/// more than that is lying, and is refused before anything is allocated.
const MAX_DEFLATE_RATIO: u64 = 1032;

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

/// Anything that can go wrong on the std side, each naming the file involved.
#[derive(Debug)]
pub enum Error {
    /// A file could not be opened, read or written.
    Io {
        path: PathBuf,
        source: io::Error,
        hint: Option<String>,
    },
    /// An IDX file is malformed.
    Idx { path: PathBuf, source: IdxError },
    /// An images file and a labels file do not belong together.
    Pair {
        images: PathBuf,
        labels: PathBuf,
        source: IdxError,
    },
    /// A model file is malformed or of another network.
    Model { path: PathBuf, source: ModelError },
    /// A gzipped file whose header declares more data than it can hold.
    TooLarge {
        path: PathBuf,
        declared: u64,
        limit: u64,
    },
    /// Training diverged: the loss became NaN or infinite, or an epoch's mean loss exceeded
    /// twice that of guessing uniformly.
    Diverged { iteration: usize, lr: f64 },
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
            Error::Io { path, source, hint } => {
                write!(f, "{}: {source}", path.display())?;
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
            Error::Idx { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Pair {
                images,
                labels,
                source,
            } => {
                write!(f, "{} and {}: {source}", images.display(), labels.display())
            }
            Error::Model { path, source } => write!(f, "{}: {source}", path.display()),
            Error::TooLarge {
                path,
                declared,
                limit,
            } => write!(
                f,
                "{}: its header declares {declared} bytes, more than a gzip file of its size can \
                 hold ({limit} at most); not an MNIST file",
                path.display()
            ),
            Error::Diverged { iteration, lr } => write!(
                f,
                "training diverged at iteration {iteration}: the loss became NaN or infinite or \
                 grew past twice that of guessing; try a smaller learning rate than {lr} (the \
                 book uses 0.1). No model was saved."
            ),
            Error::Batch { context, source } => write!(f, "{context}: {source}"),
            Error::Args(e) => e.fmt(f),
            Error::Failed(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

impl From<ArgError> for Error {
    fn from(e: ArgError) -> Self {
        Error::Args(e)
    }
}

/// Reads an IDX file, gzipped or not, allocating no more than its header declares — and
/// refusing a header that declares more than the file can hold before allocating anything.
/// The bytes returned still go through the core's parser, which checks everything else.
pub fn read_idx_file(path: &Path) -> Result<Vec<u8>, Error> {
    let io_err = |source: io::Error| Error::Io {
        path: path.to_owned(),
        source,
        hint: None,
    };
    let mut file = fs::File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    let mut magic = [0u8; 2];
    let n = read_full(&mut file, &mut magic).map_err(io_err)?;
    let gz = n == 2 && magic == [0x1f, 0x8b];
    let head = io::Cursor::new(magic[..n].to_vec());
    let (mut reader, limit): (Box<dyn Read>, u64) = if gz {
        (
            Box::new(flate2::read::GzDecoder::new(head.chain(file))),
            size.saturating_mul(MAX_DEFLATE_RATIO),
        )
    } else {
        (Box::new(head.chain(file)), size)
    };
    let corrupt = |e: io::Error| Error::Io {
        path: path.to_owned(),
        source: e,
        hint: gz.then(|| "corrupt or truncated gzip data".to_owned()),
    };
    // The fixed part of the header: 00 00, type, rank; then rank big-endian u32 dimensions.
    let mut header = vec![0u8; 4];
    let got = read_full(&mut reader, &mut header).map_err(corrupt)?;
    header.truncate(got);
    if got < 4 || header[..3] != [0, 0, 0x08] {
        // Not an unsigned-byte IDX header: the core's parser says precisely what is wrong.
        return Ok(header);
    }
    let mut dims = vec![0u8; 4 * usize::from(header[3])];
    let got = read_full(&mut reader, &mut dims).map_err(corrupt)?;
    header.extend_from_slice(&dims[..got]);
    let declared = dims[..got]
        .chunks_exact(4)
        .map(|d| u64::from(u32::from_be_bytes([d[0], d[1], d[2], d[3]])))
        .try_fold(1u64, |acc, d| acc.checked_mul(d))
        .and_then(|data| data.checked_add(header.len() as u64));
    let Some(declared) = declared else {
        // Dimensions whose product overflows: the parser reports that, from the header alone.
        return Ok(header);
    };
    // A plain file holds what it holds (reading stops at its end, and the parser reports a
    // truncation); a gzipped one could inflate without bound, so its header is checked first.
    if gz && declared > limit {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            declared,
            limit,
        });
    }
    // Read what the header declares, and one byte more to notice trailing data; the core's
    // parser reports a length mismatch either way.
    let mut bytes = header;
    (&mut reader)
        .take(declared - bytes.len() as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(corrupt)?;
    Ok(bytes)
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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

/// One split of MNIST: the images as their bytes, and the labels.
///
/// The bytes are kept, not f32 values: a quarter of the memory (47 MB for the training set
/// instead of 188 MB), so that drawing batches and evaluating read a quarter as much. Rows are
/// scaled to [0, 1] (the book's `normalize=True`) as they are used, by [`Split::image`] and
/// [`Split::images`].
pub struct Split {
    pub pixels: Vec<[u8; PIXELS]>,
    pub y: Vec<u8>,
}

/// A pixel's byte scaled to [0, 1], as the book's `normalize=True` (`x / 255.0`).
#[inline]
pub fn scale(byte: u8) -> f32 {
    f32::from(byte) / 255.0
}

#[allow(dead_code)] // each example uses some of these
impl Split {
    /// How many images.
    pub fn len(&self) -> usize {
        self.pixels.len()
    }

    /// Image `i` scaled to [0, 1], into `row`.
    #[inline]
    pub fn image_into(&self, i: usize, row: &mut [f32; PIXELS]) {
        for (v, &b) in row.iter_mut().zip(&self.pixels[i]) {
            *v = scale(b);
        }
    }

    /// Image `i` scaled to [0, 1].
    pub fn image(&self, i: usize) -> [f32; PIXELS] {
        let mut row = [0.0; PIXELS];
        self.image_into(i, &mut row);
        row
    }

    /// Every image scaled to [0, 1] (as [`Split::image`]) and kept sparse: its non-zero pixels
    /// and their columns, about 150 of 784 (6 bytes each for MNIST: 0.9 KB an image).
    pub fn sparse(&self) -> SparseRows<f32, PIXELS> {
        let bytes = self.pixels.as_flattened();
        let nonzero = bytes.iter().filter(|&&b| b != 0).count();
        let mut rows = SparseRows::with_capacity(self.len(), nonzero);
        // Scaled, then listed by `push_dense` (bit masks: no branch per pixel). A byte is zero
        // exactly when its scaled value is.
        let mut row = [0.0f32; PIXELS];
        for i in 0..self.len() {
            self.image_into(i, &mut row);
            rows.push_dense(&row);
        }
        rows
    }

    /// Images `range` scaled to [0, 1] (4 × 784 bytes each: for a part of the set at a time).
    pub fn images(&self, range: std::ops::Range<usize>) -> Vec<[f32; PIXELS]> {
        range.map(|i| self.image(i)).collect()
    }
}

/// How many of `images` (kept sparse) `net` classifies as their `labels`.
pub fn correct<const H: usize, const O: usize, S, B>(
    net: &SparseReady<f32, PIXELS, H, S, B>,
    images: &[SparseRow<'_, f32, PIXELS>],
    labels: &[u8],
) -> Result<usize, BatchError>
where
    S: Storage,
    B: Layer<Input = [f32; H], Output = [f32; O], Scalar = f32>,
{
    net.correct(images, labels)
}

/// The four MNIST files.
pub struct Mnist {
    pub train: Split,
    pub test: Split,
}

/// Reads one images file and its labels file, validating both and their pairing.
pub fn load_split(dir: &Path, images: &str, labels: &str) -> Result<Split, Error> {
    let (ipath, lpath) = (find(dir, images)?, find(dir, labels)?);
    let ibytes = read_idx_file(&ipath)?;
    let lbytes = read_idx_file(&lpath)?;
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
    let set = LabeledImages::new(imgs, lbls).map_err(|source| Error::Pair {
        images: ipath.clone(),
        labels: lpath.clone(),
        source,
    })?;
    let pixels = set
        .images()
        .as_bytes()
        .chunks_exact(PIXELS)
        .map(|img| std::array::from_fn(|i| img[i]))
        .collect();
    let y = set.labels().as_slice().to_vec();
    Ok(Split { pixels, y })
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
/// never half of one; on an error the temporary file is removed.
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
/// A file longer than the network's model is refused from its size, unread; otherwise at most
/// that many bytes are read.
pub fn load_model<L: Layer>(layers: &mut L, path: &Path) -> Result<(), Error> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
        hint: None,
    };
    let model_err = |source| Error::Model {
        path: path.to_owned(),
        source,
    };
    let expected = model::encoded_len(layers);
    let file = fs::File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    if size > expected as u64 {
        let found = usize::try_from(size).unwrap_or(usize::MAX);
        return Err(model_err(ModelError::TrailingBytes { expected, found }));
    }
    let mut bytes = Vec::with_capacity(expected);
    file.take(expected as u64)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    model::decode_into(&bytes, layers).map_err(model_err)
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
pub fn run(main: impl FnOnce() -> Result<(), Error>) -> std::process::ExitCode {
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
