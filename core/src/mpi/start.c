/* mpi/start.c — starting and ending an MPI job: MPI_Init, the greeting in
 * which every rank tells the driver its wb version, plugins, host, pid and
 * threads (a mismatch refuses the job, naming the rank and the versions),
 * then the driver's executor or a rank's executor loop; at the end STOP and
 * MPI_Finalize. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_internal.h"

#define WBM_ENDIAN 0x01020304u

static MPI_Comm wcomm = MPI_COMM_NULL;
static int started_driver, finished;

int wb_mpi_built(void) { return 1; }

const char *wb_mpi_library(void)
{
    static char v[MPI_MAX_LIBRARY_VERSION_STRING];
    if (!v[0]) {
        int n = 0;
        MPI_Get_library_version(v, &n);
        char *nl = strchr(v, '\n');
        if (nl) *nl = 0;
        char *comma = strchr(v, ',');
        if (comma) *comma = 0;
    }
    return v;
}

void wb_mpi_opts_init(wb_mpi_opts *o)
{
    o->threads = 0;
    o->timeout = 10;
    o->quiet = 0;
    const char *t = getenv("WB_MPI_TIMEOUT");
    if (t && atof(t) > 0) o->timeout = atof(t);
}

/* the cores the launcher gave this rank */
static int default_threads(void)
{
    const char *c = getenv("SLURM_CPUS_PER_TASK");
    if (c && atoi(c) > 0) return atoi(c);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    return wb_ncpu();
}

int wb_mpi_init(int *rank, int *size)
{
    int provided = 0;
    int e = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (e != MPI_SUCCESS) {
        char s[300];
        return wb_seterr(WB_EINTERNAL, "mpi: MPI_Init_thread failed: %s", wbm_errstr(e, s, sizeof s));
    }
    if (provided < MPI_THREAD_SERIALIZED)
        return wb_seterr(WB_ENOTSUP,
                         "mpi: the MPI library (%s) gives thread level %d; wb needs MPI_THREAD_SERIALIZED (%d) "
                         "for its I/O thread",
                         wb_mpi_library(), provided, MPI_THREAD_SERIALIZED);
    MPI_Comm_dup(MPI_COMM_WORLD, &wcomm);
    MPI_Comm_set_errhandler(wcomm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(wcomm, rank);
    MPI_Comm_size(wcomm, size);
    wbm_bells_init(wcomm);
    return 0;
}

static const char *my_version(void)
{
    /* WB_MPI_TEST_VERSION stands in for another build of wb (tests of the refusal) */
    const char *v = getenv("WB_MPI_TEST_VERSION");
    return v && *v ? v : WB_VERSION;
}

static void finalize(void)
{
    if (finished) return;
    finished = 1;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) {
        wbm_bells_free();
        if (wcomm != MPI_COMM_NULL) MPI_Comm_free(&wcomm);
        MPI_Finalize();
    }
}

/* wait for a control message from `from` (any when < 0) for at most secs */
static int wait_msg(int from, double secs, unsigned char **buf, int *len, int *src)
{
    double t0 = wb_now();
    for (;;) {
        int flag = 0;
        MPI_Message msg;
        MPI_Status st;
        if (MPI_Improbe(from < 0 ? MPI_ANY_SOURCE : from, WBM_TAG_CTL, wcomm, &flag, &msg, &st) != MPI_SUCCESS)
            return -1;
        if (flag) {
            int n = 0;
            MPI_Get_count(&st, MPI_BYTE, &n);
            *buf = malloc(n > 0 ? (size_t)n : 1);
            if (!*buf) return -1;
            MPI_Mrecv(*buf, n, MPI_BYTE, &msg, &st);
            *len = n;
            *src = st.MPI_SOURCE;
            return 1;
        }
        if (wb_now() - t0 > secs) return 0;
        usleep(1000);
    }
}

