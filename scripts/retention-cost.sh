#!/usr/bin/env bash
# What `trim --safe --dry-run` costs Redis on a long stream: commands,
# entries read to count, and server time (INFO commandstats after CONFIG
# RESETSTAT), in the three cases the planner distinguishes.
#
#   scripts/retention-cost.sh [ENTRIES]
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${1:-1000000}
half=$((entries / 2))

. scripts/private-redis.sh
build_streamlab debug
start_private_redis

measure() {
    echo "== $1"
    cli CONFIG RESETSTAT >/dev/null
    "$bin" --url "redis://127.0.0.1:$port" --stream s trim --safe --dry-run | grep XTRIM
    cli INFO commandstats | tr -d '\r' | awk -F'[:,=]' '/^cmdstat_x/ {sub("cmdstat_", "", $1); n += $3; us += $5; printf "  %s: %s calls, %s us\n", $1, $3, $5} END {printf "  total: %d commands, %d us of server time\n", n, us}'
}

echo "filling: $entries entries..." >&2
cli EVAL "for i=1,tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'kind', 'task', 'payload', 'xxxxxxxxxxxxxxxx', 'seq', i) end" 1 s "$entries" >/dev/null
cli XGROUP CREATE s slow 0 >/dev/null
cli XREADGROUP GROUP slow c NOACK COUNT "$half" STREAMS s '>' >/dev/null
measure "the slowest group has nothing pending (its lag gives the count)"

cli XGROUP CREATE s stuck 0 >/dev/null
cli XREADGROUP GROUP stuck c NOACK COUNT $((half * 4 / 5)) STREAMS s '>' >/dev/null
cli XREADGROUP GROUP stuck c COUNT 10 STREAMS s '>' >/dev/null
cli XREADGROUP GROUP stuck c NOACK COUNT 1000 STREAMS s '>' >/dev/null
measure "a group stuck on an entry $((half * 4 / 5)) in, 1,010-entry window"

last=$(cli XREVRANGE s + - COUNT 1 | head -1)
cli XDEL s "$last" >/dev/null
measure "no lag known (an entry deleted past every group)"
