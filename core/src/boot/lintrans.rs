//! Encrypted diagonal linear transforms for bootstrapping: baby-step giant-step with
//! double hoisting (one decomposition of the input, sums kept over `Q * P`, one ModDown
//! per transform), pre-rotated plaintext diagonals, one rescale per transform, and the
//! output scale chosen freely (the diagonals are encoded at whatever scale lands the
//! result on the requested one).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use super::dft::DiagMatrix;
use crate::ckks::complex::Complex;
use crate::ckks::encoder::coeffs_to_residues;
use crate::ckks::{Ciphertext, CkksContext, CkksError, Evaluator, KeyId};
use crate::ring::{Form, RingContext, RnsPoly};

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

/// A pre-rotated diagonal: encoded once over `Q_level * P`, or kept as slot values and
/// encoded at each use (an N = 2^16 bootstrapping's encoded diagonals take gigabytes;
/// their slot values ~100 MB).
#[derive(Clone, Debug)]
enum Diag {
    Encoded(RnsPoly),
    Values(Vec<Complex>),
}

/// A [`DiagMatrix`] prepared for one input level, ready to apply to ciphertexts.
///
/// # Double hoisting
///
/// [`Self::apply`] follows Bossuat et al. (Eurocrypt 2021, Alg. 6): the input's `c1` is
/// decomposed once (ModUp); every baby rotation is the permuted digits' inner product with
/// its key, kept over `Q * P` with no ModDown (and `c0` lifted by `P`); the diagonals,
/// encoded over `Q * P` too, multiply those and the inner sums stay in the extended basis.
/// A giant step then needs one ModDown of its sum's `c1` (to decompose it for its key
/// switch), and its key switch's result stays over `Q * P` as well: one ModDown of the
/// accumulated output per transform, instead of one per rotation.
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

/// `values` encoded into `slots` slots at `scale`, over `q_0 .. q_level` and all of `P`,
/// NTT form.
fn encode_qp(
    ctx: &CkksContext,
    values: &[Complex],
    slots: usize,
    level: usize,
    scale: f64,
) -> Result<RnsPoly, CkksError> {
    let params = ctx.params();
    let ring = ctx.ring();
    let coeffs = ctx.encoder().encode_coeffs(values, slots, scale)?;
    let primes: Vec<u64> = params.q()[..=level]
        .iter()
        .chain(params.p())
        .copied()
        .collect();
    let mut data = alloc::vec![0u64; primes.len() * params.n()];
    coeffs_to_residues(&coeffs, &primes, &mut data)?;
    let mut poly = RnsPoly::from_data(ring, data, level + 1, ring.p_count(), Form::Coeff)?;
    poly.to_ntt(ring)?;
    Ok(poly)
}

