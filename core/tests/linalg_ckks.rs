//! `core::linalg` on real CKKS: DiagABT and DiagATB against plaintext
//! products within 2^-15 of the largest output, with the same operation
//! counts as the simulator, using only the planned rotation keys.
//!
//! CI runs the `insecure_N12` preset (2^11 slots) at scaled and ragged shapes.
//! The five HETAL shapes need 2^15 slots (N = 2^16) and take minutes:
//!
//! ```text
//! flock /work/n16.lock cargo test --release -p hetal-core --test linalg_ckks -- --ignored --nocapture
//! ```

use hetal_core::ckks::{CkksContext, EvaluationKeys, Params};
use hetal_core::linalg::{
    AbtOutput, AtbVariant, BlockLayout, MatrixOps, RotationPlan, UnitShape, cost, decrypt_matrix,
    encrypt_matrix,
};
use hetal_core::rlwe::SecretKey;
use hetal_core::slots::{CkksEngine, SimParams, SlotCrypt, SlotOps, SlotSim};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Setup {
    ctx: CkksContext,
    sk: SecretKey,
    keys: EvaluationKeys,
}

fn setup(params: Params, plan: &RotationPlan) -> Setup {
    let ctx = CkksContext::new(params).unwrap();
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let keys = ctx
        .gen_evaluation_keys(&sk, &plan.steps(), plan.conjugation(), &mut rng)
        .unwrap();
    Setup { ctx, sk, keys }
}

/// Reals in [-1, 1] from a seeded LCG.
fn matrix(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..rows * cols)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

fn abt_plain(am: &[f64], bm: &[f64], a: usize, b: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; a * c];
    for i in 0..a {
        for j in 0..c {
            out[i * c + j] = (0..b).map(|t| am[i * b + t] * bm[j * b + t]).sum();
        }
    }
    out
}

fn atb_plain(am: &[f64], bm: &[f64], a: usize, b: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; c * b];
    for m in 0..c {
        for j in 0..b {
            out[m * b + j] = (0..a).map(|i| am[i * c + m] * bm[i * b + j]).sum();
        }
    }
    out
}

/// `max |got - want| / max |want|`, as a power of two.
fn rel_err_log2(got: &[f64], want: &[f64]) -> f64 {
    let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let err = got
        .iter()
        .zip(want)
        .fold(0.0f64, |m, (g, w)| m.max((g - w).abs()));
    (err / scale).log2()
}

