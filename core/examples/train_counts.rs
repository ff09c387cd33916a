//! Operation counts of one HETAL training step at the paper's five shapes, on
//! the exact simulator with `boot_N16`'s chain (9 levels after a bootstrap):
//! products, rotations, key switches and bootstraps per step (mean of 8
//! steps after a warm-up), the cost model
//! behind `bench-train`.
//!
//! ```text
//! cargo run --release -p hetal-core --example train_counts [shape ...]
//! ```
//!
//! A shape is a paper shape's name or `BATCH:CLASSES:COLS` (bias column
//! included), e.g. `128:10:65` for the demo set.

use hetal_core::ckks::Params;
use hetal_core::hetal::client;
use hetal_core::hetal::plain::Features;
use hetal_core::hetal::shapes::{PAPER_SHAPES, parse_shape};
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
use hetal_core::hetal::train::{NoClock, TrainLayout, Trainer, UpdateConfig};
use hetal_core::linalg::{UnitShape, padded_classes};
use hetal_core::slots::{SimParams, SlotOps, SlotSim};

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
    println!(
        "| shape | unit | X blocks | products | relins | rotations | key switches | bootstraps (softmax + policy) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for s in shapes {
        let sim = SlotSim::new(
            SimParams::new(params.max_slots(), params.q(), params.default_scale())
                .with_bootstrap(boot_level, 1e6),
        )
        .unwrap();
        let cp = padded_classes(s.classes);
        let softmax = Softmax::new(SoftmaxSpec::ours(s.classes, cp), s.classes, cp).unwrap();
        let unit = UnitShape::hetal(s.batch, s.classes, sim.slot_count()).unwrap();
        let layout = TrainLayout {
            unit,
            cols: s.cols,
            classes: s.classes,
        };
        // Random features in [-1, 1] with a bias column, random labels.
        let dim = s.cols - 1;
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let x: Vec<f64> = (0..s.batch * dim)
            .map(|_| (next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
            .collect();
        let y: Vec<usize> = (0..s.batch)
            .map(|_| (next() % s.classes as u64) as usize)
            .collect();
        let f = Features::prepare(&x, dim, &y, s.classes, 1.0).unwrap();
        let batches = client::encrypt_batches(&sim, &layout, &f, s.batch, 0).unwrap();
        // Counts do not depend on values; a small rate keeps the logits of
        // random 768-d features inside the softmax domain [-128, 128].
        let upd = UpdateConfig {
            lr: 1e-3,
            momentum: 0.9,
            weight_scale: 8.0,
        };
        let trainer = Trainer::new(&sim, &softmax, layout, upd, &NoClock).unwrap();
        let mut st = trainer.init_state(&batches[0].x).unwrap();
        // One warm-up step (fresh zeros), then the mean of the next `STEPS`.
        const STEPS: u64 = 8;
        trainer.step(&mut st, &batches[0]).unwrap();
        sim.reset_counts();
        let mut policy = 0;
        for _ in 0..STEPS {
            policy += trainer
                .step(&mut st, &batches[0])
                .unwrap()
                .policy_bootstraps as u64;
        }
        let o = sim.counts();
        let per = |v: u64| format!("{:.1}", v as f64 / STEPS as f64);
        println!(
            "| {} | {}x{} | {} | {} | {} | {} | {} | {} ({} + {}) |",
            s.name,
            unit.s0,
            unit.s1,
            batches[0].x.blocks().len(),
            per(o.mul),
            per(o.relin),
            per(o.rotations()),
            per(o.key_switches()),
            per(o.bootstrap),
            per(o.bootstrap - policy),
            per(policy),
        );
    }
}
