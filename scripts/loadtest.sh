#!/usr/bin/env bash
# Load test of `moodreel serve`: the release server on 127.0.0.1 (a free port), driven by wrk
# with 640x480 JPEG face uploads to POST /api/v1/recommendations (the whole photo → films path).
#
# Per concurrency level it prints requests/s, p50/p90/p99 latency, 200s, 503s, other statuses and
# socket errors; then a soak of SOAK_REQUESTS uploads at concurrency 4 with the server's resident
# memory sampled every SOAK_SAMPLE seconds (default 30) through it; and the server's peak RSS
# (VmHWM) at the end. Then two hostile phases, each with the server's memory before and after:
# slowloris (connections sending a request head a byte a second, and idle ones, which the
# server must close after its 10 s head timeout while /api/v1/health keeps answering) and
# stalled uploads (15 MB uploads that stop before their last kilobyte: the ones beyond the
# 64 MiB body budget are answered 503 at once, the others 408 after 5 s without data), after a
# burst of decompression bombs sent at once.
#
# Usage: scripts/loadtest.sh
# Environment (defaults):
#   LEVELS="1 4 16 256"   concurrency levels (LEVELS= runs the soak alone)
#   DURATION=20           seconds per level
#   SOAK_REQUESTS=20000   uploads in the soak (0 skips it); bounded by SOAK_SECONDS=600
#   SOAK_SAMPLE=30        seconds between two samples of the server's memory during the soak
#   MOODREEL_BIN          a built binary to run (default: cargo build --release, then target/release)
#   FACE_PHOTO            photo with one face to build the upload from (default: the committed
#                         portrait testdata/astronaut.png)
#   SERVE_ARGS            extra arguments for `moodreel serve` (e.g. --no-tta)
#   SLOW_CONNECTIONS=200 IDLE_CONNECTIONS=400 SLOWLORIS_SECONDS=20   the slowloris phase
#                         (SLOWLORIS_SECONDS=0 skips it)
#   BOMBS=12              decompression bombs of each kind sent at once (0 skips them): PNGs
#                         of 6300x6300 16-bit RGBA (317 MB decoded) and 5000x5000 RGBA (100 MB)
#   STALLED_UPLOADS=60 STALLED_MB=15                                  the stalled-upload phase
#                         (STALLED_UPLOADS=0 skips it)
#   IDLE_SECONDS=5        idle time before the last memory reading
# Needs: wrk (Debian: apt-get install wrk; not needed with LEVELS= SOAK_REQUESTS=0), python3
# (Pillow is installed into target/pytools).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

LEVELS="${LEVELS-1 4 16 256}"
DURATION="${DURATION:-20}"
SOAK_REQUESTS="${SOAK_REQUESTS:-20000}"
SOAK_SECONDS="${SOAK_SECONDS:-600}"
FACE_PHOTO="${FACE_PHOTO:-$root/testdata/astronaut.png}"

SLOWLORIS_SECONDS="${SLOWLORIS_SECONDS:-20}"
STALLED_UPLOADS="${STALLED_UPLOADS:-60}"
if [ -n "$LEVELS" ] || [ "$SOAK_REQUESTS" -gt 0 ]; then
    command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }
fi
if [ ! -f "$FACE_PHOTO" ]; then
    echo "no face photo at $FACE_PHOTO: the upload must contain a face the detector finds." >&2
    echo "Set FACE_PHOTO to a photo with one frontal face (any size; it is scaled to 300 px)." >&2
    exit 2
fi

if [ -z "${MOODREEL_BIN:-}" ]; then
    cargo build --release --bin moodreel
    MOODREEL_BIN="$root/target/release/moodreel"
fi

# shellcheck source=scripts/pytools.sh
source "$root/scripts/pytools.sh"
# shellcheck source=scripts/serve.sh
source "$root/scripts/serve.sh"
photo="$work/face-640x480.jpg"
"$PYTOOLS/python" "$root/scripts/loadtest/make_photo.py" "$FACE_PHOTO" "$photo"
export LOADTEST_IMAGE="$photo"

# shellcheck disable=SC2086 # SERVE_ARGS is a list of words
start_server "$MOODREEL_BIN" ${SERVE_ARGS:-}

