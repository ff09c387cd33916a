//! The client's side of training: encrypting the mini-batches in the server's
//! layouts, and early stopping on decrypted validation logits.
//!
//! The client fixes the batches at upload (HETAL.md §5.4): the same seeded
//! order as [`super::plain::train`], so plaintext and encrypted training see
//! identical batches.

use alloc::vec::Vec;

use super::plain::{self, EarlyStopping, Features};
use super::protocol::Decision;
use super::train::{EncBatch, TrainError, TrainLayout};
use crate::linalg::{EncMatrix, encrypt_matrix};
use crate::slots::{SlotCrypt, SlotOps};

/// Encrypts `f`'s rows in mini-batches of `batch` rows, in the order of
/// [`plain::batch_order`] with `seed`, at [`data_level`] and the default scale.
pub fn encrypt_batches<E: SlotCrypt>(
    ev: &E,
    layout: &TrainLayout,
    f: &Features,
    batch: usize,
    seed: u64,
) -> Result<Vec<EncBatch<E::Value>>, TrainError> {
    check(layout, f)?;
    if batch == 0 {
        return Err(TrainError::Shape("batch size"));
    }
    let order = plain::batch_order(f.rows(), seed);
    order
        .chunks(batch)
        .map(|rows| {
            let (x, y) = gather(f, rows);
            Ok(EncBatch {
                x: encrypt(ev, &x, layout.features(rows.len())?)?,
                y: encrypt(ev, &layout.one_hot(&y), layout.labels(rows.len())?)?,
                rows: rows.len(),
            })
        })
        .collect()
}

/// Encrypts all rows of `f` as one feature matrix (validation or inference).
pub fn encrypt_features<E: SlotCrypt>(
    ev: &E,
    layout: &TrainLayout,
    f: &Features,
) -> Result<EncMatrix<E::Value>, TrainError> {
    check(layout, f)?;
    encrypt(ev, &f.x, layout.features(f.rows())?)
}

fn check(layout: &TrainLayout, f: &Features) -> Result<(), TrainError> {
    if f.cols != layout.cols || f.classes != layout.classes || f.rows() == 0 {
        return Err(TrainError::Shape(
            "features do not match the training layout",
        ));
    }
    Ok(())
}

fn encrypt<E: SlotCrypt>(
    ev: &E,
    data: &[f64],
    layout: crate::linalg::BlockLayout,
) -> Result<EncMatrix<E::Value>, TrainError> {
    Ok(encrypt_matrix(
        ev,
        data,
        layout,
        data_level(ev),
        ev.default_scale(),
    )?)
}

/// The level the client encrypts data at: the highest level computation on
/// the server can use (a bootstrap's output level when the engine
/// bootstraps; the levels above it only serve the bootstrap itself and would
/// make every ciphertext larger and every operation slower).
pub fn data_level<E: SlotOps>(ev: &E) -> usize {
    ev.bootstrap_level()
        .map_or(ev.max_level(), |b| b.min(ev.max_level()))
}

fn gather(f: &Features, rows: &[usize]) -> (Vec<f64>, Vec<usize>) {
    let mut x = Vec::with_capacity(rows.len() * f.cols);
    let mut y = Vec::with_capacity(rows.len());
    for &r in rows {
        x.extend_from_slice(f.row(r));
        y.push(f.y[r]);
    }
    (x, y)
}

/// Mean cross-entropy of row-major `logits` (`labels.len() x classes`) with
/// the exact softmax: the client's validation loss.
pub fn cross_entropy(logits: &[f64], classes: usize, labels: &[usize]) -> f64 {
    let mut z = Vec::with_capacity(classes);
    let mut loss = 0.0;
    for (r, &l) in labels.iter().enumerate() {
        z.clear();
        z.extend_from_slice(&logits[r * classes..(r + 1) * classes]);
        plain::softmax_exact(&mut z);
        loss -= libm::log(z[l].max(1e-300));
    }
    loss / labels.len().max(1) as f64
}

/// Early stopping on the client: validation loss per epoch and the decision
/// sent to the server.
#[derive(Clone, Debug)]
pub struct Validator {
    labels: Vec<usize>,
    classes: usize,
    stop: EarlyStopping,
    max_epochs: usize,
    /// Validation loss per epoch.
    pub losses: Vec<f64>,
}

impl Validator {
    /// Stops after `patience` epochs without improvement (0: never early) or
    /// at `max_epochs`.
    pub fn new(labels: Vec<usize>, classes: usize, patience: usize, max_epochs: usize) -> Self {
        Self {
            labels,
            classes,
            stop: EarlyStopping::new(patience),
            max_epochs,
            losses: Vec::new(),
        }
    }

    /// The decision after `epoch` given its decrypted logits (row-major,
    /// `rows x classes`, rows in the order of the labels).
    pub fn decide(&mut self, epoch: usize, logits: &[f64]) -> Decision {
        let loss = cross_entropy(logits, self.classes, &self.labels);
        self.losses.push(loss);
        let improved = self.stop.observe(epoch, loss);
        Decision {
            improved,
            stop: self.stop.should_stop() || epoch >= self.max_epochs,
        }
    }

    /// The epoch with the lowest loss so far.
    pub fn best_epoch(&self) -> usize {
        self.stop.best_epoch()
    }
}

/// The argmax of each row of `logits` (`rows x classes`).
pub fn predictions(logits: &[f64], classes: usize) -> Vec<usize> {
    logits.chunks_exact(classes).map(plain::argmax).collect()
}
