//! The one parallelism hook: an [`Executor`] runs `n` independent jobs.
//!
//! `hetal-core` is single-threaded by default ([`Sequential`]); the `hetal` crate provides
//! a rayon-backed executor. Work is split so that every job computes the same values
//! whichever executor runs it: results are bit-identical with and without threads.
//!
//! ```
//! use hetal_core::exec::{Executor, Sequential};
//! let mut data = vec![0u64; 8];
//! Sequential.for_each_chunk_mut(&mut data, 4, &|i, chunk| chunk.fill(i as u64));
//! assert_eq!(data, [0, 0, 0, 0, 1, 1, 1, 1]);
//! ```

use alloc::vec::Vec;

/// Runs independent jobs, possibly in parallel. Jobs must not depend on each other's
/// order; an implementation may run them in any order and on any thread.
pub trait Executor: Send + Sync {
    /// How many jobs it is worth splitting work into (1 for sequential execution).
    /// Only a hint for sizing work; never affects results.
    fn parallelism(&self) -> usize {
        1
    }

    /// Calls `f(i)` once for every `i` in `0..jobs`.
    fn run(&self, jobs: usize, f: &(dyn Fn(usize) + Sync));

    /// Calls `f(i, chunk)` for the `i`-th of the `chunk_len`-long chunks of `data` (the
    /// last may be shorter). Panics if `chunk_len == 0`.
    fn for_each_chunk_mut(
        &self,
        data: &mut [u64],
        chunk_len: usize,
        f: &(dyn Fn(usize, &mut [u64]) + Sync),
    ) {
        // Generic fallback on top of `run`: each job locks its own chunk (uncontended).
        let chunks: Vec<spin::Mutex<&mut [u64]>> =
            data.chunks_mut(chunk_len).map(spin::Mutex::new).collect();
        self.run(chunks.len(), &|i| f(i, &mut chunks[i].lock()));
    }
}

/// `f(i)` for every `i < jobs` on `exec`, results in order: the jobs in parallel when
/// the executor has threads and there are at least two, in order otherwise.
pub fn collect_jobs<T: Send>(
    exec: &dyn Executor,
    jobs: usize,
    f: &(dyn Fn(usize) -> T + Sync),
) -> Vec<T> {
    if jobs < 2 || exec.parallelism() < 2 {
        return (0..jobs).map(f).collect();
    }
    let out: Vec<spin::Mutex<Option<T>>> = (0..jobs).map(|_| spin::Mutex::new(None)).collect();
    exec.run(jobs, &|i| *out[i].lock() = Some(f(i)));
    // (An executor runs every job; were one skipped, it is computed here.)
    out.into_iter()
        .enumerate()
        .map(|(i, m)| m.into_inner().unwrap_or_else(|| f(i)))
        .collect()
}

/// Runs every job on the calling thread, in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sequential;

impl Executor for Sequential {
    fn run(&self, jobs: usize, f: &(dyn Fn(usize) + Sync)) {
        (0..jobs).for_each(f);
    }

    fn for_each_chunk_mut(
        &self,
        data: &mut [u64],
        chunk_len: usize,
        f: &(dyn Fn(usize, &mut [u64]) + Sync),
    ) {
        for (i, c) in data.chunks_mut(chunk_len).enumerate() {
            f(i, c);
        }
    }
}
