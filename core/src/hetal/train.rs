//! HETAL encrypted training: the step, its bootstrap policy, validation,
//! early stopping and inference, generic over [`SlotOps`].
//!
//! One step on a mini-batch `X` (`a x b`, plain block layout, bias column
//! included) with one-hot labels `Y` (`a x c`, tiled horizontally like the
//! logits):
//!
//! ```text
//! Z = X U^T              diag_abt, Tiled output       (U: look-ahead weights)
//! P = softmax_row(Z)     the wide-domain softmax      (bootstraps inside)
//! G = (P - Y)^T X        diag_atb (factored or folded, fewer key switches wins;
//!                        c x b, the weights' layout)
//! V' = mu V - k G,  U' = U + mu^2 V - (1 + mu) k G,   k = lr / a_true
//! ```
//!
//! The Nesterov update is the plaintext trainer's ([`super::plain::train`]:
//! look-ahead `L = W + mu V`, `V' = mu V - lr g(L)`, `W' = W + V'`) rewritten
//! in the look-ahead `U = W + mu V`, so the server never forms `W` during
//! training: `U' = W' + mu V' = U + mu^2 V - (1 + mu) lr g`. The update costs
//! one level, its constants landing every term exactly on `U`'s scale
//! ([`SlotOps::mul_const_scaled`]). The weights `W = U - mu V` are formed only
//! for validation and for the returned model.
//!
//! # Bootstrapping
//!
//! No level numbers are hard-coded: the policy reads the levels of the values
//! and the depths of the stages ([`crate::linalg::cost`], [`RowSoftmax::depth`]),
//! and bootstraps just in time, choosing the cheaper of two ways to keep the
//! weights usable (`nb` weight blocks, real values packed two per bootstrap):
//!
//! - the gradient arrives too low for the update to leave `U` usable, while
//!   `U` and `V` are high: refresh `G` (`nb / 2` bootstraps);
//! - `U` / `V` themselves run low: update at `G`'s level and refresh the
//!   pairs `(U_j, V_j)` (`nb` bootstraps, every few steps).
//!
//! `P - Y` is refreshed before `diag_atb` only if it is too low for it. The
//! softmax places its own bootstraps (see [`super::plan`]).

use alloc::vec::Vec;
use core::fmt;

use super::protocol::Decision;
use crate::linalg::{
    AbtOutput, AtbVariant, BlockLayout, EncMatrix, LinalgError, MatrixOps, RotationPlan, Tiling,
    UnitShape, cost, pack_capacity, pack_rotations, padded_classes,
};
use crate::slots::{Complex, Leveled, OpCounts, SlotError, SlotOps};

/// Why training failed.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainError {
    /// A slot operation failed (levels, scales, keys).
    Slot(SlotError),
    /// A slot operation failed inside a named stage of the step.
    Stage {
        /// The stage (`softmax`, `refresh P - Y`, `refresh gradient`, `refresh weights`, ...).
        stage: &'static str,
        /// What failed.
        error: SlotError,
    },
    /// A matrix operation failed (shapes, layouts).
    Linalg(LinalgError),
    /// The inputs do not fit together.
    Shape(&'static str),
    /// A stage needs more levels than a bootstrap gives.
    Levels {
        /// The stage.
        stage: &'static str,
        /// Levels it needs.
        need: usize,
        /// Levels a bootstrap leaves.
        have: usize,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Slot(e) => write!(f, "{e}"),
            Self::Stage { stage, error } => write!(f, "{stage}: {error}"),
            Self::Linalg(e) => write!(f, "{e}"),
            Self::Shape(s) => write!(f, "training inputs: {s}"),
            Self::Levels { stage, need, have } => write!(
                f,
                "{stage} needs {need} levels but a bootstrap leaves {have}"
            ),
        }
    }
}

impl core::error::Error for TrainError {}

impl From<SlotError> for TrainError {
    fn from(e: SlotError) -> Self {
        Self::Slot(e)
    }
}

impl From<LinalgError> for TrainError {
    fn from(e: LinalgError) -> Self {
        Self::Linalg(e)
    }
}

fn stage(name: &'static str) -> impl Fn(SlotError) -> TrainError {
    move |error| TrainError::Stage { stage: name, error }
}

