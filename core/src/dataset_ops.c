/* dataset_ops.c — the dataset operations of the core, each a map over
 * partitions with kernels of its own ("core.*"): reading rows, labels,
 * row selection repacked into aligned partitions (slices, splits, folds),
 * describe(), the checks for non-finite values and the class labels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------ kernels */

/* core.take_rows: arg {i64 start, i64 count} within the partition -> a partition */
static int k_take_rows(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t a[2];
    if (nin < 1 || in[0].type != WB_OBJ_PART || arglen != sizeof a)
        return wb_seterr(WB_EINVAL, "core.take_rows: bad arguments");
    memcpy(a, arg, sizeof a);
    const wb_part *p = &in[0].part;
    if (a[0] < 0 || a[1] < 0 || a[0] + a[1] > p->rows)
        return wb_seterr(WB_EINVAL, "core.take_rows: rows out of range");
    double *x, *y;
    int rc = wb__out_part(ctx, a[1], p->cols, p->row0 + a[0], p->y != NULL, &x, &y);
    if (rc) return rc;
    memcpy(x, p->x + (size_t)a[0] * (size_t)p->cols, (size_t)a[1] * (size_t)p->cols * 8);
    if (y) memcpy(y, p->y + a[0], (size_t)a[1] * 8);
    return 0;
}

/* core.labels: the labels of a partition as bytes */
static int k_labels(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    WB_UNUSED(arg);
    WB_UNUSED(arglen);
    if (nin < 1 || in[0].type != WB_OBJ_PART) return wb_seterr(WB_EINVAL, "core.labels: bad input");
    const wb_part *p = &in[0].part;
    if (!p->y) return wb_seterr(WB_EINVAL, "the data has no labels");
    double *o = wb__out_bytes(ctx, (size_t)p->rows * 8);
    if (!o) return WB_ENOMEM;
    memcpy(o, p->y, (size_t)p->rows * 8);
    return 0;
}

/* core.set_labels: in[0] data, in[1] a partition whose column arg{i64 col} (or,
 * when col < 0, labels) become the labels; arg col = -2 drops the labels */
static int k_set_labels(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t col;
    if (nin < 1 || in[0].type != WB_OBJ_PART || arglen != 8)
        return wb_seterr(WB_EINVAL, "core.set_labels: bad arguments");
    memcpy(&col, arg, 8);
    const wb_part *p = &in[0].part;
    const wb_part *l = NULL;
    if (col != -2) {
        if (nin < 2 || in[1].type != WB_OBJ_PART) return wb_seterr(WB_EINVAL, "core.set_labels: bad arguments");
        l = &in[1].part;
        if (l->rows != p->rows)
            return wb_seterr(WB_EINVAL, "labels: %lld rows for %lld rows of data", (long long)l->rows,
                             (long long)p->rows);
        if (col >= l->cols || (col < 0 && !l->y))
            return wb_seterr(WB_EINVAL, "labels: no such column");
    }
    double *x, *y;
    int rc = wb__out_part(ctx, p->rows, p->cols, p->row0, l != NULL, &x, &y);
    if (rc) return rc;
    memcpy(x, p->x, (size_t)p->rows * (size_t)p->cols * 8);
    for (int64_t i = 0; l && i < p->rows; i++) y[i] = col < 0 ? l->y[i] : l->x[(size_t)i * l->cols + col];
    return 0;
}

/* ---- selection: the spec travels as bytes */
typedef struct selhdr {
    int64_t row_lo, row_hi;
    uint64_t seed;
    int32_t invert, nclasses, nranges, pad;
} selhdr;

double wb_select_key(uint64_t seed, int64_t row)
{
    return (double)(wb_hash64(seed ^ 0x5e1ec75e1ec7ULL, (uint64_t)row) >> 11) * 0x1.0p-53;
}

typedef struct selview {
    selhdr h;
    const double *classes, *lo, *hi;
} selview;

