//! CKKS scheme: precision (in bits, -log2 of the max slot error) after each operation,
//! asserted against stated bounds, plus the typed errors for misuse.
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, CkksError, Evaluator, Params};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(0x0048_4554_414c)
}

fn random_slots(rng: &mut ChaCha20Rng, count: usize) -> Vec<Complex> {
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
    (0..count)
        .map(|_| Complex::new(u(), u()).scale(core::f64::consts::FRAC_1_SQRT_2))
        .collect()
}

fn precision_bits(got: &[Complex], want: &[Complex]) -> f64 {
    let err = got
        .iter()
        .zip(want)
        .map(|(g, w)| (*g - *w).abs())
        .fold(0.0, f64::max);
    -err.log2()
}

struct Setup {
    ctx: CkksContext,
    sk: hetal_core::rlwe::SecretKey,
    pk: hetal_core::rlwe::PublicKey,
    keys: hetal_core::ckks::EvaluationKeys,
}

fn setup(params: Params, rotations: &[isize]) -> Setup {
    let mut r = rng();
    let ctx = CkksContext::new(params).unwrap();
    let sk = ctx.gen_secret_key(&mut r).unwrap();
    let pk = ctx.gen_public_key(&sk, &mut r).unwrap();
    let keys = ctx
        .gen_evaluation_keys(&sk, rotations, true, &mut r)
        .unwrap();
    Setup { ctx, sk, pk, keys }
}

#[test]
fn insecure_n12_precision_after_each_operation() {
    let s = setup(Params::insecure_n12(), &[1, -3, 5, 16]);
    let (ctx, ev) = (&s.ctx, Evaluator::new(&s.ctx, &s.keys));
    let slots = ctx.params().max_slots();
    let top = ctx.params().max_level();
    let scale = ctx.params().default_scale();
    let mut r = rng();
    let x = random_slots(&mut r, slots);
    let y = random_slots(&mut r, slots);

    // encode / decode alone: error below 2^-30 relative to the values
    let pt = ctx.encode(&x, slots, top, scale).unwrap();
    assert!(precision_bits(&ctx.decode(&pt).unwrap(), &x) > 30.0);

    let cx = ctx.encrypt_pk(&s.pk, &pt, &mut r).unwrap();
    let cy = ctx
        .encrypt_sk(&s.sk, &ctx.encode(&y, slots, top, scale).unwrap(), &mut r)
        .unwrap();
    let fresh = precision_bits(&ctx.decrypt_decode(&s.sk, &cx).unwrap(), &x);
    // Expected ~24.5 bits at N = 2^12: pk noise v*e has std ~sqrt(N * 2/3) * 3.2 per
    // coefficient, times sqrt(N) in the slots, over a 2^40 scale.
    assert!(fresh > 22.0, "fresh pk encryption: {fresh:.1} bits");
    let fresh_sk = precision_bits(&ctx.decrypt_decode(&s.sk, &cy).unwrap(), &y);
    assert!(fresh_sk > 22.0, "fresh sk encryption: {fresh_sk:.1} bits");

    let prod = ev.mul_relin_rescale(&cx, &cy).unwrap();
    let want: Vec<Complex> = x.iter().zip(&y).map(|(a, b)| *a * *b).collect();
    let bits = precision_bits(&ctx.decrypt_decode(&s.sk, &prod).unwrap(), &want);
    assert!(bits > 20.0, "mul + relin + rescale: {bits:.1} bits");
    assert_eq!(prod.level(), top - 1);

    for k in [1isize, -3, 5, 16] {
        let rot = ev.rotate(&cx, k).unwrap();
        let want: Vec<Complex> = (0..slots)
            .map(|i| x[(i as isize + k).rem_euclid(slots as isize) as usize])
            .collect();
        let bits = precision_bits(&ctx.decrypt_decode(&s.sk, &rot).unwrap(), &want);
        assert!(bits > 22.0, "rotate {k}: {bits:.1} bits");
    }

    let hoisted = ev.rotate_hoisted(&cx, &[1, -3, 5, 16]).unwrap();
    for (h, k) in hoisted.iter().zip([1isize, -3, 5, 16]) {
        let single = ctx
            .decrypt_decode(&s.sk, &ev.rotate(&cx, k).unwrap())
            .unwrap();
        let bits = precision_bits(&ctx.decrypt_decode(&s.sk, h).unwrap(), &single);
        assert!(bits > 22.0, "hoisted rotate {k} vs single: {bits:.1} bits");
    }

    let conj = ev.conjugate(&cx).unwrap();
    let want: Vec<Complex> = x.iter().map(|z| z.conj()).collect();
    assert!(precision_bits(&ctx.decrypt_decode(&s.sk, &conj).unwrap(), &want) > 22.0);

    // constants: integer and +-i cost no level; a real constant costs one rescale
    let c3 = ev.mul_complex_const(&cx, Complex::new(3.0, -1.0)).unwrap();
    assert_eq!(c3.level(), top);
    let want: Vec<Complex> = x.iter().map(|z| *z * Complex::new(3.0, -1.0)).collect();
    assert!(precision_bits(&ctx.decrypt_decode(&s.sk, &c3).unwrap(), &want) > 22.0);
    let half = ev.rescale(&ev.mul_const(&cx, 0.3).unwrap()).unwrap();
    assert_eq!(half.scale, cx.scale);
    let want: Vec<Complex> = x.iter().map(|z| z.scale(0.3)).collect();
    assert!(precision_bits(&ctx.decrypt_decode(&s.sk, &half).unwrap(), &want) > 22.0);
    let plus = ev.add_const(&cx, Complex::new(0.25, 0.5)).unwrap();
    let want: Vec<Complex> = x.iter().map(|z| *z + Complex::new(0.25, 0.5)).collect();
    assert!(precision_bits(&ctx.decrypt_decode(&s.sk, &plus).unwrap(), &want) > 22.0);

    let sum = ev.rotate_and_sum(&cx, 2, 1).unwrap();
    let want: Vec<Complex> = (0..slots).map(|i| x[i] + x[(i + 1) % slots]).collect();
    assert!(precision_bits(&ctx.decrypt_decode(&s.sk, &sum).unwrap(), &want) > 22.0);
}

