//! Protocol messages and the client's small files.
//!
//! After the header, a message is a tag byte and its fields. Lists carry a `u32` count
//! that is checked against the remaining input (times the smallest encoding of one
//! item) before anything is reserved, so a forged count cannot make the decoder
//! allocate more than the input's own size; shapes are then checked with
//! [`EncMatrix::check`] / [`EncryptedDataset::check`].

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::{
    CodecError, Kind, Reader, fingerprint, header, min_ciphertext_body, read_ciphertext_body,
    read_evaluation_keys_body, read_header, read_poly, read_switching_key_body,
    write_ciphertext_body, write_evaluation_keys_body, write_poly, write_switching_key_body,
};
use crate::boot::EncapsulationKeys;
use crate::ckks::CkksContext;
use crate::hetal::plain::Model;
use crate::hetal::protocol::{
    Checkpoint, ClientMsg, ClientState, Decision, EncMatrix, EncryptedDataset, Hello, Layout,
    MAX_COLS, MAX_ERROR_TEXT, PlainModel, ServerMsg, TrainBatch, TrainConfig,
};
use crate::linalg::{Tiling, UnitShape};
use crate::rlwe::PublicKey;

const HELLO: u8 = 1;
const DATASET: u8 = 2;
const CONFIG: u8 = 3;
const DECISION: u8 = 4;

const ACK: u8 = 1;
const LOGITS: u8 = 2;
const MODEL: u8 = 3;
const ERROR: u8 = 4;

/// rows, cols, layout, count.
const MATRIX_HEAD: usize = 4 + 4 + 1 + 4;

fn write_matrix(out: &mut Vec<u8>, m: &EncMatrix) {
    out.extend_from_slice(&m.rows.to_le_bytes());
    out.extend_from_slice(&m.cols.to_le_bytes());
    out.push(m.layout.tag());
    if let Layout::Block { unit, tiling } = m.layout {
        out.extend_from_slice(&(unit.s0 as u32).to_le_bytes());
        out.extend_from_slice(&(unit.s1 as u32).to_le_bytes());
        let (tag, period) = match tiling {
            Tiling::None => (0u8, 0usize),
            Tiling::Vertical { period } => (1, period),
            Tiling::Horizontal { period } => (2, period),
        };
        out.push(tag);
        out.extend_from_slice(&(period as u32).to_le_bytes());
    }
    out.extend_from_slice(&(m.cts.len() as u32).to_le_bytes());
    m.cts.iter().for_each(|c| write_ciphertext_body(out, c));
}

fn read_matrix(r: &mut Reader<'_>, ctx: &CkksContext) -> Result<EncMatrix, CodecError> {
    let rows = r.u32()?;
    let cols = r.u32()?;
    let layout = match r.u8()? {
        0 => Layout::RowMajor,
        1 => {
            let (s0, s1) = (r.u32()? as usize, r.u32()? as usize);
            let unit =
                UnitShape::new(s0, s1).map_err(|_| CodecError::InvalidValue("block shape"))?;
            let (tag, period) = (r.u8()?, r.u32()? as usize);
            let tiling = match (tag, period) {
                (0, 0) => Tiling::None,
                (1, p) => Tiling::Vertical { period: p },
                (2, p) => Tiling::Horizontal { period: p },
                _ => return Err(CodecError::InvalidValue("tiling")),
            };
            Layout::Block { unit, tiling }
        }
        _ => return Err(CodecError::InvalidValue("layout")),
    };
    let count = r.u32()? as usize;
    r.check_count(count, min_ciphertext_body(ctx))?;
    let mut cts = Vec::with_capacity(count);
    for _ in 0..count {
        cts.push(read_ciphertext_body(r, ctx)?);
    }
    let m = EncMatrix {
        rows,
        cols,
        layout,
        cts,
    };
    m.check().map_err(|e| CodecError::InvalidValue(e.what()))?;
    Ok(m)
}

fn read_matrices(
    r: &mut Reader<'_>,
    ctx: &CkksContext,
    per_item: usize,
) -> Result<Vec<EncMatrix>, CodecError> {
    let count = r.u32()? as usize;
    r.check_count(count, per_item * (MATRIX_HEAD + min_ciphertext_body(ctx)))?;
    let mut out = Vec::with_capacity(count * per_item);
    for _ in 0..count * per_item {
        out.push(read_matrix(r, ctx)?);
    }
    Ok(out)
}

