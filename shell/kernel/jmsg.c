/* jmsg.c — the Jupyter wire format: frames <-> message (see jmsg.h). */
#include "jmsg.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static EVP_MAC *hmac;
static void fetch_hmac(void) { hmac = EVP_MAC_fetch(NULL, "HMAC", NULL); }

int jmsg_sign(const jmsg_key *key, const jmsg_frame parts[4], char hex[65])
{
    hex[0] = 0;
    if (!key || key->len == 0) return 0;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fetch_hmac);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    if (!ctx) return -1;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0;
    int ok = EVP_MAC_init(ctx, key->bytes, key->len, params);
    for (int i = 0; ok && i < 4; i++) ok = EVP_MAC_update(ctx, parts[i].data, parts[i].len);
    ok = ok && EVP_MAC_final(ctx, md, &mdlen, sizeof md) && mdlen == 32;
    EVP_MAC_CTX_free(ctx);
    if (!ok) return -1;
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * mdlen] = 0;
    return 0;
}

void jmsg_clear(jmsg *m)
{
    for (int i = 0; i < m->nids; i++) free((void *)m->ids[i].data);
    json_decref(m->header);
    json_decref(m->parent);
    json_decref(m->metadata);
    json_decref(m->content);
    memset(m, 0, sizeof *m);
}

static const char *const part_names[4] = {"header", "parent_header", "metadata", "content"};

int jmsg_decode(const jmsg_frame *fr, int n, const jmsg_key *key, jmsg *m, char *err, size_t cap)
{
    memset(m, 0, sizeof *m);
    if (n > JMSG_MAX_FRAMES) return fail(err, cap, "%d frames (at most %d)", n, JMSG_MAX_FRAMES);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        total += fr[i].len;
        if (total > JMSG_MAX_BYTES) return fail(err, cap, "more than %zu bytes", JMSG_MAX_BYTES);
    }
    const size_t dlen = sizeof JMSG_DELIM - 1;
    int delim = -1;
    for (int i = 0; i < n && i <= JMSG_MAX_IDS; i++)
        if (fr[i].len == dlen && memcmp(fr[i].data, JMSG_DELIM, dlen) == 0) {
            delim = i;
            break;
        }
    if (delim < 0) return fail(err, cap, "no <IDS|MSG> delimiter in the first %d frames", JMSG_MAX_IDS + 1);
    if (n - delim - 1 < 5)
        return fail(err, cap, "%d frames after the delimiter (signature, header, parent_header, metadata, content expected)",
                    n - delim - 1);
    const jmsg_frame *sig = &fr[delim + 1], *parts = &fr[delim + 2];
    if (key && key->len) {
        char hex[65];
        if (jmsg_sign(key, parts, hex)) return fail(err, cap, "cannot compute the signature (OpenSSL)");
        if (sig->len != 64 || CRYPTO_memcmp(hex, sig->data, 64) != 0)
            return fail(err, cap, "bad signature (%zu bytes)", sig->len);
    }
    json_t *js[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++) {
        json_error_t je;
        js[i] = json_loadb((const char *)parts[i].data, parts[i].len, 0, &je);
        if (!js[i] || !json_is_object(js[i])) {
            char what[200];
            if (js[i])
                snprintf(what, sizeof what, "%s is not a JSON object", part_names[i]);
            else
                snprintf(what, sizeof what, "%s: bad JSON at column %d: %.100s", part_names[i], je.column, je.text);
            for (int k = 0; k <= i; k++) json_decref(js[k]);
            return fail(err, cap, "%s", what);
        }
    }
    const char *type = json_string_value(json_object_get(js[0], "msg_type"));
    const char *id = json_string_value(json_object_get(js[0], "msg_id"));
    const char *session = json_string_value(json_object_get(js[0], "session"));
    if (!type || !id || !*type) {
        for (int k = 0; k < 4; k++) json_decref(js[k]);
        return fail(err, cap, "header without msg_type or msg_id strings");
    }
    m->header = js[0];
    m->parent = js[1];
    m->metadata = js[2];
    m->content = js[3];
    m->type = type;
    m->id = id;
    m->session = session ? session : "";
    m->nbuffers = n - delim - 6;
    for (int i = 0; i < delim; i++) {
        unsigned char *c = malloc(fr[i].len ? fr[i].len : 1);
        if (!c) {
            jmsg_clear(m);
            return fail(err, cap, "out of memory");
        }
        if (fr[i].len) memcpy(c, fr[i].data, fr[i].len);
        m->ids[i].data = c;
        m->ids[i].len = fr[i].len;
        m->nids = i + 1;
    }
    return 0;
}

