/* dist.c — nearest centres and distances (see dist.h).
 *
 * The direct path works on KM_SUB rows at a time, transposed into columns, and
 * computes 16 rows against one centre per step with 8-wide vectors (GCC
 * vector extensions: AVX-512, AVX2 or SSE2 code is chosen at run time with
 * target_clones). The file is built with -ffp-contract=off, so every variant
 * does exactly the same floating-point operations and gives the same bits. */
#include "dist.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wb/plugin.h"

/* the float screening (assign_f32) needs exact float indices */
#define KM_F32_MAX_K (1 << 20)

/* WB_KMEANS_PRODUCT=double turns the float product off (for tests: the
 * same results either way) */
static int getenv_float_ok(void)
{
    const char *e = getenv("WB_KMEANS_PRODUCT");
    return !(e && !strcmp(e, "double"));
}

void km_cs_free(km_cs *cs);

int km_cs_init(km_cs *cs, const double *c, int64_t k, int64_t d)
{
    memset(cs, 0, sizeof *cs);
    cs->k = k;
    cs->d = d;
    cs->c = c;
    cs->blas = d > KM_DIRECT_MAX_D;
    if (cs->blas) {
        cs->cn = malloc((size_t)k * sizeof(double));
        cs->g = malloc((size_t)KM_BIG * (size_t)k * sizeof(double));
        if (!cs->cn || !cs->g) {
            km_cs_free(cs);
            return WB_ENOMEM;
        }
        int ok = d < (1 << 20) && k < (1 << 24);
        for (int64_t j = 0; j < k; j++) {
            const double *cj = c + j * d;
            double s = 0;
            for (int64_t t = 0; t < d; t++) {
                s += cj[t] * cj[t];
                ok &= fabs(cj[t]) < 0x1p50;
            }
            cs->cn[j] = s;
            if (s > cs->cnmax) cs->cnmax = s;
        }
        /* the float product (assign_blas): every centre value finite and
         * below 2^50 in magnitude (rows are checked per block) */
        if (ok && getenv_float_ok()) {
            cs->cs32 = malloc((size_t)(k * d) * sizeof(float));
            cs->xf = malloc((size_t)KM_BIG * (size_t)d * sizeof(float));
            cs->gf = malloc((size_t)KM_BIG * (size_t)k * sizeof(float));
            if (!cs->cs32 || !cs->xf || !cs->gf) {
                km_cs_free(cs);
                return WB_ENOMEM;
            }
            for (int64_t q = 0; q < k * d; q++) cs->cs32[q] = (float)c[q];
        }
    } else if (k <= KM_F32_MAX_K) {
        /* the float screening (assign_f32): every centre value finite and
         * below 2^60 in magnitude, so no float sum of squares overflows */
        int ok = 1;
        double m2 = 0;
        for (int64_t j = 0; j < k && ok; j++) {
            double s = 0;
            for (int64_t t = 0; t < d; t++) {
                double v = c[j * d + t];
                ok &= fabs(v) < 0x1p60;
                s += v * v;
            }
            if (s > m2) m2 = s;
        }
        if (ok) {
            /* per centre: -2 c (rounded to floats, then doubled: exact)
             * and |c|^2 rounded to a float */
            cs->cf = malloc((size_t)(k * (d + 1)) * sizeof(float));
            if (!cs->cf) return WB_ENOMEM;
            for (int64_t j = 0; j < k; j++) {
                double s = 0;
                for (int64_t t = 0; t < d; t++) {
                    cs->cf[j * (d + 1) + t] = -2 * (float)c[j * d + t];
                    s += c[j * d + t] * c[j * d + t];
                }
                cs->cf[j * (d + 1) + d] = (float)s;
            }
            cs->cmax2 = m2 * (1 + 0x1p-40);
        }
    }
    return 0;
}

void km_cs_free(km_cs *cs)
{
    free(cs->cn);
    free(cs->g);
    free(cs->cf);
    free(cs->cs32);
    free(cs->xf);
    free(cs->gf);
    cs->cn = cs->g = NULL;
    cs->cf = cs->cs32 = cs->xf = cs->gf = NULL;
}

/* ------------------------------------------------------------ direct path */

/* the vector helpers below are always inlined; their by-value vector types
 * never cross a call boundary */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef double vd __attribute__((vector_size(64)));
typedef int64_t vl __attribute__((vector_size(64)));

/* macros, not functions: a function taking or returning a 64-byte vector
 * changes the ABI in the clones built without AVX-512 (clang refuses it) */
#define vload(p)                                                                                                       \
    __extension__({                                                                                                    \
        vd v_;                                                                                                         \
        memcpy(&v_, (p), sizeof v_);                                                                                   \
        v_;                                                                                                            \
    })
#define vstore(p, v)                                                                                                   \
    do {                                                                                                               \
        vd s_ = (v);                                                                                                   \
        memcpy((p), &s_, sizeof s_);                                                                                   \
    } while (0)
#define lstore(p, v)                                                                                                   \
    do {                                                                                                               \
        vl s_ = (v);                                                                                                   \
        memcpy((p), &s_, sizeof s_);                                                                                   \
    } while (0)

