//! The plaintext trainer: the same softmax regression, data preparation,
//! batches, Nesterov update and early stopping as the encrypted trainer, in
//! f64. It is the accuracy reference ("plaintext accuracy" in every table) and,
//! with an approximate softmax plugged in, the f64 model of encrypted training.
//!
//! Data preparation is HETAL's (and `shared/data/reference_train.py`'s): every
//! feature divided by the single largest `|x|` of the training set, then
//! clipped to `[-1, 1]`, and a constant-1 column appended for the bias.
//!
//! ```
//! use hetal_core::hetal::plain::{Features, NagConfig, train};
//!
//! // Two well separated classes on one feature.
//! let x = [-2.0, -1.5, -1.0, 1.0, 1.5, 2.0];
//! let y = [0, 0, 0, 1, 1, 1];
//! let scale = Features::max_abs(&x);
//! let data = Features::prepare(&x, 1, &y, 2, scale).unwrap();
//! let cfg = NagConfig { lr: 1.0, batch: 2, max_epochs: 20, ..NagConfig::default() };
//! let run = train(&data, &data, &cfg, &mut |z: &mut [f64]| hetal_core::hetal::plain::softmax_exact(z));
//! assert_eq!(run.model.accuracy(&data), 1.0);
//! ```

use alloc::vec;
use alloc::vec::Vec;

/// Why a data set cannot be prepared.
#[derive(Clone, Debug, PartialEq)]
pub enum DataError {
    /// `x.len()` is not `rows * dim`, or `y` has another row count.
    Shape {
        /// Feature values given.
        values: usize,
        /// Labels given.
        labels: usize,
        /// Columns per row.
        dim: usize,
    },
    /// No rows.
    Empty,
    /// A feature is NaN or infinite (row, column).
    NonFinite(usize, usize),
    /// A label is not below the class count (row, label).
    LabelOutOfRange(usize, usize),
    /// The scale is not a positive finite number.
    BadScale,
}

impl core::fmt::Display for DataError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Shape {
                values,
                labels,
                dim,
            } => write!(
                f,
                "{values} feature values and {labels} labels do not form rows of {dim}"
            ),
            Self::Empty => write!(f, "no rows"),
            Self::NonFinite(r, c) => write!(f, "feature at row {r}, column {c} is not finite"),
            Self::LabelOutOfRange(r, l) => write!(f, "label {l} at row {r} is out of range"),
            Self::BadScale => write!(f, "feature scale must be positive and finite"),
        }
    }
}

impl core::error::Error for DataError {}

/// Prepared features (scaled, clipped, bias column last) and labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// Row-major, `rows x cols`.
    pub x: Vec<f64>,
    /// Labels in `0..classes`.
    pub y: Vec<usize>,
    /// Columns including the bias column.
    pub cols: usize,
    /// Number of classes.
    pub classes: usize,
}

impl Features {
    /// The largest `|x|` (the HETAL scale, computed on the training set).
    pub fn max_abs(x: &[f64]) -> f64 {
        x.iter().fold(0.0, |m, v| f64::max(m, v.abs()))
    }

    /// The largest `|a_i - b_i|` (how far decrypted weights are from reference ones).
    ///
    /// ```
    /// use hetal_core::hetal::plain::Features;
    /// assert_eq!(Features::max_abs_diff(&[1.0, -2.0], &[1.5, -2.25]), 0.5);
    /// ```
    pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .fold(0.0, |m, (x, y)| f64::max(m, (x - y).abs()))
    }

    /// Scales raw features `x` (`rows x dim`) by `1 / scale`, clips to `[-1, 1]`
    /// and appends the bias column; checks shapes, finiteness and labels.
    pub fn prepare(
        x: &[f64],
        dim: usize,
        y: &[usize],
        classes: usize,
        scale: f64,
    ) -> Result<Self, DataError> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(DataError::BadScale);
        }
        if dim == 0 || x.len() != y.len() * dim {
            return Err(DataError::Shape {
                values: x.len(),
                labels: y.len(),
                dim,
            });
        }
        if y.is_empty() {
            return Err(DataError::Empty);
        }
        let cols = dim + 1;
        let mut out = Vec::with_capacity(y.len() * cols);
        for (r, row) in x.chunks_exact(dim).enumerate() {
            for (c, &v) in row.iter().enumerate() {
                if !v.is_finite() {
                    return Err(DataError::NonFinite(r, c));
                }
                out.push((v / scale).clamp(-1.0, 1.0));
            }
            out.push(1.0);
        }
        if let Some((r, &l)) = y.iter().enumerate().find(|&(_, &l)| l >= classes) {
            return Err(DataError::LabelOutOfRange(r, l));
        }
        Ok(Self {
            x: out,
            y: y.to_vec(),
            cols,
            classes,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Row `r`.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.x[r * self.cols..(r + 1) * self.cols]
    }
}

