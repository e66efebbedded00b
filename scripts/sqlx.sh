#!/usr/bin/env bash
# The sqlx query macros compile against .sqlx/, the committed description of every query.
#   scripts/sqlx.sh prepare   regenerate .sqlx/ from a scratch database with every migration applied
#   scripts/sqlx.sh check     fail when .sqlx/ is not what the code and migrations produce
# Both run the server-side lints (`make lint`) while the macros describe the queries, so that one
# pass of clippy serves for both.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pareto}
scratch=pareto_sqlx_$$
scratch_url="${DATABASE_URL%/*}/$scratch"
out=$(mktemp -d)
cleanup() { scripts/db.sh drop "$scratch" >/dev/null 2>&1 || true; rm -rf "$out"; }
trap cleanup EXIT

scripts/db.sh recreate "$scratch"
for migration in migrations/*.sql; do
    psql "$scratch_url" -q -v ON_ERROR_STOP=1 -f "$migration" >/dev/null
done
# The macros only run when their crate recompiles.
touch app/src/lib.rs server/src/lib.rs
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" DATABASE_URL="$scratch_url" \
    cargo clippy --locked -p pareto-app --features pareto-app/ssr -p pareto-bills -p pareto-server \
    -p pareto-agent -p pareto-tests -p xtask --all-targets -- -D warnings

if [ "$mode" = prepare ]; then
    rm -rf .sqlx && mkdir .sqlx && cp "$out"/*.json .sqlx/
    echo ".sqlx/ now describes $(ls .sqlx | wc -l) queries"
elif ! diff -r -q .sqlx "$out" >/dev/null; then
    diff -r -q .sqlx "$out" || true
    echo "error: .sqlx/ is out of date with the queries or migrations; run 'make sqlx-prepare' and commit .sqlx/" >&2
    exit 1
else
    echo ".sqlx/ is current ($(ls .sqlx | wc -l) queries)"
fi
