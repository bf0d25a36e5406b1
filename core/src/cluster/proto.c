/* cluster/proto.c — the cluster wire protocol: frames and message codecs.
 * Decoders are pure functions over a byte buffer: every length is checked
 * against what is left before anything is read or allocated, every field
 * against its allowed values; a malformed message gives WB_EPROTO and a
 * message naming the message type and the field. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

const char *wb_msg_name(int type)
{
    switch (type) {
#define WB__MSGNAME(name, code) \
    case code: return #name;
        WB_MSG_LIST(WB__MSGNAME)
#undef WB__MSGNAME
    default: return NULL;
    }
}

/* ------------------------------------------------------------ byte order */

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

/* ---------------------------------------------------------------- frames */

int wb_frame_decode(const void *hdr, uint32_t max_len, wb_frame_hdr *out)
{
    const unsigned char *p = hdr;
    out->len = get32(p);
    out->type = get16(p + 4);
    out->flags = get16(p + 6);
    if (!wb_msg_name(out->type))
        return wb_seterr(WB_EPROTO, "frame: unknown message type %u", (unsigned)out->type);
    if (out->flags != 0)
        return wb_seterr(WB_EPROTO, "frame: %s with flags 0x%x (must be 0)", wb_msg_name(out->type),
                         (unsigned)out->flags);
    if (out->len > max_len)
        return wb_seterr(WB_ELIMIT, "frame: %s of %u bytes exceeds the limit of %u bytes",
                         wb_msg_name(out->type), (unsigned)out->len, (unsigned)max_len);
    return 0;
}

static void wr_add(wb_wr *w, const void *p, size_t n)
{
    if (w->err) return;
    if (wb_buf_add(w->b, p, n)) w->err = WB_ENOMEM;
}

size_t wb_msg_begin(wb_wr *w, int type)
{
    size_t start = w->b->len;
    unsigned char h[WB_PROTO_HDR];
    put32(h, 0);
    put16(h + 4, (uint16_t)type);
    put16(h + 6, 0);
    wr_add(w, h, sizeof h);
    return start;
}

int wb_msg_end(wb_wr *w, size_t start)
{
    if (w->err) return wb_seterr(w->err, "message: out of memory");
    size_t len = w->b->len - start - WB_PROTO_HDR;
    if (len > WB_PROTO_MAX_FRAME) {
        w->b->len = start;
        w->err = WB_ELIMIT;
        return wb_seterr(WB_ELIMIT, "message: %zu bytes exceed the frame limit of %u", len,
                         (unsigned)WB_PROTO_MAX_FRAME);
    }
    put32(w->b->p + start, (uint32_t)len);
    return 0;
}

void wb_wr_u8(wb_wr *w, uint8_t v) { wr_add(w, &v, 1); }
void wb_wr_u16(wb_wr *w, uint16_t v)
{
    unsigned char b[2];
    put16(b, v);
    wr_add(w, b, 2);
}
void wb_wr_u32(wb_wr *w, uint32_t v)
{
    unsigned char b[4];
    put32(b, v);
    wr_add(w, b, 4);
}
void wb_wr_u64(wb_wr *w, uint64_t v)
{
    unsigned char b[8];
    put64(b, v);
    wr_add(w, b, 8);
}
void wb_wr_i32(wb_wr *w, int32_t v) { wb_wr_u32(w, (uint32_t)v); }
void wb_wr_i64(wb_wr *w, int64_t v) { wb_wr_u64(w, (uint64_t)v); }
void wb_wr_raw(wb_wr *w, const void *p, size_t n) { wr_add(w, p, n); }
static void wr_f64(wb_wr *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    wb_wr_u64(w, u);
}
void wb_wr_str(wb_wr *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    wb_wr_u32(w, (uint32_t)n);
    wr_add(w, s, n);
}
void wb_wr_bytes(wb_wr *w, const void *p, size_t n)
{
    wb_wr_u32(w, (uint32_t)n);
    wr_add(w, p, n);
}

char *wb_pstr_copy(wb_pstr s, char *dst, size_t cap)
{
    if (!cap) return dst;
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n) memcpy(dst, s.p, n);
    dst[n] = 0;
    return dst;
}

int wb_pstr_eq(wb_pstr s, const char *z)
{
    size_t n = strlen(z);
    return n == s.len && memcmp(s.p, z, n) == 0;
}

wb_pstr wb_pstr_z(const char *z)
{
    wb_pstr s = {"", 0};
    if (z) {
        s.p = z;
        s.len = (uint32_t)strlen(z);
    }
    return s;
}

/* ---------------------------------------------------------------- writer */

static void wr_pstr(wb_wr *w, wb_pstr s)
{
    wb_wr_u32(w, s.len);
    wb_wr_raw(w, s.p, s.len);
}

/* a text field, cut to WB_PROTO_MAX_TEXT - 1 bytes */
static void wr_text(wb_wr *w, wb_pstr s)
{
    uint32_t n = s.len < WB_PROTO_MAX_TEXT - 1 ? s.len : WB_PROTO_MAX_TEXT - 1;
    wb_wr_u32(w, n);
    wb_wr_raw(w, s.p, n);
}

static void wr_plugins(wb_wr *w, uint32_t n, const wb_m_plugin *p)
{
    wb_wr_u32(w, n);
    for (uint32_t i = 0; i < n; i++) {
        wr_pstr(w, p[i].name);
        wr_pstr(w, p[i].version);
    }
}

void wb_list_init(wb_list *l, int type)
{
    memset(l, 0, sizeof *l);
    l->type = type;
}

void wb_list_clear(wb_list *l)
{
    l->b.len = 0;
    l->n = 0;
}

void wb_list_free(wb_list *l)
{
    wb_buf_free(&l->b);
    l->n = 0;
}

/* a writer appending to a list's entries */
static wb_wr list_wr(wb_list *l)
{
    wb_wr w = {&l->b, 0};
    return w;
}

int wb_enc_list(wb_wr *w, wb_list *l)
{
    size_t s = wb_msg_begin(w, l->type);
    wb_wr_u32(w, l->n);
    wb_wr_raw(w, l->b.p, l->b.len);
    wb_list_clear(l);
    return wb_msg_end(w, s);
}

/* ---------------------------------------------------------------- reader */

typedef struct rd {
    const unsigned char *p;
    size_t n, off;
    const char *msg; /* message name for errors */
    int err;
} rd;

static void rd_init(rd *r, const void *p, size_t n, const char *msg)
{
    r->p = p;
    r->n = n;
    r->off = 0;
    r->msg = msg;
    r->err = 0;
}

static int rd_fail(rd *r, const char *fmt, ...) WB_PRINTF(2, 3);
static int rd_fail(rd *r, const char *fmt, ...)
{
    if (r->err) return r->err;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->err = wb_seterr(WB_EPROTO, "%s message: %s", r->msg, buf);
    return r->err;
}

static size_t rd_left(const rd *r) { return r->err ? 0 : r->n - r->off; }

static const unsigned char *rd_take(rd *r, size_t k, const char *field)
{
    if (r->err) return NULL;
    if (r->n - r->off < k) {
        rd_fail(r, "truncated at byte %zu reading %s (%zu bytes needed, %zu left)", r->off, field, k,
                r->n - r->off);
        return NULL;
    }
    const unsigned char *q = r->p + r->off;
    r->off += k;
    return q;
}

