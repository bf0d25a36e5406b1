/*
 * wb/plugin_cols.h — header-only helpers for plugins that work with named,
 * typed columns (wb/plugin.h, "columns"): choosing columns from a `columns`
 * parameter or by type, mapping category codes of one level set onto
 * another by their strings, and lists of strings kept in model fields.
 *
 * Models hold numbers, strings and arrays of doubles; a list of strings (a
 * column's categories, class names) is kept in a string field as JSON: an
 * array of strings, nulls or such arrays (["Biscoe","Dream"], [["a"],null]).
 * Model files are untrusted input: wbc_json_parse checks every byte and
 * returns an error for anything else.
 *
 * Every function takes the host table; memory comes from malloc and is
 * freed with free (wbc_json_free for parsed values).
 */
#ifndef WB_PLUGIN_COLS_H
#define WB_PLUGIN_COLS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

/* ------------------------------------------------------------- the host */

/* The host-table entries of named, typed columns and list parameters were
 * appended to wb_host after kctx_input. A plugin that cannot do without
 * them refuses to load on an older host (wb/plugin.h, "Versions"):
 *
 *     const char *lacks = wbc_host_lacks(host);
 *     if (lacks) return host->seterr(WB_EABI, "mine: ... lacks %s ...", lacks);
 *
 * Returns the first such entry the running host's table lacks, or NULL. */
static inline const char *wbc_host_lacks(const wb_host *h)
{
#define WBC_NEED(e)                                                                                 \
    if (!WB_HOST_HAS(h, e)) return #e;
    WBC_NEED(ds_col_name)
    WBC_NEED(ds_col_type)
    WBC_NEED(ds_col_nlevels)
    WBC_NEED(ds_col_level)
    WBC_NEED(ds_label_name)
    WBC_NEED(ds_label_nlevels)
    WBC_NEED(ds_label_level)
    WBC_NEED(ds_set_col)
    WBC_NEED(ds_set_label)
    WBC_NEED(ds_copy_cols)
    WBC_NEED(param_list)
#undef WBC_NEED
    return NULL;
}

/* the message of a plugin refused by wbc_host_lacks */
#define WBC_HOST_TOO_OLD "%s: this wb is older than the plugin: its host table lacks %s (named, typed columns, list parameters)"

/* ------------------------------------------------------------------ names */

static inline int wbc_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static inline int wbc_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = wbc_lower((unsigned char)*a), y = wbc_lower((unsigned char)*b);
        if (x != y || !x) return x - y;
    }
}

/* the name column j is shown by: its own, or "x<j+1>" (buf at least 32 bytes) */
static inline const char *wbc_col_label(const wb_host *h, const wb_dataset *d, int64_t j, char *buf, size_t len)
{
    const char *n = h->ds_col_name(d, j);
    if (n && *n) return n;
    snprintf(buf, len, "x%lld", (long long)j + 1);
    return buf;
}

/* the column named `name` (exactly, then ignoring ASCII case, then "x3" for
 * the third column), or -1 */
static inline int64_t wbc_find_col(const wb_host *h, const wb_dataset *d, const char *name)
{
    const int64_t n = h->ds_cols(d);
    for (int64_t j = 0; j < n; j++) {
        const char *c = h->ds_col_name(d, j);
        if (c && !strcmp(c, name)) return j;
    }
    int64_t hit = -1;
    for (int64_t j = 0; j < n; j++) {
        const char *c = h->ds_col_name(d, j);
        if (c && !wbc_casecmp(c, name)) {
            if (hit >= 0) return -1; /* two candidates: not a match */
            hit = j;
        }
    }
    if (hit >= 0) return hit;
    if ((name[0] == 'x' || name[0] == 'X') && name[1] >= '1' && name[1] <= '9') {
        char *end;
        long long k = strtoll(name + 1, &end, 10);
        if (!*end && k >= 1 && k <= n) {
            const char *c = h->ds_col_name(d, k - 1);
            if (!c || !*c) return k - 1;
        }
    }
    return -1;
}

