use alloc::vec::Vec;

use rand_core::CryptoRng;
use zeroize::Zeroize;

use super::{KeySwitcher, RlweError};
use crate::math::sampler::DiscreteGaussian;
use crate::math::seed::{Seed, expand_key_limb, key_limb_stream};
use crate::ring::{Form, RingContext, RnsPoly};

/// The secret key `s` (small coefficients), kept in NTT form over every prime of the
/// context. Zeroized on drop; never serialized by the server side (it has none).
pub struct SecretKey {
    coeffs: Vec<i64>,
    ntt: RnsPoly,
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.coeffs.zeroize();
        self.ntt.data_mut().zeroize();
    }
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// A key from ternary coefficients (`N` values in {-1, 0, 1}).
    pub fn from_coeffs(ctx: &RingContext, coeffs: Vec<i64>) -> Result<Self, RlweError> {
        if coeffs.len() != ctx.n() || coeffs.iter().any(|c| !(-1..=1).contains(c)) {
            let mut c = coeffs;
            c.zeroize();
            return Err(RlweError::BadSecret);
        }
        let mut ntt = RnsPoly::from_signed(ctx, &coeffs, ctx.q_count(), ctx.p_count())?;
        ntt.to_ntt(ctx)?;
        Ok(Self { coeffs, ntt })
    }

    /// The coefficients (client side only).
    pub fn coeffs(&self) -> &[i64] {
        &self.coeffs
    }

    /// `s` in NTT form over all of `Q` and `P`.
    pub fn ntt(&self) -> &RnsPoly {
        &self.ntt
    }
}

/// Gaussian error polynomial over the limbs of `shape`, in NTT form.
pub(crate) fn error_poly<R: CryptoRng + ?Sized>(
    ctx: &RingContext,
    rng: &mut R,
    q_limbs: usize,
    p_limbs: usize,
) -> Result<RnsPoly, RlweError> {
    let e = DiscreteGaussian::standard().sample_vec(rng, ctx.n());
    let mut p = RnsPoly::from_signed(ctx, &e, q_limbs, p_limbs)?;
    p.to_ntt(ctx)?;
    Ok(p)
}

/// `out = -a * s + e` limb by limb, where `s` is the full secret (its limbs are picked by
/// global index) and `a`, `e` share `out`'s limbs.
pub(crate) fn minus_a_s_plus_e(
    ctx: &RingContext,
    a: &RnsPoly,
    s: &RnsPoly,
    e: &RnsPoly,
) -> RnsPoly {
    let k = ctx.kernels();
    let n = ctx.n();
    let mut out = e.clone();
    let mut prod = a.clone();
    for i in 0..a.num_limbs() {
        let g = ctx.limb_index(a.q_limbs(), i);
        let m = ctx.moduli()[g];
        k.mul_assign(prod.limb_mut(i), &s.data()[g * n..(g + 1) * n], m.consts());
        k.sub_assign(out.limb_mut(i), prod.limb(i), m.value());
    }
    out
}

/// The public key `(b, a) = (-a s + e, a)` over all of `Q`, NTT form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// `-a s + e`.
    pub b: RnsPoly,
    /// Uniform `a`.
    pub a: RnsPoly,
}

impl PublicKey {
    /// Generates the public key of `sk`.
    pub fn generate<R: CryptoRng + ?Sized>(
        ctx: &RingContext,
        sk: &SecretKey,
        rng: &mut R,
    ) -> Result<Self, RlweError> {
        let a = RnsPoly::sample_uniform(ctx, rng, ctx.q_count(), 0, Form::Ntt)?;
        let e = error_poly(ctx, rng, ctx.q_count(), 0)?;
        let b = minus_a_s_plus_e(ctx, &a, sk.ntt(), &e);
        Ok(Self { b, a })
    }
}

/// How a [`SwitchingKey`] holds its uniform `a` parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyStorage {
    /// `a` expanded in memory: twice the bytes, no work at use.
    #[default]
    Expanded,
    /// Only the seed: each `a` limb is expanded when the inner product reaches it
    /// (ChaCha12, ~0.2 ms per 2^16-coefficient limb with AVX-512), halving the key.
    Seeded,
}

