#!/usr/bin/env bash
# Installs what building and testing Pareto needs, skipping what is already there.
#   scripts/tools.sh build   the wasm target and wasm-opt (npm binaryen); `cargo xtask site` does the rest
#   scripts/tools.sh test    the wasm target, Chromium, the end-to-end npm packages and the
#                            Kubernetes schema check (PyPI's kubernetes-validate in tools/.venv)
#   scripts/tools.sh dev     the build's, and cargo-leptos with the wasm-bindgen CLI it runs (`make dev`)
#   scripts/tools.sh format  leptosfmt, which formats the markup inside `view!` (`make format`; the
#                            test tools include it, for `make fmt`)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-build}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "error: '$*' needs root; run it as root or install sudo" >&2; exit 1; fi
}

apt_install() {
    say "installing $* from Debian packages"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v cargo >/dev/null; then
    echo "error: cargo is not installed; install Rust 1.95 with rustup first" >&2
    exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

if [ "$purpose" = dev ]; then
    if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.7'; then
        say "installing cargo-leptos 0.3.7 for make dev (about 28 minutes on 2 cores, once)"
        cargo install cargo-leptos --version 0.3.7 --locked
    fi
    # cargo-leptos downloads a wasm-bindgen CLI unless one matching Cargo.lock is on PATH.
    wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
    if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wasm_bindgen_version}\$"; then
        say "installing wasm-bindgen-cli ${wasm_bindgen_version}"
        cargo install wasm-bindgen-cli --version "${wasm_bindgen_version}"
    fi
fi

if [ "$purpose" = test ] || [ "$purpose" = format ]; then
    if ! leptosfmt --version 2>/dev/null | grep -q '0\.1\.33'; then
        say "installing leptosfmt 0.1.33 (about a minute on 2 cores, once)"
        cargo install leptosfmt --version 0.1.33 --locked
    fi
    [ "$purpose" = format ] && exit 0
fi

if ! command -v npm >/dev/null; then
    apt_install nodejs npm
fi

if [ "$purpose" = build ] || [ "$purpose" = dev ]; then
    # Debian's binaryen (108) produces a wasm that fails to hydrate; the npm package works.
    if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
        say "installing wasm-opt (npm binaryen)"
        (cd tools && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi

if [ "$purpose" = test ]; then
    if ! command -v chromium >/dev/null; then
        apt_install chromium
    fi
    if [ ! -x tools/.venv/bin/kubernetes-validate ]; then
        say "installing kubernetes-validate (PyPI) into tools/.venv"
        if ! python3 -m venv --help >/dev/null 2>&1; then
            apt_install python3 python3-venv
        fi
        python3 -m venv tools/.venv
        tools/.venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
    fi
    if [ ! -d end2end/node_modules/@playwright/test ]; then
        say "installing the end-to-end test packages"
        (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi
