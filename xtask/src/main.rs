//! Pareto's build steps, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`), so that
//! building and testing Pareto needs cargo, and npm's `wasm-opt` for an optimized bundle, and
//! nothing else installed.

mod dist;
mod site;
mod sizes;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

use site::Build;

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
        /// The optimized build `make run` serves (target/release) instead of the debug one.
        #[arg(long, conflicts_with = "dist")]
        release: bool,
        /// The fully optimized build `make dist` packs (target/dist).
        #[arg(long)]
        dist: bool,
        /// The site only, not the server binary.
        #[arg(long)]
        site_only: bool,
    },
    /// Prints the sizes of a built bundle: whole, the main module, and each page's first visit.
    Sizes {
        #[arg(long, value_enum, default_value = "dist")]
        build: Build,
    },
    /// Builds and packs a release: target/pareto-<version>-<arch>-linux.tar.gz with both
    /// binaries, the site, example configuration and the systemd units.
    Dist {
        /// Which build to pack (`debug` packs what the tests run, in seconds).
        #[arg(long, value_enum, default_value = "dist")]
        build: Build,
        /// The folder the archive is written to.
        #[arg(long, default_value = "target")]
        out: PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Site {
            release,
            dist,
            site_only,
        } => {
            let build = match (release, dist) {
                (_, true) => Build::Dist,
                (true, _) => Build::Release,
                _ => Build::Debug,
            };
            site::build(&site::Options {
                build,
                server: !site_only,
            })
        }
        Task::Sizes { build } => sizes::report(build),
        Task::Dist { build, out } => {
            let archive = dist::pack(build, &out)?;
            println!("==> {}", archive.display());
            Ok(())
        }
    }
}
