/* shell_demo.c — a small plugin for the shell's tests (tests/sh/shell_*.sh,
 * tests/lua/shell_*.lua):
 *   - data source `shelldemo`: row r (1-based), column j holds r + j/10, the
 *     label is r % 2, so what the shell prints can be checked exactly;
 *   - kernel `shelldemo.spin`: loops until the work is cancelled (Ctrl-C), so
 *     an interrupt of a long C map over partitions can be tested; it gives up
 *     with an error after `seconds` (its argument: doubles {seconds, deaf});
 *     when deaf is nonzero it does not poll the cancel flag at all; when
 *     the environment names a file in WB_SPIN_MARK, it creates that file as
 *     it starts (a test waits for it instead of sleeping);
 *   - estimator `shelldemo_mean`: column means (a map_sum), with a parameter
 *     schema of each kind for help(). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wb/plugin.h"

static const wb_host *H;

typedef struct fill_arg {
    int64_t row0, rows, cols, labels;
} fill_arg;

static int k_fill(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    (void)nin;
    fill_arg a;
    if (arglen != sizeof a) return H->seterr(WB_EINVAL, "shelldemo.fill: bad argument");
    memcpy(&a, arg, sizeof a);
    double *x, *y;
    int rc = H->out_part(ctx, a.rows, a.cols, a.row0, (int)a.labels, &x, &y);
    if (rc) return rc;
    for (int64_t i = 0; i < a.rows; i++) {
        int64_t r = a.row0 + i + 1;
        for (int64_t j = 0; j < a.cols; j++) x[i * a.cols + j] = (double)r + (double)(j + 1) / 10.0;
        if (y) y[i] = (double)(r % 2);
    }
    return 0;
}

static int64_t src_cols(const wb_params *p) { return H->param_int(p, "features"); }
static int src_nclasses(const wb_params *p) { return H->param_bool(p, "labels") ? 2 : 0; }

static int src_make(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    int64_t cols = src_cols(p), P = H->param_int(p, "partition_rows");
    int np = (int)((hi - lo + P - 1) / P);
    wb_oid *ids = H->alloc((size_t)(np > 0 ? np : 1) * sizeof *ids);
    if (!ids) return H->seterr(WB_ENOMEM, "out of memory");
    int rc = 0, made = 0;
    for (int i = 0; i < np && !rc; i++) {
        fill_arg a = {lo + (int64_t)i * P, 0, cols, H->param_bool(p, "labels")};
        a.rows = hi - a.row0 < P ? hi - a.row0 : P;
        rc = H->submit(ex, "shelldemo.fill", NULL, 0, &a, sizeof a, &ids[i]);
        if (!rc) made++;
    }
    if (!rc) rc = H->wait(ex, ids, made);
    if (!rc) rc = H->ds_from_parts(ex, ids, made, out);
    for (int i = 0; i < made; i++) H->release(ex, ids[i]);
    H->free(ids);
    return rc;
}

static const wb_param_spec src_params[] = {
    {.name = "n", .types = WB_P_INT, .min = 1, .max = 1e12, .doc = "rows"},
    {.name = "features", .types = WB_P_INT, .def = "3", .min = 1, .max = 1e6, .doc = "columns"},
    {.name = "labels", .types = WB_P_BOOL, .def = "true", .doc = "rows carry a label (r % 2)"},
    {.name = "partition_rows", .types = WB_P_INT, .def = "4096", .min = WB_BLOCK_ROWS, .max = 1e9,
     .doc = "rows per partition (a multiple of 4096)"},
};

static int src_check(const wb_params *p)
{
    if (H->param_int(p, "partition_rows") % WB_BLOCK_ROWS)
        return H->seterr(WB_EPARAM, "parameter 'partition_rows' must be a multiple of %d, got %lld",
                         WB_BLOCK_ROWS, (long long)H->param_int(p, "partition_rows"));
    return 0;
}

static const wb_source_def src = {
    .version = WB_SOURCE_V1,
    .name = "shelldemo",
    .doc = "rows r + j/10 with label r % 2 (for the shell's tests)",
    .params = src_params,
    .nparams = 4,
    .check = src_check,
    .make = src_make,
    .nclasses = src_nclasses,
    .cols = src_cols,
};

/* ---------------------------------------------------------------- spin */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int k_spin(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    (void)nin;
    double a[2] = {20, 0};
    if (arglen >= sizeof(double) && arglen <= sizeof a) memcpy(a, arg, arglen);
    double t0 = now();
    const char *mark = getenv("WB_SPIN_MARK");
    if (mark && *mark) {
        FILE *f = fopen(mark, "w");
        if (f) fclose(f);
    }
    volatile double acc = 0;
    (void)acc; /* the work the loop stands for; never read */
    while (a[1] != 0 || !H->cancelled(ctx)) {
        for (int i = 0; i < 100000; i++) acc += (double)i * 1e-9;
        if (now() - t0 > a[0])
            return H->seterr(WB_EINTERNAL, "shelldemo.spin: not cancelled within %g s", a[0]);
    }
    return H->seterr(WB_ECANCELED, "interrupted");
}

/* ---------------------------------------------------------- estimator */

static int k_colsum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    (void)arg;
    (void)arglen;
    const wb_part *p = &in[0].part;
    double *o = H->out_bytes(ctx, (size_t)(p->cols + 1) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t j = 0; j < p->cols; j++) o[j] += p->x[i * p->cols + j];
    o[p->cols] = (double)p->rows;
    return 0;
}

static int est_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    int64_t c = H->ds_cols(d);
    double *s = H->alloc((size_t)(c + 1) * sizeof(double));
    if (!s) return H->seterr(WB_ENOMEM, "out of memory");
    int rc = H->map_sum(ex, "shelldemo.colsum", d, NULL, 0, NULL, 0, s, (size_t)c + 1);
    double scale = H->param_num(p, "scale");
    int sq = strcmp(H->param_str(p, "mode"), "squared") == 0;
    for (int64_t j = 0; !rc && j < c; j++) {
        s[j] = scale * s[j] / s[c];
        if (sq) s[j] *= s[j];
    }
    if (!rc) rc = H->model_set_array(m, "means", s, 1, c);
    if (!rc) rc = H->model_set_num(m, "rows", s[c]);
    if (!rc) rc = H->model_set_str(m, "note", "column means");
    H->free(s);
    return rc;
}

static const wb_param_spec est_params[] = {
    {.name = "scale", .types = WB_P_NUM, .def = "1.0", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "multiply the means by this"},
    {.name = "mode", .types = WB_P_STR, .def = "plain", .choices = "plain|squared",
     .doc = "plain means or their squares"},
    {.name = "iters", .types = WB_P_INT, .def = "10", .min = 1, .max = 100, .doc = "how many times (unused)"},
    {.name = "init", .types = WB_P_ARRAY, .flags = WB_P_NULLABLE, .doc = "starting values (unused)"},
};

static const wb_estimator_def est = {
    .version = WB_ESTIMATOR_V1,
    .name = "shelldemo_mean",
    .doc = "column means (for the shell's tests)",
    .kind = WB_EST_TRANSFORMER,
    .params = est_params,
    .nparams = 4,
    .fit = est_fit,
};

WB_PLUGIN("shelldemo", "1.0")
{
    H = host;
    int rc = host->register_kernel("shelldemo.fill", k_fill);
    if (!rc) rc = host->register_kernel("shelldemo.spin", k_spin);
    if (!rc) rc = host->register_kernel("shelldemo.colsum", k_colsum);
    if (!rc) rc = host->register_source(&src);
    if (!rc) rc = host->register_estimator(&est);
    return rc;
}
