/* sql/lite.c — SQLite files through libsqlite3.
 *
 * Reading opens the file read-only (SQLITE_OPEN_READONLY: wb never changes
 * a file it reads) and runs one prepared statement per partition, its
 * bounds bound as parameters (?1, ?2). SQLite keeps any value in any column:
 * a column's type comes from its declared type (SQLite's affinity rules:
 * INT -> integer; CHAR, CLOB, TEXT -> text; REAL, FLOA, DOUB -> real; no
 * type or BLOB -> none; else numeric); a value that does not fit it is an
 * error naming the column and the row, unless dtype says how to read the
 * column. A column with no declared type (an expression of a query) is
 * numbers or text by its values, the same in every partition.
 *
 * On a cluster each worker opens the file at the same absolute path; the
 * driver sends the size and first bytes it saw, and a worker that sees
 * another file (or none) stops with a message saying so.
 *
 * Writing: one transaction (BEGIN IMMEDIATE ... COMMIT), a prepared
 * multi-row INSERT reused for batches of rows; a new table of many rows has
 * its batches encoded by threads and copied in order (write_parallel). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include "sql_internal.h"

#ifdef WB_HAVE_SQLITE3
#include <sqlite3.h>

struct sql_lite {
    sqlite3 *db;
    const sql_url *u;
    const char *who;
};

static int lite_err(int code, const char *who, const char *display, const char *where, sqlite3 *db, const char *sql)
{
    const char *m = db ? sqlite3_errmsg(db) : "out of memory";
    int off = -1;
#if SQLITE_VERSION_NUMBER >= 3038000
    if (db && sql) off = sqlite3_error_offset(db);
#endif
    if (off >= 0 && sql && (size_t)off <= strlen(sql)) {
        size_t ls = (size_t)off, le = (size_t)off;
        while (ls > 0 && sql[ls - 1] != '\n') ls--;
        while (sql[le] && sql[le] != '\n') le++;
        size_t from = ls, to = le;
        if ((size_t)off - from > 60) from = (size_t)off - 60;
        if (to - (size_t)off > 60) to = (size_t)off + 60;
        return wb_seterr(code, "%s: %s: %s%s%s (position %d)\n  %s%.*s%s\n  %*s^", who, display, where ? where : "",
                         where ? ": " : "", m, off + 1, from > ls ? "..." : "", (int)(to - from), sql + from,
                         to < le ? "..." : "", (int)((size_t)off - from + (from > ls ? 3 : 0)), "");
    }
    return wb_seterr(code, "%s: %s: %s%s%s", who, display, where ? where : "", where ? ": " : "", m);
}

static int open_ro(const char *path, const char *who, const char *display, sqlite3 **out)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return wb_seterr(errno == ENOENT ? WB_ENOTFOUND : WB_EIO, "%s: %s: cannot open (%s)", who, display, strerror(errno));
    if (!S_ISREG(st.st_mode)) return wb_seterr(WB_EIO, "%s: %s: not a file", who, display);
    sqlite3 *db = NULL;
    /* NOMUTEX: a connection is used by one thread only (the driver's or a task's), so
     * no lock around every sqlite3_column_* call (a fifth of a read's time) */
    int r = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (r != SQLITE_OK) {
        int rc = lite_err(WB_EIO, who, display, NULL, db, NULL);
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 10000);
    /* no memory map (PRAGMA mmap_size): it saves the copy of each page read
     * (a few per cent of a read) but the pages of the file mapped count in the
     * process's resident memory, each thread's map apart (a 0.5 GB table read
     * by 2 threads showed 1.8 GB peak rather than 0.5) */
    *out = db;
    return 0;
}

int wb__sql_lite_open(const sql_url *u, const char *who, sql_lite **out)
{
    *out = NULL;
    sqlite3 *db;
    int rc = open_ro(u->path, who, u->display, &db);
    if (rc) return rc;
    sql_lite *l = calloc(1, sizeof *l);
    if (!l) {
        sqlite3_close(db);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    l->db = db;
    l->u = u;
    l->who = who;
    *out = l;
    return 0;
}

void wb__sql_lite_close(sql_lite *l)
{
    if (!l) return;
    sqlite3_close(l->db);
    free(l);
}

static int file_identity(const char *path, int64_t *size, uint8_t head[32])
{
    memset(head, 0, 32);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    struct stat st;
    int ok = fstat(fileno(f), &st) == 0;
    if (ok) {
        *size = (int64_t)st.st_size;
        size_t n = fread(head, 1, 32, f);
        (void)n;
    }
    fclose(f);
    return ok ? 0 : -1;
}

int wb__sql_lite_identity(sql_lite *l, int64_t *size, uint8_t head[32], char **abspath)
{
    *abspath = realpath(l->u->path, NULL);
    if (!*abspath || file_identity(*abspath, size, head))
        return wb_seterr(WB_EIO, "%s: %s: cannot open (%s)", l->who, l->u->display, strerror(errno));
    return 0;
}

/* SQLite's affinity of a declared type (datatype3.html, 3.1) as a kind */
static void kind_of_decl(const char *decl, sql_col *c)
{
    char u[128];
    size_t n = 0;
    for (const char *p = decl ? decl : ""; *p && n + 1 < sizeof u; p++) u[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    u[n] = 0;
    c->cast = "";
    if (strstr(u, "INT")) c->kind = SK_LNUM, c->orderable = 2;
    else if (strstr(u, "CHAR") || strstr(u, "CLOB") || strstr(u, "TEXT")) c->kind = SK_LTEXT, c->orderable = 0;
    else if (!n || strstr(u, "BLOB")) c->kind = SK_LANY, c->orderable = 2;
    else if (strstr(u, "DATE") || strstr(u, "TIME")) c->kind = SK_LDATE, c->orderable = 0;
    else c->kind = SK_LNUM, c->orderable = 2; /* REAL, FLOAT, DOUBLE, NUMERIC, DECIMAL, BOOLEAN ... */
}

int wb__sql_lite_describe(sql_lite *l, const char *select_sql, const char *query, sql_desc *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, select_sql, -1, &st, NULL) != SQLITE_OK) {
        int rc = lite_err(WB_EINVAL, l->who, l->u->display, NULL, l->db, query ? query : select_sql);
        sqlite3_finalize(st);
        return rc;
    }
    if (!st) return wb_seterr(WB_EINVAL, "%s: %s: the query is empty", l->who, l->u->display);
    int nf = sqlite3_column_count(st), rc = 0;
    if (!sqlite3_stmt_readonly(st)) rc = wb_seterr(WB_EINVAL, "%s: %s: the query changes the database (wb reads with SELECT)", l->who, l->u->display);
    if (!rc && sqlite3_bind_parameter_count(st) > 0)
        rc = wb_seterr(WB_EINVAL, "%s: %s: the query has parameters (?): write the values into it", l->who, l->u->display);
    out->col = rc ? NULL : calloc((size_t)nf + 1, sizeof *out->col);
    if (!rc && !out->col) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int j = 0; !rc && j < nf; j++) {
        sql_col *c = &out->col[j];
        const char *decl = sqlite3_column_decltype(st, j);
        c->name = strdup(sqlite3_column_name(st, j));
        c->type = strdup(decl ? decl : "(none)");
        out->ncol = j + 1;
        if (!c->name || !c->type) rc = wb_seterr(WB_ENOMEM, "out of memory");
        kind_of_decl(decl, c);
    }
    sqlite3_finalize(st);
    if (rc) wb__sql_desc_free(out);
    return rc;
}

