//! AVX2 backend: four 64-bit lanes per vector.
//!
//! Every kernel has the signature and the exact results of its [`crate::scalar`]
//! namesake; lengths that are not a multiple of 4 finish with the scalar code, and NTTs
//! below 16 points use it entirely.
//!
//! AVX2 has no 64x64-bit multiply, so products are built from four (high half) or
//! three (low half) 32x32 -> 64-bit `vpmuludq` partial products. It has no unsigned
//! 64-bit compare either; conditional subtraction uses the sign bit of `x - c`
//! instead (see `csub`), which is exact because every value stays below `2^63 + c`.
//!
//! Each public function is a `#[target_feature(enable = "avx2")]` function: calling it
//! is only sound on a CPU with AVX2 ([`crate::Kernels`] checks the CPU).

mod ntt;

use crate::modulus::{ModulusConsts, ShoupConst};
use crate::scalar;
use crate::table::NttTable;
use core::arch::x86_64::*;

pub use self::ntt::{ntt_forward, ntt_inverse};

type V = __m256i;

/// The high 32 bits of a 64-bit lane.
const HI_MASK: u64 = 0xffff_ffff_0000_0000;

// ---------------------------------------------------------------------------------
// Lane arithmetic
// ---------------------------------------------------------------------------------

#[inline]
#[target_feature(enable = "avx2")]
fn splat(x: u64) -> V {
    _mm256_set1_epi64x(x as i64)
}

