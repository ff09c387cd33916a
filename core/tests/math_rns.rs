//! `BigUint` against u128, and CRT: residues -> reconstruct round trips, centred lift.
use hetal_core::math::primes::ntt_primes;
use hetal_core::math::{BigUint, MathError, RnsBasis};
use proptest::prelude::*;

fn big(x: u128) -> BigUint {
    BigUint::from_limbs(vec![x as u64, (x >> 64) as u64])
}

fn basis(k: usize, bits: u32) -> RnsBasis {
    RnsBasis::from_primes(&ntt_primes(bits, 1 << 12, k, &[]).unwrap()).unwrap()
}

/// A random integer below `q`: random limbs, the top one below `q`'s top limb.
fn below(q: &BigUint, words: &[u64]) -> BigUint {
    let top = q.limbs().len() - 1;
    let mut l: Vec<u64> = words.iter().copied().cycle().take(top + 1).collect();
    l[top] %= q.limbs()[top];
    BigUint::from_limbs(l)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn bigint_matches_u128(a in any::<u64>(), b in any::<u64>(), c in any::<u64>(), d in 1u64..) {
        let x = a as u128 * b as u128;
        let mut bx = BigUint::from_u64(a);
        bx.mul_u64(b);
        prop_assert_eq!(&bx, &big(x));
        bx.add_u64(c);
        let x = x + c as u128; // < 2^128 since a b <= (2^64 - 1)^2
        prop_assert_eq!(&bx, &big(x));
        let (quot, rem) = bx.divrem_u64(d);
        prop_assert_eq!((quot, rem), (big(x / d as u128), (x % d as u128) as u64));
        prop_assert_eq!(bx.rem_u64(d), (x % d as u128) as u64);
        prop_assert_eq!(bx.to_f64(), x as f64);
        prop_assert_eq!(bx.bits(), 128 - x.leading_zeros() as u64);
        let y = big(c as u128 * d as u128);
        prop_assert_eq!(bx.cmp(&y), x.cmp(&(c as u128 * d as u128)));
        let mut diff = bx.clone();
        if x >= c as u128 * d as u128 {
            diff.checked_sub_assign(&y).unwrap();
            prop_assert_eq!(diff, big(x - c as u128 * d as u128));
        } else {
            prop_assert!(diff.checked_sub_assign(&y).is_none());
            prop_assert_eq!(diff, bx);
        }
    }

    /// to_f64 of a many-limb value: shifting a u128 left by whole limbs multiplies the f64
    /// by an exact power of two.
    #[test]
    fn to_f64_rounds_large_values(x in any::<u128>(), shift in 0usize..15) {
        let mut limbs = vec![0u64; shift];
        limbs.extend([x as u64, (x >> 64) as u64]);
        let want = (x as f64) * 2f64.powi(64 * shift as i32);
        prop_assert_eq!(BigUint::from_limbs(limbs).to_f64(), want);
    }

    /// A non-zero limb far below the top acts as a sticky bit: x 2^(64 s) + 1 rounds like
    /// x + 1/2 (x has at least 55 bits, so no tie is possible at that granularity).
    #[test]
    fn to_f64_sticky_bits(x in (1u128 << 55)..(1u128 << 127), shift in 1usize..10) {
        let mut limbs = vec![0u64; shift];
        limbs[0] = 1;
        limbs.extend([x as u64, (x >> 64) as u64]);
        let want = ((x << 1) | 1) as f64 / 2.0 * 2f64.powi(64 * shift as i32);
        prop_assert_eq!(BigUint::from_limbs(limbs).to_f64(), want);
    }

    #[test]
    fn crt_round_trip_from_integers(k in 1usize..=40, words in prop::collection::vec(any::<u64>(), 1..8)) {
        let b = basis(k, 60);
        let x = below(b.product(), &words);
        let r = b.residues(&x);
        prop_assert!(r.iter().zip(b.moduli()).all(|(&v, m)| v < m.value()));
        prop_assert_eq!(b.reconstruct(&r), x);
    }

    #[test]
    fn crt_round_trip_from_residues(k in 1usize..=30, seeds in prop::collection::vec(any::<u64>(), 30)) {
        let b = basis(k, 50);
        let r: Vec<u64> = b.moduli().iter().zip(&seeds).map(|(m, s)| s % m.value()).collect();
        let x = b.reconstruct(&r);
        prop_assert!(&x < b.product());
        prop_assert_eq!(b.residues(&x), r);
    }

    #[test]
    fn centered_lift_of_small_values(k in 1usize..=60, v in any::<i64>()) {
        let b = basis(k, 55);
        // A value well inside (-Q/2, Q/2] for every k >= 2 (and |v| < 2^54 < q/2 for k = 1).
        let v = if k == 1 { v >> 10 } else { v };
        let r: Vec<u64> = b.moduli().iter().map(|m| m.reduce_i64(v)).collect();
        prop_assert_eq!(b.centered_f64(&r), v as f64);
    }
}

#[test]
fn centered_lift_at_the_edges() {
    // Q of about 3300 bits: the lift of Q/2-ish values is huge but finite only below 2^1024.
    let b = basis(60, 55);
    let half = b.product().divrem_u64(2).0;
    let r = b.residues(&half);
    assert_eq!(b.centered_f64(&r), f64::INFINITY);
    // A value just above 2^1000: exact power-of-two result, both signs.
    let mut x = BigUint::from_u64(1);
    for _ in 0..1000 {
        x.mul_u64(2);
    }
    let r = b.residues(&x);
    assert_eq!(b.centered_f64(&r), 2f64.powi(1000));
    let mut neg = b.product().clone();
    neg.checked_sub_assign(&x).unwrap();
    assert_eq!(b.centered_f64(&b.residues(&neg)), -(2f64.powi(1000)));
    // Small basis: Q/2 itself maps to +Q/2 (the range is (-Q/2, Q/2]).
    let small = RnsBasis::from_primes(&[12289, 65537]).unwrap();
    let q = 12289u64 * 65537;
    assert_eq!(
        small.centered_f64(&small.residues(&BigUint::from_u64(q / 2))),
        (q / 2) as f64
    );
    assert_eq!(
        small.centered_f64(&small.residues(&BigUint::from_u64(q / 2 + 1))),
        -((q / 2) as f64)
    );
}

#[test]
fn centered_poly_and_errors() {
    let b = basis(3, 40);
    let n = 8;
    let vals: Vec<i64> = (0..n as i64).map(|i| (i - 4) * 1_000_000_007).collect();
    let mut limbs = vec![0u64; 3 * n];
    hetal_core::math::sampler::signed_to_rns(&vals, b.moduli(), &mut limbs).unwrap();
    let mut out = vec![0f64; n];
    b.centered_f64_poly(&limbs, &mut out).unwrap();
    assert_eq!(out, vals.iter().map(|&v| v as f64).collect::<Vec<_>>());
    assert_eq!(
        b.centered_f64_poly(&limbs[1..], &mut out),
        Err(MathError::LengthMismatch)
    );
    assert_eq!(
        RnsBasis::from_primes(&[]).unwrap_err(),
        MathError::EmptyBasis
    );
    assert_eq!(
        RnsBasis::from_primes(&[12289, 12289]).unwrap_err(),
        MathError::DuplicateModulus
    );
    assert_eq!(b.prefix(2).unwrap().moduli(), &b.moduli()[..2]);
    assert!(b.prefix(0).is_err() && b.prefix(4).is_err());
}
