//! Client / server protocol messages (types, checks and state machines; no I/O).
//!
//! The client owns the secret key and the data; the server owns nothing secret.
//! A session, as enforced by [`ServerSession`] and [`ClientSession`]:
//!
//! ```text
//! client                                  server
//! Hello (public + evaluation keys)  ->
//!                                   <-    Ack
//! Dataset (encrypted batches)       ->
//!                                   <-    Ack
//! Config (lr, momentum, epochs, …)  ->
//!                                   <-    ValidationLogits (epoch 1)
//! Decision (improved?, stop?)       ->
//!                                   <-    ValidationLogits (epoch 2) | FinalModel
//! …                                       (FinalModel after a stop or the epoch cap)
//! ```
//!
//! The client decrypts each epoch's validation logits, computes the validation loss,
//! and tells the server whether the epoch improved (the server then keeps those
//! weights) and whether to stop: early stopping is decided where the labels and the
//! key are, and the server returns the weights of the best epoch.
//!
//! Bytes: [`crate::codec::encode_client_message`] and friends (magic, version, kind,
//! parameter fingerprint, then the message). Matrices travel in a [`Layout`] named on the
//! wire, so the training layer can add block encodings without a format break.
//!
//! ```
//! use hetal_core::hetal::protocol::{ClientMsg, Decision, ServerSession};
//! let mut s = ServerSession::new();
//! // A decision before any hello is out of order.
//! let d = ClientMsg::Decision(Decision { improved: true, stop: false });
//! assert!(s.accept(&d).is_err());
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::boot::EncapsulationKeys;
use crate::ckks::{Ciphertext, EvaluationKeys};
use crate::linalg::{self, BlockLayout, Tiling, UnitShape};
use crate::rlwe::PublicKey;

/// Largest error text carried by [`ServerMsg::Error`] (bytes of UTF-8).
pub const MAX_ERROR_TEXT: usize = 1024;
/// Largest row count of one encrypted matrix.
pub const MAX_ROWS: u32 = 1 << 24;
/// Largest column count (features + bias, or classes).
pub const MAX_COLS: u32 = 1 << 16;
/// Largest epoch cap a client may ask for.
pub const MAX_EPOCHS: u32 = 10_000;
/// Widest softmax input domain (see [`TrainConfig::logit_bound`]): HETAL's `[-128, 128]`.
pub const MAX_LOGIT_BOUND: f64 = 128.0;

/// Narrowest softmax input domain (see [`TrainConfig::logit_bound`]).
pub const MIN_LOGIT_BOUND: f64 = 32.0;

/// Largest weight scale (see [`TrainConfig::weight_scale`]).
pub const MAX_WEIGHT_SCALE: f64 = (1u64 << 40) as f64;

/// How the values of a matrix are laid out in the slots of its ciphertexts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Row-major with each row padded to the next power of two of the column count,
    /// rows back to back, filling ciphertext after ciphertext (`slots` values each).
    /// Wire tag 0.
    RowMajor,
    /// The block layout of [`crate::linalg`] (what the encrypted trainer computes on):
    /// `s0 x s1` blocks, one per ciphertext, with the given tiling. Wire tag 1, then
    /// `s0`, `s1` (`u32`), the tiling (0 none, 1 vertical, 2 horizontal) and its
    /// period (`u32`, 0 for none).
    Block {
        /// Block shape.
        unit: UnitShape,
        /// Replication.
        tiling: Tiling,
    },
}

impl Layout {
    /// The wire tag.
    pub fn tag(self) -> u8 {
        match self {
            Self::RowMajor => 0,
            Self::Block { .. } => 1,
        }
    }

    /// The [`BlockLayout`] of a `rows x cols` matrix in this layout (block layouts only).
    pub fn block_layout(self, rows: usize, cols: usize) -> Option<BlockLayout> {
        match self {
            Self::RowMajor => None,
            Self::Block { unit, tiling } => BlockLayout::new(rows, cols, unit, tiling).ok(),
        }
    }