/* D is a compile-time constant at every call site, so the loops over columns
 * unroll and the row vectors stay in registers. NV vectors of 8 rows are
 * processed per step: independent compare/select chains hide their latency.
 * The centre index is kept as a vector of doubles (0, 1, 2, ... are exact)
 * advanced by one per centre, so the select never moves a general register
 * into the vector unit. */
#define NV 4
static inline __attribute__((always_inline)) void assign_fixed(const int D, const double *x, int n,
                                                                const double *c, int64_t k,
                                                                int32_t *lab, double *dist)
{
    double xs[KM_DIRECT_MAX_D][KM_SUB] __attribute__((aligned(64)));
    double bd[KM_SUB] __attribute__((aligned(64)));
    double bi[KM_SUB] __attribute__((aligned(64)));
    const int step = 8 * NV;
    int np = (n + step - 1) / step * step;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < D; t++) xs[t][i] = x[(size_t)i * D + t];
    for (int i = n; i < np; i++)
        for (int t = 0; t < D; t++) xs[t][i] = 0;
    for (int i = 0; i < np; i += step) {
        vd X[NV][KM_DIRECT_MAX_D], b[NV], bx[NV];
        for (int v = 0; v < NV; v++) {
            for (int t = 0; t < D; t++) X[v][t] = vload(&xs[t][i + 8 * v]);
            b[v] = (vd){0} + INFINITY;
            bx[v] = (vd){0};
        }
        vd jv = (vd){0};
        const double *cj = c;
        for (int64_t j = 0; j < k; j++, cj += D) {
            for (int v = 0; v < NV; v++) {
                vd f = X[v][0] - cj[0], a = f * f;
                for (int t = 1; t < D; t++) {
                    f = X[v][t] - cj[t];
                    a += f * f;
                }
                vl m = a < b[v];
                b[v] = (vd)(((vl)a & m) | ((vl)b[v] & ~m));
                bx[v] = (vd)(((vl)jv & m) | ((vl)bx[v] & ~m));
            }
            jv += 1.0;
        }
        for (int v = 0; v < NV; v++) {
            vstore(bd + i + 8 * v, b[v]);
            vstore(bi + i + 8 * v, bx[v]);
        }
    }
    for (int i = 0; i < n; i++) {
        lab[i] = (int32_t)bi[i];
        dist[i] = bd[i];
    }
}

/* The float screening. Rows and centres rounded to floats give, per row
 * and centre, s_j = |c_j|^2 - 2 x.c_j (= |x - c_j|^2 - |x|^2: the same
 * differences between centres) as a chain of D products added to |c_j|^2
 * (not fused: the file is built without contraction), and per row the
 * lowest s_b (centre b) and the second lowest s_2. With u = 2^-24, each
 * s_j is within E = 2 (D + 4) u (|x|^2 + |c|^2) (+ 2^-100 for underflow) of
 * its true value (the inputs' rounding, 4u |x||c|; the products',
 * 2u |x||c|; |c|^2 rounded, u |c|^2; D roundings of running sums at most
 * |c|^2 + 2 |x||c|),
 * and km_dist2 within (D + 2) 2^-53 of the true squared distance,
 * relatively. So when s_2 - s_b > M = 8 (D + 10) u (|x|^2 + max |c|^2) +
 * 2^-100 (more than twice what is needed, also for the rounding of
 * s_2 - s_b and of |x|^2), b's km_dist2 is strictly the lowest: b is the centre the exact loop would
 * choose, and only its distance is computed in doubles. Any other row (near
 * ties, NaN, values too large for floats: s NaN or infinite) goes through
 * the exact loop over every centre. The float lanes hold 16 rows. */
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));

/* one row after the float screening: its screened centre when the gap
 * proves it, else the exact loop over every centre */
static inline __attribute__((always_inline)) void f32_row(const int D, const double *x, int i, const double *c,
                                                           int64_t k, const float *sd, const float *bd,
                                                           const float *xn, const int32_t *bi, double coef,
                                                           double cmax2, int32_t *lab, double *dist)
{
    const double *xi = x + (size_t)i * D;
    const double M = coef * ((double)xn[i] * 1.01 + 0x1p-100 + cmax2) + 0x1p-100;
    if ((double)sd[i] - (double)bd[i] > M) {
        const int64_t j = (int64_t)bi[i];
        const double *cj = c + j * D;
        double f = xi[0] - cj[0], a = f * f;
        for (int t = 1; t < D; t++) {
            f = xi[t] - cj[t];
            a += f * f;
        }
        lab[i] = (int32_t)j;
        dist[i] = a;
        return;
    }
    double best = INFINITY;
    int64_t bj = 0;
    for (int64_t j = 0; j < k; j++) {
        const double *cj = c + j * D;
        double f = xi[0] - cj[0], a = f * f;
        for (int t = 1; t < D; t++) {
            f = xi[t] - cj[t];
            a += f * f;
        }
        if (a < best) {
            best = a;
            bj = j;
        }
    }
    lab[i] = (int32_t)bj;
    dist[i] = best;
}

typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void assign_f32(const int D, const double *x, int n, const double *c,
                                                              const float *cf, double cmax2, int64_t k,
                                                              int32_t *lab, double *dist)
{
    const int NF = D <= 4 ? 4 : 2; /* (at most 4: the arrays below) */
    double xd[KM_DIRECT_MAX_D][KM_SUB] __attribute__((aligned(64)));
    float xs[KM_DIRECT_MAX_D][KM_SUB] __attribute__((aligned(64)));
    float bd[KM_SUB] __attribute__((aligned(64))), sd[KM_SUB] __attribute__((aligned(64)));
    float xn[KM_SUB] __attribute__((aligned(64)));
    int32_t bi[KM_SUB] __attribute__((aligned(64))), okw[KM_SUB] __attribute__((aligned(64)));
    const int step = 16 * NF;
    int np = (n + step - 1) / step * step;
    /* the next rows (the caller's next call, usually) on their way to the
     * cache while these are computed (a prefetch never faults) */
    for (size_t q = 0; q < (size_t)n * D * sizeof(double); q += 64) __builtin_prefetch((const char *)(x + (size_t)n * D) + q);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < D; t++) xd[t][i] = x[(size_t)i * D + t];
    for (int i = n; i < np; i++)
        for (int t = 0; t < D; t++) xd[t][i] = 0;
    for (int t = 0; t < D; t++)
        for (int i = 0; i < np; i += 8) {
            vf8 f = __builtin_convertvector(vload(&xd[t][i]), vf8);
            memcpy(&xs[t][i], &f, sizeof f);
        }
    const double coef = 8.0 * (D + 10) * 0x1p-24;
    /* the gap test in floats: twice the margin again for its own rounding */
    const float coeff = (float)(2 * coef), cm = (float)cmax2 * 1.01f, tiny = 0x1p-99f;
    for (int i = 0; i < np; i += step) {
        vf X[4][KM_DIRECT_MAX_D], b[4], s2[4], bx[4], q[4];
        for (int v = 0; v < NF; v++) {
            q[v] = (vf){0};
            for (int t = 0; t < D; t++) {
                memcpy(&X[v][t], &xs[t][i + 16 * v], sizeof(vf));
                q[v] += X[v][t] * X[v][t];
            }
            b[v] = (vf){0} + INFINITY;
            s2[v] = b[v];
            bx[v] = (vf){0};
        }
        vf jv = (vf){0};
        const float *cj = cf;
        for (int64_t j = 0; j < k; j++, cj += D + 1) {
            for (int v = 0; v < NF; v++) {
                vf a = X[v][0] * cj[0] + cj[D];
                for (int t = 1; t < D; t++) a = X[v][t] * cj[t] + a;
                vi m = a < b[v];
                vf hi = (vf)(((vi)b[v] & m) | ((vi)a & ~m)); /* max(a, b) */
                vi m2 = hi < s2[v];
                s2[v] = (vf)(((vi)hi & m2) | ((vi)s2[v] & ~m2));
                b[v] = (vf)(((vi)a & m) | ((vi)b[v] & ~m));
                bx[v] = (vf)(((vi)jv & m) | ((vi)bx[v] & ~m));
            }
            jv += 1.0f;
        }
        for (int v = 0; v < NF; v++) {
            vf M = coeff * (q[v] * 1.01f + cm + tiny) + tiny;
            vi ok = (s2[v] - b[v]) > M;
            vi ix = __builtin_convertvector(bx[v], vi);
            memcpy(bd + i + 16 * v, &b[v], sizeof(vf));
            memcpy(sd + i + 16 * v, &s2[v], sizeof(vf));
            memcpy(xn + i + 16 * v, &q[v], sizeof(vf));
            memcpy(bi + i + 16 * v, &ix, sizeof ix);
            memcpy(okw + i + 16 * v, &ok, sizeof ok);
        }
    }
    int i0 = 0;
#ifndef __clang__
    /* k <= 16: 8 rows at once, the chosen centres' values picked from
     * registers (GCC's two-operand shuffle; clang has no variable one) */
    if (k <= 16) {
        vd CL[KM_DIRECT_MAX_D], CH[KM_DIRECT_MAX_D];
        for (int t = 0; t < D; t++)
            for (int q = 0; q < 8; q++) {
                CL[t][q] = q < k ? c[q * D + t] : 0;
                CH[t][q] = q + 8 < k ? c[(q + 8) * D + t] : 0;
            }
        for (; i0 + 8 <= n; i0 += 8) {
            vi8 okv;
            memcpy(&okv, okw + i0, sizeof okv);
            int all = 1;
            for (int q = 0; q < 8; q++) all &= okv[q] != 0;
            if (!all) { /* a near tie (or NaN) among them: row by row */
                for (int q = 0; q < 8; q++) f32_row(D, x, i0 + q, c, k, sd, bd, xn, bi, coef, cmax2, lab, dist);
                continue;
            }
            vi8 i8;
            memcpy(&i8, bi + i0, sizeof i8);
            vl idx = __builtin_convertvector(i8, vl);
            vd f = vload(&xd[0][i0]) - __builtin_shuffle(CL[0], CH[0], idx), a = f * f;
            for (int t = 1; t < D; t++) {
                f = vload(&xd[t][i0]) - __builtin_shuffle(CL[t], CH[t], idx);
                a += f * f;
            }
            memcpy(lab + i0, &i8, sizeof i8);
            vstore(dist + i0, a);
        }
    }
