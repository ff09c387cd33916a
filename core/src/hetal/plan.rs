//! Bootstrap placement: where to refresh ciphertexts in a chain of stages so
//! that no stage runs out of levels and as few ciphertexts as possible are
//! bootstrapped.
//!
//! A circuit (a training step, the softmax) is a sequence of [`Stage`]s, each
//! consuming `depth` levels from the values that enter it, which are `width`
//! ciphertexts. Before any stage the engine may bootstrap those `width`
//! ciphertexts (cost `width`), which brings them to the bootstrap level. The
//! cheapest placement is found by dynamic programming over (stage, level), so
//! it is exact for any widths, including the case where bootstrapping the one
//! logits ciphertext early is cheaper than the many weight ciphertexts later.
//! No level numbers are hard-coded anywhere: they come from the preset.
//!
//! ```
//! use hetal_core::hetal::plan::{Stage, place_bootstraps};
//!
//! // Three stages of depth 4 each on one ciphertext, fresh at level 9,
//! // bootstrapping returns level 9: one bootstrap, before the third stage.
//! let stages = [Stage::new("a", 4, 1), Stage::new("b", 4, 1), Stage::new("c", 4, 1)];
//! let plan = place_bootstraps(&stages, 9, 9).unwrap();
//! assert_eq!(plan.before, vec![false, false, true]);
//! assert_eq!(plan.cost, 1);
//! assert_eq!(plan.final_level, 5);
//! ```

use alloc::vec;
use alloc::vec::Vec;

/// One stage of a circuit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Name (for reports).
    pub name: &'static str,
    /// Levels the stage consumes.
    pub depth: usize,
    /// Ciphertexts entering the stage (the cost of bootstrapping before it).
    pub width: usize,
}

impl Stage {
    /// A stage of `depth` levels on `width` ciphertexts.
    pub fn new(name: &'static str, depth: usize, width: usize) -> Self {
        Self { name, depth, width }
    }
}

/// Where to bootstrap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootstrapPlan {
    /// `before[i]`: bootstrap the inputs of stage `i` before running it.
    pub before: Vec<bool>,
    /// Ciphertexts bootstrapped in all.
    pub cost: usize,
    /// Level of the values after the last stage.
    pub final_level: usize,
    /// Level of the values entering each stage (after any bootstrap).
    pub entry_levels: Vec<usize>,
}

impl BootstrapPlan {
    /// Number of bootstrap points.
    pub fn points(&self) -> usize {
        self.before.iter().filter(|&&b| b).count()
    }
}

/// Why no placement exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// A stage needs more levels than a bootstrap provides.
    StageTooDeep {
        /// The stage.
        name: &'static str,
        /// Its depth.
        depth: usize,
        /// Levels after a bootstrap.
        boot_level: usize,
    },
}

impl core::fmt::Display for PlanError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::StageTooDeep {
                name,
                depth,
                boot_level,
            } => write!(
                f,
                "stage {name} needs {depth} levels, bootstrapping gives {boot_level}"
            ),
        }
    }
}

impl core::error::Error for PlanError {}

/// The cheapest bootstrap placement for `stages`, starting at `start_level`,
/// with bootstraps returning `boot_level`. Among placements of equal cost the
/// one ending at the highest level wins (it leaves the most for what follows).
pub fn place_bootstraps(
    stages: &[Stage],
    start_level: usize,
    boot_level: usize,
) -> Result<BootstrapPlan, PlanError> {
    if let Some(s) = stages.iter().find(|s| s.depth > boot_level) {
        return Err(PlanError::StageTooDeep {
            name: s.name,
            depth: s.depth,
            boot_level,
        });
    }
    let levels = start_level.max(boot_level) + 1;
    // best[l] = (cost, choices) of reaching the current point at level l.
    let mut best: Vec<Option<(usize, Vec<bool>)>> = vec![None; levels];
    best[start_level] = Some((0, Vec::new()));
    for stage in stages {
        let mut next: Vec<Option<(usize, Vec<bool>)>> = vec![None; levels];
        for (level, entry) in best.iter().enumerate() {
            let Some((cost, path)) = entry else { continue };
            if level >= stage.depth {
                relax(&mut next, level - stage.depth, *cost, path, false);
            }
            relax(
                &mut next,
                boot_level - stage.depth,
                cost + stage.width,
                path,
                true,
            );
        }
        best = next;
    }
    let (final_level, (cost, before)) = best
        .into_iter()
        .enumerate()
        .filter_map(|(l, e)| e.map(|e| (l, e)))
        .min_by(|(la, a), (lb, b)| a.0.cmp(&b.0).then(lb.cmp(la)))
        .expect("the bootstrap-everywhere path always exists");
    let entry_levels = entry_levels(stages, &before, start_level, boot_level);
    Ok(BootstrapPlan {
        before,
        cost,
        final_level,
        entry_levels,
    })
}

fn relax(
    next: &mut [Option<(usize, Vec<bool>)>],
    level: usize,
    cost: usize,
    path: &[bool],
    boot: bool,
) {
    if next[level].as_ref().is_none_or(|(c, _)| cost < *c) {
        let mut p = path.to_vec();
        p.push(boot);
        next[level] = Some((cost, p));
    }
}

fn entry_levels(stages: &[Stage], before: &[bool], start: usize, boot: usize) -> Vec<usize> {
    let mut level = start;
    stages
        .iter()
        .zip(before)
        .map(|(s, &b)| {
            if b {
                level = boot;
            }
            let entry = level;
            level -= s.depth;
            entry
        })
        .collect()
}