/* "no column named "agee" (columns: "age", "island", ...)" into buf */
static inline void wbc_no_column(const wb_host *h, const wb_dataset *d, const char *name, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "no column named \"%.100s\" (columns: ", name);
    const int64_t n = h->ds_cols(d);
    for (int64_t j = 0; j < n && j < 20 && at + 4 < len; j++) {
        char tmp[32];
        const char *c = h->ds_col_name(d, j);
        if (c && *c) at += (size_t)snprintf(buf + at, len - at, "%s\"%.60s\"", j ? ", " : "", c);
        else at += (size_t)snprintf(buf + at, len - at, "%s%s", j ? ", " : "", wbc_col_label(h, d, j, tmp, sizeof tmp));
    }
    if (at + 8 < len) snprintf(buf + at, len - at, "%s)", n > 20 ? ", ..." : "");
}

/*
 * The columns an estimator works on: the list parameter `param` when given
 * (names or 1-based indices, each once), else every column of type `kind`
 * (WB_COL_NUMBER or WB_COL_CATEGORY; -1: every column). *cols (0-based,
 * increasing when chosen by type, in the list's order otherwise; free it)
 * and *n. Errors name the estimator, the parameter and the column.
 */
static inline int wbc_select(const wb_host *h, const wb_dataset *d, const wb_params *p, const char *param, int kind,
                             const char *who, int64_t **cols, int64_t *n)
{
    const int64_t dc = h->ds_cols(d);
    *cols = NULL;
    *n = 0;
    int64_t *c = (int64_t *)malloc((size_t)(dc > 0 ? dc : 1) * sizeof *c);
    if (!c) return h->seterr(WB_ENOMEM, "%s: out of memory", who);
    int64_t m = 0;
    if (h->param_type(p, param) == WB_P_LIST) {
        const char *item;
        int64_t index;
        for (int64_t i = 0; (item = h->param_list(p, param, i, &index)) != NULL; i++) {
            int64_t j = index > 0 ? index - 1 : wbc_find_col(h, d, item);
            if (index > dc) {
                free(c);
                return h->seterr(WB_EPARAM, "%s: parameter '%s': column %lld is out of range (the data has %lld columns)",
                                 who, param, (long long)index, (long long)dc);
            }
            if (j < 0) {
                char buf[1600];
                wbc_no_column(h, d, item, buf, sizeof buf);
                free(c);
                return h->seterr(WB_EPARAM, "%s: parameter '%s': %s", who, param, buf);
            }
            for (int64_t k = 0; k < m; k++)
                if (c[k] == j) {
                    char tmp[32];
                    free(c);
                    return h->seterr(WB_EPARAM, "%s: parameter '%s' names column \"%s\" twice", who, param,
                                     wbc_col_label(h, d, j, tmp, sizeof tmp));
                }
            if (m == dc) break;
            c[m++] = j;
        }
    } else {
        for (int64_t j = 0; j < dc; j++)
            if (kind < 0 || h->ds_col_type(d, j) == kind) c[m++] = j;
    }
    *cols = c;
    *n = m;
    return 0;
}

/*
 * map[k] for each code k of column j of d (nlevels of them): the index of
 * that level in cats[0..ncats) (sorted by strcmp, distinct), or -1 when the
 * level is not there. *map is malloc'd (at least one entry); *nmap gets the
 * column's level count.
 */
static inline int wbc_level_map(const wb_host *h, const wb_dataset *d, int64_t j, const char *const *cats, int64_t ncats,
                                int32_t **map, int64_t *nmap)
{
    const int64_t L = h->ds_col_nlevels(d, j);
    int32_t *mp = (int32_t *)malloc((size_t)(L > 0 ? L : 1) * sizeof *mp);
    if (!mp) return h->seterr(WB_ENOMEM, "out of memory");
    for (int64_t k = 0; k < L; k++) {
        const char *s = h->ds_col_level(d, j, k);
        int64_t a = 0, b = ncats - 1;
        mp[k] = -1;
        while (s && a <= b) {
            int64_t mid = a + (b - a) / 2;
            int c = strcmp(cats[mid], s);
            if (!c) {
                mp[k] = (int32_t)mid;
                break;
            }
            if (c < 0) a = mid + 1;
            else b = mid - 1;
        }
    }
    *map = mp;
    *nmap = L;
    return 0;
}

