//! Versioned little-endian encoding of parameters, keys and ciphertexts.
//!
//! Every object starts with a header: magic `b"HETL"`, format version (`u16`), object
//! kind (`u8`), and, except for parameters themselves, the 64-bit fingerprint of the
//! parameter set it belongs to (so a key or ciphertext from another parameter set is
//! refused on load). Decoding never panics on any input: every length is checked against
//! what the parameters allow *before* allocating, every residue is checked to be below
//! its prime, scales and slot counts are validated, and trailing bytes are an error.
//!
//! Polynomials are written as their NTT-form residues, limb-major, one `u64` each.
//! Switching keys are written as the seed of their `a` parts, the storage the sender
//! chose ([`KeyStorage`]), their level and digit count, and their `b` parts over that
//! level's limbs only (version 2; version 1 had full-level keys and another `a`
//! expansion).

mod error;
mod frame;
mod message;
mod reader;
mod secret;

pub use error::CodecError;
pub use frame::{FRAME_HEADER, decode_frame, encode_frame, frame_len};
pub use message::{
    decode_boot_keys, decode_checkpoint, decode_client_message, decode_client_state,
    decode_plain_model, decode_server_message, encode_boot_keys, encode_checkpoint,
    encode_client_message, encode_client_state, encode_plain_model, encode_server_message,
};
use reader::Reader;
pub use secret::{decode_secret_key, encode_secret_key};

use alloc::vec::Vec;

use crate::ckks::security::SecretDistribution;
use crate::ckks::{Ciphertext, CkksContext, EvaluationKeys, Params};
use crate::math::seed::{SEED_LEN, Seed};
use crate::ring::{Form, RnsPoly};
use crate::rlwe::{KeyStorage, PublicKey, SwitchingKey};

/// File magic.
pub const MAGIC: [u8; 4] = *b"HETL";
/// Current format version: 2 added seeded key parts and key levels; 3 the softmax
/// domain (`logit_bound`) in the training configuration and checkpoints, so a file or
/// peer of an older build is refused by its version instead of misread.
pub const VERSION: u16 = 3;

/// What an encoded object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A [`Params`].
    Params = 1,
    /// A [`Ciphertext`].
    Ciphertext = 2,
    /// A [`PublicKey`].
    PublicKey = 3,
    /// A [`SwitchingKey`].
    SwitchingKey = 4,
    /// An [`EvaluationKeys`] set.
    EvaluationKeys = 5,
    /// A client's [`SecretKey`](crate::rlwe::SecretKey) (client-side files only).
    SecretKey = 6,
    /// A client-to-server protocol message ([`crate::hetal::protocol::ClientMsg`]).
    ClientMessage = 7,
    /// A server-to-client protocol message ([`crate::hetal::protocol::ServerMsg`]).
    ServerMessage = 8,
    /// The client's private bookkeeping ([`crate::hetal::protocol::ClientState`]).
    ClientState = 9,
    /// A decrypted model ([`crate::hetal::protocol::PlainModel`]).
    PlainModel = 10,
    /// Bootstrapping encapsulation keys ([`crate::boot::EncapsulationKeys`]).
    BootKeys = 11,
    /// A server's training checkpoint ([`crate::hetal::protocol::Checkpoint`]).
    Checkpoint = 12,
}

impl Kind {
    /// The kind with this tag byte, if any.
    pub fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Params,
            2 => Self::Ciphertext,
            3 => Self::PublicKey,
            4 => Self::SwitchingKey,
            5 => Self::EvaluationKeys,
            6 => Self::SecretKey,
            7 => Self::ClientMessage,
            8 => Self::ServerMessage,
            9 => Self::ClientState,
            10 => Self::PlainModel,
            11 => Self::BootKeys,
            12 => Self::Checkpoint,
            _ => return None,
        })
    }
}

/// 64-bit FNV-1a fingerprint of everything that defines a parameter set.
pub fn fingerprint(p: &Params) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |x: u64| {
        for b in x.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(u64::from(p.log_n()));
    eat(p.q().len() as u64);
    p.q().iter().for_each(|&q| eat(q));
    eat(p.p().len() as u64);
    p.p().iter().for_each(|&q| eat(q));
    eat(p.dnum() as u64);
    eat(p.default_scale().to_bits());
    let (tag, h_w) = secret_tag(p.secret());
    eat(u64::from(tag));
    eat(h_w);
    h
}

