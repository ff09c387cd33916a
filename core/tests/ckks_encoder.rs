//! The CKKS security table and the canonical-embedding encoder.
//!
//! The special FFT is checked against a naive O(N^2) evaluation of the
//! canonical embedding; the Galois automorphisms are applied to the
//! coefficients with plain integer arithmetic; residues are checked against
//! exact i128 arithmetic.

use core::f64::consts::PI;

use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::encoder::{
    EncodeError, Encoder, MAX_COEFF_BITS, coeffs_to_residues, galois_element_for_conjugation,
    galois_element_for_rotation,
};
use hetal_core::ckks::security::{
    SecretDistribution, SecurityError, SecurityLevel, check, log2_product, max_log_qp,
};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

const LEVEL: SecurityLevel = SecurityLevel::Classic128;

// ---------------------------------------------------------------- security

/// (N, uniform ternary, Gaussian): HE standard 2018 (2^10..2^15) and
/// OpenFHE stdlatticeparms.cpp (2^16, 2^17).
const KNOWN: [(usize, u32, u32); 8] = [
    (1 << 10, 27, 29),
    (1 << 11, 54, 56),
    (1 << 12, 109, 111),
    (1 << 13, 218, 220),
    (1 << 14, 438, 440),
    (1 << 15, 881, 883),
    (1 << 16, 1747, 1749),
    (1 << 17, 3523, 3525),
];

#[test]
fn security_table_known_entries() {
    for (n, ternary, gaussian) in KNOWN {
        assert_eq!(
            max_log_qp(n, SecretDistribution::UniformTernary, LEVEL),
            Some(ternary)
        );
        assert_eq!(
            max_log_qp(n, SecretDistribution::Gaussian, LEVEL),
            Some(gaussian)
        );
        let sparse = SecretDistribution::SparseTernary { h: 192 };
        assert_eq!(
            max_log_qp(n, sparse, LEVEL),
            Some(ternary),
            "sparse uses the dense table"
        );
    }
}

#[test]
fn security_table_has_no_other_ring_degrees() {
    for n in [0, 1, 512, 1000, 3 << 10, 1 << 18, 1 << 20] {
        assert_eq!(
            max_log_qp(n, SecretDistribution::UniformTernary, LEVEL),
            None,
            "N = {n}"
        );
        assert_eq!(
            check(n, SecretDistribution::UniformTernary, LEVEL, 10.0),
            Err(SecurityError::UnsupportedRingDegree { n })
        );
    }
}

#[test]
fn security_check_accepts_the_bound_and_rejects_just_above() {
    for (n, ternary, gaussian) in KNOWN {
        for (dist, bound) in [
            (SecretDistribution::UniformTernary, ternary),
            (SecretDistribution::Gaussian, gaussian),
            (SecretDistribution::SparseTernary { h: 64 }, ternary),
        ] {
            let b = f64::from(bound);
            assert_eq!(check(n, dist, LEVEL, b), Ok(()));
            assert_eq!(check(n, dist, LEVEL, b - 30.0), Ok(()));
            let above = b + 0.001;
            assert_eq!(
                check(n, dist, LEVEL, above),
                Err(SecurityError::ModulusTooLarge {
                    n,
                    log_qp: above,
                    max_log_qp: bound
                })
            );
        }
    }
    let nan = check(1 << 16, SecretDistribution::Gaussian, LEVEL, f64::NAN);
    assert!(matches!(nan, Err(SecurityError::ModulusTooLarge { .. })));
}

#[test]
fn security_check_with_real_prime_chains() {
    // 29 primes of ~60 bits: 1740 bits, under 1747 at N = 2^16.
    let primes = [(1u64 << 60) - 93; 29];
    let log_qp = log2_product(&primes);
    assert!((log_qp - 1740.0).abs() < 1e-6, "{log_qp}");
    assert_eq!(
        check(1 << 16, SecretDistribution::UniformTernary, LEVEL, log_qp),
        Ok(())
    );
    // One more 60-bit prime goes over.
    let log_qp = log2_product(&[(1u64 << 60) - 93; 30]);
    let err = check(1 << 16, SecretDistribution::UniformTernary, LEVEL, log_qp).unwrap_err();
    let msg = format!("{err}");
    assert!(
        msg.contains("1747") && msg.contains("65536") && msg.contains("1800.00"),
        "{msg}"
    );
}

