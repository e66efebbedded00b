# Pareto: `make run` serves it, `make test` runs every check. Both install what is missing first.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run

export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pareto
export PARETO_LISTEN ?= 127.0.0.1:3000
export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_PROGRESS_WHEN := never

# PARETO_NOW=2027-03-31T12:00:00Z runs Pareto and its tests as if on that date (app/src/clock.rs);
# every process of one make run reads it from the same real moment.
ifneq ($(strip $(PARETO_NOW)),)
export PARETO_NOW
export PARETO_NOW_SINCE ?= $(shell date +%s)
endif

# Each test database lives beside DATABASE_URL's and is recreated for every run.
E2E_DATABASE_URL := $(patsubst %/,%,$(dir $(DATABASE_URL)))/pareto_e2e

.PHONY: run dev build release dist deploy-check bench fuzz test tools tools-test db lint fmt format sqlx-check sqlx-prepare site rust-tests python-tests e2e demo clean-db

## run: build the release site and serve it on PARETO_LISTEN (default 127.0.0.1:3000)
run: tools db
	cargo xtask site --release
	@echo "Pareto is starting on http://$(PARETO_LISTEN)"
	LEPTOS_SITE_ROOT=target/site target/release/pareto serve

## release: the optimized server and wasm bundle `make run` serves (no link-time optimization and
## no wasm-opt: built in minutes), and the agent
release: tools
	cargo xtask site --release
	cargo build --locked --release -p pareto-agent

## dist: the fully optimized release packed for deployment: target/pareto-<version>-<arch>-linux.tar.gz
## (both binaries, the site, example settings, systemd units; README: Operations)
dist: tools
	cargo xtask dist

## build: the debug server and site (what the tests run against)
build: tools
	cargo xtask site

## dev: serve the debug build, rebuilding and reloading the page on every change (cargo-leptos,
## installed on first use)
dev: db
	@scripts/tools.sh dev
	cargo leptos watch

## bench: the bundle's sizes as sent (the whole, and each page's first visit) beside its raw size;
## ingest through HTTP against raw COPY; over 10M samples the deployment page's query, the
## overview and drift pages and the quarter's XLSX; an experiment's page with 10,000 runs; and a
## 1 GB bill import against raw COPY; the advice for 50 deployments over 90 days against the raw read
## of the hours it starts from
## (all against the `dist` build, what is deployed)
bench: tools db
	cargo xtask site --dist
	cargo xtask sizes --build dist
	PARETO_BIN=$(CURDIR)/target/dist/pareto cargo bench --locked -p pareto-tests --bench ingest
	PARETO_BIN=$(CURDIR)/target/dist/pareto cargo bench --locked -p pareto-tests --bench experiments
	PARETO_BIN=$(CURDIR)/target/dist/pareto cargo bench --locked -p pareto-tests --bench bills
	PARETO_BIN=$(CURDIR)/target/dist/pareto cargo bench --locked -p pareto-tests --bench advice
	cargo bench --locked -p pareto-tests --bench pipelines

## fuzz: each bill format's reader under libFuzzer for FUZZ_SECONDS (default 60) per format; a panic fails
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd fuzz && for target in focus aws_cur aws_cur2 gcp azure detect; do \
		mkdir -p corpus/$$target; \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none $$target corpus/$$target seeds/$$target \
			-- -max_total_time=$(FUZZ_SECONDS) -max_len=4096 || exit 1; \
	done

## demo: load the demo organization into DATABASE_URL
demo: build db
	target/debug/pareto demo

## test: formatting, lints (ssr and hydrate), sqlx offline data, deployment files, Rust tests, the
## Python client's tests, browser tests
test: tools-test db
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory fmt lint deploy-check site rust-tests python-tests e2e; \
	echo "make test: all checks passed in $$(( $$(date +%s) - start )) s"

tools:
	@scripts/tools.sh build

tools-test:
	@scripts/tools.sh test

db:
	@scripts/db.sh ensure

# Rust by rustfmt, and the markup inside `view!` by leptosfmt (leptosfmt.toml); `make format`
# rewrites both.
fmt:
	cargo fmt --all -- --check
	leptosfmt --check --quiet app/src

## format: format the Rust and the `view!` markup in place
format:
	@scripts/tools.sh format
	leptosfmt --quiet app/src
	cargo fmt --all

# The Kubernetes manifests against the API's schemas (PyPI's kubernetes-validate, in tools/.venv);
# the systemd units are verified by the archive's test (tests/tests/dist.rs).
deploy-check:
	tools/.venv/bin/kubernetes-validate --strict --quiet deploy/kubernetes/*.yaml

# The server-side lints run inside the check, while the query macros describe every query.
sqlx-check: db
	scripts/sqlx.sh check

## sqlx-prepare: regenerate .sqlx/ after changing a query or a migration
sqlx-prepare: db
	scripts/sqlx.sh prepare

## lint: clippy on the server side (with the sqlx check, scripts/sqlx.sh) and on the wasm bundle
lint: sqlx-check
	cargo clippy --locked -p pareto-frontend --target wasm32-unknown-unknown -- -D warnings

# The packages of every host build `make test` makes. Cargo gives a dependency the features of the
# packages it is asked to build at once, so asking for these in every step (the binaries, then the
# tests) compiles each crate once, where the server, the agent and the tests asked for apart
# compiled much of the tree three times.
TEST_PACKAGES := -p pareto-app --features pareto-app/ssr -p pareto-bills -p pareto-server -p pareto-agent -p pareto-tests

# The debug bundle, then both binaries (target/debug/pareto, pareto-agent) and the test programs.
site:
	cargo xtask site --site-only
	cargo build --locked --bins --tests $(TEST_PACKAGES)

rust-tests:
	cargo test --locked $(TEST_PACKAGES)

## python-tests: the Python client's tests (pytest, in the pinned environment scripts/python.sh makes
## in target/python) against the debug binary: the API document validated, real Optuna studies,
## and `pareto loadtest` against a scikit-learn model behind an HTTP server
python-tests: db
	scripts/python.sh ensure
	cd clients/python && PARETO_BIN=$(CURDIR)/target/debug/pareto ../../target/python/bin/pytest -q -p no:cacheprovider

e2e:
	scripts/db.sh recreate pareto_e2e
	cd end2end && DATABASE_URL=$(E2E_DATABASE_URL) npx playwright test
