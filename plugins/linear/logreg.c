/* logreg.c — logistic regression, binary and multinomial.
 *
 * The objective is scikit-learn's:
 *     C * sum_i s_i * logloss_i  +  penalty(coef)
 * with s_i the class weight of row i, penalty l2 = |w|^2 / 2, l1 = |w|_1,
 * elasticnet = l1_ratio |w|_1 + (1 - l1_ratio) |w|^2 / 2, the intercept never
 * penalised. The same C gives the same model. The optimizer works on this
 * objective divided by C * sum_i s_i (so `tol` means what it means for
 * scikit-learn's lbfgs: the largest gradient component of the normalised
 * objective).
 *
 * The objective (this file) and the optimizer (optim.c) are separate: one
 * evaluation is one map_sum over the data (loss + gradient, and for Newton
 * the Hessian), whose block sums are added in a fixed tree, so the model is
 * bit-identical whatever the number of threads, partitions or workers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"
#include "linear.h"
#include "optim.h"

/* ------------------------------------------------------------------ kernel */

/* flags: LR_HESS asks for the Hessian, computed over the blocks whose global
 * index is a multiple of the stride in bits 8..15 (a subsampled Hessian: the
 * gradient stays exact, so Newton still converges to the same optimum, and a
 * pass costs a third less on large data); LR_CHECK (the fit's first pass)
 * fails on a NaN/Inf in x, so the fit needs no pass of its own for that */
enum { LR_HESS = 1, LR_CHECK = 2 };
#define LR_STRIDE(flags) (((flags) >> 8) & 0xff)

typedef struct lr_hdr {
    int32_t K;     /* coefficient rows: 1 (binary) or the number of classes */
    int32_t ncls;  /* classes */
    int32_t d;     /* columns */
    int32_t flags; /* LR_HESS */
} lr_hdr;

/* out length of one block: loss, gradient K*(d+1), Hessian (binary) packed upper triangle */
static size_t lr_outlen(int K, int d, int hess)
{
    size_t p = (size_t)d + 1;
    return 1 + (size_t)K * p + (hess ? p * (p + 1) / 2 + 1 : 0);
}

/* Rows are processed in chunks of CH: the chunk is transposed so every loop
 * below runs over contiguous columns, and the sums use a fixed order (sixteen
 * lanes in four vectors of four, then chunk after chunk), so a block's result
 * is the same on every machine and every run. The loops use GCC's generic
 * vectors: four doubles, one AVX2 register or two SSE2 ones, the same
 * element-wise IEEE operations either way. A chunk's tail is padded to a
 * multiple of 16 rows with zeros (zero residual, zero Hessian weight), which
 * add nothing to any sum. */
#define CH 256

typedef double v4d __attribute__((vector_size(32)));
/* the same vector at any 8-byte address (loads and stores of the data) */
typedef double v4u __attribute__((vector_size(32), aligned(8), may_alias));
#define v4_load(p) (*(const v4u *)(p))
#define v4_store(p, v) (*(v4u *)(p) = (v))

/* sum of a[i] * b[i] for i < n, n a multiple of 16 */
static inline __attribute__((always_inline)) double dot16(const double *a, const double *b, int n)
{
    v4d s0 = {0, 0, 0, 0}, s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < n; i += 16) {
        s0 += v4_load(a + i) * v4_load(b + i);
        s1 += v4_load(a + i + 4) * v4_load(b + i + 4);
        s2 += v4_load(a + i + 8) * v4_load(b + i + 8);
        s3 += v4_load(a + i + 12) * v4_load(b + i + 12);
    }
    v4d s = (s0 + s1) + (s2 + s3);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* sum of a[i] for i < n, n a multiple of 16 */
static inline __attribute__((always_inline)) double sum16(const double *a, int n)
{
    v4d s0 = {0, 0, 0, 0}, s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < n; i += 16) {
        s0 += v4_load(a + i);
        s1 += v4_load(a + i + 4);
        s2 += v4_load(a + i + 8);
        s3 += v4_load(a + i + 12);
    }
    v4d s = (s0 + s1) + (s2 + s3);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* linear.logreg (map_sum): arg = lr_hdr, classes[ncls], class weights[ncls],
 * W[K*(d+1)] -> sum of weighted log-loss, its gradient (and Hessian) */
/* Built twice, for AVX2 and for baseline x86-64, picked at load by the CPU.
 * No FMA and no reassociation (the lanes of every sum are written out), so
 * both give the same bits: a cluster of mixed machines still agrees. */
