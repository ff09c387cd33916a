//! `RingContext` / `RnsPoly`: arithmetic against per-limb definitions, NTT round trips and
//! products, automorphism laws in both forms, limb management, typed errors, and identical
//! results under a multi-threaded executor.
use hetal_core::exec::Executor;
use hetal_core::math::MathError;
use hetal_core::math::primes::ntt_primes;
use hetal_core::ring::{Form, RingContext, RingError, RnsPoly, galois_element};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A real multi-threaded executor (std threads pulling job indices); uses the trait's
/// generic `for_each_chunk_mut`.
struct Threads(usize);

impl Executor for Threads {
    fn parallelism(&self) -> usize {
        self.0
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

/// Three Q primes (one below 2^50, two larger) and two P primes.
fn ctx(n: usize) -> RingContext {
    let mut q = ntt_primes(45, n, 1, &[]).unwrap();
    q.extend(ntt_primes(60, n, 2, &q).unwrap());
    let p = ntt_primes(61, n, 2, &q).unwrap();
    RingContext::new(n, &q, &p).unwrap()
}

fn random(c: &RingContext, seed: u64, q_limbs: usize, p_limbs: usize, form: Form) -> RnsPoly {
    RnsPoly::sample_uniform(
        c,
        &mut ChaCha20Rng::seed_from_u64(seed),
        q_limbs,
        p_limbs,
        form,
    )
    .unwrap()
}

fn negacyclic(a: &[u64], b: &[u64], q: u64) -> Vec<u64> {
    let n = a.len();
    let mut c = vec![0u128; n];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let p = x as u128 * y as u128 % q as u128;
            let k = (i + j) % n;
            c[k] = if i + j < n {
                (c[k] + p) % q as u128
            } else {
                (c[k] + q as u128 - p) % q as u128
            };
        }
    }
    c.into_iter().map(|x| x as u64).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn arithmetic_matches_limbwise_definitions(s1 in any::<u64>(), s2 in any::<u64>(), c in any::<u64>(), p_limbs in 0usize..=2) {
        let ctx = ctx(64);
        let a = random(&ctx, s1, 3, p_limbs, Form::Coeff);
        let b = random(&ctx, s2, 3, p_limbs, Form::Coeff);
        let ms = a.moduli(&ctx);
        let (mut sum, mut diff, mut neg, mut sc) = (a.clone(), a.clone(), a.clone(), a.clone());
        sum.add_assign(&ctx, &b).unwrap();
        diff.sub_assign(&ctx, &b).unwrap();
        neg.neg_assign(&ctx).unwrap();
        sc.mul_scalar_assign(&ctx, c).unwrap();
        for (i, m) in ms.iter().enumerate() {
            for j in 0..64 {
                let (x, y) = (a.limb(i)[j], b.limb(i)[j]);
                prop_assert_eq!(sum.limb(i)[j], m.add(x, y));
                prop_assert_eq!(diff.limb(i)[j], m.sub(x, y));
                prop_assert_eq!(neg.limb(i)[j], m.neg(x));
                prop_assert_eq!(sc.limb(i)[j], m.mul(x, m.reduce(c)));
            }
        }
        // Ring product through NTT form is the negacyclic product on every limb.
        let (mut fa, mut fb) = (a.clone(), b.clone());
        fa.to_ntt(&ctx).unwrap();
        fb.to_ntt(&ctx).unwrap();
        let mut prod = fa.clone();
        prod.mul_assign(&ctx, &fb).unwrap();
        let mut fma = random(&ctx, s1 ^ s2, 3, p_limbs, Form::Ntt);
        let acc0 = fma.clone();
        fma.mul_add_assign(&ctx, &fa, &fb).unwrap();
        let mut expect_fma = acc0;
        expect_fma.add_assign(&ctx, &prod).unwrap();
        prop_assert_eq!(&fma, &expect_fma);
        prod.to_coeff(&ctx).unwrap();
        for (i, m) in ms.iter().enumerate() {
            prop_assert_eq!(prod.limb(i), &negacyclic(a.limb(i), b.limb(i), m.value())[..]);
        }
    }

