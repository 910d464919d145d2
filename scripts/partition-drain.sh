#!/usr/bin/env bash
# Side-by-side drain: one `streamlab worker` on a plain stream against one
# worker on the same number of entries spread over N partitions, on one
# private redis-server started here, alternating rounds. The worker on a
# partitioned stream runs one blocking reader per partition; this measures
# what that costs (or gains) against one reader, per entry, and how many
# commands Redis ran per entry.
#
#   scripts/partition-drain.sh [--entries 200000] [--partitions 3] [--rounds 3] [--debug]
#
# Prints each round and the median rates; --debug uses the dev build.
set -euo pipefail
cd "$(dirname "$0")/.."

entries=200000 partitions=3 rounds=3 profile=release
while [ $# -gt 0 ]; do
    case "$1" in
        --entries) entries=$2; shift 2 ;;
        --partitions) partitions=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --debug) profile=debug; shift ;;
        *) echo "error: unknown option $1 (use --entries N, --partitions N, --rounds N, --debug)"; exit 2 ;;
    esac
done
. scripts/private-redis.sh

build_streamlab "$profile"
start_private_redis

python3 - "$bin" "$port" "$entries" "$partitions" "$rounds" <<'PY'
import json, signal, statistics, subprocess, sys, time

bin, port, entries, partitions, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
url = f"redis://127.0.0.1:{port}"

def cli(*args):
    return subprocess.run(["redis-cli", "-p", port, *args], check=True, capture_output=True, text=True).stdout

def commands():
    stats = {}
    for line in cli("info", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[len("cmdstat_"):].split(":", 1)
            kv = dict(p.split("=") for p in rest.split(","))
            stats[name] = (int(kv["calls"]), int(kv["usec"]))
    return stats

def drained(stream):
    v = json.loads(subprocess.run([bin, "--url", url, "--stream", stream, "monitor", "--json", "--once"],
                                  check=True, capture_output=True, text=True).stdout)
    g = v["groups"][0] if v["groups"] else None
    return g is not None and g["lag"] == 0 and g["pending"] == 0

def run(stream, n):
    flags = ["--partitions", str(n)] if n > 1 else []
    subprocess.run([bin, "--url", url, "--stream", stream, "produce", "--count", str(entries), "--group", "g", *flags],
                   check=True, capture_output=True)
    before = commands()
    started = time.monotonic()
    worker = subprocess.Popen([bin, "--url", url, "--stream", stream, "--group", "g", "worker", "--name", "w",
                               "--events", "none", "--block", "100ms"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not drained(stream):
        time.sleep(0.02)
    secs = time.monotonic() - started
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    after = commands()
    calls = sum(c for name, (c, _) in after.items()) - sum(c for name, (c, _) in before.items())
    usec = sum(u for name, (_, u) in after.items() if name.startswith("x")) - \
        sum(u for name, (_, u) in before.items() if name.startswith("x"))
    return entries / secs, calls / entries, usec / entries

results = {1: [], partitions: []}
for r in range(rounds):
    for n in (1, partitions):
        rate, cpe, upe = run(f"drain{r}n{n}", n)
        results[n].append((rate, cpe, upe))
        print(f"round {r + 1}: {n} partition(s): {rate:9.0f} entries/s  {cpe:.3f} commands/entry  {upe:.3f} us of X* command time/entry (incl. monitor polls)")
one = statistics.median(x[0] for x in results[1])
many = statistics.median(x[0] for x in results[partitions])
print(f"median drain: 1 stream {one:.0f}/s, {partitions} partitions {many:.0f}/s, ratio {many / one:.2f}")
PY