fn restage(name: &'static str) -> impl Fn(TrainError) -> TrainError {
    move |e| match e {
        TrainError::Slot(error) => TrainError::Stage { stage: name, error },
        other => other,
    }
}

/// The row-wise softmax over one block of logits in the layout of
/// `diag_abt(.., AbtOutput::Tiled)` (classes tiled with period `c'`).
///
/// Implemented by the wide-domain softmax of [`super::softmax`]; the output
/// must be in the input's layout, with zero mass on the padded classes.
pub trait RowSoftmax<E: SlotOps> {
    /// Levels the softmax needs at its input when it must not bootstrap; it
    /// may bootstrap inside when the input has fewer.
    fn depth(&self) -> usize;
    /// Softmax of every row of `logits`.
    fn apply(&self, ev: &E, logits: &E::Value) -> Result<E::Value, SlotError>;
    /// The output on all-zero logits when it is the same constant on every
    /// real class (padded classes 0), e.g. `1/c` for a softmax. The first
    /// step from [`Trainer::init_state`] then skips the logits and this row
    /// function: its output is known without computing (for the wide-domain
    /// softmax, up to 7 bootstraps saved at `c' = 16`). `None`: always apply.
    fn at_zero(&self) -> Option<f64> {
        None
    }
}

/// A monotonic clock in seconds (the std shim passes one; `core` has none).
pub trait Clock {
    /// Seconds since an arbitrary origin.
    fn seconds(&self) -> f64;
}

/// A clock that always reads 0 (no instrumentation).
pub struct NoClock;

impl Clock for NoClock {
    fn seconds(&self) -> f64 {
        0.0
    }
}

/// Wall time per component, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Times {
    /// `diag_abt` (training logits).
    pub abt: f64,
    /// The softmax, its own bootstraps included.
    pub softmax: f64,
    /// `P - Y` and `diag_atb`.
    pub atb: f64,
    /// Bootstraps placed by the training policy (gradient, weights, `P - Y`).
    pub bootstrap: f64,
    /// The Nesterov update.
    pub update: f64,
    /// Validation logits (and forming `W`).
    pub validation: f64,
}

impl Times {
    /// The sum of all components.
    pub fn total(&self) -> f64 {
        self.abt + self.softmax + self.atb + self.bootstrap + self.update + self.validation
    }

    /// Adds `o` component by component.
    pub fn add(&mut self, o: &Times) {
        self.abt += o.abt;
        self.softmax += o.softmax;
        self.atb += o.atb;
        self.bootstrap += o.bootstrap;
        self.update += o.update;
        self.validation += o.validation;
    }

    /// The mean of `times`, component by component (zero for none).
    pub fn mean<'a>(times: impl IntoIterator<Item = &'a Times>) -> Times {
        let (mut sum, mut k) = (Times::default(), 0usize);
        for t in times {
            sum.add(t);
            k += 1;
        }
        let f = 1.0 / k.max(1) as f64;
        Times {
            abt: sum.abt * f,
            softmax: sum.softmax * f,
            atb: sum.atb * f,
            bootstrap: sum.bootstrap * f,
            update: sum.update * f,
            validation: sum.validation * f,
        }
    }
}

/// What one step cost.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepReport {
    /// Wall time per component.
    pub times: Times,
    /// Engine operations (counts of the whole step, softmax bootstraps included).
    pub ops: OpCounts,
    /// Bootstraps placed by the training policy (the softmax's are in `ops`).
    pub policy_bootstraps: usize,
}

/// Hyper-parameters of the encrypted update (the data's batching is fixed by
/// the client at encryption time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpdateConfig {
    /// Learning rate.
    pub lr: f64,
    /// Nesterov momentum `mu` in `[0, 1)`.
    pub momentum: f64,
    /// A power of two `r >= 1`: the server keeps `U / r` and `V / r`, so the
    /// values it bootstraps stay in `[-1, 1]` (EvalMod's accurate range) even
    /// when the weights grow past 1; logits and returned weights are multiplied
    /// back by the integer `r` (free). The client picks it from its plaintext
    /// run ([`weight_scale_for`]).
    pub weight_scale: f64,
}

