/* io/meta.c — the .meta sidecar the studies kept beside each data file:
 * PATH.meta, a small JSON object
 *
 *   {
 *     "num_samples": 1000000,
 *     "num_features": 10,
 *     "num_classes": 2,
 *     "dataset_size": 212311040
 *   }
 *
 * num_classes is the number of distinct label values when the labels are
 * integers (0 without labels or for other labels); dataset_size is the size
 * in bytes of the data file (for NPY with labels, of both .npy files).
 * Written to a temporary file and renamed, after the data itself, so a .meta
 * always describes a complete file. Reading accepts any JSON object and
 * ignores unknown keys.
 *
 * A dataset with column names or category columns also gets its columns
 * (after the four numbers, so older readers still read those):
 *
 *     "columns": [{"name": "island", "type": "category",
 *                  "levels": ["Biscoe", "Dream", "Torgersen"]},
 *                 {"name": "bill_length_mm", "type": "number"}, ...],
 *     "label": {"name": "species", "levels": ["Adelie", "Chinstrap", "Gentoo"]}
 *
 * which the readers give back to the data (NPY keeps category codes as
 * numbers, so its levels live here; CSV takes the types and levels, so a
 * level no row uses survives a round trip). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "io_internal.h"

static int adds(wb_buf *b, const char *s) { return wb_buf_add(b, s, strlen(s)); }

static int json_str(wb_buf *b, const char *s)
{
    int rc = wb_buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
        if (*p == '"' || *p == '\\') rc = wb_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20) rc = wb_buf_printf(b, "\\u%04x", *p);
        else rc = wb_buf_add(b, p, 1);
    }
    if (!rc) rc = wb_buf_add(b, "\"", 1);
    return rc;
}

static int json_levels(wb_buf *b, const wb_levels *l)
{
    int rc = wb_buf_add(b, "[", 1);
    for (int64_t k = 0; !rc && k < wb_levels_count(l); k++) {
        if (k) rc = wb_buf_add(b, ", ", 2);
        if (!rc) rc = json_str(b, wb_levels_at(l, k));
    }
    if (!rc) rc = wb_buf_add(b, "]", 1);
    return rc;
}

int wb__meta_write_ds(const char *datapath, const wb_meta *m, const wb_dataset *d)
{
    char *path = wb__meta_path(datapath);
    if (!path) return wb__io_nomem(datapath, strlen(datapath) + 6);
    size_t n = strlen(path) + 40;
    char *tmp = malloc(n);
    if (!tmp) {
        free(path);
        return wb__io_nomem(datapath, n);
    }
    snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
    wb_buf b = {0};
    int rc = wb_buf_printf(&b,
                           "{\n  \"num_samples\": %lld,\n  \"num_features\": %lld,\n  \"num_classes\": %lld,\n"
                           "  \"dataset_size\": %lld",
                           (long long)m->num_samples, (long long)m->num_features, (long long)m->num_classes,
                           (long long)m->dataset_size);
    int cols = d && (d->colnames || wb_ds_has_categories(d) || d->label_name || d->label_levels);
    if (!rc && cols) {
        rc = adds(&b, ",\n  \"columns\": [");
        for (int64_t j = 0; !rc && j < d->d; j++) {
            const char *nm = wb_ds_col_name(d, j);
            rc = adds(&b, j ? ",\n    {\"name\": " : "\n    {\"name\": ");
            if (!rc) rc = json_str(&b, nm ? nm : "");
            if (!rc && wb_ds_col_type(d, j) == WB_COL_CATEGORY) {
                rc = adds(&b, ", \"type\": \"category\", \"levels\": ");
                if (!rc) rc = json_levels(&b, wb_ds_col_levels(d, j));
            } else if (!rc)
                rc = adds(&b, ", \"type\": \"number\"");
            if (!rc) rc = adds(&b, "}");
        }
        if (!rc) rc = adds(&b, "\n  ]");
        if (!rc && d->has_labels) {
            rc = adds(&b, ",\n  \"label\": {\"name\": ");
            if (!rc) rc = d->label_name ? json_str(&b, d->label_name) : adds(&b, "null");
            if (!rc && d->label_levels) {
                rc = adds(&b, ", \"levels\": ");
                if (!rc) rc = json_levels(&b, d->label_levels);
            }
            if (!rc) rc = adds(&b, "}");
        }
    }
    if (!rc) rc = adds(&b, "\n}\n");
    if (rc) rc = wb_seterr(WB_ENOMEM, "out of memory");
    int fd = rc ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (!rc && fd < 0) rc = wb_seterr(WB_EIO, "%s: cannot write (%s)", path, strerror(errno));
    if (!rc) {
        size_t off = 0;
        while (!rc && off < b.len) {
            ssize_t w = write(fd, b.p + off, b.len - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) rc = wb_seterr(WB_EIO, "%s: write failed (%s)", path, w < 0 ? strerror(errno) : "short write");
            else off += (size_t)w;
        }
        if (close(fd) != 0 && !rc) rc = wb_seterr(WB_EIO, "%s: write failed (%s)", path, strerror(errno));
        if (!rc && rename(tmp, path) != 0) rc = wb_seterr(WB_EIO, "%s: cannot write (%s)", path, strerror(errno));
        if (rc) unlink(tmp);
    }
    wb_buf_free(&b);
    free(tmp);
    free(path);
    return rc;
}

int wb_meta_write(const char *datapath, const wb_meta *m) { return wb__meta_write_ds(datapath, m, NULL); }

/* ---------------------------------------------------------------- reading
 *
 * libjansson parses the text (the same library as the Jupyter kernel's
 * messages); what wb takes from it is checked here, and every complaint
 * names the file, line and column (bytes from 1) of the place, as before:
 *
 *   - a syntax error: where jansson stopped, in the words of the former
 *     reader ("expected ':'", "expected ',' or '}'", ...);
 *   - a value of the wrong kind (a count that is not a whole number >= 0,
 *     levels not sorted): the value's place, found again in the text
 *     (meta_locate) only then.
 *
 * jansson reads UTF-8 only, while names and levels are the data's bytes
 * (a Latin-1 CSV's categories): inside strings, a byte that is not part of
 * UTF-8 is handed to jansson as a private character (U+10FF80 + byte - 0x80)
 * and taken back as the byte, and a raw control character as its \u00XX
 * escape, as the former reader accepted both; places are mapped back to the
 * file's bytes. (A file with such bytes that also holds U+10FF80..U+10FFFF
 * itself, the last private-use characters, reads those as bytes too.) Text
 * after the closing '}' is ignored (as before). */

