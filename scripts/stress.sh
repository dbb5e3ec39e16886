#!/usr/bin/env bash
# Stress: the concurrency-sensitive tests of lifecycle and sdk, many times
# over under the race detector. Every TestChaos iteration draws a new seed
# (printed if it fails; replay it with CHAOS_SEED=<seed>).
#
#   bash scripts/stress.sh                 # COUNT=20: under 2 minutes on 2 CPUs
#   COUNT=3 bash scripts/stress.sh         # about 20s; what CI runs
#   RUN=Chaos COUNT=50 bash scripts/stress.sh
#
# COUNT   iterations of each test (default 20)
# RUN     the -run pattern (default: the concurrency, chaos, fault-injection,
#         strategy, shutdown and control tests)
# TIMEOUT go test -timeout, per package (default 60s per iteration + 120s)
set -euo pipefail
cd "$(dirname "$0")/.."

count=${COUNT:-20}
run=${RUN:-'ConcurrentSafe|Chaos|Fault|Strategy|Shutdown|Control'}
timeout=${TIMEOUT:-$((count * 60 + 120))s}

echo "== stress: go test -race -count=$count -timeout $timeout -run '$run' ./lifecycle/ ./sdk/"
start=$(date +%s)
go test -race -count="$count" -timeout "$timeout" -run "$run" ./lifecycle/ ./sdk/
echo "== stress: passed $count iterations in $(($(date +%s) - start))s"
