use core::fmt;

use crate::ckks::ParamsError;

/// Why bytes could not be decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum CodecError {
    /// The input ended early.
    Truncated,
    /// Bytes remain after the object.
    TrailingBytes(usize),
    /// Not a hetal file.
    BadMagic,
    /// A format version this build does not read.
    UnsupportedVersion(u16),
    /// Another kind of object than the one asked for.
    WrongKind {
        /// Kind asked for.
        expected: u8,
        /// Kind found.
        found: u8,
    },
    /// The object belongs to another parameter set.
    FingerprintMismatch {
        /// Fingerprint of the parameters in use.
        expected: u64,
        /// Fingerprint in the bytes.
        found: u64,
    },
    /// A residue is not below its prime.
    ResidueOutOfRange,
    /// A field has an impossible value (named).
    InvalidValue(&'static str),
    /// The decoded parameters are invalid or not 128-bit secure.
    Params(ParamsError),
    /// A frame announces more bytes than the receiver accepts.
    TooLarge {
        /// Announced length.
        len: u64,
        /// The receiver's limit.
        max: u64,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => write!(f, "input truncated"),
            Self::TrailingBytes(n) => write!(f, "{n} unexpected bytes after the object"),
            Self::BadMagic => write!(f, "not a hetal object (bad magic)"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported format version {v}"),
            Self::WrongKind { expected, found } => {
                write!(f, "expected object kind {expected}, found {found}")
            }
            Self::FingerprintMismatch { expected, found } => {
                write!(
                    f,
                    "object is for parameter set {found:016x}, not {expected:016x}"
                )
            }
            Self::ResidueOutOfRange => write!(f, "a residue is not below its prime"),
            Self::InvalidValue(what) => write!(f, "invalid {what}"),
            Self::Params(e) => write!(f, "invalid parameters: {e}"),
            Self::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes is over the limit of {max} bytes")
            }
        }
    }
}

impl core::error::Error for CodecError {}