/* a span of the text jansson reads that stands for other bytes of the file */
typedef struct meta_span {
    size_t at, len;   /* in the converted text */
    size_t oat, olen; /* in the file */
} meta_span;

typedef struct meta_text {
    const char *path;
    const char *file; /* the file's bytes */
    size_t flen;
    const char *s; /* what jansson reads: file, or conv */
    size_t n;
    char *conv;
    meta_span *span;
    size_t nspan, capspan;
    int bytes; /* private characters stand for bytes */
} meta_text;

/* length of the UTF-8 sequence at p as jansson accepts it (no overlong
 * forms, surrogates or values past U+10FFFF), 0 when it is not one */
static size_t utf8_seq(const unsigned char *p, const unsigned char *e)
{
    unsigned c = p[0];
    size_t n;
    unsigned v;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) n = 3, v = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, v = c & 0x07;
    else return 0;
    if ((size_t)(e - p) < n) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) return 0;
        v = v << 6 | (p[k] & 0x3f);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) return 0;
    return n;
}

static int meta_span_add(meta_text *t, size_t at, size_t len, size_t oat, size_t olen)
{
    if (t->nspan == t->capspan) {
        size_t cap = t->capspan ? 2 * t->capspan : 16;
        meta_span *s = realloc(t->span, cap * sizeof *s);
        if (!s) return -1;
        t->span = s;
        t->capspan = cap;
    }
    t->span[t->nspan++] = (meta_span){at, len, oat, olen};
    return 0;
}