// ------------------------------------------------------------- helpers

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Uniform in [0, 1).
fn unit(r: &mut ChaCha8Rng) -> f64 {
    (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Uniform in the closed unit disk.
fn in_unit_disk(r: &mut ChaCha8Rng) -> Complex {
    let radius = unit(r).sqrt();
    let angle = 2.0 * PI * unit(r);
    Complex::new(radius * angle.cos(), radius * angle.sin())
}

fn random_values(r: &mut ChaCha8Rng, count: usize) -> Vec<Complex> {
    (0..count).map(|_| in_unit_disk(r)).collect()
}

/// `5^j mod 2N` by repeated multiplication (independent of the library).
fn power_of_5(j: usize, n: usize) -> usize {
    (0..j).fold(1, |g, _| g * 5 % (2 * n))
}

/// Naive canonical embedding: `m(zeta^(5^j mod 2N))` for all N/2 slots,
/// `zeta = exp(i*pi/N)`, in O(N^2).
fn naive_slots(coeffs: &[f64]) -> Vec<Complex> {
    let n = coeffs.len();
    (0..n / 2)
        .map(|j| {
            let g = power_of_5(j, n);
            let mut acc = Complex::ZERO;
            for (k, &a) in coeffs.iter().enumerate() {
                let e = g * k % (2 * n);
                acc += Complex::cis(PI * e as f64 / n as f64).scale(a);
            }
            acc
        })
        .collect()
}

fn max_dist(a: &[Complex], b: &[Complex]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x - *y).abs())
        .fold(0.0, f64::max)
}

/// Real coefficients of a random element of the subring `R[X^gap]`,
/// `gap = N/(2*slots)`.
fn random_subring_coeffs(r: &mut ChaCha8Rng, n: usize, slots: usize) -> Vec<f64> {
    let gap = n / (2 * slots);
    (0..n)
        .map(|k| {
            if k % gap == 0 {
                2.0 * unit(r) - 1.0
            } else {
                0.0
            }
        })
        .collect()
}

/// Applies `X -> X^g` (g odd) to integer coefficients in `Z[X]/(X^N+1)`.
fn automorphism(coeffs: &[f64], g: usize) -> Vec<f64> {
    let n = coeffs.len();
    let mut out = vec![0i128; n];
    for (k, &a) in coeffs.iter().enumerate() {
        assert_eq!(a.fract(), 0.0);
        let a = a as i128;
        let e = g * k % (2 * n);
        if e < n {
            out[e] += a;
        } else {
            out[e - n] -= a;
        }
    }
    out.iter().map(|&c| c as f64).collect()
}

fn slot_counts(n: usize) -> impl Iterator<Item = usize> {
    (0..).map(|e| 1usize << e).take_while(move |&s| s <= n / 2)
}

// ------------------------------------------------- special FFT vs naive

#[test]
fn special_fft_matches_naive_embedding() {
    let mut r = rng(1);
    for n in [4, 16, 64] {
        let enc = Encoder::new(n).unwrap();
        for slots in slot_counts(n) {
            let coeffs = random_subring_coeffs(&mut r, n, slots);
            let naive = naive_slots(&coeffs);
            let gap = n / (2 * slots);
            let mut buf: Vec<Complex> = (0..slots)
                .map(|k| Complex::new(coeffs[k * gap], coeffs[(k + slots) * gap]))
                .collect();
            enc.special_fft(&mut buf).unwrap();
            assert!(
                max_dist(&buf, &naive[..slots]) < 1e-12,
                "N={n} slots={slots}"
            );
            // The full N/2 slots of a sparse plaintext repeat the `slots` values.
            for (j, z) in naive.iter().enumerate() {
                assert!(
                    (*z - buf[j % slots]).abs() < 1e-12,
                    "replica N={n} slots={slots} j={j}"
                );
            }
            // decode_coeffs reads the same coefficients.
            let decoded = enc.decode_coeffs(&coeffs, slots, 1.0).unwrap();
            assert!(max_dist(&decoded, &buf) < 1e-15);
        }
    }
}

#[test]
fn special_ifft_matches_naive_embedding() {
    let mut r = rng(2);
    for n in [16, 64] {
        let enc = Encoder::new(n).unwrap();
        for slots in slot_counts(n) {
            let values = random_values(&mut r, slots);
            let mut w = values.clone();
            enc.special_ifft(&mut w).unwrap();
            let gap = n / (2 * slots);
            let mut coeffs = vec![0.0; n];
            for (k, wk) in w.iter().enumerate() {
                coeffs[k * gap] = wk.re;
                coeffs[(k + slots) * gap] = wk.im;
            }
            let naive = naive_slots(&coeffs);
            for (j, z) in naive.iter().enumerate() {
                assert!(
                    (*z - values[j % slots]).abs() < 1e-12,
                    "N={n} slots={slots} j={j}"
                );
            }
        }
    }
}

