//! `core::linalg` on the exact simulator: DiagABT and DiagATB against plaintext
//! products (integer matrices, so every slot must be exact), at the five
//! shapes of HETAL.md §3.7 and at ragged shapes; operation counts against our
//! closed forms and at most the paper's; rotation plans exact.

use hetal_core::linalg::{
    AbtOutput, AtbVariant, BlockLayout, EncMatrix, LinalgError, MatrixOps, RotationPlan, Tiling,
    UnitShape, cost, decrypt_matrix, encrypt_matrix,
};
use hetal_core::slots::{OpCounts, SimValue, SlotCrypt, SlotError, SlotOps, SlotSim};

mod common;

use common::linalg::*;

struct AbtRun {
    counts: OpCounts,
    out: EncMatrix<SimValue>,
    want: Vec<f64>,
}

fn run_abt(
    sim: &SlotSim,
    unit: UnitShape,
    (a, b, c): (usize, usize, usize),
    out: AbtOutput,
) -> AbtRun {
    let am = int_matrix(a, b, 1 + a as u64);
    let bm = int_matrix(c, b, 2 + c as u64);
    let (top, scale) = (sim.max_level(), sim.default_scale());
    let ea = encrypt_matrix(
        sim,
        &am,
        BlockLayout::plain(a, b, unit).unwrap(),
        top,
        scale,
    )
    .unwrap();
    let eb = encrypt_matrix(
        sim,
        &bm,
        BlockLayout::vertical(c, b, unit).unwrap(),
        top,
        scale,
    )
    .unwrap();
    let ops = MatrixOps::new(sim, unit).unwrap();
    sim.reset_counts();
    let res = ops.diag_abt(&ea, &eb, out).unwrap();
    AbtRun {
        counts: sim.counts(),
        out: res,
        want: abt_plain(&am, &bm, a, b, c),
    }
}

fn run_atb(
    sim: &SlotSim,
    unit: UnitShape,
    (a, b, c): (usize, usize, usize),
    variant: AtbVariant,
    level_a: usize,
) -> AbtRun {
    let am = int_matrix(a, c, 3 + a as u64);
    let bm = int_matrix(a, b, 4 + b as u64);
    let (top, scale) = (sim.max_level(), sim.default_scale());
    let ea = encrypt_matrix(
        sim,
        &am,
        BlockLayout::horizontal(a, c, unit).unwrap(),
        level_a,
        scale,
    )
    .unwrap();
    let eb = encrypt_matrix(
        sim,
        &bm,
        BlockLayout::plain(a, b, unit).unwrap(),
        top,
        scale,
    )
    .unwrap();
    let ops = MatrixOps::new(sim, unit).unwrap();
    sim.reset_counts();
    let res = ops.diag_atb(&ea, &eb, variant).unwrap();
    AbtRun {
        counts: sim.counts(),
        out: res,
        want: atb_plain(&am, &bm, a, b, c),
    }
}

fn bench_unit(a: usize) -> UnitShape {
    UnitShape::new(a, (1 << 15) / a).unwrap()
}

#[test]
fn abt_exact_and_counts_at_the_five_shapes() {
    let base = sim(1 << 15);
    for &(a, b, c) in &SHAPES {
        let unit = bench_unit(a);
        for out in [AbtOutput::Tiled, AbtOutput::Compact] {
            // Only the planned keys: the product must run, and use all of them.
            let plan = RotationPlan::abt(unit, c, out);
            let sim = SlotSim::new(base.params().clone())
                .unwrap()
                .with_rotation_keys(plan.steps());
            let run = run_abt(&sim, unit, (a, b, c), out);
            assert_eq!(
                sim.used_rotations(),
                plan.offsets(),
                "abt {a}x{b}x{c} {out:?} plan"
            );
            assert!(sim.used_conjugation() && plan.conjugation());
            assert_slots_exact(
                &sim,
                &run.out,
                &run.want,
                &format!("abt {a}x{b}x{c} {out:?}"),
            );
            assert_eq!(run.out.level(), sim.max_level() - 3, "depth 3");
            let ours = cost::abt(a, b, c, unit, out);
            let n = run.counts;
            assert_eq!(
                (n.mul, n.relin, n.mul_plain, n.rotations(), n.conjugate),
                (ours.mul, ours.relin, ours.mul_plain, ours.rot, ours.conj),
                "abt {a}x{b}x{c} {out:?} counts vs cost::abt"
            );
            let paper = cost::paper::diag_abt(a, b, c, unit);
            assert!(
                n.mul <= paper.mult && n.mul_plain <= paper.cmult && n.rotations() <= paper.rot,
                "abt {a}x{b}x{c} {out:?}: {n} above the paper's {paper:?}"
            );
            if out == AbtOutput::Tiled {
                assert_eq!(n.mul_plain, paper.cmult);
                assert_eq!(n.rotations(), paper.rot);
                assert_eq!(n.mul, paper.mult);
                assert_eq!(run.out.layout().tiling, Tiling::Horizontal { period: c });
            }
        }
    }
}

