//! [`SlotSim`]: an exact simulator of [`SlotOps`] on f64 complex slots.
//!
//! Values hold the ideal message (no noise, no encoding rounding) with the
//! level and scale CKKS would give them, computed by the same f64 operations
//! as the CKKS evaluator so scales agree bit for bit. On top of the CKKS rules
//! it refuses what CKKS would get silently wrong: a scale times the largest
//! slot reaching `Q_level / 2`, a rescale below the minimum scale, and a
//! bootstrap input outside the bootstrap's range.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use super::{
    Complex, Leveled, OpCounts, SlotCrypt, SlotError, SlotOps, is_free_constant, normalize_offset,
    scales_match,
};

/// What the simulated bootstrap accepts and returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimBootstrap {
    /// Level of the bootstrap output (at the default scale).
    pub output_level: usize,
    /// Largest slot magnitude `|z|` the bootstrap handles correctly.
    pub input_bound: f64,
}

/// Parameters of a [`SlotSim`]: slot count, modulus chain, scales, bootstrap.
#[derive(Clone, Debug, PartialEq)]
pub struct SimParams {
    /// Slots per value (a power of two).
    pub slots: usize,
    /// The chain `q_0, q_1, ..., q_L`; a rescale at level `l` divides by `q_l`.
    /// The simulator only divides by them (a CKKS `Params::q()` fits here).
    pub moduli: Vec<u64>,
    /// The default scale Δ.
    pub default_scale: f64,
    /// A rescale leaving a smaller scale is [`SlotError::ScaleUnderflow`].
    pub min_scale: f64,
    /// Bootstrapping, if the simulated engine has it.
    pub bootstrap: Option<SimBootstrap>,
}

impl SimParams {
    /// Parameters from a modulus chain; minimum scale `sqrt(default_scale)`, no bootstrap.
    pub fn new(slots: usize, moduli: &[u64], default_scale: f64) -> Self {
        Self {
            slots,
            moduli: moduli.to_vec(),
            default_scale,
            min_scale: libm::sqrt(default_scale),
            bootstrap: None,
        }
    }

    /// A synthetic chain shaped like real CKKS parameters, default scale
    /// exactly `2^scale_bits`: `q_0` near `2^first_bits`, then
    /// `q_1..q_max_level` alternating below and above `2^scale_bits` by
    /// multiples of `step = max(4 * slots, 2^(scale_bits - 23))`, the spacing
    /// of NTT primes for N = 2^16 at 40 bits. So scales drift between paths as
    /// they do with real primes (about `10^-6` relative per level). All are
    /// `1 mod 4 * slots` like NTT primes; primality is irrelevant here. For
    /// simulating given CKKS parameters, pass their chain to [`Self::new`].
    pub fn synthetic(
        slots: usize,
        first_bits: u32,
        scale_bits: u32,
        max_level: usize,
    ) -> Result<Self, SlotError> {
        if !(10..=61).contains(&first_bits) || !(10..=61).contains(&scale_bits) {
            return Err(SlotError::InvalidParams("modulus bits must be in 10..=61"));
        }
        if !slots.is_power_of_two() {
            return Err(SlotError::InvalidParams(
                "slot count must be a power of two",
            ));
        }
        let step = (4 * slots as u64).max(1 << scale_bits.saturating_sub(23));
        let widest = step.saturating_mul(7 * (max_level as u64).div_ceil(2) + 1);
        if widest >= 1u64 << (scale_bits.min(first_bits) - 1) {
            return Err(SlotError::InvalidParams(
                "too many slots or levels for the bits",
            ));
        }
        let mut moduli = Vec::with_capacity(max_level + 1);
        moduli.push((1u64 << first_bits) + 1 - step);
        let base = (1u64 << scale_bits) + 1;
        for i in 1..=max_level as u64 {
            let k = 7 * i.div_ceil(2) * step;
            moduli.push(if i % 2 == 1 { base - k } else { base + k });
        }
        Ok(Self::new(
            slots,
            &moduli,
            libm::ldexp(1.0, scale_bits as i32),
        ))
    }

    /// Adds bootstrapping to `output_level`, accepting `|slot| <= input_bound`.
    pub fn with_bootstrap(mut self, output_level: usize, input_bound: f64) -> Self {
        self.bootstrap = Some(SimBootstrap {
            output_level,
            input_bound,
        });
        self
    }

