//! Diagonal linear transforms (`circuits::lintrans`): exact on the simulator
//! against a plain matrix-vector product, rotation counts and key sets as
//! stated, within CKKS noise on the CKKS engine.

use hetal_core::circuits::lintrans::{self, LinearTransform};
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::slots::{
    CkksEngine, Complex, Leveled, SimParams, SlotCrypt, SlotError, SlotOps, SlotSim,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

fn random_vec(rng: &mut ChaCha20Rng, n: usize) -> Vec<Complex> {
    (0..n)
        .map(|_| Complex::new(uniform(rng), uniform(rng)))
        .collect()
}

fn random_matrix(rng: &mut ChaCha20Rng, n: usize) -> Vec<Vec<Complex>> {
    (0..n).map(|_| random_vec(rng, n)).collect()
}

fn mat_vec(m: &[Vec<Complex>], x: &[Complex]) -> Vec<Complex> {
    m.iter()
        .map(|row| {
            row.iter()
                .zip(x)
                .fold(Complex::ZERO, |acc, (&a, &b)| acc + a * b)
        })
        .collect()
}

fn max_err(a: &[Complex], b: &[Complex]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x - *y).abs())
        .fold(0.0, f64::max)
}

fn sim(n: usize, levels: usize) -> SlotSim {
    SlotSim::new(SimParams::synthetic(n, 60, 40, levels).unwrap()).unwrap()
}

/// The FFT-like butterfly factor with diagonals `0, s, -s`.
fn butterfly(rng: &mut ChaCha20Rng, n: usize, s: usize) -> LinearTransform {
    LinearTransform::new(
        n,
        [
            (0, random_vec(rng, n)),
            (s as isize, random_vec(rng, n)),
            (-(s as isize), random_vec(rng, n)),
        ],
    )
    .unwrap()
}

#[test]
fn dense_matrices_exact_with_bsgs_rotation_counts() {
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    for n in [4, 16, 64, 256] {
        let m = random_matrix(&mut rng, n);
        let lt = LinearTransform::from_matrix(&m).unwrap();
        assert_eq!(lt.offsets().len(), n);
        // n1 = sqrt(n) (or sqrt(2n) / 2 with the tie going to fewer giants).
        let n1 = lt.baby_step();
        let expect = (n1 - 1, n / n1 - 1);
        assert_eq!(lt.rotation_counts(), expect, "n {n}");
        let best = (0..=n.trailing_zeros())
            .map(|e| (1 << e) - 1 + (n >> e) - 1)
            .min()
            .unwrap();
        assert_eq!(expect.0 + expect.1, best, "n {n}");
        assert_eq!(lt.rotations().len(), best);

        let s = sim(n, 3).with_rotation_keys(lt.rotations());
        let xs = random_vec(&mut rng, n);
        let x = s.encrypt_values(&xs, 3, s.default_scale()).unwrap();
        let enc = lt.encode(&s, 3).unwrap();
        s.reset_counts();
        let y = lt.apply(&s, &enc, &x).unwrap();
        assert_eq!((y.level(), y.scale()), (2, x.scale()));
        let want = mat_vec(&m, &xs);
        assert!(max_err(&s.decrypt(&y).unwrap(), &want) < 1e-12, "n {n}");
        assert!(max_err(&lt.apply_f64(&xs), &want) < 1e-12, "n {n}");
        let c = s.counts();
        assert_eq!(c.rotate_hoisted as usize, expect.0);
        assert_eq!(c.hoisted_batches, 1);
        assert_eq!(c.rotate as usize, expect.1);
        assert_eq!(c.mul_plain as usize, n);
        assert_eq!((c.rescale, c.mul, c.relin), (1, 0, 0));
        // Exactly the advertised keys were used.
        let used: Vec<isize> = s.used_rotations().iter().map(|&k| k as isize).collect();
        assert_eq!(used, lt.rotations());
    }
}

#[test]
fn every_baby_step_gives_the_same_result() {
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let n = 32;
    let m = random_matrix(&mut rng, n);
    let xs = random_vec(&mut rng, n);
    let want = mat_vec(&m, &xs);
    let mut n1 = 1;
    while n1 <= n {
        let lt = LinearTransform::from_matrix(&m)
            .unwrap()
            .with_baby_step(n1)
            .unwrap();
        assert_eq!(lt.rotation_counts(), (n1 - 1, n / n1 - 1));
        let s = sim(n, 2).with_rotation_keys(lt.rotations());
        let x = s.encrypt_values(&xs, 2, s.default_scale()).unwrap();
        let y = lt.apply(&s, &lt.encode(&s, 2).unwrap(), &x).unwrap();
        assert!(max_err(&s.decrypt(&y).unwrap(), &want) < 1e-12, "n1 {n1}");
        assert_eq!(s.counts().rotations() as usize, n1 - 1 + n / n1 - 1);
        n1 *= 2;
    }
    assert!(
        LinearTransform::from_matrix(&m)
            .unwrap()
            .with_baby_step(3)
            .is_err()
    );
}

