//! Samplers and seed expansion: supports, exact weights, and moments / frequencies within
//! six standard errors of their exact values (the RNG is seeded, so runs are repeatable).
use hetal_core::math::sampler::{
    DiscreteGaussian, fill_uniform, fill_uniform_rns, signed_to_rns, ternary_hamming,
    ternary_uniform, uniform_below,
};
use hetal_core::math::seed::expand_uniform;
use hetal_core::math::{MathError, Modulus};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn rng(s: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(s)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn hamming_weight_is_exact(log_n in 0u32..=12, frac in 0.0f64..=1.0, s in any::<u64>()) {
        let n = 1usize << log_n;
        let h = (n as f64 * frac) as usize;
        let v = ternary_hamming(&mut rng(s), n, h).unwrap();
        prop_assert_eq!(v.len(), n);
        prop_assert_eq!(v.iter().filter(|&&c| c != 0).count(), h);
        prop_assert!(v.iter().all(|&c| (-1..=1).contains(&c)));
    }

    #[test]
    fn uniform_below_is_in_range(bound in 1u64.., s in any::<u64>()) {
        let mut r = rng(s);
        for _ in 0..64 {
            prop_assert!(uniform_below(&mut r, bound) < bound);
        }
    }

    #[test]
    fn seed_expansion_follows_the_documented_stream(seed in any::<[u8; 32]>(), stream in any::<u64>(), n in 1usize..300) {
        let moduli: Vec<Modulus> = [65537u64, 12289, 1125899902124033, 4611686018425815041]
            .iter().map(|&q| Modulus::new(q).unwrap()).collect();
        let mut got = vec![0u64; moduli.len() * n];
        expand_uniform(&seed, stream, &moduli, &mut got).unwrap();
        // The stream order of the docs, written out independently.
        let mut r = ChaCha20Rng::from_seed(seed);
        r.set_stream(stream);
        let mut want = Vec::new();
        for m in &moduli {
            let mask = (1u64 << m.bits()) - 1;
            for _ in 0..n {
                want.push(loop {
                    let v = r.next_u64() & mask;
                    if v < m.value() { break v; }
                });
            }
        }
        prop_assert_eq!(&got, &want);
        // Deterministic, and a prefix of the basis gives the same limbs.
        let mut again = vec![0u64; 2 * n];
        expand_uniform(&seed, stream, &moduli[..2], &mut again).unwrap();
        prop_assert_eq!(&again[..], &got[..2 * n]);
    }
}

#[test]
fn seed_expansion_is_seed_and_stream_sensitive() {
    let moduli = [Modulus::new(1125899902124033).unwrap()];
    let base = [9u8; 32];
    let mut a = vec![0u64; 64];
    expand_uniform(&base, 0, &moduli, &mut a).unwrap();
    for byte in 0..32 {
        let mut seed = base;
        seed[byte] ^= 1;
        let mut b = vec![0u64; 64];
        expand_uniform(&seed, 0, &moduli, &mut b).unwrap();
        // 64 values of 50 bits: an accidental match of more than a couple is impossible.
        assert!(
            a.iter().zip(&b).filter(|(x, y)| x == y).count() <= 2,
            "byte {byte}"
        );
    }
    let mut c = vec![0u64; 64];
    expand_uniform(&base, 1, &moduli, &mut c).unwrap();
    assert!(a.iter().zip(&c).filter(|(x, y)| x == y).count() <= 2);
    assert_eq!(
        expand_uniform(&base, 0, &[], &mut c),
        Err(MathError::LengthMismatch)
    );
}

/// `|observed - expected| <= 6 standard errors` for a count of `n` Bernoulli(p) trials.
fn count_close(count: usize, n: usize, p: f64) -> bool {
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    (count as f64 - n as f64 * p).abs() <= 6.0 * sd + 1.0
}

#[test]
fn hamming_support_and_signs_are_balanced() {
    let (n, h, trials) = (64usize, 16usize, 4000usize);
    let mut r = rng(1);
    let mut hits = [0usize; 64];
    let mut plus = 0usize;
    for _ in 0..trials {
        for (i, &c) in ternary_hamming(&mut r, n, h).unwrap().iter().enumerate() {
            hits[i] += (c != 0) as usize;
            plus += (c == 1) as usize;
        }
    }
    for &c in &hits {
        assert!(count_close(c, trials, h as f64 / n as f64), "{c}");
    }
    assert!(count_close(plus, trials * h, 0.5), "{plus}");
    assert_eq!(
        ternary_hamming(&mut r, 4, 5),
        Err(MathError::BadHammingWeight)
    );
}