/// Softmax regression weights, `classes x cols` row-major (bias in the last column).
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The weights.
    pub w: Vec<f64>,
    /// Columns (features + bias).
    pub cols: usize,
    /// Classes.
    pub classes: usize,
}

impl Model {
    /// All-zero weights (HETAL's initialisation).
    pub fn zeros(classes: usize, cols: usize) -> Self {
        Self {
            w: vec![0.0; classes * cols],
            cols,
            classes,
        }
    }

    /// The logits `W x` of one prepared row.
    pub fn logits(&self, row: &[f64], out: &mut [f64]) {
        for (k, z) in out.iter_mut().enumerate() {
            let wk = &self.w[k * self.cols..(k + 1) * self.cols];
            *z = wk.iter().zip(row).map(|(a, b)| a * b).sum();
        }
    }

    /// Mean cross-entropy (with exact softmax) and accuracy on `data`.
    pub fn loss_accuracy(&self, data: &Features) -> (f64, f64) {
        let mut z = vec![0.0; self.classes];
        let (mut loss, mut hits) = (0.0, 0usize);
        for r in 0..data.rows() {
            self.logits(data.row(r), &mut z);
            hits += usize::from(argmax(&z) == data.y[r]);
            softmax_exact(&mut z);
            loss -= libm::log(z[data.y[r]] + 1e-12);
        }
        let n = data.rows() as f64;
        (loss / n, hits as f64 / n)
    }

    /// Fraction of rows whose arg-max logit is the label.
    pub fn accuracy(&self, data: &Features) -> f64 {
        self.loss_accuracy(data).1
    }
}

/// Index of the largest value (the first on ties).
pub fn argmax(z: &[f64]) -> usize {
    z.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
        .0
}

/// The exact, max-shifted softmax of one row, in place.
pub fn softmax_exact(z: &mut [f64]) {
    let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = libm::exp(*v - m);
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}

/// Hyper-parameters of Nesterov-accelerated mini-batch training.
#[derive(Clone, Debug, PartialEq)]
pub struct NagConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum (0.9 in HETAL's code).
    pub momentum: f64,
    /// Rows per mini-batch (the last batch may be partial).
    pub batch: usize,
    /// Epoch cap.
    pub max_epochs: usize,
    /// Epochs without a better validation loss before stopping (0 = never stop early).
    pub patience: usize,
    /// Seed of the one shuffle that fixes the batches (encrypted batches are
    /// fixed at upload, so the plaintext reference uses fixed batches too).
    pub seed: u64,
}

impl Default for NagConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            momentum: 0.9,
            batch: 128,
            max_epochs: 100,
            patience: 3,
            seed: 0,
        }
    }
}

/// The outcome of a training run.
#[derive(Clone, Debug)]
pub struct TrainRun {
    /// Weights of the epoch with the lowest validation loss.
    pub model: Model,
    /// Epochs run.
    pub epochs: usize,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Validation loss after each epoch.
    pub val_loss: Vec<f64>,
    /// Largest `|logit|` met by the softmax during training: it must stay
    /// inside the encrypted softmax's domain (`[-128, 128]` by default).
    pub max_abs_logit: f64,
    /// The largest `|entry|` of the weights, the look-ahead weights and the
    /// velocity met during training: what the encrypted trainer's weight scale
    /// must cover (its bootstraps need values in `[-1, 1]`).
    pub max_abs_weight: f64,
}