#[test]
fn atb_exact_and_counts_at_the_five_shapes() {
    let base = sim(1 << 15);
    let top = base.max_level();
    for &(a, b, c) in &SHAPES {
        let unit = bench_unit(a);
        for variant in [AtbVariant::ShiftLhs, AtbVariant::ShiftRhs] {
            let plan = RotationPlan::atb(unit, c, variant);
            let sim = SlotSim::new(base.params().clone())
                .unwrap()
                .with_rotation_keys(plan.steps());
            let run = run_atb(&sim, unit, (a, b, c), variant, top);
            let what = format!("atb {a}x{b}x{c} {variant:?}");
            assert_eq!(sim.used_rotations(), plan.offsets(), "{what}: plan");
            assert_slots_exact(&sim, &run.out, &run.want, &what);
            let ours = cost::atb(a, b, c, unit, variant);
            let n = run.counts;
            assert_eq!(
                (n.mul, n.relin, n.mul_plain, n.rotations(), n.conjugate),
                (ours.mul, ours.relin, ours.mul_plain, ours.rot, ours.conj),
                "{what}: counts vs cost::atb"
            );
            assert_eq!(
                run.out.level() as u64,
                top as u64 - ours.depth_lhs,
                "{what}: depth"
            );
            let paper = match variant {
                AtbVariant::ShiftLhs => cost::paper::diag_atb_lhs(a, b, c, unit),
                _ => cost::paper::diag_atb_rhs(a, b, c, unit),
            };
            assert!(
                n.mul <= paper.mult && n.mul_plain <= paper.cmult && n.rotations() <= paper.rot,
                "{what}: {n} above the paper's {paper:?}"
            );
        }
    }
}

#[test]
fn atb_rhs_variant_saves_a_level_when_a_is_lower() {
    let sim = sim(1 << 12);
    let unit = UnitShape::new(64, 64).unwrap();
    let top = sim.max_level();
    let shape = (100, 90, 6);
    let lhs = run_atb(&sim, unit, shape, AtbVariant::ShiftLhs, top - 2);
    let rhs = run_atb(&sim, unit, shape, AtbVariant::ShiftRhs, top - 2);
    let auto = run_atb(&sim, unit, shape, AtbVariant::Auto, top - 2);
    assert_eq!(lhs.out.level(), top - 6);
    assert_eq!(rhs.out.level(), top - 5);
    assert_eq!(auto.out.level(), top - 5);
    for r in [&lhs, &rhs, &auto] {
        assert_slots_exact(&sim, &r.out, &r.want, "atb level variant");
    }
    assert_eq!(AtbVariant::Auto.resolve(7, 7), AtbVariant::ShiftRhs);
    assert_eq!(AtbVariant::Auto.resolve(8, 7), AtbVariant::ShiftLhs);
}

/// Ragged shapes: several row and column blocks, partial blocks, c = 3 and 7 padded to 4 and 8.
#[test]
fn ragged_shapes_exact() {
    let sim = sim(1 << 10);
    let unit = UnitShape::new(32, 32).unwrap();
    for shape in [
        (70, 45, 3),
        (33, 100, 7),
        (5, 31, 2),
        (64, 64, 8),
        (90, 17, 1),
    ] {
        for out in [AbtOutput::Tiled, AbtOutput::Compact] {
            let run = run_abt(&sim, unit, shape, out);
            assert_slots_exact(&sim, &run.out, &run.want, &format!("abt {shape:?} {out:?}"));
            let ours = cost::abt(shape.0, shape.1, shape.2, unit, out);
            assert_eq!(
                run.counts.rotations(),
                ours.rot,
                "abt {shape:?} {out:?} rotations"
            );
            assert_eq!(run.counts.mul, ours.mul);
        }
        for variant in [AtbVariant::ShiftLhs, AtbVariant::ShiftRhs] {
            let run = run_atb(&sim, unit, shape, variant, sim.max_level());
            assert_slots_exact(
                &sim,
                &run.out,
                &run.want,
                &format!("atb {shape:?} {variant:?}"),
            );
            let ours = cost::atb(shape.0, shape.1, shape.2, unit, variant);
            assert_eq!(
                run.counts.rotations(),
                ours.rot,
                "atb {shape:?} {variant:?} rotations"
            );
            assert_eq!(
                run.counts.mul_plain, ours.mul_plain,
                "atb {shape:?} {variant:?} cmult"
            );
        }
    }
}

