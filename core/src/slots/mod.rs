//! The slot-level view of CKKS that the matrix code and HETAL are written against.
//!
//! [`SlotOps`] is a server-side evaluator over vectors of complex slots, each
//! value carrying a *level* (rescales left; 0 = none) and an exact *scale*.
//! [`SlotCrypt`] adds encryption and decryption, for tests and for the client.
//! Two engines implement them:
//!
//! - the CKKS evaluator (real encryption);
//! - [`SlotSim`]: exact f64 slots under the same level, scale, key and depth
//!   rules, failing with the same errors, counting every operation.
//!
//! # Rules shared by both engines
//!
//! - **Levels.** A multiplication (value × value, × plaintext, × non-integer
//!   constant) needs level ≥ 1 and a [`SlotOps::rescale`] afterwards, which
//!   divides the scale by the modulus `q_level` being dropped and lowers the
//!   level by one. A rescale at level 0 or a multiplication at level 0 is
//!   [`SlotError::LevelExhausted`].
//! - **Alignment.** Binary operations first drop the operand at the higher
//!   level to the lower level (exact in CKKS: dropping moduli keeps the
//!   scale). Additions then need equal scales ([`scales_match`]), otherwise
//!   [`SlotError::ScaleMismatch`] names both levels and scales. The result
//!   takes the left operand's scale. Products multiply the scales.
//! - **Constants.** A Gaussian-integer constant ([`is_free_constant`], e.g.
//!   `3`, `-1`, `±i`) multiplies for free. Any other constant is encoded at
//!   the scale `q_level`, so after the rescale the scale is exactly the
//!   input's. Additive constants are encoded at the value's scale (free).
//!   [`SlotOps::mul_const_scaled`] encodes a constant at any scale the caller
//!   picks (no level spent), to land a product exactly on a target scale.
//! - **Rotations.** `rotate(a, k)` moves slot `i + k` to slot `i` (left by `k`;
//!   negative `k` rotates right). Offsets are taken modulo
//!   [`SlotOps::slot_count`] ([`normalize_offset`]); a nonzero normalized offset
//!   needs a rotation key for that normalized offset, offset 0 is free.
//! - **Relinearization.** [`SlotOps::mul`] relinearizes. [`SlotOps::mul_no_relin`]
//!   leaves a degree-2 value that can be added, rescaled and multiplied by
//!   plaintexts or constants, but must be relinearized before a product,
//!   rotation, conjugation or bootstrap ([`SlotError::NotRelinearized`]).
//!   Summing many products and relinearizing once saves key switches.
//! - **Scale drift.** The moduli are primes close to, not equal to, Δ, so
//!   the scales of two computation paths drift apart by about `2^-20`
//!   relative per level, far above [`SCALE_TOLERANCE`]. Adding such values
//!   needs [`SlotOps::set_scale`] (one level), most simply through
//!   [`SlotOps::match_scales`] or [`SlotOps::add_matched`]. Plaintexts and
//!   constants encoded at the right scale never need it.
//! - **Bootstrapping** returns the value at [`SlotOps::bootstrap_level`] and the
//!   default scale, whatever the input level.
//! - **Counts.** [`OpCounts`], per trait call (see there).
//!
//! # Example: an inner product, generic over the engine
//!
//! ```
//! use hetal_core::slots::{SimParams, SlotCrypt, SlotError, SlotOps, SlotSim};
//! use hetal_core::slots::Leveled;
//!
//! /// `sum_i a_i b_i` in every slot: one product, log2(slots) rotations.
//! fn inner_product<E: SlotOps>(
//!     ev: &E,
//!     a: &E::Value,
//!     b: &E::Value,
//! ) -> Result<E::Value, SlotError> {
//!     let prod = ev.mul_rescale(a, b)?;
//!     ev.rotate_and_sum(&prod, ev.slot_count(), 1)
//! }
//!
//! // 8 slots, q_0 of 60 bits, scale and q_1..q_4 of 40 bits.
//! let sim = SlotSim::new(SimParams::synthetic(8, 60, 40, 4)?)?;
//! let (top, scale) = (sim.max_level(), sim.default_scale());
//! let a = sim.encrypt_real(&[1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.5], top, scale)?;
//! let b = sim.encrypt_real(&[1.0, 1.0, 1.0, 1.0, 9.0, 9.0, 9.0, 2.0], top, scale)?;
//!
//! let c = inner_product(&sim, &a, &b)?;
//! assert_eq!(c.level(), top - 1);
//! assert!(sim.decrypt_real(&c)?.iter().all(|&x| (x - 11.0).abs() < 1e-9));
//!
//! let n = sim.counts();
//! assert_eq!((n.mul, n.relin, n.rescale, n.rotate, n.add), (1, 1, 1, 3, 3));
//! // Level 0 cannot take another product:
//! let low = sim.drop_to_level(&a, 0)?;
//! assert_eq!(
//!     sim.mul(&low, &b),
//!     Err(SlotError::LevelExhausted { op: "mul" })
//! );
//! # Ok::<(), SlotError>(())
//! ```