/* the text jansson reads (see above); -1: out of memory */
static int meta_convert(meta_text *t)
{
    const unsigned char *p = (const unsigned char *)t->file, *e = p + t->flen;
    int in_str = 0, need = 0;
    for (const unsigned char *q = p; q < e && !need; q++) {
        if (*q == '"') in_str = !in_str;
        else if (in_str && *q == '\\' && q + 1 < e) q++;
        else if (in_str && (*q < 0x20 || (*q >= 0x80 && utf8_seq(q, e) == 0))) need = 1;
    }
    t->s = t->file;
    t->n = t->flen;
    if (!need) return 0;
    wb_buf b = {0};
    in_str = 0;
    int rc = 0;
    for (const unsigned char *q = p; q < e && !rc;) {
        size_t k = q < e ? utf8_seq(q, e) : 0;
        if (in_str && *q < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", *q);
            rc = meta_span_add(t, b.len, 6, (size_t)(q - p), 1) || wb_buf_add(&b, esc, 6);
            q++;
        } else if (in_str && *q >= 0x80 && k == 0) { /* U+10FF80 + (byte - 0x80), 4 bytes in UTF-8 */
            unsigned v = 0x10ff00 + *q;
            unsigned char u[4] = {(unsigned char)(0xf0 | v >> 18), (unsigned char)(0x80 | ((v >> 12) & 63)),
                                  (unsigned char)(0x80 | ((v >> 6) & 63)), (unsigned char)(0x80 | (v & 63))};
            rc = meta_span_add(t, b.len, 4, (size_t)(q - p), 1) || wb_buf_add(&b, u, 4);
            t->bytes = 1;
            q++;
        } else {
            if (*q == '"') in_str = !in_str;
            size_t m = 1;
            if (in_str && *q == '\\' && q + 1 < e && q[1] < 0x80) m = 2; /* an escape: its character is not a quote */
            else if (*q >= 0x80 && k > 0) m = k;
            rc = wb_buf_add(&b, q, m);
            q += m;
        }
    }
    if (rc) {
        wb_buf_free(&b);
        return -1;
    }
    t->conv = (char *)b.p;
    t->s = t->conv ? t->conv : "";
    t->n = b.len;
    return 0;
}

/* an offset of the converted text -> the file's */
static size_t meta_file_off(const meta_text *t, size_t at)
{
    size_t lo = 0, hi = t->nspan; /* the last span starting at or before at */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->span[mid].at <= at) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return at;
    const meta_span *s = &t->span[lo - 1];
    if (at < s->at + s->len) return s->oat + (at == s->at ? 0 : s->olen);
    return s->oat + s->olen + (at - s->at - s->len);
}

/* "PATH:LINE:COL: malformed .meta (expected what)" at an offset of the
 * converted text */
static int meta_err(const meta_text *t, size_t at, const char *what)
{
    size_t off = meta_file_off(t, at);
    if (off > t->flen) off = t->flen;
    int line = 1, col = 1;
    for (size_t q = 0; q < off; q++) {
        if (t->file[q] == '\n') {
            line++;
            col = 1;
        } else
            col++;
    }
    return wb_seterr(WB_EFORMAT, "%s:%d:%d: malformed .meta (expected %s)", t->path, line, col, what);
}

/* what the former reader expected where a token is bad: it knew the place
 * (a key, a count, the columns, a level, a separator); found by going over
 * the text before it (brackets, strings, other tokens) */
typedef struct meta_frame {
    char kind;    /* '{' or '[' */
    char key[16]; /* an object's current key ("" when longer) */
    int state;    /* 0: a key or an element is next, 1: ':', 2: a member's value, 3: ',' or the end */
} meta_frame;

