/* predict.c — predictions of a fitted linear model (fields classes, coef,
 * intercept), shared by logreg and sgd: the kernel linear.predict and its
 * driver lin_predict. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"

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
    if (arglen < sizeof h) return H->seterr(WB_EINVAL, "linear.predict: bad arguments");
    memcpy(&h, arg, sizeof h);
    /* one coefficient row for two classes, else one per class: the outputs
     * (ncls probabilities, or a class picked among K scores) depend on it */
    if (h.K < 1 || h.ncls < 2 || h.d < 0 || (h.K == 1 ? h.ncls != 2 : h.ncls != h.K) ||
        arglen != sizeof h + ((size_t)h.ncls + (size_t)h.K * ((size_t)h.d + 1)) * sizeof(double))
        return H->seterr(WB_EINVAL, "linear.predict: bad arguments");
    const double *cls = (const double *)((const char *)arg + sizeof h), *W = cls + h.ncls;
    const wb_part *p = &in[0].part;
    if (p->cols != h.d)
        return H->seterr(WB_EINVAL, "the model was fitted on %d columns, the data has %lld", h.d,
                           (long long)p->cols);
    int K = h.K, d = h.d;
    int64_t outc = h.mode == LIN_LABEL ? 1 : h.mode == LIN_DECISION ? K : h.ncls;
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, outc, p->row0, 0, &x, &y);
    if (rc) return rc;
    double zbuf[64], *z = K <= 64 ? zbuf : malloc((size_t)K * sizeof(double));
    if (!z) return H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t i = 0; i < p->rows; i++) {
        const double *xi = p->x + (size_t)i * (size_t)d;
        double *o = x + (size_t)i * (size_t)outc;
        for (int k = 0; k < K; k++) {
            const double *w = W + (size_t)k * ((size_t)d + 1);
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
            return H->seterr(WB_EINVAL, "linear.predict: bad mode %d", h.mode);
        }
    }
    if (z != zbuf) free(z);
    return 0;
}

/* n doubles, all finite? */
static int all_finite(const double *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

int lin_model_view(const wb_model *m, const char *who, lin_view *v)
{
    int64_t cr, cc, kr, kc, ir, ic;
    const double *cls = H->model_array(m, "classes", &cr, &cc);
    const double *coef = H->model_array(m, "coef", &kr, &kc);
    const double *icpt = H->model_array(m, "intercept", &ir, &ic);
    if (!cls || !coef || !icpt)
        return H->seterr(WB_EINVAL, "%s: the model lacks its coefficients (classes, coef, intercept)", who);
    /* every shape against the others before any is used: the model may come
     * from a file (wb.load_model) or have been changed (m:set) */
    const int64_t ncls = cr * cc;
    if (ncls < 2 || ncls > INT32_MAX)
        return H->seterr(WB_EINVAL, "%s: malformed model: 'classes' holds %lld values (2 or more expected)", who,
                         (long long)ncls);
    const int64_t K = ncls == 2 ? 1 : ncls;
    if (kr != K)
        return H->seterr(WB_EINVAL,
                         "%s: malformed model: 'coef' has %lld rows, but %lld classes need %lld (one per class, "
                         "one for two classes)",
                         who, (long long)kr, (long long)ncls, (long long)K);
    if (kc < 1 || kc >= INT32_MAX)
        return H->seterr(WB_EINVAL, "%s: malformed model: 'coef' has %lld columns", who, (long long)kc);
    if (ir * ic != K)
        return H->seterr(WB_EINVAL, "%s: malformed model: 'intercept' holds %lld values, 'coef' has %lld rows", who,
                         (long long)(ir * ic), (long long)K);
    for (int64_t k = 0; k < ncls; k++)
        if (!isfinite(cls[k]) || (k > 0 && !(cls[k] > cls[k - 1])))
            return H->seterr(WB_EINVAL, "%s: malformed model: 'classes' must be finite and increasing (value %lld is %g)",
                             who, (long long)k + 1, cls[k]);
    if (!all_finite(coef, K * kc) || !all_finite(icpt, K))
        return H->seterr(WB_EINVAL, "%s: malformed model: 'coef' or 'intercept' holds NaN or Inf", who);
    v->classes = cls;
    v->coef = coef;
    v->intercept = icpt;
    v->ncls = (int)ncls;
    v->K = (int)K;
    v->d = (int)kc;
    return 0;
}

int lin_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, int mode, const char *who,
                wb_dataset **out)
{
    lin_view v;
    int rc = lin_model_view(m, who, &v);
    if (rc) return rc;
    const double *cls = v.classes, *coef = v.coef, *icpt = v.intercept;
    if (v.d != H->ds_cols(d))
        return H->seterr(WB_EINVAL, "%s: the model was fitted on %lld columns, the data has %lld", who,
                           (long long)v.d, (long long)H->ds_cols(d));
    if (lin_no_categories(d, who)) return WB_EINVAL;
    pred_hdr h = {v.K, v.ncls, v.d, mode};
    size_t len = sizeof h + ((size_t)h.ncls + (size_t)h.K * ((size_t)h.d + 1)) * sizeof(double);
    unsigned char *a = H->alloc(len);
    if (!a) return H->seterr(WB_ENOMEM, "out of memory");
    memcpy(a, &h, sizeof h);
    double *c = (double *)(a + sizeof h), *W = c + h.ncls;
    memcpy(c, cls, (size_t)h.ncls * sizeof(double));
    for (int k = 0; k < h.K; k++) {
        memcpy(W + (size_t)k * ((size_t)h.d + 1), coef + (size_t)k * (size_t)h.d, (size_t)h.d * sizeof(double));
        W[(size_t)k * ((size_t)h.d + 1) + (size_t)h.d] = icpt[k];
    }
    rc = H->map_dataset(ex, "linear.predict", d, NULL, 0, a, len, out);
    H->free(a);
    if (rc && strncmp(H->errmsg(), who, strlen(who)) != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", H->errmsg());
        return H->seterr(rc, "%s: %s", who, msg);
    }
    return rc;
}