/// Encodes a client-to-server message.
pub fn encode_client_message(ctx: &CkksContext, msg: &ClientMsg) -> Vec<u8> {
    let mut out = Vec::new();
    header(
        &mut out,
        Kind::ClientMessage,
        Some(fingerprint(ctx.params())),
    );
    match msg {
        ClientMsg::Hello(h) => {
            out.push(HELLO);
            write_poly(&mut out, &h.public_key.b);
            write_poly(&mut out, &h.public_key.a);
            write_evaluation_keys_body(&mut out, &h.keys);
            match &h.boot {
                None => out.push(0),
                Some(k) => {
                    out.push(1);
                    write_boot_keys_body(&mut out, k);
                }
            }
        }
        ClientMsg::Dataset(d) => {
            out.push(DATASET);
            out.extend_from_slice(&d.features.to_le_bytes());
            out.extend_from_slice(&d.classes.to_le_bytes());
            out.extend_from_slice(&d.train_rows.to_le_bytes());
            out.extend_from_slice(&d.val_rows.to_le_bytes());
            out.extend_from_slice(&(d.train.len() as u32).to_le_bytes());
            for b in &d.train {
                write_matrix(&mut out, &b.x);
                write_matrix(&mut out, &b.y);
            }
            out.extend_from_slice(&(d.val.len() as u32).to_le_bytes());
            d.val.iter().for_each(|m| write_matrix(&mut out, m));
        }
        ClientMsg::Config(c) => {
            out.push(CONFIG);
            out.extend_from_slice(&c.lr.to_bits().to_le_bytes());
            out.extend_from_slice(&c.momentum.to_bits().to_le_bytes());
            out.extend_from_slice(&c.epochs.to_le_bytes());
            out.extend_from_slice(&c.patience.to_le_bytes());
            out.extend_from_slice(&c.batch.to_le_bytes());
            out.extend_from_slice(&c.weight_scale.to_bits().to_le_bytes());
            out.extend_from_slice(&c.logit_bound.to_bits().to_le_bytes());
        }
        ClientMsg::Decision(d) => {
            out.push(DECISION);
            out.push(u8::from(d.improved) | (u8::from(d.stop) << 1));
        }
    }
    out
}

/// Decodes a client-to-server message of `ctx`'s parameter set.
pub fn decode_client_message(ctx: &CkksContext, bytes: &[u8]) -> Result<ClientMsg, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::ClientMessage, Some(fingerprint(ctx.params())))?;
    let msg = match r.u8()? {
        HELLO => {
            let qc = ctx.ring().q_count();
            let b = read_poly(&mut r, ctx, qc, 0)?;
            let a = read_poly(&mut r, ctx, qc, 0)?;
            let keys = read_evaluation_keys_body(&mut r, ctx)?;
            let boot = match r.u8()? {
                0 => None,
                1 => Some(read_boot_keys_body(&mut r, ctx)?),
                _ => return Err(CodecError::InvalidValue("bootstrapping keys flag")),
            };
            ClientMsg::Hello(Box::new(Hello {
                public_key: PublicKey { b, a },
                keys,
                boot,
            }))
        }
        DATASET => {
            let features = r.u32()?;
            let classes = r.u32()?;
            let train_rows = r.u64()?;
            let val_rows = r.u64()?;
            let mut flat = read_matrices(&mut r, ctx, 2)?;
            let val = read_matrices(&mut r, ctx, 1)?;
            let mut train = Vec::with_capacity(flat.len() / 2);
            while let (Some(y), Some(x)) = (flat.pop(), flat.pop()) {
                train.push(TrainBatch { x, y });
            }
            train.reverse();
            let d = EncryptedDataset {
                features,
                classes,
                train_rows,
                val_rows,
                train,
                val,
            };
            d.check().map_err(|e| CodecError::InvalidValue(e.what()))?;
            ClientMsg::Dataset(d)
        }
        CONFIG => {
            let c = TrainConfig {
                lr: r.f64()?,
                momentum: r.f64()?,
                epochs: r.u32()?,
                patience: r.u32()?,
                batch: r.u32()?,
                weight_scale: r.f64()?,
                logit_bound: r.f64()?,
            };
            if !c.is_valid() {
                return Err(CodecError::InvalidValue("training configuration"));
            }
            ClientMsg::Config(c)
        }
        DECISION => match r.u8()? {
            f @ 0..=3 => ClientMsg::Decision(Decision {
                improved: f & 1 != 0,
                stop: f & 2 != 0,
            }),
            _ => return Err(CodecError::InvalidValue("decision flags")),
        },
        _ => return Err(CodecError::InvalidValue("message tag")),
    };
    r.finish()?;
    Ok(msg)
}