static int sel_parse(const void *arg, size_t arglen, size_t *used, selview *v)
{
    if (arglen < sizeof(selhdr)) return wb_seterr(WB_EINVAL, "select: bad spec");
    memcpy(&v->h, arg, sizeof v->h);
    int64_t nc = v->h.nclasses, nr = v->h.nranges;
    if (nc < 0 || nr < 0 || nc > 1 << 20 || nr > 1 << 10) return wb_seterr(WB_EINVAL, "select: bad spec");
    int64_t nrc = (nc ? nc : 1) * nr;
    size_t need = sizeof(selhdr) + (size_t)(nc + 2 * nrc) * 8;
    if (arglen < need) return wb_seterr(WB_EINVAL, "select: bad spec");
    const double *p = (const double *)((const char *)arg + sizeof(selhdr));
    v->classes = p;
    v->lo = p + nc;
    v->hi = p + nc + nrc;
    *used = need;
    return 0;
}

static int sel_keep(const selview *v, int64_t row, const double *y, int64_t i, int *keep)
{
    int64_t hi = v->h.row_hi < 0 ? INT64_MAX : v->h.row_hi;
    if (row < v->h.row_lo || row >= hi) {
        *keep = 0;
        return 0;
    }
    if (v->h.nranges == 0) {
        *keep = 1;
        return 0;
    }
    int64_t c = 0;
    if (v->h.nclasses) {
        if (!y) return wb_seterr(WB_EINVAL, "select: stratifying needs labels");
        double lab = y[i];
        int64_t a = 0, b = v->h.nclasses - 1;
        c = -1;
        while (a <= b) {
            int64_t m = (a + b) / 2;
            if (v->classes[m] == lab) {
                c = m;
                break;
            }
            if (v->classes[m] < lab) a = m + 1;
            else b = m - 1;
        }
        if (c < 0) /* rows counted from 1, as the user sees them */
            return wb_seterr(WB_EINVAL, "select: label %g of row %lld is not a known class", lab,
                             (long long)row + 1);
    }
    double u = wb_select_key(v->h.seed, row);
    int in = 0;
    for (int r = 0; r < v->h.nranges; r++) {
        size_t k = (size_t)c * (size_t)v->h.nranges + (size_t)r;
        if (u >= v->lo[k] && u < v->hi[k]) in = 1;
    }
    *keep = v->h.invert ? !in : in;
    return 0;
}

/* core.select_count: rows of the partition kept -> i64 */
static int k_select_count(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    selview v;
    size_t used;
    if (nin < 1 || in[0].type != WB_OBJ_PART) return wb_seterr(WB_EINVAL, "select: bad input");
    int rc = sel_parse(arg, arglen, &used, &v);
    if (rc) return rc;
    const wb_part *p = &in[0].part;
    int64_t count = 0;
    for (int64_t i = 0; i < p->rows; i++) {
        int keep;
        if ((rc = sel_keep(&v, p->row0 + i, p->y, i, &keep)) != 0) return rc;
        count += keep;
    }
    int64_t *o = wb__out_bytes(ctx, 8);
    if (!o) return WB_ENOMEM;
    *o = count;
    return 0;
}

/* core.select_gather: inputs are consecutive partitions; the arg is the spec
 * followed by {i64 skip, i64 rows, i64 row0}: skip `skip` kept rows, then write
 * the next `rows` kept rows as a partition starting at global row `row0` */
static int k_select_gather(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    selview v;
    size_t used;
    int rc = sel_parse(arg, arglen, &used, &v);
    if (rc) return rc;
    int64_t t[3];
    if (arglen != used + sizeof t || nin < 1) return wb_seterr(WB_EINVAL, "select: bad arguments");
    memcpy(t, (const char *)arg + used, sizeof t);
    int64_t skip = t[0], rows = t[1], cols = in[0].part.cols;
    int has_y = in[0].part.y != NULL;
    for (int j = 0; j < nin; j++)
        if (in[j].type != WB_OBJ_PART || in[j].part.cols != cols || (in[j].part.y != NULL) != has_y)
            return wb_seterr(WB_EINVAL, "select: inputs of different shapes");
    double *x, *y;
    if ((rc = wb__out_part(ctx, rows, cols, t[2], has_y, &x, &y)) != 0) return rc;
    int64_t w = 0;
    for (int j = 0; j < nin && w < rows; j++) {
        const wb_part *p = &in[j].part;
        for (int64_t i = 0; i < p->rows && w < rows; i++) {
            int keep;
            if ((rc = sel_keep(&v, p->row0 + i, p->y, i, &keep)) != 0) return rc;
            if (!keep) continue;
            if (skip > 0) {
                skip--;
                continue;
            }
            memcpy(x + (size_t)w * (size_t)cols, p->x + (size_t)i * (size_t)cols, (size_t)cols * 8);
            if (has_y) y[w] = p->y[i];
            w++;
        }
    }
    if (w != rows) return wb_seterr(WB_EINTERNAL, "select: gathered %lld of %lld rows", (long long)w, (long long)rows);
    return 0;
}