#[test]
fn insecure_n12_chained_multiplications_keep_precision() {
    let s = setup(Params::insecure_n12(), &[]);
    let (ctx, ev) = (&s.ctx, Evaluator::new(&s.ctx, &s.keys));
    let slots = ctx.params().max_slots();
    let mut r = rng();
    // values on the unit circle stay there under multiplication
    let x: Vec<Complex> = (0..slots).map(|i| Complex::cis(i as f64 * 0.001)).collect();
    let mut ct = ctx
        .encrypt_pk(
            &s.pk,
            &ctx.encode(&x, slots, 7, ctx.params().default_scale())
                .unwrap(),
            &mut r,
        )
        .unwrap();
    let mut want = x.clone();
    for step in 1..=7 {
        ct = ev.mul_relin_rescale(&ct, &ct).unwrap();
        want = want.iter().map(|z| *z * *z).collect();
        let bits = precision_bits(&ctx.decrypt_decode(&s.sk, &ct).unwrap(), &want);
        assert!(bits > 14.0, "after {step} squarings: {bits:.1} bits");
    }
    assert_eq!(ct.level(), 0);
    assert_eq!(ev.rescale(&ct), Err(CkksError::LevelExhausted));
}

#[test]
fn misuse_is_a_typed_error() {
    let s = setup(Params::insecure_n11(), &[1]);
    let (ctx, ev) = (&s.ctx, Evaluator::new(&s.ctx, &s.keys));
    let slots = ctx.params().max_slots();
    let scale = ctx.params().default_scale();
    let mut r = rng();
    let x = random_slots(&mut r, slots);
    let a = ctx
        .encrypt_pk(&s.pk, &ctx.encode(&x, slots, 3, scale).unwrap(), &mut r)
        .unwrap();
    let b = ctx
        .encrypt_pk(
            &s.pk,
            &ctx.encode(&x, slots, 2, scale * 2.0).unwrap(),
            &mut r,
        )
        .unwrap();
    assert!(matches!(
        ev.add(&a, &b),
        Err(CkksError::ScaleMismatch {
            left: (2, _),
            right: (2, _)
        })
    ));
    assert!(matches!(
        ev.rotate(&a, 2),
        Err(CkksError::MissingGaloisKey(_))
    ));
    // different levels, same scale: aligned automatically
    let c = ctx
        .encrypt_pk(&s.pk, &ctx.encode(&x, slots, 1, scale).unwrap(), &mut r)
        .unwrap();
    let sum = ev.add(&a, &c).unwrap();
    assert_eq!(sum.level(), 1);
    let want: Vec<Complex> = x.iter().map(|z| z.scale(2.0)).collect();
    assert!(precision_bits(&ctx.decrypt_decode(&s.sk, &sum).unwrap(), &want) > 22.0);
}

