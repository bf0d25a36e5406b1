/* dataset_cols.c — operations on a dataset's columns and on rows chosen by a
 * mask, each a map over partitions with kernels of its own: choosing and
 * replacing columns, keeping the rows of a 0/1 mask, counting the values of
 * a column, and exact quantiles (a radix selection: eight passes of 256-bin
 * histograms over the values' bits, so no column is ever gathered in one
 * place and the result never depends on the partitions). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ columns */

/* core.select_cols: arg {i64 m, i64 cols[m]} (a column < 0: the labels) ->
 * a partition of those columns, the labels kept */
static int k_select_cols(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t m;
    if (nin < 1 || in[0].type != WB_OBJ_PART || arglen < 8) return wb_seterr(WB_EINVAL, "core.select_cols: bad arguments");
    memcpy(&m, arg, 8);
    if (m < 0 || arglen != (size_t)(m + 1) * 8) return wb_seterr(WB_EINVAL, "core.select_cols: bad arguments");
    const int64_t *cols = (const int64_t *)arg + 1;
    const wb_part *p = &in[0].part;
    for (int64_t k = 0; k < m; k++)
        if (cols[k] >= p->cols || (cols[k] < 0 && !p->y)) return wb_seterr(WB_EINVAL, "core.select_cols: no column %lld", (long long)cols[k]);
    double *x, *y;
    int rc = wb__out_part(ctx, p->rows, m, p->row0, p->y != NULL, &x, &y);
    if (rc) return rc;
    for (int64_t i = 0; i < p->rows; i++) {
        const double *r = p->x + (size_t)i * (size_t)p->cols;
        double *o = x + (size_t)i * (size_t)m;
        for (int64_t k = 0; k < m; k++) o[k] = cols[k] < 0 ? p->y[i] : r[cols[k]];
    }
    if (y) memcpy(y, p->y, (size_t)p->rows * 8);
    return 0;
}

/* core.with_column: in[1] a partition of one column (or labels) aligned with
 * in[0]; arg {i64 j}: it becomes column j (j = cols: a new last column) */
static int k_with_column(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t j;
    if (nin < 2 || in[0].type != WB_OBJ_PART || in[1].type != WB_OBJ_PART || arglen != 8)
        return wb_seterr(WB_EINVAL, "core.with_column: bad arguments");
    memcpy(&j, arg, 8);
    const wb_part *p = &in[0].part, *v = &in[1].part;
    if (j < 0 || j > p->cols || v->rows != p->rows || (v->cols != 1 && !v->y))
        return wb_seterr(WB_EINVAL, "core.with_column: the column does not line up with the data");
    int64_t d = j == p->cols ? p->cols + 1 : p->cols;
    double *x, *y;
    int rc = wb__out_part(ctx, p->rows, d, p->row0, p->y != NULL, &x, &y);
    if (rc) return rc;
    for (int64_t i = 0; i < p->rows; i++) {
        double *o = x + (size_t)i * (size_t)d;
        memcpy(o, p->x + (size_t)i * (size_t)p->cols, (size_t)p->cols * 8);
        o[j] = v->cols == 1 ? v->x[i] : v->y[i];
    }
    if (y) memcpy(y, p->y, (size_t)p->rows * 8);
    return 0;
}

static int same_layout(const wb_dataset *a, const wb_dataset *b)
{
    if (a->ex != b->ex || a->n != b->n || a->nparts != b->nparts) return 0;
    for (int i = 0; i < a->nparts; i++)
        if (a->parts[i].rows != b->parts[i].rows) return 0;
    return 1;
}

