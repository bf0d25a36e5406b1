/* prepare.c — the checks logreg and sgd share before they fit: no category
 * columns (lin_no_categories, also before predicting), labels (integer
 * classes, two or more), class weights, and the NaN/Inf check on x that
 * rides the fit's first pass (lin_finite_first). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"

/* ------------------------------------------------------------ class counts */

/* linear.class_counts (map_sum): arg = the sorted classes; out = rows per class */
int lin_k_class_counts(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    const wb_part *p = &in[0].part;
    int n = (int)(arglen / sizeof(double));
    const double *cls = arg;
    if (!p->y) return H->seterr(WB_EINVAL, "the data has no labels");
    double *o = H->out_bytes(ctx, (size_t)n * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        int c = lin_class_index(cls, n, p->y[i]);
        if (c < 0)
            return H->seterr(WB_EINVAL, "label %g at row %lld is not one of the classes", p->y[i],
                               (long long)(p->row0 + i + 1));
        o[c] += 1;
    }
    return 0;
}

void lin_classes_free(lin_classes *c)
{
    H->free(c->values);
    free(c->counts);
    free(c->weights);
    memset(c, 0, sizeof *c);
}

static void list_classes(char *buf, size_t len, const double *v, int n)
{
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < n && k + 32 < len; i++) k += (size_t)snprintf(buf + k, len - k, "%s%g", i ? ", " : "", v[i]);
    if (n > 0 && k + 32 >= len) snprintf(buf + k, len - k, ", ...");
}

int lin_finite_first(wb_exec *ex, const wb_dataset *d, const char *who, int rc)
{
    if (!rc || rc == WB_ECANCELED) return rc;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", H->errmsg());
    int frc = H->ds_check_finite(ex, d, who);
    return frc ? frc : H->seterr(rc, "%s", msg);
}

int lin_no_categories(const wb_dataset *d, const char *who)
{
    for (int64_t j = 0; j < H->ds_cols(d); j++)
        if (H->ds_col_type(d, j) == WB_COL_CATEGORY) {
            const char *n = H->ds_col_name(d, j);
            char buf[32];
            if (!n || !*n) snprintf(buf, sizeof buf, "x%lld", (long long)j + 1), n = buf;
            return H->seterr(WB_EINVAL, "%s: column '%s' holds categories: encode it first, e.g. "
                                        "wb.pipeline{\"onehot\", \"%s\"}", who, n, who);
        }
    return 0;
}

/* the classes and their weights (lin_prepare after its first checks) */
static int prepare_classes(wb_exec *ex, const wb_dataset *d, const wb_params *p, const char *who,
                           lin_classes *c)
{
    int rc = H->ds_classes(ex, d, who, 10000, &c->values, &c->n);
    if (rc) return rc;
    if (c->n < 2) {
        rc = H->seterr(WB_EINVAL, "%s: the labels have a single class (%g); at least 2 are needed", who,
                         c->values[0]);
        lin_classes_free(c);
        return rc;
    }
    c->counts = calloc((size_t)c->n, sizeof(double));
    c->weights = calloc((size_t)c->n, sizeof(double));
    if (!c->counts || !c->weights) {
        lin_classes_free(c);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    c->rows = (double)H->ds_rows(d);
    for (int i = 0; i < c->n; i++) c->weights[i] = 1;
    c->wsum = c->rows;
    if (!H->param_has(p, "class_weight")) return 0; /* no counts needed: one pass less */
    rc = H->map_sum(ex, "linear.class_counts", d, NULL, 0, c->values, (size_t)c->n * sizeof(double),
                      c->counts, (size_t)c->n);
    if (rc) {
        lin_classes_free(c);
        return rc;
    }
    {
        const char *s = H->param_str(p, "class_weight");
        if (s) { /* "balanced": n / (classes * count) as in scikit-learn */
            for (int i = 0; i < c->n; i++) c->weights[i] = c->rows / (c->n * c->counts[i]);
        } else {
            int64_t r, k;
            const double *w = H->param_array(p, "class_weight", &r, &k);
            char buf[256];
            list_classes(buf, sizeof buf, c->values, c->n);
            if (r * k != c->n) {
                rc = H->seterr(WB_EPARAM,
                                 "%s: parameter 'class_weight' has %lld weights for %d classes (%s); give one per class in that order",
                                 who, (long long)(r * k), c->n, buf);
                lin_classes_free(c);
                return rc;
            }
            for (int i = 0; i < c->n; i++) {
                if (!(w[i] > 0) || !isfinite(w[i])) {
                    rc = H->seterr(WB_EPARAM, "%s: parameter 'class_weight' must hold numbers > 0, got %g for class %g",
                                     who, w[i], c->values[i]);
                    lin_classes_free(c);
                    return rc;
                }
                c->weights[i] = w[i];
            }
        }
    }
    c->wsum = 0;
    for (int i = 0; i < c->n; i++) c->wsum += c->weights[i] * c->counts[i];
    return 0;
}

int lin_prepare(wb_exec *ex, const wb_dataset *d, const wb_params *p, const char *who,
                lin_classes *c)
{
    memset(c, 0, sizeof *c);
    if (!H->ds_has_labels(d)) return H->seterr(WB_EINVAL, "%s: the data has no labels", who);
    if (H->ds_rows(d) == 0) return H->seterr(WB_EINVAL, "%s: the data has no rows", who);
    int rc = lin_no_categories(d, who);
    if (rc) return rc;
    /* no pass of its own for NaN/Inf in x: the fit's first pass checks it (a
     * NaN/Inf label fails the class scan); an error before then is reported as
     * the finite check would have reported it first */
    return lin_finite_first(ex, d, who, prepare_classes(ex, d, p, who, c));
}