/// Early stopping on the validation loss: remembers the best epoch and says
/// when `patience` epochs in a row brought no improvement.
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    patience: usize,
    best: f64,
    best_epoch: usize,
    bad: usize,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without improvement (0 = never).
    pub fn new(patience: usize) -> Self {
        Self {
            patience,
            best: f64::INFINITY,
            best_epoch: 0,
            bad: 0,
        }
    }

    /// Records the validation loss of `epoch`; returns whether it is the best so far.
    pub fn observe(&mut self, epoch: usize, loss: f64) -> bool {
        if loss < self.best {
            (self.best, self.best_epoch, self.bad) = (loss, epoch, 0);
            true
        } else {
            self.bad += 1;
            false
        }
    }

    /// Whether training should stop now.
    pub fn should_stop(&self) -> bool {
        self.patience > 0 && self.bad >= self.patience
    }

    /// The best epoch so far (0 before any).
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }
}

/// Row order of the fixed batches: a Fisher–Yates shuffle driven by `seed`.
pub fn batch_order(rows: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows).collect();
    let mut s = seed ^ 0x9E37_79B9_7F4A_7C15;
    for i in (1..rows).rev() {
        // splitmix64
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        order.swap(i, (z % (i as u64 + 1)) as usize);
    }
    order
}

/// The gradient `(1/b) (P - Y)^T X` of one batch at weights `w`, with the
/// row softmax `softmax` (exact, or an approximation under study).
fn batch_gradient(
    data: &Features,
    rows: &[usize],
    w: &Model,
    softmax: &mut dyn FnMut(&mut [f64]),
    max_logit: &mut f64,
) -> Vec<f64> {
    let (c, cols) = (data.classes, data.cols);
    let mut g = vec![0.0; c * cols];
    let mut z = vec![0.0; c];
    for &r in rows {
        let x = data.row(r);
        w.logits(x, &mut z);
        *max_logit = z.iter().fold(*max_logit, |m, v| m.max(v.abs()));
        softmax(&mut z);
        z[data.y[r]] -= 1.0;
        for (k, &d) in z.iter().enumerate() {
            g[k * cols..(k + 1) * cols]
                .iter_mut()
                .zip(x)
                .for_each(|(gi, xi)| *gi += d * xi);
        }
    }
    let inv = 1.0 / rows.len() as f64;
    g.iter_mut().for_each(|v| *v *= inv);
    g
}

/// Trains softmax regression with Nesterov momentum on fixed mini-batches,
/// keeping the weights of the best validation-loss epoch.
///
/// The update is the look-ahead form of `reference_train.py`:
/// `g = grad(W + m V)`, `V <- m V - lr g`, `W <- W + V`.
pub fn train(
    train: &Features,
    val: &Features,
    cfg: &NagConfig,
    softmax: &mut dyn FnMut(&mut [f64]),
) -> TrainRun {
    let (c, cols) = (train.classes, train.cols);
    let order = batch_order(train.rows(), cfg.seed);
    let mut w = Model::zeros(c, cols);
    let mut v = vec![0.0; c * cols];
    let mut stop = EarlyStopping::new(cfg.patience);
    let (mut best, mut val_loss, mut epochs) = (w.clone(), Vec::new(), 0);
    let mut max_abs_logit = 0.0;
    let mut max_abs_weight = 0.0f64;
    for epoch in 1..=cfg.max_epochs {
        for rows in order.chunks(cfg.batch.max(1)) {
            let mut look = w.clone();
            look.w
                .iter_mut()
                .zip(&v)
                .for_each(|(a, b)| *a += cfg.momentum * b);
            let g = batch_gradient(train, rows, &look, softmax, &mut max_abs_logit);
            for ((wi, vi), gi) in w.w.iter_mut().zip(v.iter_mut()).zip(&g) {
                *vi = cfg.momentum * *vi - cfg.lr * gi;
                *wi += *vi;
                let u = *wi + cfg.momentum * *vi;
                max_abs_weight = max_abs_weight.max(wi.abs()).max(vi.abs()).max(u.abs());
            }
        }
        epochs = epoch;
        let loss = w.loss_accuracy(val).0;
        val_loss.push(loss);
        if stop.observe(epoch, loss) {
            best = w.clone();
        }
        if stop.should_stop() {
            break;
        }
    }
    TrainRun {
        model: best,
        epochs,
        best_epoch: stop.best_epoch(),
        val_loss,
        max_abs_logit,
        max_abs_weight,
    }
}