/// Runs DiagABT (tiled) then DiagATB in `variant` on CKKS and on a simulator of
/// the same chain; checks errors and that both engines count the same.
fn check_shape(
    params: Params,
    unit: UnitShape,
    (a, b, c): (usize, usize, usize),
    variant: AtbVariant,
) {
    let mut plan = RotationPlan::abt(unit, c, AbtOutput::Tiled);
    plan.extend(&RotationPlan::atb(unit, c, variant));
    let sim_plan = plan.clone();
    plan.extend(&RotationPlan::atb_folded(unit, c, variant));
    plan.extend(&RotationPlan::atb_factored(unit, c));
    let s = setup(params, &plan);
    let ev = CkksEngine::new(&s.ctx, &s.keys).with_secret_key(&s.sk, [9; 32]);
    let p = s.ctx.params();
    let sim = SlotSim::new(SimParams::new(ev.slot_count(), p.q(), p.default_scale()))
        .unwrap()
        .with_rotation_keys(sim_plan.steps());
    let (top, scale) = (ev.max_level(), ev.default_scale());

    let am = matrix(a, b, 1);
    let bm = matrix(c, b, 2);
    let ym = matrix(a, c, 3);
    let lay_a = BlockLayout::plain(a, b, unit).unwrap();
    let lay_b = BlockLayout::vertical(c, b, unit).unwrap();
    let lay_y = BlockLayout::horizontal(a, c, unit).unwrap();

    // A B^T
    let ea = encrypt_matrix(&ev, &am, lay_a, top, scale).unwrap();
    let eb = encrypt_matrix(&ev, &bm, lay_b, top, scale).unwrap();
    let ops = MatrixOps::new(&ev, unit).unwrap();
    ev.reset_counts();
    let z = ops.diag_abt(&ea, &eb, AbtOutput::Tiled).unwrap();
    let n_ckks = ev.counts();
    let got = decrypt_matrix(&ev, &z).unwrap();
    let err = rel_err_log2(&got, &abt_plain(&am, &bm, a, b, c));
    println!(
        "abt {a}x{b}x{c} unit {}x{}: rel err 2^{err:.1}; {n_ckks}",
        unit.s0, unit.s1
    );
    assert!(err < -15.0, "abt {a}x{b}x{c}: relative error 2^{err:.1}");

    let sa = encrypt_matrix(&sim, &am, lay_a, top, scale).unwrap();
    let sb = encrypt_matrix(&sim, &bm, lay_b, top, scale).unwrap();
    let sops = MatrixOps::new(&sim, unit).unwrap();
    sim.reset_counts();
    let sz = sops.diag_abt(&sa, &sb, AbtOutput::Tiled).unwrap();
    assert_eq!(
        n_ckks,
        sim.counts(),
        "abt {a}x{b}x{c}: CKKS and simulator counts"
    );
    let ours = cost::abt(a, b, c, unit, AbtOutput::Tiled);
    assert_eq!(
        (n_ckks.mul, n_ckks.relin, n_ckks.rotations()),
        (ours.mul, ours.relin, ours.rot)
    );
    assert_eq!(z.level(), sz.level());

    // A^T B with A = Y (fresh, at `top - 2` to exercise the level logic) and B = A above.
    let ey = encrypt_matrix(&ev, &ym, lay_y, top - 2, scale).unwrap();
    ev.reset_counts();
    let g = ops.diag_atb(&ey, &ea, variant).unwrap();
    let n_ckks = ev.counts();
    let got = decrypt_matrix(&ev, &g).unwrap();
    let err = rel_err_log2(&got, &atb_plain(&ym, &am, a, b, c));
    println!("atb {a}x{b}x{c} {variant:?}: rel err 2^{err:.1}; {n_ckks}");
    assert!(
        err < -15.0,
        "atb {a}x{b}x{c} {variant:?}: relative error 2^{err:.1}"
    );

    // The fused-fold variant: same product within noise.
    let g = ops.diag_atb_folded(&ey, &ea, variant).unwrap();
    let got = decrypt_matrix(&ev, &g).unwrap();
    let err = rel_err_log2(&got, &atb_plain(&ym, &am, a, b, c));
    println!("atb folded {a}x{b}x{c} {variant:?}: rel err 2^{err:.1}");
    assert!(
        err < -15.0,
        "atb folded {a}x{b}x{c} {variant:?}: relative error 2^{err:.1}"
    );

    // The factored variant (masks on Y's side): same product.
    if variant == AtbVariant::ShiftLhs {
        let g = ops.diag_atb_factored(&ey, &ea).unwrap();
        let got = decrypt_matrix(&ev, &g).unwrap();
        let err = rel_err_log2(&got, &atb_plain(&ym, &am, a, b, c));
        println!("atb factored {a}x{b}x{c}: rel err 2^{err:.1}");
        assert!(
            err < -15.0,
            "atb factored {a}x{b}x{c}: relative error 2^{err:.1}"
        );
    }

    let sy = encrypt_matrix(&sim, &ym, lay_y, top - 2, scale).unwrap();
    sim.reset_counts();
    let sg = sops.diag_atb(&sy, &sa, variant).unwrap();
    assert_eq!(
        n_ckks,
        sim.counts(),
        "atb {a}x{b}x{c}: CKKS and simulator counts"
    );
    assert_eq!(g.level(), sg.level());
}