static uint8_t rd_u8(rd *r, const char *f)
{
    const unsigned char *q = rd_take(r, 1, f);
    return q ? q[0] : 0;
}
static uint16_t rd_u16(rd *r, const char *f)
{
    const unsigned char *q = rd_take(r, 2, f);
    return q ? get16(q) : 0;
}
static uint32_t rd_u32(rd *r, const char *f)
{
    const unsigned char *q = rd_take(r, 4, f);
    return q ? get32(q) : 0;
}
static uint64_t rd_u64(rd *r, const char *f)
{
    const unsigned char *q = rd_take(r, 8, f);
    return q ? get64(q) : 0;
}
static int64_t rd_i64(rd *r, const char *f) { return (int64_t)rd_u64(r, f); }
/* a finite double */
static double rd_f64(rd *r, const char *f)
{
    uint64_t u = rd_u64(r, f);
    double v;
    memcpy(&v, &u, 8);
    if (!r->err && !isfinite(v)) {
        rd_fail(r, "%s is not a finite number", f);
        return 0;
    }
    return v;
}
static int32_t rd_i32(rd *r, const char *f) { return (int32_t)rd_u32(r, f); }

/* a length-prefixed string of at most max bytes */
static wb_pstr rd_str(rd *r, uint32_t max, const char *f)
{
    wb_pstr s = {"", 0};
    uint32_t n = rd_u32(r, f);
    if (r->err) return s;
    if (n > max) {
        rd_fail(r, "%s of %u bytes (at most %u allowed)", f, (unsigned)n, (unsigned)max);
        return s;
    }
    const unsigned char *q = rd_take(r, n, f);
    if (q) {
        s.p = (const char *)q;
        s.len = n;
    }
    return s;
}

static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '+';
}

/* a kernel/plugin/version/host name: 1..128 characters of [A-Za-z0-9_.+-] (host: ':' too) */
static wb_pstr rd_name(rd *r, const char *f, int allow_colon)
{
    wb_pstr s = rd_str(r, WB_PROTO_MAX_NAME, f);
    if (r->err) return s;
    if (s.len == 0) {
        rd_fail(r, "empty %s", f);
        return s;
    }
    for (uint32_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (!name_char(c) && !(allow_colon && c == ':')) {
            rd_fail(r, "%s has a bad character (byte 0x%02x at %u)", f, c, (unsigned)i);
            return s;
        }
    }
    return s;
}

/* a message text: no NUL bytes */
static wb_pstr rd_text(rd *r, const char *f)
{
    wb_pstr s = rd_str(r, WB_PROTO_MAX_TEXT, f);
    if (!r->err && s.len && memchr(s.p, 0, s.len)) rd_fail(r, "%s contains a NUL byte", f);
    return s;
}

static int rd_end(rd *r)
{
    if (r->err) return r->err;
    if (r->off != r->n) return rd_fail(r, "%zu unexpected bytes after the end", r->n - r->off);
    return 0;
}

/* an element count, checked against the bytes left (each element at least `min` bytes) */
static uint32_t rd_count(rd *r, size_t min, uint32_t max, const char *f)
{
    uint32_t n = rd_u32(r, f);
    if (r->err) return 0;
    if (n > max) {
        rd_fail(r, "%s %u exceeds the limit of %u", f, (unsigned)n, (unsigned)max);
        return 0;
    }
    if (min && (uint64_t)n * min > rd_left(r)) {
        rd_fail(r, "%s %u does not fit in the %zu bytes left", f, (unsigned)n, rd_left(r));
        return 0;
    }
    return n;
}

static void *rd_alloc(rd *r, size_t n, size_t size)
{
    if (r->err) return NULL;
    void *p = calloc(n ? n : 1, size);
    if (!p) rd_fail(r, "out of memory");
    return p;
}

/* ------------------------------------------------------------ object shape */

void wb_wstat_from(wb_wstat *w, const wb_objstat *s)
{
    memset(w, 0, sizeof *w);
    w->type = (uint8_t)s->type;
    w->has_y = (uint8_t)(s->has_y != 0);
    w->size = s->size;
    if (s->type == WB_OBJ_PART) {
        w->rows = s->rows;
        w->cols = s->cols;
        w->row0 = s->row0;
    }
}

void wb_wstat_to(const wb_wstat *w, wb_objstat *s)
{
    memset(s, 0, sizeof *s);
    s->type = w->type;
    s->size = (size_t)w->size;
    s->rows = w->rows;
    s->cols = w->cols;
    s->row0 = w->row0;
    s->has_y = w->has_y;
}

void wb_wr_wstat(wb_wr *w, const wb_wstat *s)
{
    wb_wr_u8(w, s->type);
    wb_wr_u8(w, s->has_y);
    wb_wr_u64(w, s->size);
    wb_wr_i64(w, s->rows);
    wb_wr_i64(w, s->cols);
    wb_wr_i64(w, s->row0);
}

#define WSTAT_BYTES 34

static void rd_wstat(rd *r, wb_wstat *s, int allow_none)
{
    s->type = rd_u8(r, "object type");
    s->has_y = rd_u8(r, "object has_y");
    s->size = rd_u64(r, "object size");
    s->rows = rd_i64(r, "object rows");
    s->cols = rd_i64(r, "object cols");
    s->row0 = rd_i64(r, "object row0");
    if (r->err) return;
    if (s->type == 0 && allow_none) {
        if (s->has_y || s->size || s->rows || s->cols || s->row0)
            rd_fail(r, "an object of no type with a shape");
        return;
    }
    if (s->type != WB_OBJ_BYTES && s->type != WB_OBJ_PART) {
        rd_fail(r, "object type %u (1 bytes or 2 partition expected)", (unsigned)s->type);
        return;
    }
    if (s->has_y > 1) {
        rd_fail(r, "object has_y %u (0 or 1 expected)", (unsigned)s->has_y);
        return;
    }
    if (s->size > WB_PROTO_MAX_OBJECT) {
        rd_fail(r, "object size %llu exceeds the limit of %llu", (unsigned long long)s->size,
                (unsigned long long)WB_PROTO_MAX_OBJECT);
        return;
    }
    if (s->type == WB_OBJ_BYTES) {
        if (s->has_y || s->rows || s->cols || s->row0) rd_fail(r, "a byte object with a shape");
        return;
    }
    if (s->rows < 0 || s->cols < 0 || s->row0 < 0 || s->rows > ((int64_t)1 << 40) ||
        s->cols > ((int64_t)1 << 30) || s->row0 > ((int64_t)1 << 50)) {
        rd_fail(r, "partition shape %lld x %lld at row %lld out of range", (long long)s->rows,
                (long long)s->cols, (long long)s->row0);
        return;
    }
    unsigned __int128 need = (unsigned __int128)s->rows * (unsigned __int128)s->cols * 8 +
                             (s->has_y ? (unsigned __int128)s->rows * 8 : 0);
    if (need != s->size)
        rd_fail(r, "partition of %lld x %lld%s has size %llu, expected %llu", (long long)s->rows,
                (long long)s->cols, s->has_y ? " with labels" : "", (unsigned long long)s->size,
                (unsigned long long)need);
}

/* ---------------------------------------------------------------- messages */

static void rd_magic(rd *r)
{
    const unsigned char *m = rd_take(r, 4, "magic");
    if (m && memcmp(m, WB_PROTO_MAGIC, 4) != 0) rd_fail(r, "bad magic (not a wb cluster peer)");
}

static void rd_role(rd *r, uint8_t *role)
{
    *role = rd_u8(r, "role");
    if (!r->err && (*role < WB_ROLE_HEAD || *role > WB_ROLE_PEER))
        rd_fail(r, "role %u (1..4 expected)", (unsigned)*role);
}

