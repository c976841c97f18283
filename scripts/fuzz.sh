#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ one after the other, SECONDS_PER_TARGET each (default
# 600), one job, optimised with debug assertions (overflow checks) and AddressSanitizer. Works
# on a stable toolchain through RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only flags); set
# SANITIZER=none if the ASan runtime is missing.
# Crashes land in fuzz/artifacts/TARGET/; the corpus grows in fuzz/corpus/TARGET/ (both ignored).
#
# Usage: scripts/fuzz.sh [TARGET...]   (default: all four)
# Needs: cargo install cargo-fuzz --locked
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"

SECONDS_PER_TARGET="${SECONDS_PER_TARGET:-600}"
SANITIZER="${SANITIZER:-address}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode_detect catalog_csv mood_parse recommend_request)

export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer "$SANITIZER"
failed=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "== $target: ${SECONDS_PER_TARGET}s"
    if ! cargo fuzz run --sanitizer "$SANITIZER" "$target" "corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1; then
        failed+=("$target")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "all targets ran ${SECONDS_PER_TARGET}s without a crash"