/* ------------------------------------------------------- JSON string lists */

typedef struct wbc_buf {
    char *p;
    size_t len, cap;
    int bad;
} wbc_buf;

static inline void wbc_put(wbc_buf *b, const char *s, size_t n)
{
    if (b->bad) return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->len + n + 1) c *= 2;
        char *q = (char *)realloc(b->p, c);
        if (!q) {
            b->bad = 1;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* a JSON string literal: quotes, backslashes and control bytes escaped,
 * other bytes as they are */
static inline void wbc_put_json(wbc_buf *b, const char *s)
{
    wbc_put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        wbc_put(b, run, (size_t)(s - run));
        char e[8];
        if (c == '"' || c == '\\') snprintf(e, sizeof e, "\\%c", c);
        else if (c == '\n') snprintf(e, sizeof e, "\\n");
        else if (c == '\t') snprintf(e, sizeof e, "\\t");
        else if (c == '\r') snprintf(e, sizeof e, "\\r");
        else snprintf(e, sizeof e, "\\u%04x", c);
        wbc_put(b, e, strlen(e));
        run = s + 1;
    }
    wbc_put(b, run, (size_t)(s - run));
    wbc_put(b, "\"", 1);
}

/* ["a","b"] of n strings (NULL entries as null); malloc'd, NULL when out of memory */
static inline char *wbc_json_list(const char *const *s, int64_t n)
{
    wbc_buf b = {0};
    wbc_put(&b, "[", 1);
    for (int64_t k = 0; k < n; k++) {
        if (k) wbc_put(&b, ",", 1);
        if (s[k]) wbc_put_json(&b, s[k]);
        else wbc_put(&b, "null", 4);
    }
    wbc_put(&b, "]", 1);
    if (b.bad) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* a parsed value: a string, null, or an array */
enum { WBC_J_NULL = 0, WBC_J_STR = 1, WBC_J_ARR = 2 };
typedef struct wbc_jv {
    int type;
    char *s;               /* WBC_J_STR */
    int64_t n;             /* WBC_J_ARR: items */
    struct wbc_jv *items;
} wbc_jv;

static inline void wbc_json_clear(wbc_jv *v)
{
    if (v->type == WBC_J_STR) free(v->s);
    if (v->type == WBC_J_ARR) {
        for (int64_t k = 0; k < v->n; k++) wbc_json_clear(&v->items[k]);
        free(v->items);
    }
    memset(v, 0, sizeof *v);
}

static inline void wbc_json_free(wbc_jv *v)
{
    if (!v) return;
    wbc_json_clear(v);
    free(v);
}

static inline const char *wbc_ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    return s;
}