static const char *meta_context(const meta_text *t, size_t at, int want_cols)
{
    meta_frame st[8];
    int d = 0;
    for (size_t i = 0; i < at && i < t->n;) {
        char c = t->s[i];
        meta_frame *top = d > 0 && d <= 8 ? &st[d - 1] : NULL;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
        } else if (c == '"') {
            size_t j = i + 1;
            while (j < at && t->s[j] != '"') j += t->s[j] == '\\' ? 2 : 1;
            if (top && top->kind == '{' && top->state == 0) {
                size_t len = j - i - 1;
                if (len < sizeof top->key) {
                    memcpy(top->key, t->s + i + 1, len);
                    top->key[len] = 0;
                } else
                    top->key[0] = 0;
                top->state = 1;
            } else if (top)
                top->state = 3;
            i = j + 1;
        } else if (c == '{' || c == '[') {
            if (d < 8) st[d] = (meta_frame){c, "", 0};
            d++;
            i++;
        } else if (c == '}' || c == ']') {
            if (d > 0) d--;
            if (d > 0 && d <= 8) st[d - 1].state = 3;
            i++;
        } else if (c == ':' || c == ',') {
            if (top) top->state = c == ':' ? 2 : 0;
            i++;
        } else { /* a number, a word, or another byte: up to what ends a token, at least one */
            do
                i++;
            while (i < at && (t->s[i] == 0 || !strchr(" \t\n\r\"{}[]:,", t->s[i])));
            if (top) top->state = 3;
        }
    }
    if (d == 0 || d > 8) return d == 0 ? "a JSON object '{'" : "a value";
    const meta_frame *top = &st[d - 1];
    if (top->state == 3) return top->kind == '{' ? "',' or '}'" : "',' or ']'";
    if (top->kind == '{' && top->state == 0) return "a string";
    if (top->kind == '{' && top->state == 1) return "':'";
    int columns = want_cols && d >= 2 && strcmp(st[0].key, "columns") == 0 && st[1].kind == '[';
    int label = want_cols && d >= 2 && strcmp(st[0].key, "label") == 0 && st[1].kind == '{';
    if (top->kind == '{') {
        const char *k = top->key;
        if (d == 1) {
            if (strcmp(k, "num_samples") == 0 || strcmp(k, "num_features") == 0 || strcmp(k, "num_classes") == 0 ||
                strcmp(k, "dataset_size") == 0)
                return "a whole number >= 0";
            if (want_cols && strcmp(k, "columns") == 0) return "an array of columns";
            if (want_cols && strcmp(k, "label") == 0) return "a label object '{'";
        } else if (d == 3 && columns) {
            if (strcmp(k, "name") == 0 || strcmp(k, "type") == 0) return "a string";
            if (strcmp(k, "levels") == 0) return "an array of level strings";
        } else if (d == 2 && label && strcmp(k, "levels") == 0)
            return "an array of level strings";
        return "a value";
    }
    if (d == 2 && columns) return "a column object '{'";
    if ((d == 4 && columns && strcmp(st[2].key, "levels") == 0) || (d == 3 && label && strcmp(st[1].key, "levels") == 0))
        return "a string";
    return "a value";
}

/* a syntax error jansson found, in the former reader's words and places:
 * "X expected near 'tok'" points at tok's first byte */