/* one task per partition of d (and of `with`, aligned), the outputs a dataset of dout columns */
static int map_parts(const wb_dataset *d, const wb_dataset *with, const char *kernel, const void *arg, size_t arglen,
                     int64_t dout, wb_dataset **out)
{
    int np = d->nparts;
    wb_task *t = calloc((size_t)(np ? np : 1), sizeof *t);
    wb_oid *ins = calloc((size_t)(np ? np : 1) * 2, sizeof *ins);
    wb_oid *outs = calloc((size_t)(np ? np : 1), sizeof *outs);
    wb_dspart *parts = calloc((size_t)(np ? np : 1), sizeof *parts);
    int rc = (!t || !ins || !outs || !parts) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    for (int i = 0; !rc && i < np; i++) {
        ins[2 * i] = d->parts[i].oid;
        ins[2 * i + 1] = with ? with->parts[i].oid : 0;
        t[i] = (wb_task){kernel, ins + 2 * i, with ? 2 : 1, arg, arglen, WB_TASK_PLAIN, 0, d->parts[i].rows};
        parts[i] = (wb_dspart){0, d->parts[i].rows, d->parts[i].row0};
    }
    if (!rc && np) rc = wb_exec_submit_tasks(d->ex, t, np, outs);
    if (!rc) {
        rc = np ? wb_exec_wait(d->ex, outs, np) : 0;
        for (int i = 0; i < np; i++) parts[i].oid = outs[i];
        if (rc)
            for (int i = 0; i < np; i++) wb_exec_release(d->ex, outs[i]);
        else
            rc = wb_ds_new(d->ex, dout, d->has_labels, np, parts, out);
    }
    free(t);
    free(ins);
    free(outs);
    free(parts);
    return rc;
}

int wb_ds_select_cols(const wb_dataset *d, const int64_t *cols, int64_t m, wb_dataset **out)
{
    for (int64_t k = 0; k < m; k++)
        if (cols[k] >= d->d || (cols[k] < 0 && !d->has_labels))
            return wb_seterr(WB_EINVAL, "columns: column %lld out of range 1..%lld", (long long)cols[k] + 1, (long long)d->d);
    int64_t *arg = malloc((size_t)(m + 1) * 8);
    if (!arg) return wb_seterr(WB_ENOMEM, "out of memory");
    arg[0] = m;
    memcpy(arg + 1, cols, (size_t)m * 8);
    int rc = map_parts(d, NULL, "core.select_cols", arg, (size_t)(m + 1) * 8, m, out);
    free(arg);
    if (rc) return rc;
    /* names, types, levels of each chosen column; the labels' for a label column */
    for (int64_t k = 0; !rc && k < m; k++) {
        if (cols[k] >= 0) {
            const char *nm = wb_ds_col_name(d, cols[k]);
            if (d->colnames) rc = wb_ds_set_colname(*out, k, nm ? nm : "");
            if (!rc) rc = wb_ds_set_coltype(*out, k, wb_ds_col_type(d, cols[k]), (wb_levels *)wb_ds_col_levels(d, cols[k]));
        } else {
            rc = wb_ds_set_colname(*out, k, d->label_name ? d->label_name : "label");
            if (!rc && d->label_levels) rc = wb_ds_set_coltype(*out, k, WB_COL_CATEGORY, d->label_levels);
        }
    }
    if (!rc) rc = wb_ds_copy_label_meta(*out, d);
    if (rc) wb_ds_unref(*out);
    return rc;
}

int wb_ds_shallow(const wb_dataset *d, wb_dataset **out)
{
    wb_dspart *parts = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *parts);
    if (!parts) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = 0, refd = 0;
    for (int i = 0; i < d->nparts && !rc; i++) {
        parts[i] = d->parts[i];
        rc = wb_exec_ref_obj(d->ex, parts[i].oid);
        if (!rc) refd++;
    }
    if (rc) {
        for (int i = 0; i < refd; i++) wb_exec_release(d->ex, parts[i].oid);
        free(parts);
        return rc;
    }
    rc = wb_ds_new(d->ex, d->d, d->has_labels, d->nparts, parts, out);
    free(parts);
    if (rc) return rc;
    (*out)->is_vector = d->is_vector;
    rc = wb_ds_copy_meta(*out, d);
    if (rc) wb_ds_unref(*out);
    return rc;
}

