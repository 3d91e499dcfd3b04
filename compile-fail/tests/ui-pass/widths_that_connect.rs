// The counterpart of the compile-fail cases: layers whose widths connect, a product whose inner
// dimensions agree and sparse rows of MNIST's width build (and run).
use constnn::layers::{Affine, Relu};
use constnn::matrix::{matmul, sparse::SparseRows};
use constnn::{Layer, chain};

fn main() {
    let net = chain![Affine::<f32, 4, 3>::zeros(), Relu::new(), Affine::<f32, 3, 2>::zeros()];
    let mut out = [[1.0; 2]; 5];
    net.forward(&[[1.0; 4]; 5], &mut out);
    assert_eq!(out, [[0.0; 2]; 5]);
    let mut ab = [[0.0; 3]; 2];
    matmul(&[[1.0, 2.0]; 2], &[[1.0; 3]; 2], &mut ab);
    assert_eq!(ab, [[3.0; 3]; 2]);
    let mut rows = SparseRows::<f32, 784>::default();
    rows.push_dense(&[0.5; 784]);
    assert_eq!(rows.row(0).len(), 784);
}