/// A hybrid key-switching key from `s'` to `s`, usable for ciphertexts up to its
/// [`level`](Self::level): one `(b_j, a_j)` per digit covering `q_0 .. q_level`, each over
/// `q_0 .. q_level` and all of `P`, in NTT form. A key for level `l` is the full-level key
/// restricted to those limbs and digits (the ModUp of a level-`l` ciphertext never
/// reaches the others), so low-level keys are much smaller.
///
/// The `a_j` come from `seed` limb by limb ([`crate::math::seed::expand_key_limb`]); they
/// are kept expanded or not according to the key's [`KeyStorage`], and are never sent.
#[derive(Clone, Debug)]
pub struct SwitchingKey {
    /// `b_j = -a_j s + e_j + P g_j s'`.
    b: Vec<RnsPoly>,
    /// The expanded `a_j` ([`KeyStorage::Expanded`] only).
    a: Option<Vec<RnsPoly>>,
    /// The seed the `a_j` come from.
    seed: Seed,
}

/// Two keys are equal when they hold the same `b` and seed (their `a` follow from the
/// seed), whatever their storage.
impl PartialEq for SwitchingKey {
    fn eq(&self, other: &Self) -> bool {
        self.seed == other.seed && self.b == other.b
    }
}
impl Eq for SwitchingKey {}

/// Digit `j`'s `a` over the limbs of a `q_limbs`-level key, expanded from `seed`.
fn expand_a(
    ctx: &RingContext,
    seed: &Seed,
    j: usize,
    q_limbs: usize,
) -> Result<RnsPoly, RlweError> {
    let mut a = RnsPoly::zero(ctx, q_limbs, ctx.p_count(), Form::Ntt)?;
    let n = ctx.n();
    for (i, limb) in a.data_mut().chunks_exact_mut(n).enumerate() {
        let g = ctx.limb_index(q_limbs, i);
        expand_key_limb(
            ctx.kernels(),
            seed,
            key_limb_stream(j, g),
            &ctx.moduli()[g],
            limb,
        );
    }
    Ok(a)
}

impl SwitchingKey {
    /// Generates the key switching `s_from` (NTT form over all of `Q * P`) to `sk`, for
    /// ciphertexts at levels up to `level` (at most the top level).
    pub fn generate<R: CryptoRng + ?Sized>(
        ctx: &RingContext,
        switcher: &KeySwitcher,
        sk: &SecretKey,
        s_from: &RnsPoly,
        level: usize,
        storage: KeyStorage,
        rng: &mut R,
    ) -> Result<Self, RlweError> {
        let (qc, pc, n) = (ctx.q_count(), ctx.p_count(), ctx.n());
        if level >= qc {
            return Err(RlweError::KeyLevel {
                key_level: qc - 1,
                level,
            });
        }
        let mut seed = Seed::default();
        rng.fill_bytes(&mut seed);
        let ql = level + 1;
        let digits = ql.div_ceil(switcher.alpha());
        let k = ctx.kernels();
        let mut b = Vec::with_capacity(digits);
        let mut a = Vec::with_capacity(digits);
        let mut tmp = alloc::vec![0u64; n];
        for j in 0..digits {
            let aj = expand_a(ctx, &seed, j, ql)?;
            let e = error_poly(ctx, rng, ql, pc)?;
            let mut bj = minus_a_s_plus_e(ctx, &aj, sk.ntt(), &e);
            for i in switcher.digit_range(j, ql) {
                let m = ctx.moduli()[i];
                tmp.copy_from_slice(&s_from.data()[i * n..(i + 1) * n]);
                k.mul_scalar_assign(&mut tmp, &m.shoup(switcher.p_mod_q(i)), m.value());
                k.add_assign(bj.limb_mut(i), &tmp, m.value());
            }
            b.push(bj);
            if storage == KeyStorage::Expanded {
                a.push(aj);
            }
        }
        tmp.zeroize();
        let a = (storage == KeyStorage::Expanded).then_some(a);
        Ok(Self { b, a, seed })
    }