/// Encodes a server-to-client message.
pub fn encode_server_message(ctx: &CkksContext, msg: &ServerMsg) -> Vec<u8> {
    let mut out = Vec::new();
    header(
        &mut out,
        Kind::ServerMessage,
        Some(fingerprint(ctx.params())),
    );
    match msg {
        ServerMsg::Ack => out.push(ACK),
        ServerMsg::ValidationLogits { epoch, logits } => {
            out.push(LOGITS);
            out.extend_from_slice(&epoch.to_le_bytes());
            out.extend_from_slice(&(logits.len() as u32).to_le_bytes());
            logits.iter().for_each(|m| write_matrix(&mut out, m));
        }
        ServerMsg::FinalModel {
            epochs,
            best_epoch,
            weights,
        } => {
            out.push(MODEL);
            out.extend_from_slice(&epochs.to_le_bytes());
            out.extend_from_slice(&best_epoch.to_le_bytes());
            write_matrix(&mut out, weights);
        }
        ServerMsg::Error(text) => {
            out.push(ERROR);
            // Cut on a character boundary so the text stays valid UTF-8.
            let mut end = text.len().min(MAX_ERROR_TEXT);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            out.extend_from_slice(&(end as u16).to_le_bytes());
            out.extend_from_slice(&text.as_bytes()[..end]);
        }
    }
    out
}

/// Decodes a server-to-client message of `ctx`'s parameter set. An error message is
/// accepted whatever its fingerprint: a server on another parameter set must still be
/// able to say so.
pub fn decode_server_message(ctx: &CkksContext, bytes: &[u8]) -> Result<ServerMsg, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::ServerMessage, None)?;
    let fp = r.u64()?;
    let tag = r.u8()?;
    let expected = fingerprint(ctx.params());
    if tag != ERROR && fp != expected {
        return Err(CodecError::FingerprintMismatch {
            expected,
            found: fp,
        });
    }
    let msg = match tag {
        ACK => ServerMsg::Ack,
        LOGITS => {
            let epoch = r.u32()?;
            let logits = read_matrices(&mut r, ctx, 1)?;
            if epoch == 0 || logits.is_empty() {
                return Err(CodecError::InvalidValue("validation logits"));
            }
            ServerMsg::ValidationLogits { epoch, logits }
        }
        MODEL => {
            let epochs = r.u32()?;
            let best_epoch = r.u32()?;
            let weights = read_matrix(&mut r, ctx)?;
            if best_epoch > epochs {
                return Err(CodecError::InvalidValue("best epoch"));
            }
            ServerMsg::FinalModel {
                epochs,
                best_epoch,
                weights,
            }
        }
        ERROR => {
            let len = usize::from(r.u16()?);
            if len > MAX_ERROR_TEXT {
                return Err(CodecError::InvalidValue("error text length"));
            }
            let text = core::str::from_utf8(r.bytes(len)?)
                .map_err(|_| CodecError::InvalidValue("error text"))?;
            ServerMsg::Error(String::from(text))
        }
        _ => return Err(CodecError::InvalidValue("message tag")),
    };
    r.finish()?;
    Ok(msg)
}

/// Encodes the client's private bookkeeping.
pub fn encode_client_state(ctx: &CkksContext, s: &ClientState) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + 4 * s.val_labels.len());
    header(&mut out, Kind::ClientState, Some(fingerprint(ctx.params())));
    out.extend_from_slice(&s.scale.to_bits().to_le_bytes());
    out.extend_from_slice(&s.dim.to_le_bytes());
    out.extend_from_slice(&s.classes.to_le_bytes());
    out.extend_from_slice(&s.key_id.to_le_bytes());
    out.extend_from_slice(&(s.val_labels.len() as u32).to_le_bytes());
    s.val_labels
        .iter()
        .for_each(|l| out.extend_from_slice(&l.to_le_bytes()));
    out
}

