//! The softmax circuit over [`SlotOps`], on one block of logits.
//!
//! # Layout
//!
//! Slots form groups of `c'` consecutive slots starting at multiples of `c'`;
//! group `g` holds one row: classes `0..c` in its first `c` slots, padding
//! after. This covers DiagABT's tiled output (`AbtOutput::Tiled`: each row of
//! `s1` slots holds `s1/c'` copies of the padded logits row) and its compact
//! one. Every group is computed independently, so all copies come out right,
//! ready for `P - Y` and DiagATB. Padded slots of the output are zero; an
//! optional 0/1 output mask (e.g. rows beyond the batch) is folded into a
//! product the circuit makes anyway.
//!
//! # Levels (stage by stage, see [`Softmax::stages`])
//!
//! - normalise: 1 (one plaintext product also clears padded slots; `+ pad`);
//! - each max round: the polynomial depth (ours: 6; paper: 9 + 1 product);
//! - max mask: 1 (keep the group's first slot, where the left-rotation tree
//!   leaves the max, then replicate it right with `log2 c'` rotations);
//! - domain extension: 2 per cubic (paper only); exp: polynomial + squarings;
//! - sum mask: 1 (window sum of the `c` classes into the first slot, mask,
//!   replicate);
//! - inverse: start `start_log2 + 1`, then one per iteration; product: 1.
//!
//! Bootstraps go where [`Softmax::plan`] puts them; two real values that live
//! together at one scale (`u` and the running max; Goldschmidt's `t` and `P`) share
//! one bootstrap ([`SlotOps::bootstrap_real_pair`]).
//!
//! CKKS bootstrapping is accurate on `[-1, 1]` only, so only values proven to
//! be there are bootstrapped ([`Softmax::boot_bounds`]): the exponentials (up
//! to `e^3.9` at `c' = 16`), the row sum and Goldschmidt's `P` (up to `1/z`)
//! are held divided by powers of two ([`Softmax::shifts`]) folded into the
//! exp polynomial and the inverse's constants, and multiplied back by
//! integers (free), so the shifts cost no level; the raw logits are never
//! bootstrapped (the normalisation comes first).

use alloc::vec;
use alloc::vec::Vec;

use super::{Softmax, SoftmaxError};
use crate::circuits::poly;
use crate::hetal::plan::{BootstrapPlan, Stage, place_bootstraps};
use crate::slots::{Complex, Leveled, SlotError, SlotOps};

/// Where the bootstraps of one softmax go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoftmaxPlan {
    /// The placement over [`Softmax::stages`] (`before[i]`: bootstrap the
    /// values entering stage `i`; cost = bootstraps, a pair counting one).
    pub plan: BootstrapPlan,
    /// Stage names, parallel to `plan.before`.
    pub names: Vec<&'static str>,
}

