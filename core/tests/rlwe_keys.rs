//! Level-truncated and seeded switching keys: a truncated, seeded key is the full
//! expanded key restricted (bit-identical key-switch results at every level it covers),
//! a key used above its level is a typed error naming it, the codec keeps the level and
//! storage and rejects malformed keys, and the bootstrapper's key list puts every key at
//! the highest level it is used at.

use hetal_core::boot::{BootParams, Bootstrapper};
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::encoder::galois_element_for_conjugation;
use hetal_core::ckks::{CkksContext, CkksError, Evaluator, KeyId, KeySpec, Params, StoragePolicy};
use hetal_core::codec::{self, CodecError};
use hetal_core::rlwe::{KeyStorage, SwitchingKey};
use hetal_core::slots::CiphertextBootstrapper;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn setup() -> (CkksContext, hetal_core::rlwe::SecretKey) {
    let ctx = CkksContext::new(Params::insecure_n12()).unwrap();
    let sk = ctx
        .gen_secret_key(&mut ChaCha20Rng::from_seed([1; 32]))
        .unwrap();
    (ctx, sk)
}

fn encrypt_at(
    ctx: &CkksContext,
    sk: &hetal_core::rlwe::SecretKey,
    level: usize,
) -> hetal_core::ckks::Ciphertext {
    let slots = ctx.params().max_slots();
    let vals: Vec<Complex> = (0..slots)
        .map(|i| Complex::new((i % 17) as f64 / 17.0, -((i % 5) as f64) / 5.0))
        .collect();
    let pt = ctx
        .encode(&vals, slots, level, ctx.params().default_scale())
        .unwrap();
    ctx.encrypt_sk(sk, &pt, &mut ChaCha20Rng::from_seed([2; 32]))
        .unwrap()
}

/// The same key generated for `level` with `storage` from the same randomness.
fn galois_key(
    ctx: &CkksContext,
    sk: &hetal_core::rlwe::SecretKey,
    g: usize,
    level: usize,
    storage: KeyStorage,
) -> SwitchingKey {
    ctx.gen_galois_key_at(sk, g, level, storage, &mut ChaCha20Rng::from_seed([3; 32]))
        .unwrap()
}

#[test]
fn truncated_seeded_key_switches_like_the_full_expanded_key() {
    let (ctx, sk) = setup();
    let top = ctx.params().max_level();
    let g = ctx.rotation_element(3);
    let full = galois_key(&ctx, &sk, g, top, KeyStorage::Expanded);
    assert_eq!(full.dnum(), ctx.params().dnum());
    let alpha = ctx.switcher().alpha();
    for key_level in [0, 2, 3, top - 1] {
        let small = galois_key(&ctx, &sk, g, key_level, KeyStorage::Seeded);
        assert_eq!(small.level(), key_level);
        assert_eq!(small.dnum(), (key_level + 1).div_ceil(alpha));
        // Seeded and fewer limbs / digits: under half the full expanded key.
        assert!(small.byte_size() * 2 <= full.byte_size() + 64);
        let mut full_of = std::collections::BTreeMap::new();
        full_of.insert(g, full.clone());
        let mut small_of = std::collections::BTreeMap::new();
        small_of.insert(g, small.clone());
        let kf = hetal_core::ckks::EvaluationKeys {
            relin: None,
            galois: full_of,
        };
        let ks = hetal_core::ckks::EvaluationKeys {
            relin: None,
            galois: small_of,
        };
        let (ef, es) = (Evaluator::new(&ctx, &kf), Evaluator::new(&ctx, &ks));
        for level in 0..=key_level {
            let ct = encrypt_at(&ctx, &sk, level);
            assert_eq!(ef.rotate(&ct, 3).unwrap(), es.rotate(&ct, 3).unwrap());
            let hf = ef.rotate_hoisted(&ct, &[3]).unwrap();
            assert_eq!(hf, es.rotate_hoisted(&ct, &[3]).unwrap());
        }
        // One level above: an error naming the key and both levels.
        let ct = encrypt_at(&ctx, &sk, key_level + 1);
        let want = CkksError::KeyLevel {
            key: KeyId::Galois(g),
            key_level,
            level: key_level + 1,
        };
        assert_eq!(es.rotate(&ct, 3).unwrap_err(), want);
        assert_eq!(es.rotate_hoisted(&ct, &[3]).unwrap_err(), want);
    }
}

