//! `SlotSim` against direct f64 arithmetic, and the level, scale, key, count and
//! bootstrap rules of the `SlotOps` trait.

use hetal_core::slots::{
    Complex, Leveled, OpCounts, SimParams, SimValue, SlotCrypt, SlotError, SlotOps, SlotSim,
};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

const SLOTS: usize = 16;
const TOP: usize = 6;
const BOOT_LEVEL: usize = 4;

/// 16 slots, q_0 of 60 bits, q_1..q_6 and the scale of 40 bits, bootstrap to level 4.
fn params() -> SimParams {
    SimParams::synthetic(SLOTS, 60, 40, TOP)
        .unwrap()
        .with_bootstrap(BOOT_LEVEL, 10.0)
}

fn sim() -> SlotSim {
    SlotSim::new(params()).unwrap()
}

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

fn random_complex(seed: u64) -> Vec<Complex> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..SLOTS)
        .map(|_| Complex::new(uniform(&mut rng), uniform(&mut rng)))
        .collect()
}

fn random_real(seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..SLOTS).map(|_| uniform(&mut rng)).collect()
}

fn assert_close(got: &[Complex], want: &[Complex], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((*g - *w).abs() <= tol, "slot {i}: got {g:?}, want {w:?}");
    }
}

/// Slot `i` of `rotate(a, k)` is `a[(i + k) mod n]`.
fn rotate_direct(a: &[Complex], k: isize) -> Vec<Complex> {
    let n = a.len() as isize;
    (0..n).map(|i| a[(i + k).rem_euclid(n) as usize]).collect()
}

fn enc(s: &SlotSim, v: &[Complex]) -> SimValue {
    s.encrypt_values(v, TOP, s.default_scale()).unwrap()
}

