//! CKKS bootstrapping: ModRaise with sparse-secret encapsulation ([`encaps`]),
//! CoeffToSlot and SlotToCoeff as products of sparse diagonal matrices ([`dft`],
//! [`lintrans`]), and EvalMod ([`evalmod`]).
//!
//! # Pipeline
//!
//! A ciphertext at any level with scale `D` holds `D * M(X)`. [`Bootstrapper::bootstrap`]:
//!
//! 1. drops it to level 0, switches it to the ephemeral sparse secret, raises it to the top
//!    of the chain and switches back ([`encaps::mod_raise`]): now `p = D M + q0 I`,
//!    `|I| <= K` except with probability `2^-security_bits`;
//! 2. (sparse slots only) sums it over the automorphisms fixing the slot subring, which
//!    keeps `p`'s subring coefficients times `N / 2n` and kills the others;
//! 3. CoeffToSlot: `F^-1` as `cts_levels` merged butterfly matrices; with the scale label
//!    `2 * q0 * K` the slots become `BR(w) / 2`, `w_k = (p_k + i p_{k+n}) / (q0 K)`, and
//!    `v + conj(v)` (and `-i (v - conj(v))`) give the real coefficients `y = x / K` in
//!    `[-1, 1]`. With sparse slots the last matrix is written in the `2n`-slot view as
//!    `[[A, A], [-iA, -iA]] / 2`, so one `v + conj(v)` yields both halves in one
//!    ciphertext and EvalMod runs once; with full slots EvalMod runs on both parts;
//! 4. EvalMod ([`evalmod::EvalModPoly`]) gives `sin(2 pi x) ~ 2 pi D M / q0`; relabelling
//!    the scale by `q0 / (2 pi D)` makes the slots the message coefficients;
//! 5. SlotToCoeff: `F` in `stc_levels` matrices (first one in the `2n` view for sparse
//!    slots, recombining `a + i b`); the last matrix's encoding scale puts the output on
//!    the default scale exactly.
//!
//! All scale factors are folded into scale labels or encoding scales, never spent as
//! levels.

pub mod dft;
pub mod encaps;
pub mod evalmod;
pub mod lintrans;

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::f64::consts::PI;

use rand_core::CryptoRng;

use crate::ckks::complex::Complex;
use crate::ckks::encoder::galois_element_for_conjugation;
use crate::ckks::{
    Ciphertext, CkksContext, CkksError, EvaluationKeys, Evaluator, KeySpec, Params, StoragePolicy,
};
use crate::rlwe::SecretKey;
use crate::slots::CiphertextBootstrapper;

use dft::DiagMatrix;
pub use encaps::{EncapsulationKeys, modraise_bound, modraise_failure_log2};
use evalmod::EvalModPoly;
use lintrans::EncodedTransform;

/// Bootstrapping parameters (on top of a [`Params`] whose chain has room for them).
#[derive(Clone, Debug, PartialEq)]
pub struct BootParams {
    /// Slots bootstrapped (power of two, at most `N/2`).
    pub slots: usize,
    /// Levels (merged matrices) of CoeffToSlot.
    pub cts_levels: usize,
    /// Levels of SlotToCoeff.
    pub stc_levels: usize,
    /// Hamming weight of the ephemeral sparse secret.
    pub h: usize,
    /// The ModRaise failure probability is at most `2^-security_bits`.
    pub security_bits: f64,
    /// Chebyshev degree of the scaled cosine.
    pub cheb_degree: usize,
    /// Double-angle steps.
    pub double_angle: usize,
    /// Degree of the arcsine correction after EvalMod: 0, 3 (two more levels) or 5
    /// (three; see [`EvalModPoly::arcsine_degree`]).
    pub arcsine_degree: usize,
    /// EvalMod's baby-step width bound (see [`EvalModPoly::baby_log2`]).
    pub baby_log2: u32,
    /// Encode CoeffToSlot's diagonals once, in NTT form at the limbs of the level where
    /// they are used (2.0 GiB at N = 2^16, full slots), instead of at every bootstrap:
    /// encoding at the top levels is half of CoeffToSlot's time.
    pub precompute: bool,
    /// The same for SlotToCoeff (0.8 GiB at N = 2^16; its levels are cheap to encode at).
    pub precompute_stc: bool,
    /// Bits by which the raised ciphertext's data is scaled up (an exact integer multiple,
    /// applied before ModRaise switches back to the main secret), so that the fixed
    /// key-switching noise of that switch and of CoeffToSlot's rotations is small next to
    /// the data. At most `62 - log2(q0)`.
    pub raise_bits: u32,
}

