//! The client's secret key file: the header, then one byte per coefficient
//! (`0`, `1`, or `0xff` for -1). Every buffer that held coefficients is zeroized.

use alloc::vec::Vec;

use zeroize::{Zeroize, Zeroizing};

use super::{CodecError, Kind, Reader, fingerprint, header, read_header};
use crate::ckks::CkksContext;
use crate::rlwe::SecretKey;

/// Encodes a secret key of `ctx`'s parameter set; the returned buffer is zeroized on drop.
pub fn encode_secret_key(ctx: &CkksContext, sk: &SecretKey) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(15 + sk.coeffs().len()));
    header(&mut out, Kind::SecretKey, Some(fingerprint(ctx.params())));
    out.extend(sk.coeffs().iter().map(|&c| c as i8 as u8));
    out
}

/// Decodes a secret key of `ctx`'s parameter set (coefficients must be in {-1, 0, 1});
/// the caller should zeroize `bytes` after use.
pub fn decode_secret_key(ctx: &CkksContext, bytes: &[u8]) -> Result<SecretKey, CodecError> {
    let mut r = Reader::new(bytes);
    read_header(&mut r, Kind::SecretKey, Some(fingerprint(ctx.params())))?;
    let n = ctx.params().n();
    let raw = r.bytes(n)?;
    r.finish()?;
    let mut coeffs = Vec::with_capacity(n);
    for &b in raw {
        match b {
            0 => coeffs.push(0),
            1 => coeffs.push(1),
            0xff => coeffs.push(-1),
            _ => {
                coeffs.zeroize();
                return Err(CodecError::InvalidValue("secret coefficient"));
            }
        }
    }
    SecretKey::from_coeffs(ctx.ring(), coeffs).map_err(|_| CodecError::InvalidValue("secret key"))
}
