//! The model file: a network's parameters with every shape, so a loader can refuse a file
//! that belongs to another network.
//!
//! ```text
//! offset  size   content
//! 0       4      magic "CNNM"
//! 4       2      format version, u16 little-endian (1)
//! 6       1      dtype: 1 = f32, 2 = f64
//! 7       1      number of tensors K
//! 8       …      K shape records: rank r (u8, 1 or 2), then r dimensions (u32 little-endian)
//! …       …      the K tensors' elements in the same order, row-major, little-endian
//! end−4   4      CRC-32 (IEEE) of every byte before it, u32 little-endian
//! ```
//!
//! A TwoLayerNet stores W1 (I, H), b1 (H), W2 (H, O), b2 (O): 784-50-10 in f32 is 159 080 bytes.
//!
//! ```
//! use constnn::{TwoLayerNet, format::model};
//! use rand_core::SeedableRng;
//! let net = TwoLayerNet::<4, 3, 2>::new(0.1, &mut rand_pcg::Pcg64::seed_from_u64(0));
//! let mut buf = [0u8; 256];
//! let n = model::encode(&net.layers, &mut buf)?;
//! assert_eq!(n, model::encoded_len(&net.layers));
//!
//! let mut copy = TwoLayerNet::<4, 3, 2>::new(0.1, &mut rand_pcg::Pcg64::seed_from_u64(1));
//! model::decode_into(&buf[..n], &mut copy.layers)?;
//! assert_eq!(copy.w1(), net.w1());
//!
//! // A network of another shape refuses the file.
//! let mut other = TwoLayerNet::<4, 5, 2>::new(0.1, &mut rand_pcg::Pcg64::seed_from_u64(0));
//! let err = model::decode_into(&buf[..n], &mut other.layers).unwrap_err();
//! assert_eq!(err.to_string(), "tensor W1 has shape (4, 3) in the file but the network needs (4, 5)");
//! # Ok::<(), model::ModelError>(())
//! ```
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use core::fmt;

use crate::float::Float;
use crate::layers::{Layer, ParamId, Shape};

/// The first four bytes of a model file.
pub const MAGIC: [u8; 4] = *b"CNNM";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Bytes before the shape records: magic, version, dtype, count.
const FIXED_HEADER: usize = 8;

/// The dtype byte of `T`: 1 for f32, 2 for f64.
pub const fn dtype_code<T: Float>() -> u8 {
    if T::BYTES == 4 { 1 } else { 2 }
}

fn dtype_name(code: u8) -> &'static str {
    match code {
        1 => "f32",
        2 => "f64",
        _ => "unknown",
    }
}

/// What is wrong with a model file, or with the buffer to write one into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelError {
    /// The file ends at `found` bytes; its header says it needs `needed` (truncated).
    Truncated {
        /// Bytes the file must have.
        needed: usize,
        /// Bytes it has.
        found: usize,
    },
    /// The file is longer than its header says (trailing bytes).
    TrailingBytes {
        /// Bytes the file must have.
        expected: usize,
        /// Bytes it has.
        found: usize,
    },
    /// The first four bytes are not "CNNM".
    BadMagic {
        /// The first four bytes found.
        found: [u8; 4],
    },
    /// A format version this crate does not read.
    UnsupportedVersion {
        /// The version found.
        found: u16,
    },
    /// The file's dtype is not the network's.
    DtypeMismatch {
        /// The network's dtype.
        expected: &'static str,
        /// The dtype byte found.
        found: u8,
    },
    /// The file has another number of tensors than the network.
    TensorCount {
        /// Tensors the network has.
        expected: usize,
        /// Tensors the file has.
        found: usize,
    },
    /// A shape record has a rank other than 1 or 2.
    BadRank {
        /// Which tensor.
        tensor: ParamId,
        /// The rank found.
        found: u8,
    },
    /// A tensor's shape in the file is not the network's.
    ShapeMismatch {
        /// Which tensor.
        tensor: ParamId,
        /// The network's shape.
        expected: Shape,
        /// The file's shape.
        found: Shape,
    },
    /// The CRC-32 at the end does not match the content: the file is corrupt.
    Checksum {
        /// The CRC-32 stored in the file.
        stored: u32,
        /// The CRC-32 of its content.
        computed: u32,
    },
    /// A parameter is NaN or infinite.
    NonFinite {
        /// Which tensor.
        tensor: ParamId,
        /// Which element (row-major).
        index: usize,
    },
    /// The output buffer is too small for the encoded model.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        found: usize,
    },
    /// A network too large to describe in this format (over 255 tensors or 2³² elements).
    TooLarge,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ModelError::Truncated { needed, found } => {
                write!(
                    f,
                    "truncated model file: {found} bytes, its header needs {needed}"
                )
            }
            ModelError::TrailingBytes { expected, found } => write!(
                f,
                "model file has {found} bytes but its header describes {expected} (trailing bytes)"
            ),
            ModelError::BadMagic { found } => write!(
                f,
                "not a constnn model file: expected magic \"CNNM\", found {:02x} {:02x} {:02x} {:02x}",
                found[0], found[1], found[2], found[3]
            ),
            ModelError::UnsupportedVersion { found } => {
                write!(
                    f,
                    "model format version {found} is not supported (this build reads {VERSION})"
                )
            }
            ModelError::DtypeMismatch { expected, found } => write!(
                f,
                "model file holds {} (dtype byte {found}) but the network is {expected}",
                dtype_name(found)
            ),
            ModelError::TensorCount { expected, found } => write!(
                f,
                "model file has {found} tensors but the network has {expected}"
            ),
            ModelError::BadRank { tensor, found } => {
                write!(
                    f,
                    "tensor {tensor} has rank {found} in the file (expected 1 or 2)"
                )
            }
            ModelError::ShapeMismatch {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor {tensor} has shape {found} in the file but the network needs {expected}"
            ),
            ModelError::Checksum { stored, computed } => write!(
                f,
                "model file is corrupt: CRC-32 {computed:08x} of its content does not match the \
                 stored {stored:08x}"
            ),
            ModelError::NonFinite { tensor, index } => {
                write!(f, "tensor {tensor} element {index} is NaN or infinite")
            }
            ModelError::BufferTooSmall { needed, found } => {
                write!(
                    f,
                    "buffer of {found} bytes is too small for the model ({needed} bytes)"
                )
            }
            ModelError::TooLarge => write!(f, "network too large for the model format"),
        }
    }
}

