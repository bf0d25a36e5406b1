/* sql/read.c — wb_sql_read: a table or a query of a database as a dataset.
 *
 * The driver connects once to plan the read:
 *   1. the source's columns and their types, from the database's own
 *      description of them (a prepared statement: nothing is run, no sample);
 *      the columns read (columns =, drop =, label =) and how (dtype =);
 *   2. range partitions over a partition column, as Dask's read_sql_table:
 *      bounds from min and max (or given), each partition one query with
 *      WHERE col >= a AND col < b (never LIMIT/OFFSET, whose pages of an
 *      unordered result overlap and leave rows out); the first partition
 *      also takes the values below, the last the values above and NULL, so
 *      every row is read exactly once; PostgreSQL's partitions share one
 *      exported snapshot;
 *   3. one task per partition (sql.pg_read, sql.sqlite_read) that connects
 *      where it runs — a thread of the local executor, a worker of a
 *      cluster, an MPI rank — and keeps its rows as a chunk there; its
 *      argument holds the query, the bounds and the connection string
 *      without the password, never rows;
 *   4. the chunks' row counts and levels (sql.info: small), the levels of
 *      each text column merged into their sorted union (the CSV reader's
 *      rule: codes do not depend on partitions, threads or workers), one
 *      map object per chunk;
 *   5. the dataset's partitions (sql.assemble): wb_partition_rows rows each,
 *      aligned to blocks, made where the scheduler puts them from the chunks
 *      that hold their rows, codes mapped. The chunks are released as their
 *      rows are taken, so memory peaks at about the dataset's bytes plus one
 *      chunk.
 * On the local executor (direct mode) a read's task puts its rows in the
 * store as partitions of wb_partition_rows rows while they arrive, not in
 * one growing chunk, and its output is its info followed by those
 * partitions. The first read's rows start at the dataset's row 0, so its
 * partitions are the dataset's own (taken as they are, or with their codes
 * mapped by sql.remap); the others' are assembled as chunks are. Memory
 * stays at the dataset's bytes plus a partition or two a read. Without a
 * partition column the read is one streaming query, one read. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql_internal.h"

void wb_sql_read_opts_init(wb_sql_read_opts *o) { memset(o, 0, sizeof *o); }

const char *wb_sql_backends(void)
{
#if defined(WB_HAVE_SQLITE3) && defined(WB_HAVE_LIBPQ)
    return "sqlite postgresql";
#elif defined(WB_HAVE_SQLITE3)
    return "sqlite";
#elif defined(WB_HAVE_LIBPQ)
    return "postgresql";
#else
    return "";
#endif
}

static const char *WHO = "wb.sql.read";

void wb__register_sql_kernels(void)
{
    wb__sql_register_chunk_kernels();
    wb__sql_register_pg_kernels();
    wb__sql_register_lite_kernels();
}

/* ------------------------------------------------------------ the source */

/* past blanks and comments */
static const char *skip_space(const char *s)
{
    for (;;) {
        while (isspace((unsigned char)*s)) s++;
        if (s[0] == '-' && s[1] == '-') {
            while (*s && *s != '\n') s++;
        } else if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            s = e ? e + 2 : s + strlen(s);
        } else
            return s;
    }
}

/* a query rather than a table name: it starts with one of these words */
static int is_query(const char *s)
{
    static const char *const words[] = {"select", "with", "values", "table"};
    s = skip_space(s);
    while (*s == '(') s = skip_space(s + 1);
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = strlen(words[i]);
        if (strncasecmp(s, words[i], n) == 0 && !isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != 0) return 1;
    }
    return 0;
}

typedef struct plan {
    sql_url u;
    sql_pg *pg;
    sql_lite *lite;
    sql_desc desc;
    char *query;       /* a query without its trailing ';' (NULL: a table) */
    wb_buf from;       /* what FROM reads: "t" or (query) AS wb_q */
    wb_buf describe;   /* the statement that describes the columns */
    int64_t d, has_y, ncol;
    int64_t *sel;      /* ncol: the source's columns read (the label last) */
    uint8_t *kinds;
    char **names;      /* ncol, pointing into desc */
    char snapshot[80];
    char *abspath;     /* SQLite: the file, absolute */
    int64_t fsize;
    uint8_t fhead[32];
    uint64_t secret;
    int64_t max_levels;
} plan;

static void plan_free(plan *p)
{
    wb__sql_pg_close(p->pg);
    wb__sql_lite_close(p->lite);
    wb__sql_desc_free(&p->desc);
    free(p->query);
    wb_buf_free(&p->from);
    wb_buf_free(&p->describe);
    free(p->sel);
    free(p->kinds);
    free(p->names);
    free(p->abspath);
    if (p->secret) wb__sql_secret_drop(p->secret);
    wb__sql_url_free(&p->u);
}

/* the columns of the source, for messages: "a, b, c" (at most 20) */
static const char *col_list(const plan *p, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int64_t j = 0; j < p->desc.ncol && n + 1 < cap; j++) {
        if (j == 20) {
            snprintf(buf + n, cap - n, ", ... (%lld in all)", (long long)p->desc.ncol);
            break;
        }
        int w = snprintf(buf + n, cap - n, "%s%s", j ? ", " : "", p->desc.col[j].name);
        if (w < 0) break;
        n += (size_t)w;
    }
    return p->desc.ncol ? buf : "none";
}

