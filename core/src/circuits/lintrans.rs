//! Plaintext-diagonal matrix times slot vector: baby-step giant-step with
//! hoisted baby-step rotations, one level, scale restored exactly.
//!
//! # Diagonals
//!
//! An `n x n` matrix `M` (`n` = slot count) is held by its nonzero
//! generalized diagonals `d_k[i] = M[i][(i + k) mod n]`, so that
//! `M x = sum_k d_k * rot(x, k)` with `rot(x, k)[i] = x[i + k]` (the
//! [`SlotOps::rotate`] convention). A negative offset is taken modulo `n`.
//!
//! # Baby-step giant-step
//!
//! With a baby step `n1`, each offset is `k = g n1 + b` (`0 <= b < n1`) and
//! `M x = sum_g rot( sum_b rot(d_k, -g n1) * rot(x, b), g n1 )`. The baby
//! rotations `rot(x, b)` share one decomposition ([`SlotOps::rotate_hoisted`]);
//! each giant step is one rotation of an inner sum. The plaintexts
//! `rot(d_k, -g n1)` are pre-rotated at encoding. `n1` is the power of two
//! minimising the rotations `#{b != 0} + #{g != 0}` (ties: fewer giant steps,
//! as hoisted rotations are cheaper): for a dense matrix about `2 sqrt(n)`,
//! for a few diagonals all of them baby steps in one hoisted batch.
//! [`LinearTransform::rotations`] lists exactly the offsets used, so keys can
//! be generated for those and no others.
//!
//! # Level and scale contract
//!
//! [`LinearTransform::encode`] encodes the diagonals at a level `l` with the
//! scale `q_l` ([`LinearTransform::encode_at_scale`] takes any scale, and the
//! output scale follows: `x.scale * plain_scale / q_l`). [`LinearTransform::apply`] drops `x` to `l` if it is higher,
//! multiplies, sums (giant rotations happen before the rescale, so their
//! key-switching noise is divided by `q_l` too) and rescales once: the result
//! is at level `l - 1` with exactly `x`'s scale. Costs per application:
//! `#diagonals` plaintext products, one hoisted batch of `#{b != 0}`
//! rotations, `#{g != 0}` single rotations, one rescale.
//!
//! # Products of sparse factors
//!
//! A transform that factors into sparse matrices (e.g. the radix-2 special
//! FFT of CoeffToSlot / SlotToCoeff, each factor three diagonals) is applied
//! factor by factor, one level each: [`encode_chain`] encodes factor `i` at
//! `top - i`, [`apply_chain`] runs them. A factor with three diagonals
//! `{0, s, -s}` costs two hoisted rotations and three plaintext products.
//! [`LinearTransform::compose`] merges adjacent factors (one level instead
//! of two, at most `|A| |B|` diagonals): the usual trade of levels for rotations.
//!
//! # Example
//!
//! ```
//! use hetal_core::circuits::lintrans::LinearTransform;
//! use hetal_core::slots::{Complex, Leveled, SimParams, SlotCrypt, SlotError, SlotOps, SlotSim};
//!
//! // A cyclic second difference: diagonals -1, 0, +1.
//! let n = 8;
//! let one = vec![Complex::ONE; n];
//! let minus_two = vec![Complex::from_real(-2.0); n];
//! let lt = LinearTransform::new(n, [(-1, one.clone()), (0, minus_two), (1, one)])?;
//! assert_eq!(lt.rotations(), vec![1, 7]);
//!
//! let sim = SlotSim::new(SimParams::synthetic(n, 60, 40, 3)?)?.with_rotation_keys(lt.rotations());
//! let xs: Vec<f64> = (0..n).map(|i| (i * i) as f64).collect();
//! let x = sim.encrypt_real(&xs, 3, sim.default_scale())?;
//! let enc = lt.encode(&sim, 3)?;
//! let y = lt.apply(&sim, &enc, &x)?;
//! assert_eq!((y.level(), y.scale()), (2, x.scale()));
//! let want = lt.apply_f64(&xs.iter().map(|&v| Complex::from_real(v)).collect::<Vec<_>>());
//! for (a, b) in sim.decrypt(&y)?.iter().zip(&want) {
//!     assert!((*a - *b).abs() < 1e-9);
//! }
//! assert_eq!(sim.counts().rotate_hoisted, 2);
//! # Ok::<(), SlotError>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::slots::{Complex, Leveled, SlotError, SlotOps, normalize_offset};

