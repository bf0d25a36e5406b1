/* pca — principal component analysis (wb.fit("pca", data, {components = 2})).
 *
 * Solvers, each a map/reduce over the partitions (runs unchanged on a cluster):
 *   "gram"       one pass: per 4096-row block the column sums and the upper
 *                triangle of Y^T Y, Y = X - s, summed by map_sum (fixed tree,
 *                same bits whatever the split); s is the mean of the first
 *                block, so the centring is a small correction and the
 *                covariance keeps its digits (no E[x^2] - E[x]^2 cancellation).
 *                Then a LAPACKE eigendecomposition (dsyevd) of the d x d
 *                covariance. Exact; for d up to a few thousand.
 *   "randomized" Halko, Martinsson & Tropp (2011): a Gaussian test matrix G
 *                (d x l, l = components + oversamples), power iterations
 *                Z = Xc^T (Xc Q) (one pass each, Xc the centred data), QR
 *                between them, then the Rayleigh-Ritz problem Q^T Xc^T Xc Q.
 *                For wide data: O(n d l) per pass, O(d l) memory.
 *   "auto"       "gram" when d <= 1000 or components is a variance fraction,
 *                else "randomized" when components < d / 5, else "gram".
 * Signs: each component's entry of largest magnitude (the first, on ties) is
 * made positive (scikit-learn's svd_flip rule for components, >= 1.5).
 * components may be an integer (<= min(rows, columns)) or a fraction in
 * (0, 1): the fewest components whose cumulative explained variance ratio
 * exceeds it (as scikit-learn). */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb/plugin.h"

static const wb_host *H;

#define NAME "pca"
#define SUB 256

typedef struct parg {
    int64_t d, k, mode, flags;
} parg;
enum { F_WHITEN = 1, F_CENTER = 2, F_LABELS = 4 };

static int parse_arg(const void *arg, size_t arglen, parg *a, size_t extra_per_d)
{
    if (arglen < sizeof *a) return H->seterr(WB_EINVAL, "pca: bad kernel argument");
    memcpy(a, arg, sizeof *a);
    if (a->d < 1 || a->d > (1 << 20) || a->k < 0 || a->k > (1 << 20) ||
        arglen != sizeof *a + extra_per_d * (size_t)a->d * sizeof(double))
        return H->seterr(WB_EINVAL, "pca: bad kernel argument");
    return 0;
}

static const wb_part *in_part(const wb_obj *in, int nin, int64_t d)
{
    if (nin < 1 || in[0].type != WB_OBJ_PART || in[0].part.cols != d) {
        H->seterr(WB_EINVAL, "pca: the kernel needs a partition of %lld columns", (long long)d);
        return NULL;
    }
    return &in[0].part;
}

static const double *in_doubles(const wb_obj *in, int nin, int i, int64_t count)
{
    if (i >= nin || in[i].type != WB_OBJ_BYTES || in[i].size != (size_t)count * sizeof(double)) {
        H->seterr(WB_EINVAL, "pca: input %d must hold %lld numbers", i, (long long)count);
        return NULL;
    }
    return in[i].data;
}

/* ============================================================== kernels */

/* pca.shift (task on the first partition): the mean of the first block */
static int k_shift(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    parg a;
    int rc = parse_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = in_part(in, nin, a.d);
    if (!p) return WB_EINVAL;
    int64_t m = p->rows < WB_BLOCK_ROWS ? p->rows : WB_BLOCK_ROWS, d = a.d;
    double *o = H->out_bytes(ctx, (size_t)d * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < m; i++)
        for (int64_t t = 0; t < d; t++) o[t] += p->x[i * d + t];
    for (int64_t t = 0; t < d; t++) o[t] = m ? o[t] / (double)m : 0;
    return 0;
}

/* y = x - s for rows [r, r + m) into buf (m x d) */
static void centre(const double *x, int64_t m, int64_t d, const double *s, double *buf)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t t = 0; t < d; t++) buf[i * d + t] = x[i * d + t] - s[t];
}

/* pca.gram (map_sum; shift s after the argument): sum of y (d), then the
 * upper triangle of sum y y^T, row by row (d (d + 1) / 2), y = x - s; with
 * F_LABELS in flags one more value: the labels that are NaN or +-Inf (the
 * fit's NaN/Inf check rides this pass: a NaN/Inf in x makes a diagonal sum
 * of y^2 NaN or Inf, so x needs no test of its own) */
