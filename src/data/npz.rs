//! A network's parameters as a NumPy `.npz` file (the `npz` feature), named as the book names
//! them, so that they travel to and from the book's Python `params` dict.
//!
//! An `.npz` file is a zip archive of `.npy` arrays, one per name: `W1.npy`, `b1.npy`, and for
//! a BatchNorm layer `gamma1.npy`, `beta1.npy`, with its running averages as
//! `running_mean1.npy` and `running_var1.npy`. The container is read and written by the
//! [`zip`] crate; the `.npy` header (a Python dict literal with three keys) is read here, and
//! nothing it declares is allocated before it is checked against the network.

use std::borrow::ToOwned;
use std::fmt;
use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::{format, vec};

use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::write_atomic;
use crate::float::Float;
use crate::layers::{Layer, param_list};
use crate::params::Shape;

/// The `.npy` magic string.
const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// The longest header accepted: NumPy writes well under 1 KiB for a 2-D array; a longer one is
/// not a parameter array.
const MAX_HEADER: usize = 64 * 1024;

/// What went wrong reading or writing an `.npz` file: the file, the array (`W1`, …) where
/// there is one, and the problem.
#[derive(Debug)]
pub struct NpzError {
    /// The file.
    pub path: PathBuf,
    /// The array's name in the file (`"W1"`), if the problem is one array's.
    pub array: Option<String>,
    /// What is wrong.
    pub problem: NpzProblem,
}

/// The problem an [`NpzError`] reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum NpzProblem {
    /// The file could not be opened, read or written.
    Io(io::Error),
    /// Not a zip archive, or a damaged one (the [`zip`] crate's message).
    Archive(String),
    /// The network has a trained tensor of this name and the file has no array for it.
    Missing,
    /// The array's `.npy` header is malformed.
    Header(&'static str),
    /// The array's element type is not a float the crate reads (`<f4`, `<f8`, `>f4`, `>f8`).
    Dtype(String),
    /// The array's shape is not the tensor's.
    Shape {
        /// The network's tensor.
        expected: Shape,
        /// The array's dimensions.
        found: Vec<usize>,
    },
    /// The array holds fewer values than its header declares.
    Truncated {
        /// Bytes of values the header declares.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The array holds more bytes than its header declares.
    TrailingBytes {
        /// Bytes of values the header declares.
        expected: usize,
    },
    /// A value is NaN or infinite (after conversion to the network's float type: an f64 too
    /// large for f32 counts).
    NonFinite {
        /// Its index, counting in row-major order.
        index: usize,
    },
}

impl fmt::Display for NpzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path.display())?;
        if let Some(name) = &self.array {
            write!(f, "array {name}: ")?;
        }
        match &self.problem {
            NpzProblem::Io(e) => write!(f, "{e}"),
            NpzProblem::Archive(e) => write!(f, "not a readable .npz (zip) file: {e}"),
            NpzProblem::Missing => write!(f, "the network has it and the file has no such array"),
            NpzProblem::Header(why) => write!(f, "malformed .npy header: {why}"),
            NpzProblem::Dtype(d) => write!(
                f,
                "its dtype is {d:?}; only float32 and float64 ('<f4', '<f8', '>f4', '>f8') load"
            ),
            NpzProblem::Shape { expected, found } => {
                write!(f, "the network's tensor is {expected}, the array is (")?;
                for (i, d) in found.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{d}")?;
                }
                write!(f, "{})", if found.len() == 1 { "," } else { "" })
            }
            NpzProblem::Truncated { expected, found } => write!(
                f,
                "truncated: its header declares {expected} bytes of values, {found} are present"
            ),
            NpzProblem::TrailingBytes { expected } => write!(
                f,
                "more bytes than the {expected} of values its header declares"
            ),
            NpzProblem::NonFinite { index } => write!(
                f,
                "value {index} is NaN or infinite (or beyond the network's float type)"
            ),
        }
    }
}

