/* blasprobe.c — reports how many threads OpenBLAS would use inside a kernel
 * (kernels run single-threaded: the wb program sets OpenBLAS to one thread
 * before any plugin loads it). */
#include <dlfcn.h>
#include <wb/plugin.h>

static const wb_host *H;

static int k_threads(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)nin, (void)arg, (void)arglen;
    void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL); /* kept open */
    if (!h) return H->seterr(WB_ENOTFOUND, "blasprobe: %s", dlerror());
    int (*get)(void) = (int (*)(void))dlsym(h, "openblas_get_num_threads");
    if (!get) return H->seterr(WB_ENOTFOUND, "blasprobe: no openblas_get_num_threads");
    double *o = H->out_bytes(ctx, sizeof(double));
    if (!o) return WB_ENOMEM;
    *o = get();
    return 0;
}

WB_PLUGIN("blasprobe", "1.0")
{
    H = host;
    return host->register_kernel("blasprobe.threads", k_threads);
}
