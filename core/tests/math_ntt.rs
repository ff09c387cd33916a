//! `NttPlan`: inverse after forward is the identity (N = 2^10 .. 2^17, every supported
//! backend), and the NTT product is the negacyclic product.
use hetal_core::math::primes::ntt_primes;
use hetal_core::math::{Modulus, NttPlan};
use hetal_simd::{Backend, Kernels};
use proptest::prelude::*;

fn schoolbook(a: &[u64], b: &[u64], m: &Modulus) -> Vec<u64> {
    let n = a.len();
    let mut c = vec![0u64; n];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let p = m.mul(x, y);
            let k = (i + j) % n;
            c[k] = if i + j < n {
                m.add(c[k], p)
            } else {
                m.sub(c[k], p)
            };
        }
    }
    c
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

fn poly(seed: u64, n: usize, q: u64) -> Vec<u64> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % q
        })
        .collect()
}

#[test]
fn round_trip_every_size_and_backend() {
    for log_n in 10..=17u32 {
        let n = 1usize << log_n;
        // One IFMA-sized prime (< 2^50) and one 61-bit prime per size.
        for bits in [49u32, 61] {
            let q = Modulus::new(ntt_primes(bits, n, 1, &[]).unwrap()[0]).unwrap();
            let x = poly(log_n as u64 * 1000 + bits as u64, n, q.value());
            for k in supported_kernels() {
                let plan = NttPlan::with_kernels(q, n, k).unwrap();
                let mut y = x.clone();
                plan.forward(&mut y);
                assert!(y.iter().all(|&v| v < q.value()));
                plan.inverse(&mut y);
                assert_eq!(y, x, "n=2^{log_n} bits={bits} backend={:?}", k.backend());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn round_trip_random(log_n in 10u32..=13, bits in 31u32..=62, seed in any::<u64>()) {
        let n = 1usize << log_n;
        let q = Modulus::new(ntt_primes(bits, n, 1, &[]).unwrap()[0]).unwrap();
        let plan = NttPlan::new(q, n).unwrap();
        let x = poly(seed, n, q.value());
        let mut y = x.clone();
        plan.forward(&mut y);
        plan.inverse(&mut y);
        prop_assert_eq!(y, x);
    }

    #[test]
    fn product_is_negacyclic_convolution(log_n in 1u32..=6, bits in 20u32..=62, s1 in any::<u64>(), s2 in any::<u64>()) {
        let n = 1usize << log_n;
        let q = Modulus::new(ntt_primes(bits, n, 1, &[]).unwrap()[0]).unwrap();
        let plan = NttPlan::new(q, n).unwrap();
        let (a, b) = (poly(s1, n, q.value()), poly(s2, n, q.value()));
        let want = schoolbook(&a, &b, &q);
        let (mut fa, mut fb) = (a, b);
        plan.forward(&mut fa);
        plan.forward(&mut fb);
        plan.kernels().mul_assign(&mut fa, &fb, q.consts());
        plan.inverse(&mut fa);
        prop_assert_eq!(fa, want);
    }
}

#[test]
fn product_is_negacyclic_convolution_at_1024() {
    let n = 1024;
    let q = Modulus::new(ntt_primes(50, n, 1, &[]).unwrap()[0]).unwrap();
    let plan = NttPlan::new(q, n).unwrap();
    let (a, b) = (poly(3, n, q.value()), poly(4, n, q.value()));
    let want = schoolbook(&a, &b, &q);
    let (mut fa, mut fb) = (a, b);
    plan.forward(&mut fa);
    plan.forward(&mut fb);
    plan.kernels().mul_assign(&mut fa, &fb, q.consts());
    plan.inverse(&mut fa);
    assert_eq!(fa, want);
}

#[test]
fn plan_rejects_bad_inputs() {
    use hetal_core::math::MathError;
    let q = Modulus::new(12289).unwrap();
    assert_eq!(NttPlan::new(q, 1000).unwrap_err(), MathError::BadRingDegree);
    assert_eq!(
        NttPlan::new(q, 1 << 18).unwrap_err(),
        MathError::BadRingDegree
    );
    assert_eq!(NttPlan::new(q, 1 << 13).unwrap_err(), MathError::NoRoot);
}
