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

command -v redis-server >/dev/null || { echo "error: redis-server is not installed (apt-get install redis-server)"; exit 2; }
command -v redis-benchmark >/dev/null || { echo "error: redis-benchmark is not installed (apt-get install redis-tools)"; exit 2; }

echo "building streamlab (release)..." >&2
cargo build --release --quiet
bin=target/release/streamlab

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

echo "redis-benchmark XADD ceiling (-P 64, 50 clients, 2M entries)..." >&2
ceiling=$(redis-benchmark -p "$port" -n 2000000 -c 50 -P 64 --csv XADD benchstream '*' myfield myvalue \
    | tail -1 | cut -d, -f2 | tr -d '"')
redis-cli -p "$port" del benchstream >/dev/null
echo "redis-benchmark XADD -P 1 (50 clients, 200k entries)..." >&2
p1=$(redis-benchmark -p "$port" -n 200000 -c 50 -P 1 --csv XADD benchstream '*' myfield myvalue \
    | tail -1 | cut -d, -f2 | tr -d '"')
redis-cli -p "$port" del benchstream >/dev/null

echo "streamlab bench $*..." >&2
json=$("$bin" --url "redis://127.0.0.1:$port" bench --json "$@")

python3 - "$ceiling" "$p1" "$json" <<'PY'
import json, sys
ceiling, p1, r = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
print(f"Redis {r['redis_version']}, {r['tasks']} tasks, {r['producers']} producers x batch {r['batch']}, {r['workers']} workers")
print(f"{'measure':28} {'per second':>12} {'ratio to ceiling':>18} {'target':>8}")
print(f"{'redis-benchmark XADD -P 64':28} {ceiling:12.0f} {1.0:18.2f}")
print(f"{'redis-benchmark XADD -P 1':28} {p1:12.0f} {p1/ceiling:18.2f}")
for name, key, target in [("streamlab produce", "produce_per_s", 0.8), ("streamlab drain", "drain_per_s", 0.7), ("streamlab end-to-end", "e2e_per_s", None)]:
    ratio = r[key] / ceiling
    mark = "" if target is None else (f">= {target}" + (" ok" if ratio >= target else " MISSED"))
    print(f"{name:28} {r[key]:12.0f} {ratio:18.2f} {mark:>8}")
print(f"latency at {r['rate']:.0f}/s ({r['latency_samples']} samples): p50 {r['p50_ms']:.3f} ms (target 0.15), "
      f"p99 {r['p99_ms']:.3f} ms (target 0.3), p99.9 {r['p999_ms']:.3f} ms, max {r['max_ms']:.3f} ms")
PY
