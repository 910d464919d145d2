# Sourced by the measuring scripts: build streamlab, and start one private
# redis-server (no persistence) on a free port, stopped and its directory
# removed when the script exits.
#
#   build_streamlab debug|release   sets $bin
#   start_private_redis             sets $dir, $port, $server and cli()
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
