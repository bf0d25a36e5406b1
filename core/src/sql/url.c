/* sql/url.c — a database URL taken apart: SQLite's file, or PostgreSQL's
 * connection parameters (libpq's own parser) with the password kept apart
 * from the rest, so that tasks carry the connection string without it and
 * messages name the database without it. Identifiers quoted, the passwords
 * of this process for its own tasks, messages scrubbed, kernel arguments. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sql_internal.h"

#ifdef WB_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

void wb__sql_url_free(sql_url *u)
{
    free(u->path);
    free(u->conninfo);
    if (u->secrets) {
        memset(u->secrets, 0, strlen(u->secrets));
        free(u->secrets);
    }
    free(u->display);
    memset(u, 0, sizeof *u);
}

int wb__sql_ident(wb_buf *b, const char *name)
{
    int rc = wb_buf_add(b, "\"", 1);
    for (const char *p = name; !rc && *p; p++) rc = *p == '"' ? wb_buf_add(b, "\"\"", 2) : wb_buf_add(b, p, 1);
    if (!rc) rc = wb_buf_add(b, "\"", 2); /* the NUL kept after it */
    if (!rc) b->len--;
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

int wb__sql_conn_value(wb_buf *b, const char *v)
{
    int rc = wb_buf_add(b, "'", 1);
    for (const char *p = v; !rc && *p; p++) rc = *p == '\'' || *p == '\\' ? wb_buf_printf(b, "\\%c", *p) : wb_buf_add(b, p, 1);
    if (!rc) rc = wb_buf_add(b, "'", 2);
    if (!rc) b->len--;
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* ------------------------------------------------------------ scrubbing */

static void scrub_one(char *msg, const char *pw, size_t n)
{
    if (n < 3) return; /* "***" must not be longer; a one- or two-letter password is not searched for */
    for (char *p = strstr(msg, pw); p; p = strstr(p, pw)) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + n, strlen(p + n) + 1);
        p += 3;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* %XX decoded copy of s[0..n) */
static char *pct_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1), *q = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *q++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            *q++ = s[i];
    }
    *q = 0;
    return o;
}

/* s percent-encoded as a URL writes it (letters, digits and -._~ kept) */
static void scrub_encoded(char *msg, const char *s, size_t n, const char *hex)
{
    char *o = malloc(3 * n + 1), *q = o;
    if (!o) return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c))
            *q++ = (char)c;
        else {
            *q++ = '%';
            *q++ = hex[c >> 4];
            *q++ = hex[c & 15];
        }
    }
    *q = 0;
    if ((size_t)(q - o) != n) scrub_one(msg, o, (size_t)(q - o));
    free(o);
}

/* the values of password= and sslpassword= in a conninfo fragment, or the
 * password of a URI's user:password@ (raw and decoded), each scrubbed */
static void scrub_from(char *msg, const char *src)
{
    if (!src) return;
    if (starts(src, "postgresql://") || starts(src, "postgres://")) {
        const char *a = strstr(src, "://") + 3, *end = a + strcspn(a, "/?");
        const char *at = NULL;
        for (const char *p = a; p < end; p++)
            if (*p == '@') at = p;
        const char *colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;
        if (colon) {
            size_t n = (size_t)(at - colon - 1);
            char *raw = strndup(colon + 1, n), *dec = pct_decode(colon + 1, n);
            if (raw) scrub_one(msg, raw, n);
            if (dec) scrub_one(msg, dec, strlen(dec));
            free(raw);
            free(dec);
        }
    }
    /* keyword=value, in a conninfo or in a URI's query (password=...&) */
    for (const char *p = src; (p = strstr(p, "password")) != NULL; p += 8) {
        const char *v = p + 8;
        while (*v == ' ') v++;
        if (*v != '=') continue;
        v++;
        while (*v == ' ') v++;
        char val[512];
        size_t n = 0;
        if (*v == '\'') {
            for (v++; *v && *v != '\'' && n + 1 < sizeof val; v++) {
                if (*v == '\\' && v[1]) v++;
                val[n++] = *v;
            }
        } else
            for (; *v && *v != ' ' && *v != '&' && n + 1 < sizeof val; v++) val[n++] = *v;
        val[n] = 0;
        scrub_one(msg, val, n);
        scrub_encoded(msg, val, n, "0123456789ABCDEF");
        scrub_encoded(msg, val, n, "0123456789abcdef");
        char *dec = pct_decode(val, n);
        if (dec) scrub_one(msg, dec, strlen(dec));
        free(dec);
    }
}

