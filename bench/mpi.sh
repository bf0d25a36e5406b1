#!/bin/sh
# bench/mpi.sh — bench/mpi.lua on the three executors of one machine, one
# after the other: MPI (driver + 2 ranks of 1 thread), wb's cluster (2
# workers of 1 thread), local threads (2).
# usage: bench/mpi.sh [path/to/wb] [scale]
WB=${1:-build/wb}
SCALE=${2:-1}
cd "$(dirname "$0")/.." || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --oversubscribe -np 3 "$WB" --threads 1 bench/mpi.lua mpi "$SCALE"
"$WB" bench/mpi.lua cluster:2 "$SCALE"
"$WB" bench/mpi.lua local:2 "$SCALE"
