/* io/csv.c — CSV rows: numbers separated by a delimiter (',' by default), the
 * same number of fields on every line, an optional header line of column
 * names. Empty fields (and nan) read as NaN; fields may be quoted and padded
 * with blanks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

static inline int is_ws(char c) { return c == ' ' || c == '\t'; }

void wb__csv_fields_free(char **f, int64_t n)
{
    for (int64_t i = 0; f && i < n; i++) free(f[i]);
    free(f);
}

int wb__csv_fields(const char *s, size_t len, char delim, char ***fields, int64_t *n)
{
    const char *p = s, *e = s + len;
    int64_t cap = 16, k = 0;
    char **f = malloc((size_t)cap * sizeof *f);
    char *tmp = malloc(len + 1);
    if (!f || !tmp) {
        free(f);
        free(tmp);
        return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes asked for)", (size_t)cap * sizeof *f + len + 1);
    }
    for (;;) {
        size_t t = 0;
        while (p < e && is_ws(*p)) p++;
        if (p < e && *p == '"') {
            p++;
            while (p < e) {
                if (*p == '"') {
                    if (p + 1 < e && p[1] == '"') {
                        tmp[t++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                tmp[t++] = *p++;
            }
            while (p < e && *p != delim) p++; /* anything after the closing quote */
        } else {
            const char *q = memchr(p, delim, (size_t)(e - p));
            const char *fe = q ? q : e, *te = fe;
            while (te > p && is_ws(te[-1])) te--;
            memcpy(tmp, p, (size_t)(te - p));
            t = (size_t)(te - p);
            p = fe;
        }
        tmp[t] = 0;
        if (k == WB_IO_MAX_COLS) { /* one field past the limit; the caller names the file and line */
            wb__csv_fields_free(f, k);
            free(tmp);
            return wb_seterr(WB_ELIMIT, "more than %lld fields, the limit of columns", (long long)WB_IO_MAX_COLS);
        }
        if (k == cap) {
            char **g = realloc(f, (size_t)(cap *= 2) * sizeof *f);
            if (!g) {
                wb__csv_fields_free(f, k);
                free(tmp);
                return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes asked for)", (size_t)cap * sizeof *f);
            }
            f = g;
        }
        f[k] = wb_strdup(tmp);
        if (!f[k]) {
            wb__csv_fields_free(f, k);
            free(tmp);
            return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes asked for)", t + 1);
        }
        k++;
        if (p >= e) break;
        p++; /* the delimiter */
    }
    free(tmp);
    *fields = f;
    *n = k;
    return 0;
}

int wb__csv_is_number(const char *f)
{
    if (!*f) return 1;
    double v;
    const char *st, *e = f + strlen(f);
    return wb__parse_double(f, e, &v, &st) == 0 && st == e;
}

/* a field that is not a plain number: blanks, quotes, empty */
static int slow_field(const char *p, const char *e, char delim, double *v, const char **fend,
                      const char **tok, int *toklen)
{
    const char *q = memchr(p, delim, (size_t)(e - p));
    const char *fe = q ? q : e, *a = p, *b = fe;
    *fend = fe;
    while (a < b && is_ws(*a)) a++;
    while (b > a && is_ws(b[-1])) b--;
    if (b - a >= 2 && *a == '"' && b[-1] == '"') {
        a++;
        b--;
        while (a < b && is_ws(*a)) a++;
        while (b > a && is_ws(b[-1])) b--;
    }
    *tok = a;
    *toklen = (int)(b - a > 40 ? 40 : b - a);
    if (a == b) {
        *v = NAN;
        return 0;
    }
    const char *st;
    return wb__parse_double(a, b, v, &st) == 0 && st == b ? 0 : -1;
}

int wb__csv_row(const char *s, size_t len, double *x, double *y, const wb_parse_arg *a,
                const char *name, int64_t lineno)
{
    const char *p = s, *e = s + len;
    char delim = (char)a->delim;
    int64_t j = 0, k = 0;
    for (;;) {
        double v;
        const char *st;
        if (!(wb__parse_double(p, e, &v, &st) == 0 && (st == e || *st == delim))) {
            const char *tok;
            int tl;
            if (slow_field(p, e, delim, &v, &st, &tok, &tl) != 0)
                return wb_seterr(WB_EFORMAT, "%s:%lld:%lld: bad value \"%.*s\" (expected a number)", name,
                                 (long long)lineno, (long long)(tok - s + 1), tl, tok);
        }
        if (j < a->ncols) {
            if (j == a->label_col)
                *y = v;
            else
                x[k++] = v;
        }
        j++;
        if (st >= e) break;
        p = st + 1;
    }
    if (j != a->ncols)
        return wb_seterr(WB_EFORMAT, "%s:%lld: %lld fields (expected %lld, as in the %s line)", name,
                         (long long)lineno, (long long)j, (long long)a->ncols, a->header ? "header" : "first");
    return 0;
}
