//! The CKKS context, plaintexts and ciphertexts, keys, encryption and decryption.
//!
//! Roles as types: the client holds the [`SecretKey`] and makes [`EvaluationKeys`]; the
//! server builds an [`super::Evaluator`] from the context and the evaluation keys alone.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use hetal_simd::ShoupConst;
use rand_core::CryptoRng;

use super::complex::Complex;
use super::encoder::{EncodeError, Encoder, coeffs_to_residues, galois_element_for_conjugation};
use super::params::Params;
use super::security::SecretDistribution;
use crate::math::RnsBasis;
use crate::math::sampler::{ternary_hamming, ternary_uniform};
use crate::ring::{Form, RingContext, RingError, RnsPoly, galois_element};
use crate::rlwe::{KeyStorage, KeySwitcher, PublicKey, RlweError, SecretKey, SwitchingKey};

/// Errors of the CKKS layer.
#[derive(Clone, Debug, PartialEq)]
pub enum CkksError {
    /// From the RLWE layer.
    Rlwe(RlweError),
    /// From the encoder.
    Encode(EncodeError),
    /// Operands at the same level have different scales (adding them would be wrong).
    ScaleMismatch {
        /// Level and scale of the left operand.
        left: (usize, f64),
        /// Level and scale of the right operand.
        right: (usize, f64),
    },
    /// Operands have different slot counts.
    SlotMismatch(usize, usize),
    /// No level left for a rescale or a multiplication.
    LevelExhausted,
    /// A target level above the current one.
    BadLevel {
        /// Current level.
        current: usize,
        /// Requested level.
        requested: usize,
    },
    /// No relinearization key in the evaluation keys.
    MissingRelinKey,
    /// No key for this Galois element (rotation step or conjugation).
    MissingGaloisKey(usize),
    /// The secret distribution cannot be used for a key.
    UnsupportedSecret,
    /// A key made for levels up to `key_level` needed at `level`: the key lacks the
    /// limbs for it (generate it for a higher level; see [`KeySpec`]).
    KeyLevel {
        /// Which key.
        key: KeyId,
        /// The key's highest level.
        key_level: usize,
        /// The level it was needed at.
        level: usize,
    },
}

/// Names an evaluation key in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyId {
    /// The relinearization key.
    Relin,
    /// The Galois key of this element (a rotation or conjugation).
    Galois(usize),
    /// A bootstrapping encapsulation key.
    Encapsulation,
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Relin => write!(f, "relinearization key"),
            Self::Galois(g) => write!(f, "Galois key {g}"),
            Self::Encapsulation => write!(f, "encapsulation key"),
        }
    }
}

impl CkksError {
    /// The error of a key switch with `key`: a level error names the key.
    pub(crate) fn with_key(key: KeyId) -> impl Fn(RlweError) -> CkksError {
        move |e| match e {
            RlweError::KeyLevel { key_level, level } => CkksError::KeyLevel {
                key,
                key_level,
                level,
            },
            other => CkksError::Rlwe(other),
        }
    }
}

impl From<RlweError> for CkksError {
    fn from(e: RlweError) -> Self {
        Self::Rlwe(e)
    }
}
impl From<RingError> for CkksError {
    fn from(e: RingError) -> Self {
        Self::Rlwe(RlweError::Ring(e))
    }
}
impl From<EncodeError> for CkksError {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}
impl From<crate::math::MathError> for CkksError {
    fn from(e: crate::math::MathError) -> Self {
        Self::Rlwe(RlweError::Math(e))
    }
}

impl fmt::Display for CkksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rlwe(e) => write!(f, "{e}"),
            Self::Encode(e) => write!(f, "{e}"),
            Self::ScaleMismatch { left, right } => write!(
                f,
                "scale mismatch: level {} scale 2^{:.6} vs level {} scale 2^{:.6}",
                left.0,
                libm::log2(left.1),
                right.0,
                libm::log2(right.1)
            ),
            Self::SlotMismatch(a, b) => write!(f, "slot counts differ: {a} vs {b}"),
            Self::LevelExhausted => write!(f, "no level left"),
            Self::BadLevel { current, requested } => {
                write!(f, "cannot go from level {current} up to level {requested}")
            }
            Self::MissingRelinKey => write!(f, "no relinearization key"),
            Self::MissingGaloisKey(g) => write!(f, "no key for Galois element {g}"),
            Self::UnsupportedSecret => write!(f, "secret distribution not supported for keys"),
            Self::KeyLevel {
                key,
                key_level,
                level,
            } => write!(
                f,
                "{key} was made for levels up to {key_level}, needed at level {level}"
            ),
        }
    }
}