int wb_ds_with_column(const wb_dataset *d, int64_t j, const char *name, const wb_dataset *v, wb_dataset **out)
{
    if (j < 0 || j > d->d) return wb_seterr(WB_EINVAL, "with_column: column %lld out of range 1..%lld", (long long)j + 1, (long long)d->d + 1);
    if (!same_layout(d, v))
        return wb_seterr(WB_EINVAL, "with_column: %lld values in %d partitions do not line up with the data's %lld rows in %d",
                         (long long)v->n, v->nparts, (long long)d->n, d->nparts);
    if (v->d != 1 && !v->has_labels) return wb_seterr(WB_EINVAL, "with_column: a vector (one column) expected");
    int64_t arg = j, dout = j == d->d ? d->d + 1 : d->d;
    int rc = map_parts(d, v, "core.with_column", &arg, 8, dout, out);
    if (rc) return rc;
    rc = wb_ds_copy_cols(*out, d, NULL, d->d);
    if (!rc && (name || d->colnames)) {
        if (!d->colnames) /* name the others x1, x2, ... as they were shown */
            for (int64_t k = 0; !rc && k < d->d; k++) rc = wb_ds_set_colname(*out, k, "");
        if (!rc) rc = wb_ds_set_colname(*out, j, name ? name : "");
    }
    const wb_levels *lv = v->d == 1 ? wb_ds_col_levels(v, 0) : wb_ds_label_levels(v);
    if (!rc) rc = wb_ds_set_coltype(*out, j, lv ? WB_COL_CATEGORY : WB_COL_NUMBER, (wb_levels *)lv);
    if (!rc) rc = wb_ds_copy_label_meta(*out, d);
    if (rc) wb_ds_unref(*out);
    return rc;
}

/* ------------------------------------------------------------ masks */

/* core.mask_count: in[0] a one-column partition of 0/1 -> {i64 kept, i64 bad row
 * (-1 none), f64 bad value} */
static int k_mask_count(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    WB_UNUSED(arg);
    WB_UNUSED(arglen);
    if (nin < 1 || in[0].type != WB_OBJ_PART || (in[0].part.cols != 1 && !in[0].part.y))
        return wb_seterr(WB_EINVAL, "core.mask_count: bad input");
    const wb_part *p = &in[0].part;
    int64_t *o = wb__out_bytes(ctx, 24);
    if (!o) return WB_ENOMEM;
    o[1] = -1;
    for (int64_t i = 0; i < p->rows; i++) {
        double v = p->cols == 1 ? p->x[i] : p->y[i];
        if (v == 1) o[0]++;
        else if (v != 0) {
            o[1] = p->row0 + i;
            memcpy(&o[2], &v, 8);
            break;
        }
    }
    return 0;
}

/* core.mask_gather: in = n data partitions then their n masks; arg {i64 n,
 * i64 skip, i64 rows, i64 row0}: the rows kept, after skipping `skip` of them */
static int k_mask_gather(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t a[4];
    if (arglen != sizeof a) return wb_seterr(WB_EINVAL, "core.mask_gather: bad arguments");
    memcpy(a, arg, sizeof a);
    int64_t n = a[0], skip = a[1], rows = a[2];
    if (n < 1 || 2 * n != nin) return wb_seterr(WB_EINVAL, "core.mask_gather: bad arguments");
    int64_t cols = in[0].part.cols;
    int has_y = in[0].part.y != NULL;
    for (int64_t k = 0; k < 2 * n; k++)
        if (in[k].type != WB_OBJ_PART || (k < n && (in[k].part.cols != cols || (in[k].part.y != NULL) != has_y)) ||
            (k >= n && in[k].part.rows != in[k - n].part.rows))
            return wb_seterr(WB_EINVAL, "core.mask_gather: inputs of different shapes");
    double *x, *y;
    int rc = wb__out_part(ctx, rows, cols, a[3], has_y, &x, &y);
    if (rc) return rc;
    int64_t w = 0;
    for (int64_t k = 0; k < n && w < rows; k++) {
        const wb_part *p = &in[k].part, *m = &in[n + k].part;
        for (int64_t i = 0; i < p->rows && w < rows; i++) {
            double v = m->cols == 1 ? m->x[i] : m->y[i];
            if (v != 1) continue;
            if (skip > 0) {
                skip--;
                continue;
            }
            memcpy(x + (size_t)w * (size_t)cols, p->x + (size_t)i * (size_t)cols, (size_t)cols * 8);
            if (has_y) y[w] = p->y[i];
            w++;
        }
    }
    if (w != rows) return wb_seterr(WB_EINTERNAL, "mask: gathered %lld of %lld rows", (long long)w, (long long)rows);
    return 0;
}