int wb_dec_hello(const void *p, size_t n, wb_m_hello *out)
{
    rd r;
    rd_init(&r, p, n, "HELLO");
    memset(out, 0, sizeof *out);
    rd_magic(&r);
    out->version = rd_u16(&r, "version");
    rd_role(&r, &out->role);
    const unsigned char *q = rd_take(&r, WB_PROTO_NONCE, "nonce");
    if (q) memcpy(out->nonce, q, WB_PROTO_NONCE);
    return rd_end(&r);
}

int wb_enc_hello(wb_wr *w, uint8_t role, const uint8_t nonce[WB_PROTO_NONCE])
{
    size_t s = wb_msg_begin(w, WB_M_HELLO);
    wb_wr_raw(w, WB_PROTO_MAGIC, 4);
    wb_wr_u16(w, WB_PROTO_VERSION);
    wb_wr_u8(w, role);
    wb_wr_raw(w, nonce, WB_PROTO_NONCE);
    return wb_msg_end(w, s);
}

int wb_dec_auth(const void *p, size_t n, wb_m_auth *out)
{
    rd r;
    rd_init(&r, p, n, "AUTH");
    memset(out, 0, sizeof *out);
    rd_magic(&r);
    out->version = rd_u16(&r, "version");
    rd_role(&r, &out->role);
    const unsigned char *q = rd_take(&r, WB_PROTO_NONCE, "nonce");
    if (q) memcpy(out->nonce, q, WB_PROTO_NONCE);
    q = rd_take(&r, WB_PROTO_MAC, "mac");
    if (q) memcpy(out->mac, q, WB_PROTO_MAC);
    return rd_end(&r);
}

int wb_enc_auth(wb_wr *w, uint16_t version, uint8_t role, const uint8_t nonce[WB_PROTO_NONCE],
                const uint8_t mac[WB_PROTO_MAC])
{
    size_t s = wb_msg_begin(w, WB_M_AUTH);
    wb_wr_raw(w, WB_PROTO_MAGIC, 4);
    wb_wr_u16(w, version);
    wb_wr_u8(w, role);
    wb_wr_raw(w, nonce, WB_PROTO_NONCE);
    wb_wr_raw(w, mac, WB_PROTO_MAC);
    return wb_msg_end(w, s);
}

int wb_dec_auth_ok(const void *p, size_t n, uint8_t mac[WB_PROTO_MAC])
{
    rd r;
    rd_init(&r, p, n, "AUTH_OK");
    const unsigned char *q = rd_take(&r, WB_PROTO_MAC, "mac");
    if (q) memcpy(mac, q, WB_PROTO_MAC);
    return rd_end(&r);
}

int wb_enc_auth_ok(wb_wr *w, const uint8_t mac[WB_PROTO_MAC])
{
    size_t s = wb_msg_begin(w, WB_M_AUTH_OK);
    wb_wr_raw(w, mac, WB_PROTO_MAC);
    return wb_msg_end(w, s);
}

int wb_dec_reject(const void *p, size_t n, wb_m_reject *out)
{
    rd r;
    rd_init(&r, p, n, "REJECT");
    out->code = rd_i32(&r, "code");
    out->msg = rd_text(&r, "reason");
    if (!r.err && (out->code >= 0 || out->code < -1000)) rd_fail(&r, "code %d (a negative error code expected)", (int)out->code);
    return rd_end(&r);
}

int wb_enc_reject(wb_wr *w, int32_t code, const char *msg)
{
    size_t s = wb_msg_begin(w, WB_M_REJECT);
    wb_wr_i32(w, code);
    wr_text(w, wb_pstr_z(msg));
    return wb_msg_end(w, s);
}

static void rd_plugins(rd *r, uint32_t *n, wb_m_plugin **out)
{
    *n = rd_count(r, 10, 4096, "plugin count");
    *out = rd_alloc(r, *n, sizeof **out);
    for (uint32_t i = 0; i < *n && !r->err; i++) {
        (*out)[i].name = rd_name(r, "plugin name", 0);
        (*out)[i].version = rd_name(r, "plugin version", 0);
    }
}

int wb_dec_register(const void *p, size_t n, wb_m_register *out)
{
    rd r;
    rd_init(&r, p, n, "REGISTER");
    memset(out, 0, sizeof *out);
    out->threads = rd_u32(&r, "threads");
    out->mem_limit = rd_u64(&r, "memory limit");
    out->host = rd_name(&r, "host", 1);
    out->port = rd_u16(&r, "port");
    out->pid = rd_u32(&r, "pid");
    if (!r.err && (out->threads < 1 || out->threads > 4096))
        rd_fail(&r, "threads %u (1..4096 expected)", (unsigned)out->threads);
    if (!r.err && out->port == 0) rd_fail(&r, "data port 0");
    rd_plugins(&r, &out->nplugins, &out->plugins);
    out->nkernels = rd_count(&r, 5, 1 << 16, "kernel count");
    out->kernels = rd_alloc(&r, out->nkernels, sizeof *out->kernels);
    for (uint32_t i = 0; i < out->nkernels && !r.err; i++) out->kernels[i] = rd_name(&r, "kernel name", 0);
    int rc = rd_end(&r);
    if (rc) wb_m_register_free(out);
    return rc;
}

void wb_m_register_free(wb_m_register *m)
{
    free(m->plugins);
    free(m->kernels);
    m->plugins = NULL;
    m->kernels = NULL;
    m->nplugins = m->nkernels = 0;
}

int wb_enc_register(wb_wr *w, const wb_m_register *m)
{
    size_t s = wb_msg_begin(w, WB_M_REGISTER);
    wb_wr_u32(w, m->threads);
    wb_wr_u64(w, m->mem_limit);
    wr_pstr(w, m->host);
    wb_wr_u16(w, m->port);
    wb_wr_u32(w, m->pid);
    wr_plugins(w, m->nplugins, m->plugins);
    wb_wr_u32(w, m->nkernels);
    for (uint32_t i = 0; i < m->nkernels; i++) wr_pstr(w, m->kernels[i]);
    return wb_msg_end(w, s);
}

int wb_dec_welcome(const void *p, size_t n, wb_m_welcome *out)
{
    rd r;
    rd_init(&r, p, n, "WELCOME");
    memset(out, 0, sizeof *out);
    out->id = rd_u32(&r, "id");
    out->heartbeat_ms = rd_u32(&r, "heartbeat interval");
    out->timeout_ms = rd_u32(&r, "heartbeat timeout");
    out->dashboard_port = rd_u16(&r, "dashboard port");
    if (!r.err && (out->id == 0 || out->id >= (1u << 22))) rd_fail(&r, "id %u out of range", (unsigned)out->id);
    if (!r.err && (out->heartbeat_ms < 10 || out->heartbeat_ms > 600000 || out->timeout_ms < out->heartbeat_ms ||
                   out->timeout_ms > 3600000))
        rd_fail(&r, "heartbeat %u ms / timeout %u ms out of range", (unsigned)out->heartbeat_ms,
                (unsigned)out->timeout_ms);
    rd_plugins(&r, &out->nplugins, &out->plugins);
    int rc = rd_end(&r);
    if (rc) wb_m_welcome_free(out);
    return rc;
}

void wb_m_welcome_free(wb_m_welcome *m)
{
    free(m->plugins);
    m->plugins = NULL;
    m->nplugins = 0;
}

int wb_enc_welcome(wb_wr *w, const wb_m_welcome *m)
{
    size_t s = wb_msg_begin(w, WB_M_WELCOME);
    wb_wr_u32(w, m->id);
    wb_wr_u32(w, m->heartbeat_ms);
    wb_wr_u32(w, m->timeout_ms);
    wb_wr_u16(w, m->dashboard_port);
    wr_plugins(w, m->nplugins, m->plugins);
    return wb_msg_end(w, s);
}