mod ckks;
mod counts;
mod error;
mod rules;
mod sim;

use alloc::vec::Vec;

pub use crate::ckks::complex::Complex;
pub use ckks::{CiphertextBootstrapper, CkksEngine};
pub use counts::OpCounts;
pub use error::SlotError;
pub use rules::{
    MAX_FREE_CONSTANT, SCALE_TOLERANCE, is_free_constant, normalize_offset, scales_match,
};
pub use sim::{SimBootstrap, SimParams, SimPlain, SimValue, SlotSim};

/// Level and scale of a value or plaintext.
pub trait Leveled {
    /// Rescales left (0 = none).
    fn level(&self) -> usize;
    /// The exact scale: slot `x` is held as `x * scale`.
    fn scale(&self) -> f64;
}

/// Server-side evaluation on vectors of complex slots with levels and scales.
///
/// Values are passed by reference and results returned owned; a few
/// `*_assign` methods update in place for accumulation loops. Every method
/// returns a typed [`SlotError`] instead of a wrong result. The module
/// documentation states the level, scale, key and counting rules and has a
/// runnable example.
pub trait SlotOps: Sync {
    /// An encrypted (or, in the simulator, wrapped) vector of slots.
    type Value: Clone + Leveled + Send + Sync;
    /// An encoded, unencrypted vector of slots.
    type Plain: Clone + Leveled + Send + Sync;

    // ---- parameters ----

    /// Number of slots of every value.
    fn slot_count(&self) -> usize;
    /// The highest level (fresh encryptions are at most here).
    fn max_level(&self) -> usize;
    /// The default scale Δ (bootstrap outputs have it).
    fn default_scale(&self) -> f64;
    /// `q_level`, the modulus a rescale at `level` divides by (`level <= max_level`).
    fn modulus(&self, level: usize) -> u64;
    /// The level bootstrapping returns, or `None` if the engine cannot bootstrap.
    fn bootstrap_level(&self) -> Option<usize>;
    /// Whether `rotate` by `offset` is possible (always true for offset 0).
    fn has_rotation_key(&self, offset: isize) -> bool;
    /// Whether `conjugate` is possible.
    fn has_conjugation_key(&self) -> bool;

    // ---- encoding ----

    /// Encodes up to `slot_count` complex values (zero-padded) at `level` and `scale`.
    fn encode(
        &self,
        values: &[Complex],
        level: usize,
        scale: f64,
    ) -> Result<Self::Plain, SlotError>;

    /// Encodes real values (imaginary parts zero).
    fn encode_real(
        &self,
        values: &[f64],
        level: usize,
        scale: f64,
    ) -> Result<Self::Plain, SlotError> {
        let v: Vec<Complex> = values.iter().map(|&x| Complex::from_real(x)).collect();
        self.encode(&v, level, scale)
    }

    // ---- additive operations (no level spent) ----

