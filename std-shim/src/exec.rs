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
}