/// The weight scale covering weights up to `max_abs` (e.g.
/// [`super::plain::TrainRun::max_abs_weight`]) with a 25% margin.
///
/// ```
/// use hetal_core::hetal::train::weight_scale_for;
/// assert_eq!(weight_scale_for(0.5), 1.0);
/// assert_eq!(weight_scale_for(3.5), 8.0);
/// ```
pub fn weight_scale_for(max_abs: f64) -> f64 {
    let m = 1.25 * max_abs;
    if m.is_finite() && m > 1.0 {
        libm::exp2(libm::ceil(libm::log2(m)))
    } else {
        1.0
    }
}

/// The softmax input domain `[-B, B]` for logits up to `max_abs_logit` (e.g.
/// [`super::plain::TrainRun::max_abs_logit`]): the power of two covering them
/// with a 50% margin (the encrypted run's logits follow the plaintext run's
/// closely), from 32 (the narrowest domain of [`super::protocol::TrainConfig::logit_bound`])
/// to 128 (HETAL's domain; `None` when even that is too narrow).
///
/// ```
/// use hetal_core::hetal::train::logit_bound_for;
/// assert_eq!(logit_bound_for(3.0), Some(32.0));
/// assert_eq!(logit_bound_for(30.0), Some(64.0));
/// assert_eq!(logit_bound_for(100.0), None);
/// ```
pub fn logit_bound_for(max_abs_logit: f64) -> Option<f64> {
    let m = 1.5 * max_abs_logit;
    if !m.is_finite() {
        return None;
    }
    let b = libm::exp2(libm::ceil(libm::log2(m.max(1.0)))).max(32.0);
    (b <= 128.0).then_some(b)
}

/// One encrypted mini-batch.
#[derive(Clone, Debug)]
pub struct EncBatch<V> {
    /// Features with the bias column, `rows x b`, plain layout.
    pub x: EncMatrix<V>,
    /// One-hot labels, `rows x c`, tiled horizontally (the logits' layout).
    pub y: EncMatrix<V>,
    /// True rows (the gradient is divided by this, also for a short last batch).
    pub rows: usize,
}

/// The layouts of the training matrices for a data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainLayout {
    /// Block shape.
    pub unit: UnitShape,
    /// Columns of the features, bias included.
    pub cols: usize,
    /// Classes (unpadded).
    pub classes: usize,
}

impl TrainLayout {
    /// Layout of a feature matrix of `rows` rows.
    pub fn features(&self, rows: usize) -> Result<BlockLayout, TrainError> {
        Ok(BlockLayout::plain(rows, self.cols, self.unit)?)
    }

    /// Layout of the one-hot labels of `rows` rows (the logits' layout).
    pub fn labels(&self, rows: usize) -> Result<BlockLayout, TrainError> {
        Ok(BlockLayout::horizontal(rows, self.classes, self.unit)?)
    }

    /// Layout of the weights (`classes x cols`, tiled vertically).
    pub fn weights(&self) -> Result<BlockLayout, TrainError> {
        Ok(BlockLayout::vertical(self.classes, self.cols, self.unit)?)
    }

    /// The exact rotation offsets a training run needs besides the softmax's
    /// (`diag_abt` for logits and validation, `diag_atb` in both folded variants, as
    /// `Auto` picks one by level, and factored, and packing weight blocks for bootstrapping,
    /// [`pack_rotations`]): what the client generates keys for.
    pub fn rotations(&self) -> Vec<isize> {
        let mut plan = RotationPlan::abt(self.unit, self.classes, AbtOutput::Tiled);
        plan.extend(&RotationPlan::from_steps(
            &pack_rotations(self.unit, padded_classes(self.classes)),
            self.unit.s0 * self.unit.s1,
            false,
        ));
        plan.extend(&RotationPlan::atb_folded(
            self.unit,
            self.classes,
            AtbVariant::ShiftLhs,
        ));
        plan.extend(&RotationPlan::atb_folded(
            self.unit,
            self.classes,
            AtbVariant::ShiftRhs,
        ));
        plan.extend(&RotationPlan::atb_factored(self.unit, self.classes));
        plan.steps()
    }