    /// `a + b`.
    fn add(&self, a: &Self::Value, b: &Self::Value) -> Result<Self::Value, SlotError>;
    /// `a - b`.
    fn sub(&self, a: &Self::Value, b: &Self::Value) -> Result<Self::Value, SlotError>;
    /// `-a`.
    fn neg(&self, a: &Self::Value) -> Result<Self::Value, SlotError>;
    /// `a + p` (plaintext at the same scale). As for values, the operand at
    /// the higher level is dropped: a plaintext encoded once at the top level
    /// serves values at every level.
    fn add_plain(&self, a: &Self::Value, p: &Self::Plain) -> Result<Self::Value, SlotError>;
    /// `a - p` (plaintext at the same scale).
    fn sub_plain(&self, a: &Self::Value, p: &Self::Plain) -> Result<Self::Value, SlotError>;
    /// `a + c` in every slot.
    fn add_const(&self, a: &Self::Value, c: Complex) -> Result<Self::Value, SlotError>;

    // ---- multiplicative operations ----

    /// `a * b` slot-wise, relinearized; scale `a.scale * b.scale`, rescale next.
    fn mul(&self, a: &Self::Value, b: &Self::Value) -> Result<Self::Value, SlotError>;

    /// `a * b` without relinearization (degree 2): add such products, then
    /// [`Self::relinearize`] once. Engines without lazy relinearization may
    /// relinearize here (the default), which only changes the `relin` count.
    fn mul_no_relin(&self, a: &Self::Value, b: &Self::Value) -> Result<Self::Value, SlotError> {
        self.mul(a, b)
    }

    /// Relinearizes a degree-2 value (a no-op on a degree-1 value, not counted).
    fn relinearize(&self, a: &Self::Value) -> Result<Self::Value, SlotError> {
        Ok(a.clone())
    }

    /// `sum_i a_i * b_i`, relinearized once: one tensor product per pair and
    /// a single key switch for the whole sum (what the matrix products need:
    /// `ceil(b/s1)` products summed per output). Operands are aligned per pair
    /// as in [`Self::mul`]; all products must end at one level and scale.
    /// Counts `n` products, `n - 1` additions and one relinearization, as the
    /// default (`mul_no_relin`, `add`, `relinearize`) does.
    fn sum_products(
        &self,
        pairs: &[(&Self::Value, &Self::Value)],
    ) -> Result<Self::Value, SlotError> {
        let ((a0, b0), rest) = pairs.split_first().ok_or(SlotError::EmptyInput)?;
        let mut acc = self.mul_no_relin(a0, b0)?;
        for (a, b) in rest {
            let p = self.mul_no_relin(a, b)?;
            self.add_assign(&mut acc, &p)?;
        }
        self.relinearize(&acc)
    }

    /// `acc += a * p` ([`Self::mul_plain`] then [`Self::add_assign`], counted as
    /// both): `acc` must have the product's scale. Engines may do it in place (a
    /// masked sum without a temporary per term).
    fn mul_plain_add_assign(
        &self,
        acc: &mut Self::Value,
        a: &Self::Value,
        p: &Self::Plain,
    ) -> Result<(), SlotError> {
        let t = self.mul_plain(a, p)?;
        self.add_assign(acc, &t)
    }

    /// `a * p` slot-wise; scale `a.scale * p.scale`, rescale next. Encode `p`
    /// at the scale `q_level` to get `a`'s scale back after the rescale.
    fn mul_plain(&self, a: &Self::Value, p: &Self::Plain) -> Result<Self::Value, SlotError>;

    /// `a * c` in every slot. Free for [`is_free_constant`] constants (scale
    /// unchanged); otherwise scale `a.scale * q_level`, rescale next.
    fn mul_const(&self, a: &Self::Value, c: Complex) -> Result<Self::Value, SlotError>;