/* ---- describe: per partition min, max, non-NaN count; then exact sums */
static int k_minmax(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    WB_UNUSED(arg);
    WB_UNUSED(arglen);
    if (nin < 1 || in[0].type != WB_OBJ_PART) return wb_seterr(WB_EINVAL, "core.minmax: bad input");
    const wb_part *p = &in[0].part;
    int64_t d = p->cols;
    double *o = wb__out_bytes(ctx, (size_t)(3 * d) * 8);
    if (!o) return WB_ENOMEM;
    double *mn = o, *mx = o + d, *cnt = o + 2 * d;
    for (int64_t j = 0; j < d; j++) {
        mn[j] = INFINITY;
        mx[j] = -INFINITY;
    }
    for (int64_t i = 0; i < p->rows; i++) {
        const double *r = p->x + (size_t)i * (size_t)d;
        for (int64_t j = 0; j < d; j++) {
            double v = r[j];
            if (v != v) continue;
            if (v < mn[j]) mn[j] = v;
            if (v > mx[j]) mx[j] = v;
            cnt[j] += 1;
        }
        if ((i & 0xffff) == 0 && wb_interrupted()) return wb_seterr(WB_ECANCELED, "interrupted");
    }
    return 0;
}

/* block kernel: per column sum of non-NaN values, or with arg = means the sum
 * of squared deviations */
static int k_colsum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    const wb_part *p = &in[0].part;
    WB_UNUSED(nin);
    int64_t d = p->cols;
    const double *mean = arglen == (size_t)d * 8 ? arg : NULL;
    double *o = wb__out_bytes(ctx, (size_t)d * 8);
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        const double *r = p->x + (size_t)i * (size_t)d;
        for (int64_t j = 0; j < d; j++) {
            double v = r[j];
            if (v != v) continue;
            if (mean) {
                v -= mean[j];
                v *= v;
            }
            o[j] += v;
        }
    }
    return 0;
}

/* core.first_nonfinite: i64 {row (global, -1 none), column (-1: the label)} */
static int k_first_nonfinite(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    WB_UNUSED(arg);
    WB_UNUSED(arglen);
    if (nin < 1 || in[0].type != WB_OBJ_PART) return wb_seterr(WB_EINVAL, "core.first_nonfinite: bad input");
    const wb_part *p = &in[0].part;
    int64_t *o = wb__out_bytes(ctx, 24);
    if (!o) return WB_ENOMEM;
    o[0] = -1;
    o[1] = 0;
    for (int64_t i = 0; i < p->rows && o[0] < 0; i++) {
        const double *r = p->x + (size_t)i * (size_t)p->cols;
        for (int64_t j = 0; j < p->cols; j++)
            if (!isfinite(r[j])) {
                o[0] = p->row0 + i;
                o[1] = j;
                memcpy(&o[2], &r[j], 8);
                break;
            }
        if (o[0] < 0 && p->y && !isfinite(p->y[i])) {
            o[0] = p->row0 + i;
            o[1] = -1;
            memcpy(&o[2], &p->y[i], 8);
        }
    }
    return 0;
}