    /// One-hot rows of `labels` (`rows x classes`, row-major f64).
    pub fn one_hot(&self, labels: &[usize]) -> Vec<f64> {
        let mut y = alloc::vec![0.0; labels.len() * self.classes];
        for (r, &l) in labels.iter().enumerate() {
            if l < self.classes {
                y[r * self.classes + l] = 1.0;
            }
        }
        y
    }
}

/// The encrypted optimiser state: look-ahead weights `U = W + mu V` and
/// velocity `V`, both `classes x cols` in the weights' layout.
#[derive(Clone, Debug)]
pub struct NagState<V> {
    /// Look-ahead weights.
    pub u: EncMatrix<V>,
    /// Velocity.
    pub v: EncMatrix<V>,
    /// `U = V = 0` exactly, as [`Trainer::init_state`] makes them: the next
    /// step's logits are all zero, so it uses [`RowSoftmax::at_zero`]
    /// instead of computing them. Cleared by the first step; a state read
    /// back from a checkpoint is never fresh.
    pub fresh: bool,
}

/// The server side of HETAL training over an engine `E`.
pub struct Trainer<'e, E: SlotOps, S: RowSoftmax<E>> {
    ops: MatrixOps<'e, E>,
    softmax: &'e S,
    layout: TrainLayout,
    cfg: UpdateConfig,
    clock: &'e dyn Clock,
}

impl<'e, E: SlotOps, S: RowSoftmax<E>> Trainer<'e, E, S> {
    /// A trainer for data in `layout`; checks that every stage fits in what a
    /// bootstrap leaves (if the engine bootstraps).
    pub fn new(
        ev: &'e E,
        softmax: &'e S,
        layout: TrainLayout,
        cfg: UpdateConfig,
        clock: &'e dyn Clock,
    ) -> Result<Self, TrainError> {
        if !(cfg.lr.is_finite() && cfg.lr > 0.0 && (0.0..1.0).contains(&cfg.momentum)) {
            return Err(TrainError::Shape("learning rate or momentum out of range"));
        }
        let r = cfg.weight_scale;
        if !(r >= 1.0 && r <= (1u64 << 40) as f64 && (r as u64).is_power_of_two()) {
            return Err(TrainError::Shape(
                "weight scale must be a power of two >= 1",
            ));
        }
        let ops = MatrixOps::new(ev, layout.unit)?;
        let t = Self {
            ops,
            softmax,
            layout,
            cfg,
            clock,
        };
        if let Some(have) = ev.bootstrap_level() {
            let need = t.abt_depth() + 1;
            if need > have {
                return Err(TrainError::Levels {
                    stage: "logits (diag_abt) after the update",
                    need,
                    have,
                });
            }
            let need = t.atb_depth(have, have);
            if need > have {
                return Err(TrainError::Levels {
                    stage: "gradient (diag_atb)",
                    need,
                    have,
                });
            }
        }
        Ok(t)
    }

