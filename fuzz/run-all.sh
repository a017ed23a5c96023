#!/usr/bin/env bash
# `make fuzz` and `make fuzz-smoke`: every fuzz target for FUZZ_SECONDS,
# FUZZ_JOBS targets at a time. libFuzzer keeps one target on one core, so
# on CI's two cores two targets run side by side, which halves the smoke.
# Each target writes to its own log so their output does not interleave;
# a target that fails has the end of its log printed (libFuzzer's crash
# report and the artifact's path are there).
set -euo pipefail
cd "$(dirname "$0")"
self="$PWD/$(basename "$0")"
cargo=${CARGO:-cargo}

if [ "${1:-}" = --one ]; then
  target=$2 log="$3/$2.log"
  if "$cargo" fuzz run -s none "$target" -- \
      -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" >"$log" 2>&1; then
    echo "== fuzz $target ($FUZZ_SECONDS s): $(grep -ao 'Done [0-9]* runs' "$log" | tail -n 1)"
    exit 0
  fi
  echo "== fuzz $target ($FUZZ_SECONDS s): FAILED; the end of its log:"
  tail -n 60 "$log"
  # 1 (not 255) lets xargs finish the other targets, then exit 123.
  exit 1
fi

: "${FUZZ_SECONDS:?}" "${FUZZ_TIMEOUT:?}"
# Built once here so that concurrent `cargo fuzz run`s find it up to date.
"$cargo" fuzz build -s none
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
"$cargo" fuzz list | xargs -P "${FUZZ_JOBS:-2}" -I{} "$self" --one {} "$logs"
