//! The softmax error table (f64 models): max and mean over samples of
//! `max_j |approx(x)_j - softmax(x)_j|`, inputs uniform in `[-r, r]^c`.
//!
//! `cargo run --release -p hetal-core --example softmax_error_table [samples]`
//! (default 10^6 samples per cell; the README table was made with the default).

use hetal_core::hetal::plain::softmax_exact;
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec, baselines};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

type Method = Box<dyn Fn(&[f64]) -> Vec<f64> + Sync>;

fn uniform(rng: &mut ChaCha8Rng, r: f64) -> f64 {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (2.0 * u - 1.0) * r
}

/// (max, mean) of the per-sample max error; non-finite outputs count as infinite.
fn measure(method: &Method, c: usize, r: f64, samples: usize, seed: u64) -> (f64, f64) {
    let threads = 2;
    let per = samples.div_ceil(threads);
    let parts: Vec<(f64, f64)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (t as u64) << 32);
                    let (mut mx, mut sum) = (0.0f64, 0.0f64);
                    let mut x = vec![0.0; c];
                    for _ in 0..per {
                        x.iter_mut().for_each(|v| *v = uniform(&mut rng, r));
                        let p = method(&x);
                        let mut exact = x.clone();
                        softmax_exact(&mut exact);
                        let e = p
                            .iter()
                            .zip(&exact)
                            .map(|(a, b)| {
                                if a.is_finite() {
                                    (a - b).abs()
                                } else {
                                    f64::INFINITY
                                }
                            })
                            .fold(0.0f64, f64::max);
                        mx = mx.max(e);
                        sum += e;
                    }
                    (mx, sum)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mx = parts.iter().map(|p| p.0).fold(0.0, f64::max);
    let mean = parts.iter().map(|p| p.1).sum::<f64>() / (per * threads) as f64;
    (mx, mean)
}

fn fmt(v: f64) -> String {
    if v.is_finite() && v < 1e3 {
        format!("{v:.2e}")
    } else {
        "diverges".into()
    }
}

fn main() {
    let samples: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |s| s.parse().expect("samples"));
    let classes = [3usize, 5, 7, 10];
    let ranges = [4.0, 8.0, 32.0, 128.0];
    println!("samples per cell: {samples}; cell = max / mean of max_j |p_j - softmax_j|\n");
    println!("| c | method | depth | r = 4 | r = 8 | r = 32 | r = 128 |");
    println!("|---|---|---|---|---|---|---|");
    for &c in &classes {
        let cp = c.next_power_of_two();
        let paper = Softmax::new(SoftmaxSpec::paper(), c, cp).unwrap();
        let ours = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
        let methods: Vec<(String, String, Method)> = vec![
            ("HETAL (paper)".into(), paper.depth().to_string(), {
                let s = paper.clone();
                Box::new(move |x: &[f64]| s.eval_f64_row(x))
            }),
            ("ours".into(), ours.depth().to_string(), {
                let s = ours.clone();
                Box::new(move |x: &[f64]| s.eval_f64_row(x))
            }),
            (
                "no normalisation".into(),
                "-".into(),
                Box::new(baselines::no_normalisation),
            ),
            ("PrivGD".into(), "-".into(), Box::new(baselines::privgd)),
            ("Hong et al.".into(), "-".into(), Box::new(baselines::hong)),
        ];
        for (name, depth, m) in &methods {
            let cells: Vec<String> = ranges
                .iter()
                .enumerate()
                .map(|(i, &r)| {
                    let (mx, mean) = measure(m, c, r, samples, 1000 * c as u64 + i as u64);
                    format!("{} / {}", fmt(mx), fmt(mean))
                })
                .collect();
            println!("| {c} | {name} | {depth} | {} |", cells.join(" | "));
        }
    }
}
