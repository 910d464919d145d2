#!/usr/bin/env bash
# Two streamlab binaries side by side: `streamlab bench --json` run by A and
# by B in turns (A B, then B A, ...) against one private redis-server, so
# both see the same machine load. Prints, per measure, the median over the
# rounds of B / A, and the client's CPU time (user + sys) per run. On a
# busy machine wall-clock ratios swing widely; with CALLGRIND=1 each binary
# also runs once under callgrind (CALLGRIND_TASKS tasks, default 20000) and
# its instructions per drained entry are compared, which do not swing.
#
#   [CALLGRIND=1] scripts/bench-pair.sh BIN_A BIN_B [--rounds N] [streamlab bench flags]
#
# Used for the release-profile decision (docs/ARCHITECTURE.md): A built
# with the default release profile, B with LTO, e.g.
#   CARGO_TARGET_DIR=/tmp/a cargo build --release
#   CARGO_TARGET_DIR=/tmp/b CARGO_PROFILE_RELEASE_LTO=fat \
#     CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 cargo build --release
#   scripts/bench-pair.sh /tmp/a/release/streamlab /tmp/b/release/streamlab
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 2 ] || { echo "usage: scripts/bench-pair.sh BIN_A BIN_B [--rounds N] [bench flags]"; exit 2; }
a=$1 b=$2
shift 2
rounds=5
if [ "${1:-}" = --rounds ]; then rounds=$2; shift 2; fi
for bin in "$a" "$b"; do
    [ -x "$bin" ] || { echo "error: $bin is not an executable"; exit 2; }
done
if [ "${CALLGRIND:-0}" = 1 ] && ! command -v valgrind >/dev/null; then
    echo "error: CALLGRIND=1 needs valgrind (apt-get install valgrind)"; exit 2
fi

. scripts/private-redis.sh
start_private_redis
out=$(mktemp)
extra_cleanup() { rm -f "$out" "$out".*; }

# One run: the bench's JSON with the client's CPU seconds added.
run() {
    cli flushall >/dev/null
    local json cpu
    json=$(/usr/bin/time -f "%U %S" -o "$out.time" "$1" --url "redis://127.0.0.1:$port" bench --json "${@:2}")
    cpu=$(awk '{print $1 + $2}' "$out.time")
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["cpu_s"]=float(sys.argv[2]); print(json.dumps(r))' "$json" "$cpu"
}

for i in $(seq "$rounds"); do
    echo "round $i/$rounds..." >&2
    if [ $((i % 2)) -eq 1 ]; then
        echo "A $(run "$a" "$@")" >>"$out"
        echo "B $(run "$b" "$@")" >>"$out"
    else
        echo "B $(run "$b" "$@")" >>"$out"
        echo "A $(run "$a" "$@")" >>"$out"
    fi
done

# The client's instructions per drained entry (produce, drain, end-to-end
# and latency phases together), as scripts/cluster-bench.sh counts them.
instructions() {
    cli flushall >/dev/null
    valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
        "$1" --url "redis://127.0.0.1:$port" bench --json --tasks "${CALLGRIND_TASKS:-20000}" \
        --latency-for 1s >"$out.json" 2>"$out.err"
    python3 -c '
import json, re, sys
r = json.load(open(sys.argv[1]))
ir = int(re.search(r"Collected : (\d+)", open(sys.argv[2]).read()).group(1))
print(ir / (2 * r["tasks"] + r["latency_samples"]))' "$out.json" "$out.err"
}

if [ "${CALLGRIND:-0}" = 1 ]; then
    echo "callgrind: A, then B..." >&2
    ia=$(instructions "$a")
    ib=$(instructions "$b")
    python3 -c "print(f'instructions per drained entry: A {$ia:.0f}, B {$ib:.0f}, B/A {$ib / $ia:.3f}')"
fi

python3 - "$out" <<'PY'
import json, statistics, sys
runs = {"A": [], "B": []}
for line in open(sys.argv[1]):
    who, js = line.split(" ", 1)
    runs[who].append(json.loads(js))
measures = [("produce/s", "produce_per_s"), ("drain/s", "drain_per_s"), ("end-to-end/s", "e2e_per_s"),
            ("latency p50 ms", "p50_ms"), ("latency p99 ms", "p99_ms"), ("client CPU s", "cpu_s")]
print(f"{len(runs['A'])} rounds, {runs['A'][0]['tasks']} tasks, Redis {runs['A'][0]['redis_version']}")
print(f"{'measure':16} {'A median':>12} {'B median':>12} {'B/A median':>11} {'B/A min..max':>14}")
for name, key in measures:
    a = [r[key] for r in runs["A"]]
    b = [r[key] for r in runs["B"]]
    ratios = [y / x for x, y in zip(a, b) if x]
    print(f"{name:16} {statistics.median(a):12.3f} {statistics.median(b):12.3f} "
          f"{statistics.median(ratios):11.3f} {min(ratios):6.2f}..{max(ratios):<6.2f}")
PY
