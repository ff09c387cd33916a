//! `hetal info`: what this machine runs and with which parameters.

use core::fmt::Write;

use hetal_core::ckks::Params;
use hetal_simd::{Backend, Kernels};

/// The CPU model from `/proc/cpuinfo` (Linux), or "unknown".
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The full report printed by `hetal info`.
pub fn report() -> String {
    let mut out = String::new();
    let best = Kernels::best().backend();
    let _ = writeln!(out, "CPU: {} ({})", cpu_model(), std::env::consts::ARCH);
    let _ = writeln!(out, "SIMD backend selected: {}", best.name());
    for b in Backend::ALL {
        match b.unsupported_reason() {
            None => {
                let _ = writeln!(out, "  {:<11} supported", b.name());
            }
            Some(why) => {
                let _ = writeln!(out, "  {:<11} unavailable: {why}", b.name());
            }
        }
    }
    let _ = writeln!(
        out,
        "Parameter presets (128-bit classical security, HE standard bound):"
    );
    for p in [Params::boot_n16(), Params::n15(), Params::n14()] {
        let _ = writeln!(
            out,
            "  {:<8} N = 2^{}, {} slots, log Q = {:.1} ({} primes), log P = {:.1} ({} primes), dnum {}, \
             scale 2^{:.0}, {} levels, log QP = {:.1} <= {}",
            p.name(),
            p.log_n(),
            p.max_slots(),
            p.log_q(),
            p.q().len(),
            p.log_p(),
            p.p().len(),
            p.dnum(),
            p.default_scale().log2(),
            p.max_level(),
            p.log_qp(),
            p.security_bound().unwrap_or(0),
        );
    }
    out
}
