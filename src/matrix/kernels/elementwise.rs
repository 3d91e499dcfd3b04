//! Elementwise loops outside the matrix products, compiled for the best vector unit too: the
//! baseline x86-64 build keeps some of them scalar (ReLU's select, softmax's `exp`).

use super::*;

/// `f()` compiled for the best vector unit this CPU has (see [`isa`]). `f` must be a closure
/// marked `#[inline(always)]` whose loops call only inlined code: what is compiled apart from
/// it runs as the build targets.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    dispatch!(isa => isa.run(f))
}

/// `out[i] = x[i]` where `x[i] > 0`, else 0 (a NaN stays NaN: `<= 0` is false for it).
pub(crate) fn relu<T: Float>(x: &[T], out: &mut [T]) {
    vectorized(
        #[inline(always)]
        || {
            for (o, v) in out.iter_mut().zip(x) {
                *o = if *v <= T::ZERO { T::ZERO } else { *v };
            }
        },
    )
}

/// `dx[i] = dout[i]` where `x[i] > 0`, else 0.
pub(crate) fn relu_backward<T: Float>(x: &[T], dout: &[T], dx: &mut [T]) {
    vectorized(
        #[inline(always)]
        || {
            for ((d, v), g) in dx.iter_mut().zip(x).zip(dout) {
                *d = if *v <= T::ZERO { T::ZERO } else { *g };
            }
        },
    )
}
