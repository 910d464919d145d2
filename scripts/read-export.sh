#!/usr/bin/env bash
# `streamlab read --json` of a big stream against a redis-py + hiredis loop
# (XRANGE COUNT 1000) writing the same JSON lines, side by side (issue 14,
# point 5); and what the entries view costs Redis on that stream.
#
#   scripts/read-export.sh [ENTRIES] [ROUNDS]
#
# Against a private redis-server started here, filled with ENTRIES
# (default 1,000,000) entries of 4 fields by `streamlab produce`:
#  - the two exporters run in turn, ROUNDS times (default 3), each under
#    /usr/bin/time -v: wall time and peak RSS, medians, and their ratio;
#    their outputs are compared byte for byte once;
#  - Redis's own XRANGE time for those entries (INFO commandstats over one
#    streamlab run): the limit no client can beat;
#  - the entries view's cost on the same stream with a 100,000-entry PEL:
#    a page (XREVRANGE COUNT 40 + XPENDING of its range, COUNT 40) and a
#    search step (10 XREVRANGE COUNT 1000), server time per call.
# redis-py and hiredis are installed into a venv under /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${1:-1000000}
rounds=${2:-3}

[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is missing (apt-get install time)"; exit 2; }
. scripts/private-redis.sh
build_streamlab release
start_private_redis
url="redis://127.0.0.1:$port"

venv=/tmp/streamlab-read-export-venv
if [ ! -x "$venv/bin/python" ]; then
    echo "installing redis-py and hiredis into $venv..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet redis hiredis
fi
"$venv/bin/python" -c 'import redis, hiredis' || { echo "error: redis-py or hiredis missing in $venv"; exit 1; }

# The comparison: XRANGE COUNT 1000 from the start, each page continued
# after its last id, each entry written as `read --json` writes it.
cat > "$dir/export.py" <<'PY'
import base64, json, sys
import redis

port, key = int(sys.argv[1]), sys.argv[2]
r = redis.Redis(port=port, protocol=2)
# Pairs as Redis sends them (the default callback folds them into a dict,
# which loses duplicate field names).
r.set_response_callback("XRANGE", lambda response, **options: response)
out = sys.stdout
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

def value(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(b).decode("ascii")}

start = "-"
while True:
    page = r.execute_command("XRANGE", key, start, "+", "COUNT", 1000)
    for id_, body in page:
        sid = id_.decode()
        fields = [[value(body[i]), value(body[i + 1])] for i in range(0, len(body), 2)]
        out.write(dumps({"stream": key, "id": sid, "ms": int(sid.split("-")[0]), "fields": fields}))
        out.write("\n")
    if len(page) < 1000:
        break
    start = "(" + page[-1][0].decode()
PY

echo "filling $entries entries (4 fields each)..." >&2
"$bin" --url "$url" --stream big produce --count "$entries" >/dev/null
echo "stream length $(cli XLEN big)" >&2

# Same bytes out of both.
"$bin" --url "$url" --stream big read --json > "$dir/a.jsonl"
"$venv/bin/python" "$dir/export.py" "$port" big > "$dir/b.jsonl"
if cmp -s "$dir/a.jsonl" "$dir/b.jsonl"; then
    echo "outputs identical: $(wc -l < "$dir/a.jsonl") lines, $(du -m "$dir/a.jsonl" | cut -f1) MB" >&2
else
    echo "error: the two exporters wrote different lines"; diff <(head -3 "$dir/a.jsonl") <(head -3 "$dir/b.jsonl") || true; exit 1
fi

measure() { # name command... -> appends "name seconds rss_kb" to $dir/runs
    local name=$1; shift
    /usr/bin/time -v "$@" > /dev/null 2> "$dir/time.txt"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
    echo "$name $wall $rss" >> "$dir/runs"
}

: > "$dir/runs"
for round in $(seq "$rounds"); do
    echo "round $round/$rounds" >&2
    cli CONFIG RESETSTAT >/dev/null
    measure streamlab "$bin" --url "$url" --stream big read --json
    cli INFO commandstats | awk -F'[:,=]' '/cmdstat_xrange:/ {print "redis", $5/1e6, 0}' >> "$dir/runs"
    measure redis-py "$venv/bin/python" "$dir/export.py" "$port" big
done

# The entries view's commands on this stream, with a 100,000-entry PEL.
cli XGROUP CREATE big g 0 >/dev/null
cli XREADGROUP GROUP g c1 COUNT 100000 STREAMS big '>' >/dev/null
cat > "$dir/view.py" <<'PY'
import sys
import redis

port, key = int(sys.argv[1]), sys.argv[2]
r = redis.Redis(port=port, protocol=2)
for cb in ("XRANGE", "XREVRANGE", "XPENDING"):
    r.set_response_callback(cb, lambda response, **options: response)

def stats():
    info = r.info("commandstats")
    return {k[8:]: (int(v["calls"]), int(v["usec"])) for k, v in info.items() if k.startswith("cmdstat_")}

def usec(name, before, after):
    c0, u0 = before.get(name, (0, 0)); c1, u1 = after.get(name, (0, 0))
    return c1 - c0, u1 - u0

# Pages at the newest end, in the middle and in the PEL: XREVRANGE COUNT 40,
# then XPENDING over the page's range with COUNT 40, 100 pages each.
length = r.xlen(key)
ids = r.execute_command("XRANGE", key, "-", "+", "COUNT", 1)
first = int(ids[0][0].split(b"-")[0])
last = int(r.execute_command("XREVRANGE", key, "+", "-", "COUNT", 1)[0][0].split(b"-")[0])
for label, end in [("newest", "+"), ("middle", str((first + last) // 2)), ("in the PEL", str(first + (last - first) // 20))]:
    before = stats()
    for _ in range(100):
        page = r.execute_command("XREVRANGE", key, end, "-", "COUNT", 40)
        r.execute_command("XPENDING", key, "g", page[-1][0], page[0][0], 40)
    after = stats()
    x, xu = usec("xrevrange", before, after); p, pu = usec("xpending", before, after)
    print(f"page at {label:10}: XREVRANGE COUNT 40 {xu / x:6.1f} us, XPENDING range COUNT 40 {pu / p:6.1f} us, page {(xu + pu) / x:6.1f} us")
# Search steps: 10 XREVRANGE COUNT 1000 walking back, 20 steps from the newest.
before = stats()
end = "+"
for _ in range(200):
    page = r.execute_command("XREVRANGE", key, end, "-", "COUNT", 1000)
    end = "(" + page[-1][0].decode()
after = stats()
x, xu = usec("xrevrange", before, after)
print(f"search step (10,000 entries = 10 XREVRANGE COUNT 1000): {xu / x:.0f} us per command, {10 * xu / x / 1000:.2f} ms per step")
PY

python3 - "$dir/runs" "$entries" <<'PY'
import statistics, sys
runs, entries = {}, int(sys.argv[2])
def secs(t):
    parts = [float(p) for p in t.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
for line in open(sys.argv[1]):
    name, wall, rss = line.split()
    runs.setdefault(name, []).append((secs(wall) if name != "redis" else float(wall), int(rss)))
med = {k: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v)) for k, v in runs.items()}
s, p, redis = med["streamlab"], med["redis-py"], med["redis"]
print(f"{entries} entries, medians of {len(runs['streamlab'])} alternating runs:")
print(f"  streamlab read --json  {s[0]:6.2f} s  peak RSS {s[1] / 1024:6.1f} MB  ({entries / s[0] / 1e3:.0f}k entries/s)")
print(f"  redis-py + hiredis     {p[0]:6.2f} s  peak RSS {p[1] / 1024:6.1f} MB  ({entries / p[0] / 1e3:.0f}k entries/s)")
print(f"  ratio streamlab / redis-py: {s[0] / p[0]:.3f} (target <= 0.25)")
print(f"  Redis's own XRANGE time for the same entries: {redis[0]:.2f} s ({redis[0] / s[0]:.0%} of streamlab's wall time)")
PY
"$venv/bin/python" "$dir/view.py" "$port" big