impl core::error::Error for CkksError {}

/// Everything derived from a [`Params`]: the ring, the encoder, key-switching constants.
#[derive(Debug)]
pub struct CkksContext {
    params: Params,
    ring: RingContext,
    encoder: Encoder,
    switcher: KeySwitcher,
    /// `rescale_inv[l][i] = q_l^-1 mod q_i` for `i < l`.
    rescale_inv: Vec<Vec<ShoupConst>>,
    /// `X^(N/2)` (multiplication by `i` in every slot), NTT form over all of Q.
    monomial_i: RnsPoly,
}

impl CkksContext {
    /// Builds the context (NTT tables for every prime, key-switching converters).
    pub fn new(params: Params) -> Result<Self, CkksError> {
        let n = params.n();
        let ring = RingContext::new(n, params.q(), params.p()).map_err(RlweError::Ring)?;
        let encoder = Encoder::new(n)?;
        let switcher = KeySwitcher::new(&ring, params.dnum())?;
        let qm = ring.q_moduli();
        let rescale_inv = (0..qm.len())
            .map(|l| {
                (0..l)
                    .map(|i| qm[i].inv(qm[l].value()).map(|v| qm[i].shoup(v)))
                    .collect()
            })
            .collect::<Result<Vec<Vec<_>>, _>>()?;
        let mut mono = vec![0i64; n];
        mono[n / 2] = 1;
        let mut monomial_i = RnsPoly::from_signed(&ring, &mono, qm.len(), 0)?;
        monomial_i.to_ntt(&ring)?;
        Ok(Self {
            params,
            ring,
            encoder,
            switcher,
            rescale_inv,
            monomial_i,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
    /// The ring.
    pub fn ring(&self) -> &RingContext {
        &self.ring
    }
    /// Installs an executor for per-limb work.
    pub fn with_executor(mut self, exec: alloc::sync::Arc<dyn crate::exec::Executor>) -> Self {
        self.ring = self.ring.with_executor(exec);
        self
    }
    /// The encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
    /// Key-switching constants.
    pub fn switcher(&self) -> &KeySwitcher {
        &self.switcher
    }
    pub(crate) fn rescale_inv(&self, l: usize, i: usize) -> &ShoupConst {
        &self.rescale_inv[l][i]
    }
    pub(crate) fn monomial_i(&self) -> &RnsPoly {
        &self.monomial_i
    }

    /// Encodes `values` into `slots` slots at `level` and `scale`.
    pub fn encode(
        &self,
        values: &[Complex],
        slots: usize,
        level: usize,
        scale: f64,
    ) -> Result<Plaintext, CkksError> {
        if level > self.params.max_level() {
            return Err(CkksError::BadLevel {
                current: self.params.max_level(),
                requested: level,
            });
        }
        let coeffs = self.encoder.encode_coeffs(values, slots, scale)?;
        let mut data = vec![0u64; (level + 1) * self.params.n()];
        coeffs_to_residues(&coeffs, &self.params.q()[..=level], &mut data)?;
        let mut poly = RnsPoly::from_data(&self.ring, data, level + 1, 0, Form::Coeff)?;
        poly.to_ntt(&self.ring)?;
        Ok(Plaintext { poly, scale, slots })
    }

    /// Encodes real values.
    pub fn encode_real(
        &self,
        values: &[f64],
        slots: usize,
        level: usize,
        scale: f64,
    ) -> Result<Plaintext, CkksError> {
        let v: Vec<Complex> = values.iter().map(|&x| Complex::from_real(x)).collect();
        self.encode(&v, slots, level, scale)
    }

    /// Decodes a plaintext into its complex slots.
    ///
    /// The centred lift uses the smallest prefix of the chain with at least 64 bits of
    /// headroom above the scale (exact whenever the values stay below 2^63 in magnitude).
    pub fn decode(&self, pt: &Plaintext) -> Result<Vec<Complex>, CkksError> {
        let mut poly = pt.poly.clone();
        poly.to_coeff(&self.ring)?;
        let need = libm::log2(pt.scale) + 64.0;
        let (mut k, mut bits) = (0, 0.0);
        while k < poly.q_limbs() && bits < need {
            bits += libm::log2(self.params.q()[k] as f64);
            k += 1;
        }
        let basis = RnsBasis::from_primes(&self.params.q()[..k])?;
        let n = self.params.n();
        let mut coeffs = vec![0.0; n];
        basis.centered_f64_poly(&poly.data()[..k * n], &mut coeffs)?;
        Ok(self.encoder.decode_coeffs(&coeffs, pt.slots, pt.scale)?)
    }

    /// A fresh secret key for the parameters' secret distribution.
    pub fn gen_secret_key<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<SecretKey, CkksError> {
        let n = self.params.n();
        let coeffs = match self.params.secret() {
            SecretDistribution::UniformTernary => ternary_uniform(rng, n),
            SecretDistribution::SparseTernary { h } => ternary_hamming(rng, n, h)?,
            SecretDistribution::Gaussian => return Err(CkksError::UnsupportedSecret),
        };
        Ok(SecretKey::from_coeffs(&self.ring, coeffs)?)
    }

    /// The public key of `sk`.
    pub fn gen_public_key<R: CryptoRng + ?Sized>(
        &self,
        sk: &SecretKey,
        rng: &mut R,
    ) -> Result<PublicKey, CkksError> {
        Ok(PublicKey::generate(&self.ring, sk, rng)?)
    }

    /// The relinearization key (`s^2 -> s`), full level, expanded.
    pub fn gen_relin_key<R: CryptoRng + ?Sized>(
        &self,
        sk: &SecretKey,
        rng: &mut R,
    ) -> Result<SwitchingKey, CkksError> {
        self.gen_relin_key_at(sk, self.params.max_level(), KeyStorage::Expanded, rng)
    }

    /// The relinearization key for ciphertexts up to `level`.
    pub fn gen_relin_key_at<R: CryptoRng + ?Sized>(
        &self,
        sk: &SecretKey,
        level: usize,
        storage: KeyStorage,
        rng: &mut R,
    ) -> Result<SwitchingKey, CkksError> {
        let mut s2 = sk.ntt().clone();
        s2.mul_assign(&self.ring, sk.ntt())?;
        let key = SwitchingKey::generate(&self.ring, &self.switcher, sk, &s2, level, storage, rng);
        zeroize::Zeroize::zeroize(s2.data_mut());
        key.map_err(CkksError::with_key(KeyId::Relin))
    }

    /// The key for the automorphism `X -> X^g` (`sigma_g(s) -> s`), full level, expanded.
    pub fn gen_galois_key<R: CryptoRng + ?Sized>(
        &self,
        sk: &SecretKey,
        g: usize,
        rng: &mut R,
    ) -> Result<SwitchingKey, CkksError> {
        self.gen_galois_key_at(sk, g, self.params.max_level(), KeyStorage::Expanded, rng)
    }

    /// The key for `X -> X^g` for ciphertexts up to `level`.
    pub fn gen_galois_key_at<R: CryptoRng + ?Sized>(
        &self,
        sk: &SecretKey,
        g: usize,
        level: usize,
        storage: KeyStorage,
        rng: &mut R,
    ) -> Result<SwitchingKey, CkksError> {
        let mut sg = sk.ntt().automorphism(&self.ring, g)?;
        let key = SwitchingKey::generate(&self.ring, &self.switcher, sk, &sg, level, storage, rng);
        zeroize::Zeroize::zeroize(sg.data_mut());
        key.map_err(CkksError::with_key(KeyId::Galois(g)))
    }

    /// The Galois element rotating the slots left by `steps`.
    pub fn rotation_element(&self, steps: isize) -> usize {
        galois_element(self.params.n(), steps)
    }

    /// Relinearization key plus keys for each rotation step and, if asked, conjugation,
    /// all for every level and expanded ([`Self::gen_keys`] makes smaller keys).
    pub fn gen_evaluation_keys<R: CryptoRng + ?Sized>(
        &self,
        sk: &SecretKey,
        rotations: &[isize],
        conjugation: bool,
        rng: &mut R,
    ) -> Result<EvaluationKeys, CkksError> {
        let top = self.params.max_level();
        let mut spec = KeySpec {
            relin: Some(top),
            ..KeySpec::default()
        };
        spec.add_rotations(self, rotations, top);
        if conjugation {
            spec.add_galois(galois_element_for_conjugation(self.params.n()), top);
        }
        self.gen_keys(sk, &spec, rng)
    }

    /// The keys `spec` lists, each restricted to its level and stored as its policy says.
    ///
    /// ```
    /// use hetal_core::ckks::{CkksContext, KeySpec, Params, StoragePolicy};
    /// use hetal_core::rlwe::KeyStorage;
    /// use rand_chacha::ChaCha20Rng;
    /// use rand_core::SeedableRng;
    /// let ctx = CkksContext::new(Params::insecure_n12()).unwrap();
    /// let mut rng = ChaCha20Rng::from_seed([1; 32]);
    /// let sk = ctx.gen_secret_key(&mut rng).unwrap();
    /// let mut spec = KeySpec { relin: Some(2), policy: StoragePolicy::AllSeeded, ..KeySpec::default() };
    /// spec.add_rotations(&ctx, &[1, -1], 1);
    /// let keys = ctx.gen_keys(&sk, &spec, &mut rng).unwrap();
    /// assert_eq!(keys.relin.as_ref().unwrap().level(), 2);
    /// assert_eq!(keys.galois[&ctx.rotation_element(1)].level(), 1);
    /// assert_eq!(keys.relin.as_ref().unwrap().storage(), KeyStorage::Seeded);
    /// assert!(keys.matches(&spec));
    /// ```
    pub fn gen_keys<R: CryptoRng + ?Sized>(
        &self,
        sk: &SecretKey,
        spec: &KeySpec,
        rng: &mut R,
    ) -> Result<EvaluationKeys, CkksError> {
        let mut keys = EvaluationKeys::default();
        if let Some(l) = spec.relin {
            keys.relin = Some(self.gen_relin_key_at(sk, l, spec.policy.storage(l), rng)?);
        }
        for (&g, &l) in &spec.galois {
            let key = self.gen_galois_key_at(sk, g, l, spec.policy.storage(l), rng)?;
            keys.galois.insert(g, key);
        }
        Ok(keys)
    }

    fn restrict(&self, full: &RnsPoly, q_limbs: usize) -> Result<RnsPoly, CkksError> {
        let mut p = full.clone();
        p.drop_p_limbs();
        p.drop_q_limbs(p.q_limbs() - q_limbs)?;
        Ok(p)
    }

    /// Public-key encryption: `(v b + e0 + m, v a + e1)`, `v` uniform ternary.
    pub fn encrypt_pk<R: CryptoRng + ?Sized>(
        &self,
        pk: &PublicKey,
        pt: &Plaintext,
        rng: &mut R,
    ) -> Result<Ciphertext, CkksError> {
        let l = pt.poly.q_limbs();
        let mut v = RnsPoly::from_signed(&self.ring, &ternary_uniform(rng, self.params.n()), l, 0)?;
        v.to_ntt(&self.ring)?;
        let mut c0 = crate::rlwe::error_poly_pub(&self.ring, rng, l)?;
        let mut c1 = crate::rlwe::error_poly_pub(&self.ring, rng, l)?;
        c0.mul_add_assign(&self.ring, &v, &self.restrict(&pk.b, l)?)?;
        c0.add_assign(&self.ring, &pt.poly)?;
        c1.mul_add_assign(&self.ring, &v, &self.restrict(&pk.a, l)?)?;
        zeroize::Zeroize::zeroize(v.data_mut());
        Ok(Ciphertext {
            c0,
            c1,
            scale: pt.scale,
            slots: pt.slots,
        })
    }

    /// Secret-key encryption `(-a s + e + m, a)` with `a` expanded from a fresh seed
    /// (the seed is kept in the ciphertext for compact transmission).
    pub fn encrypt_sk<R: CryptoRng + ?Sized>(
        &self,
        sk: &SecretKey,
        pt: &Plaintext,
        rng: &mut R,
    ) -> Result<Ciphertext, CkksError> {
        let l = pt.poly.q_limbs();
        let mut seed = crate::math::seed::Seed::default();
        rng.fill_bytes(&mut seed);
        let a = RnsPoly::from_seed(&self.ring, &seed, 0, l, 0, Form::Ntt)?;
        let e = crate::rlwe::error_poly_pub(&self.ring, rng, l)?;
        let mut c0 = crate::rlwe::minus_a_s_plus_e_pub(&self.ring, &a, sk.ntt(), &e);
        c0.add_assign(&self.ring, &pt.poly)?;
        Ok(Ciphertext {
            c0,
            c1: a,
            scale: pt.scale,
            slots: pt.slots,
        })
    }

    /// Decryption: `c0 + c1 s`.
    pub fn decrypt(&self, sk: &SecretKey, ct: &Ciphertext) -> Result<Plaintext, CkksError> {
        let l = ct.c0.q_limbs();
        let mut m = ct.c0.clone();
        let s = self.restrict(sk.ntt(), l)?;
        m.mul_add_assign(&self.ring, &ct.c1, &s)?;
        let mut s = s;
        zeroize::Zeroize::zeroize(s.data_mut());
        Ok(Plaintext {
            poly: m,
            scale: ct.scale,
            slots: ct.slots,
        })
    }

    /// Decrypts and decodes.
    pub fn decrypt_decode(
        &self,
        sk: &SecretKey,
        ct: &Ciphertext,
    ) -> Result<Vec<Complex>, CkksError> {
        self.decode(&self.decrypt(sk, ct)?)
    }
}

/// An encoded message: NTT form over `q_0..q_level`, with its exact scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Plaintext {
    /// The polynomial.
    pub poly: RnsPoly,
    /// Its scale.
    pub scale: f64,
    /// Number of slots.
    pub slots: usize,
}

impl Plaintext {
    /// Level (rescales left).
    pub fn level(&self) -> usize {
        self.poly.q_limbs() - 1
    }
}

/// A ciphertext `(c0, c1)` with `c0 + c1 s ~ scale * m`, NTT form over `q_0..q_level`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ciphertext {
    /// `c0`.
    pub c0: RnsPoly,
    /// `c1`.
    pub c1: RnsPoly,
    /// The exact scale.
    pub scale: f64,
    /// Number of slots.
    pub slots: usize,
}

impl Ciphertext {
    /// Level (rescales left).
    pub fn level(&self) -> usize {
        self.c0.q_limbs() - 1
    }
}

/// What a server needs to compute: relinearization and Galois keys (no secret).
#[derive(Clone, Debug, Default)]
pub struct EvaluationKeys {
    /// Relinearization key.
    pub relin: Option<SwitchingKey>,
    /// Galois keys by Galois element.
    pub galois: BTreeMap<usize, SwitchingKey>,
}

impl EvaluationKeys {
    /// Bytes held in memory by all the keys.
    pub fn byte_size(&self) -> usize {
        self.relin
            .iter()
            .chain(self.galois.values())
            .map(SwitchingKey::byte_size)
            .sum()
    }

