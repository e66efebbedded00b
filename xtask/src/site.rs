//! `cargo xtask site`: what cargo-leptos built before, as a few plain steps.
//!
//! 1. The wasm bundle: `cargo build -p pareto-frontend --target wasm32-unknown-unknown`
//!    (the `wasm-release` profile for `--release`, `wasm-dist` for `--dist`).
//! 2. The split: a main module and one module per part of the site (the `#[lazy]` functions of
//!    `parts!` in app/src/lib.rs), plus the chunks that several parts share, with the loader
//!    that fetches them (`wasm_split_cli_support`).
//! 3. The main module's JavaScript: wasm-bindgen's web target, through
//!    `wasm-bindgen-cli-support`, pinned to the `wasm-bindgen` in Cargo.lock.
//! 4. `--dist` only: `wasm-opt -Oz` on every module, from npm's binaryen (tools/node_modules).
//! 5. Every file named by one hash of the bundle, with a brotli and a gzip copy, the stylesheet
//!    by its own; `hash.txt` beside the binary (Leptos names the files in every page from it,
//!    and the server lets browsers keep a file with a hash in its name for a year) and
//!    `site-files.txt`, the list of what this build wrote.
//! 6. The files of `public/` at the site's root.
//! 7. The `pareto` binary: `cargo build -p pareto-server` in the build's profile.
//!
//! Steps 2 to 5 are skipped when the bundle and the stylesheet did not change, so a build with
//! nothing changed takes the seconds cargo needs to see that.

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The site's file names (`LEPTOS_OUTPUT_NAME` in .cargo/config.toml, which Leptos reads too).
const NAME: &str = "pareto";
/// Changed whenever these steps change what they write, so that an older site is rebuilt.
const STEPS_VERSION: &str = "2";

pub struct Options {
    pub build: Build,
    pub server: bool,
}

/// The three builds of the site and the server.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Build {
    /// What the tests and `make dev` run: quick to rebuild.
    Debug,
    /// What `make run` serves: optimized code, built without link-time optimization and without
    /// `wasm-opt`, so that a fresh build takes minutes.
    Release,
    /// What `make dist` packs: link-time optimized throughout, the bundle through `wasm-opt -Oz`.
    Dist,
}

impl Build {
    /// The server's cargo profile, which is also the folder under target/ its binary lands in.
    pub fn server_profile(self) -> &'static str {
        match self {
            Build::Debug => "dev",
            Build::Release => "release",
            Build::Dist => "dist",
        }
    }

    /// The folder under target/ that holds the binaries (and `hash.txt`).
    pub fn dir(self) -> &'static str {
        match self {
            Build::Debug => "debug",
            other => other.server_profile(),
        }
    }

    fn wasm_profile(self) -> &'static str {
        match self {
            Build::Debug => "dev",
            Build::Release => "wasm-release",
            Build::Dist => "wasm-dist",
        }
    }

    fn wasm_dir(self) -> &'static str {
        match self {
            Build::Debug => "debug",
            other => other.wasm_profile(),
        }
    }

    /// Brotli quality and gzip level: the best for what is shipped, quicker settings for the
    /// large bundles that are rebuilt often.
    fn compression(self) -> (u32, u32) {
        match self {
            Build::Debug => (5, 6),
            Build::Release => (9, 9),
            Build::Dist => (11, 9),
        }
    }
}

pub fn workspace_root() -> Result<PathBuf> {
    Ok(Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace root")?
        .to_path_buf())
}