#[test]
fn sparse_butterflies_hoist_and_chain() {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let n = 64;
    // Butterfly factors with strides 1, 2, ..., 16, like a radix-2 FFT (at
    // stride n/2 the diagonals s and -s coincide).
    let factors: Vec<LinearTransform> = (0..5).map(|e| butterfly(&mut rng, n, 1 << e)).collect();
    for (e, f) in factors.iter().enumerate() {
        let s = 1 << e;
        assert_eq!(f.rotation_counts(), (2, 0), "stride {s}");
        assert_eq!(f.rotations(), vec![s as isize, (n - s) as isize]);
    }
    let keys: Vec<isize> = factors.iter().flat_map(|f| f.rotations()).collect();
    let s = sim(n, 8).with_rotation_keys(keys.clone());
    let xs = random_vec(&mut rng, n);
    let x = s.encrypt_values(&xs, 8, s.default_scale()).unwrap();
    let encoded = lintrans::encode_chain(&s, &factors, 8).unwrap();
    s.reset_counts();
    let y = lintrans::apply_chain(&s, &encoded, &x).unwrap();
    assert_eq!((y.level(), y.scale()), (3, x.scale()));
    let want = factors.iter().fold(xs.clone(), |v, f| f.apply_f64(&v));
    assert!(max_err(&s.decrypt(&y).unwrap(), &want) < 1e-12);
    let c = s.counts();
    // Per factor: 3 plaintext products, one hoisted batch of 2 rotations, one rescale.
    assert_eq!(
        (
            c.mul_plain,
            c.rotate_hoisted,
            c.hoisted_batches,
            c.rotate,
            c.rescale
        ),
        (15, 10, 5, 0, 5)
    );

    // Composing two factors: one level, 9 diagonals at most.
    let merged = factors[1].compose(&factors[0]).unwrap();
    assert!(merged.offsets().len() <= 9);
    let s2 = sim(n, 8);
    let m2 = s2.encrypt_values(&xs, 8, s2.default_scale()).unwrap();
    let out = merged
        .apply(&s2, &merged.encode(&s2, 8).unwrap(), &m2)
        .unwrap();
    assert_eq!(out.level(), 7);
    let want2 = factors[1].apply_f64(&factors[0].apply_f64(&xs));
    assert!(max_err(&s2.decrypt(&out).unwrap(), &want2) < 1e-12);
    assert!(max_err(&merged.apply_f64(&xs), &want2) < 1e-12);
}

#[test]
fn keys_levels_and_errors() {
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let n = 16;
    let m = random_matrix(&mut rng, n);
    let lt = LinearTransform::from_matrix(&m).unwrap();
    let keys = lt.rotations();
    // One key short: a typed error naming the missing offset.
    let missing = keys[keys.len() - 1];
    let s = sim(n, 3).with_rotation_keys(keys[..keys.len() - 1].iter().copied());
    let x = s
        .encrypt_values(&random_vec(&mut rng, n), 3, s.default_scale())
        .unwrap();
    let enc = lt.encode(&s, 3).unwrap();
    assert_eq!(
        lt.apply(&s, &enc, &x),
        Err(SlotError::MissingRotationKey {
            offset: missing as usize
        })
    );
    // A higher input is dropped to the encoding level; a lower one is refused.
    let s = sim(n, 3);
    let enc2 = lt.encode(&s, 2).unwrap();
    let y = lt.apply(&s, &enc2, &x).unwrap();
    assert_eq!(y.level(), 1);
    let low = s.drop_to_level(&x, 1).unwrap();
    assert_eq!(
        lt.apply(&s, &enc2, &low),
        Err(SlotError::LevelTooHigh {
            current: 1,
            requested: 2
        })
    );
    assert_eq!(
        lt.encode(&s, 0).err(),
        Some(SlotError::LevelExhausted {
            op: "lintrans::encode"
        })
    );
    assert!(lt.encode(&sim(2 * n, 3), 3).is_err());
    assert_eq!(
        lt.encode(&s, 4).err(),
        Some(SlotError::LevelTooHigh {
            current: 3,
            requested: 4
        })
    );
    // A chosen plaintext scale sets the output scale exactly.
    let target = 1.75 * s.default_scale();
    let enc3 = lt
        .encode_at_scale(&s, 3, target * s.modulus(3) as f64 / x.scale())
        .unwrap();
    let y = lt.apply(&s, &enc3, &x).unwrap();
    assert!(((y.scale() - target) / target).abs() < 1e-15);
    let want = lt.apply_f64(&s.decrypt(&x).unwrap());
    assert!(max_err(&s.decrypt(&y).unwrap(), &want) < 1e-12);
    assert!(LinearTransform::new(n, [(1, vec![Complex::ONE; n - 1])]).is_err());
    // Offsets are taken modulo n and repeated ones add up; zero diagonals vanish.
    let lt = LinearTransform::new(
        n,
        [
            (-1, vec![Complex::ONE; n]),
            ((n - 1) as isize, vec![Complex::ONE; n]),
            (3, vec![Complex::ZERO; n]),
        ],
    )
    .unwrap();
    assert_eq!(lt.offsets(), vec![n - 1]);
    assert_eq!(lt.diagonal(-1).unwrap()[0], Complex::from_real(2.0));
    assert_eq!(
        lintrans::encode_chain(&s, &[lt.clone(), lt.clone()], 1).err(),
        Some(SlotError::LevelExhausted {
            op: "lintrans::encode_chain"
        })
    );
}