/* min and max of a column over half of a table's rows (rowid <= cut, or > cut) */
typedef struct half_mm {
    const char *path, *sql;
    int64_t cut;
    sqlite3 *db;
    sqlite3_stmt *st; /* stepped to its one row */
    int ok;
} half_mm;

static void *half_main(void *arg)
{
    half_mm *h = arg;
    h->ok = sqlite3_open_v2(h->path, &h->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK;
    if (h->ok) sqlite3_busy_timeout(h->db, 10000);
    h->ok = h->ok && sqlite3_prepare_v2(h->db, h->sql, -1, &h->st, NULL) == SQLITE_OK &&
            sqlite3_bind_int64(h->st, 1, h->cut) == SQLITE_OK && sqlite3_step(h->st) == SQLITE_ROW;
    return NULL;
}

/* The bounds of a large table's column without an index are a scan of the
 * whole table before any partition is read: two threads scan a half each
 * (by rowid, when the table has one) and their results are combined by
 * SQLite's own min() and max() (a half with no value but NULL gives NULL).
 * *st: the combining statement, stepped to its row; 0 when the table is
 * not such (then the one query does it) */
static int bounds_halves(sql_lite *l, const char *from_sql, const char *id, sqlite3_stmt **st)
{
    *st = NULL;
    if (from_sql[0] != '"') return 0; /* a query, not a table */
    wb_buf name = {0}, q = {0};
    for (const char *p = from_sql + 1; *p && !(p[0] == '"' && p[1] != '"'); p++) {
        if (p[0] == '"') p++; /* "" in a quoted name */
        if (wb_buf_add(&name, p, 1)) break;
    }
    int use = wb_buf_add(&name, "", 1) == 0;
    const char *type = NULL;
    int pk = 0;
    /* the rowid is the table's (not a column of that name), and an integer */
    use = use && sqlite3_table_column_metadata(l->db, NULL, (char *)name.p, "rowid", &type, NULL, NULL, &pk, NULL) == SQLITE_OK &&
          pk && type && !sqlite3_stricmp(type, "INTEGER");
    sqlite3_stmt *r = NULL;
    int64_t lo = 0, hi = 0;
    if (use && wb_buf_printf(&q, "SELECT min(rowid), max(rowid) FROM %s", from_sql) == 0 &&
        sqlite3_prepare_v2(l->db, (char *)q.p, -1, &r, NULL) == SQLITE_OK && sqlite3_step(r) == SQLITE_ROW &&
        sqlite3_column_type(r, 0) == SQLITE_INTEGER) {
        lo = sqlite3_column_int64(r, 0);
        hi = sqlite3_column_int64(r, 1);
    }
    sqlite3_finalize(r);
    /* a small table: one scan is quick (WB_SQL_TEST_SPLIT_ROWS: the least rowid span split, for the tests) */
    const char *least = getenv("WB_SQL_TEST_SPLIT_ROWS");
    use = use && hi - lo >= (least && atoll(least) > 0 ? atoll(least) : 1 << 20);
    half_mm h[2];
    memset(h, 0, sizeof h);
    wb_buf hq[2] = {{0}, {0}};
    pthread_t th[2];
    int started = 0;
    for (int k = 0; use && k < 2; k++) {
        if (wb_buf_printf(&hq[k], "SELECT min(%s), max(%s) FROM %s WHERE rowid %s ?1", id, id, from_sql, k ? ">" : "<=")) {
            use = 0;
            break;
        }
        h[k].path = l->u->path;
        h[k].sql = (char *)hq[k].p;
        h[k].cut = lo + (hi - lo) / 2;
        if (pthread_create(&th[k], NULL, half_main, &h[k]) != 0) break;
        started++;
    }
    for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    use = use && started == 2 && h[0].ok && h[1].ok;
    if (use) {
        const char *comb = "SELECT CASE WHEN ?1 IS NULL THEN ?2 WHEN ?2 IS NULL THEN ?1 ELSE min(?1, ?2) END, "
                           "CASE WHEN ?3 IS NULL THEN ?4 WHEN ?4 IS NULL THEN ?3 ELSE max(?3, ?4) END";
        use = sqlite3_prepare_v2(l->db, comb, -1, st, NULL) == SQLITE_OK;
        for (int k = 0; use && k < 2; k++)
            use = sqlite3_bind_value(*st, 1 + k, sqlite3_column_value(h[k].st, 0)) == SQLITE_OK &&
                  sqlite3_bind_value(*st, 3 + k, sqlite3_column_value(h[k].st, 1)) == SQLITE_OK;
        use = use && sqlite3_step(*st) == SQLITE_ROW;
        if (!use) {
            sqlite3_finalize(*st);
            *st = NULL;
        }
    }
    for (int k = 0; k < 2; k++) {
        sqlite3_finalize(h[k].st);
        sqlite3_close(h[k].db);
        wb_buf_free(&hq[k]);
    }
    wb_buf_free(&name);
    wb_buf_free(&q);
    return 0;
}

int wb__sql_lite_bounds(sql_lite *l, const char *from_sql, const sql_col *col, sql_bounds *out)
{
    memset(out, 0, sizeof *out);
    wb_buf q = {0}, id = {0};
    int rc = wb__sql_ident(&id, col->name);
    if (!rc) rc = wb_buf_add(&id, "", 1) ? WB_ENOMEM : 0;
    sqlite3_stmt *st = NULL;
    if (!rc) bounds_halves(l, from_sql, (char *)id.p, &st);
    if (!rc && !st) {
        rc = wb_buf_printf(&q, "SELECT min(%s), max(%s) FROM %s", (char *)id.p, (char *)id.p, from_sql) ? WB_ENOMEM : 0;
        if (!rc && sqlite3_prepare_v2(l->db, (char *)q.p, -1, &st, NULL) != SQLITE_OK)
            rc = lite_err(WB_EINVAL, l->who, l->u->display, NULL, l->db, (char *)q.p);
        if (!rc) {
            int s = sqlite3_step(st);
            if (s != SQLITE_ROW) rc = lite_err(WB_EIO, l->who, l->u->display, NULL, l->db, NULL);
        }
    }
    if (!rc) {
        int ta = sqlite3_column_type(st, 0), tz = sqlite3_column_type(st, 1);
        if (ta == SQLITE_NULL || tz == SQLITE_NULL) out->kind = 0;
        else if ((ta != SQLITE_INTEGER && ta != SQLITE_FLOAT) || (tz != SQLITE_INTEGER && tz != SQLITE_FLOAT)) {
            const char *txt = (const char *)sqlite3_column_text(st, ta == SQLITE_INTEGER || ta == SQLITE_FLOAT ? 1 : 0);
            rc = wb_seterr(WB_EINVAL, "%s: %s: the partition column \"%s\" holds text (\"%.40s\"): range partitions need "
                                      "numbers (or leave partition_column out for one streaming read)",
                           l->who, l->u->display, col->name, txt ? txt : "");
        } else if (ta == SQLITE_INTEGER && tz == SQLITE_INTEGER) {
            out->kind = 1;
            out->imin = sqlite3_column_int64(st, 0);
            out->imax = sqlite3_column_int64(st, 1);
            out->dmin = (double)out->imin;
            out->dmax = (double)out->imax;
        } else {
            out->kind = 2;
            out->dmin = sqlite3_column_double(st, 0);
            out->dmax = sqlite3_column_double(st, 1);
        }
    }
    sqlite3_finalize(st);
    wb_buf_free(&q);
    wb_buf_free(&id);
    return rc;
}

/* ------------------------------------------------------------ dates */

/* days since 1970-01-01 of a date of the proleptic Gregorian calendar */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* "YYYY-MM-DD", then optionally [T ]HH:MM[:SS[.fff]] and Z or +HH:MM /
 * -HH:MM (SQLite's date and time functions' formats): seconds since 1970 */
static int parse_iso(const char *s, size_t n, double *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    double frac = 0;
    if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return 0;
    size_t i = 10;
    if (i < n && (s[i] == ' ' || s[i] == 'T')) {
        if (n < i + 6 || !digits(s + i + 1, 2, &h) || s[i + 3] != ':' || !digits(s + i + 4, 2, &mi)) return 0;
        i += 6;
        if (i < n && s[i] == ':') {
            if (n < i + 3 || !digits(s + i + 1, 2, &se)) return 0;
            i += 3;
            if (i < n && s[i] == '.') {
                double sc = 0.1;
                for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, sc /= 10) frac += (s[i] - '0') * sc;
            }
        }
        if (h > 24 || mi > 59 || se > 60) return 0;
    }
    double off = 0;
    if (i < n && s[i] == 'Z') i++;
    else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (n < i + 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || !digits(s + i + 4, 2, &om)) return 0;
        off = (s[i] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
        i += 6;
    }
    if (i != n) return 0;
    *out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + se + frac - off;
    return 1;
}