static int k_gram(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    parg a;
    int rc = parse_arg(arg, arglen, &a, 1);
    if (rc) return rc;
    const wb_part *p = in_part(in, nin, a.d);
    if (!p) return WB_EINVAL;
    const int64_t d = a.d, tri = d * (d + 1) / 2;
    const int labels = (a.flags & F_LABELS) != 0;
    const double *s = (const double *)((const char *)arg + sizeof a);
    double *o = H->out_bytes(ctx, (size_t)(d + tri + labels) * sizeof(double));
    if (!o) return WB_ENOMEM;
    double *sum = o, *up = o + d;
    if (labels && p->y) {
        int64_t bad = 0;
        for (int64_t i = 0; i < p->rows; i++) bad += !isfinite(p->y[i]);
        o[d + tri] = (double)bad;
    }
    if (d <= 8) {
        /* small d: direct sums, four rows at a time into four accumulator
         * sets (a fixed order, combined at the end) */
        double acc[4][8 + 36];
        memset(acc, 0, sizeof acc);
        int64_t i = 0;
        for (; i < p->rows; i++) {
            double *A = acc[i & 3], y[8];
            const double *xi = p->x + i * d;
            for (int64_t t = 0; t < d; t++) {
                y[t] = xi[t] - s[t];
                A[t] += y[t];
            }
            double *U = A + 8;
            for (int64_t r = 0, q = 0; r < d; r++)
                for (int64_t c = r; c < d; c++, q++) U[q] += y[r] * y[c];
        }
        for (int g = 0; g < 4; g++) {
            for (int64_t t = 0; t < d; t++) sum[t] += acc[g][t];
            for (int64_t q = 0; q < tri; q++) up[q] += acc[g][8 + q];
        }
        return 0;
    }
    /* larger d: centre the block, then BLAS dsyrk */
    double *buf = malloc((size_t)(p->rows * d) * sizeof(double)), *G = calloc((size_t)(d * d), sizeof(double));
    if (!buf || !G) {
        free(buf);
        free(G);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    centre(p->x, p->rows, d, s, buf);
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t t = 0; t < d; t++) sum[t] += buf[i * d + t];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)p->rows, 1.0, buf, (int)d, 0.0, G, (int)d);
    for (int64_t r = 0, q = 0; r < d; r++)
        for (int64_t c = r; c < d; c++, q++) up[q] = G[r * d + c];
    free(buf);
    free(G);
    return 0;
}

/* pca.moments (map_sum; shift after the argument): sums of y and y^2 per column */
static int k_moments(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    parg a;
    int rc = parse_arg(arg, arglen, &a, 1);
    if (rc) return rc;
    const wb_part *p = in_part(in, nin, a.d);
    if (!p) return WB_EINVAL;
    const int64_t d = a.d;
    const double *s = (const double *)((const char *)arg + sizeof a);
    double *o = H->out_bytes(ctx, (size_t)(2 * d) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        const double *xi = p->x + i * d;
        for (int64_t t = 0; t < d; t++) {
            double y = xi[t] - s[t];
            o[t] += y;
            o[d + t] += y * y;
        }
    }
    return 0;
}

/* pca.rproj (map_sum; in[1] = Q (d x l), mean after the argument, a.k = l):
 * Y^T (Y Q) for the block, Y = X - mean (d x l). Rows go in cache-sized
 * chunks (about 1 MB of Y, a count that depends on d only), so the data is
 * read from memory once per pass. */
static int k_rproj(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    parg a;
    int rc = parse_arg(arg, arglen, &a, 1);
    if (rc) return rc;
    const wb_part *p = in_part(in, nin, a.d);
    const double *Q = in_doubles(in, nin, 1, a.d * a.k);
    if (!p || !Q || a.k < 1) return WB_EINVAL;
    const int64_t d = a.d, l = a.k;
    int64_t ch = ((int64_t)1 << 20) / (8 * d);
    ch = ch < 16 ? 16 : ch > WB_BLOCK_ROWS ? WB_BLOCK_ROWS : ch;
    const double *mu = (const double *)((const char *)arg + sizeof a);
    double *o = H->out_bytes(ctx, (size_t)(d * l) * sizeof(double));
    double *Y = malloc((size_t)(ch * d) * sizeof(double)), *T = malloc((size_t)(ch * l) * sizeof(double));
    if (!o || !Y || !T) {
        free(Y);
        free(T);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    for (int64_t s0 = 0; s0 < p->rows; s0 += ch) {
        int64_t m = p->rows - s0 < ch ? p->rows - s0 : ch;
        centre(p->x + s0 * d, m, d, mu, Y);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)l, (int)d, 1.0, Y, (int)d, Q, (int)l, 0.0,
                    T, (int)l);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)l, (int)m, 1.0, Y, (int)d, T, (int)l, 1.0, o,
                    (int)l);
    }
    free(Y);
    free(T);
    return 0;
}

/* the transform's parameters (in[1]): mean (d), components (k x d), scale (k) */
static int k_transform(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    parg a;
    int rc = parse_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const int64_t d = a.d, k = a.k;
    const wb_part *p = in_part(in, nin, d);
    const double *pr = in_doubles(in, nin, 1, d + k * d + k);
    if (!p || !pr || k < 1) return WB_EINVAL;
    const double *mu = pr, *V = pr + d, *sc = V + k * d;
    double *z;
    if ((rc = H->out_part(ctx, p->rows, k, p->row0, 0, &z, NULL)) != 0) return rc;
    double *buf = malloc((size_t)(SUB * d) * sizeof(double));
    if (!buf) return H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t s0 = 0; s0 < p->rows; s0 += SUB) {
        int64_t m = p->rows - s0 < SUB ? p->rows - s0 : SUB;
        centre(p->x + s0 * d, m, d, mu, buf);
        double *zo = z + s0 * k;
        if (d * k <= 64) {
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < k; j++) {
                    double v = 0;
                    for (int64_t t = 0; t < d; t++) v += buf[i * d + t] * V[j * d + t];
                    zo[i * k + j] = v * sc[j];
                }
        } else {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)d, 1.0, buf, (int)d, V, (int)d,
                        0.0, zo, (int)k);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < k; j++) zo[i * k + j] *= sc[j];
        }
    }
    free(buf);
    return 0;
}