    /// Ciphertexts of `slots` slots needed for a `rows x cols` matrix, or `None` when
    /// the shape does not fit the layout (a padded row wider than a ciphertext, a block
    /// that is not one ciphertext, an invalid tiling) or the size overflows.
    pub fn ciphertexts(self, rows: usize, cols: usize, slots: usize) -> Option<usize> {
        match self {
            Self::RowMajor => {
                let pad = cols.checked_next_power_of_two()?;
                if cols == 0 || slots == 0 || pad > slots {
                    return None;
                }
                Some(rows.checked_mul(pad)?.div_ceil(slots))
            }
            Self::Block { unit, .. } => {
                if unit.s0.checked_mul(unit.s1)? != slots {
                    return None;
                }
                Some(self.block_layout(rows, cols)?.block_count())
            }
        }
    }
}

/// Packs a row-major `rows x cols` matrix into slot vectors of `slots` values each
/// ([`Layout::RowMajor`]); `None` if a padded row does not fit in `slots`.
///
/// ```
/// use hetal_core::hetal::protocol::{pack_row_major, unpack_row_major};
/// let m = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3
/// let v = pack_row_major(&m, 2, 3, 4).unwrap();
/// assert_eq!(v, vec![vec![1.0, 2.0, 3.0, 0.0], vec![4.0, 5.0, 6.0, 0.0]]);
/// assert_eq!(unpack_row_major(&v, 2, 3).unwrap(), m);
/// ```
pub fn pack_row_major(
    values: &[f64],
    rows: usize,
    cols: usize,
    slots: usize,
) -> Option<Vec<Vec<f64>>> {
    let count = Layout::RowMajor.ciphertexts(rows, cols, slots)?;
    if values.len() != rows.checked_mul(cols)? {
        return None;
    }
    let pad = cols.next_power_of_two();
    let mut out = alloc::vec![alloc::vec![0.0; slots]; count];
    for (r, row) in values.chunks_exact(cols).enumerate() {
        let at = r * pad;
        let (ct, off) = (at / slots, at % slots);
        out[ct][off..off + cols].copy_from_slice(row);
    }
    Some(out)
}

/// The inverse of [`pack_row_major`]: reads a `rows x cols` matrix back from slot
/// vectors (all of one length); `None` if they are too few or of mixed lengths.
pub fn unpack_row_major(slots: &[Vec<f64>], rows: usize, cols: usize) -> Option<Vec<f64>> {
    let n = slots.first()?.len();
    if slots.iter().any(|s| s.len() != n)
        || Layout::RowMajor.ciphertexts(rows, cols, n)? > slots.len()
    {
        return None;
    }
    let pad = cols.next_power_of_two();
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let at = r * pad;
        out.extend_from_slice(&slots[at / n][at % n..at % n + cols]);
    }
    Some(out)
}

/// An encrypted `rows x cols` matrix (`rows` is the true row count, without padding).
#[derive(Clone, Debug, PartialEq)]
pub struct EncMatrix {
    /// True rows.
    pub rows: u32,
    /// Columns.
    pub cols: u32,
    /// Slot layout.
    pub layout: Layout,
    /// The ciphertexts, all with the same slot count.
    pub cts: Vec<Ciphertext>,
}

impl EncMatrix {
    /// Checks the shape against the ciphertexts: bounds, one slot count, and exactly
    /// as many ciphertexts as the layout needs.
    pub fn check(&self) -> Result<(), ShapeError> {
        if self.rows == 0 || self.rows > MAX_ROWS || self.cols == 0 || self.cols > MAX_COLS {
            return Err(ShapeError::Bounds);
        }
        let slots = self.cts.first().map_or(0, |c| c.slots);
        if self.cts.iter().any(|c| c.slots != slots) {
            return Err(ShapeError::MixedSlots);
        }
        match self
            .layout
            .ciphertexts(self.rows as usize, self.cols as usize, slots)
        {
            Some(n) if n == self.cts.len() => Ok(()),
            _ => Err(ShapeError::CiphertextCount),
        }
    }
}

