#!/usr/bin/env bash
# Why streamlab routes Redis Cluster requests in its own `Conn` instead of
# using the redis crate's `cluster-async` client: what that client (redis
# 1.8.1) does, measured against a local cluster of 3 masters + 3 replicas
# started here (no persistence, ports <= 55535), next to streamlab itself:
#
#   1. sockets: W workers, a producer and a poller of one stream, each role
#      with its own crate connection (`get_async_connection_with_config`),
#      then the same roles as real streamlab processes; CLIENT LIST TYPE
#      normal on every node.
#   2. blocking: XREADGROUP BLOCK 3000 on one crate connection, then XLEN
#      of the same stream on a clone of it and on a separate connection.
#   3. MULTI/EXEC whose queued command gets MOVED (slot moved after the
#      connection read the map) or ASK (slot being migrated): what the
#      crate's cluster connection returns.
#   4. drain: the client CPU per entry of the crate's cluster connection and
#      of its plain connection (same parser), and `streamlab bench` on the
#      cluster with its RESP2 link and with the crate's connection
#      (STREAMLAB_RESP=crate), alternating for --rounds rounds.
#
#   scripts/cluster-client-compare.sh [--workers W] [--entries N] [--rounds R]
#
# The crate side is a throwaway cargo project in a temp dir (streamlab does
# not enable `cluster-async`) built from scripts/cluster-client-compare.rs;
# its build is kept in target/cluster-client-compare so a second run only
# links. Needs cargo, redis-server, redis-cli, python3 and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

workers=4
entries=200000
rounds=3
while [ $# -gt 0 ]; do
    case $1 in
        --workers) workers=$2; shift 2 ;;
        --entries) entries=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        *) echo "error: unknown argument $1 (usage: $0 [--workers W] [--entries N] [--rounds R])"; exit 2 ;;
    esac
done
roles=$((workers + 2))

for tool in cargo redis-server redis-cli python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "error: $tool is needed (apt-get install redis-server redis-tools python3 time; cargo from rustup)"; exit 2; }
done

dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

echo "building streamlab and the crate-side probe (release, to measure)..." >&2
cargo build --release --quiet
bin=$PWD/target/release/streamlab
mkdir -p "$dir/probe/src"
cp scripts/cluster-client-compare.rs "$dir/probe/src/main.rs"
cat >"$dir/probe/Cargo.toml" <<'EOF'
[package]
name = "cluster-client-probe"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
redis = { version = "=1.8.1", features = ["cluster-async", "tokio-comp"] }
tokio = { version = "1", features = ["rt", "macros", "time"] }
EOF
CARGO_TARGET_DIR=$PWD/target/cluster-client-compare \
    cargo build --release --quiet --manifest-path "$dir/probe/Cargo.toml"
probe=$PWD/target/cluster-client-compare/release/cluster-client-probe

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

ports=()
for _ in 1 2 3 4 5 6; do
    p=$(free_port)
    mkdir -p "$dir/$p"
    redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir/$p" --logfile "$dir/$p/log" --daemonize no \
        --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 &
    pids+=($!)
    for _ in $(seq 200); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
    ports+=("$p")
done
# The first three become masters, each of the others a replica of one.
redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 1 --cluster-yes >/dev/null
# Ready: every node says ok and lists all six nodes in CLUSTER SLOTS (a
# replica is listed only once its master has heard of it; clients that
# read the map before that do not know the replicas).
printf '%s\n' "${ports[@]}" >"$dir/ports"
ready() {
    for p in "${ports[@]}"; do
        redis-cli -p "$p" cluster info | grep -q '^cluster_state:ok' || return 1
        [ "$(redis-cli -p "$p" cluster slots | grep -cxF -f "$dir/ports")" = 6 ] || return 1
    done
}
for _ in $(seq 300); do ready && break; sleep 0.1; done
ready || { echo "error: the cluster did not become ready (logs in $dir)"; exit 1; }
seed=${ports[0]}
url=redis://127.0.0.1:$seed
role_of() { redis-cli -p "$1" role | head -1 | sed 's/slave/replica/'; }
echo "cluster: 3 masters + 3 replicas on ${ports[*]}, Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"

# Client sockets per node matching a pattern (redis-cli's own line excluded;
# TYPE normal leaves out the replication links).
count_sockets() { # pattern -> one count per node, in port order
    for p in "${ports[@]}"; do
        redis-cli -p "$p" client list type normal | grep -v 'cmd=client|list' | grep -c -- "$1" || true
    done
}