/* pca.inverse (map_dataset over k-column data): x = (z * scale) V + mean */
static int k_inverse(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    parg a;
    int rc = parse_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const int64_t d = a.d, k = a.k;
    const wb_part *p = in_part(in, nin, k);
    const double *pr = in_doubles(in, nin, 1, d + k * d + k);
    if (!p || !pr || k < 1) return WB_EINVAL;
    const double *mu = pr, *V = pr + d, *sc = V + k * d;
    double *x;
    if ((rc = H->out_part(ctx, p->rows, d, p->row0, 0, &x, NULL)) != 0) return rc;
    double *zs = malloc((size_t)k * sizeof(double));
    if (!zs) return H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t i = 0; i < p->rows; i++) {
        for (int64_t j = 0; j < k; j++) zs[j] = p->x[i * k + j] * sc[j];
        double *xo = x + i * d;
        for (int64_t t = 0; t < d; t++) xo[t] = mu[t];
        for (int64_t j = 0; j < k; j++)
            for (int64_t t = 0; t < d; t++) xo[t] += zs[j] * V[j * d + t];
    }
    free(zs);
    return 0;
}

/* pca.quad (map_sum; in[1] = mean (d) then precision P (d x d)): the sum of
 * (x - mean)^T P (x - mean) over the block's rows */
static int k_quad(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    parg a;
    int rc = parse_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const int64_t d = a.d;
    const wb_part *p = in_part(in, nin, d);
    const double *pr = in_doubles(in, nin, 1, d + d * d);
    if (!p || !pr) return WB_EINVAL;
    const double *mu = pr, *P = pr + d;
    double *o = H->out_bytes(ctx, sizeof(double));
    double *y = malloc((size_t)d * sizeof(double));
    if (!o || !y) {
        free(y);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < p->rows; i++) {
        for (int64_t t = 0; t < d; t++) y[t] = p->x[i * d + t] - mu[t];
        double q = 0;
        for (int64_t r = 0; r < d; r++) {
            double v = 0;
            for (int64_t c = 0; c < d; c++) v += P[r * d + c] * y[c];
            q += y[r] * v;
        }
        o[0] += q;
    }
    free(y);
    return 0;
}

/* ======================================================= driver helpers */

static int get_exact(wb_exec *ex, wb_oid id, double *out, int64_t count)
{
    void *data = NULL;
    size_t size = 0;
    int rc = H->get(ex, id, &data, &size);
    if (!rc && size != (size_t)count * sizeof(double)) rc = H->seterr(WB_EINTERNAL, "pca: kernel result of %zu bytes", size);
    if (!rc) memcpy(out, data, size);
    H->free(data);
    return rc;
}

/* the mean of the first block (the shift that keeps sums of squares exact) */
static int first_block_mean(wb_exec *ex, const wb_dataset *ds, double *s)
{
    int64_t d = H->ds_cols(ds);
    parg a = {d, 0, 0, 0};
    wb_oid in = H->ds_part_oid(ds, 0), out;
    int rc = H->submit(ex, "pca.shift", &in, 1, &a, sizeof a, &out);
    if (rc) return rc;
    rc = H->wait(ex, &out, 1);
    if (!rc) rc = get_exact(ex, out, s, d);
    H->release(ex, out);
    return rc;
}

static int map_sum_shift_flags(wb_exec *ex, const wb_dataset *ds, const char *kernel, const wb_oid *extra,
                               int nextra, int64_t k, int64_t flags, const double *s, double *out, size_t len)
{
    int64_t d = H->ds_cols(ds);
    unsigned char *arg = malloc(sizeof(parg) + (size_t)d * sizeof(double));
    if (!arg) return H->seterr(WB_ENOMEM, "out of memory");
    parg a = {d, k, 0, flags};
    memcpy(arg, &a, sizeof a);
    memcpy(arg + sizeof a, s, (size_t)d * sizeof(double));
    int rc = H->map_sum(ex, kernel, ds, extra, nextra, arg, sizeof a + (size_t)d * sizeof(double), out, len);
    free(arg);
    return rc;
}

static int map_sum_shift(wb_exec *ex, const wb_dataset *ds, const char *kernel, const wb_oid *extra, int nextra,
                         int64_t k, const double *s, double *out, size_t len)
{
    return map_sum_shift_flags(ex, ds, kernel, extra, nextra, k, 0, s, out, len);
}

/* the fit's NaN/Inf check when it rode a pass: an error of the passes is
 * reported as the check would have reported it first (it ran first before);
 * `suspect`: a sum came out NaN/Inf (NaN/Inf data, or finite data so large
 * that its squares overflow: the check then finds nothing and the fit goes
 * on as it did) */
static int finite_after(wb_exec *ex, const wb_dataset *ds, int rc, int suspect)
{
    if (rc == WB_ECANCELED) return rc;
    if (!rc && !suspect) return 0;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", H->errmsg());
    int frc = H->ds_check_finite(ex, ds, NAME);
    if (frc || !rc) return frc;
    return H->seterr(rc, "%s", msg);
}

/* symmetric eigendecomposition: A (n x n, row-major, upper used) -> eigenvalues
 * descending in w, eigenvectors as the ROWS of V (n x n) */
