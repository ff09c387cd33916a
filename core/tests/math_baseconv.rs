//! Fast base conversion against exact CRT: out_j = (x + u Q) mod p_j with one
//! u in [0, k) for every target; identical on every backend and executor.
use hetal_core::exec::{Executor, Sequential};
use hetal_core::math::primes::ntt_primes;
use hetal_core::math::{BaseConverter, BigUint, MathError, Modulus, RnsBasis};
use hetal_simd::{Backend, Kernels};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A real multi-threaded executor for tests (std threads pulling job indices).
struct Threads(usize);

impl Executor for Threads {
    fn parallelism(&self) -> usize {
        3 * self.0
    }
    fn run(&self, jobs: usize, f: &(dyn Fn(usize) + Sync)) {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.0 {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= jobs {
                            break;
                        }
                        f(i);
                    }
                });
            }
        });
    }
}

fn moduli(primes: &[u64]) -> Vec<Modulus> {
    primes.iter().map(|&q| Modulus::new(q).unwrap()).collect()
}

fn residues(seed: u64, ms: &[Modulus], n: usize) -> Vec<u64> {
    let mut s = seed | 1;
    let mut out = Vec::with_capacity(ms.len() * n);
    for m in ms {
        for _ in 0..n {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            out.push(s % m.value());
        }
    }
    out
}

/// Checks every coefficient against the exact value; returns the largest `u` seen.
fn check_against_crt(
    from: &[Modulus],
    to: &[Modulus],
    input: &[u64],
    output: &[u64],
    n: usize,
) -> usize {
    let basis = RnsBasis::new(from.to_vec()).unwrap();
    let k = from.len();
    let mut max_u = 0;
    for c in 0..n {
        let r: Vec<u64> = (0..k).map(|i| input[i * n + c]).collect();
        let mut x: BigUint = basis.reconstruct(&r);
        let u = (0..k)
            .find(|_| {
                let hit = to
                    .iter()
                    .enumerate()
                    .all(|(j, p)| x.rem_u64(p.value()) == output[j * n + c]);
                if !hit {
                    x.add_assign(basis.product());
                }
                hit
            })
            .unwrap_or_else(|| panic!("coefficient {c}: no u in [0, {k}) fits"));
        max_u = max_u.max(u);
    }
    max_u
}

fn supported_kernels() -> Vec<Kernels> {
    Backend::ALL
        .iter()
        .filter_map(|&b| match b.unsupported_reason() {
            None => Kernels::new(b),
            Some(why) => {
                eprintln!("skipping backend {}: {why}", b.name());
                None
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn matches_exact_crt_within_u_below_k(
        k in 1usize..=12,
        m in 1usize..=5,
        from_bits in 30u32..=61,
        to_bits in 30u32..=61,
        n in 1usize..=1100,
        seed in any::<u64>(),
    ) {
        let q = ntt_primes(from_bits, 1 << 10, k, &[]).unwrap();
        let p = ntt_primes(to_bits, 1 << 10, m, &q).unwrap();
        let (from, to) = (moduli(&q), moduli(&p));
        let conv = BaseConverter::new(&from, &to).unwrap();
        let input = residues(seed, &from, n);
        let mut out = vec![0u64; m * n];
        conv.convert(&Kernels::best(), &Sequential, &input, &mut out).unwrap();
        prop_assert!(out.chunks(n).zip(&to).all(|(l, p)| l.iter().all(|&v| v < p.value())));
        check_against_crt(&from, &to, &input, &out, n);
    }
}

#[test]
fn u_reaches_above_zero_and_backends_agree() {
    // 24 -> 5 as in ModUp at N = 2^16 (here with n = 2000 coefficients).
    let n = 2000;
    let q = ntt_primes(50, 1 << 16, 24, &[]).unwrap();
    let p = ntt_primes(60, 1 << 16, 5, &q).unwrap();
    let (from, to) = (moduli(&q), moduli(&p));
    let conv = BaseConverter::new(&from, &to).unwrap();
    let input = residues(42, &from, n);
    let mut want = vec![0u64; 5 * n];
    conv.convert(&Kernels::scalar(), &Sequential, &input, &mut want)
        .unwrap();
    // Uniform inputs give u around k/2: the bound is exercised, not just u = 0.
    let max_u = check_against_crt(&from, &to, &input, &want, n);
    assert!(max_u > 0 && max_u < 24, "max u = {max_u}");
    for k in supported_kernels() {
        for threads in [1, 2, 3] {
            let mut got = vec![0u64; 5 * n];
            conv.convert(&k, &Threads(threads), &input, &mut got)
                .unwrap();
            assert_eq!(got, want, "backend {:?}, {threads} threads", k.backend());
        }
    }
}

#[test]
fn scattered_limbs_match_flat() {
    let n = 700;
    let q = ntt_primes(45, 1 << 10, 4, &[]).unwrap();
    let p = ntt_primes(55, 1 << 10, 3, &[]).unwrap();
    let conv = BaseConverter::new(&moduli(&q), &moduli(&p)).unwrap();
    let input = residues(7, &moduli(&q), n);
    let mut flat = vec![0u64; 3 * n];
    conv.convert(&Kernels::best(), &Sequential, &input, &mut flat)
        .unwrap();
    let inputs: Vec<&[u64]> = input.chunks(n).collect();
    let mut bufs = vec![vec![1u64; n]; 3];
    let mut outs: Vec<&mut [u64]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
    conv.convert_limbs(&Kernels::best(), &Threads(2), &inputs, &mut outs)
        .unwrap();
    assert_eq!(bufs.concat(), flat);
}

#[test]
fn errors_are_typed() {
    let q = moduli(&[12289, 65537]);
    let p = moduli(&[786433]);
    assert_eq!(
        BaseConverter::new(&[], &p).unwrap_err(),
        MathError::EmptyBasis
    );
    assert_eq!(
        BaseConverter::new(&q, &[]).unwrap_err(),
        MathError::EmptyBasis
    );
    assert_eq!(
        BaseConverter::new(&[q[0], q[0]], &p).unwrap_err(),
        MathError::DuplicateModulus
    );
    let conv = BaseConverter::new(&q, &p).unwrap();
    let k = Kernels::best();
    let mut out = vec![0u64; 4];
    assert_eq!(
        conv.convert(&k, &Sequential, &[0; 7], &mut out),
        Err(MathError::LengthMismatch)
    );
    assert_eq!(
        conv.convert(&k, &Sequential, &[0; 8], &mut out[..3]),
        Err(MathError::LengthMismatch)
    );
    assert_eq!(
        conv.convert(&k, &Sequential, &[], &mut []),
        Err(MathError::LengthMismatch)
    );
    assert!(conv.convert(&k, &Sequential, &[0; 8], &mut out).is_ok());
}