    /// The top level `L`.
    pub fn max_level(&self) -> usize {
        self.moduli.len().saturating_sub(1)
    }

    fn validate(&self) -> Result<(), SlotError> {
        let bad = SlotError::InvalidParams;
        if !self.slots.is_power_of_two() {
            return Err(bad("slot count must be a power of two"));
        }
        if self.moduli.is_empty() || self.moduli.iter().any(|&q| !(2..1 << 62).contains(&q)) {
            return Err(bad("moduli must be a non-empty list of values in 2..2^62"));
        }
        if !self.default_scale.is_finite() || self.default_scale <= 1.0 {
            return Err(bad("default scale must be finite and above 1"));
        }
        if !self.min_scale.is_finite() || self.min_scale < 0.0 {
            return Err(bad("minimum scale must be finite and non-negative"));
        }
        if let Some(b) = self.bootstrap {
            if b.output_level > self.max_level() {
                return Err(bad("bootstrap output level above the top level"));
            }
            if !b.input_bound.is_finite() || b.input_bound <= 0.0 {
                return Err(bad("bootstrap input bound must be finite and positive"));
            }
        }
        Ok(())
    }
}

/// A simulated ciphertext: the exact slots, level, scale and degree.
#[derive(Clone, Debug, PartialEq)]
pub struct SimValue {
    slots: Vec<Complex>,
    level: usize,
    scale: f64,
    relinearized: bool,
}

impl SimValue {
    /// The exact slot values.
    pub fn slots(&self) -> &[Complex] {
        &self.slots
    }

    /// False for the degree-2 output of `mul_no_relin` until relinearized.
    pub fn is_relinearized(&self) -> bool {
        self.relinearized
    }
}

impl Leveled for SimValue {
    fn level(&self) -> usize {
        self.level
    }
    fn scale(&self) -> f64 {
        self.scale
    }
}

/// A simulated plaintext: the exact slots, level and scale.
#[derive(Clone, Debug, PartialEq)]
pub struct SimPlain {
    slots: Vec<Complex>,
    level: usize,
    scale: f64,
}

impl SimPlain {
    /// The exact slot values.
    pub fn slots(&self) -> &[Complex] {
        &self.slots
    }
}

impl Leveled for SimPlain {
    fn level(&self) -> usize {
        self.level
    }
    fn scale(&self) -> f64 {
        self.scale
    }
}

/// Counters and the record of keys used, behind one lock so `SlotSim` is `Sync`.
#[derive(Debug, Default)]
struct Usage {
    counts: OpCounts,
    rotations: BTreeSet<usize>,
    conjugation: bool,
}

/// The exact slot simulator (see the [module documentation](super)).
///
/// ```
/// use hetal_core::slots::{Leveled, SimParams, SlotCrypt, SlotError, SlotOps, SlotSim};
/// let sim = SlotSim::new(SimParams::synthetic(4, 50, 30, 2)?)?.with_rotation_keys([1]);
/// let a = sim.encrypt_real(&[1.0, 2.0, 3.0, 4.0], 2, sim.default_scale())?;
/// assert_eq!(sim.decrypt_real(&sim.rotate(&a, 1)?)?, [2.0, 3.0, 4.0, 1.0]);
/// assert_eq!(sim.rotate(&a, 2), Err(SlotError::MissingRotationKey { offset: 2 }));
/// let sq = sim.mul_rescale(&a, &a)?;
/// assert_eq!(sq.scale(), (a.scale() * a.scale()) / sim.modulus(2) as f64);
/// # Ok::<(), SlotError>(())
/// ```
#[derive(Debug)]
pub struct SlotSim {
    params: SimParams,
    /// `log2(q_0 * ... * q_l)` for each level `l`.
    log2_modulus: Vec<f64>,
    rotation_keys: Option<BTreeSet<usize>>,
    conjugation_key: bool,
    usage: spin::Mutex<Usage>,
}

impl SlotSim {
    /// A simulator with every rotation and conjugation key.
    pub fn new(params: SimParams) -> Result<Self, SlotError> {
        params.validate()?;
        let log2_modulus = params
            .moduli
            .iter()
            .scan(0.0, |acc, &q| {
                *acc += libm::log2(q as f64);
                Some(*acc)
            })
            .collect();
        Ok(Self {
            params,
            log2_modulus,
            rotation_keys: None,
            conjugation_key: true,
            usage: spin::Mutex::new(Usage::default()),
        })
    }