/* (static, called below: clang 14 does not emit the resolver under the
 * function's own name when no caller is in this file, so the plugin would
 * not load) */
__attribute__((target_clones("avx2", "default")))
static int lr_kernel(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    lr_hdr h;
    if (arglen < sizeof h) return H->seterr(WB_EINVAL, "linear.logreg: bad arguments");
    memcpy(&h, arg, sizeof h);
    const int K = h.K, d = h.d, nc = h.ncls;
    const int stride = LR_STRIDE(h.flags) > 0 ? LR_STRIDE(h.flags) : 1;
    const int hess = (h.flags & LR_HESS) && (in[0].part.row0 / WB_BLOCK_ROWS) % stride == 0;
    const int want_hess = (h.flags & LR_HESS) != 0;
    size_t need = sizeof h + ((size_t)2 * nc + (size_t)K * (size_t)(d + 1)) * sizeof(double);
    if (K < 1 || nc < 2 || d < 0 || arglen != need || (want_hess && K != 1))
        return H->seterr(WB_EINVAL, "linear.logreg: bad arguments");
    const double *cls = (const double *)((const char *)arg + sizeof h), *cw = cls + nc, *W = cw + nc;
    const wb_part *p = &in[0].part;
    if (!p->y) return H->seterr(WB_EINVAL, "the data has no labels");
    if (p->cols != d)
        return H->seterr(WB_EINVAL, "linear.logreg: %lld columns, expected %d", (long long)p->cols, d);
    const int64_t n = p->rows;
    const size_t P = (size_t)d + 1;
    double *o = H->out_bytes(ctx, lr_outlen(K, d, want_hess) * sizeof(double));
    if (!o) return WB_ENOMEM;
    double *g = o + 1, *Hp = o + 1 + (size_t)K * P;
    /* xt: the chunk transposed (d rows of CH, then a row of ones); z: decision
     * values (K per row); r: residuals; q: per-row loss, then Hessian weights */
    double *buf = malloc(((P + 3) * CH + (size_t)2 * K * CH) * sizeof(double));
    if (!buf) return H->seterr(WB_ENOMEM, "out of memory");
    double *xt = buf, *q = xt + P * CH, *wa = q + CH, *z = wa + CH, *r = z + (size_t)K * CH;
    int ci[CH];
    double loss = 0;
    int rc = 0;
    for (int j = 0; j < CH; j++) xt[(size_t)d * CH + j] = 1;
    for (int64_t c0 = 0; c0 < n; c0 += CH) {
        const int m = (int)(n - c0 < CH ? n - c0 : CH);
        const double *x = p->x + (size_t)c0 * (size_t)d, *y = p->y + c0;
        int bad = 0;
        if (nc == 2)
            for (int i = 0; i < m; i++) {
                ci[i] = y[i] == cls[1];
                bad |= (y[i] != cls[0]) & (y[i] != cls[1]);
            }
        for (int i = 0; i < m && (nc != 2 || bad); i++) {
            ci[i] = lin_class_index(cls, nc, y[i]);
            if (ci[i] < 0) {
                rc = H->seterr(WB_EINVAL, "label %g at row %lld is not one of the model's classes", y[i],
                                 (long long)(p->row0 + c0 + i + 1));
                goto done;
            }
        }
        const int m16 = (m + 15) & ~15;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < d; j++) xt[(size_t)j * CH + i] = x[(size_t)i * d + j];
        for (int j = 0; j < d; j++)
            for (int i = m; i < m16; i++) xt[(size_t)j * CH + i] = 0;
        if ((h.flags & LR_CHECK) && lin_nonfinite(x, (size_t)m * (size_t)d)) {
            rc = H->seterr(WB_EINVAL, "linear.logreg: the data has NaN or Inf values");
            goto done;
        }
        /* z = b + x.w, added in column order, sixteen rows at a time */
        for (int k = 0; k < K; k++) {
            const double *w = W + (size_t)k * P;
            double *zk = z + (size_t)k * CH;
            for (int i = 0; i < m16; i += 16) {
                v4d a0 = {w[d], w[d], w[d], w[d]}, a1 = a0, a2 = a0, a3 = a0;
                for (int j = 0; j < d; j++) {
                    const double *col = xt + (size_t)j * CH + i, wj = w[j];
                    a0 += wj * v4_load(col);
                    a1 += wj * v4_load(col + 4);
                    a2 += wj * v4_load(col + 8);
                    a3 += wj * v4_load(col + 12);
                }
                v4_store(zk + i, a0);
                v4_store(zk + i + 4, a1);
                v4_store(zk + i + 8, a2);
                v4_store(zk + i + 12, a3);
            }
        }
        if (K == 1) {
            /* r_i = s_i (sigma(z_i) - y_i); Hessian weight s_i sigma (1 - sigma) */
            const double w0 = cw[0], w1 = cw[1];
            for (int i = 0; i < m; i++) {
                double zi = z[i], e = exp_neg(fabs(zi)), t = 1 / (1 + e);
                double sig = zi >= 0 ? t : e * t;
                double c = ci[i];
                double s = c != 0 ? w1 : w0;
                q[i] = s * ((zi > 0 ? zi : 0) + log1p01(e) - c * zi);
                r[i] = s * (sig - c);
                z[i] = s * e * t * t;
            }
            for (int i = m; i < m16; i++) q[i] = r[i] = z[i] = 0;
            loss += sum16(q, m16);
            for (size_t j = 0; j < P; j++) g[j] += dot16(r, xt + j * CH, m16);
            if (hess) {
                double *hp = Hp;
                for (size_t a = 0; a < P; a++) {
                    const double *ca = xt + a * CH;
                    for (int i = 0; i < m16; i += 4) v4_store(wa + i, v4_load(z + i) * v4_load(ca + i));
                    for (size_t b = a; b < P; b++) hp[b - a] += dot16(wa, xt + b * CH, m16);
                    hp += P - a;
                }
            }
        } else {
            /* multinomial: r_ik = s_i (softmax_k - [k == y_i]) */
            for (int i = 0; i < m; i++) {
                double mx = z[i];
                for (int k = 1; k < K; k++) mx = fmax(mx, z[(size_t)k * CH + i]);
                double se = 0;
                for (int k = 0; k < K; k++) se += (r[(size_t)k * CH + i] = exp(z[(size_t)k * CH + i] - mx));
                int c = ci[i];
                double s = cw[c];
                q[i] = s * (mx + log(se) - z[(size_t)c * CH + i]);
                for (int k = 0; k < K; k++) r[(size_t)k * CH + i] = s * (r[(size_t)k * CH + i] / se - (k == c));
            }
            for (int i = m; i < m16; i++) {
                q[i] = 0;
                for (int k = 0; k < K; k++) r[(size_t)k * CH + i] = 0;
            }
            loss += sum16(q, m16);
            for (int k = 0; k < K; k++)
                for (size_t j = 0; j < P; j++) g[(size_t)k * P + j] += dot16(r + (size_t)k * CH, xt + j * CH, m16);
        }
    }
    o[0] = loss;
    if (hess) Hp[P * (P + 1) / 2] = (double)n; /* rows in the Hessian */