#[test]
fn presets_are_128_bit_secure_and_documented_shapes() {
    for p in [
        Params::n16(),
        Params::n15(),
        Params::n14(),
        Params::bench_openfhe_like(),
        Params::bench_poulpy_like(),
    ] {
        assert!(p.is_secure());
        let bound = p.security_bound().unwrap() as f64;
        assert!(
            p.log_qp() <= bound,
            "{}: log QP {} > {}",
            p.name(),
            p.log_qp(),
            bound
        );
        assert!(p.q().iter().chain(p.p()).all(|&q| q < 1 << 62));
    }
    // The leveled presets run every limb on the IFMA path.
    for p in [Params::n15(), Params::n14()] {
        assert!(p.q().iter().chain(p.p()).all(|&q| q < 1 << 50));
    }
    // poulpy-like bench set: 13 Q primes (~636 bits) and a key of at most ~744 bits,
    // every prime on the IFMA path.
    let pl = Params::bench_poulpy_like();
    assert_eq!((pl.q().len(), pl.p().len(), pl.dnum()), (13, 2, 7));
    assert!(
        (630.0..=640.0).contains(&pl.log_q()),
        "log Q {}",
        pl.log_q()
    );
    assert!(pl.log_qp() <= 744.0, "log QP {}", pl.log_qp());
    assert!(pl.q().iter().chain(pl.p()).all(|&q| q < 1 << 50));
    assert!(!Params::insecure_n12().is_secure());
    // over the bound is an error, not a warning
    let big = Params::n16();
    let mut p = big.p().to_vec();
    p.extend(
        hetal_core::math::primes::ntt_primes(49, 1 << 16, 3, &[big.q(), big.p()].concat()).unwrap(),
    );
    let err = Params::new(
        16,
        big.q().to_vec(),
        p,
        big.dnum(),
        40,
        hetal_core::ckks::security::SecretDistribution::UniformTernary,
    );
    assert!(
        matches!(err, Err(hetal_core::ckks::ParamsError::Security(_))),
        "{err:?}"
    );
}

