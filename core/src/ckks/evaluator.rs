//! The CKKS evaluator: the server side, built from the context and evaluation keys.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::complex::Complex;
use super::encoder::galois_element_for_conjugation;
use super::scheme::{Ciphertext, CkksContext, CkksError, EvaluationKeys, KeyId, Plaintext};
use crate::ring::{Form, RnsPoly};
use crate::rlwe::SwitchingKey;

/// Relative tolerance under which two scales count as equal: far below CKKS noise
/// (2^-40), far above f64 rounding differences between equivalent scale paths.
const SCALE_TOLERANCE: f64 = 1e-9;

/// Largest constant multiplied as an exact integer (no level spent).
const MAX_INT_CONST: f64 = (1u64 << 40) as f64;

/// How many of each operation an [`Evaluator`] has run (see [`Evaluator::counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// Ciphertext-ciphertext multiplications (each with a relinearization).
    pub mul: u64,
    /// Plaintext multiplications.
    pub mul_plain: u64,
    /// Constant multiplications.
    pub mul_const: u64,
    /// Additions and subtractions (ciphertext, plaintext or constant operand).
    pub add: u64,
    /// Rescales.
    pub rescale: u64,
    /// Single rotations.
    pub rotate: u64,
    /// Rotations computed in a hoisted batch.
    pub rotate_hoisted: u64,
    /// Conjugations.
    pub conjugate: u64,
    /// Key switches (relinearizations, rotations, conjugations).
    pub key_switch: u64,
}

/// Lock-free counters behind [`OpCounts`].
#[derive(Debug, Default)]
struct Counters([AtomicU64; 9]);

#[derive(Clone, Copy)]
enum Op {
    Mul,
    MulPlain,
    MulConst,
    Add,
    Rescale,
    Rotate,
    RotateHoisted,
    Conjugate,
    KeySwitch,
}

impl Counters {
    fn bump(&self, op: Op) {
        self.0[op as usize].fetch_add(1, Ordering::Relaxed);
    }
    fn snapshot(&self) -> OpCounts {
        let g = |op: Op| self.0[op as usize].load(Ordering::Relaxed);
        OpCounts {
            mul: g(Op::Mul),
            mul_plain: g(Op::MulPlain),
            mul_const: g(Op::MulConst),
            add: g(Op::Add),
            rescale: g(Op::Rescale),
            rotate: g(Op::Rotate),
            rotate_hoisted: g(Op::RotateHoisted),
            conjugate: g(Op::Conjugate),
            key_switch: g(Op::KeySwitch),
        }
    }
    fn reset(&self) {
        self.0.iter().for_each(|c| c.store(0, Ordering::Relaxed));
    }
}

/// Homomorphic operations on [`Ciphertext`]s. Holds no secret.
///
/// Operands at different levels are aligned by dropping the higher one (exact: dropping
/// limbs does not change the scale). Operands whose scales differ are an error for
/// additions; multiplications multiply the scales.
pub struct Evaluator<'a> {
    ctx: &'a CkksContext,
    keys: &'a EvaluationKeys,
    counts: Counters,
}

/// A degree-2 ciphertext `(d0, d1, d2)`, decrypting with `(1, s, s^2)`: a product not yet
/// relinearized (see [`Evaluator::mul_tensor`]).
#[derive(Clone, Debug)]
pub struct Tensor {
    d0: RnsPoly,
    d1: RnsPoly,
    d2: RnsPoly,
    /// The exact scale.
    pub scale: f64,
    /// Number of slots.
    pub slots: usize,
}

impl Tensor {
    /// Level (rescales left).
    pub fn level(&self) -> usize {
        self.d0.q_limbs() - 1
    }
}

fn same_scale(a: f64, b: f64) -> bool {
    ((a - b) / a).abs() < SCALE_TOLERANCE
}

impl<'a> Evaluator<'a> {
    /// A server-side evaluator from public material only.
    pub fn new(ctx: &'a CkksContext, keys: &'a EvaluationKeys) -> Self {
        Self {
            ctx,
            keys,
            counts: Counters::default(),
        }
    }

