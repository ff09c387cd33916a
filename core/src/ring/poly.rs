//! [`RnsPoly`]: a polynomial as flat limb-major residues.

use super::{Form, RingContext, RingError};
use crate::math::Modulus;
use crate::math::sampler::{fill_uniform_rns, signed_to_rns};
use crate::math::seed::{Seed, expand_uniform};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::CryptoRng;

/// A polynomial of `Z[X]/(X^n + 1)` in RNS form: `q_limbs` limbs over the first Q primes
/// then `p_limbs` limbs over the first P primes of a [`RingContext`], stored limb-major
/// (limb `i` is `data[i * n..(i + 1) * n]`), all in one [`Form`].
///
/// Operations take the context; operands must have the same degree, limbs and form
/// (typed errors otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RnsPoly {
    data: Vec<u64>,
    n: usize,
    q_limbs: usize,
    p_limbs: usize,
    form: Form,
}

impl RnsPoly {
    /// The zero polynomial.
    pub fn zero(
        ctx: &RingContext,
        q_limbs: usize,
        p_limbs: usize,
        form: Form,
    ) -> Result<Self, RingError> {
        ctx.check_limbs(q_limbs, p_limbs)?;
        Ok(Self {
            data: vec![0; (q_limbs + p_limbs) * ctx.n()],
            n: ctx.n(),
            q_limbs,
            p_limbs,
            form,
        })
    }

    /// Wraps limb-major residues (checked: length and every residue below its prime).
    pub fn from_data(
        ctx: &RingContext,
        data: Vec<u64>,
        q_limbs: usize,
        p_limbs: usize,
        form: Form,
    ) -> Result<Self, RingError> {
        ctx.check_limbs(q_limbs, p_limbs)?;
        let n = ctx.n();
        if data.len() != (q_limbs + p_limbs) * n {
            return Err(RingError::BadData);
        }
        let moduli = ctx.limb_moduli(q_limbs, p_limbs);
        for (limb, m) in data.chunks_exact(n).zip(&moduli) {
            if limb.iter().any(|&x| x >= m.value()) {
                return Err(RingError::BadData);
            }
        }
        Ok(Self {
            data,
            n,
            q_limbs,
            p_limbs,
            form,
        })
    }

    /// The coefficient-form polynomial with small signed coefficients (`coeffs.len() = n`).
    pub fn from_signed(
        ctx: &RingContext,
        coeffs: &[i64],
        q_limbs: usize,
        p_limbs: usize,
    ) -> Result<Self, RingError> {
        let mut p = Self::zero(ctx, q_limbs, p_limbs, Form::Coeff)?;
        if coeffs.len() != ctx.n() {
            return Err(RingError::BadData);
        }
        signed_to_rns(coeffs, &ctx.limb_moduli(q_limbs, p_limbs), &mut p.data)?;
        Ok(p)
    }

    /// A polynomial uniform modulo each prime, from a caller's RNG; `form` is only the
    /// label (a uniform polynomial is uniform in both forms).
    pub fn sample_uniform<R: CryptoRng + ?Sized>(
        ctx: &RingContext,
        rng: &mut R,
        q_limbs: usize,
        p_limbs: usize,
        form: Form,
    ) -> Result<Self, RingError> {
        let mut p = Self::zero(ctx, q_limbs, p_limbs, form)?;
        fill_uniform_rns(rng, &ctx.limb_moduli(q_limbs, p_limbs), &mut p.data)?;
        Ok(p)
    }

    /// The uniform polynomial expanded from `(seed, stream)` by
    /// [`crate::math::seed::expand_uniform`] over this poly's limbs, labelled `form`.
    pub fn from_seed(
        ctx: &RingContext,
        seed: &Seed,
        stream: u64,
        q_limbs: usize,
        p_limbs: usize,
        form: Form,
    ) -> Result<Self, RingError> {
        let mut p = Self::zero(ctx, q_limbs, p_limbs, form)?;
        expand_uniform(
            seed,
            stream,
            &ctx.limb_moduli(q_limbs, p_limbs),
            &mut p.data,
        )?;
        Ok(p)
    }