/// Decodes the client's bookkeeping (scale positive and finite, labels below the class
/// count).
pub fn decode_client_state(ctx: &CkksContext, bytes: &[u8]) -> Result<ClientState, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::ClientState, Some(fingerprint(ctx.params())))?;
    let scale = r.f64()?;
    let dim = r.u32()?;
    let classes = r.u32()?;
    let key_id = r.u64()?;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(CodecError::InvalidValue("feature scale"));
    }
    if dim == 0 || dim >= MAX_COLS || !(2..=MAX_COLS).contains(&classes) {
        return Err(CodecError::InvalidValue("shape"));
    }
    let count = r.u32()? as usize;
    r.check_count(count, 4)?;
    let val_labels = (0..count).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
    if val_labels.iter().any(|&l| l >= classes) {
        return Err(CodecError::InvalidValue("label"));
    }
    r.finish()?;
    Ok(ClientState {
        scale,
        dim,
        classes,
        key_id,
        val_labels,
    })
}

/// Encodes a decrypted model (no parameter fingerprint: it is plain data).
pub fn encode_plain_model(m: &PlainModel) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + 8 * m.model.w.len());
    header(&mut out, Kind::PlainModel, None);
    out.extend_from_slice(&m.scale.to_bits().to_le_bytes());
    out.extend_from_slice(&(m.model.classes as u32).to_le_bytes());
    out.extend_from_slice(&(m.model.cols as u32).to_le_bytes());
    m.model
        .w
        .iter()
        .for_each(|w| out.extend_from_slice(&w.to_bits().to_le_bytes()));
    out
}

/// Decodes a decrypted model (finite weights, positive finite scale).
pub fn decode_plain_model(bytes: &[u8]) -> Result<PlainModel, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::PlainModel, None)?;
    let scale = r.f64()?;
    let classes = r.u32()? as usize;
    let cols = r.u32()? as usize;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(CodecError::InvalidValue("feature scale"));
    }
    if !(2..=MAX_COLS as usize).contains(&classes) || !(2..=MAX_COLS as usize).contains(&cols) {
        return Err(CodecError::InvalidValue("shape"));
    }
    let count = classes * cols;
    r.check_count(count, 8)?;
    let w = (0..count).map(|_| r.f64()).collect::<Result<Vec<_>, _>>()?;
    if w.iter().any(|v| !v.is_finite()) {
        return Err(CodecError::InvalidValue("weight"));
    }
    r.finish()?;
    Ok(PlainModel {
        scale,
        model: Model { w, cols, classes },
    })
}

fn write_boot_keys_body(out: &mut Vec<u8>, k: &EncapsulationKeys) {
    out.extend_from_slice(&(k.h as u32).to_le_bytes());
    write_switching_key_body(out, &k.to_sparse);
    write_switching_key_body(out, &k.to_dense);
}

fn read_boot_keys_body(
    r: &mut Reader<'_>,
    ctx: &CkksContext,
) -> Result<EncapsulationKeys, CodecError> {
    let h = r.u32()? as usize;
    if h == 0 || h > ctx.params().n() {
        return Err(CodecError::InvalidValue("sparse secret weight"));
    }
    let to_sparse = read_switching_key_body(r, ctx)?;
    let to_dense = read_switching_key_body(r, ctx)?;
    Ok(EncapsulationKeys {
        to_sparse,
        to_dense,
        h,
    })
}

/// Encodes bootstrapping encapsulation keys (public material, for the server).
pub fn encode_boot_keys(ctx: &CkksContext, k: &EncapsulationKeys) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out, Kind::BootKeys, Some(fingerprint(ctx.params())));
    write_boot_keys_body(&mut out, k);
    out
}

