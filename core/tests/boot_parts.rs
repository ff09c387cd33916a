//! Bootstrapping building blocks: the f64 DFT factorization against the encoder, the
//! ModRaise overflow bound, the EvalMod model error.

use hetal_core::boot::dft::{self, DiagMatrix};
use hetal_core::boot::encaps::{
    EncapsulationKeys, mod_raise, modraise_bound, modraise_failure_log2,
};
use hetal_core::boot::evalmod::EvalModPoly;
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::encoder::Encoder;
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::math::RnsBasis;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn random_vec(rng: &mut ChaCha20Rng, n: usize) -> Vec<Complex> {
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
    (0..n).map(|_| Complex::new(u(), u())).collect()
}

fn max_err(a: &[Complex], b: &[Complex]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x - *y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn dft_factorization_matches_special_fft() {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    for log_n in [1u32, 2, 5, 8, 11] {
        let n = 1usize << log_n;
        let enc = Encoder::new(4 * n).unwrap();
        for levels in 1..=4 {
            let w = random_vec(&mut rng, n);
            let mut expect = w.clone();
            enc.special_fft(&mut expect).unwrap();
            // StC: F on the bit-reversed coefficients.
            let mut x = w.clone();
            dft::bit_reverse(&mut x);
            let stc = dft::slot_to_coeff_matrices(n, levels);
            assert_eq!(stc.len(), levels.min(log_n as usize));
            for m in &stc {
                x = m.apply(&x);
            }
            assert!(
                max_err(&x, &expect) < 1e-12 * n as f64,
                "stc n={n} levels={levels}"
            );
            // CtS: F^-1 gives the bit-reversed coefficients back.
            let mut y = expect.clone();
            for m in &dft::coeff_to_slot_matrices(n, levels) {
                y = m.apply(&y);
            }
            dft::bit_reverse(&mut y);
            assert!(max_err(&y, &w) < 1e-12, "cts n={n} levels={levels}");
        }
    }
}

#[test]
fn merged_stages_have_few_diagonals() {
    let n = 1 << 11;
    for m in dft::slot_to_coeff_matrices(n, 3) {
        // s merged stages: at most 2^(s+1) - 1 diagonals.
        assert!(m.len() <= 31, "{} diagonals", m.len());
    }
}

#[test]
fn block_view_doubles_a_periodic_vector() {
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let n = 16;
    let a = dft::coeff_to_slot_matrices(n, 2).pop().unwrap();
    let mut half = a.clone();
    half.scale(Complex::from_real(0.5));
    let mut c = a.clone();
    c.scale(Complex::new(0.0, -0.5));
    let big = DiagMatrix::blocks(Some(&half), Some(&half), Some(&c), Some(&c));
    let z = random_vec(&mut rng, n);
    let zz: Vec<Complex> = z.iter().chain(&z).copied().collect();
    let out = big.apply(&zz);
    let az = a.apply(&z);
    let expect: Vec<Complex> = az
        .iter()
        .copied()
        .chain(az.iter().map(|v| *v * Complex::new(0.0, -1.0)))
        .collect();
    assert!(max_err(&out, &expect) < 1e-12);
}

#[test]
fn modraise_bound_is_monotone_and_meets_target() {
    for h in [16usize, 32, 64, 192] {
        let k = modraise_bound(1 << 16, h, 64.0);
        assert!(modraise_failure_log2(1 << 16, h, k) <= -64.0);
        assert!(modraise_failure_log2(1 << 16, h, k - 0.25) > -64.0);
        assert!(k < 0.5 * (h + 1) as f64);
    }
    // h = 32 at 2^-64: K just above 14 (Irwin-Hall Chernoff bound).
    let k = modraise_bound(1 << 16, 32, 64.0);
    assert!((14.0..14.6).contains(&k), "K = {k}");
}

#[test]
fn modraise_decrypts_to_m_plus_q0_i() {
    let params = Params::insecure_boot_n11();
    let ctx = CkksContext::new(params.clone()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let h = 32;
    let keys = EncapsulationKeys::generate(&ctx, &sk, h, &mut rng).unwrap();
    let k = modraise_bound(params.n(), h, 64.0);
    let n = params.n();
    let vals = random_vec(&mut rng, params.max_slots());
    let pt = ctx
        .encode(&vals, params.max_slots(), 0, params.default_scale())
        .unwrap();
    let ct = ctx.encrypt_sk(&sk, &pt, &mut rng).unwrap();
    let top = params.max_level();
    let raised = mod_raise(&ctx, &keys, &ct, top).unwrap();
    assert_eq!(raised.level(), top);
    let q0 = params.q()[0] as f64;
    let mut m0 = ctx.decrypt(&sk, &ct).unwrap().poly;
    m0.to_coeff(ctx.ring()).unwrap();
    let b0 = RnsBasis::from_primes(&params.q()[..1]).unwrap();
    let mut before = vec![0.0; n];
    b0.centered_f64_poly(m0.data(), &mut before).unwrap();
    let mut m1 = ctx.decrypt(&sk, &raised).unwrap().poly;
    m1.to_coeff(ctx.ring()).unwrap();
    // Enough primes for |m + q0 I| < 2^(46 + 5).
    let b = RnsBasis::from_primes(&params.q()[..3]).unwrap();
    let mut after = vec![0.0; n];
    b.centered_f64_poly(&m1.data()[..3 * n], &mut after)
        .unwrap();
    let mut max_i = 0.0f64;
    for (a, m) in after.iter().zip(&before) {
        let i = (a - m) / q0;
        assert!((i - i.round()).abs() < 1e-6, "not a multiple of q0: {i}");
        max_i = max_i.max(i.abs());
    }
    assert!(max_i <= k, "|I| = {max_i} > K = {k}");
    assert!(max_i >= 1.0, "ModRaise should overflow somewhere");
}

#[test]
fn evalmod_model_error() {
    // K for h = 32 at 2^-64, degree 63, 2 double angles: error below 2^-44 (q0 units) at
    // integers; for messages up to 2^-10 q0 it is dominated by the cubic term of sin.
    let k = modraise_bound(1 << 16, 32, 64.0);
    let p = EvalModPoly::new(k, 63, 2);
    assert_eq!(p.depth(), 9);
    let err_small = p.model_error(0.0);
    assert!(
        err_small < libm::exp2(-44.0),
        "approximation error at integers {err_small:e}"
    );
    let err = p.model_error(1.0 / 1024.0);
    assert!(err < libm::exp2(-26.0), "{err:e}");
}

#[test]
fn evalmod_default_model_error() {
    // BootParams::full: degree 127, no double angle, quintic arcsine, for messages up to
    // q0 / 2^7 (N16's q0 / scale with |slots| <= 1 and all energy in one coefficient).
    let k = modraise_bound(1 << 16, 32, 64.0);
    let p = EvalModPoly::new(k, 127, 0).with_arcsine(5);
    assert_eq!(p.depth(), 11);
    let at_integers = p.model_error(0.0);
    let err = p.model_error(1.0 / 128.0);
    let cubic = EvalModPoly::new(k, 127, 0)
        .with_arcsine(3)
        .model_error(1.0 / 128.0);
    eprintln!(
        "model error (q0 units): 2^{:.1} at integers, 2^{:.1} up to 2^-7; cubic arcsine 2^{:.1}",
        at_integers.log2(),
        err.log2(),
        cubic.log2()
    );
    assert!(at_integers < libm::exp2(-39.0), "{at_integers:e}");
    assert!(err < libm::exp2(-36.0), "{err:e}");
    // What the quintic correction buys at this ratio.
    assert!(cubic > libm::exp2(-30.0), "{cubic:e}");
}