impl EncMatrix {
    /// The wire form of a block-encoded matrix of the encrypted trainer.
    pub fn from_blocks(m: linalg::EncMatrix<Ciphertext>) -> Self {
        let l = *m.layout();
        Self {
            rows: l.rows as u32,
            cols: l.cols as u32,
            layout: Layout::Block {
                unit: l.unit,
                tiling: l.tiling,
            },
            cts: m.into_blocks(),
        }
    }

    /// The block-encoded matrix for the encrypted trainer (block layouts only).
    pub fn into_blocks(self) -> Result<linalg::EncMatrix<Ciphertext>, ShapeError> {
        self.check()?;
        let layout = self
            .layout
            .block_layout(self.rows as usize, self.cols as usize)
            .ok_or(ShapeError::CiphertextCount)?;
        linalg::EncMatrix::from_blocks(layout, self.cts).map_err(|_| ShapeError::CiphertextCount)
    }
}

/// One training mini-batch: features (with the bias column) and one-hot labels.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainBatch {
    /// `rows x features`.
    pub x: EncMatrix,
    /// `rows x classes`, one-hot.
    pub y: EncMatrix,
}

/// The encrypted data set the client uploads.
#[derive(Clone, Debug, PartialEq)]
pub struct EncryptedDataset {
    /// Columns of every feature matrix (features + bias).
    pub features: u32,
    /// Number of classes.
    pub classes: u32,
    /// True training rows (sum of the batches' rows).
    pub train_rows: u64,
    /// True validation rows (sum of the validation matrices' rows).
    pub val_rows: u64,
    /// Training batches in the order they are used in every epoch.
    pub train: Vec<TrainBatch>,
    /// Validation features, in chunks (`rows x features` each).
    pub val: Vec<EncMatrix>,
}

impl EncryptedDataset {
    /// Checks every matrix and that the shapes agree with each other.
    pub fn check(&self) -> Result<(), ShapeError> {
        if self.features < 2
            || self.features > MAX_COLS
            || self.classes < 2
            || self.classes > MAX_COLS
        {
            return Err(ShapeError::Bounds);
        }
        if self.train.is_empty() || self.val.is_empty() {
            return Err(ShapeError::Empty);
        }
        let mut rows = 0u64;
        for b in &self.train {
            b.x.check()?;
            b.y.check()?;
            if b.x.cols != self.features || b.y.cols != self.classes || b.x.rows != b.y.rows {
                return Err(ShapeError::Disagree);
            }
            rows += u64::from(b.x.rows);
        }
        if rows != self.train_rows {
            return Err(ShapeError::RowCount);
        }
        let mut rows = 0u64;
        for m in &self.val {
            m.check()?;
            if m.cols != self.features {
                return Err(ShapeError::Disagree);
            }
            rows += u64::from(m.rows);
        }
        if rows != self.val_rows {
            return Err(ShapeError::RowCount);
        }
        Ok(())
    }
}

/// Why shapes in a message are impossible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeError {
    /// A row or column count is zero or above its cap.
    Bounds,
    /// Ciphertexts of one matrix have different slot counts.
    MixedSlots,
    /// The ciphertext count is not what the layout needs.
    CiphertextCount,
    /// No training batch or no validation matrix.
    Empty,
    /// Matrices disagree on the feature or class count, or x and y on rows.
    Disagree,
    /// The declared row count is not the sum of the matrices' rows.
    RowCount,
}

impl ShapeError {
    /// The name used in codec errors.
    pub fn what(self) -> &'static str {
        match self {
            Self::Bounds => "matrix shape",
            Self::MixedSlots => "slot counts of a matrix",
            Self::CiphertextCount => "ciphertext count of a matrix",
            Self::Empty => "empty data set",
            Self::Disagree => "matrix shapes that disagree",
            Self::RowCount => "row count",
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}", self.what())
    }
}