/* ------------------------------------------------------------ sql.sqlite_read */

/* the declared type makes a column of numbers (else dtype forced it) */
static int decl_is_number(const char *decl)
{
    sql_col c;
    kind_of_decl(decl, &c);
    return c.kind == SK_LNUM;
}

/* a value that does not fit its column: what it is, and how to read the
 * column otherwise (forced: dtype already says number) */
static int value_err(sql_chunk *ch, int64_t j, const char *decl, const char *txt, int n, const char *what, int forced)
{
    char nm[128];
    const char *col = ch->names ? ch->names[j] : "...";
    return wb_seterr(WB_EFORMAT, "%s: row %lld, %s (declared %s): \"%.*s\" %s; %s%s%s", ch->where, (long long)ch->rows + 1,
                     wb__sql_chunk_name(ch, j, nm, sizeof nm), decl, n > 40 ? 40 : n, txt ? txt : "", what,
                     forced ? "dtype says number" : "SQLite keeps any value in any column: dtype = {",
                     forced ? "" : col, forced ? "" : " = \"category\"} reads the column as text");
}

static int k_sqlite_read(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    (void)nin;
    sql_targs a;
    int rc = wb__sql_targ_parse(arg, arglen, &a);
    if (rc) return rc;
    const char *who = "wb.sql.read";
    char host[64] = "", prefix[1024];
    gethostname(host, sizeof host - 1);
    snprintf(prefix, sizeof prefix, "%s: %s%s%s", who, a.display, a.where[0] ? ": " : "", a.where);
    /* the file the driver read? */
    int64_t size = -1;
    uint8_t head[32];
    if (file_identity(a.conn, &size, head))
        rc = wb_seterr(WB_ENOTFOUND, "%s: no file %s on %s (pid %d): tasks open the file at the same path "
                                     "wherever they run, so every worker of a cluster must see it (a shared folder)",
                       prefix, a.conn, host, (int)getpid());
    else if (size != a.t.file_size || memcmp(head, a.t.file_head, 32) != 0)
        rc = wb_seterr(WB_EIO, "%s: the file %s on %s (pid %d) is not the one the read was planned on (%lld "
                               "bytes, expected %lld): every worker of a cluster must see the same file",
                       prefix, a.conn, host, (int)getpid(), (long long)size, (long long)a.t.file_size);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (!rc) rc = open_ro(a.conn, who, a.display, &db);
    const char *wh = a.where[0] ? a.where : NULL;
    if (!rc && sqlite3_prepare_v2(db, a.query, -1, &st, NULL) != SQLITE_OK) rc = lite_err(WB_EIO, who, a.display, wh, db, a.query);
    if (!rc && sqlite3_column_count(st) != a.ncol)
        rc = wb_seterr(WB_EIO, "%s: the query returns %d columns, expected %lld (the database changed?)", prefix,
                       sqlite3_column_count(st), (long long)a.ncol);
    for (int i = 0; !rc && i < a.t.nbind && i < 2; i++) {
        int r = a.t.bkind == 1 ? sqlite3_bind_int64(st, i + 1, a.t.bi[i]) : sqlite3_bind_double(st, i + 1, a.t.bd[i]);
        if (r != SQLITE_OK) rc = lite_err(WB_EIO, who, a.display, wh, db, NULL);
    }
    sql_chunk ch;
    int have = 0;
    double *row = NULL;
    if (!rc && !(rc = wb__sql_chunk_init(&ch, a.t.d, (int)a.t.has_y, a.t.max_levels))) {
        have = 1;
        ch.ctx = ctx;
        ch.where = prefix;
        ch.names = a.names;
        if (a.t.direct > 0) wb__sql_chunk_direct(&ch, ctx->store, a.t.direct);
        row = malloc((size_t)(a.ncol + 1) * 8);
        if (!row) rc = wb_seterr(WB_ENOMEM, "out of memory");
    }
    while (!rc) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE) break;
        if (s != SQLITE_ROW) {
            rc = lite_err(WB_EIO, who, a.display, wh, db, NULL);
            break;
        }
        for (int64_t j = 0; !rc && j < a.ncol; j++) {
            /* one sqlite3_value per cell and the sqlite3_value_* accessors: each
             * sqlite3_column_* call checks the statement and the error state
             * again (sqlite3ApiExit), a third of the time spent on a row of
             * numbers. The value is the statement's own (unprotected: fine, as
             * this thread alone uses the connection) and valid until the next step */
            sqlite3_value *cv = sqlite3_column_value(st, (int)j);
            int t = sqlite3_value_type(cv), k = a.kinds[j];
            double v = NAN;
            if (t == SQLITE_FLOAT && k != SK_LDATE && k != SK_LTEXT) { /* the common case first */
                v = sqlite3_value_double(cv);
                if (!(ch.seen[j] & SQL_SEEN_NUM) && v == v) ch.seen[j] |= SQL_SEEN_NUM, ch.first_num[j] = ch.rows;
                if (k == SK_LANY && (ch.seen[j] & (SQL_SEEN_NUM | SQL_SEEN_TEXT)) == (SQL_SEEN_NUM | SQL_SEEN_TEXT)) {
                    char nm[128];
                    rc = wb_seterr(WB_EFORMAT,
                                   "%s: %s: numbers (row %lld) and text (row %lld) in one column; SQLite keeps any value in any "
                                   "column: dtype = {%s = \"category\"} or {%s = \"number\"} says how to read it",
                                   prefix, wb__sql_chunk_name(&ch, j, nm, sizeof nm), (long long)ch.first_num[j] + 1,
                                   (long long)ch.first_text[j] + 1, a.names[j], a.names[j]);
                }
                row[j] = v;
                continue;
            }
            if (t == SQLITE_NULL) {
                row[j] = NAN;
                continue;
            }
            if (t == SQLITE_BLOB && k != SK_LTEXT) {
                const char *decl = sqlite3_column_decltype(st, (int)j);
                rc = value_err(&ch, j, decl ? decl : "(none)", "", 0, "is a BLOB", 0);
                break;
            }
            int text = 0;
            if (k == SK_LTEXT) text = 1;
            else if (k == SK_LANY) text = t == SQLITE_TEXT;
            if (text) {
                const char *p = (const char *)sqlite3_value_text(cv);
                int n = sqlite3_value_bytes(cv);
                if (!p) {
                    rc = wb_seterr(WB_ENOMEM, "out of memory");
                    break;
                }
                if (memchr(p, 0, (size_t)n)) {
                    rc = value_err(&ch, j, "text", p, (int)strlen(p), "holds a NUL byte", 0);
                    break;
                }
                rc = wb__sql_chunk_text(&ch, j, p, (size_t)n, &v);
                if (!(ch.seen[j] & SQL_SEEN_TEXT)) ch.seen[j] |= SQL_SEEN_TEXT, ch.first_text[j] = ch.rows;
            } else if (t == SQLITE_INTEGER && k != SK_LDATE)
                v = (double)sqlite3_value_int64(cv);
            else if (t == SQLITE_FLOAT && k != SK_LDATE)
                v = sqlite3_value_double(cv);
            else if (k == SK_LDATE && t == SQLITE_INTEGER)
                v = (double)sqlite3_value_int64(cv); /* unix seconds */
            else if (k == SK_LDATE && t == SQLITE_FLOAT)
                v = (sqlite3_value_double(cv) - 2440587.5) * 86400.0; /* a Julian day */
            else { /* text in a column of numbers or dates */
                const char *p = (const char *)sqlite3_value_text(cv);
                int n = sqlite3_value_bytes(cv);
                const char *decl = sqlite3_column_decltype(st, (int)j);
                if (k == SK_LDATE) {
                    if (!parse_iso(p, (size_t)n, &v))
                        rc = value_err(&ch, j, decl ? decl : "(none)", p, n, "is not a date (YYYY-MM-DD [HH:MM[:SS]])", 0);
                } else if (n == 0)
                    v = NAN;
                else if (!wb__csv_number(p, (size_t)n, ',', &v))
                    rc = value_err(&ch, j, decl ? decl : "(none)", p, n, "does not convert to a number",
                                   !decl_is_number(decl));
            }
            if (!rc && !text && v == v && !(ch.seen[j] & SQL_SEEN_NUM)) ch.seen[j] |= SQL_SEEN_NUM, ch.first_num[j] = ch.rows;
            if (!rc && k == SK_LANY && (ch.seen[j] & (SQL_SEEN_NUM | SQL_SEEN_TEXT)) == (SQL_SEEN_NUM | SQL_SEEN_TEXT)) {
                char nm[128];
                rc = wb_seterr(WB_EFORMAT,
                               "%s: %s: numbers (row %lld) and text (row %lld) in one column; SQLite keeps any value in any "
                               "column: dtype = {%s = \"category\"} or {%s = \"number\"} says how to read it",
                               prefix, wb__sql_chunk_name(&ch, j, nm, sizeof nm), (long long)ch.first_num[j] + 1,
                               (long long)ch.first_text[j] + 1, a.names[j], a.names[j]);
            }
            row[j] = v;
        }
        if (!rc) rc = wb__sql_chunk_add(&ch, row);
        if (!rc && (ch.rows & 0xfff) == 0 && wb__cancelled(ctx)) rc = wb_seterr(WB_ECANCELED, "interrupted");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (!rc) rc = wb__sql_chunk_out(&ch, ctx);
    if (have) wb__sql_chunk_free(&ch);
    free(row);
    wb__sql_targ_free(&a);
    return rc;
}