#[test]
fn encoded_coefficients_evaluate_to_the_values() {
    let mut r = rng(3);
    let scale = 2f64.powi(40);
    for n in [16, 64] {
        let enc = Encoder::new(n).unwrap();
        for slots in slot_counts(n) {
            let values = random_values(&mut r, slots);
            let coeffs = enc.encode_coeffs(&values, slots, scale).unwrap();
            let gap = n / (2 * slots);
            for (k, c) in coeffs.iter().enumerate() {
                assert_eq!(c.fract(), 0.0, "integer coefficients");
                assert!(
                    k % gap == 0 || *c == 0.0,
                    "outside the subring: N={n} slots={slots} k={k}"
                );
            }
            let scaled: Vec<f64> = coeffs.iter().map(|c| c / scale).collect();
            let naive = naive_slots(&scaled);
            for (j, z) in naive.iter().enumerate() {
                // Rounding error: at most N/2 / scale.
                assert!(
                    (*z - values[j % slots]).abs() < n as f64 / scale,
                    "N={n} slots={slots} j={j}"
                );
            }
        }
    }
}

// ------------------------------------------------------------ round trip

#[test]
fn round_trip_n65536_full_and_sparse() {
    let n = 1 << 16;
    let enc = Encoder::new(n).unwrap();
    let scale = 2f64.powi(40);
    let bound = 2f64.powi(-30);
    let mut r = rng(4);
    for slots in [1 << 15, 1 << 14, 1 << 10, 1 << 3, 1] {
        let values = random_values(&mut r, slots);
        let coeffs = enc.encode_coeffs(&values, slots, scale).unwrap();
        let back = enc.decode_coeffs(&coeffs, slots, scale).unwrap();
        let err = max_dist(&back, &values);
        assert!(err < bound, "slots={slots}: max error 2^{:.2}", err.log2());
    }
}

#[test]
fn round_trip_pads_missing_values_with_zeros() {
    let enc = Encoder::new(1 << 12).unwrap();
    let scale = 2f64.powi(40);
    let values = random_values(&mut rng(5), 100);
    let coeffs = enc.encode_coeffs(&values, 128, scale).unwrap();
    let back = enc.decode_coeffs(&coeffs, 128, scale).unwrap();
    assert!(max_dist(&back[..100], &values) < 2f64.powi(-30));
    assert!(back[100..].iter().all(|z| z.abs() < 2f64.powi(-30)));
}

#[test]
fn real_conveniences_round_trip() {
    let enc = Encoder::new(1 << 10).unwrap();
    let scale = 2f64.powi(40);
    let mut r = rng(6);
    let values: Vec<f64> = (0..512).map(|_| 2.0 * unit(&mut r) - 1.0).collect();
    let coeffs = enc.encode_real(&values, 512, scale).unwrap();
    let complex = enc.decode_coeffs(&coeffs, 512, scale).unwrap();
    assert!(complex.iter().all(|z| z.im.abs() < 2f64.powi(-30)));
    let back = enc.decode_real(&coeffs, 512, scale).unwrap();
    let err = back
        .iter()
        .zip(&values)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 2f64.powi(-30), "{err}");
}

// --------------------------------------------------------- automorphisms

#[test]
fn x_to_the_5_rotates_slots_left_by_one() {
    let mut r = rng(7);
    let scale = 2f64.powi(40);
    for n in [16, 64, 1 << 12] {
        let enc = Encoder::new(n).unwrap();
        for slots in slot_counts(n) {
            let values = random_values(&mut r, slots);
            let coeffs = enc.encode_coeffs(&values, slots, scale).unwrap();
            let rotated = automorphism(&coeffs, 5);
            let back = enc.decode_coeffs(&rotated, slots, scale).unwrap();
            let expected: Vec<Complex> = (0..slots).map(|j| values[(j + 1) % slots]).collect();
            assert!(max_dist(&back, &expected) < 1e-9, "N={n} slots={slots}");
        }
    }
}