done:
    free(buf);
    return rc;
}

int lin_k_logreg(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    return lr_kernel(ctx, in, nin, arg, arglen);
}

/* --------------------------------------------------------------- objective */

typedef struct lr_ctx {
    wb_exec *ex;
    const wb_dataset *d;
    int K, ncls, cols, fi; /* fi: fit the intercept */
    double lam2;           /* L2 weight of the penalty (1 for l2, 1 - l1_ratio for elasticnet) */
    double scale;          /* 1 / (C * sum of weights) */
    double C;
    int hstride; /* Hessian from every hstride-th block */
    int checked; /* a pass has checked x for NaN/Inf (LR_CHECK) */
    double rows; /* rows of the data */
    unsigned char *arg; /* lr_hdr, classes, weights, W */
    size_t arglen;
    double *out;
} lr_ctx;

static int lr_eval(void *vc, const double *w, double *f, double *g, double *hess)
{
    lr_ctx *c = vc;
    const int K = c->K, d = c->cols, fi = c->fi, nv = d + fi;
    const size_t P = (size_t)d + 1;
    lr_hdr h = {K, c->ncls, d, (hess ? LR_HESS | c->hstride << 8 : 0) | (c->checked ? 0 : LR_CHECK)};
    memcpy(c->arg, &h, sizeof h);
    double *W = (double *)(c->arg + sizeof h) + 2 * (size_t)c->ncls;
    for (int k = 0; k < K; k++) {
        memcpy(W + (size_t)k * P, w + (size_t)k * nv, (size_t)d * sizeof(double));
        W[(size_t)k * P + d] = fi ? w[(size_t)k * nv + d] : 0;
    }
    size_t len = lr_outlen(K, d, hess != NULL);
    int rc = H->map_sum(c->ex, "linear.logreg", c->d, NULL, 0, c->arg, c->arglen, c->out, len);
    if (rc) return rc;
    c->checked = 1;
    /* normalised: (C sum s_i loss_i + penalty) / (C sum s_i) */
    const double ls = c->C * c->scale, l2 = c->lam2 * c->scale;
    double reg = 0;
    for (int k = 0; k < K; k++)
        for (int j = 0; j < nv; j++) {
            size_t v = (size_t)k * nv + j;
            double gj = c->out[1 + (size_t)k * P + j] * ls;
            if (j < d) {
                gj += l2 * w[v];
                reg += w[v] * w[v];
            }
            g[v] = gj;
        }
    *f = c->out[0] * ls + 0.5 * l2 * reg;
    if (hess) {
        const double *hp = c->out + 1 + (size_t)K * P;
        const double hrows = hp[P * (P + 1) / 2], hs = hrows > 0 ? c->rows / hrows : 1;
        int n = nv;
        for (size_t a = 0, idx = 0; a < P; a++)
            for (size_t b = a; b < P; b++, idx++) {
                if ((int)a >= n || (int)b >= n) continue; /* the intercept when not fitted */
                double v = hp[idx] * ls * hs;
                hess[a * n + b] = v;
                hess[b * n + a] = v;
            }
        for (int j = 0; j < d; j++) hess[(size_t)j * n + j] += l2;
    }
    return 0;
}