int wb_mpi_executor_main(const wb_mpi_opts *o)
{
    int rank, size;
    MPI_Comm_rank(wcomm, &rank);
    MPI_Comm_size(wcomm, &size);
    int threads = o->threads > 0 ? o->threads : default_threads();
    wb_buf b = {0};
    wbm_put_u8(&b, WBM_HELLO);
    wbm_put_u32(&b, WBM_PROTO);
    wbm_put_u32(&b, WBM_ENDIAN);
    wbm_put_str(&b, my_version());
    wbm_put_str(&b, wbm_hostname());
    wbm_put_i32(&b, (int32_t)getpid());
    wbm_put_i32(&b, threads);
    int np = wb_plugin_count();
    wbm_put_u32(&b, (uint32_t)np);
    for (int i = 0; i < np; i++) {
        const char *name, *version;
        wb_plugin_info_at(i, &name, &version, NULL);
        wbm_put_str(&b, name);
        wbm_put_str(&b, version);
    }
    MPI_Send(b.p, (int)b.len, MPI_BYTE, 0, WBM_TAG_CTL, wcomm);
    wb_buf_free(&b);
    unsigned char *msg = NULL;
    int len = 0, src = 0;
    /* the driver loads Lua and its plugins first: allow it time */
    int got = wait_msg(0, 120, &msg, &len, &src);
    if (got <= 0) {
        char m[300];
        snprintf(m, sizeof m, "mpi: rank %d (%s): no word from the driver (rank 0) within 120 s", rank,
                 wbm_hostname());
        wb_mpi_abort(m, 1);
    }
    wbm_rd r = {msg, (size_t)len, 0, 0};
    int type = wbm_u8(&r);
    if (type == WBM_REFUSE) {
        /* rank 0 says why and ends with a failure status; this rank leaves
         * quietly with 0: a non-zero status here made mpirun kill rank 0
         * before it had printed the reason (seen on a loaded machine) */
        free(msg);
        finalize();
        return 0;
    }
    double timeout = wbm_f64(&r);
    char dhost[64];
    wbm_str(&r, dhost, sizeof dhost);
    free(msg);
    if (type != WBM_START || r.bad) wb_mpi_abort("mpi: a malformed start message from the driver", 1);
    int status = wbm_rank_loop(wcomm, threads, timeout, dhost);
    fflush(stdout);
    fflush(stderr);
    if (status < 0) { /* kernels still run: leave without waiting for them */
        finalize();
        _exit(0);
    }
    finalize();
    return status;
}

typedef struct hello {
    uint32_t proto, endian;
    char version[64];
    wbm_rankinfo info;
    uint32_t np;
    char (*pname)[128];
    char (*pver)[64];
} hello;

static void refuse_all(int size, const char *msg)
{
    for (int r = 1; r < size; r++) {
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_REFUSE);
        wbm_put_str(&b, msg);
        MPI_Send(b.p, (int)b.len, MPI_BYTE, r, WBM_TAG_CTL, wcomm);
        wb_buf_free(&b);
    }
}

static void at_exit(void)
{
    /* a script that ends with os.exit(): the ranks are stopped all the same */
    if (started_driver && !finished) wb_mpi_finish(0);
}

