//! [`BaseConverter`]: fast approximate RNS base conversion ("FastBConv", as in
//! Halevi-Polyakov-Shoup and Bajard et al.), the core of ModUp / ModDown.

use super::{MathError, Modulus};
use crate::exec::Executor;
use alloc::vec;
use alloc::vec::Vec;
use hetal_simd::{Kernels, ShoupConst};

/// Coefficients per block: the `k` scaled source limbs of one block (`k * BLOCK` words)
/// stay in L1/L2 while every target limb accumulates them.
const BLOCK: usize = 1024;

/// Converts limbs modulo `Q = q_0 ... q_{k-1}` to limbs modulo `p_0, ..., p_{m-1}`.
///
/// For a coefficient `x in [0, Q)` given by its residues `x_i`, the output is
///
/// `out_j = sum_i [x_i (Q/q_i)^-1 mod q_i] (Q/q_i) mod p_j = (x + u Q) mod p_j`
///
/// for one integer `u` with **`0 <= u < k`** (the same `u` for every `j`; `k` is the
/// number of source primes). The conversion is exact when `u = 0`; callers that need
/// exactness remove or tolerate the `u Q` term (in ModDown it becomes a small error
/// after division by `P`).
///
/// Layout: limb-major flat slices, `n` coefficients per limb (`input[i * n + c]` is
/// coefficient `c` modulo `q_i`). Inputs must be reduced (`x_i < q_i`); outputs are.
///
/// ```
/// use hetal_core::exec::Sequential;
/// use hetal_core::math::{BaseConverter, Modulus};
/// use hetal_simd::Kernels;
/// let m = |q| Modulus::new(q).unwrap();
/// let conv = BaseConverter::new(&[m(12289), m(65537)], &[m(786433)]).unwrap();
/// // x = 1000 in both source limbs (n = 1 coefficient).
/// let mut out = [0u64; 1];
/// conv.convert(&Kernels::best(), &Sequential, &[1000, 1000], &mut out).unwrap();
/// let q = 12289u64 * 65537;
/// assert!(out[0] == 1000 || out[0] == (1000 + q) % 786433);
/// ```
#[derive(Clone, Debug)]
pub struct BaseConverter {
    from: Vec<Modulus>,
    to: Vec<Modulus>,
    /// `(Q/q_i)^-1 mod q_i`.
    q_hat_inv: Vec<ShoupConst>,
    /// `(Q/q_i) mod p_j` at `[j * k + i]`.
    q_hat_mod_p: Vec<ShoupConst>,
}

impl BaseConverter {
    /// The converter from the distinct primes `from` to the primes `to`.
    pub fn new(from: &[Modulus], to: &[Modulus]) -> Result<Self, MathError> {
        if from.is_empty() || to.is_empty() {
            return Err(MathError::EmptyBasis);
        }
        for (i, m) in from.iter().enumerate() {
            if from[..i].contains(m) {
                return Err(MathError::DuplicateModulus);
            }
        }
        // (Q/q_i) mod r as a product of the other primes, for any modulus r.
        let q_hat_mod = |i: usize, r: &Modulus| {
            from.iter()
                .enumerate()
                .filter(|&(l, _)| l != i)
                .fold(1u64, |acc, (_, q)| r.mul(acc, r.reduce(q.value())))
        };
        let q_hat_inv = from
            .iter()
            .enumerate()
            .map(|(i, q)| Ok(q.shoup(q.inv(q_hat_mod(i, q))?)))
            .collect::<Result<Vec<_>, MathError>>()?;
        let mut q_hat_mod_p = Vec::with_capacity(from.len() * to.len());
        for p in to {
            for i in 0..from.len() {
                q_hat_mod_p.push(p.shoup(q_hat_mod(i, p)));
            }
        }
        Ok(Self {
            from: from.to_vec(),
            to: to.to_vec(),
            q_hat_inv,
            q_hat_mod_p,
        })
    }

    /// The source primes.
    pub fn from_moduli(&self) -> &[Modulus] {
        &self.from
    }

    /// The target primes.
    pub fn to_moduli(&self) -> &[Modulus] {
        &self.to
    }

    /// The scaling step of a conversion on one source limb, in place:
    /// `limb[c] = limb[c] (Q/q_i)^-1 mod q_i`. With [`Self::accumulate_limb`] it lets a
    /// caller produce one target limb at a time (key switching fuses each target limb
    /// with its NTT and inner product while it is in cache).
    pub fn scale_limb(&self, kernels: &Kernels, i: usize, limb: &mut [u64]) {
        kernels.mul_scalar_assign(limb, &self.q_hat_inv[i], self.from[i].value());
    }

