/* sql/pgcopy.c — PostgreSQL's binary COPY format (the documentation's
 * "Binary Format" of COPY): the signature "PGCOPY\n\377\r\n\0", a flags word,
 * a header extension; then rows, each a 16-bit field count and per field a
 * 32-bit length (-1: NULL) and the value in the type's binary form (network
 * byte order); then the trailer, a field count of -1.
 *
 * Reading: the bytes come as libpq hands them (PQgetCopyData: one row a
 * call, the header with the first), but the decoder takes any split: a row
 * is decoded once all its bytes are there, and the bytes of a row not yet
 * complete wait in a buffer. Each value becomes a number (a text value the
 * code of its chunk's level). Writing: the same framing for COPY FROM
 * STDIN. No libpq here, so the decoder is fuzzed on its own
 * (tests/fuzz/fuzz_pgcopy.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

static const unsigned char signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};

#define MAX_FIELD ((int64_t)256 << 20) /* a value longer than this is refused */
#define MAX_HEADER_EXT ((int64_t)1 << 20)
#define PG_EPOCH 946684800   /* 2000-01-01 in seconds since 1970 */
#define PG_EPOCH_DAYS 10957

static inline uint16_t be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const unsigned char *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

int wb__sql_copydec_init(sql_copydec *c, int64_t ncol, const uint8_t *kinds, sql_chunk *out)
{
    memset(c, 0, sizeof *c);
    c->ncol = ncol;
    c->kinds = kinds;
    c->out = out;
    c->row = malloc((size_t)(ncol + 1) * 8);
    return c->row ? 0 : wb_seterr(WB_ENOMEM, "out of memory");
}

void wb__sql_copydec_free(sql_copydec *c)
{
    free(c->row);
    c->row = NULL;
    wb_buf_free(&c->acc);
}

static const char *kind_name(int k)
{
    switch (k) {
    case SK_BOOL: return "boolean";
    case SK_INT2: return "smallint";
    case SK_INT4: return "integer";
    case SK_INT8: return "bigint";
    case SK_OID: return "oid";
    case SK_FLOAT4: return "real";
    case SK_FLOAT8: return "double precision";
    case SK_DATE: return "date";
    case SK_TS: return "timestamp";
    case SK_TIME: return "time";
    default: return "text";
    }
}

static int bad_field(sql_copydec *c, int64_t j, int k, int64_t len)
{
    char nm[128];
    return wb_seterr(WB_EFORMAT, "%s: row %lld, %s: the server sent a %s value of %lld bytes", c->out->where ? c->out->where : "COPY",
                     (long long)c->out->rows + 1, wb__sql_chunk_name(c->out, j, nm, sizeof nm), kind_name(k), (long long)len);
}

/* seconds since 1970 of microseconds since 2000, exactly to the microsecond
 * where a double can hold it */
static double ts_seconds(int64_t us)
{
    if (us == INT64_MAX) return INFINITY;
    if (us == INT64_MIN) return -INFINITY;
    int64_t q = us / 1000000, r = us % 1000000;
    if (r < 0) {
        q--;
        r += 1000000;
    }
    return (double)(q + PG_EPOCH) + (double)r / 1e6;
}

