//! Encrypted diagonal linear transforms for bootstrapping: baby-step giant-step with the
//! baby rotations hoisted (one decomposition of the input), pre-rotated plaintext
//! diagonals, one rescale per transform, and the output scale chosen freely (the
//! diagonals are encoded at whatever scale lands the result on the requested one).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use super::dft::DiagMatrix;
use crate::ckks::complex::Complex;
use crate::ckks::{Ciphertext, CkksContext, CkksError, Evaluator, Plaintext};

/// Baby-step giant-step plan for a set of signed offsets: `d = giant + baby`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BsgsPlan {
    /// Baby offsets (0 first).
    pub baby: Vec<i64>,
    /// For every giant offset, the `(baby index, diagonal offset)` pairs it sums.
    pub giants: BTreeMap<i64, Vec<(usize, i64)>>,
}

impl BsgsPlan {
    /// The cheapest plan over power-of-two baby widths, with a giant rotation (a full key
    /// switch: ModUp, inner product, ModDown) costing [`GIANT_COST`] hoisted baby
    /// rotations (which share one ModUp).
    pub fn new(offsets: &[i64]) -> Self {
        Self::weighted(offsets, GIANT_COST)
    }

    /// The plan minimising `babies + giant_cost * giants` over power-of-two baby widths.
    pub fn weighted(offsets: &[i64], giant_cost: f64) -> Self {
        let unit = offsets
            .iter()
            .fold(0u64, |g, &d| gcd(g, d.unsigned_abs()))
            .max(1) as i64;
        let mut best: Option<(f64, BsgsPlan)> = None;
        let mut g = 1i64;
        let span = offsets.iter().map(|d| d.abs() / unit).max().unwrap_or(0) * 2 + 2;
        while g <= span {
            let plan = Self::with_width(offsets, unit, g);
            let cost = plan.baby_rotations() as f64 + giant_cost * plan.giant_rotations() as f64;
            if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                best = Some((cost, plan));
            }
            g *= 2;
        }
        best.map(|(_, p)| p).unwrap_or(BsgsPlan {
            baby: alloc::vec![0],
            giants: BTreeMap::new(),
        })
    }

    fn with_width(offsets: &[i64], unit: i64, g: i64) -> Self {
        let mut baby: BTreeSet<i64> = BTreeSet::new();
        baby.insert(0);
        for &d in offsets {
            baby.insert((d / unit).rem_euclid(g) * unit);
        }
        let baby: Vec<i64> = baby.into_iter().collect();
        let mut giants: BTreeMap<i64, Vec<(usize, i64)>> = BTreeMap::new();
        for &d in offsets {
            let m = d / unit;
            let (t, s) = (m.div_euclid(g), m.rem_euclid(g));
            let bi = baby
                .binary_search(&(s * unit))
                .expect("baby offset present");
            giants.entry(t * g * unit).or_default().push((bi, d));
        }
        Self { baby, giants }
    }

    /// Key-switched rotations per application (non-zero babies and giants).
    pub fn rotation_count(&self) -> usize {
        self.baby_rotations() + self.giant_rotations()
    }

    /// Hoisted (baby) rotations per application.
    pub fn baby_rotations(&self) -> usize {
        self.baby.iter().filter(|&&b| b != 0).count()
    }

    /// Giant rotations per application.
    pub fn giant_rotations(&self) -> usize {
        self.giants.keys().filter(|&&g| g != 0).count()
    }

    /// Every rotation offset used.
    pub fn rotations(&self) -> Vec<i64> {
        self.baby
            .iter()
            .chain(self.giants.keys())
            .copied()
            .filter(|&d| d != 0)
            .collect()
    }
}

/// Cost of a giant rotation in hoisted baby rotations, as used to pick the baby width. A
/// giant is ~2.5x a baby at N = 2^16 (it adds the ModUp of its input), but every extra
/// baby width is also more rotation keys: 1.5 picks the same widths as the fewest
/// rotations except where wider babies are both cheaper and need fewer keys (the 32
/// diagonals of the top CoeffToSlot level at N = 2^16: 7 + 4 instead of 3 + 8).
pub const GIANT_COST: f64 = 1.5;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A pre-rotated diagonal: encoded once, or kept as slot values and encoded at each use
/// (an N = 2^16 bootstrapping's encoded diagonals take gigabytes; their slot values ~100 MB).
#[derive(Clone, Debug)]
enum Diag {
    Encoded(Plaintext),
    Values(Vec<Complex>),
}

