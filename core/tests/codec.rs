//! Codec: every type round-trips, and every decoder rejects truncated, oversized,
//! out-of-range and mismatched input with an error (never a panic).
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::codec::{self, CodecError};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Fixture {
    ctx: CkksContext,
    ct: Vec<u8>,
    pk: Vec<u8>,
    swk: Vec<u8>,
    evk: Vec<u8>,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let ctx = CkksContext::new(Params::insecure_n11()).unwrap();
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let pk = ctx.gen_public_key(&sk, &mut rng).unwrap();
    let keys = ctx
        .gen_evaluation_keys(&sk, &[1, -2], true, &mut rng)
        .unwrap();
    let pt = ctx
        .encode_real(&[0.5, -0.25], 4, 2, ctx.params().default_scale())
        .unwrap();
    let ct = ctx.encrypt_pk(&pk, &pt, &mut rng).unwrap();
    Fixture {
        ct: codec::encode_ciphertext(&ctx, &ct),
        pk: codec::encode_public_key(&ctx, &pk),
        swk: codec::encode_switching_key(&ctx, keys.relin.as_ref().unwrap()),
        evk: codec::encode_evaluation_keys(&ctx, &keys),
        ctx,
    }
}

#[test]
fn every_type_round_trips() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let ctx = CkksContext::new(Params::insecure_n11()).unwrap();
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let pk = ctx.gen_public_key(&sk, &mut rng).unwrap();
    let keys = ctx
        .gen_evaluation_keys(&sk, &[1, 3], true, &mut rng)
        .unwrap();
    let pt = ctx
        .encode_real(&[0.5, -0.25, 0.125], 4, 3, ctx.params().default_scale())
        .unwrap();
    let ct = ctx.encrypt_pk(&pk, &pt, &mut rng).unwrap();

    assert_eq!(
        codec::decode_ciphertext(&ctx, &codec::encode_ciphertext(&ctx, &ct)).unwrap(),
        ct
    );
    assert_eq!(
        codec::decode_public_key(&ctx, &codec::encode_public_key(&ctx, &pk)).unwrap(),
        pk
    );
    let relin = keys.relin.as_ref().unwrap();
    assert_eq!(
        &codec::decode_switching_key(&ctx, &codec::encode_switching_key(&ctx, relin)).unwrap(),
        relin
    );
    let back =
        codec::decode_evaluation_keys(&ctx, &codec::encode_evaluation_keys(&ctx, &keys)).unwrap();
    assert_eq!(back.relin, keys.relin);
    assert_eq!(back.galois, keys.galois);
    // the decoded keys work: a rotation with them decrypts correctly
    let ev = hetal_core::ckks::Evaluator::new(&ctx, &back);
    let rot = ctx
        .decrypt_decode(&sk, &ev.rotate(&ct, 1).unwrap())
        .unwrap();
    assert!((rot[0].re + 0.25).abs() < 1e-5 && (rot[1].re - 0.125).abs() < 1e-5);

    for p in [Params::n14(), Params::n16()] {
        let back = codec::decode_params(&codec::encode_params(&p)).unwrap();
        assert_eq!(codec::fingerprint(&back), codec::fingerprint(&p));
        assert_eq!((back.q(), back.p(), back.dnum()), (p.q(), p.p(), p.dnum()));
    }
}

type Decode = fn(&CkksContext, &[u8]) -> Result<(), CodecError>;

fn decoders(f: &Fixture) -> Vec<(&'static str, Vec<u8>, Decode)> {
    vec![
        ("ciphertext", f.ct.clone(), |c, b| {
            codec::decode_ciphertext(c, b).map(|_| ())
        }),
        ("public key", f.pk.clone(), |c, b| {
            codec::decode_public_key(c, b).map(|_| ())
        }),
        ("switching key", f.swk.clone(), |c, b| {
            codec::decode_switching_key(c, b).map(|_| ())
        }),
        ("evaluation keys", f.evk.clone(), |c, b| {
            codec::decode_evaluation_keys(c, b).map(|_| ())
        }),
    ]
}

#[test]
fn truncated_and_oversized_input_is_rejected() {
    let f = fixture();
    for (name, bytes, decode) in decoders(&f) {
        decode(&f.ctx, &bytes).unwrap_or_else(|e| panic!("{name}: valid bytes rejected: {e}"));
        // every prefix near the header, then a spread of longer prefixes
        let cuts = (0..64).chain((64..bytes.len()).step_by(bytes.len() / 97 + 1));
        for cut in cuts {
            assert_eq!(
                decode(&f.ctx, &bytes[..cut]),
                Err(CodecError::Truncated),
                "{name} cut at {cut}"
            );
        }
        let mut long = bytes.clone();
        long.extend_from_slice(&[0; 5]);
        assert_eq!(
            decode(&f.ctx, &long),
            Err(CodecError::TrailingBytes(5)),
            "{name}"
        );
    }
    let params = codec::encode_params(&Params::n14());
    for cut in 0..params.len() {
        assert!(codec::decode_params(&params[..cut]).is_err());
    }
}

#[test]
fn out_of_range_and_mismatched_input_is_rejected() {
    let f = fixture();
    for (name, bytes, decode) in decoders(&f) {
        let mut bad = bytes.clone();
        bad[0] ^= 1;
        assert_eq!(decode(&f.ctx, &bad), Err(CodecError::BadMagic), "{name}");
        let mut bad = bytes.clone();
        bad[4] = 9;
        assert_eq!(
            decode(&f.ctx, &bad),
            Err(CodecError::UnsupportedVersion(9)),
            "{name}"
        );
        let mut bad = bytes.clone();
        bad[6] = if bad[6] == 2 { 3 } else { 2 };
        assert!(
            matches!(decode(&f.ctx, &bad), Err(CodecError::WrongKind { .. })),
            "{name}"
        );
        let mut bad = bytes.clone();
        bad[7] ^= 0x40;
        assert!(
            matches!(
                decode(&f.ctx, &bad),
                Err(CodecError::FingerprintMismatch { .. })
            ),
            "{name}"
        );
        // the last word is a residue of the last limb: make it the prime itself
        let mut bad = bytes.clone();
        let n = bad.len();
        let last_prime = match name {
            "ciphertext" => f.ctx.params().q()[2],
            "public key" => f.ctx.params().q()[f.ctx.params().max_level()],
            _ => *f.ctx.params().p().last().unwrap(),
        };
        bad[n - 8..].copy_from_slice(&last_prime.to_le_bytes());
        assert_eq!(
            decode(&f.ctx, &bad),
            Err(CodecError::ResidueOutOfRange),
            "{name}"
        );
    }
    // a ciphertext claiming a level above the chain, or a non-power-of-two slot count
    let mut bad = f.ct.clone();
    bad[15..17].copy_from_slice(&999u16.to_le_bytes());
    assert_eq!(
        codec::decode_ciphertext(&f.ctx, &bad),
        Err(CodecError::InvalidValue("level"))
    );
    let mut bad = f.ct.clone();
    bad[17..21].copy_from_slice(&3u32.to_le_bytes());
    assert_eq!(
        codec::decode_ciphertext(&f.ctx, &bad),
        Err(CodecError::InvalidValue("slot count"))
    );
    // a key from another parameter set
    let other = CkksContext::new(Params::insecure_n12()).unwrap();
    assert!(matches!(
        codec::decode_public_key(&other, &f.pk),
        Err(CodecError::FingerprintMismatch { .. })
    ));
    // insecure parameters are refused by the params decoder
    assert!(matches!(
        codec::decode_params(&codec::encode_params(&Params::insecure_n12())),
        Err(CodecError::Params(_))
    ));
}
