//! Shared by the decoder targets: a test context, and a way to reach deep decoder paths.
#![allow(dead_code)] // each target binary uses only its own object
use std::sync::OnceLock;

use hetal_core::ckks::{CkksContext, Params};

/// The insecure N = 2^11 test context, built once per process.
pub fn ctx() -> &'static CkksContext {
    static CTX: OnceLock<CkksContext> = OnceLock::new();
    CTX.get_or_init(|| CkksContext::new(Params::insecure_n11()).expect("test context"))
}

/// The fuzz input itself if it starts with 0; otherwise `valid` edited by the input:
/// the first two bytes give a truncation point, then each 5-byte group `(pos u32, xor
/// u8)` flips bits at one position. Random bytes alone rarely pass the header's
/// fingerprint; edits of a valid object exercise every later check.
pub fn input(data: &[u8], valid: &[u8]) -> Vec<u8> {
    match data.split_first() {
        None | Some((0, _)) => data.get(1..).unwrap_or_default().to_vec(),
        Some((_, rest)) => {
            let mut out = valid.to_vec();
            if let [a, b, edits @ ..] = rest {
                let cut = usize::from(u16::from_le_bytes([*a, *b]));
                if cut < 1024 {
                    out.truncate(out.len().saturating_sub(cut));
                }
                for e in edits.chunks_exact(5) {
                    let pos = u32::from_le_bytes([e[0], e[1], e[2], e[3]]) as usize;
                    if !out.is_empty() {
                        let i = pos % out.len();
                        out[i] ^= e[4];
                    }
                }
            }
            out
        }
    }
}

/// A fixed set of valid objects of the test context.
pub struct Valid {
    /// A ciphertext at level 2.
    pub ct: Vec<u8>,
    /// A public key.
    pub pk: Vec<u8>,
    /// A relinearization key.
    pub swk: Vec<u8>,
    /// Evaluation keys (relinearization, two rotations, conjugation).
    pub evk: Vec<u8>,
}

/// The valid objects, built once.
pub fn valid() -> &'static Valid {
    use hetal_core::codec;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    static V: OnceLock<Valid> = OnceLock::new();
    V.get_or_init(|| {
        let c = ctx();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = c.gen_secret_key(&mut rng).expect("sk");
        let pk = c.gen_public_key(&sk, &mut rng).expect("pk");
        let keys = c
            .gen_evaluation_keys(&sk, &[1, -2], true, &mut rng)
            .expect("keys");
        let pt = c
            .encode_real(&[0.5], 4, 2, c.params().default_scale())
            .expect("pt");
        let ct = c.encrypt_pk(&pk, &pt, &mut rng).expect("ct");
        Valid {
            ct: codec::encode_ciphertext(c, &ct),
            pk: codec::encode_public_key(c, &pk),
            swk: codec::encode_switching_key(c, keys.relin.as_ref().expect("relin")),
            evk: codec::encode_evaluation_keys(c, &keys),
        }
    })
}