#[test]
fn galois_element_for_rotation_rotates_by_k() {
    let mut r = rng(8);
    let n = 256;
    let slots = n / 2;
    let scale = 2f64.powi(40);
    let enc = Encoder::new(n).unwrap();
    let values = random_values(&mut r, slots);
    let coeffs = enc.encode_coeffs(&values, slots, scale).unwrap();
    for k in [0isize, 1, 2, 3, 17, 127, -1, -5, -128, 300] {
        let g = galois_element_for_rotation(n, k);
        assert_eq!(
            g,
            power_of_5(k.rem_euclid(slots as isize) as usize, n),
            "k={k}"
        );
        let back = enc
            .decode_coeffs(&automorphism(&coeffs, g), slots, scale)
            .unwrap();
        let expected: Vec<Complex> = (0..slots)
            .map(|j| values[(j as isize + k).rem_euclid(slots as isize) as usize])
            .collect();
        assert!(max_dist(&back, &expected) < 1e-9, "k={k}");
    }
}

#[test]
fn x_to_the_2n_minus_1_conjugates() {
    let mut r = rng(9);
    let scale = 2f64.powi(40);
    for n in [16, 64, 1 << 12] {
        let enc = Encoder::new(n).unwrap();
        let g = galois_element_for_conjugation(n);
        assert_eq!(g, 2 * n - 1);
        for slots in slot_counts(n) {
            let values = random_values(&mut r, slots);
            let coeffs = enc.encode_coeffs(&values, slots, scale).unwrap();
            let back = enc
                .decode_coeffs(&automorphism(&coeffs, g), slots, scale)
                .unwrap();
            let expected: Vec<Complex> = values.iter().map(|z| z.conj()).collect();
            assert!(max_dist(&back, &expected) < 1e-9, "N={n} slots={slots}");
        }
    }
}

// -------------------------------------------------------------- residues

/// Random integers up to 2^100 in magnitude, exactly representable as f64.
fn random_big_coeffs(r: &mut ChaCha8Rng, count: usize) -> Vec<f64> {
    let mut out = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        2f64.powi(63),
        -(2f64.powi(63)),
        2f64.powi(100),
    ];
    out.push(-(2f64.powi(100) - 2f64.powi(48)));
    out.push(9_223_372_036_854_774_784.0); // largest f64 below 2^63
    while out.len() < count {
        let bits = r.next_u32() % 101;
        let raw =
            ((u128::from(r.next_u64()) << 64) | u128::from(r.next_u64())) >> (128 - bits.max(1));
        let v = if bits == 0 { 0.0 } else { raw as f64 }; // rounds to nearest f64
        out.push(if r.next_u32() & 1 == 1 { -v } else { v });
    }
    out
}

#[test]
fn residues_match_exact_integer_arithmetic() {
    let mut r = rng(10);
    let coeffs = random_big_coeffs(&mut r, 5000);
    // Moduli need not be prime here: residues are plain remainders.
    let primes = [
        (1u64 << 62) - 57,
        (1u64 << 61) - 1,
        0x3fff_ffff_0000_0001,
        (1u64 << 50) - 27,
        1_152_921_504_606_584_833,
        65_537,
        97,
        2,
        (1u64 << 63) - 25,
    ];
    let n = coeffs.len();
    let mut out = vec![u64::MAX; n * primes.len()];
    coeffs_to_residues(&coeffs, &primes, &mut out).unwrap();
    for (i, &q) in primes.iter().enumerate() {
        for (k, &c) in coeffs.iter().enumerate() {
            let exact = c as i128; // exact: |c| <= 2^100, integer-valued
            assert_eq!(exact as f64, c);
            let expected = exact.rem_euclid(i128::from(q)) as u64;
            assert_eq!(out[i * n + k], expected, "q={q} c={c:e}");
        }
    }
}

#[test]
fn residues_small_coefficients_only() {
    // The fast path alone (no coefficient reaches 2^63).
    let coeffs: Vec<f64> = (-500..500).map(|k| (k * 7_919_000_003i64) as f64).collect();
    let primes = [(1u64 << 40) - 87, 1_099_511_627_689];
    let mut out = vec![0u64; coeffs.len() * 2];
    coeffs_to_residues(&coeffs, &primes, &mut out).unwrap();
    for (i, &q) in primes.iter().enumerate() {
        for (k, &c) in coeffs.iter().enumerate() {
            assert_eq!(
                out[i * coeffs.len() + k],
                (c as i128).rem_euclid(i128::from(q)) as u64
            );
        }
    }
}