/// `(acc0, acc1) += (a0 pt, a1 pt)` for every `(a, pt)` of `terms`, all over the same
/// limbs (NTT form), limb by limb so that each accumulator limb stays in cache.
fn mul_acc_terms(
    ring: &RingContext,
    acc0: &mut RnsPoly,
    acc1: &mut RnsPoly,
    terms: &[(&(RnsPoly, RnsPoly), &RnsPoly)],
) {
    let (n, q_limbs, k) = (ring.n(), acc0.q_limbs(), ring.kernels());
    let l1: Vec<spin::Mutex<&mut [u64]>> = acc1
        .data_mut()
        .chunks_mut(n)
        .map(spin::Mutex::new)
        .collect();
    ring.executor()
        .for_each_chunk_mut(acc0.data_mut(), n, &|t, o0| {
            let mut o1 = l1[t].lock();
            let m = ring.moduli()[ring.limb_index(q_limbs, t)].consts();
            for ((a0, a1), pt) in terms {
                k.mul_add_assign(o0, a0.limb(t), pt.limb(t), m);
                k.mul_add_assign(&mut o1, a1.limb(t), pt.limb(t), m);
            }
        });
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
                    Diag::Encoded(encode_qp(ctx, &pre, slots, level, pt_scale)?)
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
                Diag::Encoded(p) => p.data().len() * 8,
                Diag::Values(v) => v.len() * 16,
            })
            .sum()
    }

    /// `M ct`, rescaled: one level down, scale `ct.scale * pt_scale / q_level` (double
    /// hoisting, see the type's documentation).
    pub fn apply(&self, ev: &Evaluator<'_>, ct: &Ciphertext) -> Result<Ciphertext, CkksError> {
        ev.rescale_owned(self.apply_unrescaled(ev, ct)?)
    }

    /// [`Self::apply`] before its rescale: at [`Self::level`], scale `ct.scale * pt_scale`.
    /// What follows (a key switch, a sum) then adds its noise at that large scale, and
    /// one rescale afterwards adds the only rounding noise at the output scale.
    pub fn apply_unrescaled(
        &self,
        ev: &Evaluator<'_>,
        ct: &Ciphertext,
    ) -> Result<Ciphertext, CkksError> {
        if ct.level() < self.level {
            return Err(CkksError::BadLevel {
                current: ct.level(),
                requested: self.level,
            });
        }
        let x = if ct.level() > self.level {
            ev.drop_to_level(ct, self.level)?
        } else {
            ct.clone()
        };
        let ctx = ev.context();
        let ring = ctx.ring();
        let sw = ctx.switcher();
        let galois = |g: usize| CkksError::with_key(KeyId::Galois(g));

        // Baby steps over Q * P: one decomposition, no ModDown.
        let dec = sw.decompose(ring, &x.c1)?;
        let mut babies: Vec<(RnsPoly, RnsPoly)> = Vec::with_capacity(self.plan.baby.len());
        for &b in &self.plan.baby {
            let g = ctx.rotation_element(b as isize);
            if g == 1 {
                babies.push((sw.lift_by_p(ring, &x.c0)?, sw.lift_by_p(ring, &x.c1)?));
                continue;
            }
            let key = ev.rotation_key(g, true)?;
            let perm = ring.ntt_permutation(g)?;
            let (mut u0, u1) = sw
                .apply_lazy(ring, &dec, key, Some(&perm))
                .map_err(galois(g))?;
            sw.add_lifted(ring, &mut u0, &x.c0.automorphism(ring, g)?)?;
            babies.push((u0, u1));
        }
        drop(dec);

        // Giant steps: inner sums over Q * P; each rotated sum stays there too.
        let (l, pc) = (self.level + 1, ring.p_count());
        let mut acc: Option<(RnsPoly, RnsPoly)> = None;
        for (&giant, terms) in &self.plains {
            if terms.is_empty() {
                continue;
            }
            let encoded: Vec<RnsPoly> = terms
                .iter()
                .filter_map(|(_, d)| match d {
                    Diag::Values(v) => {
                        Some(encode_qp(ctx, v, self.slots, self.level, self.pt_scale))
                    }
                    Diag::Encoded(_) => None,
                })
                .collect::<Result<_, _>>()?;
            let mut fresh = encoded.iter();
            let pairs: Vec<(&(RnsPoly, RnsPoly), &RnsPoly)> = terms
                .iter()
                .map(|(bi, d)| {
                    let pt = match d {
                        Diag::Encoded(p) => p,
                        Diag::Values(_) => fresh.next().expect("one encoding per value diagonal"),
                    };
                    (&babies[*bi], pt)
                })
                .collect();
            let mut s0 = RnsPoly::zero(ring, l, pc, Form::Ntt)?;
            let mut s1 = RnsPoly::zero(ring, l, pc, Form::Ntt)?;
            mul_acc_terms(ring, &mut s0, &mut s1, &pairs);
            let (r0, r1) = if giant == 0 {
                (s0, s1)
            } else {
                let g = ctx.rotation_element(giant as isize);
                let key = ev.rotation_key(g, false)?;
                let c1 = sw.mod_down(ring, s1)?.automorphism(ring, g)?;
                let (k0, k1) = sw.switch_lazy(ring, &c1, key).map_err(galois(g))?;
                let mut t0 = s0.automorphism(ring, g)?;
                t0.add_assign(ring, &k0)?;
                (t0, k1)
            };
            acc = Some(match acc {
                None => (r0, r1),
                Some((mut a0, mut a1)) => {
                    a0.add_assign(ring, &r0)?;
                    a1.add_assign(ring, &r1)?;
                    (a0, a1)
                }
            });
        }
        let (a0, a1) = acc.ok_or(CkksError::SlotMismatch(0, self.slots))?;
        Ok(Ciphertext {
            c0: sw.mod_down(ring, a0)?,
            c1: sw.mod_down(ring, a1)?,
            scale: x.scale * self.pt_scale,
            slots: self.slots,
        })
    }
}