    #[test]
    fn automorphism_laws_in_both_forms(seed in any::<u64>(), ga in 0usize..1024, gb in 0usize..1024) {
        let n = 512;
        let ctx = ctx(n);
        let (ga, gb) = (2 * ga + 1, 2 * gb + 1);
        let x = random(&ctx, seed, 3, 1, Form::Coeff);
        let mut xn = x.clone();
        xn.to_ntt(&ctx).unwrap();
        for v in [&x, &xn] {
            // sigma_a(sigma_b(x)) = sigma_{ab mod 2n}(x)
            let ab = v.automorphism(&ctx, gb).unwrap().automorphism(&ctx, ga).unwrap();
            prop_assert_eq!(&ab, &v.automorphism(&ctx, ga * gb % (2 * n)).unwrap());
            // and sigma_{a^-1} undoes sigma_a
            let back = v.automorphism(&ctx, ga).unwrap().automorphism(&ctx, ctx.galois_inverse(ga)).unwrap();
            prop_assert_eq!(&back, v);
        }
        // Consistent across forms: NTT(sigma(x)) = sigma(NTT(x)).
        let mut via_coeff = x.automorphism(&ctx, ga).unwrap();
        via_coeff.to_ntt(&ctx).unwrap();
        prop_assert_eq!(via_coeff, xn.automorphism(&ctx, ga).unwrap());
    }

    #[test]
    fn executor_gives_identical_results(seed in any::<u64>(), g in 0usize..4096, threads in 2usize..=4) {
        let n = 2048;
        let seq = ctx(n);
        let par = ctx(n).with_executor(Arc::new(Threads(threads)));
        let g = 2 * g + 1;
        let mut a = random(&seq, seed, 3, 2, Form::Coeff);
        let mut b = a.clone();
        prop_assert_eq!(a.automorphism(&seq, g).unwrap(), b.automorphism(&par, g).unwrap());
        a.to_ntt(&seq).unwrap();
        b.to_ntt(&par).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.automorphism(&seq, g).unwrap(), b.automorphism(&par, g).unwrap());
        a.to_coeff(&seq).unwrap();
        b.to_coeff(&par).unwrap();
        prop_assert_eq!(a, b);
    }
}

#[test]
fn automorphism_matches_definition() {
    // x = 1 + 2X + 3X^(n-1): X^i -> X^(i g) with X^n = -1.
    let n = 16;
    let ctx = ctx(n);
    let mut c = vec![0i64; n];
    (c[0], c[1], c[n - 1]) = (1, 2, 3);
    let x = RnsPoly::from_signed(&ctx, &c, 3, 0).unwrap();
    let g = 5;
    let mut want = vec![0i64; n];
    for (i, &ci) in c.iter().enumerate() {
        let e = i * g % (2 * n);
        if e < n {
            want[e] += ci
        } else {
            want[e - n] -= ci
        }
    }
    assert_eq!(
        x.automorphism(&ctx, g).unwrap(),
        RnsPoly::from_signed(&ctx, &want, 3, 0).unwrap()
    );
    assert_eq!(x.automorphism(&ctx, 4), Err(RingError::EvenGaloisElement));
    assert_eq!(ctx.galois_inverse(5) * 5 % (2 * n), 1);
}

#[test]
fn ntt_round_trip_at_2_16_all_limbs() {
    let n = 1 << 16;
    let q = ntt_primes(50, n, 3, &[]).unwrap();
    let p = ntt_primes(60, n, 1, &q).unwrap();
    let ctx = RingContext::new(n, &q, &p).unwrap();
    let x = random(&ctx, 9, 3, 1, Form::Coeff);
    let mut y = x.clone();
    y.to_ntt(&ctx).unwrap();
    assert_ne!(y, x);
    y.to_coeff(&ctx).unwrap();
    assert_eq!(y, x);
}

#[test]
fn galois_elements_rotate() {
    let n = 1024;
    assert_eq!(galois_element(n, 0), 1);
    assert_eq!(galois_element(n, 3), 125);
    assert_eq!(galois_element(n, (n / 2) as isize), 1);
    for r in [-7isize, -1, 1, 100] {
        assert_eq!(galois_element(n, r) * galois_element(n, -r) % (2 * n), 1);
    }
}