/// Training hyper-parameters sent by the client.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Learning rate (positive, finite).
    pub lr: f64,
    /// Nesterov momentum in `[0, 1)`.
    pub momentum: f64,
    /// Epoch cap (`1..=MAX_EPOCHS`).
    pub epochs: u32,
    /// Epochs without improvement before the client stops (0 = never); informative for
    /// the server, which follows the client's decisions.
    pub patience: u32,
    /// Rows per mini-batch (as encrypted; informative for the server).
    pub batch: u32,
    /// The power of two `r` the server divides the weights by so the values it
    /// bootstraps stay in `[-1, 1]` (see [`super::train::UpdateConfig::weight_scale`]);
    /// the client picks it from the weights it expects
    /// ([`super::train::weight_scale_for`]).
    pub weight_scale: f64,
    /// The softmax's input domain `[-B, B]`: a power of two from [`MIN_LOGIT_BOUND`] to
    /// [`MAX_LOGIT_BOUND`] covering every logit of the run (the client picks it from its
    /// plaintext run, [`super::train::logit_bound_for`]; 128 when it has none). A
    /// narrower domain makes a shallower softmax: fewer bootstraps per step.
    pub logit_bound: f64,
}

impl TrainConfig {
    /// Whether every field is in range.
    pub fn is_valid(&self) -> bool {
        self.lr.is_finite()
            && self.lr > 0.0
            && (0.0..1.0).contains(&self.momentum)
            && (1..=MAX_EPOCHS).contains(&self.epochs)
            && self.batch >= 1
            && self.batch <= MAX_ROWS
            && self.weight_scale >= 1.0
            && self.weight_scale <= MAX_WEIGHT_SCALE
            && (self.weight_scale as u64) as f64 == self.weight_scale
            && (self.weight_scale as u64).is_power_of_two()
            && (MIN_LOGIT_BOUND..=MAX_LOGIT_BOUND).contains(&self.logit_bound)
            && (self.logit_bound as u64) as f64 == self.logit_bound
            && (self.logit_bound as u64).is_power_of_two()
    }
}

/// The client's answer after each epoch's validation logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// This epoch has the best validation loss so far: keep its weights.
    pub improved: bool,
    /// Stop now and send the kept weights.
    pub stop: bool,
}

/// The client's keys for the server (no secret).
#[derive(Clone, Debug)]
pub struct Hello {
    /// Public key (for the server to encrypt constants if it needs to).
    pub public_key: PublicKey,
    /// Relinearization and rotation keys.
    pub keys: EvaluationKeys,
    /// The bootstrapping encapsulation keys (public: see [`crate::boot::encaps`]);
    /// training needs them, the rotation keys of bootstrapping are in `keys`.
    pub boot: Option<EncapsulationKeys>,
}

/// A client-to-server message.
#[derive(Clone, Debug)]
pub enum ClientMsg {
    /// Keys; the header's fingerprint names the parameter set.
    Hello(alloc::boxed::Box<Hello>),
    /// The encrypted data set.
    Dataset(EncryptedDataset),
    /// Hyper-parameters; training starts on receipt.
    Config(TrainConfig),
    /// Answer to one epoch's validation logits.
    Decision(Decision),
}

impl ClientMsg {
    /// The message's name (for errors).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hello(_) => "hello",
            Self::Dataset(_) => "dataset",
            Self::Config(_) => "config",
            Self::Decision(_) => "decision",
        }
    }
}

/// A server-to-client message.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerMsg {
    /// The last message was accepted.
    Ack,
    /// Encrypted validation logits after `epoch` (1-based), one `rows x classes` matrix
    /// per validation matrix of the data set.
    ValidationLogits {
        /// Epoch just finished.
        epoch: u32,
        /// The logits.
        logits: Vec<EncMatrix>,
    },
    /// The weights the client chose (best epoch), `classes x features`.
    FinalModel {
        /// Epochs run.
        epochs: u32,
        /// Epoch whose weights these are (0 if none improved).
        best_epoch: u32,
        /// Encrypted weights.
        weights: EncMatrix,
    },
    /// The server refuses or failed; it closes the connection after sending this.
    Error(String),
}

