/* kernels.c — the kernels of the preprocess plugin:
 *
 *   preprocess.apply     (map_dataset) a column program (preprocess.h) over a partition
 *   preprocess.codes     (map_sum) rows per category code of some columns
 *   preprocess.numstats  (map_sum) valid rows, sum, missing rows, infinities of some columns
 *   preprocess.colsum    (map_sum) the scaler's column sums, then the row count
 *   preprocess.colsq     (map_sum) the scaler's sums of squared deviations
 *   preprocess.radix     (map) a 4096-bin histogram of the next 12 bits of a
 *                        column's ordered keys under a prefix (median)
 *   preprocess.gather    (map) the values of a column whose keys have a prefix
 *   preprocess.distinct  (map) a column's distinct values with their counts (mode)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"

/* ------------------------------------------------------- preprocess.apply */

static int code_error(const pp_hdr *h, const pp_op *op, const char *strs, const wb_part *p, int64_t i, double v)
{
    return H->seterr(WB_EINVAL, "%s: column '%s' has %.17g at row %lld, which is not a category code", strs + h->who,
                     strs + op->name, v, (long long)(p->row0 + i + 1));
}

static int unknown_error(const pp_hdr *h, const pp_op *op, const char *strs, const wb_part *p, int64_t i, int32_t t)
{
    return H->seterr(WB_EINVAL, "%s: column '%s' has %s%s%s at row %lld, unseen in training (%s)", strs + h->who,
                     strs + op->name, t == -1000000 ? "" : "level \"", t == -1000000 ? "a missing value" : strs + (-2 - t),
                     t == -1000000 ? "" : "\"", (long long)(p->row0 + i + 1), strs + h->unknown);
}

typedef struct run {
    int64_t first, n; /* ops[first .. first + n) */
} run;

