//! The IDX format of the MNIST files (LeCun et al.), read in place.
//!
//! ```text
//! offset  size  content
//! 0       2     0x00 0x00
//! 2       1     element type: 0x08 = unsigned byte (the only one MNIST uses)
//! 3       1     number of dimensions d (3 for images: count, rows, cols; 1 for labels)
//! 4       4·d   each dimension, big-endian u32
//! 4+4d    …     the elements, row-major, exactly the product of the dimensions
//! ```
//!
//! ```
//! use constnn::format::idx::{Images, Labels, LabeledImages};
//! // Two 2×2 images and their labels, built by hand.
//! let images = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 0, 0, 9, 9, 9, 9];
//! let labels = [0, 0, 8, 1, 0, 0, 0, 2, 7, 1];
//! let set = LabeledImages::new(Images::parse(&images)?, Labels::parse(&labels, 10)?)?;
//! assert_eq!(set.len(), 2);
//! assert_eq!(set.get(1), Some((&[9u8, 9, 9, 9][..], 1)));
//! # Ok::<(), constnn::format::idx::IdxError>(())
//! ```

use core::fmt;

use super::be_u32;

/// The element-type byte for unsigned bytes.
pub const TYPE_U8: u8 = 0x08;

/// What is wrong with an IDX file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxError {
    /// The header needs `needed` bytes; the file has `found`.
    TooShort {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes in the file.
        found: usize,
    },
    /// The first two bytes must be zero.
    BadMagic {
        /// The first two bytes found.
        found: [u8; 2],
    },
    /// The element type (byte 2) is not unsigned byte (0x08).
    UnsupportedType {
        /// The type byte found.
        found: u8,
    },
    /// The number of dimensions (byte 3) is not what this kind of file has.
    WrongRank {
        /// 3 for images, 1 for labels.
        expected: u8,
        /// The number found.
        found: u8,
    },
    /// The dimensions multiply to more than this machine can address.
    SizeOverflow,
    /// The data after the header is not exactly the product of the dimensions.
    LengthMismatch {
        /// Bytes of data the header declares.
        declared: usize,
        /// Bytes of data in the file.
        found: usize,
    },
    /// A label is not below the number of classes.
    LabelOutOfRange {
        /// Which label (0-based).
        index: usize,
        /// Its value.
        label: u8,
        /// The number of classes.
        classes: usize,
    },
    /// The images and labels files hold different numbers of items.
    CountMismatch {
        /// Images in the images file.
        images: usize,
        /// Labels in the labels file.
        labels: usize,
    },
    /// The images and labels files hold no items: there is nothing to train on or evaluate.
    Empty,
    /// The images are not the size the network takes.
    ImageSize {
        /// Rows per image in the file.
        rows: usize,
        /// Columns per image in the file.
        cols: usize,
        /// Pixels per image the network takes.
        expected: usize,
    },
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IdxError::TooShort { needed, found } => write!(
                f,
                "truncated header: an IDX header needs {needed} bytes, the file has {found}"
            ),
            IdxError::BadMagic { found } => write!(
                f,
                "not an IDX file: it must start with bytes 00 00, found {:02x} {:02x}",
                found[0], found[1]
            ),
            IdxError::UnsupportedType { found } => write!(
                f,
                "unsupported element type 0x{found:02x} at offset 2 (expected 0x08, unsigned byte)"
            ),
            IdxError::WrongRank { expected, found } => write!(
                f,
                "wrong number of dimensions at offset 3: expected {expected}, found {found}"
            ),
            IdxError::SizeOverflow => {
                write!(
                    f,
                    "the declared dimensions multiply to more than can be addressed"
                )
            }
            IdxError::LengthMismatch { declared, found } => write!(
                f,
                "the header declares {declared} bytes of data but the file has {found} \
                 ({})",
                if found < declared {
                    "truncated"
                } else {
                    "trailing bytes"
                }
            ),
            IdxError::LabelOutOfRange {
                index,
                label,
                classes,
            } => write!(
                f,
                "label {label} at index {index} is out of range (expected 0..={})",
                classes.saturating_sub(1)
            ),
            IdxError::CountMismatch { images, labels } => write!(
                f,
                "the images file has {images} images but the labels file has {labels} labels"
            ),
            IdxError::Empty => write!(
                f,
                "the files hold no images (valid headers with a count of 0): nothing to train \
                 on or evaluate"
            ),
            IdxError::ImageSize {
                rows,
                cols,
                expected,
            } => write!(
                f,
                "images are {rows}×{cols} = {} pixels but the network takes {expected}",
                rows.saturating_mul(cols)
            ),
        }
    }
}

impl core::error::Error for IdxError {}