impl core::error::Error for ModelError {}

/// CRC-32 (IEEE 802.3, reflected, as zlib and PNG use) of `bytes`.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // i < len, bit < 8
pub const fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        crc ^= b as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        i += 1;
    }
    !crc
}

fn shape_record_len(shape: Shape) -> usize {
    match shape {
        Shape::Vector(_) => 5,
        Shape::Matrix(..) => 9,
    }
}

/// The size in bytes of the encoded model of `layers`.
pub fn encoded_len<L: Layer>(layers: &L) -> usize {
    let mut n = FIXED_HEADER.saturating_add(4);
    for t in (0..L::PARAMS).filter_map(|k| layers.tensor(k)) {
        let data = t.values.len().saturating_mul(L::Scalar::BYTES);
        n = n
            .saturating_add(shape_record_len(t.shape))
            .saturating_add(data);
    }
    n
}

/// A cursor that writes into a slice; callers check the total length first.
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), ModelError> {
        let end = self
            .at
            .checked_add(bytes.len())
            .ok_or(ModelError::TooLarge)?;
        let found = self.out.len();
        let dst = self
            .out
            .get_mut(self.at..end)
            .ok_or(ModelError::BufferTooSmall { needed: end, found })?;
        dst.copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }
}

fn dim_u32(d: usize) -> Result<[u8; 4], ModelError> {
    u32::try_from(d)
        .map(u32::to_le_bytes)
        .map_err(|_| ModelError::TooLarge)
}

/// Writes the model of `layers` into `out`; returns the number of bytes written
/// ([`encoded_len`]). Nothing is written if `out` is too small.
pub fn encode<L: Layer>(layers: &L, out: &mut [u8]) -> Result<usize, ModelError> {
    let needed = encoded_len(layers);
    if out.len() < needed {
        return Err(ModelError::BufferTooSmall {
            needed,
            found: out.len(),
        });
    }
    let count = u8::try_from(L::PARAMS).map_err(|_| ModelError::TooLarge)?;
    let mut w = Writer { out, at: 0 };
    w.put(&MAGIC)?;
    w.put(&VERSION.to_le_bytes())?;
    w.put(&[dtype_code::<L::Scalar>(), count])?;
    for t in (0..L::PARAMS).filter_map(|k| layers.tensor(k)) {
        match t.shape {
            Shape::Vector(n) => {
                w.put(&[1])?;
                w.put(&dim_u32(n)?)?;
            }
            Shape::Matrix(r, c) => {
                w.put(&[2])?;
                w.put(&dim_u32(r)?)?;
                w.put(&dim_u32(c)?)?;
            }
        }
    }
    let mut buf = [0u8; 8];
    for t in (0..L::PARAMS).filter_map(|k| layers.tensor(k)) {
        for v in t.values {
            let b = buf
                .get_mut(..L::Scalar::BYTES)
                .ok_or(ModelError::TooLarge)?;
            v.write_le(b);
            w.put(b)?;
        }
    }
    let body = w.out.get(..w.at).ok_or(ModelError::TooLarge)?;
    let crc = crc32(body);
    w.put(&crc.to_le_bytes())?;
    Ok(w.at)
}