#[inline]
#[target_feature(enable = "avx2")]
fn load(p: &[u64; 4]) -> V {
    // SAFETY: `p` is 32 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_si256(p.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn store(p: &mut [u64; 4], v: V) {
    // SAFETY: `p` is 32 writable bytes; `storeu` has no alignment requirement.
    unsafe { _mm256_storeu_si256(p.as_mut_ptr().cast(), v) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn add(a: V, b: V) -> V {
    _mm256_add_epi64(a, b)
}

#[inline]
#[target_feature(enable = "avx2")]
fn sub(a: V, b: V) -> V {
    _mm256_sub_epi64(a, b)
}

/// The high 32 bits of each lane moved to the low 32 (what `vpmuludq` reads); the
/// upper half of each lane is garbage, which `vpmuludq` ignores.
#[inline]
#[target_feature(enable = "avx2")]
fn hi32(a: V) -> V {
    _mm256_shuffle_epi32::<0b10_11_00_01>(a)
}

/// `x < 2c ? (x >= c ? x - c : x)` for `c <= 2^63` and `x < c + 2^63`: when `x < c`,
/// `x - c` wraps to at least `2^64 - c >= 2^63` (sign set), otherwise `x - c < 2^63`.
#[inline]
#[target_feature(enable = "avx2")]
fn csub(x: V, c: V) -> V {
    let t = sub(x, c);
    _mm256_castpd_si256(_mm256_blendv_pd(
        _mm256_castsi256_pd(t),
        _mm256_castsi256_pd(x),
        _mm256_castsi256_pd(t),
    ))
}

/// `(hi, lo)` of the 128-bit lane products `a b`; `ah`, `bh` as from [`hi32`].
#[inline]
#[target_feature(enable = "avx2")]
fn mul_wide(a: V, ah: V, b: V, bh: V) -> (V, V) {
    let m32 = splat(0xffff_ffff);
    let ll = _mm256_mul_epu32(a, b);
    let lh = _mm256_mul_epu32(a, bh);
    let hl = _mm256_mul_epu32(ah, b);
    let hh = _mm256_mul_epu32(ah, bh);
    // No lane overflows: (2^32-1)^2 + 2 (2^32-1) < 2^64.
    let t = add(lh, _mm256_srli_epi64::<32>(ll));
    let mid = add(_mm256_and_si256(t, m32), hl);
    let hi = add(
        hh,
        add(_mm256_srli_epi64::<32>(t), _mm256_srli_epi64::<32>(mid)),
    );
    let lo = _mm256_blend_epi32::<0b1010_1010>(ll, _mm256_slli_epi64::<32>(mid));
    (hi, lo)
}

/// High 64 bits of the lane products `a b`.
#[inline]
#[target_feature(enable = "avx2")]
fn mul_hi(a: V, ah: V, b: V, bh: V) -> V {
    let ll = _mm256_mul_epu32(a, b);
    let lh = _mm256_mul_epu32(a, bh);
    let hl = _mm256_mul_epu32(ah, b);
    let hh = _mm256_mul_epu32(ah, bh);
    let t = add(lh, _mm256_srli_epi64::<32>(ll));
    let mid = add(_mm256_and_si256(t, splat(0xffff_ffff)), hl);
    add(
        hh,
        add(_mm256_srli_epi64::<32>(t), _mm256_srli_epi64::<32>(mid)),
    )
}

/// Low 64 bits of the lane products `a b`.
#[inline]
#[target_feature(enable = "avx2")]
fn mul_lo(a: V, ah: V, b: V, bh: V) -> V {
    let cross = add(_mm256_mul_epu32(a, bh), _mm256_mul_epu32(ah, b));
    add(_mm256_mul_epu32(a, b), _mm256_slli_epi64::<32>(cross))
}

/// A fixed multiplier `w < q` in every lane with its Shoup constant, both also split
/// for `vpmuludq`.
#[derive(Clone, Copy)]
struct ShoupV {
    w: V,
    wh: V,
    ws: V,
    wsh: V,
}

impl ShoupV {
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(w: V, ws: V) -> Self {
        Self {
            w,
            wh: hi32(w),
            ws,
            wsh: hi32(ws),
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn splat(w: u64, ws: u64) -> Self {
        Self::new(splat(w), splat(ws))
    }
}

/// The modulus in every lane, split for `vpmuludq`, and doubled.
#[derive(Clone, Copy)]
struct Q {
    q: V,
    qh: V,
    two_q: V,
    four_q: V,
}

impl Q {
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(q: u64) -> Self {
        Self {
            q: splat(q),
            qh: hi32(splat(q)),
            two_q: splat(2 * q),
            four_q: splat(4 * q),
        }
    }

    /// `y w mod q` in `[0, 4q)` for any `y` (Shoup, `ws = floor(w 2^64 / q)`).
    ///
    /// The quotient estimate is `floor(y ws / 2^64)` without the carries out of the
    /// low 64 bits of `y ws` (three partial products instead of four): at most 2 below
    /// the exact one, which is itself at most one below `floor(y w / q)`. So
    /// `r = y w - qhat q` is in `[0, 4q)`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul_shoup_4q(self, y: V, c: ShoupV) -> V {
        let yh = hi32(y);
        let lh = _mm256_mul_epu32(y, c.wsh);
        let hl = _mm256_mul_epu32(yh, c.ws);
        let hh = _mm256_mul_epu32(yh, c.wsh);
        let qhat = add(
            hh,
            add(_mm256_srli_epi64::<32>(lh), _mm256_srli_epi64::<32>(hl)),
        );
        // The low 64 bits of y w - qhat q (exact, as it is below 4q < 2^64).
        let ll = sub(_mm256_mul_epu32(y, c.w), _mm256_mul_epu32(qhat, self.q));
        // Cross terms, only needed mod 2^32: `vpmulld` on the half-swapped `w` and `q`
        // gives (yl wh - ql qh, yh wl - qh ql) in the two halves of each lane.
        let p = _mm256_sub_epi32(
            _mm256_mullo_epi32(y, c.wh),
            _mm256_mullo_epi32(qhat, self.qh),
        );
        let cross = _mm256_and_si256(add(p, _mm256_slli_epi64::<32>(p)), splat(HI_MASK));
        add(ll, cross)
    }

    /// `y w mod q` in `[0, 2q)` for any `y`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul_shoup_lazy(self, y: V, c: ShoupV) -> V {
        csub(self.mul_shoup_4q(y, c), self.two_q)
    }
}

/// Barrett reduction of 128-bit products below `q^2` (`q < 2^62` of bit length `k`):
/// `x1 = floor(x / 2^(k-1)) < 2^(k+1)`, `mu = floor(2^(2k) / q) < 2^(k+1)`, and
/// `qhat = floor(x1 mu / 2^(k+1))` is at most 2 below `floor(x / q)`, so
/// `x - qhat q < 3q < 2^64` and two conditional subtractions finish.
#[derive(Clone, Copy)]
struct Barrett {
    q: Q,
    mu: V,
    muh: V,
    right_k_minus_1: __m128i,
    left_65_minus_k: __m128i,
    right_k_plus_1: __m128i,
    left_63_minus_k: __m128i,
}

impl Barrett {
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(m: &ModulusConsts) -> Self {
        let k = m.bits as u64;
        // floor(2^(2k) / q) = floor(floor(2^128 / q) / 2^(128 - 2k)); 2k <= 124.
        let r = ((m.barrett_hi as u128) << 64) | m.barrett_lo as u128;
        let mu = (r >> (128 - 2 * k)) as u64;
        Self {
            q: Q::new(m.q),
            mu: splat(mu),
            muh: splat(mu >> 32),
            right_k_minus_1: _mm_set1_epi64x(k as i64 - 1),
            left_65_minus_k: _mm_set1_epi64x(65 - k as i64),
            right_k_plus_1: _mm_set1_epi64x(k as i64 + 1),
            left_63_minus_k: _mm_set1_epi64x(63 - k as i64),
        }
    }

    /// `a b mod q` for `a, b < q`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul(self, a: V, b: V) -> V {
        let (hi, lo) = mul_wide(a, hi32(a), b, hi32(b));
        let x1 = _mm256_or_si256(
            _mm256_srl_epi64(lo, self.right_k_minus_1),
            _mm256_sll_epi64(hi, self.left_65_minus_k),
        );
        let (ph, pl) = mul_wide(x1, hi32(x1), self.mu, self.muh);
        let qhat = _mm256_or_si256(
            _mm256_srl_epi64(pl, self.right_k_plus_1),
            _mm256_sll_epi64(ph, self.left_63_minus_k),
        );
        let r = sub(lo, mul_lo(qhat, hi32(qhat), self.q.q, self.q.qh));
        csub(csub(r, self.q.q), self.q.q)
    }
}

// ---------------------------------------------------------------------------------
// Element-wise kernels
// ---------------------------------------------------------------------------------

/// `a[i] = (a[i] + b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn add_assign(a: &mut [u64], b: &[u64], q: u64) {
    let qv = splat(q);
    let (av, a_rest) = a.as_chunks_mut::<4>();
    let (bv, b_rest) = b.as_chunks::<4>();
    for (x, y) in av.iter_mut().zip(bv) {
        store(x, csub(add(load(x), load(y)), qv));
    }
    scalar::add_assign(a_rest, b_rest, q);
}

