#!/usr/bin/env bash
# Throughput sweep of scenarios/boomerang.toml: the same transfers at rising load, retry
# (redundant-boomerang-0-retry) against redundancy (r = 25 and r = 75 of v = 25 parts).
# Prints, per load and arm, the success rate, mean time to complete and throughput
# (settled sat per second of arrivals); the peak over loads is what the Boomerang
# paper compares.
#
# Usage: scenarios/boomerang-sweep.sh [PAYMENTS] [RATES...]
#   e.g. scenarios/boomerang-sweep.sh 1000 20 80 320 1280
# FLOTILLA=path/to/flotilla uses that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
payments=${1:-1000}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(20 80 320 1280)
arms="redundant-boomerang-0-retry,redundant-boomerang-1-retry,redundant-boomerang-3-retry,mpp-retry"
bin=${FLOTILLA:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p flotilla-cli
  bin=./target/release/flotilla
fi
out=$(mktemp -d)
for r in "${rates[@]}"; do
  "$bin" sim scenarios/boomerang.toml --payments "$payments" --rate "$r" \
    --arms "$arms" --out "$out/rate-$r" --quiet
done
python3 - "$out" "${rates[@]}" <<'PY'
import json, sys
out, rates = sys.argv[1], sys.argv[2:]
print(f"{'rate/s':>7} {'arm':<30} {'success':>8} {'TTC mean ms':>12} {'sat/s':>10}")
peak = {}
for r in rates:
    s = json.load(open(f"{out}/rate-{r}/summary.json"))
    for a in s["arms"]:
        print(f"{r:>7} {a['name']:<30} {a['success_rate']*100:7.1f}% {a['ttc_ms_mean']:12.0f} {a['throughput_sat_per_sec']:10.0f}")
        peak[a["name"]] = max(peak.get(a["name"], 0), a["throughput_sat_per_sec"])
print()
for name, p in peak.items():
    print(f"peak {name:<30} {p:10.0f} sat/s")
PY
