#!/usr/bin/env bash
# Runs the fuzz campaign: every target for SECONDS each (default 60), then prints per
# target the execs, execs/s, coverage (libFuzzer's cov/ft) and crashes found.
#
#   fuzz/run.sh SECONDS [TARGET...]      env: JOBS=N targets in parallel (default 1),
#                                        SANITIZER=none|address (default none: the targets
#                                        hunt panics and unbounded growth in safe Rust)
#
# Each target starts from its committed seeds (fuzz/seeds/<target>, made by the project's
# code) plus its working corpus (fuzz/corpus/<target>, not committed). Crash inputs land in
# fuzz/artifacts/<target>/; once fixed, copy them to fuzz/regressions/<target>/ so that
# `cargo test -p rtcpeer-tests --test fuzz_replay` replays them forever. Logs go to
# fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${1:-60}
shift || true
ALL="stun sdp dcep rtp rtcp srtp ice_agent dtls sctp datachannel jsep peer_connection pc_connected loss_recovery depacketize assembler turn turn_stream mdns bwe"
TARGETS=${*:-$ALL}
JOBS=${JOBS:-1}
SANITIZER=${SANITIZER:-none}
unset CARGO_TARGET_DIR # cargo-fuzz builds in fuzz/target

cargo +nightly fuzz build -s "$SANITIZER" >/dev/null 2>&1
mkdir -p logs

run_one() {
    local t=$1
    mkdir -p "corpus/$t" "seeds/$t" "artifacts/$t"
    cargo +nightly fuzz run -s "$SANITIZER" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -rss_limit_mb=2048 \
        -max_len=8192 -timeout=10 >"logs/$t.log" 2>&1 || true
}

running=0
for t in $TARGETS; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

printf '%-16s %12s %10s %8s %8s %8s\n' target execs execs/s cov ft crashes
for t in $TARGETS; do
    log="logs/$t.log"
    execs=$(grep 'stat::number_of_executed_units:' "$log" | awk '{print $2}' | tail -1)
    rate=$(grep 'stat::average_exec_per_sec:' "$log" | awk '{print $2}' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    crashes=$(find "artifacts/$t" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
    printf '%-16s %12s %10s %8s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
done
