//! Parameter presets, contexts, and the client's key files.
//!
//! A key directory holds `secret.key` (mode 0600, client only), `public.key` and
//! `eval.keys`. Every file starts with the codec header, whose parameter fingerprint
//! names the preset: a file is only decoded under the parameter set it was made for,
//! and files made with an insecure test preset are refused unless that preset is
//! explicitly allowed (the hidden `--insecure-test-preset` flag, for tests only).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hetal_core::ckks::{Ciphertext, CkksContext, EvaluationKeys, Params};
use hetal_core::codec::{self, CodecError, Kind};
use hetal_core::hetal::protocol::{EncMatrix, Layout, pack_row_major, unpack_row_major};
use hetal_core::linalg::BlockLayout;
use hetal_core::rlwe::{PublicKey, SecretKey};
use rand_core::CryptoRng;

use crate::exec::RayonExecutor;
use crate::files::{self, CliError};

/// A named parameter set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// N = 2^16, 128-bit secure, with the bootstrapping chain training needs (the
    /// default; `Params::boot_n16`).
    #[value(name = "N16")]
    N16,
    /// N = 2^15, 128-bit secure (cannot bootstrap: no training).
    #[value(name = "N15")]
    N15,
    /// N = 2^14, 128-bit secure (too few levels for training; for quick trials).
    #[value(name = "N14")]
    N14,
}

/// Insecure presets, for tests only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InsecurePreset {
    /// N = 2^12, NOT SECURE.
    #[value(name = "insecure-n12")]
    InsecureN12,
    /// N = 2^11, NOT SECURE.
    #[value(name = "insecure-n11")]
    InsecureN11,
    /// N = 2^12 with `boot_N16`'s chain (bootstraps, trains), NOT SECURE.
    #[value(name = "insecure-train-n12")]
    InsecureTrainN12,
}

impl Preset {
    /// Its parameters.
    pub fn params(self) -> Params {
        match self {
            Self::N16 => Params::boot_n16(),
            Self::N15 => Params::n15(),
            Self::N14 => Params::n14(),
        }
    }
}

impl InsecurePreset {
    /// Its parameters.
    pub fn params(self) -> Params {
        match self {
            Self::InsecureN12 => Params::insecure_n12(),
            Self::InsecureN11 => Params::insecure_n11(),
            Self::InsecureTrainN12 => Params::insecure_train_n12(),
        }
    }
}

/// Which parameter sets a command may use.
#[derive(Clone, Debug, Default)]
pub struct Allowed {
    /// The insecure presets allowed (tests only; empty for real use).
    pub insecure: Vec<InsecurePreset>,
}

impl Allowed {
    /// The parameter set whose fingerprint is `fp`.
    pub fn params_for(&self, path: &Path, fp: u64) -> Result<Params, CliError> {
        for p in [Preset::N16, Preset::N15, Preset::N14] {
            let params = p.params();
            if codec::fingerprint(&params) == fp {
                return Ok(params);
            }
        }
        for p in [
            InsecurePreset::InsecureN12,
            InsecurePreset::InsecureN11,
            InsecurePreset::InsecureTrainN12,
        ] {
            let params = p.params();
            if codec::fingerprint(&params) == fp {
                return if self.insecure.contains(&p) {
                    Ok(params)
                } else {
                    Err(CliError::at(
                        path,
                        format!(
                            "made with the insecure test preset {}; refusing to use it",
                            params.name()
                        ),
                    ))
                };
            }
        }
        Err(CliError::at(
            path,
            format!("made for an unknown parameter set (fingerprint {fp:016x})"),
        ))
    }

    /// The context of the parameter set `path`'s header names, after checking the
    /// object kind.
    pub fn context_for(
        &self,
        path: &Path,
        bytes: &[u8],
        kind: Kind,
    ) -> Result<Arc<CkksContext>, CliError> {
        let h = codec::peek_header(bytes).map_err(|e| codec_error(path, e))?;
        if h.kind != kind {
            return Err(CliError::at(
                path,
                format!("is a {}, expected a {}", kind_name(h.kind), kind_name(kind)),
            ));
        }
        let fp = h
            .fingerprint
            .ok_or_else(|| CliError::at(path, "has no parameter fingerprint"))?;
        context(self.params_for(path, fp)?)
    }
}

/// A context with the rayon executor installed.
pub fn context(params: Params) -> Result<Arc<CkksContext>, CliError> {
    let ctx = CkksContext::new(params)
        .map_err(|e| CliError::msg(format!("cannot build the parameter set: {e}")))?
        .with_executor(Arc::new(RayonExecutor::global()));
    Ok(Arc::new(ctx))
}