    /// Ring degree.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Number of Q limbs (the level plus one).
    pub fn q_limbs(&self) -> usize {
        self.q_limbs
    }
    /// Number of P limbs.
    pub fn p_limbs(&self) -> usize {
        self.p_limbs
    }
    /// Total number of limbs.
    pub fn num_limbs(&self) -> usize {
        self.q_limbs + self.p_limbs
    }
    /// The form.
    pub fn form(&self) -> Form {
        self.form
    }
    /// Relabels the form without transforming (for data known to be in `form`, e.g. a
    /// uniform polynomial or limbs written by a base conversion in NTT form).
    pub fn set_form(&mut self, form: Form) {
        self.form = form;
    }
    /// All residues, limb-major.
    pub fn data(&self) -> &[u64] {
        &self.data
    }
    /// All residues, limb-major, mutable (callers keep them below their primes).
    pub fn data_mut(&mut self) -> &mut [u64] {
        &mut self.data
    }
    /// The residue vector.
    pub fn into_data(self) -> Vec<u64> {
        self.data
    }
    /// Limb `i`.
    pub fn limb(&self, i: usize) -> &[u64] {
        &self.data[i * self.n..(i + 1) * self.n]
    }
    /// Limb `i`, mutable.
    pub fn limb_mut(&mut self, i: usize) -> &mut [u64] {
        &mut self.data[i * self.n..(i + 1) * self.n]
    }
    /// The Q limbs (contiguous).
    pub fn q_part(&self) -> &[u64] {
        &self.data[..self.q_limbs * self.n]
    }
    /// The P limbs (contiguous; empty without P limbs).
    pub fn p_part(&self) -> &[u64] {
        &self.data[self.q_limbs * self.n..]
    }
    /// The Q limbs and the P limbs, both mutable.
    pub fn split_q_p_mut(&mut self) -> (&mut [u64], &mut [u64]) {
        self.data.split_at_mut(self.q_limbs * self.n)
    }
    /// The primes of the limbs, in order.
    pub fn moduli(&self, ctx: &RingContext) -> Vec<Modulus> {
        ctx.limb_moduli(self.q_limbs, self.p_limbs)
    }

    fn check_ctx(&self, ctx: &RingContext) -> Result<(), RingError> {
        if self.n != ctx.n() {
            return Err(RingError::DegreeMismatch);
        }
        ctx.check_limbs(self.q_limbs, self.p_limbs)
    }

    fn check_same(&self, ctx: &RingContext, other: &RnsPoly) -> Result<(), RingError> {
        self.check_ctx(ctx)?;
        if other.n != self.n {
            return Err(RingError::DegreeMismatch);
        }
        if (other.q_limbs, other.p_limbs) != (self.q_limbs, self.p_limbs) {
            return Err(RingError::LimbMismatch);
        }
        if other.form != self.form {
            return Err(RingError::FormMismatch);
        }
        Ok(())
    }

    fn need_form(&self, form: Form) -> Result<(), RingError> {
        if self.form != form {
            return Err(RingError::WrongForm { expected: form });
        }
        Ok(())
    }

    /// Calls `f(limb, other_limb, modulus)` for every limb pair.
    fn zip_limbs(
        &mut self,
        ctx: &RingContext,
        other: &RnsPoly,
        f: impl Fn(&mut [u64], &[u64], &Modulus),
    ) {
        let n = self.n;
        let q_limbs = self.q_limbs;
        for (i, (a, b)) in self
            .data
            .chunks_exact_mut(n)
            .zip(other.data.chunks_exact(n))
            .enumerate()
        {
            f(a, b, &ctx.moduli()[ctx.limb_index(q_limbs, i)]);
        }
    }

    /// `self += other`.
    pub fn add_assign(&mut self, ctx: &RingContext, other: &RnsPoly) -> Result<(), RingError> {
        self.check_same(ctx, other)?;
        let k = ctx.kernels();
        self.zip_limbs(ctx, other, |a, b, m| k.add_assign(a, b, m.value()));
        Ok(())
    }

    /// `self -= other`.
    pub fn sub_assign(&mut self, ctx: &RingContext, other: &RnsPoly) -> Result<(), RingError> {
        self.check_same(ctx, other)?;
        let k = ctx.kernels();
        self.zip_limbs(ctx, other, |a, b, m| k.sub_assign(a, b, m.value()));
        Ok(())
    }

