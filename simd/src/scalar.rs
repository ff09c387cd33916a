//! The scalar backend: portable, always built, and the reference every SIMD backend
//! is tested against. Harvey's lazy NTT butterflies with Shoup multiplication.
//!
//! Input / output contract for every kernel: values in `[0, q)` unless a kernel says
//! otherwise; outputs fully reduced.

use crate::modulus::{ModulusConsts, ShoupConst};
use crate::table::NttTable;

/// `y * w mod q` in `[0, 2q)` for any `y < 2^64`, `w < q`, `ws = floor(w 2^64 / q)`.
#[inline(always)]
pub fn mul_shoup_lazy(y: u64, w: u64, ws: u64, q: u64) -> u64 {
    let qhat = ((y as u128 * ws as u128) >> 64) as u64;
    y.wrapping_mul(w).wrapping_sub(qhat.wrapping_mul(q))
}

/// Forward negacyclic NTT in place: natural-order input, bit-reversed output.
pub fn ntt_forward(t: &NttTable, a: &mut [u64]) {
    let n = t.n();
    assert_eq!(a.len(), n, "ntt_forward: length must equal the table size");
    let q = t.q();
    let two_q = 2 * q;
    let (w, ws) = (t.fwd(), t.fwd_shoup());
    let mut half = n;
    let mut m = 1;
    while m < n {
        half >>= 1;
        for i in 0..m {
            let (wi, wsi) = (w[m + i], ws[m + i]);
            let (lo, hi) = a[2 * i * half..2 * (i + 1) * half].split_at_mut(half);
            for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                // Values stay in [0, 4q) between stages.
                let mut u = *x;
                if u >= two_q {
                    u -= two_q;
                }
                let v = mul_shoup_lazy(*y, wi, wsi, q);
                *x = u + v;
                *y = u + two_q - v;
            }
        }
        m <<= 1;
    }
    for x in a.iter_mut() {
        let mut u = *x;
        if u >= two_q {
            u -= two_q;
        }
        if u >= q {
            u -= q;
        }
        *x = u;
    }
}

/// Inverse negacyclic NTT in place (including the `n^-1` factor): bit-reversed input,
/// natural-order output.
pub fn ntt_inverse(t: &NttTable, a: &mut [u64]) {
    let n = t.n();
    assert_eq!(a.len(), n, "ntt_inverse: length must equal the table size");
    let q = t.q();
    let two_q = 2 * q;
    let (w, ws) = (t.inv(), t.inv_shoup());
    let mut half = 1;
    let mut m = n;
    while m > 1 {
        let h = m >> 1;
        for i in 0..h {
            let (wi, wsi) = (w[h + i], ws[h + i]);
            let (lo, hi) = a[2 * i * half..2 * (i + 1) * half].split_at_mut(half);
            for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                // Values stay in [0, 2q) between stages.
                let (u, v) = (*x, *y);
                let mut s = u + v;
                if s >= two_q {
                    s -= two_q;
                }
                *x = s;
                *y = mul_shoup_lazy(u + two_q - v, wi, wsi, q);
            }
        }
        half <<= 1;
        m = h;
    }
    let (ni, nis, _) = t.n_inv();
    for x in a.iter_mut() {
        let mut u = mul_shoup_lazy(*x, ni, nis, q);
        if u >= q {
            u -= q;
        }
        *x = u;
    }
}

/// `a[i] = (a[i] + b[i]) mod q`.
pub fn add_assign(a: &mut [u64], b: &[u64], q: u64) {
    for (x, &y) in a.iter_mut().zip(b) {
        let s = *x + y;
        *x = if s >= q { s - q } else { s };
    }
}

/// `a[i] = (a[i] - b[i]) mod q`.
pub fn sub_assign(a: &mut [u64], b: &[u64], q: u64) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x = if *x >= y { *x - y } else { *x + q - y };
    }
}

/// `a[i] = -a[i] mod q`.
pub fn neg_assign(a: &mut [u64], q: u64) {
    for x in a.iter_mut() {
        *x = if *x == 0 { 0 } else { q - *x };
    }
}

/// `a[i] = a[i] * b[i] mod q`.
pub fn mul_assign(a: &mut [u64], b: &[u64], m: &ModulusConsts) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x = m.mul(*x, y);
    }
}