/// `a[i] = (a[i] - b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn sub_assign(a: &mut [u64], b: &[u64], q: u64) {
    let qv = splat(q);
    let (av, a_rest) = a.as_chunks_mut::<4>();
    let (bv, b_rest) = b.as_chunks::<4>();
    for (x, y) in av.iter_mut().zip(bv) {
        // a - b + q in [1, 2q) then reduced; a - b + q < 2^63 + q.
        store(x, csub(add(sub(load(x), load(y)), qv), qv));
    }
    scalar::sub_assign(a_rest, b_rest, q);
}

/// `a[i] = -a[i] mod q`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn neg_assign(a: &mut [u64], q: u64) {
    let qv = splat(q);
    let zero = _mm256_setzero_si256();
    let (av, rest) = a.as_chunks_mut::<4>();
    for x in av.iter_mut() {
        let v = load(x);
        let is_zero = _mm256_cmpeq_epi64(v, zero);
        store(x, _mm256_andnot_si256(is_zero, sub(qv, v)));
    }
    scalar::neg_assign(rest, q);
}

/// `a[i] = a[i] * b[i] mod q`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn mul_assign(a: &mut [u64], b: &[u64], m: &ModulusConsts) {
    let br = Barrett::new(m);
    let (av, a_rest) = a.as_chunks_mut::<4>();
    let (bv, b_rest) = b.as_chunks::<4>();
    for (x, y) in av.iter_mut().zip(bv) {
        store(x, br.mul(load(x), load(y)));
    }
    scalar::mul_assign(a_rest, b_rest, m);
}

/// `acc[i] = (acc[i] + a[i] * b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn mul_add_assign(acc: &mut [u64], a: &[u64], b: &[u64], m: &ModulusConsts) {
    let br = Barrett::new(m);
    let (cv, c_rest) = acc.as_chunks_mut::<4>();
    let (av, a_rest) = a.as_chunks::<4>();
    let (bv, b_rest) = b.as_chunks::<4>();
    for ((s, x), y) in cv.iter_mut().zip(av).zip(bv) {
        store(s, csub(add(load(s), br.mul(load(x), load(y))), br.q.q));
    }
    scalar::mul_add_assign(c_rest, a_rest, b_rest, m);
}

/// `a[i] = a[i] * c.w mod q` (inputs any `u64`).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn mul_scalar_assign(a: &mut [u64], c: &ShoupConst, q: u64) {
    let (qs, cv) = (Q::new(q), ShoupV::splat(c.w, c.w_shoup));
    let (av, rest) = a.as_chunks_mut::<4>();
    for x in av.iter_mut() {
        store(x, csub(qs.mul_shoup_lazy(load(x), cv), qs.q));
    }
    scalar::mul_scalar_assign(rest, c, q);
}

