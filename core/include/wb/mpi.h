/*
 * wb/mpi.h — the MPI executor: `mpirun -np N wb script.lua` (or `srun -n N`,
 * MPICH's `mpiexec`) runs the script on rank 0, the driver; ranks 1..N-1
 * execute tasks on their own thread pools and keep the partitions they make.
 *
 *   rank 0 (driver: Lua, estimators) ──tasks──► rank 1..N-1 (executors)
 *                                    ◄─results──     │  ▲
 *                                                    └──┘ objects rank to rank
 *
 * Reductions (map_sum) go up a fixed binomial tree over the executor ranks
 * as point-to-point messages; each rank merges the nodes of wb's block tree
 * (wb_treesum), so the sums are the local executor's bit for bit, whatever
 * the number of ranks. MPI jobs do not survive a lost rank: a rank that dies
 * or stops answering ends the job with a message naming it.
 *
 * Only MPI-3 standard calls are used (Open MPI and MPICH). Without MPI at
 * build time (CMake's FindMPI found none, or -DWB_MPI=OFF) these functions
 * exist and say that this build has no MPI.
 */
#ifndef WB_MPI_H
#define WB_MPI_H

#include "wb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this build has MPI */
int wb_mpi_built(void);
/* the MPI library's version text ("" without MPI) */
const char *wb_mpi_library(void);

/* Whether an MPI launcher started this process, from its environment:
 * Open MPI (OMPI_COMM_WORLD_SIZE), MPICH/hydra and Intel MPI (PMI_SIZE,
 * PMI_RANK), PMIx (PMIX_RANK), Slurm's srun (SLURM_STEP_ID with
 * SLURM_STEP_NUM_TASKS > 1). WB_MPI=0 in the environment turns detection
 * off. Returns 1 and fills `what` ("OMPI_COMM_WORLD_SIZE=3") and *rank (-1
 * when unknown), else 0. Needs no MPI library. */
int wb_mpi_detect(char *what, size_t cap, int *rank);

typedef struct wb_mpi_opts {
    int threads;    /* threads of each executor rank (0: the cores the launcher gave it) */
    double timeout; /* seconds without a message from a rank before the job ends (10;
                       WB_MPI_TIMEOUT overrides) */
    int quiet;
} wb_mpi_opts;
void wb_mpi_opts_init(wb_mpi_opts *o);

/* Initialize MPI. *rank receives this process's rank, *size the world's. */
int wb_mpi_init(int *rank, int *size);
/* On ranks > 0 (after loading the plugins): greet the driver, then run tasks
 * until the driver stops the job. Returns the exit status (MPI finalized). */
int wb_mpi_executor_main(const wb_mpi_opts *o);
/* On rank 0 (after loading the plugins): greet the ranks, check that every
 * rank runs this wb version with the same plugins in the same versions, and
 * make the executor (one reference for the caller). Refusals name the rank,
 * its host and the versions. */
int wb_mpi_driver_start(const wb_mpi_opts *o, wb_exec **out);
/* On rank 0 at exit: stop the executor ranks, finalize MPI. */
void wb_mpi_finish(int status);
/* End the whole job now (every rank) with a message. */
void wb_mpi_abort(const char *msg, int code);

int wb_exec_is_mpi(wb_exec *ex);

typedef struct wb_mpi_rank_info {
    int rank;
    char host[64];
    int pid;
    int threads; /* 0 for the driver (it runs no tasks) */
} wb_mpi_rank_info;
/* the ranks of the job, driver first; returns the count (fills up to max) */
int wb_mpi_ranks(wb_exec *ex, wb_mpi_rank_info *out, int max);
/* the rank that holds an object (as last known; 0: the driver, -1: every rank) */
int wb_mpi_holder(wb_exec *ex, wb_oid id);

/* Reduction benchmark (rank 0): `reps` sums of `len` doubles from every
 * executor rank to the driver, by wb's tree (point-to-point, fixed order)
 * and by MPI_Reduce; seconds per reduction in out[0] (tree), out[1]
 * (MPI_Reduce); out[2] is 1 when the two sums are equal bit for bit. */
int wb_mpi_bench_reduce(wb_exec *ex, size_t len, int reps, double out[3]);

#ifdef __cplusplus
}
#endif
#endif /* WB_MPI_H */