void jmsg_frames_free(jmsg_frames *fr)
{
    if (!fr->f) return;
    for (int i = 0; i < fr->n; i++) free((void *)fr->f[i].data);
    free(fr->f);
    fr->f = NULL;
    fr->n = 0;
}

static int put_copy(jmsg_frames *fr, const void *data, size_t len)
{
    unsigned char *c = malloc(len ? len : 1);
    if (!c) return -1;
    if (len) memcpy(c, data, len);
    fr->f[fr->n].data = c;
    fr->f[fr->n].len = len;
    fr->n++;
    return 0;
}

/* a JSON value as compact UTF-8 (not ASCII-escaped: Jupyter sends UTF-8) */
static int put_json(jmsg_frames *fr, json_t *v)
{
    json_t *empty = NULL;
    if (!v) v = empty = json_object();
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(empty);
    if (!s) return -1;
    fr->f[fr->n].data = (unsigned char *)s;
    fr->f[fr->n].len = strlen(s);
    fr->n++;
    return 0;
}

int jmsg_encode(const jmsg_frame *ids, int nids, const jmsg_key *key, json_t *header, json_t *parent,
                json_t *metadata, json_t *content, jmsg_frames *out)
{
    out->n = 0;
    out->f = calloc((size_t)nids + 6, sizeof *out->f);
    if (!out->f || !header) goto fail;
    for (int i = 0; i < nids; i++)
        if (put_copy(out, ids[i].data, ids[i].len)) goto fail;
    if (put_copy(out, JMSG_DELIM, sizeof JMSG_DELIM - 1)) goto fail;
    int sig = out->n++; /* filled once the parts are written */
    if (put_json(out, header) || put_json(out, parent) || put_json(out, metadata) || put_json(out, content)) goto fail;
    char hex[65];
    if (jmsg_sign(key, &out->f[sig + 1], hex)) goto fail;
    size_t len = strlen(hex);
    unsigned char *c = malloc(len + 1);
    if (!c) goto fail;
    memcpy(c, hex, len + 1);
    out->f[sig].data = c;
    out->f[sig].len = len;
    return 0;
fail:
    jmsg_frames_free(out);
    return -1;
}

void jmsg_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) {
        /* no entropy from OpenSSL: time and address, still unique enough for ids */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        static unsigned long counter;
        unsigned long x = (unsigned long)ts.tv_nsec ^ ((unsigned long)ts.tv_sec << 20) ^ (unsigned long)(size_t)out;
        for (int i = 0; i < 16; i++) b[i] = (unsigned char)((x >> ((i % 8) * 8)) ^ (counter + (unsigned)i * 131));
        counter++;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

json_t *jmsg_header(const char *msg_type, const char *session, const char *username)
{
    char id[37], date[40];
    jmsg_uuid(id);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t k = strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(date + k, sizeof date - k, ".%06ldZ", (long)tv.tv_usec);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "msg_id", id, "msg_type", msg_type, "session",
                     session ? session : "", "username", username ? username : "wb", "date", date, "version",
                     JMSG_PROTOCOL_VERSION);
}

/* ------------------------------------------------------------------ UTF-8 */

/* the length of the valid UTF-8 sequence at s (n bytes left), or 0 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    unsigned cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

json_t *jmsg_text(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        size_t k = s[i] ? utf8_seq(s + i, n - i) : 0;
        if (!k) break;
        i += k;
    }
    if (i == n) return json_stringn(str, n);
    /* repair: each bad byte (and NUL) becomes U+FFFD */
    char *r = malloc(n * 3 + 1);
    if (!r) return NULL;
    size_t o = 0;
    for (i = 0; i < n;) {
        size_t k = s[i] ? utf8_seq(s + i, n - i) : 0;
        if (k) {
            memcpy(r + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(r + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(r, o);
    free(r);
    return j;
}

size_t jmsg_utf8_cut(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    /* an unfinished sequence at the end: at most 3 bytes, from its lead byte */
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned c = s[n - back];
        if ((c & 0xc0) == 0x80) continue; /* a continuation byte */
        size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        return want > back ? n - back : n;
    }
    return n;
}

size_t jmsg_utf8_offset(const char *str, size_t n, size_t chars)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (chars > 0 && i < n) {
        size_t k = utf8_seq(s + i, n - i);
        i += k ? k : 1;
        chars--;
    }
    return i;
}

size_t jmsg_utf8_chars(const char *str, size_t bytes)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, chars = 0;
    while (i < bytes) {
        size_t k = utf8_seq(s + i, bytes - i);
        i += k ? k : 1;
        chars++;
    }
    return chars;
}