/// N16 preset end to end (about 10 s in release): the precision bars of the CKKS
/// issue, at the highest level of its chain that computes at the default scale
/// (`max_compute_level`; the levels above are the bootstrap's). Client data is encrypted with the secret key (the client owns it in HETAL), so
/// the >= 20-bit bar after one multiplication is asserted on sk-encrypted inputs;
/// pk-encrypted inputs carry the extra `v * e` noise (~2^-20 fresh at N = 2^16).
#[test]
fn n16_precision() {
    let s = setup(Params::n16(), &[1, 2, 5, 16]);
    let (ctx, ev) = (&s.ctx, Evaluator::new(&s.ctx, &s.keys));
    let slots = ctx.params().max_slots();
    let top = ctx.params().max_compute_level();
    let mut r = rng();
    let x = random_slots(&mut r, slots);
    let y = random_slots(&mut r, slots);
    let scale = ctx.params().default_scale();
    let report = |what: &str, got: &[Complex], want: &[Complex], bar: f64| {
        let bits = precision_bits(got, want);
        println!("N16 {what}: {bits:.1} bits (bar {bar})");
        assert!(bits > bar, "{what}: {bits:.1} bits");
    };
    let pt = ctx.encode(&x, slots, top, scale).unwrap();
    report("encode/decode", &ctx.decode(&pt).unwrap(), &x, 30.0);
    let cx = ctx.encrypt_sk(&s.sk, &pt, &mut r).unwrap();
    let cy = ctx
        .encrypt_sk(&s.sk, &ctx.encode(&y, slots, top, scale).unwrap(), &mut r)
        .unwrap();
    report(
        "fresh sk encryption",
        &ctx.decrypt_decode(&s.sk, &cx).unwrap(),
        &x,
        25.0,
    );
    let px = ctx.encrypt_pk(&s.pk, &pt, &mut r).unwrap();
    report(
        "fresh pk encryption",
        &ctx.decrypt_decode(&s.sk, &px).unwrap(),
        &x,
        18.0,
    );
    let xy: Vec<Complex> = x.iter().zip(&y).map(|(a, b)| *a * *b).collect();
    let prod = ev.mul_relin_rescale(&cx, &cy).unwrap();
    report(
        "mul+relin+rescale (sk inputs)",
        &ctx.decrypt_decode(&s.sk, &prod).unwrap(),
        &xy,
        20.0,
    );
    let py = ctx
        .encrypt_pk(&s.pk, &ctx.encode(&y, slots, top, scale).unwrap(), &mut r)
        .unwrap();
    let pprod = ev.mul_relin_rescale(&px, &py).unwrap();
    report(
        "mul+relin+rescale (pk inputs)",
        &ctx.decrypt_decode(&s.sk, &pprod).unwrap(),
        &xy,
        16.0,
    );
    let rot = ev.rotate(&cx, 1).unwrap();
    let want: Vec<Complex> = (0..slots).map(|i| x[(i + 1) % slots]).collect();
    report(
        "rotate",
        &ctx.decrypt_decode(&s.sk, &rot).unwrap(),
        &want,
        22.0,
    );
    let steps: Vec<isize> = vec![1, 2, 5, 16];
    let hoisted = ev.rotate_hoisted(&cx, &steps).unwrap();
    for (h, &k) in hoisted.iter().zip(&steps) {
        let want: Vec<Complex> = (0..slots).map(|i| x[(i + k as usize) % slots]).collect();
        report(
            &format!("hoisted rotate {k}"),
            &ctx.decrypt_decode(&s.sk, h).unwrap(),
            &want,
            22.0,
        );
    }
    // 8 chained multiplications on the unit circle
    let u: Vec<Complex> = (0..slots).map(|i| Complex::cis(i as f64 * 1e-4)).collect();
    let mut ct = ctx
        .encrypt_sk(&s.sk, &ctx.encode(&u, slots, top, scale).unwrap(), &mut r)
        .unwrap();
    let mut want = u.clone();
    for _ in 0..8 {
        ct = ev.mul_relin_rescale(&ct, &ct).unwrap();
        want = want.iter().map(|z| *z * *z).collect();
    }
    report(
        "8 chained squarings",
        &ctx.decrypt_decode(&s.sk, &ct).unwrap(),
        &want,
        14.0,
    );
}

#[test]
fn evaluator_counts_operations() {
    let s = setup(Params::insecure_n11(), &[1, 2]);
    let (ctx, ev) = (&s.ctx, Evaluator::new(&s.ctx, &s.keys));
    let slots = ctx.params().max_slots();
    let mut r = rng();
    let x = random_slots(&mut r, slots);
    let a = ctx
        .encrypt_sk(
            &s.sk,
            &ctx.encode(&x, slots, 3, ctx.params().default_scale())
                .unwrap(),
            &mut r,
        )
        .unwrap();
    let b = ev.mul_relin_rescale(&a, &a).unwrap();
    let _ = ev.add(&b, &b).unwrap();
    let _ = ev.rotate_and_sum(&a, 4, 1).unwrap(); // rotations by 1 and 2, two additions
    let _ = ev.rotate_hoisted(&a, &[1, 2]).unwrap();
    let _ = ev.conjugate(&a).unwrap();
    let c = ev.counts();
    assert_eq!((c.mul, c.rescale, c.add), (1, 1, 3));
    assert_eq!((c.rotate, c.rotate_hoisted), (2, 2));
    assert_eq!(c.conjugate, 1);
    // relinearization + 2 rotations + 2 hoisted + conjugation
    assert_eq!(c.key_switch, 6);
    ev.reset_counts();
    assert_eq!(ev.counts(), hetal_core::ckks::OpCounts::default());
}
