//! The `hetal` command line.
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hetal",
    version,
    about = "Encrypted transfer learning (HETAL) on CKKS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the CPU, the SIMD backend chosen at run time, and the parameter presets.
    ///
    /// Example: `hetal info`
    Info,
}

fn main() {
    match Cli::parse().command {
        Command::Info => print!("{}", hetal::info::report()),
    }
}