int wb_dec_plugins(const void *p, size_t n, wb_m_plugins *out)
{
    rd r;
    rd_init(&r, p, n, "PLUGINS");
    memset(out, 0, sizeof *out);
    rd_plugins(&r, &out->nplugins, &out->plugins);
    int rc = rd_end(&r);
    if (rc) wb_m_plugins_free(out);
    return rc;
}

void wb_m_plugins_free(wb_m_plugins *m)
{
    free(m->plugins);
    m->plugins = NULL;
    m->nplugins = 0;
}

int wb_enc_plugins(wb_wr *w, const wb_m_plugins *m)
{
    size_t s = wb_msg_begin(w, WB_M_PLUGINS);
    wr_plugins(w, m->nplugins, m->plugins);
    return wb_msg_end(w, s);
}

int wb_dec_workers(const void *p, size_t n, wb_m_workers *out)
{
    rd r;
    rd_init(&r, p, n, "WORKERS");
    memset(out, 0, sizeof *out);
    out->n = rd_count(&r, 20, 1 << 16, "worker count");
    out->w = rd_alloc(&r, out->n, sizeof *out->w);
    for (uint32_t i = 0; i < out->n && !r.err; i++) {
        wb_m_worker *w = &out->w[i];
        w->id = rd_u32(&r, "worker id");
        w->host = rd_name(&r, "host", 1);
        w->port = rd_u16(&r, "port");
        w->threads = rd_u32(&r, "threads");
        w->pid = rd_u32(&r, "pid");
        w->alive = rd_u8(&r, "alive");
        if (!r.err && (w->id == 0 || w->id >= (1u << 22))) rd_fail(&r, "worker id %u out of range", (unsigned)w->id);
        if (!r.err && w->alive > 1) rd_fail(&r, "alive %u (0 or 1 expected)", (unsigned)w->alive);
        if (!r.err && (w->threads < 1 || w->threads > 4096)) rd_fail(&r, "threads %u (1..4096 expected)", (unsigned)w->threads);
        if (!r.err) rd_plugins(&r, &w->nplugins, &w->plugins);
    }
    int rc = rd_end(&r);
    if (rc) wb_m_workers_free(out);
    return rc;
}

void wb_m_workers_free(wb_m_workers *m)
{
    for (uint32_t i = 0; m->w && i < m->n; i++) free(m->w[i].plugins);
    free(m->w);
    m->w = NULL;
    m->n = 0;
}

static void wr_worker1(wb_wr *w, const wb_m_worker *x)
{
    wb_wr_u32(w, x->id);
    wr_pstr(w, x->host);
    wb_wr_u16(w, x->port);
    wb_wr_u32(w, x->threads);
    wb_wr_u32(w, x->pid);
    wb_wr_u8(w, x->alive);
    wr_plugins(w, x->nplugins, x->plugins);
}

int wb_enc_workers(wb_wr *w, const wb_m_workers *m)
{
    size_t s = wb_msg_begin(w, WB_M_WORKERS);
    wb_wr_u32(w, m->n);
    for (uint32_t i = 0; i < m->n; i++) wr_worker1(w, &m->w[i]);
    return wb_msg_end(w, s);
}

void wb_enc_worker1(wb_list *l, const wb_m_worker *x)
{
    wb_wr w = list_wr(l);
    wr_worker1(&w, x);
    l->n++;
}

/* WSTATS: f64 now, f64 cpu, i64 rss, u32 ntasks x (name kernel, u16 thread,
 * f64 start, f64 end, u8 ok), u32 nlogs x (f64 time, u8 level, text) */
int wb_dec_wstats(const void *p, size_t n, wb_m_wstats *out)
{
    rd r;
    rd_init(&r, p, n, "WSTATS");
    memset(out, 0, sizeof *out);
    out->now = rd_f64(&r, "clock");
    out->cpu = rd_f64(&r, "cpu time");
    out->rss = rd_i64(&r, "rss");
    out->ntasks = rd_count(&r, 4 + 1 + 2 + 8 + 8 + 1, WB_PROTO_MAX_WTASKS, "task count");
    out->tasks = rd_alloc(&r, out->ntasks, sizeof *out->tasks);
    for (uint32_t i = 0; i < out->ntasks && !r.err; i++) {
        wb_m_wtask *t = &out->tasks[i];
        t->kernel = rd_name(&r, "kernel", 0);
        t->thread = rd_u16(&r, "thread");
        t->start = rd_f64(&r, "start");
        t->end = rd_f64(&r, "end");
        t->ok = rd_u8(&r, "ok");
        if (!r.err && (t->end < t->start || t->ok > 1)) rd_fail(&r, "task %u: bad times or status", (unsigned)i);
    }
    out->nlogs = rd_count(&r, 8 + 1 + 4, WB_PROTO_MAX_WLOGS, "log line count");
    out->logs = rd_alloc(&r, out->nlogs, sizeof *out->logs);
    for (uint32_t i = 0; i < out->nlogs && !r.err; i++) {
        wb_m_wlog *l = &out->logs[i];
        l->time = rd_f64(&r, "log time");
        l->level = rd_u8(&r, "log level");
        l->msg = rd_text(&r, "log line");
        if (!r.err && l->level > WB_LOG_ERROR) rd_fail(&r, "log line %u: level %u", (unsigned)i, (unsigned)l->level);
    }
    int rc = rd_end(&r);
    if (rc) wb_m_wstats_free(out);
    return rc;
}

void wb_m_wstats_free(wb_m_wstats *m)
{
    free(m->tasks);
    free(m->logs);
    m->tasks = NULL;
    m->logs = NULL;
    m->ntasks = m->nlogs = 0;
}

int wb_enc_wstats(wb_wr *w, double now, double cpu, int64_t rss, const wb_taskrec *tasks, int ntasks,
                  const wb_logrec *logs, int nlogs)
{
    size_t s = wb_msg_begin(w, WB_M_WSTATS);
    wr_f64(w, now);
    wr_f64(w, cpu);
    wb_wr_i64(w, rss);
    wb_wr_u32(w, (uint32_t)ntasks);
    for (int i = 0; i < ntasks; i++) {
        /* a name as names go on the wire ([A-Za-z0-9_.+-]) */
        char k[sizeof tasks[i].kernel];
        snprintf(k, sizeof k, "%s", tasks[i].kernel[0] ? tasks[i].kernel : "unknown");
        for (char *c = k; *c; c++)
            if (!name_char((unsigned char)*c)) *c = '_';
        wb_wr_str(w, k);
        wb_wr_u16(w, (uint16_t)(tasks[i].thread < 0 ? 0 : tasks[i].thread > 65535 ? 65535 : tasks[i].thread));
        wr_f64(w, tasks[i].start);
        wr_f64(w, tasks[i].end >= tasks[i].start ? tasks[i].end : tasks[i].start);
        wb_wr_u8(w, tasks[i].ok ? 1 : 0);
    }
    wb_wr_u32(w, (uint32_t)nlogs);
    for (int i = 0; i < nlogs; i++) {
        wr_f64(w, logs[i].time);
        wb_wr_u8(w, (uint8_t)(logs[i].level < 0 ? 0 : logs[i].level > WB_LOG_ERROR ? WB_LOG_ERROR : logs[i].level));
        wb_wr_str(w, logs[i].msg);
    }
    return wb_msg_end(w, s);
}