/// `acc[i] = (acc[i] + a[i] * c.w) mod q` (`a[i]` any `u64`, `acc[i] < q`).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn mul_scalar_add_assign(acc: &mut [u64], a: &[u64], c: &ShoupConst, q: u64) {
    let (qs, cv) = (Q::new(q), ShoupV::splat(c.w, c.w_shoup));
    let (sv, s_rest) = acc.as_chunks_mut::<4>();
    let (av, a_rest) = a.as_chunks::<4>();
    for (s, x) in sv.iter_mut().zip(av) {
        let p = csub(qs.mul_shoup_lazy(load(x), cv), qs.q);
        store(s, csub(add(load(s), p), qs.q));
    }
    scalar::mul_scalar_add_assign(s_rest, a_rest, c, q);
}

/// `a[i] = a[i] mod q` for any `a[i]`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn reduce_assign(a: &mut [u64], m: &ModulusConsts) {
    // qhat = floor(x floor(2^64 / q) / 2^64) is at most one below floor(x / q), so
    // x - qhat q < 2q.
    let qs = Q::new(m.q);
    let r = splat(m.barrett_hi);
    let rh = hi32(r);
    let (av, rest) = a.as_chunks_mut::<4>();
    for x in av.iter_mut() {
        let v = load(x);
        let qhat = mul_hi(v, hi32(v), r, rh);
        let t = sub(v, mul_lo(qhat, hi32(qhat), qs.q, qs.qh));
        store(x, csub(t, qs.q));
    }
    scalar::reduce_assign(rest, m);
}

/// `a[i] in [0, 2q)` becomes `a[i] mod q`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn reduce_from_2q(a: &mut [u64], q: u64) {
    let qv = splat(q);
    let (av, rest) = a.as_chunks_mut::<4>();
    for x in av.iter_mut() {
        store(x, csub(load(x), qv));
    }
    scalar::reduce_from_2q(rest, q);
}

/// `out[i] = a[perm[i]]`: the scalar loop. A `vpgatherqq` version (with its index
/// check) measured slower than this loop on Zen 5 (43.7 vs 37.1 us at n = 2^16), so
/// the AVX2 backend does not use one.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn permute(a: &[u64], perm: &[u32], out: &mut [u64]) {
    scalar::permute(a, perm, out)
}

/// [`scalar::sample_below`].
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn sample_below(words: &[u32], mask: u64, q: u64, out: &mut [u64]) -> usize {
    scalar::sample_below(words, mask, q, out)
}

/// `out(X) = a(X^g) mod (X^n + 1, q)` for odd `g < 2n`, coefficient form.
///
/// Computed output-first: `out[j] = ±a[e mod n]` with `e = j g^-1 mod 2n`, the sign
/// negative when `e >= n` (as `(e - n) g = j + n mod 2n` for odd `g`), which turns the
/// scalar scatter into a gather.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn automorphism_coeff(a: &[u64], g: usize, out: &mut [u64], q: u64) {
    let n = a.len();
    if !n.is_power_of_two() || !(4..=1 << 30).contains(&n) || g.is_multiple_of(2) || g >= 2 * n {
        return scalar::automorphism_coeff(a, g, out, q);
    }
    let mask = 2 * n as u32 - 1;
    // Inverse of an odd g modulo 2^32 by Newton iteration (each step doubles the bits).
    let mut g_inv = g as u32;
    for _ in 0..5 {
        g_inv = g_inv.wrapping_mul(2u32.wrapping_sub((g as u32).wrapping_mul(g_inv)));
    }
    let ginv = g_inv as i32;
    let mut e = _mm_and_si128(
        _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32(ginv)),
        _mm_set1_epi32(mask as i32),
    );
    let step = _mm_set1_epi32(ginv.wrapping_mul(4));
    let (low, high) = (_mm_set1_epi32(n as i32 - 1), _mm_set1_epi32(n as i32));
    let (qv, zero) = (splat(q), _mm256_setzero_si256());
    for o in out.as_chunks_mut::<4>().0.iter_mut() {
        let idx = _mm_and_si128(e, low);
        // SAFETY: every index is masked below `n = a.len()`, and `n <= 2^30` fits i32.
        let v = unsafe { _mm256_i32gather_epi64::<8>(a.as_ptr().cast(), idx) };
        // All-ones where e < n, i.e. where the value keeps its sign.
        let keep = _mm256_cmpeq_epi64(_mm256_cvtepu32_epi64(_mm_and_si128(e, high)), zero);
        let neg = _mm256_andnot_si256(_mm256_cmpeq_epi64(v, zero), sub(qv, v));
        store(o, _mm256_blendv_epi8(neg, v, keep));
        e = _mm_and_si128(_mm_add_epi32(e, step), _mm_set1_epi32(mask as i32));
    }
}
