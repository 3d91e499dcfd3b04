//! The repository's own tests of the kernels' numbers, run in a user's build: each product
//! equals a plain sequential sum bit for bit, on dense and sparse input.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/matrix_ops.rs"]
mod matrix_ops;
#[path = "../../tests/sparse_input.rs"]
mod sparse_input;
