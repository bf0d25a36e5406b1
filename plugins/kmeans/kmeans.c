/* kmeans — the k-means estimator (wb.fit("kmeans", data, {k = 16, ...})) and
 * the kernels it maps over the partitions.
 *
 * fit() runs on the driver and touches the data only through kernels:
 *   - Lloyd: one map_sum per iteration (nearest centre, per-cluster sums and
 *     counts, inertia per 4096-row block, summed in the fixed tree), so the
 *     model is the same bits whatever the threads, partitions or workers;
 *     with algorithm = "elkan" or "hamerly" one map per iteration instead
 *     whose tasks keep distance bounds per partition between passes and
 *     return the same block sums as tree nodes (bounds.c): the same model;
 *   - k-means++ (greedy, 2 + ln k candidates per step as scikit-learn): one
 *     pass per centre that returns per-block sums of D^2 for each candidate;
 *     a candidate is drawn on the driver from the block sums and located in
 *     its block by a small task; nothing per point is stored between passes;
 *   - k-means|| (Bahmani et al. 2012): `rounds` passes that sample each point
 *     independently with probability oversampling * k * D^2 / cost (per-block
 *     random streams), one pass for the candidates' weights, then a weighted
 *     k-means++ and Lloyd on the candidates on the driver;
 *   - random: k distinct rows drawn uniformly; or centres given as a matrix.
 * Empty clusters are re-seeded as scikit-learn does: the points farthest from
 * their centres (a map returning each partition's farthest points, merged by
 * distance then row) become the empty clusters' centres and leave their old
 * clusters. Convergence: the summed squared centre shift is at most
 * tol * (mean column variance of the data). The final inertia and cluster
 * sizes come from one more pass with the final centres.
 *
 * NaN/Inf in the data has no pass of its own: the fit's first pass over the
 * data finds it (the column moments, or the first k-means++, k-means|| or
 * Lloyd pass: a NaN/Inf value makes its sums NaN/Inf), and only then does
 * the host's finite check run to name the first one ("kmeans: the data has
 * NaN at row 7, column 2"); sums that overflowed on finite data pass that
 * check and the fit goes on. An error met before the first pass completed is
 * reported as the finite check would have reported it first. predict and
 * transform find it in their own pass (the kernels fail on a NaN/Inf row),
 * score in its inertia pass or its predict. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "dist.h"
#include "kmeans.h"
#include "wb/plugin.h"

#define NAME "kmeans"
#define BLK WB_BLOCK_ROWS

/* random streams: (seed, purpose/run/sub, index) */
enum { S_FIRST = 1, S_PP = 2, S_PAR = 3, S_RANDOM = 4, S_LOCAL = 5 };
static uint64_t stream_id(int purpose, int64_t run, int64_t sub)
{
    return ((uint64_t)purpose << 48) ^ ((uint64_t)run << 20) ^ (uint64_t)sub;
}

/* nonzero when one of the n doubles at x is NaN or +-Inf (branch-free) */
static inline int nonfinite(const double *x, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad |= !(x[i] - x[i] == 0);
    return bad;
}

/* ============================================================== kernels */

/* per-cluster sums, counts and the inertia of m rows, in row order (D is a
 * constant at the small-d call sites, so the column loop unrolls) */
static inline __attribute__((always_inline)) void accumulate(const int64_t D, const double *x, int m,
                                                             const int32_t *lab, const double *dist, double *sums,
                                                             double *cnt, double *in_sum)
{
    double acc = *in_sum;
    for (int i = 0; i < m; i++) {
        double *sj = sums + (int64_t)lab[i] * D;
        const double *xi = x + (int64_t)i * D;
        for (int64_t t = 0; t < D; t++) sj[t] += xi[t];
        cnt[lab[i]] += 1;
        acc += dist[i];
    }
    *in_sum = acc;
}

/* kmeans.lloyd (map_sum): in[1] = centres (k x d).
 * mode 0: per-cluster sums (k*d), counts (k), inertia (1)
 * mode 1: inertia (1);  mode 2: counts (k);  mode 3: sum of min D^2 (1, direct)
 * mode 4: as mode 0, but the inertia (only shown as progress between
 * iterations) is summed in 4 interleaved partial sums, which do not wait on
 * each other: the same sums and counts, the inertia within rounding of
 * mode 0's (mode 0 gives the model's inertia, always in row order) */
