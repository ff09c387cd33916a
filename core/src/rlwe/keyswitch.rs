use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use hetal_simd::ShoupConst;

use super::{KeyStorage, RlweError, SwitchingKey};
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
    /// Reusable `n`-word buffers: fresh multi-megabyte allocations page-fault on every
    /// switch at N = 2^16, which cost as much as the arithmetic.
    pool: spin::Mutex<Vec<Vec<u64>>>,
}

/// Where the digits of a key switch come from.
enum Source<'a> {
    /// One switch: the input in NTT form and its coefficient limbs already scaled by
    /// each digit's `(Q_j / q_i)^-1` (the first step of every ModUp conversion).
    Fused {
        c_ntt: &'a RnsPoly,
        scaled: &'a [u64],
    },
    /// Hoisted rotations: stored extended digits, and the NTT-slot permutation of the
    /// rotation (if any).
    Stored {
        dec: &'a Decomposed,
        perm: Option<&'a [u32]>,
    },
}

/// Buffers most kept in the pool (enough for two jobs at the largest digit count).
const POOL_MAX: usize = 64;

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
        // ModDown overflows are counted in a byte (at most the number of P primes).
        if dnum == 0 || dnum > qc || ctx.p_count() == 0 || ctx.p_count() > 255 {
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
            pool: spin::Mutex::new(Vec::new()),
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

    /// An `n`-word buffer from the pool (contents unspecified).
    pub(crate) fn take(&self, n: usize) -> Vec<u64> {
        let mut v = self.pool.lock().pop().unwrap_or_default();
        v.resize(n, 0);
        v
    }

    /// Returns a buffer to the pool.
    pub(crate) fn give(&self, v: Vec<u64>) {
        let mut pool = self.pool.lock();
        if pool.len() < POOL_MAX {
            pool.push(v);
        }
    }

    /// The coefficient limbs of `c` (either form, `l` Q limbs, no P), each scaled by
    /// `(Q_j / q_i)^-1 mod q_i` for the digit `j` it belongs to, in a pooled buffer; and
    /// `c` in NTT form if it was not.
    fn scaled_limbs(
        &self,
        ctx: &RingContext,
        c: &RnsPoly,
    ) -> Result<(Vec<u64>, Option<RnsPoly>), RlweError> {
        if c.p_limbs() != 0 || c.q_limbs() == 0 || c.n() != ctx.n() {
            return Err(RlweError::KeyShapeMismatch);
        }
        let (l, n) = (c.q_limbs(), ctx.n());
        let mut scaled = self.take(l * n);
        scaled.copy_from_slice(c.data());
        let inverse = c.form() == Form::Ntt;
        let k = ctx.kernels();
        let convs = &self.modup[l - 1];
        ctx.executor()
            .for_each_chunk_mut(&mut scaled, n, &|i, limb| {
                if inverse {
                    ctx.plan(i).inverse(limb);
                }
                convs[i / self.alpha].scale_limb(k, i % self.alpha, limb);
            });
        let ntt = if inverse {
            None
        } else {
            let mut x = c.clone();
            x.to_ntt(ctx)?;
            Some(x)
        };
        Ok((scaled, ntt))
    }

    /// Limb `t` (of `Q_l` then `P`) of digit `j`, NTT form: borrowed from `src` when it
    /// is there, otherwise computed into `buf` (ModUp conversion then NTT, or the
    /// rotation's permutation of a stored digit).
    fn digit_limb<'b>(
        &self,
        ctx: &RingContext,
        src: &'b Source<'_>,
        l: usize,
        j: usize,
        t: usize,
        buf: &'b mut [u64],
    ) -> &'b [u64] {
        let n = ctx.n();
        match *src {
            Source::Fused { c_ntt, scaled } => {
                let range = self.digit_range(j, l);
                if range.contains(&t) {
                    return c_ntt.limb(t);
                }
                // The converter's targets are Q_l without the digit, then P.
                let pos = if t < range.start { t } else { t - range.len() };
                let mut inputs = [&[][..]; 8];
                let inputs: &[&[u64]] = if range.len() <= inputs.len() {
                    for (slot, i) in inputs.iter_mut().zip(range.clone()) {
                        *slot = &scaled[i * n..(i + 1) * n];
                    }
                    &inputs[..range.len()]
                } else {
                    return self.digit_limb_wide(ctx, scaled, l, j, t, pos, buf);
                };
                self.modup[l - 1][j].accumulate_limb(ctx.kernels(), inputs, pos, buf);
                ctx.plan(ctx.limb_index(l, t)).forward(buf);
                buf
            }
            Source::Stored { dec, perm } => match perm {
                None => dec.digits[j].limb(t),
                Some(p) => {
                    ctx.kernels().permute(dec.digits[j].limb(t), p, buf);
                    buf
                }
            },
        }
    }

    /// [`Self::digit_limb`] for digits of more than 8 primes (a heap list of inputs).
    #[allow(clippy::too_many_arguments)]
    fn digit_limb_wide<'b>(
        &self,
        ctx: &RingContext,
        scaled: &[u64],
        l: usize,
        j: usize,
        t: usize,
        pos: usize,
        buf: &'b mut [u64],
    ) -> &'b [u64] {
        let n = ctx.n();
        let inputs: Vec<&[u64]> = self
            .digit_range(j, l)
            .map(|i| &scaled[i * n..(i + 1) * n])
            .collect();
        self.modup[l - 1][j].accumulate_limb(ctx.kernels(), &inputs, pos, buf);
        ctx.plan(ctx.limb_index(l, t)).forward(buf);
        buf
    }

    /// Inner product of limb `t` of every digit with the key: `(out0, out1)`. `bufs` holds
    /// `digits` buffers for the digit limbs, then (seeded keys) `digits` for the key's
    /// `a` limbs, expanded here while the limb is in cache.
    #[allow(clippy::too_many_arguments)]
    fn inner_limb(
        &self,
        ctx: &RingContext,
        src: &Source<'_>,
        key: &SwitchingKey,
        l: usize,
        digits: usize,
        t: usize,
        bufs: &mut [Vec<u64>],
        out0: &mut [u64],
        out1: &mut [u64],
    ) {
        let g = ctx.limb_index(l, t);
        let m = ctx.moduli()[g];
        let (dbufs, abufs) = bufs.split_at_mut(digits);
        let mut abufs = abufs.iter_mut();
        let mut a_limb = |j: usize| -> &[u64] {
            match abufs.next() {
                Some(buf) => key.a_limb(ctx, j, g, buf),
                None => key.a_limb(ctx, j, g, &mut []),
            }
        };
        if digits > 16 {
            let ds: Vec<&[u64]> = dbufs
                .iter_mut()
                .enumerate()
                .map(|(j, b)| self.digit_limb(ctx, src, l, j, t, b))
                .collect();
            let kb: Vec<&[u64]> = (0..digits).map(|j| key.b_limb(ctx, j, g)).collect();
            let ka: Vec<&[u64]> = (0..digits).map(&mut a_limb).collect();
            return ctx
                .kernels()
                .dot_product2(out0, out1, &ds, &kb, &ka, m.consts());
        }
        let mut d: [&[u64]; 16] = [&[]; 16];
        let mut kb: [&[u64]; 16] = [&[]; 16];
        let mut ka: [&[u64]; 16] = [&[]; 16];
        for (j, b) in dbufs.iter_mut().enumerate() {
            d[j] = self.digit_limb(ctx, src, l, j, t, b);
            kb[j] = key.b_limb(ctx, j, g);
            ka[j] = a_limb(j);
        }
        ctx.kernels().dot_product2(
            out0,
            out1,
            &d[..digits],
            &kb[..digits],
            &ka[..digits],
            m.consts(),
        );
    }

    /// The rounded overflow `u = round(sum_t y'_t / p_t)` (HPS) of the fast conversion
    /// of `p_part` (coefficient form, scaled in place to `y'_t = [x]_{p_t} (P/p_t)^-1`),
    /// in `[0, K]`. Subtracting `u P` turns the conversion `[x]_P + u P` into the centred
    /// representative of `x mod P`, so ModDown divides by `P` with rounding.
    ///
    /// Without this, `u` is biased (mean ~K/2) and the ModDown error `u * s` has a
    /// near-constant polynomial component whose value at the roots of unity near 1 is
    /// ~N/pi times larger: 2^-15 precision after a rotation at N = 2^16 instead of 2^-28.
    fn moddown_overflow(&self, ctx: &RingContext, p_part: &mut [u64], u: &mut [u8]) {
        let (n, pm) = (ctx.n(), ctx.p_moduli());
        let mut acc = vec![0.0f64; n];
        for (t, pt) in pm.iter().enumerate() {
            let y = &mut p_part[t * n..(t + 1) * n];
            ctx.kernels()
                .mul_scalar_assign(y, &self.p_hat_inv[t], pt.value());
            let inv = 1.0 / pt.value() as f64;
            for (a, &v) in acc.iter_mut().zip(y.iter()) {
                *a += v as f64 * inv;
            }
        }
        let k = pm.len();
        for (o, &v) in u.iter_mut().zip(&acc) {
            *o = ((v + 0.5) as usize).min(k) as u8;
        }
    }

    /// The key switch proper: inner product of the digits of `src` with `key`, then
    /// ModDown, limb by limb. Each target limb's ModUp conversion, NTT, inner product
    /// and ModDown correction run together while the limb is in cache, as one executor
    /// job (limbs are independent).
    fn key_switch(
        &self,
        ctx: &RingContext,
        src: &Source<'_>,
        l: usize,
        key: &SwitchingKey,
    ) -> Result<(RnsPoly, RnsPoly), RlweError> {
        let mut d0 = RnsPoly::zero(ctx, l, 0, Form::Ntt)?;
        let mut d1 = RnsPoly::zero(ctx, l, 0, Form::Ntt)?;
        self.key_switch_into(ctx, src, l, key, &mut d0, &mut d1, false)?;
        Ok((d0, d1))
    }

    /// [`Self::key_switch`] writing its result into `(d0, d1)` (`l` Q limbs, NTT form), or
    /// adding it there (`accumulate`): a relinearization adds the switched `s^2` part to
    /// the tensor's own parts limb by limb while each limb is in cache, with no zeroed
    /// outputs and no separate pass for the sum.
    #[allow(clippy::too_many_arguments)]
    fn key_switch_into(
        &self,
        ctx: &RingContext,
        src: &Source<'_>,
        l: usize,
        key: &SwitchingKey,
        d0: &mut RnsPoly,
        d1: &mut RnsPoly,
        accumulate: bool,
    ) -> Result<(), RlweError> {
        if [&*d0, &*d1].iter().any(|d| {
            d.q_limbs() != l || d.p_limbs() != 0 || d.form() != Form::Ntt || d.n() != ctx.n()
        }) {
            return Err(RlweError::KeyShapeMismatch);
        }
        let (pc, n, qc) = (ctx.p_count(), ctx.n(), ctx.q_count());
        let digits = self.check_key(ctx, l, key)?;
        let k = ctx.kernels();
        let exec = ctx.executor();
        // Seeded keys also need a buffer per digit for their expanded `a` limbs.
        let per_job = match key.storage() {
            KeyStorage::Expanded => digits,
            KeyStorage::Seeded => 2 * digits,
        };
        let job_bufs = || -> Vec<Vec<u64>> { (0..per_job).map(|_| self.take(n)).collect() };
        let give_all = |bufs: Vec<Vec<u64>>| bufs.into_iter().for_each(|b| self.give(b));

        // 1. P limbs of both inner products, back to coefficient form; then the ModDown
        //    overflow of each.
        let mut p0 = self.take(pc * n);
        let mut p1 = self.take(pc * n);
        {
            let l0: Vec<spin::Mutex<&mut [u64]>> = p0.chunks_mut(n).map(spin::Mutex::new).collect();
            let l1: Vec<spin::Mutex<&mut [u64]>> = p1.chunks_mut(n).map(spin::Mutex::new).collect();
            exec.run(pc, &|s| {
                let mut bufs = job_bufs();
                let (mut o0, mut o1) = (l0[s].lock(), l1[s].lock());
                self.inner_limb(ctx, src, key, l, digits, l + s, &mut bufs, &mut o0, &mut o1);
                let plan = ctx.plan(qc + s);
                plan.inverse(&mut o0);
                plan.inverse(&mut o1);
                give_all(bufs);
            });
        }
        let (mut u0, mut u1) = (vec![0u8; n], vec![0u8; n]);
        self.moddown_overflow(ctx, &mut p0, &mut u0);
        self.moddown_overflow(ctx, &mut p1, &mut u1);

        // 2. Q limbs: inner product, minus the NTT of the ModDown conversion, times P^-1.
        {
            let l0: Vec<spin::Mutex<&mut [u64]>> =
                d0.data_mut().chunks_mut(n).map(spin::Mutex::new).collect();
            let l1: Vec<spin::Mutex<&mut [u64]>> =
                d1.data_mut().chunks_mut(n).map(spin::Mutex::new).collect();
            let conv = &self.moddown[l - 1];
            let y0: Vec<&[u64]> = p0.chunks(n).collect();
            let y1: Vec<&[u64]> = p1.chunks(n).collect();
            exec.run(l, &|t| {
                let mut bufs = job_bufs();
                let (mut acc0, mut acc1) = (l0[t].lock(), l1[t].lock());
                // Accumulating: the switched limbs go to scratch, then are added.
                let (mut s0, mut s1) = if accumulate {
                    (self.take(n), self.take(n))
                } else {
                    (Vec::new(), Vec::new())
                };
                let (o0, o1): (&mut [u64], &mut [u64]) = if accumulate {
                    (&mut s0, &mut s1)
                } else {
                    (&mut acc0, &mut acc1)
                };
                self.inner_limb(ctx, src, key, l, digits, t, &mut bufs, o0, o1);
                let q = ctx.moduli()[t];
                let mut table = [0u64; 256];
                for (r, e) in table.iter_mut().enumerate().take(pc + 1) {
                    *e = q.mul(q.reduce(r as u64), self.p_mod_q[t]);
                }
                let tmp = &mut bufs[0];
                for (o, y, u) in [(&mut *o0, &y0, &u0), (&mut *o1, &y1, &u1)] {
                    conv.accumulate_limb(k, y, t, tmp);
                    for (c, &r) in tmp.iter_mut().zip(u.iter()) {
                        *c = q.sub(*c, table[r as usize]);
                    }
                    ctx.plan(t).forward(tmp);
                    k.sub_assign(o, tmp, q.value());
                    k.mul_scalar_assign(o, &self.p_inv_mod_q[t], q.value());
                }
                if accumulate {
                    k.add_assign(&mut acc0, &s0, q.value());
                    k.add_assign(&mut acc1, &s1, q.value());
                    self.give(s0);
                    self.give(s1);
                }
                give_all(bufs);
            });
        }
        self.give(p0);
        self.give(p1);
        Ok(())
    }

    /// The checks every switch of a level-`l` polynomial with `key` needs; returns the
    /// number of digits.
    fn check_key(
        &self,
        ctx: &RingContext,
        l: usize,
        key: &SwitchingKey,
    ) -> Result<usize, RlweError> {
        let digits = l.div_ceil(self.alpha);
        // A key restricted to lower levels lacks the limbs and digits this switch needs:
        // refuse rather than compute with missing terms.
        if key.level() + 1 < l {
            return Err(RlweError::KeyLevel {
                key_level: key.level(),
                level: l - 1,
            });
        }
        if key.dnum() < digits || key.b()[0].p_limbs() != ctx.p_count() || key.b()[0].n() != ctx.n()
        {
            return Err(RlweError::KeyShapeMismatch);
        }
        Ok(digits)
    }

    /// The inner product of the digits of `src` with `key` over all of `Q_l * P`, NTT
    /// form, without the ModDown: `(e0, e1)` with `e0 + e1 s ~ P c s'`.
    fn inner_products_qp(
        &self,
        ctx: &RingContext,
        src: &Source<'_>,
        l: usize,
        key: &SwitchingKey,
    ) -> Result<(RnsPoly, RnsPoly), RlweError> {
        let digits = self.check_key(ctx, l, key)?;
        let (pc, n) = (ctx.p_count(), ctx.n());
        let per_job = match key.storage() {
            KeyStorage::Expanded => digits,
            KeyStorage::Seeded => 2 * digits,
        };
        let mut d0 = RnsPoly::zero(ctx, l, pc, Form::Ntt)?;
        let mut d1 = RnsPoly::zero(ctx, l, pc, Form::Ntt)?;
        {
            let l0: Vec<spin::Mutex<&mut [u64]>> =
                d0.data_mut().chunks_mut(n).map(spin::Mutex::new).collect();
            let l1: Vec<spin::Mutex<&mut [u64]>> =
                d1.data_mut().chunks_mut(n).map(spin::Mutex::new).collect();
            ctx.executor().run(l + pc, &|t| {
                let mut bufs: Vec<Vec<u64>> = (0..per_job).map(|_| self.take(n)).collect();
                let (mut o0, mut o1) = (l0[t].lock(), l1[t].lock());
                self.inner_limb(ctx, src, key, l, digits, t, &mut bufs, &mut o0, &mut o1);
                bufs.into_iter().for_each(|b| self.give(b));
            });
        }
        Ok((d0, d1))
    }

    /// [`Self::apply`] without the ModDown (double hoisting): `(e0, e1)` over `Q_l * P`,
    /// NTT form, with `e0 + e1 s ~ P c s'`. Sums of such results (and of their products
    /// with plaintexts over `Q_l * P`) share one [`Self::mod_down`].
    pub fn apply_lazy(
        &self,
        ctx: &RingContext,
        dec: &Decomposed,
        key: &SwitchingKey,
        perm: Option<&[u32]>,
    ) -> Result<(RnsPoly, RnsPoly), RlweError> {
        self.inner_products_qp(ctx, &Source::Stored { dec, perm }, dec.q_limbs, key)
    }

    /// [`Self::switch`] without the ModDown: `(e0, e1)` over `Q_l * P`, NTT form, with
    /// `e0 + e1 s ~ P c s'`.
    pub fn switch_lazy(
        &self,
        ctx: &RingContext,
        c: &RnsPoly,
        key: &SwitchingKey,
    ) -> Result<(RnsPoly, RnsPoly), RlweError> {
        let (scaled, ntt) = self.scaled_limbs(ctx, c)?;
        let c_ntt = ntt.as_ref().unwrap_or(c);
        let src = Source::Fused {
            c_ntt,
            scaled: &scaled,
        };
        let out = self.inner_products_qp(ctx, &src, c.q_limbs(), key);
        self.give(scaled);
        out
    }

    /// `x * P` over `Q_l * P` for `x` over `Q_l` (NTT form): zero P limbs (the lift of a
    /// ciphertext part into the extended basis, next to lazily switched parts).
    pub fn lift_by_p(&self, ctx: &RingContext, x: &RnsPoly) -> Result<RnsPoly, RlweError> {
        if x.p_limbs() != 0 || x.form() != Form::Ntt {
            return Err(RlweError::KeyShapeMismatch);
        }
        let (l, n) = (x.q_limbs(), ctx.n());
        let mut out = RnsPoly::zero(ctx, l, ctx.p_count(), Form::Ntt)?;
        out.data_mut()[..l * n].copy_from_slice(x.data());
        let k = ctx.kernels();
        ctx.executor()
            .for_each_chunk_mut(&mut out.data_mut()[..l * n], n, &|t, limb| {
                let q = ctx.moduli()[t];
                k.mul_scalar_assign(limb, &q.shoup(self.p_mod_q[t]), q.value());
            });
        Ok(out)
    }

    /// `acc += x * P` on the Q limbs of `acc` (over `Q_l * P`) for `x` over `Q_l`.
    pub fn add_lifted(
        &self,
        ctx: &RingContext,
        acc: &mut RnsPoly,
        x: &RnsPoly,
    ) -> Result<(), RlweError> {
        let (l, n) = (acc.q_limbs(), ctx.n());
        if x.q_limbs() < l || x.p_limbs() != 0 || x.form() != Form::Ntt || acc.form() != Form::Ntt {
            return Err(RlweError::KeyShapeMismatch);
        }
        let k = ctx.kernels();
        ctx.executor()
            .for_each_chunk_mut(&mut acc.data_mut()[..l * n], n, &|t, limb| {
                let q = ctx.moduli()[t];
                k.mul_scalar_add_assign(limb, x.limb(t), &q.shoup(self.p_mod_q[t]), q.value());
            });
        Ok(())
    }

    /// ModUp: the digits of `c` (`l` Q limbs, no P, either form), each extended to
    /// `Q_l * P` in NTT form, for many key switches of one polynomial (hoisting).
    pub fn decompose(&self, ctx: &RingContext, c: &RnsPoly) -> Result<Decomposed, RlweError> {
        let (scaled, ntt) = self.scaled_limbs(ctx, c)?;
        let c_ntt = ntt.as_ref().unwrap_or(c);
        let (l, pc, n) = (c.q_limbs(), ctx.p_count(), ctx.n());
        let src = Source::Fused {
            c_ntt,
            scaled: &scaled,
        };
        let mut digits = Vec::with_capacity(l.div_ceil(self.alpha));
        for j in 0..l.div_ceil(self.alpha) {
            let mut ext = RnsPoly::zero(ctx, l, pc, Form::Ntt)?;
            let own = self.digit_range(j, l);
            ctx.executor()
                .for_each_chunk_mut(ext.data_mut(), n, &|t, limb| {
                    // The digit's own limbs are the input's; the others are converted
                    // straight into their place.
                    if own.contains(&t) {
                        limb.copy_from_slice(c_ntt.limb(t));
                    } else {
                        self.digit_limb(ctx, &src, l, j, t, limb);
                    }
                });
            digits.push(ext);
        }
        self.give(scaled);
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
        self.key_switch(ctx, &Source::Stored { dec, perm }, dec.q_limbs, key)
    }

    /// `round(x / P)` from `Q_l * P` (NTT form) to `Q_l` (NTT form).
    pub fn mod_down(&self, ctx: &RingContext, x: RnsPoly) -> Result<RnsPoly, RlweError> {
        let (l, pc, n) = (x.q_limbs(), x.p_limbs(), ctx.n());
        if pc != ctx.p_count() || x.form() != Form::Ntt {
            return Err(RlweError::KeyShapeMismatch);
        }
        let k = ctx.kernels();
        let mut p_part = x.p_part().to_vec();
        ctx.executor()
            .for_each_chunk_mut(&mut p_part, n, &|t, limb| {
                ctx.plan(ctx.q_count() + t).inverse(limb)
            });
        let mut u = vec![0u8; n];
        self.moddown_overflow(ctx, &mut p_part, &mut u);
        let y: Vec<&[u64]> = p_part.chunks(n).collect();
        let mut out = x;
        out.drop_p_limbs();
        let conv = &self.moddown[l - 1];
        ctx.executor()
            .for_each_chunk_mut(out.data_mut(), n, &|t, o| {
                let q = ctx.moduli()[t];
                let mut table = [0u64; 256];
                for (r, e) in table.iter_mut().enumerate().take(pc + 1) {
                    *e = q.mul(q.reduce(r as u64), self.p_mod_q[t]);
                }
                let mut tmp = self.take(n);
                conv.accumulate_limb(k, &y, t, &mut tmp);
                for (c, &r) in tmp.iter_mut().zip(&u) {
                    *c = q.sub(*c, table[r as usize]);
                }
                ctx.plan(t).forward(&mut tmp);
                k.sub_assign(o, &tmp, q.value());
                k.mul_scalar_assign(o, &self.p_inv_mod_q[t], q.value());
                self.give(tmp);
            });
        Ok(out)
    }

    /// `(acc0, acc1) += switch(c, key)` (see [`Self::switch`]), limb by limb: the
    /// relinearization of a tensor into its own `(d0, d1)`.
    pub fn switch_add(
        &self,
        ctx: &RingContext,
        c: &RnsPoly,
        key: &SwitchingKey,
        acc0: &mut RnsPoly,
        acc1: &mut RnsPoly,
    ) -> Result<(), RlweError> {
        let (scaled, ntt) = self.scaled_limbs(ctx, c)?;
        let c_ntt = ntt.as_ref().unwrap_or(c);
        let src = Source::Fused {
            c_ntt,
            scaled: &scaled,
        };
        let out = self.key_switch_into(ctx, &src, c.q_limbs(), key, acc0, acc1, true);
        self.give(scaled);
        out
    }

    /// Full key switch of `c` (`l` Q limbs, no P, either form; NTT form saves the
    /// forward transforms of the digits' own limbs): `(d0, d1)` over `Q_l`, NTT form,
    /// with `d0 + d1 s ~ c s'`.
    pub fn switch(
        &self,
        ctx: &RingContext,
        c: &RnsPoly,
        key: &SwitchingKey,
    ) -> Result<(RnsPoly, RnsPoly), RlweError> {
        let (scaled, ntt) = self.scaled_limbs(ctx, c)?;
        let c_ntt = ntt.as_ref().unwrap_or(c);
        let src = Source::Fused {
            c_ntt,
            scaled: &scaled,
        };
        let out = self.key_switch(ctx, &src, c.q_limbs(), key);
        self.give(scaled);
        out
    }
}