/* -------------------------------------------------------------- estimator */

static const wb_param_spec lr_params[] = {
    {.name = "C", .types = WB_P_NUM, .def = "1.0", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "inverse regularisation strength: C * sum(log-loss) + penalty (as scikit-learn)"},
    {.name = "penalty", .types = WB_P_STR, .def = "l2", .choices = "l2|l1|elasticnet|none",
     .doc = "the penalty on the coefficients (never on the intercept)"},
    {.name = "l1_ratio", .types = WB_P_NUM, .def = "0.5", .min = 0, .max = 1,
     .doc = "elasticnet: l1_ratio * |w|_1 + (1 - l1_ratio) * |w|^2 / 2"},
    {.name = "tol", .types = WB_P_NUM, .def = "1e-4", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "stop when the largest gradient component of the objective / (C * n) is below this"},
    {.name = "max_iter", .types = WB_P_INT, .def = "100", .min = 1, .max = INFINITY,
     .doc = "iterations of the optimizer"},
    {.name = "fit_intercept", .types = WB_P_BOOL, .def = "true", .doc = "fit an intercept (not penalised)"},
    {.name = "class_weight", .types = WB_P_STR | WB_P_ARRAY, .flags = WB_P_NULLABLE, .choices = "balanced",
     .doc = "\"balanced\" (n / (classes * count)) or one weight per class, in sorted class order"},
    {.name = "solver", .types = WB_P_STR, .def = "auto", .choices = "auto|newton|lbfgs",
     .doc = "newton: Newton / proximal Newton (binary); lbfgs: L-BFGS, OWL-QN with l1; auto: newton for two classes and <= 64 columns"},
    {.name = "memory", .types = WB_P_INT, .def = "10", .min = 1, .max = 1000, .doc = "lbfgs: correction pairs kept"},
};