#[test]
fn uniform_ternary_frequencies() {
    let n = 60_000;
    let v = ternary_uniform(&mut rng(2), n);
    assert_eq!(v.len(), n);
    for t in -1..=1 {
        assert!(count_close(
            v.iter().filter(|&&c| c == t).count(),
            n,
            1.0 / 3.0
        ));
    }
}

#[test]
fn uniform_mod_q_mean_and_small_moduli() {
    let mut r = rng(3);
    for q in [65537u64, 1125899902124033, 4611686018425815041] {
        let m = Modulus::new(q).unwrap();
        let n = 20_000;
        let mut v = vec![0u64; n];
        fill_uniform(&mut r, &m, &mut v);
        assert!(v.iter().all(|&x| x < q));
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        let se = q as f64 / (12.0 * n as f64).sqrt();
        assert!((mean - (q - 1) as f64 / 2.0).abs() < 6.0 * se, "q={q}");
    }
    // q = 5: every residue equally likely (mask 7 rejects 5, 6, 7).
    let m = Modulus::new(5).unwrap();
    let mut v = vec![0u64; 50_000];
    fill_uniform(&mut r, &m, &mut v);
    for t in 0..5 {
        assert!(count_close(
            v.iter().filter(|&&x| x == t).count(),
            v.len(),
            0.2
        ));
    }
    let mut limbs = vec![0u64; 10];
    assert_eq!(
        fill_uniform_rns(&mut r, &[m, m, m], &mut limbs),
        Err(MathError::LengthMismatch)
    );
    assert_eq!(uniform_below(&mut r, 1), 0);
}

#[test]
fn gaussian_matches_its_distribution() {
    let g = DiscreteGaussian::standard();
    assert_eq!(g.bound(), 19);
    let sigma = g.sigma();
    let w = |x: i64| (-(x * x) as f64 / (2.0 * sigma * sigma)).exp();
    let total: f64 = (-19..=19).map(w).sum();
    let var: f64 = (-19..=19).map(|x| (x * x) as f64 * w(x)).sum::<f64>() / total;
    let n = 200_000;
    let v = g.sample_vec(&mut rng(4), n);
    assert!(v.iter().all(|&x| x.abs() <= 19));
    let mean = v.iter().sum::<i64>() as f64 / n as f64;
    assert!(mean.abs() < 6.0 * (var / n as f64).sqrt(), "mean {mean}");
    let m2 = v.iter().map(|&x| (x * x) as f64).sum::<f64>() / n as f64;
    // Var(x^2) = E x^4 - var^2 = 2 var^2 for a Gaussian (up to discretisation).
    assert!(
        (m2 - var).abs() < 6.0 * (2.0 * var * var / n as f64).sqrt(),
        "var {m2} vs {var}"
    );
    for x in -8..=8 {
        let c = v.iter().filter(|&&y| y == x).count();
        assert!(count_close(c, n, w(x) / total), "x={x}: {c}");
    }
    // A wider Gaussian with a tighter cut: still within its bound, still symmetric.
    let g = DiscreteGaussian::new(40.0, 2.0).unwrap();
    let v = g.sample_vec(&mut rng(5), 20_000);
    assert!(v.iter().all(|&x| x.abs() <= 80) && v.iter().any(|&x| x.abs() > 60));
    assert!(DiscreteGaussian::new(0.0, 6.0).is_err() && DiscreteGaussian::new(3.2, 0.1).is_err());
}

#[test]
fn signed_coefficients_map_to_residues() {
    let ms = [Modulus::new(12289).unwrap(), Modulus::new(65537).unwrap()];
    let c = [-3i64, 0, 5, -12289, i64::MIN];
    let mut out = vec![0u64; 10];
    signed_to_rns(&c, &ms, &mut out).unwrap();
    for (i, m) in ms.iter().enumerate() {
        for (j, &x) in c.iter().enumerate() {
            assert_eq!(
                out[i * 5 + j] as i128,
                (x as i128).rem_euclid(m.value() as i128)
            );
        }
    }
    assert_eq!(
        signed_to_rns(&c, &ms, &mut out[1..]),
        Err(MathError::LengthMismatch)
    );
}
