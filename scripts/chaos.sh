#!/usr/bin/env bash
# Long chaos run: the same scenario as tests/chaos.rs (N tasks, 3 workers
# with --events json, random kill -9 of workers, CLIENT KILL, CLIENT PAUSE,
# kill -9 + restart of a durable redis-server), for longer, then a summary
# table: faults injected, tasks produced, processed, lost, duplicates.
#
#   scripts/chaos.sh --tasks 200000 --minutes 10 [--seed S] [--cluster]
#
# --cluster runs the cluster round instead: a local 3-master Redis Cluster
# with a replica each, and kill -9 of workers, CLIENT KILL on every
# master, slot migrations and failovers of the stream's master.
#
# Needs redis-server (and for --cluster redis-cli) on PATH. Exits non-zero when a task was lost or any
# check failed; the table is also saved to target/chaos-summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."

tasks=100000
minutes=5
seed=""
test=chaos_loses_no_acknowledged_task
while [ $# -gt 0 ]; do
    case "$1" in
        --tasks) tasks="$2"; shift 2 ;;
        --minutes) minutes="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --cluster) test=chaos_on_a_cluster_loses_no_acknowledged_task; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "error: unknown argument '$1' (use --tasks N --minutes M [--seed S] [--cluster])" >&2; exit 2 ;;
    esac
done
case "$tasks" in ''|*[!0-9]*) echo "error: --tasks must be a whole number" >&2; exit 2 ;; esac
case "$minutes" in ''|*[!0-9.]*) echo "error: --minutes must be a number" >&2; exit 2 ;; esac

summary="target/chaos-summary.md"
mkdir -p target
rm -f "$summary"
export CHAOS_TASKS="$tasks" CHAOS_MINUTES="$minutes" CHAOS_SUMMARY="$PWD/$summary"
export CHAOS_CLUSTER_TASKS="$tasks" CHAOS_CLUSTER_MINUTES="$minutes"
[ -n "$seed" ] && export CHAOS_SEED="$seed"

echo "chaos: $tasks tasks over $minutes minutes (log: target/chaos.log)"
status=0
cargo test --test chaos "$test" -- --exact --nocapture \
    > target/chaos.log 2>&1 || status=$?
if [ -f "$summary" ]; then
    cat "$summary"
else
    echo "no summary: the run failed before the end; the last lines of target/chaos.log:"
    tail -n 30 target/chaos.log
fi
if [ "$status" -ne 0 ]; then
    echo "FAILED (exit $status); details in target/chaos.log"
    grep -E "panicked|lost|problem" target/chaos.log | head -n 20 || true
fi
exit "$status"
