//! A scripted stand-in for the encrypted trainer, shared by the integration tests: its
//! weights follow a known schedule, so early stopping and the kept model can be
//! checked exactly.
#![allow(dead_code)] // each test binary uses part of it
pub mod train;
use std::sync::Arc;

use hetal::keys::encrypt_matrix;
use hetal::session::{EpochTrainer, TrainFn, epoch_trainer};
use hetal_core::ckks::CkksContext;
use hetal_core::hetal::plain::{self, Features};
use hetal_core::hetal::protocol::{EncMatrix, EncryptedDataset, TrainConfig};
use hetal_core::rlwe::PublicKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Weight multiplier per epoch: the validation loss falls to epoch 4 and rises after.
pub const SCHEDULE: [f64; 10] = [0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.1, 0.05, 0.0];

/// Weights `SCHEDULE[e] * w`; validation logits computed from the plaintext validation
/// rows it was handed (in the chunks of the uploaded data set), both encrypted under
/// the client's public key.
struct Scripted {
    ctx: Arc<CkksContext>,
    pk: PublicKey,
    w: Vec<f64>,
    val: Features,
    chunks: Vec<usize>,
    epoch: usize,
    steps: usize,
    rng: ChaCha20Rng,
}

impl Scripted {
    fn current(&self) -> Vec<f64> {
        let s = SCHEDULE[self.epoch - 1];
        self.w.iter().map(|v| v * s).collect()
    }
}

impl EpochTrainer for Scripted {
    fn epoch(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<EncMatrix>, String> {
        self.epoch += 1;
        (1..=self.steps).for_each(|s| progress(s, self.steps));
        let model = plain::Model {
            w: self.current(),
            cols: self.val.cols,
            classes: self.val.classes,
        };
        let mut z = vec![0.0; self.val.classes];
        let mut out = Vec::new();
        let mut start = 0;
        for &rows in &self.chunks {
            let mut logits = Vec::new();
            for r in start..start + rows {
                model.logits(self.val.row(r), &mut z);
                logits.extend_from_slice(&z);
            }
            start += rows;
            out.push(
                encrypt_matrix(
                    &self.ctx,
                    &self.pk,
                    &logits,
                    rows,
                    self.val.classes,
                    &mut self.rng,
                )
                .map_err(|e| e.to_string())?,
            );
        }
        Ok(out)
    }

    fn weights(&self) -> Result<EncMatrix, String> {
        let mut rng = ChaCha20Rng::seed_from_u64(self.epoch as u64);
        encrypt_matrix(
            &self.ctx,
            &self.pk,
            &self.current(),
            self.val.classes,
            self.val.cols,
            &mut rng,
        )
        .map_err(|e| e.to_string())
    }
}

/// The scripted trainer as a server's training function. `val` must be the client's
/// validation rows, prepared with its scale.
pub fn scripted(w: Vec<f64>, val: Features) -> Box<TrainFn> {
    epoch_trainer(Box::new(
        move |ctx: &Arc<CkksContext>,
              pk: &PublicKey,
              _keys,
              data: EncryptedDataset,
              _cfg: &TrainConfig| {
            if data.val_rows as usize != val.rows() || data.classes as usize != val.classes {
                return Err("unexpected data set".to_string());
            }
            Ok(Box::new(Scripted {
                ctx: ctx.clone(),
                pk: pk.clone(),
                w: w.clone(),
                val: val.clone(),
                chunks: data.val.iter().map(|m| m.rows as usize).collect(),
                epoch: 0,
                steps: data.train.len(),
                rng: ChaCha20Rng::seed_from_u64(3),
            }) as Box<dyn EpochTrainer>)
        },
    ))
}