void wb__sql_register_lite_kernels(void) { wb_register_kernel("sql.sqlite_read", k_sqlite_read); }

/* ------------------------------------------------------------ writing */

static int wexec(sqlite3 *db, const char *sql, const char *who, const char *display)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK) return 0;
    int rc = wb_seterr(WB_EIO, "%s: %s: %s", who, display, err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return rc;
}

/* the multi-row INSERT for `rows` rows */
static int prepare_insert(sqlite3 *db, const char *qt, const sql_wsrc *s, int64_t rows, sqlite3_stmt **st,
                          const char *who, const char *display)
{
    wb_buf q = {0};
    int rc = wb_buf_printf(&q, "INSERT INTO %s (", qt) ? WB_ENOMEM : 0;
    for (int64_t j = 0; !rc && j < s->ncol; j++) {
        if (j) rc = wb_buf_add(&q, ", ", 2) ? WB_ENOMEM : 0;
        if (!rc) rc = wb__sql_ident(&q, s->cols[j].name);
    }
    if (!rc) rc = wb_buf_printf(&q, ") VALUES ") ? WB_ENOMEM : 0;
    for (int64_t i = 0; !rc && i < rows; i++) {
        rc = wb_buf_add(&q, i ? ",(" : "(", i ? 2 : 1) ? WB_ENOMEM : 0;
        for (int64_t j = 0; !rc && j < s->ncol; j++) rc = wb_buf_add(&q, j ? ",?" : "?", j ? 2 : 1) ? WB_ENOMEM : 0;
        if (!rc) rc = wb_buf_add(&q, ")", 1) ? WB_ENOMEM : 0;
    }
    if (!rc) rc = wb_buf_add(&q, "", 1) ? WB_ENOMEM : 0;
    if (rc) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc && sqlite3_prepare_v2(db, (char *)q.p, (int)q.len, st, NULL) != SQLITE_OK)
        rc = wb_seterr(WB_EIO, "%s: %s: %s", who, display, sqlite3_errmsg(db));
    wb_buf_free(&q);
    return rc;
}

