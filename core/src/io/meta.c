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

typedef struct jp {
    const char *s, *p, *e, *name;
} jp;

static void j_ws(jp *j)
{
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int j_err(jp *j, const char *what)
{
    int line = 1, col = 1;
    for (const char *q = j->s; q < j->p; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else
            col++;
    }
    return wb_seterr(WB_EFORMAT, "%s:%d:%d: malformed .meta (expected %s)", j->name, line, col, what);
}

/* a JSON string into out (escapes kept as the escaped character) */
static int j_str(jp *j, char *out, size_t cap)
{
    if (j->p >= j->e || *j->p != '"') return j_err(j, "a string");
    j->p++;
    size_t n = 0;
    while (j->p < j->e && *j->p != '"') {
        if (*j->p == '\\' && j->p + 1 < j->e) j->p++;
        if (n + 1 < cap) out[n++] = *j->p;
        j->p++;
    }
    if (j->p >= j->e) return j_err(j, "a closing '\"'");
    j->p++;
    out[n] = 0;
    return 0;
}

/* skip any JSON value */
static int j_skip(jp *j, int depth)
{
    j_ws(j);
    if (j->p >= j->e) return j_err(j, "a value");
    char c = *j->p;
    if (c == '"') {
        char tmp[8];
        return j_str(j, tmp, sizeof tmp);
    }
    if (c == '{' || c == '[') {
        if (depth > 32) return j_err(j, "less nesting");
        char close = c == '{' ? '}' : ']';
        j->p++;
        j_ws(j);
        if (j->p < j->e && *j->p == close) {
            j->p++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                char k[8];
                j_ws(j);
                if (j_str(j, k, sizeof k)) return WB_EFORMAT;
                j_ws(j);
                if (j->p >= j->e || *j->p != ':') return j_err(j, "':'");
                j->p++;
            }
            if (j_skip(j, depth + 1)) return WB_EFORMAT;
            j_ws(j);
            if (j->p < j->e && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->e && *j->p == close) {
                j->p++;
                return 0;
            }
            return j_err(j, c == '{' ? "',' or '}'" : "',' or ']'");
        }
    }
    const char *q = j->p;
    while (q < j->e && (*q == '-' || *q == '+' || *q == '.' || (*q >= '0' && *q <= '9') || *q == 'e' ||
                        *q == 'E' || (*q >= 'a' && *q <= 'z')))
        q++;
    if (q == j->p) return j_err(j, "a value");
    j->p = q;
    return 0;
}

/* a JSON string's text, unescaped, into b (NUL-terminated) */
static int j_strbuf(jp *j, wb_buf *b)
{
    b->len = 0;
    if (j->p >= j->e || *j->p != '"') return j_err(j, "a string");
    j->p++;
    while (j->p < j->e && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '\\') {
            if (j->p >= j->e) break;
            char x = *j->p++;
            const char *simple = strchr("\"\\/bfnrt", x);
            if (x && simple) {
                static const char out[] = "\"\\/\b\f\n\r\t";
                char o = out[simple - "\"\\/bfnrt"];
                if (wb_buf_add(b, &o, 1)) return wb_seterr(WB_ENOMEM, "out of memory");
                continue;
            }
            if (x != 'u' || j->e - j->p < 4) return j_err(j, "a valid escape in a string");
            unsigned v = 0;
            for (int k = 0; k < 4; k++) {
                char h = *j->p++;
                v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                                            : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
            }
            if (v > 0xffff) return j_err(j, "4 hex digits after \\u");
            if (v >= 0xd800 && v < 0xdc00 && j->e - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                unsigned w = 0;
                const char *q = j->p + 2;
                for (int k = 0; k < 4; k++) {
                    char h = *q++;
                    w = w * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                                                : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
                }
                if (w >= 0xdc00 && w < 0xe000) {
                    v = 0x10000 + ((v - 0xd800) << 10) + (w - 0xdc00);
                    j->p = q;
                }
            }
            if (v == 0) return j_err(j, "no NUL character in a string");
            unsigned char u[4];
            int n;
            if (v < 0x80) u[0] = (unsigned char)v, n = 1;
            else if (v < 0x800) u[0] = (unsigned char)(0xc0 | v >> 6), u[1] = (unsigned char)(0x80 | (v & 63)), n = 2;
            else if (v < 0x10000)
                u[0] = (unsigned char)(0xe0 | v >> 12), u[1] = (unsigned char)(0x80 | ((v >> 6) & 63)),
                u[2] = (unsigned char)(0x80 | (v & 63)), n = 3;
            else
                u[0] = (unsigned char)(0xf0 | v >> 18), u[1] = (unsigned char)(0x80 | ((v >> 12) & 63)),
                u[2] = (unsigned char)(0x80 | ((v >> 6) & 63)), u[3] = (unsigned char)(0x80 | (v & 63)), n = 4;
            if (wb_buf_add(b, u, (size_t)n)) return wb_seterr(WB_ENOMEM, "out of memory");
            continue;
        }
        if (wb_buf_add(b, &c, 1)) return wb_seterr(WB_ENOMEM, "out of memory");
    }
    if (j->p >= j->e) return j_err(j, "a closing '\"'");
    j->p++;
    if (wb_buf_add(b, "", 1)) return wb_seterr(WB_ENOMEM, "out of memory");
    b->len--;
    return 0;
}

