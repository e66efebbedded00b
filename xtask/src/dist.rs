//! `cargo xtask dist`: one archive a machine with only Postgres can run Pareto from.
//!
//! ```text
//! pareto-<version>-<arch>-linux/
//!   pareto, hash.txt        the server (migrations inside) and the names of the site's files
//!   site/                   what it serves; found beside the binary when LEPTOS_SITE_ROOT is unset
//!   pareto-agent            the GPU host agent
//!   pareto.env              the server's settings, for /etc/pareto/pareto.env
//!   pareto-agent.toml       the agent's, for /etc/pareto/agent.toml
//!   systemd/                pareto.service and pareto-agent.service, for /etc/systemd/system
//!   README.md
//! ```

use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

use crate::site::{self, Build};

/// Builds `build` (quick when it is current) and writes the archive into `out`; answers its path.
pub fn pack(build: Build, out: &Path) -> Result<PathBuf> {
    let root = site::workspace_root()?;
    site::build(&site::Options {
        build,
        server: true,
    })?;
    site::cargo(
        &root,
        &[
            "build",
            "--locked",
            "-p",
            "pareto-agent",
            "--profile",
            build.server_profile(),
        ],
    )?;

    let name = format!(
        "pareto-{}-{}-linux",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    let target = root.join("target");
    let stage = target.join("xtask").join("dist").join(&name);
    if stage.exists() {
        fs::remove_dir_all(&stage)?;
    }
    fs::create_dir_all(stage.join("systemd"))?;
    let binaries = target.join(build.dir());
    for file in ["pareto", "pareto-agent", "hash.txt"] {
        copy(&binaries.join(file), &stage.join(file))?;
    }
    let served = site::named_files(&binaries.join("hash.txt"))
        .context("the build wrote no list of its files (site-files.txt)")?;
    copy_site(&target.join("site"), &stage.join("site"), &served)?;
    let deploy = root.join("deploy");
    copy(&deploy.join("pareto.env"), &stage.join("pareto.env"))?;
    copy(
        &deploy.join("pareto-agent.toml"),
        &stage.join("pareto-agent.toml"),
    )?;
    for unit in ["pareto.service", "pareto-agent.service"] {
        copy(
            &deploy.join("systemd").join(unit),
            &stage.join("systemd").join(unit),
        )?;
    }
    copy(&root.join("README.md"), &stage.join("README.md"))?;

    fs::create_dir_all(out)?;
    let archive = out.join(format!("{name}.tar.gz"));
    let file =
        fs::File::create(&archive).with_context(|| format!("creating {}", archive.display()))?;
    // A debug build's binaries are large and packed only to be tested: quick compression.
    let level = if build == Build::Debug { 1 } else { 9 };
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::new(level),
    ));
    // Owner root, fixed times, 0644 or 0755: the same build packs to the same archive.
    tar.mode(tar::HeaderMode::Deterministic);
    tar.append_dir_all(&name, &stage)?;
    tar.into_inner()?.finish()?;
    Ok(archive)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    Ok(())
}

/// The site as this build serves it: `pkg/` holds only the files this build wrote (and their
/// compressed copies), with everything else of the site.
fn copy_site(from: &Path, to: &Path, served: &[String]) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            copy_site(&path, &to.join(&name), served)?;
        } else if from.file_name().is_none_or(|dir| dir != "pkg")
            || served.iter().any(|file| file == site::base_name(&name))
        {
            copy(&path, &to.join(&name))?;
        }
    }
    Ok(())
}