pub fn build(options: &Options) -> Result<()> {
    let root = workspace_root()?;
    let target = root.join("target");
    let site = target.join("site");
    let pkg = site.join("pkg");
    let build = options.build;

    timed("the wasm bundle", || {
        cargo(
            &root,
            &[
                "build",
                "--locked",
                "-p",
                "pareto-frontend",
                "--lib",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                build.wasm_profile(),
            ],
        )
    })?;
    let wasm = target
        .join("wasm32-unknown-unknown")
        .join(build.wasm_dir())
        .join("pareto_frontend.wasm");
    let style = root.join("style/main.css");
    let hash_file = target.join(build.dir()).join("hash.txt");
    let stamp = target.join("xtask").join(format!("{}.inputs", build.dir()));
    let inputs = fingerprint(&[&wasm, &style], build.dir())?;
    let current = fs::read_to_string(&stamp).ok().as_deref() == Some(inputs.as_str())
        && named_files(&hash_file)
            .map(|files| files.iter().all(|file| pkg.join(file).exists()))
            .unwrap_or(false);
    if current {
        println!("==> the site's files are current");
    } else {
        fs::create_dir_all(&pkg)?;
        let scratch = target.join("xtask").join(build.dir());
        if scratch.exists() {
            fs::remove_dir_all(&scratch)?;
        }
        fs::create_dir_all(&scratch)?;
        let split = timed("split by part (wasm-split)", || split(&wasm, &scratch))?;
        timed("wasm-bindgen", || bindgen(&split.main, &scratch))?;
        let main = scratch.join(format!("{NAME}_bg.wasm"));
        if build == Build::Dist {
            timed("wasm-opt -Oz", || {
                wasm_opt(&root, &main)?;
                split
                    .chunks
                    .iter()
                    .try_for_each(|chunk| wasm_opt(&root, chunk))
            })?;
        }
        let written = timed("hashed names, brotli and gzip", || {
            write_site(&scratch, &split, &style, &pkg, &hash_file, build)
        })?;
        fs::write(&stamp, &inputs)?;
        let (modules, rest): (Vec<_>, Vec<_>) = written
            .iter()
            .partition(|(file, _)| file.starts_with("split_") || file.starts_with("chunk_"));
        for (file, bytes) in rest {
            println!("    pkg/{file}: {} KB", bytes / 1000);
        }
        println!(
            "    {} modules of the parts and of what parts share: {} KB",
            modules.len(),
            modules.iter().map(|(_, bytes)| bytes).sum::<usize>() / 1000
        );
        prune(&pkg, &target)?;
    }
    copy_assets(&root.join("public"), &site)?;
    if options.server {
        let args = [
            "build",
            "--locked",
            "-p",
            "pareto-server",
            "--bin",
            "pareto",
            "--profile",
            build.server_profile(),
        ];
        timed("the server", || cargo(&root, &args))?;
    }
    Ok(())
}

fn timed<T>(what: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("==> {what}");
    let started = Instant::now();
    let result = step().with_context(|| format!("building {what}"))?;
    println!("    {what}: {:.1} s", started.elapsed().as_secs_f64());
    Ok(result)
}

