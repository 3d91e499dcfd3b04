//! Data and models on disk (the `std` feature): MNIST's IDX files, gzipped or not, read with
//! allocation bounded by their headers; model files written atomically and read no further
//! than the network needs.
//!
//! Every error names the file and what is wrong with it ([`DataError`]); nothing panics on a
//! corrupt, truncated or hostile file, and a failed write leaves the previous file whole.
//!
//! # Examples
//!
//! ```
//! use constnn::{TwoLayerNet, data};
//! # let dir = std::env::temp_dir().join(format!("constnn-data-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let mnist = data::load_mnist(std::path::Path::new("data/mnist"))?;
//! assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
//! assert_eq!(mnist.test.labels()[0], 7);
//! let image: [f32; 784] = mnist.test.image(0); // scaled to [0, 1], as normalize=True
//!
//! let net = TwoLayerNet::<784, 50, 10>::zeros();
//! let path = dir.join("model.cnnm");
//! data::save_model(&net.layers, &path)?;
//! let mut back = TwoLayerNet::<784, 50, 10>::zeros();
//! data::load_model(&mut back.layers, &path)?;
//! # Ok::<(), data::DataError>(())
//! ```

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::{format, vec};

#[cfg(feature = "npz")]
mod npz;
#[cfg(feature = "npz")]
pub use npz::{NpzError, NpzProblem, load_npz, save_npz};

use crate::format::idx::{IdxError, Images, LabeledImages, Labels};
use crate::format::model::{self, ModelError};
use crate::layers::Layer;
use crate::matrix::sparse::SparseRows;
use crate::quant::{QuantLayer, QuantNet};

/// DEFLATE cannot expand data more than 1032-fold: a gzipped file whose IDX header declares
/// more than that is lying, and is refused before anything is allocated.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// What went wrong with a file, naming it.
#[derive(Debug)]
pub enum DataError {
    /// A file could not be found, opened, read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
        /// What to do about it, where that is known.
        hint: Option<String>,
    },
    /// An IDX file is malformed.
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        source: IdxError,
    },
    /// An images file and a labels file do not belong together, or hold no images.
    Pair {
        /// The images file.
        images: PathBuf,
        /// The labels file.
        labels: PathBuf,
        /// What is wrong.
        source: IdxError,
    },
    /// A model file is malformed or of another network.
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ModelError,
    },
    /// A gzipped file whose header declares more data than it can hold.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Bytes its header declares.
        declared: u64,
        /// The most a gzip file of its size can hold.
        limit: u64,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, source, hint } => {
                write!(f, "{}: {source}", path.display())?;
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
            DataError::Idx { path, source } => write!(f, "{}: {source}", path.display()),
            DataError::Pair {
                images,
                labels,
                source,
            } => write!(f, "{} and {}: {source}", images.display(), labels.display()),
            DataError::Model { path, source } => write!(f, "{}: {source}", path.display()),
            DataError::TooLarge {
                path,
                declared,
                limit,
            } => write!(
                f,
                "{}: its header declares {declared} bytes, more than a gzip file of its size can \
                 hold ({limit} at most); not an MNIST file",
                path.display()
            ),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { source, .. } => Some(source),
            DataError::Idx { source, .. } | DataError::Pair { source, .. } => Some(source),
            DataError::Model { source, .. } => Some(source),
            DataError::TooLarge { .. } => None,
        }
    }
}

/// Reads an IDX file, gzipped or not, allocating no more than its header declares — and
/// refusing a header that declares more than the file can hold before allocating anything.
/// The bytes returned still go through [`format::idx`](crate::format::idx), which checks
/// everything else.
pub fn read_idx(path: &Path) -> Result<Vec<u8>, DataError> {
    let io_err = |source: io::Error| DataError::Io {
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
    let corrupt = |e: io::Error| DataError::Io {
        path: path.to_owned(),
        source: e,
        hint: gz.then(|| "corrupt or truncated gzip data".to_string()),
    };
    // The fixed part of the header: 00 00, type, rank; then rank big-endian u32 dimensions.
    let mut header = vec![0u8; 4];
    let got = read_full(&mut reader, &mut header).map_err(corrupt)?;
    header.truncate(got);
    if got < 4 || header[..3] != [0, 0, 0x08] {
        // Not an unsigned-byte IDX header: the parser says precisely what is wrong.
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
        return Err(DataError::TooLarge {
            path: path.to_owned(),
            declared,
            limit,
        });
    }
    // Read what the header declares, and one byte more to notice trailing data; the parser
    // reports a length mismatch either way.
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

/// Finds `name` or `name.gz` in `dir`; if neither is there, says whether `dir` itself is the
/// problem (missing, or not a directory) or which file is missing from it.
fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    for candidate in [dir.join(name), dir.join(format!("{name}.gz"))] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    let files = format!("MNIST's four files, {name} and the others, gzipped or not");
    let expected = || format!("expected a directory holding {files}");
    let missing = |what| io::Error::new(io::ErrorKind::NotFound, what);
    let (path, source, hint) = match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => (
            dir.join(format!("{name}.gz")),
            missing("no such file"),
            format!("put {files}, in {}", dir.display()),
        ),
        Ok(_) => (
            dir.to_owned(),
            io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
            expected(),
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            (dir.to_owned(), missing("no such directory"), expected())
        }
        // Unreadable (permissions, say): the system's own words.
        Err(e) => (dir.to_owned(), e, expected()),
    };
    Err(DataError::Io {
        path,
        source,
        hint: Some(hint),
    })
}