/* core.classes: arg {i32 max}; the distinct labels of a partition (sorted
 * doubles), or {NaN, row, value} for the first non-integer label, or more than
 * max values: {Inf, count} */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int k_classes(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int32_t max;
    if (nin < 1 || in[0].type != WB_OBJ_PART || arglen != 4) return wb_seterr(WB_EINVAL, "core.classes: bad input");
    memcpy(&max, arg, 4);
    if (max < 1 || max > (1 << 24)) return wb_seterr(WB_EINVAL, "core.classes: bad class limit %d", (int)max);
    const wb_part *p = &in[0].part;
    if (!p->y) return wb_seterr(WB_EINVAL, "the data has no labels");
    double *seen = malloc((size_t)(max + 1) * sizeof(double));
    if (!seen) return wb_seterr(WB_ENOMEM, "out of memory");
    int n = 0;
    double last = NAN;
    for (int64_t i = 0; i < p->rows; i++) {
        /* a fast path while the labels are among the first four classes
         * met: 64 rows compared without branches, skipped when all are
         * (labels usually alternate, so the test against the previous one
         * below mispredicts); any other row goes the way below, in order */
        if (n >= 1 && n <= 4 && (i & 63) == 0) {
            const double c0 = seen[0], c1 = seen[n > 1], c2 = seen[n > 2 ? 2 : 0], c3 = seen[n > 3 ? 3 : 0];
            while (i + 64 <= p->rows) {
                const double *y = p->y + i;
                int all = 1;
                for (int r = 0; r < 64; r++) all &= (y[r] == c0) | (y[r] == c1) | (y[r] == c2) | (y[r] == c3);
                if (!all) break;
                i += 64;
            }
            if (i >= p->rows) break;
        }
        double v = p->y[i];
        if (v == last) continue;
        if (!(v == floor(v)) || fabs(v) > 9e15) {
            free(seen);
            double *o = wb__out_bytes(ctx, 24);
            if (!o) return WB_ENOMEM;
            o[0] = NAN;
            o[1] = (double)(p->row0 + i);
            o[2] = v;
            return 0;
        }
        last = v;
        int found = 0;
        for (int k = 0; k < n && !found; k++) found = seen[k] == v;
        if (found) continue;
        if (n == max) {
            free(seen);
            double *o = wb__out_bytes(ctx, 16);
            if (!o) return WB_ENOMEM;
            o[0] = INFINITY;
            o[1] = (double)max + 1;
            return 0;
        }
        seen[n++] = v;
    }
    qsort(seen, (size_t)n, sizeof(double), cmp_double);
    double *o = wb__out_bytes(ctx, (size_t)n * sizeof(double));
    if (!o && n) {
        free(seen);
        return WB_ENOMEM;
    }
    if (n) memcpy(o, seen, (size_t)n * sizeof(double));
    free(seen);
    return 0;
}

void wb__register_core_kernels(void)
{
    wb_register_kernel("core.first_nonfinite", k_first_nonfinite);
    wb_register_kernel("core.classes", k_classes);
    wb_register_kernel("core.take_rows", k_take_rows);
    wb_register_kernel("core.labels", k_labels);
    wb_register_kernel("core.set_labels", k_set_labels);
    wb_register_kernel("core.select_count", k_select_count);
    wb_register_kernel("core.select_gather", k_select_gather);
    wb_register_kernel("core.minmax", k_minmax);
    wb_register_kernel("core.colsum", k_colsum);
}

/* ------------------------------------------------------------- operations */

