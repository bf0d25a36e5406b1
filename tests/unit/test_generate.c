/* test_generate.c — data from a registered source (generate.c): parameters
 * checked first, the source's own checks prefixed with its name, the shape
 * it made verified; source registration rules. */
#include "wbtest.h"

#include <math.h>

static const wb_host *H;

/* t.fill: arg {i64 rows, i64 cols, i64 row0} -> x[i][j] = (row0 + i) * 10 + j */
static int k_fill(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)nin;
    int64_t a[3];
    if (arglen != sizeof a) return H->seterr(WB_EINVAL, "t.fill: bad argument");
    memcpy(a, arg, sizeof a);
    double *x, *y;
    int rc = H->out_part(ctx, a[0], a[1], a[2], 1, &x, &y);
    if (rc) return rc;
    for (int64_t i = 0; i < a[0]; i++) {
        for (int64_t j = 0; j < a[1]; j++) x[i * a[1] + j] = (double)((a[2] + i) * 10 + j);
        y[i] = (double)((a[2] + i) % 2);
    }
    return 0;
}

static int64_t cols_of(const wb_params *p) { return H->param_int(p, "cols"); }
static int nclasses_of(const wb_params *p)
{
    (void)p;
    return 2;
}

static int check(const wb_params *p)
{
    if (H->param_int(p, "cols") > H->param_int(p, "n")) return H->seterr(WB_EPARAM, "cols must not exceed n");
    if (H->param_int(p, "cols") == 7) return H->seterr(WB_EPARAM, "datagen.t.counter: seven is unlucky");
    if (H->param_int(p, "cols") == 8) return 1; /* a positive code, no words */
    return 0;
}

/* one task per partition, partitions of the core's size */
static int make(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    int64_t cols = cols_of(p), P = wb_partition_rows(cols);
    int np = (int)((hi - lo + P - 1) / P);
    wb_oid *parts = calloc((size_t)(np ? np : 1), sizeof *parts);
    int rc = 0;
    for (int k = 0; k < np && !rc; k++) {
        int64_t r0 = lo + k * P, rows = hi - r0 < P ? hi - r0 : P, a[3] = {rows, cols, r0};
        rc = H->submit(ex, "t.fill", NULL, 0, a, sizeof a, &parts[k]);
    }
    if (!rc) rc = H->ds_from_parts(ex, parts, np, out);
    for (int k = 0; k < np; k++) H->release(ex, parts[k]);
    free(parts);
    return rc;
}

/* makes one row fewer than asked */
static int make_short(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    return make(ex, p, lo, hi - 1, out);
}

static const wb_param_spec params[] = {
    {"n", WB_P_INT, NULL, 1, INFINITY, 0, NULL, "rows"},
    {"cols", WB_P_INT, "2", 1, 100, 0, NULL, "columns"},
};
static const wb_source_def counter = {WB_SOURCE_V1, "t.counter", "rows of counts", params, 2,
                                      check, make, nclasses_of, cols_of};
static const wb_source_def shorter = {WB_SOURCE_V1, "t.short", "one row short", params, 2,
                                      NULL, make_short, nclasses_of, cols_of};

static int setup(void **state)
{
    (void)state;
    wb_core_init();
    H = wb_host_table();
    if (wb_register_kernel("t.fill", k_fill) || wb_register_source(&counter) || wb_register_source(&shorter))
        return -1;
    return 0;
}

static wb_params *np(int64_t n, int64_t cols)
{
    wb_params *p = wb_params_new();
    wb_params_set_int(p, "n", n);
    if (cols) wb_params_set_int(p, "cols", cols);
    return p;
}

static void generate(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(2);
    wb_params *p = np(300000, 3);
    wb_dataset *d;
    assert_ok(wb_generate(ex, "t.counter", p, &d));
    assert_int_equal(d->n, 300000);
    assert_int_equal(d->d, 3);
    assert_true(d->has_labels);
    assert_int_equal(d->nparts, (300000 + wb_partition_rows(3) - 1) / wb_partition_rows(3));
    double x[6], y[2];
    assert_ok(wb_ds_read_rows(d, 299998, 300000, x, y));
    assert_true(x[0] == 2999980 && x[5] == 2999992 && y[0] == 0 && y[1] == 1);
    wb_ds_unref(d);
    wb_params_free(p);
    /* the default filled in */
    p = np(10, 0);
    assert_ok(wb_generate(ex, "t.counter", p, &d));
    assert_int_equal(d->d, 2);
    wb_ds_unref(d);
    wb_params_free(p);
    assert_int_equal(wb_store_count(wb_exec_local_store(ex)), 0);
    wb_exec_unref(ex);
}

static void refused(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(1);
    wb_dataset *d;
    wb_params *p = np(0, 2);
    assert_err(wb_generate(ex, "t.counter", p, &d), WB_EPARAM,
               "datagen.t.counter: parameter 'n' must be an integer >= 1, got 0");
    wb_params_free(p);
    p = np(5, 6);
    assert_err(wb_generate(ex, "t.counter", p, &d), WB_EPARAM, "datagen.t.counter: cols must not exceed n");
    wb_params_free(p);
    p = np(50, 7); /* a message that names the source already is not prefixed twice */
    assert_err(wb_generate(ex, "t.counter", p, &d), WB_EPARAM, "datagen.t.counter: seven is unlucky");
    wb_params_free(p);
    p = np(50, 8);
    assert_err(wb_generate(ex, "t.counter", p, &d), WB_EPARAM, "datagen.t.counter: bad parameter");
    wb_params_free(p);
    p = wb_params_new();
    assert_err(wb_generate(ex, "t.counter", p, &d), WB_EPARAM, "datagen.t.counter: parameter 'n' is required");
    wb_params_set_str(p, "n", "many");
    assert_err(wb_generate(ex, "t.counter", p, &d), WB_EPARAM,
               "datagen.t.counter: parameter 'n' must be an integer >= 1, got string \"many\"");
    wb_params_free(p);
    p = np(10, 2);
    assert_err(wb_generate(ex, "t.short", p, &d), WB_EINTERNAL, "datagen.t.short: made 9 x 2, expected 10 x 2");
    assert_err(wb_generate(ex, "t.nothing", p, &d), WB_ENOTFOUND, "no data source named 't.nothing'");
    wb_params_free(p);
    assert_int_equal(wb_store_count(wb_exec_local_store(ex)), 0);
    wb_exec_unref(ex);
}

