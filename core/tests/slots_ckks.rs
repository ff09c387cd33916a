//! The CKKS engine against the simulator: the same generic circuit on both,
//! same levels, scales and operation counts, values within CKKS noise.

use hetal_core::ckks::{CkksContext, EvaluationKeys, Params};
use hetal_core::rlwe::SecretKey;
use hetal_core::slots::{
    CkksEngine, Complex, Leveled, SimParams, SlotCrypt, SlotError, SlotOps, SlotSim,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Setup {
    ctx: CkksContext,
    sk: SecretKey,
    keys: EvaluationKeys,
}

fn setup(params: Params, rotations: &[isize]) -> Setup {
    let ctx = CkksContext::new(params).unwrap();
    let mut rng = ChaCha20Rng::from_seed([11; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let keys = ctx
        .gen_evaluation_keys(&sk, rotations, true, &mut rng)
        .unwrap();
    Setup { ctx, sk, keys }
}

fn sim_like(ctx: &CkksContext, slots: usize, rotations: &[isize]) -> SlotSim {
    let p = ctx.params();
    SlotSim::new(SimParams::new(slots, p.q(), p.default_scale()))
        .unwrap()
        .with_rotation_keys(rotations.iter().copied())
        .with_conjugation_key(true)
}

fn inputs(slots: usize, seed: u64) -> Vec<Complex> {
    let mut x = seed;
    (0..slots)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let re = (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let im = (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            Complex::new(re, im)
        })
        .collect()
}

/// A circuit touching every trait method except bootstrapping; returns its
/// outputs (with their levels and scales through `Leveled`).
fn circuit<E: SlotCrypt>(ev: &E) -> Result<Vec<E::Value>, SlotError> {
    let n = ev.slot_count();
    let (top, scale) = (ev.max_level(), ev.default_scale());
    let a = ev.encrypt_values(&inputs(n, 1), top, scale)?;
    let b = ev.encrypt_values(&inputs(n, 2), top - 1, scale)?;
    let p = ev.encode(&inputs(n, 3), top, scale)?;

    let ab = ev.mul_rescale(&a, &b)?; // aligned: a dropped to b's level
    let rot = ev.rotate_hoisted(&ab, &[0, 1, -1, 5])?;
    let mut acc = ev.sum(&rot)?;
    acc = ev.add_plain(&acc, &ev.encode(&inputs(n, 4), acc.level(), acc.scale())?)?;
    let c = ev.mul_const_rescale(&acc, Complex::new(0.25, -0.5))?;
    let d = ev.mul_const(&ev.conjugate(&c)?, Complex::new(-3.0, 0.0))?;
    let e = ev.sub_plain(
        &ev.rotate(&d, -1)?,
        &ev.encode(&inputs(n, 5), top, d.scale())?,
    )?;
    // A path with a different scale history: `a * p` then rescale.
    let f = ev.mul_plain_rescale(&a, &p)?;
    let g = ev.add_matched(&e, &f)?;
    let h = ev.rotate_and_sum(&g, 8, 1)?;
    let i = ev.add_const(&ev.neg(&h)?, Complex::new(0.5, 0.125))?;
    // In-place accumulations: the accumulator above, then below its operand.
    let mut j = a.clone();
    ev.add_assign(&mut j, &b)?;
    ev.sub_assign(&mut j, &ev.rotate(&a, 1)?)?;
    let m = ev.encode(&inputs(n, 6), j.level(), ev.modulus(j.level()) as f64)?;
    let mut k = ev.mul_plain(&j, &m)?;
    ev.mul_plain_add_assign(&mut k, &j, &m)?;
    ev.mul_plain_add_assign(&mut k, &a, &m)?;
    let k = ev.rescale_owned(k)?;
    // A lazily switched sum of rotations (one level and scale), and one that is not.
    let k2 = ev.rotate(&k, 2)?;
    let l = ev.sum_rotations(&[(&k, 0), (&k2, 1), (&k, -1), (&k, 5)])?;
    let l2 = ev.sum_rotations(&[(&k, 4), (&j, 2)])?;
    let jobs = ev.run_jobs(3, &|t| ev.rotate(&l, [1, 2, 4][t]))?;
    let mut out = vec![ab, c, e, f, g, i, j, k, l, l2];
    out.extend(jobs);
    Ok(out)
}

fn max_err(x: &[Complex], y: &[Complex]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| (*a - *b).abs())
        .fold(0.0, f64::max)
}

fn compare(params: Params, slots: Option<usize>) {
    let rotations = [1, -1, 2, 4, 5];
    let s = setup(params, &rotations);
    let mut ev = CkksEngine::new(&s.ctx, &s.keys).with_secret_key(&s.sk, [3; 32]);
    if let Some(n) = slots {
        ev = ev.with_slots(n).unwrap();
    }
    let sim = sim_like(&s.ctx, ev.slot_count(), &rotations);
    let got = circuit(&ev).unwrap();
    let want = circuit(&sim).unwrap();
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.level(), w.level(), "output {k}: level");
        assert!(
            (g.scale() / w.scale() - 1.0).abs() < 1e-12,
            "output {k}: scale {} vs {}",
            g.scale(),
            w.scale()
        );
        let (x, y) = (ev.decrypt(g).unwrap(), sim.decrypt(w).unwrap());
        let peak = y.iter().map(|z| z.abs()).fold(1.0, f64::max);
        let bits = -(max_err(&x, &y) / peak).log2();
        assert!(bits > 18.0, "output {k}: {bits:.1} bits");
    }
    assert_eq!(ev.counts(), sim.counts());
}

