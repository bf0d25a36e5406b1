/* linear.c — the linear plugin: registration, the checks shared by logreg and
 * sgd (finite data, integer labels, two or more classes, class weights), and
 * prediction with a fitted coefficient matrix. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"

const wb_host *api;

/* ------------------------------------------------------------ class counts */

/* linear.class_counts (map_sum): arg = the sorted classes; out = rows per class */
int lin_k_class_counts(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    const wb_part *p = &in[0].part;
    int n = (int)(arglen / sizeof(double));
    const double *cls = arg;
    if (!p->y) return api->seterr(WB_EINVAL, "the data has no labels");
    double *o = api->out_bytes(ctx, (size_t)n * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        int c = lin_class_index(cls, n, p->y[i]);
        if (c < 0)
            return api->seterr(WB_EINVAL, "label %g at row %lld is not one of the classes", p->y[i],
                               (long long)(p->row0 + i + 1));
        o[c] += 1;
    }
    return 0;
}

void lin_classes_free(lin_classes *c)
{
    api->free(c->values);
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
    snprintf(msg, sizeof msg, "%s", api->errmsg());
    int frc = api->ds_check_finite(ex, d, who);
    return frc ? frc : api->seterr(rc, "%s", msg);
}

/* refuse category columns: their codes are not quantities */
static int no_categories(const wb_dataset *d, const char *who)
{
    for (int64_t j = 0; j < api->ds_cols(d); j++)
        if (api->ds_col_type(d, j) == WB_COL_CATEGORY) {
            const char *n = api->ds_col_name(d, j);
            char buf[32];
            if (!n || !*n) snprintf(buf, sizeof buf, "x%lld", (long long)j + 1), n = buf;
            return api->seterr(WB_EINVAL, "%s: column '%s' holds categories: encode it first, e.g. "
                                          "wb.pipeline{\"onehot\", \"%s\"}", who, n, who);
        }
    return 0;
}