/// A human name for a codec object kind.
pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Params => "parameter set",
        Kind::Ciphertext => "ciphertext",
        Kind::PublicKey => "public key",
        Kind::SwitchingKey => "switching key",
        Kind::EvaluationKeys => "evaluation key set",
        Kind::SecretKey => "secret key",
        Kind::ClientMessage => "client message (e.g. an encrypted data set)",
        Kind::ServerMessage => "server message (e.g. an encrypted model)",
        Kind::ClientState => "client state file",
        Kind::PlainModel => "decrypted model",
        Kind::BootKeys => "bootstrapping key set",
        Kind::Checkpoint => "training checkpoint",
    }
}

/// `"{path}: {codec error}"`, with the common cases in plain words.
pub fn codec_error(path: &Path, e: CodecError) -> CliError {
    match e {
        CodecError::BadMagic => CliError::at(path, "not a hetal file (wrong magic)"),
        CodecError::UnsupportedVersion(v) => CliError::at(
            path,
            format!(
                "unsupported format version {v} (this build reads {})",
                codec::VERSION
            ),
        ),
        CodecError::Truncated => CliError::at(path, "truncated or corrupted file"),
        CodecError::FingerprintMismatch { expected, found } => CliError::at(
            path,
            format!(
                "made for another parameter set ({found:016x}) than the keys ({expected:016x})"
            ),
        ),
        e => CliError::at(path, format!("corrupted file ({e})")),
    }
}

/// The three files of a key directory.
pub struct KeyPaths {
    /// `secret.key`.
    pub secret: PathBuf,
    /// `public.key`.
    pub public: PathBuf,
    /// `eval.keys`.
    pub eval: PathBuf,
    /// `boot.keys` (bootstrapping encapsulation keys; for the server).
    pub boot: PathBuf,
}

impl KeyPaths {
    /// The files in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            secret: dir.join("secret.key"),
            public: dir.join("public.key"),
            eval: dir.join("eval.keys"),
            boot: dir.join("boot.keys"),
        }
    }
}

/// Loads a public key, with the context its header names.
pub fn load_public_key(
    allowed: &Allowed,
    path: &Path,
) -> Result<(Arc<CkksContext>, PublicKey), CliError> {
    let bytes = files::read(path)?;
    let ctx = allowed.context_for(path, &bytes, Kind::PublicKey)?;
    let pk = codec::decode_public_key(&ctx, &bytes).map_err(|e| codec_error(path, e))?;
    Ok((ctx, pk))
}

/// Loads a secret key of `ctx`'s parameter set (the file buffer is zeroized).
pub fn load_secret_key(ctx: &CkksContext, path: &Path) -> Result<SecretKey, CliError> {
    let bytes = files::read_secret(path)?;
    let h = codec::peek_header(&bytes).map_err(|e| codec_error(path, e))?;
    if h.kind != Kind::SecretKey {
        return Err(CliError::at(
            path,
            format!("is a {}, expected a secret key", kind_name(h.kind)),
        ));
    }
    codec::decode_secret_key(ctx, &bytes).map_err(|e| codec_error(path, e))
}

/// Loads evaluation keys of `ctx`'s parameter set.
pub fn load_eval_keys(ctx: &CkksContext, path: &Path) -> Result<EvaluationKeys, CliError> {
    let bytes = files::read(path)?;
    let h = codec::peek_header(&bytes).map_err(|e| codec_error(path, e))?;
    if h.kind != Kind::EvaluationKeys {
        return Err(CliError::at(
            path,
            format!("is a {}, expected an evaluation key set", kind_name(h.kind)),
        ));
    }
    codec::decode_evaluation_keys(ctx, &bytes).map_err(|e| codec_error(path, e))
}

/// Loads the bootstrapping keys of `ctx`'s parameter set, `None` if the file does not
/// exist (presets that cannot bootstrap have none).
pub fn load_boot_keys(
    ctx: &CkksContext,
    path: &Path,
) -> Result<Option<hetal_core::boot::EncapsulationKeys>, CliError> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = files::read(path)?;
    let h = codec::peek_header(&bytes).map_err(|e| codec_error(path, e))?;
    if h.kind != Kind::BootKeys {
        return Err(CliError::at(
            path,
            format!(
                "is a {}, expected a bootstrapping key set",
                kind_name(h.kind)
            ),
        ));
    }
    codec::decode_boot_keys(ctx, &bytes)
        .map(Some)
        .map_err(|e| codec_error(path, e))
}