/// A linear map on `slots` slots given by its nonzero generalized diagonals.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearTransform {
    slots: usize,
    /// Normalized offset -> diagonal (`slots` entries).
    diags: BTreeMap<usize, Vec<Complex>>,
    baby: usize,
}

/// A [`LinearTransform`] encoded for one engine at one level.
#[derive(Clone, Debug)]
pub struct EncodedTransform<P> {
    level: usize,
    slots: usize,
    /// Nonzero-or-zero baby offsets in the order of the hoisted batch.
    babies: Vec<usize>,
    /// Giant offset `g n1` -> (index into `babies`, pre-rotated diagonal).
    giants: Vec<(usize, Vec<(usize, P)>)>,
}

impl<P> EncodedTransform<P> {
    /// The level the diagonals are encoded at (`apply` outputs one below).
    pub fn level(&self) -> usize {
        self.level
    }
}

/// Rotations of a diagonal set for baby step `n1`: (nonzero babies, nonzero giants).
fn rotation_split(offsets: impl Iterator<Item = usize> + Clone, n1: usize) -> (usize, usize) {
    let mut babies: Vec<usize> = offsets
        .clone()
        .map(|k| k % n1)
        .filter(|&b| b != 0)
        .collect();
    let mut giants: Vec<usize> = offsets.map(|k| k / n1).filter(|&g| g != 0).collect();
    babies.sort_unstable();
    babies.dedup();
    giants.sort_unstable();
    giants.dedup();
    (babies.len(), giants.len())
}

impl LinearTransform {
    /// A transform from `(offset, diagonal)` pairs: offsets modulo `slots`
    /// (negative allowed; repeated offsets add up), each diagonal `slots`
    /// long. All-zero diagonals are dropped. `slots` must be a power of two.
    pub fn new(
        slots: usize,
        diags: impl IntoIterator<Item = (isize, Vec<Complex>)>,
    ) -> Result<Self, SlotError> {
        if !slots.is_power_of_two() {
            return Err(SlotError::InvalidParams(
                "slot count must be a power of two",
            ));
        }
        let mut map: BTreeMap<usize, Vec<Complex>> = BTreeMap::new();
        for (offset, d) in diags {
            if d.len() != slots {
                return Err(SlotError::InvalidParams(
                    "lintrans: a diagonal must have one entry per slot",
                ));
            }
            if d.iter().any(|z| !z.is_finite()) {
                return Err(SlotError::NonFinite);
            }
            let k = normalize_offset(offset, slots);
            match map.get_mut(&k) {
                Some(acc) => acc.iter_mut().zip(&d).for_each(|(a, &b)| *a += b),
                None => {
                    map.insert(k, d);
                }
            }
        }
        map.retain(|_, d| d.iter().any(|z| z.re != 0.0 || z.im != 0.0));
        let mut lt = Self {
            slots,
            diags: map,
            baby: 1,
        };
        lt.baby = lt.best_baby();
        Ok(lt)
    }

    /// A dense transform from its rows (`rows[i][j] = M[i][j]`, `n x n`).
    pub fn from_matrix(rows: &[Vec<Complex>]) -> Result<Self, SlotError> {
        let n = rows.len();
        if rows.iter().any(|r| r.len() != n) {
            return Err(SlotError::InvalidParams("lintrans: matrix must be square"));
        }
        let diags = (0..n).map(|k| {
            let d = (0..n).map(|i| rows[i][(i + k) % n]).collect();
            (k as isize, d)
        });
        Self::new(n, diags)
    }

    fn best_baby(&self) -> usize {
        let mut best = (usize::MAX, usize::MAX, 1);
        let mut n1 = 1;
        while n1 <= self.slots {
            let (b, g) = rotation_split(self.diags.keys().copied(), n1);
            if (b + g, g) < (best.0, best.1) {
                best = (b + g, g, n1);
            }
            n1 *= 2;
        }
        best.2
    }

