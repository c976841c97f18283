#!/usr/bin/env bash
# Starts `moodreel serve` on 127.0.0.1 (a free port) for the scripts that drive it.
# Usage: source scripts/serve.sh; start_server BINARY [serve options...]
# Sets $work (a temporary folder, removed on exit), $server (the pid) and $url
# (http://127.0.0.1:PORT); the server's output is in $work/serve.out and $work/serve.err.
# Stops the server and removes $work when the calling script exits.

work="$(mktemp -d)"
server=""
url=""

cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

start_server() {
    local binary="$1"
    shift
    "$binary" serve --host 127.0.0.1 --port 0 "$@" >"$work/serve.out" 2>"$work/serve.err" &
    server=$!
    for _ in $(seq 1 200); do
        url="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.out" 2>/dev/null || true)"
        [ -n "$url" ] && return 0
        kill -0 "$server" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
        sleep 0.1
    done
    echo "the server did not start" >&2
    exit 1
}
