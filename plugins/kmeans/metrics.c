/* metrics.c — kernels behind wb.metrics.inertia, davies_bouldin,
 * calinski_harabasz and silhouette (their Lua front-ends: metrics.lua).
 *
 * Labels travel as the partitions of a vector dataset passed as extra inputs:
 * a 4096-row block of the data finds its labels in the label partition that
 * holds its rows (label partitions are also made of whole blocks), so data
 * and labels need not be split alike. Per-cluster sums are map_sum reductions
 * (fixed tree over global blocks); the silhouette works on a sample chosen by
 * per-row hash keys, so every result is the same bits whatever the threads
 * or partitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "kmeans.h"

/* the labels of rows [row0, row0 + rows) from the label partitions in[first..nin) */
static const double *labels_for(const wb_obj *in, int nin, int first, int64_t row0, int64_t rows)
{
    for (int i = first; i < nin; i++) {
        if (in[i].type != WB_OBJ_PART || in[i].part.cols != 1) continue;
        const wb_part *q = &in[i].part;
        if (row0 >= q->row0 && row0 + rows <= q->row0 + q->rows) return q->x + (row0 - q->row0);
    }
    H->seterr(WB_EINVAL, "metrics: no labels for rows %lld..%lld (labels and data do not line up)",
              (long long)row0 + 1, (long long)(row0 + rows));
    return NULL;
}

/* a label -> its cluster index in [0, K) (offset by lmin), or -1 */
static inline int64_t lab_index(double y, double lmin, int64_t K)
{
    double v = y - lmin;
    if (!(v >= 0 && v < (double)K) || v != floor(v)) return -1;
    return (int64_t)v;
}

static int bad_label(double y, int64_t row)
{
    return H->seterr(WB_EINVAL, "metrics: label %g at row %lld is not one of the clusters", y, (long long)row + 1);
}

/* kmeans.lrange (map over a vector): min, max, first non-integer row (-1), its value */
static int k_lrange(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)arg;
    (void)arglen;
    if (nin < 1 || in[0].type != WB_OBJ_PART || in[0].part.cols != 1)
        return H->seterr(WB_EINVAL, "metrics: labels must be one column");
    const wb_part *p = &in[0].part;
    double *o = H->out_bytes(ctx, 4 * sizeof(double));
    if (!o) return WB_ENOMEM;
    o[0] = INFINITY;
    o[1] = -INFINITY;
    o[2] = -1;
    for (int64_t i = 0; i < p->rows; i++) {
        double y = p->x[i];
        if (!isfinite(y) || y != floor(y) || fabs(y) > 9e15) {
            o[2] = (double)(p->row0 + i);
            o[3] = y;
            break;
        }
        if (y < o[0]) o[0] = y;
        if (y > o[1]) o[1] = y;
    }
    return 0;
}

/* kmeans.cstats (map_sum over data; in[1..] label parts): arg k = K clusters,
 * f = lowest label. Per cluster: sums (K*d), counts (K). */
static int k_cstats(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    if (!p || a.k < 1) return WB_EINVAL;
    const double *y = labels_for(in, nin, 1, p->row0, p->rows);
    if (!y) return WB_EINVAL;
    const int64_t K = a.k, d = a.d;
    double *o = H->out_bytes(ctx, (size_t)(K * d + K) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        int64_t c = lab_index(y[i], a.f, K);
        if (c < 0) return bad_label(y[i], p->row0 + i);
        const double *xi = p->x + i * d;
        double *s = o + c * d;
        for (int64_t t = 0; t < d; t++) s[t] += xi[t];
        o[K * d + c] += 1;
    }
    return 0;
}

/* kmeans.dstats (map_sum over data; in[1] = centres K x d, in[2..] label
 * parts): per cluster the sum of distances to its centre (K) and of squared
 * distances (K) */
static int k_dstats(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const double *c = km_doubles(in, nin, 1, a.k * a.d);
    if (!p || !c || a.k < 1) return WB_EINVAL;
    const double *y = labels_for(in, nin, 2, p->row0, p->rows);
    if (!y) return WB_EINVAL;
    const int64_t K = a.k, d = a.d;
    double *o = H->out_bytes(ctx, (size_t)(2 * K) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        int64_t q = lab_index(y[i], a.f, K);
        if (q < 0) return bad_label(y[i], p->row0 + i);
        double v = km_dist2(p->x + i * d, c + q * d, d);
        o[q] += sqrt(v);
        o[K + q] += v;
    }
    return 0;
}

/* row keys for sampling: uniform in [0, 1) from (seed, global row) */
static inline double row_key(uint64_t seed, int64_t row)
{
    return (double)(wb_hash64(seed ^ 0x51a4e77e5ULL, (uint64_t)row) >> 11) * 0x1.0p-53;
}

