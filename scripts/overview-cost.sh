#!/usr/bin/env bash
# What `streamlab watch` costs Redis while it idles on the overview of a
# big keyspace (issue 8, point 3; issue 17, item 0: a budget of 2 ms of
# Redis time per second at any size, 10 ms/s during the first pass, no
# command over about 0.5 ms, about 1 KB of memory per stream).
#
#   scripts/overview-cost.sh [STREAMS] [OTHER_KEYS] [SECONDS]
#   RELEASE=1 scripts/overview-cost.sh 100000 200000 60   # representative CPU
#
# Reported for the first pass and for SECONDS of idling after it: commands
# and Redis command time per second (INFO commandstats), the longest single
# command of the watch's connections (SLOWLOG with slowlog-log-slower-than
# 0, so every command is logged with its duration), and the watch process's
# RSS and CPU (from /proc).
#
# Against a private redis-server started here, it builds the keyspace with
# pipelines (every 10th stream has a group whose consumer holds 2 entries;
# the other keys are strings and hashes), runs `streamlab watch` in tmux
# as a read-only ACL user (+@read +@connection +info -@write), waits until
# the overview has walked the keyspace and read every stream once (its
# warm-up, measured too: the header then says "each row refreshed
# within"), then resets the statistics and measures SECONDS of idling.
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

build_keyspace "$streams" "$others"
cli ACL SETUSER watcher reset on '>w4tch' '~*' '&*' +@read +@connection +info -@write >/dev/null


# The longest commands the watch's connections ran since the last SLOWLOG
# RESET (every command is logged: slowlog-log-slower-than 0).
longest() {
    cli --json SLOWLOG GET -1 > "$dir/slowlog.json"
    python3 - "$dir/slowlog.json" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))
mine = [e for e in entries if len(e) > 5 and str(e[5]).startswith("streamlab")]
mine.sort(key=lambda e: -e[2])
if not mine:
    print("  longest command: none logged")
for e in mine[:3]:
    args = " ".join(str(a) for a in e[3])[:70]
    print(f"  longest: {e[2]:5d} us  {args}  ({e[5]})")
over = [e for e in mine if e[2] > 500]
ours = [e for e in mine if e[5] == "streamlab:overview"]
if mine:
    q = sorted(e[2] for e in ours) or [0]
    p999 = q[min(len(q) - 1, int(len(q) * 0.999))]
    print(f"  {len(mine)} commands logged, {len(over)} over 500 us"
          f" ({', '.join(sorted(set(str(e[3][0]) + ' by ' + e[5] for e in over))) or 'none'});"
          f" the overview's: 99.9% at most {p999} us, the longest {q[-1]} us")
PY
    cli SLOWLOG RESET >/dev/null
}

# The watch process: its pid (under the tmux pane), RSS and CPU ticks.
watch_pid() {
    local pane
    pane=$(tmux -L "$session" list-panes -t main -F '#{pane_pid}')
    if [ "$(cat /proc/"$pane"/comm)" = streamlab ]; then echo "$pane"; else pgrep -P "$pane" | head -1; fi
}
ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
memory() { awk '/^VmRSS|^VmHWM/ {printf "%s %.1f MB  ", $1, $2 / 1024}' /proc/"$1"/status; echo; }
cpu_share() { python3 -c "print(f'{($2 - $1) / $(getconf CLK_TCK) / $3 * 100:.1f}% of a core')"; }

cli CONFIG SET slowlog-log-slower-than 0 >/dev/null
cli CONFIG SET slowlog-max-len 1000000 >/dev/null
cli SLOWLOG RESET >/dev/null
cli CONFIG RESETSTAT >/dev/null
start=$(date +%s.%N)
tmux -L "$session" -f /dev/null new-session -d -s main -x 160 -y 48 \
    "STREAMLAB_LOG=${STREAMLAB_LOG:-info} $bin --url redis://watcher:w4tch@127.0.0.1:$port watch --log-file $dir/watch.log"
# Warm: the keyspace walked (no "scanning") and every stream read (no "not read yet").
for _ in $(seq 6000); do
    screen=$(tmux -L "$session" capture-pane -p -t main 2>/dev/null || true)
    if echo "$screen" | grep -q "each row refreshed within"; then
        break
    fi
    sleep 0.2
done
warm=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
cli INFO commandstats > "$dir/warmup.txt"
pid=$(watch_pid)
echo "warm-up (first pass over the keyspace and every stream read once; budget 10 ms/s): ${warm}s"
commandstats_report "$dir/warmup.txt" "$warm"
longest
echo "  watch: $(memory "$pid")"

cli CONFIG RESETSTAT >/dev/null
before=$(ticks "$pid")
sleep "$seconds"
after=$(ticks "$pid")
cli INFO commandstats > "$dir/idle.txt"
echo "idle on the overview, ${seconds}s (target: at most 2 ms/s of command time, no command over about 0.5 ms):"
commandstats_report "$dir/idle.txt" "$seconds"
longest
echo "  watch: $(memory "$pid") CPU $(cpu_share "$before" "$after" "$seconds")"
tmux -L "$session" capture-pane -p -t main | head -3
# With STREAMLAB_LOG=streamlab::monitor::keyspace=debug: the last polls.
if [ -n "${STREAMLAB_LOG:-}" ]; then grep "overview poll" "$dir/watch.log" | tail -5; fi
