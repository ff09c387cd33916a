//! CKKS parameter sets, validated at construction (distinct NTT-friendly primes, and
//! log2(QP) within the 128-bit HE-standard bound for the secret distribution).
//!
//! The leveled presets' primes are below 2^50, so every limb takes the AVX-512 IFMA path
//! where the CPU has it; `n16`'s EvalMod, CoeffToSlot and special primes are larger
//! (precision, see [`Params::n16`]) and take the 64-bit AVX-512 path.
//!
//! | preset | N | Q primes (bits) | log Q | P primes (bits) | log P | dnum | scale | levels | secret | log QP / bound |
//! |---|---|---|---|---|---|---|---|---|---|---|
//! | `n16` | 2^16 | 1 x 49 + 12 x 42 + 14 x 61 | ~1406 | 5 x 62 | ~310 | 6 | 2^42 | 26 (9 after a bootstrap) | uniform ternary | ~1716 / 1747 |
//! | `n15` | 2^15 | 1 x 50 + 14 x 40 | ~610 | 5 x 50 | ~250 | 3 | 2^40 | 14 | uniform ternary | ~860 / 881 |
//! | `n14` | 2^14 | 1 x 50 + 5 x 40 | ~250 | 3 x 50 | ~150 | 2 | 2^40 | 5 | uniform ternary | ~400 / 438 |
//!
//! `n16` is the bootstrappable chain (see [`Params::n16`] and `crate::boot`); `n15` and
//! `n14` do not bootstrap (small leveled jobs). The exact values (primes, log Q, log P)
//! are printed by `hetal info`.

use alloc::vec::Vec;
use core::fmt;

use super::security::{self, SecretDistribution, SecurityError, SecurityLevel};
use crate::math::MathError;
use crate::math::primes::{is_prime, ntt_primes};

/// Errors from building parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamsError {
    /// log2(QP) above the 128-bit bound (or unsupported N).
    Security(SecurityError),
    /// A prime could not be generated.
    Math(MathError),
    /// A modulus is not prime, not `1 mod 2N`, not below 2^62, or repeated.
    BadPrime(u64),
    /// `dnum` is 0 or above the number of Q primes, or no P primes were given.
    BadDnum(usize),
    /// `log2 N` outside 1..=17.
    BadDegree(u32),
    /// A digit's modulus exceeds P, so key switching would add more noise than it removes.
    DigitAboveP {
        /// log2 of the largest digit.
        digit_bits: u32,
        /// log2 of P.
        p_bits: u32,
    },
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Security(e) => write!(f, "{e}"),
            Self::Math(e) => write!(f, "{e:?}"),
            Self::BadPrime(q) => write!(
                f,
                "modulus {q} is not a distinct NTT-friendly prime below 2^62"
            ),
            Self::BadDnum(d) => write!(f, "dnum {d} is invalid for this chain"),
            Self::BadDegree(l) => write!(f, "log2 N = {l} is outside 1..=17"),
            Self::DigitAboveP { digit_bits, p_bits } => {
                write!(
                    f,
                    "a key-switching digit has {digit_bits} bits but P has only {p_bits}"
                )
            }
        }
    }
}

/// A CKKS parameter set.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    name: &'static str,
    log_n: u32,
    q: Vec<u64>,
    p: Vec<u64>,
    dnum: usize,
    log_scale: u32,
    secret: SecretDistribution,
    secure: bool,
}

/// `count` primes `= 1 mod 2N` as close to `2^bits` as possible, alternating just below
/// and just above it, so the scale stays near `2^bits` through rescaling.
fn scale_primes(bits: u32, n: usize, count: usize, exclude: &[u64]) -> Result<Vec<u64>, MathError> {
    let step = 2 * n as u64;
    let centre = 1u64 << bits;
    let (mut below, mut above) = (centre + 1 - step, centre + 1 + step);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let pick_below = out.len() % 2 == 0;
        let c = if pick_below { &mut below } else { &mut above };
        while !is_prime(*c) || exclude.contains(c) {
            *c = if pick_below { *c - step } else { *c + step };
        }
        out.push(*c);
        *c = if pick_below { *c - step } else { *c + step };
    }
    Ok(out)
}

