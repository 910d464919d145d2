#!/usr/bin/env bash
# What `streamlab watch` costs Redis while it idles on the overview of a
# big keyspace (issue 8, point 3): 10,000 streams among 30,000 keys.
#
#   scripts/overview-cost.sh [STREAMS] [OTHER_KEYS] [SECONDS]
#
# Against a private redis-server started here, it builds the keyspace with
# pipelines (every 10th stream has a group whose consumer holds 2 entries;
# the other keys are strings and hashes), runs `streamlab watch` in tmux
# as a read-only ACL user (+@read +@connection +info -@write), waits until
# the overview has walked the keyspace and read every stream once (its
# warm-up, measured too), then resets INFO commandstats and reports the
# command time and commands per second over SECONDS of idling.
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-10000}
others=${2:-20000}
seconds=${3:-60}

. scripts/private-redis.sh
build_streamlab "$([ "${RELEASE:-0}" = 1 ] && echo release || echo debug)"
session="overviewcost$$"
extra_cleanup() { tmux -L "$session" kill-server 2>/dev/null || true; }
start_private_redis

echo "building: $streams streams and $others other keys..." >&2
python3 - "$streams" "$others" <<'PY' | cli --pipe >/dev/null
import sys
streams, others = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
def cmd(*args):
    out.write("*%d\r\n" % len(args))
    for a in args:
        a = str(a).encode()
        out.write("$%d\r\n%s\r\n" % (len(a), a.decode()))
for i in range(streams):
    key = "stream:%05d" % i
    for n in range(5):
        cmd("XADD", key, "*", "n", n)
    if i % 10 == 0:
        cmd("XGROUP", "CREATE", key, "g", "0")
        cmd("XREADGROUP", "GROUP", "g", "c", "COUNT", 2, "STREAMS", key, ">")
for i in range(others):
    if i % 2 == 0:
        cmd("SET", "cache:%d" % i, "x")
    else:
        cmd("HSET", "user:%d" % i, "name", "x")
PY
echo "keys in the database: $(cli DBSIZE)" >&2
cli ACL SETUSER watcher reset on '>w4tch' '~*' '&*' +@read +@connection +info -@write >/dev/null

# commandstats -> "calls usec" totals, and a per-command breakdown.
report() {
    python3 - "$1" "$2" <<'PY'
import sys
path, seconds = sys.argv[1], float(sys.argv[2])
rows = {}
for line in open(path):
    line = line.strip()
    if not line.startswith("cmdstat_"):
        continue
    name, rest = line[8:].split(":", 1)
    kv = dict(p.split("=") for p in rest.split(","))
    rows[name] = (int(kv["calls"]), int(kv["usec"]))
# The script's own CONFIG RESETSTAT is counted after it; its INFO
# commandstats is not (a call counts once it has run), so every INFO here
# is the watch's own (its health read, one every 5 s).
mine = {"config|resetstat"}
watch = {k: v for k, v in rows.items() if k not in mine}
calls = sum(c for c, _ in watch.values())
usec = sum(u for _, u in watch.values())
print(f"  {calls / seconds:7.1f} commands/s, {usec / seconds / 1000:6.3f} ms of command time per second")
for k, (c, u) in sorted(watch.items(), key=lambda kv: -kv[1][1]):
    print(f"    {k:18} {c / seconds:8.1f} calls/s  {u / max(c, 1):7.2f} us/call  {u / seconds / 1000:6.3f} ms/s")
PY
}

cli CONFIG RESETSTAT >/dev/null
start=$(date +%s.%N)
tmux -L "$session" -f /dev/null new-session -d -s main -x 160 -y 48 \
    "$bin --url redis://watcher:w4tch@127.0.0.1:$port watch --log-file $dir/watch.log"
# Warm: the keyspace walked (no "scanning") and every stream read (no "not read yet").
for _ in $(seq 600); do
    screen=$(tmux -L "$session" capture-pane -p -t main 2>/dev/null || true)
    if echo "$screen" | grep -q "Streams:" && ! echo "$screen" | grep -qE "scanning|not read yet"; then
        break
    fi
    sleep 0.2
done
warm=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
cli INFO commandstats > "$dir/warmup.txt"
echo "warm-up (first pass over the keyspace and every stream read once): ${warm}s"
report "$dir/warmup.txt" "$warm"

cli CONFIG RESETSTAT >/dev/null
sleep "$seconds"
cli INFO commandstats > "$dir/idle.txt"
echo "idle on the overview, ${seconds}s (target: at most 2 ms/s and a few hundred commands/s):"
report "$dir/idle.txt" "$seconds"
tmux -L "$session" capture-pane -p -t main | head -3