    /// `a * c` with `c` encoded at the caller's `const_scale`: the encoding is
    /// multiplied by the Gaussian integer `round(c * const_scale)` and the
    /// result has the scale `a.scale * const_scale` exactly, at `a`'s level (no
    /// level is checked or spent here; rescale when the scale is large enough).
    ///
    /// This is how a product is made to land exactly on a chosen scale (e.g.
    /// `const_scale = target / a.scale`), which polynomial evaluation uses so
    /// that terms from different computation paths add without
    /// [`Self::set_scale`]. The constant is rounded to a multiple of
    /// `1 / const_scale` (absolute) in CKKS; the simulator keeps it exact.
    /// [`SlotError::ConstantTooLarge`] if `|c| * const_scale >= 2^62` in a part.
    /// Counts one `mul_const`.
    ///
    /// The default encodes a constant plaintext and uses [`Self::mul_plain`];
    /// both engines override it with an integer multiplication.
    fn mul_const_scaled(
        &self,
        a: &Self::Value,
        c: Complex,
        const_scale: f64,
    ) -> Result<Self::Value, SlotError> {
        rules::scaled_constant(c, const_scale)?;
        let values = alloc::vec![c; self.slot_count()];
        let p = self.encode(&values, a.level(), const_scale)?;
        self.mul_plain(a, &p)
    }

    /// Divides by `q_level`: level - 1, scale / `q_level`.
    fn rescale(&self, a: &Self::Value) -> Result<Self::Value, SlotError>;

    /// [`Self::rescale`] of a value the caller no longer needs: an engine may reuse its
    /// memory (CKKS corrects the kept limbs in place instead of copying them first).
    fn rescale_owned(&self, a: Self::Value) -> Result<Self::Value, SlotError> {
        self.rescale(&a)
    }

    /// Drops `a` to `level` (at most its own), keeping the scale.
    fn drop_to_level(&self, a: &Self::Value, level: usize) -> Result<Self::Value, SlotError>;

    /// Brings `a` to (almost exactly) `scale` for one level, values unchanged:
    /// multiplies the encoding by the integer `k = round(scale * q_l / a.scale)`
    /// and rescales, so the new scale is exactly `(a.scale * k) / q_l`, within
    /// `2^-40` or so of `scale` relative. Counts one constant multiplication
    /// and one rescale. Needed because rescaling by primes that are only close
    /// to Δ makes the scales of different computation paths drift apart.
    fn set_scale(&self, a: &Self::Value, scale: f64) -> Result<Self::Value, SlotError>;

    // ---- slot movement ----

    /// Rotates left by `offset` (slot `i + offset` moves to slot `i`).
    fn rotate(&self, a: &Self::Value, offset: isize) -> Result<Self::Value, SlotError>;

    /// `rotate(a, k)` for every `k` in `offsets`, sharing one decomposition
    /// (hoisting). Outputs in the order of `offsets`; offset 0 returns a copy.
    fn rotate_hoisted(
        &self,
        a: &Self::Value,
        offsets: &[isize],
    ) -> Result<Vec<Self::Value>, SlotError>;

    /// `sum_i rotate(a_i, offset_i)` for values at one level and scale (an offset of 0
    /// adds the value itself). Counted as the rotations and additions it replaces; CKKS
    /// divides the whole sum by the special modulus once instead of once per rotation.
    fn sum_rotations(&self, terms: &[(&Self::Value, isize)]) -> Result<Self::Value, SlotError> {
        rotate_each_and_add(self, terms)
    }

    /// Complex conjugate of every slot.
    fn conjugate(&self, a: &Self::Value) -> Result<Self::Value, SlotError>;

    // ---- bootstrapping ----

    /// Refreshes `a` to [`Self::bootstrap_level`] at the default scale.
    fn bootstrap(&self, a: &Self::Value) -> Result<Self::Value, SlotError>;

    /// Bootstraps several values.
    fn bootstrap_many(&self, values: &[Self::Value]) -> Result<Vec<Self::Value>, SlotError> {
        values.iter().map(|v| self.bootstrap(v)).collect()
    }

