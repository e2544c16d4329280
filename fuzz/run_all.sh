#!/usr/bin/env bash
# Fuzzes every target for SECONDS each (default 600), JOBS at a time (default 2), at
# the lowest CPU priority. Logs go to fuzz/logs/<target>.log; a crash is saved under
# fuzz/artifacts/<target>/. Needs nightly and cargo-fuzz (see fuzz/README.md).
#
#   fuzz/run_all.sh [SECONDS] [JOBS] [TARGET…]
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
jobs=${2:-2}
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
mkdir -p logs
cargo +nightly fuzz build -O --debug-assertions >/dev/null 2>&1 || {
    echo "error: cargo +nightly fuzz build failed" >&2
    exit 1
}
run_one() {
    local t=$1
    mkdir -p "corpus/$t"
    nice -n 19 cargo +nightly fuzz run -O --debug-assertions "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        > "logs/$t.log" 2>&1
    echo "$t: exit $? ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$') execs)"
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
