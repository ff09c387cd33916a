//! A small unsigned big integer, only what exact CRT needs.

use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Ordering;

/// An unsigned integer of any size: little-endian `u64` limbs, no trailing zero limbs
/// (zero has no limbs).
///
/// ```
/// use hetal_core::math::BigUint;
/// let mut x = BigUint::from_u64(u64::MAX);
/// x.mul_u64(u64::MAX);
/// x.add_u64(7);
/// let (quot, rem) = x.divrem_u64(u64::MAX);
/// assert_eq!((quot, rem), (BigUint::from_u64(u64::MAX), 7));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BigUint {
    limbs: Vec<u64>,
}

impl BigUint {
    /// Zero.
    pub const fn zero() -> Self {
        Self { limbs: Vec::new() }
    }

    /// A one-limb value.
    pub fn from_u64(x: u64) -> Self {
        Self::from_limbs(vec![x])
    }

    /// From little-endian limbs (trailing zeros allowed).
    pub fn from_limbs(limbs: Vec<u64>) -> Self {
        let mut x = Self { limbs };
        x.normalize();
        x
    }

    /// The little-endian limbs (no trailing zeros).
    pub fn limbs(&self) -> &[u64] {
        &self.limbs
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// Bit length (0 for zero).
    pub fn bits(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => 64 * self.limbs.len() as u64 - top.leading_zeros() as u64,
        }
    }

    fn normalize(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    /// `self *= m`.
    pub fn mul_u64(&mut self, m: u64) {
        let mut carry = 0u64;
        for l in self.limbs.iter_mut() {
            let t = *l as u128 * m as u128 + carry as u128;
            *l = t as u64;
            carry = (t >> 64) as u64;
        }
        if carry != 0 {
            self.limbs.push(carry);
        }
        self.normalize();
    }

    /// `self += a`.
    pub fn add_u64(&mut self, a: u64) {
        self.add_assign(&Self::from_u64(a));
    }

    /// `self += other`.
    pub fn add_assign(&mut self, other: &BigUint) {
        if self.limbs.len() < other.limbs.len() {
            self.limbs.resize(other.limbs.len(), 0);
        }
        let mut carry = false;
        for (i, l) in self.limbs.iter_mut().enumerate() {
            let o = other.limbs.get(i).copied().unwrap_or(0);
            if o == 0 && !carry && i >= other.limbs.len() {
                break;
            }
            let (s1, c1) = l.overflowing_add(o);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            *l = s2;
            carry = c1 || c2;
        }
        if carry {
            self.limbs.push(1);
        }
    }

    /// `self -= other`; `None` (and `self` unchanged) if `other > self`.
    pub fn checked_sub_assign(&mut self, other: &BigUint) -> Option<()> {
        if *self < *other {
            return None;
        }
        let mut borrow = false;
        for (i, l) in self.limbs.iter_mut().enumerate() {
            let o = other.limbs.get(i).copied().unwrap_or(0);
            if o == 0 && !borrow && i >= other.limbs.len() {
                break;
            }
            let (d1, b1) = l.overflowing_sub(o);
            let (d2, b2) = d1.overflowing_sub(borrow as u64);
            *l = d2;
            borrow = b1 || b2;
        }
        self.normalize();
        Some(())
    }

    /// `(self / d, self mod d)`; panics if `d = 0`.
    pub fn divrem_u64(&self, d: u64) -> (BigUint, u64) {
        assert!(d != 0, "BigUint::divrem_u64: division by zero");
        let mut quot = vec![0u64; self.limbs.len()];
        let mut rem = 0u64;
        for (i, &l) in self.limbs.iter().enumerate().rev() {
            let cur = ((rem as u128) << 64) | l as u128;
            quot[i] = (cur / d as u128) as u64;
            rem = (cur % d as u128) as u64;
        }
        (Self::from_limbs(quot), rem)
    }

    /// `self mod d`; panics if `d = 0`.
    pub fn rem_u64(&self, d: u64) -> u64 {
        assert!(d != 0, "BigUint::rem_u64: division by zero");
        self.limbs.iter().rev().fold(0u64, |rem, &l| {
            ((((rem as u128) << 64) | l as u128) % d as u128) as u64
        })
    }

    /// The nearest `f64` (round to nearest, ties to even); `+inf` at or above `2^1024`
    /// (after rounding).
    pub fn to_f64(&self) -> f64 {
        let bits = self.bits();
        if bits <= 64 {
            return self.limbs.first().copied().unwrap_or(0) as f64;
        }
        // Top 64 bits, with a sticky bit for everything below: 64 > 53 + 1 bits, so
        // rounding this word to f64 rounds the whole value correctly.
        let shift = bits - 64;
        let top = self.shr_low_word(shift);
        let sticky = self.any_bit_below(shift);
        let word = top | sticky as u64;
        if shift > 1100 {
            return f64::INFINITY;
        }
        libm::ldexp(word as f64, shift as i32)
    }

    /// The low 64 bits of `self >> shift`.
    fn shr_low_word(&self, shift: u64) -> u64 {
        let (w, b) = ((shift / 64) as usize, (shift % 64) as u32);
        let lo = self.limbs.get(w).copied().unwrap_or(0);
        let hi = self.limbs.get(w + 1).copied().unwrap_or(0);
        if b == 0 {
            lo
        } else {
            (lo >> b) | (hi << (64 - b))
        }
    }

    fn any_bit_below(&self, shift: u64) -> bool {
        let (w, b) = ((shift / 64) as usize, (shift % 64) as u32);
        self.limbs[..w].iter().any(|&l| l != 0) || (b > 0 && self.limbs[w] << (64 - b) != 0)
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
