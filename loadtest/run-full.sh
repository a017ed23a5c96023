#!/usr/bin/env bash
# Every trial of docs/performance.md and the fleet scale, one after the
# other, writing JSON and PNG into OUT (default loadtest/reports/tmp/full).
# Needs PostgreSQL on 127.0.0.1:5432, memcached and haproxy. About 50 min.
#
#   loadtest/run-full.sh [OUT] [STEP_SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-loadtest/reports/tmp/full}"
step="${2:-10}"
users="10,50,100,200,500,1000"
mkdir -p "$out"

cargo build --release -q -p vouch -p vouch-loadtest
lt() { cargo run --release -q -p vouch-loadtest -- "$@" --out "$out"; }

echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo; free -m | head -2; uptime

echo "== Trial 1: user ramp, embedded default (child process) and split topology"
lt run --target child --users "$users" --step-secs "$step" --ceiling-secs 5 --name trial1-embedded
lt run --target in-process --users "$users" --tasks verify --step-secs "$step" --ceiling-secs 5 \
  --name trial1-inprocess
lt run --target split --users "$users" --step-secs "$step" --ceiling-secs 5 --name trial1-split
lt compare "$out/trial1-embedded.json" "$out/trial1-inprocess.json" "$out/trial1-split.json" \
  --labels "embedded (child process)","embedded (in-process)","split (PostgreSQL + memcached)" \
  --name trial1

echo "== Trial 2: 1 vs 3 instances of each front end behind haproxy"
lt run --target split --lb --instances 1 --users "$users" --step-secs "$step" --ceiling-secs 0 \
  --name trial2-1-instance
lt run --target split --lb --instances 3 --users "$users" --step-secs "$step" --ceiling-secs 0 \
  --name trial2-3-instances
lt compare "$out/trial2-1-instance.json" "$out/trial2-3-instances.json" \
  --labels "1 instance","3 instances" --name trial2

echo "== Trial 3: store weight"
lt store-weight --target child --weights 0,10000,100000,1000000 --users 200 --step-secs "$step" --rounds 4 \
  --name trial3-store-weight
lt store-weight --target split --weights 0,1000000 --users 200 --step-secs "$step" --rounds 2 \
  --name trial3-store-weight-split

echo "== Trial 4: scale-out"
lt scale-out --users 50 --secs 90 --name trial4-scale-out

echo "== Fleet scale"
lt fleet --target child --attesters 100,1000,10000,100000 --concurrency 200 --steady-secs 60 \
  --name fleet
lt fleet --target child --attesters 100000 --concurrency 200 --jitter-ms 30000 --steady-secs 0 \
  --name fleet-jitter
# A million attesters on both deployments in one report (about 25 min).
lt fleet --targets child,split --attesters 100,1000,10000,100000,1000000 --concurrency 200 \
  --steady-secs 0 --name fleet-1m

echo "== done: $out"