static int meta_syntax_err(const meta_text *t, const json_error_t *e, int want_cols)
{
    if (json_error_code(e) == json_error_out_of_memory) return wb_seterr(WB_ENOMEM, "out of memory");
    static const struct {
        const char *jansson, *what;
        int at_token;
    } words[] = {
        {"'[' or '{' expected", "a JSON object '{'", 1},
        {"string or '}' expected", "a string", 1},
        {"':' expected", "':'", 1},
        {"'}' expected", "',' or '}'", 1},
        {"']' expected", "',' or ']'", 1},
        {"unexpected token", NULL, 1}, /* NULL: what the place wants (meta_context) */
        {"invalid token", NULL, 1},
        {"unable to decode byte", NULL, 1},
        {"maximum parsing depth reached", "less nesting", 1},
        {"invalid escape", "a valid escape in a string", 0},
        {"invalid Unicode", "a valid escape in a string", 0},
        {"real number overflow", "a number within the range of a double", 1},
        {"NUL byte in object key", "a key without NUL characters", 0},
    };
    const char *text = e->text;
    size_t at = e->position > 0 ? (size_t)e->position : 0;
    const char *near = strstr(text, " near '");
    size_t toklen = 0;
    if (near) {
        const char *tok = near + 7, *end = strrchr(tok, '\'');
        if (end && end[1] == 0) toklen = (size_t)(end - tok);
    }
    if (strncmp(text, "premature end of input", 22) == 0)
        return meta_err(t, at, near && near[7] == '"' ? "a closing '\"'" : meta_context(t, at, want_cols));
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strncmp(text, words[k].jansson, strlen(words[k].jansson)) == 0) {
            size_t where = words[k].at_token && toklen <= at ? at - toklen : at;
            if (words[k].at_token && toklen == 0 && at > 0 && t->s[at - 1] == 0) where = at - 1; /* a NUL byte: shown as '' */
            return meta_err(t, where, words[k].what ? words[k].what : meta_context(t, where, want_cols));
        }
    char what[JSON_ERROR_TEXT_LENGTH];
    snprintf(what, sizeof what, "%.*s", near ? (int)(near - text) : (int)strlen(text), text);
    return meta_err(t, at, what); /* not expected: jansson's own words */
}

/* ---- places of values, found again in the (valid) text after a check failed */

static size_t meta_ws(const meta_text *t, size_t i)
{
    while (i < t->n && (t->s[i] == ' ' || t->s[i] == '\t' || t->s[i] == '\n' || t->s[i] == '\r')) i++;
    return i;
}

/* the end of the value starting at i (jansson reads it) */
static size_t meta_value_end(const meta_text *t, size_t i)
{
    json_error_t e;
    json_t *v = json_loadb(t->s + i, t->n - i,
                           JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &e);
    if (!v) return t->n; /* not expected: the text parsed as a whole */
    json_decref(v);
    return i + (size_t)e.position;
}

/* one step of a path: a member's key, or an element's index */
typedef struct meta_step {
    const char *key;
    size_t index;
} meta_step;

/* the offset where the value at path[0..n) starts (the last member of a
 * repeated key, as jansson keeps it) */
static size_t meta_locate(const meta_text *t, const meta_step *path, int n)
{
    size_t i = meta_ws(t, 0);
    for (int d = 0; d < n && i < t->n; d++) {
        char open = t->s[i], close = open == '{' ? '}' : ']';
        if (open != '{' && open != '[') break;
        size_t found = (size_t)-1, k = 0;
        i = meta_ws(t, i + 1);
        while (i < t->n && t->s[i] != close) {
            if (open == '{') {
                size_t kend = meta_value_end(t, i);
                json_error_t e;
                json_t *key = json_loadb(t->s + i, kend - i, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
                int match = json_is_string(key) && path[d].key && strcmp(json_string_value(key), path[d].key) == 0;
                json_decref(key);
                i = meta_ws(t, meta_ws(t, kend) + 1); /* past ':' */
                if (match) found = i;
            } else if (k++ == path[d].index) {
                found = i;
                break;
            }
            i = meta_ws(t, meta_value_end(t, i));
            if (i < t->n && t->s[i] == ',') i = meta_ws(t, i + 1);
        }
        if (found == (size_t)-1) break; /* not expected: the path comes from the parsed text */
        i = found;
    }
    return i;
}

/* an error at the value at path (its start, or with after set its end) */
static int meta_err_at(const meta_text *t, const meta_step *path, int n, int after, const char *what)
{
    size_t i = meta_locate(t, path, n);
    return meta_err(t, after ? meta_value_end(t, i) : i, what);
}

/* containers nested more deeply than the former reader's 33 levels: the
 * first (in the text's order) at depth > 32 under v, which is at depth */
static int meta_depth(const meta_text *t, json_t *v, int depth, meta_step *path, int n)
{
    if (!json_is_object(v) && !json_is_array(v)) return 0;
    if (depth > 32) return meta_err_at(t, path, n, 0, "less nesting");
    if (n >= 63) return 0; /* path holds 64 steps; depth > 32 comes first */
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x)
        {
            path[n] = (meta_step){key, 0};
            int rc = meta_depth(t, x, depth + 1, path, n + 1);
            if (rc) return rc;
        }
    } else {
        for (size_t k = 0; k < json_array_size(v); k++) {
            path[n] = (meta_step){NULL, k};
            int rc = meta_depth(t, json_array_get(v, k), depth + 1, path, n + 1);
            if (rc) return rc;
        }
    }
    return 0;
}

