//! The homomorphic DFT of bootstrapping as a product of sparse diagonal matrices (f64 model).
//!
//! The encoder's decoding map is `D = F * BR`: a bit-reversal permutation `BR` followed by
//! `log2(n)` radix-2 butterfly stages `F` (see [`crate::ckks::encoder`]). Bootstrapping never
//! needs `BR`: CoeffToSlot applies `F^-1` and so yields the coefficients in bit-reversed slot
//! order, EvalMod works slot by slot, and SlotToCoeff applies `F`, which expects exactly that
//! order. Each butterfly stage is a matrix with three non-zero diagonals (offsets `0` and
//! `+-half`); consecutive stages are merged into one matrix per level, so a level budget of
//! `k` levels turns `log2(n)` stages into `k` matrices with at most `2^(s+1) - 1` diagonals
//! each (`s` stages merged, all offsets multiples of the smallest `half`).
//!
//! [`DiagMatrix`] is a linear map on `slots`-vectors given by its diagonals:
//! `(M x)_i = sum_d m_d[i] * x_{(i + d) mod slots}`, i.e. `M x = sum_d m_d ⊙ rot(x, d)` with
//! `rot` the left rotation of [`crate::slots::SlotOps::rotate`]; that is the form the
//! encrypted transform evaluates.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::f64::consts::PI;

use crate::ckks::complex::Complex;

/// A linear map on vectors of `slots` complex values, stored by non-zero diagonals.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagMatrix {
    slots: usize,
    /// Offset in `0..slots` -> diagonal (`slots` values).
    diags: BTreeMap<usize, Vec<Complex>>,
}

impl DiagMatrix {
    /// The zero map.
    pub fn zero(slots: usize) -> Self {
        Self {
            slots,
            diags: BTreeMap::new(),
        }
    }

    /// The identity.
    pub fn identity(slots: usize) -> Self {
        let mut m = Self::zero(slots);
        m.diags.insert(0, vec![Complex::ONE; slots]);
        m
    }

    /// Vector length.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The diagonals, by offset in `0..slots`.
    pub fn diagonals(&self) -> &BTreeMap<usize, Vec<Complex>> {
        &self.diags
    }

    /// Number of non-zero diagonals.
    pub fn len(&self) -> usize {
        self.diags.len()
    }

    /// Whether the map is zero.
    pub fn is_empty(&self) -> bool {
        self.diags.is_empty()
    }

    fn add_entry(&mut self, offset: usize, row: usize, v: Complex) {
        let slots = self.slots;
        let d = self
            .diags
            .entry(offset % slots)
            .or_insert_with(|| vec![Complex::ZERO; slots]);
        d[row] += v;
    }

    /// Adds `v` at row `row`, column `col`.
    pub fn add_at(&mut self, row: usize, col: usize, v: Complex) {
        let off = (col + self.slots - row) % self.slots;
        self.add_entry(off, row, v);
    }

    /// `M x`.
    pub fn apply(&self, x: &[Complex]) -> Vec<Complex> {
        let n = self.slots;
        assert_eq!(x.len(), n, "DiagMatrix::apply: wrong length");
        let mut out = vec![Complex::ZERO; n];
        for (&d, diag) in &self.diags {
            for i in 0..n {
                out[i] += diag[i] * x[(i + d) % n];
            }
        }
        out
    }

    /// The product `self * other` (apply `other` first).
    pub fn mul(&self, other: &DiagMatrix) -> DiagMatrix {
        let n = self.slots;
        assert_eq!(n, other.slots, "DiagMatrix::mul: sizes differ");
        // (A B) x = sum_{d,e} (a_d ⊙ rot(b_e, d)) ⊙ rot(x, d + e).
        let mut out = DiagMatrix::zero(n);
        for (&d, a) in &self.diags {
            for (&e, b) in &other.diags {
                let off = (d + e) % n;
                let slot = out
                    .diags
                    .entry(off)
                    .or_insert_with(|| vec![Complex::ZERO; n]);
                for i in 0..n {
                    slot[i] += a[i] * b[(i + d) % n];
                }
            }
        }
        out.prune();
        out
    }

    /// Multiplies every entry by `c`.
    pub fn scale(&mut self, c: Complex) {
        for d in self.diags.values_mut() {
            for v in d.iter_mut() {
                *v *= c;
            }
        }
    }

    /// Drops diagonals that are exactly zero.
    fn prune(&mut self) {
        self.diags
            .retain(|_, d| d.iter().any(|v| v.re != 0.0 || v.im != 0.0));
    }

