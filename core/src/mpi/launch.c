/* mpi/launch.c — was this process started by an MPI launcher? Read from the
 * environment the launchers set, so it needs no MPI library (a build without
 * MPI still says why `mpirun wb` cannot work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/mpi.h"

static int env_int(const char *name, int *out)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end) return 0;
    *out = (int)x;
    return 1;
}

int wb_mpi_detect(char *what, size_t cap, int *rank)
{
    const char *off = getenv("WB_MPI");
    int n = 0, r = -1;
    if (off && !strcmp(off, "0")) return 0;
    if (rank) *rank = -1;
    if (env_int("OMPI_COMM_WORLD_SIZE", &n)) { /* Open MPI's mpirun/mpiexec */
        env_int("OMPI_COMM_WORLD_RANK", &r);
        if (what) snprintf(what, cap, "OMPI_COMM_WORLD_SIZE=%d", n);
    } else if (env_int("PMI_SIZE", &n)) { /* MPICH's hydra, Intel MPI, srun --mpi=pmi2 */
        env_int("PMI_RANK", &r);
        if (what) snprintf(what, cap, "PMI_SIZE=%d", n);
    } else if (env_int("PMIX_RANK", &r)) { /* PMIx launchers (prterun, srun --mpi=pmix) */
        n = 0;
        if (what) snprintf(what, cap, "PMIX_RANK=%d", r);
    } else if (getenv("SLURM_STEP_ID") && env_int("SLURM_STEP_NUM_TASKS", &n) && n > 1) { /* srun */
        env_int("SLURM_PROCID", &r);
        if (what) snprintf(what, cap, "SLURM_STEP_NUM_TASKS=%d", n);
    } else
        return 0;
    if (rank) *rank = r;
    return 1;
}
