//! hetal: the std facade over `hetal-core` (threads, files, networking) and the CLI.
pub use hetal_core as core;

pub mod exec;
pub mod info;