static int eig_desc(double *A, int64_t n, double *w, double *V)
{
    double *wa = malloc((size_t)n * sizeof(double));
    if (!wa) return H->seterr(WB_ENOMEM, "out of memory");
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, A, (lapack_int)n, wa);
    if (info != 0) {
        free(wa);
        return H->seterr(WB_EINTERNAL, "pca: the eigendecomposition failed (LAPACK info %d)", (int)info);
    }
    /* ascending -> descending; column j of A is eigenvector j */
    for (int64_t j = 0; j < n; j++) {
        int64_t src = n - 1 - j;
        w[j] = wa[src];
        for (int64_t i = 0; i < n; i++) V[j * n + i] = A[i * n + src];
    }
    free(wa);
    return 0;
}

/* each row's entry of largest magnitude (first on ties) made positive */
static void flip_signs(double *V, int64_t k, int64_t d)
{
    for (int64_t j = 0; j < k; j++) {
        double *v = V + j * d;
        int64_t at = 0;
        for (int64_t t = 1; t < d; t++)
            if (fabs(v[t]) > fabs(v[at])) at = t;
        if (v[at] < 0)
            for (int64_t t = 0; t < d; t++) v[t] = -v[t];
    }
}

/* components from a fraction: the fewest whose cumulative ratio exceeds f */
static int64_t from_fraction(const double *ratio, int64_t nall, double f)
{
    double cum = 0;
    for (int64_t j = 0; j < nall; j++) {
        cum += ratio[j];
        if (cum > f) return j + 1;
    }
    return nall;
}

typedef struct pca_fit {
    int64_t n, d, k;
    double *mean, *V, *ev, *ratio, *sv;
    double noise;
} pca_fit;

static int want_components(const wb_params *p, int64_t *k, double *frac)
{
    *k = 0;
    *frac = 0;
    if (!H->param_has(p, "components")) return 0;
    if (H->param_type(p, "components") == WB_P_INT) {
        *k = H->param_int(p, "components");
        return 0;
    }
    double v = H->param_num(p, "components");
    if (v >= 1 && v == floor(v)) /* saturated: a double past int64 does not convert (found by fuzzing) */
        *k = v < 9223372036854775807.0 ? (int64_t)v : INT64_MAX;
    else
        *frac = v;
    return 0;
}

static const char *pick_solver(const wb_params *p, int64_t n, int64_t d)
{
    const char *s = H->param_str(p, "solver");
    if (strcmp(s, "auto")) return s;
    int64_t k;
    double frac;
    want_components(p, &k, &frac);
    if (frac > 0 || d <= 1000 || k == 0) return "gram";
    int64_t mn = n < d ? n : d;
    return k * 5 < d && k < mn ? "randomized" : "gram";
}

static int fit_gram(wb_exec *ex, const wb_dataset *ds, const wb_params *p, pca_fit *F)
{
    const int64_t n = F->n, d = F->d, tri = d * (d + 1) / 2;
    const int center = H->param_bool(p, "center");
    double *s = malloc((size_t)d * sizeof(double)), *S = malloc((size_t)(d + tri + 1) * sizeof(double));
    double *C = malloc((size_t)(d * d) * sizeof(double)), *V = malloc((size_t)(d * d) * sizeof(double));
    double *w = malloc((size_t)d * sizeof(double)), *cov = malloc((size_t)(d * d) * sizeof(double));
    int rc = (!s || !S || !C || !V || !w || !cov) ? H->seterr(WB_ENOMEM, "out of memory") : 0;
    if (!rc) rc = first_block_mean(ex, ds, s);
    /* the NaN/Inf check of x and the labels rides the pass (finite_after) */
    if (!rc) rc = map_sum_shift_flags(ex, ds, "pca.gram", NULL, 0, 0, F_LABELS, s, S, (size_t)(d + tri + 1));
    int suspect = 0;
    for (int64_t t = 0; !rc && t <= d + tri; t++) suspect |= !isfinite(S[t]) || (t == d + tri && S[t] != 0);
    rc = finite_after(ex, ds, rc, suspect);
    if (!rc) {
        const double *sum = S, *up = S + d, nn = (double)n, den = n > 1 ? (double)(n - 1) : 1.0;
        for (int64_t t = 0; t < d; t++) F->mean[t] = s[t] + sum[t] / nn;
        /* the covariance (ddof 1): sum (y - ybar)(y - ybar)^T = Y^T Y - n ybar ybar^T */
        for (int64_t r = 0, q = 0; r < d; r++)
            for (int64_t c = r; c < d; c++, q++) {
                double v = (up[q] - sum[r] * (sum[c] / nn)) / den;
                cov[r * d + c] = cov[c * d + r] = v;
            }
        if (center)
            memcpy(C, cov, (size_t)(d * d) * sizeof(double));
        else /* X^T X / (n - 1), for uncentred components */
            for (int64_t r = 0, q = 0; r < d; r++)
                for (int64_t c = r; c < d; c++, q++) {
                    double v = (up[q] + s[r] * sum[c] + sum[r] * s[c] + nn * s[r] * s[c]) / den;
                    C[r * d + c] = C[c * d + r] = v;
                }
        rc = eig_desc(C, d, w, V);
    }
    if (!rc) {
        double total = 0;
        for (int64_t t = 0; t < d; t++) total += cov[t * d + t];
        if (center) {
            total = 0;
            for (int64_t j = 0; j < d; j++) {
                if (w[j] < 0) w[j] = 0;
                total += w[j];
            }
        }
        int64_t nall = n < d ? n : d;
        double *ratio = malloc((size_t)d * sizeof(double));
        if (!ratio) rc = H->seterr(WB_ENOMEM, "out of memory");
        for (int64_t j = 0; !rc && j < d; j++) {
            double ev = w[j];
            if (!center) { /* the variance of the data along the component */
                ev = 0;
                for (int64_t r = 0; r < d; r++)
                    for (int64_t c = 0; c < d; c++) ev += V[j * d + r] * cov[r * d + c] * V[j * d + c];
            }
            ratio[j] = total > 0 ? ev / total : 0;
            if (j < nall || !center) F->ev[j] = ev;
        }
        if (!rc) {
            int64_t k;
            double frac;
            want_components(p, &k, &frac);
            if (frac > 0) k = from_fraction(ratio, nall, frac);
            if (k == 0) k = nall;
            F->k = k;
            flip_signs(V, k, d);
            memcpy(F->V, V, (size_t)(k * d) * sizeof(double));
            for (int64_t j = 0; j < k; j++) {
                F->ratio[j] = ratio[j];
                F->sv[j] = sqrt((w[j] > 0 ? w[j] : 0) * (n > 1 ? (double)(n - 1) : 1.0));
            }
            double nv = 0;
            for (int64_t j = k; j < nall; j++) nv += w[j];
            F->noise = k < nall ? nv / (double)(nall - k) : 0;
        }
        free(ratio);
    }
    free(s);
    free(S);
    free(C);
    free(V);
    free(w);
    free(cov);
    return rc;
}