int wb_ds_read_rows(const wb_dataset *d, int64_t lo, int64_t hi, double *x, double *y)
{
    if (lo < 0 || hi > d->n || lo > hi)
        return wb_seterr(WB_EINVAL, "rows %lld..%lld out of range (the dataset has %lld rows)",
                         (long long)lo + 1, (long long)hi, (long long)d->n);
    if (y && !d->has_labels) return wb_seterr(WB_EINVAL, "the data has no labels");
    for (int i = 0; i < d->nparts && lo < hi; i++) {
        const wb_dspart *p = &d->parts[i];
        if (p->row0 + p->rows <= lo || p->row0 >= hi) continue;
        int64_t a = lo - p->row0, b = (hi < p->row0 + p->rows ? hi : p->row0 + p->rows) - p->row0;
        int64_t arg[2] = {a, b - a};
        wb_oid res;
        int rc = wb_exec_submit(d->ex, "core.take_rows", &p->oid, 1, arg, sizeof arg, &res);
        if (rc) return rc;
        void *data = NULL;
        size_t size = 0;
        wb_part q;
        rc = wb_exec_wait(d->ex, &res, 1);
        if (!rc) rc = wb_exec_get(d->ex, res, &data, &size);
        wb_exec_release(d->ex, res);
        if (!rc) rc = wb_part_decode(data, size, &q);
        if (!rc && (q.rows != b - a || q.cols != d->d)) rc = wb_seterr(WB_EINTERNAL, "take_rows: wrong shape");
        if (!rc) {
            memcpy(x, q.x, (size_t)q.rows * (size_t)q.cols * 8);
            x += (size_t)q.rows * (size_t)q.cols;
            if (y && q.y) {
                memcpy(y, q.y, (size_t)q.rows * 8);
                y += q.rows;
            }
        }
        free(data);
        if (rc) return rc;
        lo = p->row0 + b;
    }
    return 0;
}

int wb_ds_labels(const wb_dataset *d, double **out)
{
    if (!d->has_labels) return wb_seterr(WB_EINVAL, "the data has no labels");
    double *y = malloc((size_t)(d->n > 0 ? d->n : 1) * 8);
    if (!y) return wb_seterr(WB_ENOMEM, "out of memory");
    wb_oid *res = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *res);
    if (!res) {
        free(y);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    int rc = wb_exec_map(d->ex, "core.labels", d, NULL, 0, NULL, 0, res);
    for (int i = 0; i < d->nparts; i++) {
        if (!rc) {
            void *data = NULL;
            size_t size = 0;
            rc = wb_exec_get(d->ex, res[i], &data, &size);
            if (!rc && size != (size_t)d->parts[i].rows * 8) rc = wb_seterr(WB_EINTERNAL, "labels: wrong size");
            if (!rc) memcpy(y + d->parts[i].row0, data, size);
            free(data);
        }
        wb_exec_release(d->ex, res[i]);
    }
    free(res);
    if (rc) {
        free(y);
        return rc;
    }
    *out = y;
    return 0;
}

static int same_layout(const wb_dataset *a, const wb_dataset *b)
{
    if (a->ex != b->ex || a->n != b->n || a->nparts != b->nparts) return 0;
    for (int i = 0; i < a->nparts; i++)
        if (a->parts[i].rows != b->parts[i].rows) return 0;
    return 1;
}

int wb_ds_with_labels(const wb_dataset *d, const wb_dataset *labels, wb_dataset **out)
{
    int64_t col = -2;
    if (labels) {
        if (labels->ex != d->ex)
            return wb_seterr(WB_EINVAL, "labels: the labels belong to another executor than the data");
        if (!same_layout(d, labels))
            return wb_seterr(WB_EINVAL, "labels: %lld rows in %d partitions do not line up with the data's %lld rows in %d",
                             (long long)labels->n, labels->nparts, (long long)d->n, d->nparts);
        col = labels->d >= 1 ? 0 : -1;
        if (labels->d != 1 && !labels->has_labels)
            return wb_seterr(WB_EINVAL, "labels: need one column or a labelled dataset");
        if (labels->d != 1) col = -1;
    }
    int np = d->nparts;
    wb_task *t = calloc((size_t)(np ? np : 1), sizeof *t);
    wb_oid *ins = calloc((size_t)(np ? np : 1) * 2, sizeof *ins);
    wb_oid *outs = calloc((size_t)(np ? np : 1), sizeof *outs);
    wb_dspart *parts = calloc((size_t)(np ? np : 1), sizeof *parts);
    int rc = (!t || !ins || !outs || !parts) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    for (int i = 0; !rc && i < np; i++) {
        ins[2 * i] = d->parts[i].oid;
        ins[2 * i + 1] = labels ? labels->parts[i].oid : 0;
        t[i] = (wb_task){"core.set_labels", ins + 2 * i, labels ? 2 : 1, &col, 8, WB_TASK_PLAIN, 0,
                         d->parts[i].rows};
        parts[i] = (wb_dspart){0, d->parts[i].rows, d->parts[i].row0};
    }
    if (!rc) rc = wb_exec_submit_tasks(d->ex, t, np, outs);
    if (!rc) {
        rc = wb_exec_wait(d->ex, outs, np);
        for (int i = 0; i < np; i++) parts[i].oid = outs[i];
        if (rc)
            for (int i = 0; i < np; i++) wb_exec_release(d->ex, outs[i]);
        else
            rc = wb_ds_new(d->ex, d->d, labels != NULL, np, parts, out);
    }
    free(t);
    free(ins);
    free(outs);
    free(parts);
    if (!rc) { /* the columns stay; the labels are described by where they came from */
        rc = wb_ds_copy_cols(*out, d, NULL, d->d);
        if (!rc && labels && col >= 0)
            rc = wb_ds_set_label_meta(*out, wb_ds_col_name(labels, col), (wb_levels *)wb_ds_col_levels(labels, col));
        else if (!rc && labels)
            rc = wb_ds_copy_label_meta(*out, labels);
        if (rc) wb_ds_unref(*out);
    }
    return rc;
}