#[test]
fn storage_changes_do_not_change_results() {
    let (ctx, sk) = setup();
    let mut spec = KeySpec {
        relin: Some(4),
        policy: StoragePolicy::AllSeeded,
        ..KeySpec::default()
    };
    spec.add_rotations(&ctx, &[1], 4);
    let seeded = ctx
        .gen_keys(&sk, &spec, &mut ChaCha20Rng::from_seed([4; 32]))
        .unwrap();
    spec.policy = StoragePolicy::AllExpanded;
    let expanded = ctx
        .gen_keys(&sk, &spec, &mut ChaCha20Rng::from_seed([4; 32]))
        .unwrap();
    assert!(seeded.matches(&spec) && expanded.matches(&spec));
    assert_eq!(seeded.galois, expanded.galois);
    // Seeded: half the bytes (plus the seeds).
    assert_eq!(
        2 * (seeded.byte_size() - 2 * 32),
        expanded.byte_size() - 2 * 32
    );
    let mut converted = seeded.clone();
    converted.set_storage(&ctx, KeyStorage::Expanded).unwrap();
    assert_eq!(converted.byte_size(), expanded.byte_size());
    let ct = encrypt_at(&ctx, &sk, 4);
    let (a, b) = (
        Evaluator::new(&ctx, &seeded),
        Evaluator::new(&ctx, &expanded),
    );
    assert_eq!(a.rotate(&ct, 1).unwrap(), b.rotate(&ct, 1).unwrap());
    assert_eq!(
        a.mul_relin(&ct, &ct).unwrap(),
        b.mul_relin(&ct, &ct).unwrap()
    );
    let ct5 = encrypt_at(&ctx, &sk, 5);
    assert_eq!(
        a.mul_relin(&ct5, &ct5).unwrap_err(),
        CkksError::KeyLevel {
            key: KeyId::Relin,
            key_level: 4,
            level: 5
        }
    );
    // The spec names exactly these keys: one more or one at another level is refused.
    let mut other = spec.clone();
    other.add_rotations(&ctx, &[2], 4);
    assert!(!expanded.matches(&other));
    let mut other = spec.clone();
    other.add_rotations(&ctx, &[1], 5);
    assert!(!expanded.matches(&other));
}

