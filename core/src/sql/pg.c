/* sql/pg.c — PostgreSQL through libpq.
 *
 * The driver's connection describes the source without running it (a
 * prepared statement's columns and their types' OIDs), reads the partition
 * column's bounds and, for a partitioned read, exports a snapshot: every
 * partition's connection reads in a REPEATABLE READ transaction set to it
 * (as pg_dump's parallel workers do), so the partitions see one state of the
 * database and no row is read twice or missed while others write.
 *
 * A partition (kernel sql.pg_read, run where its rows will live) opens its
 * own connection and streams `COPY (SELECT ...) TO STDOUT (FORMAT binary)`:
 * PQgetCopyData hands one row at a time, decoded into the chunk as it comes
 * (pgcopy.c); no result is ever held whole. The session reads the heap in
 * order (synchronize_seqscans off, no parallel workers) so the same query
 * gives the same rows in the same order wherever it runs.
 *
 * Writing: one transaction; CREATE TABLE (or DROP and CREATE, or the
 * existing table's columns for an append), then COPY ... FROM STDIN (FORMAT
 * binary), fed by PQputCopyData in blocks of about a megabyte; COMMIT.
 *
 * Messages name the database as postgresql://user@host:port/dbname and pass
 * through wb__sql_scrub (a password never shows). The password of a URL
 * stays in this process: a task in another process connects with its own
 * machine's PGPASSWORD or ~/.pgpass. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sql_internal.h"

#ifdef WB_HAVE_LIBPQ
#include <libpq-fe.h>

struct sql_pg {
    PGconn *c;
    const sql_url *u;
    const char *who;
};

/* ------------------------------------------------------------ messages */

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r')) s[--n] = 0;
}

/* the byte offset of character `pos` (1-based, as the server counts) of q */
static size_t char_offset(const char *q, long pos)
{
    size_t i = 0;
    long ch = 0;
    for (; q[i]; i++) {
        if (((unsigned char)q[i] & 0xc0) != 0x80) {
            if (++ch == pos) return i;
        }
    }
    return i;
}

/* the server's error (or the connection's) as one message: severity and
 * text, detail, hint, context, and for a position in `query` its line with
 * a caret, as psql shows it */
static int pg_err(int code, const char *who, const char *display, const char *where, PGconn *c, const PGresult *r,
                  const char *query, const char *secrets)
{
    wb_buf b = {0};
    const char *prim = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    int rc = wb_buf_printf(&b, "%s: %s: ", who, display);
    if (!rc && where && *where) rc = wb_buf_printf(&b, "%s: ", where);
    if (!rc && prim) {
        const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY);
        const char *det = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
        const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
        const char *ctx = PQresultErrorField(r, PG_DIAG_CONTEXT);
        const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
        rc = wb_buf_printf(&b, "%s: %s", sev ? sev : "ERROR", prim);
        if (!rc && pos && query) {
            long p = atol(pos);
            size_t off = char_offset(query, p);
            /* the line holding it */
            size_t ls = off, le = off;
            while (ls > 0 && query[ls - 1] != '\n') ls--;
            while (query[le] && query[le] != '\n') le++;
            int line = 1;
            for (size_t i = 0; i < ls; i++) line += query[i] == '\n';
            char lab[32];
            int lw = snprintf(lab, sizeof lab, "LINE %d: ", line);
            /* a long line is cut around the position */
            size_t from = ls, to = le;
            if (off - from > 60) from = off - 60;
            if (to - off > 60) to = off + 60;
            size_t col = 0;
            for (size_t i = from; i < off; i++) col += ((unsigned char)query[i] & 0xc0) != 0x80;
            rc = wb_buf_printf(&b, " (position %ld)\n%s%s%.*s%s\n%*s^", p, lab, from > ls ? "..." : "", (int)(to - from),
                               query + from, to < le ? "..." : "", (int)(lw + (from > ls ? 3 : 0) + col), "");
        }
        if (!rc && det) rc = wb_buf_printf(&b, "\nDETAIL: %s", det);
        if (!rc && hint) rc = wb_buf_printf(&b, "\nHINT: %s", hint);
        if (!rc && ctx) rc = wb_buf_printf(&b, "\nCONTEXT: %s", ctx);
    } else if (!rc) {
        char *m = strdup(c ? PQerrorMessage(c) : "out of memory");
        if (m) {
            trim(m);
            rc = wb_buf_printf(&b, "%s", *m ? m : "the connection failed");
            free(m);
        }
    }
    if (rc || !b.p) {
        wb_buf_free(&b);
        return wb_seterr(code, "%s: %s: out of memory", who, display);
    }
    wb__sql_scrub((char *)b.p, secrets);
    rc = wb_seterr(code, "%s", (char *)b.p);
    wb_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------ connecting */

