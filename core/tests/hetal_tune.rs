//! The softmax chosen by simulated steps: at the paper's Face Mask shape on
//! `boot_N16`'s chain it costs fewer bootstraps per step than the default
//! spec, and it is the cheapest of the candidates by the stated order.

use hetal_core::ckks::Params;
use hetal_core::hetal::shapes::parse_shape;
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
use hetal_core::hetal::train::TrainLayout;
use hetal_core::hetal::tune::{softmax_candidates, softmax_for_training, step_counts};
use hetal_core::linalg::{UnitShape, padded_classes};
use hetal_core::slots::{SimParams, SlotOps, SlotSim};

#[test]
fn chosen_softmax_saves_bootstraps_at_facemask() {
    let p = Params::boot_n16();
    let sim = SlotSim::new(
        SimParams::new(p.max_slots(), p.q(), p.default_scale()).with_bootstrap(9, 1e6),
    )
    .unwrap();
    let s = parse_shape("facemask").unwrap();
    let unit = UnitShape::hetal(s.batch, s.classes, sim.slot_count()).unwrap();
    let layout = TrainLayout {
        unit,
        cols: s.cols,
        classes: s.classes,
    };
    let steps = 5;
    let cp = padded_classes(s.classes);
    let default = Softmax::new(SoftmaxSpec::ours(s.classes, cp), s.classes, cp).unwrap();
    let base = step_counts(&sim, &layout, s.batch, &default, steps).unwrap();
    let (_, c) = softmax_for_training(&sim, &layout, s.batch, 128.0, steps).unwrap();
    assert!(
        c.bootstraps < base.bootstraps,
        "chosen {c:?} vs default {base:?}"
    );
    for other in softmax_candidates(s.classes, 128.0) {
        let o = step_counts(&sim, &layout, s.batch, &other, steps).unwrap();
        assert!(
            (c.bootstraps, c.key_switches) <= (o.bootstraps, o.key_switches),
            "{c:?} vs {o:?}"
        );
    }
}
