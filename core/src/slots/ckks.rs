//! [`CkksEngine`]: the CKKS implementation of [`SlotOps`] and [`SlotCrypt`].
//!
//! A thin adapter over the [`Evaluator`]: it applies the shared rules of the
//! [`super`] module (level alignment with plaintexts, offsets modulo the slot
//! count, free constants, `set_scale`), maps CKKS errors to [`SlotError`] and
//! counts per trait call exactly as [`super::SlotSim`] does, so operation
//! counts measured on the simulator are the ones CKKS pays.

use alloc::borrow::Cow;
use alloc::format;
use alloc::vec::Vec;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use spin::Mutex;

use super::{
    Complex, Leveled, OpCounts, SlotCrypt, SlotError, SlotOps, is_free_constant, normalize_offset,
};
use crate::ckks::{Ciphertext, CkksContext, CkksError, EvaluationKeys, Evaluator, Plaintext};
use crate::ring::RnsPoly;
use crate::rlwe::SecretKey;

/// A bootstrapping procedure the engine can call (implemented by `crate::boot`).
///
/// The input may be at any level and scale; the output holds the same slots
/// at [`Self::output_level`] and the parameters' default scale.
pub trait CiphertextBootstrapper: Send + Sync {
    /// The level of every bootstrap output.
    fn output_level(&self) -> usize;
    /// Refreshes `ct`.
    fn bootstrap(&self, ev: &Evaluator<'_>, ct: &Ciphertext) -> Result<Ciphertext, CkksError>;
}

impl Leveled for Ciphertext {
    fn level(&self) -> usize {
        Ciphertext::level(self)
    }
    fn scale(&self) -> f64 {
        self.scale
    }
}

impl Leveled for Plaintext {
    fn level(&self) -> usize {
        Plaintext::level(self)
    }
    fn scale(&self) -> f64 {
        self.scale
    }
}

/// The secret key and the randomness of secret-key encryption (client side).
struct ClientSide<'a> {
    sk: &'a SecretKey,
    rng: Mutex<ChaCha20Rng>,
}

/// CKKS behind the [`SlotOps`] trait.
///
/// ```
/// use hetal_core::ckks::{CkksContext, Params};
/// use hetal_core::slots::{CkksEngine, SlotCrypt, SlotOps};
/// use rand_chacha::ChaCha20Rng;
/// use rand_core::SeedableRng;
///
/// let ctx = CkksContext::new(Params::insecure_n11())?;
/// let mut rng = ChaCha20Rng::from_seed([1; 32]);
/// let sk = ctx.gen_secret_key(&mut rng)?;
/// let keys = ctx.gen_evaluation_keys(&sk, &[1], false, &mut rng)?;
/// let ev = CkksEngine::new(&ctx, &keys).with_secret_key(&sk, [2; 32]);
///
/// let (top, scale) = (ev.max_level(), ev.default_scale());
/// let a = ev.encrypt_real(&[1.0, 2.0, 3.0], top, scale)?;
/// let b = ev.rotate(&ev.mul_rescale(&a, &a)?, 1)?;
/// let out = ev.decrypt_real(&b)?;
/// assert!((out[0] - 4.0).abs() < 1e-6 && (out[1] - 9.0).abs() < 1e-6);
/// assert_eq!((ev.counts().mul, ev.counts().rotate), (1, 1));
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub struct CkksEngine<'a> {
    ctx: &'a CkksContext,
    keys: &'a EvaluationKeys,
    ev: Evaluator<'a>,
    slots: usize,
    client: Option<ClientSide<'a>>,
    boot: Option<&'a dyn CiphertextBootstrapper>,
    counts: Mutex<OpCounts>,
}

impl<'a> CkksEngine<'a> {
    /// An engine over all `N/2` slots, from public material only.
    pub fn new(ctx: &'a CkksContext, keys: &'a EvaluationKeys) -> Self {
        Self {
            ctx,
            keys,
            ev: Evaluator::new(ctx, keys),
            slots: ctx.params().max_slots(),
            client: None,
            boot: None,
            counts: Mutex::new(OpCounts::default()),
        }
    }