# 1. Sockets.
crate_sockets() { # -> counts per node
    "$probe" sockets "$seed" "$roles" >"$dir/probe.out" &
    local pid=$!
    for _ in $(seq 300); do grep -q ready "$dir/probe.out" && break; sleep 0.1; done
    grep -q ready "$dir/probe.out" || { echo "error: the probe did not connect"; exit 1; }
    count_sockets 'name='
    kill "$pid"; wait "$pid" 2>/dev/null || true
}
crate_sockets >"$dir/crate.counts"
mapfile -t crate_sockets <"$dir/crate.counts"

started=()
for i in $(seq "$workers"); do
    "$bin" --url "$url" --stream '{jobs}' worker --name "w$i" >"$dir/w$i.log" 2>&1 &
    started+=($!)
done
"$bin" --url "$url" --stream '{jobs}' produce --rate 20 >"$dir/produce.log" 2>&1 &
started+=($!)
"$bin" --url "$url" --stream '{jobs}' monitor --interval 500ms >"$dir/monitor.log" 2>&1 &
started+=($!)
pids+=("${started[@]}")
# Every role has named its socket (one name per role), then 2 s more for any
# socket a role opens later (claims, the poller's second round).
names() {
    for p in "${ports[@]}"; do redis-cli -p "$p" client list type normal; done |
        grep -o 'name=streamlab:[^ ]*' | sort -u | wc -l
}
for _ in $(seq 300); do [ "$(names)" -ge "$roles" ] && break; sleep 0.1; done
[ "$(names)" -ge "$roles" ] || { echo "error: the streamlab roles did not all connect (logs in $dir)"; exit 1; }
sleep 2
mapfile -t streamlab_sockets < <(count_sockets 'name=streamlab:')
kill "${started[@]}"; wait "${started[@]}" 2>/dev/null || true

echo
echo "1. client sockets for $workers workers + a producer + a poller of the stream {jobs}"
printf '%-7s %-8s %22s %14s\n' port role "crate, conn per role" streamlab
crate_total=0
streamlab_total=0
for i in "${!ports[@]}"; do
    printf '%-7s %-8s %22s %14s\n' "${ports[$i]}" "$(role_of "${ports[$i]}")" \
        "${crate_sockets[$i]}" "${streamlab_sockets[$i]}"
    crate_total=$((crate_total + crate_sockets[i]))
    streamlab_total=$((streamlab_total + streamlab_sockets[i]))
done
printf '%-16s %22s %14s\n' total "$crate_total" "$streamlab_total"

echo
echo "2. a blocking read on the crate's cluster connection"
"$probe" block "$seed"

echo
echo "3. MULTI/EXEC on the crate's cluster connection when its queued command is redirected"
"$probe" multi "$seed"

echo
echo "4. drain: client CPU per entry ($entries entries, medians of $rounds rounds)"
CLK_TCK=$(getconf CLK_TCK) "$probe" drain "$seed" "$entries" "$rounds"
# streamlab bench's drain phase (it fills its stream first): the RESP2 link
# against the crate's connection, on the same cluster, alternating.
bench() { # label [env...] -> one JSON line
    local label=$1; shift
    env "$@" /usr/bin/time -f '%U %S' -o "$dir/time" \
        "$bin" --url "$url" --stream "{bench-$label}" bench --json --tasks "$entries" \
        --phases drain >"$dir/json"
    redis-cli -c -p "$seed" del "{bench-$label}" >/dev/null
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
user, sys_ = map(float, open(sys.argv[2]).read().split())
print(json.dumps({"label": sys.argv[3], "drain": r["drain_per_s"], "cpu_us": (user + sys_) * 1e6 / r["tasks"]}))' \
        "$dir/json" "$dir/time" "$label"
}
for _ in $(seq "$rounds"); do
    bench link >>"$dir/bench"
    bench crate STREAMLAB_RESP=crate >>"$dir/bench"
done
python3 - "$dir/bench" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for label in ("link", "crate"):
    mine = [r for r in rows if r["label"] == label]
    med[label] = (statistics.median(r["drain"] for r in mine), statistics.median(r["cpu_us"] for r in mine))
names = {"link": "streamlab, its RESP2 link", "crate": "streamlab, STREAMLAB_RESP=crate"}
for label, (drain, cpu) in med.items():
    print(f"drain: {names[label]}: {drain:.0f} entries/s, client CPU {cpu:.2f} us per entry (fill + drain)")
print(f"drain: crate connection / RESP2 link: client CPU {med['crate'][1] / med['link'][1]:.2f}x, "
      f"entries/s {med['crate'][0] / med['link'][0]:.2f}x")
PY