    /// Restricts rotations to these offsets (taken modulo the slot count), as
    /// an evaluator with only these rotation keys.
    pub fn with_rotation_keys(mut self, offsets: impl IntoIterator<Item = isize>) -> Self {
        let n = self.params.slots;
        self.rotation_keys = Some(
            offsets
                .into_iter()
                .map(|k| normalize_offset(k, n))
                .collect(),
        );
        self
    }

    /// Gives or takes away the conjugation key.
    pub fn with_conjugation_key(mut self, present: bool) -> Self {
        self.conjugation_key = present;
        self
    }

    /// The parameters.
    pub fn params(&self) -> &SimParams {
        &self.params
    }

    /// Every nonzero rotation offset (normalized) used since the last reset, sorted:
    /// the rotation keys a real evaluator would need for the same computation.
    pub fn used_rotations(&self) -> Vec<usize> {
        self.usage.lock().rotations.iter().copied().collect()
    }

    /// Whether a conjugation was used since the last reset.
    pub fn used_conjugation(&self) -> bool {
        self.usage.lock().conjugation
    }

    fn count(&self, f: impl FnOnce(&mut OpCounts)) {
        f(&mut self.usage.lock().counts);
    }

    /// Checks a produced value (modulus overflow) and records its level.
    fn emit(&self, v: SimValue) -> Result<SimValue, SlotError> {
        self.check_overflow(&v.slots, v.level, v.scale)?;
        self.usage.lock().counts.record_level(v.level);
        Ok(v)
    }

    fn check_overflow(&self, slots: &[Complex], level: usize, scale: f64) -> Result<(), SlotError> {
        let max_abs = max_abs(slots);
        if max_abs == 0.0 {
            return Ok(());
        }
        let (log2_scale, log2_max_abs) = (libm::log2(scale), libm::log2(max_abs));
        let log2_modulus = self.log2_modulus[level];
        if log2_scale + log2_max_abs >= log2_modulus - 1.0 {
            return Err(SlotError::ModulusOverflow {
                level,
                log2_scale,
                log2_max_abs,
                log2_modulus,
            });
        }
        Ok(())
    }

    /// The common level of two operands, counting the drops it implies.
    fn align(&self, a: usize, b: usize) -> usize {
        let level = a.min(b);
        let drops = u64::from(a > level) + u64::from(b > level);
        if drops > 0 {
            self.count(|c| c.level_drop += drops);
        }
        level
    }

    fn require_relinearized(v: &SimValue, op: &'static str) -> Result<(), SlotError> {
        if v.relinearized {
            Ok(())
        } else {
            Err(SlotError::NotRelinearized { op })
        }
    }

    fn require_level(level: usize, op: &'static str) -> Result<(), SlotError> {
        if level == 0 {
            Err(SlotError::LevelExhausted { op })
        } else {
            Ok(())
        }
    }

    /// `a + sign * b` for operands `(level, scale, slots)`: CKKS adds the raw
    /// encodings, so `b`'s slots enter as `b * (b.scale / a.scale)` (a factor 1
    /// up to [`super::SCALE_TOLERANCE`]).
    fn combine(
        &self,
        a: (usize, f64, &[Complex]),
        b: (usize, f64, &[Complex]),
        sign: f64,
        relinearized: bool,
    ) -> Result<SimValue, SlotError> {
        if !scales_match(a.1, b.1) {
            return Err(SlotError::ScaleMismatch {
                left: (a.0, a.1),
                right: (b.0, b.1),
            });
        }
        let level = self.align(a.0, b.0);
        let factor = sign * (b.1 / a.1);
        let slots =
            a.2.iter()
                .zip(b.2)
                .map(|(&x, &y)| x + y.scale(factor))
                .collect();
        self.count(|c| c.add += 1);
        self.emit(SimValue {
            slots,
            level,
            scale: a.1,
            relinearized,
        })
    }

    fn check_values(&self, values: &[Complex]) -> Result<(), SlotError> {
        if values.len() > self.params.slots {
            return Err(SlotError::TooManyValues {
                len: values.len(),
                slots: self.params.slots,
            });
        }
        if values.iter().any(|z| !z.is_finite()) {
            return Err(SlotError::NonFinite);
        }
        Ok(())
    }

    fn check_rotation_key(&self, offset: usize) -> Result<(), SlotError> {
        match &self.rotation_keys {
            Some(keys) if offset != 0 && !keys.contains(&offset) => {
                Err(SlotError::MissingRotationKey { offset })
            }
            _ => Ok(()),
        }
    }

