#!/bin/bash
# mpi_slurm.sh — a real single-node Slurm, started here in a temp folder:
# munged with a fresh key, slurmctld and slurmd from a minimal slurm.conf
# written by this test (free ports, proctrack/linuxproc, task/none, PMIx as
# the MPI default), all stopped at the end. It runs examples/slurm/mpi.sbatch
# (srun starts 3 ranks: the MPI executor) and examples/slurm/cluster.sbatch
# (wb's own cluster inside the allocation: head, an srun step of 2 workers,
# the driver) with `sbatch --wait`, and compares both with the local
# executor's results, byte for byte. Skips (77) only when Slurm or munge is
# not installed or the test is not root (the daemons run as root here).
. "$(dirname "$0")/mpi_common.bash"
for t in munged mungekey slurmctld slurmd sbatch srun sinfo scontrol; do
  command -v "$t" >/dev/null || { echo "SKIP: no $t (Debian: slurm-wlm, munge)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: the test starts munged, slurmctld and slurmd as root"; exit 77; }
S="$T/slurm"
mkdir -p "$S/state" "$S/spool" "$S/munge" "$S/work"
chmod 700 "$S/munge"
stop_slurm() {
  [ -n "${SLURM_CONF:-}" ] && timeout 10 scancel --quiet --full --state=RUNNING --user=root 2>/dev/null
  local f p
  for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
    [ -s "$f" ] || continue
    p=$(cat "$f")
    kill "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  cleanup_t
}
trap stop_slurm EXIT
failx() { for f in "$S"/*.log "$S/munge/munged.log"; do [ -f "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }; done; fail "$@"; }
freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mungekey -c -k "$S/munge/munge.key" >/dev/null 2>&1 || dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$S/munge/munge.key"
munged --key-file="$S/munge/munge.key" --socket="$S/munge/munge.sock" --pid-file="$S/munge/munged.pid" \
  --log-file="$S/munge/munged.log" --seed-file="$S/munge/seed" --force 2>"$S/munged.err" ||
  failx "munged did not start: $(cat "$S/munged.err")"
munge -S "$S/munge/munge.sock" -n | unmunge -S "$S/munge/munge.sock" >/dev/null || failx "munge does not answer"
NODE=$(hostname -s)
cat >"$S/slurm.conf" <<CONF
ClusterName=wbtest$$
SlurmctldHost=$NODE
SlurmctldPort=$(freeport)
SlurmdPort=$(freeport)
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
PlugStackConfig=$S/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmdParameters=config_overrides
ReturnToService=2
NodeName=$NODE CPUs=4 State=UNKNOWN
PartitionName=wb Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
: >"$S/plugstack.conf"
export SLURM_CONF="$S/slurm.conf"
slurmctld -f "$SLURM_CONF" -i 2>"$S/slurmctld.err" || failx "slurmctld did not start: $(cat "$S/slurmctld.err")"
slurmd -f "$SLURM_CONF" 2>"$S/slurmd.err" || failx "slurmd did not start: $(cat "$S/slurmd.err")"
for _ in $(seq 100); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo -h -o %t 2>/dev/null | grep -q idle || failx "the node did not become idle: $(sinfo 2>&1)"
pass "Slurm $(sinfo -V | awk '{print $2}') up in $S: $(sinfo -h -o '%P %a %D %t %N')"

FITS="$SRC/tests/data/mpi/fits.lua"
"$WB" --threads 2 "$FITS" >"$T/local.txt" 2>"$T/local.err" || fail "local run: $(cat "$T/local.err")"
export WB WB_TOKEN_FILE="$S/token" WB_WORKER_LOG="$S/workers.log"
cd "$S/work"
for job in mpi cluster; do
  t0=$(date +%s.%N)
  timeout -k 5 300 sbatch --wait --quiet -o "$S/$job.out" -e "$S/$job.err" "$SRC/examples/slurm/$job.sbatch" "$FITS" ||
    failx "sbatch $job.sbatch: $(cat "$S/$job.out" "$S/$job.err" 2>/dev/null)"
  secs=$(echo "$(date +%s.%N) - $t0" | bc)
  diff "$T/local.txt" "$S/$job.out" >"$T/diff" || failx "$job.sbatch differs from local: $(cat "$T/diff") $(cat "$S/$job.err")"
  pass "sbatch --wait examples/slurm/$job.sbatch: $(wc -l <"$S/$job.out") result lines equal to local bit for bit ($(printf %.1f "$secs") s)"
done
grep -q "head at 127.0.0.1:[0-9]*, 2 workers of 1 threads" "$S/cluster.err" || fail "cluster.sbatch: $(cat "$S/cluster.err")"
# the executor under srun reports the ranks Slurm started
out=$(timeout -k 5 300 srun -n 3 --mpi=pmix "$WB" --threads 1 -e 'local e = wb.executor(); print(e.kind, e.size, e.ranks[3].host, e.threads)' 2>&1) ||
  fail "srun -n 3 wb: $out"
[ "$out" = "mpi	3	$NODE	2" ] || fail "srun -n 3 wb: $out"
pass "srun -n 3 wb -e ...: $out"
