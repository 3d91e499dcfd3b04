//! File formats, parsed from `&[u8]` without allocating or copying: MNIST's IDX files
//! ([`idx`]) and this crate's model files ([`model`]).
//!
//! Parsers here take bytes from outside (downloads, flash, fuzzers), so they never panic:
//! every malformed input is a typed error. Clippy enforces that (no `unwrap`, no indexing that
//! can go out of bounds, no arithmetic that can overflow), here and in both submodules.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

pub mod idx;
pub mod model;

/// Reads a big-endian `u32` at `at`, if `bytes` is long enough.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}