fn zip(a: &[Complex], b: &[Complex], f: impl Fn(Complex, Complex) -> Complex) -> Vec<Complex> {
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

#[test]
fn every_op_matches_f64_arithmetic() {
    let s = sim();
    let (x, y) = (random_complex(1), random_complex(2));
    let (a, b) = (enc(&s, &x), enc(&s, &y));
    let pt = s.encode(&y, TOP, s.default_scale()).unwrap();
    let tol = 1e-12;
    let dec = |v: &SimValue| s.decrypt(v).unwrap();

    assert_close(
        &dec(&s.add(&a, &b).unwrap()),
        &zip(&x, &y, |p, q| p + q),
        tol,
    );
    assert_close(
        &dec(&s.sub(&a, &b).unwrap()),
        &zip(&x, &y, |p, q| p - q),
        tol,
    );
    assert_close(&dec(&s.neg(&a).unwrap()), &zip(&x, &x, |p, _| -p), tol);
    assert_close(
        &dec(&s.add_plain(&a, &pt).unwrap()),
        &zip(&x, &y, |p, q| p + q),
        tol,
    );
    assert_close(
        &dec(&s.sub_plain(&a, &pt).unwrap()),
        &zip(&x, &y, |p, q| p - q),
        tol,
    );
    let c = Complex::new(0.25, -1.5);
    assert_close(
        &dec(&s.add_const(&a, c).unwrap()),
        &zip(&x, &x, |p, _| p + c),
        tol,
    );

    let prod = zip(&x, &y, |p, q| p * q);
    assert_close(&dec(&s.mul(&a, &b).unwrap()), &prod, tol);
    assert_close(&dec(&s.mul_rescale(&a, &b).unwrap()), &prod, tol);
    assert_close(&dec(&s.mul_plain(&a, &pt).unwrap()), &prod, tol);
    for k in [
        Complex::new(3.0, 0.0),
        Complex::new(-2.0, 5.0),
        Complex::I,
        -Complex::I,
        Complex::new(0.3, 0.0),
        Complex::new(-1.25, 0.5),
    ] {
        let got = dec(&s.mul_const_rescale(&a, k).unwrap());
        assert_close(&got, &zip(&x, &x, |p, _| p * k), tol);
    }

    for k in [1, 3, -1, -5, 15, 16, 17, -33] {
        assert_close(&dec(&s.rotate(&a, k).unwrap()), &rotate_direct(&x, k), 0.0);
    }
    let conj: Vec<Complex> = x.iter().map(|z| z.conj()).collect();
    assert_close(&dec(&s.conjugate(&a).unwrap()), &conj, 0.0);

    // Rescale and level drops leave the values alone.
    let m = s.mul(&a, &b).unwrap();
    assert_close(&dec(&s.rescale(&m).unwrap()), &prod, tol);
    assert_close(&dec(&s.drop_to_level(&a, 2).unwrap()), &x, 0.0);
    // Real helpers.
    let r = random_real(3);
    let v = s.encrypt_real(&r, TOP, s.default_scale()).unwrap();
    assert_eq!(s.decrypt_real(&v).unwrap(), r);
}

#[test]
fn short_inputs_are_zero_padded_and_long_ones_rejected() {
    let s = sim();
    let v = s.encrypt_real(&[1.0, 2.0], TOP, s.default_scale()).unwrap();
    let got = s.decrypt_real(&v).unwrap();
    assert_eq!(got.len(), SLOTS);
    assert_eq!(&got[..3], &[1.0, 2.0, 0.0]);
    assert_eq!(
        s.encode_real(&[0.0; SLOTS + 1], TOP, s.default_scale()),
        Err(SlotError::TooManyValues {
            len: SLOTS + 1,
            slots: SLOTS
        })
    );
    assert_eq!(
        s.encode_real(&[f64::NAN], TOP, s.default_scale()),
        Err(SlotError::NonFinite)
    );
    assert_eq!(
        s.encode_real(&[1.0], TOP + 1, s.default_scale())
            .map(|_| ()),
        Err(SlotError::LevelTooHigh {
            current: TOP,
            requested: TOP + 1
        })
    );
}

#[test]
fn scale_after_mul_and_rescale_is_exact() {
    let s = sim();
    let delta = s.default_scale();
    let a = enc(&s, &random_complex(4));
    let q = |l: usize| s.modulus(l) as f64;

    let m = s.mul(&a, &a).unwrap();
    assert_eq!((m.level(), m.scale()), (TOP, delta * delta));
    let r = s.rescale(&m).unwrap();
    assert_eq!(r.level(), TOP - 1);
    assert_eq!(r.scale(), (delta * delta) / q(TOP));
    // The next level divides by the next modulus.
    let r2 = s.mul_rescale(&r, &r).unwrap();
    assert_eq!(r2.scale(), (r.scale() * r.scale()) / q(TOP - 1));
    assert_eq!(r2.level(), TOP - 2);

    // A non-integer constant is encoded at q_level: the scale comes back exactly.
    let c = s.mul_const(&a, Complex::from_real(0.7)).unwrap();
    assert_eq!((c.level(), c.scale()), (TOP, delta * q(TOP)));
    let c = s.rescale(&c).unwrap();
    assert_eq!((c.level(), c.scale()), (TOP - 1, (delta * q(TOP)) / q(TOP)));
    assert!((c.scale() / delta - 1.0).abs() < 1e-15);

    // A free constant keeps scale and level.
    let f = s.mul_const(&a, Complex::new(-7.0, 2.0)).unwrap();
    assert_eq!((f.level(), f.scale()), (TOP, delta));

    // Plaintext products multiply scales; mul_values_rescale keeps a's scale.
    let pt = s.encode_real(&[0.5; SLOTS], TOP, 1024.0).unwrap();
    assert_eq!(s.mul_plain(&a, &pt).unwrap().scale(), delta * 1024.0);
    let mv = s
        .mul_values_rescale(&a, &[Complex::from_real(0.5)])
        .unwrap();
    assert_eq!(
        (mv.level(), mv.scale()),
        (TOP - 1, (delta * q(TOP)) / q(TOP))
    );
}

#[test]
fn operands_are_aligned_by_dropping_the_higher_level() {
    let s = sim();
    let (x, y) = (random_complex(5), random_complex(6));
    let a = enc(&s, &x);
    let b = s.encrypt_values(&y, 2, s.default_scale()).unwrap();
    s.reset_counts();
    let sum = s.add(&a, &b).unwrap();
    assert_eq!((sum.level(), sum.scale()), (2, s.default_scale()));
    assert_close(&s.decrypt(&sum).unwrap(), &zip(&x, &y, |p, q| p + q), 1e-12);
    let prod = s.mul(&b, &a).unwrap();
    assert_eq!(prod.level(), 2);
    assert_eq!(s.counts().level_drop, 2);

    // Different scales after alignment: a typed error naming both.
    let m = s.mul(&a, &a).unwrap();
    let fresh = s.encrypt_values(&y, 3, s.default_scale()).unwrap();
    let err = s.add(&m, &fresh).unwrap_err();
    assert_eq!(
        err,
        SlotError::ScaleMismatch {
            left: (TOP, m.scale()),
            right: (3, s.default_scale())
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("level 6 scale 2^80") && msg.contains("level 3 scale 2^40"),
        "{msg}"
    );
    let pt = s.encode(&y, TOP, 3.0 * s.default_scale()).unwrap();
    assert!(matches!(
        s.add_plain(&a, &pt),
        Err(SlotError::ScaleMismatch { .. })
    ));

    // Scales equal up to f64 path differences are accepted; the sum models what CKKS
    // adds (b's slots times the scale ratio), keeping the left scale.
    let near = s
        .encrypt_values(&y, TOP, s.default_scale() * (1.0 + 1e-12))
        .unwrap();
    let sum = s.add(&a, &near).unwrap();
    assert_eq!(sum.scale(), s.default_scale());
    assert_close(
        &s.decrypt(&sum).unwrap(),
        &zip(&x, &y, |p, q| p + q.scale(1.0 + 1e-12)),
        1e-15,
    );
}

#[test]
fn drifted_scales_are_matched_at_the_cost_of_one_level() {
    let s = sim();
    let x = random_real(30);
    let a = s.encrypt_real(&x, TOP, s.default_scale()).unwrap();
    // x^2 + x: the two paths' scales differ by q_6 / Δ, about 1e-6 relative.
    let sq = s.mul_rescale(&a, &a).unwrap();
    assert!(matches!(
        s.add(&sq, &a),
        Err(SlotError::ScaleMismatch { .. })
    ));
    s.reset_counts();
    let (p, q) = s.match_scales(&sq, &a).unwrap();
    assert_eq!((p.level(), q.level()), (TOP - 1, TOP - 1));
    assert_eq!(p.scale(), sq.scale());
    // a went down one level by set_scale: exact scale (a.scale * k) / q_6.
    let q6 = s.modulus(TOP) as f64;
    let k = libm::round(sq.scale() * q6 / a.scale());
    assert_eq!(q.scale(), (a.scale() * k) / q6);
    assert!(hetal_core::slots::scales_match(p.scale(), q.scale()));
    let n = s.counts();
    assert_eq!((n.mul_const, n.rescale, n.level_drop), (1, 1, 0));
    let sum = s.add_matched(&sq, &a).unwrap();
    for (got, t) in s.decrypt_real(&sum).unwrap().iter().zip(&x) {
        assert!((got - (t * t + t)).abs() < 1e-12);
    }
    // Same level, different scales: the left one moves down, the right is dropped.
    let m = s.mul(&a, &a).unwrap();
    let (p, q) = s.match_scales(&m, &a).unwrap();
    assert_eq!(
        (p.level(), q.level(), q.scale()),
        (TOP - 1, TOP - 1, a.scale())
    );
    // Far below the other scale, or at level 0: typed errors.
    let low = s.drop_to_level(&a, 0).unwrap();
    assert_eq!(
        s.set_scale(&low, 1e12),
        Err(SlotError::LevelExhausted { op: "set_scale" })
    );
    assert!(matches!(
        s.set_scale(&a, 10.0),
        Err(SlotError::ScaleUnderflow { .. })
    ));
}

#[test]
fn running_out_of_levels_is_an_error() {
    let s = sim();
    let a = enc(&s, &random_complex(7));
    let low = s.drop_to_level(&a, 0).unwrap();
    let pt = s.encode_real(&[1.0], 0, s.default_scale()).unwrap();
    let exhausted = |op| Err(SlotError::LevelExhausted { op });
    assert_eq!(s.rescale(&low), exhausted("rescale"));
    assert_eq!(s.mul(&low, &a), exhausted("mul"));
    assert_eq!(s.mul_plain(&a, &pt), exhausted("mul_plain"));
    assert_eq!(
        s.mul_const(&low, Complex::from_real(0.5)),
        exhausted("mul_const")
    );
    assert_eq!(
        s.mul_values_rescale(&low, &[Complex::ONE]),
        exhausted("mul_plain")
    );
    // Free constants and additions still work at level 0.
    assert!(s.mul_const(&low, Complex::from_real(-2.0)).is_ok());
    assert!(s.add(&low, &a).is_ok());
    assert_eq!(
        s.drop_to_level(&low, 1),
        Err(SlotError::LevelTooHigh {
            current: 0,
            requested: 1
        })
    );

    // Depth: exactly TOP squarings fit, the next one fails.
    let mut v = s
        .encrypt_real(&[0.9; SLOTS], TOP, s.default_scale())
        .unwrap();
    for depth in 1..=TOP {
        v = s.mul_rescale(&v, &v).unwrap();
        assert_eq!(v.level(), TOP - depth);
    }
    assert_eq!(s.mul_rescale(&v, &v), exhausted("mul"));
    assert_eq!(s.counts().min_level, Some(0));
}

#[test]
fn silent_ckks_failures_are_errors_in_the_simulator() {
    let s = sim();
    // Level 0: Q = q_0 of 60 bits, scale 2^40 -> slots must stay below 2^19.
    assert!(s.encode_real(&[1e5], 0, s.default_scale()).is_ok());
    assert!(matches!(
        s.encode_real(&[1e6], 0, s.default_scale()),
        Err(SlotError::ModulusOverflow { level: 0, .. })
    ));
    // Three unrescaled factors at level 1 need 120 bits of the 100 there.
    let a = s.encrypt_real(&[1.0; SLOTS], 1, s.default_scale()).unwrap();
    let sq = s.mul(&a, &a).unwrap();
    assert!(matches!(
        s.mul(&sq, &a),
        Err(SlotError::ModulusOverflow { level: 1, .. })
    ));
    // Rescaling a value that was never multiplied leaves a scale near 1.
    assert!(matches!(
        s.rescale(&a),
        Err(SlotError::ScaleUnderflow { level: 0, .. })
    ));
    // A constant too large for the i64 encoding at q_level.
    assert!(matches!(
        s.mul_const(&a, Complex::from_real(1e10 + 0.5)),
        Err(SlotError::ConstantTooLarge { .. })
    ));
    assert_eq!(
        s.mul_const(&a, Complex::from_real(f64::INFINITY)),
        Err(SlotError::NonFinite)
    );
}

#[test]
fn rotation_keys_are_checked_and_recorded() {
    let s = SlotSim::new(params())
        .unwrap()
        .with_rotation_keys([1, -1, 4])
        .with_conjugation_key(false);
    let x = random_complex(8);
    let a = enc(&s, &x);
    assert!(s.rotate(&a, 1).is_ok());
    assert!(s.rotate(&a, -1).is_ok());
    assert!(s.rotate(&a, 17).is_ok()); // = 1 mod 16
    assert!(s.rotate(&a, 0).is_ok() && s.rotate(&a, 32).is_ok()); // free
    assert_eq!(
        s.rotate(&a, 2),
        Err(SlotError::MissingRotationKey { offset: 2 })
    );
    assert_eq!(
        s.rotate(&a, -4),
        Err(SlotError::MissingRotationKey { offset: 12 })
    );
    assert!(s.has_rotation_key(-15) && s.has_rotation_key(0) && !s.has_rotation_key(3));
    assert_eq!(s.conjugate(&a), Err(SlotError::MissingConjugationKey));
    assert!(!s.has_conjugation_key());

    // A hoisted batch with one missing key fails as a whole and counts nothing.
    let before = s.counts();
    assert_eq!(
        s.rotate_hoisted(&a, &[1, 4, 3]),
        Err(SlotError::MissingRotationKey { offset: 3 })
    );
    assert_eq!(s.counts(), before);
    assert!(s.rotate_and_sum(&a, 4, 1).is_err()); // needs offset 2
    assert_eq!(s.used_rotations(), vec![1, 15]);
    assert!(!s.used_conjugation());

    // The record is what a key plan must cover.
    let open = sim();
    let v = enc(&open, &x);
    open.rotate_and_sum(&v, 8, 2).unwrap();
    open.rotate_hoisted(&v, &[0, -3, 16 + 5]).unwrap();
    open.conjugate(&v).unwrap();
    assert_eq!(open.used_rotations(), vec![2, 4, 5, 8, 13]);
    assert!(open.used_conjugation());
    open.reset_counts();
    assert!(open.used_rotations().is_empty() && !open.used_conjugation());
}

#[test]
fn hoisted_rotations_equal_single_rotations() {
    let s = sim();
    let x = random_complex(9);
    let a = enc(&s, &x);
    let offsets = [0, 1, -3, 7, 18, -16, 15];
    s.reset_counts();
    let hoisted = s.rotate_hoisted(&a, &offsets).unwrap();
    let n = s.counts();
    assert_eq!((n.rotate, n.rotate_hoisted, n.hoisted_batches), (0, 5, 1));
    for (&k, h) in offsets.iter().zip(&hoisted) {
        assert_eq!(h, &s.rotate(&a, k).unwrap(), "offset {k}");
        assert_close(&s.decrypt(h).unwrap(), &rotate_direct(&x, k), 0.0);
    }
    // Only-zero batches cost nothing.
    s.reset_counts();
    s.rotate_hoisted(&a, &[0, 16]).unwrap();
    assert_eq!(s.counts().hoisted_batches, 0);
}

#[test]
fn rotate_and_sum_matches_direct_sums() {
    let s = sim();
    let x = random_complex(10);
    let a = enc(&s, &x);
    for (span, stride) in [
        (1, 1),
        (2, 1),
        (16, 1),
        (4, 4),
        (8, 2),
        (4, -1),
        (2, -4),
        (32, 1),
    ] {
        s.reset_counts();
        let got = s
            .decrypt(&s.rotate_and_sum(&a, span, stride).unwrap())
            .unwrap();
        let want: Vec<Complex> = (0..SLOTS as isize)
            .map(|i| {
                (0..span as isize).fold(Complex::ZERO, |acc, j| {
                    acc + x[(i + j * stride).rem_euclid(SLOTS as isize) as usize]
                })
            })
            .collect();
        assert_close(&got, &want, 1e-12);
        // log2(span) rotate-and-add steps; a step whose offset is 0 mod n is a free rotation.
        let steps = span.trailing_zeros();
        let free = (0..steps)
            .filter(|&t| ((1isize << t) * stride).rem_euclid(SLOTS as isize) == 0)
            .count();
        let counts = s.counts();
        assert_eq!(counts.add, steps as u64);
        assert_eq!(counts.rotate, (steps as usize - free) as u64);
    }
    for span in [0, 3, 12] {
        assert_eq!(
            s.rotate_and_sum(&a, span, 1),
            Err(SlotError::BadSpan { span })
        );
    }
}

#[test]
fn counts_follow_every_call_and_reset() {
    let s = sim();
    let a = enc(&s, &random_complex(11));
    let b = enc(&s, &random_complex(12));
    let pt = s.encode_real(&[0.5], TOP, s.default_scale()).unwrap();
    s.reset_counts();
    assert_eq!(s.counts(), OpCounts::default());

    let m = s.mul_rescale(&a, &b).unwrap(); // mul, relin, rescale
    let p = s.mul_plain_rescale(&a, &pt).unwrap(); // mul_plain, rescale
    let c = s.mul_const_rescale(&a, Complex::from_real(0.1)).unwrap(); // mul_const, rescale
    let _ = s.mul_const_rescale(&a, Complex::from_real(2.0)).unwrap(); // mul_const only
    let t = s.sum(&[m, p]).unwrap(); // add (same scale: same path)
    // c's scale drifted from t's: set_scale (mul_const, rescale), drop c, add.
    let t = s.add_matched(&t, &c).unwrap();
    let t = s.neg(&t).unwrap(); // add
    let t = s.add_const(&t, Complex::ONE).unwrap(); // add
    let r = s.rotate(&t, 3).unwrap(); // rotate
    let _ = s.rotate_hoisted(&r, &[1, 2, 0]).unwrap(); // 2 hoisted, 1 batch
    let j = s.conjugate(&r).unwrap(); // conjugate
    let d = s.drop_to_level(&j, 1).unwrap(); // level drop
    let _ = s.bootstrap(&d).unwrap(); // bootstrap

    let want = OpCounts {
        mul: 1,
        relin: 1,
        mul_plain: 1,
        mul_const: 3,
        add: 4,
        rescale: 4,
        rotate: 1,
        rotate_hoisted: 2,
        hoisted_batches: 1,
        conjugate: 1,
        bootstrap: 1,
        level_drop: 2,
        min_level: Some(1),
    };
    assert_eq!(s.counts(), want);
    assert_eq!(want.key_switches(), 5);
    assert_eq!(want.rotations(), 3);
    assert!(want.to_string().contains("boot 1"));
    s.reset_counts();
    assert_eq!(s.counts(), OpCounts::default());
}

#[test]
fn lazy_relinearization_sums_products_once() {
    let s = sim();
    let xs: Vec<Vec<Complex>> = (20..24).map(random_complex).collect();
    let vs: Vec<SimValue> = xs.iter().map(|x| enc(&s, x)).collect();
    s.reset_counts();
    let mut acc = s.mul_no_relin(&vs[0], &vs[1]).unwrap();
    let second = s.mul_no_relin(&vs[2], &vs[3]).unwrap();
    assert!(!acc.is_relinearized());
    s.add_assign(&mut acc, &second).unwrap();
    // A degree-2 value can be rescaled but not rotated, multiplied or bootstrapped.
    let scaled = s.rescale(&acc).unwrap();
    assert_eq!(
        s.rotate(&scaled, 1),
        Err(SlotError::NotRelinearized { op: "rotate" })
    );
    assert_eq!(
        s.mul(&scaled, &vs[0]),
        Err(SlotError::NotRelinearized { op: "mul" })
    );
    assert_eq!(
        s.conjugate(&scaled),
        Err(SlotError::NotRelinearized { op: "conjugate" })
    );
    assert_eq!(
        s.bootstrap(&scaled),
        Err(SlotError::NotRelinearized { op: "bootstrap" })
    );
    let lazy = s.relinearize(&scaled).unwrap();
    assert!(lazy.is_relinearized());
    assert_eq!((s.counts().mul, s.counts().relin), (2, 1));
    assert!(s.rotate(&lazy, 1).is_ok());

    let want = zip(
        &zip(&xs[0], &xs[1], |p, q| p * q),
        &zip(&xs[2], &xs[3], |p, q| p * q),
        |p, q| p + q,
    );
    assert_close(&s.decrypt(&lazy).unwrap(), &want, 1e-12);
    let eager = s
        .add(
            &s.mul_rescale(&vs[0], &vs[1]).unwrap(),
            &s.mul_rescale(&vs[2], &vs[3]).unwrap(),
        )
        .unwrap();
    assert_eq!((eager.level(), eager.scale()), (lazy.level(), lazy.scale()));
}

#[test]
fn bootstrap_resets_level_and_scale() {
    let s = sim();
    let x: Vec<Complex> = random_complex(13);
    let a = s.encrypt_values(&x, 0, s.default_scale() / 3.0).unwrap();
    let b = s.bootstrap(&a).unwrap();
    assert_eq!(s.bootstrap_level(), Some(BOOT_LEVEL));
    assert_eq!((b.level(), b.scale()), (BOOT_LEVEL, s.default_scale()));
    assert_close(&s.decrypt(&b).unwrap(), &x, 0.0);
    // Refreshed values can be multiplied again.
    assert_eq!(s.mul_rescale(&b, &b).unwrap().level(), BOOT_LEVEL - 1);

    let many = s
        .bootstrap_many(&[a.clone(), a.clone(), b.clone()])
        .unwrap();
    assert!(many.iter().all(|v| v.level() == BOOT_LEVEL));

    // Out of the bootstrap's range (|slot| <= 10): an error, not garbage.
    let big = s.encrypt_real(&[12.5], 0, s.default_scale()).unwrap();
    assert_eq!(
        s.bootstrap(&big),
        Err(SlotError::BootstrapRange {
            max_abs: 12.5,
            bound: 10.0
        })
    );
    let none = SlotSim::new(SimParams::synthetic(SLOTS, 60, 40, TOP).unwrap()).unwrap();
    let c = none.encrypt_real(&[1.0], 0, none.default_scale()).unwrap();
    assert_eq!(none.bootstrap(&c), Err(SlotError::BootstrapUnavailable));
    assert_eq!(none.bootstrap_level(), None);
}

#[test]
fn real_pair_bootstrap_packs_two_values_in_one() {
    let s = sim();
    let (x, y) = (random_real(14), random_real(15));
    let a = s.encrypt_real(&x, 1, s.default_scale()).unwrap();
    let b = s.encrypt_real(&y, 0, s.default_scale()).unwrap();
    s.reset_counts();
    let (ra, rb) = s.bootstrap_real_pair(&a, &b).unwrap();
    assert_eq!(s.decrypt_real(&ra).unwrap(), x);
    assert_eq!(s.decrypt_real(&rb).unwrap(), y);
    assert!(s.decrypt(&ra).unwrap().iter().all(|z| z.im == 0.0));
    assert_eq!((ra.level(), rb.level()), (BOOT_LEVEL, BOOT_LEVEL));
    let n = s.counts();
    assert_eq!((n.bootstrap, n.conjugate, n.mul_const, n.add), (1, 1, 1, 3));

    // Imaginary parts are not lost silently: they leak into the other output,
    // exactly as the packed CKKS bootstrap would do.
    let xc = random_complex(16);
    let ac = s.encrypt_values(&xc, 1, s.default_scale()).unwrap();
    let (_, rb) = s.bootstrap_real_pair(&ac, &b).unwrap();
    let want: Vec<f64> = xc.iter().zip(&y).map(|(z, r)| z.im + r).collect();
    assert_eq!(s.decrypt_real(&rb).unwrap(), want);

    let skew = s.encrypt_real(&y, 0, 2.0 * s.default_scale()).unwrap();
    assert!(matches!(
        s.bootstrap_real_pair(&a, &skew),
        Err(SlotError::ScaleMismatch { .. })
    ));
}

#[test]
fn invalid_parameters_are_rejected() {
    let bad = |p: SimParams| SlotSim::new(p).unwrap_err();
    let ok = params();
    assert!(matches!(
        bad(SimParams {
            slots: 12,
            ..ok.clone()
        }),
        SlotError::InvalidParams(_)
    ));
    assert!(matches!(
        bad(SimParams {
            moduli: vec![],
            ..ok.clone()
        }),
        SlotError::InvalidParams(_)
    ));
    assert!(matches!(
        bad(SimParams {
            default_scale: f64::NAN,
            ..ok.clone()
        }),
        SlotError::InvalidParams(_)
    ));
    assert!(matches!(
        bad(ok.clone().with_bootstrap(TOP + 1, 1.0)),
        SlotError::InvalidParams(_)
    ));
    assert!(SimParams::synthetic(SLOTS, 70, 40, 3).is_err());
    assert!(SimParams::synthetic(1 << 20, 30, 20, 3).is_err());
    // A synthetic chain: distinct moduli, = 1 mod 4*slots, near the asked sizes.
    let p = SimParams::synthetic(SLOTS, 60, 40, TOP).unwrap();
    assert_eq!(p.moduli.len(), TOP + 1);
    assert_eq!(p.default_scale, (1u64 << 40) as f64);
    for (i, &q) in p.moduli.iter().enumerate() {
        assert_eq!(q % (4 * SLOTS as u64), 1);
        let bits = if i == 0 { 60.0 } else { 40.0 };
        assert!((libm::log2(q as f64) - bits).abs() < 1e-4);
        assert!(p.moduli[..i].iter().all(|&r| r != q));
    }
}

#[test]
fn simulator_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SlotSim>();
    assert_send_sync::<SimValue>();
}

// ---- generic algorithms: the trait is what linalg and hetal program against ----

/// `sum_i a_i b_i`, replicated in every slot.
fn inner_product<E: SlotOps>(ev: &E, a: &E::Value, b: &E::Value) -> Result<E::Value, SlotError> {
    let prod = ev.mul_rescale(a, b)?;
    ev.rotate_and_sum(&prod, ev.slot_count(), 1)
}

/// `sum_k c_k x^k` by Horner's rule (non-integer coefficients, automatic alignment).
fn horner<E: SlotOps>(ev: &E, x: &E::Value, coeffs: &[f64]) -> Result<E::Value, SlotError> {
    let (&lead, rest) = coeffs.split_last().ok_or(SlotError::EmptyInput)?;
    let mut acc = ev.mul_const_rescale(x, Complex::from_real(lead))?;
    for (i, &c) in rest.iter().enumerate().rev() {
        acc = ev.add_const(&acc, Complex::from_real(c))?;
        if i > 0 {
            acc = ev.mul_rescale(&acc, x)?;
        }
    }
    Ok(acc)
}

#[test]
fn generic_inner_product_and_polynomial() {
    let s = sim();
    let (x, y) = (random_real(17), random_real(18));
    let a = s.encrypt_real(&x, TOP, s.default_scale()).unwrap();
    let b = s.encrypt_real(&y, TOP, s.default_scale()).unwrap();
    s.reset_counts();
    let ip = inner_product(&s, &a, &b).unwrap();
    let want: f64 = x.iter().zip(&y).map(|(p, q)| p * q).sum();
    assert!(
        s.decrypt_real(&ip)
            .unwrap()
            .iter()
            .all(|v| (v - want).abs() < 1e-12)
    );
    let n = s.counts();
    assert_eq!((n.mul, n.rotate, ip.level()), (1, 4, TOP - 1));

    let coeffs = [0.5, -1.25, 0.75, 0.1];
    let p = horner(&s, &a, &coeffs).unwrap();
    assert_eq!(p.level(), TOP - 3);
    for (got, &t) in s.decrypt_real(&p).unwrap().iter().zip(&x) {
        let want = coeffs.iter().rev().fold(0.0, |acc, c| acc * t + c);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rotations_compose(seed in any::<u64>(), j in -40isize..40, k in -40isize..40) {
        let s = sim();
        let a = enc(&s, &random_complex(seed));
        let twice = s.rotate(&s.rotate(&a, j).unwrap(), k).unwrap();
        prop_assert_eq!(s.decrypt(&twice).unwrap(), s.decrypt(&s.rotate(&a, j + k).unwrap()).unwrap());
        let hoisted = s.rotate_hoisted(&a, &[j, k]).unwrap();
        prop_assert_eq!(&hoisted[0], &s.rotate(&a, j).unwrap());
        prop_assert_eq!(&hoisted[1], &s.rotate(&a, k).unwrap());
    }

    #[test]
    fn conjugation_is_an_involution_and_real_parts_survive(seed in any::<u64>()) {
        let s = sim();
        let x = random_complex(seed);
        let a = enc(&s, &x);
        let back = s.conjugate(&s.conjugate(&a).unwrap()).unwrap();
        prop_assert_eq!(s.decrypt(&back).unwrap(), x.clone());
        // (z + conj z) / 2 with the 1/2 as a constant: one level.
        let re = s
            .mul_const_rescale(&s.add(&a, &s.conjugate(&a).unwrap()).unwrap(), Complex::from_real(0.5))
            .unwrap();
        for (g, z) in s.decrypt(&re).unwrap().iter().zip(&x) {
            prop_assert!((g.re - z.re).abs() < 1e-15 && g.im == 0.0);
        }
    }
}