typedef struct keyed {
    double key;
    int64_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* kmeans.sample (map over data; in[1..] label parts): arg m rows wanted, seed.
 * The partition's a.m rows of smallest key: count, then (key, row, label, x[d]) */
static int k_sample(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    if (!p || a.m < 1) return WB_EINVAL;
    const double *y = labels_for(in, nin, 1, p->row0, p->rows);
    if (!y) return WB_EINVAL;
    const int64_t d = a.d, rl = 3 + d;
    keyed *ks = malloc((size_t)(p->rows + 1) * sizeof *ks);
    if (!ks) return H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t i = 0; i < p->rows; i++) ks[i] = (keyed){row_key(a.seed, p->row0 + i), i};
    qsort(ks, (size_t)p->rows, sizeof *ks, cmp_keyed);
    int64_t m = a.m < p->rows ? a.m : p->rows;
    double *o = H->out_bytes(ctx, (size_t)(1 + m * rl) * sizeof(double));
    if (!o) {
        free(ks);
        return WB_ENOMEM;
    }
    o[0] = (double)m;
    for (int64_t q = 0; q < m; q++) {
        double *r = o + 1 + q * rl;
        int64_t i = ks[q].i;
        r[0] = ks[q].key;
        r[1] = (double)(p->row0 + i);
        r[2] = y[i];
        memcpy(r + 3, p->x + i * d, (size_t)d * sizeof(double));
    }
    free(ks);
    return 0;
}

typedef struct srec {
    double label, key, row;
    int64_t at; /* offset of the record */
} srec;

