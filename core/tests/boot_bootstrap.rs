//! Bootstrapping on insecure small presets: precision (max error over all slots, in bits),
//! full and sparse slots, chained bootstrap-multiply-bootstrap, real pairs, and structured
//! inputs (constant or periodic slots, whose energy sits in a few large coefficients: the
//! case that exposes a `q0 / scale` too small for EvalMod's `sin`, which random slots hide).

use hetal_core::boot::{BootParams, Bootstrapper};
use hetal_core::ckks::Evaluator;
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::slots::CiphertextBootstrapper;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn random_real(rng: &mut ChaCha20Rng, n: usize) -> Vec<Complex> {
    (0..n)
        .map(|_| Complex::from_real((rng.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0))
        .collect()
}

fn bits(a: &[Complex], b: &[Complex]) -> f64 {
    let e = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x - *y).abs())
        .fold(0.0, f64::max);
    -libm::log2(e)
}

fn run(params: Params, slots: usize, seed: u8) -> f64 {
    run_on(params, slots, seed, random_real)
}

fn run_on(
    params: Params,
    slots: usize,
    seed: u8,
    input: impl Fn(&mut ChaCha20Rng, usize) -> Vec<Complex>,
) -> f64 {
    let ctx = CkksContext::new(params.clone()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let mut bp = BootParams::full(&params);
    bp.slots = slots;
    let boot = Bootstrapper::new(&ctx, bp, &sk, &mut rng).unwrap();
    let keys = boot.gen_evaluation_keys(&ctx, &sk, &[], &mut rng).unwrap();
    let ev = Evaluator::new(&ctx, &keys);
    let vals = input(&mut rng, slots);
    let pt = ctx.encode(&vals, slots, 0, params.default_scale()).unwrap();
    let ct = ctx.encrypt_sk(&sk, &pt, &mut rng).unwrap();
    let out = boot.bootstrap(&ev, &ct).unwrap();
    assert_eq!(out.level(), boot.output_level());
    assert_eq!(out.scale, params.default_scale());
    let dec = ctx.decrypt_decode(&sk, &out).unwrap();
    let b = bits(&dec, &vals);
    eprintln!(
        "{} slots={slots}: {b:.1} bits, output level {}",
        params.name(),
        out.level()
    );
    b
}

#[test]
fn bootstrap_full_slots_n11() {
    let p = Params::insecure_boot_n11();
    let b = run(p.clone(), p.max_slots(), 1);
    assert!(b >= 16.0, "{b} bits");
}

/// Every slot the same value: the whole message in the constant coefficient, at the
/// largest magnitude bootstrapping accepts; then a pattern of period 16 (what a softmax's
/// replicated rows look like) and a complex constant on the unit circle.
#[test]
fn bootstrap_structured_inputs() {
    // N13 has `N16`'s chain (the same q0 / scale), N11 the small test chain.
    for p in [Params::insecure_boot_n11(), Params::insecure_boot_n13()] {
        structured_inputs(p);
    }
}

/// A slot generator (rng, slot count).
type Input = Box<dyn Fn(&mut ChaCha20Rng, usize) -> Vec<Complex>>;

fn structured_inputs(p: Params) {
    let n = p.max_slots();
    let cases: [(&str, Input); 3] = [
        (
            "constant 0.99",
            Box::new(|_, n| vec![Complex::from_real(0.99); n]),
        ),
        (
            "period 16",
            Box::new(|_, n| {
                (0..n)
                    .map(|i| Complex::from_real(if i % 16 < 10 { 0.99 } else { -0.5 }))
                    .collect()
            }),
        ),
        (
            "complex constant",
            Box::new(|_, n| vec![Complex::new(0.7, -0.7); n]),
        ),
    ];
    for (name, input) in cases {
        let b = run_on(p.clone(), n, 3, input);
        eprintln!("{name}: {b:.1} bits");
        assert!(b >= 16.0, "{}, {name}: {b} bits", p.name());
    }
}

#[test]
fn bootstrap_sparse_slots_n11() {
    let b = run(Params::insecure_boot_n11(), 64, 2);
    assert!(b >= 16.0, "{b} bits");
}

#[test]
fn chained_bootstrap_multiply_bootstrap_and_engine() {
    use hetal_core::slots::{CkksEngine, SlotCrypt, SlotOps};
    let params = Params::insecure_boot_n11();
    let ctx = CkksContext::new(params.clone()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let boot = Bootstrapper::new(&ctx, BootParams::full(&params), &sk, &mut rng).unwrap();
    let keys = boot.gen_evaluation_keys(&ctx, &sk, &[], &mut rng).unwrap();
    // The keys hold exactly the bootstrapping Galois elements (plus nothing else).
    let have: std::collections::BTreeSet<usize> = keys.galois.keys().copied().collect();
    assert_eq!(have, boot.galois_elements(&ctx));
    let eng = CkksEngine::new(&ctx, &keys)
        .with_secret_key(&sk, [8; 32])
        .with_bootstrapper(&boot);
    assert_eq!(eng.bootstrap_level(), Some(boot.output_level()));
    let slots = params.max_slots();
    let a = random_real(&mut rng, slots);
    let b = random_real(&mut rng, slots);
    let ca = eng.encrypt_values(&a, 0, eng.default_scale()).unwrap();
    let cb = eng.encrypt_values(&b, 0, eng.default_scale()).unwrap();
    // bootstrap -> multiply -> bootstrap.
    let x = eng.bootstrap(&ca).unwrap();
    let x2 = eng.mul_rescale(&x, &x).unwrap();
    let y = eng.bootstrap(&x2).unwrap();
    assert_eq!(y.level(), boot.output_level());
    let expect: Vec<Complex> = a.iter().map(|v| *v * *v).collect();
    let got = eng.decrypt(&y).unwrap();
    let p = bits(&got, &expect);
    eprintln!("chain: {p:.1} bits");
    assert!(p >= 16.0, "chained precision {p} bits");
    // Two real ciphertexts through one complex bootstrap.
    let (ra, rb) = eng.bootstrap_real_pair(&ca, &cb).unwrap();
    let pa = bits(&eng.decrypt(&ra).unwrap(), &a);
    let pb = bits(&eng.decrypt(&rb).unwrap(), &b);
    eprintln!("real pair: {pa:.1} / {pb:.1} bits");
    assert!(pa >= 16.0 && pb >= 16.0, "real pair precision {pa} / {pb}");
    // The bootstrapper's own pair and batch APIs agree in level.
    let ev = eng.evaluator();
    let (qa, _) = boot.bootstrap_real_pair(ev, &ca, &cb).unwrap();
    assert!(bits(&ctx.decrypt_decode(&sk, &qa).unwrap(), &a) >= 16.0);
    let many = boot.bootstrap_many(ev, &[ca.clone(), cb.clone()]).unwrap();
    assert_eq!(many.len(), 2);
    assert!(bits(&ctx.decrypt_decode(&sk, &many[1]).unwrap(), &b) >= 16.0);
}