/* a string wb takes (a name or level): its bytes, malloc'd, the private
 * characters back as the file's bytes; no NUL inside */
static int meta_take_str(const meta_text *t, json_t *v, const meta_step *path, int n, char **out)
{
    *out = NULL;
    if (!json_is_string(v)) return meta_err_at(t, path, n, 0, "a string");
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (memchr(s, 0, len)) { /* the former reader stopped right after the \u0000 */
        size_t i = meta_locate(t, path, n) + 1;
        while (i + 5 < t->n && t->s[i] != '"') {
            if (t->s[i] == '\\' && strncmp(t->s + i, "\\u0000", 6) == 0) return meta_err(t, i + 6, "no NUL character in a string");
            i += t->s[i] == '\\' ? 2 : 1;
        }
        return meta_err(t, i, "no NUL character in a string");
    }
    char *r = malloc(len + 1);
    if (!r) return wb_seterr(WB_ENOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < len;) {
        const unsigned char *u = (const unsigned char *)s + i;
        if (t->bytes && len - i >= 4 && u[0] == 0xf4 && u[1] == 0x8f && (u[2] == 0xbe || u[2] == 0xbf)) {
            r[m++] = (char)(0x80 + ((u[2] & 1) << 6) + (u[3] & 0x3f)); /* U+10FF80.. -> 0x80.. */
            i += 4;
        } else
            r[m++] = s[i++];
    }
    r[m] = 0;
    *out = r;
    return 0;
}

/* an array of strings -> sorted, distinct levels */
static int meta_levels(const meta_text *t, json_t *v, meta_step *path, int n, wb_levels **out)
{
    if (!json_is_array(v)) return meta_err_at(t, path, n, 0, "an array of level strings");
    size_t cnt = json_array_size(v);
    char **s = calloc(cnt ? cnt : 1, sizeof *s);
    if (!s) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t k = 0; !rc && k < cnt; k++) {
        path[n] = (meta_step){NULL, k};
        rc = meta_take_str(t, json_array_get(v, k), path, n + 1, &s[k]);
    }
    if (!rc && wb_levels_new((const char *const *)s, (int64_t)cnt, out) != 0)
        rc = meta_err_at(t, path, n, 1, "levels sorted and distinct");
    for (size_t k = 0; k < cnt; k++) free(s[k]);
    free(s);
    return rc;
}

void wb__meta_cols_free(wb_meta_cols *c)
{
    for (int64_t k = 0; k < c->n; k++) {
        if (c->names) free(c->names[k]);
        if (c->levels) wb_levels_unref(c->levels[k]);
    }
    free(c->names);
    free(c->types);
    free(c->levels);
    free(c->label_name);
    wb_levels_unref(c->label_levels);
    memset(c, 0, sizeof *c);
}