memory() { # RSS and peak RSS of the server, in MB
    awk '/^VmRSS/ {rss=$2} /^VmHWM/ {hwm=$2} END {printf "rss_mb=%.1f peak_rss_mb=%.1f", rss/1024, hwm/1024}' \
        "/proc/$server/status"
}

# One upload first: the photo must give films, not an error (e.g. no face found).
status="$(curl -s -o "$work/first.json" -w '%{http_code}' -F "image=@$photo;type=image/jpeg" \
    "$url/api/v1/recommendations")"
if [ "$status" != 200 ]; then
    echo "the first upload answered $status, not 200:" >&2
    cat "$work/first.json" >&2
    exit 1
fi

echo "server $url  binary $MOODREEL_BIN  ${SERVE_ARGS:-}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "upload: $(stat -c %s "$photo") bytes, 640x480 JPEG with one face"
echo "start: $(memory)"

run_wrk() { # concurrency, wrk duration, per-thread answer limit (empty: none)
    local connections=$1 threads=$(( $1 < 2 ? 1 : 2 )) done_dir="$work/done-$1-$RANDOM"
    mkdir -p "$done_dir"
    LOADTEST_PER_THREAD="${3:-}" LOADTEST_DONE_DIR="$done_dir" \
        wrk --threads "$threads" --connections "$connections" --duration "$2" --timeout 10s \
        --script "$root/scripts/loadtest/upload.lua" "$url" > "$done_dir/wrk.out" &
    local wrk_pid=$!
    if [ -n "${3:-}" ]; then
        # wrk waits out its --duration even when every thread has its count: interrupt it
        # then (on SIGINT it stops, joins its threads and prints its summary).
        while kill -0 "$wrk_pid" 2>/dev/null; do
            if [ "$(find "$done_dir" -name 'thread-*' | wc -l)" -ge "$threads" ]; then
                kill -INT "$wrk_pid" 2>/dev/null || true
                break
            fi
            sleep 1
        done
    fi
    wait "$wrk_pid" || true
    grep '^RESULT' "$done_dir/wrk.out" | sed 's/^RESULT //'
}

for level in $LEVELS; do
    result="$(run_wrk "$level" "${DURATION}s")"
    echo "c=$level $result $(memory)"
done

if [ "$SOAK_REQUESTS" -gt 0 ]; then
    before="$(memory)"
    # Resident memory through the soak, one sample every SOAK_SAMPLE seconds.
    (
        while sleep "${SOAK_SAMPLE:-30}"; do
            awk '/^VmRSS/ {printf "%.1f\n", $2/1024}' "/proc/$server/status" || exit 0
        done
    ) > "$work/soak-rss.txt" &
    sampler=$!
    result="$(run_wrk 4 "${SOAK_SECONDS}s" $(( SOAK_REQUESTS / 2 )))"
    kill "$sampler" 2>/dev/null || true
    echo "soak c=4 $result"
    echo "soak memory before: $before  after: $(memory)"
    echo "soak rss_mb every ${SOAK_SAMPLE:-30} s: $(tr '\n' ' ' < "$work/soak-rss.txt")"
fi

if [ "$SLOWLORIS_SECONDS" -gt 0 ]; then
    before="$(memory)"
    "$PYTOOLS/python" "$root/scripts/loadtest/hostile.py" slowloris "$url" \
        "${SLOW_CONNECTIONS:-200}" "${IDLE_CONNECTIONS:-400}" "$SLOWLORIS_SECONDS"
    echo "slowloris memory before: $before  after: $(memory)"
fi

if [ "${BOMBS:-12}" -gt 0 ]; then
    before="$(memory)"
    "$PYTOOLS/python" "$root/scripts/loadtest/hostile.py" bombs "$url" "${BOMBS:-12}"
    echo "bomb memory before: $before  after: $(memory)"
fi

if [ "$STALLED_UPLOADS" -gt 0 ]; then
    before="$(memory)"
    "$PYTOOLS/python" "$root/scripts/loadtest/hostile.py" stalled "$url" \
        "$STALLED_UPLOADS" "${STALLED_MB:-15}"
    echo "stalled-upload memory before: $before  after: $(memory)"
fi

sleep "${IDLE_SECONDS:-5}"
echo "end, after ${IDLE_SECONDS:-5} s idle: $(memory)"
curl -sf "$url/api/v1/health" >/dev/null && echo "server still answers /api/v1/health"
