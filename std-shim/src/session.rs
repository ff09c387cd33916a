//! The two protocol roles over any [`Transport`]: the server (public keys only; it
//! cannot load a secret key) drives an [`EpochTrainer`]; the client decrypts the
//! validation logits, decides early stopping, and decrypts nothing else.
//!
//! Any error on the server side (an undecodable, out-of-order or oversized frame, a
//! trainer failure) is answered with [`ServerMsg::Error`] when the connection still
//! works, and ends that session only: [`serve_tcp`] goes on accepting connections.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hetal_core::ckks::{CkksContext, EvaluationKeys};
use hetal_core::codec::{self, CodecError};
use hetal_core::hetal::plain::EarlyStopping;
use hetal_core::hetal::protocol::{
    ClientMsg, ClientSession, ClientState, Decision, EncMatrix, EncryptedDataset, Hello, ServerMsg,
    ServerSession, TrainConfig, validation_loss,
};
use hetal_core::rlwe::{PublicKey, SecretKey};

use crate::files::CliError;
use crate::keys::decrypt_matrix;
use crate::transport::{TcpTransport, Transport, TransportError};

/// What the server loop needs from the encrypted trainer.
///
/// The server calls [`EpochTrainer::epoch`] once per epoch, sends the returned
/// validation logits, and calls [`EpochTrainer::weights`] when the client says the
/// epoch improved (the copy it keeps is what [`ServerMsg::FinalModel`] returns).
pub trait EpochTrainer {
    /// Runs one epoch over every training batch (in the uploaded order) and returns
    /// the validation logits: one `rows x classes` matrix per validation matrix of the
    /// data set, in order. `progress(step, steps)` is called after each batch.
    fn epoch(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<EncMatrix>, String>;
    /// The current weights, `classes x features` (features include the bias column).
    fn weights(&self) -> Result<EncMatrix, String>;
}

/// Builds the trainer for one session from what the client sent.
pub type TrainerFactory = dyn Fn(
        &Arc<CkksContext>,
        &PublicKey,
        EvaluationKeys,
        EncryptedDataset,
        &TrainConfig,
    ) -> Result<Box<dyn EpochTrainer>, String>
    + Send
    + Sync;

/// Progress events of a server session (for progress bars and logs).
#[derive(Clone, Debug)]
pub enum ServerEvent {
    /// A message arrived.
    Received(&'static str),
    /// A batch of an epoch finished.
    Step {
        /// Epoch (1-based).
        epoch: u32,
        /// Batch (1-based).
        step: usize,
        /// Batches per epoch.
        steps: usize,
    },
    /// An epoch finished.
    Epoch {
        /// Epoch (1-based).
        epoch: u32,
        /// Its wall time.
        time: Duration,
    },
}

/// What a finished server session did.
#[derive(Clone, Debug)]
pub struct ServerSummary {
    /// Epochs run.
    pub epochs: u32,
    /// Epoch of the returned weights.
    pub best_epoch: u32,
}

fn server_error(t: &mut dyn Transport, ctx: &CkksContext, text: String) -> CliError {
    let _ = t.send(&codec::encode_server_message(
        ctx,
        &ServerMsg::Error(text.clone()),
    ));
    CliError::msg(text)
}

fn describe_codec(e: &CodecError, ctx: &CkksContext) -> String {
    match e {
        CodecError::FingerprintMismatch { found, .. } => format!(
            "message is for parameter set {found:016x}, this server runs {} ({:016x})",
            ctx.params().name(),
            codec::fingerprint(ctx.params())
        ),
        e => format!("malformed message: {e}"),
    }
}

/// Serves one client on `t` until it has its model, or an error (sent to the client
/// when possible, then returned).
pub fn serve_session(
    t: &mut dyn Transport,
    ctx: &Arc<CkksContext>,
    factory: &TrainerFactory,
    events: &mut dyn FnMut(ServerEvent),
) -> Result<ServerSummary, CliError> {
    let mut order = ServerSession::new();
    let mut hello: Option<Hello> = None;
    let mut data: Option<EncryptedDataset> = None;
    let mut trainer: Option<Box<dyn EpochTrainer>> = None;
    let (mut epoch, mut max_epochs, mut best, mut best_epoch) = (0u32, 0u32, None, 0u32);
    loop {
        let bytes = match t.recv() {
            Ok(b) => b,
            Err(TransportError::Closed) => {
                return Err(CliError::msg("client closed the connection mid-session"));
            }
            Err(e) => return Err(server_error(t, ctx, e.to_string())),
        };
        let msg = codec::decode_client_message(ctx, &bytes)
            .map_err(|e| server_error(t, ctx, describe_codec(&e, ctx)))?;
        order
            .accept(&msg)
            .map_err(|e| server_error(t, ctx, e.to_string()))?;
        events(ServerEvent::Received(msg.name()));
        let reply = match msg {
            ClientMsg::Hello(h) => {
                hello = Some(*h);
                ServerMsg::Ack
            }
            ClientMsg::Dataset(d) => {
                data = Some(d);
                ServerMsg::Ack
            }
            ClientMsg::Config(cfg) => {
                let (Some(h), Some(d)) = (hello.take(), data.take()) else {
                    return Err(server_error(
                        t,
                        ctx,
                        "internal: keys or data missing".into(),
                    ));
                };
                max_epochs = cfg.epochs;
                let tr = trainer
                    .insert(factory(ctx, &h.public_key, h.keys, d, &cfg).map_err(|e| {
                        server_error(t, ctx, format!("cannot start training: {e}"))
                    })?);
                run_epoch(t, ctx, tr.as_mut(), &mut epoch, events)?
            }
            ClientMsg::Decision(Decision { improved, stop }) => {
                let Some(tr) = trainer.as_mut() else {
                    return Err(server_error(t, ctx, "internal: no trainer".into()));
                };
                if improved {
                    best = Some(tr.weights().map_err(|e| server_error(t, ctx, e))?);
                    best_epoch = epoch;
                }
                if stop || epoch >= max_epochs {
                    let weights = match best.take() {
                        Some(w) => w,
                        None => tr.weights().map_err(|e| server_error(t, ctx, e))?,
                    };
                    let msg = ServerMsg::FinalModel {
                        epochs: epoch,
                        best_epoch,
                        weights,
                    };
                    t.send(&codec::encode_server_message(ctx, &msg))
                        .map_err(|e| CliError::msg(e.to_string()))?;
                    order.finish();
                    return Ok(ServerSummary {
                        epochs: epoch,
                        best_epoch,
                    });
                }
                run_epoch(t, ctx, tr.as_mut(), &mut epoch, events)?
            }
        };
        t.send(&codec::encode_server_message(ctx, &reply))
            .map_err(|e| CliError::msg(e.to_string()))?;
    }
}

fn run_epoch(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    tr: &mut dyn EpochTrainer,
    epoch: &mut u32,
    events: &mut dyn FnMut(ServerEvent),
) -> Result<ServerMsg, CliError> {
    *epoch += 1;
    let e = *epoch;
    let start = Instant::now();
    let logits = tr
        .epoch(&mut |step, steps| {
            events(ServerEvent::Step {
                epoch: e,
                step,
                steps,
            })
        })
        .map_err(|err| server_error(t, ctx, format!("training failed in epoch {e}: {err}")))?;
    events(ServerEvent::Epoch {
        epoch: e,
        time: start.elapsed(),
    });
    Ok(ServerMsg::ValidationLogits { epoch: e, logits })
}

/// Accepts connections one after another and serves each; a failed session is
/// reported through `log` and the server goes on. Stops after `sessions` successful
/// sessions if given.
pub fn serve_tcp(
    listener: &TcpListener,
    ctx: &Arc<CkksContext>,
    factory: &TrainerFactory,
    max_frame: u64,
    sessions: Option<usize>,
    log: &mut dyn FnMut(&str),
) -> Result<(), CliError> {
    let mut done = 0;
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                log(&format!("accept failed: {e}"));
                continue;
            }
        };
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".into(), |a| a.to_string());
        let mut t = match TcpTransport::new(stream, max_frame, None) {
            Ok(t) => t,
            Err(e) => {
                log(&format!("{peer}: {e}"));
                continue;
            }
        };
        log(&format!("{peer}: connected"));
        match serve_session(&mut t, ctx, factory, &mut |ev| {
            if let ServerEvent::Epoch { epoch, time } = ev {
                log(&format!(
                    "{peer}: epoch {epoch} done in {:.1} s",
                    time.as_secs_f64()
                ));
            }
        }) {
            Ok(s) => {
                log(&format!(
                    "{peer}: session finished ({} epochs, model of epoch {})",
                    s.epochs, s.best_epoch
                ));
                done += 1;
                if sessions.is_some_and(|n| done >= n) {
                    return Ok(());
                }
            }
            Err(e) => log(&format!("{peer}: session ended: {e}")),
        }
    }
    Ok(())
}

