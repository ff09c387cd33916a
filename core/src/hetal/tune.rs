//! Choosing the softmax's polynomials for a training layout by running steps
//! on the exact simulator.
//!
//! How many bootstraps a step costs depends on how the softmax's stages (a
//! max round of 6-8 levels, the exp, the inverse) fill the windows between
//! bootstraps together with the step's other stages: the level the logits
//! arrive at, the level the softmax hands `P` on at (below what DiagATB needs,
//! `P - Y` is refreshed), the level the gradient then leaves the weights at.
//! A deeper but more accurate `|t|` can remove a bootstrap or move one where
//! it refreshes more. Only the whole step shows it, and [`SlotSim`] runs the
//! step's exact level flow (the same code as on ciphertexts), so the choice is
//! made by counting, not by a rule that could drift from the trainer.
//!
//! ```
//! use hetal_core::ckks::Params;
//! use hetal_core::hetal::train::TrainLayout;
//! use hetal_core::hetal::tune::{softmax_candidates, step_counts};
//! use hetal_core::linalg::UnitShape;
//! use hetal_core::slots::{SimParams, SlotOps, SlotSim};
//!
//! let p = Params::insecure_train_n12();
//! let sim = SlotSim::new(
//!     SimParams::new(p.max_slots(), p.q(), p.default_scale()).with_bootstrap(9, 1e6),
//! )
//! .unwrap();
//! let unit = UnitShape::hetal(64, 3, sim.slot_count()).unwrap();
//! let layout = TrainLayout { unit, cols: 9, classes: 3 };
//! let sm = &softmax_candidates(3, 128.0)[0];
//! let c = step_counts(&sim, &layout, 64, sm, 2).unwrap();
//! assert!(c.bootstraps >= 1.0);
//! ```

use alloc::vec::Vec;

use super::client;
use super::plain::Features;
use super::softmax::{Softmax, SoftmaxSpec};
use super::train::{EncBatch, NoClock, RowSoftmax, TrainError, TrainLayout, Trainer, UpdateConfig};
use crate::linalg::padded_classes;
use crate::slots::{SlotOps, SlotSim};

/// Mean counts per training step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepCounts {
    /// Bootstraps (a real pair counting one), the softmax's included.
    pub bootstraps: f64,
    /// Of which placed by the training policy (`P - Y`, gradient, weights).
    pub policy_bootstraps: f64,
    /// Key switches outside the bootstraps (relinearizations and rotations).
    pub key_switches: f64,
}

/// Mean counts of `steps` full training steps (after one warm-up step, which
/// skips the softmax) of `softmax` on `layout` with batches of `batch` rows,
/// on `sim` (random features and labels: the counts depend on levels only).
pub fn step_counts<S: RowSoftmax<SlotSim>>(
    sim: &SlotSim,
    layout: &TrainLayout,
    batch: usize,
    softmax: &S,
    steps: usize,
) -> Result<StepCounts, TrainError> {
    let data = random_batch(sim, layout, batch)?;
    counts_on(sim, layout, &data, softmax, steps)
}

/// One batch of `rows` random rows in `[-1, 1]` (bias column included) with
/// random labels, encrypted on `sim` in `layout`.
fn random_batch(
    sim: &SlotSim,
    layout: &TrainLayout,
    rows: usize,
) -> Result<EncBatch<<SlotSim as SlotOps>::Value>, TrainError> {
    if layout.cols < 2 {
        return Err(TrainError::Shape("step_counts needs a feature"));
    }
    let dim = layout.cols - 1;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let x: Vec<f64> = (0..rows * dim)
        .map(|_| (next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        .collect();
    let y: Vec<usize> = (0..rows)
        .map(|_| (next() % layout.classes as u64) as usize)
        .collect();
    let f = Features::prepare(&x, dim, &y, layout.classes, 1.0)
        .map_err(|_| TrainError::Shape("step_counts features"))?;
    client::encrypt_batches(sim, layout, &f, rows, 0)?
        .into_iter()
        .next()
        .ok_or(TrainError::Shape("step_counts needs rows"))
}

/// [`step_counts`] on an encrypted batch.
fn counts_on<S: RowSoftmax<SlotSim>>(
    sim: &SlotSim,
    layout: &TrainLayout,
    data: &EncBatch<<SlotSim as SlotOps>::Value>,
    softmax: &S,
    steps: usize,
) -> Result<StepCounts, TrainError> {
    if steps == 0 {
        return Err(TrainError::Shape("step_counts needs steps"));
    }
    // A small rate keeps random logits far inside the softmax's domain.
    let upd = UpdateConfig {
        lr: 1e-3,
        momentum: 0.9,
        weight_scale: 8.0,
    };
    let trainer = Trainer::new(sim, softmax, *layout, upd, &NoClock)?;
    let mut st = trainer.init_state(&data.x)?;
    trainer.step(&mut st, data)?;
    sim.reset_counts();
    let mut policy = 0usize;
    for _ in 0..steps {
        policy += trainer.step(&mut st, data)?.policy_bootstraps;
    }
    let o = sim.counts();
    let per = |v: f64| v / steps as f64;
    Ok(StepCounts {
        bootstraps: per(o.bootstrap as f64),
        policy_bootstraps: per(policy as f64),
        key_switches: per(o.key_switches() as f64),
    })
}

/// `|t|` degrees tried per max round: depth 6, 7 and 8.
pub const ABS_DEGREES: [usize; 3] = [62, 126, 254];

/// Our softmaxes for `classes` classes on `[-bound, bound]` that
/// [`softmax_for_training`] chooses from: `|t|` of each of [`ABS_DEGREES`],
/// 5 exp squarings on `[-128, 128]` (4 on a narrower domain). Every one is
/// as accurate as the default or more (`softmax_error_table`).
pub fn softmax_candidates(classes: usize, bound: f64) -> Vec<Softmax> {
    let cp = padded_classes(classes);
    let squarings = if bound >= 128.0 { 5 } else { 4 };
    ABS_DEGREES
        .iter()
        .filter_map(|&deg| {
            let spec = SoftmaxSpec::ours_with(classes, cp, bound, deg, squarings);
            Softmax::new(spec, classes, cp).ok()
        })
        .collect()
}

/// The candidate of [`softmax_candidates`] with the fewest bootstraps per
/// step on `layout` (then the fewest key switches, then the lowest degree),
/// with its counts, from `steps` simulated steps each.
pub fn softmax_for_training(
    sim: &SlotSim,
    layout: &TrainLayout,
    batch: usize,
    bound: f64,
    steps: usize,
) -> Result<(Softmax, StepCounts), TrainError> {
    let data = random_batch(sim, layout, batch)?;
    let mut best: Option<(Softmax, StepCounts)> = None;
    let mut last_err = TrainError::Shape("no softmax candidate for these classes");
    for sm in softmax_candidates(layout.classes, bound) {
        let c = match counts_on(sim, layout, &data, &sm, steps) {
            Ok(c) => c,
            Err(e) => {
                last_err = e;
                continue;
            }
        };
        let better = best
            .as_ref()
            .is_none_or(|(_, b)| (c.bootstraps, c.key_switches) < (b.bootstraps, b.key_switches));
        if better {
            best = Some((sm, c));
        }
    }
    best.ok_or(last_err)
}