/* JOB: u32 n x (name stage, f64 done, f64 total, f64 elapsed, text info) */
int wb_dec_job(const void *p, size_t n, wb_m_job *out)
{
    rd r;
    rd_init(&r, p, n, "JOB");
    memset(out, 0, sizeof *out);
    out->n = rd_count(&r, 4 + 8 + 8 + 8 + 4, WB_PROTO_MAX_STAGES, "stage count");
    for (uint32_t i = 0; i < out->n && !r.err; i++) {
        wb_m_jstage *st = &out->s[i];
        st->name = rd_str(&r, 64, "stage");
        if (!r.err && (st->name.len == 0 || memchr(st->name.p, 0, st->name.len))) rd_fail(&r, "stage %u: bad name", (unsigned)i);
        st->done = rd_f64(&r, "done");
        st->total = rd_f64(&r, "total");
        st->elapsed = rd_f64(&r, "elapsed");
        st->info = rd_str(&r, 256, "info");
        if (!r.err && memchr(st->info.p, 0, st->info.len)) rd_fail(&r, "stage %u: info contains a NUL byte", (unsigned)i);
    }
    return rd_end(&r);
}

int wb_enc_job(wb_wr *w, const wb_jobstage *stages, int n, double now)
{
    if (n > WB_PROTO_MAX_STAGES) n = WB_PROTO_MAX_STAGES;
    size_t s = wb_msg_begin(w, WB_M_JOB);
    wb_wr_u32(w, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        wb_wr_str(w, stages[i].name[0] ? stages[i].name : "?");
        wr_f64(w, isfinite(stages[i].done) ? stages[i].done : 0);
        wr_f64(w, isfinite(stages[i].total) ? stages[i].total : 0);
        wr_f64(w, now - stages[i].start);
        wb_wr_str(w, stages[i].info);
    }
    return wb_msg_end(w, s);
}

int wb_dec_heartbeat(const void *p, size_t n, wb_m_heartbeat *out)
{
    rd r;
    rd_init(&r, p, n, "HEARTBEAT");
    out->mem_used = rd_u64(&r, "memory used");
    out->mem_limit = rd_u64(&r, "memory limit");
    out->objects = rd_u64(&r, "objects");
    out->running = rd_u32(&r, "running");
    out->queued = rd_u32(&r, "queued");
    out->done = rd_u64(&r, "done");
    out->failed = rd_u64(&r, "failed");
    out->rss = rd_i64(&r, "rss");
    return rd_end(&r);
}

int wb_enc_heartbeat(wb_wr *w, const wb_m_heartbeat *m)
{
    size_t s = wb_msg_begin(w, WB_M_HEARTBEAT);
    wb_wr_u64(w, m->mem_used);
    wb_wr_u64(w, m->mem_limit);
    wb_wr_u64(w, m->objects);
    wb_wr_u32(w, m->running);
    wb_wr_u32(w, m->queued);
    wb_wr_u64(w, m->done);
    wb_wr_u64(w, m->failed);
    wb_wr_i64(w, m->rss);
    return wb_msg_end(w, s);
}

int wb_dec_ping(const void *p, size_t n)
{
    rd r;
    rd_init(&r, p, n, "PING");
    return rd_end(&r);
}

int wb_enc_ping(wb_wr *w)
{
    size_t s = wb_msg_begin(w, WB_M_PING);
    return wb_msg_end(w, s);
}

/* task batch: u32 nkernels [name]; u32 nargs [bytes]; u32 ntasks [task]
 * task: u64 oid, u32 kernel, u8 mode, u64 sumlen, i64 out_rows, u32 attempt,
 *       u32 arg, u32 nin, nin x (u64 oid, u16 nholders, nholders x u32) */
#define TASK_MIN_BYTES (8 + 4 + 1 + 8 + 8 + 4 + 4 + 4)
#define INPUT_MIN_BYTES (8 + 2)

/* a growing array for decoders (grows by doubling; counts are already
 * bounded by the bytes of the frame) */
typedef struct vec {
    void *p;
    size_t n, cap, size;
} vec;

static void *vec_push(rd *r, vec *v, size_t k)
{
    if (r->err) return NULL;
    if (v->n + k > v->cap) {
        size_t cap = v->cap ? v->cap : 64;
        while (cap < v->n + k) cap *= 2;
        void *q = realloc(v->p, cap * v->size);
        if (!q) {
            rd_fail(r, "out of memory");
            return NULL;
        }
        v->p = q;
        v->cap = cap;
    }
    void *at = (char *)v->p + v->n * v->size;
    v->n += k;
    return at;
}

int wb_dec_tasks(const void *p, size_t n, wb_m_tasks *out)
{
    rd r;
    rd_init(&r, p, n, "TASKS");
    memset(out, 0, sizeof *out);
    out->nkernels = rd_count(&r, 5, 1 << 16, "kernel count");
    out->kernels = rd_alloc(&r, out->nkernels, sizeof *out->kernels);
    for (uint32_t i = 0; i < out->nkernels && !r.err; i++) out->kernels[i] = rd_name(&r, "kernel name", 0);
    out->nargs = rd_count(&r, 4, 1u << 24, "argument count");
    out->args = rd_alloc(&r, out->nargs, sizeof *out->args);
    for (uint32_t i = 0; i < out->nargs && !r.err; i++) out->args[i] = rd_str(&r, WB_PROTO_MAX_FRAME, "argument");
    out->ntasks = rd_count(&r, TASK_MIN_BYTES, 1u << 24, "task count");
    if (!r.err && out->ntasks && !out->nkernels) rd_fail(&r, "tasks but no kernel names");
    out->tasks = rd_alloc(&r, out->ntasks, sizeof *out->tasks);
    size_t *inoff = rd_alloc(&r, out->ntasks, sizeof *inoff);
    vec ins = {NULL, 0, 0, sizeof(wb_m_input)}, holds = {NULL, 0, 0, sizeof(uint32_t)};
    vec hoff = {NULL, 0, 0, sizeof(size_t)}; /* per input: offset of its holders */
    for (uint32_t i = 0; i < out->ntasks && !r.err; i++) {
        wb_m_task *t = &out->tasks[i];
        t->oid = rd_u64(&r, "task object");
        t->kernel = rd_u32(&r, "task kernel");
        t->mode = rd_u8(&r, "task mode");
        t->sumlen = rd_u64(&r, "task sum length");
        t->out_rows = rd_i64(&r, "task output rows");
        t->attempt = rd_u32(&r, "task attempt");
        t->arg = rd_u32(&r, "task argument");
        t->nin = rd_count(&r, INPUT_MIN_BYTES, 1u << 20, "task input count");
        if (r.err) break;
        if (t->oid == 0) rd_fail(&r, "task %u has object id 0", (unsigned)i);
        else if (t->kernel >= out->nkernels)
            rd_fail(&r, "task %u names kernel %u of %u", (unsigned)i, (unsigned)t->kernel, (unsigned)out->nkernels);
        else if (t->mode != WB_TASK_PLAIN && t->mode != WB_TASK_BLOCKSUM)
            rd_fail(&r, "task %u has mode %u (0 or 1 expected)", (unsigned)i, (unsigned)t->mode);
        else if (t->mode == WB_TASK_BLOCKSUM && (t->sumlen > (1u << 28) || t->nin < 1))
            rd_fail(&r, "task %u: block sum of %llu doubles over %u inputs", (unsigned)i,
                    (unsigned long long)t->sumlen, (unsigned)t->nin);
        else if (t->mode == WB_TASK_PLAIN && t->sumlen != 0)
            rd_fail(&r, "task %u: a plain task with a sum length", (unsigned)i);
        else if (t->out_rows < -1 || t->out_rows > ((int64_t)1 << 40))
            rd_fail(&r, "task %u: output rows %lld out of range", (unsigned)i, (long long)t->out_rows);
        else if (t->arg != WB_NO_ARG && t->arg >= out->nargs)
            rd_fail(&r, "task %u names argument %u of %u", (unsigned)i, (unsigned)t->arg, (unsigned)out->nargs);
        if (r.err) break;
        inoff[i] = ins.n;
        for (uint32_t j = 0; j < t->nin && !r.err; j++) {
            wb_m_input *in = vec_push(&r, &ins, 1);
            size_t *ho = vec_push(&r, &hoff, 1);
            if (!in || !ho) break;
            in->oid = rd_u64(&r, "input object");
            in->nholders = rd_u16(&r, "input holder count");
            in->holders = NULL;
            *ho = holds.n;
            if (r.err) break;
            if (in->oid == 0) {
                rd_fail(&r, "task %u input %u has object id 0", (unsigned)i, (unsigned)j);
                break;
            }
            if (in->nholders > WB_PROTO_MAX_HOLDERS) {
                rd_fail(&r, "task %u input %u has %u holders (at most %d)", (unsigned)i, (unsigned)j,
                        (unsigned)in->nholders, WB_PROTO_MAX_HOLDERS);
                break;
            }
            if ((size_t)in->nholders * 4 > rd_left(&r)) {
                rd_fail(&r, "task %u input %u: %u holders do not fit", (unsigned)i, (unsigned)j,
                        (unsigned)in->nholders);
                break;
            }
            uint32_t *h = in->nholders ? vec_push(&r, &holds, in->nholders) : NULL;
            for (uint16_t k = 0; h && k < in->nholders && !r.err; k++) {
                h[k] = rd_u32(&r, "holder");
                if (!r.err && (h[k] == 0 || h[k] >= (1u << 22))) rd_fail(&r, "holder id %u out of range", (unsigned)h[k]);
            }
        }
    }
    int rc = rd_end(&r);
    if (!rc) {
        /* the arrays stopped moving: point tasks at their inputs and inputs at their holders */
        wb_m_input *inb = ins.p;
        for (size_t k = 0; k < ins.n; k++)
            inb[k].holders = inb[k].nholders ? (const uint32_t *)holds.p + ((size_t *)hoff.p)[k] : NULL;
        for (uint32_t i = 0; i < out->ntasks; i++) out->tasks[i].in = out->tasks[i].nin ? inb + inoff[i] : NULL;
        void **mem = malloc(2 * sizeof *mem);
        if (!mem) rc = wb_seterr(WB_ENOMEM, "out of memory");
        else {
            mem[0] = ins.p;
            mem[1] = holds.p;
            out->mem = mem;
        }
    }
    free(inoff);
    free(hoff.p);
    if (rc) {
        free(ins.p);
        free(holds.p);
        wb_m_tasks_free(out);
    }
    return rc;
}