/* the next member of an object: its key into key (NULL at the closing '}') */
static int j_member(jp *j, int *first, char *key, size_t cap, int *end)
{
    j_ws(j);
    *end = 0;
    if (j->p < j->e && *j->p == '}') {
        j->p++;
        *end = 1;
        return 0;
    }
    if (!*first) {
        if (j->p >= j->e || *j->p != ',') return j_err(j, "',' or '}'");
        j->p++;
        j_ws(j);
    }
    *first = 0;
    int rc = j_str(j, key, cap);
    if (rc) return rc;
    j_ws(j);
    if (j->p >= j->e || *j->p != ':') return j_err(j, "':'");
    j->p++;
    j_ws(j);
    return 0;
}

/* an array of strings -> sorted, distinct levels */
static int j_levels(jp *j, wb_levels **out)
{
    if (j->p >= j->e || *j->p != '[') return j_err(j, "an array of level strings");
    j->p++;
    wb_buf text = {0}, one = {0};
    size_t n = 0, cap = 0;
    size_t *off = NULL;
    int rc = 0;
    j_ws(j);
    if (j->p < j->e && *j->p == ']') j->p++;
    else
        for (;;) {
            j_ws(j);
            if ((rc = j_strbuf(j, &one)) != 0) break;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                size_t *o = realloc(off, cap * sizeof *off);
                if (!o) {
                    rc = wb_seterr(WB_ENOMEM, "out of memory");
                    break;
                }
                off = o;
            }
            off[n++] = text.len;
            if (wb_buf_add(&text, one.p ? one.p : (unsigned char *)"", one.len) || wb_buf_add(&text, "", 1)) {
                rc = wb_seterr(WB_ENOMEM, "out of memory");
                break;
            }
            j_ws(j);
            if (j->p < j->e && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->e && *j->p == ']') {
                j->p++;
                break;
            }
            rc = j_err(j, "',' or ']'");
            break;
        }
    const char **s = rc ? NULL : malloc((n ? n : 1) * sizeof *s);
    if (!rc && !s) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) s[k] = (const char *)text.p + off[k];
    if (!rc) {
        rc = wb_levels_new(s, (int64_t)n, out);
        if (rc) rc = j_err(j, "levels sorted and distinct");
    }
    free(s);
    free(off);
    wb_buf_free(&text);
    wb_buf_free(&one);
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
static int j_columns(jp *j, wb_meta_cols *c)
{
    if (j->p >= j->e || *j->p != '[') return j_err(j, "an array of columns");
    j->p++;
    int64_t cap = 0;
    wb_buf nm = {0};
    int rc = 0;
    j_ws(j);
    if (j->p < j->e && *j->p == ']') {
        j->p++;
        return 0;
    }
    for (;;) {
        j_ws(j);
        if (j->p >= j->e || *j->p != '{') {
            rc = j_err(j, "a column object '{'");
            break;
        }
        j->p++;
        if (c->n == cap) {
            cap = cap ? cap * 2 : 16;
            char **a = realloc(c->names, (size_t)cap * sizeof *a);
            if (a) c->names = a;
            unsigned char *t = realloc(c->types, (size_t)cap);
            if (t) c->types = t;
            wb_levels **l = realloc(c->levels, (size_t)cap * sizeof *l);
            if (l) c->levels = l;
            if (!a || !t || !l) {
                rc = wb_seterr(WB_ENOMEM, "out of memory");
                break;
            }
        }
        int64_t k = c->n++;
        c->names[k] = NULL;
        c->types[k] = WB_COL_NUMBER;
        c->levels[k] = NULL;
        int first = 1, end = 0, cat = 0;
        char key[64];
        while (!rc) {
            if ((rc = j_member(j, &first, key, sizeof key, &end)) != 0 || end) break;
            if (strcmp(key, "name") == 0) {
                if ((rc = j_strbuf(j, &nm)) != 0) break;
                free(c->names[k]);
                c->names[k] = wb_strdup(nm.p ? (char *)nm.p : "");
                if (!c->names[k]) rc = wb_seterr(WB_ENOMEM, "out of memory");
            } else if (strcmp(key, "type") == 0) {
                if ((rc = j_strbuf(j, &nm)) != 0) break;
                if (nm.p && strcmp((char *)nm.p, "category") == 0) cat = 1;
                else if (!nm.p || strcmp((char *)nm.p, "number") != 0) rc = j_err(j, "type \"number\" or \"category\"");
            } else if (strcmp(key, "levels") == 0) {
                wb_levels_unref(c->levels[k]);
                c->levels[k] = NULL;
                rc = j_levels(j, &c->levels[k]);
            } else
                rc = j_skip(j, 1);
        }
        if (rc) break;
        if (!c->names[k] && !(c->names[k] = wb_strdup(""))) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        if (cat) {
            c->types[k] = WB_COL_CATEGORY;
            if (!c->levels[k] && (rc = wb_levels_new(NULL, 0, &c->levels[k])) != 0) break;
        } else {
            wb_levels_unref(c->levels[k]);
            c->levels[k] = NULL;
        }
        j_ws(j);
        if (j->p < j->e && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->e && *j->p == ']') {
            j->p++;
            break;
        }
        rc = j_err(j, "',' or ']'");
        break;
    }
    wb_buf_free(&nm);
    return rc;
}

