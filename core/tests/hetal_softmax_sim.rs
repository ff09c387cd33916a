//! The encrypted softmax on the exact simulator: equal to the f64 model
//! (1e-9) on random logits in [-128, 128], levels as documented, only the
//! rotations it lists, bootstraps where the plan puts them, and every value
//! handed to a bootstrap in [-1, 1] (the simulator's bootstrap refuses
//! anything larger, as CKKS bootstrapping is only accurate there).

use hetal_core::hetal::softmax::{Softmax, SoftmaxError, SoftmaxSpec};
use hetal_core::slots::{Leveled, SimParams, SlotCrypt, SlotError, SlotOps, SlotSim};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

const SLOTS: usize = 64;

fn uniform(rng: &mut ChaCha8Rng, r: f64) -> f64 {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (2.0 * u - 1.0) * r
}

/// Random logits in the group layout (padded slots zero, as DiagABT leaves them).
fn logits(c: usize, cp: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..SLOTS)
        .map(|i| {
            if i % cp < c {
                uniform(&mut rng, 128.0)
            } else {
                0.0
            }
        })
        .collect()
}

fn check_against_model(sm: &Softmax, x: &[f64], out: &[f64], mask: Option<&[f64]>) {
    let (c, cp) = (sm.classes(), sm.padded());
    for g in 0..SLOTS / cp {
        let row = &x[g * cp..g * cp + c];
        let want = sm.eval_f64_row(row);
        for j in 0..cp {
            let keep = mask.map_or(1.0, |m| m[g * cp + j]);
            let w = if j < c { want[j] * keep } else { 0.0 };
            let got = out[g * cp + j];
            assert!((got - w).abs() < 1e-9, "group {g} slot {j}: {got} vs {w}");
        }
    }
}

fn sim(levels: usize, boot: Option<usize>, sm: &Softmax) -> SlotSim {
    let mut p = SimParams::synthetic(SLOTS, 60, 40, levels).unwrap();
    if let Some(b) = boot {
        // CKKS bootstrapping is accurate on [-1, 1] only: refuse anything else.
        p = p.with_bootstrap(b, 1.0);
    }
    SlotSim::new(p)
        .unwrap()
        .with_rotation_keys(sm.rotations())
        .with_conjugation_key(true)
}

/// Without bootstrapping: exactly `depth()` levels are consumed, one fewer
/// is not enough, and every group equals the f64 model.
#[test]
fn equals_model_and_spends_its_depth() {
    for (c, cp) in [(3, 4), (4, 4), (5, 8), (10, 16), (16, 16)] {
        for spec in [SoftmaxSpec::ours(c, cp), SoftmaxSpec::paper()] {
            let sm = Softmax::new(spec, c, cp).unwrap();
            let depth = sm.depth();
            let ev = sim(depth, None, &sm);
            let x = logits(c, cp, 5 + c as u64);
            let v = ev.encrypt_real(&x, depth, ev.default_scale()).unwrap();
            let out = sm.apply(&ev, &v).unwrap();
            assert_eq!(out.level(), 0, "c = {c}, {}", sm.spec().name);
            check_against_model(&sm, &x, &ev.decrypt_real(&out).unwrap(), None);
            assert_eq!(ev.counts().bootstrap, 0);
            // One level short fails cleanly.
            let short = ev.drop_to_level(&v, depth - 1).unwrap();
            // (The simulator refuses either for the level or, first, for a
            // scale that would overflow the smaller modulus.)
            let err = sm.apply(&ev, &short);
            assert!(
                matches!(
                    err,
                    Err(SlotError::LevelExhausted { .. } | SlotError::ModulusOverflow { .. })
                ),
                "{err:?}"
            );
        }
    }
}

/// The stage depths add up to the level drop, stage by stage: truncating the
/// circuit's levels at each stage boundary is what the plan relies on.
#[test]
fn stage_depths_are_the_documented_ones() {
    let sm = Softmax::new(SoftmaxSpec::ours(10, 16), 10, 16).unwrap();
    let st = sm.stages();
    let names: Vec<&str> = st.iter().map(|s| s.name).collect();
    let depths: Vec<usize> = st.iter().map(|s| s.depth).collect();
    assert_eq!(names[0], "normalise");
    assert_eq!(&depths[..6], &[1, 6, 6, 6, 6, 1]); // normalise, 4 max rounds, max mask
    let exp_at = names.iter().position(|&n| n == "exp polynomial").unwrap();
    assert_eq!(depths[exp_at], 4);
    assert_eq!(&depths[exp_at + 1..exp_at + 5], &[1, 1, 1, 1]);
    let inv = sm.spec().inv;
    let start = names.iter().position(|&n| n == "inverse start").unwrap();
    assert_eq!(depths[start], inv.start_log2 + 1);
    assert_eq!(
        depths.iter().sum::<usize>(),
        1 + 24 + 1 + 4 + 4 + 1 + (inv.start_log2 + 1 + inv.iterations) + 1
    );
    assert_eq!(sm.depth(), 47);
    let paper = Softmax::new(SoftmaxSpec::paper(), 10, 16).unwrap();
    let pd: Vec<usize> = paper.stages().iter().map(|s| s.depth).collect();
    assert_eq!(&pd[..6], &[1, 10, 10, 10, 10, 1]);
    assert_eq!(paper.depth(), 78);
}

