//! ModRaise and the sparse-secret encapsulation around it (Bossuat et al. 2022).
//!
//! The main secret `s` is dense (uniform ternary). Raising a level-0 ciphertext under `s`
//! to the whole chain gives `c0 + c1 s = m + q0 I` with `|I|` up to ~`sqrt(N)`, far too
//! wide for EvalMod. So the client also draws an ephemeral sparse secret `s'` (Hamming
//! weight `h`) and two switching keys:
//!
//! * `s -> s'`, which only ever acts at level 0, so it is made for level 0: it holds
//!   only the `q0` and `P` limbs of one digit, so an RLWE sample under the sparse `s'`
//!   is only exposed modulo `q0 * P`, where a small `h` is still secure;
//! * `s' -> s` over the whole chain, an RLWE sample under the dense `s`.
//!
//! Both keep only their seed for the `a` parts ([`KeyStorage::Seeded`]): each is used
//! once per bootstrap, so expanding its limbs then costs little.
//!
//! Bootstrapping switches the level-0 ciphertext to `s'`, raises it (centred lift of each
//! coefficient from `q0` to every prime) and switches back to `s`. Under `s'`,
//! `x = (c0 + c1 s') / q0` has coefficients that are sums of `h + 1` independent values
//! uniform in `[-1/2, 1/2]` (Irwin-Hall), so `|x| <= K` except with a probability bounded by
//! [`modraise_failure_log2`] (a Chernoff bound, union over the `N` coefficients);
//! [`modraise_bound`] is the smallest such `K` for a target failure probability.

use alloc::vec::Vec;

use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::ckks::{Ciphertext, CkksContext, CkksError, KeyId};
use crate::math::sampler::ternary_hamming;
use crate::ring::{Form, RnsPoly};
use crate::rlwe::{KeyStorage, SecretKey, SwitchingKey};

/// `ln E[exp(l U)]` for `U` uniform on `[-1/2, 1/2]`: `ln(sinh(l/2) / (l/2))`.
fn log_mgf_uniform(l: f64) -> f64 {
    let x = 0.5 * l;
    if x < 1e-4 {
        return x * x / 6.0;
    }
    // ln(sinh x / x) = x + ln(1 - e^-2x) - ln 2 - ln x, stable for large x.
    x + libm::log1p(-libm::exp(-2.0 * x)) - core::f64::consts::LN_2 - libm::log(x)
}

/// Chernoff exponent `sup_l (l t - m ln M(l))` of a sum of `m` uniforms on `[-1/2, 1/2]`.
fn chernoff_exponent(m: f64, t: f64) -> f64 {
    let f = |l: f64| l * t - m * log_mgf_uniform(l);
    // Concave in l: ternary search.
    let (mut lo, mut hi) = (0.0f64, 400.0f64);
    for _ in 0..200 {
        let a = lo + (hi - lo) / 3.0;
        let b = hi - (hi - lo) / 3.0;
        if f(a) < f(b) {
            lo = a;
        } else {
            hi = b;
        }
    }
    f(0.5 * (lo + hi)).max(0.0)
}

/// `log2` of an upper bound on the probability that some coefficient of
/// `(c0 + c1 s') / q0` exceeds `k` in magnitude, for ring degree `n` and a secret of Hamming
/// weight `h`: `N * 2 * exp(-J(k))` with `J` the Chernoff exponent of a sum of `h + 1`
/// independent uniforms on `[-1/2, 1/2]`. Exactly `-inf` at or beyond `(h + 1) / 2`, where
/// the sum cannot reach.
pub fn modraise_failure_log2(n: usize, h: usize, k: f64) -> f64 {
    let m = (h + 1) as f64;
    if k >= 0.5 * m {
        return f64::NEG_INFINITY;
    }
    let j = chernoff_exponent(m, k);
    (libm::log2(2.0 * n as f64) - j / core::f64::consts::LN_2).min(0.0)
}

