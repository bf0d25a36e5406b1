/* initfail.c — registers things, then its init fails: refused with its
 * reason, and nothing it registered may remain. */
#include <stdio.h>
#include <wb/plugin.h>

static int k(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx, (void)in, (void)nin, (void)arg, (void)arglen;
    return 0;
}
static int fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    (void)ex, (void)d, (void)p, (void)m;
    return 0;
}
static int64_t cols(const wb_params *p)
{
    (void)p;
    return 1;
}
static int make(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    (void)ex, (void)p, (void)lo, (void)hi, (void)out;
    return -1;
}
static const wb_param_spec nspec[] = {
    {.name = "n", .types = WB_P_INT, .def = "10", .min = 1, .max = INFINITY, .doc = "rows"},
};
static const wb_estimator_def est = {.version = WB_ESTIMATOR_V1, .name = "initfail.est", .fit = fit};
static const wb_source_def src = {.version = WB_SOURCE_V1, .name = "initfail.src", .params = nspec,
                                  .nparams = 1, .make = make, .cols = cols};

WB_PLUGIN("initfail", "0.1")
{
    char name[32];
    for (int i = 0; i < 300; i++) { /* enough to grow the kernel table */
        snprintf(name, sizeof name, "initfail.k%d", i);
        if (host->register_kernel(name, k)) return -1;
    }
    if (host->register_estimator(&est) || host->register_source(&src) ||
        host->register_lua("initfail", "error('must never run')"))
        return -1;
    return host->seterr(-5, "licence key not found in %s", "/etc/initfail.key");
}
