#!/usr/bin/env bash
# Side-by-side benchmark: Redis's own XADD ceiling (redis-benchmark -P 64)
# and `streamlab bench`, against one private redis-server started here
# (no persistence), in one run. Prints both and the ratios the targets use.
#
#   scripts/bench.sh [--tasks N] [--workers W] [other streamlab bench flags]
#
# Targets (issue 5): produce >= 0.8 x ceiling, drain >= 0.7 x ceiling,
# latency at 2000/s p50 <= 0.15 ms, p99 <= 0.3 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/private-redis.sh
command -v redis-benchmark >/dev/null || { echo "error: redis-benchmark is not installed (apt-get install redis-tools)"; exit 2; }

build_streamlab release
start_private_redis

echo "redis-benchmark XADD ceiling (-P 64, 50 clients, 2M entries)..." >&2
ceiling=$(redis-benchmark -p "$port" -n 2000000 -c 50 -P 64 --csv XADD benchstream '*' myfield myvalue \
    | tail -1 | cut -d, -f2 | tr -d '"')
redis-cli -p "$port" del benchstream >/dev/null
# The same shape as streamlab's entries (4 fields: kind, payload, created_ms,
# seq): each field costs Redis time, so this is the fair ceiling for XADD.
echo "redis-benchmark XADD same shape (-P 64, 4 fields, 2M entries)..." >&2
shaped=$(redis-benchmark -p "$port" -n 2000000 -c 50 -P 64 --csv XADD benchstream '*' \
        kind email payload '{"task":123456}' created_ms 1700000000000 seq 123456 \
    | tail -1 | cut -d, -f2 | tr -d '"')
redis-cli -p "$port" del benchstream >/dev/null
echo "redis-benchmark XADD -P 1 (50 clients, 200k entries)..." >&2
p1=$(redis-benchmark -p "$port" -n 200000 -c 50 -P 1 --csv XADD benchstream '*' myfield myvalue \
    | tail -1 | cut -d, -f2 | tr -d '"')
redis-cli -p "$port" del benchstream >/dev/null

echo "streamlab bench $*..." >&2
redis-cli -p "$port" config resetstat >/dev/null
json=$("$bin" --url "redis://127.0.0.1:$port" bench --json "$@")
# Redis's own command time per entry over the whole bench (drain, end-to-end
# and latency phases together): what the server needs, whatever the client.
stats=$(redis-cli -p "$port" info commandstats | tr -d '\r' | grep -E '^cmdstat_(xadd|xreadgroup|xack):' || true)

python3 - "$ceiling" "$shaped" "$p1" "$json" "$stats" <<'PY'
import json, sys
ceiling, shaped, p1 = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
r, stats = json.loads(sys.argv[4]), sys.argv[5]
usec = {}
for line in stats.splitlines():
    name, rest = line[len("cmdstat_"):].split(":", 1)
    kv = dict(p.split("=") for p in rest.split(","))
    usec[name] = (int(kv["calls"]), int(kv["usec"]))
print(f"Redis {r['redis_version']}, {r['tasks']} tasks, {r['producers']} producers x batch {r['batch']}, {r['workers']} workers, {r['client_threads']} client threads")
print(f"{'measure':28} {'per second':>12} {'x XADD -P 64':>13} {'x same shape':>13} {'target':>10}")
print(f"{'redis-benchmark XADD -P 64':28} {ceiling:12.0f} {1.0:13.2f} {ceiling/shaped:13.2f}")
print(f"{'  same shape (4 fields)':28} {shaped:12.0f} {shaped/ceiling:13.2f} {1.0:13.2f}")
print(f"{'redis-benchmark XADD -P 1':28} {p1:12.0f} {p1/ceiling:13.2f} {p1/shaped:13.2f}")
for name, key, target in [("streamlab produce", "produce_per_s", 0.8), ("streamlab drain", "drain_per_s", 0.7), ("streamlab end-to-end", "e2e_per_s", None)]:
    ratio = r[key] / ceiling
    mark = "" if target is None else (f">= {target}" + (" ok" if ratio >= target else " MISSED"))
    print(f"{name:28} {r[key]:12.0f} {ratio:13.2f} {r[key]/shaped:13.2f} {mark:>10}")
print(f"latency at {r['rate']:.0f}/s ({r['latency_samples']} samples): p50 {r['p50_ms']:.3f} ms (target 0.15), "
      f"p99 {r['p99_ms']:.3f} ms (target 0.3), p99.9 {r['p999_ms']:.3f} ms, max {r['max_ms']:.3f} ms")
read = usec.get("xreadgroup", (0, 0))[1] + usec.get("xack", (0, 0))[1]
drained = 2 * r["tasks"] + r["latency_samples"]
if read and drained:
    per = read / drained
    print(f"Redis command time per drained entry (XREADGROUP + XACK, all phases): {per:.2f} us, "
          f"so one Redis core drains at most {1e6/per:,.0f}/s ({1e6/per/ceiling:.2f} x XADD -P 64)")
if "xadd" in usec:
    calls, us = usec["xadd"]
    print(f"Redis command time per streamlab XADD: {us/max(calls,1):.2f} us")
PY