/// The smallest `K` (to 1/64) with [`modraise_failure_log2`]`(n, h, K) <= -security_bits`.
///
/// ```
/// use hetal_core::boot::encaps::{modraise_bound, modraise_failure_log2};
/// let k = modraise_bound(1 << 16, 32, 64.0);
/// assert!(k > 10.0 && k < 17.0);
/// assert!(modraise_failure_log2(1 << 16, 32, k) <= -64.0);
/// ```
pub fn modraise_bound(n: usize, h: usize, security_bits: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 0.5 * (h + 1) as f64);
    while hi - lo > 1.0 / 64.0 {
        let mid = 0.5 * (lo + hi);
        if modraise_failure_log2(n, h, mid) <= -security_bits {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The two switching keys of the encapsulation (public material).
#[derive(Clone, Debug)]
pub struct EncapsulationKeys {
    /// `s -> s'`, only the `q0` and `P` limbs non-zero.
    pub to_sparse: SwitchingKey,
    /// `s' -> s`, the whole chain.
    pub to_dense: SwitchingKey,
    /// Hamming weight of `s'`.
    pub h: usize,
}

impl EncapsulationKeys {
    /// Client side: draws a fresh sparse secret of weight `h` and the two keys.
    pub fn generate<R: CryptoRng + ?Sized>(
        ctx: &CkksContext,
        sk: &SecretKey,
        h: usize,
        rng: &mut R,
    ) -> Result<Self, CkksError> {
        let ring = ctx.ring();
        let mut coeffs = ternary_hamming(rng, ring.n(), h)?;
        let sparse = SecretKey::from_coeffs(ring, coeffs.clone());
        coeffs.zeroize();
        let sparse = sparse?;
        let (sw, top) = (ctx.switcher(), ctx.params().max_level());
        let seeded = KeyStorage::Seeded;
        let to_sparse = SwitchingKey::generate(ring, sw, &sparse, sk.ntt(), 0, seeded, rng)?;
        let to_dense = SwitchingKey::generate(ring, sw, sk, sparse.ntt(), top, seeded, rng)?;
        Ok(Self {
            to_sparse,
            to_dense,
            h,
        })
    }

    /// Size in bytes of the two keys as held in memory.
    pub fn byte_size(&self) -> usize {
        self.to_sparse.byte_size() + self.to_dense.byte_size()
    }
}

/// Drops `ct` to level 0, switches it to the sparse secret, raises it to `top_level`
/// (centred lift of each coefficient modulo `q0`) and switches it back to the main secret.
///
/// The result decrypts (under the main secret) to `m + q0 I + e` modulo `Q_top`, with `m`
/// the level-0 message, `|I| <= K` (see the module documentation) and a small key-switching
/// error `e`. Its scale is the input's.
pub fn mod_raise(
    ctx: &CkksContext,
    keys: &EncapsulationKeys,
    ct: &Ciphertext,
    top_level: usize,
) -> Result<Ciphertext, CkksError> {
    mod_raise_lifted(ctx, keys, ct, top_level, 0)
}

/// [`mod_raise`] with the raised data multiplied by `2^lift_bits` (exactly, as integers)
/// before the switch back to the main secret: that switch's fixed rounding noise (~`sqrt(N)`
/// per coefficient) then sits `lift_bits` below the data instead of at the message's own
/// scale, where it was the largest error of a bootstrap. `log2(q0) + lift_bits` must stay
/// below 62. The result decrypts to `2^lift_bits (m + q0 I) + e`.
pub fn mod_raise_lifted(
    ctx: &CkksContext,
    keys: &EncapsulationKeys,
    ct: &Ciphertext,
    top_level: usize,
    lift_bits: u32,
) -> Result<Ciphertext, CkksError> {
    let ring = ctx.ring();
    let sw = ctx.switcher();
    let n = ring.n();
    let mut c0 = ct.c0.clone();
    let mut c1 = ct.c1.clone();
    c0.drop_q_limbs(c0.q_limbs() - 1)?;
    c1.drop_q_limbs(c1.q_limbs() - 1)?;
    // s -> s' at level 0.
    c1.to_coeff(ring)?;
    let (d0, d1) = sw
        .switch(ring, &c1, &keys.to_sparse)
        .map_err(CkksError::with_key(KeyId::Encapsulation))?;
    c0.add_assign(ring, &d0)?;
    let mut c1 = d1;
    c0.to_coeff(ring)?;
    c1.to_coeff(ring)?;
    let q0 = ring.q_moduli()[0].value();
    if 64 - q0.leading_zeros() + lift_bits > 62 {
        return Err(CkksError::LevelExhausted);
    }
    let lift = |p: &RnsPoly| -> Result<RnsPoly, CkksError> {
        let signed: Vec<i64> = p.limb(0)[..n]
            .iter()
            .map(|&v| {
                let c = if v > q0 / 2 {
                    v as i64 - q0 as i64
                } else {
                    v as i64
                };
                c << lift_bits
            })
            .collect();
        Ok(RnsPoly::from_signed(ring, &signed, top_level + 1, 0)?)
    };
    let mut r0 = lift(&c0)?;
    let r1 = lift(&c1)?;
    // s' -> s over the raised chain.
    let (e0, e1) = sw
        .switch(ring, &r1, &keys.to_dense)
        .map_err(CkksError::with_key(KeyId::Encapsulation))?;
    r0.to_ntt(ring)?;
    r0.add_assign(ring, &e0)?;
    debug_assert_eq!(e1.form(), Form::Ntt);
    Ok(Ciphertext {
        c0: r0,
        c1: e1,
        scale: ct.scale,
        slots: ct.slots,
    })
}