int wb_ds_filter(const wb_dataset *d, const wb_dataset *mask, wb_dataset **out)
{
    if (!same_layout(d, mask))
        return wb_seterr(WB_EINVAL, "filter: a mask of %lld values in %d partitions does not line up with the data's %lld rows in %d",
                         (long long)mask->n, mask->nparts, (long long)d->n, d->nparts);
    if (mask->d != 1 && !mask->has_labels) return wb_seterr(WB_EINVAL, "filter: the mask must be a vector of 0 and 1");
    int np = d->nparts;
    wb_oid *cnt = calloc((size_t)(np ? np : 1), sizeof *cnt);
    int64_t *start = calloc((size_t)np + 1, sizeof *start);
    int rc = !cnt || !start ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    if (!rc && np) rc = wb_exec_map(d->ex, "core.mask_count", mask, NULL, 0, NULL, 0, cnt);
    for (int i = 0; i < np; i++) {
        if (!rc) {
            void *data = NULL;
            size_t size = 0;
            rc = wb_exec_get(d->ex, cnt[i], &data, &size);
            if (!rc && size != 24) rc = wb_seterr(WB_EINTERNAL, "filter: bad count");
            if (!rc) {
                int64_t o[3];
                memcpy(o, data, 24);
                double v;
                memcpy(&v, &o[2], 8);
                if (o[1] >= 0) rc = wb_seterr(WB_EINVAL, "filter: mask value %g at row %lld (expected 0 or 1)", v, (long long)o[1] + 1);
                start[i + 1] = start[i] + o[0];
            }
            free(data);
        }
        if (cnt && cnt[i]) wb_exec_release(d->ex, cnt[i]);
    }
    free(cnt);
    int64_t m = rc ? 0 : start[np], P = wb_partition_rows(d->d);
    int nout = (int)((m + P - 1) / P);
    wb_task *t = calloc((size_t)(nout ? nout : 1), sizeof *t);
    wb_oid *outs = calloc((size_t)(nout ? nout : 1), sizeof *outs);
    wb_dspart *parts = calloc((size_t)(nout ? nout : 1), sizeof *parts);
    int64_t *args = calloc((size_t)(nout ? nout : 1) * 4, 8);
    if (!rc && (!t || !outs || !parts || !args)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    int first = 0;
    for (int k = 0; !rc && k < nout; k++) {
        int64_t lo = (int64_t)k * P, hi = lo + P < m ? lo + P : m;
        while (start[first + 1] <= lo) first++;
        int last = first;
        while (start[last + 1] < hi) last++;
        int n = last - first + 1;
        wb_oid *ins = malloc((size_t)(2 * n) * sizeof *ins);
        if (!ins) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        for (int q = 0; q < n; q++) {
            ins[q] = d->parts[first + q].oid;
            ins[n + q] = mask->parts[first + q].oid;
        }
        int64_t *a = args + 4 * k;
        a[0] = n;
        a[1] = lo - start[first];
        a[2] = hi - lo;
        a[3] = lo;
        t[k] = (wb_task){"core.mask_gather", ins, 2 * n, a, 32, WB_TASK_PLAIN, 0, hi - lo};
        parts[k] = (wb_dspart){0, hi - lo, lo};
    }
    rc = wb__ds_gather_finish(d, rc, t, nout, outs, parts, out); /* the tasks read args */
    free(args);
    free(start);
    return rc;
}

int wb__ds_gather_finish(const wb_dataset *d, int rc, wb_task *t, int nout, wb_oid *outs,
                         wb_dspart *parts, wb_dataset **out)
{
    if (!rc && nout) rc = wb_exec_submit_tasks(d->ex, t, nout, outs);
    if (!rc) {
        rc = nout ? wb_exec_wait(d->ex, outs, nout) : 0;
        for (int k = 0; k < nout; k++) parts[k].oid = outs[k];
        if (rc)
            for (int k = 0; k < nout; k++) wb_exec_release(d->ex, outs[k]);
        else
            rc = wb_ds_new(d->ex, d->d, d->has_labels, nout, parts, out);
    }
    for (int k = 0; t && k < nout; k++) free((void *)t[k].in);
    free(t);
    free(outs);
    free(parts);
    if (!rc) {
        (*out)->is_vector = d->is_vector;
        rc = wb_ds_copy_meta(*out, d);
        if (rc) wb_ds_unref(*out);
    }
    return rc;
}

/* ------------------------------------------------------------ value counts */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* core.value_counts: arg {i64 col (-1: labels), i64 nlevels (> 0: codes of a
 * category, counted in a table; 0: any numbers)} -> for codes: nlevels + 1
 * counts (the last: missing); for numbers: {i64 k, f64 missing} then k
 * sorted {value, count} pairs */
static int k_value_counts(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t a[2];
    if (nin < 1 || in[0].type != WB_OBJ_PART || arglen != sizeof a) return wb_seterr(WB_EINVAL, "core.value_counts: bad arguments");
    memcpy(a, arg, sizeof a);
    const wb_part *p = &in[0].part;
    int64_t col = a[0], L = a[1];
    if (col >= p->cols || (col < 0 && !p->y) || L < 0 || L > ((int64_t)1 << 28))
        return wb_seterr(WB_EINVAL, "core.value_counts: bad arguments");
    const double *v = col < 0 ? p->y : p->x + col;
    size_t stride = col < 0 ? 1 : (size_t)p->cols;
    if (L > 0) {
        double *o = wb__out_bytes(ctx, (size_t)(L + 1) * 8);
        if (!o) return WB_ENOMEM;
        for (int64_t i = 0; i < p->rows; i++) {
            double c = v[(size_t)i * stride];
            if (c >= 0 && c < L && c == (double)(int64_t)c) o[(int64_t)c] += 1;
            else o[L] += 1; /* missing (or not a code: counted with the missing) */
        }
        return 0;
    }
    double *s = malloc((size_t)(p->rows ? p->rows : 1) * 8);
    if (!s) return wb_seterr(WB_ENOMEM, "out of memory");
    int64_t n = 0, miss = 0;
    for (int64_t i = 0; i < p->rows; i++) {
        double c = v[(size_t)i * stride];
        if (c != c) miss++;
        else s[n++] = c == 0 ? 0.0 : c; /* -0 counts as 0 */
    }
    qsort(s, (size_t)n, 8, cmp_double);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || s[i] != s[i - 1]) k++;
    double *o = wb__out_bytes(ctx, (size_t)(2 + 2 * k) * 8);
    if (!o) {
        free(s);
        return WB_ENOMEM;
    }
    int64_t kk = k;
    memcpy(o, &kk, 8);
    o[1] = (double)miss;
    int64_t w = -1;
    for (int64_t i = 0; i < n; i++) {
        if (i == 0 || s[i] != s[i - 1]) {
            w++;
            o[2 + 2 * w] = s[i];
        }
        o[3 + 2 * w] += 1;
    }
    free(s);
    return 0;
}

