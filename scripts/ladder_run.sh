#!/bin/sh
# Runs the realism ladder (scenarios/ladder/*.toml, docs/boomerang.md): every rung over
# seeds 1-5, one run at a time on one thread, into OUT/<rung>/s<seed>/. Rungs 5-8 run
# flotilla's retry twice: with their file's budget (sender.max_attempts = 100, the
# paper's r = 75) and, into OUT/<rung>+retry25/, with 50 paths (r = 25).
#
#   scripts/ladder_run.sh OUT [RUNG...]        e.g. scripts/ladder_run.sh results/ladder
#   python3 scripts/ladder_table.py OUT --markdown
#
# SEEDS (default "1 2 3 4 5") and FLOTILLA (default target/release/flotilla) may be
# set in the environment. A run whose summary.json exists is skipped, so a stopped
# ladder resumes where it was.
set -u
out=${1:?usage: ladder_run.sh OUT [RUNG...]}
shift
here=$(cd "$(dirname "$0")/.." && pwd)
flotilla=${FLOTILLA:-$here/target/release/flotilla}
seeds=${SEEDS:-1 2 3 4 5}
if [ $# -eq 0 ]; then
  set -- 0-paper 1-open-loop 2-symmetric 3-refused 3b-cancel-path 4-learning \
    5-flotilla-arms 6-bolt-limits 7-mainnet 8-full-commitment 8b-full-cancel-path
fi
run() { # dir scenario seed [--set ...]
  dir=$1 scenario=$2 seed=$3
  shift 3
  [ -f "$dir/summary.json" ] && return 0
  mkdir -p "$(dirname "$dir")"
  "$flotilla" sim "$scenario" --seed "$seed" --threads 1 --attempts off --no-report \
    --out "$dir" --force "$@" 2>"$dir.log" || echo "error: $dir failed (see $dir.log)" >&2
}
for rung in "$@"; do
  scenario=$here/scenarios/ladder/$rung.toml
  for seed in $seeds; do
    run "$out/$rung/s$seed" "$scenario" "$seed"
    case $rung in
      5-* | 6-* | 7-* | 8-* | 8b-*)
        run "$out/$rung+retry25/s$seed" "$scenario" "$seed" \
          --set sender.max_attempts=50 \
          --set 'sender.arms=["redundant-boomerang-0-retry"]' \
          --set sender.baseline=redundant-boomerang-0-retry
        ;;
    esac
    echo "$(date -u +%H:%M:%S) $rung seed $seed done"
  done
done
