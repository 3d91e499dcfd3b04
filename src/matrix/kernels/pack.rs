//! Listing a row's non-zero f32 values with AVX2's safe intrinsics, eight at a time (no
//! `unsafe` here: only the call into the function, after detection, is `unsafe`, in
//! [`isa`](super::isa)).
//!
//! Each vector of eight values is compared with zero, and its mask of non-zero lanes picks
//! from a table where those lanes are (their indices, lowest first): the values are moved to
//! the front of the vector by one permutation and stored whole, their steps too, and the
//! count moves on by how many there were. No branch depends on the values, where visiting each
//! set bit of a mask costs a dozen instructions a value and a mispredicted branch a mask.

use core::arch::x86_64::{
    __m128i, __m256, _CMP_NEQ_UQ, _mm_add_epi16, _mm_cvtss_f32, _mm_extract_epi16, _mm_extract_ps,
    _mm_set1_epi16, _mm_setr_epi16, _mm256_castps256_ps128, _mm256_cmp_ps, _mm256_cvtepu16_epi32,
    _mm256_extractf128_ps, _mm256_movemask_ps, _mm256_permutevar8x32_ps, _mm256_setr_ps,
    _mm256_setzero_ps,
};

/// For each mask of eight lanes, the indices of its set lanes, lowest first (then zeros).
static FRONT: [[u16; 8]; 256] = front().0;

/// For each mask of eight lanes, how many are set (a table: AVX2 does not imply `popcnt`).
static COUNT: [u8; 256] = front().1;

const fn front() -> ([[u16; 8]; 256], [u8; 256]) {
    let (mut table, mut counts) = ([[0u16; 8]; 256], [0u8; 256]);
    let mut mask = 0;
    while mask < 256 {
        let (mut lane, mut count) = (0, 0);
        while lane < 8 {
            if mask & (1 << lane) != 0 {
                table[mask][count] = lane as u16;
                count += 1;
            }
            lane += 1;
        }
        counts[mask] = count as u8;
        mask += 1;
    }
    (table, counts)
}

/// Lists the values of `row` that are not zero (nor −0; NaN is listed) into `values`, and
/// their steps (places in `row`, plus `start`) into `steps`, in order; returns how many.
///
/// # Panics
/// If `values` or `steps` is shorter than `row` (whole vectors are stored, past the count),
/// or a step does not fit a `u16`.
#[target_feature(enable = "avx2")]
pub(super) fn list_nonzero_f32(
    row: &[f32],
    start: usize,
    values: &mut [f32],
    steps: &mut [u16],
) -> usize {
    assert!(
        values.len() >= row.len() && steps.len() >= row.len() && start + row.len() <= 1 << 16,
        "list_nonzero_f32: room for every value, and steps that fit a u16"
    );
    let (chunks, rest) = row.as_chunks::<8>();
    let zero = _mm256_setzero_ps();
    let mut count = 0;
    for (k, chunk) in chunks.iter().enumerate() {
        let v = load(chunk);
        let mask = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(v, zero)) as usize;
        let lanes = FRONT[mask];
        let lanes = load_u16(&lanes);
        let packed = _mm256_permutevar8x32_ps(v, _mm256_cvtepu16_epi32(lanes));
        // Both whole vectors: `count ≤ 8k`, so they end by `8k + 8 ≤ row.len()`.
        values[count..][..8].copy_from_slice(&unload(packed));
        let at = _mm_add_epi16(lanes, _mm_set1_epi16((start + 8 * k) as i16));
        store_u16(at, &mut steps[count..][..8]);
        count += usize::from(COUNT[mask]);
    }
    let base = start + 8 * chunks.len();
    for (j, &x) in rest.iter().enumerate() {
        if x != 0.0 {
            values[count] = x;
            steps[count] = (base + j) as u16;
            count += 1;
        }
    }
    count
}

/// Eight values as a vector (one unaligned load; also `avx2`'s).
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn load(v: &[f32; 8]) -> __m256 {
    _mm256_setr_ps(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
}

/// Eight `u16` as a vector (one unaligned load).
#[target_feature(enable = "avx2")]
#[inline]
fn load_u16(v: &[u16; 8]) -> __m128i {
    let v = v.map(|x| x as i16);
    _mm_setr_epi16(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
}

/// A vector's eight values (stored whole where they go to memory; also `avx2`'s).
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn unload(v: __m256) -> [f32; 8] {
    let (lo, hi) = (_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let lane = |x, i| match i {
        1 => f32::from_bits(_mm_extract_ps::<1>(x) as u32),
        2 => f32::from_bits(_mm_extract_ps::<2>(x) as u32),
        3 => f32::from_bits(_mm_extract_ps::<3>(x) as u32),
        _ => _mm_cvtss_f32(x),
    };
    core::array::from_fn(|i| lane(if i < 4 { lo } else { hi }, i % 4))
}

/// Stores a vector's eight `u16` (one unaligned store).
#[target_feature(enable = "avx2")]
#[inline]
fn store_u16(v: __m128i, out: &mut [u16]) {
    let values = [
        _mm_extract_epi16::<0>(v) as u16,
        _mm_extract_epi16::<1>(v) as u16,
        _mm_extract_epi16::<2>(v) as u16,
        _mm_extract_epi16::<3>(v) as u16,
        _mm_extract_epi16::<4>(v) as u16,
        _mm_extract_epi16::<5>(v) as u16,
        _mm_extract_epi16::<6>(v) as u16,
        _mm_extract_epi16::<7>(v) as u16,
    ];
    out[..8].copy_from_slice(&values);
}