void wb_m_tasks_free(wb_m_tasks *m)
{
    if (m->mem) {
        void **mem = m->mem;
        free(mem[0]);
        free(mem[1]);
        free(mem);
    }
    free(m->kernels);
    free(m->args);
    free(m->tasks);
    memset(m, 0, sizeof *m);
}

static void wr_task(wb_wr *w, const wb_m_task *t)
{
    wb_wr_u64(w, t->oid);
    wb_wr_u32(w, t->kernel);
    wb_wr_u8(w, t->mode);
    wb_wr_u64(w, t->sumlen);
    wb_wr_i64(w, t->out_rows);
    wb_wr_u32(w, t->attempt);
    wb_wr_u32(w, t->arg);
    wb_wr_u32(w, t->nin);
}

static void wr_input(wb_wr *w, uint64_t oid, uint16_t nholders, const uint32_t *holders)
{
    wb_wr_u64(w, oid);
    wb_wr_u16(w, nholders);
    for (uint16_t k = 0; k < nholders; k++) wb_wr_u32(w, holders[k]);
}

int wb_enc_tasks(wb_wr *w, int type, const wb_m_tasks *m)
{
    size_t s = wb_msg_begin(w, type);
    wb_wr_u32(w, m->nkernels);
    for (uint32_t i = 0; i < m->nkernels; i++) wr_pstr(w, m->kernels[i]);
    wb_wr_u32(w, m->nargs);
    for (uint32_t i = 0; i < m->nargs; i++) wr_pstr(w, m->args[i]);
    wb_wr_u32(w, m->ntasks);
    for (uint32_t i = 0; i < m->ntasks; i++) {
        const wb_m_task *t = &m->tasks[i];
        wr_task(w, t);
        for (uint32_t j = 0; j < t->nin; j++) wr_input(w, t->in[j].oid, t->in[j].nholders, t->in[j].holders);
    }
    return wb_msg_end(w, s);
}

void wb_taskbatch_init(wb_taskbatch *b, int type)
{
    memset(b, 0, sizeof *b);
    b->type = type;
}

void wb_taskbatch_clear(wb_taskbatch *b)
{
    b->kern.len = b->args.len = b->tasks.len = 0;
    b->nk = b->na = b->nt = 0;
    b->err = 0;
}

void wb_taskbatch_free(wb_taskbatch *b)
{
    wb_buf_free(&b->kern);
    wb_buf_free(&b->args);
    wb_buf_free(&b->tasks);
    wb_taskbatch_clear(b);
}

uint32_t wb_taskbatch_kernel(wb_taskbatch *b, const char *name)
{
    wb_wr w = {&b->kern, 0};
    wr_pstr(&w, wb_pstr_z(name));
    if (w.err) b->err = w.err;
    return b->nk++;
}

uint32_t wb_taskbatch_arg(wb_taskbatch *b, const void *p, size_t n)
{
    wb_wr w = {&b->args, 0};
    wb_wr_bytes(&w, p, n);
    if (w.err) b->err = w.err;
    return b->na++;
}

void wb_taskbatch_task(wb_taskbatch *b, const wb_m_task *t)
{
    wb_wr w = {&b->tasks, 0};
    wr_task(&w, t);
    if (w.err) b->err = w.err;
    b->nt++;
}

void wb_taskbatch_input(wb_taskbatch *b, uint64_t oid, uint16_t nholders, const uint32_t *holders)
{
    wb_wr w = {&b->tasks, 0};
    wr_input(&w, oid, nholders, holders);
    if (w.err) b->err = w.err;
}

int wb_enc_taskbatch(wb_wr *w, wb_taskbatch *b)
{
    size_t s = wb_msg_begin(w, b->type);
    wb_wr_u32(w, b->nk);
    wb_wr_raw(w, b->kern.p, b->kern.len);
    wb_wr_u32(w, b->na);
    wb_wr_raw(w, b->args.p, b->args.len);
    wb_wr_u32(w, b->nt);
    wb_wr_raw(w, b->tasks.p, b->tasks.len);
    wb_taskbatch_clear(b);
    return wb_msg_end(w, s);
}