#[test]
fn scaled_and_ragged_shapes_on_n12() {
    let units = |s0| UnitShape::new(s0, 2048 / s0).unwrap();
    // The five HETAL shapes scaled to 2^11 slots (s0 = a, several column blocks) ...
    check_shape(
        Params::insecure_n12(),
        units(32),
        (32, 150, 4),
        AtbVariant::ShiftLhs,
    );
    check_shape(
        Params::insecure_n12(),
        units(128),
        (128, 77, 8),
        AtbVariant::ShiftRhs,
    );
    // ... and ragged ones: partial blocks in both directions, c = 3 and 7 padded.
    check_shape(
        Params::insecure_n12(),
        units(64),
        (100, 45, 3),
        AtbVariant::Auto,
    );
    check_shape(
        Params::insecure_n12(),
        units(32),
        (50, 70, 7),
        AtbVariant::ShiftRhs,
    );
}

/// `sum_products` on CKKS: same value (within noise) and counts as the
/// simulator's default, one relinearization for the whole sum.
#[test]
fn sum_products_relinearizes_once() {
    let plan = RotationPlan::new();
    let s = setup(Params::insecure_n12(), &plan);
    let ev = CkksEngine::new(&s.ctx, &s.keys).with_secret_key(&s.sk, [3; 32]);
    let (top, scale) = (ev.max_level(), ev.default_scale());
    let n = ev.slot_count();
    let xs: Vec<Vec<f64>> = (0..6).map(|i| matrix(1, n, 10 + i)).collect();
    // Operands at mixed levels: the sum lives at the lowest.
    let cts: Vec<_> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            ev.encrypt_real(x, top - (i % 3 == 2) as usize, scale)
                .unwrap()
        })
        .collect();
    let pairs: Vec<_> = (0..3).map(|i| (&cts[2 * i], &cts[2 * i + 1])).collect();
    ev.reset_counts();
    let out = ev.sum_products(&pairs).unwrap();
    let counts = ev.counts();
    assert_eq!((counts.mul, counts.relin, counts.add), (3, 1, 2));
    assert_eq!(out.level(), top - 1);
    let got = ev.decrypt_real(&ev.rescale(&out).unwrap()).unwrap();
    let want: Vec<f64> = (0..n)
        .map(|k| (0..3).map(|i| xs[2 * i][k] * xs[2 * i + 1][k]).sum())
        .collect();
    let err = got
        .iter()
        .zip(&want)
        .fold(0.0f64, |m, (g, w)| m.max((g - w).abs()));
    assert!(err < 1e-6, "sum_products error {err}");

    let p = s.ctx.params();
    let sim = SlotSim::new(SimParams::new(n, p.q(), p.default_scale())).unwrap();
    let scts: Vec<_> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            sim.encrypt_real(x, top - (i % 3 == 2) as usize, scale)
                .unwrap()
        })
        .collect();
    let spairs: Vec<_> = (0..3).map(|i| (&scts[2 * i], &scts[2 * i + 1])).collect();
    sim.reset_counts();
    sim.sum_products(&spairs).unwrap();
    assert_eq!(sim.counts(), counts);
}

/// The five HETAL shapes at N = 2^16 (2^15 slots, `N16` preset, top level):
/// errors below 2^-15 and CKKS counts at most the paper's. Minutes and about
/// 8 GB; run under the N16 lock (command in the module documentation).
#[test]
#[ignore]
fn five_shapes_on_n16() {
    for &(a, b, c) in &[
        (128, 128, 4),
        (256, 256, 8),
        (512, 769, 4),
        (1024, 769, 8),
        (2048, 769, 16),
    ] {
        let unit = UnitShape::new(a, (1 << 15) / a).unwrap();
        check_shape(Params::n16(), unit, (a, b, c), AtbVariant::ShiftRhs);
        let ours = cost::abt(a, b, c, unit, AbtOutput::Tiled);
        let paper = cost::paper::diag_abt(a, b, c, unit);
        assert!(ours.mul <= paper.mult && ours.mul_plain <= paper.cmult && ours.rot <= paper.rot);
        let ours = cost::atb(a, b, c, unit, AtbVariant::ShiftRhs);
        let paper = cost::paper::diag_atb_rhs(a, b, c, unit);
        assert!(ours.mul <= paper.mult && ours.mul_plain <= paper.cmult && ours.rot <= paper.rot);
    }
}