    /// Bootstraps two real-valued values with one complex bootstrap: packs
    /// `z = a + i*b`, bootstraps `z`, and returns `(Re z, Im z)` extracted with
    /// one conjugation (the factors 1/2 fold into the bootstrap, no level).
    /// If `a` or `b` has an imaginary part it leaks into the other output.
    fn bootstrap_real_pair(
        &self,
        a: &Self::Value,
        b: &Self::Value,
    ) -> Result<(Self::Value, Self::Value), SlotError>;

    // ---- parallelism ----

    /// `f(i)` for every `i < jobs`, results in order (the first error wins). An engine
    /// with threads may run the jobs in parallel, so they must not depend on each other;
    /// results are the same either way. For independent pieces of a circuit (the column
    /// blocks of a matrix product) whose operations are each too small to keep every
    /// thread busy. The default runs them in order.
    fn run_jobs<T: Send, Er: Send>(
        &self,
        jobs: usize,
        f: &(dyn Fn(usize) -> Result<T, Er> + Sync),
    ) -> Result<Vec<T>, Er> {
        (0..jobs).map(f).collect()
    }

    // ---- counters ----

    /// Operations run since the last reset.
    fn counts(&self) -> OpCounts;
    /// Sets all counters to zero (and forgets the minimum level).
    fn reset_counts(&self);

    // ---- provided conveniences ----

    /// `acc += b`.
    fn add_assign(&self, acc: &mut Self::Value, b: &Self::Value) -> Result<(), SlotError> {
        *acc = self.add(acc, b)?;
        Ok(())
    }

    /// `acc -= b`.
    fn sub_assign(&self, acc: &mut Self::Value, b: &Self::Value) -> Result<(), SlotError> {
        *acc = self.sub(acc, b)?;
        Ok(())
    }

    /// `a * b`, relinearized and rescaled.
    fn mul_rescale(&self, a: &Self::Value, b: &Self::Value) -> Result<Self::Value, SlotError> {
        self.rescale(&self.mul(a, b)?)
    }

    /// `a * p`, rescaled.
    fn mul_plain_rescale(
        &self,
        a: &Self::Value,
        p: &Self::Plain,
    ) -> Result<Self::Value, SlotError> {
        self.rescale(&self.mul_plain(a, p)?)
    }

    /// `a * c` at `a`'s scale: rescaled unless the constant is free.
    fn mul_const_rescale(&self, a: &Self::Value, c: Complex) -> Result<Self::Value, SlotError> {
        let out = self.mul_const(a, c)?;
        if is_free_constant(c) {
            Ok(out)
        } else {
            self.rescale(&out)
        }
    }

    /// `a * values` slot-wise, keeping `a`'s scale: encodes `values` at
    /// `a`'s level and the scale `q_level`, multiplies and rescales (one level).
    /// For a vector used many times, encode it once and use [`Self::mul_plain_rescale`].
    fn mul_values_rescale(
        &self,
        a: &Self::Value,
        values: &[Complex],
    ) -> Result<Self::Value, SlotError> {
        let level = a.level();
        if level == 0 {
            return Err(SlotError::LevelExhausted { op: "mul_plain" });
        }
        let p = self.encode(values, level, self.modulus(level) as f64)?;
        self.mul_plain_rescale(a, &p)
    }

    /// Both operands dropped to the lower of their levels.
    fn match_levels(
        &self,
        a: &Self::Value,
        b: &Self::Value,
    ) -> Result<(Self::Value, Self::Value), SlotError> {
        let level = a.level().min(b.level());
        Ok((self.drop_to_level(a, level)?, self.drop_to_level(b, level)?))
    }

    /// Both operands at one level and one scale, ready to add: a drop when
    /// the scales already match, otherwise [`Self::set_scale`] on the operand
    /// at the higher level (the left one on a tie) to the other's scale, which
    /// costs at most one level below the lower operand.
    fn match_scales(
        &self,
        a: &Self::Value,
        b: &Self::Value,
    ) -> Result<(Self::Value, Self::Value), SlotError> {
        if scales_match(a.scale(), b.scale()) {
            return self.match_levels(a, b);
        }
        let swap = a.level() < b.level();
        let (hi, lo) = if swap { (b, a) } else { (a, b) };
        let hi = if hi.level() > lo.level() + 1 {
            self.drop_to_level(hi, lo.level() + 1)?
        } else {
            hi.clone()
        };
        let hi = self.set_scale(&hi, lo.scale())?;
        let (hi, lo) = self.match_levels(&hi, lo)?;
        Ok(if swap { (lo, hi) } else { (hi, lo) })
    }