impl std::error::Error for NpzError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            NpzProblem::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Saves every parameter tensor of `layers` to `path` as NumPy's `np.savez` would: one
/// uncompressed `.npy` array per tensor, named as the book names it (`W1`, `b1`, `gamma1`, …;
/// BatchNorm's running averages as `running_mean1`, `running_var1`), in the network's float
/// type (`<f4` or `<f8`), matrices as (rows, columns) in C order, vectors 1-D. The file is
/// written atomically: a failure leaves the previous one whole.
///
/// In Python, `params = dict(np.load(path))` gives the book's `params` dict.
///
/// # Examples
///
/// ```
/// use constnn::{Layer, TwoLayerNet, data};
/// # let dir = std::env::temp_dir().join(format!("constnn-npz-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let mut net = TwoLayerNet::<4, 3, 2, f64>::zeros();
/// net.layers.first.params_mut().1[2] = 0.5; // b1[2]
/// let path = dir.join("params.npz");
/// data::save_npz(&net.layers, &path)?;
///
/// let mut back = TwoLayerNet::<4, 3, 2, f64>::zeros();
/// data::load_npz(&mut back.layers, &path)?;
/// assert_eq!(back.layers.first.params().1, &[0.0, 0.0, 0.5]);
///
/// // A network of other widths is refused, naming the array and both shapes.
/// let mut other = TwoLayerNet::<4, 5, 2, f64>::zeros();
/// let err = data::load_npz(&mut other.layers, &path).unwrap_err();
/// assert!(err.to_string().ends_with("array W1: the network's tensor is (4, 5), the array is (4, 3)"));
/// # Ok::<(), data::NpzError>(())
/// ```
pub fn save_npz<L: Layer>(layers: &L, path: &Path) -> Result<(), NpzError> {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    layers.for_each_tensor(|t| {
        let mut bytes = npy_header::<L::Scalar>(t.shape);
        let start = bytes.len();
        bytes.resize(start + t.values.len() * L::Scalar::BYTES, 0);
        for (v, out) in t
            .values
            .iter()
            .zip(bytes[start..].chunks_exact_mut(L::Scalar::BYTES))
        {
            v.write_le(out);
        }
        entries.push((format!("{}.npy", t.id), bytes));
    });
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    write_atomic(path, |file| {
        let mut zip = ZipWriter::new(file);
        for (name, bytes) in &entries {
            zip.start_file(name.as_str(), options)
                .map_err(io::Error::other)?;
            zip.write_all(bytes)?;
        }
        zip.finish().map_err(io::Error::other)?;
        Ok(())
    })
    .map_err(|e| NpzError {
        path: path.to_owned(),
        array: None,
        problem: match e {
            super::DataError::Io { source, .. } => NpzProblem::Io(source),
            other => NpzProblem::Archive(other.to_string()),
        },
    })
}

/// Loads the arrays of an `.npz` file into `layers` by the book's names, whether NumPy wrote
/// it with `np.savez` or `np.savez_compressed`: every trained tensor (`W1`, `b1`, `gamma1`,
/// …) must be there with the tensor's exact shape, as float32 or float64 in either byte order
/// and in C or Fortran order (float64 values are rounded to f32 for an f32 network). Arrays the
/// network has no tensor for are ignored; BatchNorm's running averages are loaded when present
/// and otherwise left as they are (the book keeps them outside `params`).
///
/// Nothing is changed unless every array is valid: on an error `layers` is untouched.
///
/// # Examples
///
/// See [`save_npz`].
pub fn load_npz<L: Layer>(layers: &mut L, path: &Path) -> Result<(), NpzError> {
    let err = |array: Option<String>, problem| NpzError {
        path: path.to_owned(),
        array,
        problem,
    };
    let file = fs::File::open(path).map_err(|e| err(None, NpzProblem::Io(e)))?;
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(|e| err(None, zip_problem(e)))?;
    let list = param_list::<L>();
    let mut staged: Vec<Option<Vec<L::Scalar>>> = Vec::with_capacity(list.len());
    for k in 0..list.len() {
        let Some(spec) = list.get(k) else { break };
        let name = list.id(k).to_string();
        let mut entry = match zip.by_name(&format!("{name}.npy")) {
            Ok(entry) => entry,
            Err(ZipError::FileNotFound) if !spec.trained => {
                staged.push(None);
                continue;
            }
            Err(ZipError::FileNotFound) => return Err(err(Some(name), NpzProblem::Missing)),
            Err(e) => return Err(err(Some(name), zip_problem(e))),
        };
        let size = entry.size();
        let values = read_npy::<L::Scalar>(&mut entry, size, spec.shape)
            .map_err(|problem| err(Some(name), problem))?;
        staged.push(Some(values));
    }
    let mut staged = staged.into_iter();
    layers.for_each_tensor_mut(|_, _, dst| {
        if let Some(Some(values)) = staged.next() {
            dst.copy_from_slice(&values);
        }
    });
    Ok(())
}

