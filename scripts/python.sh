#!/usr/bin/env bash
# The Python environment the client's tests run in: target/python, made once from
# clients/python/requirements-test.txt (every version pinned) and made again only when that file
# changes; the client itself is installed into it on every call (it is small and local).
#
#   scripts/python.sh ensure    make or refresh it, then install the client
set -euo pipefail

cd "$(dirname "$0")/.."
venv=target/python
requirements=clients/python/requirements-test.txt
stamp="$venv/.requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

case "${1:-ensure}" in
ensure)
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        echo "==> making the Python test environment in $venv (once; a few minutes)"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements"
        echo "$wanted" >"$stamp"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input --no-deps \
        --no-build-isolation --force-reinstall ./clients/python
    ;;
*)
    echo "usage: scripts/python.sh ensure" >&2
    exit 2
    ;;
esac