/// Parses the header of an unsigned-byte IDX file of rank `rank`; returns the dimensions (the
/// first `rank` entries) and the data, whose length is checked against them.
fn parse<const R: usize>(bytes: &[u8]) -> Result<([usize; R], &[u8]), IdxError> {
    let header = R
        .checked_mul(4)
        .and_then(|d| d.checked_add(4))
        .ok_or(IdxError::SizeOverflow)?;
    let magic = match bytes {
        [a, b, ..] => [*a, *b],
        _ => {
            return Err(IdxError::TooShort {
                needed: header,
                found: bytes.len(),
            });
        }
    };
    if magic != [0, 0] {
        return Err(IdxError::BadMagic { found: magic });
    }
    let (ty, rank) = match bytes {
        [_, _, t, r, ..] => (*t, *r),
        _ => {
            return Err(IdxError::TooShort {
                needed: header,
                found: bytes.len(),
            });
        }
    };
    if ty != TYPE_U8 {
        return Err(IdxError::UnsupportedType { found: ty });
    }
    if usize::from(rank) != R {
        return Err(IdxError::WrongRank {
            expected: R as u8,
            found: rank,
        });
    }
    if bytes.len() < header {
        return Err(IdxError::TooShort {
            needed: header,
            found: bytes.len(),
        });
    }
    let mut dims = [0usize; R];
    let mut total: usize = 1;
    for (i, d) in dims.iter_mut().enumerate() {
        let at = i
            .checked_mul(4)
            .and_then(|o| o.checked_add(4))
            .ok_or(IdxError::SizeOverflow)?;
        let v = be_u32(bytes, at).ok_or(IdxError::TooShort {
            needed: header,
            found: bytes.len(),
        })?;
        *d = usize::try_from(v).map_err(|_| IdxError::SizeOverflow)?;
        total = total.checked_mul(*d).ok_or(IdxError::SizeOverflow)?;
    }
    let data = bytes.get(header..).unwrap_or_default();
    if data.len() != total {
        return Err(IdxError::LengthMismatch {
            declared: total,
            found: data.len(),
        });
    }
    Ok((dims, data))
}

/// An IDX images file (rank 3: count, rows, cols), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Images<'a> {
    count: usize,
    rows: usize,
    cols: usize,
    pixels: &'a [u8],
}

impl<'a> Images<'a> {
    /// Validates an images file: magic, element type, rank, and that the data is exactly
    /// count × rows × cols bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, IdxError> {
        let ([count, rows, cols], pixels) = parse::<3>(bytes)?;
        Ok(Self {
            count,
            rows,
            cols,
            pixels,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// (rows, cols) of each image.
    pub fn dims(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Pixels of one image.
    pub fn pixels_per_image(&self) -> usize {
        // Cannot overflow: parse checked count × rows × cols.
        self.rows.saturating_mul(self.cols)
    }

    /// Checks that each image has `expected` pixels (784 for a network that takes MNIST).
    pub fn require_pixels(&self, expected: usize) -> Result<(), IdxError> {
        if self.pixels_per_image() == expected {
            Ok(())
        } else {
            Err(IdxError::ImageSize {
                rows: self.rows,
                cols: self.cols,
                expected,
            })
        }
    }

    /// Image `i`, row-major, one byte per pixel; `None` past the end.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let n = self.pixels_per_image();
        if i >= self.count {
            return None;
        }
        let start = i.checked_mul(n)?;
        self.pixels.get(start..start.checked_add(n)?)
    }

    /// All pixels, image after image.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.pixels
    }
}

/// An IDX labels file (rank 1), borrowed, with every label checked below the class count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels<'a> {
    labels: &'a [u8],
}

impl<'a> Labels<'a> {
    /// Validates a labels file, and that every label is below `classes` (10 for MNIST).
    pub fn parse(bytes: &'a [u8], classes: usize) -> Result<Self, IdxError> {
        let ([_], labels) = parse::<1>(bytes)?;
        if let Some((index, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, l)| usize::from(**l) >= classes)
        {
            return Err(IdxError::LabelOutOfRange {
                index,
                label,
                classes,
            });
        }
        Ok(Self { labels })
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Label `i`; `None` past the end.
    pub fn get(&self, i: usize) -> Option<u8> {
        self.labels.get(i).copied()
    }

    /// All labels.
    pub fn as_slice(&self) -> &'a [u8] {
        self.labels
    }
}

/// Images with their labels, checked to be equally many and at least one: a data set that can
/// be trained on or evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabeledImages<'a> {
    images: Images<'a>,
    labels: Labels<'a>,
}

impl<'a> LabeledImages<'a> {
    /// Pairs images with labels; their counts must agree, and be more than zero (a set with no
    /// images has no batch to draw and no accuracy).
    pub fn new(images: Images<'a>, labels: Labels<'a>) -> Result<Self, IdxError> {
        if images.len() != labels.len() {
            return Err(IdxError::CountMismatch {
                images: images.len(),
                labels: labels.len(),
            });
        }
        if images.is_empty() {
            return Err(IdxError::Empty);
        }
        Ok(Self { images, labels })
    }

    /// The images.
    pub fn images(&self) -> Images<'a> {
        self.images
    }

    /// Their labels.
    pub fn labels(&self) -> Labels<'a> {
        self.labels
    }

    /// Number of labelled images.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Image `i` and its label; `None` past the end.
    pub fn get(&self, i: usize) -> Option<(&'a [u8], u8)> {
        Some((self.images.get(i)?, self.labels.get(i)?))
    }
}