/* rows [i0, i0 + m) of a batch bound to x's parameters */
static int bind_rows(sqlite3_stmt *x, const sql_wsrc *s, const double *num, const char *const *text, int64_t i0, int64_t m)
{
    int p = 1;
    for (int64_t i = i0; i < i0 + m; i++)
        for (int64_t j = 0; j < s->ncol; j++, p++) {
            size_t at = (size_t)i * (size_t)s->ncol + (size_t)j;
            int r;
            if (s->cols[j].kind == SW_TEXT)
                r = text[at] ? sqlite3_bind_text(x, p, text[at], -1, SQLITE_STATIC) : sqlite3_bind_null(x, p);
            else {
                double v = num[at];
                if (v != v) r = sqlite3_bind_null(x, p);
                else if (s->cols[j].kind == SW_INT && v == floor(v) && fabs(v) < 9.2e18) r = sqlite3_bind_int64(x, p, (sqlite3_int64)v);
                else r = sqlite3_bind_double(x, p, v);
            }
            if (r != SQLITE_OK) return r;
        }
    return SQLITE_OK;
}

/* a batch of `rows` rows (the source's rows done + 1 ..) by the multi-row
 * INSERT `full` of `per` rows, the rest by `tail` (prepared when its count changes) */
static int insert_rows(sqlite3 *db, const char *qt, const sql_wsrc *s, int64_t per, sqlite3_stmt *full, sqlite3_stmt **tail,
                       int64_t *tail_rows, const double *num, const char *const *text, int64_t rows, int64_t done,
                       const char *who, const char *display)
{
    int rc = 0;
    for (int64_t i0 = 0; !rc && i0 < rows; i0 += per) {
        int64_t m = rows - i0 < per ? rows - i0 : per;
        sqlite3_stmt *x = full;
        if (m < per) {
            if (*tail_rows != m) {
                sqlite3_finalize(*tail);
                *tail = NULL;
                rc = prepare_insert(db, qt, s, m, tail, who, display);
                *tail_rows = m;
            }
            x = *tail;
        }
        if (!rc && bind_rows(x, s, num, text, i0, m) != SQLITE_OK)
            rc = wb_seterr(WB_EIO, "%s: %s: %s", who, display, sqlite3_errmsg(db));
        if (!rc && sqlite3_step(x) != SQLITE_DONE)
            rc = wb_seterr(WB_EIO, "%s: %s: rows %lld..%lld: %s", who, display, (long long)(done + i0 + 1),
                           (long long)(done + i0 + m), sqlite3_errmsg(db));
        if (x) sqlite3_reset(x);
    }
    return rc;
}

