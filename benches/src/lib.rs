//! Benchmarks for hetal (see benches/).