/* one field of column j into c->row[j] */
static int field(sql_copydec *c, int64_t j, const unsigned char *p, int64_t len)
{
    int k = c->kinds[j];
    double v = NAN;
    if (len < 0) { /* NULL */
        c->row[j] = NAN;
        return 0;
    }
    switch (k) {
    case SK_BOOL:
        if (len != 1) return bad_field(c, j, k, len);
        v = p[0] != 0;
        break;
    case SK_INT2:
        if (len != 2) return bad_field(c, j, k, len);
        v = (int16_t)be16(p);
        break;
    case SK_INT4:
        if (len != 4) return bad_field(c, j, k, len);
        v = (int32_t)be32(p);
        break;
    case SK_OID:
        if (len != 4) return bad_field(c, j, k, len);
        v = be32(p);
        break;
    case SK_INT8:
        if (len != 8) return bad_field(c, j, k, len);
        v = (double)(int64_t)be64(p);
        break;
    case SK_FLOAT4: {
        if (len != 4) return bad_field(c, j, k, len);
        uint32_t u = be32(p);
        float f;
        memcpy(&f, &u, 4);
        v = f;
        break;
    }
    case SK_FLOAT8: {
        if (len != 8) return bad_field(c, j, k, len);
        uint64_t u = be64(p);
        memcpy(&v, &u, 8);
        break;
    }
    case SK_DATE: {
        if (len != 4) return bad_field(c, j, k, len);
        int32_t days = (int32_t)be32(p);
        v = days == INT32_MAX ? INFINITY : days == INT32_MIN ? -INFINITY : ((double)days + PG_EPOCH_DAYS) * 86400.0;
        break;
    }
    case SK_TS:
        if (len != 8) return bad_field(c, j, k, len);
        v = ts_seconds((int64_t)be64(p));
        break;
    case SK_TIME:
        if (len != 8) return bad_field(c, j, k, len);
        v = (double)(int64_t)be64(p) / 1e6;
        break;
    case SK_TEXT: {
        int rc = wb__sql_chunk_text(c->out, j, (const char *)p, (size_t)len, &v);
        if (rc) return rc;
        if (!(c->out->seen[j] & SQL_SEEN_TEXT)) {
            c->out->seen[j] |= SQL_SEEN_TEXT;
            c->out->first_text[j] = c->out->rows;
        }
        c->row[j] = v;
        return 0;
    }
    case SK_TEXTNUM:
        if (len == 0) break; /* empty text: missing */
        if (!wb__csv_number((const char *)p, (size_t)len, ',', &v)) {
            char nm[128];
            return wb_seterr(WB_EFORMAT, "%s: row %lld, %s: \"%.*s\" does not convert to a number (dtype says number)",
                             c->out->where ? c->out->where : "COPY", (long long)c->out->rows + 1,
                             wb__sql_chunk_name(c->out, j, nm, sizeof nm), len > 40 ? 40 : (int)len, (const char *)p);
        }
        break;
    default:
        return wb_seterr(WB_EINVAL, "COPY: column %lld: no way to read kind %d", (long long)j + 1, k);
    }
    if (!(c->out->seen[j] & SQL_SEEN_NUM) && v == v) {
        c->out->seen[j] |= SQL_SEEN_NUM;
        c->out->first_num[j] = c->out->rows;
    }
    c->row[j] = v;
    return 0;
}

static int trunc_err(sql_copydec *c, const char *what)
{
    return wb_seterr(WB_EFORMAT, "%s: the COPY data %s (after %lld rows)", c->out->where ? c->out->where : "COPY", what,
                     (long long)c->out->rows);
}

/* the complete items of p[0..n): returns the bytes used (>= 0) or an error */
static int64_t parse(sql_copydec *c, const unsigned char *p, int64_t n)
{
    int64_t pos = 0;
    if (c->state == 0) {
        if (n < 19) {
            if (memcmp(p, signature, (size_t)(n < 11 ? n : 11)) != 0) return trunc_err(c, "does not start with PGCOPY's signature");
            return 0;
        }
        if (memcmp(p, signature, 11) != 0) return trunc_err(c, "does not start with PGCOPY's signature");
        uint32_t flags = be32(p + 11);
        int64_t ext = (int32_t)be32(p + 15);
        if (flags & 0x1ffffu) return trunc_err(c, "has header flags wb does not read (OIDs or a newer format)");
        if (ext < 0 || ext > MAX_HEADER_EXT) return trunc_err(c, "has a bad header extension length");
        if (n - 19 < ext) return 0;
        pos = 19 + ext;
        c->state = 1;
    }
    while (c->state == 1) {
        if (n - pos < 2) break;
        int16_t nf = (int16_t)be16(p + pos);
        if (nf == -1) {
            pos += 2;
            c->state = 2;
            break;
        }
        if (nf != c->ncol) {
            char m[96];
            snprintf(m, sizeof m, "has a row of %d fields, expected %lld", (int)nf, (long long)c->ncol);
            return trunc_err(c, m);
        }
        /* all of the row there? */
        int64_t q = pos + 2;
        for (int64_t f = 0; f < nf; f++) {
            if (n - q < 4) return pos;
            int64_t len = (int32_t)be32(p + q);
            q += 4;
            if (len == -1) continue;
            if (len < 0 || len > MAX_FIELD) return trunc_err(c, "has a bad field length");
            if (n - q < len) return pos;
            q += len;
        }
        q = pos + 2;
        for (int64_t f = 0; f < nf; f++) {
            int64_t len = (int32_t)be32(p + q);
            q += 4;
            int rc = field(c, f, p + q, len);
            if (rc) return rc;
            if (len > 0) q += len;
        }
        int rc = wb__sql_chunk_add(c->out, c->row);
        if (rc) return rc;
        pos = q;
    }
    if (c->state == 2 && pos < n) return trunc_err(c, "goes on after its end");
    return pos;
}

