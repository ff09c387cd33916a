//! Prints our operation counts next to the paper's at the five HETAL shapes
//! (`cargo run --release -p hetal-core --example linalg_counts`). Our numbers are
//! the closed forms of `linalg::cost`, which `tests/linalg_sim*.rs` check
//! against the simulator's counters (and `tests/linalg_ckks.rs` against CKKS).
use hetal_core::linalg::{AbtOutput, AtbVariant, UnitShape, cost};

fn main() {
    println!(
        "| (a, b, c) | DiagABT ours | DiagABT paper | DiagATB lhs ours | DiagATB lhs paper | DiagATB rhs ours | DiagATB rhs paper | DiagATB folded (lhs) ours | DiagATB factored ours |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (a, b, c) in [
        (128, 128, 4),
        (256, 256, 8),
        (512, 769, 4),
        (1024, 769, 8),
        (2048, 769, 16),
    ] {
        let unit = UnitShape::new(a, (1 << 15) / a).expect("unit");
        let f = |x: cost::Cost| {
            format!(
                "{} / {} / {} (relin {})",
                x.mul_plain, x.mul, x.rot, x.relin
            )
        };
        let g = |x: cost::paper::PaperCost| format!("{} / {} / {}", x.cmult, x.mult, x.rot);
        println!(
            "| ({a}, {b}, {c}) | {} | {} | {} | {} | {} | {} | {} | {} |",
            f(cost::abt(a, b, c, unit, AbtOutput::Tiled)),
            g(cost::paper::diag_abt(a, b, c, unit)),
            f(cost::atb(a, b, c, unit, AtbVariant::ShiftLhs)),
            g(cost::paper::diag_atb_lhs(a, b, c, unit)),
            f(cost::atb(a, b, c, unit, AtbVariant::ShiftRhs)),
            g(cost::paper::diag_atb_rhs(a, b, c, unit)),
            f(cost::atb_folded(a, b, c, unit, AtbVariant::ShiftLhs)),
            f(cost::atb_factored(a, b, c, unit)),
        );
    }
}