static int lr_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    const char *who = "logreg";
    lin_classes cl;
    int rc = lin_prepare(ex, d, p, who, &cl);
    if (rc) return rc;
    const int cols = (int)H->ds_cols(d), fi = H->param_bool(p, "fit_intercept");
    const int K = cl.n == 2 ? 1 : cl.n, nv = cols + fi, n = K * nv;
    const char *pen = H->param_str(p, "penalty"), *solver = H->param_str(p, "solver");
    double C = H->param_num(p, "C"), ratio = H->param_num(p, "l1_ratio");
    double lam1 = !strcmp(pen, "l1") ? 1 : !strcmp(pen, "elasticnet") ? ratio : 0;
    double lam2 = !strcmp(pen, "l2") ? 1 : !strcmp(pen, "elasticnet") ? 1 - ratio : 0;
    int newton;
    if (!strcmp(solver, "newton")) {
        if (K != 1) {
            rc = H->seterr(WB_EPARAM, "%s: solver 'newton' needs two classes (the data has %d); use 'lbfgs' or 'auto'",
                             who, cl.n);
            lin_classes_free(&cl);
            return lin_finite_first(ex, d, who, rc);
        }
        newton = 1;
    } else if (!strcmp(solver, "lbfgs"))
        newton = 0;
    else
        newton = K == 1 && nv <= 64;
    /* on large data (>= 64 blocks) the Hessian comes from every 4th block */
    int64_t nblocks = (H->ds_rows(d) + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS;
    lr_ctx c = {ex, d, K, cl.n, cols, fi, lam2, 1.0 / (C * cl.wsum), C, nblocks >= 64 ? 4 : 1, 0, cl.rows, NULL, 0, NULL};
    c.arglen = sizeof(lr_hdr) + ((size_t)2 * cl.n + (size_t)K * (size_t)(cols + 1)) * sizeof(double);
    c.arg = calloc(1, c.arglen);
    c.out = calloc(lr_outlen(K, cols, newton), sizeof(double));
    double *w = calloc((size_t)n, sizeof(double)), *l1 = lam1 > 0 ? calloc((size_t)n, sizeof(double)) : NULL;
    if (!c.arg || !c.out || !w || (lam1 > 0 && !l1)) {
        rc = H->seterr(WB_ENOMEM, "out of memory");
        goto done;
    }
    double *ac = (double *)(c.arg + sizeof(lr_hdr));
    memcpy(ac, cl.values, (size_t)cl.n * sizeof(double));
    memcpy(ac + cl.n, cl.weights, (size_t)cl.n * sizeof(double));
    for (int k = 0; l1 && k < K; k++)
        for (int j = 0; j < cols; j++) l1[(size_t)k * nv + j] = lam1 * c.scale;
    lin_objective obj = {n, &c, lr_eval};
    lin_options opt = {lin_int_param(p, "max_iter"), H->param_num(p, "tol"), l1,
                       lin_int_param(p, "memory"), H->progress, who};
    lin_result res;
    rc = newton ? lin_newton(&obj, &opt, w, &res) : lin_lbfgs(&obj, &opt, w, &res);
    H->progress(who, opt.max_iter, opt.max_iter, NULL); /* ends the stage when converged early */
    if (rc) goto done;
    if (!res.converged)
        H->log(WB_LOG_WARN, "%s: did not converge in %d iteration%s (largest gradient %.3g > tol %.3g); raise max_iter",
                 who, res.n_iter, res.n_iter == 1 ? "" : "s", res.gmax, opt.tol);
    double *coef = calloc((size_t)K * cols + 1, sizeof(double)), *icpt = calloc((size_t)K, sizeof(double));
    if (!coef || !icpt) {
        free(coef);
        free(icpt);
        rc = H->seterr(WB_ENOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < K; k++) {
        memcpy(coef + (size_t)k * cols, w + (size_t)k * nv, (size_t)cols * sizeof(double));
        icpt[k] = fi ? w[(size_t)k * nv + cols] : 0;
    }
    rc = H->model_set_array(m, "classes", cl.values, 1, cl.n);
    if (!rc) rc = H->model_set_array(m, "coef", coef, K, cols);
    if (!rc) rc = H->model_set_array(m, "intercept", icpt, 1, K);
    if (!rc) rc = H->model_set_num(m, "n_iter", res.n_iter);
    if (!rc) rc = H->model_set_num(m, "converged", res.converged);
    if (!rc) rc = H->model_set_num(m, "objective", res.f);
    if (!rc) rc = H->model_set_num(m, "grad_max", res.gmax);
    if (!rc) rc = H->model_set_num(m, "passes", res.n_evals);
    if (!rc) rc = H->model_set_str(m, "solver", newton ? (lam1 > 0 ? "proximal newton" : "newton")
                                                         : (lam1 > 0 ? "owl-qn" : "lbfgs"));
    if (!rc) rc = H->model_set_num(m, "n_samples", cl.rows);
    free(coef);
    free(icpt);
done:
    /* (the optimizers evaluate first: unchecked data means an error before the first pass) */
    if (!c.checked) rc = rc ? lin_finite_first(ex, d, who, rc) : H->ds_check_finite(ex, d, who);
    free(c.arg);
    free(c.out);
    free(w);
    free(l1);
    lin_classes_free(&cl);
    return rc;
}

static int lr_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return lin_predict(ex, m, d, LIN_LABEL, "logreg", out);
}

static int lr_proba(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return lin_predict(ex, m, d, LIN_PROBA_LOGIT, "logreg", out);
}

const wb_estimator_def lin_logreg_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "logreg",
    .doc = "logistic regression (binary and multinomial; l2, l1, elasticnet or no penalty)",
    .kind = WB_EST_CLASSIFIER,
    .needs_labels = 1,
    .params = lr_params,
    .nparams = sizeof lr_params / sizeof lr_params[0],
    .fit = lr_fit,
    .predict = lr_predict,
    .predict_proba = lr_proba,
};
