/* io/csv.c — the CSV tokenizer and what the CSV reader needs per field:
 *
 *   - records split into fields (RFC 4180: a field that starts with '"',
 *     after blanks, is quoted; inside it a doubled quote is one quote, and
 *     delimiters and line breaks are text; text after the closing quote is
 *     kept, as pandas does; a '"' inside an unquoted field is a character);
 *   - the state machine the scan runs over byte ranges to find where records
 *     start without splitting fields (after pandas' tokenizer.c: only the
 *     boundaries; conversion is a separate step per column);
 *   - missing-value tokens, the number test, booleans;
 *   - a hash table of strings (a partition's levels of one column).
 * Blank lines (blanks only) are not records. "\r\n" ends a line as "\n". */
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* ---------------------------------------------------------------- records */

static int rec_add(wb_csv_rec *r, size_t off, size_t len, int quoted, int escaped)
{
    if (r->n == r->cap) {
        if (r->n >= WB_IO_MAX_COLS) return WB_ELIMIT;
        int64_t cap = r->cap ? r->cap * 2 : 64;
        if (cap > WB_IO_MAX_COLS + 1) cap = WB_IO_MAX_COLS + 1;
        wb_csv_field *f = realloc(r->f, (size_t)cap * sizeof *f);
        if (!f) return WB_ENOMEM;
        r->f = f;
        r->cap = cap;
    }
    r->f[r->n++] = (wb_csv_field){(uint32_t)off, (uint32_t)len, (uint8_t)quoted, (uint8_t)escaped};
    return 0;
}

void wb__csv_fields_free(char **f, int64_t n)
{
    for (int64_t i = 0; f && i < n; i++) free(f[i]);
    free(f);
}

void wb__csv_rec_free(wb_csv_rec *r)
{
    free(r->f);
    memset(r, 0, sizeof *r);
}

