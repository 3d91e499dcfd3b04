//! Every integration test, one module per file in `tests/` (each file's name says what it
//! proves), built as one test binary: the crate's generic kernels are compiled once for all
//! of them, where one binary per file compiled them again in each (most of `cargo test`'s time).
//!
//! One module's tests: `cargo test --test integration -- matrix_ops::`.

/// Helpers shared by the tests.
mod common;
/// The examples' std side (reading MNIST, plotting), which some tests drive.
#[path = "../examples/common/mod.rs"]
mod examples_common;

#[path = "batch_norm.rs"]
mod batch_norm;
#[path = "big_networks.rs"]
mod big_networks;
#[path = "book_graph_nodes.rs"]
mod book_graph_nodes;
#[path = "bounded_resources.rs"]
mod bounded_resources;
#[path = "cli.rs"]
mod cli;
#[path = "embedded_model.rs"]
mod embedded_model;
#[path = "exp.rs"]
mod exp;
#[path = "idx_reader.rs"]
mod idx_reader;
#[path = "layer_gradients.rs"]
mod layer_gradients;
#[path = "matrix_ops.rs"]
mod matrix_ops;
#[path = "mnist_training.rs"]
mod mnist_training;
#[path = "model_file.rs"]
mod model_file;
#[path = "multi_layer_net.rs"]
mod multi_layer_net;
#[path = "network.rs"]
mod network;
#[path = "npz.rs"]
mod npz;
#[path = "numerical_faults.rs"]
mod numerical_faults;
#[path = "numpy_stream.rs"]
mod numpy_stream;
#[path = "optimizers.rs"]
mod optimizers;
#[path = "parameters.rs"]
mod parameters;
#[path = "properties.rs"]
mod properties;
#[path = "quantized.rs"]
mod quantized;
#[path = "regularization.rs"]
mod regularization;
#[path = "sparse_input.rs"]
mod sparse_input;
#[path = "trainer.rs"]
mod trainer;
