#!/usr/bin/env bash
# Fuzzes every target (or the TARGETs named) for SECONDS each (default 600), JOBS at a
# time (default 1: the machine is usually shared), at the lowest CPU priority. Logs go
# to fuzz/logs/<target>.log; a crash is saved under fuzz/artifacts/<target>/. Needs
# cargo-fuzz and a nightly toolchain, or a stable one run with RUSTC_BOOTSTRAP=1 (used
# when rustup has no nightly, or when RUSTC_BOOTSTRAP=1 is set); see fuzz/README.md.
#
#   fuzz/run_all.sh [SECONDS] [JOBS] [TARGET…]
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
jobs=${2:-1}
# libFuzzer's per-input timeout is wall time. At the lowest priority on a busy machine
# a target can wait many seconds for a core, so 10 s (a safe limit on an idle one)
# reports inputs that take under a second of CPU; FUZZ_TIMEOUT overrides.
timeout=${FUZZ_TIMEOUT:-60}
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
if [ "${RUSTC_BOOTSTRAP:-}" != 1 ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    # The stable compiler accepts the nightly flags cargo-fuzz passes (sanitizers,
    # -Z options) when told it is bootstrapping itself. Chosen when there is no
    # nightly, or when RUSTC_BOOTSTRAP=1 is set (the two compilers build apart: a
    # switch rebuilds everything).
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <("${fuzz[@]}" list)
fi
mkdir -p logs
"${fuzz[@]}" build -O --debug-assertions >logs/build.log 2>&1 || {
    echo "error: ${fuzz[*]} build failed (see fuzz/logs/build.log)" >&2
    exit 1
}
run_one() {
    local t=$1
    mkdir -p "corpus/$t"
    nice -n 19 "${fuzz[@]}" run -O --debug-assertions "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout="$timeout" -print_final_stats=1 \
        >"logs/$t.log" 2>&1
    local rc=$?
    local execs
    execs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$')
    echo "$(date -u +%H:%M:%S) $t: exit $rc (${execs:-?} executions)"
}
running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