    /// Overrides the baby step `n1` (a power of two at most the slot count).
    pub fn with_baby_step(mut self, n1: usize) -> Result<Self, SlotError> {
        if !n1.is_power_of_two() || n1 > self.slots {
            return Err(SlotError::InvalidParams(
                "lintrans: baby step must be a power of two at most the slot count",
            ));
        }
        self.baby = n1;
        Ok(self)
    }

    /// Slot count.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The baby step `n1`.
    pub fn baby_step(&self) -> usize {
        self.baby
    }

    /// Nonzero diagonal offsets (normalized), ascending.
    pub fn offsets(&self) -> Vec<usize> {
        self.diags.keys().copied().collect()
    }

    /// The diagonal at `offset` (modulo the slot count), if nonzero.
    pub fn diagonal(&self, offset: isize) -> Option<&[Complex]> {
        self.diags
            .get(&normalize_offset(offset, self.slots))
            .map(Vec::as_slice)
    }

    /// Every rotation offset `apply` uses (normalized, ascending, no 0):
    /// generate exactly these keys.
    pub fn rotations(&self) -> Vec<isize> {
        let n1 = self.baby;
        let mut r: Vec<isize> = self
            .diags
            .keys()
            .flat_map(|&k| [k % n1, k - k % n1])
            .filter(|&o| o != 0)
            .map(|o| o as isize)
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// `(hoisted baby rotations, giant rotations)` per application:
    /// `#{k mod n1 != 0}` and `#{k div n1 != 0}` over distinct values.
    pub fn rotation_counts(&self) -> (usize, usize) {
        rotation_split(self.diags.keys().copied(), self.baby)
    }

    /// The plain model `M x` (`x` zero-padded to the slot count).
    pub fn apply_f64(&self, x: &[Complex]) -> Vec<Complex> {
        let n = self.slots;
        let mut xs = x.to_vec();
        xs.resize(n, Complex::ZERO);
        let mut y = vec![Complex::ZERO; n];
        for (&k, d) in &self.diags {
            for i in 0..n {
                y[i] += d[i] * xs[(i + k) % n];
            }
        }
        y
    }

    /// `self * other` (apply `other` first): one transform, one level; its
    /// diagonals are the sums `d_a * rot(e_b, a)` over `a + b = k`.
    pub fn compose(&self, other: &Self) -> Result<Self, SlotError> {
        if self.slots != other.slots {
            return Err(SlotError::InvalidParams(
                "lintrans: composing transforms of different slot counts",
            ));
        }
        let n = self.slots;
        let mut out: Vec<(isize, Vec<Complex>)> = Vec::new();
        for (&a, da) in &self.diags {
            for (&b, eb) in &other.diags {
                let d = (0..n).map(|i| da[i] * eb[(i + a) % n]).collect();
                out.push(((a + b) as isize, d));
            }
        }
        Self::new(n, out)
    }

    /// Encodes the pre-rotated diagonals at `level` with the scale `q_level`,
    /// so [`Self::apply`] returns `x`'s scale.
    pub fn encode<E: SlotOps>(
        &self,
        ev: &E,
        level: usize,
    ) -> Result<EncodedTransform<E::Plain>, SlotError> {
        if level == 0 {
            return Err(SlotError::LevelExhausted {
                op: "lintrans::encode",
            });
        }
        if level > ev.max_level() {
            return Err(SlotError::LevelTooHigh {
                current: ev.max_level(),
                requested: level,
            });
        }
        self.encode_at_scale(ev, level, ev.modulus(level) as f64)
    }

    /// Encodes the diagonals at `level` with the scale `plain_scale`: the
    /// output of [`Self::apply`] then has the scale `x.scale * plain_scale / q_level`
    /// (e.g. to land on the scale the next step wants without a `set_scale`).
    pub fn encode_at_scale<E: SlotOps>(
        &self,
        ev: &E,
        level: usize,
        plain_scale: f64,
    ) -> Result<EncodedTransform<E::Plain>, SlotError> {
        if ev.slot_count() != self.slots {
            return Err(SlotError::InvalidParams(
                "lintrans: transform and engine slot counts differ",
            ));
        }
        if level == 0 {
            return Err(SlotError::LevelExhausted {
                op: "lintrans::encode",
            });
        }
        if self.diags.is_empty() {
            return Err(SlotError::EmptyInput);
        }
        let (n, n1) = (self.slots, self.baby);
        let scale = plain_scale;
        let mut babies: Vec<usize> = self.diags.keys().map(|&k| k % n1).collect();
        babies.sort_unstable();
        babies.dedup();
        let mut giants: BTreeMap<usize, Vec<(usize, E::Plain)>> = BTreeMap::new();
        for (&k, d) in &self.diags {
            let (b, g) = (k % n1, k - k % n1);
            // rot(d, -g)[i] = d[i - g]
            let rotated: Vec<Complex> = (0..n).map(|i| d[(i + n - g) % n]).collect();
            let p = ev.encode(&rotated, level, scale)?;
            let idx = babies.binary_search(&b).unwrap_or(0);
            giants.entry(g).or_default().push((idx, p));
        }
        Ok(EncodedTransform {
            level,
            slots: n,
            babies,
            giants: giants.into_iter().collect(),
        })
    }

    /// `M x` at level `enc.level() - 1`, with exactly `x`'s scale (see the
    /// module documentation). `x` must be at `enc.level()` or above.
    pub fn apply<E: SlotOps>(
        &self,
        ev: &E,
        enc: &EncodedTransform<E::Plain>,
        x: &E::Value,
    ) -> Result<E::Value, SlotError> {
        apply_encoded(ev, enc, x)
    }
}

/// Applies an encoded transform (what [`LinearTransform::apply`] does; the
/// encoding holds everything needed).
pub fn apply_encoded<E: SlotOps>(
    ev: &E,
    enc: &EncodedTransform<E::Plain>,
    x: &E::Value,
) -> Result<E::Value, SlotError> {
    if enc.slots != ev.slot_count() {
        return Err(SlotError::InvalidParams(
            "lintrans: transform and engine slot counts differ",
        ));
    }
    if x.level() < enc.level {
        return Err(SlotError::LevelTooHigh {
            current: x.level(),
            requested: enc.level,
        });
    }
    let x = if x.level() > enc.level {
        ev.drop_to_level(x, enc.level)?
    } else {
        x.clone()
    };
    let offsets: Vec<isize> = enc.babies.iter().map(|&b| b as isize).collect();
    let rotated = ev.rotate_hoisted(&x, &offsets)?;
    let mut acc: Option<E::Value> = None;
    for (g, terms) in &enc.giants {
        let mut inner: Option<E::Value> = None;
        for (idx, p) in terms {
            let t = ev.mul_plain(&rotated[*idx], p)?;
            inner = Some(match inner {
                None => t,
                Some(s) => ev.add(&s, &t)?,
            });
        }
        let Some(inner) = inner else { continue };
        let moved = ev.rotate(&inner, *g as isize)?;
        acc = Some(match acc {
            None => moved,
            Some(s) => ev.add(&s, &moved)?,
        });
    }
    let acc = acc.ok_or(SlotError::EmptyInput)?;
    ev.rescale_owned(acc)
}

/// Encodes factors for [`apply_chain`]: factor `i` at level `top - i`.
pub fn encode_chain<E: SlotOps>(
    ev: &E,
    factors: &[LinearTransform],
    top: usize,
) -> Result<Vec<EncodedTransform<E::Plain>>, SlotError> {
    if factors.len() > top {
        return Err(SlotError::LevelExhausted {
            op: "lintrans::encode_chain",
        });
    }
    factors
        .iter()
        .enumerate()
        .map(|(i, f)| f.encode(ev, top - i))
        .collect()
}

/// `F_k ... F_2 F_1 x` for factors encoded by [`encode_chain`] (first
/// applied first), one level each, scale of `x` kept.
pub fn apply_chain<E: SlotOps>(
    ev: &E,
    factors: &[EncodedTransform<E::Plain>],
    x: &E::Value,
) -> Result<E::Value, SlotError> {
    let (first, rest) = factors.split_first().ok_or(SlotError::EmptyInput)?;
    let mut y = apply_encoded(ev, first, x)?;
    for f in rest {
        y = apply_encoded(ev, f, &y)?;
    }
    Ok(y)
}