fn zip_problem(e: ZipError) -> NpzProblem {
    match e {
        ZipError::Io(e) => NpzProblem::Io(e),
        other => NpzProblem::Archive(other.to_string()),
    }
}

/// The `.npy` version 1.0 header of a tensor of `shape` in `T`, padded as NumPy pads it (to a
/// multiple of 64 bytes, ending in a newline).
fn npy_header<T: Float>(shape: Shape) -> Vec<u8> {
    let dims = match shape {
        Shape::Vector(n) => format!("({n},)"),
        Shape::Matrix(r, c) => format!("({r}, {c})"),
    };
    let mut dict = format!(
        "{{'descr': '<f{}', 'fortran_order': False, 'shape': {dims}, }}",
        T::BYTES
    );
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    dict.extend(core::iter::repeat_n(
        ' ',
        unpadded.next_multiple_of(64) - unpadded,
    ));
    dict.push('\n');
    let mut bytes = Vec::with_capacity(10 + dict.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    // The header is ASCII and well under 64 KiB.
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes
}

/// Reads one `.npy` array of `size` bytes whose shape must be `expected`.
fn read_npy<T: Float>(r: &mut impl Read, size: u64, expected: Shape) -> Result<Vec<T>, NpzProblem> {
    let io = NpzProblem::Io;
    let mut prefix = [0u8; 8];
    read_or(r, &mut prefix, "shorter than the .npy preamble")?;
    if &prefix[..6] != MAGIC {
        return Err(NpzProblem::Header("not an .npy array (bad magic)"));
    }
    let (len_bytes, preamble) = match prefix[6] {
        1 => (2, 10),
        2 | 3 => (4, 12),
        _ => return Err(NpzProblem::Header("unknown .npy format version")),
    };
    let mut len = [0u8; 4];
    read_or(r, &mut len[..len_bytes], "shorter than the .npy preamble")?;
    let header_len = u32::from_le_bytes(len) as usize;
    if header_len > MAX_HEADER {
        return Err(NpzProblem::Header("header longer than 64 KiB"));
    }
    let mut header = vec![0u8; header_len];
    read_or(r, &mut header, "truncated header")?;
    let header = Header::parse(&header)?;
    let (itemsize, little) = match header.descr.as_str() {
        "<f4" => (4, true),
        "<f8" => (8, true),
        ">f4" => (4, false),
        ">f8" => (8, false),
        other => return Err(NpzProblem::Dtype(other.to_owned())),
    };
    let (rows, cols) = match (expected, header.shape.as_slice()) {
        (Shape::Vector(n), &[m]) if m == n => (1, n),
        (Shape::Matrix(r, c), &[m, n]) if m == r && n == c => (r, c),
        _ => {
            return Err(NpzProblem::Shape {
                expected,
                found: header.shape,
            });
        }
    };
    let data_len = rows * cols * itemsize;
    let present = size.saturating_sub((preamble + header_len) as u64);
    if present > data_len as u64 {
        return Err(NpzProblem::TrailingBytes { expected: data_len });
    }
    let mut data = vec![0u8; data_len];
    r.read_exact(&mut data).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => NpzProblem::Truncated {
            expected: data_len,
            found: present as usize,
        },
        _ => io(e),
    })?;
    let value = |i: usize| -> f64 {
        let b = &data[i * itemsize..(i + 1) * itemsize];
        match (itemsize, little) {
            (4, true) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            (4, false) => f32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64,
            (_, true) => f64::from_le_bytes(b.try_into().unwrap_or_default()),
            (_, false) => f64::from_be_bytes(b.try_into().unwrap_or_default()),
        }
    };
    let mut out = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for j in 0..cols {
            // In Fortran order element (i, j) is stored at j·rows + i.
            let at = if header.fortran_order {
                j * rows + i
            } else {
                i * cols + j
            };
            let v = T::from_f64(value(at));
            if !v.is_finite() {
                return Err(NpzProblem::NonFinite {
                    index: i * cols + j,
                });
            }
            out.push(v);
        }
    }
    Ok(out)
}

