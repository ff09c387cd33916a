//! The paper's training shapes (HETAL.md §5.3, §6.1): what `bench-train`
//! runs on random features, and the A40 times it is compared with.

/// One of the paper's data sets, as a training shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaperShape {
    /// Short name (`mnist`, `cifar10`, `facemask`, `derma`, `snips`).
    pub name: &'static str,
    /// Rows per mini-batch.
    pub batch: usize,
    /// Classes.
    pub classes: usize,
    /// Feature columns, bias included (768 + 1).
    pub cols: usize,
    /// Learning rate.
    pub lr: f64,
    /// Epoch cap.
    pub max_epochs: usize,
    /// Training rows (steps per epoch = `ceil(train_rows / batch)`).
    pub train_rows: usize,
}

/// The five shapes, in the paper's order.
pub const PAPER_SHAPES: [PaperShape; 5] = [
    PaperShape {
        name: "mnist",
        batch: 1024,
        classes: 10,
        cols: 769,
        lr: 2.0,
        max_epochs: 7,
        train_rows: 52_500,
    },
    PaperShape {
        name: "cifar10",
        batch: 2048,
        classes: 10,
        cols: 769,
        lr: 1.0,
        max_epochs: 9,
        train_rows: 43_750,
    },
    PaperShape {
        name: "facemask",
        batch: 512,
        classes: 3,
        cols: 769,
        lr: 0.5,
        max_epochs: 22,
        train_rows: 2_849,
    },
    PaperShape {
        name: "derma",
        batch: 1024,
        classes: 7,
        cols: 769,
        lr: 0.3,
        max_epochs: 23,
        train_rows: 7_007,
    },
    PaperShape {
        name: "snips",
        batch: 1024,
        classes: 7,
        cols: 769,
        lr: 1.0,
        max_epochs: 14,
        train_rows: 13_084,
    },
];

/// The shape named `name`, if any.
///
/// ```
/// use hetal_core::hetal::shapes::paper_shape;
/// let s = paper_shape("cifar10").unwrap();
/// assert_eq!((s.batch, s.classes, s.cols), (2048, 10, 769));
/// assert!(paper_shape("imagenet").is_none());
/// ```
pub fn paper_shape(name: &str) -> Option<PaperShape> {
    PAPER_SHAPES.iter().copied().find(|s| s.name == name)
}

/// A paper shape by name, or a custom `BATCH:CLASSES:COLS` shape (bias column
/// included; named `custom`, learning rate 1, one epoch of one batch).
///
/// ```
/// use hetal_core::hetal::shapes::parse_shape;
/// assert_eq!(parse_shape("mnist").unwrap().batch, 1024);
/// let s = parse_shape("128:10:65").unwrap();
/// assert_eq!((s.name, s.batch, s.classes, s.cols), ("custom", 128, 10, 65));
/// assert!(parse_shape("128:10").is_none() && parse_shape("0:10:65").is_none());
/// ```
pub fn parse_shape(spec: &str) -> Option<PaperShape> {
    if let Some(s) = paper_shape(spec) {
        return Some(s);
    }
    let v: alloc::vec::Vec<usize> = spec
        .split(':')
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let [batch, classes, cols] = v[..] else {
        return None;
    };
    (batch > 0 && classes > 1 && cols > 1).then_some(PaperShape {
        name: "custom",
        batch,
        classes,
        cols,
        lr: 1.0,
        max_epochs: 1,
        train_rows: batch,
    })
}
