#!/bin/sh
# bench/mpi.sh — bench/mpi.lua on the three executors of one machine, one
# after the other: MPI (driver + 2 ranks of 1 thread), wb's cluster (2
# workers of 1 thread), local threads (2); ROUNDS times, alternating (the
# machine may be shared: compare figures of the same round). Each line of
# bench/mpi.lua gives the CPU seconds of the executor's processes; each run
# ends with the whole job's wall, user and system seconds (mpirun included)
# and the load average before it.
# usage: bench/mpi.sh [path/to/wb] [scale] [rounds]
#   WB_MPI_DOORBELLS=0 bench/mpi.sh ...   the MPI loops poll with sleeps
#   instead of sleeping on their doorbells (for a comparison)
WB=${1:-build/wb}
SCALE=${2:-1}
ROUNDS=${3:-1}
cd "$(dirname "$0")/.." || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TIME="job: %e s wall, %U s user, %S s sys"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  echo "# round $r, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "$TIME" mpirun --oversubscribe -np 3 "$WB" --threads 1 bench/mpi.lua mpi "$SCALE"
  echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "$TIME" "$WB" bench/mpi.lua cluster:2 "$SCALE"
  echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "$TIME" "$WB" bench/mpi.lua local:2 "$SCALE"
  r=$((r + 1))
done
