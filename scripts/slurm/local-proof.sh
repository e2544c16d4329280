#!/usr/bin/env bash
# Proves the Slurm path on this machine: a one-node Slurm cluster (Debian's slurm-wlm
# and munge, installed when missing), a 3-task array sweep with the dependent merge job
# (scripts/slurm/submit.sh), then the same sweep run whole here, and a byte comparison
# of the two: sweep.json, sweep.csv, aggregates.csv, report.html, plots/ and every run's
# payments.csv, attempts.jsonl, scenario.toml and summary.json (wall-clock fields aside;
# run.json records the command as typed, so it differs by design).
#
#   scripts/slurm/local-proof.sh [SWEEP.toml [flotilla sweep flags…]]
#
# Default: scenarios/boomerang.sweep.toml with --set workload.payments=30. Needs root
# (it starts munged, slurmctld and slurmd, with all their state in a temporary
# directory, and stops them on exit; the directory is removed after a success unless
# KEEP=1). FLOTILLA=path/to/flotilla skips the build. The daemons listen on
# 127.0.0.1 only, on ports chosen at run time.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
if [ "$(id -u)" != 0 ]; then
  echo "run as root: it starts munged, slurmctld and slurmd" >&2
  exit 2
fi
sweep=${1:-scenarios/boomerang.sweep.toml}
shift || true
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--set workload.payments=30)

if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge > /dev/null
fi
bin=${FLOTILLA:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p flotilla-cli
  bin=$root/target/release/flotilla
fi
export FLOTILLA=$bin

started=$(date +%s)
scratch=$(mktemp -d /tmp/flotilla-slurm.XXXXXX)
chmod 755 "$scratch"
mkdir -p "$scratch"/{munge,state,spool,out}
chown munge: "$scratch/munge"
chmod 755 "$scratch/munge"

stop() {
  local pids=()
  for pid in "$scratch"/slurmd.pid "$scratch"/slurmctld.pid "$scratch"/munge/munged.pid; do
    if [ -s "$pid" ]; then
      pids+=("$(cat "$pid")")
      kill "${pids[-1]}" 2> /dev/null || true
    fi
  done
  # slurmctld saves its state into the scratch directory as it shuts down: wait (up to
  # 15 s) until every daemon has exited, so nothing writes there while it is removed.
  for _ in $(seq 150); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2> /dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
}
# Stop the daemons before the scratch directory (and their pid files) goes.
cleanup() {
  stop
  if [ -z "${KEEP:-}" ]; then
    rm -rf "$scratch" 2> /dev/null || { sleep 1; rm -rf "$scratch"; } || echo "warning: $scratch not fully removed"
  else
    echo "state and results kept in $scratch"
  fi
}
trap cleanup EXIT

# munge: a fresh key, the daemon as user munge, its socket in the scratch directory.
dd if=/dev/urandom of="$scratch/munge/munge.key" bs=1024 count=1 status=none
chown munge: "$scratch/munge/munge.key"
chmod 400 "$scratch/munge/munge.key"
socket=$scratch/munge/munge.socket
runuser -u munge -- munged --key-file="$scratch/munge/munge.key" --socket="$socket" \
  --pid-file="$scratch/munge/munged.pid" --log-file="$scratch/munge/munged.log" \
  --seed-file="$scratch/munge/munged.seed"

host=$(hostname -s)
cpus=$(nproc)
# Two free loopback ports chosen now, so a daemon left over from another run (or any
# other service) cannot collide with this one.
read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
')
export SLURM_CONF=$scratch/slurm.conf
cat > "$SLURM_CONF" << CONF
ClusterName=flotilla-proof
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
# Bind to the addresses below (127.0.0.1), not to every interface.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=$scratch/state
SlurmdSpoolDir=$scratch/spool
SlurmctldPidFile=$scratch/slurmctld.pid
SlurmdPidFile=$scratch/slurmd.pid
SlurmctldLogFile=$scratch/slurmctld.log
SlurmdLogFile=$scratch/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=proof Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  if sinfo -h -o %T 2> /dev/null | grep -q idle; then break; fi
  sleep 1
done
sinfo

out=$scratch/out/slurm
echo "== submitting a 3-task array and its merge"
t0=$(date +%s)
line=$(scripts/slurm/submit.sh "$sweep" "$out" 3 "${flags[@]}")
echo "$line"
merge_job=$(echo "$line" | sed -n 's/.*merge job \([0-9]*\).*/\1/p')
for _ in $(seq 1800); do
  if [ -z "$(squeue -h -o %i 2> /dev/null)" ]; then break; fi
  sleep 1
done
t1=$(date +%s)
if [ ! -f "$out/merged/sweep.csv" ]; then
  echo "the Slurm sweep did not finish; logs:" >&2
  tail -n 20 "$out"/slurm-*.out "$scratch"/slurmctld.log >&2 || true
  exit 1
fi
echo "Slurm: array of 3 shards + merge job $merge_job done in $((t1 - t0)) s"

echo "== the same sweep run whole here"
local=$scratch/out/local
t0=$(date +%s)
"$bin" sweep "$sweep" --out "$local" --quiet "${flags[@]}"
t1=$(date +%s)
echo "whole: $((t1 - t0)) s"

echo "== comparing"
strip() { grep -v -e '"wall_seconds"' -e '"payments_per_second"' "$1"; }
differ=0
compared=0
while IFS= read -r f; do
  rel=${f#"$local"/}
  case "$rel" in */run.json) continue ;; esac
  other=$out/merged/$rel
  if [ ! -f "$other" ]; then
    echo "missing in the Slurm sweep: $rel"
    differ=1
    continue
  fi
  if [[ "$rel" == *summary.json ]]; then
    cmp -s <(strip "$f") <(strip "$other") || { echo "differs: $rel"; differ=1; }
  else
    cmp -s "$f" "$other" || { echo "differs: $rel"; differ=1; }
  fi
  compared=$((compared + 1))
done < <(find "$local" -type f | sort)
extra=$(cd "$out/merged" && find . -type f | wc -l)
ours=$(cd "$local" && find . -type f | wc -l)
if [ "$extra" != "$ours" ]; then
  echo "file counts differ: Slurm $extra, local $ours"
  differ=1
fi
if [ $differ != 0 ]; then
  echo "FAILED: the Slurm sweep differs from the local one" >&2
  exit 1
fi
echo "identical: $compared files (run.json aside), $(wc -l < "$local/sweep.csv") lines of sweep.csv"
echo "total $(($(date +%s) - started)) s"