    /// Uses `slots` slots (a power of two up to `N/2`): sparse packing.
    pub fn with_slots(mut self, slots: usize) -> Result<Self, SlotError> {
        if !slots.is_power_of_two() || slots > self.ctx.params().max_slots() {
            return Err(SlotError::InvalidParams(
                "slot count must be a power of two at most N/2",
            ));
        }
        self.slots = slots;
        Ok(self)
    }

    /// Enables [`SlotCrypt`]: secret-key encryption (randomness from `seed`) and decryption.
    pub fn with_secret_key(mut self, sk: &'a SecretKey, seed: [u8; 32]) -> Self {
        self.client = Some(ClientSide {
            sk,
            rng: Mutex::new(ChaCha20Rng::from_seed(seed)),
        });
        self
    }

    /// Enables [`SlotOps::bootstrap`].
    pub fn with_bootstrapper(mut self, boot: &'a dyn CiphertextBootstrapper) -> Self {
        self.boot = Some(boot);
        self
    }

    /// The underlying evaluator (for code that works on ciphertexts directly).
    pub fn evaluator(&self) -> &Evaluator<'a> {
        &self.ev
    }

    /// The context.
    pub fn context(&self) -> &'a CkksContext {
        self.ctx
    }

    fn count(&self, f: impl FnOnce(&mut OpCounts)) {
        f(&mut self.counts.lock());
    }

    /// Records the level of a produced value.
    fn emit(&self, ct: Ciphertext) -> Ciphertext {
        self.counts.lock().record_level(ct.level());
        ct
    }

    fn check_slots(&self, slots: usize) -> Result<(), SlotError> {
        if slots != self.slots {
            return Err(SlotError::Engine(format!(
                "operand has {slots} slots, the engine {}",
                self.slots
            )));
        }
        Ok(())
    }

    /// `ct` dropped to `level` if it is above (counting the drop), else `ct` itself:
    /// borrowed, so an operand already at its level is not copied (a 27 MB
    /// ciphertext at the N16 compute top).
    fn lowered<'c>(
        &self,
        ct: &'c Ciphertext,
        level: usize,
    ) -> Result<Cow<'c, Ciphertext>, SlotError> {
        if ct.level() <= level {
            return Ok(Cow::Borrowed(ct));
        }
        self.count(|c| c.level_drop += 1);
        self.ev
            .drop_to_level(ct, level)
            .map(Cow::Owned)
            .map_err(engine_err("drop"))
    }

    /// Counts the implicit drop of a plaintext above `level` (the evaluator
    /// drops its limbs on the fly), as the simulator does.
    fn count_plain_drop(&self, p: &Plaintext, level: usize) {
        if p.level() > level {
            self.count(|c| c.level_drop += 1);
        }
    }

    /// The rotation step, among those equivalent to `offset` modulo the slot
    /// count, for which a key exists (sparse packing repeats the slots, so a
    /// key for `k + j * slots` rotates by `k` as well).
    fn rotation_step(&self, offset: usize) -> Option<isize> {
        let half = self.ctx.params().max_slots();
        (0..half / self.slots)
            .map(|j| (offset + j * self.slots) as isize)
            .find(|&k| self.keys.galois.contains_key(&self.ctx.rotation_element(k)))
    }

    fn require_rotation(&self, offset: usize) -> Result<isize, SlotError> {
        self.rotation_step(offset)
            .ok_or(SlotError::MissingRotationKey { offset })
    }

    fn conjugation_element(&self) -> usize {
        2 * self.ctx.params().n() - 1
    }

    /// `a + sign * p` after aligning levels.
    fn add_plain_signed(
        &self,
        a: &Ciphertext,
        p: &Plaintext,
        negate: bool,
    ) -> Result<Ciphertext, SlotError> {
        self.check_slots(p.slots)?;
        check_scales(a.level(), a.scale, p.level(), p.scale)?;
        let x = self.lowered(a, p.level())?;
        self.count_plain_drop(p, x.level());
        let out = if negate {
            self.ev
                .add_plain(&self.ev.neg(&x).map_err(engine_err("sub_plain"))?, p)
                .and_then(|y| self.ev.neg(&y))
        } else {
            self.ev.add_plain(&x, p)
        }
        .map_err(engine_err("add_plain"))?;
        self.count(|c| c.add += 1);
        Ok(self.emit(out))
    }

    /// Multiplies both parts by the integer `k` (any size below 2^62): exact, no level.
    fn mul_integer(&self, a: &Ciphertext, k: i64) -> Result<Ciphertext, SlotError> {
        let ring = self.ctx.ring();
        let residues: Vec<u64> = ring.q_moduli()[..=a.level()]
            .iter()
            .map(|m| m.reduce_i64(k))
            .collect();
        let mut out = a.clone();
        out.c0
            .mul_rns_scalar_assign(ring, &residues)
            .and_then(|_| out.c1.mul_rns_scalar_assign(ring, &residues))
            .map_err(|e| engine_err("set_scale")(e.into()))?;
        Ok(out)
    }
}