    /// `self = -self`.
    pub fn neg_assign(&mut self, ctx: &RingContext) -> Result<(), RingError> {
        self.check_ctx(ctx)?;
        let (n, q_limbs, k) = (self.n, self.q_limbs, ctx.kernels());
        for (i, a) in self.data.chunks_exact_mut(n).enumerate() {
            k.neg_assign(a, ctx.moduli()[ctx.limb_index(q_limbs, i)].value());
        }
        Ok(())
    }

    /// `self *= other` (ring product; both in NTT form).
    pub fn mul_assign(&mut self, ctx: &RingContext, other: &RnsPoly) -> Result<(), RingError> {
        self.check_same(ctx, other)?;
        self.need_form(Form::Ntt)?;
        let k = ctx.kernels();
        self.zip_limbs(ctx, other, |a, b, m| k.mul_assign(a, b, m.consts()));
        Ok(())
    }

    /// `self += a * b` (ring product; all in NTT form).
    pub fn mul_add_assign(
        &mut self,
        ctx: &RingContext,
        a: &RnsPoly,
        b: &RnsPoly,
    ) -> Result<(), RingError> {
        self.check_same(ctx, a)?;
        self.check_same(ctx, b)?;
        self.need_form(Form::Ntt)?;
        let (n, q_limbs, k) = (self.n, self.q_limbs, ctx.kernels());
        for (i, acc) in self.data.chunks_exact_mut(n).enumerate() {
            let m = &ctx.moduli()[ctx.limb_index(q_limbs, i)];
            k.mul_add_assign(acc, a.limb(i), b.limb(i), m.consts());
        }
        Ok(())
    }

    /// `self *= c` for an integer `c` (reduced modulo each prime); either form.
    pub fn mul_scalar_assign(&mut self, ctx: &RingContext, c: u64) -> Result<(), RingError> {
        self.check_ctx(ctx)?;
        let (n, q_limbs, k) = (self.n, self.q_limbs, ctx.kernels());
        for (i, a) in self.data.chunks_exact_mut(n).enumerate() {
            let m = &ctx.moduli()[ctx.limb_index(q_limbs, i)];
            k.mul_scalar_assign(a, &m.shoup(c), m.value());
        }
        Ok(())
    }

    /// `self *= c` for a constant given by one residue per limb (`residues[i] mod` limb
    /// `i`'s prime); either form.
    pub fn mul_rns_scalar_assign(
        &mut self,
        ctx: &RingContext,
        residues: &[u64],
    ) -> Result<(), RingError> {
        self.check_ctx(ctx)?;
        if residues.len() != self.num_limbs() {
            return Err(RingError::BadData);
        }
        let (n, q_limbs, k) = (self.n, self.q_limbs, ctx.kernels());
        for (i, (a, &c)) in self.data.chunks_exact_mut(n).zip(residues).enumerate() {
            let m = &ctx.moduli()[ctx.limb_index(q_limbs, i)];
            k.mul_scalar_assign(a, &m.shoup(c), m.value());
        }
        Ok(())
    }

    /// Coefficient to NTT form, every limb (limbs spread over the context's executor).
    pub fn to_ntt(&mut self, ctx: &RingContext) -> Result<(), RingError> {
        self.check_ctx(ctx)?;
        self.need_form(Form::Coeff)?;
        let q_limbs = self.q_limbs;
        ctx.executor()
            .for_each_chunk_mut(&mut self.data, self.n, &|i, limb| {
                ctx.plan(ctx.limb_index(q_limbs, i)).forward(limb)
            });
        self.form = Form::Ntt;
        Ok(())
    }

    /// NTT to coefficient form, every limb (limbs spread over the context's executor).
    pub fn to_coeff(&mut self, ctx: &RingContext) -> Result<(), RingError> {
        self.check_ctx(ctx)?;
        self.need_form(Form::Ntt)?;
        let q_limbs = self.q_limbs;
        ctx.executor()
            .for_each_chunk_mut(&mut self.data, self.n, &|i, limb| {
                ctx.plan(ctx.limb_index(q_limbs, i)).inverse(limb)
            });
        self.form = Form::Coeff;
        Ok(())
    }

