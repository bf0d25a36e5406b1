/* cluster_kernels.c — kernels the cluster's tests and benchmarks drive the
 * cluster with: a task that sleeps (cluster.sleep), one that makes an object
 * of any size (cluster.fill) and one that says which process ran it
 * (cluster.pid). They keep the names they had when wb itself registered
 * them. Tests load the plugin in the driver (wb.plugin.load) and on the
 * workers (wb worker --plugin PATH, or wb.cluster{plugins = {PATH}}). */
#include <time.h>
#include <unistd.h>

#include "wb/plugin.h"

static const wb_host *H;

/* arg: double seconds; output: the seconds slept (8 bytes) */
static int k_sleep(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    (void)nin;
    double s = 0;
    if (arglen != 8) return H->seterr(WB_EINVAL, "cluster.sleep: the argument is 8 bytes (seconds)");
    memcpy(&s, arg, 8);
    if (!(s >= 0 && s <= 3600)) return H->seterr(WB_EINVAL, "cluster.sleep: seconds must be in 0..3600");
    double t0 = H->now();
    while (H->now() - t0 < s) {
        if (H->cancelled(ctx)) return H->seterr(WB_ECANCELED, "interrupted");
        double left = s - (H->now() - t0);
        if (left > 0.01) left = 0.01;
        if (left > 0) {
            struct timespec ts = {0, (long)(left * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    double *o = H->out_bytes(ctx, 8);
    if (!o) return WB_ENOMEM;
    *o = s;
    return 0;
}

/* arg: u64 bytes, u8 value; output: that many bytes of that value */
static int k_fill(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    (void)nin;
    uint64_t n;
    if (arglen != 9) return H->seterr(WB_EINVAL, "cluster.fill: the argument is 9 bytes (size, value)");
    memcpy(&n, arg, 8);
    if (n > ((uint64_t)1 << 40))
        return H->seterr(WB_EINVAL, "cluster.fill: %llu bytes is too many", (unsigned long long)n);
    unsigned char *o = H->out_bytes(ctx, (size_t)n);
    if (!o) return WB_ENOMEM;
    unsigned char v = ((const unsigned char *)arg)[8];
    if (v) memset(o, v, (size_t)n);
    return 0;
}

/* output: u32 pid of the process that ran it */
static int k_pid(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    (void)nin;
    (void)arg;
    (void)arglen;
    uint32_t *o = H->out_bytes(ctx, 4);
    if (!o) return WB_ENOMEM;
    *o = (uint32_t)getpid();
    return 0;
}

WB_PLUGIN("cluster_kernels", "1.0")
{
    H = host;
    int rc = host->register_kernel("cluster.sleep", k_sleep);
    if (!rc) rc = host->register_kernel("cluster.fill", k_fill);
    if (!rc) rc = host->register_kernel("cluster.pid", k_pid);
    return rc;
}
