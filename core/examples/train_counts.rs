//! Operation counts of one HETAL training step at the paper's five shapes, on
//! the exact simulator with `boot_N16`'s chain (9 levels after a bootstrap):
//! bootstraps and key switches per step (mean of 8 steps after a warm-up) for
//! each softmax candidate of [`hetal_core::hetal::tune`], the one training
//! picks marked: the cost model behind `bench-train`.
//!
//! ```text
//! cargo run --release -p hetal-core --example train_counts [shape ...]
//! ```
//!
//! A shape is a paper shape's name or `BATCH:CLASSES:COLS` (bias column
//! included), e.g. `128:10:65` for the demo set.

use hetal_core::ckks::Params;
use hetal_core::hetal::shapes::{PAPER_SHAPES, parse_shape};
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
use hetal_core::hetal::train::TrainLayout;
use hetal_core::hetal::tune::{softmax_candidates, step_counts};
use hetal_core::linalg::{UnitShape, padded_classes};
use hetal_core::slots::{SimParams, SlotOps, SlotSim};

const STEPS: usize = 8;

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let shapes: Vec<_> = if names.is_empty() {
        PAPER_SHAPES.to_vec()
    } else {
        names
            .iter()
            .map(|n| parse_shape(n).expect("unknown shape"))
            .collect()
    };
    let params = Params::boot_n16();
    let boot_level = 9;
    let sim = SlotSim::new(
        SimParams::new(params.max_slots(), params.q(), params.default_scale())
            .with_bootstrap(boot_level, 1e6),
    )
    .unwrap();
    println!(
        "| shape | unit | softmax (`|t|` degree, squarings, depth) | key switches | bootstraps (softmax + policy) | |"
    );
    println!("|---|---|---|---|---|---|");
    for s in shapes {
        let unit = UnitShape::hetal(s.batch, s.classes, sim.slot_count()).unwrap();
        let layout = TrainLayout {
            unit,
            cols: s.cols,
            classes: s.classes,
        };
        let cp = padded_classes(s.classes);
        let default = Softmax::new(SoftmaxSpec::ours(s.classes, cp), s.classes, cp).unwrap();
        let mut rows = Vec::new();
        for sm in std::iter::once(default).chain(softmax_candidates(s.classes, 128.0)) {
            let c = step_counts(&sim, &layout, s.batch, &sm, STEPS).unwrap();
            rows.push((sm, c));
        }
        let best = (1..rows.len())
            .min_by(|&a, &b| {
                let (x, y) = (&rows[a].1, &rows[b].1);
                (x.bootstraps, x.key_switches)
                    .partial_cmp(&(y.bootstraps, y.key_switches))
                    .unwrap()
                    .then(a.cmp(&b))
            })
            .unwrap();
        for (i, (sm, c)) in rows.iter().enumerate() {
            let tag = match i {
                0 => "`SoftmaxSpec::ours`",
                _ if i == best => "**chosen**",
                _ => "",
            };
            println!(
                "| {} | {}x{} | {}, {}, {} | {:.1} | {:.1} ({:.1} + {:.1}) | {tag} |",
                s.name,
                unit.s0,
                unit.s1,
                sm.spec().max.abs_degree().unwrap_or(0),
                sm.spec().exp.squarings,
                sm.depth(),
                c.key_switches,
                c.bootstraps,
                c.bootstraps - c.policy_bootstraps,
                c.policy_bootstraps,
            );
        }
    }
}
