//! `cargo xtask sizes`: what a browser downloads of a build's bundle, raw and as sent (brotli,
//! gzip): the whole bundle, the main module every page needs, and a first visit to each page (the
//! main module and the modules the page's part needs, from the split manifest).

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::site::{self, Build};

#[derive(Clone, Copy, Default)]
struct Size {
    raw: u64,
    brotli: u64,
    gzip: u64,
}

impl std::ops::AddAssign for Size {
    fn add_assign(&mut self, other: Size) {
        self.raw += other.raw;
        self.brotli += other.brotli;
        self.gzip += other.gzip;
    }
}

fn size_of(pkg: &Path, file: &str) -> Result<Size> {
    let len = |name: String| -> Result<u64> {
        Ok(fs::metadata(pkg.join(&name))
            .with_context(|| format!("pkg/{name}"))?
            .len())
    };
    Ok(Size {
        raw: len(file.to_owned())?,
        brotli: len(format!("{file}.br"))?,
        gzip: len(format!("{file}.gz"))?,
    })
}

fn kb(bytes: u64) -> String {
    format!("{:.0} KB", bytes as f64 / 1000.0)
}

fn row(what: &str, size: Size) {
    println!(
        "| {what} | {} | {} | {} |",
        kb(size.raw),
        kb(size.brotli),
        kb(size.gzip)
    );
}

pub fn report(build: Build) -> Result<()> {
    let root = site::workspace_root()?;
    let pkg = root.join("target/site/pkg");
    let hash_file = root.join("target").join(build.dir()).join("hash.txt");
    let files = site::named_files(&hash_file).with_context(|| {
        format!(
            "no site of the {} build: run `cargo xtask site` for it first",
            build.dir()
        )
    })?;
    let find = |prefix: &str, suffix: &str| {
        files
            .iter()
            .find(|file| file.starts_with(prefix) && file.ends_with(suffix))
            .cloned()
            .with_context(|| format!("the build has no {prefix}*{suffix}"))
    };
    let main = find("pareto.", ".wasm")?;
    let script = find("pareto.", ".js")?;
    let loader = find("__wasm_split.", ".js")?;
    let manifest = find("__wasm_split_manifest.", ".json")?;
    let prefetch: BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&fs::read(pkg.join(&manifest))?).context("the split manifest")?;

    let mut whole = Size::default();
    for file in files.iter().filter(|file| file.ends_with(".wasm")) {
        whole += size_of(&pkg, file)?;
    }
    let main_size = size_of(&pkg, &main)?;
    let mut scripts = size_of(&pkg, &script)?;
    scripts += size_of(&pkg, &loader)?;

    let mut pages = Vec::new();
    for (page, modules) in &prefetch {
        let mut size = main_size;
        for module in modules {
            size += size_of(&pkg, &format!("{module}.wasm"))?;
        }
        pages.push((page.clone(), size, modules.len() + 1));
    }
    pages.sort_by_key(|(_, size, _)| std::cmp::Reverse(size.brotli));

    println!("The {} build's bundle (target/site/pkg):", build.dir());
    println!();
    println!("| wasm | raw | brotli | gzip |");
    println!("|---|---|---|---|");
    let modules = files.iter().filter(|f| f.ends_with(".wasm")).count();
    row(&format!("the whole bundle ({modules} modules)"), whole);
    row("the main module (every page)", main_size);
    for (part, size, modules) in &pages {
        // `experiments_<hash of where it is declared>` -> `experiments`
        let name = part
            .rsplit_once('_')
            .filter(|(_, hash)| hash.bytes().all(|b| b.is_ascii_digit()))
            .map_or(part.as_str(), |(name, _)| name);
        row(
            &format!("a first visit to a page of {name} ({modules} modules)"),
            *size,
        );
    }
    row("JavaScript (the script and the loader)", scripts);
    Ok(())
}