static PGconn *pg_connect(const char *conninfo, const char *secrets, const char *appname)
{
    wb_buf b = {0};
    int rc = wb_buf_printf(&b, "%s", conninfo);
    if (!rc && secrets) rc = wb_buf_printf(&b, " %s", secrets);
    if (!rc && !strstr(conninfo, "application_name=")) {
        rc = wb_buf_printf(&b, " application_name=");
        if (!rc) rc = wb__sql_conn_value(&b, appname);
    }
    /* a server that does not answer: give up after 10 s unless told */
    if (!rc && !strstr(conninfo, "connect_timeout=") && !getenv("PGCONNECT_TIMEOUT"))
        rc = wb_buf_printf(&b, " connect_timeout=10");
    PGconn *c = rc ? NULL : PQconnectdb((char *)b.p);
    if (b.p) memset(b.p, 0, b.len);
    wb_buf_free(&b);
    return c;
}

/* a statement that returns no rows */
static int pg_exec(PGconn *c, const char *sql, const char *who, const char *display, const char *where,
                   const char *secrets)
{
    PGresult *r = PQexec(c, sql);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    int rc = ok ? 0 : pg_err(WB_EIO, who, display, where, c, r, sql, secrets);
    PQclear(r);
    return rc;
}

/* the session every connection of wb starts with: the heap read in order,
 * by this backend alone (the same rows in the same order for the same
 * query), times in UTC */
static const char *session_sql =
    "SET synchronize_seqscans = off; SET max_parallel_workers_per_gather = 0; SET TIME ZONE 'UTC'";

int wb__sql_pg_open(const sql_url *u, const char *who, sql_pg **out)
{
    *out = NULL;
    char app[64];
    snprintf(app, sizeof app, "wb %s pid %d", who, (int)getpid());
    PGconn *c = pg_connect(u->conninfo, u->secrets, app);
    if (!c) return wb_seterr(WB_ENOMEM, "%s: %s: out of memory", who, u->display);
    if (PQstatus(c) != CONNECTION_OK) {
        int rc = pg_err(WB_EIO, who, u->display, NULL, c, NULL, NULL, u->secrets);
        PQfinish(c);
        return rc;
    }
    int rc = pg_exec(c, session_sql, who, u->display, NULL, u->secrets);
    sql_pg *p = rc ? NULL : calloc(1, sizeof *p);
    if (!rc && !p) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (rc) {
        PQfinish(c);
        return rc;
    }
    p->c = c;
    p->u = u;
    p->who = who;
    *out = p;
    return 0;
}

void wb__sql_pg_close(sql_pg *p)
{
    if (!p) return;
    PQfinish(p->c);
    free(p);
}

int wb__sql_pg_snapshot(sql_pg *p, char *snap, size_t cap)
{
    snap[0] = 0;
    PGresult *r = PQexec(p->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) return 0;
    r = PQexec(p->c, "SELECT pg_export_snapshot()");
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        const char *s = PQgetvalue(r, 0, 0);
        /* an id such as 00000003-0000001B-1: quoted as a literal by the tasks */
        if (strlen(s) < cap && strspn(s, "0123456789ABCDEFabcdef-") == strlen(s)) snprintf(snap, cap, "%s", s);
    }
    PQclear(r);
    if (!snap[0]) { /* no snapshot (an old server, a standby): each partition reads its own */
        r = PQexec(p->c, "ROLLBACK");
        PQclear(r);
    }
    return 0;
}

/* ------------------------------------------------------------ describing */