static const char *source_name(const plan *p, const char *src, char *buf, size_t cap)
{
    if (p->query) snprintf(buf, cap, "the query");
    else snprintf(buf, cap, "table \"%s\"", src);
    return buf;
}

/* a column by name: exactly, else ignoring ASCII case when that names one */
static int64_t find_col(const plan *p, const char *name)
{
    int64_t hit = -1, n = 0;
    for (int64_t j = 0; j < p->desc.ncol; j++)
        if (!strcmp(p->desc.col[j].name, name)) return j;
    for (int64_t j = 0; j < p->desc.ncol; j++)
        if (!strcasecmp(p->desc.col[j].name, name)) hit = j, n++;
    return n == 1 ? hit : -1;
}

static int no_col(const plan *p, const char *src, const char *name, const char *what)
{
    char list[800], sn[300];
    return wb_seterr(WB_ENOTFOUND, "%s: %s: %s: no column \"%s\" in %s (its columns: %s)", WHO, p->u.display, what, name,
                     source_name(p, src, sn, sizeof sn), col_list(p, list, sizeof list));
}

static int in_list(const char *const *l, int64_t n, const char *s)
{
    for (int64_t i = 0; i < n; i++)
        if (l[i] && !strcasecmp(l[i], s)) return 1;
    return 0;
}

/* the columns read and how: features (columns =, or all but drop = and the
 * label), then the label; kinds from the types and dtype = */
static int choose_columns(plan *p, const char *src, const wb_sql_read_opts *o)
{
    int64_t nd = p->desc.ncol;
    int64_t label = -1;
    if (o->label && !(label = find_col(p, o->label) , label >= 0)) return no_col(p, src, o->label, "label");
    for (int64_t i = 0; i < o->ndrop; i++)
        if (find_col(p, o->drop[i]) < 0) return no_col(p, src, o->drop[i], "drop");
    for (int64_t i = 0; i < o->ndtype; i++)
        if (find_col(p, o->dtype_names[i]) < 0) return no_col(p, src, o->dtype_names[i], "dtype");
    p->sel = malloc((size_t)(nd + (o->columns ? o->ncolumns : 0) + 2) * 8);
    if (!p->sel) return wb_seterr(WB_ENOMEM, "out of memory");
    int64_t m = 0;
    if (o->columns) {
        for (int64_t i = 0; i < o->ncolumns; i++) {
            int64_t j = find_col(p, o->columns[i]);
            if (j < 0) return no_col(p, src, o->columns[i], "columns");
            if (j == label) continue;
            for (int64_t t = 0; t < m; t++)
                if (p->sel[t] == j) return wb_seterr(WB_EINVAL, "%s: columns: \"%s\" is named twice", WHO, o->columns[i]);
            p->sel[m++] = j;
        }
    } else
        for (int64_t j = 0; j < nd; j++) {
            if (j == label || in_list(o->drop, o->ndrop, p->desc.col[j].name)) continue;
            p->sel[m++] = j;
        }
    p->d = m;
    p->has_y = label >= 0;
    if (label >= 0) p->sel[m++] = label;
    p->ncol = m;
    if (m == 0) {
        char sn[300];
        return wb_seterr(WB_EINVAL, "%s: %s: no columns to read from %s", WHO, p->u.display, source_name(p, src, sn, sizeof sn));
    }
    /* two columns of one name cannot be told apart outside the query */
    for (int64_t a = 0; a < m; a++)
        for (int64_t b = 0; b < nd; b++)
            if (b != p->sel[a] && !strcmp(p->desc.col[b].name, p->desc.col[p->sel[a]].name))
                return wb_seterr(WB_EINVAL, "%s: %s: the query returns two columns named \"%s\": name them apart "
                                            "(... AS another_name)",
                                 WHO, p->u.display, p->desc.col[b].name);
    p->kinds = malloc((size_t)m + 1);
    p->names = calloc((size_t)m + 1, sizeof *p->names);
    if (!p->kinds || !p->names) return wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t a = 0; a < m; a++) {
        const sql_col *c = &p->desc.col[p->sel[a]];
        int k = c->kind;
        p->names[a] = c->name;
        for (int64_t i = 0; i < o->ndtype; i++) {
            if (find_col(p, o->dtype_names[i]) != p->sel[a]) continue;
            int want = o->dtype_types[i];
            if (p->u.kind == SQL_PG) {
                if (want == WB_COL_CATEGORY) k = SK_TEXT;
                else if (k == SK_TEXT) k = SK_TEXTNUM;
            } else {
                if (want == WB_COL_CATEGORY) k = SK_LTEXT;
                else if (k == SK_LTEXT || k == SK_LANY) k = SK_LNUM;
            }
        }
        p->kinds[a] = (uint8_t)k;
    }
    return 0;
}

/* ------------------------------------------------------------ partitions */

typedef struct parts {
    int64_t k;         /* partitions */
    int kind;          /* 1 integer bounds, 2 real */
    int64_t *bi;       /* k - 1 split points */
    double *bd;
} parts;

