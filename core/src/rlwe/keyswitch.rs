use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use hetal_simd::ShoupConst;

use super::{RlweError, SwitchingKey};
use crate::math::{BaseConverter, Modulus};
use crate::ring::{Form, RingContext, RnsPoly};

/// Precomputed constants for hybrid key switching in one context: the digit partition,
/// the ModUp converters for every (level, digit) and the ModDown converters per level.
#[derive(Debug)]
pub struct KeySwitcher {
    dnum: usize,
    alpha: usize,
    /// `P mod q_i` for every ciphertext prime.
    p_mod_q: Vec<u64>,
    /// `P^-1 mod q_i`.
    p_inv_mod_q: Vec<ShoupConst>,
    /// `(P / p_t)^-1 mod p_t` for every special prime (exact ModDown correction).
    p_hat_inv: Vec<ShoupConst>,
    /// `modup[l - 1][j]`: digit `j`'s primes below level `l` to the other primes of
    /// `Q_l` and all of `P`.
    modup: Vec<Vec<BaseConverter>>,
    /// `moddown[l - 1]`: `P` to `Q_l`.
    moddown: Vec<BaseConverter>,
}

/// The ModUp'ed digits of one polynomial at one level: `(l + K)`-limb polynomials in NTT
/// form, shared by every key switch (rotation) of it.
#[derive(Clone, Debug)]
pub struct Decomposed {
    /// One extended polynomial per digit present at this level.
    pub digits: Vec<RnsPoly>,
    /// Number of ciphertext limbs.
    pub q_limbs: usize,
}

