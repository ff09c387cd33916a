//! `core::linalg` on the exact simulator, continued: the fused-fold DiagATB
//! and the comparison baselines (Jin et al., Crockett), exact against
//! plaintext products, with their operation counts.

use hetal_core::linalg::{
    AtbVariant, BlockLayout, MatrixOps, RotationPlan, UnitShape, cost, encrypt_matrix,
};
use hetal_core::slots::{SlotCrypt, SlotOps, SlotSim};

mod common;

use common::linalg::*;

fn bench_unit(a: usize) -> UnitShape {
    UnitShape::new(a, (1 << 15) / a).unwrap()
}

/// The comparison baselines compute the same products, with the paper's counts.
#[test]
fn baselines_exact_with_paper_counts() {
    use hetal_core::linalg::baseline;
    let base = sim(1 << 15);
    for &(a, b, c) in &SHAPES[..3] {
        let unit = bench_unit(a);
        let am = int_matrix(a, b, 11);
        let bm = int_matrix(c, b, 12);
        let (top, scale) = (base.max_level(), base.default_scale());
        let ops = MatrixOps::new(&base, unit).unwrap();
        let ea = encrypt_matrix(
            &base,
            &am,
            BlockLayout::plain(a, b, unit).unwrap(),
            top,
            scale,
        )
        .unwrap();
        let eb = encrypt_matrix(
            &base,
            &bm,
            BlockLayout::plain(c, b, unit).unwrap(),
            top,
            scale,
        )
        .unwrap();
        base.reset_counts();
        let z = ops.colmajor_abt(&ea, &eb).unwrap();
        let n = base.counts();
        assert_slots_exact(&base, &z, &abt_plain(&am, &bm, a, b, c), "colmajor");
        let paper = cost::paper::colmajor(a, b, c, unit);
        assert_eq!(
            (n.mul_plain, n.mul, n.rotations()),
            (paper.cmult, paper.mult, paper.rot),
            "colmajor {a}x{b}x{c}"
        );

        let ym = int_matrix(a, c, 13);
        let ey = encrypt_matrix(
            &base,
            &ym,
            BlockLayout::plain(a, c, unit).unwrap(),
            top,
            scale,
        )
        .unwrap();
        base.reset_counts();
        let g = ops.rowmajor_atb(&ey, &ea).unwrap();
        let n = base.counts();
        assert_slots_exact(&base, &g, &atb_plain(&ym, &am, a, b, c), "rowmajor");
        // RowMajor: the paper lists the same counts as ColMajor.
        assert_eq!(
            (n.mul_plain, n.mul, n.rotations()),
            (paper.cmult, paper.mult, paper.rot),
            "rowmajor {a}x{b}x{c}"
        );
    }
    // Jin et al. at a small shape (b·c replicated values).
    let s = sim(1 << 10);
    let (a, b, c) = (40, 12, 3);
    let (top, scale) = (s.max_level(), s.default_scale());
    let am = int_matrix(a, b, 21);
    let bm = int_matrix(c, b, 22);
    let cols: Vec<_> = baseline::jin_columns(&am, a, b)
        .iter()
        .map(|v| s.encrypt_real(v, top, scale).unwrap())
        .collect();
    let reps: Vec<_> = bm
        .iter()
        .map(|&x| {
            s.encrypt_real(&baseline::jin_replicated(x, 1 << 10), top, scale)
                .unwrap()
        })
        .collect();
    s.reset_counts();
    let z = baseline::jin_abt(&s, b, c, |t| &cols[t], |j, t| &reps[j * b + t]).unwrap();
    assert_eq!(
        (s.counts().mul, s.counts().rotations()),
        (cost::paper::jin_abt(b, c).mult, 0)
    );
    let want = abt_plain(&am, &bm, a, b, c);
    for j in 0..c {
        let got = s.decrypt_real(&z[j]).unwrap();
        for i in 0..a {
            assert_eq!(got[i], want[i * c + j]);
        }
    }
    let ym = int_matrix(a, c, 23);
    let ycols: Vec<_> = baseline::jin_columns(&ym, a, c)
        .iter()
        .map(|v| s.encrypt_real(v, top, scale).unwrap())
        .collect();
    s.reset_counts();
    let g = baseline::jin_atb(&s, b, c, |m| &ycols[m], |j| &cols[j]).unwrap();
    let paper = cost::paper::jin_atb(b, c, UnitShape::new(32, 32).unwrap());
    assert_eq!(
        (s.counts().mul, s.counts().rotations()),
        (paper.mult, paper.rot)
    );
    let want = atb_plain(&ym, &am, a, b, c);
    for m in 0..c {
        for j in 0..b {
            assert!(
                s.decrypt_real(&g[m * b + j])
                    .unwrap()
                    .iter()
                    .all(|&x| x == want[m * b + j])
            );
        }
    }
}

