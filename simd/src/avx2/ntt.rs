//! AVX2 negacyclic NTTs with Harvey's lazy butterflies (same table and bounds as
//! [`crate::scalar`]: forward values in `[0, 4q)`, inverse values in `[0, 2q)`).
//!
//! For `q < 2^61` the lazy ranges are doubled (forward `[0, 8q)`, inverse `[0, 4q)`),
//! which saves the conditional subtraction after each twiddle product; the `W`
//! (wide) const parameter selects this.
//!
//! Memory passes are cut by merging stages: two stages per pass (radix 4) while the
//! butterfly distance is at least 8, and the three shortest-distance stages (4, 2, 1)
//! in one pass over 8-word blocks held in two registers and rearranged with
//! shuffles. The forward pass ends with the final reduction to `[0, q)`; the inverse
//! folds `n^-1` into its last stage.
use super::*;

/// The lazy bound `B`: forward values stay in `[0, 2B)`, inverse values in `[0, B)`.
/// `B = 4q` (wide, needs `q < 2^61` so that `8q < 2^64` and [`csub`] by `4q` holds)
/// or `B = 2q`.
#[inline]
#[target_feature(enable = "avx2")]
fn bound<const W: bool>(q: Q) -> V {
    if W { q.four_q } else { q.two_q }
}

/// `y w mod q` in `[0, B)` for any `y`.
#[inline]
#[target_feature(enable = "avx2")]
fn mul_tw<const W: bool>(q: Q, y: V, w: ShoupV) -> V {
    if W {
        q.mul_shoup_4q(y, w)
    } else {
        q.mul_shoup_lazy(y, w)
    }
}

/// Forward (Cooley-Tukey) butterfly on `x, y < 2B`: `(x + w y, x - w y)` in `[0, 2B)`.
#[inline]
#[target_feature(enable = "avx2")]
fn fwd_bfly<const W: bool>(q: Q, x: V, y: V, w: ShoupV) -> (V, V) {
    let b = bound::<W>(q);
    let u = csub(x, b);
    let v = mul_tw::<W>(q, y, w);
    (add(u, v), sub(add(u, b), v))
}

/// Inverse (Gentleman-Sande) butterfly on `x, y < B`: `(x + y, w (x - y))` in `[0, B)`.
#[inline]
#[target_feature(enable = "avx2")]
fn inv_bfly<const W: bool>(q: Q, x: V, y: V, w: ShoupV) -> (V, V) {
    let b = bound::<W>(q);
    let s = csub(add(x, y), b);
    let d = mul_tw::<W>(q, sub(add(x, b), y), w);
    (s, d)
}