pub fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// What the site's files are made from: the bundle, the stylesheet, the profile and these steps.
fn fingerprint(files: &[&Path], build: &str) -> Result<String> {
    let mut hash = Sha256::new();
    hash.update(format!("{STEPS_VERSION} {build}\n"));
    for file in files {
        let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        hash.update(bytes.len().to_le_bytes());
        hash.update(&bytes);
    }
    Ok(hex(&hash.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The page split's outputs, before wasm-bindgen runs on the main module.
struct Split {
    /// The main module, with the frame and what every page shares.
    main: PathBuf,
    /// One module per part of the site and the chunks that several parts share.
    chunks: Vec<PathBuf>,
    /// The JavaScript that fetches and links them (`LOADER`).
    loader: PathBuf,
    /// Each part's split name -> the stems of the modules it needs.
    prefetch: BTreeMap<String, Vec<String>>,
}

/// The module name the main wasm imports the loader by; its 22 underscores are replaced, in the
/// wasm and in the JavaScript, by as many characters of the bundle's hash.
const LOADER: &str = "__wasm_split.______________________.js";
const LOADER_STEM: &str = "__wasm_split.______________________";
/// The main module's JavaScript as the loader names it until the bundle has its hashed name.
const MAIN_MODULE: &str = "./pareto.js";

/// Splits the bundle at the parts' `#[lazy]` functions (`wasm_split_cli_support`, what
/// cargo-leptos's `--split` does): needs the relocations `-Clink-args=--emit-relocs` keeps (.cargo/config.toml).
fn split(wasm: &Path, scratch: &Path) -> Result<Split> {
    let input = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let chunks_dir = scratch.join("split");
    let main = scratch.join("main.wasm");
    let link_name = format!("./{LOADER}");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = &chunks_dir;
    options.main_out_path = &main;
    options.link_name = &link_name;
    options.main_module = MAIN_MODULE;
    let split = wasm_split_cli_support::transform(options).map_err(|e| anyhow!("{e:?}"))?;
    let mut chunks = split.split_modules;
    chunks.sort();
    Ok(Split {
        main,
        chunks,
        loader: chunks_dir.join(LOADER),
        prefetch: split.prefetch_map.into_iter().collect(),
    })
}

/// wasm-bindgen's web target: `pareto.js`, `pareto_bg.wasm` and `snippets/` in `out`, keeping the
/// exports the page split links the chunks by.
fn bindgen(wasm: &Path, out: &Path) -> Result<()> {
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name(NAME)
        .web(true)?
        .typescript(false)
        .keep_lld_exports(true)
        .demangle(false)
        .generate(out)
}

fn wasm_opt(root: &Path, bundle: &Path) -> Result<()> {
    let wasm_opt = root.join("tools/node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        bail!(
            "{} is missing: `scripts/tools.sh build` installs npm's binaryen there (Debian's \
             wasm-opt makes a bundle that fails to hydrate)",
            wasm_opt.display()
        );
    }
    let status = Command::new(&wasm_opt)
        .arg("-Oz")
        .args(["--enable-bulk-memory", "--enable-nontrapping-float-to-int"])
        .arg(bundle)
        .arg("-o")
        .arg(bundle)
        .status()
        .context("running wasm-opt")?;
    if !status.success() {
        bail!("wasm-opt failed ({status})");
    }
    Ok(())
}

/// Writes the bundle's files into `pkg` under names made from their content, with compressed
/// copies, then `hash_file` (which Leptos reads) and the list of every file beside it; answers
/// each file written with its size.
///
/// The files name each other (the script its wasm and the loader, the loader the script and the
/// chunks), so one hash of them all names the lot: any change renames every file of the bundle.
fn write_site(
    scratch: &Path,
    split: &Split,
    style: &Path,
    pkg: &Path,
    hash_file: &Path,
    build: Build,
) -> Result<Vec<(String, usize)>> {
    let mut wasm = fs::read(scratch.join(format!("{NAME}_bg.wasm")))?;
    let mut js = fs::read_to_string(scratch.join(format!("{NAME}.js")))?;
    let mut loader = fs::read_to_string(&split.loader)
        .with_context(|| format!("reading {}", split.loader.display()))?;
    let mut chunks = Vec::new();
    for path in &split.chunks {
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .context("a chunk's name")?
            .to_owned();
        chunks.push((stem, fs::read(path)?));
    }
    let mut hash = Sha256::new();
    for part in [wasm.as_slice(), js.as_bytes(), loader.as_bytes()]
        .into_iter()
        .chain(chunks.iter().map(|(_, bytes)| bytes.as_slice()))
    {
        hash.update(part.len().to_le_bytes());
        hash.update(part);
    }
    let full = hex(&hash.finalize());
    let (bundle_hash, loader_hash) = (&full[..16], &full[..22]);

    let loader_stem = format!("__wasm_split.{loader_hash}");
    replace_same_length(&mut wasm, LOADER_STEM.as_bytes(), loader_stem.as_bytes());
    let wasm_name = format!("{NAME}.{bundle_hash}.wasm");
    let js_name = format!("{NAME}.{bundle_hash}.js");
    // The script loads the bundle by its own name only when the page names none; Leptos names it.
    js = js
        .replace(&format!("{NAME}_bg.wasm"), &wasm_name)
        .replace(LOADER_STEM, &loader_stem);
    loader = loader.replace(&format!("\"{MAIN_MODULE}\""), &format!("\"./{js_name}\""));
    let mut files = vec![(js_name, js.into_bytes()), (wasm_name, wasm)];
    let mut prefetch = split.prefetch.clone();
    for (stem, bytes) in chunks {
        let hashed = format!("{stem}.{bundle_hash}");
        loader = loader.replace(
            &format!("\"./{stem}.wasm\""),
            &format!("\"./{hashed}.wasm\""),
        );
        for stems in prefetch.values_mut() {
            for named in stems.iter_mut().filter(|named| **named == stem) {
                *named = hashed.clone();
            }
        }
        files.push((format!("{hashed}.wasm"), bytes));
    }
    files.push((format!("{loader_stem}.js"), loader.into_bytes()));
    let manifest_name = format!("__wasm_split_manifest.{bundle_hash}.json");
    files.push((
        manifest_name,
        serde_json::to_vec_pretty(&prefetch).context("the split manifest")?,
    ));
    let css = fs::read(style)?;
    let css_hash = short_hash(&css);
    files.push((format!("{NAME}.{css_hash}.css"), css));

    let mut written = Vec::new();
    for (name, bytes) in &files {
        write_with_copies(&pkg.join(name), bytes, build.compression())?;
        written.push((name.clone(), bytes.len()));
    }
    let snippets = scratch.join("snippets");
    if snippets.exists() {
        copy_tree(&snippets, &pkg.join("snippets"), build.compression())?;
    }
    if let Some(parent) = hash_file.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(
        hash_file,
        format!(
            "js: {bundle_hash}\nwasm: {bundle_hash}\ncss: {css_hash}\nmanifest: {bundle_hash}\nsplit: {loader_hash}\n"
        ),
    )?;
    let list: String = files.iter().map(|(name, _)| format!("{name}\n")).collect();
    fs::write(files_list(hash_file), list)?;
    Ok(written)
}

/// Replaces every `from` in `bytes` by `to`, of the same length (a name inside a wasm module).
fn replace_same_length(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut at = 0;
    while let Some(found) = bytes[at..]
        .windows(from.len())
        .position(|window| window == from)
    {
        let start = at + found;
        bytes[start..start + to.len()].copy_from_slice(to);
        at = start + to.len();
    }
}

/// The list of the files in `pkg/` a build wrote, beside its `hash.txt`.
fn files_list(hash_file: &Path) -> PathBuf {
    hash_file.with_file_name("site-files.txt")
}

fn short_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..8])
}