/// One epoch as the client saw it.
#[derive(Clone, Debug)]
pub struct EpochReport {
    /// Epoch (1-based).
    pub epoch: u32,
    /// Validation loss (exact softmax on the decrypted logits).
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_acc: f64,
    /// Wall time from sending the previous message to receiving these logits.
    pub time: Duration,
}

/// What the client ends with.
#[derive(Clone, Debug)]
pub struct ClientOutcome {
    /// The encrypted weights of the best epoch.
    pub weights: EncMatrix,
    /// Epochs run.
    pub epochs: u32,
    /// Epoch of the weights.
    pub best_epoch: u32,
    /// Per-epoch validation figures.
    pub history: Vec<EpochReport>,
}

fn client_recv(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    order: &mut ClientSession,
) -> Result<ServerMsg, CliError> {
    let bytes = t
        .recv()
        .map_err(|e| CliError::msg(format!("server: {e}")))?;
    let msg = codec::decode_server_message(ctx, &bytes)
        .map_err(|e| CliError::msg(format!("server sent a malformed message: {e}")))?;
    order
        .accept(&msg)
        .map_err(|e| CliError::msg(format!("server: {e}")))?;
    if let ServerMsg::Error(text) = &msg {
        return Err(CliError::msg(format!("server refused: {text}")));
    }
    Ok(msg)
}

