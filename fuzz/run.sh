#!/usr/bin/env bash
# Runs the fuzz campaign: every target for SECONDS each (default 60), or for RUNS inputs
# each, then prints per target the execs, execs/s, coverage (libFuzzer's cov/ft) and
# crashes found.
#
#   fuzz/run.sh SECONDS [TARGET...]      env: JOBS=N targets in parallel (default 1),
#                                        SANITIZER=none|address (default none: the targets
#                                        hunt panics and unbounded growth in safe Rust),
#                                        RUNS=N stop each target after N inputs (libFuzzer
#                                        -runs; SECONDS 0 = no time limit, else whichever
#                                        comes first), TIMEOUT=S seconds of wall time one
#                                        input may take (default 60: libFuzzer counts wall
#                                        time, and a fuzzer niced behind builds was starved
#                                        past 10 s on inputs that run in 1-83 ms)
#
#   RUNS=10000000 JOBS=2 fuzz/run.sh 0                       10 M inputs per target
#   RUNS=2000000 fuzz/run.sh 0 peer_connection pc_connected  2 M for the pair targets
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
RUNS=${RUNS:-}
TIMEOUT=${TIMEOUT:-60}
unset CARGO_TARGET_DIR # cargo-fuzz builds in fuzz/target
# glibc malloc: keep freed memory instead of trimming it back to the kernel and refaulting
# it on the next input (targets that clone a connected pair or fill a 2 MB send history
# per input spent 10-15 % of their CPU in brk and page faults; see the commit that added
# this). Does not change what the targets run.
export MALLOC_TOP_PAD_=${MALLOC_TOP_PAD_:-67108864}
export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-268435456}
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-33554432}

cargo +nightly fuzz build -s "$SANITIZER" >/dev/null 2>&1
mkdir -p logs

run_one() {
    local t=$1
    mkdir -p "corpus/$t" "seeds/$t" "artifacts/$t"
    local began
    began=$(date +%s)
    cargo +nightly fuzz run -s "$SANITIZER" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" ${RUNS:+-runs="$RUNS"} -print_final_stats=1 \
        -rss_limit_mb=2048 -max_len=8192 -timeout="$TIMEOUT" >"logs/$t.log" 2>&1 || true
    echo $(($(date +%s) - began)) >"logs/$t.seconds"
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

printf '%-16s %12s %10s %8s %8s %8s %8s\n' target execs execs/s seconds cov ft crashes
for t in $TARGETS; do
    log="logs/$t.log"
    execs=$(grep 'stat::number_of_executed_units:' "$log" | awk '{print $2}' | tail -1)
    rate=$(grep 'stat::average_exec_per_sec:' "$log" | awk '{print $2}' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    seconds=$(cat "logs/$t.seconds" 2>/dev/null || true)
    crashes=$(find "artifacts/$t" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
    printf '%-16s %12s %10s %8s %8s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${seconds:-?}" \
        "${cov:-?}" "${ft:-?}" "$crashes"
done
