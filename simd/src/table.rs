//! Precomputed NTT tables: one flat `[u64]` buffer per (N, q), laid out for every backend.
//!
//! The buffer is owned by the caller (`hetal-core` allocates it; this crate does not
//! allocate) and filled by [`fill_table`]. [`NttTable`] is a cheap view over it.
//!
//! Layout, each region `n` words long (`n = 2^log_n`), in this order:
//!
//! | region | contents |
//! |---|---|
//! | `FWD` | `psi^bitrev(i)`, the forward (Cooley-Tukey) twiddles: stage with `m` blocks uses `[m, 2m)` |
//! | `FWD_SHOUP` | `floor(w * 2^64 / q)` for each forward twiddle `w` |
//! | `FWD_SHOUP52` | `floor(w * 2^52 / q)` (IFMA path; zero when `q >= 2^50`) |
//! | `INV` | `psi^-bitrev(i)`, the inverse (Gentleman-Sande) twiddles, same indexing |
//! | `INV_SHOUP` | 64-bit Shoup constants of `INV` |
//! | `INV_SHOUP52` | 52-bit Shoup constants of `INV` (zero when `q >= 2^50`) |
//!
//! followed by [`SCALARS`] words: `n^-1 mod q`, its 64-bit and 52-bit Shoup constants.
//!
//! `psi` is a primitive `2n`-th root of unity mod `q`; `bitrev` reverses `log_n` bits.

use crate::modulus::{shoup52, shoup64};

/// Number of `n`-word regions in a table.
pub const REGIONS: usize = 6;
/// Number of trailing scalar words in a table.
pub const SCALARS: usize = 3;

const FWD: usize = 0;
const FWD_SHOUP: usize = 1;
const FWD_SHOUP52: usize = 2;
const INV: usize = 3;
const INV_SHOUP: usize = 4;
const INV_SHOUP52: usize = 5;

/// Smallest supported transform size, `log2`.
pub const MIN_LOG_N: u32 = 1;
/// Largest supported transform size, `log2`.
pub const MAX_LOG_N: u32 = 17;

/// Errors from building an NTT table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// `n` is not a power of two in `2^MIN_LOG_N ..= 2^MAX_LOG_N`.
    BadSize,
    /// `q` is even, below 3, or not below `2^62`.
    BadModulus,
    /// The buffer length is not [`table_len`]`(n)`.
    BadBuffer,
    /// `psi` is not a primitive `2n`-th root of unity modulo `q`.
    BadRoot,
}

/// Length in words of the table buffer for a transform of size `n`.
pub const fn table_len(n: usize) -> usize {
    REGIONS * n + SCALARS
}

fn mul_mod(a: u64, b: u64, q: u64) -> u64 {
    ((a as u128 * b as u128) % q as u128) as u64
}

fn pow_mod(mut b: u64, mut e: u64, q: u64) -> u64 {
    let mut r = 1u64;
    b %= q;
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, b, q);
        }
        b = mul_mod(b, b, q);
        e >>= 1;
    }
    r
}

/// Reverses the low `bits` bits of `x`.
#[inline]
pub const fn bitrev(x: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        x.reverse_bits() >> (usize::BITS - bits)
    }
}

/// Fills `buf` with the table for the negacyclic NTT of size `n` modulo `q` with root `psi`.
///
/// Checks every precondition: a table that passes is one every backend can use.
pub fn fill_table(q: u64, psi: u64, n: usize, buf: &mut [u64]) -> Result<(), TableError> {
    if !n.is_power_of_two() {
        return Err(TableError::BadSize);
    }
    let log_n = n.trailing_zeros();
    if !(MIN_LOG_N..=MAX_LOG_N).contains(&log_n) {
        return Err(TableError::BadSize);
    }
    if q < 3 || q.is_multiple_of(2) || q >= 1 << 62 {
        return Err(TableError::BadModulus);
    }
    if buf.len() != table_len(n) {
        return Err(TableError::BadBuffer);
    }
    // psi^n = -1 makes psi a primitive 2n-th root (its order divides 2n but not n).
    if psi == 0 || psi >= q || pow_mod(psi, n as u64, q) != q - 1 {
        return Err(TableError::BadRoot);
    }
    let psi_inv = pow_mod(psi, q - 2, q);
    let ifma = q < 1 << 50;
    let (regions, scalars) = buf.split_at_mut(REGIONS * n);
    let mut pf = 1u64;
    let mut pi = 1u64;
    for i in 0..n {
        let j = bitrev(i, log_n);
        regions[FWD * n + j] = pf;
        regions[INV * n + j] = pi;
        pf = mul_mod(pf, psi, q);
        pi = mul_mod(pi, psi_inv, q);
    }
    for i in 0..n {
        let (f, v) = (regions[FWD * n + i], regions[INV * n + i]);
        regions[FWD_SHOUP * n + i] = shoup64(f, q);
        regions[INV_SHOUP * n + i] = shoup64(v, q);
        regions[FWD_SHOUP52 * n + i] = if ifma { shoup52(f, q) } else { 0 };
        regions[INV_SHOUP52 * n + i] = if ifma { shoup52(v, q) } else { 0 };
    }
    let n_inv = pow_mod(n as u64 % q, q - 2, q);
    scalars[0] = n_inv;
    scalars[1] = shoup64(n_inv, q);
    scalars[2] = if ifma { shoup52(n_inv, q) } else { 0 };
    Ok(())
}

