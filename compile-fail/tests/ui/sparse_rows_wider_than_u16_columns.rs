// Sparse rows keep their columns as u16: a data set of rows wider than 65 536 values does not
// build, however it is made (`new` or `default`), rather than wrapping columns at run time.
use constnn::matrix::sparse::SparseRows;

fn main() {
    let mut rows = SparseRows::<f32, 70_000>::default();
    rows.push_dense(&[0.0; 70_000]);
}