/// Maps an evaluator error to the slot-level error of operation `op`.
fn engine_err(op: &'static str) -> impl Fn(CkksError) -> SlotError {
    move |e| match e {
        CkksError::LevelExhausted => SlotError::LevelExhausted { op },
        CkksError::ScaleMismatch { left, right } => SlotError::ScaleMismatch { left, right },
        CkksError::BadLevel { current, requested } => {
            SlotError::LevelTooHigh { current, requested }
        }
        CkksError::MissingRelinKey => SlotError::MissingRelinKey,
        other => SlotError::Engine(format!("{op}: {other}")),
    }
}

impl CkksEngine<'_> {
    /// `acc (+|-)= b` in place, counted as the out-of-place operation.
    fn combine_assign(
        &self,
        acc: &mut Ciphertext,
        b: &Ciphertext,
        sub: bool,
    ) -> Result<(), SlotError> {
        self.check_slots(acc.slots)?;
        self.check_slots(b.slots)?;
        check_scales(acc.level(), acc.scale, b.level(), b.scale)?;
        // Counted as `add` would: the higher operand dropped once (here `acc` loses
        // limbs, or only `b`'s lower limbs are read: no copy either way).
        let dropped = acc.level() != b.level();
        if sub {
            self.ev.sub_assign(acc, b).map_err(engine_err("sub"))?;
        } else {
            self.ev.add_assign(acc, b).map_err(engine_err("add"))?;
        }
        self.count(|c| {
            if dropped {
                c.level_drop += 1;
            }
            c.add += 1;
        });
        self.counts.lock().record_level(acc.level());
        Ok(())
    }
}

fn check_scales(la: usize, sa: f64, lb: usize, sb: f64) -> Result<(), SlotError> {
    if super::scales_match(sa, sb) {
        Ok(())
    } else {
        Err(SlotError::ScaleMismatch {
            left: (la, sa),
            right: (lb, sb),
        })
    }
}

fn require_level(level: usize, op: &'static str) -> Result<(), SlotError> {
    if level == 0 {
        Err(SlotError::LevelExhausted { op })
    } else {
        Ok(())
    }
}

