// (2,3)·(4,2): the inner dimensions 3 and 4 differ, so the product does not compile.
use constnn::matrix::matmul;

fn main() {
    let a = [[1.0f32; 3]; 2];
    let b = [[1.0f32; 2]; 4];
    let mut out = [[0.0f32; 2]; 2];
    matmul(&a, &b, &mut out);
}