static int k_apply(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    pp_hdr h;
    if (arglen < sizeof h) return H->seterr(WB_EINVAL, "preprocess.apply: bad arguments");
    memcpy(&h, arg, sizeof h);
    const size_t tabbytes = ((size_t)h.ntab * 4 + 7) & ~(size_t)7;
    if (h.magic != PP_MAGIC || h.din < 0 || h.dout < 0 || h.nops < 0 || h.ntab < 0 || h.nstr < 1 || h.nops > (1 << 24) ||
        h.ntab > (1LL << 32) || h.nstr > (1LL << 32) ||
        arglen != sizeof h + (size_t)h.nops * sizeof(pp_op) + tabbytes + (size_t)h.nstr)
        return H->seterr(WB_EINVAL, "preprocess.apply: bad arguments");
    const pp_op *ops = (const pp_op *)((const char *)arg + sizeof h);
    const int32_t *tab = (const int32_t *)((const char *)(ops + h.nops));
    const char *strs = (const char *)tab + tabbytes;
    if (strs[h.nstr - 1] || h.who < 0 || h.who >= h.nstr || h.unknown < 0 || h.unknown >= h.nstr)
        return H->seterr(WB_EINVAL, "preprocess.apply: bad arguments");
    const wb_part *p = &in[0].part;
    if (p->cols != h.din)
        return H->seterr(WB_EINVAL, "%s: fitted on %lld columns, the data has %lld", strs + h.who, (long long)h.din,
                         (long long)p->cols);
    for (int64_t k = 0; k < h.nops; k++) {
        const pp_op *o = &ops[k];
        int64_t w = o->kind == PP_ONEHOT ? o->width : 1;
        if (o->in < 0 || o->in >= h.din || o->out < 0 || w < 0 || o->out + w > h.dout || o->tab < 0 || o->ntab < 0 ||
            o->tab + o->ntab > h.ntab || o->name < 0 || o->name >= h.nstr || o->kind < PP_COPY || o->kind > PP_ONEHOT ||
            (o->nan_slot < -1 && o->nan_slot != -1000000 && -2 - (int64_t)o->nan_slot >= h.nstr))
            return H->seterr(WB_EINVAL, "preprocess.apply: bad arguments");
    }
    for (int64_t t = 0; t < h.ntab; t++)
        if (tab[t] <= -2 && (-2 - (int64_t)tab[t]) >= h.nstr && tab[t] != -1000000)
            return H->seterr(WB_EINVAL, "preprocess.apply: bad arguments");
    /* runs of COPY (or SCALE) ops over consecutive columns go as one loop */
    run *runs = malloc((size_t)(h.nops > 0 ? h.nops : 1) * sizeof *runs);
    double *sa = malloc((size_t)(h.nops > 0 ? h.nops : 1) * 2 * sizeof *sa), *sb = sa ? sa + h.nops : NULL;
    if (!runs || !sa) {
        free(runs);
        free(sa);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    int64_t nruns = 0;
    for (int64_t k = 0; k < h.nops;) {
        int64_t e = k + 1;
        if (ops[k].kind == PP_COPY || ops[k].kind == PP_SCALE)
            while (e < h.nops && ops[e].kind == ops[k].kind && ops[e].in == ops[e - 1].in + 1 && ops[e].out == ops[e - 1].out + 1) e++;
        runs[nruns++] = (run){k, e - k};
        for (int64_t q = k; q < e; q++) {
            sa[q] = ops[q].a;
            sb[q] = ops[q].b;
        }
        k = e;
    }
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, h.dout, p->row0, p->y != NULL, &x, &y);
    if (rc) {
        free(runs);
        free(sa);
        return rc;
    }
    const int64_t din = h.din, dout = h.dout;
    for (int64_t i = 0; i < p->rows; i++) {
        const double *r = p->x + (size_t)(i * din);
        double *o = x + (size_t)(i * dout);
        for (int64_t g = 0; g < nruns; g++) {
            const int64_t k = runs[g].first;
            const pp_op *op = &ops[k];
            if (runs[g].n > 1 || op->kind == PP_SCALE) {
                const int64_t n = runs[g].n;
                const double *ri = r + op->in, *A = sa + k, *Bv = sb + k;
                double *oo = o + op->out;
                if (op->kind == PP_COPY) memcpy(oo, ri, (size_t)n * sizeof *oo);
                else if (h.inverse)
                    for (int64_t t = 0; t < n; t++) oo[t] = ri[t] * Bv[t] + A[t];
                else
                    for (int64_t t = 0; t < n; t++) oo[t] = (ri[t] - A[t]) / Bv[t];
                continue;
            }
            const double v = r[op->in];
            switch (op->kind) {
            case PP_COPY: o[op->out] = v; break;
            case PP_FILL: o[op->out] = v != v ? op->a : v; break;
            case PP_SCALE: o[op->out] = h.inverse ? v * op->b + op->a : (v - op->a) / op->b; break;
            case PP_MISSING: o[op->out] = v != v ? 1.0 : 0.0; break;
            case PP_MAP: {
                if (v != v) {
                    o[op->out] = op->a;
                    break;
                }
                if (!(v >= 0 && v < (double)op->ntab) || v != floor(v)) {
                    rc = code_error(&h, op, strs, p, i, v);
                    goto done;
                }
                int32_t t = tab[op->tab + (int64_t)v];
                if (t >= 0) o[op->out] = (double)t;
                else if (t == -1) o[op->out] = op->b;
                else {
                    rc = unknown_error(&h, op, strs, p, i, t);
                    goto done;
                }
                break;
            }
            case PP_ONEHOT: {
                double *blk = o + op->out;
                memset(blk, 0, (size_t)op->width * sizeof *blk);
                int32_t t;
                if (v != v) t = op->nan_slot;
                else if (!(v >= 0 && v < (double)op->ntab) || v != floor(v)) {
                    rc = code_error(&h, op, strs, p, i, v);
                    goto done;
                } else
                    t = tab[op->tab + (int64_t)v];
                if (t >= 0 && t < op->width) blk[t] = 1;
                else if (t <= -2) {
                    rc = unknown_error(&h, op, strs, p, i, t);
                    goto done;
                }
                break;
            }
            }
        }
        if ((i & 65535) == 65535 && H->cancelled(ctx)) {
            rc = H->seterr(WB_ECANCELED, "interrupted");
            goto done;
        }
    }
    if (y) memcpy(y, p->y, (size_t)p->rows * sizeof(double));
done:
    free(runs);
    free(sa);
    return rc;
}

/* ------------------------------------------------------------- statistics */

/* arg = int64 m, then int64 col[m], int64 L[m]: out[off + c] rows with code
 * c of each column (off the running sum of L + 1), out[off + L] missing rows */
static int k_codes(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    int64_t m;
    if (arglen < 8) return H->seterr(WB_EINVAL, "preprocess.codes: bad arguments");
    memcpy(&m, arg, 8);
    if (m < 0 || m > (1 << 24) || arglen != 8 + 16 * (size_t)m) return H->seterr(WB_EINVAL, "preprocess.codes: bad arguments");
    const int64_t *col = (const int64_t *)arg + 1, *L = col + m;
    const wb_part *p = &in[0].part;
    size_t len = 0;
    for (int64_t k = 0; k < m; k++) {
        if (col[k] < 0 || col[k] >= p->cols || L[k] < 0) return H->seterr(WB_EINVAL, "preprocess.codes: bad arguments");
        len += (size_t)L[k] + 1;
    }
    double *o = H->out_bytes(ctx, (len ? len : 1) * sizeof(double));
    if (!o) return WB_ENOMEM;
    size_t off = 0;
    for (int64_t k = 0; k < m; k++) {
        const int64_t j = col[k], Lk = L[k];
        for (int64_t i = 0; i < p->rows; i++) {
            double v = p->x[(size_t)(i * p->cols + j)];
            if (v != v) {
                o[off + (size_t)Lk] += 1;
                continue;
            }
            if (!(v >= 0 && v < (double)Lk) || v != floor(v))
                return H->seterr(WB_EINVAL, "column %lld has %.17g at row %lld, which is not one of its %lld category codes",
                                 (long long)j + 1, v, (long long)(p->row0 + i + 1), (long long)Lk);
            o[off + (size_t)v] += 1;
        }
        off += (size_t)Lk + 1;
    }
    return 0;
}