/// A [`DiagMatrix`] prepared for one input level, ready to apply to ciphertexts.
#[derive(Clone, Debug)]
pub struct EncodedTransform {
    plan: BsgsPlan,
    /// Giant offset -> `(baby index, rot(diag, -giant))`.
    plains: BTreeMap<i64, Vec<(usize, Diag)>>,
    level: usize,
    slots: usize,
    pt_scale: f64,
}

/// Rotation of a slot vector left by `k`.
fn rot(v: &[Complex], k: i64) -> Vec<Complex> {
    let n = v.len() as i64;
    (0..n).map(|i| v[(i + k).rem_euclid(n) as usize]).collect()
}

impl EncodedTransform {
    /// Prepares `m` for inputs at `level` (the output is one level lower): the diagonals
    /// are encoded at `pt_scale`, so the output scale is `input scale * pt_scale / q_level`.
    /// With `precompute` they are encoded now and kept; otherwise at every application.
    pub fn new(
        ctx: &CkksContext,
        m: &DiagMatrix,
        level: usize,
        pt_scale: f64,
        precompute: bool,
    ) -> Result<Self, CkksError> {
        let offsets = m.signed_offsets();
        let plan = BsgsPlan::new(&offsets);
        let slots = m.slots();
        let n = slots as i64;
        let mut plains = BTreeMap::new();
        for (&giant, terms) in &plan.giants {
            let mut v = Vec::with_capacity(terms.len());
            for &(bi, d) in terms {
                let diag = &m.diagonals()[&(d.rem_euclid(n) as usize)];
                let pre = rot(diag, -giant);
                let d = if precompute {
                    Diag::Encoded(ctx.encode(&pre, slots, level, pt_scale)?)
                } else {
                    Diag::Values(pre)
                };
                v.push((bi, d));
            }
            plains.insert(giant, v);
        }
        Ok(Self {
            plan,
            plains,
            level,
            slots,
            pt_scale,
        })
    }

    /// The plan (rotations used).
    pub fn plan(&self) -> &BsgsPlan {
        &self.plan
    }

    /// Input level.
    pub fn level(&self) -> usize {
        self.level
    }

    /// Plaintext scale.
    pub fn pt_scale(&self) -> f64 {
        self.pt_scale
    }

    /// Bytes held by the diagonals.
    pub fn byte_size(&self) -> usize {
        self.plains
            .values()
            .flatten()
            .map(|(_, d)| match d {
                Diag::Encoded(p) => p.poly.data().len() * 8,
                Diag::Values(v) => v.len() * 16,
            })
            .sum()
    }

    /// `M ct`, rescaled: one level down, scale `ct.scale * pt_scale / q_level`.
    pub fn apply(&self, ev: &Evaluator<'_>, ct: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let x = if ct.level() > self.level {
            ev.drop_to_level(ct, self.level)?
        } else {
            ct.clone()
        };
        if x.level() != self.level {
            return Err(CkksError::BadLevel {
                current: x.level(),
                requested: self.level,
            });
        }
        let mut x = x;
        x.slots = self.slots;
        let steps: Vec<isize> = self.plan.baby.iter().map(|&b| b as isize).collect();
        let babies = ev.rotate_hoisted(&x, &steps)?;
        let mut acc: Option<Ciphertext> = None;
        for (&giant, terms) in &self.plains {
            let mut inner: Option<Ciphertext> = None;
            for (bi, d) in terms {
                let encoded;
                let pt = match d {
                    Diag::Encoded(pt) => pt,
                    Diag::Values(v) => {
                        encoded = ev
                            .context()
                            .encode(v, self.slots, self.level, self.pt_scale)?;
                        &encoded
                    }
                };
                match inner.as_mut() {
                    None => inner = Some(ev.mul_plain(&babies[*bi], pt)?),
                    Some(acc) => ev.mul_plain_acc(acc, &babies[*bi], pt)?,
                }
            }
            let Some(inner) = inner else { continue };
            let r = if giant == 0 {
                inner
            } else {
                ev.rotate(&inner, giant as isize)?
            };
            acc = Some(match acc {
                None => r,
                Some(a) => ev.add(&a, &r)?,
            });
        }
        let acc = acc.ok_or(CkksError::SlotMismatch(0, self.slots))?;
        ev.rescale(&acc)
    }
}
