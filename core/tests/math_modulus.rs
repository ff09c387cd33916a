//! `Modulus` arithmetic against u128 definitions; primality, prime generation and roots.
use hetal_core::math::primes::{is_prime, ntt_primes, primitive_root_2n};
use hetal_core::math::{MathError, Modulus};
use proptest::prelude::*;

fn naive_pow(b: u64, mut e: u64, q: u64) -> u64 {
    let (mut r, mut b) = (1u128, b as u128 % q as u128);
    while e > 0 {
        if e & 1 == 1 {
            r = r * b % q as u128;
        }
        b = b * b % q as u128;
        e >>= 1;
    }
    r as u64
}

fn trial_division(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// Primes of several sizes, up to the largest NTT-friendly one below 2^62.
fn some_prime() -> impl Strategy<Value = u64> {
    prop::sample::select(vec![
        3u64,
        12289,
        65537,
        1125899902124033,
        (1 << 61) - 1,
        4611686018425815041,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ops_match_u128(q in some_prime(), a in any::<u64>(), b in any::<u64>(), e in any::<u64>()) {
        let m = Modulus::new(q).unwrap();
        let (a, b) = (a % q, b % q);
        prop_assert_eq!(m.add(a, b) as u128, (a as u128 + b as u128) % q as u128);
        prop_assert_eq!(m.sub(a, b) as u128, (a as u128 + q as u128 - b as u128) % q as u128);
        prop_assert_eq!(m.neg(a), (q - a) % q);
        prop_assert_eq!(m.mul(a, b) as u128, a as u128 * b as u128 % q as u128);
        prop_assert_eq!(m.pow(a, e), naive_pow(a, e, q));
        let c = m.shoup(b);
        prop_assert_eq!(m.mul_shoup(e, &c) as u128, e as u128 % q as u128 * b as u128 % q as u128);
        prop_assert_eq!(m.reduce_u128(a as u128 * e as u128) as u128, a as u128 * e as u128 % q as u128);
        let s = e as i64;
        prop_assert_eq!(m.reduce_i64(s) as i128, (s as i128).rem_euclid(q as i128));
        prop_assert_eq!(m.center(a) as i128, if a > q / 2 { a as i128 - q as i128 } else { a as i128 });
        match m.inv(a) {
            Ok(i) => prop_assert_eq!(m.mul(i, a), 1),
            Err(e) => { prop_assert_eq!(a, 0); prop_assert_eq!(e, MathError::NotInvertible); }
        }
    }

    #[test]
    fn is_prime_matches_trial_division(n in 0u64..2_000_000) {
        prop_assert_eq!(is_prime(n), trial_division(n));
    }

    #[test]
    fn is_prime_on_products(a in 2u64..(1 << 31), b in 2u64..(1 << 31)) {
        prop_assert!(!is_prime(a * b));
    }
}

#[test]
fn inverse_of_zero_is_an_error() {
    let m = Modulus::new(65537).unwrap();
    assert_eq!(m.inv(0), Err(MathError::NotInvertible));
    assert_eq!(m.inv(65537 * 3), Err(MathError::NotInvertible));
}

#[test]
fn modulus_rejects_non_primes_and_out_of_range() {
    for q in [
        0u64,
        1,
        2,
        4,
        9,
        65535,
        3215031751,
        1 << 62,
        (1 << 62) + 1,
        u64::MAX,
    ] {
        assert_eq!(Modulus::new(q), Err(MathError::BadModulus), "q = {q}");
    }
}

#[test]
fn strong_pseudoprimes_are_composite() {
    // Strong pseudoprimes to several small bases, and Carmichael numbers.
    for n in [
        2047u64,
        1373653,
        25326001,
        3215031751,
        2152302898747,
        3474749660383,
        341550071728321,
        3825123056546413051,
        561,
        41041,
    ] {
        assert!(!is_prime(n), "{n}");
    }
    for p in [
        2u64,
        3,
        5,
        37,
        41,
        (1 << 31) - 1,
        (1 << 61) - 1,
        18446744073709551557,
    ] {
        assert!(is_prime(p), "{p}");
    }
}

#[test]
fn ntt_primes_are_ntt_friendly_distinct_largest_first() {
    for (bits, log_n) in [(30u32, 10u32), (50, 16), (55, 16), (61, 17), (62, 12)] {
        let n = 1usize << log_n;
        let q = ntt_primes(bits, n, 6, &[]).unwrap();
        let p = ntt_primes(bits, n, 3, &q).unwrap();
        for (i, &x) in q.iter().chain(&p).enumerate() {
            assert!(is_prime(x) && x % (2 * n as u64) == 1, "{x}");
            assert_eq!(64 - x.leading_zeros(), bits);
            assert!(q.iter().chain(&p).skip(i + 1).all(|&y| y != x));
        }
        assert!(q.windows(2).all(|w| w[0] > w[1]));
        // Largest first: nothing NTT-friendly and prime lies above q[0] below 2^bits.
        let step = 2 * n as u64;
        let mut c = q[0] + step;
        while c < 1 << bits {
            assert!(!is_prime(c));
            c += step;
        }
        // The P chain continues strictly below the Q chain here.
        assert!(p[0] < q[5]);
    }
}

#[test]
fn ntt_primes_errors() {
    assert_eq!(ntt_primes(63, 1024, 1, &[]), Err(MathError::BadBitSize));
    assert_eq!(ntt_primes(12, 1024, 1, &[]), Err(MathError::BadBitSize));
    assert_eq!(ntt_primes(30, 1000, 1, &[]), Err(MathError::BadRingDegree));
    assert_eq!(
        ntt_primes(14, 1024, 50, &[]),
        Err(MathError::NotEnoughPrimes)
    );
}

#[test]
fn primitive_roots_are_primitive_and_smallest() {
    for (q, log_n) in [(12289u64, 10u32), (65537, 15), (786433, 17)] {
        let m = Modulus::new(q).unwrap();
        let n = 1usize << log_n;
        let psi = primitive_root_2n(&m, n).unwrap();
        assert_eq!(m.pow(psi, n as u64), q - 1);
        // Smallest: no smaller x has x^n = -1 (exactly the primitive 2n-th roots).
        assert!((1..psi).all(|x| m.pow(x, n as u64) != q - 1), "q={q}");
    }
    let q = Modulus::new(ntt_primes(60, 1 << 16, 1, &[]).unwrap()[0]).unwrap();
    let psi = primitive_root_2n(&q, 1 << 16).unwrap();
    assert_eq!(q.pow(psi, 1 << 16), q.value() - 1);
    assert_eq!(
        primitive_root_2n(&Modulus::new(12289).unwrap(), 1 << 13),
        Err(MathError::NoRoot)
    );
}