#endif
    for (int i = i0; i < n; i++) f32_row(D, x, i, c, k, sd, bd, xn, bi, coef, cmax2, lab, dist);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void km__assign_f32(const double *x, int n, int64_t d,
                                                                                   const double *c, const float *cf,
                                                                                   double cmax2, int64_t k,
                                                                                   int32_t *lab, double *dist)
{
    switch (d) {
    case 1: assign_f32(1, x, n, c, cf, cmax2, k, lab, dist); break;
    case 2: assign_f32(2, x, n, c, cf, cmax2, k, lab, dist); break;
    case 3: assign_f32(3, x, n, c, cf, cmax2, k, lab, dist); break;
    case 4: assign_f32(4, x, n, c, cf, cmax2, k, lab, dist); break;
    case 5: assign_f32(5, x, n, c, cf, cmax2, k, lab, dist); break;
    case 6: assign_f32(6, x, n, c, cf, cmax2, k, lab, dist); break;
    case 7: assign_f32(7, x, n, c, cf, cmax2, k, lab, dist); break;
    default: assign_f32(8, x, n, c, cf, cmax2, k, lab, dist); break;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void km__assign_direct(
    const double *x, int n, int64_t d, const double *c, int64_t k, int32_t *lab, double *dist)
{
    switch (d) {
    case 1: assign_fixed(1, x, n, c, k, lab, dist); break;
    case 2: assign_fixed(2, x, n, c, k, lab, dist); break;
    case 3: assign_fixed(3, x, n, c, k, lab, dist); break;
    case 4: assign_fixed(4, x, n, c, k, lab, dist); break;
    case 5: assign_fixed(5, x, n, c, k, lab, dist); break;
    case 6: assign_fixed(6, x, n, c, k, lab, dist); break;
    case 7: assign_fixed(7, x, n, c, k, lab, dist); break;
    default: assign_fixed(8, x, n, c, k, lab, dist); break;
    }
}

/* per-cluster sums and counts of rows x[0..m) (d <= KM_ACC_MAX_D columns),
 * each cluster's row a vector of W lanes: the d sums, then the count. Row i
 * goes into its cluster's vector with one vector add: lane t receives x[i][t]
 * and the count lane 1, in row order, so every lane is the same sequence of
 * additions as a scalar loop over the rows would make (the same bits). */
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4l __attribute__((vector_size(32)));

#define ACC_ROWS(W, VD, VL)                                                                                          \
    do {                                                                                                               \
        VL keep, one;                                                                                                  \
        for (int q = 0; q < W; q++) {                                                                                  \
            keep[q] = q < d ? -1 : 0;                                                                                  \
            one[q] = 0;                                                                                                \
        }                                                                                                              \
        {                                                                                                              \
            VD o_ = {0};                                                                                               \
            o_[d] = 1.0;                                                                                               \
            memcpy(&one, &o_, sizeof one);                                                                             \
        }                                                                                                              \
        const int64_t safe = (int64_t)m * d - W; /* rows starting at or below this offset load in bounds */           \
        for (int i = 0; i < m; i++) {                                                                                  \
            const int64_t off = (int64_t)i * d;                                                                        \
            VD v;                                                                                                      \
            if (off <= safe)                                                                                           \
                memcpy(&v, x + off, sizeof v);                                                                         \
            else {                                                                                                     \
                double t_[W] = {0};                                                                                    \
                memcpy(t_, x + off, (size_t)d * sizeof(double));                                                       \
                memcpy(&v, t_, sizeof v);                                                                              \
            }                                                                                                          \
            v = (VD)(((VL)v & keep) | one);                                                                            \
            double *a = acc + (int64_t)lab[i] * W;                                                                     \
            VD s_;                                                                                                     \
            memcpy(&s_, a, sizeof s_);                                                                                 \
            s_ += v;                                                                                                   \
            memcpy(a, &s_, sizeof s_);                                                                                 \
        }                                                                                                              \
    } while (0)

/* static, called through km__accum_direct: clang emits a multiversioned
 * function only under its resolver's name, which kmeans.c cannot call */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void accum_direct(const double *x, int m, int64_t d,
                                                                                       const int32_t *lab, double *acc)
{
    if (d < 4)
        ACC_ROWS(4, v4d, v4l);
    else
        ACC_ROWS(8, vd, vl);
}

void km__accum_direct(const double *x, int m, int64_t d, const int32_t *lab, double *acc)
{
    accum_direct(x, m, d, lab, acc);
}

/* per-cluster sums (k x d) and counts of m rows of any width, each value
 * added in row order (elementwise vector additions: the bits of the scalar
 * loop), 8 columns per vector */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void accum_wide(const double *x, int m, int64_t d,
                                                                                     const int32_t *lab, double *sums,
                                                                                     double *cnt)
{
    for (int i = 0; i < m; i++) {
        double *sj = sums + (int64_t)lab[i] * d;
        const double *xi = x + (int64_t)i * d;
        if (i + 8 < m)
            for (int64_t t = 0; t < d; t += 8) __builtin_prefetch(xi + 8 * d + t);
        int64_t t = 0;
        for (; t + 8 <= d; t += 8) vstore(sj + t, vload(sj + t) + vload(xi + t));
        for (; t < d; t++) sj[t] += xi[t];
        cnt[lab[i]] += 1;
    }
}

void km__accum_wide(const double *x, int m, int64_t d, const int32_t *lab, double *sums, double *cnt)
{
    accum_wide(x, m, d, lab, sums, cnt);
}

/* the nearest centre (first of lowest km_dist2), its distance and the
 * second lowest distance (ties included: a second centre as near gives the
 * same value), as the scalar scan over the centres in order finds them */
static inline __attribute__((always_inline)) void assign2_fixed(const int D, const double *x, int n,
                                                                 const double *c, int64_t k, int32_t *lab,
                                                                 double *dist, double *sec)
{
    double xs[KM_DIRECT_MAX_D][KM_SUB] __attribute__((aligned(64)));
    double bd[KM_SUB] __attribute__((aligned(64))), sd[KM_SUB] __attribute__((aligned(64)));
    double bi[KM_SUB] __attribute__((aligned(64)));
    const int step = 16;
    int np = (n + step - 1) / step * step;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < D; t++) xs[t][i] = x[(size_t)i * D + t];
    for (int i = n; i < np; i++)
        for (int t = 0; t < D; t++) xs[t][i] = 0;
    for (int i = 0; i < np; i += step) {
        vd X[2][KM_DIRECT_MAX_D], b[2], s2[2], bx[2];
        for (int v = 0; v < 2; v++) {
            for (int t = 0; t < D; t++) X[v][t] = vload(&xs[t][i + 8 * v]);
            b[v] = (vd){0} + INFINITY;
            s2[v] = b[v];
            bx[v] = (vd){0};
        }
        vd jv = (vd){0};
        const double *cj = c;
        for (int64_t j = 0; j < k; j++, cj += D) {
            for (int v = 0; v < 2; v++) {
                vd f = X[v][0] - cj[0], a = f * f;
                for (int t = 1; t < D; t++) {
                    f = X[v][t] - cj[t];
                    a += f * f;
                }
                vl m = a < b[v];
                vd hi = (vd)(((vl)b[v] & m) | ((vl)a & ~m));
                vl m2 = hi < s2[v];
                s2[v] = (vd)(((vl)hi & m2) | ((vl)s2[v] & ~m2));
                b[v] = (vd)(((vl)a & m) | ((vl)b[v] & ~m));
                bx[v] = (vd)(((vl)jv & m) | ((vl)bx[v] & ~m));
            }
            jv += 1.0;
        }
        for (int v = 0; v < 2; v++) {
            vstore(bd + i + 8 * v, b[v]);
            vstore(sd + i + 8 * v, s2[v]);
            vstore(bi + i + 8 * v, bx[v]);
        }
    }
    for (int i = 0; i < n; i++) {
        lab[i] = (int32_t)bi[i];
        dist[i] = bd[i];
        sec[i] = sd[i];
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void km__assign2_direct(
    const double *x, int n, int64_t d, const double *c, int64_t k, int32_t *lab, double *dist, double *sec)
{
    switch (d) {
    case 1: assign2_fixed(1, x, n, c, k, lab, dist, sec); break;
    case 2: assign2_fixed(2, x, n, c, k, lab, dist, sec); break;
    case 3: assign2_fixed(3, x, n, c, k, lab, dist, sec); break;
    case 4: assign2_fixed(4, x, n, c, k, lab, dist, sec); break;
    case 5: assign2_fixed(5, x, n, c, k, lab, dist, sec); break;
    case 6: assign2_fixed(6, x, n, c, k, lab, dist, sec); break;
    case 7: assign2_fixed(7, x, n, c, k, lab, dist, sec); break;
    default: assign2_fixed(8, x, n, c, k, lab, dist, sec); break;
    }
}

/* every squared distance (km_dist2's operations, vectorised over rows):
 * g[j * KM_SUB + i] */
static inline __attribute__((always_inline)) void alld_fixed(const int D, const double *x, int n, const double *c,
                                                              int64_t k, double *g)
{
    double xs[KM_DIRECT_MAX_D][KM_SUB] __attribute__((aligned(64)));
    int np = (n + 7) / 8 * 8;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < D; t++) xs[t][i] = x[(size_t)i * D + t];
    for (int i = n; i < np; i++)
        for (int t = 0; t < D; t++) xs[t][i] = 0;
    for (int64_t j = 0; j < k; j++) {
        const double *cj = c + j * D;
        double *gj = g + j * KM_SUB;
        for (int i = 0; i < np; i += 8) {
            vd f = vload(&xs[0][i]) - cj[0], a = f * f;
            for (int t = 1; t < D; t++) {
                f = vload(&xs[t][i]) - cj[t];
                a += f * f;
            }
            vstore(gj + i, a);
        }
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void km__alld_direct(const double *x, int n, int64_t d,
                                                                                    const double *c, int64_t k,
                                                                                    double *g)
{
    switch (d) {
    case 1: alld_fixed(1, x, n, c, k, g); break;
    case 2: alld_fixed(2, x, n, c, k, g); break;
    case 3: alld_fixed(3, x, n, c, k, g); break;
    case 4: alld_fixed(4, x, n, c, k, g); break;
    case 5: alld_fixed(5, x, n, c, k, g); break;
    case 6: alld_fixed(6, x, n, c, k, g); break;
    case 7: alld_fixed(7, x, n, c, k, g); break;
    default: alld_fixed(8, x, n, c, k, g); break;
    }
}

/* ------------------------------------------------------------- BLAS path */

/* 8 interleaved partial sums (column t in sum t % 8), added in a fixed order */
/* (a static clone set called by km__crit_wide: the header's inline uses
 * km__crit_wide before this definition, which clang refuses for a function
 * that is itself multiversioned) */
__attribute__((target_clones("avx512f", "avx2", "default"))) static double crit_wide(const double *a, const double *b,
                                                                                     int64_t d)
{
    vd acc = (vd){0};
    int64_t t = 0;
    for (; t + 8 <= d; t += 8) {
        vd f = vload(a + t) - vload(b + t);
        acc += f * f;
    }
    if (t < d) {
        double ta[8] = {0}, tb[8] = {0};
        memcpy(ta, a + t, (size_t)(d - t) * sizeof(double));
        memcpy(tb, b + t, (size_t)(d - t) * sizeof(double));
        vd f = vload(ta) - vload(tb);
        acc += f * f;
    }
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

double km__crit_wide(const double *a, const double *b, int64_t d) { return crit_wide(a, b, d); }

/* helpers over a row of k values (8 lanes; min and counts are exact in any order) */
__attribute__((target_clones("avx512f", "avx2", "default"))) double km__vmin(const double *v, int64_t k)
{
    vd b = (vd){0} + INFINITY;
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) {
        vd a = vload(v + j);
        vl m = a < b;
        b = (vd)(((vl)a & m) | ((vl)b & ~m));
    }
    double r = INFINITY;
    for (int q = 0; q < 8; q++)
        if (b[q] < r) r = b[q];
    for (; j < k; j++)
        if (v[j] < r) r = v[j];
    return r;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) int64_t km__vcount_le(const double *v, int64_t k,
                                                                                     double thr)
{
    vl n = (vl){0};
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) n -= (vl)(vload(v + j) <= thr);
    int64_t r = 0;
    for (int q = 0; q < 8; q++) r += n[q];
    for (; j < k; j++) r += v[j] <= thr;
    return r;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) double km__sumsq_wide(const double *a, int64_t d)
{
    vd acc = (vd){0};
    int64_t t = 0;
    for (; t + 8 <= d; t += 8) {
        vd f = vload(a + t);
        acc += f * f;
    }
    double s = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    for (; t < d; t++) s += a[t] * a[t];
    return s;
}

/* one row of the product: v_j = cn_j - 2 g_j written over g (k values),
 * and the first centre of lowest v (returned), that v (*best) and the
 * lowest v of the other centres (*second; +inf when k = 1), in one pass
 * (8 lanes: each lane's lowest, its first index and its second lowest) */
__attribute__((target_clones("avx512f", "avx2", "default"))) int64_t km__vrow(double *g, const double *cn, int64_t k,
                                                                                double *best, double *second)
{
    vd b = (vd){0} + INFINITY, s2 = b, bx = (vd){0}, jv = {0, 1, 2, 3, 4, 5, 6, 7};
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) {
        vd v = vload(cn + j) - 2 * vload(g + j);
        vstore(g + j, v);
        vl m = v < b;
        vd hi = (vd)(((vl)b & m) | ((vl)v & ~m));
        vl m2 = hi < s2;
        s2 = (vd)(((vl)hi & m2) | ((vl)s2 & ~m2));
        b = (vd)(((vl)v & m) | ((vl)b & ~m));
        bx = (vd)(((vl)jv & m) | ((vl)bx & ~m));
        jv += 8.0;
    }
    double B = INFINITY, S = INFINITY;
    int64_t bi = -1;
    for (int q = 0; q < 8; q++) {
        /* lanes hold disjoint centres: merge (lowest value, then lowest index) */
        int64_t ix = (int64_t)bx[q];
        if (b[q] < B || (b[q] == B && bi >= 0 && ix < bi)) {
            if (B < S) S = B;
            B = b[q];
            bi = b[q] < INFINITY ? ix : bi;
        } else if (b[q] < S)
            S = b[q];
        if (s2[q] < S) S = s2[q];
    }
    for (; j < k; j++) {
        double v = cn[j] - 2 * g[j];
        g[j] = v;
        if (v < B) {
            S = B;
            B = v;
            bi = j;
        } else if (v < S)
            S = v;
    }
    if (bi < 0) { /* every v +inf or NaN: the caller scans them as before */
        bi = 0;
        B = S = INFINITY;
    }
    *best = B;
    *second = S;
    return bi;
}

/* The product gives v_j = |c_j|^2 - 2 x.c_j = |x - c_j|^2 - |x|^2 up to
 * E = 2 eps (max |c|^2 + 2 |x| max |c|) (eps = km_bound_eps(d), twice the
 * classical bound for sums of d products in any order, the same for |x|^2
 * summed in any order). A centre j whose km_crit is not above the lowest
 * v's (centre b, the first of lowest v) satisfies v_j <= v_b + 2E +
 * 3 eps |x - c_b|^2, so every centre within twice that of v_b is a
 * candidate; almost always b is the only one. After the call g holds the v
 * (row i at g + i k) and xn the rows' |x|^2. */
/* The float product (cs->cs32, when every |x| of the block is below 2^50):
 * rows and centres rounded to floats, sgemm, each product widened to double.
 * Its error: the inputs' rounding (2u |x||c|, u = 2^-24), the float sum of d
 * products in any order (d u |x||c| to first order), with underflow at most
 * d 2^-149 (|x| + |c| + 1) in all, so with eps = (d + 6) 2^-23 (twice the
 * first-order bound, as km_bound_eps is for doubles) and an absolute 2^-90
 * (1 + |x| + max |c|) the same E bounds it. *eps_ and *eabs_ (when not
 * NULL): the eps and absolute term used. */
static void assign_blas(const km_cs *cs, const double *x, int n, int32_t *lab, double *dist, double *xnv,
                        double *secv, double *eps_, double *eabs_)
{
    const int64_t k = cs->k, d = cs->d;
    double eps = ((double)d + 6.0) * 0x1p-52; /* km_bound_eps */
    double *g = cs->g, xnb[KM_BIG], xmax = 0;
    for (int i = 0; i < n; i++) {
        double v = km__sumsq_wide(x + (size_t)i * (size_t)d, d);
        xnb[i] = v;
        xmax = v > xmax || v != v ? v : xmax;
    }
    const int f32 = cs->cs32 && xmax < 0x1p100;
    double eabs = 0;
    if (f32) {
        eps = ((double)d + 6.0) * 0x1p-23;
        eabs = 0x1p-90;
        float *restrict xf = cs->xf, *restrict gf = cs->gf;
        for (size_t q = 0; q < (size_t)n * (size_t)d; q++) xf[q] = (float)x[q];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)k, (int)d, 1.0f, xf, (int)d, cs->cs32,
                    (int)d, 0.0f, gf, (int)k);
        for (size_t q = 0; q < (size_t)n * (size_t)k; q++) g[q] = (double)gf[q];
    } else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)k, (int)d, 1.0, x, (int)d, cs->c,
                    (int)d, 0.0, g, (int)k);
    const double *restrict cn = cs->cn;
    for (int i = 0; i < n; i++) {
        double *restrict gi = g + (size_t)i * (size_t)k;
        const double *xi = x + (size_t)i * (size_t)d;
        double best, sec;
        int64_t bj = km__vrow(gi, cn, k, &best, &sec);
        double xn = xnb[i];
        if (xnv) xnv[i] = xn;
        double E = 2 * eps * (cs->cnmax + 2 * sqrt(xn * cs->cnmax)) + eabs * (1 + sqrt(xn) + sqrt(cs->cnmax));
        double M = 2 * (2 * E + 3 * eps * (fabs(best) + E + 2 * xn));
        int many;
        if (best < INFINITY && M < INFINITY) /* (then more than one candidate iff the second is one) */
            many = sec <= best + M;
        else { /* +inf, NaN: the plain scans */
            best = km__vmin(gi, k);
            bj = 0;
            for (int64_t j = 0; j < k; j++)
                if (gi[j] == best) {
                    bj = j;
                    break;
                }
            many = km__vcount_le(gi, k, best + M) > 1;
            sec = NAN;
        }
        if (many) { /* more than one candidate: their km_crit decide */
            double bc = INFINITY;
            int64_t cj = bj;
            for (int64_t j = 0; j < k; j++) {
                if (!(gi[j] <= best + M)) continue;
                double v = km__crit_wide(xi, cs->c + j * d, d);
                if (v < bc) {
                    bc = v;
                    cj = j;
                }
            }
            if (cj != bj) sec = NAN;
            bj = cj;
        }
        if (secv) secv[i] = sec; /* the lowest v of the centres but bj, or NaN: not known */
        lab[i] = (int32_t)bj;
    }
    /* the chosen centres' distances, km_dist2's sums in order, 4 rows at a
     * time (4 independent chains of additions instead of one) */
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const double *x0 = x + (size_t)i * (size_t)d, *x1 = x0 + d, *x2 = x1 + d, *x3 = x2 + d;
        const double *c0 = cs->c + lab[i] * d, *c1 = cs->c + lab[i + 1] * d, *c2 = cs->c + lab[i + 2] * d,
                     *c3 = cs->c + lab[i + 3] * d;
        double f0 = x0[0] - c0[0], f1 = x1[0] - c1[0], f2 = x2[0] - c2[0], f3 = x3[0] - c3[0];
        double s0 = f0 * f0, s1 = f1 * f1, s2 = f2 * f2, s3 = f3 * f3;
        for (int64_t t = 1; t < d; t++) {
            f0 = x0[t] - c0[t];
            f1 = x1[t] - c1[t];
            f2 = x2[t] - c2[t];
            f3 = x3[t] - c3[t];
            s0 += f0 * f0;
            s1 += f1 * f1;
            s2 += f2 * f2;
            s3 += f3 * f3;
        }
        dist[i] = s0;
        dist[i + 1] = s1;
        dist[i + 2] = s2;
        dist[i + 3] = s3;
    }
    for (; i < n; i++) dist[i] = km_dist2(x + (size_t)i * (size_t)d, cs->c + lab[i] * d, d);
    if (eps_) *eps_ = eps;
    if (eabs_) *eabs_ = eabs;
}

