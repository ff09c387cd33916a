//! Prints the NTT comparison table from the last `cargo bench --bench ntt` run: our time,
//! tfhe-ntt's time from the same run, and the ratio, per backend, N, prime size and
//! direction (criterion's median estimate).
//!
//! Usage: `cargo run --release -p hetal-benches --bin ntt-table [criterion dir]`
//! (default `$CARGO_TARGET_DIR/criterion` or `target/criterion`).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn read(p: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

/// `(full_id, median ns)` for every benchmark under `dir`.
fn collect(dir: &Path, out: &mut BTreeMap<String, f64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.ends_with("new") {
            if let (Some(b), Some(est)) = (
                read(&p.join("benchmark.json")),
                read(&p.join("estimates.json")),
            ) && let (Some(id), Some(ns)) = (
                b["full_id"].as_str(),
                est["median"]["point_estimate"].as_f64(),
            ) {
                out.insert(id.to_string(), ns);
            }
        } else if p.is_dir() {
            collect(&p, out);
        }
    }
}

fn us(ns: f64) -> String {
    format!("{:.1} µs", ns / 1e3)
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
                .join("criterion")
        });
    let mut t = BTreeMap::new();
    collect(&dir, &mut t);
    if t.is_empty() {
        eprintln!(
            "no criterion results under {}: run `cargo bench -p hetal-benches --bench ntt` first",
            dir.display()
        );
        std::process::exit(1);
    }
    println!(
        "CPU: {}; best backend: {}",
        hetal::info::cpu_model(),
        hetal_simd::Kernels::best().backend().name()
    );
    println!();
    println!("| direction | N | prime | backend | ours | tfhe-ntt | ours / tfhe-ntt |");
    println!("|---|---|---|---|---|---|---|");
    for dir in ["forward", "inverse"] {
        for n in [4096, 16384, 65536] {
            for bits in [50, 62] {
                let peer = t.get(&format!("ntt/{dir}/tfhe-ntt-{bits}/{n}")).copied();
                for b in hetal_simd::Backend::ALL {
                    let Some(&ours) = t.get(&format!("ntt/{dir}/{}-{bits}/{n}", b.name())) else {
                        continue;
                    };
                    let (p, r) = match peer {
                        Some(p) => (us(p), format!("{:.2}", ours / p)),
                        None => ("—".into(), "—".into()),
                    };
                    println!(
                        "| {dir} | {n} | < 2^{bits} | {} | {} | {p} | {r} |",
                        b.name(),
                        us(ours)
                    );
                }
            }
        }
    }
    let scalar = t.get("modmul/scalar/65536").copied();
    println!();
    println!("| modmul, N = 65536, q < 2^50 | time | speed-up over scalar |");
    println!("|---|---|---|");
    for b in hetal_simd::Backend::ALL {
        if let Some(&v) = t.get(&format!("modmul/{}/65536", b.name())) {
            let s = scalar.map_or("—".into(), |s| format!("{:.1}x", s / v));
            println!("| {} | {} | {s} |", b.name(), us(v));
        }
    }
}