#[test]
fn residues_reject_bad_input() {
    let mut out = vec![0u64; 4];
    assert_eq!(
        coeffs_to_residues(&[1.0, 2.5], &[97, 101], &mut out),
        Err(EncodeError::NonIntegerCoefficient { index: 1 })
    );
    assert_eq!(
        coeffs_to_residues(&[f64::NAN, 2.0], &[97, 101], &mut out),
        Err(EncodeError::NonIntegerCoefficient { index: 0 })
    );
    assert_eq!(
        coeffs_to_residues(&[1.0, f64::INFINITY], &[97, 101], &mut out),
        Err(EncodeError::NonIntegerCoefficient { index: 1 })
    );
    for q in [0, 1, 1 << 63, u64::MAX] {
        assert_eq!(
            coeffs_to_residues(&[1.0, 2.0], &[97, q], &mut out),
            Err(EncodeError::InvalidModulus { index: 1, q })
        );
    }
    assert_eq!(
        coeffs_to_residues(&[1.0, 2.0], &[97], &mut out),
        Err(EncodeError::WrongLength {
            expected: 2,
            found: 4
        })
    );
}

// ----------------------------------------------------------------- errors

#[test]
fn encoder_rejects_bad_arguments() {
    for n in [0, 1, 3, 24, 1 << 18] {
        assert_eq!(
            Encoder::new(n).unwrap_err(),
            EncodeError::InvalidRingDegree { n }
        );
    }
    let enc = Encoder::new(64).unwrap();
    let one = [Complex::ONE];
    for slots in [0, 3, 12, 64] {
        assert_eq!(
            enc.encode_coeffs(&one, slots, 1.0),
            Err(EncodeError::InvalidSlotCount {
                slots,
                max_slots: 32
            })
        );
        assert_eq!(
            enc.decode_coeffs(&[0.0; 64], slots, 1.0),
            Err(EncodeError::InvalidSlotCount {
                slots,
                max_slots: 32
            })
        );
    }
    assert_eq!(
        enc.encode_coeffs(&[Complex::ONE; 5], 4, 1.0),
        Err(EncodeError::TooManyValues {
            values: 5,
            slots: 4
        })
    );
    for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            enc.encode_coeffs(&one, 4, scale),
            Err(EncodeError::InvalidScale { .. })
        ));
        assert!(matches!(
            enc.decode_coeffs(&[0.0; 64], 4, scale),
            Err(EncodeError::InvalidScale { .. })
        ));
    }
    assert_eq!(
        enc.encode_coeffs(&[Complex::ONE, Complex::new(0.0, f64::NAN)], 4, 1.0),
        Err(EncodeError::NonFiniteValue { index: 1 })
    );
    assert_eq!(
        enc.decode_coeffs(&[0.0; 63], 4, 1.0),
        Err(EncodeError::WrongLength {
            expected: 64,
            found: 63
        })
    );
    let mut short = [0.0; 32];
    assert_eq!(
        enc.encode_coeffs_into(&one, 4, 1.0, &mut short),
        Err(EncodeError::WrongLength {
            expected: 64,
            found: 32
        })
    );
    let mut buf = [Complex::ZERO; 3];
    assert!(enc.special_fft(&mut buf).is_err());
    assert!(enc.special_ifft(&mut buf).is_err());
}

#[test]
fn coefficient_bound_is_enforced() {
    let enc = Encoder::new(64).unwrap();
    // One slot holding 1: the constant polynomial `scale`.
    let just_below = 2f64.powi(MAX_COEFF_BITS as i32) - 2f64.powi(MAX_COEFF_BITS as i32 - 53);
    let ok = enc.encode_coeffs(&[Complex::ONE], 1, just_below).unwrap();
    assert_eq!(ok[0], just_below);
    assert_eq!(
        enc.encode_coeffs(&[Complex::ONE], 1, 2f64.powi(MAX_COEFF_BITS as i32)),
        Err(EncodeError::CoefficientTooLarge {
            index: 0,
            bound_bits: MAX_COEFF_BITS
        })
    );
    // An infinite scale is caught before encoding.
    assert_eq!(
        enc.encode_coeffs(&[Complex::I], 1, 2f64.powi(1000) * 2f64.powi(1000)),
        Err(EncodeError::InvalidScale {
            scale: f64::INFINITY
        })
    );
    // -i in one slot is the monomial -scale * X^(N/2): index 32 overflows.
    let err = enc
        .encode_coeffs(&[Complex::new(0.0, -1.0)], 1, 2f64.powi(130))
        .unwrap_err();
    assert_eq!(
        err,
        EncodeError::CoefficientTooLarge {
            index: 32,
            bound_bits: MAX_COEFF_BITS
        }
    );
}
