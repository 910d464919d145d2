#!/usr/bin/env bash
# Side by side, in one run: `streamlab bench` against one redis-server and
# against a local 3-master Redis Cluster (started here, no persistence,
# ports <= 55535), each with one stream and with --partitions 3 (one
# partition per master on the cluster), alternating for --rounds rounds,
# medians printed with the ratio cluster / one node for:
#   - produce, drain, end-to-end (entries/s) and latency p50/p99 at --rate;
#   - Redis command time per entry: XADD + XREADGROUP + XACK usec from
#     INFO commandstats, summed over every node;
#   - the client's CPU per entry: user + sys of the bench process
#     (/usr/bin/time), and with CALLGRIND=1 its instructions per entry
#     (callgrind, a separate smaller run: --callgrind-tasks).
# What must hold: the cluster path costs the client at most 10% more per
# entry (client CPU and, when measured, instructions: ratio <= 1.10).
#
#   scripts/cluster-bench.sh [--rounds R] [--callgrind-tasks N] [streamlab bench flags]
#
# A plain bench stream is one key, so on the cluster it lands on one
# master: the same Redis work as on one server, reached through routing.
# With 3 partitions the cluster spreads the work over its 3 masters.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
cg_tasks=20000
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --callgrind-tasks) cg_tasks=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -gt 0 ] || args=(--tasks 200000)

for tool in redis-server redis-cli python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "error: $tool is needed (apt-get install redis-server redis-tools python3 time)"; exit 2; }
done
if [ "${CALLGRIND:-0}" = 1 ] && ! command -v valgrind >/dev/null; then
    echo "error: CALLGRIND=1 needs valgrind (apt-get install valgrind)"; exit 2
fi

echo "building streamlab (release, to measure)..." >&2
cargo build --release --quiet
bin=target/release/streamlab

dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

# A port p with p and p + 10000 free (a cluster node's bus is p + 10000).
free_port() {
    python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randint(20000, 55535)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass
PY
}

start_node() { # port [extra redis-server args]
    local port=$1; shift
    mkdir -p "$dir/$port"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir/$port" --logfile "$dir/$port/log" --daemonize no "$@" &
    pids+=($!)
    for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
    echo "error: redis-server on $port did not start (see $dir/$port/log)"; exit 1
}

single=$(free_port)
start_node "$single"
cluster=()
for _ in 1 2 3; do
    p=$(free_port)
    start_node "$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000
    cluster+=("$p")
done
redis-cli --cluster create "${cluster[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null
for _ in $(seq 300); do
    ok=0
    for p in "${cluster[@]}"; do
        redis-cli -p "$p" cluster info | grep -q '^cluster_state:ok' && ok=$((ok + 1))
    done
    [ "$ok" = 3 ] && break
    sleep 0.1
done
[ "$ok" = 3 ] || { echo "error: the cluster did not reach cluster_state:ok"; exit 1; }

# Sum of XADD/XREADGROUP/XACK calls and usec over the given ports.
redis_usec() {
    for p in "$@"; do redis-cli -p "$p" info commandstats; done | tr -d '\r' |
        python3 -c '
import sys
calls = usec = 0
for line in sys.stdin:
    if line.startswith(("cmdstat_xadd:", "cmdstat_xreadgroup:", "cmdstat_xack:")):
        kv = dict(p.split("=") for p in line.split(":", 1)[1].strip().split(","))
        calls += int(kv["calls"]); usec += int(kv["usec"])
print(calls, usec)'
}

run() { # label partitions port... -- one bench, one JSON line on stdout
    local label=$1 parts=$2; shift 2
    for p in "$@"; do redis-cli -p "$p" config resetstat >/dev/null; done
    /usr/bin/time -f '%U %S' -o "$dir/time" \
        "$bin" --url "redis://127.0.0.1:$1" --stream "bench-$label" bench --json \
        --partitions "$parts" "${args[@]}" >"$dir/json"
    read -r user sys <"$dir/time"
    read -r calls usec < <(redis_usec "$@")
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
r.update(label=sys.argv[2], user_s=float(sys.argv[3]), sys_s=float(sys.argv[4]), redis_calls=int(sys.argv[5]), redis_usec=int(sys.argv[6]))
print(json.dumps(r))' "$dir/json" "$label" "$user" "$sys" "$calls" "$usec"
}

