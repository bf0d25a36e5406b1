/* sql/write.c — wb_sql_write: a dataset (or columns in memory: result
 * tables) into a table, in one transaction (pg.c: COPY FROM STDIN; lite.c:
 * batched INSERTs). The rows go in order, a partition at a time: read in
 * place from the local store, fetched from a cluster's workers one by one
 * otherwise; category codes are written as their level's text, missing
 * values (NaN) as NULL. Columns are named as the dataset shows them (x1, x2,
 * ... when unnamed), the labels last under their name or "label"; a vector
 * under its name or "value". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

static const char *WHO = "wb.sql.write";

typedef struct wprog {
    double t0;
} wprog;

static void progress(sql_wsrc *s, int64_t done)
{
    wprog *w = (wprog *)((char *)s->u + 0); /* every source below starts with its wprog */
    double el = wb_now() - w->t0;
    char info[64];
    snprintf(info, sizeof info, "rows, %.0f rows/s", el > 0 ? (double)done / el : 0);
    wb_progress("sql.write", (double)done, (double)(s->n > 0 ? s->n : 1), info);
}

/* ------------------------------------------------------------ a dataset */

typedef struct ds_src {
    wprog w;
    const wb_dataset *d;
    wb_store *store;        /* local: partitions read in place */
    int next_part;
    wb_oid held;            /* the partition acquired from the store (0: none) */
    void *data;             /* a fetched partition's bytes */
    double *num;            /* rows x ncol when the labels make a copy needed */
    const char **text;      /* rows x ncol */
    size_t cap;             /* rows num and text have room for */
    const wb_levels **lv;   /* per column: its levels (NULL: numbers) */
} ds_src;

static void ds_drop(ds_src *s)
{
    if (s->held) wb_store_unref(s->store, s->held);
    s->held = 0;
    free(s->data);
    s->data = NULL;
}

static int ds_next(sql_wsrc *w, int64_t *rows, const double **num, const char *const **text)
{
    ds_src *s = w->u;
    ds_drop(s);
    *rows = 0;
    if (s->next_part >= s->d->nparts) return 0;
    const wb_dspart *dp = &s->d->parts[s->next_part++];
    wb_part part;
    int rc;
    if (s->store) {
        wb_obj o;
        rc = wb_store_acquire(s->store, dp->oid, &o);
        if (!rc) {
            s->held = dp->oid;
            part = o.part;
            if (o.type != WB_OBJ_PART) rc = wb_seterr(WB_EINTERNAL, "%s: a partition is not one", WHO);
        }
    } else {
        size_t size = 0;
        rc = wb_exec_get(s->d->ex, dp->oid, &s->data, &size);
        if (!rc) rc = wb_part_decode(s->data, size, &part);
    }
    if (rc) return rc;
    int64_t n = part.rows, d = part.cols, nc = w->ncol;
    if (d != s->d->d) return wb_seterr(WB_EINTERNAL, "%s: a partition of %lld columns", WHO, (long long)d);
    int need_text = 0;
    for (int64_t j = 0; j < nc; j++) need_text |= s->lv[j] != NULL;
    if ((size_t)n > s->cap) {
        free(s->num);
        free(s->text);
        s->num = malloc((size_t)n * (size_t)nc * 8 + 8);
        s->text = need_text ? calloc((size_t)n * (size_t)nc + 1, sizeof *s->text) : NULL;
        s->cap = (size_t)n;
        if (!s->num || (need_text && !s->text)) {
            s->cap = 0;
            return wb_seterr(WB_ENOMEM, "out of memory");
        }
    }
    const double *x = part.x;
    if (nc != d) { /* the labels after the features */
        for (int64_t i = 0; i < n; i++) {
            memcpy(s->num + (size_t)i * (size_t)nc, part.x + (size_t)i * (size_t)d, (size_t)d * 8);
            s->num[(size_t)i * (size_t)nc + (size_t)d] = part.y ? part.y[i] : NAN;
        }
        x = s->num;
    }
    for (int64_t j = 0; need_text && j < nc; j++) {
        if (!s->lv[j]) continue;
        for (int64_t i = 0; i < n; i++) {
            size_t at = (size_t)i * (size_t)nc + (size_t)j;
            s->text[at] = wb_levels_code(s->lv[j], x[at]);
            if (!s->text[at] && x[at] == x[at])
                return wb_seterr(WB_EINVAL, "%s: row %lld, column \"%s\": %g is not a code of the column's levels", WHO,
                                 (long long)(dp->row0 + i + 1), w->cols[j].name, x[at]);
        }
    }
    *rows = n;
    *num = x;
    *text = s->text;
    return 0;
}

static int same_name(const sql_wsrc *s, int64_t upto, const char *name)
{
    for (int64_t j = 0; j < upto; j++)
        if (!strcasecmp(s->cols[j].name, name)) return 1;
    return 0;
}

static void free_cols(sql_wsrc *s)
{
    for (int64_t j = 0; s->cols && j < s->ncol; j++) free(s->cols[j].name);
    free(s->cols);
    s->cols = NULL;
}

static int run(const sql_url *u, const char *table, int if_exists, sql_wsrc *s)
{
    for (int64_t j = 0; j < s->ncol; j++)
        if (same_name(s, j, s->cols[j].name))
            return wb_seterr(WB_EINVAL, "%s: two columns named \"%s\" (rename one: d:rename{...})", WHO, s->cols[j].name);
    int rc = u->kind == SQL_PG ? wb__sql_pg_write(u, table, if_exists, s, WHO) : wb__sql_lite_write(u, table, if_exists, s, WHO);
    wb_progress("sql.write", (double)(s->n > 0 ? s->n : 1), (double)(s->n > 0 ? s->n : 1), NULL);
    return rc;
}