/// With fewer levels than the depth the circuit bootstraps inside, exactly
/// where and as often as the plan says, and still equals the model.
#[test]
fn bootstraps_inside_per_plan() {
    for (c, cp, boot) in [(3, 4, 12), (10, 16, 12), (10, 16, 9), (7, 8, 16)] {
        let sm = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
        for start in [boot, 3, 1] {
            let ev = sim(boot + 2, Some(boot), &sm);
            let plan = sm.plan(start, boot).unwrap();
            assert!(plan.plan.cost >= sm.depth().saturating_sub(start).div_ceil(boot));
            let x = logits(c, cp, 40 + c as u64 + start as u64);
            let v = ev.encrypt_real(&x, start, ev.default_scale()).unwrap();
            let out = sm.apply(&ev, &v).unwrap();
            assert_eq!(
                ev.counts().bootstrap as usize,
                plan.plan.cost,
                "c={c} boot={boot} start={start}: {plan:?}"
            );
            assert_eq!(
                out.level(),
                plan.plan.final_level,
                "c={c} boot={boot} start={start}: {plan:?}"
            );
            check_against_model(&sm, &x, &ev.decrypt_real(&out).unwrap(), None);
        }
    }
}

/// The raw logits (up to 128) are never bootstrapped: at level 0 the plan
/// refuses with the level it needs, and the circuit fails cleanly.
#[test]
fn raw_logits_are_not_bootstrapped() {
    let sm = Softmax::new(SoftmaxSpec::ours(10, 16), 10, 16).unwrap();
    assert_eq!(
        sm.plan(0, 9),
        Err(SoftmaxError::InputLevel { have: 0, need: 1 })
    );
    assert_eq!(sm.boot_bounds()[0], 128.0);
    let ev = sim(11, Some(9), &sm);
    let v = ev
        .encrypt_real(&logits(10, 16, 3), 0, ev.default_scale())
        .unwrap();
    assert!(matches!(
        sm.apply(&ev, &v),
        Err(SlotError::LevelExhausted { .. })
    ));
    assert_eq!(ev.counts().bootstrap, 0);
    // An explicit plan bootstrapping them is refused too.
    let mut before = vec![false; sm.stages().len()];
    before[0] = true;
    let v = ev.drop_to_level(&v, 0).unwrap();
    assert!(matches!(
        sm.apply_with_plan(&ev, &v, None, &before),
        Err(SlotError::InvalidParams(_))
    ));
}

/// Every point where a bootstrap may go sees values in [-1, 1] (proven
/// bounds, at most 1), and bootstrapping at all of them at once passes the
/// simulator's range check and still equals the model: the shifts that keep
/// the exponentials, the row sum and Goldschmidt's P in range are exact.
#[test]
fn every_bootstrap_input_is_in_range() {
    for (c, cp) in [(3, 4), (4, 4), (5, 8), (7, 8), (10, 16), (16, 16)] {
        let sm = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
        let bounds = sm.boot_bounds();
        let before: Vec<bool> = bounds.iter().map(|&b| b <= 1.0).collect();
        // Only the raw logits are out of range.
        assert_eq!(before.iter().filter(|b| !**b).count(), 1, "{bounds:?}");
        assert!(!before[0]);
        // ... and the exponentials need their shifts (e up to e^3.9 at c' = 16).
        assert!(sm.shifts().exp.last().unwrap() > &0, "{:?}", sm.shifts());
        let boot = 12;
        let ev = sim(boot, Some(boot), &sm);
        let x = logits(c, cp, 70 + c as u64);
        let v = ev.encrypt_real(&x, boot, ev.default_scale()).unwrap();
        let out = sm.apply_with_plan(&ev, &v, None, &before).unwrap();
        check_against_model(&sm, &x, &ev.decrypt_real(&out).unwrap(), None);
        // A real pair counts once; the product refreshes two values.
        assert!(ev.counts().bootstrap as usize >= before.len() - 1);
    }
    // The paper's spec (c = 3): its domain-extension intermediates (up to
    // 128) and the exp polynomial's input (up to 8) are never bootstrapped
    // (the first cubic's input is the shifted value, just above 1 from the
    // max's overshoot).
    let paper = Softmax::new(SoftmaxSpec::paper(), 3, 4).unwrap();
    let out_of_range: Vec<(&str, f64)> = paper
        .stages()
        .iter()
        .zip(paper.boot_bounds())
        .filter(|(_, b)| *b > 1.0)
        .map(|(s, b)| (s.name, b.round()))
        .collect();
    assert_eq!(
        out_of_range,
        vec![
            ("normalise", 128.0),
            ("domain extension", 1.0),
            ("domain extension", 128.0),
            ("domain extension", 64.0),
            ("domain extension", 32.0),
            ("domain extension", 16.0),
            ("exp polynomial", 8.0),
        ]
    );
}

