//! What a plain build of a user's crate gets: the fused kernels of the repository's build, with
//! no flags set anywhere.

use constnn::float::FUSED;
use constnn::matrix::matmul;

/// A dot product whose fused and unfused sums differ: `(1 + ε)²` is `1 + 2ε + ε²`, whose
/// `ε²` survives only if the square is added to `−(1 + 2ε)` before it is rounded.
#[test]
fn products_are_fused_on_x86_64_and_aarch64() {
    let expected = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));
    assert_eq!(FUSED, expected, "a plain build fuses where the CPU can");
    let e = f32::EPSILON;
    let a = [[-1.0, 1.0 + e]];
    let b = [[1.0 + 2.0 * e], [1.0 + e]];
    let mut c = [[0.0f32]];
    matmul(&a, &b, &mut c);
    // −(1 + 2ε), then + (1 + ε)²: ε² fused, 0 when the square is rounded first.
    let want = if FUSED { e * e } else { 0.0 };
    assert_eq!(c[0][0], want);
}
