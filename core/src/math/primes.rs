//! Primality, NTT-friendly prime generation and primitive roots of unity.

use super::{MathError, Modulus};
use alloc::vec::Vec;

const fn mul_mod(a: u64, b: u64, n: u64) -> u64 {
    ((a as u128 * b as u128) % n as u128) as u64
}

const fn pow_mod(mut b: u64, mut e: u64, n: u64) -> u64 {
    let mut r = 1 % n;
    b %= n;
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, b, n);
        }
        b = mul_mod(b, b, n);
        e >>= 1;
    }
    r
}

/// Deterministic primality test for every `u64`.
///
/// Miller-Rabin with the first twelve prime bases, which has no strong pseudoprime
/// below `3.3 * 10^24` (Sorenson and Webster, 2015), so the answer is exact.
///
/// ```
/// use hetal_core::math::primes::is_prime;
/// assert!(is_prime(65537) && !is_prime(3215031751) && is_prime((1 << 61) - 1));
/// ```
pub const fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    let mut i = 0;
    while i < BASES.len() {
        if n.is_multiple_of(BASES[i]) {
            return n == BASES[i];
        }
        i += 1;
    }
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    let mut i = 0;
    'bases: while i < BASES.len() {
        let a = BASES[i];
        i += 1;
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        let mut r = 1;
        while r < s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'bases;
            }
            r += 1;
        }
        return false;
    }
    true
}

fn check_degree(n: usize) -> Result<u32, MathError> {
    let log_n = n.trailing_zeros();
    if !n.is_power_of_two() || !(hetal_simd::MIN_LOG_N..=hetal_simd::MAX_LOG_N).contains(&log_n) {
        return Err(MathError::BadRingDegree);
    }
    Ok(log_n)
}

/// `count` distinct primes `q = 1 (mod 2n)` of exactly `bits` bits
/// (`2^(bits-1) < q < 2^bits`), largest first, skipping every prime in `exclude`.
///
/// Deterministic: the same arguments always give the same list. Pass the primes already
/// chosen for another chain (e.g. the Q chain when choosing P) in `exclude` so that the
/// chains never share a prime.
///
/// ```
/// use hetal_core::math::primes::ntt_primes;
/// let q = ntt_primes(50, 1 << 16, 3, &[]).unwrap();
/// let p = ntt_primes(50, 1 << 16, 2, &q).unwrap();
/// assert!(q.iter().chain(&p).all(|&x| x % (1 << 17) == 1 && x >> 49 == 1));
/// assert!(p.iter().all(|x| !q.contains(x)) && q[0] > q[1]);
/// ```
pub fn ntt_primes(
    bits: u32,
    n: usize,
    count: usize,
    exclude: &[u64],
) -> Result<Vec<u64>, MathError> {
    let log_n = check_degree(n)?;
    // Need at least one candidate k * 2n + 1 with bit length `bits`, and q < 2^62.
    if bits > 62 || bits < log_n + 3 {
        return Err(MathError::BadBitSize);
    }
    let step = 2 * n as u64;
    let low = 1u64 << (bits - 1);
    // Largest q = 1 mod 2n below 2^bits.
    let mut q = ((1u64 << bits) - 2) / step * step + 1;
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        if q <= low {
            return Err(MathError::NotEnoughPrimes);
        }
        if is_prime(q) && !exclude.contains(&q) {
            out.push(q);
        }
        q -= step;
    }
    Ok(out)
}

/// The smallest primitive `2n`-th root of unity modulo the prime `q` (so `psi^n = -1`).
///
/// Deterministic: the first `g = 2, 3, ...` whose power `g^((q-1)/2n)` is primitive gives
/// one root `r`; every primitive root is `r^k` for odd `k < 2n`, and the smallest of these
/// is returned, so the result depends only on `(q, n)`.
///
/// ```
/// use hetal_core::math::{Modulus, primes::primitive_root_2n};
/// let q = Modulus::new(12289).unwrap();
/// let psi = primitive_root_2n(&q, 1024).unwrap();
/// assert_eq!(q.pow(psi, 1024), 12288);
/// ```
pub fn primitive_root_2n(q: &Modulus, n: usize) -> Result<u64, MathError> {
    check_degree(n)?;
    let qv = q.value();
    let two_n = 2 * n as u64;
    if !(qv - 1).is_multiple_of(two_n) {
        return Err(MathError::NoRoot);
    }
    let cofactor = (qv - 1) / two_n;
    // Half of all g give a primitive root (those that are not squares in the 2-part),
    // so this loop ends after a few steps.
    let root = (2..qv)
        .map(|g| q.pow(g, cofactor))
        .find(|&r| q.pow(r, n as u64) == qv - 1)
        .ok_or(MathError::NoRoot)?;
    let r2 = q.mul(root, root);
    let mut best = root;
    let mut cur = root;
    for _ in 1..n {
        cur = q.mul(cur, r2);
        best = best.min(cur);
    }
    Ok(best)
}