/* ------------------------------------------------------------ writing in parallel
 *
 * Most of an INSERT's time is SQLite's own: binding the values and making
 * each row's record. For a table wb creates, threads ("builders") make the
 * records of batches of rows in private in-memory databases, each a table
 * of the same columns and declared types, and the writing connection copies
 * each finished batch in order into the table with INSERT INTO t SELECT *
 * FROM (the batch): SQLite's transfer of identical tables, which copies the
 * records as they are (a quarter of the work of making them). The file gets
 * the same rows with the same records and rowids, in the same order, inside
 * the same single transaction; only that transaction's connection writes to
 * the file. A batch reaches the writing connection by sqlite3_serialize (the
 * builder's) and sqlite3_deserialize into a schema attached before the
 * transaction began. */

enum { WJ_FREE, WJ_QUEUED, WJ_BUSY, WJ_DONE };

typedef struct wjob {
    int state;
    int64_t seq, row0, rows; /* its place among the batches; the rows before it; its rows */
    double *num;             /* rows x ncol: copies of the source's, which change at its next call */
    const char **text;       /* NULL when the source has none */
    size_t cap;              /* cells num and text have room for */
    unsigned char *bytes;    /* the built database (sqlite3_malloc'd) */
    sqlite3_int64 size;
    int rc;
    char *err;
} wjob;

typedef struct wpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wjob *job;
    int njob, stop;
    const sql_wsrc *s;
    const char *create, *who, *display; /* the batch table's CREATE TABLE ("b") */
    int64_t per;
} wpool;

static int build_batch(sqlite3 *bd, wpool *w, wjob *jb, sqlite3_stmt *full, sqlite3_stmt **tail, int64_t *tail_rows)
{
    int rc = wexec(bd, "BEGIN", w->who, w->display);
    if (!rc) rc = wexec(bd, "DELETE FROM b", w->who, w->display); /* the previous batch's rows */
    if (!rc) rc = insert_rows(bd, "b", w->s, w->per, full, tail, tail_rows, jb->num, (const char *const *)jb->text, jb->rows,
                              jb->row0, w->who, w->display);
    if (!rc) rc = wexec(bd, "COMMIT", w->who, w->display);
    else sqlite3_exec(bd, "ROLLBACK", NULL, NULL, NULL);
    if (!rc && !(jb->bytes = sqlite3_serialize(bd, "main", &jb->size, 0))) rc = wb_seterr(WB_ENOMEM, "out of memory");
    return rc;
}