impl ServerMsg {
    /// The message's name (for errors).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ack => "ack",
            Self::ValidationLogits { .. } => "validation logits",
            Self::FinalModel { .. } => "final model",
            Self::Error(_) => "error",
        }
    }
}

/// What the client keeps to itself between `encrypt` and `decrypt` / `client`: the
/// feature scale (HETAL's max `|x|` of the training set, which the server must not
/// learn) and the validation labels (for the validation loss).
#[derive(Clone, Debug, PartialEq)]
pub struct ClientState {
    /// Divide raw features by this (then clip to `[-1, 1]`).
    pub scale: f64,
    /// Raw feature dimension (without the bias column).
    pub dim: u32,
    /// Number of classes.
    pub classes: u32,
    /// Identifier of the public key the data was encrypted under (so a model is not
    /// decrypted with another key pair).
    pub key_id: u64,
    /// Validation labels, in the order of the uploaded validation rows.
    pub val_labels: Vec<u32>,
}

/// A decrypted softmax-regression model with the scale its inputs need.
#[derive(Clone, Debug, PartialEq)]
pub struct PlainModel {
    /// Feature scale (from [`ClientState::scale`]).
    pub scale: f64,
    /// Weights `classes x (dim + 1)`, bias last.
    pub model: super::plain::Model,
}

/// The server's encrypted training checkpoint, written at least once per epoch so a
/// crashed server resumes where it was and ends with the same model.
///
/// Nothing in it is secret: the optimiser state and the kept weights are ciphertexts
/// under the client's key; the decisions are what the client sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Identifies the data set and keys the run belongs to (so a checkpoint is not
    /// resumed on other data).
    pub run_id: u64,
    /// The hyper-parameters of the run.
    pub config: TrainConfig,
    /// Epochs finished (their validation exchanged and decided).
    pub epoch: u32,
    /// Steps finished in epoch `epoch + 1` (0 at an epoch boundary).
    pub step: u32,
    /// Encrypted look-ahead weights `U / r`.
    pub u: EncMatrix,
    /// Encrypted velocity `V / r`.
    pub v: EncMatrix,
    /// The client's decision after each finished epoch (the early-stopping state as the
    /// server sees it).
    pub decisions: Vec<Decision>,
    /// The weights of the last improved epoch, and that epoch.
    pub best: Option<(u32, EncMatrix)>,
    /// The validation logits sent after each finished epoch: a resumed server replays
    /// them to the reconnecting client, whose early stopping then reaches the same state
    /// (and the same decisions, which the server checks) without a protocol change.
    pub logits: Vec<Vec<EncMatrix>>,
}

/// A message arrived that the protocol does not allow at this point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutOfOrder {
    /// What was allowed.
    pub expected: &'static str,
    /// What arrived.
    pub found: &'static str,
}

impl fmt::Display for OutOfOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "protocol error: expected {}, got {}",
            self.expected, self.found
        )
    }
}

impl core::error::Error for OutOfOrder {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerPhase {
    Hello,
    Dataset,
    Config,
    Decision,
    Done,
}

/// The server's view of the message order.
#[derive(Clone, Debug)]
pub struct ServerSession {
    phase: ServerPhase,
}

impl Default for ServerSession {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerSession {
    /// A session waiting for a hello.
    pub fn new() -> Self {
        Self {
            phase: ServerPhase::Hello,
        }
    }

    /// Accepts `msg` if the protocol allows it now (and advances).
    pub fn accept(&mut self, msg: &ClientMsg) -> Result<(), OutOfOrder> {
        use ServerPhase as P;
        let next = match (self.phase, msg) {
            (P::Hello, ClientMsg::Hello(_)) => P::Dataset,
            (P::Dataset, ClientMsg::Dataset(_)) => P::Config,
            (P::Config, ClientMsg::Config(_)) => P::Decision,
            (P::Decision, ClientMsg::Decision(_)) => P::Decision,
            (p, m) => {
                return Err(OutOfOrder {
                    expected: match p {
                        P::Hello => "hello",
                        P::Dataset => "dataset",
                        P::Config => "config",
                        P::Decision => "decision",
                        P::Done => "nothing (session finished)",
                    },
                    found: m.name(),
                });
            }
        };
        self.phase = next;
        Ok(())
    }