int wb_ds_value_counts(const wb_dataset *d, int64_t col, double **values, double **counts, int64_t *n,
                       double *missing)
{
    if (col >= d->d || (col < 0 && !d->has_labels)) return wb_seterr(WB_EINVAL, "value_counts: no such column");
    const wb_levels *lv = col < 0 ? d->label_levels : wb_ds_col_levels(d, col);
    int64_t L = wb_levels_count(lv), a[2] = {col, lv ? (L > 0 ? L : 0) : 0};
    if (lv && L == 0) { /* a category without levels: everything is missing */
        *values = malloc(8);
        *counts = malloc(8);
        *n = 0;
        *missing = (double)d->n;
        return *values && *counts ? 0 : wb_seterr(WB_ENOMEM, "out of memory");
    }
    wb_oid *res = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *res);
    if (!res) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = d->nparts ? wb_exec_map(d->ex, "core.value_counts", d, NULL, 0, a, sizeof a, res) : 0;
    double *acc = lv ? calloc((size_t)L + 1, 8) : NULL; /* codes: counts per level */
    double *mv = NULL, *mc = NULL;                       /* numbers: merged sorted pairs */
    int64_t mn = 0;
    double miss = 0;
    if (!rc && lv && !acc) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int i = 0; i < d->nparts; i++) {
        if (!rc) {
            void *data = NULL;
            size_t size = 0;
            rc = wb_exec_get(d->ex, res[i], &data, &size);
            if (!rc && lv) {
                if (size != (size_t)(L + 1) * 8) rc = wb_seterr(WB_EINTERNAL, "value_counts: bad result");
                else
                    for (int64_t k = 0; k <= L; k++) acc[k] += ((double *)data)[k];
            } else if (!rc) {
                int64_t k;
                memcpy(&k, data, 8);
                if (size < 16 || k < 0 || size != (size_t)(2 + 2 * k) * 8) rc = wb_seterr(WB_EINTERNAL, "value_counts: bad result");
                const double *q = (const double *)data;
                if (!rc) miss += q[1];
                double *nv = rc ? NULL : malloc((size_t)(mn + k + 1) * 8), *nc = rc ? NULL : malloc((size_t)(mn + k + 1) * 8);
                if (!rc && (!nv || !nc)) rc = wb_seterr(WB_ENOMEM, "out of memory");
                int64_t x = 0, y = 0, w = 0;
                while (!rc && (x < mn || y < k)) {
                    double b = y < k ? q[2 + 2 * y] : 0;
                    if (y >= k || (x < mn && mv[x] < b)) nv[w] = mv[x], nc[w++] = mc[x++];
                    else if (x >= mn || b < mv[x]) nv[w] = b, nc[w++] = q[3 + 2 * y++];
                    else nv[w] = b, nc[w++] = mc[x++] + q[3 + 2 * y++];
                }
                if (!rc) {
                    free(mv);
                    free(mc);
                    mv = nv;
                    mc = nc;
                    mn = w;
                } else {
                    free(nv);
                    free(nc);
                }
            }
            free(data);
        }
        if (res[i]) wb_exec_release(d->ex, res[i]);
    }
    free(res);
    if (!rc && lv) {
        mv = malloc((size_t)(L + 1) * 8);
        mc = malloc((size_t)(L + 1) * 8);
        if (!mv || !mc) rc = wb_seterr(WB_ENOMEM, "out of memory");
        for (int64_t k = 0; !rc && k < L; k++) {
            mv[k] = (double)k;
            mc[k] = acc[k];
        }
        mn = L;
        miss = acc ? acc[L] : 0;
    }
    free(acc);
    if (rc) {
        free(mv);
        free(mc);
        return rc;
    }
    if (!mv) mv = malloc(8);
    if (!mc) mc = malloc(8);
    *values = mv;
    *counts = mc;
    *n = mn;
    *missing = miss;
    return 0;
}