int wb_dec_done(const void *p, size_t n, wb_m_done *out)
{
    rd r;
    rd_init(&r, p, n, "DONE");
    memset(out, 0, sizeof *out);
    out->n = rd_count(&r, 8 + 4 + 4 + WSTAT_BYTES + 4 + 1, 1u << 24, "result count");
    out->d = rd_alloc(&r, out->n, sizeof *out->d);
    for (uint32_t i = 0; i < out->n && !r.err; i++) {
        wb_m_done1 *d = &out->d[i];
        d->oid = rd_u64(&r, "object");
        d->code = rd_i32(&r, "code");
        d->worker = rd_u32(&r, "worker");
        rd_wstat(&r, &d->stat, d->code != 0);
        d->msg = rd_text(&r, "error message");
        d->has_inline = rd_u8(&r, "inline flag");
        if (r.err) break;
        if (d->oid == 0) rd_fail(&r, "result %u has object id 0", (unsigned)i);
        else if (d->code > 0 || d->code < -1000) rd_fail(&r, "result %u has code %d", (unsigned)i, (int)d->code);
        else if (d->worker >= (1u << 22)) rd_fail(&r, "worker id %u out of range", (unsigned)d->worker);
        else if (d->has_inline > 1) rd_fail(&r, "inline flag %u (0 or 1 expected)", (unsigned)d->has_inline);
        else if (d->code && d->has_inline) rd_fail(&r, "a failed result with inline data");
        else if (d->code == 0 && d->stat.type == 0) rd_fail(&r, "a result without a type");
        if (r.err) break;
        if (d->has_inline) {
            if (d->stat.size > WB_PROTO_INLINE_MAX) {
                rd_fail(&r, "inline data of %llu bytes (at most %llu)", (unsigned long long)d->stat.size,
                        (unsigned long long)WB_PROTO_INLINE_MAX);
                break;
            }
            d->data = rd_str(&r, (uint32_t)WB_PROTO_INLINE_MAX, "inline data");
            if (!r.err && d->data.len != d->stat.size)
                rd_fail(&r, "inline data of %u bytes for an object of %llu", (unsigned)d->data.len,
                        (unsigned long long)d->stat.size);
        }
    }
    int rc = rd_end(&r);
    if (rc) wb_m_done_free(out);
    return rc;
}

void wb_m_done_free(wb_m_done *m)
{
    free(m->d);
    m->d = NULL;
    m->n = 0;
}

static void wr_done1(wb_wr *w, const wb_m_done1 *d, const void *tail, size_t ntail)
{
    wb_wr_u64(w, d->oid);
    wb_wr_i32(w, d->code);
    wb_wr_u32(w, d->worker);
    wb_wr_wstat(w, &d->stat);
    wr_text(w, d->msg);
    wb_wr_u8(w, d->has_inline);
    if (d->has_inline) {
        wb_wr_u32(w, (uint32_t)(d->data.len + ntail));
        wb_wr_raw(w, d->data.p, d->data.len);
        if (ntail) wb_wr_raw(w, tail, ntail);
    }
}

int wb_enc_done(wb_wr *w, const wb_m_done *m)
{
    size_t s = wb_msg_begin(w, WB_M_DONE);
    wb_wr_u32(w, m->n);
    for (uint32_t i = 0; i < m->n; i++) wr_done1(w, &m->d[i], NULL, 0);
    return wb_msg_end(w, s);
}

void wb_enc_done1(wb_list *l, const wb_m_done1 *d, const void *tail, size_t ntail)
{
    wb_wr w = list_wr(l);
    wr_done1(&w, d, tail, ntail);
    l->n++;
}

int wb_dec_objs(const void *p, size_t n, int with_worker, wb_m_objs *out)
{
    rd r;
    rd_init(&r, p, n, with_worker ? "PUT_DECL" : "HOLD");
    memset(out, 0, sizeof *out);
    out->n = rd_count(&r, 8 + (with_worker ? 4 : 0) + WSTAT_BYTES, 1u << 24, "object count");
    out->o = rd_alloc(&r, out->n, sizeof *out->o);
    for (uint32_t i = 0; i < out->n && !r.err; i++) {
        wb_m_obj1 *o = &out->o[i];
        o->oid = rd_u64(&r, "object");
        if (with_worker) o->worker = rd_u32(&r, "worker");
        rd_wstat(&r, &o->stat, 0);
        if (!r.err && o->oid == 0) rd_fail(&r, "object id 0");
        if (!r.err && with_worker && (o->worker == 0 || o->worker >= (1u << 22)))
            rd_fail(&r, "worker id %u out of range", (unsigned)o->worker);
    }
    int rc = rd_end(&r);
    if (rc) wb_m_objs_free(out);
    return rc;
}

void wb_m_objs_free(wb_m_objs *m)
{
    free(m->o);
    m->o = NULL;
    m->n = 0;
}

static void wr_obj1(wb_wr *w, int with_worker, const wb_m_obj1 *o)
{
    wb_wr_u64(w, o->oid);
    if (with_worker) wb_wr_u32(w, o->worker);
    wb_wr_wstat(w, &o->stat);
}

int wb_enc_objs(wb_wr *w, int type, const wb_m_objs *m)
{
    size_t s = wb_msg_begin(w, type);
    wb_wr_u32(w, m->n);
    for (uint32_t i = 0; i < m->n; i++) wr_obj1(w, type == WB_M_PUT_DECL, &m->o[i]);
    return wb_msg_end(w, s);
}

void wb_enc_obj1(wb_list *l, const wb_m_obj1 *o)
{
    wb_wr w = list_wr(l);
    wr_obj1(&w, l->type == WB_M_PUT_DECL, o);
    l->n++;
}

int wb_dec_oids(const void *p, size_t n, wb_m_oids *out)
{
    rd r;
    rd_init(&r, p, n, "object list");
    out->n = rd_count(&r, 8, 1u << 24, "object count");
    out->raw = rd_take(&r, (size_t)out->n * 8, "objects");
    for (uint32_t i = 0; i < out->n && !r.err; i++)
        if (get64(out->raw + (size_t)i * 8) == 0) rd_fail(&r, "object id 0 at %u", (unsigned)i);
    int rc = rd_end(&r);
    if (rc) {
        out->n = 0;
        out->raw = NULL;
    }
    return rc;
}

uint64_t wb_m_oid_at(const wb_m_oids *m, uint32_t i) { return get64(m->raw + (size_t)i * 8); }

int wb_enc_oids(wb_wr *w, int type, const uint64_t *oids, uint32_t n)
{
    size_t s = wb_msg_begin(w, type);
    wb_wr_u32(w, n);
    for (uint32_t i = 0; i < n; i++) wb_wr_u64(w, oids[i]);
    return wb_msg_end(w, s);
}

void wb_enc_oid1(wb_list *l, uint64_t oid)
{
    wb_wr w = list_wr(l);
    wb_wr_u64(&w, oid);
    l->n++;
}

/* u32 n; n x (u64 oid, i32 code, u32 worker, u64 other, text msg) */
int wb_dec_locs(const void *p, size_t n, wb_m_locs *out)
{
    rd r;
    rd_init(&r, p, n, "location list");
    memset(out, 0, sizeof *out);
    out->n = rd_count(&r, 8 + 4 + 4 + 8 + 4, 1u << 24, "entry count");
    out->l = rd_alloc(&r, out->n, sizeof *out->l);
    for (uint32_t i = 0; i < out->n && !r.err; i++) {
        wb_m_loc1 *l = &out->l[i];
        l->oid = rd_u64(&r, "object");
        l->code = rd_i32(&r, "code");
        l->worker = rd_u32(&r, "worker");
        l->other = rd_u64(&r, "other object");
        l->msg = rd_text(&r, "message");
        if (r.err) break;
        if (l->oid == 0) rd_fail(&r, "object id 0");
        else if (l->code > 0 || l->code < -1000) rd_fail(&r, "code %d", (int)l->code);
        else if (l->worker >= (1u << 22)) rd_fail(&r, "worker id %u out of range", (unsigned)l->worker);
    }
    int rc = rd_end(&r);
    if (rc) wb_m_locs_free(out);
    return rc;
}