    /// The server has sent its final model: nothing more is accepted.
    pub fn finish(&mut self) {
        self.phase = ServerPhase::Done;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientPhase {
    AckHello,
    AckDataset,
    Logits,
    LogitsOrModel,
    Model,
    Done,
}

/// The client's view of the message order. Call [`ClientSession::sent`] after each
/// message sent and [`ClientSession::accept`] on each one received.
#[derive(Clone, Debug)]
pub struct ClientSession {
    phase: ClientPhase,
    epoch: u32,
}

impl Default for ClientSession {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientSession {
    /// A session about to send its hello.
    pub fn new() -> Self {
        Self {
            phase: ClientPhase::AckHello,
            epoch: 0,
        }
    }

    /// Records a sent message (which fixes what may come back).
    pub fn sent(&mut self, msg: &ClientMsg) {
        self.phase = match msg {
            ClientMsg::Hello(_) => ClientPhase::AckHello,
            ClientMsg::Dataset(_) => ClientPhase::AckDataset,
            ClientMsg::Config(_) => ClientPhase::Logits,
            ClientMsg::Decision(d) if d.stop => ClientPhase::Model,
            ClientMsg::Decision(_) => ClientPhase::LogitsOrModel,
        };
    }

    /// Accepts `msg` if it may arrive now. An [`ServerMsg::Error`] is always accepted
    /// (it ends the session); validation logits must carry the next epoch number.
    pub fn accept(&mut self, msg: &ServerMsg) -> Result<(), OutOfOrder> {
        use ClientPhase as P;
        let ok = match (self.phase, msg) {
            (_, ServerMsg::Error(_)) => true,
            (P::AckHello | P::AckDataset, ServerMsg::Ack) => true,
            (P::Logits | P::LogitsOrModel, ServerMsg::ValidationLogits { epoch, .. }) => {
                *epoch == self.epoch + 1
            }
            (P::LogitsOrModel | P::Model, ServerMsg::FinalModel { .. }) => true,
            _ => false,
        };
        if !ok {
            return Err(OutOfOrder {
                expected: match self.phase {
                    P::AckHello | P::AckDataset => "ack",
                    P::Logits => "validation logits of the next epoch",
                    P::LogitsOrModel => "validation logits of the next epoch or the final model",
                    P::Model => "final model",
                    P::Done => "nothing (session finished)",
                },
                found: msg.name(),
            });
        }
        match msg {
            ServerMsg::ValidationLogits { epoch, .. } => self.epoch = *epoch,
            ServerMsg::FinalModel { .. } | ServerMsg::Error(_) => self.phase = P::Done,
            ServerMsg::Ack => {}
        }
        Ok(())
    }

    /// The last epoch whose logits arrived.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }
}

/// Validation loss and accuracy from decrypted logits (`rows x classes`, row-major)
/// and the labels: the client's early-stopping signal.
pub fn validation_loss(logits: &[f64], classes: usize, labels: &[u32]) -> Option<(f64, f64)> {
    if classes == 0 || logits.len() != labels.len() * classes || labels.is_empty() {
        return None;
    }
    let (mut loss, mut hits) = (0.0, 0usize);
    let mut z = alloc::vec![0.0; classes];
    for (row, &y) in logits.chunks_exact(classes).zip(labels) {
        let y = y as usize;
        if y >= classes {
            return None;
        }
        z.copy_from_slice(row);
        hits += usize::from(super::plain::argmax(&z) == y);
        super::plain::softmax_exact(&mut z);
        loss -= libm::log(z[y] + 1e-12);
    }
    let n = labels.len() as f64;
    Some((loss / n, hits as f64 / n))
}