static int check_table(const char *table)
{
    if (!table || !*table) return wb_seterr(WB_EINVAL, "%s: no table name given", WHO);
    return 0;
}

int wb_sql_write(const wb_dataset *d, const char *url, const char *table, int if_exists, int64_t *rows)
{
    if (rows) *rows = 0;
    int rc = check_table(table);
    sql_url u;
    memset(&u, 0, sizeof u);
    if (!rc) rc = wb__sql_url_parse(url, WHO, &u);
    if (rc) return rc;
    ds_src ds;
    memset(&ds, 0, sizeof ds);
    ds.w.t0 = wb_now();
    ds.d = d;
    wb_exec_info xi;
    wb_exec_info_get(d->ex, &xi);
    ds.store = xi.remote ? NULL : xi.store;
    sql_wsrc s;
    memset(&s, 0, sizeof s);
    s.n = d->n;
    s.ncol = d->d + (d->has_labels != 0);
    s.cols = calloc((size_t)s.ncol + 1, sizeof *s.cols);
    ds.lv = calloc((size_t)s.ncol + 1, sizeof *ds.lv);
    if (!s.cols || !ds.lv) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t j = 0; !rc && j < s.ncol; j++) {
        char buf[32];
        const char *nm;
        const wb_levels *lv;
        if (j < d->d) {
            nm = wb_ds_col_name(d, j);
            if (!nm || !*nm) {
                if (d->is_vector && d->d == 1) nm = "value";
                else snprintf(buf, sizeof buf, "x%lld", (long long)j + 1), nm = buf;
            }
            lv = wb_ds_col_levels(d, j);
        } else {
            nm = wb_ds_label_name(d);
            if (!nm || !*nm) nm = "label";
            lv = wb_ds_label_levels(d);
        }
        s.cols[j].name = strdup(nm);
        if (!s.cols[j].name) rc = wb_seterr(WB_ENOMEM, "out of memory");
        s.cols[j].kind = lv ? SW_TEXT : SW_NUM;
        ds.lv[j] = lv;
    }
    s.next = ds_next;
    s.progress = progress;
    s.u = &ds;
    s.threads = xi.remote ? 1 : wb_exec_parallelism(d->ex); /* the driver's threads: a cluster's are the workers' */
    if (!rc) rc = run(&u, table, if_exists, &s);
    if (!rc && rows) *rows = d->n;
    ds_drop(&ds);
    free(ds.num);
    free(ds.text);
    free(ds.lv);
    free_cols(&s);
    wb__sql_url_free(&u);
    return rc;
}

/* ------------------------------------------------------------ columns */

typedef struct col_src {
    wprog w;
    const wb_sql_column *cols;
    int64_t at;
    double *num;
    const char **text;
} col_src;

#define COL_BATCH 65536

static int col_next(sql_wsrc *w, int64_t *rows, const double **num, const char *const **text)
{
    col_src *s = w->u;
    int64_t n = w->n - s->at < COL_BATCH ? w->n - s->at : COL_BATCH;
    *rows = n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < w->ncol; j++) {
            size_t at = (size_t)i * (size_t)w->ncol + (size_t)j;
            const wb_sql_column *c = &s->cols[j];
            if (c->type == WB_COL_CATEGORY) {
                s->text[at] = c->text ? c->text[s->at + i] : NULL;
                s->num[at] = NAN;
            } else {
                s->num[at] = c->num ? c->num[s->at + i] : NAN;
                s->text[at] = NULL;
            }
        }
    s->at += n;
    *num = s->num;
    *text = s->text;
    return 0;
}

int wb_sql_write_columns(const wb_sql_column *cols, int64_t ncol, int64_t n, const char *url, const char *table,
                         int if_exists)
{
    int rc = check_table(table);
    if (!rc && (ncol < 1 || n < 0)) rc = wb_seterr(WB_EINVAL, "%s: no columns to write", WHO);
    sql_url u;
    memset(&u, 0, sizeof u);
    if (!rc) rc = wb__sql_url_parse(url, WHO, &u);
    if (rc) return rc;
    col_src cs;
    memset(&cs, 0, sizeof cs);
    cs.w.t0 = wb_now();
    cs.cols = cols;
    size_t b = (size_t)(n < COL_BATCH ? (n ? n : 1) : COL_BATCH) * (size_t)ncol;
    cs.num = malloc(b * 8);
    cs.text = calloc(b, sizeof *cs.text);
    sql_wsrc s;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.ncol = ncol;
    s.cols = calloc((size_t)ncol, sizeof *s.cols);
    if (!cs.num || !cs.text || !s.cols) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t j = 0; !rc && j < ncol; j++) {
        if (!cols[j].name || !*cols[j].name) rc = wb_seterr(WB_EINVAL, "%s: column %lld has no name", WHO, (long long)j + 1);
        else if (!(s.cols[j].name = strdup(cols[j].name))) rc = wb_seterr(WB_ENOMEM, "out of memory");
        s.cols[j].kind = cols[j].type == WB_COL_CATEGORY ? SW_TEXT : cols[j].integer ? SW_INT : SW_NUM;
    }
    s.next = col_next;
    s.progress = progress;
    s.u = &cs;
    if (!rc) rc = run(&u, table, if_exists, &s);
    free(cs.num);
    free(cs.text);
    free_cols(&s);
    wb__sql_url_free(&u);
    return rc;
}
