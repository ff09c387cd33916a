//! Length-prefixed frames: a `u64` little-endian payload length, then the payload
//! (one encoded message). The length is checked against the receiver's limit before
//! anything is allocated for the payload.

use alloc::vec::Vec;

use super::CodecError;

/// Bytes of the length prefix.
pub const FRAME_HEADER: usize = 8;

/// Wraps `payload` in a frame.
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER + payload.len());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payload length announced by a frame header, if it is within `max` bytes.
pub fn frame_len(header: [u8; FRAME_HEADER], max: u64) -> Result<u64, CodecError> {
    let len = u64::from_le_bytes(header);
    if len > max {
        return Err(CodecError::TooLarge { len, max });
    }
    Ok(len)
}

/// Splits the first frame off `bytes`: its payload and the bytes after it.
///
/// ```
/// use hetal_core::codec::{decode_frame, encode_frame, CodecError};
/// let mut two = encode_frame(b"abc");
/// two.extend(encode_frame(b"de"));
/// let (p, rest) = decode_frame(&two, 16).unwrap();
/// assert_eq!((p, decode_frame(rest, 16).unwrap().0), (&b"abc"[..], &b"de"[..]));
/// assert_eq!(decode_frame(&two, 2), Err(CodecError::TooLarge { len: 3, max: 2 }));
/// ```
pub fn decode_frame(bytes: &[u8], max: u64) -> Result<(&[u8], &[u8]), CodecError> {
    let head: [u8; FRAME_HEADER] = bytes
        .get(..FRAME_HEADER)
        .and_then(|h| h.try_into().ok())
        .ok_or(CodecError::Truncated)?;
    let len = frame_len(head, max)?;
    let body = &bytes[FRAME_HEADER..];
    match usize::try_from(len) {
        Ok(n) if n <= body.len() => Ok(body.split_at(n)),
        _ => Err(CodecError::Truncated),
    }
}