    fn ev(&self) -> &'e E {
        self.ops.engine()
    }

    /// Levels `diag_abt` takes from the weights.
    fn abt_depth(&self) -> usize {
        let l = &self.layout;
        cost::abt(l.unit.s0, l.cols, l.classes, l.unit, AbtOutput::Tiled).depth_rhs as usize
    }

    /// Levels `P - Y` at `level_d` needs for `diag_atb` against `X` at `level_x`
    /// to leave one level for the update.
    fn atb_depth(&self, level_d: usize, level_x: usize) -> usize {
        let l = &self.layout;
        let v = AtbVariant::Auto.resolve(level_d, level_x);
        cost::atb_folded(l.unit.s0, l.cols, l.classes, l.unit, v).depth_lhs as usize + 1
    }

    /// Whether `diag_atb_factored` computes the gradient: where it takes fewer key
    /// switches (closed-form counts; at the wide layouts, whose many column blocks
    /// share its per-product setup). Its output is never below the folded product's.
    fn factored_atb(&self, level_d: usize, level_x: usize) -> bool {
        let l = &self.layout;
        let (a, b, c, unit) = (l.unit.s0, l.cols, l.classes, l.unit);
        let variant = AtbVariant::Auto.resolve(level_d, level_x);
        let folded = cost::atb_folded(a, b, c, unit, variant);
        let factored = cost::atb_factored(a, b, c, unit);
        factored.rot + factored.relin < folded.rot + folded.relin
    }

    /// The all-zero initial state (HETAL starts from `W = 0`): zero times a
    /// block of `x` (an integer constant: no level), so no upload is needed.
    pub fn init_state(&self, x: &EncMatrix<E::Value>) -> Result<NagState<E::Value>, TrainError> {
        let layout = self.layout.weights()?;
        let zero = self.ev().mul_const(&x.blocks()[0], Complex::ZERO)?;
        let blocks = alloc::vec![zero; layout.block_count()];
        let u = EncMatrix::from_blocks(layout, blocks)?;
        Ok(NagState {
            v: u.clone(),
            u,
            fresh: true,
        })
    }

    /// One training step on `batch`; returns its cost.
    pub fn step(
        &self,
        st: &mut NagState<E::Value>,
        batch: &EncBatch<E::Value>,
    ) -> Result<StepReport, TrainError> {
        if batch.rows == 0 || batch.rows > batch.x.rows() || batch.x.rows() != batch.y.rows() {
            return Err(TrainError::Shape("batch rows"));
        }
        let ev = self.ev();
        let before = ev.counts();
        let mut rep = StepReport::default();

        let known = if st.fresh {
            self.softmax.at_zero()
        } else {
            None
        };
        let (mut d, t) = match known {
            Some(p0) => {
                let t = self.clock.seconds();
                (self.known_minus_labels(p0, &batch.y)?, t)
            }
            None => {
                let t = self.clock.seconds();
                let z = self.ops.diag_abt(&batch.x, &st.u, AbtOutput::Tiled)?;
                rep.times.abt = self.clock.seconds() - t;

                let t = self.clock.seconds();
                let p: Vec<E::Value> = z
                    .blocks()
                    .iter()
                    .map(|b| self.softmax.apply(ev, &self.unscale(b)?))
                    .collect::<Result<_, _>>()
                    .map_err(stage("softmax"))?;
                rep.times.softmax = self.clock.seconds() - t;

                let t = self.clock.seconds();
                (self.sub_labels(&p, &batch.y)?, t)
            }
        };
        let need = self.atb_depth(d[0].level(), batch.x.level());
        if d[0].level() < need {
            let tb = self.clock.seconds();
            d = self
                .refresh(&d, &mut rep)
                .map_err(restage("refresh P - Y"))?;
            rep.times.bootstrap += self.clock.seconds() - tb;
        }
        let d = EncMatrix::from_blocks(*batch.y.layout(), d)?;
        let mut g = if self.factored_atb(d.level(), batch.x.level()) {
            self.ops.diag_atb_factored(&d, &batch.x)?
        } else {
            self.ops.diag_atb_folded(&d, &batch.x, AtbVariant::Auto)?
        };
        rep.times.atb = self.clock.seconds() - t - rep.times.bootstrap;

        // Keep U usable for the next diag_abt (and one level for forming W).
        let need = self.abt_depth() + 1;
        let state_level = st.u.level().min(st.v.level());
        // The gradient term's factor: lr / rows, over the weight scale.
        let mut k = self.cfg.lr / batch.rows as f64 / self.cfg.weight_scale;
        let tb = self.clock.seconds();
        let low_g = g.level().min(state_level) < need + 1;
        if low_g && state_level > need && g.level() < state_level {
            // Scale G into the bootstrap's range first: raw G sums `rows`
            // terms. `|k G| <= lr / r` (|P - Y| <= 1, |x| <= 1), so dividing
            // by the power of two `s >= 1.25 lr / r` leaves it in [-1, 1].
            let s = weight_scale_for(self.cfg.lr / self.cfg.weight_scale);
            let scaled: Vec<E::Value> = g
                .blocks()
                .iter()
                .map(|b| self.to_scale(b, k / s, b.level() - 1, ev.default_scale()))
                .collect::<Result<_, _>>()?;
            // Packed, G may land a level below the state: fine as long as
            // the update (one level) still leaves U the `need` levels.
            let blocks = self
                .refresh_weight_blocks(&scaled, need + 1, &mut rep)
                .map_err(restage("refresh gradient"))?;
            g = EncMatrix::from_blocks(*g.layout(), blocks)?;
            k = s;
        }
        rep.times.bootstrap += self.clock.seconds() - tb;

        let t = self.clock.seconds();
        self.update(st, &g, k)?;
        st.fresh = false;
        rep.times.update = self.clock.seconds() - t;

        if st.u.level() < need {
            let tb = self.clock.seconds();
            self.refresh_state(st, &mut rep)
                .map_err(restage("refresh weights"))?;
            rep.times.bootstrap += self.clock.seconds() - tb;
        }
        rep.ops = ev.counts().since(&before);
        Ok(rep)
    }

    /// A logits block of `X (U/r)^T` times the integer `r` (free).
    fn unscale(&self, z: &E::Value) -> Result<E::Value, SlotError> {
        let r = self.cfg.weight_scale;
        if r == 1.0 {
            return Ok(z.clone());
        }
        self.ev().mul_const(z, Complex::from_real(r))
    }

    /// `P - Y` per block for the constant `P` of all-zero logits: `p0` on the
    /// real classes, 0 on the padded ones, in every row (rows beyond the
    /// batch too, as the softmax of their zero logits would give; their
    /// features are zero). No level spent.
    fn known_minus_labels(
        &self,
        p0: f64,
        y: &EncMatrix<E::Value>,
    ) -> Result<Vec<E::Value>, TrainError> {
        let ev = self.ev();
        let period = padded_classes(self.layout.classes);
        let values: Vec<f64> = (0..ev.slot_count())
            .map(|i| {
                if i % period < self.layout.classes {
                    p0
                } else {
                    0.0
                }
            })
            .collect();
        y.blocks()
            .iter()
            .map(|yb| {
                let p = ev.encode_real(&values, yb.level(), yb.scale())?;
                Ok(ev.neg(&ev.sub_plain(yb, &p)?)?)
            })
            .collect()
    }

    /// `P - Y` per block, `Y` brought to `P`'s level and exact scale (one
    /// level of `Y`, which is fresh).
    fn sub_labels(
        &self,
        p: &[E::Value],
        y: &EncMatrix<E::Value>,
    ) -> Result<Vec<E::Value>, TrainError> {
        if p.len() != y.blocks().len() {
            return Err(TrainError::Shape("labels and logits differ in blocks"));
        }
        let ev = self.ev();
        p.iter()
            .zip(y.blocks())
            .map(|(pb, yb)| {
                let y_at = self.to_scale(yb, 1.0, pb.level(), pb.scale())?;
                Ok(ev.sub(pb, &y_at)?)
            })
            .collect()
    }

    /// `c * a` at `level` with exactly `scale`: drop `a` to `level + 1`,
    /// multiply by `c` encoded so that the rescale lands on `scale`.
    fn to_scale(
        &self,
        a: &E::Value,
        c: f64,
        level: usize,
        scale: f64,
    ) -> Result<E::Value, TrainError> {
        let ev = self.ev();
        if a.level() <= level {
            return Err(TrainError::Slot(SlotError::LevelExhausted {
                op: "to_scale",
            }));
        }
        let a = ev.drop_to_level(a, level + 1)?;
        let q = ev.modulus(level + 1) as f64;
        let m = ev.mul_const_scaled(&a, Complex::new(c, 0.0), scale * q / a.scale())?;
        Ok(ev.rescale_owned(m)?)
    }

    /// The Nesterov update (one level): `V' = mu V - k G`,
    /// `U' = U + mu^2 V - (1 + mu) k G`, every term on `U`'s scale (`U`, `V`
    /// are kept divided by the weight scale, which `k` includes).
    fn update(
        &self,
        st: &mut NagState<E::Value>,
        g: &EncMatrix<E::Value>,
        k: f64,
    ) -> Result<(), TrainError> {
        let ev = self.ev();
        let mu = self.cfg.momentum;
        let level = st.u.level().min(st.v.level()).min(g.level());
        if level == 0 {
            return Err(TrainError::Slot(SlotError::LevelExhausted { op: "update" }));
        }
        let out = level - 1;
        let mut us = Vec::with_capacity(g.blocks().len());
        let mut vs = Vec::with_capacity(g.blocks().len());
        for ((u, v), gb) in st.u.blocks().iter().zip(st.v.blocks()).zip(g.blocks()) {
            let s = u.scale();
            let v_new = ev.sub(
                &self.to_scale(v, mu, out, s)?,
                &self.to_scale(gb, k, out, s)?,
            )?;
            let u_at = ev.drop_to_level(u, out)?;
            let u_new = ev.sub(
                &ev.add(&u_at, &self.to_scale(v, mu * mu, out, s)?)?,
                &self.to_scale(gb, (1.0 + mu) * k, out, s)?,
            )?;
            us.push(u_new);
            vs.push(v_new);
        }
        st.u = EncMatrix::from_blocks(*st.u.layout(), us)?;
        st.v = EncMatrix::from_blocks(*st.v.layout(), vs)?;
        Ok(())
    }

    /// Bootstraps real blocks, two per bootstrap.
    fn refresh(
        &self,
        blocks: &[E::Value],
        rep: &mut StepReport,
    ) -> Result<Vec<E::Value>, TrainError> {
        let ev = self.ev();
        let mut out = Vec::with_capacity(blocks.len());
        for pair in blocks.chunks(2) {
            if let [a, b] = pair {
                let (x, y) = ev.bootstrap_real_pair(a, b)?;
                out.push(x);
                out.push(y);
            } else {
                out.push(ev.bootstrap(&pair[0])?);
            }
            rep.policy_bootstraps += 1;
        }
        Ok(out)
    }

    /// Bootstraps every `U_j` and `V_j` (see [`Self::refresh_weight_blocks`]).
    fn refresh_state(
        &self,
        st: &mut NagState<E::Value>,
        rep: &mut StepReport,
    ) -> Result<(), TrainError> {
        let n = st.u.blocks().len();
        let both: Vec<E::Value> = st.u.blocks().iter().chain(st.v.blocks()).cloned().collect();
        let mut fresh = self.refresh_weight_blocks(&both, self.abt_depth() + 1, rep)?;
        let vs = fresh.split_off(n);
        st.u = EncMatrix::from_blocks(*st.u.layout(), fresh)?;
        st.v = EncMatrix::from_blocks(*st.v.layout(), vs)?;
        Ok(())
    }

    /// Bootstraps blocks in the weights' layout. Their distinct rows are
    /// packed `s0 / c'` blocks to a value ([`MatrixOps::pack_rows`]) when that
    /// takes fewer bootstraps and the result, one level below a bootstrap's
    /// output, still has `need_after` levels; otherwise two blocks per
    /// bootstrap ([`Self::refresh`]).
    fn refresh_weight_blocks(
        &self,
        blocks: &[E::Value],
        need_after: usize,
        rep: &mut StepReport,
    ) -> Result<Vec<E::Value>, TrainError> {
        let ev = self.ev();
        let period = padded_classes(self.layout.classes);
        let cap = pack_capacity(self.layout.unit, period);
        let n = blocks.len();
        let level = blocks.iter().map(|b| b.level()).min().unwrap_or(0);
        let packed_boots = n.div_ceil(cap.max(1)).div_ceil(2);
        let fits = ev.bootstrap_level().is_some_and(|b| b > need_after);
        if cap < 2 || level == 0 || !fits || packed_boots >= n.div_ceil(2) {
            return self.refresh(blocks, rep);
        }
        let same: Vec<E::Value> = blocks
            .iter()
            .map(|b| ev.drop_to_level(b, level))
            .collect::<Result<_, _>>()?;
        let packed = self.ops.pack_rows(&same, period)?;
        let fresh = self.refresh(&packed, rep)?;
        Ok(self.ops.unpack_rows(&fresh, period, n)?)
    }

    /// The weights `W = r (U/r - mu V/r)` (one level), refreshed if `diag_abt`
    /// could not use them and keep its logits above the last level, then multiplied
    /// by the integer weight scale `r`.
    pub fn weights(&self, st: &NagState<E::Value>) -> Result<EncMatrix<E::Value>, TrainError> {
        let ev = self.ev();
        let mu = self.cfg.momentum;
        let level = st.u.level().min(st.v.level());
        if level == 0 {
            return Err(TrainError::Slot(SlotError::LevelExhausted {
                op: "weights",
            }));
        }
        let w: Vec<E::Value> =
            st.u.blocks()
                .iter()
                .zip(st.v.blocks())
                .map(|(u, v)| {
                    let mv = self.to_scale(v, mu, level - 1, u.scale())?;
                    Ok(ev.sub(&ev.drop_to_level(u, level - 1)?, &mv)?)
                })
                .collect::<Result<_, TrainError>>()?;
        // The logits land `abt_depth` levels below `W`, at their full size (up to the
        // softmax's bound, up to 128): on the last level the modulus leaves only a few
        // bits above the scale (`N16`: q0 = 2^49 at scale 2^42, room for |z| < 64, less
        // than the widest domain, and CKKS would wrap), so they are kept at least one
        // level above it.
        let need = self.abt_depth() + 1;
        let w = if level - 1 < need {
            self.refresh_weight_blocks(&w, need, &mut StepReport::default())?
        } else {
            w
        };
        let w: Vec<E::Value> = w
            .iter()
            .map(|b| self.unscale(b))
            .collect::<Result<_, _>>()?;
        Ok(EncMatrix::from_blocks(*st.u.layout(), w)?)
    }

    /// Logits `X W^T` (`rows x classes`, tiled horizontally) for validation
    /// or encrypted inference.
    pub fn logits(
        &self,
        x: &EncMatrix<E::Value>,
        w: &EncMatrix<E::Value>,
    ) -> Result<EncMatrix<E::Value>, TrainError> {
        if x.cols() != self.layout.cols || w.layout().tiling == Tiling::None {
            return Err(TrainError::Shape(
                "features or weights do not match the layout",
            ));
        }
        Ok(self.ops.diag_abt(x, w, AbtOutput::Tiled)?)
    }
}