/* the split points of a partition column */
static int plan_parts(plan *p, const char *src, const wb_sql_read_opts *o, wb_exec *ex, const sql_col *pc, parts *out)
{
    memset(out, 0, sizeof *out);
    out->k = 1;
    if (!pc->orderable) {
        char sn[300];
        return wb_seterr(WB_EINVAL, "%s: %s: the partition column \"%s\" of %s is %s: range partitions need a number, "
                                    "date or timestamp column (or leave partition_column out for one streaming read)",
                         WHO, p->u.display, pc->name, source_name(p, src, sn, sizeof sn), pc->type);
    }
    int64_t want = o->partitions > 0 ? o->partitions : wb_exec_parallelism(ex);
    if (want < 1) want = 1;
    sql_bounds b;
    int rc = 0;
    const double *ub = o->bounds;
    if (ub && o->nbounds > 2) {
        if (o->partitions > 0 && o->partitions != o->nbounds - 1)
            return wb_seterr(WB_EINVAL, "%s: bounds: %lld values make %lld partitions, not partitions = %lld", WHO,
                             (long long)o->nbounds, (long long)o->nbounds - 1, (long long)o->partitions);
        int ints = pc->orderable == 1 || p->u.kind == SQL_SQLITE;
        for (int64_t i = 0; i < o->nbounds; i++) ints &= ub[i] == (double)(int64_t)ub[i] && ub[i] > -9e15 && ub[i] < 9e15;
        out->k = o->nbounds - 1;
        out->kind = ints ? 1 : 2;
        out->bi = malloc((size_t)out->k * 8);
        out->bd = malloc((size_t)out->k * 8);
        if (!out->bi || !out->bd) return wb_seterr(WB_ENOMEM, "out of memory");
        for (int64_t i = 1; i < o->nbounds - 1; i++) {
            out->bd[i - 1] = ub[i];
            out->bi[i - 1] = (int64_t)ub[i];
        }
        return 0;
    }
    if (ub) { /* {lo, hi}: split evenly */
        b.kind = 2;
        b.dmin = ub[0];
        b.dmax = ub[1];
        if ((pc->orderable == 1 || p->u.kind == SQL_SQLITE) && ub[0] == (double)(int64_t)ub[0] && ub[1] == (double)(int64_t)ub[1] &&
            fabs(ub[0]) < 9e15 && fabs(ub[1]) < 9e15) {
            b.kind = 1;
            b.imin = (int64_t)ub[0];
            b.imax = (int64_t)ub[1];
        }
    } else {
        rc = p->u.kind == SQL_PG ? wb__sql_pg_bounds(p->pg, (char *)p->from.p, pc, &b)
                                 : wb__sql_lite_bounds(p->lite, (char *)p->from.p, pc, &b);
        if (rc) return rc;
        if (b.kind == 2 && !(isfinite(b.dmin) && isfinite(b.dmax)))
            return wb_seterr(WB_EINVAL, "%s: %s: the partition column \"%s\" holds %g .. %g: give bounds = {lo, hi} to "
                                        "split it",
                             WHO, p->u.display, pc->name, b.dmin, b.dmax);
    }
    if (b.kind == 0 || want == 1) return 0; /* no rows (or no value but NULL): one partition */
    out->kind = b.kind;
    out->bi = malloc((size_t)want * 8);
    out->bd = malloc((size_t)want * 8);
    if (!out->bi || !out->bd) return wb_seterr(WB_ENOMEM, "out of memory");
    int64_t n = 0;
    for (int64_t i = 1; i < want; i++) {
        if (b.kind == 1) {
            __int128 span = (__int128)b.imax - b.imin + 1;
            int64_t v = (int64_t)(b.imin + span * i / want);
            if (v <= b.imin || (n && v <= out->bi[n - 1])) continue;
            out->bi[n] = v;
            out->bd[n++] = (double)v;
        } else {
            double v = b.dmin + (b.dmax - b.dmin) * (double)i / (double)want;
            if (!(v > b.dmin) || (n && !(v > out->bd[n - 1]))) continue;
            out->bd[n] = v;
            out->bi[n++] = 0;
        }
    }
    out->k = n + 1;
    return 0;
}

/* partition i's condition: SQL text (PostgreSQL: literals; SQLite: ?1 ?2
 * with *nbind values) and its description for messages */