/* orthonormalise the columns of Q (d x l, row-major) in place (QR) */
static int orth(double *Q, int64_t d, int64_t l)
{
    double *tau = malloc((size_t)l * sizeof(double));
    if (!tau) return H->seterr(WB_ENOMEM, "out of memory");
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)l, Q, (lapack_int)l, tau);
    if (!info) info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)l, (lapack_int)l, Q, (lapack_int)l, tau);
    free(tau);
    if (info) return H->seterr(WB_EINTERNAL, "pca: QR failed (LAPACK info %d)", (int)info);
    return 0;
}

static int fit_randomized(wb_exec *ex, const wb_dataset *ds, const wb_params *p, pca_fit *F)
{
    const int64_t n = F->n, d = F->d, k = F->k;
    const int center = H->param_bool(p, "center");
    int64_t l = k + H->param_int(p, "oversamples");
    if (l > d) l = d;
    int64_t q;
    if (H->param_has(p, "iterations"))
        q = H->param_int(p, "iterations");
    else
        q = (double)k < 0.1 * (double)(n < d ? n : d) ? 7 : 4; /* scikit-learn's 'auto' */
    double *s = malloc((size_t)d * sizeof(double)), *mo = malloc((size_t)(2 * d) * sizeof(double));
    double *Q = malloc((size_t)(d * l) * sizeof(double)), *Z = malloc((size_t)(d * l) * sizeof(double));
    double *B = malloc((size_t)(l * l) * sizeof(double)), *W = malloc((size_t)(l * l) * sizeof(double));
    double *w = malloc((size_t)l * sizeof(double)), *mu = malloc((size_t)d * sizeof(double));
    int rc = (!s || !mo || !Q || !Z || !B || !W || !w || !mu) ? H->seterr(WB_ENOMEM, "out of memory") : 0;
    if (!rc) rc = first_block_mean(ex, ds, s);
    if (!rc) rc = map_sum_shift(ex, ds, "pca.moments", NULL, 0, 0, s, mo, (size_t)(2 * d));
    double total = 0;
    if (!rc) {
        const double nn = (double)n, den = n > 1 ? (double)(n - 1) : 1.0;
        for (int64_t t = 0; t < d; t++) {
            double m1 = mo[t] / nn;
            F->mean[t] = s[t] + m1;
            total += (mo[d + t] - mo[t] * m1) / den;
            mu[t] = center ? F->mean[t] : 0;
        }
        wb_rng r;
        wb_rng_init(&r, (uint64_t)H->param_int(p, "seed"), 0x9ca, 0);
        wb_rng_normals(&r, Q, (size_t)(d * l));
        rc = orth(Q, d, l);
    }
    /* power iterations, then the Rayleigh-Ritz pass */
    for (int64_t it = 0; !rc && it <= q; it++) {
        wb_oid oq;
        rc = H->put(ex, Q, (size_t)(d * l) * sizeof(double), &oq);
        if (rc) break;
        rc = map_sum_shift(ex, ds, "pca.rproj", &oq, 1, l, mu, Z, (size_t)(d * l));
        H->release(ex, oq);
        if (rc) break;
        H->progress("pca", (double)(it + 1), (double)(q + 1), "randomized");
        if (it < q) {
            memcpy(Q, Z, (size_t)(d * l) * sizeof(double));
            rc = orth(Q, d, l);
        }
    }
    if (!rc) {
        /* B = Q^T Z = Q^T Xc^T Xc Q (l x l), symmetrised */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)l, (int)l, (int)d, 1.0, Q, (int)l, Z, (int)l, 0.0, B,
                    (int)l);
        for (int64_t i = 0; i < l; i++)
            for (int64_t j = i + 1; j < l; j++) B[i * l + j] = B[j * l + i] = 0.5 * (B[i * l + j] + B[j * l + i]);
        rc = eig_desc(B, l, w, W);
    }
    if (!rc) {
        /* components: rows of W^T Q^T (k x d) */
        const double den = n > 1 ? (double)(n - 1) : 1.0;
        for (int64_t j = 0; j < k; j++) {
            for (int64_t t = 0; t < d; t++) {
                double v = 0;
                for (int64_t i = 0; i < l; i++) v += Q[t * l + i] * W[j * l + i];
                F->V[j * d + t] = v;
            }
            double lam = w[j] > 0 ? w[j] : 0;
            F->ev[j] = lam / den;
            F->sv[j] = sqrt(lam);
            F->ratio[j] = total > 0 ? F->ev[j] / total : 0;
        }
        flip_signs(F->V, k, d);
        double rest = total;
        for (int64_t j = 0; j < k; j++) rest -= F->ev[j];
        int64_t nall = n < d ? n : d;
        F->noise = k < nall ? (rest > 0 ? rest : 0) / (double)(d - k) : 0;
    }
    free(s);
    free(mo);
    free(Q);
    free(Z);
    free(B);
    free(W);
    free(w);
    free(mu);
    return rc;
}