/* arg = int64 col[m] -> per column {valid rows, sum, missing rows, infinities} */
static int k_numstats(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    const int64_t m = (int64_t)(arglen / 8), *col = arg;
    const wb_part *p = &in[0].part;
    if (arglen % 8) return H->seterr(WB_EINVAL, "preprocess.numstats: bad arguments");
    for (int64_t k = 0; k < m; k++)
        if (col[k] < 0 || col[k] >= p->cols) return H->seterr(WB_EINVAL, "preprocess.numstats: bad arguments");
    double *o = H->out_bytes(ctx, (size_t)(m > 0 ? 4 * m : 1) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        const double *r = p->x + (size_t)(i * p->cols);
        for (int64_t k = 0; k < m; k++) {
            double v = r[col[k]];
            if (v != v) o[4 * k + 2] += 1;
            else if (isinf(v)) o[4 * k + 3] += 1;
            else {
                o[4 * k] += 1;
                o[4 * k + 1] += v;
            }
        }
    }
    return 0;
}

/* the scaler: arg = int64 col[m] -> column sums, then the row count */
static int k_colsum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    const int64_t m = (int64_t)(arglen / 8), *col = arg;
    const wb_part *p = &in[0].part;
    const int64_t d = p->cols;
    if (arglen % 8) return H->seterr(WB_EINVAL, "preprocess.colsum: bad arguments");
    for (int64_t k = 0; k < m; k++)
        if (col[k] < 0 || col[k] >= d) return H->seterr(WB_EINVAL, "preprocess.colsum: bad arguments");
    double *o = H->out_bytes(ctx, (size_t)(m + 1) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t k = 0; k < m; k++) o[k] += p->x[(size_t)(i * d + col[k])];
    o[m] = (double)p->rows;
    return 0;
}

/* the scaler: arg = int64 m, int64 col[m], double mean[m] -> sums of squared deviations */
static int k_colsq(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    int64_t m;
    if (arglen < 8) return H->seterr(WB_EINVAL, "preprocess.colsq: bad arguments");
    memcpy(&m, arg, 8);
    const wb_part *p = &in[0].part;
    const int64_t d = p->cols;
    if (m < 0 || m > (1 << 24) || arglen != 8 + 16 * (size_t)m) return H->seterr(WB_EINVAL, "preprocess.colsq: bad arguments");
    const int64_t *col = (const int64_t *)arg + 1;
    const double *mu = (const double *)(col + m);
    for (int64_t k = 0; k < m; k++)
        if (col[k] < 0 || col[k] >= d) return H->seterr(WB_EINVAL, "preprocess.colsq: bad arguments");
    double *o = H->out_bytes(ctx, (size_t)(m > 0 ? m : 1) * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t k = 0; k < m; k++) {
            double v = p->x[(size_t)(i * d + col[k])] - mu[k];
            o[k] += v * v;
        }
    return 0;
}

/* ---------------------------------------------------------------- median */

/* an order-preserving 64-bit key of a double (not NaN): -0 and 0 differ but
 * sort next to each other */
static inline uint64_t okey(double v)
{
    uint64_t b;
    memcpy(&b, &v, 8);
    return (b >> 63) ? ~b : b | 0x8000000000000000ULL;
}

typedef struct radix_arg {
    int64_t col;
    int32_t shift, bits; /* the key's bits from `shift` up are the prefix; `bits` (1..12) below them are counted */
    uint64_t prefix;
} radix_arg;

/* preprocess.radix: arg = radix_arg items[n] -> per item 2^bits counts of
 * the digit (key >> (shift - bits)) & (2^bits - 1) of the column's
 * non-missing values whose keys have the prefix, then the smallest and the
 * largest of those values per digit (+inf / -inf when none) */