    fn rotated(a: &SimValue, offset: usize) -> SimValue {
        let mut out = a.clone();
        out.slots.rotate_left(offset);
        out
    }

    fn bootstrap_config(&self) -> Result<SimBootstrap, SlotError> {
        self.params.bootstrap.ok_or(SlotError::BootstrapUnavailable)
    }

    fn check_bootstrap_input(cfg: &SimBootstrap, slots: &[Complex]) -> Result<(), SlotError> {
        let max_abs = max_abs(slots);
        if max_abs > cfg.input_bound {
            return Err(SlotError::BootstrapRange {
                max_abs,
                bound: cfg.input_bound,
            });
        }
        Ok(())
    }

    fn refreshed(&self, cfg: &SimBootstrap, slots: Vec<Complex>) -> Result<SimValue, SlotError> {
        self.emit(SimValue {
            slots,
            level: cfg.output_level,
            scale: self.params.default_scale,
            relinearized: true,
        })
    }
}

fn max_abs(slots: &[Complex]) -> f64 {
    slots.iter().map(|z| z.abs()).fold(0.0, f64::max)
}

impl SlotOps for SlotSim {
    type Value = SimValue;
    type Plain = SimPlain;

    fn slot_count(&self) -> usize {
        self.params.slots
    }

    fn max_level(&self) -> usize {
        self.params.max_level()
    }

    fn default_scale(&self) -> f64 {
        self.params.default_scale
    }

    fn modulus(&self, level: usize) -> u64 {
        self.params.moduli[level]
    }

    fn bootstrap_level(&self) -> Option<usize> {
        self.params.bootstrap.map(|b| b.output_level)
    }

    fn has_rotation_key(&self, offset: isize) -> bool {
        self.check_rotation_key(normalize_offset(offset, self.params.slots))
            .is_ok()
    }

    fn has_conjugation_key(&self) -> bool {
        self.conjugation_key
    }

    fn encode(&self, values: &[Complex], level: usize, scale: f64) -> Result<SimPlain, SlotError> {
        if level > self.max_level() {
            return Err(SlotError::LevelTooHigh {
                current: self.max_level(),
                requested: level,
            });
        }
        self.check_values(values)?;
        if !scale.is_finite() {
            return Err(SlotError::NonFinite);
        }
        if scale <= 0.0 {
            return Err(SlotError::InvalidParams("scale must be positive"));
        }
        let mut slots = values.to_vec();
        slots.resize(self.params.slots, Complex::ZERO);
        self.check_overflow(&slots, level, scale)?;
        Ok(SimPlain {
            slots,
            level,
            scale,
        })
    }

    fn add(&self, a: &SimValue, b: &SimValue) -> Result<SimValue, SlotError> {
        let relin = a.relinearized && b.relinearized;
        self.combine(
            (a.level, a.scale, &a.slots),
            (b.level, b.scale, &b.slots),
            1.0,
            relin,
        )
    }

    fn sub(&self, a: &SimValue, b: &SimValue) -> Result<SimValue, SlotError> {
        let relin = a.relinearized && b.relinearized;
        self.combine(
            (a.level, a.scale, &a.slots),
            (b.level, b.scale, &b.slots),
            -1.0,
            relin,
        )
    }

    fn neg(&self, a: &SimValue) -> Result<SimValue, SlotError> {
        let mut out = a.clone();
        out.slots.iter_mut().for_each(|z| *z = -*z);
        self.count(|c| c.add += 1);
        self.emit(out)
    }

    fn add_plain(&self, a: &SimValue, p: &SimPlain) -> Result<SimValue, SlotError> {
        self.combine(
            (a.level, a.scale, &a.slots),
            (p.level, p.scale, &p.slots),
            1.0,
            a.relinearized,
        )
    }

    fn sub_plain(&self, a: &SimValue, p: &SimPlain) -> Result<SimValue, SlotError> {
        self.combine(
            (a.level, a.scale, &a.slots),
            (p.level, p.scale, &p.slots),
            -1.0,
            a.relinearized,
        )
    }

    fn add_const(&self, a: &SimValue, c: Complex) -> Result<SimValue, SlotError> {
        if !c.is_finite() {
            return Err(SlotError::NonFinite);
        }
        let mut out = a.clone();
        out.slots.iter_mut().for_each(|z| *z += c);
        self.count(|n| n.add += 1);
        self.emit(out)
    }