/// Adversarial rows (the max approximation's worst cases, ties, extremes) at
/// c' = 16 with a bootstrap at every allowed point stay in range.
#[test]
fn adversarial_rows_stay_in_range() {
    let (c, cp) = (10, 16);
    let sm = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
    let before: Vec<bool> = sm.boot_bounds().iter().map(|&b| b <= 1.0).collect();
    let rows: Vec<Vec<f64>> = vec![
        vec![128.0; c],
        vec![-128.0; c],
        (0..c)
            .map(|j| if j == 0 { 128.0 } else { -128.0 })
            .collect(),
        (0..c)
            .map(|j| if j == c - 1 { -128.0 } else { 128.0 })
            .collect(),
        (0..c).map(|j| 128.0 - 0.37 * j as f64).collect(),
        (0..c)
            .map(|j| if j % 2 == 0 { 128.0 } else { 127.0 })
            .collect(),
        (0..c).map(|j| -128.0 + 3.0 * j as f64).collect(),
    ];
    let mut x = vec![0.0; SLOTS];
    for g in 0..SLOTS / cp {
        x[g * cp..g * cp + c].copy_from_slice(&rows[g % rows.len()]);
    }
    let boot = 12;
    let ev = sim(boot, Some(boot), &sm);
    let v = ev.encrypt_real(&x, boot, ev.default_scale()).unwrap();
    let out = sm.apply_with_plan(&ev, &v, None, &before).unwrap();
    check_against_model(&sm, &x, &ev.decrypt_real(&out).unwrap(), None);
}

#[test]
fn output_mask_and_rotation_keys() {
    let (c, cp) = (5, 8);
    let sm = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
    let ev = sim(sm.depth(), None, &sm);
    let x = logits(c, cp, 99);
    // Keep only the first 5 rows (groups).
    let mask: Vec<f64> = (0..SLOTS)
        .map(|i| if i / cp < 5 { 1.0 } else { 0.0 })
        .collect();
    let v = ev.encrypt_real(&x, sm.depth(), ev.default_scale()).unwrap();
    let out = sm.apply_masked(&ev, &v, Some(&mask)).unwrap();
    check_against_model(&sm, &x, &ev.decrypt_real(&out).unwrap(), Some(&mask));
    let used: Vec<usize> = ev.used_rotations();
    let listed: Vec<usize> = sm
        .rotations()
        .iter()
        .map(|&k| k.rem_euclid(SLOTS as isize) as usize)
        .collect();
    assert!(
        used.iter().all(|k| listed.contains(k)),
        "{used:?} vs {listed:?}"
    );
    // Rotations: tree 3 + replicate 3 (max) + window 2 + 1 + replicate 3 (sum).
    assert_eq!(ev.counts().rotations(), 3 + 3 + 3 + 3);
}

/// Bootstraps per softmax at N16-like budgets, for the README table.
#[test]
fn plan_table() {
    for boot in [9usize, 12] {
        for (c, cp) in [(4, 4), (8, 8), (10, 16), (16, 16)] {
            let ours = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
            let paper = Softmax::new(SoftmaxSpec::paper(), c, cp).unwrap();
            let po = ours.plan(boot, boot).unwrap().plan;
            // The paper's max round (depth 10) does not fit 9 levels.
            let pp = paper.plan(boot, boot).map(|p| p.plan.cost);
            println!(
                "boot level {boot}, c = {c} (c' = {cp}): ours depth {} -> {} bootstraps; paper depth {} -> {:?}",
                ours.depth(),
                po.cost,
                paper.depth(),
                pp
            );
            assert!(pp.is_err() || po.cost < pp.unwrap());
        }
    }
}

/// `Softmax` is the training step's `RowSoftmax`.
#[test]
fn is_the_trainers_row_softmax() {
    use hetal_core::hetal::train::RowSoftmax;
    fn run<E: SlotOps, S: RowSoftmax<E>>(s: &S, ev: &E, v: &E::Value) -> E::Value {
        s.apply(ev, v).unwrap()
    }
    let sm = Softmax::new(SoftmaxSpec::ours(3, 4), 3, 4).unwrap();
    let ev = sim(RowSoftmax::<SlotSim>::depth(&sm), None, &sm);
    let x = logits(3, 4, 1);
    let v = ev.encrypt_real(&x, sm.depth(), ev.default_scale()).unwrap();
    let out = run(&sm, &ev, &v);
    check_against_model(&sm, &x, &ev.decrypt_real(&out).unwrap(), None);
}