void wb__sql_scrub(char *msg, const char *secrets)
{
    scrub_from(msg, secrets);
    const char *env = getenv("PGPASSWORD");
    if (env) scrub_one(msg, env, strlen(env));
}

/* ------------------------------------------------------------ secrets */

typedef struct secret {
    uint64_t key;
    char *text;
    struct secret *next;
} secret;
static pthread_mutex_t secret_mu = PTHREAD_MUTEX_INITIALIZER;
static secret *secrets_list;

uint64_t wb__sql_secret_put(const char *text)
{
    if (!text) return 0;
    secret *s = calloc(1, sizeof *s);
    if (!s || !(s->text = strdup(text))) {
        free(s);
        return 0;
    }
    uint64_t k = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &k, sizeof k) != (ssize_t)sizeof k) k = 0;
        close(fd);
    }
    k ^= (uint64_t)getpid() << 32 ^ (uint64_t)(wb_now() * 1e9);
    if (!k) k = 1;
    s->key = k;
    pthread_mutex_lock(&secret_mu);
    s->next = secrets_list;
    secrets_list = s;
    pthread_mutex_unlock(&secret_mu);
    return k;
}

char *wb__sql_secret_get(uint64_t key)
{
    char *out = NULL;
    if (!key) return NULL;
    pthread_mutex_lock(&secret_mu);
    for (secret *s = secrets_list; s; s = s->next)
        if (s->key == key) {
            out = strdup(s->text);
            break;
        }
    pthread_mutex_unlock(&secret_mu);
    return out;
}

void wb__sql_secret_drop(uint64_t key)
{
    pthread_mutex_lock(&secret_mu);
    for (secret **p = &secrets_list; *p; p = &(*p)->next)
        if ((*p)->key == key) {
            secret *s = *p;
            *p = s->next;
            memset(s->text, 0, strlen(s->text));
            free(s->text);
            free(s);
            break;
        }
    pthread_mutex_unlock(&secret_mu);
}

/* ------------------------------------------------------------ kernel arguments */