    /// Operations run so far (a cheap relaxed-atomic counter).
    pub fn counts(&self) -> OpCounts {
        self.counts.snapshot()
    }

    /// Sets every counter back to zero.
    pub fn reset_counts(&self) {
        self.counts.reset();
    }

    /// The context.
    pub fn context(&self) -> &CkksContext {
        self.ctx
    }

    /// Drops `ct` to `level` (exact; the scale is unchanged).
    pub fn drop_to_level(&self, ct: &Ciphertext, level: usize) -> Result<Ciphertext, CkksError> {
        if level > ct.level() {
            return Err(CkksError::BadLevel {
                current: ct.level(),
                requested: level,
            });
        }
        // Copy only the limbs kept (a clone then truncation copies them all).
        Ok(Ciphertext {
            c0: self.prefix(&ct.c0, level + 1)?,
            c1: self.prefix(&ct.c1, level + 1)?,
            scale: ct.scale,
            slots: ct.slots,
        })
    }

    /// The first `limbs` Q limbs of `p` (a ciphertext or plaintext polynomial, no P).
    fn prefix(&self, p: &RnsPoly, limbs: usize) -> Result<RnsPoly, CkksError> {
        if limbs == p.q_limbs() && p.p_limbs() == 0 {
            return Ok(p.clone());
        }
        Ok(p.q_prefix(limbs)?)
    }

    /// `f(limb of x, limb of y, modulus)` over `x`'s limbs (`y` has at least as many, no
    /// P limbs): an operation with an operand at a higher level without copying it.
    fn zip_prefix(
        &self,
        x: &mut RnsPoly,
        y: &RnsPoly,
        f: impl Fn(&mut [u64], &[u64], &crate::math::Modulus),
    ) -> Result<(), CkksError> {
        if y.q_limbs() < x.q_limbs() || x.p_limbs() != 0 || y.form() != x.form() {
            return Err(CkksError::BadLevel {
                current: y.q_limbs().saturating_sub(1),
                requested: x.q_limbs().saturating_sub(1),
            });
        }
        let ring = self.ctx.ring();
        let n = ring.n();
        for (i, limb) in x.data_mut().chunks_exact_mut(n).enumerate() {
            f(limb, y.limb(i), &ring.moduli()[i]);
        }
        Ok(())
    }

    fn align(&self, a: &Ciphertext, b: &Ciphertext) -> Result<(Ciphertext, Ciphertext), CkksError> {
        if a.slots != b.slots {
            return Err(CkksError::SlotMismatch(a.slots, b.slots));
        }
        let l = a.level().min(b.level());
        Ok((self.drop_to_level(a, l)?, self.drop_to_level(b, l)?))
    }

    fn check_add_scales(a: &Ciphertext, b_level: usize, b_scale: f64) -> Result<(), CkksError> {
        if !same_scale(a.scale, b_scale) {
            return Err(CkksError::ScaleMismatch {
                left: (a.level(), a.scale),
                right: (b_level, b_scale),
            });
        }
        Ok(())
    }

