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
    size_t need = sizeof h + ((size_t)h.ncls + (size_t)h.K * (size_t)(h.d + 1)) * sizeof(double);
    if (h.K < 1 || h.ncls < 2 || h.d < 0 || arglen != need)
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
            return H->seterr(WB_EINVAL, "linear.predict: bad mode %d", h.mode);
        }
    }
    if (z != zbuf) free(z);
    return 0;
}

int lin_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, int mode, const char *who,
                wb_dataset **out)
{
    int64_t cr, cc, kr, kc, ir, ic;
    const double *cls = H->model_array(m, "classes", &cr, &cc);
    const double *coef = H->model_array(m, "coef", &kr, &kc);
    const double *icpt = H->model_array(m, "intercept", &ir, &ic);
    if (!cls || !coef || !icpt || ir * ic != kr || cr * cc < 2)
        return H->seterr(WB_EINVAL, "%s: the model lacks its coefficients (classes, coef, intercept)", who);
    if (kc != H->ds_cols(d))
        return H->seterr(WB_EINVAL, "%s: the model was fitted on %lld columns, the data has %lld", who,
                           (long long)kc, (long long)H->ds_cols(d));
    pred_hdr h = {(int32_t)kr, (int32_t)(cr * cc), (int32_t)kc, mode};
    size_t len = sizeof h + ((size_t)h.ncls + (size_t)h.K * (size_t)(h.d + 1)) * sizeof(double);
    unsigned char *a = H->alloc(len);
    if (!a) return H->seterr(WB_ENOMEM, "out of memory");
    memcpy(a, &h, sizeof h);
    double *c = (double *)(a + sizeof h), *W = c + h.ncls;
    memcpy(c, cls, (size_t)h.ncls * sizeof(double));
    for (int k = 0; k < h.K; k++) {
        memcpy(W + (size_t)k * (size_t)(h.d + 1), coef + (size_t)k * (size_t)h.d, (size_t)h.d * sizeof(double));
        W[(size_t)k * (size_t)(h.d + 1) + (size_t)h.d] = icpt[k];
    }
    int rc = H->map_dataset(ex, "linear.predict", d, NULL, 0, a, len, out);
    H->free(a);
    if (rc && strncmp(H->errmsg(), who, strlen(who)) != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", H->errmsg());
        return H->seterr(rc, "%s: %s", who, msg);
    }
    return rc;
}