#[test]
fn codec_keeps_level_and_storage_and_rejects_bad_keys() {
    let (ctx, sk) = setup();
    let g = ctx.rotation_element(-2);
    for (level, storage) in [
        (2, KeyStorage::Seeded),
        (5, KeyStorage::Expanded),
        (0, KeyStorage::Seeded),
    ] {
        let key = galois_key(&ctx, &sk, g, level, storage);
        let bytes = codec::encode_switching_key(&ctx, &key);
        let back = codec::decode_switching_key(&ctx, &bytes).unwrap();
        assert_eq!(back, key);
        assert_eq!((back.level(), back.storage()), (level, storage));
        // Sent as seed + b over the key's limbs only.
        let n = ctx.params().n();
        let limbs = level + 1 + ctx.params().p().len();
        assert_eq!(
            bytes.len(),
            4 + 2 + 1 + 8 + 32 + 1 + 2 + 1 + key.dnum() * limbs * n * 8
        );
        // Truncated or oversized input.
        assert!(codec::decode_switching_key(&ctx, &bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(codec::decode_switching_key(&ctx, &long).is_err());
        // Header offset of the storage byte, level and digit count.
        let at = 4 + 2 + 1 + 8 + 32;
        let mut bad = bytes.clone();
        bad[at] = 2;
        assert_eq!(
            codec::decode_switching_key(&ctx, &bad).unwrap_err(),
            CodecError::InvalidValue("key storage")
        );
        let mut bad = bytes.clone();
        bad[at + 1..at + 3].copy_from_slice(&(ctx.params().max_level() as u16 + 1).to_le_bytes());
        assert_eq!(
            codec::decode_switching_key(&ctx, &bad).unwrap_err(),
            CodecError::InvalidValue("key level")
        );
        let mut bad = bytes.clone();
        bad[at + 3] += 1;
        assert_eq!(
            codec::decode_switching_key(&ctx, &bad).unwrap_err(),
            CodecError::InvalidValue("key digit count")
        );
        // A level that claims more limbs than were sent: truncated, not a panic.
        if level < ctx.params().max_level() {
            let mut bad = bytes.clone();
            bad[at + 1..at + 3].copy_from_slice(&(level as u16 + 1).to_le_bytes());
            bad[at + 3] = (level + 2).div_ceil(ctx.switcher().alpha()) as u8;
            assert!(codec::decode_switching_key(&ctx, &bad).is_err());
        }
        // A residue at or above its prime.
        let mut bad = bytes.clone();
        let off = at + 4;
        bad[off..off + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            codec::decode_switching_key(&ctx, &bad).unwrap_err(),
            CodecError::ResidueOutOfRange
        );
    }
}

#[test]
fn bootstrap_keys_sit_at_the_highest_level_they_are_used_at() {
    let params = Params::insecure_boot_n11();
    let ctx = CkksContext::new(params.clone()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let boot = Bootstrapper::new(&ctx, BootParams::full(&params), &sk, &mut rng).unwrap();
    let out = boot.output_level();
    // An application rotation bootstrapping does not use.
    let r = (3..).find(|r| !boot.rotations().contains(r)).unwrap();
    let spec = boot.key_spec(&ctx, &[r], out);
    // Exactly the bootstrapping rotations, conjugation and the extra one.
    let mut want = boot.galois_elements(&ctx);
    want.insert(ctx.rotation_element(r));
    assert_eq!(
        spec.galois
            .keys()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        want
    );
    let top = params.max_level();
    let em = top - boot.params().cts_levels;
    assert_eq!(spec.relin, Some(em));
    // Conjugation runs on CoeffToSlot's last product, before its rescale.
    assert_eq!(
        spec.galois[&galois_element_for_conjugation(params.n())],
        em + 1
    );
    assert_eq!(spec.galois[&ctx.rotation_element(r)], out);
    // Every level is that of a stage using the key; the CoeffToSlot ones are above EvalMod.
    assert!(spec.galois.values().all(|&l| l <= top && l >= out));
    assert!(spec.galois.values().any(|&l| l > em));
    assert!(spec.galois.values().any(|&l| l < em));
    let keys = boot.gen_evaluation_keys(&ctx, &sk, &[r], &mut rng).unwrap();
    assert!(keys.matches(&spec));
    for (g, k) in &keys.galois {
        let seeded = k.storage() == KeyStorage::Seeded;
        assert_eq!(seeded, spec.galois[g] > em, "Galois {g}");
    }
    // The bootstrap runs with these keys (no key below its use), and the extra rotation
    // works at the output level but not above it.
    let ev = Evaluator::new(&ctx, &keys);
    let slots = params.max_slots();
    let vals: Vec<Complex> = (0..slots)
        .map(|i| Complex::from_real((i % 7) as f64 / 8.0))
        .collect();
    let pt = ctx.encode(&vals, slots, 0, params.default_scale()).unwrap();
    let ct = ctx.encrypt_sk(&sk, &pt, &mut rng).unwrap();
    let b = boot.bootstrap(&ev, &ct).unwrap();
    assert_eq!(b.level(), out);
    ev.rotate(&b, r).unwrap();
    let high = encrypt_at(&ctx, &sk, out + 1);
    assert!(matches!(
        ev.rotate(&high, r),
        Err(CkksError::KeyLevel {
            key: KeyId::Galois(_),
            ..
        })
    ));
}