/* ------------------------------------------------------------ quantiles */

/* a double's bits in an order that sorts as the numbers do */
static inline uint64_t okey(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return (u >> 63) ? ~u : u | 0x8000000000000000ULL;
}

static inline double from_okey(uint64_t k)
{
    uint64_t u = (k >> 63) ? k & 0x7fffffffffffffffULL : ~k;
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* core.radix: arg {i64 shift, i64 ncol, i64 nt, then nt {i64 col (-1 labels),
 * u64 prefix}}: for each target, a 256-bin histogram of the byte at `shift`
 * of the keys of its column's non-NaN values whose bits above shift + 8 are
 * the prefix -> nt * 256 counts */
static int k_radix(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t h[3];
    if (nin < 1 || in[0].type != WB_OBJ_PART || arglen < sizeof h) return wb_seterr(WB_EINVAL, "core.radix: bad arguments");
    memcpy(h, arg, sizeof h);
    int64_t shift = h[0], nt = h[2];
    const wb_part *p = &in[0].part;
    if (shift < 0 || shift > 56 || shift % 8 || nt < 1 || nt > 4096 || arglen != sizeof h + (size_t)nt * 16)
        return wb_seterr(WB_EINVAL, "core.radix: bad arguments");
    const int64_t *t = (const int64_t *)arg + 3;
    double *o = wb__out_bytes(ctx, (size_t)nt * 256 * 8);
    if (!o) return WB_ENOMEM;
    for (int64_t k = 0; k < nt; k++) {
        int64_t col = t[2 * k];
        uint64_t prefix = (uint64_t)t[2 * k + 1];
        if (col >= p->cols || (col < 0 && !p->y)) return wb_seterr(WB_EINVAL, "core.radix: no column %lld", (long long)col);
        if (k > 0 && t[2 * k - 2] == col && (uint64_t)t[2 * k - 1] == prefix) { /* the same as the last target */
            memcpy(o + 256 * k, o + 256 * (k - 1), 256 * 8);
            continue;
        }
        const double *v = col < 0 ? p->y : p->x + col;
        size_t stride = col < 0 ? 1 : (size_t)p->cols;
        double *hist = o + 256 * k;
        int top = shift + 8 >= 64;
        for (int64_t i = 0; i < p->rows; i++) {
            double x = v[(size_t)i * stride];
            if (x != x) continue;
            uint64_t key = okey(x);
            if (!top && (key >> (shift + 8)) != prefix) continue;
            hist[(key >> shift) & 255] += 1;
        }
    }
    return 0;
}

int wb_ds_quantiles(const wb_dataset *d, const int64_t *cols, int64_t ncol, const double *probs, int64_t nprob,
                    double *out)
{
    /* per column: its count of values, then per probability the ranks lo, lo+1 */
    int64_t nt = ncol * nprob * 2;
    double *cnt = calloc((size_t)(ncol ? ncol : 1), 8);
    int64_t *rank = malloc((size_t)(nt ? nt : 1) * 8), *tcol = malloc((size_t)(nt ? nt : 1) * 8);
    uint64_t *prefix = calloc((size_t)(nt ? nt : 1), 8);
    double *below = calloc((size_t)(nt ? nt : 1), 8);
    int64_t *arg = malloc((size_t)(3 + 2 * (nt ? nt : 1)) * 8);
    double *sum = malloc((size_t)(nt ? nt : 1) * 256 * 8);
    wb_oid *res = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *res);
    int rc = (!cnt || !rank || !tcol || !prefix || !below || !arg || !sum || !res) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    /* the counts: the first pass's histograms summed */
    for (int pass = 0; !rc && pass < 8; pass++) {
        int64_t shift = 56 - 8 * pass;
        arg[0] = shift;
        arg[1] = ncol;
        arg[2] = nt;
        for (int64_t k = 0; k < nt; k++) {
            arg[3 + 2 * k] = cols[k / (nprob * 2)];
            arg[4 + 2 * k] = (int64_t)prefix[k];
        }
        memset(sum, 0, (size_t)nt * 256 * 8);
        if (d->nparts) rc = wb_exec_map(d->ex, "core.radix", d, NULL, 0, arg, (size_t)(3 + 2 * nt) * 8, res);
        for (int i = 0; i < d->nparts; i++) {
            if (!rc) {
                void *data = NULL;
                size_t size = 0;
                rc = wb_exec_get(d->ex, res[i], &data, &size);
                if (!rc && size != (size_t)nt * 256 * 8) rc = wb_seterr(WB_EINTERNAL, "quantiles: bad result");
                for (int64_t q = 0; !rc && q < nt * 256; q++) sum[q] += ((double *)data)[q];
                free(data);
            }
            if (res[i]) wb_exec_release(d->ex, res[i]);
            res[i] = 0;
        }
        if (rc) break;
        if (pass == 0) { /* the counts, and the ranks wanted */
            for (int64_t c = 0; c < ncol; c++) {
                double n = 0;
                for (int b = 0; b < 256; b++) n += sum[(c * nprob * 2) * 256 + b];
                cnt[c] = n;
                for (int64_t q = 0; q < nprob; q++) {
                    double pos = probs[q] * (n - 1);
                    int64_t lo = n > 0 ? (int64_t)floor(pos) : 0;
                    int64_t hi = lo + 1 < (int64_t)n ? lo + 1 : lo;
                    rank[(c * nprob + q) * 2] = lo;
                    rank[(c * nprob + q) * 2 + 1] = hi;
                }
            }
        }
        /* each target: the bin holding its rank */
        for (int64_t k = 0; k < nt; k++) {
            const double *hs = sum + k * 256;
            double acc = below[k];
            int b = 0;
            for (; b < 255; b++) {
                if (acc + hs[b] > (double)rank[k]) break;
                acc += hs[b];
            }
            below[k] = acc;
            prefix[k] = (prefix[k] << 8) | (uint64_t)b;
        }
    }
    for (int64_t c = 0; !rc && c < ncol; c++)
        for (int64_t q = 0; q < nprob; q++) {
            double *o = out + c * nprob + q;
            if (cnt[c] == 0) {
                *o = NAN;
                continue;
            }
            double pos = probs[q] * (cnt[c] - 1), t = pos - floor(pos);
            double a = from_okey(prefix[(c * nprob + q) * 2]), b = from_okey(prefix[(c * nprob + q) * 2 + 1]);
            /* numpy's linear interpolation (_lerp), so the values are pandas' */
            double diff = b - a;
            *o = t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
        }
    free(cnt);
    free(rank);
    free(tcol);
    free(prefix);
    free(below);
    free(arg);
    free(sum);
    free(res);
    return rc;
}

void wb__register_col_kernels(void)
{
    wb_register_kernel("core.select_cols", k_select_cols);
    wb_register_kernel("core.with_column", k_with_column);
    wb_register_kernel("core.mask_count", k_mask_count);
    wb_register_kernel("core.mask_gather", k_mask_gather);
    wb_register_kernel("core.value_counts", k_value_counts);
    wb_register_kernel("core.radix", k_radix);
}