static int cmp_srec_key(const void *a, const void *b)
{
    const srec *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_srec_label(const void *a, const void *b)
{
    const srec *x = a, *y = b;
    if (x->label != y->label) return x->label < y->label ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* kmeans.sample_merge (task; inputs: the kmeans.sample results): the a.m rows
 * of smallest key overall, grouped by label. Output: m, K, starts[K + 1],
 * labels[K], then m rows of d numbers */
static int k_sample_merge(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const int64_t d = a.d, rl = 3 + d;
    int64_t total = 0;
    for (int i = 0; i < nin; i++) {
        if (in[i].type != WB_OBJ_BYTES || in[i].size < sizeof(double)) return H->seterr(WB_EINVAL, "metrics: bad sample");
        const double *v = in[i].data;
        if (in[i].size != (size_t)(1 + (int64_t)v[0] * rl) * sizeof(double)) return H->seterr(WB_EINVAL, "metrics: bad sample");
        total += (int64_t)v[0];
    }
    srec *r = malloc((size_t)(total + 1) * sizeof *r);
    if (!r) return H->seterr(WB_ENOMEM, "out of memory");
    int64_t q = 0;
    for (int i = 0; i < nin; i++) {
        const double *v = in[i].data;
        for (int64_t j = 0; j < (int64_t)v[0]; j++) {
            const double *rec = v + 1 + j * rl;
            r[q++] = (srec){rec[2], rec[0], rec[1], ((int64_t)i << 32) | j};
        }
    }
    qsort(r, (size_t)total, sizeof *r, cmp_srec_key);
    int64_t m = a.m < total ? a.m : total;
    qsort(r, (size_t)m, sizeof *r, cmp_srec_label);
    int64_t K = 0;
    for (int64_t i = 0; i < m; i++)
        if (i == 0 || r[i].label != r[i - 1].label) K++;
    double *o = H->out_bytes(ctx, (size_t)(2 + (K + 1) + K + m * d) * sizeof(double));
    if (!o) {
        free(r);
        return WB_ENOMEM;
    }
    o[0] = (double)m;
    o[1] = (double)K;
    double *starts = o + 2, *labs = starts + K + 1, *x = labs + K;
    int64_t c = 0;
    for (int64_t i = 0; i < m; i++) {
        if (i == 0 || r[i].label != r[i - 1].label) {
            starts[c] = (double)i;
            labs[c] = r[i].label;
            c++;
        }
        const double *v = in[r[i].at >> 32].data;
        memcpy(x + i * d, v + 1 + (r[i].at & 0xffffffff) * rl + 3, (size_t)d * sizeof(double));
    }
    starts[K] = (double)m;
    free(r);
    return 0;
}

/* sum of distances from xi to rows [a, b) of x */
static double dist_sum(const double *xi, const double *x, int64_t a, int64_t b, int64_t d)
{
    double s = 0;
    for (int64_t j = a; j < b; j++) s += sqrt(km_dist2(xi, x + j * d, d));
    return s;
}

/* kmeans.silh (task; in[0] a kmeans.sample_merge result): the sum of the
 * silhouette values of sample rows [a.row, a.row + a.m) */
static int k_silh(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    if (nin < 1 || in[0].type != WB_OBJ_BYTES || in[0].size < 2 * sizeof(double))
        return H->seterr(WB_EINVAL, "metrics: bad sample");
    const double *v = in[0].data;
    const int64_t m = (int64_t)v[0], K = (int64_t)v[1], d = a.d;
    if (in[0].size != (size_t)(2 + (K + 1) + K + m * d) * sizeof(double) || a.row < 0 || a.m < 0 || a.row + a.m > m)
        return H->seterr(WB_EINVAL, "metrics: bad sample");
    const double *starts = v + 2, *x = starts + 2 * K + 1;
    double *o = H->out_bytes(ctx, sizeof(double));
    if (!o) return WB_ENOMEM;
    double total = 0;
    int64_t own = 0;
    for (int64_t i = a.row; i < a.row + a.m; i++) {
        while ((int64_t)starts[own + 1] <= i) own++;
        const double *xi = x + i * d;
        int64_t s0 = (int64_t)starts[own], s1 = (int64_t)starts[own + 1];
        if (s1 - s0 <= 1) continue; /* a cluster of one: 0 */
        double ai = dist_sum(xi, x, s0, s1, d) / (double)(s1 - s0 - 1), bi = INFINITY;
        for (int64_t c = 0; c < K; c++) {
            if (c == own) continue;
            int64_t c0 = (int64_t)starts[c], c1 = (int64_t)starts[c + 1];
            double mean = dist_sum(xi, x, c0, c1, d) / (double)(c1 - c0);
            if (mean < bi) bi = mean;
        }
        double den = ai > bi ? ai : bi;
        if (den > 0) total += (bi - ai) / den;
        if ((i & 63) == 0 && H->cancelled(ctx)) return H->seterr(WB_ECANCELED, "interrupted");
    }
    o[0] = total;
    return 0;
}

static const wb_kernel_def kernels[] = {
    {.name = "kmeans.lrange", .fn = k_lrange},
    {.name = "kmeans.cstats", .fn = k_cstats},
    {.name = "kmeans.dstats", .fn = k_dstats},
    {.name = "kmeans.sample", .fn = k_sample},
    {.name = "kmeans.sample_merge", .fn = k_sample_merge},
    {.name = "kmeans.silh", .fn = k_silh},
};

int km_metrics_register(void) { return wb_register_kernels(H, kernels, sizeof kernels / sizeof kernels[0]); }

/* ====================================== metrics as kmeans' score (in C) */

static int get_all(wb_exec *ex, wb_oid id, double **v, size_t *n)
{
    void *data = NULL;
    size_t size = 0;
    int rc = H->get(ex, id, &data, &size);
    if (rc) return rc;
    *v = data;
    *n = size / sizeof(double);
    return 0;
}

/* the silhouette over a sample of m rows (seed 0), labels in lp[0..nl) */
static int silhouette_c(wb_exec *ex, const wb_dataset *d, const wb_oid *lp, int nl, int64_t m, double *out)
{
    const int64_t dd = H->ds_cols(d);
    int np = H->ds_nparts(d);
    wb_oid *outs = calloc((size_t)np + 1, sizeof *outs), merged = 0;
    if (!outs) return H->seterr(WB_ENOMEM, "out of memory");
    kmarg a = {.d = dd, .m = m};
    int rc = H->map(ex, "kmeans.sample", d, lp, nl, &a, sizeof a, outs);
    if (!rc) rc = H->submit(ex, "kmeans.sample_merge", outs, np, &a, sizeof a, &merged);
    if (!rc) rc = H->wait(ex, &merged, 1);
    for (int i = 0; i < np; i++)
        if (outs[i]) H->release(ex, outs[i]);
    free(outs);
    double *v = NULL;
    size_t nv = 0;
    if (!rc) rc = get_all(ex, merged, &v, &nv);
    int64_t mm = !rc && nv >= 2 ? (int64_t)v[0] : 0, K = !rc && nv >= 2 ? (int64_t)v[1] : 0;
    H->free(v);
    if (!rc && (K < 2 || K > mm - 1))
        rc = H->seterr(WB_EINVAL, "kmeans: the silhouette needs 2 to rows - 1 clusters in the sample, found %lld", (long long)K);
    const int64_t chunk = 256, nt = (mm + chunk - 1) / chunk;
    wb_oid *t = !rc ? calloc((size_t)nt + 1, sizeof *t) : NULL;
    if (!rc && !t) rc = H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t i = 0; !rc && i < nt; i++) {
        kmarg b = {.d = dd, .m = (mm - i * chunk < chunk ? mm - i * chunk : chunk), .row = i * chunk};
        rc = H->submit(ex, "kmeans.silh", &merged, 1, &b, sizeof b, &t[i]);
    }
    double total = 0;
    for (int64_t i = 0; !rc && i < nt; i++) {
        rc = H->wait(ex, &t[i], 1);
        double *s = NULL;
        size_t ns = 0;
        if (!rc) rc = get_all(ex, t[i], &s, &ns);
        if (!rc && ns == 1) total += s[0];
        H->free(s);
    }
    for (int64_t i = 0; t && i < nt; i++)
        if (t[i]) H->release(ex, t[i]);
    free(t);
    if (merged) H->release(ex, merged);
    if (!rc) *out = total / (double)mm;
    return rc;
}

int km_metric_score(wb_exec *ex, const wb_dataset *d, const wb_dataset *labels, int64_t K, const char *metric,
                    double *out)
{
    const int64_t dd = H->ds_cols(d), n = H->ds_rows(d);
    int nl = H->ds_nparts(labels);
    wb_oid *ins = calloc((size_t)nl + 2, sizeof *ins);
    double *s = malloc((size_t)(K * dd + K) * sizeof(double)), *q = malloc((size_t)(2 * K) * sizeof(double));
    double *cen = malloc((size_t)(K * dd) * sizeof(double));
    int rc = (!ins || !s || !q || !cen) ? H->seterr(WB_ENOMEM, "out of memory") : 0;
    for (int i = 0; !rc && i < nl; i++) ins[1 + i] = H->ds_part_oid(labels, i);
    if (!rc && !strcmp(metric, "silhouette")) {
        rc = silhouette_c(ex, d, ins + 1, nl, n < 10000 ? n : 10000, out);
        goto done;
    }
    kmarg a = {.k = K, .d = dd};
    if (!rc) rc = H->map_sum(ex, "kmeans.cstats", d, ins + 1, nl, &a, sizeof a, s, (size_t)(K * dd + K));
    int64_t present = 0;
    for (int64_t c = 0; !rc && c < K; c++) {
        double cnt = s[K * dd + c];
        present += cnt > 0;
        for (int64_t t = 0; t < dd; t++) cen[c * dd + t] = cnt > 0 ? s[c * dd + t] / cnt : 0;
    }
    if (!rc && (present < 2 || present > n - 1))
        rc = H->seterr(WB_EINVAL, "kmeans: the %s score needs 2 to rows - 1 clusters in the data, found %lld", metric,
                       (long long)present);
    if (!rc) rc = km_put(ex, cen, K * dd, &ins[0]);
    if (!rc) rc = H->map_sum(ex, "kmeans.dstats", d, ins, nl + 1, &a, sizeof a, q, (size_t)(2 * K));
    if (ins && ins[0]) H->release(ex, ins[0]);
    if (rc) goto done;
    const double *cnt = s + K * dd;
    if (!strcmp(metric, "davies_bouldin")) {
        int allzero = 1, dzero = 1;
        for (int64_t c = 0; c < K; c++)
            if (cnt[c] > 0 && fabs(q[c] / cnt[c]) > 1e-8) allzero = 0;
        double total = 0;
        for (int64_t a1 = 0; a1 < K; a1++) {
            if (!(cnt[a1] > 0)) continue;
            double worst = 0;
            for (int64_t b1 = 0; b1 < K; b1++) {
                if (!(cnt[b1] > 0)) continue;
                double dist = sqrt(km_dist2(cen + a1 * dd, cen + b1 * dd, dd));
                if (dist > 1e-8) dzero = 0;
                double r = dist == 0 ? 0 : (q[a1] / cnt[a1] + q[b1] / cnt[b1]) / dist;
                if (r > worst) worst = r;
            }
            total += worst;
        }
        *out = allzero || dzero ? 0.0 : total / (double)present;
    } else { /* calinski_harabasz */
        double extra = 0, intra = 0;
        double *mean = calloc((size_t)dd, sizeof(double));
        if (!mean) {
            rc = H->seterr(WB_ENOMEM, "out of memory");
            goto done;
        }
        for (int64_t t = 0; t < dd; t++) {
            for (int64_t c = 0; c < K; c++)
                if (cnt[c] > 0) mean[t] += cen[c * dd + t] * cnt[c];
            mean[t] /= (double)n;
        }
        for (int64_t c = 0; c < K; c++)
            if (cnt[c] > 0) {
                extra += cnt[c] * km_dist2(cen + c * dd, mean, dd);
                intra += q[K + c];
            }
        free(mean);
        *out = intra == 0 ? 1.0 : extra * (double)(n - present) / (intra * (double)(present - 1));
    }
done:
    free(ins);
    free(s);
    free(q);
    free(cen);
    return rc;
}