    /// Whether these are exactly the keys of `spec`: the same relinearization level,
    /// the same Galois elements, each at its level (what a server checks against the
    /// list the computation needs: nothing missing, nothing more).
    pub fn matches(&self, spec: &KeySpec) -> bool {
        self.relin.as_ref().map(SwitchingKey::level) == spec.relin
            && self.galois.len() == spec.galois.len()
            && self
                .galois
                .iter()
                .zip(&spec.galois)
                .all(|((g, k), (h, l))| g == h && k.level() == *l)
    }

    /// Expands or drops the `a` parts of every key.
    pub fn set_storage(&mut self, ctx: &CkksContext, storage: KeyStorage) -> Result<(), CkksError> {
        for k in self.relin.iter_mut().chain(self.galois.values_mut()) {
            k.set_storage(ctx.ring(), storage)?;
        }
        Ok(())
    }
}

/// Which keys of a level-`l` ciphertext's switching keep only their seed in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StoragePolicy {
    /// Every key expanded (fastest switching, twice the memory).
    #[default]
    AllExpanded,
    /// Every key seeded (half the memory; each switch expands its `a` limbs).
    AllSeeded,
    /// Keys for levels at or above this one seeded, the others expanded.
    SeededFrom(usize),
}

impl StoragePolicy {
    /// The storage of a key for levels up to `level`.
    pub fn storage(self, level: usize) -> KeyStorage {
        match self {
            Self::AllExpanded => KeyStorage::Expanded,
            Self::AllSeeded => KeyStorage::Seeded,
            Self::SeededFrom(l) if level >= l => KeyStorage::Seeded,
            Self::SeededFrom(_) => KeyStorage::Expanded,
        }
    }
}

/// The evaluation keys a computation needs, each with the highest level it is used at
/// (a key for level `l` holds only `q_0 .. q_l`, `P` and the digits covering them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeySpec {
    /// Level of the relinearization key (`None`: no key).
    pub relin: Option<usize>,
    /// Galois element -> level.
    pub galois: BTreeMap<usize, usize>,
    /// Which keys keep only their seed.
    pub policy: StoragePolicy,
}

impl KeySpec {
    /// Needs the key of Galois element `g` up to `level` (the higher level wins when
    /// it is already listed; the identity needs no key).
    pub fn add_galois(&mut self, g: usize, level: usize) {
        if g != 1 {
            let e = self.galois.entry(g).or_insert(level);
            *e = (*e).max(level);
        }
    }

    /// Needs rotations by `steps` up to `level`.
    pub fn add_rotations(&mut self, ctx: &CkksContext, steps: &[isize], level: usize) {
        for &s in steps {
            self.add_galois(ctx.rotation_element(s), level);
        }
    }

    /// Needs relinearization up to `level`.
    pub fn add_relin(&mut self, level: usize) {
        self.relin = Some(self.relin.map_or(level, |l| l.max(level)));
    }
}