    /// Target limb `j` from source limbs already scaled by [`Self::scale_limb`]:
    /// `out = sum_i y_i (Q/q_i) mod p_j`. Panics if `y` does not have one limb per source
    /// prime or a limb is shorter than `out`.
    pub fn accumulate_limb(&self, kernels: &Kernels, y: &[&[u64]], j: usize, out: &mut [u64]) {
        let k = self.from.len();
        assert_eq!(y.len(), k, "accumulate_limb: one limb per source prime");
        kernels.dot_scalar(
            out,
            y,
            &self.q_hat_mod_p[j * k..(j + 1) * k],
            self.to[j].value(),
        );
    }

    /// Converts `input` (`k` limbs of `n`) into `output` (`m` limbs of `n`).
    pub fn convert(
        &self,
        kernels: &Kernels,
        exec: &dyn Executor,
        input: &[u64],
        output: &mut [u64],
    ) -> Result<(), MathError> {
        let k = self.from.len();
        let n = input.len() / k;
        if n == 0 || input.len() != k * n || output.len() != self.to.len() * n {
            return Err(MathError::LengthMismatch);
        }
        let inputs: Vec<&[u64]> = input.chunks(n).collect();
        let mut outputs: Vec<&mut [u64]> = output.chunks_mut(n).collect();
        self.convert_limbs(kernels, exec, &inputs, &mut outputs)
    }

    /// Like [`Self::convert`], with each limb its own slice (for limbs that are not
    /// contiguous, e.g. the complement of a key-switching digit).
    pub fn convert_limbs(
        &self,
        kernels: &Kernels,
        exec: &dyn Executor,
        inputs: &[&[u64]],
        outputs: &mut [&mut [u64]],
    ) -> Result<(), MathError> {
        let n = inputs.first().map_or(0, |l| l.len());
        if n == 0
            || inputs.len() != self.from.len()
            || outputs.len() != self.to.len()
            || inputs.iter().any(|l| l.len() != n)
            || outputs.iter().any(|l| l.len() != n)
        {
            return Err(MathError::LengthMismatch);
        }
        let blocks = n.div_ceil(BLOCK);
        let jobs = exec.parallelism().clamp(1, blocks);
        if jobs == 1 {
            self.convert_range(kernels, inputs, 0, outputs);
            return Ok(());
        }
        // Job t owns coefficients [starts[t], starts[t + 1]) of every output limb.
        let starts: Vec<usize> = (0..=jobs)
            .map(|t| (t * blocks / jobs * BLOCK).min(n))
            .collect();
        let mut parts: Vec<Vec<&mut [u64]>> = (0..jobs).map(|_| Vec::new()).collect();
        for limb in outputs.iter_mut() {
            let mut rest: &mut [u64] = limb;
            for (t, part) in parts.iter_mut().enumerate() {
                let (head, tail) = rest.split_at_mut(starts[t + 1] - starts[t]);
                part.push(head);
                rest = tail;
            }
        }
        let parts: Vec<spin::Mutex<Vec<&mut [u64]>>> =
            parts.into_iter().map(spin::Mutex::new).collect();
        exec.run(jobs, &|t| {
            let mut outs = parts[t].lock();
            self.convert_range(kernels, inputs, starts[t], &mut outs);
        });
        Ok(())
    }

    /// Converts coefficients `[start, start + outs[0].len())`; `outs` are the output limbs
    /// restricted to that range.
    fn convert_range(
        &self,
        kernels: &Kernels,
        inputs: &[&[u64]],
        start: usize,
        outs: &mut [&mut [u64]],
    ) {
        let len = outs[0].len();
        let k = self.from.len();
        let mut scratch = vec![0u64; k * BLOCK.min(len)];
        let mut b = 0;
        while b < len {
            let e = (b + BLOCK).min(len);
            let y = &mut scratch[..k * (e - b)];
            self.scale_block(kernels, inputs, start + b..start + e, y);
            for (j, out) in outs.iter_mut().enumerate() {
                self.accumulate_block(kernels, j, y, &mut out[b..e]);
            }
            b = e;
        }
    }

    /// `y_i = x_i (Q/q_i)^-1 mod q_i` for the coefficients in `range`, limb-major in `y`.
    fn scale_block(
        &self,
        kernels: &Kernels,
        inputs: &[&[u64]],
        range: core::ops::Range<usize>,
        y: &mut [u64],
    ) {
        let len = range.len();
        for (i, (yi, x)) in y.chunks_exact_mut(len).zip(inputs).enumerate() {
            yi.copy_from_slice(&x[range.clone()]);
            kernels.mul_scalar_assign(yi, &self.q_hat_inv[i], self.from[i].value());
        }
    }

    /// `out = sum_i y_i (Q/q_i) mod p_j`. `y_i < q_i` may exceed `p_j`: the Shoup kernel
    /// accepts any 64-bit input, so no reduction is needed first.
    fn accumulate_block(&self, kernels: &Kernels, j: usize, y: &[u64], out: &mut [u64]) {
        let ys: Vec<&[u64]> = y.chunks_exact(out.len()).collect();
        self.accumulate_limb(kernels, &ys, j, out);
    }
}
