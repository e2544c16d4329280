#!/usr/bin/env bash
# Runs a long simulation and samples its memory once a second.
#
#   scripts/soak.sh [SCENARIO] [OUT_DIR] [extra `flotilla sim` flags…]
#
# Defaults: scenarios/soak.toml into results/soak. Writes OUT_DIR/rss.csv
# (`elapsed_s,rss_kb,hwm_kb,rows_bytes`: resident and peak resident set of the process,
# from /proc/PID/status, and the bytes of payment rows written so far, which divided by
# the final average row length counts the payments finished) next to the run's outputs, and prints wall time, peak RSS and
# the run's summary line. Linux only (it reads /proc). Build first:
# `cargo build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/soak.toml}
out=${2:-results/soak}
shift $(( $# > 2 ? 2 : $# ))
bin=target/release/flotilla
[ -x "$bin" ] || { echo "error: $bin not found: run cargo build --release first" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
rm -rf "$out"
csv="$out.rss.csv"
echo "elapsed_s,rss_kb,hwm_kb,rows_bytes" > "$csv"
start=$(date +%s.%N)
"$bin" sim "$scenario" --out "$out" --quiet --json "$@" > "$out.summary.json" &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
    if status=$(cat "/proc/$pid/status" 2>/dev/null); then
        rss=$(awk '/^VmRSS:/ {print $2}' <<< "$status")
        hwm=$(awk '/^VmHWM:/ {print $2}' <<< "$status")
        now=$(date +%s.%N)
        rows=$({ stat -c %s "$out"/.payments.csv.part* 2>/dev/null || true; } |
            awk '{ s += $1 } END { print s + 0 }')
        [ -n "$rss" ] && awk -v a="$now" -v b="$start" -v r="$rss" -v h="$hwm" -v n="$rows" \
            'BEGIN { printf "%.1f,%s,%s,%s\n", a - b, r, h, n }' >> "$csv"
    fi
    sleep 1
done
code=0
wait "$pid" || code=$?
mv "$csv" "$out/rss.csv"
mv "$out.summary.json" "$out/stdout.json"
end=$(date +%s.%N)
echo "exit code: $code"
echo "wall: $(awk -v a="$end" -v b="$start" 'BEGIN { printf "%.1f", a - b }') s"
echo "peak RSS: $(tail -1 "$out/rss.csv" | cut -d, -f3) kB"
echo "samples: $(($(wc -l < "$out/rss.csv") - 1)) in $out/rss.csv"
exit "$code"
