#!/usr/bin/env bash
# The workflow on a real SLURM cluster (run by .ci/run after the tests).
#
# Installs Debian's slurm-wlm and munge, starts a one-node cluster on
# 127.0.0.1 (munged, slurmctld, slurmd), runs a small lfw-dev sample once
# locally and once with `--executor slurm --profile profiles/slurm`, checks
# that the jobs ran as SLURM jobs and that both runs made the same results,
# and stops every daemon it started, by PID, whatever happens.
# Needs root on Debian 12 (CI: a fresh machine, no systemd). Skips, exit 0,
# when ../shared/datasets is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
project=$PWD
lfw=$project/../shared/datasets/lfw-dev
snakemake=$project/.venv/bin/snakemake
started=$SECONDS
say() { printf '[slurm test %3ds] %s\n' $((SECONDS - started)) "$*"; }
fail() { say "FAILED: $*" >&2; exit 1; }

if [ ! -d "$lfw" ]; then
  say "SKIPPED: ../shared/datasets is absent (expected $lfw); the SLURM test needs its real photos"
  exit 0
fi
[ "$(id -u)" = 0 ] || fail "needs root: it installs slurm-wlm and munge and starts their daemons"
[ -x "$snakemake" ] || fail "no $snakemake: run 'bash quickstart.sh test' first"
say "installing the SLURM executor plugin (the slurm extra)"
"$project/.venv/bin/pip" install --quiet -e "$project[slurm]"

slurm_conf=/etc/slurm/slurm.conf
mark="facecluster-slurm-test"
if [ -e "$slurm_conf" ] && ! grep -q "$mark" "$slurm_conf"; then
  fail "$slurm_conf exists and is not ours: this machine has a SLURM setup that the test will not replace"
fi

state=$(mktemp -d /tmp/facecluster-slurm.XXXXXX)
chmod 755 "$state"
pids=()        # daemons started here, in start order
policy_rc=""   # /usr/sbin/policy-rc.d, when written here