fn secret_tag(s: SecretDistribution) -> (u8, u64) {
    match s {
        SecretDistribution::UniformTernary => (0, 0),
        SecretDistribution::Gaussian => (1, 0),
        SecretDistribution::SparseTernary { h } => (2, h as u64),
    }
}

fn header(out: &mut Vec<u8>, kind: Kind, fp: Option<u64>) {
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.push(kind as u8);
    if let Some(fp) = fp {
        out.extend_from_slice(&fp.to_le_bytes());
    }
}

fn read_header(r: &mut Reader<'_>, kind: Kind, fp: Option<u64>) -> Result<(), CodecError> {
    if r.bytes(4)? != MAGIC {
        return Err(CodecError::BadMagic);
    }
    let v = r.u16()?;
    if v != VERSION {
        return Err(CodecError::UnsupportedVersion(v));
    }
    let k = r.u8()?;
    if Kind::from_u8(k) != Some(kind) {
        return Err(CodecError::WrongKind {
            expected: kind as u8,
            found: k,
        });
    }
    if let Some(fp) = fp {
        let got = r.u64()?;
        if got != fp {
            return Err(CodecError::FingerprintMismatch {
                expected: fp,
                found: got,
            });
        }
    }
    Ok(())
}

/// The header of an encoded object, read without knowing its parameter set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// What the object is.
    pub kind: Kind,
    /// The fingerprint of its parameter set (`None` for [`Kind::Params`] and
    /// [`Kind::PlainModel`], which belong to no parameter set).
    pub fingerprint: Option<u64>,
}

/// Reads the header only (magic, version, kind and fingerprint), so a tool can tell
/// which parameter set a file belongs to before decoding it.
pub fn peek_header(bytes: &[u8]) -> Result<Header, CodecError> {
    let mut r = Reader::new(bytes);
    if r.bytes(4)? != MAGIC {
        return Err(CodecError::BadMagic);
    }
    let v = r.u16()?;
    if v != VERSION {
        return Err(CodecError::UnsupportedVersion(v));
    }
    let k = r.u8()?;
    let kind = Kind::from_u8(k).ok_or(CodecError::InvalidValue("object kind"))?;
    let fingerprint = match kind {
        Kind::Params | Kind::PlainModel => None,
        _ => Some(r.u64()?),
    };
    Ok(Header { kind, fingerprint })
}

/// Encodes a parameter set.
pub fn encode_params(p: &Params) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out, Kind::Params, None);
    out.push(p.log_n() as u8);
    out.extend_from_slice(&(p.q().len() as u16).to_le_bytes());
    p.q()
        .iter()
        .for_each(|q| out.extend_from_slice(&q.to_le_bytes()));
    out.extend_from_slice(&(p.p().len() as u16).to_le_bytes());
    p.p()
        .iter()
        .for_each(|q| out.extend_from_slice(&q.to_le_bytes()));
    out.extend_from_slice(&(p.dnum() as u16).to_le_bytes());
    out.push(libm::log2(p.default_scale()) as u8);
    let (tag, h) = secret_tag(p.secret());
    out.push(tag);
    out.extend_from_slice(&(h as u32).to_le_bytes());
    out
}

/// Decodes a parameter set; it must pass the 128-bit check of [`Params::new`] (an
/// insecure set is refused, whatever its bytes).
pub fn decode_params(bytes: &[u8]) -> Result<Params, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::Params, None)?;
    let log_n = u32::from(r.u8()?);
    let primes = |r: &mut Reader<'_>| -> Result<Vec<u64>, CodecError> {
        let count = usize::from(r.u16()?);
        r.check_remaining(count * 8)?;
        (0..count).map(|_| r.u64()).collect()
    };
    let q = primes(&mut r)?;
    let p = primes(&mut r)?;
    let dnum = usize::from(r.u16()?);
    let log_scale = u32::from(r.u8()?);
    let secret = match (r.u8()?, r.u32()?) {
        (0, 0) => SecretDistribution::UniformTernary,
        (1, 0) => SecretDistribution::Gaussian,
        (2, h) => SecretDistribution::SparseTernary { h: h as usize },
        _ => return Err(CodecError::InvalidValue("secret distribution")),
    };
    r.finish()?;
    if !(1..=62).contains(&log_scale) {
        return Err(CodecError::InvalidValue("scale"));
    }
    Params::new(log_n, q, p, dnum, log_scale, secret).map_err(CodecError::Params)
}

