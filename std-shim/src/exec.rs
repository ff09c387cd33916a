//! The rayon-backed [`Executor`] that `hetal` installs in its ring contexts.
//!
//! Work handed to an executor is split so that each job computes the same values on any
//! thread: results are bit-identical to [`hetal_core::exec::Sequential`].
//!
//! ```
//! use hetal::exec::RayonExecutor;
//! use hetal_core::exec::Executor;
//! let mut data = vec![0u64; 1 << 12];
//! RayonExecutor::global().for_each_chunk_mut(&mut data, 1024, &|i, c| c.fill(i as u64));
//! assert_eq!(data[3 * 1024], 3);
//! ```

use hetal_core::exec::Executor;
use rayon::prelude::*;
use std::sync::Arc;

/// Runs jobs on a rayon thread pool: the global pool, or a dedicated one.
#[derive(Clone, Debug, Default)]
pub struct RayonExecutor {
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl RayonExecutor {
    /// Uses rayon's global pool (sized by `RAYON_NUM_THREADS` or the CPU count).
    pub fn global() -> Self {
        Self { pool: None }
    }

    /// Uses a dedicated pool of `threads` threads.
    pub fn with_threads(threads: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        Ok(Self {
            pool: Some(Arc::new(pool)),
        })
    }

    /// The number of threads jobs are spread over.
    pub fn threads(&self) -> usize {
        match &self.pool {
            Some(p) => p.current_num_threads(),
            None => rayon::current_num_threads(),
        }
    }

    fn install<R: Send>(&self, op: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.install(op),
            None => op(),
        }
    }
}

impl Executor for RayonExecutor {
    fn parallelism(&self) -> usize {
        self.threads()
    }

    fn run(&self, jobs: usize, f: &(dyn Fn(usize) + Sync)) {
        self.install(|| (0..jobs).into_par_iter().for_each(f));
    }

    fn for_each_chunk_mut(
        &self,
        data: &mut [u64],
        chunk_len: usize,
        f: &(dyn Fn(usize, &mut [u64]) + Sync),
    ) {
        self.install(|| {
            data.par_chunks_mut(chunk_len)
                .enumerate()
                .for_each(|(i, c)| f(i, c))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hetal_core::exec::Sequential;
    use hetal_core::math::BaseConverter;
    use hetal_core::math::primes::ntt_primes;
    use hetal_core::ring::{Form, RingContext, RnsPoly};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn identical_to_sequential() {
        let n = 1 << 13;
        let q = ntt_primes(50, n, 6, &[]).unwrap();
        let p = ntt_primes(60, n, 2, &q).unwrap();
        let seq = RingContext::new(n, &q, &p).unwrap();
        let par = RingContext::new(n, &q, &p)
            .unwrap()
            .with_executor(Arc::new(RayonExecutor::with_threads(3).unwrap()));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut a = RnsPoly::sample_uniform(&seq, &mut rng, 6, 2, Form::Coeff).unwrap();
        let mut b = a.clone();
        a.to_ntt(&seq).unwrap();
        b.to_ntt(&par).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.automorphism(&seq, 25).unwrap(),
            b.automorphism(&par, 25).unwrap()
        );
        a.to_coeff(&seq).unwrap();
        b.to_coeff(&par).unwrap();
        assert_eq!(a, b);

        let conv = BaseConverter::new(seq.q_moduli(), seq.p_moduli()).unwrap();
        let k = *seq.kernels();
        let (mut o1, mut o2) = (vec![0u64; 2 * n], vec![0u64; 2 * n]);
        conv.convert(&k, &Sequential, a.q_part(), &mut o1).unwrap();
        conv.convert(&k, &RayonExecutor::global(), a.q_part(), &mut o2)
            .unwrap();
        assert_eq!(o1, o2);
    }

    /// Key switching runs its target limbs as executor jobs: relinearization, rotation
    /// and hoisted rotations must give the same ciphertexts on 1 and 3 threads.
    #[test]
    fn key_switching_identical_to_sequential() {
        use hetal_core::ckks::complex::Complex;
        use hetal_core::ckks::{CkksContext, Evaluator, Params};
        let seq = CkksContext::new(Params::insecure_n12()).unwrap();
        let par = CkksContext::new(Params::insecure_n12())
            .unwrap()
            .with_executor(Arc::new(RayonExecutor::with_threads(3).unwrap()));
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let sk = seq.gen_secret_key(&mut rng).unwrap();
        let keys = seq
            .gen_evaluation_keys(&sk, &[1, 3], true, &mut rng)
            .unwrap();
        let slots = seq.params().max_slots();
        let x: Vec<Complex> = (0..slots)
            .map(|i| Complex::new((i as f64).sin(), 0.25))
            .collect();
        let pt = seq
            .encode(
                &x,
                slots,
                seq.params().max_level(),
                seq.params().default_scale(),
            )
            .unwrap();
        let ct = seq.encrypt_sk(&sk, &pt, &mut rng).unwrap();
        let (e1, e2) = (Evaluator::new(&seq, &keys), Evaluator::new(&par, &keys));
        assert_eq!(e1.rotate(&ct, 1).unwrap(), e2.rotate(&ct, 1).unwrap());
        assert_eq!(e1.conjugate(&ct).unwrap(), e2.conjugate(&ct).unwrap());
        assert_eq!(
            e1.mul_relin_rescale(&ct, &ct).unwrap(),
            e2.mul_relin_rescale(&ct, &ct).unwrap()
        );
        assert_eq!(
            e1.rotate_hoisted(&ct, &[1, 3]).unwrap(),
            e2.rotate_hoisted(&ct, &[1, 3]).unwrap()
        );
    }
}
