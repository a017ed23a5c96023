# Vouch developer entry points. CI runs `make ci` (through .ci/run).

CARGO ?= cargo
FUZZ_SECONDS ?= 60

.PHONY: run build release test test-bins lint fmt fmt-check check-packaging check-k8s bench fuzz fuzz-build fuzz-smoke openapi-check ci clean

## run: all services in one process, SQLite under ./vouch-data, on loopback
run:
	$(CARGO) run --release -p vouch -- serve

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release -p vouch

## test: every test; needs PostgreSQL on 127.0.0.1:5432 and a memcached binary
test:
	$(CARGO) test --workspace

## test-bins: the vouch and vouch-loadtest binaries that openapi-check and
## loadtest-smoke run, in BIN_DIR
# Built with the features `make test` resolves (the dev-dependencies turn on
# the crates' `testing` helper modules and tokio's test-util, neither of
# which changes what a binary does), so after `make test` only
# vouch-loadtest's own crate compiles. `cargo build -p vouch` resolves
# other features and rebuilt about half the workspace after `make test`
# (2 min 13 s, and `cargo run -p vouch-loadtest` about 75 s more, on a new
# 2-core CI machine).
BIN_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/debug
test-bins:
	$(CARGO) build --workspace --bins --tests

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

## check-packaging: parse and check docker-compose.yml and the Dockerfile
## (no Docker engine needed; needs PyYAML and dockerfile-parse, and uses
## docker-compose and hadolint when installed, as .ci/run does)
check-packaging:
	python3 .ci/check-packaging.py

## check-k8s: render infra/k8s's overlays (kubectl kustomize), validate them
## against Kubernetes 1.30 and 1.33 (kubernetes-validate --strict) and check
## what schemas cannot: security, probes, drain, NetworkPolicy, and the
## database sizing (docs/operations.md, "Kubernetes"); --self-test breaks
## each rule once to prove it fails. Needs kubectl and kubernetes-validate.
check-k8s:
	python3 .ci/check-k8s.py --self-test

## bench: criterion benchmarks of each hot-path step, and the crypto-only ceiling
bench:
	$(CARGO) bench -p vouch-psa-token -p vouch-corim -p vouch-ear -p vouch-sessions -p vouch-store \
		-p vouch-schemes -p vouch-trust -p vouch-policy -p vouch-loadtest

## fuzz: run every parser's fuzz target (the one cargo-fuzz package in fuzz/,
## whose targets live beside their parsers in lib/*/fuzz/fuzz_targets) for
## FUZZ_SECONDS each (needs cargo-fuzz; runs on stable without a sanitizer).
## An input that runs longer than FUZZ_TIMEOUT seconds is a hang, reported
## as a failure. docs/security.md says how to run one target for long.
FUZZ_TIMEOUT ?= 10
# CI's CARGO_TARGET_DIR is used when set (fuzz builds land in its
# <triple>/release, apart from the workspace's builds).
FUZZ_TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target/fuzz)
# The CI smoke (fuzz-build, fuzz-smoke) builds at opt-level 1: the build of
# every target took 4 min 8 s on 2 cores against 5 min 11 s to 5 min 58 s
# at 3 in the CI runs of the same day, and a 3 s smoke still makes about
# 60 % of the executions. Empty (make fuzz, and the long runs of
# docs/security.md): the release profile's 3. Switching between the two
# rebuilds the fuzz package.
FUZZ_OPT_LEVEL ?=
fuzz-build fuzz-smoke: FUZZ_OPT_LEVEL = 1
FUZZ_ENV = CARGO_TARGET_DIR=$(FUZZ_TARGET_DIR) $(if $(FUZZ_OPT_LEVEL),CARGO_PROFILE_RELEASE_OPT_LEVEL=$(FUZZ_OPT_LEVEL))
FUZZ_CARGO = cd fuzz && $(FUZZ_ENV) $(CARGO)
# Targets run FUZZ_JOBS at a time, one core each (fuzz/run-all.sh).
FUZZ_JOBS ?= 2
fuzz:
	CARGO=$(CARGO) $(FUZZ_ENV) FUZZ_SECONDS=$(FUZZ_SECONDS) \
	  FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) FUZZ_JOBS=$(FUZZ_JOBS) fuzz/run-all.sh

## openapi-check: schemathesis against the OpenAPI document of each listener
## of the embedded default (CI; needs `pip install schemathesis==4.32.5`)
openapi-check: test-bins
	VOUCH_BIN=$(BIN_DIR)/vouch services/vouch/tests/openapi/check.sh

## fuzz-build: build every fuzz target (CI)
fuzz-build:
	$(FUZZ_CARGO) fuzz build -s none

## fuzz-smoke: a few seconds per target (CI)
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=$(or $(FUZZ_SMOKE_SECONDS),3) FUZZ_OPT_LEVEL=$(FUZZ_OPT_LEVEL)

ci: fmt-check lint check-packaging check-k8s test openapi-check

clean:
	$(CARGO) clean

# Load tests (loadtest/, docs/performance.md). Reports go to the gitignored
# loadtest/reports/tmp; plots need a TrueType font (fonts-dejavu-core).
LOADTEST_ARGS ?=
LOADTEST_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
.PHONY: loadtest loadtest-smoke loadtest-full loadtest-font

loadtest-font:
	@test -f $(LOADTEST_FONT) || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-dejavu-core; } || \
	  echo "no font at $(LOADTEST_FONT): plots will be skipped (install fonts-dejavu-core)"

## loadtest: the short default (about a minute): the crypto-only ceiling, then
## 10 to 1,000 users over the well-known, provision and verify tasks against
## the embedded default (`vouch serve` child); add flags with LOADTEST_ARGS
loadtest: loadtest-font
	$(CARGO) build --release -p vouch -p vouch-loadtest
	$(CARGO) run --release -q -p vouch-loadtest -- run $(LOADTEST_ARGS)

## loadtest-smoke: a few seconds in-process, failing on any failed request (CI)
loadtest-smoke: test-bins
	$(BIN_DIR)/vouch-loadtest run --target in-process --users 10,50 \
	  --step-secs 1 --warmup-secs 0.5 --ceiling-secs 0.5 --devices 200 \
	  --no-plots --fail-on-error --name smoke
	$(BIN_DIR)/vouch-loadtest run --target in-process --users 10 --tasks verify \
	  --step-secs 1 --warmup-secs 0.5 --ceiling-secs 0 --devices 200 \
	  --policy loadtest/policies/psa.rego --no-plots --fail-on-error --name smoke-policy

## loadtest-full: every trial and the fleet scale, as published in docs/perf
## (about 50 minutes; needs PostgreSQL, memcached and haproxy)
loadtest-full: loadtest-font
	$(CARGO) build --release -p vouch -p vouch-loadtest
	loadtest/run-full.sh docs/perf