fn write_poly(out: &mut Vec<u8>, p: &RnsPoly) {
    out.reserve(p.data().len() * 8);
    p.data()
        .iter()
        .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
}

/// Reads an NTT-form polynomial with `q_limbs` Q limbs and `p_limbs` P limbs, checking the
/// length before allocating and every residue against its prime.
fn read_poly(
    r: &mut Reader<'_>,
    ctx: &CkksContext,
    q_limbs: usize,
    p_limbs: usize,
) -> Result<RnsPoly, CodecError> {
    let ring = ctx.ring();
    let words = (q_limbs + p_limbs) * ring.n();
    r.check_remaining(words * 8)?;
    let data: Vec<u64> = (0..words).map(|_| r.u64()).collect::<Result<_, _>>()?;
    RnsPoly::from_data(ring, data, q_limbs, p_limbs, Form::Ntt)
        .map_err(|_| CodecError::ResidueOutOfRange)
}

/// Encodes a ciphertext.
pub fn encode_ciphertext(ctx: &CkksContext, ct: &Ciphertext) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out, Kind::Ciphertext, Some(fingerprint(ctx.params())));
    write_ciphertext_body(&mut out, ct);
    out
}

fn write_ciphertext_body(out: &mut Vec<u8>, ct: &Ciphertext) {
    out.extend_from_slice(&(ct.level() as u16).to_le_bytes());
    out.extend_from_slice(&(ct.slots as u32).to_le_bytes());
    out.extend_from_slice(&ct.scale.to_bits().to_le_bytes());
    write_poly(out, &ct.c0);
    write_poly(out, &ct.c1);
}

/// The fewest bytes a ciphertext body can take (level 0): lets a list decoder check a
/// count against the remaining input before allocating.
fn min_ciphertext_body(ctx: &CkksContext) -> usize {
    2 + 4 + 8 + 2 * ctx.params().n() * 8
}

fn read_ciphertext_body(r: &mut Reader<'_>, ctx: &CkksContext) -> Result<Ciphertext, CodecError> {
    let level = usize::from(r.u16()?);
    if level > ctx.params().max_level() {
        return Err(CodecError::InvalidValue("level"));
    }
    let slots = r.u32()? as usize;
    if !slots.is_power_of_two() || slots > ctx.params().max_slots() {
        return Err(CodecError::InvalidValue("slot count"));
    }
    let scale = f64::from_bits(r.u64()?);
    if !scale.is_finite() || scale < 1.0 {
        return Err(CodecError::InvalidValue("scale"));
    }
    let c0 = read_poly(r, ctx, level + 1, 0)?;
    let c1 = read_poly(r, ctx, level + 1, 0)?;
    Ok(Ciphertext {
        c0,
        c1,
        scale,
        slots,
    })
}

/// Decodes a ciphertext of `ctx`'s parameter set.
pub fn decode_ciphertext(ctx: &CkksContext, bytes: &[u8]) -> Result<Ciphertext, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::Ciphertext, Some(fingerprint(ctx.params())))?;
    let ct = read_ciphertext_body(&mut r, ctx)?;
    r.finish()?;
    Ok(ct)
}

/// Encodes a public key.
pub fn encode_public_key(ctx: &CkksContext, pk: &PublicKey) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out, Kind::PublicKey, Some(fingerprint(ctx.params())));
    write_poly(&mut out, &pk.b);
    write_poly(&mut out, &pk.a);
    out
}

/// Decodes a public key of `ctx`'s parameter set.
pub fn decode_public_key(ctx: &CkksContext, bytes: &[u8]) -> Result<PublicKey, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::PublicKey, Some(fingerprint(ctx.params())))?;
    let qc = ctx.ring().q_count();
    let b = read_poly(&mut r, ctx, qc, 0)?;
    let a = read_poly(&mut r, ctx, qc, 0)?;
    r.finish()?;
    Ok(PublicKey { b, a })
}

fn write_switching_key_body(out: &mut Vec<u8>, key: &SwitchingKey) {
    out.extend_from_slice(key.seed());
    out.push(match key.storage() {
        KeyStorage::Expanded => 0,
        KeyStorage::Seeded => 1,
    });
    out.extend_from_slice(&(key.level() as u16).to_le_bytes());
    out.push(key.dnum() as u8);
    key.b().iter().for_each(|b| write_poly(out, b));
}

