#!/usr/bin/env bash
# What `streamlab exporter` costs Redis (issue 17, point 1): 10,000 streams
# among 30,000 keys, scraped every 15 s.
#
#   scripts/exporter-cost.sh [STREAMS] [OTHER_KEYS] [SECONDS] [SCRAPE_EVERY]
#
# Against a private redis-server started here, it builds the keyspace as
# scripts/overview-cost.sh does (every 10th stream has a group whose
# consumer holds 2 entries; the other keys are strings and hashes), runs
# the exporter as a read-only ACL user, waits until /metrics lists every
# stream (the warm-up, measured too), then resets INFO commandstats,
# scrapes /metrics with curl every SCRAPE_EVERY seconds for SECONDS, and
# reports the Redis command time per second, the commands per second, and
# what a scrape returned (series, bytes, time). RELEASE=1 measures a
# release build (the Redis figures do not depend on it).
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-10000}
others=${2:-20000}
seconds=${3:-120}
every=${4:-15}
command -v curl >/dev/null || { echo "error: curl is not installed (apt-get install curl)"; exit 2; }

. scripts/private-redis.sh
build_streamlab "$([ "${RELEASE:-0}" = 1 ] && echo release || echo debug)"
extra_cleanup() { [ -n "${exporter:-}" ] && kill "$exporter" 2>/dev/null || true; }
start_private_redis

build_keyspace "$streams" "$others"
cli ACL SETUSER scraper reset on '>scr4pe' '~*' '&*' +@read +@connection +info -@write >/dev/null


cli CONFIG RESETSTAT >/dev/null
start=$(date +%s.%N)
"$bin" --url "redis://scraper:scr4pe@127.0.0.1:$port" exporter --listen 127.0.0.1:0 2> "$dir/exporter.err" &
exporter=$!
addr=
for _ in $(seq 100); do
    addr=$(sed -n 's|.*serving metrics on http://\([^/]*\)/metrics.*|\1|p' "$dir/exporter.err")
    [ -n "$addr" ] && break
    sleep 0.1
done
[ -n "$addr" ] || { echo "error: the exporter did not start: $(cat "$dir/exporter.err")"; exit 1; }
# Warm: every stream has its series (read once) and the scan is complete.
for _ in $(seq 1200); do
    curl -s "http://$addr/metrics" > "$dir/metrics.txt" || true
    n=$(grep -c '^streamlab_stream_length{' "$dir/metrics.txt" || true)
    if [ "$n" -ge "$streams" ] && grep -q '^streamlab_scan_complete 1' "$dir/metrics.txt"; then
        break
    fi
    sleep 0.5
done
warm=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
cli INFO commandstats > "$dir/warmup.txt"
echo "warm-up (keyspace walked, every stream read once, scraped every 0.5 s): ${warm}s"
commandstats_report "$dir/warmup.txt" "$warm"

cli CONFIG RESETSTAT >/dev/null
end=$(( $(date +%s) + seconds ))
scrapes=0
while [ "$(date +%s)" -lt "$end" ]; do
    t=$(curl -s -o "$dir/metrics.txt" -w '%{time_total} %{size_download}' "http://$addr/metrics")
    scrapes=$((scrapes + 1))
    sleep "$every"
done
cli INFO commandstats > "$dir/steady.txt"
echo "steady, ${seconds}s scraped every ${every}s ($scrapes scrapes; target: at most 2 ms/s):"
commandstats_report "$dir/steady.txt" "$seconds"
series=$(grep -vc '^#' "$dir/metrics.txt")
echo "  a scrape: $series series, $(echo "$t" | awk '{printf "%d bytes in %.0f ms", $2, $1 * 1000}')"
ps -o rss=,pcpu= -p "$exporter" | awk '{printf "  exporter: %.0f MB RSS, %s%% CPU (average since start)\n", $1 / 1024, $2}'