/* "label": {"name": ... | null, "levels": [...]} */
static int j_label(jp *j, wb_meta_cols *c)
{
    if (j->p >= j->e || *j->p != '{') return j_err(j, "a label object '{'");
    j->p++;
    c->has_label = 1;
    int first = 1, end = 0, rc = 0;
    char key[64];
    wb_buf nm = {0};
    while (!rc) {
        if ((rc = j_member(j, &first, key, sizeof key, &end)) != 0 || end) break;
        if (strcmp(key, "name") == 0 && j->p < j->e && *j->p == '"') {
            if ((rc = j_strbuf(j, &nm)) != 0) break;
            free(c->label_name);
            c->label_name = wb_strdup(nm.p ? (char *)nm.p : "");
            if (!c->label_name) rc = wb_seterr(WB_ENOMEM, "out of memory");
        } else if (strcmp(key, "levels") == 0) {
            wb_levels_unref(c->label_levels);
            c->label_levels = NULL;
            rc = j_levels(j, &c->label_levels);
        } else
            rc = j_skip(j, 1);
    }
    wb_buf_free(&nm);
    return rc;
}

#define META_MAX ((size_t)1 << 30)

int wb__meta_read_cols(const char *datapath, wb_meta *m, wb_meta_cols *cols)
{
    m->num_samples = m->num_features = m->num_classes = m->dataset_size = -1;
    wb_meta_cols dummy;
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
    const char *buf = text.p ? (const char *)text.p : "";
    jp j = {buf, buf, buf + text.len, path};
    if (!rc) {
        j_ws(&j);
        if (j.p >= j.e || *j.p != '{') rc = j_err(&j, "a JSON object '{'");
        else j.p++;
    }
    int first = 1;
    while (!rc) {
        j_ws(&j);
        if (j.p < j.e && *j.p == '}') break;
        if (!first) {
            if (j.p >= j.e || *j.p != ',') {
                rc = j_err(&j, "',' or '}'");
                break;
            }
            j.p++;
            j_ws(&j);
        }
        first = 0;
        char key[64];
        if ((rc = j_str(&j, key, sizeof key)) != 0) break;
        j_ws(&j);
        if (j.p >= j.e || *j.p != ':') {
            rc = j_err(&j, "':'");
            break;
        }
        j.p++;
        j_ws(&j);
        int64_t *dst = strcmp(key, "num_samples") == 0    ? &m->num_samples
                       : strcmp(key, "num_features") == 0 ? &m->num_features
                       : strcmp(key, "num_classes") == 0  ? &m->num_classes
                       : strcmp(key, "dataset_size") == 0 ? &m->dataset_size
                                                          : NULL;
        if (dst) {
            double v = -1;
            const char *st;
            /* range first: converting a double past int64 is undefined (found by fuzzing) */
            int parsed = wb__parse_double(j.p, j.e, &v, &st) == 0;
            if (parsed && v > 9007199254740992.0) {
                rc = j_err(&j, "a whole number >= 0 of at most 2^53");
                break;
            }
            if (!parsed || !(v >= 0) || v != (double)(int64_t)v) {
                rc = j_err(&j, "a whole number >= 0");
                break;
            }
            *dst = (int64_t)v;
            j.p = st;
        } else if (cols != &dummy && strcmp(key, "columns") == 0 && cols->n == 0)
            rc = j_columns(&j, cols);
        else if (cols != &dummy && strcmp(key, "label") == 0 && !cols->has_label)
            rc = j_label(&j, cols);
        else
            rc = j_skip(&j, 0);
    }
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