# Client instructions per entry of a smaller bench under callgrind.
instructions() { # label partitions port
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
        "$bin" --url "redis://127.0.0.1:$3" --stream "cg-$1" bench --json --tasks "$cg_tasks" \
        --partitions "$2" --latency-for 1s >"$dir/cg.json" 2>"$dir/cg.err"
    python3 -c '
import json, re, sys
r = json.load(open(sys.argv[1]))
ir = int(re.search(r"Collected : (\d+)", open(sys.argv[2]).read()).group(1))
print(ir / (2 * r["tasks"] + r["latency_samples"]))' "$dir/cg.json" "$dir/cg.err"
}

results="$dir/results"
: >"$results"
for r in $(seq "$rounds"); do
    echo "round $r of $rounds: one node, then the cluster, one stream then 3 partitions (bench ${args[*]})..." >&2
    for parts in 1 3; do
        run "single-$parts" "$parts" "$single" >>"$results"
        run "cluster-$parts" "$parts" "${cluster[@]}" >>"$results"
    done
done
cg="$dir/callgrind"
: >"$cg"
if [ "${CALLGRIND:-0}" = 1 ]; then
    echo "callgrind: bench --tasks $cg_tasks, one node then the cluster, 1 and 3 partitions..." >&2
    for parts in 1 3; do
        echo "single-$parts $(instructions "single-$parts" "$parts" "$single")" >>"$cg"
        echo "cluster-$parts $(instructions "cluster-$parts" "$parts" "${cluster[0]}")" >>"$cg"
    done
fi

python3 - "$results" "$cg" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cg = dict(l.split() for l in open(sys.argv[2]) if l.strip())

def entries(r):
    # Each entry is added, read and acked once: the drain's and the
    # end-to-end phase's tasks, and the latency samples.
    return 2 * r["tasks"] + r["latency_samples"]

measures = [
    ("produce (entries/s)", lambda r: r["produce_per_s"], "{:,.0f}"),
    ("drain (entries/s)", lambda r: r["drain_per_s"], "{:,.0f}"),
    ("end-to-end (entries/s)", lambda r: r["e2e_per_s"], "{:,.0f}"),
    (f"latency p50 at {rows[0]['rate']:.0f}/s (ms)", lambda r: r["p50_ms"], "{:.3f}"),
    (f"latency p99 at {rows[0]['rate']:.0f}/s (ms)", lambda r: r["p99_ms"], "{:.3f}"),
    ("Redis us per entry (all nodes)", lambda r: r["redis_usec"] / entries(r), "{:.2f}"),
    ("client CPU us per entry (user + sys)", lambda r: (r["user_s"] + r["sys_s"]) * 1e6 / entries(r), "{:.2f}"),
    ("  of which user", lambda r: r["user_s"] * 1e6 / entries(r), "{:.2f}"),
    ("  of which sys", lambda r: r["sys_s"] * 1e6 / entries(r), "{:.2f}"),
]
r0 = rows[0]
rounds = sum(1 for r in rows if r["label"] == "single-1")
print(f"Redis {r0['redis_version']}, {r0['tasks']} tasks, {r0['producers']} producers x batch {r0['batch']}, "
      f"{r0['workers']} workers, {r0['client_threads']} client thread(s), medians of {rounds} rounds")
verdicts = []
for parts in (1, 3):
    one = [r for r in rows if r["label"] == f"single-{parts}"]
    clu = [r for r in rows if r["label"] == f"cluster-{parts}"]
    title = "one stream" if parts == 1 else f"{parts} partitions"
    print(f"\n{title:40} {'one node':>12} {'3-master cluster':>17} {'cluster/one':>12}")
    cpu_ratio = None
    for name, f, fmt in measures:
        a = statistics.median(f(r) for r in one)
        b = statistics.median(f(r) for r in clu)
        ratio = b / a if a else float("nan")
        if name.startswith("client CPU"):
            cpu_ratio = ratio
        print(f"{name:40} {fmt.format(a):>12} {fmt.format(b):>17} {ratio:12.2f}")
    ins_ratio = None
    if f"single-{parts}" in cg and f"cluster-{parts}" in cg:
        a, b = float(cg[f"single-{parts}"]), float(cg[f"cluster-{parts}"])
        ins_ratio = b / a
        print(f"{'client instructions per entry (callgrind)':40} {a:12,.0f} {b:17,.0f} {ins_ratio:12.3f}")
    # Instructions do not move with the machine's load; CPU time does (by
    # 10-20% on a shared box), so the verdict uses instructions when measured.
    cost, what = (ins_ratio, "instructions") if ins_ratio is not None else (cpu_ratio, "CPU time")
    verdicts.append((title, cost, what))
print()
for title, cost, what in verdicts:
    verdict = "ok" if cost <= 1.10 else "MISSED"
    print(f"{title}: client cost per entry ({what}), cluster / one node: {cost:.3f} (must be <= 1.10): {verdict}")
PY
