//! The f64 models of the wide-domain softmax: error bounds on 10^5 samples
//! per (classes, range), depths, the spec's building blocks, adversarial rows.

use hetal_core::hetal::plain::{Features, NagConfig, softmax_exact, train};
use hetal_core::hetal::softmax::spec::{
    cheb_pow2, even_abs_poly, goldschmidt_for, inverse_for, max_error_interval,
};
use hetal_core::hetal::softmax::{PolySpec, Softmax, SoftmaxError, SoftmaxSpec, baselines};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

fn uniform(rng: &mut ChaCha8Rng, r: f64) -> f64 {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (2.0 * u - 1.0) * r
}

fn row_error(p: &[f64], x: &[f64]) -> f64 {
    let mut exact = x.to_vec();
    softmax_exact(&mut exact);
    p.iter()
        .zip(&exact)
        .map(|(a, b)| {
            if a.is_finite() {
                (a - b).abs()
            } else {
                f64::INFINITY
            }
        })
        .fold(0.0, f64::max)
}

fn max_error(f: impl Fn(&[f64]) -> Vec<f64>, c: usize, r: f64, samples: usize, seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = vec![0.0; c];
    let mut worst = 0.0f64;
    for _ in 0..samples {
        x.iter_mut().for_each(|v| *v = uniform(&mut rng, r));
        worst = worst.max(row_error(&f(&x), &x));
    }
    worst
}

/// The bounds: max error at most 0.004, 0.010, 0.010, 0.022 for
/// c = 3, 5, 7, 10 on every range, 10^5 samples each; depths stated.
#[test]
fn error_bounds_and_depths() {
    let cases: [(usize, f64, usize, usize); 4] = [
        (3, 0.004, 31, 58),
        (5, 0.010, 39, 68),
        (7, 0.010, 39, 68),
        (10, 0.022, 47, 78),
    ];
    for (c, bound, ours_depth, paper_depth) in cases {
        let cp = c.next_power_of_two();
        let ours = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
        let paper = Softmax::new(SoftmaxSpec::paper(), c, cp).unwrap();
        assert_eq!(ours.depth(), ours_depth, "ours depth, c = {c}");
        assert_eq!(paper.depth(), paper_depth, "paper depth, c = {c}");
        for (i, r) in [4.0, 8.0, 32.0, 128.0].into_iter().enumerate() {
            let seed = 77 + 10 * c as u64 + i as u64;
            let e_ours = max_error(|x| ours.eval_f64_row(x), c, r, 100_000, seed);
            assert!(e_ours <= bound, "ours c={c} r={r}: {e_ours}");
            // Ours is far inside the bound: the error budget goes to depth.
            assert!(e_ours <= 1e-3, "ours c={c} r={r}: {e_ours}");
            let e_paper = max_error(|x| paper.eval_f64_row(x), c, r, 100_000, seed);
            assert!(e_paper <= bound, "paper c={c} r={r}: {e_paper}");
        }
    }
}

/// Rows that drive the max's error to its proven extremes (one large logit
/// and the rest at the bottom; all equal; pairs at the worst difference)
/// still give accurate softmaxes: the inverse's range is proven, not sampled.
#[test]
fn adversarial_rows() {
    for c in [2usize, 3, 4, 5, 8, 10, 16] {
        let cp = c.next_power_of_two();
        let sm = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
        let mut rows: Vec<Vec<f64>> = vec![vec![128.0; c], vec![-128.0; c], vec![0.0; c]];
        let mut one_hot = vec![-128.0; c];
        one_hot[0] = 128.0;
        rows.push(one_hot.clone());
        one_hot.reverse();
        rows.push(one_hot);
        for k in 0..64 {
            let d = 256.0 * k as f64 / 64.0;
            rows.push(
                (0..c)
                    .map(|j| if j % 2 == 0 { 128.0 - d } else { 128.0 })
                    .collect(),
            );
            rows.push((0..c).map(|j| 128.0 - d * (j as f64) / c as f64).collect());
        }
        for x in &rows {
            let e = row_error(&sm.eval_f64_row(x), x);
            assert!(e < 1e-3, "c={c} row {x:?}: error {e}");
        }
    }
}