impl KeySwitcher {
    /// Precomputes for `dnum` digits (`alpha = ceil(q_count / dnum)` primes each).
    pub fn new(ctx: &RingContext, dnum: usize) -> Result<Self, RlweError> {
        let qc = ctx.q_count();
        if dnum == 0 || dnum > qc || ctx.p_count() == 0 {
            return Err(RlweError::BadDnum(dnum));
        }
        let alpha = qc.div_ceil(dnum);
        let (qm, pm) = (ctx.q_moduli(), ctx.p_moduli());
        let p_mod_q: Vec<u64> = qm
            .iter()
            .map(|q| {
                pm.iter()
                    .fold(1u64, |acc, p| q.mul(acc, q.reduce(p.value())))
            })
            .collect();
        let p_inv_mod_q = qm
            .iter()
            .zip(&p_mod_q)
            .map(|(q, &p)| q.inv(p).map(|i| q.shoup(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let p_hat_inv = pm
            .iter()
            .enumerate()
            .map(|(t, pt)| {
                let hat = pm
                    .iter()
                    .enumerate()
                    .filter(|&(s, _)| s != t)
                    .fold(1u64, |acc, (_, ps)| pt.mul(acc, pt.reduce(ps.value())));
                pt.inv(hat).map(|v| pt.shoup(v))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut modup = Vec::with_capacity(qc);
        let mut moddown = Vec::with_capacity(qc);
        for l in 1..=qc {
            let mut per_digit = Vec::new();
            for j in 0..l.div_ceil(alpha) {
                let digit = j * alpha..((j + 1) * alpha).min(l);
                let from: Vec<Modulus> = qm[digit.clone()].to_vec();
                let to: Vec<Modulus> = (0..l)
                    .filter(|i| !digit.contains(i))
                    .map(|i| qm[i])
                    .chain(pm.iter().copied())
                    .collect();
                per_digit.push(BaseConverter::new(&from, &to)?);
            }
            modup.push(per_digit);
            moddown.push(BaseConverter::new(pm, &qm[..l])?);
        }
        Ok(Self {
            dnum,
            alpha,
            p_mod_q,
            p_inv_mod_q,
            p_hat_inv,
            modup,
            moddown,
        })
    }

    /// Number of digits of a full-level key.
    pub fn dnum(&self) -> usize {
        self.dnum
    }

    /// Primes per digit.
    pub fn alpha(&self) -> usize {
        self.alpha
    }

    /// Ciphertext primes of digit `j` below level `q_limbs`.
    pub fn digit_range(&self, j: usize, q_limbs: usize) -> Range<usize> {
        (j * self.alpha).min(q_limbs)..((j + 1) * self.alpha).min(q_limbs)
    }

    /// `P mod q_i`.
    pub fn p_mod_q(&self, i: usize) -> u64 {
        self.p_mod_q[i]
    }

    /// ModUp: the digits of `c` (coefficient form, `l` Q limbs, no P), each extended to
    /// `Q_l * P` and put in NTT form.
    pub fn decompose(&self, ctx: &RingContext, c: &RnsPoly) -> Result<Decomposed, RlweError> {
        if c.form() != Form::Coeff || c.p_limbs() != 0 {
            return Err(RlweError::Ring(crate::ring::RingError::WrongForm {
                expected: Form::Coeff,
            }));
        }
        let (l, pc, n) = (c.q_limbs(), ctx.p_count(), ctx.n());
        let mut digits = Vec::new();
        for (j, conv) in self.modup[l - 1].iter().enumerate() {
            let range = self.digit_range(j, l);
            let mut ext = RnsPoly::zero(ctx, l, pc, Form::Coeff)?;
            let inputs: Vec<&[u64]> = range.clone().map(|i| c.limb(i)).collect();
            {
                let data = ext.data_mut();
                let mut outputs: Vec<&mut [u64]> = Vec::with_capacity(l + pc - range.len());
                for (i, limb) in data.chunks_mut(n).enumerate() {
                    if range.contains(&i) {
                        limb.copy_from_slice(c.limb(i));
                    } else {
                        outputs.push(limb);
                    }
                }
                conv.convert_limbs(ctx.kernels(), ctx.executor(), &inputs, &mut outputs)?;
            }
            ext.to_ntt(ctx)?;
            digits.push(ext);
        }
        Ok(Decomposed { digits, q_limbs: l })
    }

    /// Inner product of the digits with `key`, then ModDown: `(d0, d1)` over `Q_l`, NTT
    /// form, with `d0 + d1 s ~ c s'`. `perm` (if any) is an NTT-slot permutation applied
    /// to the digits first (hoisted rotations).
    pub fn apply(
        &self,
        ctx: &RingContext,
        dec: &Decomposed,
        key: &SwitchingKey,
        perm: Option<&[u32]>,
    ) -> Result<(RnsPoly, RnsPoly), RlweError> {
        if key.dnum() < dec.digits.len() || key.b[0].q_limbs() != ctx.q_count() {
            return Err(RlweError::KeyShapeMismatch);
        }
        let (l, pc, n) = (dec.q_limbs, ctx.p_count(), ctx.n());
        let k = ctx.kernels();
        let mut acc0 = RnsPoly::zero(ctx, l, pc, Form::Ntt)?;
        let mut acc1 = RnsPoly::zero(ctx, l, pc, Form::Ntt)?;
        let mut permuted = vec![0u64; n];
        for (j, digit) in dec.digits.iter().enumerate() {
            for i in 0..l + pc {
                let g = ctx.limb_index(l, i);
                let m = ctx.moduli()[g];
                let d = match perm {
                    Some(p) => {
                        k.permute(digit.limb(i), p, &mut permuted);
                        &permuted[..]
                    }
                    None => digit.limb(i),
                };
                k.mul_add_assign(acc0.limb_mut(i), d, key.b[j].limb(g), m.consts());
                k.mul_add_assign(acc1.limb_mut(i), d, key.a[j].limb(g), m.consts());
            }
        }
        Ok((self.mod_down(ctx, acc0)?, self.mod_down(ctx, acc1)?))
    }

    /// `round(x / P)` from `Q_l * P` (NTT form) to `Q_l` (NTT form).
    pub fn mod_down(&self, ctx: &RingContext, x: RnsPoly) -> Result<RnsPoly, RlweError> {
        let (l, pc, n) = (x.q_limbs(), x.p_limbs(), ctx.n());
        debug_assert_eq!(pc, ctx.p_count());
        let k = ctx.kernels();
        let mut p_part = x.p_part().to_vec();
        ctx.executor()
            .for_each_chunk_mut(&mut p_part, n, &|t, limb| {
                ctx.plan(ctx.q_count() + t).inverse(limb)
            });
        let mut conv = vec![0u64; l * n];
        self.moddown[l - 1].convert(k, ctx.executor(), &p_part, &mut conv)?;
        self.center_moddown(ctx, &p_part, &mut conv);
        ctx.executor()
            .for_each_chunk_mut(&mut conv, n, &|i, limb| ctx.plan(i).forward(limb));
        let mut out = x;
        out.drop_p_limbs();
        for i in 0..l {
            let q = ctx.moduli()[i].value();
            k.sub_assign(out.limb_mut(i), &conv[i * n..(i + 1) * n], q);
            k.mul_scalar_assign(out.limb_mut(i), &self.p_inv_mod_q[i], q);
        }
        Ok(out)
    }

    /// Turns the fast conversion `[x]_P + u P` (with `0 <= u < K`) into the centred
    /// representative of `x mod P`, so ModDown divides by `P` with rounding.
    ///
    /// Without this, `u` is biased (mean ~K/2) and the ModDown error `u * s` has a
    /// near-constant polynomial component whose value at the roots of unity near 1 is
    /// ~N/pi times larger: 2^-15 precision after a rotation at N = 2^16 instead of 2^-28.
    /// Here `u' = round(sum_t y'_t / p_t)` (HPS), with `y'_t = [x]_{p_t} (P/p_t)^-1`.
    fn center_moddown(&self, ctx: &RingContext, p_part: &[u64], conv: &mut [u64]) {
        let (n, pm) = (ctx.n(), ctx.p_moduli());
        let mut u = vec![0.0f64; n];
        let mut y = vec![0u64; n];
        for (t, pt) in pm.iter().enumerate() {
            y.copy_from_slice(&p_part[t * n..(t + 1) * n]);
            ctx.kernels()
                .mul_scalar_assign(&mut y, &self.p_hat_inv[t], pt.value());
            let inv = 1.0 / pt.value() as f64;
            for (acc, &v) in u.iter_mut().zip(&y) {
                *acc += v as f64 * inv;
            }
        }
        // sum_t y'_t / p_t lies in [0, K), so the rounded overflow is an integer in
        // [0, K]: look up u * (P mod q_i) instead of multiplying per coefficient.
        let k = pm.len();
        let mut table = vec![0u64; k + 1];
        for (i, limb) in conv.chunks_mut(n).enumerate() {
            let q = ctx.moduli()[i];
            for (r, t) in table.iter_mut().enumerate() {
                *t = q.mul(q.reduce(r as u64), self.p_mod_q[i]);
            }
            for (c, &v) in limb.iter_mut().zip(&u) {
                let r = ((v + 0.5) as usize).min(k);
                *c = q.sub(*c, table[r]);
            }
        }
    }

    /// Full key switch of `c` (coefficient form, `l` Q limbs): `(d0, d1)` over `Q_l`.
    pub fn switch(
        &self,
        ctx: &RingContext,
        c: &RnsPoly,
        key: &SwitchingKey,
    ) -> Result<(RnsPoly, RnsPoly), RlweError> {
        let dec = self.decompose(ctx, c)?;
        self.apply(ctx, &dec, key, None)
    }
}