fn read_or(r: &mut impl Read, buf: &mut [u8], why: &'static str) -> Result<(), NpzProblem> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => NpzProblem::Header(why),
        _ => NpzProblem::Io(e),
    })
}

/// The three keys of an `.npy` header dict.
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

impl Header {
    /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`: a Python dict
    /// literal with these three keys, in any order, quotes single or double.
    fn parse(text: &[u8]) -> Result<Self, NpzProblem> {
        let mut p = Parser { s: text, at: 0 };
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        p.expect(b'{')?;
        loop {
            if p.eat(b'}') {
                break;
            }
            let key = p.string()?;
            p.expect(b':')?;
            match key.as_str() {
                "descr" => descr = Some(p.string()?),
                "fortran_order" => fortran_order = Some(p.boolean()?),
                "shape" => shape = Some(p.tuple()?),
                _ => {
                    return Err(NpzProblem::Header(
                        "a key other than descr, fortran_order, shape",
                    ));
                }
            }
            if !p.eat(b',') {
                p.expect(b'}')?;
                break;
            }
        }
        match (descr, fortran_order, shape) {
            (Some(descr), Some(fortran_order), Some(shape)) => Ok(Header {
                descr,
                fortran_order,
                shape,
            }),
            _ => Err(NpzProblem::Header(
                "descr, fortran_order or shape is missing",
            )),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        let found = self.s.get(self.at) == Some(&c);
        self.at += found as usize;
        found
    }
    fn expect(&mut self, c: u8) -> Result<(), NpzProblem> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(NpzProblem::Header(
                "not a Python dict of descr, fortran_order and shape",
            ))
        }
    }
    fn string(&mut self) -> Result<String, NpzProblem> {
        self.skip_space();
        let quote = match self.s.get(self.at) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(NpzProblem::Header("a string was expected")),
        };
        let start = self.at + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or(NpzProblem::Header("an unterminated string"))?;
        self.at = start + len + 1;
        String::from_utf8(self.s[start..start + len].to_vec())
            .map_err(|_| NpzProblem::Header("a string that is not UTF-8"))
    }
    fn boolean(&mut self) -> Result<bool, NpzProblem> {
        self.skip_space();
        for (word, value) in [(&b"True"[..], true), (&b"False"[..], false)] {
            if self.s[self.at..].starts_with(word) {
                self.at += word.len();
                return Ok(value);
            }
        }
        Err(NpzProblem::Header(
            "fortran_order is neither True nor False",
        ))
    }
    fn tuple(&mut self) -> Result<Vec<usize>, NpzProblem> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            if self.eat(b')') {
                return Ok(dims);
            }
            self.skip_space();
            let digits = self.s[self.at..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits == 0 || dims.len() == 32 {
                return Err(NpzProblem::Header("shape is not a tuple of integers"));
            }
            let d = core::str::from_utf8(&self.s[self.at..self.at + digits])
                .ok()
                .and_then(|d| d.parse().ok())
                .ok_or(NpzProblem::Header("a dimension too large"))?;
            self.at += digits;
            dims.push(d);
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}
