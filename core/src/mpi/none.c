/* mpi/none.c — the MPI executor's entry points in a build without MPI
 * (CMake's FindMPI found none, or -DWB_MPI=OFF): each says so. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "wb/mpi.h"

#define NO_MPI "this build of wb has no MPI (install an MPI library, e.g. Debian's libopenmpi-dev, and rebuild: cmake -DWB_MPI=ON)"

int wb_mpi_built(void) { return 0; }
const char *wb_mpi_library(void) { return ""; }

void wb_mpi_opts_init(wb_mpi_opts *o)
{
    o->threads = 0;
    o->timeout = 10;
    o->quiet = 0;
}

int wb_mpi_init(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    return wb_seterr(WB_ENOTSUP, "mpi: %s", NO_MPI);
}
int wb_mpi_executor_main(const wb_mpi_opts *o)
{
    (void)o;
    fprintf(stderr, "wb: mpi: %s\n", NO_MPI);
    return 1;
}
int wb_mpi_driver_start(const wb_mpi_opts *o, wb_exec **out)
{
    (void)o;
    *out = NULL;
    return wb_seterr(WB_ENOTSUP, "mpi: %s", NO_MPI);
}
void wb_mpi_finish(int status) { (void)status; }
void wb_mpi_abort(const char *msg, int code)
{
    if (msg && *msg) fprintf(stderr, "wb: %s\n", msg);
    _exit(code ? code : 1);
}
int wb_exec_is_mpi(wb_exec *ex)
{
    (void)ex;
    return 0;
}
int wb_mpi_ranks(wb_exec *ex, wb_mpi_rank_info *out, int max)
{
    (void)ex;
    (void)out;
    (void)max;
    return 0;
}
int wb_mpi_holder(wb_exec *ex, wb_oid id)
{
    (void)ex;
    (void)id;
    return 0;
}
int wb_mpi_bench_reduce(wb_exec *ex, size_t len, int reps, double out[3])
{
    (void)ex;
    (void)len;
    (void)reps;
    (void)out;
    return wb_seterr(WB_ENOTSUP, "mpi: %s", NO_MPI);
}
