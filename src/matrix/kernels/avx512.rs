//! The A·B tiles of 512-bit vectors written with AVX-512's safe intrinsics (no `unsafe` here:
//! only the call into the function, after detection, is `unsafe`, in [`isa`](super::isa)).
//!
//! A tile of 4 rows × 48 or 64 f32 columns (three or four vectors a row, twelve or sixteen of
//! the 32 registers), which [`micro`](super::dense::micro) writes with arrays for the compiler
//! to turn into vectors. Then the compiler picks the vectors' width, and a build with
//! `-C target-cpu=native` on an Intel CPU whose tuning prefers 256-bit vectors (Skylake-SP to
//! Emerald Rapids) got 256-bit code: twice the instructions, and a 4 × 64 tile's sums spilled
//! from the registers. Written with `__m512`, the width is the code's whatever the tuning.
//! Each lane still adds its products in the order of the steps, fused once each: the same sums
//! as every other tile (so the module exists only where the kernels fuse, the `fused` cfg).

use super::dense::Panel;
use super::pack::unload as unload8;
use core::arch::x86_64::{
    __m512, _mm512_castps512_ps256, _mm512_extractf32x8_ps, _mm512_fmadd_ps, _mm512_set1_ps,
    _mm512_setr_ps, _mm512_setzero_ps,
};

/// f32 lanes of a vector.
const LANES: usize = 16;

/// Sixteen values as a vector (one unaligned load).
#[target_feature(enable = "avx512f")]
#[inline]
fn load(v: &[f32; LANES]) -> __m512 {
    _mm512_setr_ps(
        v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
        v[14], v[15],
    )
}

/// A vector's sixteen values.
#[target_feature(enable = "avx512f,avx512dq,avx2")]
#[inline]
fn unload(v: __m512) -> [f32; LANES] {
    let (lo, hi) = (
        unload8(_mm512_castps512_ps256(v)),
        unload8(_mm512_extractf32x8_ps::<1>(v)),
    );
    core::array::from_fn(|i| if i < 8 { lo[i] } else { hi[i - 8] })
}

/// `c[i0 + r][j0 + j] (+)= Σ_q a[q][r] · b_rows[q·ldb + j]` for `r < rows`, `j < cols ≤ NR`
/// (`NR = 16·V`, 48 or 64), over the first steps of `panel` whose `NR` values of B lie within
/// `b_rows`; returns how many steps that was (the caller adds the others to `c`, in order).
/// With `cols < NR` the extra lanes read on into B's next row and are never stored.
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(super) fn tile<const NR: usize, const V: usize>(
    panel: Panel<'_, f32, 4>,
    b_rows: &[f32],
    ldb: usize,
    cols: usize,
    c: &mut [f32],
    ldc: usize,
    i0: usize,
    rows: usize,
    j0: usize,
    accumulate: bool,
) -> usize {
    const { assert!(NR == V * LANES) };
    debug_assert!(rows <= 4 && cols <= NR);
    let mut sums = [[_mm512_setzero_ps(); V]; 4];
    if accumulate {
        for (r, sums) in sums.iter_mut().enumerate().take(rows) {
            let at = (i0 + r) * ldc + j0;
            let mut start = [0.0; NR];
            start[..cols].copy_from_slice(&c[at..at + cols]);
            let (chunks, _) = start.as_chunks::<LANES>();
            for (s, chunk) in sums.iter_mut().zip(chunks) {
                *s = load(chunk);
            }
        }
    }
    let whole = panel.within(ldb, NR, b_rows.len());
    let b_row = |q: usize| -> &[f32; NR] {
        match b_rows[q * ldb..][..NR].try_into() {
            Ok(b) => b,
            Err(_) => unreachable!("a slice of NR values"),
        }
    };
    // One step, written out in each loop below (as a closure, the 4 × 64 step was not
    // inlined): B's row first, then each of A's four values read where it is broadcast, so
    // that it is broadcast from memory (copied first, A's values were loaded as scalars and
    // broadcast from registers, an instruction more each).
    macro_rules! step {
        ($sums:expr, $b:expr, [$($a:expr),*]) => {{
            let mut sums: [[__m512; V]; 4] = $sums;
            let (chunks, _) = $b.as_chunks::<LANES>();
            let b: [__m512; V] = core::array::from_fn(|v| load(&chunks[v]));
            let mut rows = sums.iter_mut();
            $(
                if let Some(sums) = rows.next() {
                    let a = _mm512_set1_ps(*$a);
                    for (s, &b) in sums.iter_mut().zip(&b) {
                        *s = _mm512_fmadd_ps(a, b, *s);
                    }
                }
            )*
            sums
        }};
    }
    let sums = match panel {
        Panel::Rows([r0, r1, r2, r3]) => {
            let steps = r0.iter().zip(r1).zip(r2).zip(r3).take(whole).enumerate();
            steps.fold(
                sums,
                #[inline(always)]
                |sums, (q, (((a0, a1), a2), a3))| step!(sums, b_row(q), [a0, a1, a2, a3]),
            )
        }
        Panel::Packed(_) => panel.fold(
            0..whole,
            sums,
            #[inline(always)]
            |sums, q, a| step!(sums, b_row(q), [&a[0], &a[1], &a[2], &a[3]]),
        ),
    };
    for (r, sums) in sums.iter().enumerate().take(rows) {
        let mut out = [0.0; NR];
        let (chunks, _) = out.as_chunks_mut::<LANES>();
        for (chunk, &s) in chunks.iter_mut().zip(sums) {
            *chunk = unload(s);
        }
        let at = (i0 + r) * ldc + j0;
        c[at..at + cols].copy_from_slice(&out[..cols]);
    }
    whole
}