/* types by OID: how a column is read by default */
static void kind_of_oid(uint32_t oid, sql_col *c)
{
    c->cast = "";
    c->orderable = 0;
    switch (oid) {
    case 16: c->kind = SK_BOOL; break;
    case 20: c->kind = SK_INT8, c->orderable = 1; break;
    case 21: c->kind = SK_INT2, c->orderable = 1; break;
    case 23: c->kind = SK_INT4, c->orderable = 1; break;
    case 26: c->kind = SK_OID, c->orderable = 1; break;
    case 700: c->kind = SK_FLOAT4, c->orderable = 2; break;
    case 701: c->kind = SK_FLOAT8, c->orderable = 2; break;
    case 1700: c->kind = SK_FLOAT8, c->cast = "::float8", c->orderable = 2; break; /* numeric */
    case 1082: c->kind = SK_DATE, c->orderable = 3; break;
    case 1114: /* timestamp: read as UTC */
    case 1184: c->kind = SK_TS, c->orderable = 3; break;
    case 1083: c->kind = SK_TIME; break;
    case 25:   /* text */
    case 1043: /* varchar */
    case 1042: /* bpchar */
    case 19:   /* name */
    case 18:   /* "char" */
        c->kind = SK_TEXT;
        break;
    default: c->kind = 0; /* decided by the type's category */
    }
}

int wb__sql_pg_describe(sql_pg *p, const char *select_sql, const char *query, sql_desc *out)
{
    memset(out, 0, sizeof *out);
    PGresult *r = PQprepare(p->c, "", select_sql, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = pg_err(WB_EINVAL, p->who, p->u->display, NULL, p->c, r, query ? query : select_sql, p->u->secrets);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    r = PQdescribePrepared(p->c, "");
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = pg_err(WB_EIO, p->who, p->u->display, NULL, p->c, r, NULL, p->u->secrets);
        PQclear(r);
        return rc;
    }
    int nf = PQnfields(r), rc = 0;
    out->col = calloc((size_t)nf + 1, sizeof *out->col);
    if (!out->col) rc = wb_seterr(WB_ENOMEM, "out of memory");
    wb_buf oids = {0};
    for (int j = 0; !rc && j < nf; j++) {
        sql_col *c = &out->col[j];
        c->name = strdup(PQfname(r, j));
        c->oid = (uint32_t)PQftype(r, j);
        if (!c->name) rc = wb_seterr(WB_ENOMEM, "out of memory");
        out->ncol = j + 1;
        kind_of_oid(c->oid, c);
        if (!rc) rc = wb_buf_printf(&oids, "%s%u", oids.len ? "," : "{", c->oid) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    }
    PQclear(r);
    /* the types' names and categories, in one query */
    if (!rc && nf > 0) {
        rc = wb_buf_printf(&oids, "}") ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
        const char *v[1] = {(const char *)oids.p};
        r = rc ? NULL
               : PQexecParams(p->c, "SELECT oid::int8, typcategory, format_type(oid, NULL) FROM pg_catalog.pg_type "
                                    "WHERE oid = ANY($1::oid[])",
                              1, NULL, v, NULL, NULL, 0);
        if (!rc && (!r || PQresultStatus(r) != PGRES_TUPLES_OK)) rc = pg_err(WB_EIO, p->who, p->u->display, NULL, p->c, r, NULL, p->u->secrets);
        for (int i = 0; !rc && i < PQntuples(r); i++) {
            uint32_t oid = (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);
            char cat = PQgetvalue(r, i, 1)[0];
            const char *tn = PQgetvalue(r, i, 2);
            for (int j = 0; !rc && j < nf; j++) {
                sql_col *c = &out->col[j];
                if (c->oid != oid) continue;
                free(c->type);
                if (!(c->type = strdup(tn))) rc = wb_seterr(WB_ENOMEM, "out of memory");
                if (c->kind) continue;
                /* other types by their category: numbers (domains, money), booleans, times, else text */
                if (cat == 'N') c->kind = SK_FLOAT8, c->cast = "::numeric::float8", c->orderable = 2;
                else if (cat == 'B') c->kind = SK_BOOL, c->cast = "::bool";
                else if (cat == 'D') c->kind = SK_TS, c->cast = "::timestamptz", c->orderable = 3;
                else c->kind = SK_TEXT, c->cast = "::text";
            }
        }
        PQclear(r);
    }
    for (int j = 0; !rc && j < nf; j++)
        if (!out->col[j].type && !(out->col[j].type = strdup("unknown"))) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int j = 0; !rc && j < nf; j++)
        if (!out->col[j].kind) out->col[j].kind = SK_TEXT, out->col[j].cast = "::text";
    wb_buf_free(&oids);
    if (rc) wb__sql_desc_free(out);
    return rc;
}

