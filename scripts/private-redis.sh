# Sourced by the measuring scripts: build streamlab, and start one private
# redis-server (no persistence) on a free port, stopped and its directory
# removed when the script exits.
#
#   build_streamlab debug|release   sets $bin
#   start_private_redis             sets $dir, $port, $server and cli()
#   build_keyspace STREAMS OTHERS   the overview's test keyspace, pipelined
#   commandstats_report FILE SECS   INFO commandstats per second, per command
#
# A script with more to clean up defines extra_cleanup() before it exits.

command -v redis-server >/dev/null || { echo "error: redis-server is not installed (apt-get install redis-server)"; exit 2; }
command -v redis-cli >/dev/null || { echo "error: redis-cli is not installed (apt-get install redis-tools)"; exit 2; }

build_streamlab() {
    if [ "$1" = release ]; then
        echo "building streamlab (release)..." >&2
        cargo build --release --quiet
    else
        cargo build --quiet
    fi
    bin=target/$1/streamlab
}

private_redis_cleanup() {
    if declare -F extra_cleanup >/dev/null; then extra_cleanup; fi
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$dir"
}

start_private_redis() {
    dir=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
        --daemonize no --logfile "$dir/redis.log" &
    server=$!
    trap private_redis_cleanup EXIT
    for _ in $(seq 100); do cli ping >/dev/null 2>&1 && return; sleep 0.05; done
    echo "error: redis-server on port $port did not start (see $dir/redis.log)"
    exit 1
}

cli() { redis-cli -p "$port" "$@"; }

# STREAMS streams of 5 entries (every 10th with group g whose consumer c
# holds 2 pending entries) among OTHERS strings and hashes.
build_keyspace() {
    echo "building: $1 streams and $2 other keys..." >&2
    python3 - "$1" "$2" <<'PY' | cli --pipe >/dev/null
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
}

# An INFO commandstats dump (FILE) over SECS seconds: commands and command
# time per second, then each command. The measuring scripts' own commands
# are left out (CONFIG RESETSTAT is counted after it ran; CONFIG SET and
# SLOWLOG); their INFO commandstats is not counted (a call counts once it
# has run), so every INFO left is the measured process's own.
commandstats_report() {
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
mine = {"config|resetstat", "config|set", "slowlog|reset", "slowlog|get", "slowlog|len"}
measured = {k: v for k, v in rows.items() if k not in mine}
calls = sum(c for c, _ in measured.values())
usec = sum(u for _, u in measured.values())
print(f"  {calls / seconds:7.1f} commands/s, {usec / seconds / 1000:6.3f} ms of command time per second")
for k, (c, u) in sorted(measured.items(), key=lambda kv: -kv[1][1]):
    print(f"    {k:18} {c / seconds:8.1f} calls/s  {u / max(c, 1):7.2f} us/call  {u / seconds / 1000:6.3f} ms/s")
PY
}