    /// `a + b`.
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.counts.bump(Op::Add);
        let k = self.ctx.ring().kernels();
        self.combine(a, b, |x, y, m| k.add_assign(x, y, m.value()))
    }

    /// `a - b`.
    pub fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.counts.bump(Op::Add);
        let k = self.ctx.ring().kernels();
        self.combine(a, b, |x, y, m| k.sub_assign(x, y, m.value()))
    }

    /// `acc += b` in place, at the lower level (`acc` drops limbs if it is higher): no
    /// new ciphertext, for accumulation loops.
    pub fn add_assign(&self, acc: &mut Ciphertext, b: &Ciphertext) -> Result<(), CkksError> {
        self.counts.bump(Op::Add);
        let k = self.ctx.ring().kernels();
        self.combine_assign(acc, b, |x, y, m| k.add_assign(x, y, m.value()))
    }

    /// `acc -= b` in place (see [`Self::add_assign`]).
    pub fn sub_assign(&self, acc: &mut Ciphertext, b: &Ciphertext) -> Result<(), CkksError> {
        self.counts.bump(Op::Add);
        let k = self.ctx.ring().kernels();
        self.combine_assign(acc, b, |x, y, m| k.sub_assign(x, y, m.value()))
    }

    fn combine_assign(
        &self,
        acc: &mut Ciphertext,
        b: &Ciphertext,
        f: impl Fn(&mut [u64], &[u64], &crate::math::Modulus),
    ) -> Result<(), CkksError> {
        if acc.slots != b.slots {
            return Err(CkksError::SlotMismatch(acc.slots, b.slots));
        }
        Self::check_add_scales(acc, b.level(), b.scale)?;
        let drop = acc.level().saturating_sub(b.level());
        acc.c0.drop_q_limbs(drop)?;
        acc.c1.drop_q_limbs(drop)?;
        self.zip_prefix(&mut acc.c0, &b.c0, &f)?;
        self.zip_prefix(&mut acc.c1, &b.c1, &f)
    }

    /// `a (op) b` limb-wise at the lower level, copying only `a`'s kept limbs.
    fn combine(
        &self,
        a: &Ciphertext,
        b: &Ciphertext,
        f: impl Fn(&mut [u64], &[u64], &crate::math::Modulus),
    ) -> Result<Ciphertext, CkksError> {
        let mut x = self.drop_to_level(a, a.level().min(b.level()))?;
        self.combine_assign(&mut x, b, f)?;
        Ok(x)
    }

    /// `acc += a * pt` (`pt` at `acc`'s scale ratio: `acc.scale = a.scale * pt.scale`),
    /// at `acc`'s level, with no temporary: the accumulation of a plaintext-matrix
    /// product. Counted as one plaintext multiplication and one addition.
    pub fn mul_plain_acc(
        &self,
        acc: &mut Ciphertext,
        a: &Ciphertext,
        pt: &Plaintext,
    ) -> Result<(), CkksError> {
        self.counts.bump(Op::MulPlain);
        self.counts.bump(Op::Add);
        if acc.slots != a.slots {
            return Err(CkksError::SlotMismatch(acc.slots, a.slots));
        }
        Self::check_add_scales(acc, a.level(), a.scale * pt.scale)?;
        let l = acc.c0.q_limbs();
        if a.c0.q_limbs() < l || pt.poly.q_limbs() < l || pt.poly.form() != Form::Ntt {
            return Err(CkksError::BadLevel {
                current: a.level().min(pt.level()),
                requested: acc.level(),
            });
        }
        let ring = self.ctx.ring();
        let (k, n) = (ring.kernels(), ring.n());
        for (out, inp) in [(&mut acc.c0, &a.c0), (&mut acc.c1, &a.c1)] {
            for (i, limb) in out.data_mut().chunks_exact_mut(n).enumerate() {
                k.mul_add_assign(
                    limb,
                    inp.limb(i),
                    pt.poly.limb(i),
                    ring.moduli()[i].consts(),
                );
            }
        }
        Ok(())
    }

    /// `-a`.
    pub fn neg(&self, a: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let mut x = a.clone();
        x.c0.neg_assign(self.ctx.ring())?;
        x.c1.neg_assign(self.ctx.ring())?;
        Ok(x)
    }

    fn plain_at(&self, pt: &Plaintext, level: usize) -> Result<RnsPoly, CkksError> {
        if pt.level() < level {
            return Err(CkksError::BadLevel {
                current: pt.level(),
                requested: level,
            });
        }
        let mut p = pt.poly.clone();
        p.drop_q_limbs(pt.level() - level)?;
        Ok(p)
    }

    /// `a + pt` (same scale).
    pub fn add_plain(&self, a: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext, CkksError> {
        self.counts.bump(Op::Add);
        Self::check_add_scales(a, pt.level(), pt.scale)?;
        let mut x = a.clone();
        x.c0.add_assign(self.ctx.ring(), &self.plain_at(pt, a.level())?)?;
        Ok(x)
    }

    /// `a * pt` (scales multiply; rescale afterwards).
    pub fn mul_plain(&self, a: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext, CkksError> {
        self.counts.bump(Op::MulPlain);
        if pt.level() < a.level() {
            return Err(CkksError::BadLevel {
                current: pt.level(),
                requested: a.level(),
            });
        }
        if pt.poly.form() != Form::Ntt || a.c0.form() != Form::Ntt {
            // The ring product checks the forms.
            let p = self.plain_at(pt, a.level())?;
            let mut x = a.clone();
            x.c0.mul_assign(self.ctx.ring(), &p)?;
            x.c1.mul_assign(self.ctx.ring(), &p)?;
            x.scale *= pt.scale;
            return Ok(x);
        }
        let k = self.ctx.ring().kernels();
        let mut x = a.clone();
        self.zip_prefix(&mut x.c0, &pt.poly, |v, w, m| {
            k.mul_assign(v, w, m.consts())
        })?;
        self.zip_prefix(&mut x.c1, &pt.poly, |v, w, m| {
            k.mul_assign(v, w, m.consts())
        })?;
        x.scale *= pt.scale;
        Ok(x)
    }

    /// `a + c` in every slot (`c` complex; no level spent).
    pub fn add_const(&self, a: &Ciphertext, c: Complex) -> Result<Ciphertext, CkksError> {
        let mut x = a.clone();
        self.add_const_assign(&mut x, c)?;
        Ok(x)
    }

    /// [`Self::add_const`] in place (no copy of `a`).
    pub fn add_const_assign(&self, x: &mut Ciphertext, c: Complex) -> Result<(), CkksError> {
        self.counts.bump(Op::Add);
        let ring = self.ctx.ring();
        let limbs = x.level() + 1;
        // The constant polynomial `re + im X^(N/2)`: in NTT form `re` at every point plus
        // `im` times the NTT of `X^(N/2)` (kept by the context), so no transform is needed.
        let parts = [libm::round(c.re * x.scale), libm::round(c.im * x.scale)];
        let mut res = alloc::vec![0u64; 2 * limbs];
        super::encoder::coeffs_to_residues(&parts, &self.ctx.params().q()[..limbs], &mut res)?;
        if x.c0.form() != Form::Ntt {
            return Err(crate::ring::RingError::WrongForm {
                expected: Form::Ntt,
            }
            .into());
        }
        let (k, n) = (ring.kernels(), ring.n());
        let mono = self.ctx.monomial_i();
        for (i, limb) in x.c0.data_mut().chunks_exact_mut(n).enumerate() {
            let q = ring.moduli()[i];
            let (re, im) = (res[2 * i], res[2 * i + 1]);
            if re != 0 {
                limb.iter_mut().for_each(|v| *v = q.add(*v, re));
            }
            if im != 0 {
                k.mul_scalar_add_assign(limb, mono.limb(i), &q.shoup(im), q.value());
            }
        }
        Ok(())
    }

    fn mul_int(&self, a: &Ciphertext, c: i64) -> Result<Ciphertext, CkksError> {
        let ring = self.ctx.ring();
        let consts: Vec<u64> = ring.q_moduli()[..=a.level()]
            .iter()
            .map(|m| m.reduce_i64(c))
            .collect();
        let mut x = a.clone();
        x.c0.mul_rns_scalar_assign(ring, &consts)?;
        x.c1.mul_rns_scalar_assign(ring, &consts)?;
        Ok(x)
    }

    fn mul_i(&self, a: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let mut m = self.ctx.monomial_i().clone();
        m.drop_q_limbs(m.q_limbs() - a.c0.q_limbs())?;
        let mut x = a.clone();
        x.c0.mul_assign(self.ctx.ring(), &m)?;
        x.c1.mul_assign(self.ctx.ring(), &m)?;
        Ok(x)
    }

    /// `a * c` for a real constant. An integer constant (|c| < 2^40) costs no level and
    /// keeps the scale; otherwise `c` is encoded at the scale `q_level` (the prime the
    /// next rescale removes), so after [`Self::rescale`] the scale is exactly `a`'s.
    pub fn mul_const(&self, a: &Ciphertext, c: f64) -> Result<Ciphertext, CkksError> {
        self.mul_complex_const(a, Complex::from_real(c))
    }

    /// `a * z` for a complex constant; Gaussian integers (including `+-i`) cost no level.
    pub fn mul_complex_const(&self, a: &Ciphertext, z: Complex) -> Result<Ciphertext, CkksError> {
        self.counts.bump(Op::MulConst);
        let integral = |v: f64| v == libm::trunc(v) && v.abs() < MAX_INT_CONST;
        if integral(z.re) && integral(z.im) {
            let re = self.mul_int(a, z.re as i64)?;
            if z.im == 0.0 {
                return Ok(re);
            }
            let im = self.mul_int(&self.mul_i(a)?, z.im as i64)?;
            return self.add(&re, &im);
        }
        if a.level() == 0 {
            return Err(CkksError::LevelExhausted);
        }
        let ql = self.ctx.params().q()[a.level()] as f64;
        let re = self.mul_int(a, libm::round(z.re * ql) as i64)?;
        let mut out = if z.im != 0.0 {
            let im = self.mul_int(&self.mul_i(a)?, libm::round(z.im * ql) as i64)?;
            self.add(&re, &im)?
        } else {
            re
        };
        out.scale *= ql;
        Ok(out)
    }

    fn relin_key(&self) -> Result<&SwitchingKey, CkksError> {
        self.keys.relin.as_ref().ok_or(CkksError::MissingRelinKey)
    }

    /// `a * b` with relinearization (scales multiply; rescale afterwards).
    pub fn mul_relin(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, CkksError> {
        let t = self.mul_tensor(a, b)?;
        self.relinearize(t)
    }

    /// `a * b` without relinearization: products at one level and scale can be summed
    /// ([`Self::add_tensor_assign`]) and relinearized once ([`Self::relinearize`]).
    /// Counted as a multiplication.
    pub fn mul_tensor(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Tensor, CkksError> {
        self.counts.bump(Op::Mul);
        if a.slots != b.slots {
            return Err(CkksError::SlotMismatch(a.slots, b.slots));
        }
        if a.c0.form() != Form::Ntt || b.c0.form() != Form::Ntt {
            let (x, y) = self.align(a, b)?;
            let ring = self.ctx.ring();
            let mut d0 = x.c0.clone();
            d0.mul_assign(ring, &y.c0)?;
            let mut d1 = x.c0;
            d1.mul_assign(ring, &y.c1)?;
            d1.mul_add_assign(ring, &x.c1, &y.c0)?;
            let mut d2 = x.c1;
            d2.mul_assign(ring, &y.c1)?;
            return Ok(Tensor {
                d0,
                d1,
                d2,
                scale: x.scale * y.scale,
                slots: x.slots,
            });
        }
        // Each output starts as a copy of the kept limbs of one factor and is multiplied in
        // place by the other's limbs: three copies instead of aligning both operands.
        let limbs = a.level().min(b.level()) + 1;
        let k = self.ctx.ring().kernels();
        let mut d0 = self.prefix(&a.c0, limbs)?;
        self.zip_prefix(&mut d0, &b.c0, |v, w, m| k.mul_assign(v, w, m.consts()))?;
        let mut d1 = self.prefix(&a.c0, limbs)?;
        self.zip_prefix(&mut d1, &b.c1, |v, w, m| k.mul_assign(v, w, m.consts()))?;
        let ring = self.ctx.ring();
        for (i, limb) in d1.data_mut().chunks_exact_mut(ring.n()).enumerate() {
            k.mul_add_assign(limb, a.c1.limb(i), b.c0.limb(i), ring.moduli()[i].consts());
        }
        let mut d2 = self.prefix(&a.c1, limbs)?;
        self.zip_prefix(&mut d2, &b.c1, |v, w, m| k.mul_assign(v, w, m.consts()))?;
        Ok(Tensor {
            d0,
            d1,
            d2,
            scale: a.scale * b.scale,
            slots: a.slots,
        })
    }

    /// `acc += t` (same level and scale).
    pub fn add_tensor_assign(&self, acc: &mut Tensor, t: &Tensor) -> Result<(), CkksError> {
        self.counts.bump(Op::Add);
        if acc.slots != t.slots {
            return Err(CkksError::SlotMismatch(acc.slots, t.slots));
        }
        if !same_scale(acc.scale, t.scale) {
            return Err(CkksError::ScaleMismatch {
                left: (acc.level(), acc.scale),
                right: (t.level(), t.scale),
            });
        }
        let ring = self.ctx.ring();
        acc.d0.add_assign(ring, &t.d0)?;
        acc.d1.add_assign(ring, &t.d1)?;
        acc.d2.add_assign(ring, &t.d2)?;
        Ok(())
    }

    /// Switches the `s^2` part of `t` back to `s` (one key switch).
    pub fn relinearize(&self, t: Tensor) -> Result<Ciphertext, CkksError> {
        let ring = self.ctx.ring();
        // NTT form: the key switch needs it for the digits' own limbs anyway.
        self.counts.bump(Op::KeySwitch);
        let (mut d0, mut d1) = (t.d0, t.d1);
        self.ctx
            .switcher()
            .switch_add(ring, &t.d2, self.relin_key()?, &mut d0, &mut d1)
            .map_err(CkksError::with_key(KeyId::Relin))?;
        Ok(Ciphertext {
            c0: d0,
            c1: d1,
            scale: t.scale,
            slots: t.slots,
        })
    }

    /// Divides by the last prime `q_l` and drops it: level - 1, scale / q_l.
    pub fn rescale(&self, a: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.counts.bump(Op::Rescale);
        let l = a.level();
        if l == 0 {
            return Err(CkksError::LevelExhausted);
        }
        let ql = self.ctx.params().q()[l];
        Ok(Ciphertext {
            c0: self.rescale_poly(&a.c0)?,
            c1: self.rescale_poly(&a.c1)?,
            scale: a.scale / ql as f64,
            slots: a.slots,
        })
    }

    /// [`Self::rescale`] of a ciphertext the caller no longer needs: its kept limbs are
    /// corrected in place instead of copied first (a full pass over the data less, for
    /// `rescale(&product)` patterns).
    pub fn rescale_owned(&self, a: Ciphertext) -> Result<Ciphertext, CkksError> {
        if a.c0.p_limbs() != 0 || a.c1.p_limbs() != 0 {
            return self.rescale(&a);
        }
        self.counts.bump(Op::Rescale);
        let l = a.level();
        if l == 0 {
            return Err(CkksError::LevelExhausted);
        }
        let ql = self.ctx.params().q()[l];
        Ok(Ciphertext {
            c0: self.rescale_poly_owned(a.c0)?,
            c1: self.rescale_poly_owned(a.c1)?,
            scale: a.scale / ql as f64,
            slots: a.slots,
        })
    }

    fn rescale_poly(&self, p: &RnsPoly) -> Result<RnsPoly, CkksError> {
        // Only the kept limbs are copied.
        let out = self.prefix(p, p.q_limbs() - 1)?;
        self.rescale_correct(p.limb(p.q_limbs() - 1).to_vec(), out)
    }

    fn rescale_poly_owned(&self, mut p: RnsPoly) -> Result<RnsPoly, CkksError> {
        let last = p.limb(p.q_limbs() - 1).to_vec();
        p.drop_q_limbs(1)?;
        self.rescale_correct(last, p)
    }

    /// `(out - [last + h]_{q_l} + h) / q_l` limb by limb, `out` holding the kept limbs of
    /// a polynomial (NTT form) whose dropped limb `q_l` is `last` (NTT form).
    fn rescale_correct(&self, mut last: Vec<u64>, mut out: RnsPoly) -> Result<RnsPoly, CkksError> {
        let ring = self.ctx.ring();
        let k = ring.kernels();
        let (l, n) = (out.q_limbs(), ring.n());
        // Rounded division: (c + h - [c + h]_{q_l}) / q_l with h = floor(q_l / 2), so the
        // error is in [-1/2, 1/2] with no bias.
        let ql = ring.moduli()[l];
        let h = ql.value() / 2;
        ring.plan(l).inverse(&mut last);
        for x in last.iter_mut() {
            *x = ql.add(*x, h);
        }
        // Each kept limb is corrected as one executor job.
        let pool = self.ctx.switcher();
        ring.executor()
            .for_each_chunk_mut(out.data_mut(), n, &|i, limb| {
                let m = ring.moduli()[i];
                let mut tmp = pool.take(n);
                tmp.copy_from_slice(&last);
                if ql.value() > m.value() {
                    k.reduce_assign(&mut tmp, m.consts());
                }
                // [c + h]_{q_l} - h, coefficient-wise, then to NTT form.
                let h_i = m.reduce(h);
                for x in tmp.iter_mut() {
                    *x = m.sub(*x, h_i);
                }
                ring.plan(i).forward(&mut tmp);
                k.sub_assign(limb, &tmp, m.value());
                k.mul_scalar_assign(limb, self.ctx.rescale_inv(l, i), m.value());
                pool.give(tmp);
            });
        Ok(out)
    }

    /// `mul_relin` then `rescale`.
    pub fn mul_relin_rescale(
        &self,
        a: &Ciphertext,
        b: &Ciphertext,
    ) -> Result<Ciphertext, CkksError> {
        self.rescale_owned(self.mul_relin(a, b)?)
    }

    /// The Galois key of `g`, for transforms that drive the key switcher directly (the
    /// double-hoisted linear transforms of bootstrapping), counting one rotation (hoisted
    /// or not) and one key switch.
    pub(crate) fn rotation_key(&self, g: usize, hoisted: bool) -> Result<&SwitchingKey, CkksError> {
        let key = self.galois_key(g)?;
        self.counts.bump(if hoisted {
            Op::RotateHoisted
        } else {
            Op::Rotate
        });
        self.counts.bump(Op::KeySwitch);
        Ok(key)
    }

    fn galois_key(&self, g: usize) -> Result<&SwitchingKey, CkksError> {
        self.keys
            .galois
            .get(&g)
            .ok_or(CkksError::MissingGaloisKey(g))
    }

    /// Applies `X -> X^g` and switches back to `s` (rotation or conjugation).
    pub fn automorphism(&self, a: &Ciphertext, g: usize) -> Result<Ciphertext, CkksError> {
        self.counts.bump(Op::KeySwitch);
        let ring = self.ctx.ring();
        let key = self.galois_key(g)?;
        let c0 = a.c0.automorphism(ring, g)?;
        let c1 = a.c1.automorphism(ring, g)?;
        let (mut d0, d1) = self
            .ctx
            .switcher()
            .switch(ring, &c1, key)
            .map_err(CkksError::with_key(KeyId::Galois(g)))?;
        d0.add_assign(ring, &c0)?;
        Ok(Ciphertext {
            c0: d0,
            c1: d1,
            scale: a.scale,
            slots: a.slots,
        })
    }

    /// Rotates the slots left by `steps` (negative: right).
    pub fn rotate(&self, a: &Ciphertext, steps: isize) -> Result<Ciphertext, CkksError> {
        let g = self.ctx.rotation_element(steps);
        if g == 1 {
            return Ok(a.clone());
        }
        self.counts.bump(Op::Rotate);
        self.automorphism(a, g)
    }

    /// Complex conjugation of every slot.
    pub fn conjugate(&self, a: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.counts.bump(Op::Conjugate);
        self.automorphism(a, galois_element_for_conjugation(self.ctx.params().n()))
    }

    /// `sum_i rot(a_i, steps_i)` for different ciphertexts at one level and scale, with
    /// one ModDown for the whole sum instead of one per rotation: each key switch stays
    /// over `Q * P` and the sum is divided by `P` once (also one rounding error instead
    /// of one per term). A step of 0 adds `a_i` itself.
    pub fn sum_rotations(&self, terms: &[(&Ciphertext, isize)]) -> Result<Ciphertext, CkksError> {
        let ((first, _), _) = terms.split_first().ok_or(CkksError::LevelExhausted)?;
        let (ring, sw) = (self.ctx.ring(), self.ctx.switcher());
        let mut acc: Option<(RnsPoly, RnsPoly)> = None;
        for &(a, s) in terms {
            if a.slots != first.slots {
                return Err(CkksError::SlotMismatch(first.slots, a.slots));
            }
            if a.level() != first.level() {
                return Err(CkksError::BadLevel {
                    current: a.level(),
                    requested: first.level(),
                });
            }
            Self::check_add_scales(first, a.level(), a.scale)?;
            let g = self.ctx.rotation_element(s);
            let (t0, t1) = if g == 1 {
                (sw.lift_by_p(ring, &a.c0)?, sw.lift_by_p(ring, &a.c1)?)
            } else {
                let key = self.rotation_key(g, false)?;
                let c1 = a.c1.automorphism(ring, g)?;
                let (mut k0, k1) = sw
                    .switch_lazy(ring, &c1, key)
                    .map_err(CkksError::with_key(KeyId::Galois(g)))?;
                sw.add_lifted(ring, &mut k0, &a.c0.automorphism(ring, g)?)?;
                (k0, k1)
            };
            match &mut acc {
                None => acc = Some((t0, t1)),
                Some((a0, a1)) => {
                    a0.add_assign(ring, &t0)?;
                    a1.add_assign(ring, &t1)?;
                }
            }
        }
        let (a0, a1) = acc.ok_or(CkksError::LevelExhausted)?;
        Ok(Ciphertext {
            c0: sw.mod_down(ring, a0)?,
            c1: sw.mod_down(ring, a1)?,
            scale: first.scale,
            slots: first.slots,
        })
    }

    /// Several rotations of one ciphertext sharing one decomposition (hoisting).
    pub fn rotate_hoisted(
        &self,
        a: &Ciphertext,
        steps: &[isize],
    ) -> Result<Vec<Ciphertext>, CkksError> {
        let ring = self.ctx.ring();
        let dec = self.ctx.switcher().decompose(ring, &a.c1)?;
        steps
            .iter()
            .map(|&s| {
                let g = self.ctx.rotation_element(s);
                if g == 1 {
                    return Ok(a.clone());
                }
                let key = self.galois_key(g)?;
                self.counts.bump(Op::RotateHoisted);
                self.counts.bump(Op::KeySwitch);
                let perm = ring.ntt_permutation(g)?;
                let (mut d0, d1) = self
                    .ctx
                    .switcher()
                    .apply(ring, &dec, key, Some(&perm))
                    .map_err(CkksError::with_key(KeyId::Galois(g)))?;
                d0.add_assign(ring, &a.c0.automorphism(ring, g)?)?;
                Ok(Ciphertext {
                    c0: d0,
                    c1: d1,
                    scale: a.scale,
                    slots: a.slots,
                })
            })
            .collect()
    }

    /// `sum_{i < span} rot(a, i * stride)` by `log2(span)` rotate-and-add steps
    /// (`span` a power of two).
    pub fn rotate_and_sum(
        &self,
        a: &Ciphertext,
        span: usize,
        stride: isize,
    ) -> Result<Ciphertext, CkksError> {
        assert!(
            span.is_power_of_two(),
            "rotate_and_sum: span must be a power of two"
        );
        let mut acc = a.clone();
        let mut shift = 1isize;
        while (shift as usize) < span {
            let r = self.rotate(&acc, shift * stride)?;
            acc = self.add(&acc, &r)?;
            shift <<= 1;
        }
        Ok(acc)
    }
}
