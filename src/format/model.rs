//! The model file: a network's parameters with every shape, so a loader can refuse a file
//! that belongs to another network.
//!
//! ```text
//! offset  size   content
//! 0       4      magic "CNNM"
//! 4       2      format version, u16 little-endian (1 or 2)
//! 6       1      dtype: 1 = f32, 2 = f64, 3 = int8 (a quantised network, version 2 only)
//! 7       1      number of tensors K
//! 8       …      K tensor records: in version 2 first the element type (u8: 1 f32, 2 f64,
//!                3 i8, 4 i32), then the rank r (u8, 1 or 2), then r dimensions (u32 LE)
//! …       …      the K tensors' elements in the same order, row-major, little-endian
//! end−4   4      CRC-32 (IEEE) of every byte before it, u32 little-endian
//! ```
//!
//! Float networks are written as version 1, whose tensors all have the file's dtype (a file
//! written before version 2 existed is read as it always was). Version 2 gives each tensor its
//! own element type, which a quantised network ([`crate::quant::QuantNet`]) needs:
//! int8 weights, int32 biases, multipliers, shifts and zero points, f32 scales
//! ([`encode_quantized`], [`decode_quantized`]).
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

use core::fmt;

use crate::float::Float;
use crate::layers::{Layer, param_list};
use crate::params::{ParamId, ParamList, Shape};
use crate::quant::{QuantLayer, QuantNet};

/// The first four bytes of a model file.
pub const MAGIC: [u8; 4] = *b"CNNM";
/// The newest format version this crate reads, and the one it writes quantised networks in.
pub const VERSION: u16 = 2;
/// The version float networks are written in (their tensors all have the file's dtype).
pub const VERSION_FLOAT: u16 = 1;
/// The dtype byte of a quantised (int8) network.
pub const DTYPE_INT8: u8 = 3;
/// Bytes before the shape records: magic, version, dtype, count.
const FIXED_HEADER: usize = 8;

/// The dtype byte of `T`: 1 for f32, 2 for f64.
pub const fn dtype_code<T: Float>() -> u8 {
    if T::BYTES == 4 { 1 } else { 2 }
}

/// The bytes of one element of type `code` (1 f32, 2 f64, 3 i8, 4 i32); `None` for a code
/// this crate does not know.
const fn element_size(code: u8) -> Option<usize> {
    match code {
        1 | 4 => Some(4),
        2 => Some(8),
        3 => Some(1),
        _ => None,
    }
}

const fn dtype_name(code: u8) -> &'static str {
    match code {
        1 => "f32",
        2 => "f64",
        3 => "int8",
        _ => "unknown",
    }
}

const fn element_name(code: u8) -> &'static str {
    match code {
        1 => "f32",
        2 => "f64",
        3 => "i8",
        4 => "i32",
        _ => "unknown",
    }
}