impl SlotOps for CkksEngine<'_> {
    type Value = Ciphertext;
    type Plain = Plaintext;

    fn slot_count(&self) -> usize {
        self.slots
    }

    /// The top level that computes at the default scale
    /// ([`crate::ckks::Params::max_compute_level`]); a bootstrappable chain's
    /// higher levels belong to the bootstrap.
    fn max_level(&self) -> usize {
        self.ctx.params().max_compute_level()
    }

    fn default_scale(&self) -> f64 {
        self.ctx.params().default_scale()
    }

    fn modulus(&self, level: usize) -> u64 {
        self.ctx.params().q()[level]
    }

    fn bootstrap_level(&self) -> Option<usize> {
        self.boot.map(|b| b.output_level())
    }

    fn has_rotation_key(&self, offset: isize) -> bool {
        let k = normalize_offset(offset, self.slots);
        k == 0 || self.rotation_step(k).is_some()
    }

    fn has_conjugation_key(&self) -> bool {
        self.keys.galois.contains_key(&self.conjugation_element())
    }

    fn encode(&self, values: &[Complex], level: usize, scale: f64) -> Result<Plaintext, SlotError> {
        if level > self.max_level() {
            return Err(SlotError::LevelTooHigh {
                current: self.max_level(),
                requested: level,
            });
        }
        if values.len() > self.slots {
            return Err(SlotError::TooManyValues {
                len: values.len(),
                slots: self.slots,
            });
        }
        if !scale.is_finite() || values.iter().any(|z| !z.is_finite()) {
            return Err(SlotError::NonFinite);
        }
        if scale <= 0.0 {
            return Err(SlotError::InvalidParams("scale must be positive"));
        }
        self.ctx
            .encode(values, self.slots, level, scale)
            .map_err(engine_err("encode"))
    }

    fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, SlotError> {
        self.check_slots(b.slots)?;
        check_scales(a.level(), a.scale, b.level(), b.scale)?;
        let level = a.level().min(b.level());
        let out = self
            .ev
            .add(&*self.lowered(a, level)?, &*self.lowered(b, level)?)
            .map_err(engine_err("add"))?;
        self.count(|c| c.add += 1);
        Ok(self.emit(out))
    }

    fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, SlotError> {
        self.check_slots(b.slots)?;
        check_scales(a.level(), a.scale, b.level(), b.scale)?;
        let level = a.level().min(b.level());
        let out = self
            .ev
            .sub(&*self.lowered(a, level)?, &*self.lowered(b, level)?)
            .map_err(engine_err("sub"))?;
        self.count(|c| c.add += 1);
        Ok(self.emit(out))
    }

    /// In place (no new ciphertext); counted as [`SlotOps::add`].
    fn add_assign(&self, acc: &mut Ciphertext, b: &Ciphertext) -> Result<(), SlotError> {
        self.combine_assign(acc, b, false)
    }

    /// In place (no new ciphertext); counted as [`SlotOps::sub`].
    fn sub_assign(&self, acc: &mut Ciphertext, b: &Ciphertext) -> Result<(), SlotError> {
        self.combine_assign(acc, b, true)
    }

    /// In place when `p` reaches `acc`'s level and `a` is not below it (the
    /// accumulations of masked terms); otherwise as the default.
    fn mul_plain_add_assign(
        &self,
        acc: &mut Ciphertext,
        a: &Ciphertext,
        p: &Plaintext,
    ) -> Result<(), SlotError> {
        let simple = acc.level() == a.level().min(p.level())
            && p.poly.form() == crate::ring::Form::Ntt
            && a.c0.form() == crate::ring::Form::Ntt;
        if !simple {
            let t = self.mul_plain(a, p)?;
            return self.add_assign(acc, &t);
        }
        self.check_slots(a.slots)?;
        self.check_slots(p.slots)?;
        require_level(acc.level(), "mul_plain")?;
        check_scales(acc.level(), acc.scale, a.level(), a.scale * p.scale)?;
        // Counted as mul_plain then add would be: the operand dropped to the
        // product's level, the plaintext to it too.
        if a.level() > acc.level() {
            self.count(|c| c.level_drop += 1);
        }
        self.count_plain_drop(p, acc.level());
        self.ev
            .mul_plain_acc(acc, a, p)
            .map_err(engine_err("mul_plain"))?;
        self.count(|c| {
            c.mul_plain += 1;
            c.add += 1;
        });
        self.counts.lock().record_level(acc.level());
        Ok(())
    }

    fn neg(&self, a: &Ciphertext) -> Result<Ciphertext, SlotError> {
        let out = self.ev.neg(a).map_err(engine_err("neg"))?;
        self.count(|c| c.add += 1);
        Ok(self.emit(out))
    }

    fn add_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext, SlotError> {
        self.add_plain_signed(a, p, false)
    }

    fn sub_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext, SlotError> {
        self.add_plain_signed(a, p, true)
    }

    fn add_const(&self, a: &Ciphertext, c: Complex) -> Result<Ciphertext, SlotError> {
        if !c.is_finite() {
            return Err(SlotError::NonFinite);
        }
        let out = self.ev.add_const(a, c).map_err(engine_err("add_const"))?;
        self.count(|n| n.add += 1);
        Ok(self.emit(out))
    }

    fn mul(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, SlotError> {
        self.check_slots(b.slots)?;
        let level = a.level().min(b.level());
        require_level(level, "mul")?;
        let (x, y) = (self.lowered(a, level)?, self.lowered(b, level)?);
        let out = self.ev.mul_relin(&x, &y).map_err(engine_err("mul"))?;
        self.count(|c| {
            c.mul += 1;
            c.relin += 1;
        });
        Ok(self.emit(out))
    }

    fn sum_products(&self, pairs: &[(&Ciphertext, &Ciphertext)]) -> Result<Ciphertext, SlotError> {
        // Accumulate the degree-2 tensors (d0, d1, d2) of all pairs, then one
        // key switch of d2: n products cost one relinearization instead of n.
        let ((a0, _), _) = pairs.split_first().ok_or(SlotError::EmptyInput)?;
        let ring = self.ctx.ring();
        let err = |e: crate::ring::RingError| engine_err("sum_products")(e.into());
        let mut acc: Option<(RnsPoly, RnsPoly, RnsPoly, f64, usize)> = None;
        for (a, b) in pairs {
            self.check_slots(a.slots)?;
            self.check_slots(b.slots)?;
            let level = a.level().min(b.level());
            require_level(level, "mul")?;
            let (mut x, mut y) = (self.lowered(a, level)?, self.lowered(b, level)?);
            let scale = x.scale * y.scale;
            if let Some((_, _, _, _, l)) = &acc
                && level > *l
            {
                // The product would be dropped to the sum's level: drop its
                // operands instead (same result), counted as one drop.
                let l = *l;
                x = Cow::Owned(self.ev.drop_to_level(&x, l).map_err(engine_err("drop"))?);
                y = Cow::Owned(self.ev.drop_to_level(&y, l).map_err(engine_err("drop"))?);
                self.count(|c| c.level_drop += 1);
            }
            let level = x.level();
            match &mut acc {
                None => {
                    let mut d0 = x.c0.clone();
                    d0.mul_assign(ring, &y.c0).map_err(err)?;
                    let mut d1 = x.c0.clone();
                    d1.mul_assign(ring, &y.c1).map_err(err)?;
                    d1.mul_add_assign(ring, &x.c1, &y.c0).map_err(err)?;
                    let mut d2 = x.c1.clone();
                    d2.mul_assign(ring, &y.c1).map_err(err)?;
                    acc = Some((d0, d1, d2, scale, level));
                }
                Some((d0, d1, d2, s, l)) => {
                    check_scales(*l, *s, level, scale)?;
                    if level < *l {
                        // The sum so far is dropped to the new product's level.
                        let drop = *l - level;
                        for d in [&mut *d0, &mut *d1, &mut *d2] {
                            d.drop_q_limbs(drop).map_err(err)?;
                        }
                        *l = level;
                        self.count(|c| c.level_drop += 1);
                    }
                    d0.mul_add_assign(ring, &x.c0, &y.c0).map_err(err)?;
                    d1.mul_add_assign(ring, &x.c0, &y.c1).map_err(err)?;
                    d1.mul_add_assign(ring, &x.c1, &y.c0).map_err(err)?;
                    d2.mul_add_assign(ring, &x.c1, &y.c1).map_err(err)?;
                }
            }
        }
        let (mut d0, mut d1, d2, scale, _) = acc.ok_or(SlotError::EmptyInput)?;
        let relin = self.keys.relin.as_ref().ok_or(SlotError::MissingRelinKey)?;
        // d2 stays in NTT form: the switch needs it for the digits' own limbs.
        self.ctx
            .switcher()
            .switch_add(ring, &d2, relin, &mut d0, &mut d1)
            .map_err(|e| engine_err("sum_products")(e.into()))?;
        let n = pairs.len() as u64;
        self.count(|c| {
            c.mul += n;
            c.add += n - 1;
            c.relin += 1;
        });
        Ok(self.emit(Ciphertext {
            c0: d0,
            c1: d1,
            scale,
            slots: a0.slots,
        }))
    }

    fn mul_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<Ciphertext, SlotError> {
        self.check_slots(p.slots)?;
        require_level(a.level().min(p.level()), "mul_plain")?;
        let x = self.lowered(a, p.level())?;
        self.count_plain_drop(p, x.level());
        let out = self.ev.mul_plain(&x, p).map_err(engine_err("mul_plain"))?;
        self.count(|c| c.mul_plain += 1);
        Ok(self.emit(out))
    }

    fn mul_const(&self, a: &Ciphertext, c: Complex) -> Result<Ciphertext, SlotError> {
        if !c.is_finite() {
            return Err(SlotError::NonFinite);
        }
        if !is_free_constant(c) {
            require_level(a.level(), "mul_const")?;
            let q = self.modulus(a.level()) as f64;
            let limit = libm::ldexp(1.0, 62);
            if let Some(&value) = [c.re, c.im].iter().find(|v| v.abs() * q >= limit) {
                return Err(SlotError::ConstantTooLarge { value });
            }
        }
        let out = self
            .ev
            .mul_complex_const(a, c)
            .map_err(engine_err("mul_const"))?;
        self.count(|n| n.mul_const += 1);
        Ok(self.emit(out))
    }

    fn mul_const_scaled(
        &self,
        a: &Ciphertext,
        c: Complex,
        const_scale: f64,
    ) -> Result<Ciphertext, SlotError> {
        let (re, im) = super::rules::scaled_constant(c, const_scale)?;
        let mut out = self.mul_integer(a, re)?;
        if im != 0 {
            let ia = self
                .ev
                .mul_complex_const(a, Complex::I)
                .map_err(engine_err("mul_const_scaled"))?;
            out = self
                .ev
                .add(&out, &self.mul_integer(&ia, im)?)
                .map_err(engine_err("mul_const_scaled"))?;
        }
        out.scale = a.scale * const_scale;
        self.count(|n| n.mul_const += 1);
        Ok(self.emit(out))
    }

    fn rescale(&self, a: &Ciphertext) -> Result<Ciphertext, SlotError> {
        require_level(a.level(), "rescale")?;
        let out = self.ev.rescale(a).map_err(engine_err("rescale"))?;
        self.count(|c| c.rescale += 1);
        Ok(self.emit(out))
    }

    fn rescale_owned(&self, a: Ciphertext) -> Result<Ciphertext, SlotError> {
        require_level(a.level(), "rescale")?;
        let out = self.ev.rescale_owned(a).map_err(engine_err("rescale"))?;
        self.count(|c| c.rescale += 1);
        Ok(self.emit(out))
    }

    fn drop_to_level(&self, a: &Ciphertext, level: usize) -> Result<Ciphertext, SlotError> {
        if level > a.level() {
            return Err(SlotError::LevelTooHigh {
                current: a.level(),
                requested: level,
            });
        }
        let out = self.lowered(a, level)?.into_owned();
        Ok(self.emit(out))
    }

    fn set_scale(&self, a: &Ciphertext, scale: f64) -> Result<Ciphertext, SlotError> {
        if !scale.is_finite() {
            return Err(SlotError::NonFinite);
        }
        if scale <= 0.0 {
            return Err(SlotError::InvalidParams("scale must be positive"));
        }
        require_level(a.level(), "set_scale")?;
        let q = self.modulus(a.level()) as f64;
        let k = libm::round(scale * q / a.scale);
        if k >= libm::ldexp(1.0, 62) {
            return Err(SlotError::ConstantTooLarge { value: k });
        }
        let mut scaled = self.mul_integer(a, k as i64)?;
        scaled.scale = a.scale * k;
        let out = self.ev.rescale(&scaled).map_err(engine_err("set_scale"))?;
        self.count(|c| {
            c.mul_const += 1;
            c.rescale += 1;
        });
        Ok(self.emit(out))
    }

    fn rotate(&self, a: &Ciphertext, offset: isize) -> Result<Ciphertext, SlotError> {
        let k = normalize_offset(offset, self.slots);
        if k == 0 {
            return Ok(a.clone());
        }
        let step = self.require_rotation(k)?;
        let out = self.ev.rotate(a, step).map_err(engine_err("rotate"))?;
        self.count(|c| c.rotate += 1);
        Ok(self.emit(out))
    }

    /// One ModDown for the whole sum when the terms share a level and scale (otherwise
    /// as the default).
    fn sum_rotations(&self, terms: &[(&Ciphertext, isize)]) -> Result<Ciphertext, SlotError> {
        let ((first, _), _) = terms.split_first().ok_or(SlotError::EmptyInput)?;
        let uniform = terms
            .iter()
            .all(|(a, _)| a.level() == first.level() && a.scale == first.scale);
        if !uniform || terms.len() < 2 {
            return super::rotate_each_and_add(self, terms);
        }
        let mut steps = Vec::with_capacity(terms.len());
        for &(a, o) in terms {
            self.check_slots(a.slots)?;
            steps.push(match normalize_offset(o, self.slots) {
                0 => 0,
                k => self.require_rotation(k)?,
            });
        }
        let pairs: Vec<(&Ciphertext, isize)> = terms
            .iter()
            .zip(&steps)
            .map(|(&(a, _), &s)| (a, s))
            .collect();
        let out = self
            .ev
            .sum_rotations(&pairs)
            .map_err(engine_err("sum_rotations"))?;
        let rotations = steps.iter().filter(|&&s| s != 0).count() as u64;
        self.count(|c| {
            c.rotate += rotations;
            c.add += terms.len() as u64 - 1;
        });
        Ok(self.emit(out))
    }

    fn rotate_hoisted(
        &self,
        a: &Ciphertext,
        offsets: &[isize],
    ) -> Result<Vec<Ciphertext>, SlotError> {
        let steps = offsets
            .iter()
            .map(|&o| match normalize_offset(o, self.slots) {
                0 => Ok(0),
                k => self.require_rotation(k),
            })
            .collect::<Result<Vec<isize>, SlotError>>()?;
        let nonzero = steps.iter().filter(|&&s| s != 0).count() as u64;
        let out = self
            .ev
            .rotate_hoisted(a, &steps)
            .map_err(engine_err("rotate_hoisted"))?;
        if nonzero > 0 {
            self.count(|c| {
                c.rotate_hoisted += nonzero;
                c.hoisted_batches += 1;
            });
        }
        Ok(out.into_iter().map(|ct| self.emit(ct)).collect())
    }

    fn conjugate(&self, a: &Ciphertext) -> Result<Ciphertext, SlotError> {
        if !self.has_conjugation_key() {
            return Err(SlotError::MissingConjugationKey);
        }
        let out = self.ev.conjugate(a).map_err(engine_err("conjugate"))?;
        self.count(|c| c.conjugate += 1);
        Ok(self.emit(out))
    }

    fn bootstrap(&self, a: &Ciphertext) -> Result<Ciphertext, SlotError> {
        let boot = self.boot.ok_or(SlotError::BootstrapUnavailable)?;
        let out = boot
            .bootstrap(&self.ev, a)
            .map_err(engine_err("bootstrap"))?;
        self.count(|c| c.bootstrap += 1);
        Ok(self.emit(out))
    }

    fn bootstrap_real_pair(
        &self,
        a: &Ciphertext,
        b: &Ciphertext,
    ) -> Result<(Ciphertext, Ciphertext), SlotError> {
        let boot = self.boot.ok_or(SlotError::BootstrapUnavailable)?;
        if !self.has_conjugation_key() {
            return Err(SlotError::MissingConjugationKey);
        }
        self.check_slots(b.slots)?;
        check_scales(a.level(), a.scale, b.level(), b.scale)?;
        let level = a.level().min(b.level());
        let ib = self
            .ev
            .mul_complex_const(&*self.lowered(b, level)?, Complex::I)
            .map_err(engine_err("bootstrap"))?;
        let mut z = self
            .ev
            .add(&*self.lowered(a, level)?, &ib)
            .map_err(engine_err("bootstrap"))?;
        // Read the same encoding at twice the scale: the slots become z / 2 at
        // no cost, so Re z = w + conj(w) and Im z = -i (w - conj(w)) below.
        z.scale *= 2.0;
        let w = boot
            .bootstrap(&self.ev, &z)
            .map_err(engine_err("bootstrap"))?;
        let wc = self.ev.conjugate(&w).map_err(engine_err("bootstrap"))?;
        let re = self.ev.add(&w, &wc).map_err(engine_err("bootstrap"))?;
        let diff = self.ev.sub(&w, &wc).map_err(engine_err("bootstrap"))?;
        let im = self
            .ev
            .mul_complex_const(&diff, Complex::new(0.0, -1.0))
            .map_err(engine_err("bootstrap"))?;
        self.count(|c| {
            c.add += 1;
            c.mul_const += 1;
            c.bootstrap += 1;
            c.conjugate += 1;
            c.add += 2;
        });
        Ok((self.emit(re), self.emit(im)))
    }

    /// Runs the jobs on the ring's executor (each job's own operations split their limbs
    /// over the same executor).
    fn run_jobs<T: Send, Er: Send>(
        &self,
        jobs: usize,
        f: &(dyn Fn(usize) -> Result<T, Er> + Sync),
    ) -> Result<Vec<T>, Er> {
        crate::exec::collect_jobs(self.ctx.ring().executor(), jobs, f)
            .into_iter()
            .collect()
    }

    fn counts(&self) -> OpCounts {
        *self.counts.lock()
    }

    fn reset_counts(&self) {
        *self.counts.lock() = OpCounts::default();
    }
}

impl SlotCrypt for CkksEngine<'_> {
    fn encrypt(&self, p: &Plaintext) -> Result<Ciphertext, SlotError> {
        let client = self
            .client
            .as_ref()
            .ok_or(SlotError::InvalidParams("engine has no secret key"))?;
        self.check_slots(p.slots)?;
        let mut rng = client.rng.lock();
        self.ctx
            .encrypt_sk(client.sk, p, &mut *rng)
            .map_err(engine_err("encrypt"))
    }

    fn decrypt(&self, v: &Ciphertext) -> Result<Vec<Complex>, SlotError> {
        let client = self
            .client
            .as_ref()
            .ok_or(SlotError::InvalidParams("engine has no secret key"))?;
        self.ctx
            .decrypt_decode(client.sk, v)
            .map_err(engine_err("decrypt"))
    }
}
