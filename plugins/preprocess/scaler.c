/* scaler.c — the standard scaler: (x - mean) / std per column (scikit-learn's
 * StandardScaler), on the number columns unless told which. Columns it does
 * not scale pass through unchanged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"

static const wb_param_spec scaler_params[] = {
    {.name = "with_mean", .types = WB_P_BOOL, .def = "true", .doc = "subtract the column means"},
    {.name = "with_std", .types = WB_P_BOOL, .def = "true",
     .doc = "divide by the column standard deviations (ddof 0; 1 where it is 0)"},
    {.name = "columns", .types = WB_P_LIST, .flags = WB_P_NULLABLE,
     .doc = "the columns to scale (names or 1-based indices); default: every number column"},
};

static int scaler_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    (void)p;
    int64_t *cols = NULL, n = 0;
    if (H->ds_rows(d) == 0) return H->seterr(WB_EINVAL, "scaler: the data has no rows");
    int rc = wbc_select(H, d, p, "columns", WB_COL_NUMBER, "scaler", &cols, &n);
    if (rc) return rc;
    for (int64_t k = 0; k < n; k++)
        if (H->ds_col_type(d, cols[k]) == WB_COL_CATEGORY) {
            char b[32];
            rc = H->seterr(WB_EPARAM, "scaler: column '%s' holds categories: encode it first (onehot or ordinal)",
                           pp_label(d, cols[k], b, sizeof b));
            free(cols);
            return rc;
        }
    int all = n == H->ds_cols(d);
    for (int64_t k = 0; all && k < n; k++) all = cols[k] == k;
    if (all)
        rc = H->ds_check_finite(ex, d, "scaler");
    else {
        double *st = NULL;
        rc = pp_num_stats(ex, d, cols, n, &st);
        for (int64_t k = 0; !rc && k < n; k++)
            if (st[4 * k + 2] > 0 || st[4 * k + 3] > 0) {
                char b[32];
                rc = H->seterr(WB_EINVAL, "scaler: column '%s' has %s in %.0f rows (impute missing values first)",
                               pp_label(d, cols[k], b, sizeof b), st[4 * k + 2] > 0 ? "NaN" : "Inf",
                               st[4 * k + 2] > 0 ? st[4 * k + 2] : st[4 * k + 3]);
            }
        free(st);
    }
    double *s = rc ? NULL : calloc((size_t)(3 * n + 1), sizeof(double));
    if (!rc && !s) rc = pp_oom("scaler");
    if (rc) {
        free(cols);
        return rc;
    }
    double *mean = s + n + 1, *var = mean + n;
    rc = H->map_sum(ex, "preprocess.colsum", d, NULL, 0, cols, (size_t)n * 8, s, (size_t)n + 1);
    const double rows = s[n];
    for (int64_t k = 0; !rc && k < n; k++) mean[k] = s[k] / rows;
    if (!rc && n > 0) {
        size_t alen = 8 + 16 * (size_t)n;
        unsigned char *a = malloc(alen);
        if (!a) rc = pp_oom("scaler");
        else {
            memcpy(a, &n, 8);
            memcpy(a + 8, cols, (size_t)n * 8);
            memcpy(a + 8 + 8 * (size_t)n, mean, (size_t)n * 8);
            rc = H->map_sum(ex, "preprocess.colsq", d, NULL, 0, a, alen, var, (size_t)n);
            free(a);
        }
    }
    if (!rc) {
        for (int64_t k = 0; k < n; k++) var[k] /= rows;
        rc = H->model_set_array(m, "mean", mean, 1, n);
        if (!rc) rc = H->model_set_array(m, "var", var, 1, n);
        for (int64_t k = 0; k < n; k++) var[k] = var[k] > 0 ? sqrt(var[k]) : 1;
        if (!rc) rc = H->model_set_array(m, "scale", var, 1, n);
        if (!rc) rc = H->model_set_num(m, "n_samples", rows);
        if (!rc) rc = pp_set_model_cols(m, d, cols, n);
    }
    free(s);
    free(cols);
    return rc;
}

static int scaler_apply(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out, int inverse)
{
    int64_t r1, c1, r2, c2;
    const double *mean = H->model_array(m, "mean", &r1, &c1), *scale = H->model_array(m, "scale", &r2, &c2);
    if (!mean || !scale) return H->seterr(WB_EINVAL, "scaler: the model lacks mean and scale");
    /* checked before use: the model may come from a file or have been changed (m:set) */
    if (r1 * c1 != r2 * c2)
        return H->seterr(WB_EINVAL, "scaler: malformed model: 'mean' holds %lld values, 'scale' %lld", (long long)(r1 * c1),
                         (long long)(r2 * c2));
    for (int64_t j = 0; j < r1 * c1; j++)
        if (!isfinite(mean[j]) || !isfinite(scale[j]) || scale[j] == 0)
            return H->seterr(WB_EINVAL,
                             "scaler: malformed model: column %lld has mean %g and scale %g (finite, and a scale "
                             "other than 0, expected)",
                             (long long)j + 1, mean[j], scale[j]);
    if (H->param_type(H->model_params(m), "with_mean") != WB_P_BOOL ||
        H->param_type(H->model_params(m), "with_std") != WB_P_BOOL)
        return H->seterr(WB_EINVAL, "scaler: malformed model: its parameters 'with_mean' and 'with_std' must be booleans");
    int64_t *cols = NULL, n = 0;
    int rc = pp_model_cols(m, d, "scaler", &cols, &n);
    if (rc) return rc;
    if (r1 * c1 != n) {
        free(cols);
        if (!H->model_has(m, "columns"))
            return H->seterr(WB_EINVAL, "scaler: fitted on %lld columns, the data has %lld", (long long)(r1 * c1),
                             (long long)H->ds_cols(d));
        return H->seterr(WB_EFORMAT, "scaler: the model's mean has %lld values for %lld columns", (long long)(r1 * c1),
                         (long long)n);
    }
    const wb_params *p = H->model_params(m);
    const int with_mean = H->param_bool(p, "with_mean"), with_std = H->param_bool(p, "with_std");
    const int64_t dc = H->ds_cols(d);
    int64_t *which = malloc((size_t)(dc > 0 ? dc : 1) * sizeof *which);
    if (!which) {
        free(cols);
        return pp_oom("scaler");
    }
    for (int64_t j = 0; j < dc; j++) which[j] = -1;
    for (int64_t k = 0; k < n; k++) which[cols[k]] = k;
    pp_prog g;
    pp_prog_init(&g, dc, "scaler", NULL);
    g.h.dout = dc;
    g.h.inverse = inverse;
    for (int64_t j = 0; j < dc; j++) {
        int64_t k = which[j];
        pp_op *o = pp_prog_op(&g, k < 0 ? PP_COPY : PP_SCALE, j, j, NULL, 0);
        if (o && k >= 0) {
            if (H->ds_col_type(d, j) == WB_COL_CATEGORY) {
                char b[32];
                rc = H->seterr(WB_EINVAL, "scaler: column '%s' holds categories in the data, numbers when fitted",
                               pp_label(d, j, b, sizeof b));
                break;
            }
            o->a = with_mean ? mean[k] : 0;
            o->b = with_std ? scale[k] : 1;
        }
    }
    if (!rc) rc = pp_prog_run(ex, &g, d, out);
    if (!rc && (rc = H->ds_copy_cols(*out, d, NULL, dc, 1)) != 0) H->ds_unref(*out);
    pp_prog_free(&g);
    free(which);
    free(cols);
    return rc;
}

static int scaler_transform(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return scaler_apply(ex, m, d, out, 0);
}

static int scaler_inverse(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return scaler_apply(ex, m, d, out, 1);
}

const wb_estimator_def pp_scaler_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "scaler",
    .doc = "standard scaler: (x - mean) / std per column (scikit-learn's StandardScaler); number columns unless told",
    .kind = WB_EST_TRANSFORMER,
    .params = scaler_params,
    .nparams = sizeof scaler_params / sizeof scaler_params[0],
    .fit = scaler_fit,
    .transform = scaler_transform,
    .inverse_transform = scaler_inverse,
};