static int k_lloyd(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const double *c = km_doubles(in, nin, 1, a.k * a.d);
    if (!p || !c) return WB_EINVAL;
    if (a.mode < 0 || a.mode > 4) return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    const int64_t k = a.k, d = a.d;
    const int sums = a.mode == 0 || a.mode == 4;
    size_t len = sums ? (size_t)(k * d + k + 1) : a.mode == 2 ? (size_t)k : 1;
    double *o = H->out_bytes(ctx, len * sizeof(double));
    if (!o) return WB_ENOMEM;
    km_cs cs;
    if (km_cs_init(&cs, c, k, d)) return H->seterr(WB_ENOMEM, "out of memory");
    /* small d: each cluster's sums and count as one vector (km__accum_direct) */
    const int64_t W = km_acc_width(d);
    double *acc = sums && d <= KM_ACC_MAX_D ? calloc((size_t)(k * W), sizeof(double)) : NULL;
    if (sums && d <= KM_ACC_MAX_D && !acc) {
        km_cs_free(&cs);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    int32_t lab[KM_BIG];
    double dist[KM_BIG];
    double *cnt = o + k * d, in_sum = 0, in4[4] = {0, 0, 0, 0};
    const int64_t step = cs.blas && a.mode != 3 ? KM_BIG : KM_SUB;
    for (int64_t s = 0; s < p->rows; s += step) {
        int m = (int)(p->rows - s < step ? p->rows - s : step);
        const double *x = p->x + s * d;
        if (a.mode == 3)
            km_mindist(&cs, x, m, dist);
        else
            km_assign(&cs, x, m, lab, dist);
        if (sums && acc) {
            km__accum_direct(x, m, d, lab, acc);
            if (a.mode == 0)
                for (int i = 0; i < m; i++) in_sum += dist[i];
            else {
                int i = 0;
                for (; i + 4 <= m; i += 4)
                    for (int q = 0; q < 4; q++) in4[q] += dist[i + q];
                for (; i < m; i++) in4[i & 3] += dist[i];
            }
        } else if (sums) {
            double *is = a.mode == 0 ? &in_sum : &in4[0];
            switch (d) {
            case 1: accumulate(1, x, m, lab, dist, o, cnt, is); break;
            case 2: accumulate(2, x, m, lab, dist, o, cnt, is); break;
            case 3: accumulate(3, x, m, lab, dist, o, cnt, is); break;
            case 4: accumulate(4, x, m, lab, dist, o, cnt, is); break;
            default:
                km__accum_wide(x, m, d, lab, o, cnt);
                for (int i = 0; i < m; i++) *is += dist[i];
                break;
            }
        } else if (a.mode == 2) {
            for (int i = 0; i < m; i++) o[lab[i]] += 1;
        } else {
            for (int i = 0; i < m; i++) in_sum += dist[i];
        }
    }
    if (acc)
        for (int64_t j = 0; j < k; j++) {
            for (int64_t t = 0; t < d; t++) o[j * d + t] = acc[j * W + t];
            cnt[j] = acc[j * W + d];
        }
    if (a.mode == 4) in_sum = (in4[0] + in4[1]) + (in4[2] + in4[3]);
    if (sums)
        o[k * d + k] = in_sum;
    else if (a.mode != 2)
        o[0] = in_sum;
    free(acc);
    km_cs_free(&cs);
    return 0;
}

/* kmeans.far (map): the a.m points of the partition farthest from their
 * nearest centre (in[1], k x d): count, then (dist, row, label, x[d]) records
 * by distance descending, row ascending */
static int far_before(const double *r1, const double *r2)
{
    return r1[0] > r2[0] || (r1[0] == r2[0] && r1[1] < r2[1]);
}

static int k_far(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const double *c = km_doubles(in, nin, 1, a.k * a.d);
    if (!p || !c) return WB_EINVAL;
    if (a.m < 1 || a.m > a.k) return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    const int64_t d = a.d, rl = 3 + d;
    double *top = malloc((size_t)(a.m + 1) * (size_t)rl * sizeof(double));
    km_cs cs;
    if (!top || km_cs_init(&cs, c, a.k, d)) {
        free(top);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    int64_t nt = 0;
    int32_t lab[KM_SUB];
    double dist[KM_SUB];
    for (int64_t s = 0; s < p->rows; s += KM_SUB) {
        int m = (int)(p->rows - s < KM_SUB ? p->rows - s : KM_SUB);
        km_assign(&cs, p->x + s * d, m, lab, dist);
        for (int i = 0; i < m; i++) {
            double rec[3] = {dist[i], (double)(p->row0 + s + i), (double)lab[i]};
            if (nt == a.m && !far_before(rec, top + (nt - 1) * rl)) continue;
            int64_t q = nt < a.m ? nt++ : nt - 1; /* insertion point search from the end */
            while (q > 0 && far_before(rec, top + (q - 1) * rl)) {
                memcpy(top + q * rl, top + (q - 1) * rl, (size_t)rl * sizeof(double));
                q--;
            }
            memcpy(top + q * rl, rec, sizeof rec);
            memcpy(top + q * rl + 3, p->x + (s + i) * d, (size_t)d * sizeof(double));
        }
    }
    km_cs_free(&cs);
    double *o = H->out_bytes(ctx, (size_t)(1 + nt * rl) * sizeof(double));
    if (!o) {
        free(top);
        return WB_ENOMEM;
    }
    o[0] = (double)nt;
    memcpy(o + 1, top, (size_t)(nt * rl) * sizeof(double));
    free(top);
    return 0;
}

/* kmeans.pp (map): in[1] = the chosen centres (a.k), in[2] = a.m candidates.
 * Per 4096-row block of the partition: sum of D^2 (distance to the nearest
 * chosen centre), then for each candidate the sum of min(D^2, d(x, cand)^2). */
static int k_pp(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const double *c = km_doubles(in, nin, 1, a.k * a.d);
    const double *cand = a.m > 0 ? km_doubles(in, nin, 2, a.m * a.d) : NULL;
    if (!p || !c || (a.m > 0 && !cand) || a.k < 1 || a.m < 0) return WB_EINVAL;
    const int64_t d = a.d, L = a.m, nb = (p->rows + BLK - 1) / BLK;
    double *o = H->out_bytes(ctx, (size_t)(nb * (L + 1)) * sizeof(double));
    if (!o) return WB_ENOMEM;
    km_cs cs;
    if (km_cs_init(&cs, c, a.k, d)) return H->seterr(WB_ENOMEM, "out of memory");
    double dist[KM_SUB];
    for (int64_t s = 0; s < p->rows; s += KM_SUB) {
        int m = (int)(p->rows - s < KM_SUB ? p->rows - s : KM_SUB);
        const double *x = p->x + s * d;
        double *ob = o + (s / BLK) * (L + 1);
        km_mindist(&cs, x, m, dist);
        for (int i = 0; i < m; i++) ob[0] += dist[i];
        for (int64_t l = 0; l < L; l++) {
            const double *cl = cand + l * d;
            double acc = ob[1 + l];
            for (int i = 0; i < m; i++) {
                double v = km_dist2(x + (int64_t)i * d, cl, d);
                acc += v < dist[i] ? v : dist[i];
            }
            ob[1 + l] = acc;
        }
        if (H->cancelled(ctx)) {
            km_cs_free(&cs);
            return H->seterr(WB_ECANCELED, "interrupted");
        }
    }
    km_cs_free(&cs);
    return 0;
}

/* kmeans.locate (task): in[0] the partition holding the block that starts at
 * global row a.row, in[1] the chosen centres (a.k). Walks the block's D^2 in
 * row order and returns the first row whose running sum exceeds a.f (or the
 * last row with D^2 > 0): (row, x[d]). */
static int k_locate(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const double *c = km_doubles(in, nin, 1, a.k * a.d);
    if (!p || !c || a.k < 1) return WB_EINVAL;
    int64_t off = a.row - p->row0;
    if (off < 0 || off >= p->rows || off % BLK)
        return H->seterr(WB_EINVAL, "kmeans: block %lld is not in this partition", (long long)a.row);
    const int64_t d = a.d, end = off + BLK < p->rows ? off + BLK : p->rows;
    km_cs cs;
    if (km_cs_init(&cs, c, a.k, d)) return H->seterr(WB_ENOMEM, "out of memory");
    double dist[KM_SUB], run = 0;
    int64_t found = -1, lastpos = -1;
    for (int64_t s = off; s < end && found < 0; s += KM_SUB) {
        int m = (int)(end - s < KM_SUB ? end - s : KM_SUB);
        km_mindist(&cs, p->x + s * d, m, dist);
        for (int i = 0; i < m; i++) {
            run += dist[i];
            if (dist[i] > 0) lastpos = s + i;
            if (run > a.f && dist[i] > 0) {
                found = s + i;
                break;
            }
        }
    }
    km_cs_free(&cs);
    if (found < 0) found = lastpos;
    double *o = H->out_bytes(ctx, (size_t)(1 + d) * sizeof(double));
    if (!o) return WB_ENOMEM;
    o[0] = found < 0 ? -1.0 : (double)(p->row0 + found);
    if (found >= 0) memcpy(o + 1, p->x + found * d, (size_t)d * sizeof(double));
    return 0;
}

/* kmeans.take (task): rows (global indices, int64 after the argument) of the
 * partition in[0]: a.m x d numbers */
static int k_take(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    if (arglen < sizeof a) return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    memcpy(&a, arg, sizeof a);
    if (a.m < 0 || a.m > (1 << 26)) return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    int rc = km_arg(arg, arglen, &a, (size_t)a.m * sizeof(int64_t));
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    if (!p) return WB_EINVAL;
    const int64_t *rows = (const int64_t *)((const char *)arg + sizeof a), d = a.d;
    double *o = H->out_bytes(ctx, (size_t)(a.m * d) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < a.m; i++) {
        int64_t r;
        memcpy(&r, rows + i, sizeof r);
        r -= p->row0;
        if (r < 0 || r >= p->rows) return H->seterr(WB_EINVAL, "kmeans: row out of the partition");
        memcpy(o + i * d, p->x + r * d, (size_t)d * sizeof(double));
    }
    return 0;
}

/* kmeans.par (map): k-means|| sampling. in[1] the current candidates (a.k);
 * each row is kept with probability a.f * D^2 (a.f = oversampling * k / cost),
 * its uniform drawn from the stream (seed, stream, global block). Output:
 * count, then (row, x[d]) records in row order. */
static int k_par(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const double *c = km_doubles(in, nin, 1, a.k * a.d);
    if (!p || !c || a.k < 1) return WB_EINVAL;
    if (p->row0 % BLK) return H->seterr(WB_EINVAL, "kmeans: partition not aligned to blocks");
    const int64_t d = a.d;
    km_cs cs;
    if (km_cs_init(&cs, c, a.k, d)) return H->seterr(WB_ENOMEM, "out of memory");
    size_t cap = 64, n = 0;
    double *sel = malloc(cap * (size_t)(1 + d) * sizeof(double));
    if (!sel) {
        km_cs_free(&cs);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    double dist[KM_SUB], u[KM_SUB];
    wb_rng r;
    wb_rng_init(&r, a.seed, a.stream, (uint64_t)(p->row0 / BLK));
    for (int64_t s = 0; s < p->rows; s += KM_SUB) {
        int m = (int)(p->rows - s < KM_SUB ? p->rows - s : KM_SUB);
        if (s % BLK == 0) wb_rng_init(&r, a.seed, a.stream, (uint64_t)((p->row0 + s) / BLK));
        wb_rng_uniforms(&r, u, (size_t)m);
        km_mindist(&cs, p->x + s * d, m, dist);
        for (int i = 0; i < m; i++) {
            if (!(u[i] < a.f * dist[i])) continue;
            if (n == cap) {
                double *ns = realloc(sel, cap * 2 * (size_t)(1 + d) * sizeof(double));
                if (!ns) {
                    free(sel);
                    km_cs_free(&cs);
                    return H->seterr(WB_ENOMEM, "out of memory");
                }
                sel = ns;
                cap *= 2;
            }
            double *rec = sel + n * (size_t)(1 + d);
            rec[0] = (double)(p->row0 + s + i);
            memcpy(rec + 1, p->x + (s + i) * d, (size_t)d * sizeof(double));
            n++;
        }
    }
    km_cs_free(&cs);
    double *o = H->out_bytes(ctx, (1 + n * (size_t)(1 + d)) * sizeof(double));
    if (!o) {
        free(sel);
        return WB_ENOMEM;
    }
    o[0] = (double)n;
    memcpy(o + 1, sel, n * (size_t)(1 + d) * sizeof(double));
    free(sel);
    return 0;
}

/* kmeans.moments (map_sum): sums of (x - shift) and (x - shift)^2 per column;
 * the shift (d numbers) follows the argument */
static int k_moments(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    if (arglen < sizeof a) return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    memcpy(&a, arg, sizeof a);
    int rc = km_arg(arg, arglen, &a, (size_t)a.d * sizeof(double));
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    if (!p) return WB_EINVAL;
    const int64_t d = a.d;
    double *sh = malloc((size_t)d * sizeof(double));
    double *o = H->out_bytes(ctx, (size_t)(2 * d) * sizeof(double));
    if (!sh || !o) {
        free(sh);
        return WB_ENOMEM;
    }
    memcpy(sh, (const char *)arg + sizeof a, (size_t)d * sizeof(double));
    for (int64_t i = 0; i < p->rows; i++) {
        const double *xi = p->x + i * d;
        for (int64_t t = 0; t < d; t++) {
            double v = xi[t] - sh[t];
            o[t] += v;
            o[d + t] += v * v;
        }
    }
    free(sh);
    return 0;
}

/* kmeans.predict (map_dataset): the nearest centre's index (0-based) */
static int k_predict(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const double *c = km_doubles(in, nin, 1, a.k * a.d);
    if (!p || !c || a.k < 1) return WB_EINVAL;
    double *y;
    if ((rc = H->out_part(ctx, p->rows, 1, p->row0, 0, &y, NULL)) != 0) return rc;
    km_cs cs;
    if (km_cs_init(&cs, c, a.k, a.d)) return H->seterr(WB_ENOMEM, "out of memory");
    int32_t lab[KM_SUB];
    double dist[KM_SUB];
    for (int64_t s = 0; s < p->rows; s += KM_SUB) {
        int m = (int)(p->rows - s < KM_SUB ? p->rows - s : KM_SUB);
        km_assign(&cs, p->x + s * a.d, m, lab, dist);
        /* a NaN/Inf row has a NaN/Inf distance (so may a huge finite one) */
        if (nonfinite(dist, (size_t)m) && nonfinite(p->x + s * a.d, (size_t)(m * a.d))) {
            km_cs_free(&cs);
            return H->seterr(WB_EINVAL, "kmeans: the data has NaN or Inf values");
        }
        for (int i = 0; i < m; i++) y[s + i] = lab[i];
    }
    km_cs_free(&cs);
    return 0;
}

/* kmeans.transform (map_dataset): distances to every centre (rows x k) */
static int k_transform(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const double *c = km_doubles(in, nin, 1, a.k * a.d);
    if (!p || !c || a.k < 1) return WB_EINVAL;
    double *y;
    if ((rc = H->out_part(ctx, p->rows, a.k, p->row0, 0, &y, NULL)) != 0) return rc;
    km_cs cs;
    if (km_cs_init(&cs, c, a.k, a.d)) return H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t s = 0; s < p->rows; s += KM_SUB) {
        int m = (int)(p->rows - s < KM_SUB ? p->rows - s : KM_SUB);
        if (nonfinite(p->x + s * a.d, (size_t)(m * a.d))) {
            km_cs_free(&cs);
            return H->seterr(WB_EINVAL, "kmeans: the data has NaN or Inf values");
        }
        km_distances(&cs, p->x + s * a.d, m, y + s * a.k);
    }
    km_cs_free(&cs);
    return 0;
}

/* kmeans.rows (task; inputs: partitions of d columns): global rows
 * [a.row, a.row + a.m) gathered from the inputs into one partition at global
 * row a.row (labels kept when every input has them). Re-partitions data, e.g.
 * to check that results do not depend on the split. */
static int k_rows(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    if (a.m < 0 || a.row < 0) return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    int has_y = nin > 0;
    for (int i = 0; i < nin; i++) {
        if (in[i].type != WB_OBJ_PART || in[i].part.cols != a.d)
            return H->seterr(WB_EINVAL, "kmeans.rows: input %d is not a partition of %lld columns", i, (long long)a.d);
        if (!in[i].part.y) has_y = 0;
    }
    double *x, *y;
    if ((rc = H->out_part(ctx, a.m, a.d, a.row, has_y, &x, &y)) != 0) return rc;
    for (int64_t r = a.row; r < a.row + a.m;) {
        const wb_part *q = NULL;
        for (int i = 0; i < nin && !q; i++)
            if (r >= in[i].part.row0 && r < in[i].part.row0 + in[i].part.rows) q = &in[i].part;
        if (!q) return H->seterr(WB_EINVAL, "kmeans.rows: no input holds row %lld", (long long)r + 1);
        int64_t cnt = q->row0 + q->rows - r;
        if (cnt > a.row + a.m - r) cnt = a.row + a.m - r;
        memcpy(x + (r - a.row) * a.d, q->x + (r - q->row0) * a.d, (size_t)(cnt * a.d) * sizeof(double));
        if (has_y) memcpy(y + (r - a.row), q->y + (r - q->row0), (size_t)cnt * sizeof(double));
        r += cnt;
    }
    return 0;
}

/* kmeans.pps (task, k-means++ with stored distances): in[0] the data
 * partition; then, as a.mode's bits say, the stored D^2 partition (1: a
 * kmeans.pps result), the pending centre (2: 1 x d) and a.m candidates (L x d).
 * Output: one column of rows + nblocks * (L + 1) numbers: D'^2 = min(D^2,
 * d(x, pending)^2) for every row, then per block the sum of D'^2 and for each
 * candidate the sum of min(D'^2, d(x, cand)^2). */
enum { PP_HAS_D = 1, PP_HAS_P = 2 };
static int pps_inputs(const wb_obj *in, int nin, const kmarg *a, const wb_part **p, const double **D,
                      const double **pend, const double **cand)
{
    int i = 1;
    *p = km_part(in, nin, a->d);
    if (!*p) return WB_EINVAL;
    *D = NULL;
    *pend = *cand = NULL;
    if (a->mode & PP_HAS_D) {
        if (i >= nin || in[i].type != WB_OBJ_PART || in[i].part.cols != 1 || in[i].part.rows < (*p)->rows)
            return H->seterr(WB_EINVAL, "kmeans: bad stored distances");
        *D = in[i++].part.x;
    }
    if (a->mode & PP_HAS_P) {
        if (!(*pend = km_doubles(in, nin, i++, a->d))) return WB_EINVAL;
    }
    if (a->m > 0 && !(*cand = km_doubles(in, nin, i++, a->m * a->d))) return WB_EINVAL;
    return 0;
}

static int k_pps(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p;
    const double *D, *pend, *cand;
    if ((rc = pps_inputs(in, nin, &a, &p, &D, &pend, &cand)) != 0) return rc;
    const int64_t d = a.d, L = a.m, nb = (p->rows + BLK - 1) / BLK;
    double *o;
    if ((rc = H->out_part(ctx, p->rows + nb * (L + 1), 1, p->row0, 0, &o, NULL)) != 0) return rc;
    double *sums = o + p->rows;
    memset(sums, 0, (size_t)(nb * (L + 1)) * sizeof(double));
    for (int64_t i = 0; i < p->rows; i++) {
        const double *xi = p->x + i * d;
        double v = D ? D[i] : INFINITY;
        if (pend) {
            double w = km_dist2(xi, pend, d);
            if (w < v) v = w;
        }
        o[i] = v;
        double *ob = sums + (i / BLK) * (L + 1);
        ob[0] += v;
        for (int64_t l = 0; l < L; l++) {
            double w = km_dist2(xi, cand + l * d, d);
            ob[1 + l] += w < v ? w : v;
        }
        if ((i & 4095) == 4095 && H->cancelled(ctx)) return H->seterr(WB_ECANCELED, "interrupted");
    }
    return 0;
}

/* kmeans.pps_sums (task): the per-block sums at the end of a kmeans.pps result
 * (a.row = the data partition's rows) */
static int k_pps_sums(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    if (nin < 1 || in[0].type != WB_OBJ_PART || in[0].part.cols != 1 || in[0].part.rows < a.row)
        return H->seterr(WB_EINVAL, "kmeans: bad stored distances");
    int64_t n = in[0].part.rows - a.row;
    double *o = H->out_bytes(ctx, (size_t)n * sizeof(double));
    if (!o) return WB_ENOMEM;
    memcpy(o, in[0].part.x + a.row, (size_t)n * sizeof(double));
    return 0;
}

/* kmeans.ppl (task): locate a sampled point in the block at global row a.row,
 * D^2 = min(stored, d(x, pending)^2) (inputs as kmeans.pps, without
 * candidates); the walk of kmeans.locate */
static int k_ppl(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    a.m = 0;
    const wb_part *p;
    const double *D, *pend, *cand;
    if ((rc = pps_inputs(in, nin, &a, &p, &D, &pend, &cand)) != 0) return rc;
    int64_t off = a.row - p->row0;
    if (off < 0 || off >= p->rows || off % BLK)
        return H->seterr(WB_EINVAL, "kmeans: block %lld is not in this partition", (long long)a.row);
    const int64_t d = a.d, end = off + BLK < p->rows ? off + BLK : p->rows;
    double run = 0;
    int64_t found = -1, lastpos = -1;
    for (int64_t i = off; i < end; i++) {
        double v = D ? D[i] : INFINITY;
        if (pend) {
            double w = km_dist2(p->x + i * d, pend, d);
            if (w < v) v = w;
        }
        run += v;
        if (v > 0) lastpos = i;
        if (run > a.f && v > 0) {
            found = i;
            break;
        }
    }
    if (found < 0) found = lastpos;
    double *o = H->out_bytes(ctx, (size_t)(1 + d) * sizeof(double));
    if (!o) return WB_ENOMEM;
    o[0] = found < 0 ? -1.0 : (double)(p->row0 + found);
    if (found >= 0) memcpy(o + 1, p->x + found * d, (size_t)d * sizeof(double));
    return 0;
}

/* ======================================================= driver helpers */

typedef struct kmfit {
    wb_exec *ex;
    const wb_dataset *ds;
    int64_t n, d;
    int np;
    int64_t *row0; /* np + 1 partition starts (the last = n) */
    uint64_t seed;
    int checked; /* a pass over the data found no NaN/Inf (first_pass) */
} kmfit;

/* rc unless it is an error (but an interruption) and the data has NaN/Inf:
 * then the finite check's error, as when that check ran first */
static int finite_first(wb_exec *ex, const wb_dataset *d, int rc)
{
    if (!rc || rc == WB_ECANCELED) return rc;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", H->errmsg());
    int frc = H->ds_check_finite(ex, d, NAME);
    return frc ? frc : H->seterr(rc, "%s", msg);
}

/* after a pass over the data (its result rc, its sums v[n]): the first such
 * pass of the fit checks for NaN/Inf, which makes some sum NaN/Inf; the
 * finite check then names it (sums that overflowed on finite data pass) */
static int first_pass(kmfit *F, int rc, const double *v, size_t n)
{
    if (F->checked || rc == WB_ECANCELED) return rc;
    F->checked = 1;
    if (rc) return finite_first(F->ex, F->ds, rc);
    return nonfinite(v, n) ? H->ds_check_finite(F->ex, F->ds, NAME) : 0;
}

static int fit_open(kmfit *F, wb_exec *ex, const wb_dataset *ds, uint64_t seed)
{
    memset(F, 0, sizeof *F);
    F->ex = ex;
    F->ds = ds;
    F->n = H->ds_rows(ds);
    F->d = H->ds_cols(ds);
    F->np = H->ds_nparts(ds);
    F->seed = seed;
    F->row0 = malloc((size_t)(F->np + 1) * sizeof(int64_t));
    if (!F->row0) return H->seterr(WB_ENOMEM, "out of memory");
    for (int i = 0; i < F->np; i++) {
        F->row0[i] = H->ds_part_row0(ds, i);
        if (F->row0[i] % BLK)
            return H->seterr(WB_EINVAL, "kmeans: partition %d starts at row %lld, not a block boundary", i,
                             (long long)F->row0[i]);
    }
    F->row0[F->np] = F->n;
    return 0;
}

static void fit_close(kmfit *F) { free(F->row0); }

/* the partition holding global row r */
static int part_of(const kmfit *F, int64_t r)
{
    int lo = 0, hi = F->np - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (F->row0[mid] <= r)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* fetch object bytes that must be exactly `want` doubles (want < 0: any) */
static int get_doubles(wb_exec *ex, wb_oid id, double **out, size_t *count)
{
    void *data = NULL;
    size_t size = 0;
    int rc = H->get(ex, id, &data, &size);
    if (rc) return rc;
    if (size % sizeof(double)) {
        H->free(data);
        return H->seterr(WB_EINTERNAL, "kmeans: kernel result of %zu bytes", size);
    }
    *out = data;
    *count = size / sizeof(double);
    return 0;
}

/* rows[m] (global indices) -> out (m x d) */
static int take_rows(kmfit *F, const int64_t *rows, int64_t m, double *out)
{
    int64_t d = F->d;
    int64_t *buf = malloc((size_t)(m + 1) * sizeof(int64_t) + sizeof(kmarg));
    int64_t *idx = malloc((size_t)(m + 1) * sizeof(int64_t));
    wb_oid *outs = calloc((size_t)F->np + 1, sizeof(wb_oid));
    int *pof = malloc((size_t)(m + 1) * sizeof(int));
    int rc = (!buf || !idx || !outs || !pof) ? H->seterr(WB_ENOMEM, "out of memory") : 0;
    for (int64_t i = 0; !rc && i < m; i++) pof[i] = part_of(F, rows[i]);
    int submitted = 0;
    /* one task per partition that holds requested rows */
    for (int pi = 0; !rc && pi < F->np; pi++) {
        int64_t cnt = 0;
        for (int64_t i = 0; i < m; i++)
            if (pof[i] == pi) idx[cnt++] = rows[i];
        if (!cnt) continue;
        kmarg a = {.d = d, .m = cnt};
        unsigned char *arg = (unsigned char *)buf;
        memcpy(arg, &a, sizeof a);
        memcpy(arg + sizeof a, idx, (size_t)cnt * sizeof(int64_t));
        wb_oid in = H->ds_part_oid(F->ds, pi);
        rc = H->submit(F->ex, "kmeans.take", &in, 1, arg, sizeof a + (size_t)cnt * sizeof(int64_t), &outs[pi]);
        if (!rc) submitted++;
    }
    for (int pi = 0; !rc && pi < F->np; pi++) {
        if (!outs[pi]) continue;
        rc = H->wait(F->ex, &outs[pi], 1);
        double *v = NULL;
        size_t cnt = 0;
        if (!rc) rc = get_doubles(F->ex, outs[pi], &v, &cnt);
        int64_t q = 0;
        for (int64_t i = 0; !rc && i < m; i++)
            if (pof[i] == pi) {
                if ((q + 1) * d > (int64_t)cnt) {
                    rc = H->seterr(WB_EINTERNAL, "kmeans: short row result");
                    break;
                }
                memcpy(out + i * d, v + q * d, (size_t)d * sizeof(double));
                q++;
            }
        H->free(v);
    }
    for (int pi = 0; pi < F->np; pi++)
        if (outs[pi]) H->release(F->ex, outs[pi]);
    (void)submitted;
    free(buf);
    free(idx);
    free(outs);
    free(pof);
    return rc;
}

/* one map_sum of kmeans.lloyd with centres C (k x d) */
static int lloyd_pass(kmfit *F, const double *C, int64_t k, int mode, double *out)
{
    wb_oid oc;
    int rc = km_put(F->ex, C, k * F->d, &oc);
    if (rc) return rc;
    kmarg a = {.k = k, .d = F->d, .mode = mode};
    size_t len = mode == 0 || mode == 4 ? (size_t)(k * F->d + k + 1) : mode == 2 ? (size_t)k : 1;
    rc = H->map_sum(F->ex, "kmeans.lloyd", F->ds, &oc, 1, &a, sizeof a, out, len);
    H->release(F->ex, oc);
    /* (counts, mode 2, are finite whatever the data: never the first pass) */
    return mode == 2 ? rc : first_pass(F, rc, out, len);
}

static int distinct_error(int64_t found, int64_t k)
{
    if (found >= 0)
        return H->seterr(WB_EINVAL, NAME ": the data has only %lld distinct points, fewer than k = %lld",
                         (long long)found, (long long)k);
    return H->seterr(WB_EINVAL, NAME ": the data has fewer distinct points than k = %lld", (long long)k);
}

/* ============================================================ k-means++ */

/* a map of kmeans.pp: vals[nblocks * (L + 1)] in global block order */
static int pp_pass(kmfit *F, const double *C, int64_t c, const double *cand, int64_t L, double *vals)
{
    wb_oid ex[2] = {0, 0};
    int rc = km_put(F->ex, C, c * F->d, &ex[0]);
    if (!rc && L > 0) rc = km_put(F->ex, cand, L * F->d, &ex[1]);
    wb_oid *outs = calloc((size_t)F->np + 1, sizeof *outs);
    if (!rc && !outs) rc = H->seterr(WB_ENOMEM, "out of memory");
    kmarg a = {.k = c, .d = F->d, .m = L};
    if (!rc) rc = H->map(F->ex, "kmeans.pp", F->ds, ex, L > 0 ? 2 : 1, &a, sizeof a, outs);
    for (int i = 0; i < F->np && !rc; i++) {
        double *v = NULL;
        size_t cnt = 0;
        int64_t b0 = F->row0[i] / BLK, nb = (F->row0[i + 1] - F->row0[i] + BLK - 1) / BLK;
        rc = get_doubles(F->ex, outs[i], &v, &cnt);
        if (!rc && cnt != (size_t)(nb * (L + 1))) rc = H->seterr(WB_EINTERNAL, "kmeans: bad k-means++ result");
        if (!rc) memcpy(vals + b0 * (L + 1), v, cnt * sizeof(double));
        H->free(v);
    }
    for (int i = 0; outs && i < F->np; i++)
        if (outs[i]) H->release(F->ex, outs[i]);
    free(outs);
    if (ex[0]) H->release(F->ex, ex[0]);
    if (ex[1]) H->release(F->ex, ex[1]);
    return first_pass(F, rc, vals, (size_t)(((F->n + BLK - 1) / BLK) * (L + 1)));
}

static int init_pp(kmfit *F, int64_t k, int64_t run, double *C)
{
    const int64_t d = F->d, nb = (F->n + BLK - 1) / BLK;
    const int64_t L = 2 + (int64_t)floor(log((double)k));
    wb_rng r;
    wb_rng_init(&r, F->seed, stream_id(S_FIRST, run, 0), 0);
    int64_t first = (int64_t)wb_rng_below(&r, (uint64_t)F->n);
    int rc = take_rows(F, &first, 1, C);
    if (rc || k == 1) return rc;
    double *bs = malloc((size_t)nb * sizeof(double));
    double *vals = malloc((size_t)(nb * (L + 1)) * sizeof(double));
    double *cand = malloc((size_t)(L * d) * sizeof(double));
    double *pot = malloc((size_t)L * sizeof(double));
    wb_oid *tasks = calloc((size_t)L, sizeof(wb_oid));
    if (!bs || !vals || !cand || !pot || !tasks) rc = H->seterr(WB_ENOMEM, "out of memory");
    if (!rc) rc = pp_pass(F, C, 1, NULL, 0, vals);
    if (!rc)
        for (int64_t b = 0; b < nb; b++) bs[b] = vals[b];
    for (int64_t c = 1; !rc && c < k; c++) {
        double total = 0;
        for (int64_t b = 0; b < nb; b++) total += bs[b];
        if (!(total > 0)) {
            rc = distinct_error(c, k);
            break;
        }
        wb_oid oc;
        rc = km_put(F->ex, C, c * d, &oc);
        if (rc) break;
        wb_rng_init(&r, F->seed, stream_id(S_PP, run, 0), (uint64_t)c);
        memset(tasks, 0, (size_t)L * sizeof(wb_oid));
        for (int64_t l = 0; !rc && l < L; l++) {
            double target = wb_rng_uniform(&r) * total, cum = 0;
            int64_t b = -1, lastpos = -1;
            for (int64_t q = 0; q < nb; q++) {
                if (bs[q] > 0) lastpos = q;
                if (cum + bs[q] > target && bs[q] > 0) {
                    b = q;
                    break;
                }
                cum += bs[q];
            }
            double resid = target - cum;
            if (b < 0) { /* rounding pushed the target past the end */
                b = lastpos;
                resid = INFINITY;
            }
            kmarg a = {.k = c, .d = d, .row = b * BLK, .f = resid};
            wb_oid in[2] = {H->ds_part_oid(F->ds, part_of(F, b * BLK)), oc};
            rc = H->submit(F->ex, "kmeans.locate", in, 2, &a, sizeof a, &tasks[l]);
        }
        for (int64_t l = 0; !rc && l < L; l++) {
            double *v = NULL;
            size_t cnt = 0;
            rc = H->wait(F->ex, &tasks[l], 1);
            if (!rc) rc = get_doubles(F->ex, tasks[l], &v, &cnt);
            if (!rc && (cnt != (size_t)(1 + d) || v[0] < 0)) rc = H->seterr(WB_EINTERNAL, "kmeans: no candidate found");
            if (!rc) memcpy(cand + l * d, v + 1, (size_t)d * sizeof(double));
            H->free(v);
        }
        for (int64_t l = 0; l < L; l++)
            if (tasks[l]) H->release(F->ex, tasks[l]);
        H->release(F->ex, oc);
        if (rc) break;
        rc = pp_pass(F, C, c, cand, L, vals);
        if (rc) break;
        int64_t best = 0;
        for (int64_t l = 0; l < L; l++) {
            double s = 0;
            for (int64_t b = 0; b < nb; b++) s += vals[b * (L + 1) + 1 + l];
            pot[l] = s;
            if (s < pot[best]) best = l;
        }
        memcpy(C + c * d, cand + best * d, (size_t)d * sizeof(double));
        for (int64_t b = 0; b < nb; b++) bs[b] = vals[b * (L + 1) + 1 + best];
        H->progress("kmeans init", (double)(c + 1), (double)k, "k-means++"); /* centre c+1 of k chosen */
    }
    free(bs);
    free(vals);
    free(cand);
    free(pot);
    free(tasks);
    return rc;
}

/* a target for sampling in proportion to the block sums bs: its block and
 * the residual within it */
static int64_t pick_block(const double *bs, int64_t nb, double target, double *resid)
{
    double cum = 0;
    int64_t lastpos = -1;
    for (int64_t q = 0; q < nb; q++) {
        if (bs[q] > 0) lastpos = q;
        if (cum + bs[q] > target && bs[q] > 0) {
            *resid = target - cum;
            return q;
        }
        cum += bs[q];
    }
    *resid = INFINITY; /* rounding pushed the target past the end */
    return lastpos;
}

/* k-means++ keeping D^2 per row between passes (for large k: one pass per
 * centre costs 1 + L distances per row instead of c + L). The same draws and
 * the same sums as init_pp, so the same centres. */
static int init_pp_stored(kmfit *F, int64_t k, int64_t run, double *C)
{
    const int64_t d = F->d, nb = (F->n + BLK - 1) / BLK;
    const int64_t L = 2 + (int64_t)floor(log((double)k));
    const int np = F->np;
    wb_rng r;
    wb_rng_init(&r, F->seed, stream_id(S_FIRST, run, 0), 0);
    int64_t first = (int64_t)wb_rng_below(&r, (uint64_t)F->n);
    int rc = take_rows(F, &first, 1, C);
    if (rc || k == 1) return rc;
    wb_oid *S = calloc((size_t)np + 1, sizeof *S), *S2 = calloc((size_t)np + 1, sizeof *S2);
    wb_oid *sums = calloc((size_t)np + 1, sizeof *sums), *tasks = calloc((size_t)L + 1, sizeof *tasks);
    double *bs = malloc((size_t)nb * sizeof(double)), *vals = malloc((size_t)(nb * (L + 1)) * sizeof(double));
    double *cand = malloc((size_t)(L * d + 1) * sizeof(double));
    if (!S || !S2 || !sums || !tasks || !bs || !vals || !cand) rc = H->seterr(WB_ENOMEM, "out of memory");
    int has_d = 0;
    wb_oid pend = 0, oc = 0;
    if (!rc) rc = km_put(F->ex, C, d, &pend);
    for (int64_t c = 1; !rc && c <= k; c++) {
        /* the pass: fold the pending centre into D, evaluate this step's candidates */
        int64_t LL = c == 1 ? 0 : L;
        kmarg a = {.k = 0, .d = d, .m = LL, .mode = (has_d ? PP_HAS_D : 0) | (pend ? PP_HAS_P : 0)};
        if (c > 1 && (rc = km_put(F->ex, cand, L * d, &oc)) != 0) break;
        for (int i = 0; !rc && i < np; i++) {
            wb_oid in[4];
            int nin = 0;
            in[nin++] = H->ds_part_oid(F->ds, i);
            if (has_d) in[nin++] = S[i];
            if (pend) in[nin++] = pend;
            if (LL) in[nin++] = oc;
            rc = H->submit(F->ex, "kmeans.pps", in, nin, &a, sizeof a, &S2[i]);
        }
        for (int i = 0; !rc && i < np; i++) {
            kmarg b = {.d = d, .row = F->row0[i + 1] - F->row0[i]};
            rc = H->submit(F->ex, "kmeans.pps_sums", &S2[i], 1, &b, sizeof b, &sums[i]);
        }
        for (int i = 0; !rc && i < np; i++) {
            double *v = NULL;
            size_t cnt = 0;
            int64_t b0 = F->row0[i] / BLK, nbi = (F->row0[i + 1] - F->row0[i] + BLK - 1) / BLK;
            rc = H->wait(F->ex, &sums[i], 1);
            if (!rc) rc = get_doubles(F->ex, sums[i], &v, &cnt);
            if (!rc && cnt != (size_t)(nbi * (LL + 1))) rc = H->seterr(WB_EINTERNAL, "kmeans: bad k-means++ result");
            if (!rc) memcpy(vals + b0 * (LL + 1), v, cnt * sizeof(double));
            H->free(v);
        }
        for (int i = 0; i < np; i++) {
            if (sums[i]) H->release(F->ex, sums[i]);
            if (S[i]) H->release(F->ex, S[i]);
            S[i] = S2[i];
            S2[i] = sums[i] = 0;
        }
        has_d = 1;
        if (pend) H->release(F->ex, pend);
        pend = 0;
        if (oc) H->release(F->ex, oc);
        oc = 0;
        rc = first_pass(F, rc, vals, (size_t)(nb * (LL + 1)));
        if (rc) break;
        /* choose: the first pass only gives D's block sums */
        if (c > 1) {
            int64_t best = 0;
            double bestpot = INFINITY;
            for (int64_t l = 0; l < L; l++) {
                double sp = 0;
                for (int64_t b = 0; b < nb; b++) sp += vals[b * (L + 1) + 1 + l];
                if (sp < bestpot) {
                    bestpot = sp;
                    best = l;
                }
            }
            memcpy(C + (c - 1) * d, cand + best * d, (size_t)d * sizeof(double));
            for (int64_t b = 0; b < nb; b++) bs[b] = vals[b * (L + 1) + 1 + best];
            if ((rc = km_put(F->ex, C + (c - 1) * d, d, &pend)) != 0) break;
            H->progress("kmeans init", (double)c, (double)k, "k-means++");
        } else
            for (int64_t b = 0; b < nb; b++) bs[b] = vals[b];
        if (c == k) break;
        /* draw this step's candidates from D = min(stored, pending) */
        double total = 0;
        for (int64_t b = 0; b < nb; b++) total += bs[b];
        if (!(total > 0)) {
            rc = distinct_error(c, k);
            break;
        }
        wb_rng_init(&r, F->seed, stream_id(S_PP, run, 0), (uint64_t)c);
        for (int64_t l = 0; !rc && l < L; l++) {
            double resid;
            int64_t b = pick_block(bs, nb, wb_rng_uniform(&r) * total, &resid);
            int pi = part_of(F, b * BLK);
            kmarg a2 = {.d = d, .row = b * BLK, .f = resid, .mode = PP_HAS_D | (pend ? PP_HAS_P : 0)};
            wb_oid in[3] = {H->ds_part_oid(F->ds, pi), S[pi], pend};
            rc = H->submit(F->ex, "kmeans.ppl", in, pend ? 3 : 2, &a2, sizeof a2, &tasks[l]);
        }
        for (int64_t l = 0; !rc && l < L; l++) {
            double *v = NULL;
            size_t cnt = 0;
            rc = H->wait(F->ex, &tasks[l], 1);
            if (!rc) rc = get_doubles(F->ex, tasks[l], &v, &cnt);
            if (!rc && (cnt != (size_t)(1 + d) || v[0] < 0)) rc = H->seterr(WB_EINTERNAL, "kmeans: no candidate found");
            if (!rc) memcpy(cand + l * d, v + 1, (size_t)d * sizeof(double));
            H->free(v);
        }
        for (int64_t l = 0; l < L; l++) {
            if (tasks[l]) H->release(F->ex, tasks[l]);
            tasks[l] = 0;
        }
    }
    for (int i = 0; S && i < np; i++) {
        if (S[i]) H->release(F->ex, S[i]);
        if (S2 && S2[i]) H->release(F->ex, S2[i]);
        if (sums && sums[i]) H->release(F->ex, sums[i]);
    }
    if (pend) H->release(F->ex, pend);
    if (oc) H->release(F->ex, oc);
    free(S);
    free(S2);
    free(sums);
    free(tasks);
    free(bs);
    free(vals);
    free(cand);
    return rc;
}

/* ===================================================== local (weighted) */

/* weighted greedy k-means++ on m points in memory (the k-means|| candidates) */
static int local_pp(const double *X, const double *w, int64_t m, int64_t d, int64_t k, wb_rng *r, double *C)
{
    const int64_t L = 2 + (int64_t)floor(log((double)k));
    double *D = malloc((size_t)m * sizeof(double)), *Dn = malloc((size_t)(m * L) * sizeof(double));
    int64_t *ci = malloc((size_t)L * sizeof(int64_t));
    if (!D || !Dn || !ci) {
        free(D);
        free(Dn);
        free(ci);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    /* the first centre: drawn with probability proportional to its weight */
    double wt = 0;
    for (int64_t i = 0; i < m; i++) wt += w[i];
    double t = wb_rng_uniform(r) * wt, cum = 0;
    int64_t first = m - 1;
    for (int64_t i = 0; i < m; i++) {
        cum += w[i];
        if (cum > t && w[i] > 0) {
            first = i;
            break;
        }
    }
    memcpy(C, X + first * d, (size_t)d * sizeof(double));
    for (int64_t i = 0; i < m; i++) D[i] = km_dist2(X + i * d, C, d);
    int rc = 0;
    for (int64_t c = 1; c < k; c++) {
        double pot = 0;
        for (int64_t i = 0; i < m; i++) pot += w[i] * D[i];
        if (!(pot > 0)) {
            rc = distinct_error(c, k);
            break;
        }
        for (int64_t l = 0; l < L; l++) {
            double tg = wb_rng_uniform(r) * pot, cs = 0;
            int64_t pick = -1, lastpos = -1;
            for (int64_t i = 0; i < m; i++) {
                double v = w[i] * D[i];
                if (v > 0) lastpos = i;
                cs += v;
                if (cs > tg && v > 0) {
                    pick = i;
                    break;
                }
            }
            ci[l] = pick >= 0 ? pick : lastpos;
        }
        int64_t best = 0;
        double bestpot = INFINITY;
        for (int64_t l = 0; l < L; l++) {
            double s = 0;
            for (int64_t i = 0; i < m; i++) {
                double v = km_dist2(X + i * d, X + ci[l] * d, d);
                Dn[l * m + i] = v < D[i] ? v : D[i];
                s += w[i] * Dn[l * m + i];
            }
            if (s < bestpot) {
                bestpot = s;
                best = l;
            }
        }
        memcpy(C + c * d, X + ci[best] * d, (size_t)d * sizeof(double));
        memcpy(D, Dn + best * m, (size_t)m * sizeof(double));
    }
    free(D);
    free(Dn);
    free(ci);
    return rc;
}

/* weighted Lloyd on m points in memory, from C (k x d) */
static int local_lloyd(const double *X, const double *w, int64_t m, int64_t d, int64_t k, double *C, int max_iter)
{
    double *S = malloc((size_t)(k * d + k) * sizeof(double)), *dist = malloc((size_t)m * sizeof(double));
    int32_t *lab = malloc((size_t)m * sizeof(int32_t)), *old = malloc((size_t)m * sizeof(int32_t));
    int rc = (!S || !dist || !lab || !old) ? H->seterr(WB_ENOMEM, "out of memory") : 0;
    for (int it = 0; !rc && it < max_iter; it++) {
        km_cs cs;
        if (km_cs_init(&cs, C, k, d)) {
            rc = H->seterr(WB_ENOMEM, "out of memory");
            break;
        }
        for (int64_t s = 0; s < m; s += KM_SUB)
            km_assign(&cs, X + s * d, (int)(m - s < KM_SUB ? m - s : KM_SUB), lab + s, dist + s);
        km_cs_free(&cs);
        if (it > 0 && memcmp(lab, old, (size_t)m * sizeof(int32_t)) == 0) break;
        memcpy(old, lab, (size_t)m * sizeof(int32_t));
        memset(S, 0, (size_t)(k * d + k) * sizeof(double));
        for (int64_t i = 0; i < m; i++) {
            for (int64_t t = 0; t < d; t++) S[lab[i] * d + t] += w[i] * X[i * d + t];
            S[k * d + lab[i]] += w[i];
        }
        for (int64_t j = 0; j < k; j++) {
            if (S[k * d + j] > 0) {
                for (int64_t t = 0; t < d; t++) C[j * d + t] = S[j * d + t] / S[k * d + j];
            } else { /* empty: the candidate farthest from its centre */
                int64_t far = 0;
                for (int64_t i = 1; i < m; i++)
                    if (dist[i] > dist[far]) far = i;
                memcpy(C + j * d, X + far * d, (size_t)d * sizeof(double));
                dist[far] = 0;
            }
        }
    }
    free(S);
    free(dist);
    free(lab);
    free(old);
    return rc;
}

/* ============================================================ k-means|| */

static __thread int cmp_rows_d; /* per thread: fits also run inside tasks (grid search) */
static __thread const double *cmp_rows_x;
static int cmp_rows(const void *a, const void *b)
{
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    const double *x = cmp_rows_x + i * cmp_rows_d, *y = cmp_rows_x + j * cmp_rows_d;
    for (int t = 0; t < cmp_rows_d; t++)
        if (x[t] != y[t]) return x[t] < y[t] ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* drop exact duplicates among the candidates (keeping the first) */
static int64_t dedupe(double *X, int64_t m, int64_t d)
{
    int64_t *idx = malloc((size_t)(m + 1) * sizeof(int64_t));
    char *drop = calloc((size_t)m + 1, 1);
    if (!idx || !drop) {
        free(idx);
        free(drop);
        return m;
    }
    for (int64_t i = 0; i < m; i++) idx[i] = i;
    cmp_rows_d = (int)d;
    cmp_rows_x = X;
    qsort(idx, (size_t)m, sizeof *idx, cmp_rows);
    for (int64_t q = 1; q < m; q++)
        if (memcmp(X + idx[q] * d, X + idx[q - 1] * d, (size_t)d * sizeof(double)) == 0) drop[idx[q]] = 1;
    int64_t o = 0;
    for (int64_t i = 0; i < m; i++)
        if (!drop[i]) {
            if (o != i) memmove(X + o * d, X + i * d, (size_t)d * sizeof(double));
            o++;
        }
    free(idx);
    free(drop);
    return o;
}

static int init_parallel(kmfit *F, int64_t k, int64_t run, double ell, int64_t rounds, double *C)
{
    const int64_t d = F->d;
    int64_t cap = 64, nc = 1;
    double *X = malloc((size_t)(cap * d) * sizeof(double));
    if (!X) return H->seterr(WB_ENOMEM, "out of memory");
    wb_rng r;
    wb_rng_init(&r, F->seed, stream_id(S_FIRST, run, 0), 0);
    int64_t first = (int64_t)wb_rng_below(&r, (uint64_t)F->n);
    int rc = take_rows(F, &first, 1, X);
    wb_oid *outs = calloc((size_t)F->np + 1, sizeof *outs);
    if (!rc && !outs) rc = H->seterr(WB_ENOMEM, "out of memory");
    double phi = 1;
    /* `rounds` rounds, and more while there are fewer candidates than k */
    for (int64_t round = 0; !rc && (round < rounds || (nc < k && round < rounds + 64)); round++) {
        rc = lloyd_pass(F, X, nc, 3, &phi);
        if (rc || !(phi > 0)) break;
        wb_oid oc;
        rc = km_put(F->ex, X, nc * d, &oc);
        if (rc) break;
        kmarg a = {.k = nc, .d = d, .seed = F->seed, .stream = stream_id(S_PAR, run, round), .f = ell / phi};
        rc = H->map(F->ex, "kmeans.par", F->ds, &oc, 1, &a, sizeof a, outs);
        H->release(F->ex, oc);
        for (int i = 0; i < F->np && !rc; i++) {
            double *v = NULL;
            size_t cnt = 0;
            rc = get_doubles(F->ex, outs[i], &v, &cnt);
            int64_t got = !rc && cnt >= 1 ? (int64_t)v[0] : 0;
            if (!rc && cnt != (size_t)(1 + got * (1 + d))) rc = H->seterr(WB_EINTERNAL, "kmeans: bad sample");
            if (!rc && nc + got > cap) {
                while (nc + got > cap) cap *= 2;
                double *nx = realloc(X, (size_t)(cap * d) * sizeof(double));
                if (!nx)
                    rc = H->seterr(WB_ENOMEM, "out of memory");
                else
                    X = nx;
            }
            for (int64_t q = 0; !rc && q < got; q++) memcpy(X + (nc + q) * d, v + 1 + q * (1 + d) + 1, (size_t)d * sizeof(double));
            if (!rc) nc += got;
            H->free(v);
        }
        for (int i = 0; i < F->np; i++)
            if (outs[i]) H->release(F->ex, outs[i]);
        memset(outs, 0, (size_t)F->np * sizeof *outs);
        if (!rc) nc = dedupe(X, nc, d);
    }
    free(outs);
    if (!rc && nc < k) rc = !(phi > 0) ? distinct_error(nc, k) : H->seterr(WB_EINTERNAL, NAME ": k-means|| found only %lld candidates", (long long)nc);
    double *w = NULL;
    if (!rc) {
        w = malloc((size_t)nc * sizeof(double));
        if (!w) rc = H->seterr(WB_ENOMEM, "out of memory");
    }
    if (!rc) rc = lloyd_pass(F, X, nc, 2, w);
    if (!rc) {
        wb_rng_init(&r, F->seed, stream_id(S_LOCAL, run, 0), 0);
        rc = local_pp(X, w, nc, d, k, &r, C);
    }
    if (!rc) rc = local_lloyd(X, w, nc, d, k, C, 300);
    free(w);
    free(X);
    return rc;
}

/* ============================================================== random */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int init_random(kmfit *F, int64_t k, int64_t run, double *C)
{
    /* Floyd's algorithm: k distinct rows, uniformly */
    int64_t *rows = malloc((size_t)k * sizeof(int64_t));
    if (!rows) return H->seterr(WB_ENOMEM, "out of memory");
    wb_rng r;
    wb_rng_init(&r, F->seed, stream_id(S_RANDOM, run, 0), 0);
    int64_t m = 0;
    for (int64_t j = F->n - k; j < F->n; j++) {
        int64_t t = (int64_t)wb_rng_below(&r, (uint64_t)j + 1);
        int dup = 0;
        /* k is small next to n in practice; a sorted insert keeps this O(k log k + k^2/2) */
        for (int64_t q = 0; q < m && !dup; q++) dup = rows[q] == t;
        rows[m++] = dup ? j : t;
    }
    qsort(rows, (size_t)k, sizeof *rows, cmp_i64);
    int rc = take_rows(F, rows, k, C);
    free(rows);
    return rc;
}

/* =============================================================== Lloyd */

/* empty clusters (counts 0 in S = sums, counts, inertia from centres C):
 * the farthest points become their centres, as scikit-learn relocates them */
static int relocate(kmfit *F, const double *C, int64_t k, double *S)
{
    const int64_t d = F->d, rl = 3 + d;
    double *cnt = S + k * d;
    int64_t ne = 0;
    for (int64_t j = 0; j < k; j++) ne += cnt[j] == 0;
    wb_oid oc, *outs = calloc((size_t)F->np + 1, sizeof *outs);
    double *all = NULL;
    int64_t na = 0;
    if (!outs) return H->seterr(WB_ENOMEM, "out of memory");
    int rc = km_put(F->ex, C, k * d, &oc);
    if (rc) {
        free(outs);
        return rc;
    }
    kmarg a = {.k = k, .d = d, .m = ne};
    rc = H->map(F->ex, "kmeans.far", F->ds, &oc, 1, &a, sizeof a, outs);
    H->release(F->ex, oc);
    if (!rc) {
        all = malloc((size_t)(F->np * ne * rl + 1) * sizeof(double));
        if (!all) rc = H->seterr(WB_ENOMEM, "out of memory");
    }
    for (int i = 0; i < F->np && !rc; i++) {
        double *v = NULL;
        size_t c = 0;
        rc = get_doubles(F->ex, outs[i], &v, &c);
        int64_t got = !rc && c >= 1 ? (int64_t)v[0] : 0;
        if (!rc && (got > ne || c != (size_t)(1 + got * rl))) rc = H->seterr(WB_EINTERNAL, "kmeans: bad far-point result");
        if (!rc) memcpy(all + na * rl, v + 1, (size_t)(got * rl) * sizeof(double));
        na += rc ? 0 : got;
        H->free(v);
    }
    for (int i = 0; i < F->np; i++)
        if (outs[i]) H->release(F->ex, outs[i]);
    free(outs);
    if (rc) {
        free(all);
        return rc;
    }
    /* merge: the ne farthest over all partitions (selection by distance, then row) */
    int64_t used = 0;
    for (int64_t j = 0; j < k && !rc; j++) {
        if (cnt[j] != 0) continue;
        int64_t best = -1;
        for (int64_t q = 0; q < na; q++) {
            if (all[q * rl + 1] < 0) continue; /* taken */
            if (best < 0 || all[q * rl] > all[best * rl] ||
                (all[q * rl] == all[best * rl] && all[q * rl + 1] < all[best * rl + 1]))
                best = q;
        }
        if (best < 0 || !(all[best * rl] > 0)) {
            int64_t nonempty = 0;
            for (int64_t q = 0; q < k; q++) nonempty += cnt[q] > 0;
            rc = distinct_error(-1, k);
            (void)nonempty;
            break;
        }
        const double *rec = all + best * rl, *x = rec + 3;
        int64_t old = (int64_t)rec[2];
        for (int64_t t = 0; t < d; t++) {
            S[old * d + t] -= x[t];
            S[j * d + t] = x[t];
        }
        cnt[old] -= 1;
        cnt[j] = 1;
        all[best * rl + 1] = -1;
        used++;
    }
    free(all);
    return rc;
}

typedef struct lloyd_out {
    double inertia;
    int64_t iters;
    int converged;
} lloyd_out;

/* one pass of kmeans.bounds (kind KB_ELKAN or KB_HAMERLY, mode KB_*) with
 * centres C, the previous pass's centres P (NULL for KB_INIT); st[np]: the
 * partitions' bounds, replaced by the new ones (released after KB_FINAL).
 * S: sums, counts and the last number (rows that changed centre, or the
 * inertia after KB_FINAL), summed as map_sum sums Lloyd's */
static int bounds_pass(kmfit *F, const double *C, const double *P, int64_t k, int kind, int mode, wb_oid *st,
                       double *S)
{
    const int64_t d = F->d;
    const int np = F->np;
    const size_t len = (size_t)(k * d + k + 1);
    double *aux = malloc((size_t)(2 * k + (kind == KB_ELKAN ? k * k : 0)) * sizeof(double));
    wb_oid *ns = calloc((size_t)np + 1, sizeof *ns), *sm = calloc((size_t)np + 1, sizeof *sm), in[4] = {0};
    double **lists = calloc((size_t)np + 1, sizeof *lists);
    size_t *counts = calloc((size_t)np + 1, sizeof *counts);
    int rc = (!aux || !ns || !sm || !lists || !counts) ? H->seterr(WB_ENOMEM, "out of memory") : 0;
    int64_t na = rc ? 0 : km_bounds_aux(C, P, k, d, kind == KB_ELKAN, aux);
    if (!rc) rc = km_put(F->ex, C, k * d, &in[1]);
    if (!rc) rc = km_put(F->ex, aux, na, &in[2]);
    kmarg a = {.k = k, .d = d, .mode = mode, .m = kind};
    for (int i = 0; !rc && i < np; i++) {
        in[0] = H->ds_part_oid(F->ds, i);
        in[3] = st[i];
        rc = H->submit(F->ex, "kmeans.bounds", in, mode == KB_INIT ? 3 : 4, &a, sizeof a, &ns[i]);
    }
    for (int i = 0; !rc && i < np; i++) rc = H->submit(F->ex, "kmeans.bounds_sums", &ns[i], 1, NULL, 0, &sm[i]);
    if (!rc) rc = H->wait(F->ex, sm, np);
    for (int i = 0; !rc && i < np; i++) rc = get_doubles(F->ex, sm[i], &lists[i], &counts[i]);
    if (!rc) rc = km_tree_root((const double *const *)lists, counts, np, (F->n + BLK - 1) / BLK, len, S);
    for (int i = 0; i < np; i++) {
        if (lists[i]) H->free(lists[i]);
        if (sm[i]) H->release(F->ex, sm[i]);
        if (st[i]) H->release(F->ex, st[i]);
        st[i] = mode == KB_FINAL ? 0 : ns[i];
        if (mode == KB_FINAL && ns[i]) H->release(F->ex, ns[i]);
    }
    if (in[1]) H->release(F->ex, in[1]);
    if (in[2]) H->release(F->ex, in[2]);
    free(aux);
    free(ns);
    free(sm);
    free(lists);
    free(counts);
    return first_pass(F, rc, S, len);
}

/* Lloyd's iterations from the centres C: plain passes (kind 0), or passes
 * with Elkan's or Hamerly's bounds (kind KB_ELKAN, KB_HAMERLY: the same
 * centres, sums and model, fewer distances) */
static int lloyd(kmfit *F, double *C, int64_t k, int64_t max_iter, double tol_s, int kind, lloyd_out *res,
                 double *sizes)
{
    const int64_t d = F->d;
    double *S = malloc((size_t)(k * d + k + 1) * sizeof(double));
    double *P = kind ? malloc((size_t)(k * d) * sizeof(double)) : NULL;
    wb_oid *st = kind ? calloc((size_t)F->np + 1, sizeof *st) : NULL;
    if (!S || (kind && (!P || !st))) {
        free(S);
        free(P);
        free(st);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    int rc = 0;
    res->iters = 0;
    res->converged = 0;
    for (int64_t it = 0; it < max_iter && !rc; it++) {
        if (kind)
            rc = bounds_pass(F, C, it ? P : NULL, k, kind, it ? KB_UPDATE : KB_INIT, st, S);
        else
            rc = lloyd_pass(F, C, k, 4, S);
        if (rc) break;
        if (kind) memcpy(P, C, (size_t)(k * d) * sizeof(double)); /* the centres the bounds are for */
        double *cnt = S + k * d;
        int empty = 0;
        for (int64_t j = 0; j < k; j++) empty |= cnt[j] == 0;
        if (empty && (rc = relocate(F, C, k, S)) != 0) break;
        double shift = 0;
        for (int64_t j = 0; j < k; j++)
            for (int64_t t = 0; t < d; t++) {
                double v = cnt[j] > 0 ? S[j * d + t] / cnt[j] : C[j * d + t];
                double df = v - C[j * d + t];
                shift += df * df;
                C[j * d + t] = v;
            }
        res->iters = it + 1;
        char info[96];
        if (kind)
            snprintf(info, sizeof info, "%.0f rows changed cluster", S[k * d + k]);
        else
            snprintf(info, sizeof info, "inertia %.6g", S[k * d + k]);
        H->progress("kmeans", (double)(it + 1), (double)max_iter, info);
        if (shift <= tol_s) {
            res->converged = 1;
            break;
        }
    }
    H->progress("kmeans", (double)max_iter, (double)max_iter, NULL); /* ends the stage when converged early */
    /* the inertia and sizes of the final centres */
    if (!rc) rc = kind ? bounds_pass(F, C, P, k, kind, KB_FINAL, st, S) : lloyd_pass(F, C, k, 0, S);
    if (!rc) {
        res->inertia = S[k * d + k];
        memcpy(sizes, S + k * d, (size_t)k * sizeof(double));
    }
    for (int i = 0; st && i < F->np; i++)
        if (st[i]) H->release(F->ex, st[i]);
    free(S);
    free(P);
    free(st);
    return rc;
}

/* ============================================================ estimator */

static const char *init_names = "\"k-means++\", \"k-means||\", \"random\" or a matrix of k rows (the centres)";

static int km_check(const wb_params *p, const wb_dataset *d)
{
    int64_t k = H->param_int(p, "k");
    if (H->param_type(p, "init") == WB_P_STR) {
        const char *s = H->param_str(p, "init");
        if (strcmp(s, "k-means++") && strcmp(s, "k-means||") && strcmp(s, "random"))
            return H->seterr(WB_EPARAM, NAME ": parameter 'init' must be %s, got \"%s\"", init_names, s);
    } else {
        int64_t r, c;
        const double *x = H->param_array(p, "init", &r, &c);
        if (r != k)
            return H->seterr(WB_EPARAM, NAME ": parameter 'init' has %lld rows (centres), k is %lld", (long long)r,
                             (long long)k);
        if (d && c != H->ds_cols(d))
            return H->seterr(WB_EPARAM, NAME ": parameter 'init' has %lld columns, the data has %lld", (long long)c,
                             (long long)H->ds_cols(d));
        for (int64_t i = 0; i < r * c; i++)
            if (!isfinite(x[i]))
                return H->seterr(WB_EPARAM, NAME ": parameter 'init' has %s at row %lld, column %lld",
                                 isnan(x[i]) ? "NaN" : x[i] > 0 ? "Inf" : "-Inf", (long long)(i / c + 1),
                                 (long long)(i % c + 1));
    }
    if (H->param_type(p, "n_init") == WB_P_STR && strcmp(H->param_str(p, "n_init"), "auto"))
        return H->seterr(WB_EPARAM, NAME ": parameter 'n_init' must be an integer >= 1 or \"auto\", got \"%s\"",
                         H->param_str(p, "n_init"));
    if (d) {
        int64_t n = H->ds_rows(d);
        if (H->ds_cols(d) < 1) return H->seterr(WB_EINVAL, NAME ": the data has no columns");
        if (k > n)
            return H->seterr(WB_EPARAM, NAME ": k = %lld is more than the %lld rows of the data", (long long)k,
                             (long long)n);
    }
    return 0;
}

/* k-means++ keeps D^2 per row between passes (n numbers more memory) when k
 * > 32; up to 32 it recomputes D^2 from the chosen centres in each pass (no
 * memory beyond the data). Both give the same centres; WB_KMEANS_PP=stored or
 * =recompute forces one (for tests). */
static int pp_stored(int64_t k)
{
    const char *e = getenv("WB_KMEANS_PP");
    if (e && !strcmp(e, "stored")) return 1;
    if (e && !strcmp(e, "recompute")) return 0;
    return k > 32;
}

/* algorithm = "lloyd" runs Lloyd's passes with Hamerly's bounds when the
 * distances come from the BLAS product (d > KM_DIRECT_MAX_D) and k >= 4:
 * the bounds are exact (every row gets the centre Lloyd's pass gives it,
 * the sums are made in Lloyd's order), so the model is the same bits, with
 * most distances skipped. Below that the plain pass is as fast (a row's few
 * vector distances cost about what checking its bounds does).
 * WB_KMEANS_LLOYD=plain or =hamerly forces one (for tests). */
static int lloyd_kind(int64_t k, int64_t d)
{
    const char *e = getenv("WB_KMEANS_LLOYD");
    if (e && !strcmp(e, "plain")) return 0;
    if (e && !strcmp(e, "hamerly")) return KB_HAMERLY;
    return d > KM_DIRECT_MAX_D && k >= 4 ? KB_HAMERLY : 0;
}

static int km_fit(wb_exec *ex, const wb_dataset *ds, const wb_params *p, wb_model *m)
{
    kmfit F;
    int rc = fit_open(&F, ex, ds, (uint64_t)H->param_int(p, "seed"));
    if (rc) {
        fit_close(&F);
        return rc;
    }
    const int64_t k = H->param_int(p, "k"), d = F.d, max_iter = H->param_int(p, "max_iter");
    const double tol = H->param_num(p, "tol");
    const char *init = H->param_type(p, "init") == WB_P_STR ? H->param_str(p, "init") : NULL;
    const char *algo = H->param_str(p, "algorithm");
    const int kind = !algo || !strcmp(algo, "lloyd") ? lloyd_kind(k, d) : !strcmp(algo, "elkan") ? KB_ELKAN : KB_HAMERLY;
    int64_t runs = 1;
    if (H->param_type(p, "n_init") == WB_P_INT)
        runs = H->param_int(p, "n_init");
    else if (init && !strcmp(init, "random"))
        runs = 10; /* "auto", as scikit-learn: 10 runs for random starts, else 1 */
    if (!init) runs = 1; /* given centres: one run */
    double *C = malloc((size_t)(k * d) * sizeof(double)), *best = malloc((size_t)(k * d) * sizeof(double));
    double *sizes = malloc((size_t)k * sizeof(double)), *bsizes = malloc((size_t)k * sizeof(double));
    if (!rc && (!C || !best || !sizes || !bsizes)) rc = H->seterr(WB_ENOMEM, "out of memory");
    /* tolerance relative to the data's mean column variance (as scikit-learn) */
    double tol_s = 0;
    if (!rc && tol > 0) {
        double *sh = malloc((size_t)d * sizeof(double)), *mo = malloc((size_t)(2 * d) * sizeof(double));
        unsigned char *arg = malloc(sizeof(kmarg) + (size_t)d * sizeof(double));
        int64_t zero = 0;
        if (!sh || !mo || !arg) rc = H->seterr(WB_ENOMEM, "out of memory");
        if (!rc) rc = take_rows(&F, &zero, 1, sh);
        if (!rc) {
            kmarg a = {.d = d};
            memcpy(arg, &a, sizeof a);
            memcpy(arg + sizeof a, sh, (size_t)d * sizeof(double));
            rc = H->map_sum(ex, "kmeans.moments", ds, NULL, 0, arg, sizeof a + (size_t)d * sizeof(double), mo,
                            (size_t)(2 * d));
            rc = first_pass(&F, rc, mo, (size_t)(2 * d)); /* (a NaN/Inf makes its column's sums NaN/Inf) */
        }
        if (!rc) {
            double v = 0, n = (double)F.n;
            for (int64_t t = 0; t < d; t++) {
                double mean = mo[t] / n, var = mo[d + t] / n - mean * mean;
                v += var > 0 ? var : 0;
            }
            tol_s = tol * v / (double)d;
        }
        free(sh);
        free(mo);
        free(arg);
    }
    lloyd_out bestres = {INFINITY, 0, 0};
    for (int64_t run = 0; !rc && run < runs; run++) {
        if (!init) {
            int64_t r, c;
            memcpy(C, H->param_array(p, "init", &r, &c), (size_t)(k * d) * sizeof(double));
        } else if (!strcmp(init, "k-means++"))
            rc = pp_stored(k) ? init_pp_stored(&F, k, run, C) : init_pp(&F, k, run, C);
        else if (!strcmp(init, "k-means||"))
            rc = init_parallel(&F, k, run, H->param_num(p, "oversampling") * (double)k, H->param_int(p, "rounds"), C);
        else
            rc = init_random(&F, k, run, C);
        lloyd_out res = {0, 0, 0};
        if (!rc) rc = lloyd(&F, C, k, max_iter, tol_s, kind, &res, sizes);
        if (!rc && (run == 0 || res.inertia < bestres.inertia)) {
            bestres = res;
            memcpy(best, C, (size_t)(k * d) * sizeof(double));
            memcpy(bsizes, sizes, (size_t)k * sizeof(double));
        }
    }
    if (!rc) rc = H->model_set_array(m, "centers", best, k, d);
    if (!rc) rc = H->model_set_num(m, "inertia", bestres.inertia);
    if (!rc) rc = H->model_set_num(m, "iterations", (double)bestres.iters);
    if (!rc) rc = H->model_set_num(m, "converged", bestres.converged);
    if (!rc) rc = H->model_set_array(m, "sizes", bsizes, 1, k);
    if (!rc) rc = H->model_set_num(m, "features", (double)d);
    /* (every fit makes a pass over the data: this is only a safety net) */
    if (!F.checked) rc = rc ? finite_first(ex, ds, rc) : H->ds_check_finite(ex, ds, NAME);
    free(C);
    free(best);
    free(sizes);
    free(bsizes);
    fit_close(&F);
    return rc;
}

/* the model's centres, checked (k x d, 1 <= k <= 2^26, finite: the model may
 * come from a file or have been changed with m:set) and against the data */
static int model_centres(const wb_model *m, const wb_dataset *d, const double **c, int64_t *k)
{
    int64_t kk, dd;
    *c = H->model_array(m, "centers", &kk, &dd);
    if (!*c) return H->seterr(WB_EINVAL, NAME ": the model has no centers");
    if (kk < 1 || kk > (1 << 26) || dd < 1 || dd > (1 << 24))
        return H->seterr(WB_EINVAL, NAME ": malformed model: 'centers' is %lld x %lld", (long long)kk, (long long)dd);
    if (dd != H->ds_cols(d))
        return H->seterr(WB_EINVAL, NAME ": the data has %lld columns, the model was fitted on %lld",
                         (long long)H->ds_cols(d), (long long)dd);
    for (int64_t i = 0; i < kk * dd; i++)
        if (!isfinite((*c)[i]))
            return H->seterr(WB_EINVAL, NAME ": malformed model: 'centers' holds NaN or Inf (row %lld)",
                             (long long)(i / dd) + 1);
    *k = kk;
    return 0;
}

static int km_apply(wb_exec *ex, const wb_model *m, const wb_dataset *d, const char *kernel, wb_dataset **out)
{
    const double *c;
    int64_t k;
    int rc = model_centres(m, d, &c, &k);
    if (rc) return rc;
    wb_oid oc;
    if ((rc = km_put(ex, c, k * H->ds_cols(d), &oc)) != 0) return finite_first(ex, d, rc);
    kmarg a = {.k = k, .d = H->ds_cols(d)};
    rc = H->map_dataset(ex, kernel, d, &oc, 1, &a, sizeof a, out);
    H->release(ex, oc);
    return finite_first(ex, d, rc); /* the kernel fails on NaN/Inf: named by the finite check */
}

static int km_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return km_apply(ex, m, d, "kmeans.predict", out);
}

static int km_transform(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return km_apply(ex, m, d, "kmeans.transform", out);
}

/* score (higher is better), by the model's `score` parameter: minus the
 * inertia of the data with the model's centres (default, as scikit-learn),
 * minus the Davies-Bouldin index, the Calinski-Harabasz index, or the
 * silhouette (over at most 10000 rows, seed 0) of the data's predicted
 * clusters */
static int km_score(wb_exec *ex, const wb_model *m, const wb_dataset *d, double *out)
{
    const double *c;
    int64_t k;
    int rc = model_centres(m, d, &c, &k);
    if (rc) return rc;
    const char *metric = H->param_str(H->model_params(m), "score");
    if (metric && strcmp(metric, "inertia") && strcmp(metric, "davies_bouldin") && strcmp(metric, "calinski_harabasz") &&
        strcmp(metric, "silhouette"))
        return H->seterr(WB_EINVAL, NAME ": malformed model: its parameter 'score' is \"%.64s\", not a known score", metric);
    if (metric && strcmp(metric, "inertia")) {
        wb_dataset *lab = NULL;
        wb_oid oc;
        if ((rc = km_put(ex, c, k * H->ds_cols(d), &oc)) != 0) return finite_first(ex, d, rc);
        kmarg a = {.k = k, .d = H->ds_cols(d)};
        rc = H->map_dataset(ex, "kmeans.predict", d, &oc, 1, &a, sizeof a, &lab);
        H->release(ex, oc);
        rc = finite_first(ex, d, rc); /* the predictions checked the data */
        if (!rc) rc = km_metric_score(ex, d, lab, k, metric, out);
        if (lab) H->ds_unref(lab);
        if (!rc && !strcmp(metric, "davies_bouldin")) *out = -*out;
        return rc;
    }
    kmfit F = {.ex = ex, .ds = d, .n = H->ds_rows(d), .d = H->ds_cols(d)};
    double in = 0;
    rc = lloyd_pass(&F, c, k, 1, &in); /* (its first pass: checks the data) */
    *out = -in;
    return rc;
}

static const wb_param_spec km_params[] = {
    {.name = "k", .types = WB_P_INT, .def = "8", .min = 1, .max = INFINITY, .doc = "number of clusters"},
    {.name = "init", .types = WB_P_STR | WB_P_ARRAY, .def = "k-means++",
     .doc = "\"k-means++\", \"k-means||\", \"random\", or the k initial centres (table of rows or dataset)"},
    {.name = "n_init", .types = WB_P_INT | WB_P_STR, .def = "auto", .min = 1, .max = INFINITY,
     .doc = "runs from different starts, the best inertia kept (\"auto\": 10 for random, else 1)"},
    {.name = "max_iter", .types = WB_P_INT, .def = "300", .min = 1, .max = INFINITY, .doc = "Lloyd iterations at most"},
    {.name = "algorithm", .types = WB_P_STR, .def = "lloyd", .choices = "lloyd|elkan|hamerly",
     .doc = "Lloyd's iterations plain, or with Elkan's (k lower bounds a row) or Hamerly's (one) distance bounds: "
            "the same model, fewer distances computed"},
    {.name = "tol", .types = WB_P_NUM, .def = "1e-4", .min = 0, .max = INFINITY,
     .doc = "converged when the squared centre shift is at most tol * mean column variance"},
    {.name = "oversampling", .types = WB_P_NUM, .def = "2", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "k-means||: expected points sampled per round, as a multiple of k"},
    {.name = "rounds", .types = WB_P_INT, .def = "5", .min = 1, .max = 1000, .doc = "k-means||: sampling rounds"},
    {.name = "seed", .types = WB_P_INT, .def = "0", .min = 0, .max = INFINITY, .doc = "random seed"},
    {.name = "score", .types = WB_P_STR, .def = "inertia", .choices = "inertia|davies_bouldin|calinski_harabasz|silhouette",
     .doc = "what m:score(data) and grid search maximise: -inertia, -Davies-Bouldin, Calinski-Harabasz or silhouette"},
};

static const wb_estimator_def km_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "kmeans",
    .doc = "k-means clustering (Lloyd, plain or with Elkan's or Hamerly's bounds; k-means++, k-means||, random or given "
           "starts)",
    .kind = WB_EST_CLUSTERER,
    .params = km_params,
    .nparams = sizeof km_params / sizeof km_params[0],
    .check = km_check,
    .fit = km_fit,
    .predict = km_predict,
    .transform = km_transform,
    .score = km_score,
};

extern const char km_metrics_lua[];

static const wb_kernel_def kernels[] = {
    {.name = "kmeans.lloyd", .fn = k_lloyd},
    {.name = "kmeans.far", .fn = k_far},
    {.name = "kmeans.pp", .fn = k_pp},
    {.name = "kmeans.locate", .fn = k_locate},
    {.name = "kmeans.take", .fn = k_take},
    {.name = "kmeans.par", .fn = k_par},
    {.name = "kmeans.moments", .fn = k_moments},
    {.name = "kmeans.predict", .fn = k_predict},
    {.name = "kmeans.transform", .fn = k_transform},
    {.name = "kmeans.rows", .fn = k_rows},
    {.name = "kmeans.pps", .fn = k_pps},
    {.name = "kmeans.pps_sums", .fn = k_pps_sums},
    {.name = "kmeans.ppl", .fn = k_ppl},
};

WB_PLUGIN("kmeans", "1.0")
{
    H = host;
    int rc = wb_register_kernels(H, kernels, sizeof kernels / sizeof kernels[0]);
    if (!rc) rc = km_metrics_register();
    if (!rc) rc = km_bounds_register();
    if (!rc) rc = H->register_estimator(&km_def);
    if (!rc) rc = H->register_lua("kmeans/metrics.lua", km_metrics_lua);
    return rc;
}