impl Params {
    /// Parameters from explicit chains, checked against the 128-bit bound.
    pub fn new(
        log_n: u32,
        q: Vec<u64>,
        p: Vec<u64>,
        dnum: usize,
        log_scale: u32,
        secret: SecretDistribution,
    ) -> Result<Self, ParamsError> {
        Self::new_unchecked("custom", log_n, q, p, dnum, log_scale, secret, true)?.checked()
    }

    /// `self` if its log2(QP) is within the 128-bit bound for its secret.
    fn checked(self) -> Result<Self, ParamsError> {
        security::check(
            self.n(),
            self.secret,
            SecurityLevel::Classic128,
            self.log_qp(),
        )
        .map_err(ParamsError::Security)?;
        Ok(self)
    }

    #[allow(clippy::too_many_arguments)]
    fn new_unchecked(
        name: &'static str,
        log_n: u32,
        q: Vec<u64>,
        p: Vec<u64>,
        dnum: usize,
        log_scale: u32,
        secret: SecretDistribution,
        secure: bool,
    ) -> Result<Self, ParamsError> {
        if !(1..=17).contains(&log_n) {
            return Err(ParamsError::BadDegree(log_n));
        }
        let two_n = 2u64 << log_n;
        let all: Vec<u64> = q.iter().chain(&p).copied().collect();
        for (i, &m) in all.iter().enumerate() {
            if m >= 1 << 62 || !is_prime(m) || m % two_n != 1 || all[..i].contains(&m) {
                return Err(ParamsError::BadPrime(m));
            }
        }
        if dnum == 0 || dnum > q.len() || p.is_empty() {
            return Err(ParamsError::BadDnum(dnum));
        }
        let params = Self {
            name,
            log_n,
            q,
            p,
            dnum,
            log_scale,
            secret,
            secure,
        };
        let alpha = params.q.len().div_ceil(dnum);
        let digit_bits = params
            .q
            .chunks(alpha)
            .map(security::log2_product)
            .fold(0.0, f64::max);
        let p_bits = security::log2_product(&params.p);
        if digit_bits > p_bits + 1.0 {
            return Err(ParamsError::DigitAboveP {
                digit_bits: digit_bits as u32,
                p_bits: p_bits as u32,
            });
        }
        Ok(params)
    }

    /// A preset chain: one `q0_bits` prime, `levels` scale primes near `2^40`, `p_count`
    /// special primes of `p_bits`; checked against the 128-bit bound when `secure`.
    #[allow(clippy::too_many_arguments)]
    fn preset(
        name: &'static str,
        log_n: u32,
        q0_bits: u32,
        levels: usize,
        p_bits: u32,
        p_count: usize,
        dnum: usize,
        secure: bool,
    ) -> Self {
        let groups = [(q0_bits, 1), (40, levels)];
        Self::preset_groups(name, log_n, &groups, p_bits, p_count, dnum, 40, secure)
    }

    /// A chain built bottom-up from groups `(bits, count)`: the first group's primes are
    /// the largest below `2^bits` (the base prime), the others are scale primes close to
    /// `2^bits`; then `p_count` special primes of `p_bits` (uniform ternary secret),
    /// checked against the 128-bit bound. The bootstrapping presets are built this way:
    /// their CoeffToSlot and EvalMod levels need larger primes than the rest.
    ///
    /// ```
    /// use hetal_core::ckks::Params;
    /// // N16's chain.
    /// let p = Params::from_groups(16, &[(49, 1), (42, 12), (61, 14)], 62, 5, 6, 42).unwrap();
    /// assert_eq!(p.q(), Params::n16().q());
    /// // The same chain at N = 2^13 is far above the bound.
    /// assert!(Params::from_groups(13, &[(49, 1), (42, 12), (61, 14)], 62, 5, 6, 42).is_err());
    /// ```
    pub fn from_groups(
        log_n: u32,
        groups: &[(u32, usize)],
        p_bits: u32,
        p_count: usize,
        dnum: usize,
        log_scale: u32,
    ) -> Result<Self, ParamsError> {
        Self::build_groups(
            "custom", log_n, groups, p_bits, p_count, dnum, log_scale, true,
        )
    }

