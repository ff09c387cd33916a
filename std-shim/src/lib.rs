//! hetal: the std facade over `hetal-core` (threads, files, networking) and the CLI.
pub use hetal_core as core;

pub mod bench_train;
pub mod commands;
pub mod data;
pub mod demo;
pub mod enc;
pub mod exec;
pub mod files;
pub mod info;
pub mod keys;
pub mod report;
pub mod session;
pub mod transport;