static int64_t count_nl(const char *p, const char *e)
{
    int64_t n = 0;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* the end of an unquoted stretch: the first delimiter or '\n' at or after p */
static inline const char *field_end(const char *p, const char *e, char delim)
{
    while (p < e && *p != delim && *p != '\n') p++;
    return p;
}

int64_t wb__csv_record(const char *s, const char *e, int eof, char delim, wb_csv_rec *r)
{
    const char *p = s;
    r->n = 0;
    r->newlines = 0;
    r->blank = 0;
    /* a line of blanks is not a record */
    const char *b = p;
    while (b < e && wb__csv_blank(*b, delim)) b++;
    if (b < e && *b == '\n') {
        r->blank = 1;
        return (int64_t)(b + 1 - s);
    }
    if (b == e) {
        if (!eof) return 0;
        r->blank = 1;
        return (int64_t)(e - s);
    }
    for (;;) {
        const char *q = p;
        while (q < e && wb__csv_blank(*q, delim)) q++;
        const char *t;
        int rc;
        if (q < e && *q == '"') {
            const char *c = q + 1;
            int esc = 0;
            int64_t nl = 0;
            for (;;) {
                const char *z = memchr(c, '"', (size_t)(e - c));
                if (!z) {
                    if (!eof) return 0;
                    r->newlines += nl + count_nl(c, e);
                    r->open_field = r->n;
                    return WB_EFORMAT; /* unterminated quote */
                }
                nl += count_nl(c, z);
                if (z + 1 < e && z[1] == '"') {
                    esc = 1;
                    c = z + 2;
                    continue;
                }
                if (z + 1 >= e && !eof) return 0; /* a doubled quote or the end: not known yet */
                c = z + 1;
                break;
            }
            t = field_end(c, e, delim);
            if (t == e && !eof) return 0;
            const char *te = t;
            if (te > c && te[-1] == '\r' && (t == e || *t == '\n')) te--;
            if (te > c) esc = 1; /* text after the closing quote */
            rc = esc ? rec_add(r, (size_t)(q - s), (size_t)(te - q), 1, 1)
                     : rec_add(r, (size_t)(q + 1 - s), (size_t)(c - 1 - (q + 1)), 1, 0);
            r->newlines += nl;
        } else {
            t = field_end(q, e, delim);
            if (t == e && !eof) return 0;
            const char *te = t;
            if (te > p && te[-1] == '\r' && (t == e || *t == '\n')) te--;
            rc = rec_add(r, (size_t)(p - s), (size_t)(te - p), 0, 0);
        }
        if (rc) return rc;
        if (t == e) return (int64_t)(e - s);
        if (*t == '\n') return (int64_t)(t + 1 - s);
        p = t + 1; /* the delimiter */
        if (p == e) {
            if (!eof) return 0;
            if ((rc = rec_add(r, (size_t)(p - s), 0, 0, 0)) != 0) return rc;
            return (int64_t)(e - s);
        }
    }
}

const char *wb__csv_text(const char *rec, const wb_csv_field *f, char *scratch, size_t *len)
{
    const char *s = rec + f->off;
    if (!f->escaped) {
        *len = f->len;
        return s;
    }
    /* a quoted field with doubled quotes or text after the closing quote */
    const char *p = s + 1, *e = s + f->len;
    char *o = scratch;
    while (p < e) {
        if (*p == '"') {
            if (p + 1 < e && p[1] == '"') {
                *o++ = '"';
                p += 2;
                continue;
            }
            p++; /* the closing quote: the rest is kept as it is */
            size_t rest = (size_t)(e - p);
            memcpy(o, p, rest);
            o += rest;
            break;
        }
        *o++ = *p++;
    }
    *len = (size_t)(o - scratch);
    return scratch;
}

/* ------------------------------------------------------------- the scan */

/* Outside quotes the machine jumps from one '"' or '\n' to the next (memchr
 * speed): a '"' opens a quote only at a field's start, which the last byte
 * before it other than a blank tells (a delimiter, or none since the line
 * or the last delimiter began: m->fs). Inside quotes it jumps to the next '"'. */
void wb__csv_sim(wb_csv_sim *m, const char *p, const char *e, int64_t off)
{
    int st = m->state == WB_CS_F ? WB_CS_U : m->state; /* F and U: outside, fs tells which */
    int fs = m->state == WB_CS_F ? 1 : m->state == WB_CS_U ? m->fs : 1;
    const char delim = m->delim;
    const char *const base = p;
    while (p < e) {
        if (st == WB_CS_LS) {
            while (p < e && wb__csv_blank(*p, delim)) p++;
            if (p == e) break;
            if (*p == '\n') {
                p++;
                m->rs = off + (p - base);
                continue;
            }
            if (m->on_record) {
                m->on_record(m, m->rs);
                if (m->stop) {
                    m->state = WB_CS_LS;
                    m->stop_at = m->rs;
                    return;
                }
            }
            st = WB_CS_U;
            fs = 1;
            continue;
        }
        if (st == WB_CS_U) { /* outside quotes */
            const char *q = wb__csv_find2(p, e, '"', '\n');
            /* the last byte before q other than a blank decides whether a field starts at q */
            const char *b = q;
            while (b > p && wb__csv_blank(b[-1], delim)) b--;
            if (b > p) fs = b[-1] == delim;
            if (q == e) {
                p = e;
                break;
            }
            if (*q == '\n') {
                p = q + 1;
                st = WB_CS_LS;
                m->rs = off + (p - base);
                continue;
            }
            p = q + 1; /* a '"' */
            if (fs) st = WB_CS_Q;
            else fs = 0; /* a '"' inside an unquoted field is a character */
            continue;
        }
        if (st == WB_CS_Q) {
            const char *z = wb__csv_find2(p, e, '"', '"');
            if (z == e) {
                p = e;
                break;
            }
            p = z + 1;
            st = WB_CS_QQ;
            continue;
        }
        /* QQ: after a '"' inside quotes */
        char c = *p++;
        if (c == '"') st = WB_CS_Q;
        else if (c == '\n') {
            st = WB_CS_LS;
            m->rs = off + (p - base);
        } else {
            st = WB_CS_U;
            fs = c == delim;
        }
    }
    m->state = st;
    m->fs = fs;
}

/* ------------------------------------------------------------- fields */

static const char *const default_na[] = {"",        "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN",
                                         "-nan",    "1.#IND", "1.#QNAN", "<NA>", "N/A",     "NA",       "NULL",
                                         "NaN",     "None", "n/a",      "nan",  "null",    "?",        NULL};

const char *const *wb__csv_default_na(void) { return default_na; }

int wb__csv_is_na_slow(const wb_csv_na *na, const char *s, size_t len)
{
    for (int i = 0; i < na->n; i++)
        if (na->len[i] == len && memcmp(na->s[i], s, len) == 0) return 1;
    return 0;
}

void wb__csv_na_init(wb_csv_na *na, const char *const *tokens, int n)
{
    memset(na, 0, sizeof *na);
    for (int i = 0; i < n && na->n < WB_CSV_MAX_NA; i++) {
        size_t len = strlen(tokens[i]);
        if (len > 31) continue; /* the caller refused longer ones */
        na->s[na->n] = tokens[i];
        na->len[na->n] = (uint8_t)len;
        na->lens |= 1u << len;
        if (len) na->first[(unsigned char)tokens[i][0] >> 6] |= 1ULL << ((unsigned char)tokens[i][0] & 63);
        na->n++;
        double v;
        const char *st, *e = tokens[i] + len;
        /* a token that reads as a number other than NaN ("-999") must be
         * tested before numbers are read; "nan" and "NaN" read as NaN anyway */
        if (len && wb__parse_double(tokens[i], e, &v, &st) == 0 && st == e && v == v) na->numeric = 1;
    }
}

int wb__csv_number(const char *s, size_t len, char delim, double *v)
{
    const char *p = s, *e = s + len, *st;
    if (wb__parse_double(p, e, v, &st) == 0 && st == e) return 1;
    while (p < e && (wb__csv_blank(*p, delim) || *p == '\n')) p++;
    while (e > p && (wb__csv_blank(e[-1], delim) || e[-1] == '\n')) e--;
    if (p == e) return 0;
    return wb__parse_double(p, e, v, &st) == 0 && st == e;
}

int wb__csv_bool(const char *s, size_t len)
{
    static const char *const t[] = {"true", "yes"}, *const f[] = {"false", "no"};
    for (int k = 0; k < 2; k++) {
        if (len == strlen(t[k]) && nf_match_word(s, s + len, t[k])) return 1;
        if (len == strlen(f[k]) && nf_match_word(s, s + len, f[k])) return 0;
    }
    return -1;
}

/* ------------------------------------------------------------ string sets */

/* unaligned loads; the short-string reads stay inside [s, s + n) */
static inline uint64_t ld8(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}
static inline uint64_t ld4(const char *s)
{
    uint32_t w;
    memcpy(&w, s, 4);
    return w;
}
/* the first and last up-to-8 bytes of a string of n bytes (n <= 16) as two words */
static inline void short_words(const char *s, size_t n, uint64_t *a, uint64_t *b)
{
    if (n >= 8) {
        *a = ld8(s);
        *b = ld8(s + n - 8);
    } else if (n >= 4) {
        *a = ld4(s);
        *b = ld4(s + n - 4);
    } else if (n > 0) {
        *a = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 | (uint64_t)(unsigned char)s[n - 1] << 16;
        *b = 0;
    } else
        *a = *b = 0;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t hi, lo;
    nf_mul64(a, b, &hi, &lo);
    return hi ^ lo;
}

uint64_t wb__csv_hash(const char *s, size_t n)
{
    uint64_t a, b, seed = 0x9e3779b97f4a7c15ULL ^ n;
    if (n <= 16) {
        short_words(s, n, &a, &b);
    } else {
        size_t i = 0;
        for (; i + 16 < n; i += 16) seed = mix(ld8(s + i) ^ 0xa0761d6478bd642fULL, ld8(s + i + 8) ^ seed);
        a = ld8(s + n - 16);
        b = ld8(s + n - 8);
    }
    return mix(a ^ 0xe7037ed1a0b428dbULL, b ^ seed ^ 0x8ebc6af09c88c6e3ULL);
}

void wb__csv_dict_free(wb_csv_dict *t)
{
    free(t->slot);
    free(t->key);
    free(t->off);
    free(t->len);
    wb_buf_free(&t->text);
    memset(t, 0, sizeof *t);
}

/* a string's key (compared with a code's when the tags agree): the string
 * itself up to 16 bytes (the two words of short_words: equal words and
 * length, equal strings), else its hash and first bytes, and then the
 * strings are compared in the text */
static void slot_key(const char *s, size_t n, uint64_t hv, uint64_t *w0, uint64_t *w1)
{
    if (n <= 16) short_words(s, n, w0, w1);
    else {
        *w0 = hv;
        *w1 = ld8(s);
    }
}

static int dict_grow(wb_csv_dict *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    wb_csv_slot *slot = calloc(cap, sizeof *slot);
    uint32_t *off = realloc(t->off, (size_t)(cap / 2) * sizeof *off);
    if (off) t->off = off;
    uint32_t *len = realloc(t->len, (size_t)(cap / 2) * sizeof *len);
    if (len) t->len = len;
    wb_csv_key *key = realloc(t->key, (size_t)(cap / 2) * sizeof *key);
    if (key) t->key = key;
    if (!slot || !off || !len || !key) {
        free(slot);
        return WB_ENOMEM;
    }
    for (uint32_t i = 0; i < t->n; i++) {
        const char *s = (const char *)t->text.p + t->off[i];
        uint64_t hv = wb__csv_hash(s, t->len[i]);
        uint32_t h = (uint32_t)hv & (cap - 1);
        while (slot[h].code1) h = (h + 1) & (cap - 1);
        slot[h].tag = (uint32_t)(hv >> 32);
        slot[h].code1 = i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    return 0;
}

int64_t wb__csv_dict_put(wb_csv_dict *t, const char *s, size_t n)
{
    int added;
    return wb__csv_dict_put2(t, s, n, &added);
}

int64_t wb__csv_dict_put2(wb_csv_dict *t, const char *s, size_t n, int *added)
{
    return wb__csv_dict_put_h(t, s, n, wb__csv_hash(s, n), added);
}

int64_t wb__csv_dict_put_h(wb_csv_dict *t, const char *s, size_t n, uint64_t hv, int *added)
{
    *added = 0;
    if (t->n + 1 > t->cap / 2) {
        if (t->n >= UINT32_MAX / 4) return WB_ELIMIT;
        if (dict_grow(t)) return WB_ENOMEM;
    }
    uint64_t w0, w1;
    slot_key(s, n, hv, &w0, &w1);
    uint32_t mask = t->cap - 1, h = (uint32_t)hv & mask, tag = (uint32_t)(hv >> 32);
    for (;;) {
        const wb_csv_slot *sl = &t->slot[h];
        if (!sl->code1) break;
        if (sl->tag == tag) {
            uint32_t c = sl->code1 - 1;
            if (t->key[c].w0 == w0 && t->key[c].w1 == w1 && t->len[c] == n &&
                (n <= 16 || memcmp(t->text.p + t->off[c], s, n) == 0))
                return c;
        }
        h = (h + 1) & mask;
    }
    if (t->text.len + n + 1 > UINT32_MAX) return WB_ELIMIT;
    t->off[t->n] = (uint32_t)t->text.len;
    t->len[t->n] = (uint32_t)n;
    t->key[t->n] = (wb_csv_key){w0, w1};
    if (wb_buf_add(&t->text, s, n) || wb_buf_add(&t->text, "", 1)) return WB_ENOMEM;
    t->slot[h] = (wb_csv_slot){tag, t->n + 1};
    *added = 1;
    return t->n++;
}