/// The element type of tensor `k` of a network of dtype `dtype` whose tensors are `list`.
const fn element_of(list: &ParamList, k: usize, dtype: u8) -> u8 {
    if dtype == DTYPE_INT8 {
        match list.get(k) {
            Some(spec) => crate::quant::element_of(spec.name),
            None => 0,
        }
    } else {
        dtype
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
    /// A tensor's element type in the file is not the one the network has for it.
    ElementMismatch {
        /// Which tensor.
        tensor: ParamId,
        /// The network's element type.
        expected: &'static str,
        /// The element type byte found.
        found: u8,
    },
    /// A quantised network's value is out of range (a shift, a zero point, a scale, …).
    BadQuantization {
        /// Which tensor.
        tensor: ParamId,
        /// Which element.
        index: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// The dtype asked for is none this format has (1: f32, 2: f64, 3: int8).
    UnknownDtype {
        /// The dtype byte asked for.
        code: u8,
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
                    "model format version {found} is not supported (this build reads 1 and {VERSION})"
                )
            }
            ModelError::DtypeMismatch { expected, found } => write!(
                f,
                "model file holds {} (dtype byte {found}) but the network is {expected}",
                dtype_name(found)
            ),
            ModelError::ElementMismatch {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor {tensor} holds {} (element type byte {found}) in the file but the \
                 network's is {expected}",
                element_name(found)
            ),
            ModelError::BadQuantization {
                tensor,
                index,
                problem,
            } => write!(f, "tensor {tensor} element {index}: {problem}"),
            ModelError::UnknownDtype { code } => write!(
                f,
                "dtype byte {code} is none the model format has (1: f32, 2: f64, 3: int8)"
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

/// The CRC-32 lookup table (polynomial 0xEDB88320, reflected), built at compile time.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // i < 256, bit < 8
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE 802.3, reflected, as zlib and PNG use) of `bytes`.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // i < len; index < 256
pub const fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    let mut i = 0;
    while i < bytes.len() {
        crc = CRC_TABLE[((crc ^ bytes[i] as u32) & 0xFF) as usize] ^ (crc >> 8);
        i += 1;
    }
    !crc
}

const fn shape_record_len(shape: Shape) -> usize {
    match shape {
        Shape::Vector(_) => 5,
        Shape::Matrix(..) => 9,
    }
}

/// The size in bytes of the encoded model of `layers`.
pub fn encoded_len<L: Layer>(_layers: &L) -> usize {
    let list = param_list::<L>();
    let mut n = FIXED_HEADER.saturating_add(4);
    for k in 0..list.len() {
        if let Some(shape) = list.shape(k) {
            n = n
                .saturating_add(shape_record_len(shape))
                .saturating_add(shape.len().saturating_mul(L::Scalar::BYTES));
        }
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

impl Writer<'_> {
    /// A shape record: the rank, then each dimension as a `u32`.
    fn put_shape(&mut self, shape: Shape) -> Result<(), ModelError> {
        match shape {
            Shape::Vector(n) => {
                self.put(&[1])?;
                self.put(&dim_u32(n)?)
            }
            Shape::Matrix(r, c) => {
                self.put(&[2])?;
                self.put(&dim_u32(r)?)?;
                self.put(&dim_u32(c)?)
            }
        }
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
    let list = param_list::<L>();
    let count = u8::try_from(list.len()).map_err(|_| ModelError::TooLarge)?;
    let mut w = Writer { out, at: 0 };
    w.put(&MAGIC)?;
    w.put(&VERSION_FLOAT.to_le_bytes())?;
    w.put(&[dtype_code::<L::Scalar>(), count])?;
    for shape in (0..list.len()).filter_map(|k| list.shape(k)) {
        w.put_shape(shape)?;
    }
    let mut buf = [0u8; 8];
    let mut written = Ok(());
    layers.for_each_tensor(|t| {
        for v in t.values {
            written = written.and_then(|()| {
                let b = buf
                    .get_mut(..L::Scalar::BYTES)
                    .ok_or(ModelError::TooLarge)?;
                v.write_le(b);
                w.put(b)
            });
        }
    });
    written?;
    let body = w.out.get(..w.at).ok_or(ModelError::TooLarge)?;
    let crc = crc32(body);
    w.put(&crc.to_le_bytes())?;
    Ok(w.at)
}

/// Reads byte `i`, if there is one.
const fn byte(bytes: &[u8], i: usize) -> Option<u8> {
    if i < bytes.len() {
        #[allow(clippy::indexing_slicing)] // i < len
        Some(bytes[i])
    } else {
        None
    }
}

/// Reads a little-endian `u32` at `i` as `usize`, if the bytes are there.
#[allow(clippy::arithmetic_side_effects)] // i + 3 did not overflow
const fn le_u32(bytes: &[u8], i: usize) -> Option<usize> {
    match (byte(bytes, i), i.checked_add(3)) {
        (Some(b0), Some(last)) => match (byte(bytes, i + 1), byte(bytes, i + 2), byte(bytes, last))
        {
            (Some(b1), Some(b2), Some(b3)) => Some(u32::from_le_bytes([b0, b1, b2, b3]) as usize),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the `elem`-byte little-endian float at `i` is finite (`elem` is 4 or 8).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // the caller checked i + elem ≤ len
const fn finite_at(bytes: &[u8], i: usize, elem: usize) -> bool {
    if elem == 4 {
        let b = [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]];
        f32::from_le_bytes(b).is_finite()
    } else {
        let mut b = [0u8; 8];
        let mut j = 0;
        while j < 8 {
            b[j] = bytes[i + j];
            j += 1;
        }
        f64::from_le_bytes(b).is_finite()
    }
}

/// Checks a whole model file against a network's tensor shapes and dtype (a [`dtype_code`], or
/// [`DTYPE_INT8`]) — magic, version, dtype, tensor count, every shape and element type, the
/// exact length, the CRC-32 and that every float is finite — and returns the offset where the
/// data starts.
///
/// A `const fn`, so a model embedded in firmware is checked when the firmware is built (see
/// [`TwoLayerNet::from_model`](crate::TwoLayerNet::from_model)).
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // sums bounded by bytes.len() or checked; header is 8 bytes, tail 4
pub const fn validate(bytes: &[u8], shapes: &ParamList, dtype: u8) -> Result<usize, ModelError> {
    if element_size(dtype).is_none() || dtype == 4 {
        return Err(ModelError::UnknownDtype { code: dtype });
    }
    let found = bytes.len();
    if found < FIXED_HEADER {
        return Err(ModelError::Truncated {
            needed: FIXED_HEADER,
            found,
        });
    }
    let (header, _) = bytes.split_at(FIXED_HEADER);
    let magic = [header[0], header[1], header[2], header[3]];
    if magic[0] != MAGIC[0] || magic[1] != MAGIC[1] || magic[2] != MAGIC[2] || magic[3] != MAGIC[3]
    {
        return Err(ModelError::BadMagic { found: magic });
    }
    let version = u16::from_le_bytes([header[4], header[5]]);
    if version != VERSION_FLOAT && version != VERSION {
        return Err(ModelError::UnsupportedVersion { found: version });
    }
    // Version 1 has no element types: every tensor is of the file's dtype, a float.
    let typed = version == VERSION;
    if header[6] != dtype || (!typed && dtype == DTYPE_INT8) {
        return Err(ModelError::DtypeMismatch {
            expected: dtype_name(dtype),
            found: header[6],
        });
    }
    if header[7] as usize != shapes.len() {
        return Err(ModelError::TensorCount {
            expected: shapes.len(),
            found: header[7] as usize,
        });
    }
    // Tensor records: what the network expects tells how long the file must be.
    let mut at = FIXED_HEADER;
    let mut data_len: usize = 0;
    let mut k = 0;
    while k < shapes.len() {
        let Some(expected) = shapes.shape(k) else {
            return Err(ModelError::TooLarge);
        };
        let element = element_of(shapes, k, dtype);
        let needed = at + typed as usize + shape_record_len(expected);
        let truncated = ModelError::Truncated { needed, found };
        if typed {
            match byte(bytes, at) {
                None => return Err(truncated),
                Some(e) if e != element => {
                    return Err(ModelError::ElementMismatch {
                        tensor: shapes.id(k),
                        expected: element_name(element),
                        found: e,
                    });
                }
                Some(_) => at += 1,
            }
        }
        let found_shape = match byte(bytes, at) {
            None => return Err(truncated),
            Some(1) => match le_u32(bytes, at + 1) {
                Some(n) => Shape::Vector(n),
                None => return Err(truncated),
            },
            Some(2) => match (le_u32(bytes, at + 1), le_u32(bytes, at + 5)) {
                (Some(r), Some(c)) => Shape::Matrix(r, c),
                _ => return Err(truncated),
            },
            Some(rank) => {
                return Err(ModelError::BadRank {
                    tensor: shapes.id(k),
                    found: rank,
                });
            }
        };
        if !shape_eq(found_shape, expected) {
            return Err(ModelError::ShapeMismatch {
                tensor: shapes.id(k),
                expected,
                found: found_shape,
            });
        }
        at += shape_record_len(found_shape);
        let Some(size) = element_size(element) else {
            return Err(ModelError::TooLarge);
        };
        let Some(bytes_k) = expected.len().checked_mul(size) else {
            return Err(ModelError::TooLarge);
        };
        let Some(sum) = data_len.checked_add(bytes_k) else {
            return Err(ModelError::TooLarge);
        };
        data_len = sum;
        k += 1;
    }
    let data_start = at;
    let total = match data_start.checked_add(data_len) {
        Some(n) => match n.checked_add(4) {
            Some(t) => t,
            None => return Err(ModelError::TooLarge),
        },
        None => return Err(ModelError::TooLarge),
    };
    if found < total {
        return Err(ModelError::Truncated {
            needed: total,
            found,
        });
    }
    if found > total {
        return Err(ModelError::TrailingBytes {
            expected: total,
            found,
        });
    }
    let (body, tail) = bytes.split_at(total - 4);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let computed = crc32(body);
    if stored != computed {
        return Err(ModelError::Checksum { stored, computed });
    }
    let mut k = 0;
    let mut i = data_start;
    while k < shapes.len() {
        let len = match shapes.shape(k) {
            Some(s) => s.len(),
            None => 0,
        };
        let element = element_of(shapes, k, dtype);
        let size = match element_size(element) {
            Some(n) => n,
            None => 0,
        };
        if element == 1 || element == 2 {
            let mut index = 0;
            while index < len {
                if !finite_at(body, i + index * size, size) {
                    return Err(ModelError::NonFinite {
                        tensor: shapes.id(k),
                        index,
                    });
                }
                index += 1;
            }
        }
        i += len * size;
        k += 1;
    }
    Ok(data_start)
}

const fn shape_eq(a: Shape, b: Shape) -> bool {
    match (a, b) {
        (Shape::Vector(x), Shape::Vector(y)) => x == y,
        (Shape::Matrix(r1, c1), Shape::Matrix(r2, c2)) => r1 == r2 && c1 == c2,
        _ => false,
    }
}

/// Validates a model file against `layers` ([`validate`]) and, only if all of it is valid,
/// loads its parameters into them. On error `layers` is untouched.
pub fn decode_into<L: Layer>(bytes: &[u8], layers: &mut L) -> Result<(), ModelError> {
    let start = validate(bytes, &param_list::<L>(), dtype_code::<L::Scalar>())?;
    let data = bytes
        .get(start..bytes.len().saturating_sub(4))
        .ok_or(ModelError::TooLarge)?;
    let mut values = data
        .chunks_exact(L::Scalar::BYTES)
        .filter_map(L::Scalar::read_le);
    layers.for_each_tensor_mut(|_, _, dst| {
        for (d, v) in dst.iter_mut().zip(&mut values) {
            *d = v;
        }
    });
    Ok(())
}

/// The size in bytes of the model file of a quantised network of layers `L`.
#[allow(clippy::arithmetic_side_effects)] // sizes of arrays that exist: far below usize::MAX
pub const fn quantized_len<L: QuantLayer>() -> usize {
    let list = L::LIST;
    let mut n = FIXED_HEADER + 4 + L::BYTES;
    let mut k = 0;
    while k < list.len() {
        if let Some(shape) = list.shape(k) {
            n += 1 + shape_record_len(shape);
        }
        k += 1;
    }
    n
}

/// Writes the model file of the quantised network `net` (version 2, dtype int8) into `out`;
/// returns the number of bytes written ([`quantized_len`]). Nothing is written if `out` is too
/// small.
///
/// # Examples
///
/// ```
/// use constnn::format::model;
/// use constnn::quant::{QuantAffine, QuantNet, QuantParams};
///
/// let p = QuantParams { scale: 0.5, zero_point: -3 };
/// let net = QuantNet::new(QuantAffine::<2, 2> {
///     w: [[1, -2], [3, 127]],
///     b: [10, -10],
///     multiplier: [1 << 30, 1_500_000_000],
///     shift: [0, -2],
///     input: p,
///     output: p,
///     relu: true,
/// });
/// let mut buf = [0u8; 256];
/// let n = model::encode_quantized(&net, &mut buf)?;
/// let back: QuantNet<QuantAffine<2, 2>> = model::decode_quantized(&buf[..n])?;
/// assert_eq!(back, net);
/// # Ok::<(), model::ModelError>(())
/// ```
pub fn encode_quantized<L: QuantLayer>(
    net: &QuantNet<L>,
    out: &mut [u8],
) -> Result<usize, ModelError> {
    let needed = quantized_len::<L>();
    if out.len() < needed {
        return Err(ModelError::BufferTooSmall {
            needed,
            found: out.len(),
        });
    }
    let list = L::LIST;
    let count = u8::try_from(list.len()).map_err(|_| ModelError::TooLarge)?;
    let mut w = Writer { out, at: 0 };
    w.put(&MAGIC)?;
    w.put(&VERSION.to_le_bytes())?;
    w.put(&[DTYPE_INT8, count])?;
    for k in 0..list.len() {
        let (Some(shape), element) = (list.shape(k), element_of(&list, k, DTYPE_INT8)) else {
            continue;
        };
        w.put(&[element])?;
        w.put_shape(shape)?;
    }
    let mut written = Ok(());
    net.layers
        .write_tensors(&mut |bytes| written = written.and_then(|()| w.put(bytes)));
    written?;
    let body = w.out.get(..w.at).ok_or(ModelError::TooLarge)?;
    let crc = crc32(body);
    w.put(&crc.to_le_bytes())?;
    Ok(w.at)
}

/// The quantised network in a model file: validated ([`validate`] with [`DTYPE_INT8`]), and
/// every shift, multiplier, zero point and scale checked to be in range.
pub fn decode_quantized<L: QuantLayer>(bytes: &[u8]) -> Result<QuantNet<L>, ModelError> {
    let list = L::LIST;
    let start = validate(bytes, &list, DTYPE_INT8)?;
    let data = bytes.get(start..).ok_or(ModelError::TooLarge)?;
    let layers = L::read_tensors(data).map_err(|e| ModelError::BadQuantization {
        tensor: list.id(e.tensor),
        index: e.index,
        problem: e.problem,
    })?;
    Ok(QuantNet::new(layers))
}

/// The dtype byte of a model file's header (1 f32, 2 f64, 3 int8), to tell which kind of
/// network to load it into; `None` if `bytes` is too short or not a model file.
pub const fn file_dtype(bytes: &[u8]) -> Option<u8> {
    match (
        byte(bytes, 0),
        byte(bytes, 1),
        byte(bytes, 2),
        byte(bytes, 3),
        byte(bytes, 6),
    ) {
        (Some(b'C'), Some(b'N'), Some(b'N'), Some(b'M'), Some(d)) => Some(d),
        _ => None,
    }
}

impl ModelError {
    /// A fixed message for each kind of error, for `const` contexts (a failed build).
    pub const fn kind(&self) -> &'static str {
        match self {
            ModelError::Truncated { .. } => "the model file is truncated",
            ModelError::TrailingBytes { .. } => "the model file has trailing bytes",
            ModelError::BadMagic { .. } => "not a constnn model file (bad magic)",
            ModelError::UnsupportedVersion { .. } => "unsupported model format version",
            ModelError::DtypeMismatch { .. } => "the model file's dtype is not the network's",
            ModelError::ElementMismatch { .. } => {
                "a tensor in the model file has another element type than the network's"
            }
            ModelError::BadQuantization { .. } => "a value in the quantised model is out of range",
            ModelError::UnknownDtype { .. } => "the dtype asked for is none the format has",
            ModelError::TensorCount { .. } => {
                "the model file has another number of tensors than the network"
            }
            ModelError::BadRank { .. } => "a tensor in the model file has a rank other than 1 or 2",
            ModelError::ShapeMismatch { .. } => {
                "a tensor in the model file has another shape than the network's"
            }
            ModelError::Checksum { .. } => "the model file is corrupt (CRC-32 mismatch)",
            ModelError::NonFinite { .. } => "the model file holds a NaN or infinite value",
            ModelError::BufferTooSmall { .. } => "buffer too small",
            ModelError::TooLarge => "network too large for the model format",
        }
    }
}