int wb__sql_copydec_feed(sql_copydec *c, const void *data, size_t n)
{
    if (c->acc.len == 0) {
        int64_t used = parse(c, data, (int64_t)n);
        if (used < 0) return (int)used;
        if ((size_t)used < n && wb_buf_add(&c->acc, (const unsigned char *)data + used, n - (size_t)used))
            return wb_seterr(WB_ENOMEM, "out of memory");
        return 0;
    }
    if (wb_buf_add(&c->acc, data, n)) return wb_seterr(WB_ENOMEM, "out of memory");
    int64_t used = parse(c, c->acc.p, (int64_t)c->acc.len);
    if (used < 0) return (int)used;
    memmove(c->acc.p, c->acc.p + used, c->acc.len - (size_t)used);
    c->acc.len -= (size_t)used;
    return 0;
}

int wb__sql_copydec_end(sql_copydec *c)
{
    if (c->state == 2 && c->acc.len == 0) return 0;
    return trunc_err(c, c->state == 0 ? "ended before its header" : "ended in the middle (no trailer)");
}

/* ------------------------------------------------------------ writing */

static int put16(wb_buf *b, uint16_t v)
{
    unsigned char p[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    return wb_buf_add(b, p, 2);
}
static int put32(wb_buf *b, uint32_t v)
{
    unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    return wb_buf_add(b, p, 4);
}
static int put64(wb_buf *b, uint64_t v)
{
    int rc = put32(b, (uint32_t)(v >> 32));
    return rc ? rc : put32(b, (uint32_t)v);
}

int wb__sql_copy_header(wb_buf *b)
{
    int rc = wb_buf_add(b, signature, sizeof signature);
    if (!rc) rc = put32(b, 0);
    if (!rc) rc = put32(b, 0);
    return rc;
}

int wb__sql_copy_row(wb_buf *b, int16_t nfields) { return put16(b, (uint16_t)nfields); }
int wb__sql_copy_null(wb_buf *b) { return put32(b, 0xffffffffu); }
int wb__sql_copy_trailer(wb_buf *b) { return put16(b, 0xffff); }

int wb__sql_copy_float8(wb_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    int rc = wb_buf_reserve(b, 12);
    if (rc) return rc;
    unsigned char *p = b->p + b->len;
    p[0] = 0, p[1] = 0, p[2] = 0, p[3] = 8;
    for (int i = 0; i < 8; i++) p[4 + i] = (unsigned char)(u >> (56 - 8 * i));
    b->len += 12;
    return 0;
}

int wb__sql_copy_bytes(wb_buf *b, const void *p, size_t n)
{
    if (n > (size_t)INT32_MAX) return WB_ELIMIT;
    int rc = put32(b, (uint32_t)n);
    return rc ? rc : wb_buf_add(b, p, n);
}

/* numeric's binary form (numeric_send): ndigits, weight, sign, dscale and
 * base-10000 digits, from the shortest decimal that reads back as v */
static int put_numeric(wb_buf *b, double v)
{
    if (isinf(v)) { /* PostgreSQL 14 and later: sign 0xD000 / 0xF000 */
        int rc = put32(b, 8);
        if (!rc) rc = put16(b, 0);
        if (!rc) rc = put16(b, 0);
        if (!rc) rc = put16(b, v > 0 ? 0xD000 : 0xF000);
        if (!rc) rc = put16(b, 0);
        return rc;
    }
    char txt[WB_FMT_DOUBLE_BUF];
    char *end = wb__fmt_double(txt, v);
    *end = 0;
    const char *s = txt;
    int neg = *s == '-';
    if (neg) s++;
    char dig[40];
    int n = 0, point = -1, exp10 = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s == '.') point = n;
        else if (n < 39) dig[n++] = *s;
    }
    if (*s == 'e') exp10 = atoi(s + 1);
    if (point < 0) point = n;
    point += exp10; /* the decimal point after `point` digits of dig */
    int lead = 0;    /* leading zeros of dig */
    while (lead < n && dig[lead] == '0') lead++;
    uint16_t groups[120];
    int ng = 0, weight = 0, dscale = n - point > 0 ? n - point : 0;
    if (lead < n) {
        /* digit i of dig has the place value 10^(point - 1 - i); group g covers
         * places 4(w-g)+3 .. 4(w-g) with w the first group's weight */
        int top = point - 1 - lead;         /* the highest place with a nonzero digit */
        int bottom = point - n;              /* the lowest place */
        int wt = top >= 0 ? top / 4 : -((-top + 3) / 4);
        int wb_ = bottom >= 0 ? bottom / 4 : -((-bottom + 3) / 4);
        weight = wt;
        for (int g = wt; g >= wb_ && ng < 120; g--) {
            int val = 0;
            for (int place = 4 * g + 3; place >= 4 * g; place--) {
                int i = point - 1 - place;
                val = val * 10 + (i >= 0 && i < n ? dig[i] - '0' : 0);
            }
            groups[ng++] = (uint16_t)val;
        }
        while (ng > 0 && groups[ng - 1] == 0) ng--;
    }
    int rc = put32(b, (uint32_t)(8 + 2 * ng));
    if (!rc) rc = put16(b, (uint16_t)ng);
    if (!rc) rc = put16(b, (uint16_t)(int16_t)(ng ? weight : 0));
    if (!rc) rc = put16(b, neg && ng ? 0x4000 : 0);
    if (!rc) rc = put16(b, (uint16_t)dscale);
    for (int g = 0; !rc && g < ng; g++) rc = put16(b, groups[g]);
    return rc;
}