int wb__sql_pg_select_item(wb_buf *b, const sql_col *col, int k)
{
    int rc = wb__sql_ident(b, col->name);
    if (rc) return rc;
    const char *cast = col->cast;
    if (k == SK_TEXT && col->kind != SK_TEXT) cast = "::text";     /* dtype: category */
    else if (k == SK_TEXTNUM) cast = col->kind == SK_TEXT ? "" : "::text";
    if (*cast && wb_buf_printf(b, "%s", cast)) return wb_seterr(WB_ENOMEM, "out of memory");
    return 0;
}

int wb__sql_pg_bounds(sql_pg *p, const char *from_sql, const sql_col *col, sql_bounds *out)
{
    memset(out, 0, sizeof *out);
    wb_buf q = {0}, id = {0};
    int rc = wb__sql_ident(&id, col->name);
    if (!rc) rc = wb_buf_add(&id, "", 1) ? WB_ENOMEM : 0;
    const char *n = (const char *)id.p;
    if (!rc) {
        if (col->orderable == 1) rc = wb_buf_printf(&q, "SELECT min(%s)::text, max(%s)::text FROM %s", n, n, from_sql);
        else if (col->orderable == 2)
            rc = wb_buf_printf(&q, "SELECT min(%s)::float8::text, max(%s)::float8::text FROM %s", n, n, from_sql);
        else
            rc = wb_buf_printf(&q, "SELECT extract(epoch FROM min(%s)::timestamptz)::float8::text, "
                                   "extract(epoch FROM max(%s)::timestamptz)::float8::text FROM %s",
                               n, n, from_sql);
    }
    PGresult *r = rc ? NULL : PQexec(p->c, (char *)q.p);
    if (!rc && (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1))
        rc = pg_err(WB_EIO, p->who, p->u->display, NULL, p->c, r, (char *)q.p, p->u->secrets);
    if (!rc && !PQgetisnull(r, 0, 0) && !PQgetisnull(r, 0, 1)) {
        const char *a = PQgetvalue(r, 0, 0), *z = PQgetvalue(r, 0, 1);
        if (col->orderable == 1) {
            errno = 0;
            out->imin = strtoll(a, NULL, 10);
            out->imax = strtoll(z, NULL, 10);
            out->kind = errno ? 2 : 1;
            out->dmin = strtod(a, NULL);
            out->dmax = strtod(z, NULL);
        } else {
            out->kind = 2;
            out->dmin = strtod(a, NULL);
            out->dmax = strtod(z, NULL);
        }
    }
    PQclear(r);
    wb_buf_free(&q);
    wb_buf_free(&id);
    return rc ? rc : 0;
}