/// The fused-fold DiagATB: same exact product, its own counts and keys, far
/// fewer rotations than the paper at the five shapes.
#[test]
fn atb_folded_exact_with_fewer_rotations() {
    let base = sim(1 << 15);
    let top = base.max_level();
    let run = |s: &SlotSim, unit: UnitShape, (a, b, c): (usize, usize, usize), variant| {
        let am = int_matrix(a, c, 3 + a as u64);
        let bm = int_matrix(a, b, 4 + b as u64);
        let scale = s.default_scale();
        let ea = encrypt_matrix(
            s,
            &am,
            BlockLayout::horizontal(a, c, unit).unwrap(),
            top,
            scale,
        )
        .unwrap();
        let eb =
            encrypt_matrix(s, &bm, BlockLayout::plain(a, b, unit).unwrap(), top, scale).unwrap();
        let ops = MatrixOps::new(s, unit).unwrap();
        s.reset_counts();
        let out = ops.diag_atb_folded(&ea, &eb, variant).unwrap();
        assert_slots_exact(
            s,
            &out,
            &atb_plain(&am, &bm, a, b, c),
            &format!("folded {a}x{b}x{c} {variant:?}"),
        );
        assert_eq!(
            out.level(),
            top - cost::atb(a, b, c, unit, variant).depth_lhs as usize
        );
        s.counts()
    };
    for &(a, b, c) in &SHAPES {
        let unit = bench_unit(a);
        for variant in [AtbVariant::ShiftLhs, AtbVariant::ShiftRhs] {
            let plan = RotationPlan::atb_folded(unit, c, variant);
            let s = SlotSim::new(base.params().clone())
                .unwrap()
                .with_rotation_keys(plan.steps());
            let n = run(&s, unit, (a, b, c), variant);
            assert_eq!(
                s.used_rotations(),
                plan.offsets(),
                "folded {a}x{b}x{c} {variant:?} plan"
            );
            let ours = cost::atb_folded(a, b, c, unit, variant);
            assert_eq!(
                (n.mul, n.relin, n.mul_plain, n.rotations(), n.conjugate),
                (ours.mul, ours.relin, ours.mul_plain, ours.rot, ours.conj),
                "folded {a}x{b}x{c} {variant:?} counts"
            );
            let paper = match variant {
                AtbVariant::ShiftLhs => cost::paper::diag_atb_lhs(a, b, c, unit),
                _ => cost::paper::diag_atb_rhs(a, b, c, unit),
            };
            assert!(
                n.rotations() < paper.rot && n.mul <= paper.mult,
                "folded {a}x{b}x{c}: {n}"
            );
            if a == 2048 {
                assert!(n.rotations() * 3 < paper.rot, "folded {a}x{b}x{c}: {n}");
            }
        }
    }
    let s = sim(1 << 10);
    let unit = UnitShape::new(32, 32).unwrap();
    for shape in [(70, 45, 3), (33, 100, 7), (5, 31, 2)] {
        for variant in [AtbVariant::ShiftLhs, AtbVariant::ShiftRhs] {
            run(&s, unit, shape, variant);
        }
    }
}

/// The factored DiagATB (masks on `A`'s side): the same exact product as the
/// others, its closed-form counts and keys, one level less of `A` than `ShiftLhs`,
/// one relinearization per column block, fewer key switches than the folded one at
/// the paper's shapes.
#[test]
fn atb_factored_exact_with_one_relinearization_per_block() {
    let base = sim(1 << 15);
    let top = base.max_level();
    let run = |s: &SlotSim, unit: UnitShape, (a, b, c): (usize, usize, usize)| {
        let am = int_matrix(a, c, 5 + a as u64);
        let bm = int_matrix(a, b, 6 + b as u64);
        let scale = s.default_scale();
        let layout = BlockLayout::horizontal(a, c, unit).unwrap();
        let ea = encrypt_matrix(s, &am, layout, top, scale).unwrap();
        let eb =
            encrypt_matrix(s, &bm, BlockLayout::plain(a, b, unit).unwrap(), top, scale).unwrap();
        let ops = MatrixOps::new(s, unit).unwrap();
        s.reset_counts();
        let out = ops.diag_atb_factored(&ea, &eb).unwrap();
        let what = format!("factored {a}x{b}x{c}");
        assert_slots_exact(s, &out, &atb_plain(&am, &bm, a, b, c), &what);
        assert_eq!(out.level(), top - 3, "{what}: level");
        s.counts()
    };
    for &(a, b, c) in &SHAPES {
        let unit = bench_unit(a);
        let plan = RotationPlan::atb_factored(unit, c);
        let s = SlotSim::new(base.params().clone())
            .unwrap()
            .with_rotation_keys(plan.steps());
        let n = run(&s, unit, (a, b, c));
        assert_eq!(
            s.used_rotations(),
            plan.offsets(),
            "factored {a}x{b}x{c} plan"
        );
        let ours = cost::atb_factored(a, b, c, unit);
        assert_eq!(
            (n.mul, n.relin, n.mul_plain, n.rotations(), n.conjugate),
            (ours.mul, ours.relin, ours.mul_plain, ours.rot, ours.conj),
            "factored {a}x{b}x{c} counts"
        );
        let folded = cost::atb_folded(a, b, c, unit, AtbVariant::ShiftLhs);
        // Fewer key switches where there are many column blocks to share `Y_u`.
        if b == 769 {
            assert!(
                ours.rot + ours.relin < folded.rot + folded.relin,
                "factored {a}x{b}x{c}: {ours:?} vs folded {folded:?}"
            );
        }
    }
    let s = sim(1 << 10);
    let unit = UnitShape::new(32, 32).unwrap();
    for shape in [(70, 45, 3), (33, 100, 7), (5, 31, 2)] {
        run(&s, unit, shape);
    }
}