static void *builder_main(void *arg)
{
    wpool *w = arg;
    sqlite3 *bd = NULL;
    sqlite3_stmt *full = NULL, *tail = NULL;
    int64_t tail_rows = -1;
    int rc0 = 0;
    if (sqlite3_open_v2(":memory:", &bd, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        rc0 = wb_seterr(WB_ENOMEM, "%s: %s: %s", w->who, w->display, bd ? sqlite3_errmsg(bd) : "out of memory");
    if (!rc0) rc0 = wexec(bd, w->create, w->who, w->display);
    if (!rc0) rc0 = prepare_insert(bd, "b", w->s, w->per, &full, w->who, w->display);
    char *err0 = rc0 ? strdup(wb_errmsg()) : NULL;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        wjob *jb = NULL;
        for (int k = 0; k < w->njob; k++)
            if (w->job[k].state == WJ_QUEUED && (!jb || w->job[k].seq < jb->seq)) jb = &w->job[k];
        if (!jb) {
            if (w->stop) break;
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        jb->state = WJ_BUSY;
        pthread_mutex_unlock(&w->mu);
        int rc = rc0 ? rc0 : build_batch(bd, w, jb, full, &tail, &tail_rows);
        char *err = rc ? strdup(rc0 ? (err0 ? err0 : "out of memory") : wb_errmsg()) : NULL;
        pthread_mutex_lock(&w->mu);
        jb->rc = rc;
        jb->err = err;
        jb->state = WJ_DONE;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    free(err0);
    sqlite3_finalize(full);
    sqlite3_finalize(tail);
    sqlite3_close(bd);
    return NULL;
}

/* a batch's copy of the source's rows [at, at + m) */
static int fill_job(wjob *jb, const sql_wsrc *s, const double *num, const char *const *text, int64_t at, int64_t m)
{
    size_t cells = (size_t)m * (size_t)s->ncol, from = (size_t)at * (size_t)s->ncol;
    if (cells > jb->cap) {
        free(jb->num);
        free(jb->text);
        jb->num = malloc(cells * sizeof *jb->num);
        jb->text = malloc(cells * sizeof *jb->text);
        jb->cap = jb->num && jb->text ? cells : 0;
        if (!jb->cap) return wb_seterr(WB_ENOMEM, "out of memory");
    }
    memcpy(jb->num, num + from, cells * sizeof *jb->num);
    if (text) memcpy(jb->text, text + from, cells * sizeof *jb->text);
    else memset(jb->text, 0, cells * sizeof *jb->text);
    jb->rows = m;
    return 0;
}

/* rows a batch holds: 2^19 values (12 columns: 43690 rows, about 5 MB built);
 * WB_SQL_TEST_BATCH_ROWS sets it for the tests (many batches from a small table) */
static int64_t batch_rows(const sql_wsrc *s)
{
    const char *t = getenv("WB_SQL_TEST_BATCH_ROWS");
    if (t && atoll(t) > 0) return atoll(t);
    int64_t b = ((int64_t)1 << 19) / (s->ncol > 0 ? s->ncol : 1);
    return b > 256 ? b : 256;
}

static int write_parallel(sqlite3 *db, const char *qt, const char *create_sql, sql_wsrc *s, int64_t per, const char *who,
                          const char *display)
{
    int nb = s->threads > 8 ? 8 : s->threads;
    int64_t batch = batch_rows(s);
    wpool w;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.who = who;
    w.display = display;
    w.per = per;
    w.njob = 2 * nb;
    /* the batch table: the CREATE TABLE of the table written, renamed b */
    wb_buf cb = {0};
    const char *cols = strchr(create_sql + strlen("CREATE TABLE ") + strlen(qt), '(');
    int rc = !cols || wb_buf_printf(&cb, "CREATE TABLE b %s", cols) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    w.create = (const char *)cb.p;
    w.job = rc ? NULL : calloc((size_t)w.njob, sizeof *w.job);
    if (!rc && !w.job) rc = wb_seterr(WB_ENOMEM, "out of memory");
    pthread_t th[8];
    int started = 0;
    if (!rc) {
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        for (; started < nb; started++)
            if (pthread_create(&th[started], NULL, builder_main, &w) != 0) break;
        if (!started) rc = wb_seterr(WB_ENOMEM, "%s: %s: cannot start a thread", who, display);
    }
    wb_buf ins = {0};
    if (!rc && wb_buf_printf(&ins, "INSERT INTO main.%s SELECT * FROM wb_batch.b", qt)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    int64_t queued = 0, next_seq = 0, want = 0, done = 0, cur_rows = 0, cur_at = 0;
    const double *cur_num = NULL;
    const char *const *cur_text = NULL;
    int src_end = 0;
    while (!rc) {
        /* the free slots get the next batches */
        for (int k = 0; !rc && !src_end && k < w.njob; k++) {
            pthread_mutex_lock(&w.mu);
            int busy = w.job[k].state != WJ_FREE; /* only this thread makes a slot free */
            pthread_mutex_unlock(&w.mu);
            if (busy) continue;
            while (!rc && cur_at == cur_rows && !src_end) {
                rc = s->next(s, &cur_rows, &cur_num, &cur_text);
                cur_at = 0;
                if (!rc && cur_rows == 0) src_end = 1;
            }
            if (rc || src_end) break;
            int64_t m = cur_rows - cur_at < batch ? cur_rows - cur_at : batch;
            wjob *jb = &w.job[k];
            rc = fill_job(jb, s, cur_num, cur_text, cur_at, m);
            if (rc) break;
            cur_at += m;
            jb->seq = next_seq++;
            jb->row0 = queued;
            queued += m;
            pthread_mutex_lock(&w.mu);
            jb->state = WJ_QUEUED;
            pthread_cond_broadcast(&w.cv);
            pthread_mutex_unlock(&w.mu);
        }
        if (rc || want == next_seq) break; /* an error, or every batch written */
        /* the next batch in order, when built, into the table */
        wjob *jb = NULL;
        pthread_mutex_lock(&w.mu);
        for (int k = 0; k < w.njob; k++)
            if (w.job[k].seq == want && w.job[k].state != WJ_FREE) jb = &w.job[k];
        while (jb->state != WJ_DONE) pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        if (jb->rc) rc = wb_seterr(jb->rc, "%s", jb->err ? jb->err : "out of memory");
        else {
            unsigned char *bytes = jb->bytes;
            jb->bytes = NULL; /* SQLite's now, freed when the next batch replaces it (or on failure) */
            if (sqlite3_deserialize(db, "wb_batch", bytes, jb->size, jb->size,
                                    SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) != SQLITE_OK)
                rc = wb_seterr(WB_EIO, "%s: %s: %s", who, display, sqlite3_errmsg(db));
            char *err = NULL;
            if (!rc && sqlite3_exec(db, (const char *)ins.p, NULL, NULL, &err) != SQLITE_OK)
                rc = wb_seterr(WB_EIO, "%s: %s: rows %lld..%lld: %s", who, display, (long long)jb->row0 + 1,
                               (long long)(jb->row0 + jb->rows), err ? err : sqlite3_errmsg(db));
            sqlite3_free(err);
        }
        done += jb->rows;
        free(jb->err);
        jb->err = NULL;
        pthread_mutex_lock(&w.mu);
        jb->state = WJ_FREE;
        pthread_mutex_unlock(&w.mu);
        want++;
        if (!rc && s->progress) s->progress(s, done);
        if (!rc && wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
    }
    if (started) {
        pthread_mutex_lock(&w.mu);
        w.stop = 1;
        for (int k = 0; k < w.njob; k++) /* batches not begun are not built */
            if (w.job[k].state == WJ_QUEUED) w.job[k].state = WJ_FREE;
        pthread_cond_broadcast(&w.cv);
        pthread_mutex_unlock(&w.mu);
        for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    }
    if (w.job) {
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
    }
    for (int k = 0; w.job && k < w.njob; k++) {
        free(w.job[k].num);
        free(w.job[k].text);
        free(w.job[k].err);
        sqlite3_free(w.job[k].bytes);
    }
    free(w.job);
    wb_buf_free(&cb);
    wb_buf_free(&ins);
    return rc;
}

static int lite_write(sqlite3 *db, const sql_url *u, const char *table, int if_exists, sql_wsrc *s, const char *who, int par)
{
    wb_buf id = {0}, q = {0};
    int rc = wb__sql_ident(&id, table);
    if (!rc) rc = wb_buf_add(&id, "", 1) ? WB_ENOMEM : 0;
    const char *qt = (const char *)id.p;
    if (!rc) rc = wexec(db, "BEGIN IMMEDIATE", who, u->display);
    int began = !rc, exists = 0;
    sqlite3_stmt *st = NULL, *full = NULL, *tail = NULL;
    if (!rc && sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE",
                                  -1, &st, NULL) != SQLITE_OK)
        rc = wb_seterr(WB_EIO, "%s: %s: %s", who, u->display, sqlite3_errmsg(db));
    if (!rc) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) exists = 1;
        else if (r != SQLITE_DONE) rc = wb_seterr(WB_EIO, "%s: %s: %s", who, u->display, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!rc && exists && if_exists == WB_SQL_FAIL)
        rc = wb_seterr(WB_EEXIST, "%s: %s: the table %s exists (if_exists = \"replace\" replaces it, \"append\" adds the rows)",
                       who, u->display, qt);
    if (!rc && exists && if_exists == WB_SQL_REPLACE) {
        rc = wb_buf_printf(&q, "DROP TABLE %s", qt) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
        if (!rc) rc = wexec(db, (char *)q.p, who, u->display);
        exists = 0;
    }
    if (!rc && exists) { /* append: every column of the data must be one of the table's */
        q.len = 0;
        rc = wb_buf_printf(&q, "SELECT * FROM %s", qt) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
        if (!rc && sqlite3_prepare_v2(db, (char *)q.p, -1, &st, NULL) != SQLITE_OK)
            rc = wb_seterr(WB_EIO, "%s: %s: %s", who, u->display, sqlite3_errmsg(db));
        for (int64_t j = 0; !rc && j < s->ncol; j++) {
            int found = 0;
            for (int t = 0; t < sqlite3_column_count(st); t++)
                if (!sqlite3_stricmp(sqlite3_column_name(st, t), s->cols[j].name)) found = 1;
            if (!found) {
                wb_buf l = {0};
                for (int t = 0; t < sqlite3_column_count(st); t++)
                    wb_buf_printf(&l, "%s\"%s\"", t ? ", " : "", sqlite3_column_name(st, t));
                rc = wb_seterr(WB_EINVAL, "%s: %s: the table %s has no column \"%s\" (its columns: %s); if_exists = "
                                          "\"replace\" makes it again with the data's columns",
                               who, u->display, qt, s->cols[j].name, l.p ? (char *)l.p : "none");
                wb_buf_free(&l);
            }
        }
        sqlite3_finalize(st);
        st = NULL;
    } else if (!rc) {
        q.len = 0;
        rc = wb_buf_printf(&q, "CREATE TABLE %s (", qt) ? WB_ENOMEM : 0;
        for (int64_t j = 0; !rc && j < s->ncol; j++) {
            if (j) rc = wb_buf_add(&q, ", ", 2) ? WB_ENOMEM : 0;
            if (!rc) rc = wb__sql_ident(&q, s->cols[j].name);
            int k = s->cols[j].kind;
            if (!rc) rc = wb_buf_printf(&q, " %s", k == SW_TEXT ? "TEXT" : k == SW_INT ? "INTEGER" : "REAL") ? WB_ENOMEM : 0;
        }
        if (!rc) rc = wb_buf_printf(&q, ")") ? WB_ENOMEM : 0;
        if (rc) rc = wb_seterr(WB_ENOMEM, "out of memory");
        if (!rc) rc = wexec(db, (char *)q.p, who, u->display);
    }
    /* rows per statement: SQLite's limit of parameters (32766 since 3.32) */
    int64_t per = s->ncol > 0 ? 32766 / s->ncol : 1;
    if (per > 256) per = 256;
    if (per < 1) per = 1;
    if (!rc && !exists && par) rc = write_parallel(db, qt, (const char *)q.p, s, per, who, u->display);
    else if (!rc) {
        rc = prepare_insert(db, qt, s, per, &full, who, u->display);
        int64_t done = 0, tail_rows = -1;
        while (!rc) {
            int64_t rows;
            const double *num;
            const char *const *text;
            rc = s->next(s, &rows, &num, &text);
            if (rc || rows == 0) break;
            rc = insert_rows(db, qt, s, per, full, &tail, &tail_rows, num, text, rows, done, who, u->display);
            done += rows;
            if (!rc && s->progress) s->progress(s, done);
            if (!rc && wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
        }
    }
    sqlite3_finalize(full);
    sqlite3_finalize(tail);
    if (!rc) rc = wexec(db, "COMMIT", who, u->display);
    if (rc && began) {
        char msg[4096];
        snprintf(msg, sizeof msg, "%s", wb_errmsg());
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        wb_seterr(rc, "%s", msg);
    }
    wb_buf_free(&id);
    wb_buf_free(&q);
    return rc;
}

int wb__sql_lite_write(const sql_url *u, const char *table, int if_exists, void *src, const char *who)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(u->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        int rc = wb_seterr(WB_EIO, "%s: %s: cannot open (%s)", who, u->display, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 10000);
    /* The journal and sync stay SQLite's defaults (or the file's own journal
     * mode, as WAL): the rollback journal is what leaves the file as it was
     * when a write fails, is interrupted or the machine stops half way (all
     * rows or none), and synchronous = FULL writes it to the disk before the
     * file changes. It costs little here: a new table's pages are added at
     * the end of the file, which the journal need not keep, so it holds only
     * the few pages changed (the schema's, the free list's). journal_mode =
     * OFF or MEMORY, or synchronous = OFF, would lose that guarantee. A larger
     * page cache (64 MB rather than 2) keeps the pages of a large insert in
     * memory longer, written once at the end rather than spilled as they fill. */
    sqlite3_exec(db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
    sql_wsrc *s = src;
    /* rows encoded in parallel (write_parallel) when threads are allowed,
     * there are rows enough for a few batches, and the file's text encoding
     * is UTF-8 (the batches' databases are: an attached database must share
     * the file's) */
    int par = s->threads >= 2 && s->n >= 4 * batch_rows(s);
    if (par) {
        sqlite3_stmt *st = NULL;
        par = sqlite3_prepare_v2(db, "PRAGMA encoding", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
              !strcmp((const char *)sqlite3_column_text(st, 0), "UTF-8");
        sqlite3_finalize(st);
    }
    if (par) par = sqlite3_exec(db, "ATTACH ':memory:' AS wb_batch", NULL, NULL, NULL) == SQLITE_OK;
    int rc = lite_write(db, u, table, if_exists, s, who, par);
    if (par) sqlite3_exec(db, "DETACH wb_batch", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

#else /* no libsqlite3 */

static int none(void) { return wb_seterr(WB_ENOTSUP, "this wb was built without SQLite (libsqlite3-dev was not found)"); }
int wb__sql_lite_open(const sql_url *u, const char *who, sql_lite **out) { (void)u, (void)who, *out = NULL; return none(); }
void wb__sql_lite_close(sql_lite *l) { (void)l; }
int wb__sql_lite_identity(sql_lite *l, int64_t *size, uint8_t head[32], char **abspath)
{
    (void)l, (void)size, (void)head, *abspath = NULL;
    return none();
}
int wb__sql_lite_describe(sql_lite *l, const char *s, const char *q, sql_desc *out)
{
    (void)l, (void)s, (void)q;
    memset(out, 0, sizeof *out);
    return none();
}
int wb__sql_lite_bounds(sql_lite *l, const char *f, const sql_col *c, sql_bounds *out)
{
    (void)l, (void)f, (void)c;
    memset(out, 0, sizeof *out);
    return none();
}
int wb__sql_lite_write(const sql_url *u, const char *t, int e, void *s, const char *w) { (void)u, (void)t, (void)e, (void)s, (void)w; return none(); }
void wb__sql_register_lite_kernels(void) {}
#endif