static int fit0(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    (void)ex, (void)d, (void)p, (void)m;
    return 0;
}

/* an estimator failing without words: in its check (mode 1) or its fit (mode 2, 3) */
static int quiet_check(const wb_params *p, const wb_dataset *d)
{
    (void)d;
    return H->param_int(p, "mode") == 1 ? 1 : 0;
}
static int quiet_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    (void)ex, (void)d, (void)m;
    return H->param_int(p, "mode") == 2 ? WB_EIO : H->param_int(p, "mode") == 3 ? 5 : 0;
}

static void estimators_failing_quietly(void **state)
{
    (void)state;
    static const wb_param_spec mode[] = {{"mode", WB_P_INT, "0", 0, 3, 0, NULL, NULL}};
    static const wb_estimator_def q = {.version = WB_ESTIMATOR_V1, .name = "t.quiet", .params = mode,
                                       .nparams = 1, .check = quiet_check, .fit = quiet_fit};
    assert_ok(wb_register_estimator(&q));
    wb_exec *ex = wb_exec_local_new(1);
    double x[2] = {1, 2};
    wb_dataset *d;
    assert_ok(wb_ds_from_memory(ex, x, NULL, 2, 1, &d));
    wb_model *m;
    const char *want[4] = {NULL, "t.quiet: bad parameter", "t.quiet: input/output error", "t.quiet: fit returned 5"};
    int codes[4] = {0, WB_EPARAM, WB_EIO, WB_EINTERNAL};
    for (int k = 1; k <= 3; k++) {
        wb_seterr(WB_EINVAL, "a stale message from before");
        wb_params *p = wb_params_new();
        wb_params_set_int(p, "mode", k);
        assert_err(H->fit(ex, "t.quiet", d, p, &m), codes[k], want[k]);
        wb_params_free(p);
    }
    assert_ok(H->fit(ex, "t.quiet", d, NULL, &m));
    assert_int_equal(wb_params_int(wb_model_params(m), "mode"), 0);
    wb_model_free(m);
    wb_ds_unref(d);
    wb_exec_unref(ex);
}

static void registration_rules(void **state)
{
    (void)state;
    static const wb_param_spec non[] = {{"rows", WB_P_INT, "1", 1, INFINITY, 0, NULL, NULL}};
    wb_source_def s = {WB_SOURCE_V1, "t.non", NULL, non, 1, NULL, make, NULL, cols_of};
    assert_err(wb_register_source(&s), WB_EINVAL, "register_source: 't.non' has no parameter 'n'");
    s.version = 9;
    assert_err(wb_register_source(&s), WB_EABI, "register_source: descriptor version 9, host knows 1");
    s = counter;
    assert_err(wb_register_source(&s), WB_EEXIST, "register_source: a source named 't.counter' exists");
    s.name = "bad name";
    assert_err(wb_register_source(&s), WB_EINVAL, "register_source: needs a name, make and cols");
    static const wb_param_spec baddef[] = {{"n", WB_P_INT, "0", 1, INFINITY, 0, NULL, NULL}};
    s = (wb_source_def){WB_SOURCE_V1, "t.baddef", NULL, baddef, 1, NULL, make, NULL, cols_of};
    assert_err(wb_register_source(&s), WB_EPARAM,
               "bad default: t.baddef: parameter 'n' must be an integer >= 1, got 0");
    /* schemas: names twice, empty ranges */
    static const wb_param_spec twice[] = {{"n", WB_P_INT, "1", 1, INFINITY, 0, NULL, NULL},
                                          {"n", WB_P_INT, "1", 1, INFINITY, 0, NULL, NULL}};
    s = (wb_source_def){WB_SOURCE_V1, "t.twice", NULL, twice, 2, NULL, make, NULL, cols_of};
    assert_err(wb_register_source(&s), WB_EINVAL, "t.twice: parameter 'n' listed twice");
    static const wb_param_spec empty[] = {{"k", WB_P_NUM, NULL, 5, 1, 0, NULL, NULL}};
    wb_estimator_def e = {.version = WB_ESTIMATOR_V1, .name = "t.empty", .params = empty, .nparams = 1, .fit = fit0};
    assert_err(wb_register_estimator(&e), WB_EINVAL, "t.empty: parameter 'k' has an empty range");
    e.params = NULL;
    e.nparams = 0;
    e.fit = NULL;
    assert_err(wb_register_estimator(&e), WB_EINVAL, "register_estimator: needs a name and a fit function");
    assert_null(wb_source_find("t.baddef"));
    assert_null(wb_estimator_find("t.empty"));
    assert_ptr_equal(wb_source_find("t.counter"), &counter);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generate),
        cmocka_unit_test(refused),
        cmocka_unit_test(registration_rules),
        cmocka_unit_test(estimators_failing_quietly),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