/* ============================================================ estimator */

static int pca_check(const wb_params *p, const wb_dataset *d)
{
    int64_t k = 0;
    double frac = 0;
    if (H->param_has(p, "components")) {
        int t = H->param_type(p, "components");
        double v = H->param_num(p, "components");
        if (t == WB_P_NUM && !(v > 0 && v < 1) && !(v >= 1 && v == floor(v)))
            return H->seterr(WB_EPARAM, NAME ": parameter 'components' must be an integer >= 1 or a fraction in (0, 1), got %g", v);
        want_components(p, &k, &frac);
    }
    if (frac > 0 && !strcmp(H->param_str(p, "solver"), "randomized"))
        return H->seterr(WB_EPARAM, NAME ": a variance fraction (components = %g) needs solver \"gram\" or \"auto\", not \"randomized\"", frac);
    if (d) {
        int64_t n = H->ds_rows(d), c = H->ds_cols(d), mn = n < c ? n : c;
        if (c < 1) return H->seterr(WB_EINVAL, NAME ": the data has no columns");
        if (n < 2) return H->seterr(WB_EINVAL, NAME ": the data has %lld rows; at least 2 are needed", (long long)n);
        if (k > mn)
            return H->seterr(WB_EPARAM, NAME ": parameter 'components' (%lld) must be <= min(rows, columns) = %lld", (long long)k,
                             (long long)mn);
    }
    return 0;
}

static int pca_fit_fn(wb_exec *ex, const wb_dataset *ds, const wb_params *p, wb_model *m)
{
    /* the gram solver checks for NaN/Inf in its pass; the randomized one first */
    const char *solver = pick_solver(p, H->ds_rows(ds), H->ds_cols(ds));
    int rc = strcmp(solver, "randomized") ? 0 : H->ds_check_finite(ex, ds, NAME);
    if (rc) return rc;
    pca_fit F = {0};
    F.n = H->ds_rows(ds);
    F.d = H->ds_cols(ds);
    const int64_t d = F.d;
    F.mean = malloc((size_t)d * sizeof(double));
    F.V = malloc((size_t)(d * d) * sizeof(double));
    F.ev = calloc((size_t)d, sizeof(double));
    F.ratio = calloc((size_t)d, sizeof(double));
    F.sv = calloc((size_t)d, sizeof(double));
    if (!F.mean || !F.V || !F.ev || !F.ratio || !F.sv) rc = H->seterr(WB_ENOMEM, "out of memory");
    if (!rc) {
        if (!strcmp(solver, "randomized")) {
            double frac;
            want_components(p, &F.k, &frac);
            if (F.k == 0) F.k = F.n < d ? F.n : d;
            rc = fit_randomized(ex, ds, p, &F);
        } else
            rc = fit_gram(ex, ds, p, &F);
    }
    const int64_t k = F.k;
    if (!rc) rc = H->model_set_array(m, "components", F.V, k, d);
    if (!rc) rc = H->model_set_array(m, "explained_variance", F.ev, 1, k);
    if (!rc) rc = H->model_set_array(m, "explained_variance_ratio", F.ratio, 1, k);
    if (!rc) rc = H->model_set_array(m, "singular_values", F.sv, 1, k);
    if (!rc) rc = H->model_set_array(m, "mean", F.mean, 1, d);
    if (!rc) rc = H->model_set_num(m, "noise_variance", F.noise);
    if (!rc) rc = H->model_set_num(m, "n_components", (double)k);
    if (!rc) rc = H->model_set_num(m, "samples", (double)F.n);
    if (!rc) rc = H->model_set_str(m, "solver_used", solver);
    free(F.mean);
    free(F.V);
    free(F.ev);
    free(F.ratio);
    free(F.sv);
    return rc;
}

