use alloc::vec::Vec;

use rand_core::CryptoRng;
use zeroize::Zeroize;

use super::{KeySwitcher, RlweError};
use crate::math::sampler::DiscreteGaussian;
use crate::math::seed::Seed;
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

/// A hybrid key-switching key from `s'` to `s`: one `(b_j, a_j)` per digit over `Q * P`
/// in NTT form. The `a_j` are expanded from `seed` (stream `j`), so the key can be sent
/// as `b` and the seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchingKey {
    /// `b_j = -a_j s + e_j + P g_j s'`.
    pub b: Vec<RnsPoly>,
    /// Uniform `a_j`.
    pub a: Vec<RnsPoly>,
    /// The seed the `a_j` come from.
    pub seed: Seed,
}

impl SwitchingKey {
    /// Generates the key switching `s_from` (NTT form over all of `Q * P`) to `sk`.
    pub fn generate<R: CryptoRng + ?Sized>(
        ctx: &RingContext,
        switcher: &KeySwitcher,
        sk: &SecretKey,
        s_from: &RnsPoly,
        rng: &mut R,
    ) -> Result<Self, RlweError> {
        let mut seed = Seed::default();
        rng.fill_bytes(&mut seed);
        let (qc, pc, n) = (ctx.q_count(), ctx.p_count(), ctx.n());
        let k = ctx.kernels();
        let mut b = Vec::with_capacity(switcher.dnum());
        let mut a = Vec::with_capacity(switcher.dnum());
        for j in 0..switcher.dnum() {
            let aj = RnsPoly::from_seed(ctx, &seed, j as u64, qc, pc, Form::Ntt)?;
            let e = error_poly(ctx, rng, qc, pc)?;
            let mut bj = minus_a_s_plus_e(ctx, &aj, sk.ntt(), &e);
            let mut tmp = alloc::vec![0u64; n];
            for i in switcher.digit_range(j, qc) {
                let m = ctx.moduli()[i];
                tmp.copy_from_slice(&s_from.data()[i * n..(i + 1) * n]);
                k.mul_scalar_assign(&mut tmp, &m.shoup(switcher.p_mod_q(i)), m.value());
                k.add_assign(bj.limb_mut(i), &tmp, m.value());
            }
            tmp.zeroize();
            b.push(bj);
            a.push(aj);
        }
        Ok(Self { b, a, seed })
    }

    /// Number of digits.
    pub fn dnum(&self) -> usize {
        self.b.len()
    }
}