#[test]
fn ckks_dense_and_sparse_within_noise() {
    let ctx = CkksContext::new(Params::insecure_n12()).unwrap();
    let n = 64;
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let dense = LinearTransform::from_matrix(&random_matrix(&mut rng, n)).unwrap();
    let factors: Vec<LinearTransform> = (0..3).map(|e| butterfly(&mut rng, n, 1 << e)).collect();
    let mut keys: Vec<isize> = dense.rotations();
    keys.extend(factors.iter().flat_map(|f| f.rotations()));
    keys.sort_unstable();
    keys.dedup();
    let mut krng = ChaCha20Rng::from_seed([6; 32]);
    let sk = ctx.gen_secret_key(&mut krng).unwrap();
    let evk = ctx
        .gen_evaluation_keys(&sk, &keys, false, &mut krng)
        .unwrap();
    let ckks = CkksEngine::new(&ctx, &evk)
        .with_slots(n)
        .unwrap()
        .with_secret_key(&sk, [7; 32]);
    let p = ctx.params();
    let s = SlotSim::new(SimParams::new(n, p.q(), p.default_scale()))
        .unwrap()
        .with_rotation_keys(keys.iter().copied());
    let top = ckks.max_level();
    let xs = random_vec(&mut rng, n);
    let xc = ckks.encrypt_values(&xs, top, p.default_scale()).unwrap();
    let xsim = s.encrypt_values(&xs, top, p.default_scale()).unwrap();

    // Dense: values up to ~sqrt(n) in magnitude.
    let yc = dense
        .apply(&ckks, &dense.encode(&ckks, top).unwrap(), &xc)
        .unwrap();
    let ys = dense
        .apply(&s, &dense.encode(&s, top).unwrap(), &xsim)
        .unwrap();
    assert_eq!((yc.level(), yc.scale()), (ys.level(), ys.scale()));
    assert_eq!(ckks.counts(), s.counts());
    let bits = -max_err(&ckks.decrypt(&yc).unwrap(), &s.decrypt(&ys).unwrap()).log2();
    // Measured 28.4 bits (seeded).
    eprintln!("dense 64x64: {bits:.1} bits");
    assert!(bits >= 25.0, "dense: {bits:.1} bits");

    // Chain of three butterflies, three levels.
    let ec = lintrans::encode_chain(&ckks, &factors, top).unwrap();
    let es = lintrans::encode_chain(&s, &factors, top).unwrap();
    let yc = lintrans::apply_chain(&ckks, &ec, &xc).unwrap();
    let ys = lintrans::apply_chain(&s, &es, &xsim).unwrap();
    assert_eq!((yc.level(), yc.scale()), (top - 3, xc.scale()));
    assert_eq!(ckks.counts(), s.counts());
    let bits = -max_err(&ckks.decrypt(&yc).unwrap(), &s.decrypt(&ys).unwrap()).log2();
    // Measured 29.2 bits (seeded).
    eprintln!("3 butterflies: {bits:.1} bits");
    assert!(bits >= 25.0, "chain: {bits:.1} bits");
}
