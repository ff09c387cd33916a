//! HETAL: the wide-domain softmax, the training step, bootstrap placement,
//! early stopping, inference and the protocol message types (no I/O).

pub mod client;
pub mod plain;
pub mod plan;
pub mod protocol;
pub mod shapes;
pub mod softmax;
pub mod train;