    /// A key from its `b` parts and seed (as decoded), checked against the context: one
    /// `b_j` per digit of its level, each over `q_0 .. q_level` and all of `P`, NTT form.
    pub fn from_parts(
        ctx: &RingContext,
        switcher: &KeySwitcher,
        b: Vec<RnsPoly>,
        seed: Seed,
        storage: KeyStorage,
    ) -> Result<Self, RlweError> {
        let first = b.first().ok_or(RlweError::KeyShapeMismatch)?;
        let ql = first.q_limbs();
        if ql == 0
            || ql > ctx.q_count()
            || b.len() != ql.div_ceil(switcher.alpha())
            || b.iter().any(|p| {
                p.q_limbs() != ql
                    || p.p_limbs() != ctx.p_count()
                    || p.n() != ctx.n()
                    || p.form() != Form::Ntt
            })
        {
            return Err(RlweError::KeyShapeMismatch);
        }
        let mut key = Self { b, a: None, seed };
        key.set_storage(ctx, storage)?;
        Ok(key)
    }

    /// Expands or drops the `a` parts.
    pub fn set_storage(&mut self, ctx: &RingContext, storage: KeyStorage) -> Result<(), RlweError> {
        match storage {
            KeyStorage::Seeded => self.a = None,
            KeyStorage::Expanded if self.a.is_none() => {
                let ql = self.b[0].q_limbs();
                self.a = Some(
                    (0..self.b.len())
                        .map(|j| expand_a(ctx, &self.seed, j, ql))
                        .collect::<Result<_, _>>()?,
                );
            }
            KeyStorage::Expanded => {}
        }
        Ok(())
    }

    /// How the `a` parts are held.
    pub fn storage(&self) -> KeyStorage {
        if self.a.is_some() {
            KeyStorage::Expanded
        } else {
            KeyStorage::Seeded
        }
    }

    /// Number of digits.
    pub fn dnum(&self) -> usize {
        self.b.len()
    }

    /// The highest ciphertext level this key switches.
    pub fn level(&self) -> usize {
        self.b[0].q_limbs() - 1
    }

    /// The `b_j` parts.
    pub fn b(&self) -> &[RnsPoly] {
        &self.b
    }

    /// The seed of the `a_j` parts.
    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    /// Bytes held in memory (`b`, and `a` when expanded).
    pub fn byte_size(&self) -> usize {
        let words: usize = self.b.iter().map(|p| p.data().len()).sum();
        let factor = if self.a.is_some() { 2 } else { 1 };
        factor * words * 8 + self.seed.len()
    }

    /// Position in this key's polynomials of the context's limb `g` (Q primes, then P).
    fn local_limb(&self, ctx: &RingContext, g: usize) -> usize {
        let qc = ctx.q_count();
        if g < qc {
            g
        } else {
            self.b[0].q_limbs() + (g - qc)
        }
    }

    /// Limb `g` (context index) of `b_j`. The caller checked the key's level.
    pub(crate) fn b_limb(&self, ctx: &RingContext, j: usize, g: usize) -> &[u64] {
        self.b[j].limb(self.local_limb(ctx, g))
    }

    /// Limb `g` (context index) of `a_j`: borrowed when expanded, otherwise expanded
    /// from the seed into `buf` (`n` words).
    pub(crate) fn a_limb<'s>(
        &'s self,
        ctx: &RingContext,
        j: usize,
        g: usize,
        buf: &'s mut [u64],
    ) -> &'s [u64] {
        match &self.a {
            Some(a) => a[j].limb(self.local_limb(ctx, g)),
            None => {
                expand_key_limb(
                    ctx.kernels(),
                    &self.seed,
                    key_limb_stream(j, g),
                    &ctx.moduli()[g],
                    buf,
                );
                buf
            }
        }
    }
}