static inline int wbc_hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* one value at *sp (depth-limited); 0 or -1 (malformed or out of memory) */
static inline int wbc_json_value(const char **sp, wbc_jv *v, int depth)
{
    const char *s = wbc_ws(*sp);
    memset(v, 0, sizeof *v);
    if (depth > 4) return -1;
    if (!strncmp(s, "null", 4)) {
        *sp = s + 4;
        return 0;
    }
    if (*s == '"') {
        size_t cap = 16, n = 0;
        char *o = (char *)malloc(cap);
        if (!o) return -1;
        for (s++; *s != '"'; s++) {
            unsigned c = (unsigned char)*s;
            if (c < 0x20) { /* the end of the text or a raw control byte */
                free(o);
                return -1;
            }
            char out[4];
            size_t k = 1;
            out[0] = (char)c;
            if (c == '\\') {
                s++;
                switch (*s) {
                case '"': out[0] = '"'; break;
                case '\\': out[0] = '\\'; break;
                case '/': out[0] = '/'; break;
                case 'n': out[0] = '\n'; break;
                case 't': out[0] = '\t'; break;
                case 'r': out[0] = '\r'; break;
                case 'b': out[0] = '\b'; break;
                case 'f': out[0] = '\f'; break;
                case 'u': {
                    unsigned u;
                    if (wbc_hex4(s + 1, &u) || u == 0 || (u >= 0xd800 && u <= 0xdfff)) {
                        free(o);
                        return -1;
                    }
                    s += 4;
                    if (u < 0x80) out[0] = (char)u;
                    else if (u < 0x800) {
                        out[0] = (char)(0xc0 | (u >> 6));
                        out[1] = (char)(0x80 | (u & 0x3f));
                        k = 2;
                    } else {
                        out[0] = (char)(0xe0 | (u >> 12));
                        out[1] = (char)(0x80 | ((u >> 6) & 0x3f));
                        out[2] = (char)(0x80 | (u & 0x3f));
                        k = 3;
                    }
                    break;
                }
                default: free(o); return -1;
                }
            }
            if (n + k + 1 > cap) {
                cap *= 2;
                char *q = (char *)realloc(o, cap);
                if (!q) {
                    free(o);
                    return -1;
                }
                o = q;
            }
            memcpy(o + n, out, k);
            n += k;
        }
        o[n] = 0;
        v->type = WBC_J_STR;
        v->s = o;
        *sp = s + 1;
        return 0;
    }
    if (*s == '[') {
        int64_t cap = 0;
        v->type = WBC_J_ARR;
        s = wbc_ws(s + 1);
        if (*s == ']') {
            *sp = s + 1;
            return 0;
        }
        for (;;) {
            if (v->n == cap) {
                cap = cap ? cap * 2 : 8;
                wbc_jv *q = (wbc_jv *)realloc(v->items, (size_t)cap * sizeof *q);
                if (!q) {
                    wbc_json_clear(v);
                    return -1;
                }
                v->items = q;
            }
            if (wbc_json_value(&s, &v->items[v->n], depth + 1)) {
                wbc_json_clear(v);
                return -1;
            }
            v->n++;
            s = wbc_ws(s);
            if (*s == ',') {
                s++;
                continue;
            }
            if (*s == ']') {
                *sp = s + 1;
                return 0;
            }
            wbc_json_clear(v);
            return -1;
        }
    }
    return -1;
}

/* parse text (strings, nulls, arrays; nothing else) into *out (free with
 * wbc_json_free); -1 when malformed */
static inline int wbc_json_parse(const char *text, wbc_jv **out)
{
    *out = NULL;
    if (!text) return -1;
    wbc_jv *v = (wbc_jv *)calloc(1, sizeof *v);
    if (!v) return -1;
    const char *s = text;
    if (wbc_json_value(&s, v, 0) || *wbc_ws(s)) {
        wbc_json_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

/* an array of n strings, sorted by strcmp and distinct when `sorted` */
static inline int wbc_json_is_strings(const wbc_jv *v, int64_t n, int sorted)
{
    if (!v || v->type != WBC_J_ARR || (n >= 0 && v->n != n)) return 0;
    for (int64_t k = 0; k < v->n; k++) {
        if (v->items[k].type != WBC_J_STR) return 0;
        if (sorted && k && strcmp(v->items[k - 1].s, v->items[k].s) >= 0) return 0;
    }
    return 1;
}

/* the strings of a parsed array (pointers into v; free the array only) */
static inline const char **wbc_json_strings(const wbc_jv *v)
{
    const char **s = (const char **)malloc((size_t)(v->n > 0 ? v->n : 1) * sizeof *s);
    if (!s) return NULL;
    for (int64_t k = 0; k < v->n; k++) s[k] = v->items[k].s;
    return s;
}

#endif /* WB_PLUGIN_COLS_H */