int wb__sql_pg_literal(wb_buf *b, const sql_col *col, int kind, int64_t i, double v)
{
    int rc;
    if (kind == 1) rc = wb_buf_printf(b, "%lld", (long long)i);
    else if (col->orderable == 3) rc = wb_buf_printf(b, "to_timestamp(%.17g)", v);
    else rc = wb_buf_printf(b, "%.17g", v);
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

/* ------------------------------------------------------------ sql.pg_read */

static int k_pg_read(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    (void)nin;
    sql_targs a;
    int rc = wb__sql_targ_parse(arg, arglen, &a);
    if (rc) return rc;
    char *secrets = wb__sql_secret_get(a.t.secret);
    const char *who = "wb.sql.read";
    char app[64], host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(app, sizeof app, "wb sql.read p%d/%d pid %d", (int)a.t.part + 1, (int)a.t.nparts, (int)getpid());
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s: %s%s%s", who, a.display, a.where[0] ? ": " : "", a.where);
    sql_chunk ch;
    sql_copydec dec;
    int have_ch = 0, have_dec = 0;
    PGconn *c = pg_connect(a.conn, secrets, app);
    if (!c) rc = wb_seterr(WB_ENOMEM, "out of memory");
    else if (PQstatus(c) != CONNECTION_OK) {
        rc = pg_err(WB_EIO, who, a.display, a.where, c, NULL, NULL, secrets);
        if (a.t.secret && !secrets && strstr(wb_errmsg(), "password"))
            rc = wb_seterr(rc, "%s (the password of the URL stays in the driver's process: this task runs in "
                               "another one, on %s; give it PGPASSWORD or a ~/.pgpass there)",
                           wb_errmsg(), host);
    }
    if (!rc) rc = pg_exec(c, session_sql, who, a.display, a.where, secrets);
    if (!rc && a.snapshot[0]) {
        char sq[160];
        snprintf(sq, sizeof sq, "SET TRANSACTION SNAPSHOT '%.100s'", a.snapshot);
        rc = pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", who, a.display, a.where, secrets);
        if (!rc) rc = pg_exec(c, sq, who, a.display, a.where, secrets);
    }
    if (!rc) {
        PGresult *r = PQexec(c, a.query);
        if (!r || PQresultStatus(r) != PGRES_COPY_OUT) rc = pg_err(WB_EIO, who, a.display, a.where, c, r, a.query, secrets);
        PQclear(r);
    }
    if (!rc && !(rc = wb__sql_chunk_init(&ch, a.t.d, (int)a.t.has_y, a.t.max_levels))) {
        have_ch = 1;
        ch.ctx = ctx;
        ch.where = prefix;
        ch.names = a.names;
        if (a.t.direct > 0) wb__sql_chunk_direct(&ch, ctx->store, a.t.direct);
        rc = wb__sql_copydec_init(&dec, a.ncol, a.kinds, &ch);
        have_dec = !rc;
    }
    /* the rows, as they come; the socket polled so that an interrupt is seen */
    int64_t since = 0;
    while (!rc) {
        char *buf = NULL;
        int n = PQgetCopyData(c, &buf, 1);
        if (n > 0) {
            rc = wb__sql_copydec_feed(&dec, buf, (size_t)n);
            PQfreemem(buf);
            if (!rc && ++since >= 4096) {
                since = 0;
                if (wb__cancelled(ctx)) rc = wb_seterr(WB_ECANCELED, "interrupted");
            }
            continue;
        }
        if (n == 0) {
            struct pollfd pf = {PQsocket(c), POLLIN, 0};
            int pr = poll(&pf, 1, 200);
            if (pr < 0 && errno != EINTR) rc = wb_seterr(WB_EIO, "%s: poll: %s", prefix, strerror(errno));
            else if (wb__cancelled(ctx)) rc = wb_seterr(WB_ECANCELED, "interrupted");
            else if (!PQconsumeInput(c)) {
                rc = pg_err(WB_EIO, who, a.display, a.where, c, NULL, NULL, secrets);
                rc = wb_seterr(rc, "%s (the connection was lost after %lld rows)", wb_errmsg(), (long long)ch.rows);
            }
            continue;
        }
        if (n == -2) {
            rc = pg_err(WB_EIO, who, a.display, a.where, c, NULL, NULL, secrets);
            rc = wb_seterr(rc, "%s (the connection was lost after %lld rows)", wb_errmsg(), (long long)ch.rows);
            break;
        }
        /* -1: the COPY ended; its result says how */
        PGresult *r;
        int bad = 0;
        while ((r = PQgetResult(c)) != NULL) {
            if (!bad && PQresultStatus(r) != PGRES_COMMAND_OK) {
                rc = pg_err(WB_EIO, who, a.display, a.where, c, r, NULL, secrets);
                rc = wb_seterr(rc, "%s (after %lld rows)", wb_errmsg(), (long long)ch.rows);
                bad = 1;
            }
            PQclear(r);
        }
        if (!rc) rc = wb__sql_copydec_end(&dec);
        break;
    }
    if (c) PQfinish(c); /* (a read-only transaction: nothing to commit) */
    if (have_dec) wb__sql_copydec_free(&dec);
    if (!rc) rc = wb__sql_chunk_out(&ch, ctx);
    if (have_ch) wb__sql_chunk_free(&ch);
    if (secrets) {
        memset(secrets, 0, strlen(secrets));
        free(secrets);
    }
    wb__sql_targ_free(&a);
    return rc;
}

void wb__sql_register_pg_kernels(void) { wb_register_kernel("sql.pg_read", k_pg_read); }

/* ------------------------------------------------------------ writing */

/* the kind a value is sent as into a column of type oid (numbers), or 0 */
static int write_kind(uint32_t oid)
{
    switch (oid) {
    case 16: return SK_BOOL;
    case 20: return SK_INT8;
    case 21: return SK_INT2;
    case 23: return SK_INT4;
    case 26: return SK_OID;
    case 700: return SK_FLOAT4;
    case 701: return SK_FLOAT8;
    case 1700: return SQL_NUMERIC;
    case 1082: return SK_DATE;
    case 1114:
    case 1184: return SK_TS;
    case 1083: return SK_TIME;
    case 25:
    case 1043:
    case 1042:
    case 19: return SK_TEXT;
    default: return 0;
    }
}

typedef struct wstate {
    PGconn *c;
    const sql_url *u;
    const char *who;
    int in_copy;
} wstate;

static int wfail(wstate *w, PGresult *r, const char *sql)
{
    return pg_err(WB_EIO, w->who, w->u->display, NULL, w->c, r, sql, w->u->secrets);
}

static int wexec(wstate *w, const char *sql)
{
    PGresult *r = PQexec(w->c, sql);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    int rc = ok ? 0 : wfail(w, r, sql);
    PQclear(r);
    return rc;
}

static int pg_write(wstate *w, const char *table, int if_exists, sql_wsrc *s)
{
    wb_buf q = {0}, id = {0}, b = {0};
    int rc = wb__sql_ident(&id, table);
    if (!rc) rc = wb_buf_add(&id, "", 1) ? WB_ENOMEM : 0;
    const char *qt = (const char *)id.p;
    int *kinds = calloc((size_t)s->ncol + 1, sizeof *kinds);
    if (!rc && !kinds) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc) rc = wexec(w, "BEGIN");
    /* is it there? */
    int exists = 0;
    if (!rc) {
        const char *v[1] = {qt};
        PGresult *r = PQexecParams(w->c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, v, NULL, NULL, 0);
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) rc = wfail(w, r, NULL);
        else exists = PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
    }
    if (!rc && exists && if_exists == WB_SQL_FAIL)
        rc = wb_seterr(WB_EEXIST, "%s: %s: the table %s exists (if_exists = \"replace\" replaces it, \"append\" adds the rows)",
                       w->who, w->u->display, qt);
    if (!rc && exists && if_exists == WB_SQL_REPLACE) {
        rc = wb_buf_printf(&q, "DROP TABLE %s", qt) ? WB_ENOMEM : 0;
        if (!rc) rc = wexec(w, (char *)q.p);
        exists = 0;
    }
    if (!rc && exists) { /* append: the table's columns take the data's by name */
        q.len = 0;
        rc = wb_buf_printf(&q, "SELECT * FROM %s", qt) ? WB_ENOMEM : 0;
        PGresult *r = rc ? NULL : PQprepare(w->c, "", (char *)q.p, 0, NULL);
        if (!rc && (!r || PQresultStatus(r) != PGRES_COMMAND_OK)) rc = wfail(w, r, (char *)q.p);
        PQclear(r);
        r = rc ? NULL : PQdescribePrepared(w->c, "");
        if (!rc && (!r || PQresultStatus(r) != PGRES_COMMAND_OK)) rc = wfail(w, r, NULL);
        for (int64_t j = 0; !rc && j < s->ncol; j++) {
            int found = -1;
            for (int t = 0; t < PQnfields(r); t++)
                if (!strcmp(PQfname(r, t), s->cols[j].name)) found = t;
            if (found < 0) {
                wb_buf l = {0};
                for (int t = 0; t < PQnfields(r); t++) wb_buf_printf(&l, "%s\"%s\"", t ? ", " : "", PQfname(r, t));
                rc = wb_seterr(WB_EINVAL, "%s: %s: the table %s has no column \"%s\" (its columns: %s); if_exists = "
                                          "\"replace\" makes it again with the data's columns",
                               w->who, w->u->display, qt, s->cols[j].name, l.p ? (char *)l.p : "none");
                wb_buf_free(&l);
                break;
            }
            int k = write_kind((uint32_t)PQftype(r, found));
            if (s->cols[j].kind == SW_TEXT && k != SK_TEXT) k = -1;
            if (!k || k < 0) {
                char tn[64] = "";
                const char *v[1];
                char oid[16];
                snprintf(oid, sizeof oid, "%u", (unsigned)PQftype(r, found));
                v[0] = oid;
                PGresult *t = PQexecParams(w->c, "SELECT format_type($1::oid, NULL)", 1, NULL, v, NULL, NULL, 0);
                if (t && PQresultStatus(t) == PGRES_TUPLES_OK && PQntuples(t) == 1) snprintf(tn, sizeof tn, "%s", PQgetvalue(t, 0, 0));
                PQclear(t);
                rc = wb_seterr(WB_EINVAL, "%s: %s: column \"%s\" of %s is %s: it cannot take the data's %s", w->who,
                               w->u->display, s->cols[j].name, qt, tn, s->cols[j].kind == SW_TEXT ? "text" : "numbers");
                break;
            }
            kinds[j] = k;
        }
        PQclear(r);
    } else if (!rc) { /* a new table: double precision, bigint, text */
        q.len = 0;
        rc = wb_buf_printf(&q, "CREATE TABLE %s (", qt) ? WB_ENOMEM : 0;
        for (int64_t j = 0; !rc && j < s->ncol; j++) {
            if (j) rc = wb_buf_printf(&q, ", ") ? WB_ENOMEM : 0;
            if (!rc) rc = wb__sql_ident(&q, s->cols[j].name);
            int k = s->cols[j].kind;
            if (!rc) rc = wb_buf_printf(&q, " %s", k == SW_TEXT ? "text" : k == SW_INT ? "bigint" : "double precision") ? WB_ENOMEM : 0;
            kinds[j] = k == SW_TEXT ? SK_TEXT : k == SW_INT ? SK_INT8 : SK_FLOAT8;
        }
        if (!rc) rc = wb_buf_printf(&q, ")") ? WB_ENOMEM : 0;
        if (!rc) rc = wexec(w, (char *)q.p);
    }
    /* COPY */
    if (!rc) {
        q.len = 0;
        rc = wb_buf_printf(&q, "COPY %s (", qt) ? WB_ENOMEM : 0;
        for (int64_t j = 0; !rc && j < s->ncol; j++) {
            if (j) rc = wb_buf_printf(&q, ", ") ? WB_ENOMEM : 0;
            if (!rc) rc = wb__sql_ident(&q, s->cols[j].name);
        }
        if (!rc) rc = wb_buf_printf(&q, ") FROM STDIN (FORMAT binary)") ? WB_ENOMEM : 0;
        PGresult *r = rc ? NULL : PQexec(w->c, (char *)q.p);
        if (!rc && (!r || PQresultStatus(r) != PGRES_COPY_IN)) rc = wfail(w, r, (char *)q.p);
        else if (!rc) w->in_copy = 1;
        PQclear(r);
    }
    if (!rc) rc = wb__sql_copy_header(&b) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    int64_t done = 0;
    while (!rc) {
        int64_t rows;
        const double *num;
        const char *const *text;
        rc = s->next(s, &rows, &num, &text);
        if (rc || rows == 0) break;
        for (int64_t i = 0; !rc && i < rows; i++) {
            rc = wb__sql_copy_row(&b, (int16_t)s->ncol);
            for (int64_t j = 0; !rc && j < s->ncol; j++) {
                size_t at = (size_t)i * (size_t)s->ncol + (size_t)j;
                if (s->cols[j].kind == SW_TEXT) {
                    const char *t = text[at];
                    rc = t ? wb__sql_copy_bytes(&b, t, strlen(t)) : wb__sql_copy_null(&b);
                    continue;
                }
                double v = num[at];
                if (v != v) {
                    rc = wb__sql_copy_null(&b);
                    continue;
                }
                char why[80];
                rc = wb__sql_copy_number(&b, kinds[j], v, why, sizeof why);
                if (rc && why[0]) {
                    char vt[WB_FMT_DOUBLE_BUF];
                    *wb__fmt_double(vt, v) = 0;
                    rc = wb_seterr(WB_EINVAL, "%s: %s: row %lld, column \"%s\": %s %s for the table's column", w->who,
                                   w->u->display, (long long)(done + i + 1), s->cols[j].name, vt, why);
                } else if (rc)
                    rc = wb_seterr(WB_ENOMEM, "out of memory");
            }
            if (!rc && b.len >= (1 << 20)) {
                if (PQputCopyData(w->c, (const char *)b.p, (int)b.len) != 1) rc = wfail(w, NULL, NULL);
                b.len = 0;
            }
        }
        done += rows;
        if (!rc && s->progress) s->progress(s, done);
        if (!rc && wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
    }
    if (!rc) rc = wb__sql_copy_trailer(&b) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    if (!rc && b.len && PQputCopyData(w->c, (const char *)b.p, (int)b.len) != 1) rc = wfail(w, NULL, NULL);
    if (w->in_copy) {
        /* ending the COPY with an error message makes the server abort it */
        if (PQputCopyEnd(w->c, rc ? "wb: the write was stopped" : NULL) != 1 && !rc) rc = wfail(w, NULL, NULL);
        PGresult *r;
        while ((r = PQgetResult(w->c)) != NULL) {
            if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK) rc = wfail(w, r, NULL);
            PQclear(r);
        }
        w->in_copy = 0;
    }
    if (!rc) rc = wexec(w, "COMMIT");
    else {
        char msg[4096];
        snprintf(msg, sizeof msg, "%s", wb_errmsg());
        PGresult *r = PQexec(w->c, "ROLLBACK");
        PQclear(r);
        wb_seterr(rc, "%s", msg);
    }
    free(kinds);
    wb_buf_free(&q);
    wb_buf_free(&id);
    wb_buf_free(&b);
    return rc;
}

