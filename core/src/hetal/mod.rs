//! HETAL: the wide-domain softmax, the training step, bootstrap placement,
//! early stopping, inference, the protocol message types (no I/O) and the
//! choice of the softmax's polynomials by simulated steps ([`tune`]).

pub mod client;
pub mod plain;
pub mod plan;
pub mod protocol;
pub mod shapes;
pub mod softmax;
pub mod train;
pub mod tune;