#[test]
fn engine_matches_simulator_full_slots() {
    compare(Params::insecure_n12(), None);
}

#[test]
fn engine_matches_simulator_sparse_slots() {
    compare(Params::insecure_n12(), Some(64));
}

#[test]
fn engine_reports_typed_errors() {
    let s = setup(Params::insecure_n11(), &[1]);
    let ev = CkksEngine::new(&s.ctx, &s.keys).with_secret_key(&s.sk, [4; 32]);
    let scale = ev.default_scale();
    let a = ev.encrypt_real(&[1.0], ev.max_level(), scale).unwrap();
    assert_eq!(
        ev.rotate(&a, 3).unwrap_err(),
        SlotError::MissingRotationKey { offset: 3 }
    );
    assert!(ev.has_rotation_key(1) && ev.has_rotation_key(0) && !ev.has_rotation_key(2));
    let low = ev.drop_to_level(&a, 0).unwrap();
    assert_eq!(
        ev.mul(&low, &a).unwrap_err(),
        SlotError::LevelExhausted { op: "mul" }
    );
    assert_eq!(
        ev.rescale(&low).unwrap_err(),
        SlotError::LevelExhausted { op: "rescale" }
    );
    let sq = ev.mul(&a, &a).unwrap();
    assert!(matches!(
        ev.add(&sq, &a).unwrap_err(),
        SlotError::ScaleMismatch { .. }
    ));
    assert_eq!(
        ev.drop_to_level(&low, 1).unwrap_err(),
        SlotError::LevelTooHigh {
            current: 0,
            requested: 1
        }
    );
    assert_eq!(
        ev.bootstrap(&a).unwrap_err(),
        SlotError::BootstrapUnavailable
    );
    assert_eq!(
        ev.encode(&vec![Complex::ZERO; ev.slot_count() + 1], 0, scale)
            .unwrap_err(),
        SlotError::TooManyValues {
            len: ev.slot_count() + 1,
            slots: ev.slot_count()
        }
    );
    let server = CkksEngine::new(&s.ctx, &s.keys);
    assert!(server.decrypt(&a).is_err());
}

#[test]
fn set_scale_reaches_the_target_scale() {
    let s = setup(Params::insecure_n12(), &[]);
    let ev = CkksEngine::new(&s.ctx, &s.keys).with_secret_key(&s.sk, [5; 32]);
    let top = ev.max_level();
    let a = ev
        .encrypt_real(&[0.5, -0.25], top, ev.default_scale())
        .unwrap();
    let target = ev.default_scale() * 1.000_37;
    let b = ev.set_scale(&a, target).unwrap();
    assert_eq!(b.level(), top - 1);
    assert!((b.scale() / target - 1.0).abs() < 1e-9);
    let out = ev.decrypt_real(&b).unwrap();
    assert!((out[0] - 0.5).abs() < 1e-6 && (out[1] + 0.25).abs() < 1e-6);
}

/// The lazily switched sum of rotations (one ModDown) against rotating and adding.
#[test]
fn sum_of_rotations_matches_separate_rotations() {
    let rotations = [1, 3, -7, 64];
    let s = setup(Params::insecure_n12(), &rotations);
    let ev = CkksEngine::new(&s.ctx, &s.keys).with_secret_key(&s.sk, [5; 32]);
    let n = ev.slot_count();
    let (top, scale) = (ev.max_level(), ev.default_scale());
    let xs: Vec<_> = (0..4)
        .map(|t| {
            ev.encrypt_values(&inputs(n, 10 + t), top - 1, scale)
                .unwrap()
        })
        .collect();
    let offsets = [0isize, 1, 3, -7, 64];
    let terms: Vec<_> = offsets
        .iter()
        .enumerate()
        .map(|(t, &o)| (&xs[t % xs.len()], o))
        .collect();
    let lazy = ev.sum_rotations(&terms).unwrap();
    let mut want = vec![Complex::new(0.0, 0.0); n];
    for (x, o) in &terms {
        let v = ev.decrypt(x).unwrap();
        for (i, w) in want.iter_mut().enumerate() {
            *w += v[(i as isize + o).rem_euclid(n as isize) as usize];
        }
    }
    let got = ev.decrypt(&lazy).unwrap();
    let bits = -(max_err(&got, &want) / 5.0).log2();
    assert!(bits > 24.0, "lazy sum of rotations: {bits:.1} bits");
    assert_eq!((lazy.level(), lazy.scale()), (top - 1, scale));
    assert_eq!(ev.counts().rotate, 4);
}