impl Softmax {
    /// Rotation offsets the circuit uses (left rotations; negative = right),
    /// for `slot_count` slots. Independent of the unit shape: groups are `c'`
    /// consecutive slots.
    pub fn rotations(&self) -> Vec<isize> {
        let mut out = Vec::new();
        let cp = self.padded() as isize;
        let mut s = 1;
        while s < cp {
            out.push(s);
            out.push(-s);
            s <<= 1;
        }
        for (offset, _) in window_terms(self.classes()) {
            if offset != 0 {
                out.push(offset as isize);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The stages as [`Stage`]s for [`place_bootstraps`]. Width = bootstraps
    /// to refresh the stage's live values: 1 for one value or a real pair at
    /// one scale (`u` and the running max; Goldschmidt's `t` and `P`), 2 for
    /// `P` with the masked exponentials before the product (scales differ).
    pub fn plan_stages(&self) -> Vec<Stage> {
        self.stages()
            .iter()
            .map(|s| {
                let w = match s.name {
                    "product" => 2,
                    _ => 1,
                };
                Stage::new(s.name, s.depth, w)
            })
            .collect()
    }

    /// The cheapest bootstrap placement for logits entering at `start_level`
    /// when bootstrapping returns `boot_level`.
    ///
    /// Bootstraps go only before stages whose inputs are in `[-1, 1]`
    /// ([`Softmax::boot_bounds`]); the other stages are planned as part of the
    /// stage before them. In particular the raw logits are never bootstrapped:
    /// they need the normalisation's level ([`SoftmaxError::InputLevel`]).
    ///
    /// [`place_bootstraps`] runs on that chain; the one value off the
    /// chain, the masked exponentials waiting at the sum mask's exit level for
    /// the final product, is handled by trying the chain twice (as is, and
    /// with the sum mask counted as 2 levels so they keep one) and replaying
    /// both placements with the true levels: the cheaper wins.
    pub fn plan(&self, start_level: usize, boot_level: usize) -> Result<SoftmaxPlan, SoftmaxError> {
        let stages = self.plan_stages();
        let bootable: Vec<bool> = self.boot_bounds().iter().map(|&b| b <= 1.0).collect();
        // (first stage, merged stage): a stage that cannot be bootstrapped
        // before is merged into the one before it.
        let mut groups: Vec<(usize, Stage)> = Vec::new();
        for (i, s) in stages.iter().enumerate() {
            match groups.last_mut() {
                Some((_, g)) if !bootable[i] => g.depth += s.depth,
                _ => groups.push((i, s.clone())),
            }
        }
        let sum_at = stages
            .iter()
            .position(|s| s.name == "sum mask")
            .expect("sum mask");
        let sum_group = groups
            .iter()
            .rposition(|(first, _)| *first <= sum_at)
            .expect("group");
        let chain: Vec<Stage> = groups.iter().map(|g| g.1.clone()).collect();
        let mut guarded = chain.clone();
        guarded[sum_group].depth += 1;
        // The first group runs on the input as it comes unless it may be
        // bootstrapped before.
        let (skip, level) = if bootable[0] {
            (0, start_level)
        } else {
            let need = chain[0].depth;
            if start_level < need {
                return Err(SoftmaxError::InputLevel {
                    have: start_level,
                    need,
                });
            }
            (1, start_level - need)
        };
        let mut best: Option<BootstrapPlan> = None;
        let mut err = None;
        for ch in [&chain, &guarded] {
            let p = match place_bootstraps(&ch[skip..], level, boot_level) {
                Ok(p) => p,
                Err(e) => {
                    err = Some(e);
                    continue;
                }
            };
            let mut before = alloc::vec![false; stages.len()];
            for (g, &b) in p.before.iter().enumerate() {
                before[groups[g + skip].0] = b;
            }
            let p = self.replay(&stages, before, start_level, boot_level);
            let better = best.as_ref().is_none_or(|b| {
                (p.cost, core::cmp::Reverse(p.final_level))
                    < (b.cost, core::cmp::Reverse(b.final_level))
            });
            if better {
                best = Some(p);
            }
        }
        match (best, err) {
            (Some(plan), _) => Ok(SoftmaxPlan {
                plan,
                names: stages.iter().map(|s| s.name).collect(),
            }),
            (None, Some(e)) => Err(SoftmaxError::NoPlan(e)),
            (None, None) => unreachable!("one of the two chains is planned or fails"),
        }
    }

    /// True levels and cost of a placement (forcing a bootstrap before the
    /// product when the masked exponentials are at level 0).
    fn replay(
        &self,
        stages: &[Stage],
        mut before: Vec<bool>,
        start: usize,
        boot: usize,
    ) -> BootstrapPlan {
        let last = stages.len() - 1;
        let mut level = start;
        let mut em_level = 0;
        let mut entry_levels = Vec::with_capacity(stages.len());
        let mut final_level = 0;
        for (i, s) in stages.iter().enumerate() {
            if i == last && !before[i] && em_level == 0 {
                before[i] = true;
            }
            if before[i] {
                level = boot;
                if i == last {
                    // The product's bootstrap refreshes both factors.
                    em_level = boot;
                }
            }
            entry_levels.push(level);
            if s.name == "sum mask" {
                em_level = level - 1;
            }
            if i == last {
                final_level = level.min(em_level) - 1;
            } else {
                level -= s.depth;
            }
        }
        let cost = stages
            .iter()
            .zip(&before)
            .filter(|(_, b)| **b)
            .map(|(s, _)| s.width)
            .sum();
        BootstrapPlan {
            before,
            cost,
            final_level,
            entry_levels,
        }
    }

    /// The softmax of every row of `x` (see the module documentation for the
    /// layout), bootstrapping where [`Self::plan`] says for `x`'s level and the
    /// engine's bootstrap level (none if the engine cannot bootstrap: then `x`
    /// needs [`Self::depth`] levels).
    pub fn apply<E: SlotOps>(&self, ev: &E, x: &E::Value) -> Result<E::Value, SlotError> {
        self.apply_masked(ev, x, None)
    }

    /// [`Self::apply`] with the output multiplied slot-wise by `out_mask`
    /// (0/1 per slot; e.g. zero for rows beyond the batch), at no extra level.
    pub fn apply_masked<E: SlotOps>(
        &self,
        ev: &E,
        x: &E::Value,
        out_mask: Option<&[f64]>,
    ) -> Result<E::Value, SlotError> {
        let before = match ev.bootstrap_level() {
            Some(b) => {
                self.plan(x.level(), b)
                    .map_err(|e| match e {
                        SoftmaxError::InputLevel { .. } => SlotError::LevelExhausted {
                            op: "softmax (logits need a level: only normalised values are bootstrapped)",
                        },
                        _ => SlotError::InvalidParams(
                            "softmax: a stage is deeper than a bootstrap gives",
                        ),
                    })?
                    .plan
                    .before
            }
            None => vec![false; self.stages().len()],
        };
        self.apply_with_plan(ev, x, out_mask, &before)
    }

    /// The circuit with an explicit bootstrap placement (`before[i]` for
    /// stage `i` of [`Self::stages`]).
    pub fn apply_with_plan<E: SlotOps>(
        &self,
        ev: &E,
        x: &E::Value,
        out_mask: Option<&[f64]>,
        before: &[bool],
    ) -> Result<E::Value, SlotError> {
        let names: Vec<&'static str> = self.stages().iter().map(|s| s.name).collect();
        if before.len() != names.len() {
            return Err(SlotError::InvalidParams(
                "softmax: plan of the wrong length",
            ));
        }
        if before
            .iter()
            .zip(self.boot_bounds())
            .any(|(&b, bound)| b && bound > 1.0)
        {
            return Err(SlotError::InvalidParams(
                "softmax: a bootstrap placed where values exceed [-1, 1]",
            ));
        }
        let n = ev.slot_count();
        let (c, cp) = (self.classes(), self.padded());
        if !n.is_multiple_of(cp) {
            return Err(SlotError::InvalidParams(
                "softmax: slot count not a multiple of c'",
            ));
        }
        if let Some(m) = out_mask
            && m.len() != n
        {
            return Err(SlotError::InvalidParams("softmax: output mask length"));
        }
        let pos = |i: usize| i % cp;
        let mut stage = 0usize;
        let boot_here = |stage: &mut usize| {
            let b = before[*stage];
            *stage += 1;
            b
        };
        let one = |v: f64| Complex::from_real(v);
        let enc = |vals: &dyn Fn(usize) -> f64, at: &E::Value| -> Result<E::Plain, SlotError> {
            let l = at.level();
            if l == 0 {
                return Err(SlotError::LevelExhausted { op: "mul_plain" });
            }
            let v: Vec<f64> = (0..n).map(vals).collect();
            ev.encode_real(&v, l, ev.modulus(l) as f64)
        };

        // normalise: u = norm * x on the classes, pad on padded slots.
        let mut x = x.clone();
        if boot_here(&mut stage) {
            x = ev.bootstrap(&x)?;
        }
        let norm = self.norm();
        let pnorm = enc(&|i| if pos(i) < c { norm } else { 0.0 }, &x)?;
        let mut u = ev.mul_plain_rescale(&x, &pnorm)?;
        if c < cp {
            let pad = self.pad_value();
            let v: Vec<f64> = (0..n).map(|i| if pos(i) < c { 0.0 } else { pad }).collect();
            let p = ev.encode_real(&v, u.level(), u.scale())?;
            u = ev.add_plain(&u, &p)?;
        }

        // max rounds: m[p] = max~(m[p], m[p + 2^t]).
        let mut m = u.clone();
        for t in 0..self.rounds() {
            if boot_here(&mut stage) {
                if t == 0 {
                    u = ev.bootstrap(&u)?;
                    m = u.clone();
                } else {
                    (u, m) = ev.bootstrap_real_pair(&u, &m)?;
                }
            }
            let b = ev.rotate(&m, 1 << t)?;
            m = self.max_round_eval(ev, &m, &b)?;
        }

        // max mask: keep the group's first slot, replicate right; shift.
        if cp > 1 {
            if boot_here(&mut stage) {
                (u, m) = ev.bootstrap_real_pair(&u, &m)?;
            }
            let m0 = enc(&|i| if pos(i) == 0 { 1.0 } else { 0.0 }, &m)?;
            m = ev.mul_plain_rescale(&m, &m0)?;
            m = ev.rotate_and_sum(&m, cp, -1)?;
        }
        let mut y = ev.sub(&u, &m)?;

        // domain extension and exp.
        for p in self.ext_polys() {
            if boot_here(&mut stage) {
                y = ev.bootstrap(&y)?;
            }
            y = poly::evaluate(ev, &y, p, ev.default_scale())?;
        }
        if boot_here(&mut stage) {
            y = ev.bootstrap(&y)?;
        }
        // e is held divided by 2^shifts.exp[j] (the first folded into the
        // polynomial); a squaring doubles the shift, an integer brings it
        // down to the next one.
        let sh = self.shifts();
        let pow2 = |k: i32| one(libm::ldexp(1.0, k));
        let mut e = poly::evaluate(ev, &y, self.exp_poly(), ev.default_scale())?;
        for j in 0..self.spec().exp.squarings {
            if boot_here(&mut stage) {
                e = ev.bootstrap(&e)?;
            }
            e = ev.mul_rescale(&e, &e)?;
            let d = 2 * sh.exp[j] - sh.exp[j + 1];
            if d > 0 {
                e = ev.mul_const(&e, pow2(d as i32))?;
            }
        }
        let e_shift = sh.exp[self.spec().exp.squarings] as i32;

        // sum mask: window sum of the c classes into the first slot, times
        // alpha there, replicated right, plus beta: the inverse's S_0.
        if boot_here(&mut stage) {
            e = ev.bootstrap(&e)?;
        }
        let st = self.inv_start();
        let s = window_sum(ev, &e, c)?;
        // The held sum times 2^e_shift is z.
        let zf = libm::ldexp(st.alpha, e_shift);
        let mz = enc(&|i| if pos(i) == 0 { zf } else { 0.0 }, &s)?;
        let z = ev.rotate_and_sum(&ev.mul_plain_rescale(&s, &mz)?, cp, -1)?;
        let mut s = ev.add_const(&z, one(st.beta))?;
        let mvalid = enc(
            &|i| {
                let keep = out_mask.map_or(1.0, |m| m[i]);
                if pos(i) < c { keep } else { 0.0 }
            },
            &e,
        )?;
        let mut em = ev.mul_plain_rescale(&e, &mvalid)?;

        // inverse start: Q <- Q (S_j + g_j), S <- 2 S^2 - s_j^2 (Q starts as
        // a constant, its first product a plaintext one encoded at S's scale,
        // so Q and S share level and scale all the way); t0 = S, then
        // P = Q (1 + t0), t = t0^2: P and t share level and scale, so every
        // later step keeps them sharing it and they bootstrap as a pair.
        if boot_here(&mut stage) {
            s = ev.bootstrap(&s)?;
        }
        let times_c = |v: &E::Value| -> Result<E::Value, SlotError> {
            ev.rescale(&ev.mul_const_scaled(v, one(st.c), v.scale())?)
        };
        let mut q: Option<E::Value> = None;
        for (&g, &s2) in st.g.iter().zip(&st.s2) {
            let f = ev.add_const(&s, one(g))?;
            q = Some(match q {
                None => times_c(&f)?,
                Some(q) => ev.mul_rescale(&q, &f)?,
            });
            let sq = ev.mul_rescale(&s, &s)?;
            s = ev.add_const(&ev.add(&sq, &sq)?, one(-s2))?;
        }
        let w0 = ev.add_const(&s, one(1.0))?;
        // P is held divided by 2^shifts.p (folded into c).
        let mut p = match q {
            None => times_c(&w0)?,
            Some(q) => ev.mul_rescale(&q, &w0)?,
        };
        let mut t = ev.mul_rescale(&s, &s)?;
        // iterations 2..K: P <- P (1 + t), t <- t^2; then the end: P <- P (1 + t).
        for i in 1..=self.spec().inv.iterations {
            if boot_here(&mut stage) {
                (t, p) = ev.bootstrap_real_pair(&t, &p)?;
            }
            let w = ev.add_const(&t, one(1.0))?;
            p = ev.mul_rescale(&p, &w)?;
            if i < self.spec().inv.iterations {
                t = ev.mul_rescale(&t, &t)?;
            }
        }

        // product.
        if boot_here(&mut stage) || em.level() == 0 {
            (p, em) = (ev.bootstrap(&p)?, ev.bootstrap(&em)?);
        }
        debug_assert_eq!(stage, before.len());
        let out = ev.mul_rescale(&em, &p)?;
        let back = e_shift + sh.p as i32;
        if back > 0 {
            ev.mul_const(&out, pow2(back))
        } else {
            Ok(out)
        }
    }

    fn max_round_eval<E: SlotOps>(
        &self,
        ev: &E,
        a: &E::Value,
        b: &E::Value,
    ) -> Result<E::Value, SlotError> {
        let d = ev.sub(a, b)?;
        match self.max_round() {
            super::MaxRound::Abs { half_abs } => {
                let q = poly::evaluate(ev, &d, half_abs, a.scale())?;
                let avg = ev.mul_const_rescale(&ev.add(a, b)?, Complex::from_real(0.5))?;
                ev.add(&avg, &q)
            }
            super::MaxRound::Sign { stages } => {
                let depth: usize = stages.iter().map(|p| p.depth()).sum();
                if d.level() < depth + 1 {
                    return Err(SlotError::LevelExhausted { op: "softmax max" });
                }
                let mut h = d.clone();
                let mut level = d.level();
                for (i, p) in stages.iter().enumerate() {
                    level -= p.depth();
                    // The last stage lands on q_level so (a - b) h rescales back to a's scale.
                    let scale = if i + 1 == stages.len() {
                        ev.modulus(level) as f64
                    } else {
                        ev.default_scale()
                    };
                    h = poly::evaluate(ev, &h, p, scale)?;
                }
                let prod = ev.mul_rescale(&d, &h)?;
                ev.add(b, &prod)
            }
        }
    }
}

/// The window sum `sum_{k < c} rot(e, k)` by doubling: `(offset, log2 size)`
/// of the partial windows combined, highest first.
fn window_terms(c: usize) -> Vec<(usize, usize)> {
    let mut terms = Vec::new();
    let mut offset = 0;
    for bit in (0..usize::BITS as usize).rev() {
        if c & (1 << bit) != 0 {
            terms.push((offset, bit));
            offset += 1 << bit;
        }
    }
    terms
}

fn window_sum<E: SlotOps>(ev: &E, e: &E::Value, c: usize) -> Result<E::Value, SlotError> {
    let terms = window_terms(c);
    let top = terms.first().map_or(0, |t| t.1);
    // w[k] = sum of 2^k consecutive slots.
    let mut w = vec![e.clone()];
    for k in 0..top {
        let r = ev.rotate(&w[k], 1 << k)?;
        w.push(ev.add(&w[k], &r)?);
    }
    let mut acc: Option<E::Value> = None;
    for (offset, k) in terms {
        let part = ev.rotate(&w[k], offset as isize)?;
        acc = Some(match acc {
            None => part,
            Some(a) => ev.add(&a, &part)?,
        });
    }
    acc.ok_or(SlotError::EmptyInput)
}

/// The training step's plug-in: [`Softmax::depth`] and [`Softmax::apply`]
/// (bootstrapping inside per [`Softmax::plan`] when the input has fewer levels).
impl<E: SlotOps> crate::hetal::train::RowSoftmax<E> for Softmax {
    fn depth(&self) -> usize {
        Softmax::depth(self)
    }
    fn apply(&self, ev: &E, logits: &E::Value) -> Result<E::Value, SlotError> {
        Softmax::apply(self, ev, logits)
    }
    /// The exact softmax of a zero row: `1/c` on every class.
    fn at_zero(&self) -> Option<f64> {
        Some(1.0 / self.classes() as f64)
    }
}