/// Reads a switching key: seed, storage (how the receiver should hold it), level, digit
/// count (must be the one of that level), then the `b` parts over that level's limbs.
fn read_switching_key_body(
    r: &mut Reader<'_>,
    ctx: &CkksContext,
) -> Result<SwitchingKey, CodecError> {
    let ring = ctx.ring();
    let seed: Seed = r
        .bytes(SEED_LEN)?
        .try_into()
        .map_err(|_| CodecError::Truncated)?;
    let storage = match r.u8()? {
        0 => KeyStorage::Expanded,
        1 => KeyStorage::Seeded,
        _ => return Err(CodecError::InvalidValue("key storage")),
    };
    let level = usize::from(r.u16()?);
    if level > ctx.params().max_level() {
        return Err(CodecError::InvalidValue("key level"));
    }
    let digits = usize::from(r.u8()?);
    if digits != (level + 1).div_ceil(ctx.switcher().alpha()) {
        return Err(CodecError::InvalidValue("key digit count"));
    }
    let mut b = Vec::with_capacity(digits);
    for _ in 0..digits {
        b.push(read_poly(r, ctx, level + 1, ring.p_count())?);
    }
    SwitchingKey::from_parts(ring, ctx.switcher(), b, seed, storage)
        .map_err(|_| CodecError::InvalidValue("switching key"))
}

/// Encodes a switching key (its `b` parts and the seed of its `a` parts).
pub fn encode_switching_key(ctx: &CkksContext, key: &SwitchingKey) -> Vec<u8> {
    let mut out = Vec::new();
    header(
        &mut out,
        Kind::SwitchingKey,
        Some(fingerprint(ctx.params())),
    );
    write_switching_key_body(&mut out, key);
    out
}

/// Decodes a switching key of `ctx`'s parameter set.
pub fn decode_switching_key(ctx: &CkksContext, bytes: &[u8]) -> Result<SwitchingKey, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::SwitchingKey, Some(fingerprint(ctx.params())))?;
    let key = read_switching_key_body(&mut r, ctx)?;
    r.finish()?;
    Ok(key)
}

/// Encodes evaluation keys (relinearization key if any, then Galois keys by element).
pub fn encode_evaluation_keys(ctx: &CkksContext, keys: &EvaluationKeys) -> Vec<u8> {
    let mut out = Vec::new();
    header(
        &mut out,
        Kind::EvaluationKeys,
        Some(fingerprint(ctx.params())),
    );
    write_evaluation_keys_body(&mut out, keys);
    out
}

fn write_evaluation_keys_body(out: &mut Vec<u8>, keys: &EvaluationKeys) {
    out.push(u8::from(keys.relin.is_some()));
    if let Some(k) = &keys.relin {
        write_switching_key_body(out, k);
    }
    out.extend_from_slice(&(keys.galois.len() as u32).to_le_bytes());
    for (&g, k) in &keys.galois {
        out.extend_from_slice(&(g as u32).to_le_bytes());
        write_switching_key_body(out, k);
    }
}

/// Decodes evaluation keys of `ctx`'s parameter set: Galois elements must be odd, below
/// `2N`, not 1, and strictly increasing (so a set has one canonical encoding).
pub fn decode_evaluation_keys(
    ctx: &CkksContext,
    bytes: &[u8],
) -> Result<EvaluationKeys, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(
        &mut r,
        Kind::EvaluationKeys,
        Some(fingerprint(ctx.params())),
    )?;
    let keys = read_evaluation_keys_body(&mut r, ctx)?;
    r.finish()?;
    Ok(keys)
}

fn read_evaluation_keys_body(
    r: &mut Reader<'_>,
    ctx: &CkksContext,
) -> Result<EvaluationKeys, CodecError> {
    let mut keys = EvaluationKeys::default();
    match r.u8()? {
        0 => {}
        1 => keys.relin = Some(read_switching_key_body(r, ctx)?),
        _ => return Err(CodecError::InvalidValue("relinearization flag")),
    }
    let count = r.u32()? as usize;
    let two_n = 2 * ctx.params().n();
    let mut last = 1usize;
    for _ in 0..count {
        let g = r.u32()? as usize;
        if g.is_multiple_of(2) || g >= two_n || g <= last {
            return Err(CodecError::InvalidValue("Galois element"));
        }
        last = g;
        keys.galois.insert(g, read_switching_key_body(r, ctx)?);
    }
    Ok(keys)
}
