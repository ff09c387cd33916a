//! [`RingContext`]: the primes of a ring, their NTT plans, kernels and executor.

use super::RingError;
use crate::exec::{Executor, Sequential};
use crate::math::{MathError, Modulus, NttPlan};
use alloc::sync::Arc;
use alloc::vec::Vec;
use hashbrown::HashMap;
use hetal_simd::{Kernels, automorphism_ntt_perm};

/// The ring `Z[X]/(X^n + 1)` with a Q chain and special primes P: the moduli (Q then P),
/// one [`NttPlan`] per prime, the [`Kernels`] everything runs on and the [`Executor`]
/// that spreads per-limb work. NTT-form automorphism permutations are cached per Galois
/// element (the cache is shared by threads; only the first use of an element computes).
pub struct RingContext {
    n: usize,
    kernels: Kernels,
    q_count: usize,
    moduli: Vec<Modulus>,
    plans: Vec<NttPlan>,
    executor: Arc<dyn Executor>,
    perms: spin::Mutex<HashMap<usize, Arc<[u32]>>>,
}

impl core::fmt::Debug for RingContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RingContext")
            .field("n", &self.n)
            .field("kernels", &self.kernels)
            .field(
                "q",
                &self
                    .q_moduli()
                    .iter()
                    .map(Modulus::value)
                    .collect::<Vec<_>>(),
            )
            .field(
                "p",
                &self
                    .p_moduli()
                    .iter()
                    .map(Modulus::value)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl RingContext {
    /// The context of degree `n` over the Q chain `q` (at least one prime) and special
    /// primes `p` (possibly none), on the best kernels and the [`Sequential`] executor.
    /// Every prime must be `1 mod 2n`, and all must be distinct.
    pub fn new(n: usize, q: &[u64], p: &[u64]) -> Result<Self, RingError> {
        Self::with_kernels(n, q, p, Kernels::best())
    }

    /// Like [`Self::new`] on the given kernels.
    pub fn with_kernels(
        n: usize,
        q: &[u64],
        p: &[u64],
        kernels: Kernels,
    ) -> Result<Self, RingError> {
        if q.is_empty() {
            return Err(MathError::EmptyBasis.into());
        }
        let all: Vec<u64> = q.iter().chain(p).copied().collect();
        for (i, v) in all.iter().enumerate() {
            if all[..i].contains(v) {
                return Err(MathError::DuplicateModulus.into());
            }
        }
        let moduli = all
            .iter()
            .map(|&v| Modulus::new(v))
            .collect::<Result<Vec<_>, _>>()?;
        let plans = moduli
            .iter()
            .map(|&m| NttPlan::with_kernels(m, n, kernels))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            n,
            kernels,
            q_count: q.len(),
            moduli,
            plans,
            executor: Arc::new(Sequential),
            perms: spin::Mutex::new(HashMap::new()),
        })
    }

    /// Replaces the executor (e.g. with the rayon-backed one of the `hetal` crate).
    pub fn with_executor(mut self, executor: Arc<dyn Executor>) -> Self {
        self.executor = executor;
        self
    }

    /// The ring degree.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The kernels.
    pub fn kernels(&self) -> &Kernels {
        &self.kernels
    }

    /// The executor.
    pub fn executor(&self) -> &dyn Executor {
        &*self.executor
    }

    /// A shared handle to the executor.
    pub fn executor_arc(&self) -> Arc<dyn Executor> {
        Arc::clone(&self.executor)
    }

    /// Number of Q primes.
    pub fn q_count(&self) -> usize {
        self.q_count
    }

    /// Number of P primes.
    pub fn p_count(&self) -> usize {
        self.moduli.len() - self.q_count
    }

    /// All primes: Q chain then P.
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// The Q chain.
    pub fn q_moduli(&self) -> &[Modulus] {
        &self.moduli[..self.q_count]
    }

    /// The special primes P.
    pub fn p_moduli(&self) -> &[Modulus] {
        &self.moduli[self.q_count..]
    }

    /// The NTT plan of prime `global` (index into [`Self::moduli`]).
    pub fn plan(&self, global: usize) -> &NttPlan {
        &self.plans[global]
    }

    /// Index into [`Self::moduli`] of limb `i` of a polynomial with `q_limbs` Q limbs.
    #[inline]
    pub fn limb_index(&self, q_limbs: usize, i: usize) -> usize {
        if i < q_limbs {
            i
        } else {
            self.q_count + (i - q_limbs)
        }
    }

    /// The primes of a polynomial with `q_limbs` Q limbs and `p_limbs` P limbs, in limb
    /// order.
    pub fn limb_moduli(&self, q_limbs: usize, p_limbs: usize) -> Vec<Modulus> {
        let mut v = self.moduli[..q_limbs].to_vec();
        v.extend_from_slice(&self.moduli[self.q_count..self.q_count + p_limbs]);
        v
    }

    /// Checks `1 <= q_limbs <= q_count` and `p_limbs <= p_count`.
    pub fn check_limbs(&self, q_limbs: usize, p_limbs: usize) -> Result<(), RingError> {
        if q_limbs == 0 || q_limbs > self.q_count || p_limbs > self.p_count() {
            return Err(RingError::BadLimbCount);
        }
        Ok(())
    }

    /// `g mod 2n` after checking that `g` is odd.
    pub fn reduce_galois(&self, g: usize) -> Result<usize, RingError> {
        if g.is_multiple_of(2) {
            return Err(RingError::EvenGaloisElement);
        }
        Ok(g % (2 * self.n))
    }

    /// The inverse of the odd `g` modulo `2n` (so `X -> X^g` then `X -> X^inverse` is the
    /// identity). Panics if `g` is even.
    pub fn galois_inverse(&self, g: usize) -> usize {
        assert!(g % 2 == 1, "galois_inverse: g must be odd");
        // The unit group mod 2n has order n, so g^-1 = g^(n-1).
        let m = 2 * self.n as u64;
        let (mut b, mut e, mut r) = (g as u64 % m, self.n as u64 - 1, 1u64);
        while e > 0 {
            if e & 1 == 1 {
                r = r * b % m;
            }
            b = b * b % m;
            e >>= 1;
        }
        r as usize
    }

    /// The permutation that applies `X -> X^g` in NTT form (see
    /// [`hetal_simd::automorphism_ntt_perm`]), computed once per `g mod 2n` and cached.
    pub fn ntt_permutation(&self, g: usize) -> Result<Arc<[u32]>, RingError> {
        let g = self.reduce_galois(g)?;
        if let Some(p) = self.perms.lock().get(&g) {
            return Ok(Arc::clone(p));
        }
        // Computed outside the lock; a racing thread computes the same table.
        let mut perm = alloc::vec![0u32; self.n];
        automorphism_ntt_perm(g, &mut perm);
        let perm: Arc<[u32]> = perm.into();
        self.perms
            .lock()
            .entry(g)
            .or_insert_with(|| Arc::clone(&perm));
        Ok(perm)
    }
}

/// The Galois element `5^steps mod 2n` that rotates the `n/2` CKKS slots by `steps`
/// (negative steps rotate the other way). Conjugation is `2n - 1`.
///
/// ```
/// use hetal_core::ring::galois_element;
/// assert_eq!(galois_element(1024, 1), 5);
/// assert_eq!(galois_element(1024, -1) * 5 % 2048, 1);
/// ```
pub fn galois_element(n: usize, steps: isize) -> usize {
    assert!(
        n.is_power_of_two() && n >= 4,
        "galois_element: n a power of two >= 4"
    );
    let m = 2 * n as u64;
    // 5 has order n/2 modulo 2n.
    let mut e = steps.rem_euclid((n / 2) as isize) as u64;
    let (mut b, mut r) = (5u64, 1u64);
    while e > 0 {
        if e & 1 == 1 {
            r = r * b % m;
        }
        b = b * b % m;
        e >>= 1;
    }
    r as usize
}