/// Labelled images of `P` pixels each, kept as their bytes: a quarter of the memory of f32
/// values (47 MB for MNIST's training set instead of 188 MB), scaled to [0, 1] (the book's
/// `normalize=True`, `x / 255`) as they are used.
#[derive(Debug, Clone)]
pub struct Split<const P: usize> {
    pixels: Vec<[u8; P]>,
    labels: Vec<u8>,
}

/// A pixel's byte scaled to [0, 1], as the book's `normalize=True` (`x / 255.0`).
#[inline]
pub fn scale(byte: u8) -> f32 {
    f32::from(byte) / 255.0
}

impl<const P: usize> Split<P> {
    /// How many images (at least one: an empty set is refused when read).
    pub fn len(&self) -> usize {
        self.pixels.len()
    }

    /// Whether there are none (never, for a set read from files).
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// The images' bytes.
    pub fn pixels(&self) -> &[[u8; P]] {
        &self.pixels
    }

    /// The labels, one per image.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Image `i` scaled to [0, 1], into `row`.
    ///
    /// # Panics
    /// If `i` is not below [`len`](Self::len).
    #[inline]
    pub fn image_into(&self, i: usize, row: &mut [f32; P]) {
        for (v, &b) in row.iter_mut().zip(&self.pixels[i]) {
            *v = scale(b);
        }
    }

    /// Image `i` scaled to [0, 1].
    ///
    /// # Panics
    /// If `i` is not below [`len`](Self::len).
    pub fn image(&self, i: usize) -> [f32; P] {
        let mut row = [0.0; P];
        self.image_into(i, &mut row);
        row
    }

    /// Images `range` scaled to [0, 1].
    ///
    /// # Panics
    /// If `range` reaches past [`len`](Self::len).
    pub fn images(&self, range: core::ops::Range<usize>) -> Vec<[f32; P]> {
        range.map(|i| self.image(i)).collect()
    }

    /// Every image scaled to [0, 1] and kept sparse: its non-zero pixels and their columns
    /// (MNIST: about 150 of 784, 6 bytes each).
    pub fn sparse(&self) -> SparseRows<f32, P> {
        let nonzero = self
            .pixels
            .as_flattened()
            .iter()
            .filter(|&&b| b != 0)
            .count();
        let mut rows = SparseRows::with_capacity(self.len(), nonzero);
        // A byte is zero exactly when its scaled value is.
        let mut row = [0.0f32; P];
        for i in 0..self.len() {
            self.image_into(i, &mut row);
            rows.push_dense(&row);
        }
        rows
    }
}

/// MNIST: its training and test sets.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// The 60 000 training images.
    pub train: Split<784>,
    /// The 10 000 test images.
    pub test: Split<784>,
}

/// Reads an images file and its labels file (IDX, gzipped or not), validating both and their
/// pairing: images of `P` pixels, labels below `classes`, as many of each, at least one.
pub fn load_split<const P: usize>(
    images: &Path,
    labels: &Path,
    classes: usize,
) -> Result<Split<P>, DataError> {
    let ibytes = read_idx(images)?;
    let lbytes = read_idx(labels)?;
    let ierr = |source| DataError::Idx {
        path: images.to_owned(),
        source,
    };
    let imgs = Images::parse(&ibytes).map_err(ierr)?;
    imgs.require_pixels(P).map_err(ierr)?;
    let lbls = Labels::parse(&lbytes, classes).map_err(|source| DataError::Idx {
        path: labels.to_owned(),
        source,
    })?;
    let set = LabeledImages::new(imgs, lbls).map_err(|source| DataError::Pair {
        images: images.to_owned(),
        labels: labels.to_owned(),
        source,
    })?;
    let pixels = set
        .images()
        .as_bytes()
        .chunks_exact(P)
        .map(|img| core::array::from_fn(|i| img[i]))
        .collect();
    Ok(Split {
        pixels,
        labels: set.labels().as_slice().to_vec(),
    })
}