#[test]
fn bad_shapes_and_specs() {
    let spec = SoftmaxSpec::paper();
    assert!(matches!(
        Softmax::new(spec.clone(), 5, 6),
        Err(SoftmaxError::BadShape { .. })
    ));
    assert!(matches!(
        Softmax::new(spec.clone(), 5, 4),
        Err(SoftmaxError::BadShape { .. })
    ));
    assert!(matches!(
        Softmax::new(spec.clone(), 0, 4),
        Err(SoftmaxError::BadShape { .. })
    ));
    let mut bad = spec;
    bad.inv.r = 0.0;
    assert!(matches!(
        Softmax::new(bad, 3, 4),
        Err(SoftmaxError::BadSpec(_))
    ));
}

#[test]
fn poly_spec_building_blocks() {
    // Monomial and Chebyshev forms of the same cubic agree; input scaling
    // and affine output compose as functions.
    let m = PolySpec::Monomial(vec![0.5, -1.0, 0.25, 2.0]);
    let ch = PolySpec::interpolate_chebyshev(|x| m.eval(x), -3.0, 5.0, 3);
    for i in 0..=40 {
        let x = -3.0 + 8.0 * i as f64 / 40.0;
        assert!((ch.eval(x) - m.eval(x)).abs() < 1e-10);
        let s = 0.37;
        assert!((m.scale_input(s).eval(x / s) - m.eval(x)).abs() < 1e-9);
        assert!((ch.scale_input(-s).eval(-x / s) - m.eval(x)).abs() < 1e-9);
        assert!((ch.affine_output(2.0, 1.0).eval(x) - (2.0 * m.eval(x) + 1.0)).abs() < 1e-9);
    }
    assert_eq!(m.degree(), 3);
    assert_eq!(m.depth(), 2);
    assert_eq!(PolySpec::Monomial(vec![0.0; 8]).depth(), 0);
    // |t| of degree 62: even, centred error below 0.008 on [-1, 1].
    let a = even_abs_poly(62);
    assert_eq!(a.degree(), 62);
    assert_eq!(a.depth(), 6);
    let err = (0..=2000)
        .map(|i| {
            let t = -1.0 + i as f64 / 1000.0;
            (a.eval(t) - t.abs()).abs()
        })
        .fold(0.0, f64::max);
    assert!(err < 0.008 && err > 0.006, "|t| error {err}");
}

#[test]
fn goldschmidt_setup_meets_its_error() {
    let inv = goldschmidt_for(0.5, 200.0, 1e-4);
    for i in 0..=1000 {
        let z = 0.5 + 199.5 * i as f64 / 1000.0;
        let zr = z / inv.r;
        let (mut t, mut v) = (1.0 - zr, 2.0 - zr);
        for _ in 0..inv.iterations {
            t *= t;
            v *= 1.0 + t;
        }
        assert!(((v / inv.r) * z - 1.0).abs() <= 1e-4, "z = {z}");
    }
    // One iteration fewer does not reach 1e-4 at the ends.
    assert!(inv.iterations >= 1);
}