/// A read-only view of a filled NTT table.
#[derive(Clone, Copy, Debug)]
pub struct NttTable<'a> {
    q: u64,
    log_n: u32,
    words: &'a [u64],
}

impl<'a> NttTable<'a> {
    /// Wraps a buffer filled by [`fill_table`] for this `q` and `n`.
    ///
    /// Only the length is checked here; the contents are trusted to come from
    /// [`fill_table`] (they are never untrusted input).
    pub fn new(q: u64, n: usize, words: &'a [u64]) -> Result<Self, TableError> {
        if !n.is_power_of_two() || !(MIN_LOG_N..=MAX_LOG_N).contains(&n.trailing_zeros()) {
            return Err(TableError::BadSize);
        }
        if q < 3 || q.is_multiple_of(2) || q >= 1 << 62 {
            return Err(TableError::BadModulus);
        }
        if words.len() != table_len(n) {
            return Err(TableError::BadBuffer);
        }
        Ok(Self {
            q,
            log_n: n.trailing_zeros(),
            words,
        })
    }

    /// The modulus.
    #[inline]
    pub fn q(&self) -> u64 {
        self.q
    }
    /// Transform size.
    #[inline]
    pub fn n(&self) -> usize {
        1 << self.log_n
    }
    /// `log2` of the transform size.
    #[inline]
    pub fn log_n(&self) -> u32 {
        self.log_n
    }
    /// Whether the 52-bit (IFMA) constants are present, i.e. `q < 2^50`.
    #[inline]
    pub fn has_shoup52(&self) -> bool {
        self.q < 1 << 50
    }
    #[inline]
    fn region(&self, r: usize) -> &'a [u64] {
        let n = self.n();
        &self.words[r * n..(r + 1) * n]
    }
    /// Forward twiddles `psi^bitrev(i)`.
    #[inline]
    pub fn fwd(&self) -> &'a [u64] {
        self.region(FWD)
    }
    /// 64-bit Shoup constants of [`Self::fwd`].
    #[inline]
    pub fn fwd_shoup(&self) -> &'a [u64] {
        self.region(FWD_SHOUP)
    }
    /// 52-bit Shoup constants of [`Self::fwd`] (zeros unless `q < 2^50`).
    #[inline]
    pub fn fwd_shoup52(&self) -> &'a [u64] {
        self.region(FWD_SHOUP52)
    }
    /// Inverse twiddles `psi^-bitrev(i)`.
    #[inline]
    pub fn inv(&self) -> &'a [u64] {
        self.region(INV)
    }
    /// 64-bit Shoup constants of [`Self::inv`].
    #[inline]
    pub fn inv_shoup(&self) -> &'a [u64] {
        self.region(INV_SHOUP)
    }
    /// 52-bit Shoup constants of [`Self::inv`] (zeros unless `q < 2^50`).
    #[inline]
    pub fn inv_shoup52(&self) -> &'a [u64] {
        self.region(INV_SHOUP52)
    }
    /// `(n^-1 mod q, 64-bit Shoup, 52-bit Shoup)`.
    #[inline]
    pub fn n_inv(&self) -> (u64, u64, u64) {
        let s = &self.words[REGIONS * self.n()..];
        (s[0], s[1], s[2])
    }
}
