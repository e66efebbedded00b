#!/usr/bin/env bash
# Makes sure Postgres answers at DATABASE_URL and that its database exists.
#   scripts/db.sh ensure           start the local server if it is down, create the database
#   scripts/db.sh recreate NAME    drop and create database NAME on the same server (for tests)
#   scripts/db.sh drop NAME        drop database NAME
set -euo pipefail
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pareto}
server_url=${DATABASE_URL%/*}
database=${DATABASE_URL##*/}
database=${database%%\?*}
admin_url="$server_url/postgres"
export PGOPTIONS="-c client_min_messages=warning"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "error: '$*' needs root" >&2; exit 1; fi
}

answers() { psql "$admin_url" -qtAc 'select 1' >/dev/null 2>&1; }

ensure_server() {
    if ! command -v psql >/dev/null; then
        say "installing the Postgres client"
        as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql-client >/dev/null
    fi
    answers && return 0
    if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
        say "installing the Postgres server"
        as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
    fi
    version=$(ls /etc/postgresql | sort -V | tail -1)
    say "starting the local Postgres $version server"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do answers && return 0; sleep 1; done
    echo "error: Postgres does not answer at ${server_url} (DATABASE_URL); start it or point DATABASE_URL elsewhere" >&2
    exit 1
}

exists() { [ "$(psql "$admin_url" -qtAc "select 1 from pg_database where datname = '$1'")" = 1 ]; }

case "${1:-ensure}" in
    ensure)
        ensure_server
        if ! exists "$database"; then
            say "creating database $database"
            psql "$admin_url" -qc "create database \"$database\""
        fi
        ;;
    recreate)
        ensure_server
        psql "$admin_url" -qc "drop database if exists \"$2\" with (force)"
        psql "$admin_url" -qc "create database \"$2\""
        ;;
    drop)
        psql "$admin_url" -qc "drop database if exists \"$2\" with (force)"
        ;;
    *)
        echo "usage: $0 ensure | recreate NAME | drop NAME" >&2
        exit 2
        ;;
esac
