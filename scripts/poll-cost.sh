#!/usr/bin/env bash
# The dashboard's own cost on a big stream: 1,000,000 entries and a
# 500,000-entry PEL across 10 consumers (issue 5, point 4).
#
#   scripts/poll-cost.sh [ENTRIES] [PEL]
#
# Measures, against a private redis-server started here:
#  - commands and server time per poll (INFO commandstats, after CONFIG RESETSTAT),
#    for `monitor` polls that also fetch a 100-entry PEL page like the dashboard;
#  - the reply bytes per poll (INFO stats total_net_output_bytes);
#  - with tmux available: the dashboard's RSS and CPU while idle for 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${1:-1000000}
pel=${2:-500000}

. scripts/private-redis.sh
build_streamlab "$([ "${RELEASE:-0}" = 1 ] && echo release || echo debug)"
session="pollcost$$"
extra_cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; }
start_private_redis
url="redis://127.0.0.1:$port"

echo "filling: $entries entries, a PEL of $pel across 10 consumers..." >&2
"$bin" --url "$url" --stream tasks produce --count "$entries" --group workers >/dev/null
per=$((pel / 10))
for c in $(seq 10); do cli XREADGROUP GROUP workers "c$c" COUNT "$per" STREAMS tasks '>' >/dev/null; done
echo "stream length $(cli XLEN tasks), PEL $(cli XPENDING tasks workers | head -1)" >&2

polls=200
cli CONFIG RESETSTAT >/dev/null
out_before=$(cli INFO stats | awk -F: '/total_net_output_bytes/ {print $2}' | tr -d '\r')
"$bin" --url "$url" --stream tasks monitor --json --interval 50ms --polls $polls --pel-page 100 > "$dir/polls.jsonl"
out_after=$(cli INFO stats | awk -F: '/total_net_output_bytes/ {print $2}' | tr -d '\r')
cli INFO commandstats > "$dir/stats.txt"
python3 - "$dir/stats.txt" "$polls" "$((out_after - out_before))" "$dir/polls.jsonl" <<'PY'
import json, sys
path, polls, out_bytes, jl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = {}
for line in open(path):
    line = line.strip()
    if not line.startswith("cmdstat_"): continue
    name, rest = line[8:].split(":", 1)
    kv = dict(p.split("=") for p in rest.split(","))
    rows[name] = (int(kv["calls"]), int(kv["usec"]))
skip = {"config", "info", "client", "hello", "ping"}
poll = {k: v for k, v in rows.items() if k.split("|")[0] not in skip}
calls = sum(c for c, _ in poll.values()); usec = sum(u for _, u in poll.values())
print(f"{polls} polls: {calls/polls:.1f} commands per poll, {usec/polls:.1f} us of server time per poll (target < 100 us), {out_bytes/polls/1024:.1f} KiB replied per poll")
for k, (c, u) in sorted(poll.items()):
    print(f"  {k:22} {c/polls:5.1f} calls/poll  {u/max(c,1):8.2f} us/call")
cmds = {json.loads(l)["poll"]["commands"] for l in open(jl)}
print(f"commands per poll reported by streamlab: {sorted(cmds)}")
PY

if command -v tmux >/dev/null; then
    # The idle dashboard: watching the 1M-entry stream with no workers of its
    # own (3 workers would start working off the 500k backlog), then the
    # default lab on a fresh stream (3 workers blocked in XREADGROUP, the
    # basic consumer in XREAD, no production). Anchored match: tmux runs the
    # command through `sh -c`, whose own 4 MB and 0% would be measured instead.
    hz=$(getconf CLK_TCK)
    for args in "--stream tasks --workers 0" "--stream idle"; do
        cmd="$bin --url $url $args"
        tmux new-session -d -s "$session" -x 160 -y 48 "$cmd"
        sleep 5
        pid=$(pgrep -f "^$cmd\$" | head -1 || true)
        if [ -n "$pid" ]; then
            t0=$(awk '{print $14+$15}' /proc/$pid/stat); sleep 20; t1=$(awk '{print $14+$15}' /proc/$pid/stat)
            rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
            hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
            python3 -c "print(f'idle dashboard ($args): RSS {$rss/1024:.1f} MB (peak {$hwm/1024:.1f}, target < 50), CPU {($t1-$t0)/$hz/20*100:.2f}% of a core over 20 s (target < 3)')"
        else
            echo "dashboard did not start (see tmux)"
        fi
        tmux kill-session -t "$session" 2>/dev/null || true
        sleep 1
    done
fi