int wb_ds_select(const wb_dataset *d, const wb_select *sel, wb_dataset **out)
{
    int64_t nc = sel->nclasses, nr = sel->nranges, nrc = (nc ? nc : 1) * nr;
    if (nc < 0 || nr < 0 || nc > (1 << 20) || nr > (1 << 10))
        return wb_seterr(WB_EINVAL, "select: %lld classes with %lld ranges each is not a selection",
                         (long long)nc, (long long)nr);
    if (nc && !d->has_labels) return wb_seterr(WB_EINVAL, "select: stratifying needs labels");
    size_t speclen = sizeof(selhdr) + (size_t)(nc + 2 * nrc) * 8;
    unsigned char *arg = malloc(speclen + 24);
    int64_t *order = malloc((size_t)(nc ? nc : 1) * sizeof *order);
    if (!arg || !order) {
        free(arg);
        free(order);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    selhdr h = {sel->row_lo, sel->row_hi, sel->seed, sel->invert, (int32_t)nc, (int32_t)nr, 0};
    memcpy(arg, &h, sizeof h);
    double *p = (double *)(arg + sizeof h);
    /* the kernels look classes up by bisection: sort them, their ranges with them */
    for (int64_t k = 0; k < nc; k++) order[k] = k;
    for (int64_t k = 1; k < nc; k++) { /* insertion sort: stable, class lists are short */
        int64_t v = order[k], j = k;
        while (j > 0 && sel->classes[order[j - 1]] > sel->classes[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    for (int64_t k = 0; k < nc; k++) {
        p[k] = sel->classes[order[k]];
        if (isnan(p[k]) || (k > 0 && p[k] == p[k - 1])) {
            double bad = p[k];
            free(arg);
            free(order);
            return wb_seterr(WB_EINVAL, "select: class %g %s", bad, isnan(bad) ? "is not a label" : "listed twice");
        }
    }
    for (int64_t k = 0; k < (nc ? nc : 1); k++) {
        int64_t from = nc ? order[k] : 0;
        if (nr) {
            memcpy(p + nc + k * nr, sel->lo + from * nr, (size_t)nr * 8);
            memcpy(p + nc + nrc + k * nr, sel->hi + from * nr, (size_t)nr * 8);
        }
    }
    free(order);
    int np = d->nparts, rc = 0;
    wb_oid *cnt = calloc((size_t)(np ? np : 1), sizeof *cnt);
    int64_t *start = calloc((size_t)np + 1, sizeof *start);
    if (!cnt || !start) rc = wb_seterr(WB_ENOMEM, "out of memory");
    /* pass 1: rows kept per partition (a slice needs no pass: it is arithmetic) */
    if (!rc && (nr > 0)) rc = wb_exec_map(d->ex, "core.select_count", d, NULL, 0, arg, speclen, cnt);
    for (int i = 0; !rc && i < np; i++) {
        int64_t c = 0;
        if (nr > 0) {
            void *data = NULL;
            size_t size = 0;
            rc = wb_exec_get(d->ex, cnt[i], &data, &size);
            if (!rc && size != 8) rc = wb_seterr(WB_EINTERNAL, "select: bad count");
            if (!rc) memcpy(&c, data, 8);
            free(data);
        } else {
            int64_t a = d->parts[i].row0, b = a + d->parts[i].rows;
            int64_t lo = sel->row_lo > a ? sel->row_lo : a;
            int64_t hi = sel->row_hi >= 0 && sel->row_hi < b ? sel->row_hi : b;
            c = hi > lo ? hi - lo : 0;
        }
        start[i + 1] = start[i] + c;
    }
    for (int i = 0; i < np && nr > 0; i++) wb_exec_release(d->ex, cnt[i]);
    free(cnt);
    /* pass 2: each output partition gathers its rows from the inputs that hold them */
    int64_t m = start[np], P = wb_partition_rows(d->d);
    int nout = (int)((m + P - 1) / P);
    wb_task *t = calloc((size_t)(nout ? nout : 1), sizeof *t);
    wb_oid *outs = calloc((size_t)(nout ? nout : 1), sizeof *outs);
    wb_dspart *parts = calloc((size_t)(nout ? nout : 1), sizeof *parts);
    unsigned char *args = malloc((size_t)(nout ? nout : 1) * (speclen + 24));
    if (!rc && (!t || !outs || !parts || !args)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    int first = 0;
    for (int k = 0; !rc && k < nout; k++) {
        int64_t lo = (int64_t)k * P, hi = lo + P < m ? lo + P : m;
        while (start[first + 1] <= lo) first++;
        int last = first;
        while (start[last + 1] < hi) last++;
        unsigned char *a = args + (size_t)k * (speclen + 24);
        memcpy(a, arg, speclen);
        int64_t tail[3] = {lo - start[first], hi - lo, lo};
        memcpy(a + speclen, tail, sizeof tail);
        wb_oid *ins = malloc((size_t)(last - first + 1) * sizeof *ins);
        if (!ins) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        for (int j = first; j <= last; j++) ins[j - first] = d->parts[j].oid;
        t[k] = (wb_task){"core.select_gather", ins, last - first + 1, a, speclen + 24, WB_TASK_PLAIN, 0,
                         hi - lo};
        parts[k] = (wb_dspart){0, hi - lo, lo};
    }
    rc = wb__ds_gather_finish(d, rc, t, nout, outs, parts, out); /* the tasks read args and arg */
    free(args);
    free(start);
    free(arg);
    return rc;
}

int wb_ds_describe(const wb_dataset *d, double *out)
{
    int64_t dd = d->d;
    double *cnt = out, *mean = out + dd, *sd = out + 2 * dd, *mn = out + 3 * dd, *mx = out + 4 * dd;
    for (int64_t j = 0; j < dd; j++) {
        cnt[j] = 0;
        mn[j] = INFINITY;
        mx[j] = -INFINITY;
    }
    wb_oid *res = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *res);
    double *sum = calloc((size_t)(dd ? dd : 1), 8);
    if (!res || !sum) {
        free(res);
        free(sum);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    int rc = wb_exec_map(d->ex, "core.minmax", d, NULL, 0, NULL, 0, res);
    for (int i = 0; i < d->nparts; i++) {
        if (!rc) {
            void *data = NULL;
            size_t size = 0;
            rc = wb_exec_get(d->ex, res[i], &data, &size);
            if (!rc && size != (size_t)dd * 24) rc = wb_seterr(WB_EINTERNAL, "describe: bad result");
            if (!rc) {
                const double *v = data;
                for (int64_t j = 0; j < dd; j++) {
                    if (v[j] < mn[j]) mn[j] = v[j];
                    if (v[dd + j] > mx[j]) mx[j] = v[dd + j];
                    cnt[j] += v[2 * dd + j];
                }
            }
            free(data);
        }
        wb_exec_release(d->ex, res[i]);
    }
    free(res);
    if (!rc) rc = wb_exec_map_sum(d->ex, "core.colsum", d, NULL, 0, NULL, 0, sum, (size_t)dd);
    for (int64_t j = 0; !rc && j < dd; j++) mean[j] = cnt[j] > 0 ? sum[j] / cnt[j] : NAN;
    if (!rc) rc = wb_exec_map_sum(d->ex, "core.colsum", d, NULL, 0, mean, (size_t)dd * 8, sum, (size_t)dd);
    for (int64_t j = 0; !rc && j < dd; j++) {
        sd[j] = cnt[j] > 1 ? sqrt(sum[j] / (cnt[j] - 1)) : NAN;
        if (cnt[j] == 0) mn[j] = mx[j] = NAN;
    }
    free(sum);
    return rc;
}

static const char *nonfinite_name(double v) { return isnan(v) ? "NaN" : v > 0 ? "Inf" : "-Inf"; }

int wb_ds_check_finite(const wb_dataset *d, const char *who)
{
    wb_oid *res = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *res);
    if (!res) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = wb_exec_map(d->ex, "core.first_nonfinite", d, NULL, 0, NULL, 0, res);
    int found = 0;
    for (int i = 0; i < d->nparts; i++) {
        if (!rc && !found) {
            void *data = NULL;
            size_t size = 0;
            rc = wb_exec_get(d->ex, res[i], &data, &size);
            if (!rc && size != 24) rc = wb_seterr(WB_EINTERNAL, "first_nonfinite: bad result");
            if (!rc) {
                int64_t o[3];
                memcpy(o, data, 24);
                double v;
                memcpy(&v, &o[2], 8);
                if (o[0] >= 0) {
                    found = 1;
                    if (o[1] < 0)
                        rc = wb_seterr(WB_EINVAL, "%s: the labels have %s at row %lld", who, nonfinite_name(v),
                                       (long long)o[0] + 1);
                    else
                        rc = wb_seterr(WB_EINVAL, "%s: the data has %s at row %lld, column %lld", who,
                                       nonfinite_name(v), (long long)o[0] + 1, (long long)o[1] + 1);
                }
            }
            free(data);
        }
        wb_exec_release(d->ex, res[i]);
    }
    free(res);
    return rc;
}

int wb_ds_classes(const wb_dataset *d, const char *who, int max_classes, double **classes,
                  int *nclasses)
{
    if (!d->has_labels) return wb_seterr(WB_EINVAL, "%s: the data has no labels", who);
    if (max_classes < 1) max_classes = 1;
    if (max_classes > (1 << 24)) max_classes = 1 << 24;
    int32_t max = max_classes;
    wb_oid *res = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *res);
    double *all = malloc((size_t)(max_classes + 1) * sizeof(double));
    if (!res || !all) {
        free(res);
        free(all);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    int rc = wb_exec_map(d->ex, "core.classes", d, NULL, 0, &max, 4, res);
    int n = 0;
    for (int i = 0; i < d->nparts; i++) {
        if (!rc) {
            void *data = NULL;
            size_t size = 0;
            rc = wb_exec_get(d->ex, res[i], &data, &size);
            const double *v = data;
            size_t k = size / sizeof(double);
            if (!rc && k >= 2 && isnan(v[0]))
                rc = wb_seterr(WB_EINVAL, "%s: label %g at row %.0f is not an integer class", who, v[2], v[1] + 1);
            else if (!rc && k >= 2 && isinf(v[0]))
                rc = wb_seterr(WB_EINVAL, "%s: more than %d distinct labels (classes expected)", who, max_classes);
            for (size_t j = 0; !rc && j < k; j++) {
                int found = 0;
                for (int q = 0; q < n && !found; q++) found = all[q] == v[j];
                if (found) continue;
                if (n == max_classes) {
                    rc = wb_seterr(WB_EINVAL, "%s: more than %d distinct labels (classes expected)", who, max_classes);
                    break;
                }
                all[n++] = v[j];
            }
            free(data);
        }
        wb_exec_release(d->ex, res[i]);
    }
    free(res);
    if (rc) {
        free(all);
        return rc;
    }
    qsort(all, (size_t)n, sizeof(double), cmp_double);
    *classes = all;
    *nclasses = n;
    return 0;
}