    /// `self(X^g)` for odd `g`, in the current form.
    pub fn automorphism(&self, ctx: &RingContext, g: usize) -> Result<RnsPoly, RingError> {
        let mut out = Self::zero(ctx, self.q_limbs, self.p_limbs, self.form)?;
        self.automorphism_into(ctx, g, &mut out)?;
        Ok(out)
    }

    /// Writes `self(X^g)` (odd `g`) into `out`, which takes `self`'s limbs and form.
    /// Coefficient form uses [`hetal_simd::Kernels::automorphism_coeff`]; NTT form a cached
    /// index permutation ([`RingContext::ntt_permutation`]).
    pub fn automorphism_into(
        &self,
        ctx: &RingContext,
        g: usize,
        out: &mut RnsPoly,
    ) -> Result<(), RingError> {
        self.check_ctx(ctx)?;
        let g = ctx.reduce_galois(g)?;
        if out.n != self.n || out.num_limbs() != self.num_limbs() {
            out.data.resize(self.data.len(), 0);
            out.n = self.n;
        }
        (out.q_limbs, out.p_limbs, out.form) = (self.q_limbs, self.p_limbs, self.form);
        let (n, q_limbs, k) = (self.n, self.q_limbs, ctx.kernels());
        match self.form {
            Form::Coeff => ctx
                .executor()
                .for_each_chunk_mut(&mut out.data, n, &|i, o| {
                    let q = ctx.moduli()[ctx.limb_index(q_limbs, i)].value();
                    k.automorphism_coeff(self.limb(i), g, o, q)
                }),
            Form::Ntt => {
                let perm = ctx.ntt_permutation(g)?;
                ctx.executor()
                    .for_each_chunk_mut(&mut out.data, n, &|i, o| k.permute(self.limb(i), &perm, o))
            }
        }
        Ok(())
    }

    /// A copy of the first `q_limbs` Q limbs only (no P limbs): a level drop that copies
    /// just the kept limbs, without re-checking residues that are already reduced.
    pub(crate) fn q_prefix(&self, q_limbs: usize) -> Result<Self, RingError> {
        if q_limbs == 0 || q_limbs > self.q_limbs {
            return Err(RingError::BadLimbCount);
        }
        Ok(Self {
            data: self.data[..q_limbs * self.n].to_vec(),
            n: self.n,
            q_limbs,
            p_limbs: 0,
            form: self.form,
        })
    }

    /// Drops the last `count` Q limbs (a level drop; P limbs are kept). At least one Q
    /// limb must remain.
    pub fn drop_q_limbs(&mut self, count: usize) -> Result<(), RingError> {
        if count >= self.q_limbs {
            return Err(RingError::BadLimbCount);
        }
        let n = self.n;
        let keep = self.q_limbs - count;
        self.data.drain(keep * n..self.q_limbs * n);
        self.q_limbs = keep;
        Ok(())
    }

    /// Drops every P limb.
    pub fn drop_p_limbs(&mut self) {
        self.data.truncate(self.q_limbs * self.n);
        self.p_limbs = 0;
    }

    /// Changes the limb set to `q_limbs` Q limbs and `p_limbs` P limbs: limbs in both sets
    /// keep their residues, new limbs are zero (to be filled, e.g. by a base conversion).
    pub fn resize_limbs(
        &mut self,
        ctx: &RingContext,
        q_limbs: usize,
        p_limbs: usize,
    ) -> Result<(), RingError> {
        self.check_ctx(ctx)?;
        ctx.check_limbs(q_limbs, p_limbs)?;
        let n = self.n;
        let mut data = vec![0u64; (q_limbs + p_limbs) * n];
        let (q_keep, p_keep) = (q_limbs.min(self.q_limbs), p_limbs.min(self.p_limbs));
        data[..q_keep * n].copy_from_slice(&self.data[..q_keep * n]);
        data[q_limbs * n..(q_limbs + p_keep) * n].copy_from_slice(&self.p_part()[..p_keep * n]);
        self.data = data;
        (self.q_limbs, self.p_limbs) = (q_limbs, p_limbs);
        Ok(())
    }
}

impl zeroize::Zeroize for RnsPoly {
    fn zeroize(&mut self) {
        self.data.zeroize();
    }
}
