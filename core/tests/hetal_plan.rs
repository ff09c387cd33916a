//! Bootstrap placement against exhaustive search.

use hetal_core::hetal::plan::{PlanError, Stage, place_bootstraps};
use proptest::prelude::*;

/// Cost and final level of a given placement, or None if a stage runs out.
fn simulate(
    stages: &[Stage],
    before: &[bool],
    start: usize,
    boot: usize,
) -> Option<(usize, usize)> {
    let (mut level, mut cost) = (start, 0);
    for (s, &b) in stages.iter().zip(before) {
        if b {
            level = boot;
            cost += s.width;
        }
        level = level.checked_sub(s.depth)?;
    }
    Some((cost, level))
}

proptest! {
    #[test]
    fn dynamic_programme_matches_brute_force(
        spec in prop::collection::vec((0usize..6, 1usize..5), 1..9),
        start in 0usize..12,
        boot in 5usize..12,
    ) {
        let stages: Vec<Stage> = spec.iter().map(|&(d, w)| Stage::new("s", d, w)).collect();
        let plan = place_bootstraps(&stages, start, boot).unwrap();
        // The plan is valid and reports itself truthfully.
        let (cost, level) = simulate(&stages, &plan.before, start, boot).unwrap();
        prop_assert_eq!((cost, level), (plan.cost, plan.final_level));
        // No placement is cheaper, and none of equal cost ends higher.
        for mask in 0u32..(1 << stages.len()) {
            let before: Vec<bool> = (0..stages.len()).map(|i| mask >> i & 1 == 1).collect();
            if let Some((c, l)) = simulate(&stages, &before, start, boot) {
                prop_assert!(c > plan.cost || (c == plan.cost && l <= plan.final_level));
            }
        }
    }
}

#[test]
fn prefers_bootstrapping_the_narrow_point() {
    // Weights (8 ciphertexts) enter a deep stage after a narrow one (1 ciphertext):
    // refreshing the single ciphertext early beats refreshing eight later.
    let stages = [
        Stage::new("logits", 2, 1),
        Stage::new("softmax", 7, 1),
        Stage::new("gradient", 3, 8),
    ];
    let plan = place_bootstraps(&stages, 6, 10).unwrap();
    assert_eq!(plan.before, vec![false, true, false]);
    assert_eq!(plan.entry_levels, vec![6, 10, 3]);
    assert_eq!((plan.cost, plan.points(), plan.final_level), (1, 1, 0));
}

#[test]
fn rejects_a_stage_deeper_than_a_bootstrap() {
    let stages = [Stage::new("max", 12, 1)];
    assert_eq!(
        place_bootstraps(&stages, 12, 9),
        Err(PlanError::StageTooDeep {
            name: "max",
            depth: 12,
            boot_level: 9
        })
    );
}