/// Writes `bytes` to `path`, and beside it `path.br` and `path.gz` at the brotli quality and gzip
/// level given.
fn write_with_copies(
    path: &Path,
    bytes: &[u8],
    (brotli_quality, gzip_level): (u32, u32),
) -> Result<()> {
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    let mut brotli_bytes = Vec::new();
    {
        let mut writer =
            brotli::CompressorWriter::new(&mut brotli_bytes, 1 << 16, brotli_quality, 22);
        writer.write_all(bytes)?;
    }
    fs::write(with_suffix(path, "br"), brotli_bytes)?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(gzip_level));
    gzip.write_all(bytes)?;
    fs::write(with_suffix(path, "gz"), gzip.finish()?)?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// The files in `pkg/` of the build whose `hash.txt` this is.
pub fn named_files(hash_file: &Path) -> Option<Vec<String>> {
    let text = fs::read_to_string(files_list(hash_file)).ok()?;
    Some(text.lines().map(str::to_owned).collect())
}

/// Removes the files of `pkg/` that no build's list names (and their compressed copies), so
/// that it holds the files of the builds that can be served, and no older ones.
fn prune(pkg: &Path, target: &Path) -> Result<()> {
    let keep: Vec<String> = ["debug", "release", "dist"]
        .iter()
        .filter_map(|dir| named_files(&target.join(dir).join("hash.txt")))
        .flatten()
        .collect();
    for entry in fs::read_dir(pkg)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if !keep.iter().any(|kept| *kept == base_name(&name)) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// A file's name without the `.br` or `.gz` of a compressed copy.
pub fn base_name(name: &str) -> &str {
    name.strip_suffix(".br")
        .or_else(|| name.strip_suffix(".gz"))
        .unwrap_or(name)
}

/// Copies `from` into `to`, compressed copies beside each file.
fn copy_tree(from: &Path, to: &Path, compression: (u32, u32)) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target, compression)?;
        } else {
            write_with_copies(&target, &fs::read(entry.path())?, compression)?;
        }
    }
    Ok(())
}

/// The files of `public/` at the site's root (small: always copied, compressed at the best setting).
fn copy_assets(public: &Path, site: &Path) -> Result<()> {
    if public.exists() {
        copy_tree(public, site, Build::Dist.compression())?;
    }
    Ok(())
}