static int part_sql(plan *p, const sql_col *pc, const parts *pp, int64_t i, wb_buf *cond, wb_buf *desc, sql_targ *t)
{
    wb_buf id = {0}, lit[2] = {{0}, {0}};
    int rc = wb__sql_ident(&id, pc->name);
    if (!rc) rc = wb_buf_add(&id, "", 1) ? WB_ENOMEM : 0;
    int64_t lo = i - 1, hi = i; /* split points below and above (-1 / k-1: none) */
    int has_lo = i > 0, has_hi = i < pp->k - 1;
    for (int s = 0; !rc && s < 2; s++) {
        int64_t at = s ? hi : lo;
        if (s ? !has_hi : !has_lo) continue;
        if (p->u.kind == SQL_PG) rc = wb__sql_pg_literal(&lit[s], pc, pp->kind, pp->bi[at], pp->bd[at]);
        else rc = pp->kind == 1 ? wb_buf_printf(&lit[s], "%lld", (long long)pp->bi[at]) : wb_buf_printf(&lit[s], "%.17g", pp->bd[at]);
        if (!rc) rc = wb_buf_add(&lit[s], "", 1) ? WB_ENOMEM : 0;
    }
    const char *n = (const char *)id.p;
    const char *L = (const char *)lit[0].p, *H = (const char *)lit[1].p;
    int pg = p->u.kind == SQL_PG;
    if (!rc) {
        if (has_lo && has_hi) {
            rc = wb_buf_printf(cond, "%s >= %s AND %s < %s", n, pg ? L : "?1", n, pg ? H : "?2");
            if (!rc) rc = wb_buf_printf(desc, "%s >= %s AND %s < %s", n, L, n, H);
        } else if (has_hi) {
            rc = wb_buf_printf(cond, "%s < %s", n, pg ? H : "?1");
            if (!rc) rc = wb_buf_printf(desc, "%s < %s", n, H);
        } else if (has_lo) {
            rc = wb_buf_printf(cond, "(%s >= %s OR %s IS NULL)", n, pg ? L : "?1", n);
            if (!rc) rc = wb_buf_printf(desc, "%s >= %s or NULL", n, L);
        }
    }
    if (!rc && !pg) {
        t->bkind = pp->kind;
        t->nbind = 0;
        if (has_lo) t->bi[t->nbind] = pp->bi[lo], t->bd[t->nbind++] = pp->bd[lo];
        if (has_hi) t->bi[t->nbind] = pp->bi[hi], t->bd[t->nbind++] = pp->bd[hi];
    }
    wb_buf_free(&id);
    wb_buf_free(&lit[0]);
    wb_buf_free(&lit[1]);
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

/* ------------------------------------------------------------ waiting */

/* until every task is done, with the progress line: rows read here (the
 * local executor's tasks count them) or partitions done; then the first
 * failure, if any */
static int wait_reads(wb_exec *ex, const wb_oid *ids, int64_t n, int local)
{
    double t0 = wb_now(), nap = 0.002;
    int64_t base = wb__sql_rows_read();
    for (;;) {
        int64_t done = 0, failed = 0;
        for (int64_t i = 0; i < n; i++) {
            wb_objstat st;
            int rc = wb_exec_stat(ex, ids[i], &st);
            if (!rc) done++;
            else if (rc != WB_ESTATE) failed++;
        }
        wb_clearerr();
        if (done + failed == n || failed) break;
        double el = wb_now() - t0;
        char info[96];
        if (local) {
            int64_t rows = wb__sql_rows_read() - base;
            snprintf(info, sizeof info, "rows, %.0f rows/s, %lld of %lld partitions done", el > 0 ? rows / el : 0,
                     (long long)done, (long long)n);
            wb_progress("sql.read", (double)rows, 0, info);
        } else {
            snprintf(info, sizeof info, "partitions read");
            wb_progress("sql.read", (double)done, (double)n, info);
        }
        struct timespec ts = {0, (long)(nap * 1e9)};
        nanosleep(&ts, NULL);
        if (nap < 0.1) nap *= 1.5;
    }
    return wb_exec_wait(ex, ids, (int)n);
}

/* a read's output in direct mode that was not taken (another read failed):
 * the partitions it holds references to are dropped. Waits for the read
 * (it may still run when a later one could not be submitted). */
static void drop_direct(wb_exec *ex, wb_oid id, int64_t ncol)
{
    void *b = NULL;
    size_t size = 0;
    sql_info inf = {0};
    if (wb_exec_get(ex, id, &b, &size) == 0 && wb__sql_info_decode(b, size, ncol, &inf) == 0 && size >= inf.end + 8) {
        int64_t n;
        memcpy(&n, (const char *)b + inf.end, 8);
        for (int64_t k = 0; k < n && inf.end + 8 + (size_t)(k + 1) * sizeof(wb_oid) <= size; k++) {
            wb_oid part;
            memcpy(&part, (const char *)b + inf.end + 8 + (size_t)k * sizeof part, sizeof part);
            wb_exec_release(ex, part);
        }
        free(inf.col);
    }
    free(b);
}

/* ------------------------------------------------------------ levels */

/* a piece of the result: a chunk, or a partition a read made in direct mode */
typedef struct piece {
    wb_oid oid;
    int64_t chunk;   /* the read it came from */
    int64_t rows, g; /* its rows, and the dataset's row of its first */
    int64_t row0;    /* a partition's own first row (the read's own count) */
} piece;

typedef struct gent {
    const char *s;
    uint32_t len, id;
} gent;

static int cmp_gent(const void *x, const void *y)
{
    const gent *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, n);
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* column j's levels: the sorted union over the chunks; maps[k] (malloc'd;
 * NULL for a chunk without levels) takes chunk k's codes to it */
static int merge_levels(const plan *p, sql_info *inf, int64_t nch, int64_t j, wb_levels **lv, uint32_t **maps)
{
    wb_csv_dict all = {0};
    int rc = 0;
    uint32_t **prov = calloc((size_t)nch + 1, sizeof *prov);
    if (!prov) return wb_seterr(WB_ENOMEM, "out of memory");
    int64_t maxl = p->max_levels > 0 ? p->max_levels : WB_MAX_LEVELS;
    for (int64_t k = 0; !rc && k < nch; k++) {
        const sql_info_col *c = &inf[k].col[j];
        if (!c->nlevels) continue;
        prov[k] = malloc((size_t)c->nlevels * 4);
        if (!prov[k]) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        const unsigned char *s = c->levels;
        for (uint32_t i = 0; i < c->nlevels && !rc; i++) {
            uint32_t len;
            memcpy(&len, s, 4);
            int64_t id = wb__csv_dict_put(&all, (const char *)s + 4, len);
            if (id < 0) rc = wb_seterr(WB_ENOMEM, "out of memory");
            else prov[k][i] = (uint32_t)id;
            s += 4 + len;
        }
        if (!rc && all.n > (uint64_t)maxl)
            rc = wb_seterr(WB_ELIMIT, "%s: %s: column \"%s\": more than %lld distinct values (the limit of levels of a "
                                      "category column, max_levels = %lld; dtype = {...= \"number\"} if it holds numbers)",
                           WHO, p->u.display, p->names[j], (long long)maxl, (long long)maxl);
    }
    gent *g = rc ? NULL : malloc((size_t)(all.n ? all.n : 1) * sizeof *g);
    uint32_t *rank = rc ? NULL : malloc((size_t)(all.n ? all.n : 1) * 4);
    const char **strs = rc ? NULL : malloc((size_t)(all.n ? all.n : 1) * sizeof *strs);
    if (!rc && (!g || !rank || !strs)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc) {
        for (uint32_t i = 0; i < all.n; i++) g[i] = (gent){(const char *)all.text.p + all.off[i], all.len[i], i};
        qsort(g, all.n, sizeof *g, cmp_gent);
        for (uint32_t i = 0; i < all.n; i++) {
            rank[g[i].id] = i;
            strs[i] = g[i].s;
        }
        rc = wb_levels_new(strs, all.n, lv);
    }
    for (int64_t k = 0; !rc && k < nch; k++) {
        if (!prov[k]) continue;
        for (uint32_t i = 0; i < inf[k].col[j].nlevels; i++) prov[k][i] = rank[prov[k][i]];
        maps[k] = prov[k];
        prov[k] = NULL;
    }
    for (int64_t k = 0; k < nch; k++) free(prov[k]);
    free(prov);
    free(g);
    free(rank);
    free(strs);
    wb__csv_dict_free(&all);
    return rc;
}

