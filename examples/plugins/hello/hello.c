/*
 * hello.c — a small wb plugin built out of tree against the installed
 * header, the way a third party writes one:
 *
 *     make                        # cc $(pkg-config --cflags wb) -fPIC -shared -o hello.so hello.c
 *     wb -e 'wb.plugin.load("./hello.so"); print(wb.hello.greet("world"))'
 *
 * It registers
 *   - kernels: hello.norms (one partition in, one partition out: each row's
 *     length) and hello.colsum (a block kernel for map_sum: column sums and a
 *     row count),
 *   - an estimator, hello.centroid: the mean row plus `shift`, with a
 *     transform that subtracts it,
 *   - a Lua chunk: wb.hello.greet / norms / total, front-ends over the kernels.
 *
 * It includes only <wb/plugin.h> and never links against the wb core: every
 * call goes through the function table handed to wb_plugin_init.
 */
#include <wb/plugin.h>

static const wb_host *H; /* the host's function table, kept at init */

/* hello.norms: in[0] a partition -> a one-column partition of row lengths */
static int k_norms(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    const wb_part *p = &in[0].part;
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, 1, p->row0, p->y != NULL, &x, &y);
    if (rc) return rc;
    for (int64_t i = 0; i < p->rows; i++) {
        double s = 0;
        for (int64_t j = 0; j < p->cols; j++) s += p->x[i * p->cols + j] * p->x[i * p->cols + j];
        x[i] = sqrt(s);
        if (y) y[i] = p->y[i];
    }
    return 0;
}

/* hello.colsum: one block -> cols + 1 doubles (column sums, then the row count);
 * map_sum adds the blocks in a fixed order, so the result never depends on
 * the number of threads or workers */
static int k_colsum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    const wb_part *p = &in[0].part;
    double *o = H->out_bytes(ctx, (size_t)(p->cols + 1) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t j = 0; j < p->cols; j++) o[j] += p->x[i * p->cols + j];
    o[p->cols] = (double)p->rows;
    return 0;
}

/* hello.center: x minus the centroid given as argument bytes */
static int k_center(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    const wb_part *p = &in[0].part;
    const double *c = arg;
    if (arglen != (size_t)p->cols * sizeof(double))
        return H->seterr(WB_EINVAL, "hello.center: %zu bytes of centroid for %lld columns", arglen,
                            (long long)p->cols);
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, p->cols, p->row0, p->y != NULL, &x, &y);
    if (rc) return rc;
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t j = 0; j < p->cols; j++) x[i * p->cols + j] = p->x[i * p->cols + j] - c[j];
    if (y) memcpy(y, p->y, (size_t)p->rows * sizeof(double));
    return 0;
}

/* the estimator ------------------------------------------------------------ */

static int fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    int64_t cols = H->ds_cols(d);
    double *s = H->alloc((size_t)(cols + 1) * sizeof(double));
    if (!s) return H->seterr(WB_ENOMEM, "hello.centroid: out of memory");
    int rc = H->map_sum(ex, "hello.colsum", d, NULL, 0, NULL, 0, s, (size_t)cols + 1);
    if (!rc && s[cols] == 0) rc = H->seterr(WB_EINVAL, "hello.centroid: the data has no rows");
    if (!rc) {
        double shift = H->param_num(p, "shift");
        for (int64_t j = 0; j < cols; j++) s[j] = s[j] / s[cols] + shift;
        rc = H->model_set_array(m, "centroid", s, 1, cols);
        if (!rc) rc = H->model_set_num(m, "n", s[cols]);
    }
    H->free(s);
    return rc;
}

static int transform(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    int64_t rows, cols;
    const double *c = H->model_array(m, "centroid", &rows, &cols);
    if (!c || cols != H->ds_cols(d))
        return H->seterr(WB_EINVAL, "hello.centroid: fitted on %lld columns, the data has %lld",
                            (long long)(c ? cols : 0), (long long)H->ds_cols(d));
    return H->map_dataset(ex, "hello.center", d, NULL, 0, c, (size_t)cols * sizeof(double), out);
}

static const wb_param_spec params[] = {
    {.name = "shift", .types = WB_P_NUM, .def = "0", .min = -INFINITY, .max = INFINITY,
     .doc = "added to every coordinate of the centroid"},
};

static const wb_estimator_def centroid = {
    .version = WB_ESTIMATOR_V1,
    .name = "hello.centroid",
    .doc = "the mean row of the data (an example estimator)",
    .kind = WB_EST_TRANSFORMER,
    .params = params,
    .nparams = 1,
    .fit = fit,
    .transform = transform,
};

/* Lua front-ends, run at load with the wb table as argument */
static const char lua_src[] =
    "local wb = ...\n"
    "wb.hello = {}\n"
    "function wb.hello.greet(who)\n"
    "  if type(who) ~= 'string' then\n"
    "    error(\"bad argument #1 to 'greet' (string expected, got \" .. type(who) .. ')', 2)\n"
    "  end\n"
    "  return 'hello, ' .. who\n"
    "end\n"
    "-- the length of each row, as a one-column dataset aligned with d\n"
    "function wb.hello.norms(d) return wb.core.map_dataset('hello.norms', d) end\n"
    "-- column sums and the row count, summed in a fixed order over blocks\n"
    "function wb.hello.total(d)\n"
    "  local s = wb.core.map_sum('hello.colsum', d, nil, '', d:cols() + 1)\n"
    "  local n = table.remove(s)\n"
    "  return s, n\n"
    "end\n";

static const wb_kernel_def kernels[] = {
    {.name = "hello.norms", .fn = k_norms},
    {.name = "hello.colsum", .fn = k_colsum},
    {.name = "hello.center", .fn = k_center},
};

WB_PLUGIN("hello", "1.0")
{
    /* registration is only allowed here; a failure refuses the whole plugin */
    H = host;
    int rc = wb_register_kernels(host, kernels, sizeof kernels / sizeof kernels[0]);
    if (!rc) rc = host->register_estimator(&centroid);
    if (!rc) rc = host->register_lua("hello", lua_src);
    return rc;
}