    /// `a + b` for values from different computation paths: [`Self::match_scales`]
    /// then [`Self::add`].
    fn add_matched(&self, a: &Self::Value, b: &Self::Value) -> Result<Self::Value, SlotError> {
        let (x, y) = self.match_scales(a, b)?;
        self.add(&x, &y)
    }

    /// The sum of a non-empty list of values.
    fn sum(&self, values: &[Self::Value]) -> Result<Self::Value, SlotError> {
        let (first, rest) = values.split_first().ok_or(SlotError::EmptyInput)?;
        let mut acc = first.clone();
        for v in rest {
            self.add_assign(&mut acc, v)?;
        }
        Ok(acc)
    }

    /// `sum_{i < span} rotate(a, i * stride)` by `log2(span)` rotate-and-add
    /// steps; `span` must be a power of two. With `stride = 1` and
    /// `span = slot_count` every slot holds the total; a negative stride
    /// replicates to the right instead.
    fn rotate_and_sum(
        &self,
        a: &Self::Value,
        span: usize,
        stride: isize,
    ) -> Result<Self::Value, SlotError> {
        if !span.is_power_of_two() {
            return Err(SlotError::BadSpan { span });
        }
        let n = self.slot_count();
        let step = normalize_offset(stride, n) as u128;
        let mut acc = a.clone();
        let mut shift = 1usize;
        while shift < span {
            // (shift * stride) mod n without overflow.
            let offset = ((shift as u128 % n as u128) * step % n as u128) as isize;
            let r = self.rotate(&acc, offset)?;
            self.add_assign(&mut acc, &r)?;
            shift <<= 1;
        }
        Ok(acc)
    }
}

/// [`SlotOps::sum_rotations`] by separate rotations and additions (the default, and the
/// CKKS engine's path for terms at different levels or scales).
fn rotate_each_and_add<E: SlotOps + ?Sized>(
    ev: &E,
    terms: &[(&E::Value, isize)],
) -> Result<E::Value, SlotError> {
    let ((a0, o0), rest) = terms.split_first().ok_or(SlotError::EmptyInput)?;
    let mut acc = ev.rotate(a0, *o0)?;
    for (a, o) in rest {
        let r = ev.rotate(a, *o)?;
        ev.add_assign(&mut acc, &r)?;
    }
    Ok(acc)
}

/// Encryption and decryption on top of [`SlotOps`]: what tests and the client
/// need (the CKKS implementation holds the secret key; the simulator wraps).
pub trait SlotCrypt: SlotOps {
    /// Encrypts a plaintext (same level and scale).
    fn encrypt(&self, p: &Self::Plain) -> Result<Self::Value, SlotError>;
    /// Decrypts and decodes all slots.
    fn decrypt(&self, v: &Self::Value) -> Result<Vec<Complex>, SlotError>;

    /// Encodes and encrypts complex values.
    fn encrypt_values(
        &self,
        values: &[Complex],
        level: usize,
        scale: f64,
    ) -> Result<Self::Value, SlotError> {
        self.encrypt(&self.encode(values, level, scale)?)
    }

    /// Encodes and encrypts real values.
    fn encrypt_real(
        &self,
        values: &[f64],
        level: usize,
        scale: f64,
    ) -> Result<Self::Value, SlotError> {
        self.encrypt(&self.encode_real(values, level, scale)?)
    }

    /// Decrypts and keeps the real parts.
    fn decrypt_real(&self, v: &Self::Value) -> Result<Vec<f64>, SlotError> {
        Ok(self.decrypt(v)?.iter().map(|z| z.re).collect())
    }
}