int wb__sql_pg_write(const sql_url *u, const char *table, int if_exists, void *src, const char *who)
{
    char app[64];
    snprintf(app, sizeof app, "wb %s pid %d", who, (int)getpid());
    PGconn *c = pg_connect(u->conninfo, u->secrets, app);
    if (!c) return wb_seterr(WB_ENOMEM, "out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        int rc = pg_err(WB_EIO, who, u->display, NULL, c, NULL, NULL, u->secrets);
        PQfinish(c);
        return rc;
    }
    wstate w = {c, u, who, 0};
    int rc = pg_write(&w, table, if_exists, src);
    PQfinish(c);
    return rc;
}

#else /* no libpq */

static int none(void) { return wb_seterr(WB_ENOTSUP, "this wb was built without PostgreSQL (libpq-dev was not found)"); }
int wb__sql_pg_open(const sql_url *u, const char *who, sql_pg **out) { (void)u, (void)who, *out = NULL; return none(); }
void wb__sql_pg_close(sql_pg *p) { (void)p; }
int wb__sql_pg_snapshot(sql_pg *p, char *snap, size_t cap) { (void)p, (void)cap, snap[0] = 0; return none(); }
int wb__sql_pg_describe(sql_pg *p, const char *s, const char *q, sql_desc *out)
{
    (void)p, (void)s, (void)q;
    memset(out, 0, sizeof *out);
    return none();
}
int wb__sql_pg_bounds(sql_pg *p, const char *f, const sql_col *c, sql_bounds *out)
{
    (void)p, (void)f, (void)c;
    memset(out, 0, sizeof *out);
    return none();
}
int wb__sql_pg_literal(wb_buf *b, const sql_col *c, int k, int64_t i, double v) { (void)b, (void)c, (void)k, (void)i, (void)v; return none(); }
int wb__sql_pg_select_item(wb_buf *b, const sql_col *c, int k) { (void)b, (void)c, (void)k; return none(); }
int wb__sql_pg_write(const sql_url *u, const char *t, int e, void *s, const char *w) { (void)u, (void)t, (void)e, (void)s, (void)w; return none(); }
void wb__sql_register_pg_kernels(void) {}
#endif