void wb_m_locs_free(wb_m_locs *m)
{
    free(m->l);
    m->l = NULL;
    m->n = 0;
}

static void wr_loc1(wb_wr *w, const wb_m_loc1 *e)
{
    wb_wr_u64(w, e->oid);
    wb_wr_i32(w, e->code);
    wb_wr_u32(w, e->worker);
    wb_wr_u64(w, e->other);
    wr_text(w, e->msg);
}

int wb_enc_locs(wb_wr *w, int type, const wb_m_locs *m)
{
    size_t s = wb_msg_begin(w, type);
    wb_wr_u32(w, m->n);
    for (uint32_t i = 0; i < m->n; i++) wr_loc1(w, &m->l[i]);
    return wb_msg_end(w, s);
}

void wb_enc_loc1(wb_list *l, const wb_m_loc1 *e)
{
    wb_wr w = list_wr(l);
    wr_loc1(&w, e);
    l->n++;
}

int wb_dec_pull(const void *p, size_t n, wb_m_pull *out)
{
    rd r;
    rd_init(&r, p, n, "PULL");
    memset(out, 0, sizeof *out);
    out->n = rd_count(&r, 10, 1u << 24, "object count");
    out->p = rd_alloc(&r, out->n, sizeof *out->p);
    vec hold = {NULL, 0, 0, sizeof(uint32_t)};
    size_t *off = rd_alloc(&r, out->n, sizeof *off);
    for (uint32_t i = 0; i < out->n && !r.err; i++) {
        wb_m_pull1 *q = &out->p[i];
        q->oid = rd_u64(&r, "object");
        q->nholders = rd_u16(&r, "holder count");
        if (r.err) break;
        if (q->oid == 0) rd_fail(&r, "object id 0");
        else if (q->nholders == 0 || q->nholders > WB_PROTO_MAX_HOLDERS || (size_t)q->nholders * 4 > rd_left(&r))
            rd_fail(&r, "%u holders", (unsigned)q->nholders);
        off[i] = hold.n;
        uint32_t *h = r.err ? NULL : vec_push(&r, &hold, q->nholders);
        for (uint16_t k = 0; h && k < q->nholders && !r.err; k++) {
            h[k] = rd_u32(&r, "holder");
            if (!r.err && (h[k] == 0 || h[k] >= (1u << 22))) rd_fail(&r, "holder id %u out of range", (unsigned)h[k]);
        }
    }
    int rc = rd_end(&r);
    for (uint32_t i = 0; !rc && i < out->n; i++) out->p[i].holders = (const uint32_t *)hold.p + off[i];
    free(off);
    out->mem = hold.p;
    if (rc) wb_m_pull_free(out);
    return rc;
}

void wb_m_pull_free(wb_m_pull *m)
{
    free(m->p);
    free(m->mem);
    memset(m, 0, sizeof *m);
}

int wb_enc_pull(wb_wr *w, const wb_m_pull *m)
{
    size_t s = wb_msg_begin(w, WB_M_PULL);
    wb_wr_u32(w, m->n);
    for (uint32_t i = 0; i < m->n; i++) wr_input(w, m->p[i].oid, m->p[i].nholders, m->p[i].holders);
    return wb_msg_end(w, s);
}

void wb_enc_pull1(wb_list *l, const wb_m_pull1 *e)
{
    wb_wr w = list_wr(l);
    wr_input(&w, e->oid, e->nholders, e->holders);
    l->n++;
}

int wb_dec_obj(const void *p, size_t n, wb_m_obj *out)
{
    rd r;
    rd_init(&r, p, n, "OBJ");
    out->oid = rd_u64(&r, "object");
    rd_wstat(&r, &out->stat, 0);
    if (!r.err && out->oid == 0) rd_fail(&r, "object id 0");
    return rd_end(&r);
}

int wb_enc_obj(wb_wr *w, int type, const wb_m_obj *m)
{
    size_t s = wb_msg_begin(w, type);
    wb_wr_u64(w, m->oid);
    wb_wr_wstat(w, &m->stat);
    return wb_msg_end(w, s);
}

int wb_dec_any(int type, const void *p, size_t n)
{
    int rc;
    switch (type) {
    case WB_M_HELLO: {
        wb_m_hello m;
        return wb_dec_hello(p, n, &m);
    }
    case WB_M_AUTH: {
        wb_m_auth m;
        return wb_dec_auth(p, n, &m);
    }
    case WB_M_AUTH_OK: {
        uint8_t mac[WB_PROTO_MAC];
        return wb_dec_auth_ok(p, n, mac);
    }
    case WB_M_REJECT: {
        wb_m_reject m;
        return wb_dec_reject(p, n, &m);
    }
    case WB_M_REGISTER: {
        wb_m_register m;
        rc = wb_dec_register(p, n, &m);
        wb_m_register_free(&m);
        return rc;
    }
    case WB_M_WELCOME: {
        wb_m_welcome m;
        rc = wb_dec_welcome(p, n, &m);
        wb_m_welcome_free(&m);
        return rc;
    }
    case WB_M_PLUGINS: {
        wb_m_plugins m;
        rc = wb_dec_plugins(p, n, &m);
        wb_m_plugins_free(&m);
        return rc;
    }
    case WB_M_WORKERS: {
        wb_m_workers m;
        rc = wb_dec_workers(p, n, &m);
        wb_m_workers_free(&m);
        return rc;
    }
    case WB_M_HEARTBEAT: {
        wb_m_heartbeat m;
        return wb_dec_heartbeat(p, n, &m);
    }
    case WB_M_SUBMIT:
    case WB_M_TASKS: {
        wb_m_tasks m;
        rc = wb_dec_tasks(p, n, &m);
        wb_m_tasks_free(&m);
        return rc;
    }
    case WB_M_DONE: {
        wb_m_done m;
        rc = wb_dec_done(p, n, &m);
        wb_m_done_free(&m);
        return rc;
    }
    case WB_M_PUT_DECL:
    case WB_M_HOLD: {
        wb_m_objs m;
        rc = wb_dec_objs(p, n, type == WB_M_PUT_DECL, &m);
        wb_m_objs_free(&m);
        return rc;
    }
    case WB_M_RELEASE:
    case WB_M_DROP:
    case WB_M_LOCATE:
    case WB_M_FREED:
    case WB_M_FETCH: {
        wb_m_oids m;
        return wb_dec_oids(p, n, &m);
    }
    case WB_M_LOCATION:
    case WB_M_REPUT:
    case WB_M_REPLICATE:
    case WB_M_INPUT_LOST:
    case WB_M_OBJ_ERR: {
        wb_m_locs m;
        rc = wb_dec_locs(p, n, &m);
        wb_m_locs_free(&m);
        return rc;
    }
    case WB_M_PULL: {
        wb_m_pull m;
        rc = wb_dec_pull(p, n, &m);
        wb_m_pull_free(&m);
        return rc;
    }
    case WB_M_OBJ:
    case WB_M_PUT: {
        wb_m_obj m;
        return wb_dec_obj(p, n, &m);
    }
    case WB_M_WSTATS: {
        wb_m_wstats m;
        rc = wb_dec_wstats(p, n, &m);
        wb_m_wstats_free(&m);
        return rc;
    }
    case WB_M_JOB: {
        wb_m_job m;
        return wb_dec_job(p, n, &m);
    }
    case WB_M_PING: return wb_dec_ping(p, n);
    default: return wb_seterr(WB_EPROTO, "unknown message type %d", type);
    }
}