    fn mul(&self, a: &SimValue, b: &SimValue) -> Result<SimValue, SlotError> {
        let out = self.mul_no_relin(a, b)?;
        self.relinearize(&out)
    }

    fn mul_no_relin(&self, a: &SimValue, b: &SimValue) -> Result<SimValue, SlotError> {
        Self::require_relinearized(a, "mul")?;
        Self::require_relinearized(b, "mul")?;
        Self::require_level(a.level.min(b.level), "mul")?;
        let level = self.align(a.level, b.level);
        let slots = a.slots.iter().zip(&b.slots).map(|(&x, &y)| x * y).collect();
        self.count(|c| c.mul += 1);
        self.emit(SimValue {
            slots,
            level,
            scale: a.scale * b.scale,
            relinearized: false,
        })
    }

    fn relinearize(&self, a: &SimValue) -> Result<SimValue, SlotError> {
        let mut out = a.clone();
        if !a.relinearized {
            out.relinearized = true;
            self.count(|c| c.relin += 1);
        }
        Ok(out)
    }

    fn mul_plain(&self, a: &SimValue, p: &SimPlain) -> Result<SimValue, SlotError> {
        Self::require_level(a.level.min(p.level), "mul_plain")?;
        let level = self.align(a.level, p.level);
        let slots = a.slots.iter().zip(&p.slots).map(|(&x, &y)| x * y).collect();
        self.count(|c| c.mul_plain += 1);
        self.emit(SimValue {
            slots,
            level,
            scale: a.scale * p.scale,
            relinearized: a.relinearized,
        })
    }

    fn mul_const(&self, a: &SimValue, c: Complex) -> Result<SimValue, SlotError> {
        if !c.is_finite() {
            return Err(SlotError::NonFinite);
        }
        let mut out = a.clone();
        if !is_free_constant(c) {
            Self::require_level(a.level, "mul_const")?;
            let q = self.modulus(a.level) as f64;
            let limit = libm::ldexp(1.0, 62);
            if let Some(&value) = [c.re, c.im].iter().find(|v| v.abs() * q >= limit) {
                return Err(SlotError::ConstantTooLarge { value });
            }
            out.scale *= q;
        }
        out.slots.iter_mut().for_each(|z| *z *= c);
        self.count(|n| n.mul_const += 1);
        self.emit(out)
    }

    fn mul_const_scaled(
        &self,
        a: &SimValue,
        c: Complex,
        const_scale: f64,
    ) -> Result<SimValue, SlotError> {
        super::rules::scaled_constant(c, const_scale)?;
        let mut out = a.clone();
        out.scale *= const_scale;
        out.slots.iter_mut().for_each(|z| *z *= c);
        self.count(|n| n.mul_const += 1);
        self.emit(out)
    }

    fn rescale(&self, a: &SimValue) -> Result<SimValue, SlotError> {
        Self::require_level(a.level, "rescale")?;
        let mut out = a.clone();
        out.scale = a.scale / self.modulus(a.level) as f64;
        out.level -= 1;
        if out.scale < self.params.min_scale {
            return Err(SlotError::ScaleUnderflow {
                level: out.level,
                scale: out.scale,
                min_scale: self.params.min_scale,
            });
        }
        self.count(|c| c.rescale += 1);
        self.emit(out)
    }

    fn drop_to_level(&self, a: &SimValue, level: usize) -> Result<SimValue, SlotError> {
        if level > a.level {
            return Err(SlotError::LevelTooHigh {
                current: a.level,
                requested: level,
            });
        }
        let mut out = a.clone();
        if level < a.level {
            out.level = level;
            self.count(|c| c.level_drop += 1);
        }
        self.emit(out)
    }

    fn set_scale(&self, a: &SimValue, scale: f64) -> Result<SimValue, SlotError> {
        if !scale.is_finite() {
            return Err(SlotError::NonFinite);
        }
        if scale <= 0.0 {
            return Err(SlotError::InvalidParams("scale must be positive"));
        }
        Self::require_level(a.level, "set_scale")?;
        let q = self.modulus(a.level) as f64;
        let k = libm::round(scale * q / a.scale);
        if k >= libm::ldexp(1.0, 62) {
            return Err(SlotError::ConstantTooLarge { value: k });
        }
        let mut out = a.clone();
        out.level -= 1;
        out.scale = (a.scale * k) / q;
        if out.scale < self.params.min_scale {
            return Err(SlotError::ScaleUnderflow {
                level: out.level,
                scale: out.scale,
                min_scale: self.params.min_scale,
            });
        }
        self.count(|c| {
            c.mul_const += 1;
            c.rescale += 1;
        });
        self.emit(out)
    }