/* "columns": [{"name": ..., "type": ..., "levels": [...]}, ...] */
static int meta_columns(const meta_text *t, json_t *v, wb_meta_cols *c)
{
    meta_step path[64] = {{"columns", 0}};
    if (!json_is_array(v)) return meta_err_at(t, path, 1, 0, "an array of columns");
    size_t cnt = json_array_size(v);
    if (cnt == 0) return 0;
    c->names = calloc(cnt, sizeof *c->names);
    c->types = calloc(cnt, 1);
    c->levels = calloc(cnt, sizeof *c->levels);
    if (!c->names || !c->types || !c->levels) return wb_seterr(WB_ENOMEM, "out of memory");
    for (size_t k = 0; k < cnt; k++) {
        json_t *col = json_array_get(v, k);
        path[1] = (meta_step){NULL, k};
        if (!json_is_object(col)) return meta_err_at(t, path, 2, 0, "a column object '{'");
        c->n = (int64_t)k + 1;
        c->types[k] = WB_COL_NUMBER;
        int cat = 0, rc = 0;
        const char *key;
        json_t *x;
        json_object_foreach(col, key, x)
        {
            path[2] = (meta_step){key, 0};
            if (strcmp(key, "name") == 0) {
                free(c->names[k]);
                rc = meta_take_str(t, x, path, 3, &c->names[k]);
            } else if (strcmp(key, "type") == 0) {
                if (!json_is_string(x)) rc = meta_err_at(t, path, 3, 0, "a string");
                else if (strcmp(json_string_value(x), "category") == 0) cat = 1;
                else if (strcmp(json_string_value(x), "number") != 0)
                    rc = meta_err_at(t, path, 3, 1, "type \"number\" or \"category\"");
            } else if (strcmp(key, "levels") == 0) {
                wb_levels_unref(c->levels[k]);
                c->levels[k] = NULL;
                rc = meta_levels(t, x, path, 3, &c->levels[k]);
            } else
                rc = meta_depth(t, x, 1, path, 3);
            if (rc) return rc;
        }
        if (!c->names[k] && !(c->names[k] = wb_strdup(""))) return wb_seterr(WB_ENOMEM, "out of memory");
        if (cat) {
            c->types[k] = WB_COL_CATEGORY;
            if (!c->levels[k] && (rc = wb_levels_new(NULL, 0, &c->levels[k])) != 0) return rc;
        } else {
            wb_levels_unref(c->levels[k]);
            c->levels[k] = NULL;
        }
    }
    return 0;
}

/* "label": {"name": ... | anything else: none, "levels": [...]} */
static int meta_label(const meta_text *t, json_t *v, wb_meta_cols *c)
{
    meta_step path[64] = {{"label", 0}};
    if (!json_is_object(v)) return meta_err_at(t, path, 1, 0, "a label object '{'");
    c->has_label = 1;
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x)
    {
        int rc = 0;
        path[1] = (meta_step){key, 0};
        if (strcmp(key, "name") == 0 && json_is_string(x)) {
            free(c->label_name);
            rc = meta_take_str(t, x, path, 2, &c->label_name);
        } else if (strcmp(key, "levels") == 0) {
            wb_levels_unref(c->label_levels);
            c->label_levels = NULL;
            rc = meta_levels(t, x, path, 2, &c->label_levels);
        } else
            rc = meta_depth(t, x, 1, path, 2);
        if (rc) return rc;
    }
    return 0;
}

#define META_MAX ((size_t)1 << 30)

