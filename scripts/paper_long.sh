#!/bin/sh
# Runs the Boomerang paper's table arms (paper-retry-0/25/75, paper-redundant-25/75)
# on scenarios/boomerang-paper.toml at N transfers per sender, one process per seed
# (the arms of a seed share their Boomerang points), one thread, no attempts file,
# oracle off, into OUT/runs/p0000-s<seed>/: the layout scripts/paper_table.py reads
# (docs/boomerang.md, "The retry-success miss").
#
#   scripts/paper_long.sh OUT N [RECEIVERS [GRAPH]]   e.g. scripts/paper_long.sh results/paper-100 100
#   python3 scripts/paper_table.py OUT --by-point     (and --by-tenth)
#
# RECEIVERS: uniform (default, the paper's) or capacity. GRAPH: a graph directory,
# absolute or relative to scenarios/ (default: the scenario's own; its fee-free copy
# is graphs/boomerang-ws100-nofee). SEEDS (default "1 2 3"), FLOTILLA (default
# target/release/flotilla) and NICE (default 10) may be set in the environment. A
# seed whose summary.json exists is skipped, so a stopped run resumes where it was.
# About 1.7-1.9 ms of CPU per transfer and arm: 100 per sender is 1.5 CPU minutes and
# 600 MB a seed, 500 per sender 8-9.5 CPU minutes and 2.5 GB.
set -u
out=${1:?usage: paper_long.sh OUT N [RECEIVERS [GRAPH]]}
n=${2:?usage: paper_long.sh OUT N [RECEIVERS [GRAPH]]}
receivers=${3:-uniform}
here=$(cd "$(dirname "$0")/.." && pwd)
graph=${4:-$here/scenarios/graphs/boomerang-ws100}
flotilla=${FLOTILLA:-$here/target/release/flotilla}
seeds=${SEEDS:-1 2 3}
mkdir -p "$out/runs"
for s in $seeds; do
  dir=$out/runs/p0000-s$s
  [ -f "$dir/summary.json" ] && continue
  nice -n "${NICE:-10}" "$flotilla" sim "$here/scenarios/boomerang-paper.toml" \
    --set seed="$s" \
    --set workload.closed_loop.payments_per_sender="$n" \
    --set workload.closed_loop.receivers="$receivers" \
    --set graph.file="$graph" \
    --set oracle.enabled=false \
    --set sender.baseline=paper-retry-25 \
    --arms paper-retry-0,paper-retry-25,paper-retry-75,paper-redundant-25,paper-redundant-75 \
    --threads 1 --quiet --no-report --attempts off --out "$dir" --force || exit 1
done