    fn rotate(&self, a: &SimValue, offset: isize) -> Result<SimValue, SlotError> {
        Self::require_relinearized(a, "rotate")?;
        let k = normalize_offset(offset, self.params.slots);
        if k == 0 {
            return Ok(a.clone());
        }
        self.check_rotation_key(k)?;
        {
            let mut u = self.usage.lock();
            u.rotations.insert(k);
            u.counts.rotate += 1;
        }
        self.emit(Self::rotated(a, k))
    }

    fn rotate_hoisted(&self, a: &SimValue, offsets: &[isize]) -> Result<Vec<SimValue>, SlotError> {
        Self::require_relinearized(a, "rotate_hoisted")?;
        let n = self.params.slots;
        let ks: Vec<usize> = offsets.iter().map(|&k| normalize_offset(k, n)).collect();
        for &k in &ks {
            self.check_rotation_key(k)?;
        }
        let nonzero = ks.iter().filter(|&&k| k != 0).count() as u64;
        if nonzero > 0 {
            let mut u = self.usage.lock();
            u.rotations.extend(ks.iter().copied().filter(|&k| k != 0));
            u.counts.rotate_hoisted += nonzero;
            u.counts.hoisted_batches += 1;
        }
        ks.iter().map(|&k| self.emit(Self::rotated(a, k))).collect()
    }

    fn conjugate(&self, a: &SimValue) -> Result<SimValue, SlotError> {
        Self::require_relinearized(a, "conjugate")?;
        if !self.conjugation_key {
            return Err(SlotError::MissingConjugationKey);
        }
        let mut out = a.clone();
        out.slots.iter_mut().for_each(|z| *z = z.conj());
        {
            let mut u = self.usage.lock();
            u.conjugation = true;
            u.counts.conjugate += 1;
        }
        self.emit(out)
    }

    fn bootstrap(&self, a: &SimValue) -> Result<SimValue, SlotError> {
        let cfg = self.bootstrap_config()?;
        Self::require_relinearized(a, "bootstrap")?;
        Self::check_bootstrap_input(&cfg, &a.slots)?;
        self.count(|c| c.bootstrap += 1);
        self.refreshed(&cfg, a.slots.clone())
    }

    fn bootstrap_real_pair(
        &self,
        a: &SimValue,
        b: &SimValue,
    ) -> Result<(SimValue, SimValue), SlotError> {
        let cfg = self.bootstrap_config()?;
        Self::require_relinearized(a, "bootstrap")?;
        Self::require_relinearized(b, "bootstrap")?;
        // Pack z = a + i*b (i is a free constant; the addition aligns as usual).
        let ib: Vec<Complex> = b.slots.iter().map(|&y| y * Complex::I).collect();
        let z = self.combine(
            (a.level, a.scale, &a.slots),
            (b.level, b.scale, &ib),
            1.0,
            true,
        )?;
        self.count(|c| c.mul_const += 1);
        Self::check_bootstrap_input(&cfg, &z.slots)?;
        // One bootstrap, then Re z = (z + conj z)/2 and Im z = (z - conj z)/(2i):
        // one conjugation and two additions (the constants fold into the bootstrap).
        self.count(|c| {
            c.bootstrap += 1;
            c.conjugate += 1;
            c.add += 2;
        });
        let re = z.slots.iter().map(|w| Complex::from_real(w.re)).collect();
        let im = z.slots.iter().map(|w| Complex::from_real(w.im)).collect();
        Ok((self.refreshed(&cfg, re)?, self.refreshed(&cfg, im)?))
    }

    fn counts(&self) -> OpCounts {
        self.usage.lock().counts
    }

    fn reset_counts(&self) {
        *self.usage.lock() = Usage::default();
    }
}

impl SlotCrypt for SlotSim {
    fn encrypt(&self, p: &SimPlain) -> Result<SimValue, SlotError> {
        self.emit(SimValue {
            slots: p.slots.clone(),
            level: p.level,
            scale: p.scale,
            relinearized: true,
        })
    }

    fn decrypt(&self, v: &SimValue) -> Result<Vec<Complex>, SlotError> {
        Ok(v.slots.clone())
    }
}