static int k_radix(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    const size_t n = arglen / sizeof(radix_arg);
    if (n < 1 || n > 4096 || arglen % sizeof(radix_arg)) return H->seterr(WB_EINVAL, "preprocess.radix: bad arguments");
    radix_arg *a = malloc(n * sizeof *a);
    if (!a) return H->seterr(WB_ENOMEM, "out of memory");
    memcpy(a, arg, n * sizeof *a);
    const wb_part *p = &in[0].part;
    size_t len = 0;
    for (size_t q = 0; q < n; q++) {
        if (a[q].col < 0 || a[q].col >= p->cols || a[q].bits < 1 || a[q].bits > 12 || a[q].shift < a[q].bits ||
            a[q].shift > 64) {
            free(a);
            return H->seterr(WB_EINVAL, "preprocess.radix: bad arguments");
        }
        len += 3 * ((size_t)1 << a[q].bits);
    }
    double *o = H->out_bytes(ctx, len * sizeof(double));
    if (!o) {
        free(a);
        return WB_ENOMEM;
    }
    double *at = o;
    for (size_t q = 0; q < n; q++) {
        const int nb = 1 << a[q].bits, s = a[q].shift - a[q].bits;
        double *cnt = at, *mn = at + nb, *mx = at + 2 * nb;
        for (int b = 0; b < nb; b++) {
            mn[b] = INFINITY;
            mx[b] = -INFINITY;
        }
        const int64_t col = a[q].col;
        for (int64_t i = 0; i < p->rows; i++) {
            double v = p->x[(size_t)(i * p->cols + col)];
            if (v != v) continue;
            uint64_t k = okey(v);
            if (a[q].shift < 64 && (k >> a[q].shift) != a[q].prefix) continue;
            size_t b = (size_t)((k >> s) & (uint64_t)(nb - 1));
            cnt[b] += 1;
            if (v < mn[b]) mn[b] = v;
            if (v > mx[b]) mx[b] = v;
        }
        at += 3 * nb;
    }
    free(a);
    return 0;
}

/* preprocess.gather: arg = radix_arg -> the values whose keys have the prefix */
static int k_gather(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    radix_arg a;
    if (arglen != sizeof a) return H->seterr(WB_EINVAL, "preprocess.gather: bad arguments");
    memcpy(&a, arg, sizeof a);
    const wb_part *p = &in[0].part;
    if (a.col < 0 || a.col >= p->cols || a.shift < 0 || a.shift > 64) return H->seterr(WB_EINVAL, "preprocess.gather: bad arguments");
    int64_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        double *o = NULL;
        if (pass) {
            o = H->out_bytes(ctx, (size_t)(n > 0 ? n : 1) * sizeof(double));
            if (!o) return WB_ENOMEM;
            if (!n) return 0;
            n = 0;
        }
        for (int64_t i = 0; i < p->rows; i++) {
            double v = p->x[(size_t)(i * p->cols + a.col)];
            if (v != v) continue;
            if (a.shift < 64 && (okey(v) >> a.shift) != a.prefix) continue;
            if (pass) o[n] = v;
            n++;
        }
    }
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* preprocess.distinct: arg = int64 col -> pairs {value, count}, values increasing */
static int k_distinct(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    int64_t col;
    if (arglen != 8) return H->seterr(WB_EINVAL, "preprocess.distinct: bad arguments");
    memcpy(&col, arg, 8);
    const wb_part *p = &in[0].part;
    if (col < 0 || col >= p->cols) return H->seterr(WB_EINVAL, "preprocess.distinct: bad arguments");
    double *v = malloc((size_t)(p->rows > 0 ? p->rows : 1) * sizeof *v);
    if (!v) return H->seterr(WB_ENOMEM, "out of memory");
    int64_t n = 0, u = 0;
    for (int64_t i = 0; i < p->rows; i++) {
        double x = p->x[(size_t)(i * p->cols + col)];
        if (x == x) v[n++] = x == 0 ? 0.0 : x; /* -0 counts as 0 */
    }
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    for (int64_t i = 0; i < n; i++)
        if (!i || v[i] != v[i - 1]) u++;
    double *o = H->out_bytes(ctx, (size_t)(u > 0 ? 2 * u : 1) * sizeof(double));
    if (!o) {
        free(v);
        return WB_ENOMEM;
    }
    u = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!i || v[i] != v[i - 1]) {
            o[2 * u] = v[i];
            o[2 * u + 1] = 0;
            u++;
        }
        o[2 * (u - 1) + 1] += 1;
    }
    free(v);
    return 0;
}

static const wb_kernel_def kernels[] = {
    {.name = "preprocess.apply", .fn = k_apply},
    {.name = "preprocess.codes", .fn = k_codes},
    {.name = "preprocess.numstats", .fn = k_numstats},
    {.name = "preprocess.colsum", .fn = k_colsum},
    {.name = "preprocess.colsq", .fn = k_colsq},
    {.name = "preprocess.radix", .fn = k_radix},
    {.name = "preprocess.gather", .fn = k_gather},
    {.name = "preprocess.distinct", .fn = k_distinct},
};

int pp_register_kernels(void)
{
    return wb_register_kernels(H, kernels, sizeof kernels / sizeof kernels[0]);
}