int wb__sql_copy_number(wb_buf *b, int k, double v, char *err, size_t cap)
{
    char txt[WB_FMT_DOUBLE_BUF];
    int rc = 0;
    *err = 0;
    switch (k) {
    case SK_FLOAT8: return wb__sql_copy_float8(b, v);
    case SK_FLOAT4: {
        float f = (float)v;
        if (isinf(f) && !isinf(v)) {
            snprintf(err, cap, "does not fit a real");
            return WB_EINVAL;
        }
        uint32_t u;
        memcpy(&u, &f, 4);
        rc = put32(b, 4);
        return rc ? rc : put32(b, u);
    }
    case SK_INT2:
    case SK_INT4:
    case SK_INT8:
    case SK_OID:
    case SK_BOOL: {
        double lo = k == SK_INT2 ? -32768.0 : k == SK_INT4 ? -2147483648.0 : k == SK_INT8 ? -9223372036854775808.0 : 0;
        double hi = k == SK_INT2 ? 32767.0 : k == SK_INT4 ? 2147483647.0 : k == SK_INT8 ? 9223372036854775807.0
                  : k == SK_OID  ? 4294967295.0 : 1;
        if (v != floor(v) || v < lo || v > hi || (k == SK_INT8 && v >= 9223372036854775808.0)) {
            snprintf(err, cap, "%s", v != floor(v) ? "is not a whole number" : "is out of range");
            return WB_EINVAL;
        }
        if (k == SK_INT2) rc = put32(b, 2), rc = rc ? rc : put16(b, (uint16_t)(int16_t)v);
        else if (k == SK_INT4 || k == SK_OID) rc = put32(b, 4), rc = rc ? rc : put32(b, k == SK_OID ? (uint32_t)v : (uint32_t)(int32_t)v);
        else if (k == SK_INT8) rc = put32(b, 8), rc = rc ? rc : put64(b, (uint64_t)(int64_t)v);
        else rc = put32(b, 1), rc = rc ? rc : wb_buf_add(b, v ? "\1" : "\0", 1);
        return rc;
    }
    case SK_DATE: {
        int32_t days;
        if (isinf(v)) days = v > 0 ? INT32_MAX : INT32_MIN;
        else {
            double dd = v / 86400.0 - PG_EPOCH_DAYS;
            if (dd != floor(dd) || fabs(dd) > 2e9) {
                snprintf(err, cap, "is not a whole day since 1970 (seconds)");
                return WB_EINVAL;
            }
            days = (int32_t)dd;
        }
        rc = put32(b, 4);
        return rc ? rc : put32(b, (uint32_t)days);
    }
    case SK_TS:
    case SK_TIME: {
        int64_t us;
        double x = k == SK_TS ? (v - PG_EPOCH) * 1e6 : v * 1e6;
        if (isinf(v) && k == SK_TS) us = v > 0 ? INT64_MAX : INT64_MIN;
        else if (!(fabs(x) < 9e18) || (k == SK_TIME && (v < 0 || v > 86400))) {
            snprintf(err, cap, "is out of range");
            return WB_EINVAL;
        } else
            us = llround(x);
        rc = put32(b, 8);
        return rc ? rc : put64(b, (uint64_t)us);
    }
    case SQL_NUMERIC: return put_numeric(b, v);
    case SK_TEXT: {
        char *e = wb__fmt_double(txt, v);
        return wb__sql_copy_bytes(b, txt, (size_t)(e - txt));
    }
    default: snprintf(err, cap, "cannot be written to this column's type"); return WB_EINVAL;
    }
}