int wb__sql_arg_str(wb_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint32_t len = (uint32_t)n;
    int rc = n > UINT32_MAX - 1 ? WB_ELIMIT : 0;
    if (!rc) rc = wb_buf_add(b, &len, 4);
    if (!rc) rc = wb_buf_add(b, s ? s : "", n);
    if (!rc) rc = wb_buf_add(b, "", 1);
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

const char *wb__sql_arg_next(const unsigned char **p, const unsigned char *e, size_t *len)
{
    uint32_t n;
    if (e - *p < 5) return NULL;
    memcpy(&n, *p, 4);
    if ((size_t)(e - *p - 4) < (size_t)n + 1 || (*p)[4 + n] != 0) return NULL;
    const char *s = (const char *)*p + 4;
    if (len) *len = n;
    *p += 5 + (size_t)n;
    return s;
}

int wb__sql_targ_build(wb_buf *b, const sql_targ *t, const uint8_t *kinds, const char *where, const char *conn,
                       const char *query, const char *display, const char *snapshot, char *const *names)
{
    int64_t ncol = t->d + (t->has_y != 0);
    int rc = wb_buf_add(b, t, sizeof *t) ? WB_ENOMEM : 0;
    if (!rc) {
        uint32_t n = (uint32_t)ncol;
        rc = wb_buf_add(b, &n, 4) || wb_buf_add(b, kinds, (size_t)ncol) || wb_buf_add(b, "", 1) ? WB_ENOMEM : 0;
    }
    const char *s[5] = {where, conn, query, display, snapshot};
    for (int i = 0; !rc && i < 5; i++) rc = wb__sql_arg_str(b, s[i]);
    for (int64_t j = 0; !rc && j < ncol; j++) rc = wb__sql_arg_str(b, names[j]);
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

int wb__sql_targ_parse(const void *arg, size_t arglen, sql_targs *a)
{
    memset(a, 0, sizeof *a);
    if (arglen < sizeof a->t) return wb_seterr(WB_EINVAL, "sql: bad task argument");
    memcpy(&a->t, arg, sizeof a->t);
    const unsigned char *p = (const unsigned char *)arg + sizeof a->t, *e = (const unsigned char *)arg + arglen;
    if (a->t.magic != SQL_TARG_MAGIC || a->t.d < 0 || a->t.d > ((int64_t)1 << 24)) return wb_seterr(WB_EINVAL, "sql: bad task argument");
    a->ncol = a->t.d + (a->t.has_y != 0);
    size_t kl;
    const char *k = wb__sql_arg_next(&p, e, &kl);
    if (!k || kl != (size_t)a->ncol) return wb_seterr(WB_EINVAL, "sql: bad task argument");
    a->kinds = (const uint8_t *)k;
    for (int64_t j = 0; j < a->ncol; j++)
        if (a->kinds[j] < SK_BOOL || a->kinds[j] >= SK_LAST) return wb_seterr(WB_EINVAL, "sql: bad task argument");
    const char **s[5] = {&a->where, &a->conn, &a->query, &a->display, &a->snapshot};
    for (int i = 0; i < 5; i++)
        if (!(*s[i] = wb__sql_arg_next(&p, e, NULL))) return wb_seterr(WB_EINVAL, "sql: bad task argument");
    a->names = calloc((size_t)a->ncol + 1, sizeof *a->names);
    if (!a->names) return wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t j = 0; j < a->ncol; j++)
        if (!(a->names[j] = (char *)wb__sql_arg_next(&p, e, NULL))) {
            wb__sql_targ_free(a);
            return wb_seterr(WB_EINVAL, "sql: bad task argument");
        }
    return 0;
}

void wb__sql_targ_free(sql_targs *a)
{
    free(a->names);
    a->names = NULL;
}

void wb__sql_desc_free(sql_desc *d)
{
    for (int64_t j = 0; d->col && j < d->ncol; j++) {
        free(d->col[j].name);
        free(d->col[j].type);
    }
    free(d->col);
    d->col = NULL;
    d->ncol = 0;
}

/* ------------------------------------------------------------ URLs */

static int bad_url(const char *who, const char *url, const char *why)
{
    /* the URL is quoted only when it cannot hold a password */
    if (starts(url, "sqlite:")) return wb_seterr(WB_EINVAL, "%s: bad URL '%.200s': %s", who, url, why);
    return wb_seterr(WB_EINVAL, "%s: bad URL: %s", who, why);
}

static int parse_sqlite(const char *url, const char *who, sql_url *u)
{
    const char *p = url + strlen("sqlite:");
    if (starts(p, "///")) p += 3; /* SQLAlchemy: sqlite:///rel.db, sqlite:////abs.db */
    else if (starts(p, "//"))
        return bad_url(who, url, "a host is not allowed: sqlite:path/to/file.db or sqlite:///path");
    if (!*p) return bad_url(who, url, "no file (sqlite:path/to/file.db)");
    if (!strcmp(p, ":memory:") || starts(p, "file:"))
        return bad_url(who, url, "a file path is expected (an in-memory database or a URI filename is not read)");
    u->kind = SQL_SQLITE;
    u->path = strdup(p);
    wb_buf b = {0};
    if (!u->path || wb_buf_printf(&b, "sqlite:%s", p)) {
        wb_buf_free(&b);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    u->display = (char *)b.p;
    return 0;
}

#ifdef WB_HAVE_LIBPQ
static int secret_key(const char *k) { return !strcmp(k, "password") || !strcmp(k, "sslpassword"); }

static int parse_pg(const char *url, const char *who, sql_url *u)
{
    const char *info = url;
    if (!starts(url, "postgresql://") && !starts(url, "postgres://")) info = url + strlen("postgresql:");
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(info, &err);
    if (!opts) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", err ? err : "out of memory");
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = 0;
        scrub_from(msg, url);
        wb__sql_scrub(msg, NULL);
        if (err) PQfreemem(err);
        return bad_url(who, url, msg);
    }
    wb_buf ci = {0}, sec = {0}, disp = {0};
    const char *user = NULL, *host = NULL, *hostaddr = NULL, *port = NULL, *db = NULL;
    int rc = 0;
    for (PQconninfoOption *o = opts; !rc && o->keyword; o++) {
        if (!o->val) continue;
        wb_buf *b = secret_key(o->keyword) ? &sec : &ci;
        if (b->len) rc = wb_buf_add(b, " ", 1);
        if (!rc) rc = wb_buf_printf(b, "%s=", o->keyword);
        if (!rc) rc = wb__sql_conn_value(b, o->val);
        if (!strcmp(o->keyword, "user")) user = o->val;
        else if (!strcmp(o->keyword, "host")) host = o->val;
        else if (!strcmp(o->keyword, "hostaddr")) hostaddr = o->val;
        else if (!strcmp(o->keyword, "port")) port = o->val;
        else if (!strcmp(o->keyword, "dbname")) db = o->val;
    }
    if (!rc) rc = wb_buf_printf(&disp, "postgresql://%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
                                host ? host : hostaddr ? hostaddr : "", port ? ":" : "", port ? port : "", db ? db : "");
    if (!rc) rc = wb_buf_add(&ci, "", 1);
    if (!rc && sec.len) rc = wb_buf_add(&sec, "", 1);
    PQconninfoFree(opts);
    if (rc) {
        wb_buf_free(&ci);
        wb_buf_free(&sec);
        wb_buf_free(&disp);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    u->kind = SQL_PG;
    u->conninfo = (char *)ci.p;
    u->secrets = sec.len ? (char *)sec.p : NULL;
    u->display = (char *)disp.p;
    return 0;
}
#endif

int wb__sql_url_parse(const char *url, const char *who, sql_url *u)
{
    memset(u, 0, sizeof *u);
    if (!url || !*url) return wb_seterr(WB_EINVAL, "%s: bad URL: empty (sqlite:path/to/file.db or postgresql://user@host:port/dbname)", who);
    int rc;
    if (starts(url, "sqlite:")) {
#ifdef WB_HAVE_SQLITE3
        rc = parse_sqlite(url, who, u);
#else
        rc = wb_seterr(WB_ENOTSUP, "%s: this wb was built without SQLite (libsqlite3-dev was not found)", who);
#endif
    } else if (starts(url, "postgresql:") || starts(url, "postgres://")) {
#ifdef WB_HAVE_LIBPQ
        rc = parse_pg(url, who, u);
#else
        rc = wb_seterr(WB_ENOTSUP, "%s: this wb was built without PostgreSQL (libpq-dev was not found)", who);
#endif
    } else {
        char scheme[40];
        size_t n = strcspn(url, ":");
        snprintf(scheme, sizeof scheme, "%.*s", (int)(n < 30 ? n : 30), url);
        rc = url[n] == ':' ? wb_seterr(WB_EINVAL, "%s: bad URL: unknown kind of database '%s:' (sqlite:path/to/file.db or "
                                                  "postgresql://user@host:port/dbname)", who, scheme)
                           : wb_seterr(WB_EINVAL, "%s: bad URL: no kind of database (sqlite:path/to/file.db or "
                                                  "postgresql://user@host:port/dbname)", who);
    }
    if (rc) wb__sql_url_free(u);
    return rc;
}