#[test]
fn limbs_drop_and_resize() {
    let ctx = ctx(32);
    let x = random(&ctx, 5, 3, 2, Form::Ntt);
    let mut y = x.clone();
    y.drop_q_limbs(1).unwrap();
    assert_eq!((y.q_limbs(), y.p_limbs()), (2, 2));
    assert_eq!(y.q_part(), &x.data()[..64]);
    assert_eq!(y.p_part(), x.p_part());
    assert_eq!(
        y.moduli(&ctx),
        [ctx.q_moduli()[..2].to_vec(), ctx.p_moduli().to_vec()].concat()
    );
    assert_eq!(y.drop_q_limbs(2), Err(RingError::BadLimbCount));
    y.resize_limbs(&ctx, 3, 1).unwrap();
    assert_eq!(&y.data()[..64], &x.data()[..64]);
    assert!(y.limb(2).iter().all(|&v| v == 0));
    assert_eq!(y.limb(3), x.limb(3));
    y.drop_p_limbs();
    assert_eq!((y.num_limbs(), y.data().len()), (3, 96));
    assert_eq!(y.resize_limbs(&ctx, 4, 0), Err(RingError::BadLimbCount));
    assert_eq!(y.resize_limbs(&ctx, 1, 3), Err(RingError::BadLimbCount));
}

#[test]
fn errors_are_typed() {
    let ctx = ctx(32);
    let a = random(&ctx, 1, 3, 0, Form::Coeff);
    let mut b = a.clone();
    let c = random(&ctx, 2, 2, 0, Form::Coeff);
    let mut d = a.clone();
    d.to_ntt(&ctx).unwrap();
    assert_eq!(b.add_assign(&ctx, &c), Err(RingError::LimbMismatch));
    assert_eq!(b.sub_assign(&ctx, &d), Err(RingError::FormMismatch));
    assert_eq!(
        b.mul_assign(&ctx, &a),
        Err(RingError::WrongForm {
            expected: Form::Ntt
        })
    );
    assert_eq!(
        b.to_coeff(&ctx),
        Err(RingError::WrongForm {
            expected: Form::Ntt
        })
    );
    assert_eq!(
        d.to_ntt(&ctx),
        Err(RingError::WrongForm {
            expected: Form::Coeff
        })
    );
    assert_eq!(
        b.mul_rns_scalar_assign(&ctx, &[1, 2]),
        Err(RingError::BadData)
    );
    let other = self::ctx(64);
    assert_eq!(b.add_assign(&other, &a), Err(RingError::DegreeMismatch));
    assert_eq!(
        RnsPoly::zero(&ctx, 0, 0, Form::Coeff),
        Err(RingError::BadLimbCount)
    );
    assert_eq!(
        RnsPoly::zero(&ctx, 1, 3, Form::Coeff),
        Err(RingError::BadLimbCount)
    );
    let q0 = ctx.q_moduli()[0].value();
    let mut data = vec![0u64; 32];
    assert!(RnsPoly::from_data(&ctx, data.clone(), 1, 0, Form::Coeff).is_ok());
    data[3] = q0;
    assert_eq!(
        RnsPoly::from_data(&ctx, data, 1, 0, Form::Coeff),
        Err(RingError::BadData)
    );
    assert_eq!(
        RnsPoly::from_signed(&ctx, &[1; 31], 1, 0),
        Err(RingError::BadData)
    );
    // Context construction.
    assert_eq!(
        RingContext::new(32, &[q0, q0], &[]).unwrap_err(),
        RingError::Math(MathError::DuplicateModulus)
    );
    assert_eq!(
        RingContext::new(32, &[], &[q0]).unwrap_err(),
        RingError::Math(MathError::EmptyBasis)
    );
    assert_eq!(
        RingContext::new(32, &[97], &[]).unwrap_err(),
        RingError::Math(MathError::NoRoot)
    );
    assert_eq!(
        RingContext::new(32, &[12288], &[]).unwrap_err(),
        RingError::Math(MathError::BadModulus)
    );
}

#[test]
fn rns_scalar_and_seeded_polys() {
    let ctx = ctx(32);
    let a = random(&ctx, 3, 3, 1, Form::Ntt);
    let mut b = a.clone();
    b.mul_rns_scalar_assign(&ctx, &[2, 2, 2, 2]).unwrap();
    let mut twice = a.clone();
    twice.add_assign(&ctx, &a).unwrap();
    assert_eq!(b, twice);
    let s1 = RnsPoly::from_seed(&ctx, &[4; 32], 7, 3, 1, Form::Ntt).unwrap();
    let s2 = RnsPoly::from_seed(&ctx, &[4; 32], 7, 3, 1, Form::Ntt).unwrap();
    let s3 = RnsPoly::from_seed(&ctx, &[4; 32], 8, 3, 1, Form::Ntt).unwrap();
    assert_eq!(s1, s2);
    assert_ne!(s1, s3);
    assert!(RnsPoly::from_data(&ctx, s1.clone().into_data(), 3, 1, Form::Ntt).is_ok());
}