cleanup() {
  local status=$?
  set +e
  if [ "$status" != 0 ]; then
    for log in "$state"/slurmctld.log "$state"/slurmd.log "$state"/munge/munged.log; do
      [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 20 "$log"; }
    done
  fi
  if [ ${#pids[@]} -gt 0 ] && command -v scancel >/dev/null; then
    scancel --full --signal=KILL --quiet --user=root 2>/dev/null
  fi
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null
  done
  [ -f "$slurm_conf" ] && grep -q "$mark" "$slurm_conf" && rm -f "$slurm_conf"
  [ -n "$policy_rc" ] && rm -f "$policy_rc"
  rm -rf "$state"
  say "stopped ${#pids[@]} daemon(s) (PIDs ${pids[*]:-none}); total wall time $((SECONDS - started)) s"
}
trap cleanup EXIT

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge (apt-get)"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # The packages must not start their services: every daemon here is ours.
    policy_rc=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy_rc"
    chmod +x "$policy_rc"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >"$state/apt.log" 2>&1 ||
    { tail -n 30 "$state/apt.log"; fail "apt-get install slurm-wlm munge"; }
fi
say "$(slurmctld -V), $(munged --version 2>&1 | sed -n 1p)"

# Our own munged, key and socket (slurm.conf's AuthInfo names the socket).
mkdir -m 755 "$state/munge"
head -c 1024 /dev/urandom >"$state/munge/munge.key"
chmod 400 "$state/munge/munge.key"
munged --foreground --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" \
  --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
  --seed-file="$state/munge/munged.seed" 2>"$state/munge/munged.out" &
pids+=($!)
for _ in $(seq 50); do [ -S "$state/munge/munge.socket" ] && break; sleep 0.2; done
[ -S "$state/munge/munge.socket" ] || fail "munged did not start: $(cat "$state/munge/munged.out")"

node=$(hostname -s)
memory_mb=$(awk '/^MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
mkdir -p /etc/slurm "$state/slurmctld" "$state/slurmd"
sed -e "s|@NODE@|$node|g" -e "s|@STATE@|$state|g" -e "s|@MEMORY_MB@|$memory_mb|g" \
  tests/slurm/slurm.conf.in >"$slurm_conf"
slurmctld -D >"$state/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D >"$state/slurmd.out" 2>&1 &
pids+=($!)
node_state() { timeout 5 sinfo -h -N -o %t 2>&1; }
for _ in $(seq 60); do [ "$(node_state)" = idle ] && break; sleep 1; done
[ "$(node_state)" = idle ] || fail "node $node is not idle after 60 s: $(node_state)"
say "cluster up: node $node idle, CPUs=2 RealMemory=${memory_mb}MB (munged, slurmctld, slurmd: PIDs ${pids[*]})"

# 3 people x 4 photos and one experiment; both runs read the same folder, so
# the paths in their results are the same too.
work=$state/work
for person in Arnold_Schwarzenegger Hugo_Chavez Vladimir_Putin; do
  mkdir -p "$work/photos/$person"
  # Not `| head`: with pipefail, sort killed by SIGPIPE when head stops reading ends the script (141).
  mapfile -t photos < <(find "$lfw/$person" -type f | sort)
  cp -t "$work/photos/$person" "${photos[@]:0:4}"
done
for run in local slurm; do
  mkdir -p "$work/$run"
  cat >"$work/$run/config.yaml" <<EOF
batch_size: 2
datasets:
  sample: {path: $work/photos, labels: folders}
models:
  dlib:
    detector: {name: dlib_hog, upsample: 1, keep: center, min_size: 20}
    embedder: {name: dlib}
default_model: dlib
experiments:
  three: {dataset: sample, cluster: {method: kmeans, k: 3}}
EOF
done
run_workflow() {
  local run=$1
  shift
  "$snakemake" -s "$project/Snakefile" --directory "$work/$run" \
    --configfile "$work/$run/config.yaml" "$@" >"$work/$run.log" 2>&1 ||
    { tail -n 60 "$work/$run.log"; fail "the $run run of the workflow"; }
}

say "local run"
run_workflow local --cores 2
say "SLURM run"
# The node has 2 CPUs: a group of 2 per-photo batches asks for all of them.
run_workflow slurm --executor slurm --profile "$project/profiles/slurm" \
  --group-components photos=2 \
  --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5
say "SLURM run done"

# Every job went through SLURM and finished there.
job_ids=$(sed -n 's/.*submitted with SLURM jobid \([0-9]*\).*/\1/p' "$work/slurm.log")
[ -n "$job_ids" ] || fail "no SLURM job ids in the SLURM run's log"
field() { grep -o " $1=[^ ]*" <<<"$info" | cut -d= -f2-; }  # of `scontrol -o show job`
echo "SLURM job id | state | CPUs | memory | time limit | Snakemake job"
for id in $job_ids; do
  info=$(scontrol -o show job "$id")
  echo "$id | $(field JobState) | $(field NumCPUs) | $(field MinMemoryNode) | $(field TimeLimit) | $(field Comment)"
  [ "$(field JobState)" = COMPLETED ] || fail "SLURM job $id is $(field JobState)"
done
n_batches=$(tail -n +2 "$work/slurm/results/sample/photos.tsv" | cut -f5 | sort -u | wc -l)
n_batch_jobs=$(grep -c 'rule process_batch:' "$work/slurm.log" || true)
n_group_jobs=$(grep -c 'Group job photos' "$work/slurm.log" || true)
say "$(wc -w <<<"$job_ids") SLURM jobs; $n_batches batches ran as $n_group_jobs grouped submission(s)"
[ "$n_batch_jobs" = "$n_batches" ] || fail "$n_batches batches but $n_batch_jobs process_batch jobs"
[ "$n_group_jobs" -ge 1 ] && [ "$n_group_jobs" -lt "$n_batches" ] ||
  fail "per-photo batches were not grouped ($n_group_jobs group jobs for $n_batches batches)"

# Same results as the local run.
for output in sample/photos.tsv sample/dlib/ledger.tsv sample/dlib/faces.tsv sample/dlib/embeddings.npy \
  experiments/three/metrics.json experiments/three/assignments.tsv experiments/three/coords.npy; do
  cmp "$work/local/results/$output" "$work/slurm/results/$output" || fail "results/$output differs"
done
say "PASSED: results equal the local run ($(tail -n +2 "$work/slurm/results/sample/dlib/ledger.tsv" | wc -l) photos)"