void km_assign(const km_cs *cs, const double *x, int n, int32_t *lab, double *dist)
{
    if (n <= 0) return;
    if (cs->blas)
        assign_blas(cs, x, n, lab, dist, NULL, NULL, NULL, NULL);
    else if (cs->cf)
        km__assign_f32(x, n, cs->d, cs->c, cs->cf, cs->cmax2, cs->k, lab, dist);
    else
        km__assign_direct(x, n, cs->d, cs->c, cs->k, lab, dist);
}

void km_mindist(const km_cs *cs, const double *x, int n, double *dist)
{
    if (n <= 0) return;
    if (!cs->blas) {
        int32_t lab[KM_SUB];
        km__assign_direct(x, n, cs->d, cs->c, cs->k, lab, dist);
        return;
    }
    for (int i = 0; i < n; i++) {
        const double *xi = x + (size_t)i * (size_t)cs->d;
        double best = INFINITY;
        for (int64_t j = 0; j < cs->k; j++) {
            double v = km_dist2(xi, cs->c + j * cs->d, cs->d);
            if (v < best) best = v;
        }
        dist[i] = best;
    }
}

void km_distances(const km_cs *cs, const double *x, int n, double *out)
{
    const int64_t k = cs->k, d = cs->d;
    if (!cs->blas) {
        for (int i = 0; i < n; i++)
            for (int64_t j = 0; j < k; j++)
                out[(size_t)i * k + j] = sqrt(km_dist2(x + (size_t)i * d, cs->c + j * d, d));
        return;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)k, (int)d, 1.0, x, (int)d, cs->c,
                (int)d, 0.0, out, (int)k);
    for (int i = 0; i < n; i++) {
        const double *xi = x + (size_t)i * d;
        double xn = 0;
        for (int64_t t = 0; t < d; t++) xn += xi[t] * xi[t];
        for (int64_t j = 0; j < k; j++) {
            double v = xn + cs->cn[j] - 2 * out[(size_t)i * k + j];
            out[(size_t)i * k + j] = v > 0 ? sqrt(v) : 0;
        }
    }
}