int wb__meta_read_cols(const char *datapath, wb_meta *m, wb_meta_cols *cols)
{
    m->num_samples = m->num_features = m->num_classes = m->dataset_size = -1;
    wb_meta_cols dummy;
    int want_cols = cols != NULL;
    if (!cols) cols = &dummy;
    memset(cols, 0, sizeof *cols);
    char *path = wb__meta_path(datapath);
    if (!path) return wb__io_nomem(datapath, strlen(datapath) + 6);
    int fd;
    int64_t fsize;
    mode_t mode;
    int e = wb__open_regular(path, &fd, &fsize, &mode); /* a FIFO, a device: refused, never read */
    if (e) {
        int rc = e == ENOENT ? wb_seterr(WB_ENOTFOUND, "%s: not found", path)
                 : e == EISDIR || e == ENODEV
                     ? wb_seterr(WB_EIO, "%s: cannot read (not a regular file: %s)", path, wb__file_kind(mode))
                     : wb_seterr(WB_EIO, "%s: cannot open (%s)", path, strerror(e));
        free(path);
        return rc;
    }
    wb_buf text = {0};
    int rc = 0;
    for (;;) {
        if (text.len >= META_MAX) {
            rc = wb_seterr(WB_ELIMIT, "%s: more than %zu MB (the limit of a .meta file)", path, META_MAX >> 20);
            break;
        }
        if (wb_buf_reserve(&text, 65536)) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        ssize_t r = read(fd, text.p + text.len, 65536);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = wb_seterr(WB_EIO, "%s: read error (%s)", path, strerror(errno));
            break;
        }
        if (r == 0) break;
        text.len += (size_t)r;
    }
    close(fd);
    meta_text t = {.path = path, .file = text.p ? (const char *)text.p : "", .flen = text.len};
    json_t *root = NULL;
    if (!rc && meta_convert(&t) != 0) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc) {
        json_error_t e;
        root = json_loadb(t.s, t.n, JSON_DISABLE_EOF_CHECK | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &e);
        if (!root) rc = meta_syntax_err(&t, &e, want_cols);
        else if (!json_is_object(root)) rc = meta_err(&t, meta_ws(&t, 0), "a JSON object '{'");
    }
    const char *key;
    json_t *v;
    if (!rc)
        json_object_foreach(root, key, v)
        {
            meta_step path[64] = {{key, 0}};
            int64_t *dst = strcmp(key, "num_samples") == 0    ? &m->num_samples
                           : strcmp(key, "num_features") == 0 ? &m->num_features
                           : strcmp(key, "num_classes") == 0  ? &m->num_classes
                           : strcmp(key, "dataset_size") == 0 ? &m->dataset_size
                                                              : NULL;
            if (dst) {
                double x = json_is_number(v) ? json_number_value(v) : -1;
                /* range first: converting a double past int64 is undefined (found by fuzzing) */
                if (x > 9007199254740992.0) rc = meta_err_at(&t, path, 1, 0, "a whole number >= 0 of at most 2^53");
                else if (!json_is_number(v) || !(x >= 0) || x != (double)(int64_t)x)
                    rc = meta_err_at(&t, path, 1, 0, "a whole number >= 0");
                else
                    *dst = (int64_t)x;
            } else if (want_cols && strcmp(key, "columns") == 0)
                rc = meta_columns(&t, v, cols);
            else if (want_cols && strcmp(key, "label") == 0)
                rc = meta_label(&t, v, cols);
            else
                rc = meta_depth(&t, v, 0, path, 1);
            if (rc) break;
        }
    json_decref(root);
    free(t.conv);
    free(t.span);
    wb_buf_free(&text);
    free(path);
    if (rc) wb__meta_cols_free(cols);
    return rc;
}

int wb_meta_read(const char *datapath, wb_meta *m) { return wb__meta_read_cols(datapath, m, NULL); }


int wb__meta_apply(wb_dataset *d, const wb_meta_cols *c)
{
    if (!c || c->n != d->d) return 0; /* describes other data: leave it */
    int rc = 0;
    int named = 0;
    for (int64_t j = 0; j < c->n; j++) named |= c->names[j][0] != 0;
    for (int64_t j = 0; !rc && named && j < c->n; j++) rc = wb_ds_set_colname(d, j, c->names[j]);
    for (int64_t j = 0; !rc && j < c->n; j++)
        if (c->types[j] == WB_COL_CATEGORY) rc = wb_ds_set_coltype(d, j, WB_COL_CATEGORY, c->levels[j]);
    if (!rc && c->has_label && d->has_labels) rc = wb_ds_set_label_meta(d, c->label_name, c->label_levels);
    return rc;
}