/// The outcome of [`train`].
#[derive(Clone, Debug)]
pub struct TrainOutcome<V> {
    /// The weights of the best epoch (the last epoch's if none improved).
    pub weights: EncMatrix<V>,
    /// Epochs run.
    pub epochs: usize,
    /// The epoch whose weights are returned (0: none improved).
    pub best_epoch: usize,
    /// Steps run.
    pub steps: usize,
    /// Time per component, summed over the run.
    pub times: Times,
    /// One report per step.
    pub steps_report: Vec<StepReport>,
}

/// Trains for at most `max_epochs` epochs over `batches`; after each epoch the
/// validation logits (one matrix per entry of `val`) go to `client`, which
/// decrypts them and answers whether the epoch improved (keep its weights)
/// and whether to stop. A client that never stops gives fixed-epoch training.
pub fn train<E: SlotOps, S: RowSoftmax<E>, C>(
    trainer: &Trainer<'_, E, S>,
    batches: &[EncBatch<E::Value>],
    val: &[EncMatrix<E::Value>],
    max_epochs: usize,
    mut client: C,
) -> Result<TrainOutcome<E::Value>, TrainError>
where
    C: FnMut(usize, &[EncMatrix<E::Value>]) -> Decision,
{
    let first = batches
        .first()
        .ok_or(TrainError::Shape("no training batch"))?;
    let mut st = trainer.init_state(&first.x)?;
    let mut best = None;
    let (mut best_epoch, mut epochs, mut times) = (0, 0, Times::default());
    let mut reports = Vec::new();
    for epoch in 1..=max_epochs {
        for batch in batches {
            let rep = trainer.step(&mut st, batch)?;
            times.add(&rep.times);
            reports.push(rep);
        }
        epochs = epoch;
        let t = trainer.clock.seconds();
        let w = trainer.weights(&st)?;
        let logits: Vec<_> = val
            .iter()
            .map(|x| trainer.logits(x, &w))
            .collect::<Result<_, _>>()?;
        times.validation += trainer.clock.seconds() - t;
        let d = client(epoch, &logits);
        if d.improved {
            best = Some(w);
            best_epoch = epoch;
        }
        if d.stop {
            break;
        }
    }
    let weights = match best {
        Some(w) => w,
        None => trainer.weights(&st)?,
    };
    Ok(TrainOutcome {
        weights,
        epochs,
        best_epoch,
        steps: reports.len(),
        times,
        steps_report: reports,
    })
}
