//! Lane-wise building blocks over eight `u64` lanes (`__m512i`).
//!
//! Each helper is a small `#[target_feature]` function (AVX-512 F/DQ/VL/BW, plus IFMA
//! for the `madd52*` ones) that inlines into the kernels, which have the same
//! features; only the raw-pointer loads and stores are `unsafe`.

use core::arch::x86_64::*;

/// Eight `u64` lanes.
pub(crate) type V = __m512i;

/// Broadcasts `x` to every lane.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn splat(x: u64) -> V {
    _mm512_set1_epi64(x as i64)
}

/// Loads 8 words from `p`.
///
/// Safety: `p..p+8` must be readable.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) unsafe fn load(p: *const u64) -> V {
    // SAFETY: the caller guarantees 8 readable words at `p`; unaligned load.
    unsafe { _mm512_loadu_si512(p.cast()) }
}

/// Stores 8 words to `p`.
///
/// Safety: `p..p+8` must be writable.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) unsafe fn store(p: *mut u64, v: V) {
    // SAFETY: the caller guarantees 8 writable words at `p`; unaligned store.
    unsafe { _mm512_storeu_si512(p.cast(), v) }
}

/// Lane-wise wrapping `a + b`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn add(a: V, b: V) -> V {
    _mm512_add_epi64(a, b)
}

/// Lane-wise wrapping `a - b`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn sub(a: V, b: V) -> V {
    _mm512_sub_epi64(a, b)
}

/// `x in [0, 2c)` to `x mod c`: if `x >= c` then `x - c` is the smaller of the two,
/// otherwise `x - c` wraps above `x`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn reduce_once(x: V, c: V) -> V {
    _mm512_min_epu64(x, _mm512_sub_epi64(x, c))
}

/// Lane-wise `(a * b) mod 2^64`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn mul_lo(a: V, b: V) -> V {
    _mm512_mullo_epi64(a, b)
}

/// Lane-wise `floor(a * b / 2^64)` from four 32x32-bit products; `b_hi = hi32(b)`
/// is passed in because `b` is usually a constant whose halves are computed once.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn mul_hi(a: V, b: V, b_hi: V) -> V {
    let a_hi = hi32(a);
    let p00 = _mm512_mul_epu32(a, b);
    let p01 = _mm512_mul_epu32(a, b_hi);
    let p10 = _mm512_mul_epu32(a_hi, b);
    let p11 = _mm512_mul_epu32(a_hi, b_hi);
    // Middle column: p10 + carry-in from p00 fits in 64 bits, then add p01's part.
    let t = _mm512_add_epi64(p10, _mm512_srli_epi64::<32>(p00));
    let u = _mm512_add_epi64(_mm512_and_si512(t, splat(u32::MAX as u64)), p01);
    let hi = _mm512_add_epi64(p11, _mm512_srli_epi64::<32>(t));
    _mm512_add_epi64(hi, _mm512_srli_epi64::<32>(u))
}

/// The high 32 bits of each lane moved to the low 32 bits (the high bits are
/// garbage), enough for `vpmuludq`, which reads only the low 32 bits. A dword shuffle
/// rather than a shift, to leave the shift units to the rest of [`mul_hi`].
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn hi32(b: V) -> V {
    _mm512_shuffle_epi32::<0b10_11_00_01>(b)
}

/// Like [`mul_hi`] but may return up to 2 less than `floor(a * b / 2^64)`: the low
/// product and the low halves of the cross products are dropped (each dropped part
/// is below `2^64`, so three of them cost at most 2 in the high word).
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn mul_hi_approx(a: V, b: V, b_hi: V) -> V {
    let a_hi = hi32(a);
    let p01 = _mm512_mul_epu32(a, b_hi);
    let p10 = _mm512_mul_epu32(a_hi, b);
    let p11 = _mm512_mul_epu32(a_hi, b_hi);
    let mid = _mm512_add_epi64(_mm512_srli_epi64::<32>(p01), _mm512_srli_epi64::<32>(p10));
    _mm512_add_epi64(p11, mid)
}

/// Lane-wise `a << s` for a run-time shift `s < 64`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn shl(a: V, s: V) -> V {
    _mm512_sllv_epi64(a, s)
}

/// Lane-wise `a >> s` for a run-time shift `s < 64`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn shr(a: V, s: V) -> V {
    _mm512_srlv_epi64(a, s)
}

/// Lane-wise `a | b`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn or(a: V, b: V) -> V {
    _mm512_or_si512(a, b)
}

/// Lane-wise `a & b`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn and(a: V, b: V) -> V {
    _mm512_and_si512(a, b)
}

/// `acc + (a * b mod 2^52)` lane-wise (inputs' low 52 bits), IFMA.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub(crate) fn madd52lo(acc: V, a: V, b: V) -> V {
    _mm512_madd52lo_epu64(acc, a, b)
}

/// `acc + floor(a * b / 2^52)` lane-wise (inputs' low 52 bits), IFMA.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub(crate) fn madd52hi(acc: V, a: V, b: V) -> V {
    _mm512_madd52hi_epu64(acc, a, b)
}

/// The all-zero vector.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn zero() -> V {
    _mm512_setzero_si512()
}

/// Picks lanes of `a` (index 0..8) and `b` (index 8..16) by `idx`.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn shuffle2(a: V, idx: V, b: V) -> V {
    _mm512_permutex2var_epi64(a, idx, b)
}

/// Permutes the lanes of `a` by `idx` (lane indices 0..8).
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn permute(a: V, idx: V) -> V {
    _mm512_permutexvar_epi64(idx, a)
}

/// A vector from eight lane values (lane 0 first).
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn lanes(x: [u64; 8]) -> V {
    _mm512_set_epi64(
        x[7] as i64,
        x[6] as i64,
        x[5] as i64,
        x[4] as i64,
        x[3] as i64,
        x[2] as i64,
        x[1] as i64,
        x[0] as i64,
    )
}

/// Loads 2 words from `p` into lanes 0 and 1 (the other lanes are unspecified).
///
/// Safety: `p..p+2` must be readable.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) unsafe fn load2(p: *const u64) -> V {
    // SAFETY: the caller guarantees 2 readable words at `p`.
    unsafe { _mm512_castsi128_si512(_mm_loadu_si128(p.cast())) }
}

/// Loads 4 words from `p` into lanes 0..4 (the other lanes are unspecified).
///
/// Safety: `p..p+4` must be readable.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) unsafe fn load4(p: *const u64) -> V {
    // SAFETY: the caller guarantees 4 readable words at `p`.
    unsafe { _mm512_castsi256_si512(_mm256_loadu_si256(p.cast())) }
}

/// Lane-wise unsigned minimum.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub(crate) fn min(a: V, b: V) -> V {
    _mm512_min_epu64(a, b)
}