/// `acc[i] = (acc[i] + a[i] * b[i]) mod q`.
pub fn mul_add_assign(acc: &mut [u64], a: &[u64], b: &[u64], m: &ModulusConsts) {
    for ((x, &y), &z) in acc.iter_mut().zip(a).zip(b) {
        let s = *x + m.mul(y, z);
        *x = if s >= m.q { s - m.q } else { s };
    }
}

/// `a[i] = a[i] * c.w mod q` (Shoup multiplication by a fixed constant).
pub fn mul_scalar_assign(a: &mut [u64], c: &ShoupConst, q: u64) {
    for x in a.iter_mut() {
        let r = mul_shoup_lazy(*x, c.w, c.w_shoup, q);
        *x = if r >= q { r - q } else { r };
    }
}

/// `acc[i] = (acc[i] + a[i] * c.w) mod q`; `a[i]` may be any value below `2^64`.
pub fn mul_scalar_add_assign(acc: &mut [u64], a: &[u64], c: &ShoupConst, q: u64) {
    for (x, &y) in acc.iter_mut().zip(a) {
        let mut r = mul_shoup_lazy(y, c.w, c.w_shoup, q);
        if r >= q {
            r -= q;
        }
        let s = *x + r;
        *x = if s >= q { s - q } else { s };
    }
}

/// `a[i] = a[i] mod q` for any `a[i] < 2^64`.
pub fn reduce_assign(a: &mut [u64], m: &ModulusConsts) {
    for x in a.iter_mut() {
        *x = m.reduce_u128(*x as u128);
    }
}

/// Lazy to full: `a[i] in [0, 2q)` becomes `a[i] mod q`.
pub fn reduce_from_2q(a: &mut [u64], q: u64) {
    for x in a.iter_mut() {
        if *x >= q {
            *x -= q;
        }
    }
}

/// `out[i] = a[perm[i]]`: the automorphism of a polynomial in NTT form (see
/// [`crate::automorphism_ntt_perm`]).
pub fn permute(a: &[u64], perm: &[u32], out: &mut [u64]) {
    for (o, &p) in out.iter_mut().zip(perm) {
        *o = a[p as usize];
    }
}

/// Rejection sampling below `q` from a word stream: each pair of words `(w0, w1)` read
/// as `(w0 | w1 << 32) & mask` is kept if it is below `q`; kept values fill `out` in
/// order until it is full. Returns how many were written.
pub fn sample_below(words: &[u32], mask: u64, q: u64, out: &mut [u64]) -> usize {
    let mut filled = 0;
    for w in words.chunks_exact(2) {
        if filled == out.len() {
            break;
        }
        let v = (u64::from(w[0]) | (u64::from(w[1]) << 32)) & mask;
        out[filled] = v;
        filled += usize::from(v < q);
    }
    filled
}

/// `out(X) = a(X^g) mod (X^n + 1, q)` for odd `g`, coefficient form.
pub fn automorphism_coeff(a: &[u64], g: usize, out: &mut [u64], q: u64) {
    let n = a.len();
    let mask = 2 * n - 1;
    for (i, &c) in a.iter().enumerate() {
        let j = (i * g) & mask;
        if j < n {
            out[j] = c;
        } else {
            out[j - n] = if c == 0 { 0 } else { q - c };
        }
    }
}

/// `out[c] = sum_j a[j][c] * b[j][c] mod q` (all inputs below `q`).
pub fn dot_product(out: &mut [u64], a: &[&[u64]], b: &[&[u64]], m: &ModulusConsts) {
    out.fill(0);
    for (x, y) in a.iter().zip(b) {
        mul_add_assign(out, x, y, m);
    }
}

/// `out0 = sum_j a[j] * b0[j]`, `out1 = sum_j a[j] * b1[j]` mod `q` (inputs below `q`).
pub fn dot_product2(
    out0: &mut [u64],
    out1: &mut [u64],
    a: &[&[u64]],
    b0: &[&[u64]],
    b1: &[&[u64]],
    m: &ModulusConsts,
) {
    dot_product(out0, a, b0, m);
    dot_product(out1, a, b1, m);
}

/// `out[c] = sum_j a[j][c] * w[j].w mod q` (`a[j][c]` any value, `w[j].w < q`).
pub fn dot_scalar(out: &mut [u64], a: &[&[u64]], w: &[ShoupConst], q: u64) {
    out.fill(0);
    for (x, c) in a.iter().zip(w) {
        mul_scalar_add_assign(out, x, c, q);
    }
}