/* ------------------------------------------------------------ the read */

int wb_sql_read(wb_exec *ex, const char *url, const char *src, const wb_sql_read_opts *o, wb_dataset **out)
{
    *out = NULL;
    plan p;
    memset(&p, 0, sizeof p);
    p.max_levels = o->max_levels;
    int rc = wb__sql_url_parse(url, WHO, &p.u);
    wb_exec_info xi;
    wb_exec_info_get(ex, &xi);
    /* the source */
    if (!rc) {
        const char *s = skip_space(src);
        if (!*s) rc = wb_seterr(WB_EINVAL, "%s: no table or query given", WHO);
        else if (is_query(src)) {
            p.query = strdup(s);
            if (!p.query) rc = wb_seterr(WB_ENOMEM, "out of memory");
            size_t n = p.query ? strlen(p.query) : 0;
            while (n && (isspace((unsigned char)p.query[n - 1]) || p.query[n - 1] == ';')) p.query[--n] = 0;
            if (!rc && (wb_buf_printf(&p.from, "(%s\n) AS wb_q", p.query) || wb_buf_printf(&p.describe, "%s", p.query)))
                rc = wb_seterr(WB_ENOMEM, "out of memory");
        } else {
            rc = wb__sql_ident(&p.from, src);
            if (!rc) rc = wb_buf_add(&p.from, "", 1) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
            if (!rc) p.from.len--;
            if (!rc && wb_buf_printf(&p.describe, "SELECT * FROM %s", (char *)p.from.p)) rc = wb_seterr(WB_ENOMEM, "out of memory");
        }
    }
    /* connect, describe */
    if (!rc) {
        if (p.u.kind == SQL_PG) {
            rc = wb__sql_pg_open(&p.u, WHO, &p.pg);
            if (!rc && o->partition_column) rc = wb__sql_pg_snapshot(p.pg, p.snapshot, sizeof p.snapshot);
            if (!rc) rc = wb__sql_pg_describe(p.pg, (char *)p.describe.p, p.query, &p.desc);
            if (!rc && p.u.secrets) p.secret = wb__sql_secret_put(p.u.secrets);
        } else {
            rc = wb__sql_lite_open(&p.u, WHO, &p.lite);
            if (!rc) rc = wb__sql_lite_identity(p.lite, &p.fsize, p.fhead, &p.abspath);
            if (!rc) rc = wb__sql_lite_describe(p.lite, (char *)p.describe.p, p.query, &p.desc);
        }
    }
    if (!rc) rc = choose_columns(&p, src, o);
    /* partitions */
    parts pp;
    memset(&pp, 0, sizeof pp);
    pp.k = 1;
    const sql_col *pc = NULL;
    if (!rc && o->partition_column) {
        int64_t j = find_col(&p, o->partition_column);
        if (j < 0) rc = no_col(&p, src, o->partition_column, "partition_column");
        else pc = &p.desc.col[j];
        if (!rc) rc = plan_parts(&p, src, o, ex, pc, &pp);
    }
    /* the select list */
    wb_buf items = {0};
    for (int64_t a = 0; !rc && a < p.ncol; a++) {
        if (a) rc = wb_buf_add(&items, ", ", 2) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
        if (!rc) rc = p.u.kind == SQL_PG ? wb__sql_pg_select_item(&items, &p.desc.col[p.sel[a]], p.kinds[a])
                                         : wb__sql_ident(&items, p.desc.col[p.sel[a]].name);
    }
    if (!rc) rc = wb_buf_add(&items, "", 1) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    /* the tasks; on the local executor each puts its rows in the store in
     * partitions of wb_partition_rows rows while they arrive (direct mode) */
    int64_t np = pp.k;
    int direct = !xi.remote && xi.store != NULL;
    wb_oid *chunk = rc ? NULL : calloc((size_t)np + 1, sizeof *chunk);
    if (!rc && !chunk) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t i = 0; !rc && i < np; i++) {
        wb_buf cond = {0}, desc = {0}, q = {0}, where = {0}, arg = {0};
        sql_targ t;
        memset(&t, 0, sizeof t);
        t.magic = SQL_TARG_MAGIC;
        t.backend = (uint32_t)p.u.kind;
        t.part = (int32_t)i;
        t.nparts = (int32_t)np;
        t.d = p.d;
        t.has_y = p.has_y;
        t.max_levels = o->max_levels;
        t.secret = p.secret;
        t.file_size = p.fsize;
        memcpy(t.file_head, p.fhead, 32);
        t.direct = direct ? wb_partition_rows(p.d) : 0;
        if (np > 1) rc = part_sql(&p, pc, &pp, i, &cond, &desc, &t);
        if (!rc) {
            int e = p.u.kind == SQL_PG
                        ? wb_buf_printf(&q, "COPY (SELECT %s FROM %s%s%s) TO STDOUT (FORMAT binary)", (char *)items.p,
                                        (char *)p.from.p, np > 1 ? " WHERE " : "", np > 1 ? (char *)cond.p : "")
                        : wb_buf_printf(&q, "SELECT %s FROM %s%s%s", (char *)items.p, (char *)p.from.p, np > 1 ? " WHERE " : "",
                                        np > 1 ? (char *)cond.p : "");
            if (!e) e = np > 1 ? wb_buf_printf(&where, "partition %lld of %lld (%s)", (long long)i + 1, (long long)np, (char *)desc.p)
                               : wb_buf_add(&where, "", 1);
            if (e) rc = wb_seterr(WB_ENOMEM, "out of memory");
        }
        if (!rc)
            rc = wb__sql_targ_build(&arg, &t, p.kinds, (char *)where.p, p.u.kind == SQL_PG ? p.u.conninfo : p.abspath,
                                    (char *)q.p, p.u.display, p.snapshot, p.names);
        if (!rc) {
            wb_task task = {p.u.kind == SQL_PG ? "sql.pg_read" : "sql.sqlite_read", NULL, 0, arg.p, arg.len,
                            WB_TASK_PLAIN, 0, -1};
            rc = wb_exec_submit_tasks(ex, &task, 1, &chunk[i]);
        }
        wb_buf_free(&cond);
        wb_buf_free(&desc);
        wb_buf_free(&q);
        wb_buf_free(&where);
        if (arg.p) memset(arg.p, 0, arg.len);
        wb_buf_free(&arg);
    }
    wb_buf_free(&items);
    free(pp.bi);
    free(pp.bd);
    if (!rc) rc = wait_reads(ex, chunk, np, !xi.remote);
    /* the snapshot is no longer needed */
    wb__sql_pg_close(p.pg);
    p.pg = NULL;
    /* rows and levels of each chunk */
    sql_info *inf = rc ? NULL : calloc((size_t)np + 1, sizeof *inf);
    if (!rc && !inf) rc = wb_seterr(WB_ENOMEM, "out of memory");
    wb_oid *res = rc ? NULL : calloc((size_t)np + 1, sizeof *res);
    void **infbuf = rc ? NULL : calloc((size_t)np + 1, sizeof *infbuf);
    if (!rc && (!res || !infbuf)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    /* the pieces of the result in order: the chunks, or in direct mode the
     * partitions each read made (our references) */
    piece *pc_ = rc ? NULL : calloc((size_t)np + 1, sizeof *pc_);
    int64_t npc = 0, cappc = np + 1;
    if (!rc && !pc_) rc = wb_seterr(WB_ENOMEM, "out of memory");
    int64_t P = wb_partition_rows(p.d);
    for (int64_t i = 0; direct && !rc && i < np; i++) { /* the info, then the partitions */
        size_t size = 0;
        int64_t nseg = 0;
        rc = wb_exec_get(ex, chunk[i], &infbuf[i], &size);
        if (!rc) rc = wb__sql_info_decode(infbuf[i], size, p.ncol, &inf[i]);
        const unsigned char *q = infbuf[i];
        if (!rc && (size < inf[i].end + 8 || (memcpy(&nseg, q + inf[i].end, 8), nseg != (inf[i].rows + P - 1) / P) ||
                    (size - inf[i].end - 8) / sizeof(wb_oid) != (size_t)nseg))
            rc = wb_seterr(WB_EINTERNAL, "%s: a bad result of the read", WHO);
        if (!rc && npc + nseg >= cappc) {
            piece *x = realloc(pc_, (size_t)(npc + nseg + np + 1) * sizeof *x);
            if (!x) rc = wb_seterr(WB_ENOMEM, "out of memory");
            else pc_ = x, cappc = npc + nseg + np + 1;
        }
        for (int64_t sgm = 0; !rc && sgm < nseg; sgm++) {
            wb_oid id;
            memcpy(&id, q + inf[i].end + 8 + (size_t)sgm * sizeof id, sizeof id);
            pc_[npc++] = (piece){id, i, sgm < nseg - 1 ? P : inf[i].rows - sgm * P, 0, sgm * P};
        }
        if (!rc) { /* its partitions are ours now */
            wb_exec_release(ex, chunk[i]);
            chunk[i] = 0;
        }
    }
    for (int64_t i = 0; !direct && !rc && i < np; i++) {
        wb_task t = {"sql.info", &chunk[i], 1, NULL, 0, WB_TASK_PLAIN, 0, -1};
        rc = wb_exec_submit_tasks(ex, &t, 1, &res[i]);
    }
    if (!direct && !rc) rc = wb_exec_wait(ex, res, (int)np);
    for (int64_t i = 0; !direct && !rc && i < np; i++) {
        size_t size = 0;
        rc = wb_exec_get(ex, res[i], &infbuf[i], &size);
        if (!rc) rc = wb__sql_info_decode(infbuf[i], size, p.ncol, &inf[i]);
        if (!rc) {
            pc_[npc++] = (piece){chunk[i], i, inf[i].rows, 0, 0};
            chunk[i] = 0;
        }
    }
    for (int64_t i = 0; res && i < np; i++)
        if (res[i]) wb_exec_release(ex, res[i]);
    free(res);
    /* the types: text columns are categories; a column of no declared type
     * is one if its values are text, and may not be numbers elsewhere */
    unsigned char *cat = rc ? NULL : calloc((size_t)p.ncol + 1, 1);
    if (!rc && !cat) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t j = 0; !rc && j < p.ncol; j++) {
        cat[j] = wb__sql_kind_text(p.kinds[j]);
        if (p.kinds[j] != SK_LANY) continue;
        int64_t kn = -1, kt = -1;
        for (int64_t k = 0; k < np; k++) {
            if (kn < 0 && (inf[k].col[j].seen & SQL_SEEN_NUM)) kn = k;
            if (kt < 0 && (inf[k].col[j].seen & SQL_SEEN_TEXT)) kt = k;
        }
        if (kn >= 0 && kt >= 0)
            rc = wb_seterr(WB_EFORMAT, "%s: %s: column \"%s\": numbers in partition %lld (its row %lld) and text in "
                                       "partition %lld (its row %lld); SQLite keeps any value in any column: dtype = "
                                       "{%s = \"category\"} or {%s = \"number\"} says how to read it",
                           WHO, p.u.display, p.names[j], (long long)kn + 1, (long long)inf[kn].col[j].first_num + 1,
                           (long long)kt + 1, (long long)inf[kt].col[j].first_text + 1, p.names[j], p.names[j]);
        cat[j] = kt >= 0;
    }
    /* levels and the maps of each chunk's codes */
    wb_levels **lv = rc ? NULL : calloc((size_t)p.ncol + 1, sizeof *lv);
    uint32_t **maps = rc ? NULL : calloc((size_t)(p.ncol + 1) * (size_t)(np + 1), sizeof *maps);
    if (!rc && (!lv || !maps)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t j = 0; !rc && j < p.ncol; j++)
        if (cat[j]) rc = merge_levels(&p, inf, np, j, &lv[j], maps + (size_t)j * (size_t)(np + 1));
    wb_oid *mapobj = rc ? NULL : calloc((size_t)np + 1, sizeof *mapobj);
    if (!rc && !mapobj) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t k = 0; !rc && k < np; k++) {
        wb_buf b = {0};
        int64_t count = 0;
        rc = wb_buf_add(&b, &count, 8) ? WB_ENOMEM : 0;
        for (int64_t j = 0; !rc && j < p.ncol; j++) {
            uint32_t *m = maps[(size_t)j * (size_t)(np + 1) + (size_t)k];
            if (!m) continue;
            uint32_t hh[2] = {(uint32_t)j, inf[k].col[j].nlevels};
            rc = wb_buf_add(&b, hh, 8) || wb_buf_add(&b, m, (size_t)hh[1] * 4) ? WB_ENOMEM : 0;
            count++;
        }
        if (rc) rc = wb_seterr(WB_ENOMEM, "out of memory");
        if (!rc && count) {
            memcpy(b.p, &count, 8);
            rc = wb_exec_put(ex, b.p, b.len, &mapobj[k]);
        }
        wb_buf_free(&b);
    }
    for (size_t i = 0; maps && i < (size_t)(p.ncol + 1) * (size_t)(np + 1); i++) free(maps[i]);
    free(maps);
    /* the dataset's partitions: an aligned piece as it is (or its codes
     * mapped), else the rows of the pieces that cover it (sql.assemble);
     * pieces are released once their last rows are taken (the tasks hold
     * them), so the pieces and the partitions made of them never all coexist */
    int64_t N = 0;
    for (int64_t k = 0; !rc && k < npc; k++) {
        pc_[k].g = N;
        N += pc_[k].rows;
    }
    int64_t nout = rc ? 0 : (N + P - 1) / P;
    if (!rc && nout > INT32_MAX) rc = wb_seterr(WB_ELIMIT, "%s: too many rows", WHO);
    wb_dspart *dp = rc ? NULL : calloc((size_t)nout + 1, sizeof *dp);
    if (!rc && !dp) rc = wb_seterr(WB_ENOMEM, "out of memory");
    wb_oid *ins = NULL;
    int64_t *spec = NULL, capins = 0, p0 = 0;
    for (int64_t o2 = 0; !rc && o2 < nout; o2++) {
        int64_t lo = o2 * P, hi = lo + P < N ? lo + P : N;
        dp[o2].rows = hi - lo;
        dp[o2].row0 = lo;
        int64_t first = p0, last = p0; /* the pieces [first, last) that hold rows of [lo, hi) */
        while (first < npc && pc_[first].g + pc_[first].rows <= lo) first++;
        last = first;
        while (last < npc && pc_[last].g < hi) last++;
        if (direct && last - first == 1 && pc_[first].g == lo && pc_[first].rows == hi - lo && pc_[first].row0 == lo &&
            pc_[first].oid) { /* its own first row is the dataset's (the first read's) */
            wb_oid map = mapobj[pc_[first].chunk];
            if (map) {
                wb_oid two[2] = {pc_[first].oid, map};
                wb_task t = {"sql.remap", two, 2, NULL, 0, WB_TASK_PLAIN, 0, hi - lo};
                rc = wb_exec_submit_tasks(ex, &t, 1, &dp[o2].oid);
            } else {
                dp[o2].oid = pc_[first].oid; /* the piece is the partition */
                pc_[first].oid = 0;
            }
            goto taken;
        }
        if (last - first + 1 > capins) {
            capins = 2 * (last - first + 1);
            wb_oid *ni = realloc(ins, (size_t)capins * 2 * sizeof *ni);
            int64_t *ns = realloc(spec, (size_t)(5 + 3 * capins) * sizeof *ns);
            if (ni) ins = ni;
            if (ns) spec = ns;
            if (!ni || !ns) {
                rc = wb_seterr(WB_ENOMEM, "out of memory");
                break;
            }
        }
        int m = 0, nm = 0;
        wb_oid *maps_in = ins + capins;
        for (int64_t k = first; k < last; k++) {
            if (pc_[k].rows == 0) continue;
            int64_t g = pc_[k].g, a = lo > g ? lo : g, z = hi < g + pc_[k].rows ? hi : g + pc_[k].rows;
            wb_oid map = mapobj[pc_[k].chunk];
            ins[m] = pc_[k].oid;
            spec[5 + 3 * m] = a - g;
            spec[5 + 3 * m + 1] = z - a;
            spec[5 + 3 * m + 2] = -1;
            if (map) { /* each chunk's map once */
                int at = -1;
                for (int i = 0; i < nm; i++)
                    if (maps_in[i] == map) at = i;
                if (at < 0) maps_in[at = nm++] = map;
                spec[5 + 3 * m + 2] = at; /* made an input index below */
            }
            m++;
        }
        for (int i = 0; i < m; i++)
            if (spec[5 + 3 * i + 2] >= 0) spec[5 + 3 * i + 2] += m;
        for (int i = 0; i < nm; i++) ins[m + i] = maps_in[i];
        spec[0] = lo;
        spec[1] = hi - lo;
        spec[2] = p.d;
        spec[3] = p.has_y;
        spec[4] = m;
        wb_task t = {"sql.assemble", ins, m + nm, spec, (size_t)(5 + 3 * m) * 8, WB_TASK_PLAIN, 0, hi - lo};
        rc = wb_exec_submit_tasks(ex, &t, 1, &dp[o2].oid);
    taken:
        /* pieces whose last rows are taken now are released */
        while (!rc && p0 < npc && pc_[p0].g + pc_[p0].rows <= hi) {
            if (pc_[p0].oid) wb_exec_release(ex, pc_[p0].oid);
            pc_[p0++].oid = 0;
        }
    }
    free(ins);
    free(spec);
    for (int64_t k = 0; pc_ && k < npc; k++)
        if (pc_[k].oid) wb_exec_release(ex, pc_[k].oid);
    free(pc_);
    char *why = rc && direct ? wb_strdup(wb_errmsg()) : NULL; /* the failure stays the one reported */
    for (int64_t k = 0; chunk && k < np; k++) {
        if (chunk[k] && direct) drop_direct(ex, chunk[k], p.ncol);
        if (chunk[k]) wb_exec_release(ex, chunk[k]);
        if (mapobj && mapobj[k]) wb_exec_release(ex, mapobj[k]);
    }
    free(chunk);
    free(mapobj);
    if (why) {
        wb_seterr(rc, "%s", why);
        free(why);
    }
    int64_t made = 0;
    for (int64_t o2 = 0; dp && o2 < nout; o2++) made += dp[o2].oid != 0;
    if (!rc) {
        wb_oid *ids = malloc((size_t)(nout + 1) * sizeof *ids);
        if (!ids) rc = wb_seterr(WB_ENOMEM, "out of memory");
        for (int64_t o2 = 0; !rc && o2 < nout; o2++) ids[o2] = dp[o2].oid;
        if (!rc) rc = wb_exec_wait(ex, ids, (int)nout);
        free(ids);
    }
    if (!rc) {
        rc = wb_ds_new(ex, p.d, (int)p.has_y, (int)nout, dp, out); /* takes the partitions */
        made = 0;
    }
    for (int64_t o2 = 0; made && o2 < nout; o2++)
        if (dp[o2].oid) wb_exec_release(ex, dp[o2].oid);
    free(dp);
    for (int64_t j = 0; !rc && j < p.d; j++) {
        rc = wb_ds_set_colname(*out, j, p.names[j]);
        if (!rc && cat[j]) rc = wb_ds_set_coltype(*out, j, WB_COL_CATEGORY, lv[j]);
    }
    if (!rc && p.has_y) rc = wb_ds_set_label_meta(*out, p.names[p.d], cat[p.d] ? lv[p.d] : NULL);
    if (!rc) {
        double rows = (double)(*out)->n;
        wb_progress("sql.read", rows > 0 ? rows : 1, rows > 0 ? rows : 1, NULL);
    }
    for (int64_t j = 0; lv && j < p.ncol; j++) wb_levels_unref(lv[j]);
    free(lv);
    free(cat);
    for (int64_t k = 0; inf && k < np; k++) free(inf[k].col);
    free(inf);
    for (int64_t k = 0; infbuf && k < np; k++) free(infbuf[k]);
    free(infbuf);
    if (rc && *out) {
        wb_ds_unref(*out);
        *out = NULL;
    }
    plan_free(&p);
    return rc;
}