/* A fitted model's arrays, checked against each other before any is read:
 * components k x d (1 <= k <= d), mean d values, explained_variance k values
 * >= 0, all finite; whiten and center booleans. The model may come from a
 * file (wb.load_model) or have been changed (m:set). */
typedef struct pview {
    const double *V, *mu, *ev;
    int64_t k, d;
    int whiten, center;
} pview;

static int all_finite(const double *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

static int pca_view(const wb_model *m, pview *v)
{
    int64_t k, d, r2, c2, r3, c3;
    const double *V = H->model_array(m, "components", &k, &d);
    const double *mu = H->model_array(m, "mean", &r2, &c2);
    const double *ev = H->model_array(m, "explained_variance", &r3, &c3);
    if (!V || !mu || !ev) return H->seterr(WB_EINVAL, NAME ": the model has no components");
    if (k < 1 || d < 1 || k > d || d > (1 << 20))
        return H->seterr(WB_EINVAL, NAME ": malformed model: 'components' is %lld x %lld (k x d, 1 <= k <= d expected)",
                         (long long)k, (long long)d);
    if (r2 * c2 != d)
        return H->seterr(WB_EINVAL, NAME ": malformed model: 'mean' holds %lld values, 'components' has %lld columns",
                         (long long)(r2 * c2), (long long)d);
    if (r3 * c3 != k)
        return H->seterr(WB_EINVAL,
                         NAME ": malformed model: 'explained_variance' holds %lld values, 'components' has %lld rows",
                         (long long)(r3 * c3), (long long)k);
    if (!all_finite(V, k * d) || !all_finite(mu, d) || !all_finite(ev, k))
        return H->seterr(WB_EINVAL, NAME ": malformed model: 'components', 'mean' or 'explained_variance' holds NaN or Inf");
    for (int64_t j = 0; j < k; j++)
        if (ev[j] < 0)
            return H->seterr(WB_EINVAL, NAME ": malformed model: 'explained_variance' %lld is negative (%g)", (long long)j + 1,
                             ev[j]);
    const wb_params *p = H->model_params(m);
    if (H->param_type(p, "whiten") != WB_P_BOOL || H->param_type(p, "center") != WB_P_BOOL)
        return H->seterr(WB_EINVAL, NAME ": malformed model: its parameters 'whiten' and 'center' must be booleans");
    *v = (pview){V, mu, ev, k, d, H->param_bool(p, "whiten"), H->param_bool(p, "center")};
    return 0;
}

/* mean, components, scale (1/sqrt(ev) when whitening; sqrt(ev) to undo it)
 * as one object */
static int put_transform(wb_exec *ex, const pview *v, int inverse, wb_oid *out)
{
    const int64_t d = v->d, k = v->k;
    double *buf = malloc((size_t)(d + k * d + k) * sizeof(double));
    if (!buf) return H->seterr(WB_ENOMEM, NAME ": out of memory (%zu bytes)", (size_t)(d + k * d + k) * sizeof(double));
    for (int64_t t = 0; t < d; t++) buf[t] = v->center ? v->mu[t] : 0;
    memcpy(buf + d, v->V, (size_t)(k * d) * sizeof(double));
    for (int64_t j = 0; j < k; j++) {
        double e = v->ev[j];
        buf[d + k * d + j] = !v->whiten ? 1 : inverse ? sqrt(e > 0 ? e : 0) : (e > 0 ? 1 / sqrt(e) : 0);
    }
    int rc = H->put(ex, buf, (size_t)(d + k * d + k) * sizeof(double), out);
    free(buf);
    return rc;
}

static int pca_transform(wb_exec *ex, const wb_model *m, const wb_dataset *ds, wb_dataset **out)
{
    pview v;
    int rc = pca_view(m, &v);
    if (rc) return rc;
    if (H->ds_cols(ds) != v.d)
        return H->seterr(WB_EINVAL, NAME ": the data has %lld columns, the model was fitted on %lld",
                         (long long)H->ds_cols(ds), (long long)v.d);
    if ((rc = H->ds_check_finite(ex, ds, NAME))) return rc;
    wb_oid o;
    if ((rc = put_transform(ex, &v, 0, &o))) return rc;
    parg a = {v.d, v.k, 0, 0};
    rc = H->map_dataset(ex, "pca.transform", ds, &o, 1, &a, sizeof a, out);
    H->release(ex, o);
    return rc;
}

static int pca_inverse(wb_exec *ex, const wb_model *m, const wb_dataset *ds, wb_dataset **out)
{
    pview v;
    int rc = pca_view(m, &v);
    if (rc) return rc;
    if (H->ds_cols(ds) != v.k)
        return H->seterr(WB_EINVAL, NAME ": inverse_transform takes %lld columns (the components), got %lld",
                         (long long)v.k, (long long)H->ds_cols(ds));
    if ((rc = H->ds_check_finite(ex, ds, NAME))) return rc;
    wb_oid o;
    if ((rc = put_transform(ex, &v, 1, &o))) return rc;
    parg a = {v.d, v.k, 0, 0};
    rc = H->map_dataset(ex, "pca.inverse", ds, &o, 1, &a, sizeof a, out);
    H->release(ex, o);
    return rc;
}

/* score: the mean log-likelihood of the rows under the probabilistic PCA
 * model (Tipping & Bishop; scikit-learn's PCA.score) */
static int pca_score(wb_exec *ex, const wb_model *m, const wb_dataset *ds, double *out)
{
    pview v;
    int rc = pca_view(m, &v);
    if (rc) return rc;
    const int64_t k = v.k, d = v.d;
    const double *V = v.V, *ev = v.ev, *mu = v.mu;
    double noise = H->model_num(m, "noise_variance");
    if (!(noise >= 0 && isfinite(noise)))
        return H->seterr(WB_EINVAL, NAME ": malformed model: 'noise_variance' must be a finite number >= 0, got %g", noise);
    if (H->ds_cols(ds) != d)
        return H->seterr(WB_EINVAL, NAME ": the data has %lld columns, the model was fitted on %lld", (long long)H->ds_cols(ds),
                         (long long)d);
    rc = H->ds_check_finite(ex, ds, NAME);
    if (rc) return rc;
    double *buf = malloc((size_t)(d + d * d) * sizeof(double));
    if (!buf) return H->seterr(WB_ENOMEM, NAME ": out of memory (%zu bytes)", (size_t)(d + d * d) * sizeof(double));
    int center = v.center;
    for (int64_t t = 0; t < d; t++) buf[t] = center ? mu[t] : 0;
    double *P = buf + d;
    /* covariance V^T diag(ev - noise) V + noise I, then its inverse (Cholesky) */
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = 0; b < d; b++) {
            double v = a == b ? noise : 0;
            for (int64_t j = 0; j < k; j++) {
                double e = ev[j] - noise;
                v += V[j * d + a] * (e > 0 ? e : 0) * V[j * d + b];
            }
            P[a * d + b] = v;
        }
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, P, (lapack_int)d);
    double logdet = 0;
    if (!info)
        for (int64_t a = 0; a < d; a++) logdet += 2 * log(P[a * d + a]);
    if (!info) info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, P, (lapack_int)d);
    if (info) {
        free(buf);
        return H->seterr(WB_EINVAL, NAME ": the model's covariance is singular, so score is undefined (fewer components than columns, or data that is not degenerate, are needed)");
    }
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = 0; b < a; b++) P[a * d + b] = P[b * d + a];
    wb_oid o;
    rc = H->put(ex, buf, (size_t)(d + d * d) * sizeof(double), &o);
    free(buf);
    if (rc) return rc;
    parg a = {d, 0, 0, 0};
    double q = 0;
    rc = H->map_sum(ex, "pca.quad", ds, &o, 1, &a, sizeof a, &q, 1);
    H->release(ex, o);
    if (rc) return rc;
    double n = (double)H->ds_rows(ds);
    *out = -0.5 * q / n - 0.5 * ((double)d * log(2 * M_PI) + logdet);
    return 0;
}