/// The ABT output (tiled) feeds ATB directly: `(A B^T)^T A`.
#[test]
fn abt_output_feeds_atb() {
    let sim = sim(1 << 12);
    let unit = UnitShape::new(64, 64).unwrap();
    let (a, b, c) = (100, 70, 5);
    let run = run_abt(&sim, unit, (a, b, c), AbtOutput::Tiled);
    let xm = int_matrix(a, b, 99);
    let ex = encrypt_matrix(
        &sim,
        &xm,
        BlockLayout::plain(a, b, unit).unwrap(),
        sim.max_level(),
        sim.default_scale(),
    )
    .unwrap();
    let ops = MatrixOps::new(&sim, unit).unwrap();
    let g = ops.diag_atb(&run.out, &ex, AtbVariant::Auto).unwrap();
    let want = atb_plain(&run.want, &xm, a, b, c);
    assert_slots_exact(&sim, &g, &want, "abt -> atb");
}

/// Without the conjugation key the products refuse (typed error, no wrong result).
#[test]
fn missing_keys_are_errors() {
    let unit = UnitShape::new(32, 32).unwrap();
    let s = sim(1 << 10).with_conjugation_key(false);
    let am = int_matrix(8, 8, 1);
    let ea = encrypt_matrix(
        &s,
        &am,
        BlockLayout::plain(8, 8, unit).unwrap(),
        5,
        s.default_scale(),
    )
    .unwrap();
    let eb = encrypt_matrix(
        &s,
        &am[..16],
        BlockLayout::vertical(2, 8, unit).unwrap(),
        5,
        s.default_scale(),
    )
    .unwrap();
    let ops = MatrixOps::new(&s, unit).unwrap();
    assert_eq!(
        ops.diag_abt(&ea, &eb, AbtOutput::Tiled),
        Err(LinalgError::Slot(SlotError::MissingConjugationKey))
    );
    // A missing rotation key is named.
    let s = sim(1 << 10).with_rotation_keys([1, 2, 4, 8, 16]);
    let ea = encrypt_matrix(
        &s,
        &am,
        BlockLayout::plain(8, 8, unit).unwrap(),
        5,
        s.default_scale(),
    )
    .unwrap();
    let eb = encrypt_matrix(
        &s,
        &am[..16],
        BlockLayout::vertical(2, 8, unit).unwrap(),
        5,
        s.default_scale(),
    )
    .unwrap();
    let ops = MatrixOps::new(&s, unit).unwrap();
    assert_eq!(
        ops.diag_abt(&ea, &eb, AbtOutput::Tiled),
        Err(LinalgError::Slot(SlotError::MissingRotationKey {
            offset: 32
        }))
    );
    // Shapes that do not fit are refused before any operation.
    assert!(matches!(
        ops.diag_abt(&eb, &ea, AbtOutput::Tiled),
        Err(LinalgError::Shape(_))
    ));
    assert!(matches!(
        ops.diag_atb(&ea, &ea, AtbVariant::Auto),
        Err(LinalgError::Shape(_))
    ));
}

#[test]
fn layouts_round_trip_and_reject_bad_shapes() {
    let sim = sim(1 << 10);
    let unit = UnitShape::new(16, 64).unwrap();
    let m = int_matrix(37, 70, 5);
    let layout = BlockLayout::plain(37, 70, unit).unwrap();
    let e = encrypt_matrix(&sim, &m, layout, 3, sim.default_scale()).unwrap();
    assert_eq!(e.blocks().len(), 3 * 2);
    assert_eq!(e.level(), 3);
    assert_eq!(decrypt_matrix(&sim, &e).unwrap(), m);
    let w = int_matrix(5, 70, 6);
    let e = encrypt_matrix(
        &sim,
        &w,
        BlockLayout::vertical(5, 70, unit).unwrap(),
        3,
        sim.default_scale(),
    )
    .unwrap();
    assert_eq!(e.blocks().len(), 2);
    // Rows repeat with period 8, rows 5..8 of each period are zero.
    let slots = sim.decrypt_real(e.block(0, 0)).unwrap();
    assert_eq!(slots[8 * 64 + 3], w[3]);
    assert_eq!(slots[6 * 64], 0.0);
    let y = int_matrix(37, 3, 7);
    let e = encrypt_matrix(
        &sim,
        &y,
        BlockLayout::horizontal(37, 3, unit).unwrap(),
        3,
        sim.default_scale(),
    )
    .unwrap();
    assert_eq!(decrypt_matrix(&sim, &e).unwrap(), y);
    let slots = sim.decrypt_real(e.block(1, 0)).unwrap();
    assert_eq!(slots[2 * 64 + 4 + 1], y[(16 + 2) * 3 + 1]);
    assert!(BlockLayout::vertical(17, 4, unit).is_err());
    assert!(BlockLayout::horizontal(4, 65, unit).is_err());
    assert!(MatrixOps::new(&sim, UnitShape::new(16, 16).unwrap()).is_err());
    assert!(
        encrypt_matrix(
            &sim,
            &m[1..],
            BlockLayout::plain(37, 70, unit).unwrap(),
            3,
            1e12
        )
        .is_err()
    );
}