    /// **Insecure**, tests and experiments only: [`Self::from_groups`] without the
    /// security check (a chain shape tried at a small N).
    pub fn insecure_from_groups(
        log_n: u32,
        groups: &[(u32, usize)],
        p_bits: u32,
        p_count: usize,
        dnum: usize,
        log_scale: u32,
    ) -> Result<Self, ParamsError> {
        Self::build_groups(
            "insecure_custom",
            log_n,
            groups,
            p_bits,
            p_count,
            dnum,
            log_scale,
            false,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build_groups(
        name: &'static str,
        log_n: u32,
        groups: &[(u32, usize)],
        p_bits: u32,
        p_count: usize,
        dnum: usize,
        log_scale: u32,
        secure: bool,
    ) -> Result<Self, ParamsError> {
        if !(1..=17).contains(&log_n) {
            return Err(ParamsError::BadDegree(log_n));
        }
        let n = 1usize << log_n;
        let mut q: Vec<u64> = Vec::new();
        for (i, &(bits, count)) in groups.iter().enumerate() {
            let more = if i == 0 {
                ntt_primes(bits, n, count, &q)
            } else {
                scale_primes(bits, n, count, &q)
            };
            q.extend(more.map_err(ParamsError::Math)?);
        }
        let p = ntt_primes(p_bits, n, p_count, &q).map_err(ParamsError::Math)?;
        let secret = SecretDistribution::UniformTernary;
        let params = Self::new_unchecked(name, log_n, q, p, dnum, log_scale, secret, secure)?;
        if secure { params.checked() } else { Ok(params) }
    }

    #[allow(clippy::too_many_arguments)]
    fn preset_groups(
        name: &'static str,
        log_n: u32,
        groups: &[(u32, usize)],
        p_bits: u32,
        p_count: usize,
        dnum: usize,
        log_scale: u32,
        secure: bool,
    ) -> Self {
        Self::build_groups(
            name, log_n, groups, p_bits, p_count, dnum, log_scale, secure,
        )
        .expect("preset is valid and, unless named insecure, 128-bit secure")
    }

    /// N = 2^16, bootstrappable, 128-bit secure (uniform ternary main secret), scale 2^42.
    /// Bottom up:
    ///
    /// | primes | bits | role |
    /// |---|---|---|
    /// | 1 | 49 | base prime `q0`, `q0 / scale = 2^7` (level-0 values below 64 in magnitude) |
    /// | 12 | 42 | 9 computation levels, then 3 SlotToCoeff levels |
    /// | 14 | 61 | 11 EvalMod levels, then 3 CoeffToSlot levels |
    /// | P: 5 | 62 | special primes; dnum 6, digits of at most 5 primes (305 bits < 310) |
    ///
    /// log Q ~ 1406, log P ~ 310, log QP ~ 1716 <= 1747. With
    /// [`crate::boot::BootParams::full`] a bootstrap leaves 9 levels at scale 2^42.
    ///
    /// Why these sizes. With a dense secret every rescale rounds with an error of ~`N / 4`
    /// in the slots, and EvalMod multiplies its input's by `2 pi K q0 / scale` (~2^13.5):
    /// the bootstrapping precision is, to within a bit, the EvalMod primes' size minus
    /// that, so they are as large as the 62-bit moduli allow (58 -> 61 bits: +2.8 bits
    /// measured); paying for it with dnum 6 instead of 5 (P one prime smaller) keeps log QP
    /// under the bound. `q0 / scale` trades that amplification against EvalMod's
    /// nonlinearity: a message whose energy sits in few coefficients (constant or periodic
    /// slots, as the softmax's replicated rows) has coefficients as large as its slots, and
    /// `sin(2 pi t / q0)` departs from `t` by `~0.045 (2 pi t / q0)^7` after the quintic
    /// arcsine correction, so `2^7` keeps constant slots 0.99 as precise as random ones
    /// (at `2^3` with the cubic correction they kept 6 bits).
    pub fn n16() -> Self {
        Self::preset_groups(
            "N16",
            16,
            &[(49, 1), (42, 12), (61, 14)],
            62,
            5,
            6,
            42,
            true,
        )
    }

    /// The same set as [`Self::n16`] (the name the bootstrapping code and its examples use).
    pub fn boot_n16() -> Self {
        Self::n16()
    }

    /// **Insecure**, tests only: N = 2^12 with room for bootstrapping (see
    /// [`crate::boot::BootParams::full`]): base prime 47 bits (`q0 / scale = 2^7`, as
    /// `N16`), 2 computation levels and 3 SlotToCoeff levels of 40 bits, 11 EvalMod and
    /// 3 CoeffToSlot levels of 61 bits; 6 special primes of 60 bits, dnum 4, scale 2^40.
    pub fn insecure_boot_n12() -> Self {
        Self::preset_groups(
            "insecure_boot_N12",
            12,
            &[(47, 1), (40, 5), (61, 14)],
            60,
            6,
            4,
            40,
            false,
        )
    }

    /// **Insecure**, tests only: the chain shape of [`Self::boot_n16`] at N = 2^13 (for
    /// quick precision checks of the N = 2^16 configuration).
    pub fn insecure_boot_n13() -> Self {
        Self::preset_groups(
            "insecure_boot_N13",
            13,
            &[(49, 1), (42, 12), (61, 14)],
            62,
            5,
            6,
            42,
            false,
        )
    }

    /// **Insecure**, tests only: [`Self::boot_n16`]'s chain (12 x 42-bit and 14 x 61-bit
    /// primes, so 9 levels at scale 2^42 after a bootstrap, what encrypted training needs,
    /// and its 49-bit base prime) at N = 2^12, for end-to-end training tests in CI.
    pub fn insecure_train_n12() -> Self {
        Self::preset_groups(
            "insecure_train_N12",
            12,
            &[(49, 1), (42, 12), (61, 14)],
            62,
            5,
            6,
            42,
            false,
        )
    }

    /// **Insecure**, tests only: like [`Self::insecure_boot_n12`] at N = 2^11.
    pub fn insecure_boot_n11() -> Self {
        Self::preset_groups(
            "insecure_boot_N11",
            11,
            &[(47, 1), (40, 5), (61, 14)],
            60,
            6,
            4,
            40,
            false,
        )
    }

    /// N = 2^15, 14 levels at scale 2^40, dnum 3.
    pub fn n15() -> Self {
        Self::preset("N15", 15, 50, 14, 50, 5, 3, true)
    }

    /// N = 2^14, 5 levels at scale 2^40, dnum 2.
    pub fn n14() -> Self {
        Self::preset("N14", 14, 50, 5, 50, 3, 2, true)
    }

    /// **Insecure**, tests only: N = 2^12, 7 levels, dnum 4.
    pub fn insecure_n12() -> Self {
        Self::preset("insecure_N12", 12, 50, 7, 50, 2, 4, false)
    }

    /// **Insecure**, tests only: N = 2^12, 45 levels at scale 2^40, dnum 10: deep
    /// enough for a whole softmax (up to 8 classes) without bootstrapping.
    pub fn insecure_n12_deep() -> Self {
        Self::preset("insecure_N12_deep", 12, 50, 45, 50, 6, 10, false)
    }

    /// **Insecure**, tests only: N = 2^11, 4 levels, dnum 2.
    pub fn insecure_n11() -> Self {
        Self::preset("insecure_N11", 11, 50, 4, 50, 3, 2, false)
    }

    /// Bench-only set mirroring OpenFHE's measured row: N = 2^16, a 60-bit first prime
    /// and 30 x 40-bit primes, 8 special primes of 60 bits, dnum 3 (128-bit secure).
    pub fn bench_openfhe_like() -> Self {
        Self::preset("bench_openfhe_like", 16, 60, 30, 60, 8, 3, true)
    }

    /// Bench-only set mirroring poulpy-ckks's leveled setting `n16_d35_k636_p20_c2s`
    /// (shared/bench/peers.md) as closely as an RNS chain allows, for like-for-like
    /// timings against it (128-bit secure, every prime below 2^50 so every limb takes
    /// the IFMA path):
    ///
    /// | | poulpy (bivariate torus) | this set (RNS) |
    /// |---|---|---|
    /// | N | 2^16 | 2^16 |
    /// | ciphertext modulus | k = 636 bits in 13 limbs of base2k = 52 bits | 13 primes near 2^49, log Q ~ 637 |
    /// | level | 35 bits per rescale (17 levels of 2^35) | one prime per rescale (12 levels of ~2^49) |
    /// | scale | 2^35 | 2^49 |
    /// | key switching | 13 digits of one limb each, key width 744 bits | dnum 7 (2 primes per digit), P = 2 primes of 50 bits, log QP ~ 737 |
    /// | secret | dense ternary, weight 1024 | uniform ternary |
    ///
    /// poulpy's gadget digits are base-2^52 limbs of the torus value; ours are CRT
    /// digits (products of two primes). Both need the key width (`log QP` for us) at most
    /// ~744 bits: a third special prime would pass it, so P holds two primes, and a digit
    /// (two primes, ~98 bits) must stay below P (~100 bits), which fixes dnum at 7.
    /// Per-operation cost scales with the number of limbs (13 here and there), not with
    /// the number of levels.
    pub fn bench_poulpy_like() -> Self {
        let n = 1usize << 16;
        let q = scale_primes(49, n, 13, &[]).expect("poulpy-like Q");
        let p = ntt_primes(50, n, 2, &q).expect("poulpy-like P");
        let secret = SecretDistribution::UniformTernary;
        Self::new_unchecked("bench_poulpy_like", 16, q, p, 7, 49, secret, true)
            .and_then(Self::checked)
            .expect("poulpy-like set is valid and 128-bit secure")
    }

    /// The name of a preset (`custom` otherwise).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// Whether this set passed the 128-bit check (false only for `insecure_*`).
    pub fn is_secure(&self) -> bool {
        self.secure
    }
    /// `log2 N`.
    pub fn log_n(&self) -> u32 {
        self.log_n
    }
    /// Ring degree `N`.
    pub fn n(&self) -> usize {
        1 << self.log_n
    }
    /// Maximum number of complex slots, `N/2`.
    pub fn max_slots(&self) -> usize {
        self.n() / 2
    }
    /// Ciphertext primes `q_0..q_L`.
    pub fn q(&self) -> &[u64] {
        &self.q
    }
    /// Special primes.
    pub fn p(&self) -> &[u64] {
        &self.p
    }
    /// Key-switching digits.
    pub fn dnum(&self) -> usize {
        self.dnum
    }
    /// Highest level `L` (number of rescales available).
    pub fn max_level(&self) -> usize {
        self.q.len() - 1
    }
    /// The highest level for computation at the default scale: primes `q_1 ..= q_l`
    /// all within a bit of the scale, so every rescale keeps it. Levels above are
    /// the bootstrapping circuit's (larger primes for EvalMod and CoeffToSlot); a
    /// leveled job or a fresh encryption at the default scale starts here.
    ///
    /// ```
    /// use hetal_core::ckks::Params;
    /// assert_eq!(Params::n14().max_compute_level(), Params::n14().max_level());
    /// assert_eq!(Params::n16().max_compute_level(), 9 + 3); // 9 after a bootstrap, 3 SlotToCoeff
    /// ```
    pub fn max_compute_level(&self) -> usize {
        let s = self.log_scale as f64;
        self.q
            .iter()
            .skip(1)
            .take_while(|&&q| (libm::log2(q as f64) - s).abs() < 1.0)
            .count()
    }
    /// Default scale `2^log_scale`.
    pub fn default_scale(&self) -> f64 {
        libm::exp2(self.log_scale as f64)
    }
    /// The secret distribution.
    pub fn secret(&self) -> SecretDistribution {
        self.secret
    }
    /// `log2 Q`.
    pub fn log_q(&self) -> f64 {
        security::log2_product(&self.q)
    }
    /// `log2 P`.
    pub fn log_p(&self) -> f64 {
        security::log2_product(&self.p)
    }
    /// `log2 QP`.
    pub fn log_qp(&self) -> f64 {
        self.log_q() + self.log_p()
    }
    /// The 128-bit bound on log2(QP) for this N and secret, if tabulated.
    pub fn security_bound(&self) -> Option<u32> {
        security::max_log_qp(self.n(), self.secret, SecurityLevel::Classic128)
    }
}