#[inline]
#[target_feature(enable = "avx2")]
fn load8(p: &[u64; 8]) -> (V, V) {
    // SAFETY: `p` is 64 readable bytes; `loadu` has no alignment requirement.
    unsafe {
        (
            _mm256_loadu_si256(p.as_ptr().cast()),
            _mm256_loadu_si256(p.as_ptr().add(4).cast()),
        )
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn store8(p: &mut [u64; 8], x: V, y: V) {
    // SAFETY: `p` is 64 writable bytes; `storeu` has no alignment requirement.
    unsafe {
        _mm256_storeu_si256(p.as_mut_ptr().cast(), x);
        _mm256_storeu_si256(p.as_mut_ptr().add(4).cast(), y);
    }
}

/// `[p0, p0, p1, p1]`.
#[inline]
#[target_feature(enable = "avx2")]
fn dup_pairs(p: &[u64; 2]) -> V {
    // SAFETY: `p` is 16 readable bytes; `loadu` has no alignment requirement.
    let x = unsafe { _mm_loadu_si128(p.as_ptr().cast()) };
    _mm256_permute4x64_epi64::<0b01_01_00_00>(_mm256_castsi128_si256(x))
}

/// `[p0, p2, p1, p3]`.
#[inline]
#[target_feature(enable = "avx2")]
fn load_0213(p: &[u64; 4]) -> V {
    _mm256_permute4x64_epi64::<0b11_01_10_00>(load(p))
}

/// `[0, 2B)` to `[0, q)`.
#[inline]
#[target_feature(enable = "avx2")]
fn reduce_fwd<const W: bool>(q: Q, x: V) -> V {
    let x = if W { csub(x, q.four_q) } else { x };
    csub(csub(x, q.two_q), q.q)
}

/// Forward negacyclic NTT (see [`scalar::ntt_forward`]).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn ntt_forward(t: &NttTable, a: &mut [u64]) {
    let n = t.n();
    assert_eq!(a.len(), n, "ntt_forward: length must equal the table size");
    if n < 16 {
        return scalar::ntt_forward(t, a);
    }
    if t.q() < 1 << 61 {
        forward::<true>(t, a)
    } else {
        forward::<false>(t, a)
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn forward<const W: bool>(t: &NttTable, a: &mut [u64]) {
    let q = Q::new(t.q());
    // Stages 0 .. log_n - 3 have butterfly distance >= 8.
    let wide = t.log_n() - 3;
    let mut s = 0;
    if wide % 2 == 1 {
        fwd_radix2::<W>(q, t, a, 0);
        s = 1;
    }
    while s < wide {
        fwd_radix4::<W>(q, t, a, s);
        s += 2;
    }
    fwd_last3::<W>(q, t, a);
}

/// Forward stage `s` (`2^s` blocks) alone.
#[inline]
#[target_feature(enable = "avx2")]
fn fwd_radix2<const W: bool>(q: Q, t: &NttTable, a: &mut [u64], s: u32) {
    let (w, ws) = (t.fwd(), t.fwd_shoup());
    let m = 1 << s;
    let half = t.n() >> (s + 1);
    for (i, blk) in a.chunks_exact_mut(2 * half).enumerate() {
        let c = ShoupV::splat(w[m + i], ws[m + i]);
        let (lo, hi) = blk.split_at_mut(half);
        let (lo, hi) = (lo.as_chunks_mut::<4>().0, hi.as_chunks_mut::<4>().0);
        for (x, y) in lo.iter_mut().zip(hi) {
            let (u, v) = fwd_bfly::<W>(q, load(x), load(y), c);
            store(x, u);
            store(y, v);
        }
    }
}

/// Forward stages `s` and `s + 1` in one pass over radix-4 groups.
#[inline]
#[target_feature(enable = "avx2")]
fn fwd_radix4<const W: bool>(q: Q, t: &NttTable, a: &mut [u64], s: u32) {
    let (w, ws) = (t.fwd(), t.fwd_shoup());
    let m = 1 << s;
    let half = t.n() >> (s + 1);
    for (i, blk) in a.chunks_exact_mut(2 * half).enumerate() {
        let c1 = ShoupV::splat(w[m + i], ws[m + i]);
        let c2a = ShoupV::splat(w[2 * m + 2 * i], ws[2 * m + 2 * i]);
        let c2b = ShoupV::splat(w[2 * m + 2 * i + 1], ws[2 * m + 2 * i + 1]);
        let (lo, hi) = blk.split_at_mut(half);
        let (q0, q1) = lo.split_at_mut(half / 2);
        let (q2, q3) = hi.split_at_mut(half / 2);
        let quarters = q0.as_chunks_mut::<4>().0.iter_mut().zip(
            q1.as_chunks_mut::<4>().0.iter_mut().zip(
                q2.as_chunks_mut::<4>()
                    .0
                    .iter_mut()
                    .zip(q3.as_chunks_mut::<4>().0),
            ),
        );
        for (p0, (p1, (p2, p3))) in quarters {
            let (x0, x2) = fwd_bfly::<W>(q, load(p0), load(p2), c1);
            let (x1, x3) = fwd_bfly::<W>(q, load(p1), load(p3), c1);
            let (x0, x1) = fwd_bfly::<W>(q, x0, x1, c2a);
            let (x2, x3) = fwd_bfly::<W>(q, x2, x3, c2b);
            store(p0, x0);
            store(p1, x1);
            store(p2, x2);
            store(p3, x3);
        }
    }
}

/// The last three forward stages (distances 4, 2, 1) on 8-word blocks in registers,
/// then the reduction to `[0, q)`.
#[inline]
#[target_feature(enable = "avx2")]
fn fwd_last3<const W: bool>(q: Q, t: &NttTable, a: &mut [u64]) {
    let n = t.n();
    let (w, ws) = (t.fwd(), t.fwd_shoup());
    let (w4, ws4) = (&w[n / 8..n / 4], &ws[n / 8..n / 4]);
    let (w2, ws2) = (&w[n / 4..n / 2], &ws[n / 4..n / 2]);
    let (w1, ws1) = (&w[n / 2..], &ws[n / 2..]);
    let blocks = a.as_chunks_mut::<8>().0.iter_mut();
    let twiddles = w4.iter().zip(ws4).zip(
        w2.as_chunks::<2>()
            .0
            .iter()
            .zip(ws2.as_chunks::<2>().0)
            .zip(w1.as_chunks::<4>().0.iter().zip(ws1.as_chunks::<4>().0)),
    );
    for (blk, ((&c4, &cs4), ((c2, cs2), (c1, cs1)))) in blocks.zip(twiddles) {
        // [a0 a1 a2 a3], [a4 a5 a6 a7]: distance 4.
        let (x, y) = load8(blk);
        let (x, y) = fwd_bfly::<W>(q, x, y, ShoupV::splat(c4, cs4));
        // [a0 a1 a4 a5], [a2 a3 a6 a7]: distance 2, twiddles [w0 w0 w1 w1].
        let xx = _mm256_permute2x128_si256::<0x20>(x, y);
        let yy = _mm256_permute2x128_si256::<0x31>(x, y);
        let (xx, yy) = fwd_bfly::<W>(q, xx, yy, ShoupV::new(dup_pairs(c2), dup_pairs(cs2)));
        // [a0 a2 a4 a6], [a1 a3 a5 a7]: distance 1, twiddles in order.
        let p = _mm256_unpacklo_epi64(xx, yy);
        let r = _mm256_unpackhi_epi64(xx, yy);
        let (p, r) = fwd_bfly::<W>(q, p, r, ShoupV::new(load(c1), load(cs1)));
        let (p, r) = (reduce_fwd::<W>(q, p), reduce_fwd::<W>(q, r));
        // Back to [a0 a1 a2 a3], [a4 a5 a6 a7].
        let lo = _mm256_unpacklo_epi64(p, r);
        let hi = _mm256_unpackhi_epi64(p, r);
        store8(
            blk,
            _mm256_permute2x128_si256::<0x20>(lo, hi),
            _mm256_permute2x128_si256::<0x31>(lo, hi),
        );
    }
}

/// Inverse negacyclic NTT including `n^-1` (see [`scalar::ntt_inverse`]).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn ntt_inverse(t: &NttTable, a: &mut [u64]) {
    let n = t.n();
    assert_eq!(a.len(), n, "ntt_inverse: length must equal the table size");
    if n < 16 {
        return scalar::ntt_inverse(t, a);
    }
    if t.q() < 1 << 61 {
        inverse::<true>(t, a)
    } else {
        inverse::<false>(t, a)
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn inverse<const W: bool>(t: &NttTable, a: &mut [u64]) {
    let q = Q::new(t.q());
    inv_first3::<W>(q, t, a);
    // Distances 2^3 .. 2^(log_n - 2) in the middle, 2^(log_n - 1) in the last pass.
    let last = t.log_n() - 1;
    let mut d = 3;
    if (last - d) % 2 == 1 {
        inv_radix2::<W>(q, t, a, d);
        d += 1;
    }
    while d < last {
        inv_radix4::<W>(q, t, a, d);
        d += 2;
    }
    inv_last::<W>(q, t, a);
}

/// The first three inverse stages (distances 1, 2, 4) on 8-word blocks in registers.
#[inline]
#[target_feature(enable = "avx2")]
fn inv_first3<const W: bool>(q: Q, t: &NttTable, a: &mut [u64]) {
    let n = t.n();
    let (w, ws) = (t.inv(), t.inv_shoup());
    let (w4, ws4) = (&w[n / 8..n / 4], &ws[n / 8..n / 4]);
    let (w2, ws2) = (&w[n / 4..n / 2], &ws[n / 4..n / 2]);
    let (w1, ws1) = (&w[n / 2..], &ws[n / 2..]);
    let blocks = a.as_chunks_mut::<8>().0.iter_mut();
    let twiddles = w4.iter().zip(ws4).zip(
        w2.as_chunks::<2>()
            .0
            .iter()
            .zip(ws2.as_chunks::<2>().0)
            .zip(w1.as_chunks::<4>().0.iter().zip(ws1.as_chunks::<4>().0)),
    );
    for (blk, ((&c4, &cs4), ((c2, cs2), (c1, cs1)))) in blocks.zip(twiddles) {
        let (x, y) = load8(blk);
        // [a0 a4 a2 a6], [a1 a5 a3 a7]: distance 1, twiddles [w0 w2 w1 w3].
        let p = _mm256_unpacklo_epi64(x, y);
        let r = _mm256_unpackhi_epi64(x, y);
        let (p, r) = inv_bfly::<W>(q, p, r, ShoupV::new(load_0213(c1), load_0213(cs1)));
        // [a0 a1 a4 a5], [a2 a3 a6 a7]: distance 2, twiddles [w0 w0 w1 w1].
        let lo = _mm256_unpacklo_epi64(p, r);
        let hi = _mm256_unpackhi_epi64(p, r);
        let xx = _mm256_permute2x128_si256::<0x20>(lo, hi);
        let yy = _mm256_permute2x128_si256::<0x31>(lo, hi);
        let (xx, yy) = inv_bfly::<W>(q, xx, yy, ShoupV::new(dup_pairs(c2), dup_pairs(cs2)));
        // [a0 a1 a2 a3], [a4 a5 a6 a7]: distance 4.
        let x = _mm256_permute2x128_si256::<0x20>(xx, yy);
        let y = _mm256_permute2x128_si256::<0x31>(xx, yy);
        let (x, y) = inv_bfly::<W>(q, x, y, ShoupV::splat(c4, cs4));
        store8(blk, x, y);
    }
}

/// The inverse stage of distance `2^d` alone.
#[inline]
#[target_feature(enable = "avx2")]
fn inv_radix2<const W: bool>(q: Q, t: &NttTable, a: &mut [u64], d: u32) {
    let (w, ws) = (t.inv(), t.inv_shoup());
    let half = 1 << d;
    let h = t.n() >> (d + 1);
    for (i, blk) in a.chunks_exact_mut(2 * half).enumerate() {
        let c = ShoupV::splat(w[h + i], ws[h + i]);
        let (lo, hi) = blk.split_at_mut(half);
        let (lo, hi) = (lo.as_chunks_mut::<4>().0, hi.as_chunks_mut::<4>().0);
        for (x, y) in lo.iter_mut().zip(hi) {
            let (u, v) = inv_bfly::<W>(q, load(x), load(y), c);
            store(x, u);
            store(y, v);
        }
    }
}

/// The inverse stages of distances `2^d` and `2^(d+1)` in one pass.
#[inline]
#[target_feature(enable = "avx2")]
fn inv_radix4<const W: bool>(q: Q, t: &NttTable, a: &mut [u64], d: u32) {
    let (w, ws) = (t.inv(), t.inv_shoup());
    let half = 1 << d;
    let h1 = t.n() >> (d + 1);
    let h2 = h1 / 2;
    for (i, blk) in a.chunks_exact_mut(4 * half).enumerate() {
        let ca = ShoupV::splat(w[h1 + 2 * i], ws[h1 + 2 * i]);
        let cb = ShoupV::splat(w[h1 + 2 * i + 1], ws[h1 + 2 * i + 1]);
        let c2 = ShoupV::splat(w[h2 + i], ws[h2 + i]);
        let (lo, hi) = blk.split_at_mut(2 * half);
        let (q0, q1) = lo.split_at_mut(half);
        let (q2, q3) = hi.split_at_mut(half);
        let quarters = q0.as_chunks_mut::<4>().0.iter_mut().zip(
            q1.as_chunks_mut::<4>().0.iter_mut().zip(
                q2.as_chunks_mut::<4>()
                    .0
                    .iter_mut()
                    .zip(q3.as_chunks_mut::<4>().0),
            ),
        );
        for (p0, (p1, (p2, p3))) in quarters {
            let (x0, x1) = inv_bfly::<W>(q, load(p0), load(p1), ca);
            let (x2, x3) = inv_bfly::<W>(q, load(p2), load(p3), cb);
            let (x0, x2) = inv_bfly::<W>(q, x0, x2, c2);
            let (x1, x3) = inv_bfly::<W>(q, x1, x3, c2);
            store(p0, x0);
            store(p1, x1);
            store(p2, x2);
            store(p3, x3);
        }
    }
}

/// The last inverse stage (distance `n/2`, twiddle `w[1]`) with `n^-1` folded in:
/// `(x + y) n^-1` and `(x - y) w[1] n^-1`, reduced to `[0, q)`.
#[inline]
#[target_feature(enable = "avx2")]
fn inv_last<const W: bool>(q: Q, t: &NttTable, a: &mut [u64]) {
    let qs = t.q();
    let (ni, nis, _) = t.n_inv();
    let w1ni = (t.inv()[1] as u128 * ni as u128 % qs as u128) as u64;
    let cs = ShoupV::splat(ni, nis);
    let cd = ShoupV::splat(w1ni, crate::modulus::shoup64(w1ni, qs));
    let (lo, hi) = a.split_at_mut(t.n() / 2);
    let (lo, hi) = (lo.as_chunks_mut::<4>().0, hi.as_chunks_mut::<4>().0);
    for (px, py) in lo.iter_mut().zip(hi) {
        let (x, y) = (load(px), load(py));
        // x + y < 2B and x + B - y < 2B: any input below 2^64 suits Shoup.
        let s = q.mul_shoup_lazy(add(x, y), cs);
        let d = q.mul_shoup_lazy(sub(add(x, bound::<W>(q)), y), cd);
        store(px, csub(s, q.q));
        store(py, csub(d, q.q));
    }
}
