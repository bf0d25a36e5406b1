/* good.c — a well-behaved test plugin: kernels, an estimator with a schema,
 * a Lua chunk. Only wb/plugin.h is used. */
#include <wb/plugin.h>

static const wb_host *H;

/* map_dataset: x * 2, labels kept */
static int k_double(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    const wb_part *p = &in[0].part;
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, p->cols, p->row0, p->y != NULL, &x, &y);
    if (rc) return rc;
    for (int64_t i = 0; i < p->rows * p->cols; i++) x[i] = 2 * p->x[i];
    if (y) memcpy(y, p->y, (size_t)p->rows * sizeof *y);
    return 0;
}

/* block kernel: column sums, then the row count */
static int k_colsum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    const wb_part *p = &in[0].part;
    double *o = H->out_bytes(ctx, (size_t)(p->cols + 1) * sizeof(double));
    if (!o) return -2;
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t j = 0; j < p->cols; j++) o[j] += p->x[i * p->cols + j];
    o[p->cols] = (double)p->rows;
    return 0;
}

/* tries to register a kernel while running: writes {rc} then the message */
static int k_late(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)nin, (void)arg, (void)arglen;
    int rc = H->register_kernel("good.sneaky", k_late);
    const char *m = H->errmsg();
    size_t l = strlen(m);
    char *o = H->out_bytes(ctx, sizeof rc + l);
    if (!o) return -2;
    memcpy(o, &rc, sizeof rc);
    memcpy(o + sizeof rc, m, l);
    return 0;
}

/* the sum of everything: a partition's x values, a byte object's doubles, the
 * argument's doubles -> one double */
static int k_sum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    double s = 0, v;
    for (int i = 0; i < nin; i++) {
        if (in[i].type == WB_OBJ_PART)
            for (int64_t k = 0; k < in[i].part.rows * in[i].part.cols; k++) s += in[i].part.x[k];
        else if (in[i].size % sizeof v)
            return H->seterr(WB_EINVAL, "good.sum: input %d has %zu bytes, not doubles", i + 1, in[i].size);
        else
            for (size_t k = 0; k < in[i].size / sizeof v; k++) {
                memcpy(&v, (const char *)in[i].data + k * sizeof v, sizeof v);
                s += v;
            }
    }
    for (size_t k = 0; k + sizeof v <= arglen; k += sizeof v) {
        memcpy(&v, (const char *)arg + k, sizeof v);
        s += v;
    }
    double *o = H->out_bytes(ctx, sizeof s);
    if (!o) return -2;
    *o = s;
    return 0;
}

/* always fails, with the argument in its message */
static int k_fail(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx, (void)in, (void)nin;
    return H->seterr(WB_EINVAL, "good.fail: %.*s", (int)arglen, (const char *)arg);
}

/* the estimator: column means times `scale` */
static int fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    int64_t cols = H->ds_cols(d);
    double sums[65];
    if (cols > 64) return H->seterr(WB_EINVAL, "good.mean: at most 64 columns");
    int rc = H->map_sum(ex, "good.colsum", d, NULL, 0, NULL, 0, sums, (size_t)cols + 1);
    if (rc) return rc;
    double scale = H->param_num(p, "scale");
    for (int64_t j = 0; j < cols; j++) sums[j] = sums[j] / sums[cols] * scale;
    rc = H->model_set_array(m, "mean", sums, 1, cols);
    if (!rc) rc = H->model_set_num(m, "rows", sums[cols]);
    if (!rc && H->param_has(p, "tag")) rc = H->model_set_str(m, "tag", H->param_str(p, "tag"));
    return rc;
}

static int check(const wb_params *p, const wb_dataset *d)
{
    (void)d;
    if (H->param_num(p, "scale") > 100 && H->param_bool(p, "strict"))
        return H->seterr(WB_EPARAM, "scale above 100 needs strict = false");
    return 0;
}

static const wb_param_spec params[] = {
    {.name = "scale", .types = WB_P_NUM, .def = "1", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "multiplies the means"},
    {.name = "strict", .types = WB_P_BOOL, .def = "true", .doc = "refuse large scales"},
    {.name = "tag", .types = WB_P_STR, .flags = WB_P_NULLABLE, .doc = "a note kept in the model"},
};

static const wb_estimator_def est = {
    .version = WB_ESTIMATOR_V1,
    .name = "good.mean",
    .doc = "column means (a test estimator)",
    .kind = WB_EST_TRANSFORMER,
    .needs_labels = 1,
    .params = params,
    .nparams = 3,
    .check = check,
    .fit = fit,
};

static const wb_kernel_def kernels[] = {
    {.name = "good.double", .fn = k_double},
    {.name = "good.colsum", .fn = k_colsum},
    {.name = "good.late", .fn = k_late},
    {.name = "good.sum", .fn = k_sum},
    {.name = "good.fail", .fn = k_fail},
};

WB_PLUGIN("good", "1.2")
{
    H = host;
    if (host->abi != WB_PLUGIN_ABI || host->size < sizeof(wb_host)) return -6;
    int rc = wb_register_kernels(host, kernels, sizeof kernels / sizeof kernels[0]);
    if (!rc) rc = host->register_estimator(&est);
    if (!rc) rc = host->register_lua("good", "local wb = ...\nwb.good = {answer = 42}\n");
    return rc;
}