    /// The `2 slots`-view map with blocks `[[a, b], [c, d]]` (each a `slots`-map, `None` =
    /// zero): sparse packing reads an `n`-slot vector `x` as the `2n`-slot vector `[x, x]`.
    pub fn blocks(
        a: Option<&DiagMatrix>,
        b: Option<&DiagMatrix>,
        c: Option<&DiagMatrix>,
        d: Option<&DiagMatrix>,
    ) -> DiagMatrix {
        let n = [a, b, c, d]
            .iter()
            .flatten()
            .map(|m| m.slots)
            .next()
            .expect("DiagMatrix::blocks: at least one block");
        let mut out = DiagMatrix::zero(2 * n);
        for (block, (r0, c0)) in [a, b, c, d].iter().zip([(0, 0), (0, n), (n, 0), (n, n)]) {
            if let Some(m) = block {
                for (&off, diag) in &m.diags {
                    for (i, &v) in diag.iter().enumerate() {
                        if v.re != 0.0 || v.im != 0.0 {
                            out.add_at(r0 + i, c0 + (i + off) % n, v);
                        }
                    }
                }
            }
        }
        out.prune();
        out
    }

    /// Offsets as signed integers in `(-slots/2, slots/2]` (rotation amounts).
    pub fn signed_offsets(&self) -> Vec<i64> {
        let n = self.slots as i64;
        self.diags
            .keys()
            .map(|&d| {
                let d = d as i64;
                if d > n / 2 { d - n } else { d }
            })
            .collect()
    }
}

/// The twiddles `t_j = exp(2 pi i (5^j mod 4len) / (4len))`, `j < len/2`, of the stage
/// merging two transforms of `len/2` slots (as in the encoder).
fn stage_twiddles(len: usize) -> Vec<Complex> {
    let m = 4 * len;
    let mut p = 1usize;
    (0..len / 2)
        .map(|_| {
            let t = Complex::cis(2.0 * PI * p as f64 / m as f64);
            p = p * 5 % m;
            t
        })
        .collect()
}

/// Butterfly stage `len` of `F` on `n` slots: `(x, y) -> (x + t y, x - t y)` per block.
pub fn fft_stage(n: usize, len: usize) -> DiagMatrix {
    let half = len / 2;
    let tw = stage_twiddles(len);
    let mut m = DiagMatrix::zero(n);
    for i in 0..n {
        let p = i % len;
        if p < half {
            m.add_at(i, i, Complex::ONE);
            m.add_at(i, i + half, tw[p]);
        } else {
            m.add_at(i, i - half, Complex::ONE);
            m.add_at(i, i, -tw[p - half]);
        }
    }
    m.prune();
    m
}

/// Inverse of [`fft_stage`]: `(a, b) -> ((a + b) / 2, conj(t) (a - b) / 2)`.
pub fn ifft_stage(n: usize, len: usize) -> DiagMatrix {
    let half = len / 2;
    let tw = stage_twiddles(len);
    let mut m = DiagMatrix::zero(n);
    for i in 0..n {
        let p = i % len;
        if p < half {
            m.add_at(i, i, Complex::from_real(0.5));
            m.add_at(i, i + half, Complex::from_real(0.5));
        } else {
            let t = tw[p - half].conj().scale(0.5);
            m.add_at(i, i - half, t);
            m.add_at(i, i, -t);
        }
    }
    m.prune();
    m
}

/// Splits the `log2(n)` stages into `levels` groups of consecutive stages, as even as
/// possible; returns the number of stages of each group, from the `len = 2` stage upward
/// (SlotToCoeff order). CoeffToSlot uses the same groups in reverse, so both transforms
/// rotate by the same offsets and share their keys.
pub fn stage_groups(n: usize, levels: usize) -> Vec<usize> {
    let stages = n.trailing_zeros() as usize;
    let levels = levels.clamp(1, stages.max(1));
    if stages == 0 {
        return vec![0];
    }
    // Larger groups first (at the bottom of SlotToCoeff = the top of CoeffToSlot is where
    // the len = n stage lives; either way the counts differ by at most one).
    (0..levels)
        .map(|g| stages / levels + usize::from(g < stages % levels))
        .collect()
}

/// `F` on `n` slots as `levels` merged matrices, in application order (first applied first).
pub fn slot_to_coeff_matrices(n: usize, levels: usize) -> Vec<DiagMatrix> {
    let mut out = Vec::new();
    let mut len = 2;
    for g in stage_groups(n, levels) {
        let mut m = DiagMatrix::identity(n);
        for _ in 0..g {
            m = fft_stage(n, len).mul(&m);
            len *= 2;
        }
        out.push(m);
    }
    out
}

/// `F^-1` on `n` slots as `levels` merged matrices, in application order.
pub fn coeff_to_slot_matrices(n: usize, levels: usize) -> Vec<DiagMatrix> {
    let mut out = Vec::new();
    let mut len = n;
    for g in stage_groups(n, levels).into_iter().rev() {
        let mut m = DiagMatrix::identity(n);
        for _ in 0..g {
            m = ifft_stage(n, len).mul(&m);
            len /= 2;
        }
        out.push(m);
    }
    out
}

/// Bit-reversal permutation of a slot vector (what `F` expects and `F^-1` produces).
pub fn bit_reverse(v: &mut [Complex]) {
    let n = v.len();
    if n <= 2 {
        return;
    }
    let shift = usize::BITS - n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> shift;
        if i < j {
            v.swap(i, j);
        }
    }
}