fn client_send(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    order: &mut ClientSession,
    msg: &ClientMsg,
) -> Result<(), CliError> {
    order.sent(msg);
    t.send(&codec::encode_client_message(ctx, msg))
        .map_err(|e| CliError::msg(format!("server: {e}")))
}

/// Runs the client side of a session: sends keys, data and configuration, then after
/// each epoch decrypts the validation logits and decides (early stopping with the
/// configuration's patience).
#[allow(clippy::too_many_arguments)]
pub fn run_client(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    sk: &SecretKey,
    hello: Hello,
    data: EncryptedDataset,
    cfg: TrainConfig,
    state: &ClientState,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<ClientOutcome, CliError> {
    let mut order = ClientSession::new();
    let classes = state.classes as usize;
    client_send(t, ctx, &mut order, &ClientMsg::Hello(Box::new(hello)))?;
    client_recv(t, ctx, &mut order)?;
    client_send(t, ctx, &mut order, &ClientMsg::Dataset(data))?;
    client_recv(t, ctx, &mut order)?;
    let mut stop = EarlyStopping::new(cfg.patience as usize);
    let epochs_cap = cfg.epochs;
    client_send(t, ctx, &mut order, &ClientMsg::Config(cfg))?;
    let mut history = Vec::new();
    let mut sent_at = Instant::now();
    loop {
        match client_recv(t, ctx, &mut order)? {
            ServerMsg::ValidationLogits { epoch, logits } => {
                let time = sent_at.elapsed();
                let mut z = Vec::with_capacity(state.val_labels.len() * classes);
                for m in &logits {
                    if m.cols as usize != classes {
                        return Err(CliError::msg(format!(
                            "server sent logits with {} columns for {classes} classes",
                            m.cols
                        )));
                    }
                    z.extend(decrypt_matrix(ctx, sk, m)?);
                }
                let (val_loss, val_acc) = validation_loss(&z, classes, &state.val_labels)
                    .ok_or_else(|| {
                        CliError::msg("server sent validation logits of the wrong shape")
                    })?;
                let report = EpochReport {
                    epoch,
                    val_loss,
                    val_acc,
                    time,
                };
                on_epoch(&report);
                history.push(report);
                let improved = stop.observe(epoch as usize, val_loss);
                let d = Decision {
                    improved,
                    stop: stop.should_stop() || epoch >= epochs_cap,
                };
                sent_at = Instant::now();
                client_send(t, ctx, &mut order, &ClientMsg::Decision(d))?;
            }
            ServerMsg::FinalModel {
                epochs,
                best_epoch,
                weights,
            } => {
                return Ok(ClientOutcome {
                    weights,
                    epochs,
                    best_epoch,
                    history,
                });
            }
            m => {
                return Err(CliError::msg(format!(
                    "server sent an unexpected {}",
                    m.name()
                )));
            }
        }
    }
}