/// A short identifier of a public key (FNV-1a of its encoding): recorded in the
/// client state so a model or data set is not decrypted with another key pair.
pub fn key_id(ctx: &CkksContext, pk: &PublicKey) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in codec::encode_public_key(ctx, pk) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Checks that `sk` is the secret of `pk`: a value encrypted under `pk` decrypts
/// under `sk` (a mismatched pair decrypts to noise of order `q / scale`).
pub fn check_pair<R: CryptoRng + ?Sized>(
    ctx: &CkksContext,
    sk: &SecretKey,
    pk: &PublicKey,
    rng: &mut R,
) -> bool {
    let scale = ctx.params().default_scale();
    let Ok(pt) = ctx.encode_real(&[0.5], 2, 0, scale) else {
        return false;
    };
    let Ok(ct) = ctx.encrypt_pk(pk, &pt, rng) else {
        return false;
    };
    ctx.decrypt_decode(sk, &ct)
        .is_ok_and(|v| (v[0].re - 0.5).abs() < 1e-3)
}

/// Encrypts a row-major matrix under `pk` in [`Layout::RowMajor`], using every slot,
/// at the top level.
pub fn encrypt_matrix<R: CryptoRng + ?Sized>(
    ctx: &CkksContext,
    pk: &PublicKey,
    values: &[f64],
    rows: usize,
    cols: usize,
    rng: &mut R,
) -> Result<EncMatrix, CliError> {
    let slots = ctx.params().max_slots();
    let packed = pack_row_major(values, rows, cols, slots).ok_or_else(|| {
        CliError::msg(format!(
            "a row of {cols} values does not fit in {slots} slots"
        ))
    })?;
    let level = ctx.params().max_level();
    let scale = ctx.params().default_scale();
    let cts = packed
        .iter()
        .map(|v| {
            let pt = ctx.encode_real(v, slots, level, scale)?;
            ctx.encrypt_pk(pk, &pt, rng)
        })
        .collect::<Result<Vec<Ciphertext>, _>>()
        .map_err(|e| CliError::msg(format!("encryption failed: {e}")))?;
    Ok(EncMatrix {
        rows: rows as u32,
        cols: cols as u32,
        layout: Layout::RowMajor,
        cts,
    })
}

/// Encrypts a row-major matrix under `pk` in the block layout `layout` (one ciphertext
/// per block, at [`crate::enc::data_level`]): the form the encrypted trainer computes on.
pub fn encrypt_blocks<R: CryptoRng + ?Sized>(
    ctx: &CkksContext,
    pk: &PublicKey,
    values: &[f64],
    layout: BlockLayout,
    rng: &mut R,
) -> Result<EncMatrix, CliError> {
    let slots = layout.unit.slots();
    if slots > ctx.params().max_slots() {
        return Err(CliError::msg(format!(
            "blocks of {slots} slots do not fit in {} slots",
            ctx.params().max_slots()
        )));
    }
    let packed = layout
        .pack(values)
        .map_err(|e| CliError::msg(format!("cannot pack the matrix: {e}")))?;
    let level = crate::enc::data_level(ctx.params());
    let scale = ctx.params().default_scale();
    let cts = packed
        .iter()
        .map(|v| {
            let pt = ctx.encode_real(v, slots, level, scale)?;
            ctx.encrypt_pk(pk, &pt, rng)
        })
        .collect::<Result<Vec<Ciphertext>, _>>()
        .map_err(|e| CliError::msg(format!("encryption failed: {e}")))?;
    Ok(EncMatrix {
        rows: layout.rows as u32,
        cols: layout.cols as u32,
        layout: Layout::Block {
            unit: layout.unit,
            tiling: layout.tiling,
        },
        cts,
    })
}

/// Decrypts a matrix into row-major values.
pub fn decrypt_matrix(
    ctx: &CkksContext,
    sk: &SecretKey,
    m: &EncMatrix,
) -> Result<Vec<f64>, CliError> {
    let slots = m
        .cts
        .iter()
        .map(|c| {
            ctx.decrypt_decode(sk, c)
                .map(|v| v.iter().map(|z| z.re).collect::<Vec<f64>>())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::msg(format!("decryption failed: {e}")))?;
    let (rows, cols) = (m.rows as usize, m.cols as usize);
    match m.layout {
        Layout::RowMajor => unpack_row_major(&slots, rows, cols)
            .ok_or_else(|| CliError::msg("encrypted matrix has too few ciphertexts")),
        Layout::Block { .. } => m
            .layout
            .block_layout(rows, cols)
            .and_then(|l| l.unpack(&slots).ok())
            .ok_or_else(|| CliError::msg("encrypted matrix does not fit its block layout")),
    }
}
