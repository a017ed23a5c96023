# Vouch developer entry points. CI runs `make ci` (through .ci/run).

CARGO ?= cargo
FUZZ_SECONDS ?= 60

.PHONY: run build release test lint fmt fmt-check bench fuzz fuzz-build ci clean

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

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

## bench: criterion benchmarks of each hot-path step
bench:
	$(CARGO) bench -p vouch-psa-token -p vouch-corim -p vouch-ear -p vouch-sessions -p vouch-store

## fuzz: run each parser's fuzz target for FUZZ_SECONDS (needs cargo-fuzz)
fuzz:
	cd lib/psa-token/fuzz && $(CARGO) fuzz run -s none decode_token -- -max_total_time=$(FUZZ_SECONDS)
	cd lib/corim/fuzz && $(CARGO) fuzz run -s none decode_corim -- -max_total_time=$(FUZZ_SECONDS)

fuzz-build:
	cd lib/psa-token/fuzz && $(CARGO) fuzz build -s none
	cd lib/corim/fuzz && $(CARGO) fuzz build -s none

ci: fmt-check lint test

clean:
	$(CARGO) clean