/// A cursor over the file being read.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The length the header implies so far, for a truncation message.
    needed: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.at.checked_add(n).ok_or(ModelError::TooLarge)?;
        let found = self.bytes.len();
        let s = self.bytes.get(self.at..end).ok_or(ModelError::Truncated {
            needed: end.max(self.needed),
            found,
        })?;
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ModelError> {
        self.take(1)?.first().copied().ok_or(ModelError::TooLarge)
    }
    fn u32(&mut self) -> Result<usize, ModelError> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| ModelError::TooLarge)?;
        usize::try_from(u32::from_le_bytes(b)).map_err(|_| ModelError::TooLarge)
    }
}

/// Validates a model file against `layers` and, only if all of it is valid (magic, version,
/// dtype, every shape, length, checksum, every value finite), loads its parameters into them.
/// On error `layers` is untouched.
pub fn decode_into<L: Layer>(bytes: &[u8], layers: &mut L) -> Result<(), ModelError> {
    let mut r = Reader {
        bytes,
        at: 0,
        needed: FIXED_HEADER,
    };
    let magic: [u8; 4] = r.take(4)?.try_into().map_err(|_| ModelError::TooLarge)?;
    if magic != MAGIC {
        return Err(ModelError::BadMagic { found: magic });
    }
    let version = u16::from_le_bytes(r.take(2)?.try_into().map_err(|_| ModelError::TooLarge)?);
    if version != VERSION {
        return Err(ModelError::UnsupportedVersion { found: version });
    }
    let dtype = r.u8()?;
    if dtype != dtype_code::<L::Scalar>() {
        return Err(ModelError::DtypeMismatch {
            expected: L::Scalar::NAME,
            found: dtype,
        });
    }
    let count = usize::from(r.u8()?);
    if count != L::PARAMS {
        return Err(ModelError::TensorCount {
            expected: L::PARAMS,
            found: count,
        });
    }
    // Shape records: what the network expects tells the reader how long the file must be.
    let mut data_len: usize = 0;
    for k in 0..L::PARAMS {
        let Some(t) = layers.tensor(k) else { continue };
        r.needed =
            r.at.checked_add(shape_record_len(t.shape))
                .ok_or(ModelError::TooLarge)?;
        let found = match r.u8()? {
            1 => Shape::Vector(r.u32()?),
            2 => Shape::Matrix(r.u32()?, r.u32()?),
            rank => {
                return Err(ModelError::BadRank {
                    tensor: ParamId::of(layers, k),
                    found: rank,
                });
            }
        };
        if found != t.shape {
            return Err(ModelError::ShapeMismatch {
                tensor: ParamId::of(layers, k),
                expected: t.shape,
                found,
            });
        }
        let bytes = t
            .values
            .len()
            .checked_mul(L::Scalar::BYTES)
            .ok_or(ModelError::TooLarge)?;
        data_len = data_len.checked_add(bytes).ok_or(ModelError::TooLarge)?;
    }
    let data_start = r.at;
    let total = data_start
        .checked_add(data_len)
        .and_then(|n| n.checked_add(4));
    let total = total.ok_or(ModelError::TooLarge)?;
    if bytes.len() < total {
        return Err(ModelError::Truncated {
            needed: total,
            found: bytes.len(),
        });
    }
    if bytes.len() > total {
        return Err(ModelError::TrailingBytes {
            expected: total,
            found: bytes.len(),
        });
    }
    let body_len = total.saturating_sub(4);
    let (body, stored) = bytes
        .split_at_checked(body_len)
        .ok_or(ModelError::TooLarge)?;
    let stored = u32::from_le_bytes(stored.try_into().map_err(|_| ModelError::TooLarge)?);
    let computed = crc32(body);
    if stored != computed {
        return Err(ModelError::Checksum { stored, computed });
    }
    // Two passes over the data: check every value, then load. A bad file changes nothing.
    let data = body.get(data_start..).ok_or(ModelError::TooLarge)?;
    let mut values = data
        .chunks_exact(L::Scalar::BYTES)
        .filter_map(L::Scalar::read_le);
    for k in 0..L::PARAMS {
        let len = layers.tensor(k).map_or(0, |t| t.values.len());
        for index in 0..len {
            if !values.next().is_some_and(Float::is_finite) {
                return Err(ModelError::NonFinite {
                    tensor: ParamId::of(layers, k),
                    index,
                });
            }
        }
    }
    let mut values = data
        .chunks_exact(L::Scalar::BYTES)
        .filter_map(L::Scalar::read_le);
    for k in 0..L::PARAMS {
        if let Some(dst) = layers.tensor_mut(k) {
            for (d, v) in dst.iter_mut().zip(&mut values) {
                *d = v;
            }
        }
    }
    Ok(())
}