impl BootParams {
    /// Full slots, 3 + 3 DFT levels, `h = 32`, failure `2^-64`; EvalMod as one Chebyshev
    /// interpolant of `sin(2 pi K y)` of degree 127 (no double angle) and the quintic
    /// arcsine correction: depth 8 + 3 = 11.
    ///
    /// No double angle because each step doubles the phase error of what comes before it,
    /// and `cos 2a = 2 cos^2 a - 1` turns an error `d` of `cos a` into a phase error
    /// `d / |sin a|` (up to 2.6 `d` at the angles EvalMod meets). The quintic arcsine
    /// costs the level the double angles leave free and lets `q0 / scale` go from `2^8`
    /// to `2^7` (one bit less amplification of every error before EvalMod) while constant
    /// slots stay as precise as random ones. On `N16`, one thread: degree 63, 2 double
    /// angles and the cubic arcsine kept 23.77 bits in 25.5 s; this, 24.85 bits in 26.7 s.
    pub fn full(params: &Params) -> Self {
        Self {
            slots: params.max_slots(),
            cts_levels: 3,
            stc_levels: 3,
            h: 32,
            security_bits: 64.0,
            cheb_degree: 127,
            double_angle: 0,
            arcsine_degree: 5,
            baby_log2: evalmod::DEFAULT_BABY_LOG2,
            precompute: true,
            precompute_stc: true,
            raise_bits: 12,
        }
    }

    /// The ModRaise bound `K` for ring degree `n`.
    pub fn k_bound(&self, n: usize) -> f64 {
        modraise_bound(n, self.h, self.security_bits)
    }

    /// The EvalMod polynomial for ring degree `n`.
    pub fn evalmod(&self, n: usize) -> EvalModPoly {
        let mut p = EvalModPoly::new(self.k_bound(n), self.cheb_degree, self.double_angle)
            .with_arcsine(self.arcsine_degree);
        p.baby_log2 = self.baby_log2;
        p
    }

    /// Levels consumed: CoeffToSlot + EvalMod + SlotToCoeff.
    pub fn depth(&self, n: usize) -> usize {
        let em = self.evalmod(n).depth();
        self.cts_levels + em + self.stc_levels
    }
}

/// The server-side bootstrapper: encoded DFT matrices, the EvalMod polynomial and the
/// encapsulation keys (public material). Rotation and conjugation keys live in the
/// [`EvaluationKeys`] of the evaluator it is called with; [`Self::rotations`] lists them.
#[derive(Debug)]
pub struct Bootstrapper {
    bp: BootParams,
    keys: EncapsulationKeys,
    evalmod: EvalModPoly,
    cts: Vec<EncodedTransform>,
    stc: Vec<EncodedTransform>,
    top: usize,
    out_level: usize,
    /// CoeffToSlot input scale label.
    s0: f64,
    /// Slot scale after EvalMod (message coefficients).
    s_msg: f64,
    out_scale: f64,
    sub_sum: Vec<isize>,
    n: usize,
}

impl Bootstrapper {
    /// Client side: generates the encapsulation keys from `sk` and precomputes everything.
    pub fn new<R: CryptoRng + ?Sized>(
        ctx: &CkksContext,
        bp: BootParams,
        sk: &SecretKey,
        rng: &mut R,
    ) -> Result<Self, CkksError> {
        let keys = EncapsulationKeys::generate(ctx, sk, bp.h, rng)?;
        Self::from_keys(ctx, bp, keys)
    }