int wb_mpi_driver_start(const wb_mpi_opts *o, wb_exec **out)
{
    int size;
    MPI_Comm_size(wcomm, &size);
    if (size < 2) {
        finalize();
        return wb_seterr(WB_EINVAL,
                         "mpi: this job has 1 rank, the driver alone: start 2 or more (mpirun -np 3 wb script.lua: "
                         "rank 0 runs the script, ranks 1 and 2 run its tasks)");
    }
    hello *h = calloc((size_t)size, sizeof *h);
    wbm_rankinfo *ri = calloc((size_t)size, sizeof *ri);
    if (!h || !ri) return wb_seterr(WB_ENOMEM, "out of memory");
    snprintf(ri[0].host, sizeof ri[0].host, "%s", wbm_hostname());
    ri[0].pid = (int)getpid();
    char err[1500] = "";
    int got = 0;
    double t0 = wb_now();
    while (got < size - 1 && !err[0]) {
        unsigned char *msg;
        int len, src;
        int w = wait_msg(-1, 120 - (wb_now() - t0), &msg, &len, &src);
        if (w <= 0) {
            int n = snprintf(err, sizeof err, "mpi: no greeting within 120 s from rank(s)");
            for (int r = 1; r < size && n < (int)sizeof err - 8; r++)
                if (!h[r].proto) n += snprintf(err + n, sizeof err - (size_t)n, " %d", r);
            break;
        }
        wbm_rd r = {msg, (size_t)len, 0, 0};
        if (src <= 0 || src >= size || wbm_u8(&r) != WBM_HELLO || h[src].proto) {
            free(msg);
            snprintf(err, sizeof err, "mpi: an unexpected message from rank %d at the start", src);
            break;
        }
        hello *e = &h[src];
        e->proto = wbm_u32(&r);
        e->endian = wbm_u32(&r);
        wbm_str(&r, e->version, sizeof e->version);
        wbm_str(&r, e->info.host, sizeof e->info.host);
        e->info.pid = wbm_i32(&r);
        e->info.threads = wbm_i32(&r);
        e->np = wbm_u32(&r);
        if (!r.bad && e->np < 4096) {
            e->pname = calloc(e->np + 1, sizeof *e->pname);
            e->pver = calloc(e->np + 1, sizeof *e->pver);
            for (uint32_t i = 0; i < e->np && e->pname && e->pver; i++) {
                wbm_str(&r, e->pname[i], sizeof e->pname[i]);
                wbm_str(&r, e->pver[i], sizeof e->pver[i]);
            }
        }
        free(msg);
        if (r.bad || !e->pname || !e->pver) {
            snprintf(err, sizeof err, "mpi: a malformed greeting from rank %d", src);
            break;
        }
        ri[src] = e->info;
        got++;
    }
    /* the same wb and the same plugins everywhere */
    for (int r = 1; r < size && !err[0]; r++) {
        hello *e = &h[r];
        if (e->proto != WBM_PROTO || e->endian != WBM_ENDIAN) {
            snprintf(err, sizeof err, "mpi: rank %d on %s speaks protocol %u%s, rank 0 on %s speaks %u", r,
                     e->info.host, e->proto, e->endian != WBM_ENDIAN ? " in another byte order" : "", ri[0].host,
                     WBM_PROTO);
            break;
        }
        if (strcmp(e->version, my_version()) != 0) {
            snprintf(err, sizeof err, "mpi: rank %d on %s runs wb %s, rank 0 on %s runs wb %s: every rank must run the same wb",
                     r, e->info.host, e->version, ri[0].host, my_version());
            break;
        }
        for (int j = 0; j < wb_plugin_count() && !err[0]; j++) {
            const char *name, *version;
            wb_plugin_info_at(j, &name, &version, NULL);
            uint32_t k = 0;
            while (k < e->np && strcmp(e->pname[k], name) != 0) k++;
            if (k == e->np)
                snprintf(err, sizeof err,
                         "mpi: rank %d on %s has no plugin '%s' (version %s on rank 0 on %s): every rank needs the "
                         "driver's plugins (WB_PLUGIN_PATH)",
                         r, e->info.host, name, version, ri[0].host);
            else if (strcmp(e->pver[k], version) != 0)
                snprintf(err, sizeof err, "mpi: rank %d on %s has plugin '%s' version %s, rank 0 on %s has version %s",
                         r, e->info.host, name, e->pver[k], ri[0].host, version);
        }
    }
    for (int r = 0; r < size; r++) {
        free(h[r].pname);
        free(h[r].pver);
    }
    free(h);
    if (err[0]) {
        refuse_all(size, err);
        free(ri);
        finalize();
        return wb_seterr(WB_EINVAL, "%s", err);
    }
    for (int r = 1; r < size; r++) {
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_START);
        wbm_put_f64(&b, o->timeout);
        wbm_put_str(&b, ri[0].host);
        MPI_Send(b.p, (int)b.len, MPI_BYTE, r, WBM_TAG_CTL, wcomm);
        wb_buf_free(&b);
    }
    int rc = wbm_driver_new(wcomm, ri, o->timeout, out);
    free(ri);
    if (rc) return rc;
    started_driver = 1;
    atexit(at_exit);
    /* programs this driver starts (wb.cluster's workers, os.execute("wb ...")) are no MPI ranks */
    setenv("WB_MPI", "0", 1);
    return 0;
}

void wb_mpi_finish(int status)
{
    if (finished) return;
    if (started_driver) wbm_driver_stop(status);
    finalize();
}

int wb_mpi_bench_reduce(wb_exec *ex, size_t len, int reps, double out[3])
{
    return wbm_driver_bench(ex, len, reps, out);
}