/// Decodes bootstrapping encapsulation keys of `ctx`'s parameter set.
pub fn decode_boot_keys(ctx: &CkksContext, bytes: &[u8]) -> Result<EncapsulationKeys, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::BootKeys, Some(fingerprint(ctx.params())))?;
    let k = read_boot_keys_body(&mut r, ctx)?;
    r.finish()?;
    Ok(k)
}

/// Encodes a server's training checkpoint.
pub fn encode_checkpoint(ctx: &CkksContext, c: &Checkpoint) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out, Kind::Checkpoint, Some(fingerprint(ctx.params())));
    out.extend_from_slice(&c.run_id.to_le_bytes());
    let cfg = &c.config;
    out.extend_from_slice(&cfg.lr.to_bits().to_le_bytes());
    out.extend_from_slice(&cfg.momentum.to_bits().to_le_bytes());
    out.extend_from_slice(&cfg.epochs.to_le_bytes());
    out.extend_from_slice(&cfg.patience.to_le_bytes());
    out.extend_from_slice(&cfg.batch.to_le_bytes());
    out.extend_from_slice(&cfg.weight_scale.to_bits().to_le_bytes());
    out.extend_from_slice(&cfg.logit_bound.to_bits().to_le_bytes());
    out.extend_from_slice(&c.epoch.to_le_bytes());
    out.extend_from_slice(&c.step.to_le_bytes());
    write_matrix(&mut out, &c.u);
    write_matrix(&mut out, &c.v);
    out.extend_from_slice(&(c.decisions.len() as u32).to_le_bytes());
    for d in &c.decisions {
        out.push(u8::from(d.improved) | (u8::from(d.stop) << 1));
    }
    match &c.best {
        None => out.push(0),
        Some((e, w)) => {
            out.push(1);
            out.extend_from_slice(&e.to_le_bytes());
            write_matrix(&mut out, w);
        }
    }
    out.extend_from_slice(&(c.logits.len() as u32).to_le_bytes());
    for l in &c.logits {
        out.extend_from_slice(&(l.len() as u32).to_le_bytes());
        l.iter().for_each(|m| write_matrix(&mut out, m));
    }
    out
}

/// Decodes a training checkpoint of `ctx`'s parameter set.
pub fn decode_checkpoint(ctx: &CkksContext, bytes: &[u8]) -> Result<Checkpoint, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::Checkpoint, Some(fingerprint(ctx.params())))?;
    let run_id = r.u64()?;
    let config = TrainConfig {
        lr: r.f64()?,
        momentum: r.f64()?,
        epochs: r.u32()?,
        patience: r.u32()?,
        batch: r.u32()?,
        weight_scale: r.f64()?,
        logit_bound: r.f64()?,
    };
    if !config.is_valid() {
        return Err(CodecError::InvalidValue("training configuration"));
    }
    let epoch = r.u32()?;
    let step = r.u32()?;
    let u = read_matrix(&mut r, ctx)?;
    let v = read_matrix(&mut r, ctx)?;
    let count = r.u32()? as usize;
    r.check_count(count, 1)?;
    let mut decisions = Vec::with_capacity(count);
    for _ in 0..count {
        decisions.push(match r.u8()? {
            f @ 0..=3 => Decision {
                improved: f & 1 != 0,
                stop: f & 2 != 0,
            },
            _ => return Err(CodecError::InvalidValue("decision flags")),
        });
    }
    if decisions.len() != epoch as usize || epoch > config.epochs {
        return Err(CodecError::InvalidValue("checkpoint epoch"));
    }
    let best = match r.u8()? {
        0 => None,
        1 => {
            let e = r.u32()?;
            if e == 0 || e > epoch {
                return Err(CodecError::InvalidValue("checkpoint best epoch"));
            }
            Some((e, read_matrix(&mut r, ctx)?))
        }
        _ => return Err(CodecError::InvalidValue("checkpoint best flag")),
    };
    let count = r.u32()? as usize;
    if count != epoch as usize {
        return Err(CodecError::InvalidValue("checkpoint logits"));
    }
    let mut logits = Vec::with_capacity(count);
    for _ in 0..count {
        logits.push(read_matrices(&mut r, ctx, 1)?);
    }
    r.finish()?;
    Ok(Checkpoint {
        run_id,
        config,
        epoch,
        step,
        u,
        v,
        decisions,
        best,
        logits,
    })
}