/// One of MNIST's two sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The 60 000 training images (`train-*` files).
    Train,
    /// The 10 000 test images (`t10k-*` files).
    Test,
}

/// Reads one of MNIST's sets from `dir`: its images and labels files, each gzipped or not
/// (`t10k-images-idx3-ubyte` or `t10k-images-idx3-ubyte.gz`, and so on).
pub fn load_mnist_part(dir: &Path, part: Part) -> Result<Split<784>, DataError> {
    let (images, labels) = match part {
        Part::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        Part::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    };
    load_split(&find(dir, images)?, &find(dir, labels)?, 10)
}

/// Reads MNIST's four files from `dir` (see [`load_mnist_part`]).
pub fn load_mnist(dir: &Path) -> Result<Mnist, DataError> {
    Ok(Mnist {
        train: load_mnist_part(dir, Part::Train)?,
        test: load_mnist_part(dir, Part::Test)?,
    })
}

/// Writes `path` atomically: the bytes go to a temporary file beside it, which is flushed to
/// disk and then renamed over `path`. A crash at any point leaves the old file or the new one,
/// never half of one; on an error the temporary file is removed.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> Result<(), DataError> {
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
    result.map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
        hint: None,
    })
}

/// Saves the parameters of `layers` to `path` (atomically) in the crate's model format.
pub fn save_model<L: Layer>(layers: &L, path: &Path) -> Result<(), DataError> {
    write_model(path, model::encoded_len(layers), |buf| {
        model::encode(layers, buf)
    })
}

/// Saves the quantised network `net` to `path` (atomically) in the crate's model format
/// (version 2, dtype int8).
pub fn save_quantized<L: QuantLayer>(net: &QuantNet<L>, path: &Path) -> Result<(), DataError> {
    write_model(path, model::quantized_len::<L>(), |buf| {
        model::encode_quantized(net, buf)
    })
}

/// Encodes a model of `len` bytes with `encode` and writes it to `path` atomically.
fn write_model(
    path: &Path,
    len: usize,
    encode: impl FnOnce(&mut [u8]) -> Result<usize, ModelError>,
) -> Result<(), DataError> {
    let mut buf = vec![0u8; len];
    let n = encode(&mut buf).map_err(|source| DataError::Model {
        path: path.to_owned(),
        source,
    })?;
    write_atomic(path, |f| f.write_all(&buf[..n]))
}

/// Loads a quantised network from a model file, refusing one of another shape or kind, or a
/// damaged one. A file longer than the network's model is refused from its size, unread.
pub fn load_quantized<L: QuantLayer>(path: &Path) -> Result<QuantNet<L>, DataError> {
    let bytes = read_model(path, model::quantized_len::<L>())?;
    model::decode_quantized(&bytes).map_err(|source| DataError::Model {
        path: path.to_owned(),
        source,
    })
}

/// Loads a model file into `layers`, refusing one of another shape or dtype, or a damaged one
/// (`layers` is then untouched). A file longer than the network's model is refused from its
/// size, unread; otherwise at most that many bytes are read.
pub fn load_model<L: Layer>(layers: &mut L, path: &Path) -> Result<(), DataError> {
    let bytes = read_model(path, model::encoded_len(layers))?;
    model::decode_into(&bytes, layers).map_err(|source| DataError::Model {
        path: path.to_owned(),
        source,
    })
}

/// The bytes of the model file `path`, which should be `expected` bytes long: a longer file is
/// refused from its size, unread, and no more than `expected` bytes are read.
fn read_model(path: &Path, expected: usize) -> Result<Vec<u8>, DataError> {
    let io_err = |source| DataError::Io {
        path: path.to_owned(),
        source,
        hint: None,
    };
    let file = fs::File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    if size > expected as u64 {
        let found = usize::try_from(size).unwrap_or(usize::MAX);
        return Err(DataError::Model {
            path: path.to_owned(),
            source: ModelError::TrailingBytes { expected, found },
        });
    }
    let mut bytes = Vec::with_capacity(expected);
    file.take(expected as u64)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    Ok(bytes)
}