    /// Server side: from the encapsulation keys the client sent.
    pub fn from_keys(
        ctx: &CkksContext,
        bp: BootParams,
        keys: EncapsulationKeys,
    ) -> Result<Self, CkksError> {
        let params = ctx.params();
        let n_ring = params.n();
        let n = bp.slots;
        if !n.is_power_of_two() || n > params.max_slots() || n < 2 {
            return Err(CkksError::SlotMismatch(n, params.max_slots()));
        }
        let k = bp.k_bound(n_ring);
        let evalmod = bp.evalmod(n_ring);
        let top = params.max_level();
        let depth = bp.cts_levels + evalmod.depth() + bp.stc_levels;
        if depth > top {
            return Err(CkksError::LevelExhausted);
        }
        let out_level = top - depth;
        let q = params.q();
        let q0 = q[0] as f64;
        let sparse = n < params.max_slots();
        let gap = params.max_slots() / n;
        let s0 = 2.0 * gap as f64 * q0 * k;
        let l_y = top - bp.cts_levels;
        let s_y = q[l_y] as f64;
        let l_em = l_y - evalmod.depth();
        let s_msg = q[l_em + 1] as f64 * 2.0 * PI * params.default_scale() / q0;
        let out_scale = params.default_scale();

        // CoeffToSlot.
        let mut cts_m = dft::coeff_to_slot_matrices(n, bp.cts_levels);
        if sparse {
            let last = cts_m.pop().expect("at least one level");
            let mut a = last.clone();
            a.scale(Complex::from_real(0.5));
            let mut c = last;
            c.scale(Complex::new(0.0, -0.5));
            cts_m.push(DiagMatrix::blocks(Some(&a), Some(&a), Some(&c), Some(&c)));
        }
        let mut cts = Vec::new();
        let mut s_cur = s0 * libm::exp2(bp.raise_bits as f64);
        // The lifted data comes down to EvalMod's input scale evenly over the levels: one
        // level shedding it all would encode its diagonals at a small scale, and their
        // rounding would be CoeffToSlot's largest error.
        let shed = libm::pow(s_y / s_cur, 1.0 / cts_m.len() as f64);
        for (j, m) in cts_m.iter().enumerate() {
            let l = top - j;
            let ql = q[l] as f64;
            let pt = if j + 1 == cts_m.len() {
                s_y * ql / s_cur
            } else {
                ql * shed
            };
            s_cur = s_cur * pt / ql;
            cts.push(EncodedTransform::new(ctx, m, l, pt, bp.precompute)?);
        }
        // SlotToCoeff.
        let mut stc_m = dft::slot_to_coeff_matrices(n, bp.stc_levels);
        if sparse {
            let first = stc_m.remove(0);
            let mut ib = first.clone();
            ib.scale(Complex::I);
            stc_m.insert(
                0,
                DiagMatrix::blocks(Some(&first), Some(&ib), Some(&first), Some(&ib)),
            );
        }
        let mut stc = Vec::new();
        let mut s_cur = s_msg;
        // The message leaves EvalMod at a large scale (small rescale noise) and comes down
        // to the output scale evenly over the SlotToCoeff levels: one level shedding it all
        // would encode its diagonals at a small scale, and their rounding would dominate.
        let shed = libm::pow(out_scale / s_msg, 1.0 / stc_m.len() as f64);
        for (j, m) in stc_m.iter().enumerate() {
            let l = l_em - j;
            let ql = q[l] as f64;
            let pt = if j + 1 == stc_m.len() {
                out_scale * ql / s_cur
            } else {
                ql * shed
            };
            s_cur = s_cur * pt / ql;
            stc.push(EncodedTransform::new(ctx, m, l, pt, bp.precompute_stc)?);
        }
        let sub_sum = (0..gap.trailing_zeros())
            .map(|j| (n << j) as isize)
            .collect();
        Ok(Self {
            bp,
            keys,
            evalmod,
            cts,
            stc,
            top,
            out_level,
            s0,
            s_msg,
            out_scale,
            sub_sum,
            n,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &BootParams {
        &self.bp
    }

    /// The ModRaise bound `K` in use.
    pub fn k(&self) -> f64 {
        self.evalmod.k
    }

    /// The EvalMod polynomial.
    pub fn evalmod(&self) -> &EvalModPoly {
        &self.evalmod
    }

    /// The encapsulation keys.
    pub fn encapsulation_keys(&self) -> &EncapsulationKeys {
        &self.keys
    }

    /// `log2` of the ModRaise failure probability bound.
    pub fn failure_log2(&self, n_ring: usize) -> f64 {
        modraise_failure_log2(n_ring, self.bp.h, self.evalmod.k)
    }

    /// Every rotation step the evaluation keys need (conjugation is also needed).
    pub fn rotations(&self) -> Vec<isize> {
        let mut set: BTreeSet<isize> = self.sub_sum.iter().copied().collect();
        for t in self.cts.iter().chain(&self.stc) {
            set.extend(t.plan().rotations().into_iter().map(|d| d as isize));
        }
        set.into_iter().collect()
    }

    /// The Galois elements of [`Self::rotations`] plus conjugation (what a server checks).
    pub fn galois_elements(&self, ctx: &CkksContext) -> BTreeSet<usize> {
        let mut set: BTreeSet<usize> = self
            .rotations()
            .iter()
            .map(|&r| ctx.rotation_element(r))
            .collect();
        set.insert(galois_element_for_conjugation(ctx.params().n()));
        set
    }

    /// The level EvalMod starts at (CoeffToSlot's output): the highest level of the
    /// relinearization key (conjugation's is one above).
    fn evalmod_level(&self) -> usize {
        self.cts.last().map_or(self.top, |t| t.level() - 1)
    }

    /// Every key bootstrapping needs, each at the highest level it is used at: SubSum
    /// rotations at the top, each CoeffToSlot / SlotToCoeff matrix's rotations at its
    /// input level (a rotation both use gets the higher), conjugation at CoeffToSlot's
    /// last level (it runs before that matrix's rescale) and relinearization at
    /// EvalMod's input level; plus the application's `extra` rotations, conjugation and
    /// relinearization up to `extra_level`. Keys for levels above EvalMod's input keep
    /// only their seed (see [`Self::key_spec_with`]): those are the DFT rotations and
    /// conjugation, each used once or twice per bootstrap (SlotToCoeff uses
    /// the same offsets as CoeffToSlot, so their keys sit at CoeffToSlot's levels),
    /// while relinearization, used ~40 times in EvalMod, stays expanded.
    pub fn key_spec(&self, ctx: &CkksContext, extra: &[isize], extra_level: usize) -> KeySpec {
        let policy = StoragePolicy::SeededFrom(self.evalmod_level() + 1);
        self.key_spec_with(ctx, extra, extra_level, policy)
    }

    /// [`Self::key_spec`] with another storage policy.
    pub fn key_spec_with(
        &self,
        ctx: &CkksContext,
        extra: &[isize],
        extra_level: usize,
        policy: StoragePolicy,
    ) -> KeySpec {
        let mut spec = KeySpec {
            policy,
            ..KeySpec::default()
        };
        spec.add_rotations(ctx, &self.sub_sum, self.top);
        for t in self.cts.iter().chain(&self.stc) {
            for d in t.plan().rotations() {
                spec.add_galois(ctx.rotation_element(d as isize), t.level());
            }
        }
        let conj = galois_element_for_conjugation(ctx.params().n());
        let em = self.evalmod_level();
        // Conjugation runs on CoeffToSlot's last product, one level above EvalMod's input.
        spec.add_galois(conj, (em + 1).max(extra_level));
        spec.add_relin(em.max(extra_level));
        spec.add_rotations(ctx, extra, extra_level);
        spec
    }

    /// Client side: relinearization, conjugation and every bootstrapping rotation key,
    /// plus `extra` rotations for the application, which may use them (and
    /// relinearization and conjugation) up to the bootstrap's output level
    /// ([`Self::key_spec`] with `extra_level` = [`CiphertextBootstrapper::output_level`]).
    /// A key used above its level is an error ([`CkksError::KeyLevel`]), never a wrong
    /// result; `ctx.gen_keys(sk, &boot.key_spec(ctx, extra, level), rng)` makes keys
    /// for higher application levels.
    pub fn gen_evaluation_keys<R: CryptoRng + ?Sized>(
        &self,
        ctx: &CkksContext,
        sk: &SecretKey,
        extra: &[isize],
        rng: &mut R,
    ) -> Result<EvaluationKeys, CkksError> {
        ctx.gen_keys(sk, &self.key_spec(ctx, extra, self.out_level), rng)
    }

    /// Bytes held by the precomputed DFT plaintexts.
    pub fn plaintext_bytes(&self) -> usize {
        self.cts
            .iter()
            .chain(&self.stc)
            .map(EncodedTransform::byte_size)
            .sum()
    }

    /// Steps 1-3: ModRaise, SubSum, CoeffToSlot. Returns the ciphertext(s) holding `y`.
    fn to_slots(&self, ev: &Evaluator<'_>, ct: &Ciphertext) -> Result<Vec<Ciphertext>, CkksError> {
        let ctx = ev.context();
        // The data is lifted by 2^raise_bits (an exact integer multiple) before the switch
        // back to the main secret: that switch and the rotations of SubSum and CoeffToSlot
        // add a fixed key-switching noise, which would otherwise sit at the raised
        // polynomial's own scale (~q0 K) and, through EvalMod's q0 / scale and
        // SlotToCoeff's sqrt(N), cost ~N^1.5 in precision.
        let mut x = encaps::mod_raise_lifted(ctx, &self.keys, ct, self.top, self.bp.raise_bits)?;
        for &r in &self.sub_sum {
            let rx = ev.rotate(&x, r)?;
            x = ev.add(&x, &rx)?;
        }
        x.scale = self.s0 * libm::exp2(self.bp.raise_bits as f64);
        let (last, firsts) = self.cts.split_last().ok_or(CkksError::LevelExhausted)?;
        for t in firsts {
            x = t.apply(ev, &x)?;
        }
        // The real parts are taken before the last matrix's rescale: the conjugation's
        // key-switching noise then sits at the product scale, and each part carries one
        // rounding noise at EvalMod's input scale, the error EvalMod amplifies most.
        let x = last.apply_unrescaled(ev, &x)?;
        let xc = ev.conjugate(&x)?;
        let re = ev.rescale_owned(ev.add(&x, &xc)?)?;
        if self.n < ctx.params().max_slots() {
            return Ok(alloc::vec![re]);
        }
        let d = ev.sub(&x, &xc)?;
        let im = ev.rescale_owned(ev.mul_complex_const(&d, Complex::new(0.0, -1.0))?)?;
        Ok(alloc::vec![re, im])
    }

    fn eval_mod(
        &self,
        ev: &Evaluator<'_>,
        y: &Ciphertext,
        d_in: f64,
    ) -> Result<Ciphertext, CkksError> {
        let q0 = ev.context().params().q()[0] as f64;
        // Output scale s_em with s_em * 2 pi d_in / q0 = s_msg.
        let s_em = self.s_msg * q0 / (2.0 * PI * d_in);
        let mut out = self.evalmod.evaluate(ev, y, s_em)?;
        out.scale = self.s_msg;
        Ok(out)
    }

    /// EvalMod on every part; with full slots (two parts) and an executor of more than
    /// one thread the two evaluations run as two jobs (each one's per-limb work is
    /// split further by the same executor), which keeps both threads busier than
    /// splitting each small step over limbs.
    fn eval_mod_parts(
        &self,
        ev: &Evaluator<'_>,
        parts: &[Ciphertext],
        d_in: f64,
    ) -> Result<Vec<Ciphertext>, CkksError> {
        let exec = ev.context().ring().executor();
        crate::exec::collect_jobs(exec, parts.len(), &|i| self.eval_mod(ev, &parts[i], d_in))
            .into_iter()
            .collect()
    }

    fn to_coeffs(&self, ev: &Evaluator<'_>, parts: &[Ciphertext]) -> Result<Ciphertext, CkksError> {
        let mut x = if parts.len() == 2 {
            let im = ev.mul_complex_const(&parts[1], Complex::I)?;
            ev.add(&parts[0], &im)?
        } else {
            parts[0].clone()
        };
        for t in &self.stc {
            x = t.apply(ev, &x)?;
        }
        x.slots = self.n;
        x.scale = self.out_scale;
        Ok(x)
    }
}

impl CiphertextBootstrapper for Bootstrapper {
    fn output_level(&self) -> usize {
        self.out_level
    }

    fn bootstrap(&self, ev: &Evaluator<'_>, ct: &Ciphertext) -> Result<Ciphertext, CkksError> {
        self.bootstrap_traced(ev, ct, &mut |_, _| {})
    }
}

/// A bootstrapping stage, as reported to the hook of [`Bootstrapper::bootstrap_traced`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// ModRaise, SubSum and CoeffToSlot done: the ciphertext(s) hold `y = x / K`.
    CoeffToSlot,
    /// EvalMod done: the message coefficients in the slots.
    EvalMod,
    /// SlotToCoeff done: the output.
    SlotToCoeff,
}

impl Bootstrapper {
    /// [`CiphertextBootstrapper::bootstrap`], calling `hook` after each stage with its
    /// output ciphertext(s) (for timing and error breakdowns).
    pub fn bootstrap_traced(
        &self,
        ev: &Evaluator<'_>,
        ct: &Ciphertext,
        hook: &mut dyn FnMut(Stage, &[Ciphertext]),
    ) -> Result<Ciphertext, CkksError> {
        if ct.slots != self.n {
            return Err(CkksError::SlotMismatch(ct.slots, self.n));
        }
        let parts = self.to_slots(ev, ct)?;
        hook(Stage::CoeffToSlot, &parts);
        let parts = self.eval_mod_parts(ev, &parts, ct.scale)?;
        hook(Stage::EvalMod, &parts);
        let out = self.to_coeffs(ev, &parts)?;
        hook(Stage::SlotToCoeff, core::slice::from_ref(&out));
        Ok(out)
    }
}

impl Bootstrapper {
    /// Bootstraps several ciphertexts.
    pub fn bootstrap_many(
        &self,
        ev: &Evaluator<'_>,
        cts: &[Ciphertext],
    ) -> Result<Vec<Ciphertext>, CkksError> {
        cts.iter().map(|c| self.bootstrap(ev, c)).collect()
    }

    /// Bootstraps two real-valued ciphertexts with one complex bootstrap: `z = a + i b`,
    /// returns `(Re z, Im z)` (one conjugation; the factor 1/2 is a free scale relabel).
    pub fn bootstrap_real_pair(
        &self,
        ev: &Evaluator<'_>,
        a: &Ciphertext,
        b: &Ciphertext,
    ) -> Result<(Ciphertext, Ciphertext), CkksError> {
        let l = a.level().min(b.level());
        let a = ev.drop_to_level(a, l)?;
        let b = ev.drop_to_level(b, l)?;
        let ib = ev.mul_complex_const(&b, Complex::I)?;
        let mut z = ev.add(&a, &ib)?;
        z.scale *= 2.0;
        let w = self.bootstrap(ev, &z)?;
        let wc = ev.conjugate(&w)?;
        let re = ev.add(&w, &wc)?;
        let d = ev.sub(&w, &wc)?;
        let im = ev.mul_complex_const(&d, Complex::new(0.0, -1.0))?;
        Ok((re, im))
    }
}