/// The Chebyshev start: `|t0| <= d` on the whole interval (equioscillation),
/// the circuit's product form of `q` equals `(1 - t0) / z`, the recurrence
/// meets its error bound at every point, and it is shallower than the plain
/// start on the wide ranges of the softmax's row sum.
#[test]
fn chebyshev_inverse_start_meets_its_error() {
    for (lo, hi) in [(0.0215, 465.0), (0.147, 20.5), (0.5, 200.0), (0.9, 1.1)] {
        let eps = 2f64.powi(-20);
        let inv = inverse_for(lo, hi, eps, 7);
        let plain = goldschmidt_for(lo, hi, eps);
        assert!(inv.depth() <= plain.depth(), "[{lo}, {hi}]: {inv:?}");
        let d = inv.d().abs();
        let k = inv.start_log2;
        for i in 0..=20_000 {
            let z = lo + (hi - lo) * i as f64 / 20_000.0;
            let t0 = inv.t0(z);
            assert!(
                t0.abs() <= d * (1.0 + 1e-9) + 1e-12,
                "z = {z}: t0 {t0} > d {d}"
            );
            // q as the circuit builds it: -2^k d / h prod_j (T_2^j(l) + T_2^j(l0)).
            let (l, l0) = ((z - inv.r) / inv.half_width, inv.l0());
            let prod: f64 = (0..k).map(|j| cheb_pow2(l, j) + cheb_pow2(l0, j)).product();
            let q = -(2f64.powi(k as i32)) * inv.d() / inv.half_width * prod;
            assert!((1.0 - z * q - t0).abs() < 1e-9, "z = {z}");
            let (mut p, mut t) = (q * (1.0 + t0), t0 * t0);
            for it in 1..=inv.iterations {
                p *= 1.0 + t;
                if it < inv.iterations {
                    t *= t;
                }
            }
            assert!(
                (p * z - 1.0).abs() <= eps * 1.01,
                "z = {z}: {}",
                p * z - 1.0
            );
        }
    }
    // The softmax's row sum at c' = 16: 18 levels plain, 11 with the start.
    let wide = (
        goldschmidt_for(0.0215, 465.0, 2f64.powi(-20)),
        inverse_for(0.0215, 465.0, 2f64.powi(-20), 7),
    );
    assert!(wide.1.depth() + 6 <= wide.0.depth(), "{wide:?}");
}

#[test]
fn max_error_interval_contains_the_paper_max() {
    let spec = SoftmaxSpec::paper();
    let (lo, hi) = max_error_interval(&spec.max, 128.0);
    // The paper's max never overshoots and undershoots by at most ~1.31.
    assert!(hi < 0.05 && (-1.35..-1.28).contains(&lo), "({lo}, {hi})");
    let sm = Softmax::new(spec, 2, 2).unwrap();
    for i in 0..=256 {
        let a = -128.0 + i as f64;
        for b in [-128.0, -37.5, 0.0, 100.0, 128.0] {
            let m = sm.max_round().eval(a * sm.norm(), b * sm.norm()) / sm.norm();
            let e = m - a.max(b);
            assert!(e >= lo && e <= hi, "max~({a}, {b}) - max = {e}");
        }
    }
}

#[test]
fn baselines_are_accurate_near_zero_only() {
    let x = [0.3, -0.2, 0.1];
    assert!(row_error(&baselines::no_normalisation(&x), &x) < 1e-6);
    // PrivGD is biased even at 0 (two sigmoids of 1/2 give 1/4, not 1/3).
    assert!(row_error(&baselines::privgd(&x), &x) < 0.15);
    assert!(row_error(&baselines::hong(&x), &x) < 0.05);
    let wide = [100.0, -100.0, 50.0];
    assert!(row_error(&baselines::no_normalisation(&wide), &wide) > 0.5);
    assert!(row_error(&baselines::privgd(&wide), &wide) > 0.5);
}

/// The adapter plugs into the plaintext trainer and trains as the exact softmax does.
#[test]
fn plugs_into_the_plain_trainer() {
    let x = [-2.0, -1.5, -1.0, 1.0, 1.5, 2.0, 0.1, -0.1];
    let y = [0, 0, 0, 1, 1, 1, 2, 2];
    let data = Features::prepare(&x, 1, &y, 3, Features::max_abs(&x)).unwrap();
    let cfg = NagConfig {
        lr: 1.0,
        batch: 4,
        max_epochs: 10,
        ..NagConfig::default()
    };
    let sm = Softmax::new(SoftmaxSpec::ours(3, 4), 3, 4).unwrap();
    let approx = train(&data, &data, &cfg, &mut |z: &mut [f64]| {
        sm.apply_f64_in_place(z)
    });
    let exact = train(&data, &data, &cfg, &mut softmax_exact);
    for (a, b) in approx.model.w.iter().zip(&exact.model.w) {
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
}