static const wb_param_spec pca_params[] = {
    {.name = "components", .types = WB_P_INT | WB_P_NUM, .min = 0, .max = INFINITY, .flags = WB_P_NULLABLE | WB_P_MIN_EXCL,
     .doc = "components to keep (integer), or the variance fraction to explain (in (0, 1)); default: min(rows, columns)"},
    {.name = "whiten", .types = WB_P_BOOL, .def = "false", .doc = "scale the transformed columns to unit variance"},
    {.name = "center", .types = WB_P_BOOL, .def = "true", .doc = "subtract the column means first"},
    {.name = "solver", .types = WB_P_STR, .def = "auto", .choices = "auto|gram|randomized",
     .doc = "\"gram\": one pass + eigendecomposition; \"randomized\": Halko et al. for wide data; \"auto\": by shape"},
    {.name = "iterations", .types = WB_P_INT, .min = 0, .max = 100, .flags = WB_P_NULLABLE,
     .doc = "randomized: power iterations (default 7, or 4 when components >= 10% of min(rows, columns))"},
    {.name = "oversamples", .types = WB_P_INT, .def = "10", .min = 0, .max = 10000,
     .doc = "randomized: extra random directions"},
    {.name = "seed", .types = WB_P_INT, .def = "0", .min = 0, .max = INFINITY,
     .doc = "random seed (randomized solver)"},
};

static const wb_estimator_def pca_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "pca",
    .doc = "principal component analysis (one-pass gram + eigendecomposition, or randomized)",
    .kind = WB_EST_TRANSFORMER,
    .params = pca_params,
    .nparams = sizeof pca_params / sizeof pca_params[0],
    .check = pca_check,
    .fit = pca_fit_fn,
    .transform = pca_transform,
    .inverse_transform = pca_inverse,
    .score = pca_score,
};

static const wb_kernel_def kernels[] = {
    {.name = "pca.shift", .fn = k_shift},
    {.name = "pca.gram", .fn = k_gram},
    {.name = "pca.moments", .fn = k_moments},
    {.name = "pca.rproj", .fn = k_rproj},
    {.name = "pca.transform", .fn = k_transform},
    {.name = "pca.inverse", .fn = k_inverse},
    {.name = "pca.quad", .fn = k_quad},
};

WB_PLUGIN("pca", "1.0")
{
    H = host;
    int rc = wb_register_kernels(H, kernels, sizeof kernels / sizeof kernels[0]);
    if (!rc) rc = H->register_estimator(&pca_def);
    return rc;
}