/* lower bounds from the product (BLAS path): |x - c_j|^2 >= v_j + |x|^2 - E2
 * with E2 = 2 E + 2 eps |x|^2 (E as in assign_blas) */
void km_assign_bounds(const km_cs *cs, const double *x, int n, int32_t *lab, double *crit, double *lo, double *lo2,
                      double *g)
{
    const int64_t k = cs->k, d = cs->d;
    if (n <= 0) return;
    if (!cs->blas && !lo && lo2 && k <= (1 << 30)) { /* (Hamerly: the nearest two only) */
        km__assign2_direct(x, n, d, cs->c, k, lab, crit, lo2);
        return;
    }
    if (!cs->blas) {
        km__alld_direct(x, n, d, cs->c, k, g);
        for (int i = 0; i < n; i++) {
            double best = INFINITY, sec = INFINITY;
            int64_t a = 0;
            for (int64_t j = 0; j < k; j++) {
                double v = g[j * KM_SUB + i];
                if (lo) lo[(size_t)i * k + j] = v;
                if (v < best) {
                    sec = best;
                    best = v;
                    a = j;
                } else if (v < sec)
                    sec = v;
            }
            lab[i] = (int32_t)a;
            crit[i] = best;
            if (lo2) lo2[i] = sec;
        }
        return;
    }
    double xnv[KM_SUB], secv[KM_SUB];
    double eps, eabs;
    /* (crit: km_dist2, as good a bound as km_crit) */
    assign_blas(cs, x, n, lab, crit, xnv, lo2 ? secv : NULL, &eps, &eabs);
    for (int i = 0; i < n; i++) {
        const double *vi = cs->g + (size_t)i * (size_t)k, xn = xnv[i];
        double E2 = 2 * (2 * eps * (cs->cnmax + 2 * sqrt(xn * cs->cnmax)) + eabs * (1 + sqrt(xn) + sqrt(cs->cnmax))) +
                    2 * eps * xn;
        if (lo)
            for (int64_t j = 0; j < k; j++) lo[(size_t)i * k + j] = vi[j] + xn - E2;
        if (lo2) {
            double sec = secv[i];
            if (isnan(sec)) {
                sec = INFINITY;
                for (int64_t j = 0; j < k; j++)
                    if (j != lab[i] && vi[j] < sec) sec = vi[j];
            }
            lo2[i] = sec + xn - E2;
        }
    }
}
