//! Pareto's build steps, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`), so that
//! building and testing Pareto needs cargo, and npm's `wasm-opt` for an optimized bundle, and
//! nothing else installed.

mod site;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Pareto's build steps")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Builds the `pareto` binary and the site it serves (target/site).
    Site {
        /// The optimized build (what `make run` serves) instead of the debug one.
        #[arg(long)]
        release: bool,
        /// The site only, not the server binary.
        #[arg(long)]
        site_only: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Site { release, site_only } => site::build(&site::Options {
            release,
            server: !site_only,
        }),
    }
}
