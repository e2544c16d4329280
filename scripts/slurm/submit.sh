#!/usr/bin/env bash
# Submits a flotilla sweep to Slurm: an N-task array (one shard each), then the merge
# as a job that starts when every task has succeeded. Prints both job ids.
#
#   scripts/slurm/submit.sh SWEEP.toml OUT N [flotilla sweep flags…]
#
# Extra sbatch options go in SBATCH_EXTRA (e.g. "--partition=long --time=2:00:00"),
# the binary in FLOTILLA (exported to the jobs). The merged sweep lands in OUT/merged.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 SWEEP.toml OUT N [flotilla sweep flags...]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
sweep=$1
out=$2
n=$3
shift 3
mkdir -p "$out"
# shellcheck disable=SC2086
array=$(sbatch --parsable --export=ALL ${SBATCH_EXTRA:-} --array="1-$n" \
  --output="$out/slurm-%A_%a.out" "$here/sweep.sbatch" "$sweep" "$out" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable --export=ALL ${SBATCH_EXTRA:-} --dependency="afterok:$array" \
  --output="$out/slurm-merge-%j.out" "$here/merge.sbatch" "$out")
merge=${merge%%;*}
echo "array job $array ($n shards), merge job $merge; merged sweep: $out/merged"
