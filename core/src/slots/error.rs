//! [`SlotError`]: every way a slot operation can refuse to run.

use alloc::string::String;
use core::fmt;

/// Why a [`super::SlotOps`] operation failed.
///
/// Both engines return these; a few variants are only ever produced by one of
/// them (noted per variant). Where CKKS would silently compute garbage (a scale
/// that overflows the modulus, a bootstrap input outside its range), the
/// simulator returns an error instead, so such bugs surface on the simulator.
#[derive(Clone, Debug, PartialEq)]
pub enum SlotError {
    /// No level left: a rescale, a ciphertext or plaintext multiplication or a
    /// non-integer constant multiplication at level 0.
    LevelExhausted {
        /// The operation that needed a level.
        op: &'static str,
    },
    /// An addition of operands whose scales differ after level alignment.
    ScaleMismatch {
        /// Level and scale of the left operand.
        left: (usize, f64),
        /// Level and scale of the right operand.
        right: (usize, f64),
    },
    /// A level above the current one (drop "up") or above the chain's top.
    LevelTooHigh {
        /// The current (or highest possible) level.
        current: usize,
        /// The level asked for.
        requested: usize,
    },
    /// No rotation key for this offset (normalized to `0..slot_count`).
    MissingRotationKey {
        /// The offset, modulo the slot count.
        offset: usize,
    },
    /// No conjugation key.
    MissingConjugationKey,
    /// No relinearization key (CKKS only).
    MissingRelinKey,
    /// The operation needs a relinearized (degree-1) value: multiplication,
    /// rotation, conjugation and bootstrapping do.
    NotRelinearized {
        /// The operation.
        op: &'static str,
    },
    /// More values than slots.
    TooManyValues {
        /// Number of values given.
        len: usize,
        /// Slot count of the engine.
        slots: usize,
    },
    /// A value or a constant is NaN or infinite.
    NonFinite,
    /// `scale * max|slot|` reaches `Q_level / 2`: decryption would wrap around
    /// the modulus (simulator only; CKKS cannot see it).
    ModulusOverflow {
        /// Level of the value.
        level: usize,
        /// `log2(scale)`.
        log2_scale: f64,
        /// `log2(max |slot|)`.
        log2_max_abs: f64,
        /// `log2(Q_level)`, the product of the moduli `q_0 ..= q_level`.
        log2_modulus: f64,
    },
    /// A rescale would leave a scale below the engine's minimum: the message
    /// would drown in rounding noise (simulator only).
    ScaleUnderflow {
        /// Level after the rescale.
        level: usize,
        /// The scale after the rescale.
        scale: f64,
        /// The smallest accepted scale.
        min_scale: f64,
    },
    /// A non-integer constant too large to encode at the rescale modulus
    /// (`|c| * q_level >= 2^62`).
    ConstantTooLarge {
        /// The offending part of the constant.
        value: f64,
    },
    /// The engine has no bootstrapping.
    BootstrapUnavailable,
    /// A bootstrap input with a slot of magnitude above the bootstrap's input
    /// range (simulator only; CKKS would return garbage).
    BootstrapRange {
        /// Largest slot magnitude of the input.
        max_abs: f64,
        /// The accepted bound.
        bound: f64,
    },
    /// `rotate_and_sum` with a span that is not a power of two.
    BadSpan {
        /// The span given.
        span: usize,
    },
    /// An operation over a list got an empty list.
    EmptyInput,
    /// Engine parameters are unusable.
    InvalidParams(&'static str),
    /// An engine-internal failure with no slot-level meaning (e.g. a ring
    /// error inside CKKS), described by the engine. Never produced by the
    /// simulator.
    Engine(String),
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LevelExhausted { op } => write!(f, "{op}: no level left (level 0)"),
            Self::ScaleMismatch { left, right } => write!(
                f,
                "scale mismatch: level {} scale 2^{:.6} vs level {} scale 2^{:.6}",
                left.0,
                libm::log2(left.1),
                right.0,
                libm::log2(right.1)
            ),
            Self::LevelTooHigh { current, requested } => {
                write!(f, "level {requested} requested, at most {current} possible")
            }
            Self::MissingRotationKey { offset } => {
                write!(f, "no rotation key for offset {offset}")
            }
            Self::MissingConjugationKey => write!(f, "no conjugation key"),
            Self::MissingRelinKey => write!(f, "no relinearization key"),
            Self::NotRelinearized { op } => write!(f, "{op} needs a relinearized value"),
            Self::TooManyValues { len, slots } => {
                write!(f, "{len} values do not fit in {slots} slots")
            }
            Self::NonFinite => write!(f, "value or constant is not finite"),
            Self::ModulusOverflow {
                level,
                log2_scale,
                log2_max_abs,
                log2_modulus,
            } => write!(
                f,
                "overflow at level {level}: scale 2^{log2_scale:.2} * max|slot| 2^{log2_max_abs:.2} \
                 reaches Q/2 = 2^{:.2}",
                log2_modulus - 1.0
            ),
            Self::ScaleUnderflow {
                level,
                scale,
                min_scale,
            } => write!(
                f,
                "scale underflow at level {level}: 2^{:.2} below the minimum 2^{:.2}",
                libm::log2(*scale),
                libm::log2(*min_scale)
            ),
            Self::ConstantTooLarge { value } => {
                write!(
                    f,
                    "constant {value} too large to encode at the rescale modulus"
                )
            }
            Self::BootstrapUnavailable => write!(f, "this engine cannot bootstrap"),
            Self::BootstrapRange { max_abs, bound } => write!(
                f,
                "bootstrap input out of range: max |slot| {max_abs} above {bound}"
            ),
            Self::BadSpan { span } => write!(f, "rotate_and_sum span {span} is not a power of two"),
            Self::EmptyInput => write!(f, "empty input list"),
            Self::InvalidParams(why) => write!(f, "invalid engine parameters: {why}"),
            Self::Engine(msg) => write!(f, "engine error: {msg}"),
        }
    }
}

impl core::error::Error for SlotError {}
