#!/usr/bin/env bash
# Runs schemathesis against the OpenAPI document of each listener of the
# embedded default (`make openapi-check`): no 5xx, and no status, header,
# content type or body that contradicts the document.
#
# positive_data_acceptance is left out: it expects any request the schema
# allows to succeed, and no JSON Schema can say "evidence signed by a
# provisioned device" or "a CoRIM that parses"; such bodies get a
# documented 4xx. A fixed seed makes the generated cases repeatable (the
# fuzzing phase still varies a little with timing); set SCHEMATHESIS_SEED
# (and SCHEMATHESIS_EXAMPLES) to explore further.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${VOUCH_BIN:?set VOUCH_BIN to the vouch binary}
dir=$(mktemp -d)
"$bin" serve --data-dir "$dir/data" \
  --verification-addr 127.0.0.1:0 --provisioning-addr 127.0.0.1:0 \
  --management-addr 127.0.0.1:0 --trust-addr 127.0.0.1:0 \
  >"$dir/stdout" 2>"$dir/stderr" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  [ "$(grep -c 'listening on http' "$dir/stdout" || true)" -ge 4 ] && break
  sleep 0.1
done
status=0
for role in verification provisioning management; do
  url=$(sed -n "s/^vouch: $role listening on \(http[^ ]*\).*/\1/p" "$dir/stdout")
  if [ -z "$url" ]; then
    echo "vouch did not start its $role listener:" >&2
    cat "$dir/stdout" "$dir/stderr" >&2
    exit 1
  fi
  echo "== schemathesis: $role ($url/openapi.json)"
  PYTHONPATH="$here" SCHEMATHESIS_HOOKS=hooks schemathesis run "$url/openapi.json" \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-100}" --seed "${SCHEMATHESIS_SEED:-1}" \
    --exclude-checks positive_data_acceptance --no-color || status=1
done
if grep -q "panicked" "$dir/stderr"; then
  echo "vouch panicked:" >&2
  grep -A5 "panicked" "$dir/stderr" >&2
  status=1
fi
exit "$status"
