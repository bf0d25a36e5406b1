/* cluster_testfit.c — a test plugin for the cluster's fault tests: an
 * iterative estimator (least squares by gradient descent, one map_sum per
 * iteration) whose kernel can be slowed down per block, so a worker can be
 * killed in the middle of a fit; and a kernel that sleeps for a while. */
#include <time.h>

#include "wb/plugin.h"

static const wb_host *H;

/* per block: arg = delay_ms, then d+1 weights (coef, intercept);
 * out = d+1 gradient sums and the squared loss */
static int k_grad(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    const wb_part *p = &in[0].part;
    int64_t d = p->cols;
    if (arglen != (size_t)(d + 2) * 8 || !p->y) return H->seterr(WB_EINVAL, "cluster_test.grad: bad arguments");
    const double *a = arg;
    double delay = a[0];
    const double *w = a + 1;
    double *o = H->out_bytes(ctx, (size_t)(d + 2) * 8);
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        const double *x = p->x + i * d;
        double r = w[d];
        for (int64_t j = 0; j < d; j++) r += w[j] * x[j];
        r -= p->y[i];
        for (int64_t j = 0; j < d; j++) o[j] += r * x[j];
        o[d] += r;
        o[d + 1] += r * r;
    }
    if (delay > 0) {
        struct timespec ts = {(time_t)(delay / 1000), (long)((delay - (double)(time_t)(delay / 1000) * 1000) * 1e6)};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int fit(wb_exec *ex, const wb_dataset *ds, const wb_params *prm, wb_model *m)
{
    int64_t n = H->ds_rows(ds), d = H->ds_cols(ds);
    int64_t iters = H->param_int(prm, "iterations");
    double lr = H->param_num(prm, "lr"), delay = H->param_num(prm, "delay_ms");
    double *arg = H->alloc((size_t)(d + 2) * 8), *g = H->alloc((size_t)(d + 2) * 8);
    if (!arg || !g) return H->seterr(WB_ENOMEM, "out of memory");
    memset(arg, 0, (size_t)(d + 2) * 8);
    arg[0] = delay;
    double loss = 0;
    int rc = 0;
    for (int64_t it = 0; it < iters && !rc; it++) {
        rc = H->map_sum(ex, "cluster_test.grad", ds, NULL, 0, arg, (size_t)(d + 2) * 8, g, (size_t)(d + 2));
        if (rc) break;
        for (int64_t j = 0; j <= d; j++) arg[1 + j] -= lr * g[j] / (double)n;
        loss = g[d + 1] / (double)n;
        H->progress("cluster_test", (double)(it + 1), (double)iters, NULL);
    }
    if (!rc) rc = H->model_set_array(m, "coef", arg + 1, 1, d);
    if (!rc) rc = H->model_set_num(m, "intercept", arg[1 + d]);
    if (!rc) rc = H->model_set_num(m, "loss", loss);
    H->free(arg);
    H->free(g);
    return rc;
}

static const wb_param_spec params[] = {
    {.name = "iterations", .types = WB_P_INT, .def = "20", .min = 1, .max = 100000, .doc = "gradient steps"},
    {.name = "lr", .types = WB_P_NUM, .def = "0.1", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "step size"},
    {.name = "delay_ms", .types = WB_P_NUM, .def = "0", .min = 0, .max = 10000,
     .doc = "sleep per block (to slow a fit down in tests)"},
};

static const wb_estimator_def gd = {
    .version = WB_ESTIMATOR_V1,
    .name = "cluster_test.gd",
    .doc = "least squares by gradient descent (a test estimator)",
    .kind = WB_EST_REGRESSOR,
    .needs_labels = 1,
    .params = params,
    .nparams = 3,
    .fit = fit,
};

WB_PLUGIN("cluster_testfit", "1.0")
{
    H = host;
    int rc = host->register_kernel("cluster_test.grad", k_grad);
    if (!rc) rc = host->register_estimator(&gd);
    return rc;
}
