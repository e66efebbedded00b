//! `make dist`'s archive, as an operator gets it: packed by `cargo xtask dist` (from the debug
//! build here; `make dist` packs the optimized one the same way), unpacked into an empty folder
//! and started there with only a database, no checkout and no LEPTOS_SITE_ROOT around it.

use pareto_tests::{client, text, workspace_root, Server, TestDb};
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pareto-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Packs the debug build into `out` and answers the archive's path.
fn pack(out: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["xtask", "dist", "--build", "debug", "--out"])
        .arg(out)
        .current_dir(workspace_root())
        .output()
        .expect("cargo xtask dist runs");
    assert!(
        output.status.success(),
        "cargo xtask dist failed:\n{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let archives: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("out")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.to_string_lossy().ends_with("-linux.tar.gz"))
        .collect();
    assert_eq!(archives.len(), 1, "one archive in {}", out.display());
    archives[0].clone()
}

#[tokio::test]
async fn the_archive_unpacks_and_serves_pareto_with_only_postgres() {
    let out = scratch("dist-out");
    let archive = pack(&out);
    let name = archive
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(".tar.gz"))
        .expect("archive name")
        .to_owned();
    assert!(
        name.starts_with(&format!("pareto-{}-", env!("CARGO_PKG_VERSION"))),
        "{name}"
    );

    let install = scratch("dist-install");
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&install)
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar -xzf {}", archive.display());
    let home = install.join(&name);
    for file in [
        "pareto",
        "pareto-agent",
        "hash.txt",
        "pareto.env",
        "pareto-agent.toml",
        "systemd/pareto.service",
        "systemd/pareto-agent.service",
        "README.md",
    ] {
        assert!(home.join(file).is_file(), "{file} is in the archive");
    }
    // Only this build's files, each named by its content and with its compressed copies: the
    // script, the main module and the stylesheet that hash.txt names, the pages' modules, their
    // loader and its manifest.
    let hashes = std::fs::read_to_string(home.join("hash.txt")).expect("hash.txt");
    let hash_of = |kind: &str| {
        hashes
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{kind}: ")))
            .unwrap_or_else(|| panic!("hash.txt names the {kind}:\n{hashes}"))
            .to_owned()
    };
    let (bundle, css, split) = (hash_of("wasm"), hash_of("css"), hash_of("split"));
    assert_eq!(hash_of("js"), bundle);
    let served = [
        format!("pareto.{bundle}.js"),
        format!("pareto.{bundle}.wasm"),
        format!("pareto.{css}.css"),
    ];
    let packed: Vec<String> = std::fs::read_dir(home.join("site/pkg"))
        .expect("site/pkg")
        .map(|entry| entry.expect("entry"))
        .filter(|entry| entry.file_type().expect("type").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let originals: Vec<&String> = packed
        .iter()
        .filter(|name| !name.ends_with(".br") && !name.ends_with(".gz"))
        .collect();
    for name in &originals {
        assert!(
            name.contains(&bundle) || name.contains(&css) || name.contains(&split),
            "{name} belongs to another build"
        );
        for copy in [format!("{name}.br"), format!("{name}.gz")] {
            assert!(packed.contains(&copy), "{copy} is packed");
        }
    }
    for file in &served {
        assert!(packed.contains(file), "{file} is packed");
    }
    assert!(packed.contains(&format!("__wasm_split.{split}.js")));
    // A module per part of the site (`parts!` in app/src/lib.rs).
    for part in [
        "auth",
        "overview",
        "experiments",
        "catalog",
        "bills",
        "drift",
        "reports",
        "fleet",
        "settings",
    ] {
        assert!(
            originals
                .iter()
                .any(|name| name.starts_with(&format!("split_{part}_"))),
            "the {part} part is packed: {originals:?}"
        );
    }

    let agent = Command::new(home.join("pareto-agent"))
        .arg("--version")
        .output()
        .expect("pareto-agent runs");
    assert!(agent.status.success());
    assert!(text(&agent.stdout).contains(env!("CARGO_PKG_VERSION")));

    // Started from the unpacked folder, by absolute path, from a working directory that holds
    // nothing: the site is found beside the binary.
    let db = TestDb::new().await;
    let empty = scratch("dist-cwd");
    let mut command = Command::new(home.join("pareto"));
    command
        .arg("serve")
        .current_dir(&empty)
        .env_remove("LEPTOS_SITE_ROOT")
        .env("DATABASE_URL", db.url())
        .env("PARETO_LISTEN", "127.0.0.1:0");
    let server = Server::spawn(command).await;
    let page = client()
        .get(server.url("/setup"))
        .send()
        .await
        .expect("the setup page");
    assert!(page.status().is_success(), "{}", page.status());
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Create the first administrator"),
        "the setup page:\n{html}"
    );
    for file in &served {
        assert!(
            html.contains(&format!("/pkg/{file}")),
            "the page names {file}"
        );
        let asset = client()
            .get(server.url(&format!("/pkg/{file}")))
            .header("accept-encoding", "br")
            .send()
            .await
            .expect("asset");
        assert_eq!(asset.status(), 200, "{file}");
        assert_eq!(
            asset
                .headers()
                .get("content-encoding")
                .map(|v| v.as_bytes()),
            Some(&b"br"[..]),
            "{file} is sent precompressed"
        );
    }
    drop(server);
    db.drop().await;

    verify_units(&home);
    for dir in [out, install, empty] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// `systemd-analyze verify` on the archive's units, pointed at the unpacked binaries (it checks
/// that ExecStart is executable); warnings about unknown or misplaced settings fail the test too.
/// Skipped where systemd's tools are not installed.
fn verify_units(home: &Path) {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("systemd-analyze is not installed: the units are not verified");
        return;
    }
    let units = home.join("verify");
    std::fs::create_dir_all(&units).expect("units folder");
    let mut paths = Vec::new();
    for unit in ["pareto.service", "pareto-agent.service"] {
        let text = std::fs::read_to_string(home.join("systemd").join(unit)).expect("unit");
        assert!(
            text.contains("ExecStart=/opt/pareto/"),
            "{unit} runs from /opt/pareto"
        );
        let path = units.join(unit);
        std::fs::write(
            &path,
            text.replace("/opt/pareto/", &format!("{}/", home.display())),
        )
        .expect("unit copy");
        paths.push(path);
    }
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&paths)
        .output()
        .expect("systemd-analyze runs");
    let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(
        output.status.success() && said.trim().is_empty(),
        "systemd-analyze verify:\n{said}"
    );
}