/* the classes and their weights (lin_prepare after its first checks) */
static int prepare_classes(wb_exec *ex, const wb_dataset *d, const wb_params *p, const char *who,
                           lin_classes *c)
{
    int rc = api->ds_classes(ex, d, who, 10000, &c->values, &c->n);
    if (rc) return rc;
    if (c->n < 2) {
        rc = api->seterr(WB_EINVAL, "%s: the labels have a single class (%g); at least 2 are needed", who,
                         c->values[0]);
        lin_classes_free(c);
        return rc;
    }
    c->counts = calloc((size_t)c->n, sizeof(double));
    c->weights = calloc((size_t)c->n, sizeof(double));
    if (!c->counts || !c->weights) {
        lin_classes_free(c);
        return api->seterr(WB_ENOMEM, "out of memory");
    }
    c->rows = (double)api->ds_rows(d);
    for (int i = 0; i < c->n; i++) c->weights[i] = 1;
    c->wsum = c->rows;
    if (!api->param_has(p, "class_weight")) return 0; /* no counts needed: one pass less */
    rc = api->map_sum(ex, "linear.class_counts", d, NULL, 0, c->values, (size_t)c->n * sizeof(double),
                      c->counts, (size_t)c->n);
    if (rc) {
        lin_classes_free(c);
        return rc;
    }
    {
        const char *s = api->param_str(p, "class_weight");
        if (s) { /* "balanced": n / (classes * count) as in scikit-learn */
            for (int i = 0; i < c->n; i++) c->weights[i] = c->rows / (c->n * c->counts[i]);
        } else {
            int64_t r, k;
            const double *w = api->param_array(p, "class_weight", &r, &k);
            char buf[256];
            list_classes(buf, sizeof buf, c->values, c->n);
            if (r * k != c->n) {
                rc = api->seterr(WB_EPARAM,
                                 "%s: parameter 'class_weight' has %lld weights for %d classes (%s); give one per class in that order",
                                 who, (long long)(r * k), c->n, buf);
                lin_classes_free(c);
                return rc;
            }
            for (int i = 0; i < c->n; i++) {
                if (!(w[i] > 0) || !isfinite(w[i])) {
                    rc = api->seterr(WB_EPARAM, "%s: parameter 'class_weight' must hold numbers > 0, got %g for class %g",
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
    if (!api->ds_has_labels(d)) return api->seterr(WB_EINVAL, "%s: the data has no labels", who);
    if (api->ds_rows(d) == 0) return api->seterr(WB_EINVAL, "%s: the data has no rows", who);
    int rc = no_categories(d, who);
    if (rc) return rc;
    /* no pass of its own for NaN/Inf in x: the fit's first pass checks it (a
     * NaN/Inf label fails the class scan); an error before then is reported as
     * the finite check would have reported it first */
    return lin_finite_first(ex, d, who, prepare_classes(ex, d, p, who, c));
}

/* --------------------------------------------------------------- predict */

typedef struct pred_hdr {
    int32_t K, ncls, d, mode;
} pred_hdr;

/* linear.predict: arg = pred_hdr, classes[ncls], W[K*(d+1)] (row k: coefficients
 * then intercept) -> an aligned partition of labels, probabilities or scores */
int lin_k_predict(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    pred_hdr h;
    if (arglen < sizeof h) return api->seterr(WB_EINVAL, "linear.predict: bad arguments");
    memcpy(&h, arg, sizeof h);
    size_t need = sizeof h + ((size_t)h.ncls + (size_t)h.K * (size_t)(h.d + 1)) * sizeof(double);
    if (h.K < 1 || h.ncls < 2 || h.d < 0 || arglen != need)
        return api->seterr(WB_EINVAL, "linear.predict: bad arguments");
    const double *cls = (const double *)((const char *)arg + sizeof h), *W = cls + h.ncls;
    const wb_part *p = &in[0].part;
    if (p->cols != h.d)
        return api->seterr(WB_EINVAL, "the model was fitted on %d columns, the data has %lld", h.d,
                           (long long)p->cols);
    int K = h.K, d = h.d;
    int64_t outc = h.mode == LIN_LABEL ? 1 : h.mode == LIN_DECISION ? K : h.ncls;
    double *x, *y;
    int rc = api->out_part(ctx, p->rows, outc, p->row0, 0, &x, &y);
    if (rc) return rc;
    double zbuf[64], *z = K <= 64 ? zbuf : malloc((size_t)K * sizeof(double));
    if (!z) return api->seterr(WB_ENOMEM, "out of memory");
    for (int64_t i = 0; i < p->rows; i++) {
        const double *xi = p->x + (size_t)i * (size_t)d;
        double *o = x + (size_t)i * (size_t)outc;
        for (int k = 0; k < K; k++) {
            const double *w = W + (size_t)k * (size_t)(d + 1);
            double s = w[d];
            for (int j = 0; j < d; j++) s += w[j] * xi[j];
            z[k] = s;
        }
        switch (h.mode) {
        case LIN_LABEL:
            if (K == 1)
                o[0] = z[0] > 0 ? cls[1] : cls[0];
            else {
                int b = 0;
                for (int k = 1; k < K; k++)
                    if (z[k] > z[b]) b = k;
                o[0] = cls[b];
            }
            break;
        case LIN_DECISION:
            for (int k = 0; k < K; k++) o[k] = z[k];
            break;
        case LIN_PROBA_LOGIT:
        case LIN_PROBA_OVR:
            if (K == 1) {
                double e = exp(-fabs(z[0])), q = 1 / (1 + e);
                double p1 = z[0] >= 0 ? q : e * q;
                o[0] = 1 - p1;
                o[1] = p1;
            } else if (h.mode == LIN_PROBA_LOGIT) {
                double mx = z[0], s = 0;
                for (int k = 1; k < K; k++) mx = fmax(mx, z[k]);
                for (int k = 0; k < K; k++) s += (o[k] = exp(z[k] - mx));
                for (int k = 0; k < K; k++) o[k] /= s;
            } else {
                double s = 0;
                for (int k = 0; k < K; k++) {
                    double e = exp(-fabs(z[k])), q = 1 / (1 + e);
                    s += (o[k] = z[k] >= 0 ? q : e * q);
                }
                for (int k = 0; k < K; k++) o[k] /= s;
            }
            break;
        case LIN_PROBA_MHUBER:
            if (K == 1) {
                double p1 = (fmin(fmax(z[0], -1.0), 1.0) + 1) / 2;
                o[0] = 1 - p1;
                o[1] = p1;
            } else {
                double s = 0;
                for (int k = 0; k < K; k++) s += (o[k] = (fmin(fmax(z[k], -1.0), 1.0) + 1) / 2);
                for (int k = 0; k < K; k++) o[k] = s > 0 ? o[k] / s : 1.0 / K;
            }
            break;
        default:
            if (z != zbuf) free(z);
            return api->seterr(WB_EINVAL, "linear.predict: bad mode %d", h.mode);
        }
    }
    if (z != zbuf) free(z);
    return 0;
}

int lin_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, int mode, const char *who,
                wb_dataset **out)
{
    int64_t cr, cc, kr, kc, ir, ic;
    const double *cls = api->model_array(m, "classes", &cr, &cc);
    const double *coef = api->model_array(m, "coef", &kr, &kc);
    const double *icpt = api->model_array(m, "intercept", &ir, &ic);
    if (!cls || !coef || !icpt || ir * ic != kr || cr * cc < 2)
        return api->seterr(WB_EINVAL, "%s: the model lacks its coefficients (classes, coef, intercept)", who);
    if (kc != api->ds_cols(d))
        return api->seterr(WB_EINVAL, "%s: the model was fitted on %lld columns, the data has %lld", who,
                           (long long)kc, (long long)api->ds_cols(d));
    if (no_categories(d, who)) return WB_EINVAL;
    pred_hdr h = {(int32_t)kr, (int32_t)(cr * cc), (int32_t)kc, mode};
    size_t len = sizeof h + ((size_t)h.ncls + (size_t)h.K * (size_t)(h.d + 1)) * sizeof(double);
    unsigned char *a = api->alloc(len);
    if (!a) return api->seterr(WB_ENOMEM, "out of memory");
    memcpy(a, &h, sizeof h);
    double *c = (double *)(a + sizeof h), *W = c + h.ncls;
    memcpy(c, cls, (size_t)h.ncls * sizeof(double));
    for (int k = 0; k < h.K; k++) {
        memcpy(W + (size_t)k * (size_t)(h.d + 1), coef + (size_t)k * (size_t)h.d, (size_t)h.d * sizeof(double));
        W[(size_t)k * (size_t)(h.d + 1) + (size_t)h.d] = icpt[k];
    }
    int rc = api->map_dataset(ex, "linear.predict", d, NULL, 0, a, len, out);
    api->free(a);
    if (rc && strncmp(api->errmsg(), who, strlen(who)) != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", api->errmsg());
        return api->seterr(rc, "%s: %s", who, msg);
    }
    return rc;
}

WB_PLUGIN("linear", "1.0")
{
    api = host;
    int rc = host->register_kernel("linear.class_counts", lin_k_class_counts);
    if (!rc) rc = host->register_kernel("linear.predict", lin_k_predict);
    if (!rc) rc = host->register_kernel("linear.logreg", lin_k_logreg);
    if (!rc) rc = host->register_kernel("linear.sgd", lin_k_sgd);
    if (!rc) rc = host->register_estimator(&lin_logreg_def);
    if (!rc) rc = host->register_estimator(&lin_sgd_def);
    if (!rc) rc = host->register_lua("linear", lin_lua_src);
    return rc;
}
