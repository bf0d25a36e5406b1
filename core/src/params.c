/* params.c — parameter sets and their check against an estimator's schema.
 * Messages read: "kmeans: parameter 'k' must be an integer >= 1, got -3". */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define P_OTHER 64 /* a value of a type no schema accepts */

typedef struct pval {
    char *name;
    int type;
    int64_t i;
    double num;
    char *str; /* STR value, OTHER's description, or LIST items packed: per item
                * a kind byte ('s' name, 'i' index), its text, a NUL */
    double *arr;
    int64_t rows, cols; /* ARRAY shape; LIST: rows = packed bytes, i = items */
} pval;

struct wb_params {
    pval *v;
    int n, cap;
};

wb_params *wb_params_new(void) { return calloc(1, sizeof(wb_params)); }

static void pval_clear(pval *v)
{
    free(v->name);
    free(v->str);
    free(v->arr);
}

void wb_params_free(wb_params *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) pval_clear(&p->v[i]);
    free(p->v);
    free(p);
}

static pval *pfind(const wb_params *p, const char *name)
{
    if (!p || !name) return NULL;
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0) return &p->v[i];
    return NULL;
}

static int bad_name(const char *name)
{
    if (name && *name && strlen(name) < 65536) return 0;
    return wb_seterr(WB_EINVAL, "parameters: a parameter needs a name (under 64 KB)");
}

/* a slot for name (replacing an old value) */
static pval *pslot(wb_params *p, const char *name)
{
    pval *v = pfind(p, name);
    if (v) {
        free(v->str);
        free(v->arr);
        char *nm = v->name;
        memset(v, 0, sizeof *v);
        v->name = nm;
        return v;
    }
    if (p->n == p->cap) {
        int c = p->cap ? p->cap * 2 : 8;
        pval *nv = realloc(p->v, (size_t)c * sizeof *nv);
        if (!nv) return NULL;
        p->v = nv;
        p->cap = c;
    }
    v = &p->v[p->n];
    memset(v, 0, sizeof *v);
    v->name = wb_strdup(name);
    if (!v->name) return NULL;
    p->n++;
    return v;
}

int wb_params_set_int(wb_params *p, const char *name, int64_t x)
{
    if (bad_name(name)) return WB_EINVAL;
    pval *v = pslot(p, name);
    if (!v) return wb_seterr(WB_ENOMEM, "out of memory");
    v->type = WB_P_INT;
    v->i = x;
    v->num = (double)x;
    return 0;
}

int wb_params_set_num(wb_params *p, const char *name, double x)
{
    if (bad_name(name)) return WB_EINVAL;
    pval *v = pslot(p, name);
    if (!v) return wb_seterr(WB_ENOMEM, "out of memory");
    v->type = WB_P_NUM;
    v->num = x;
    return 0;
}

int wb_params_set_bool(wb_params *p, const char *name, int x)
{
    if (bad_name(name)) return WB_EINVAL;
    pval *v = pslot(p, name);
    if (!v) return wb_seterr(WB_ENOMEM, "out of memory");
    v->type = WB_P_BOOL;
    v->i = x != 0;
    return 0;
}

int wb_params_set_str(wb_params *p, const char *name, const char *x)
{
    if (bad_name(name)) return WB_EINVAL;
    pval *v = pslot(p, name);
    if (!v || !(v->str = wb_strdup(x ? x : ""))) return wb_seterr(WB_ENOMEM, "out of memory");
    v->type = WB_P_STR;
    return 0;
}

int wb_params_set_other(wb_params *p, const char *name, const char *what)
{
    if (bad_name(name)) return WB_EINVAL;
    pval *v = pslot(p, name);
    if (!v || !(v->str = wb_strdup(what ? what : "a value"))) return wb_seterr(WB_ENOMEM, "out of memory");
    v->type = P_OTHER;
    return 0;
}

int wb_params_set_array(wb_params *p, const char *name, const double *x, int64_t rows,
                        int64_t cols)
{
    if (bad_name(name)) return WB_EINVAL;
    if (rows < 0 || cols < 0) return wb_seterr(WB_EINVAL, "bad array shape");
    pval *v = pslot(p, name);
    size_t n = (size_t)rows * (size_t)cols;
    if (!v || !(v->arr = malloc(n * sizeof(double) + 8))) return wb_seterr(WB_ENOMEM, "out of memory");
    if (n) memcpy(v->arr, x, n * sizeof(double));
    v->type = WB_P_ARRAY;
    v->rows = rows;
    v->cols = cols;
    return 0;
}

/* a list value from packed bytes (see pval) */
static int set_packed(wb_params *p, const char *name, const char *packed, int64_t bytes, int64_t n)
{
    pval *v = pslot(p, name);
    if (!v || !(v->str = malloc((size_t)bytes + 1))) return wb_seterr(WB_ENOMEM, "out of memory");
    if (bytes) memcpy(v->str, packed, (size_t)bytes);
    v->str[bytes] = 0;
    v->type = WB_P_LIST;
    v->i = n;
    v->rows = bytes;
    return 0;
}

/* a positive decimal integer (an index item's text) */
static int index_text(const char *t, int64_t *out)
{
    int64_t x = 0;
    if (!*t || *t == '0') return 0;
    for (; *t; t++) {
        if (*t < '0' || *t > '9' || x > (INT64_MAX - 9) / 10) return 0;
        x = x * 10 + (*t - '0');
    }
    if (out) *out = x;
    return 1;
}

int wb_params_set_list(wb_params *p, const char *name, const char *const *items, const int *is_index,
                       int64_t n)
{
    if (bad_name(name)) return WB_EINVAL;
    if (n < 0 || (n > 0 && !items) || n > 1000000) return wb_seterr(WB_EINVAL, "parameters: a list of %lld items", (long long)n);
    size_t bytes = 0;
    for (int64_t k = 0; k < n; k++) {
        if (!items[k]) return wb_seterr(WB_EINVAL, "parameters: list item %lld is missing", (long long)k + 1);
        if (is_index && is_index[k] && !index_text(items[k], NULL))
            return wb_seterr(WB_EINVAL, "parameters: list item %lld is not an index >= 1", (long long)k + 1);
        bytes += strlen(items[k]) + 2;
    }
    char *b = malloc(bytes + 1), *q = b;
    if (!b) return wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t k = 0; k < n; k++) {
        size_t l = strlen(items[k]);
        *q++ = is_index && is_index[k] ? 'i' : 's';
        memcpy(q, items[k], l + 1);
        q += l + 1;
    }
    int rc = set_packed(p, name, b, (int64_t)bytes, n);
    free(b);
    return rc;
}

const char *wb_params_list(const wb_params *p, const char *name, int64_t i, int64_t *index)
{
    pval *v = pfind(p, name);
    if (!v || v->type != WB_P_LIST || i < 0 || i >= v->i) return NULL;
    const char *q = v->str;
    for (int64_t k = 0; k < i; k++) q += strlen(q + 1) + 2;
    if (index) {
        *index = 0;
        if (q[0] == 'i') index_text(q + 1, index);
    }
    return q + 1;
}

wb_params *wb_params_copy(const wb_params *p)
{
    wb_params *q = wb_params_new();
    if (!q || !p) return q;
    for (int i = 0; i < p->n; i++) {
        const pval *v = &p->v[i];
        int rc = 0;
        switch (v->type) {
        case WB_P_INT: rc = wb_params_set_int(q, v->name, v->i); break;
        case WB_P_NUM: rc = wb_params_set_num(q, v->name, v->num); break;
        case WB_P_BOOL: rc = wb_params_set_bool(q, v->name, (int)v->i); break;
        case WB_P_STR: rc = wb_params_set_str(q, v->name, v->str); break;
        case WB_P_ARRAY: rc = wb_params_set_array(q, v->name, v->arr, v->rows, v->cols); break;
        case WB_P_LIST: rc = set_packed(q, v->name, v->str, v->rows, v->i); break;
        default: rc = wb_params_set_other(q, v->name, v->str); break;
        }
        if (rc) {
            wb_params_free(q);
            return NULL;
        }
    }
    return q;
}

int wb_params_count(const wb_params *p) { return p ? p->n : 0; }
const char *wb_params_name_at(const wb_params *p, int i)
{
    return p && i >= 0 && i < p->n ? p->v[i].name : NULL;
}
int wb_params_type(const wb_params *p, const char *name)
{
    pval *v = pfind(p, name);
    return v ? v->type : 0;
}
int wb_params_has(const wb_params *p, const char *name) { return pfind(p, name) != NULL; }

int64_t wb_params_int(const wb_params *p, const char *name)
{
    pval *v = pfind(p, name);
    if (!v) return 0;
    if (v->type == WB_P_NUM) { /* saturate: a double past int64 does not convert (found by fuzzing) */
        if (!(v->num == v->num)) return 0;
        if (v->num >= 9223372036854775807.0) return INT64_MAX;
        if (v->num <= -9223372036854775808.0) return INT64_MIN;
        return (int64_t)v->num;
    }
    return v->i;
}

double wb_params_num(const wb_params *p, const char *name)
{
    pval *v = pfind(p, name);
    if (!v) return NAN;
    if (v->type == WB_P_INT) return (double)v->i;
    if (v->type == WB_P_BOOL) return (double)v->i;
    return v->type == WB_P_NUM ? v->num : NAN;
}

int wb_params_bool(const wb_params *p, const char *name)
{
    pval *v = pfind(p, name);
    return v && (v->type == WB_P_BOOL || v->type == WB_P_INT) ? v->i != 0 : 0;
}

const char *wb_params_str(const wb_params *p, const char *name)
{
    pval *v = pfind(p, name);
    return v && v->type == WB_P_STR ? v->str : NULL;
}

const double *wb_params_array(const wb_params *p, const char *name, int64_t *rows, int64_t *cols)
{
    pval *v = pfind(p, name);
    if (!v || v->type != WB_P_ARRAY) return NULL;
    if (rows) *rows = v->rows;
    if (cols) *cols = v->cols;
    return v->arr;
}

/* shortest text that reads back as the same double */
static void fmtnum(char *buf, size_t len, double x)
{
    if (isnan(x)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, len, x > 0 ? "inf" : "-inf");
        return;
    }
    if (x == floor(x) && fabs(x) < 1e15) { /* integers as integers: 10, not 1e+01 */
        snprintf(buf, len, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

static const char *fmtval(const pval *v, char *buf, size_t len)
{
    switch (v->type) {
    case WB_P_INT: snprintf(buf, len, "%lld", (long long)v->i); break;
    case WB_P_NUM: fmtnum(buf, len, v->num); break;
    case WB_P_BOOL: snprintf(buf, len, "%s", v->i ? "true" : "false"); break;
    case WB_P_STR: snprintf(buf, len, "\"%s\"", v->str); break;
    case WB_P_ARRAY: snprintf(buf, len, "[%lld x %lld]", (long long)v->rows, (long long)v->cols); break;
    case WB_P_LIST: {
        /* {"age", 3}: as many items as fit, then ... */
        size_t at = 0;
        const char *q = v->str;
        if (len < 8) {
            snprintf(buf, len, "{}");
            break;
        }
        buf[at++] = '{';
        for (int64_t k = 0; k < v->i; k++) {
            const char *t = q + 1;
            char item[96];
            if (q[0] == 'i') snprintf(item, sizeof item, "%s%s", k ? ", " : "", t);
            else snprintf(item, sizeof item, "%s\"%.80s%s\"", k ? ", " : "", t, strlen(t) > 80 ? "..." : "");
            size_t il = strlen(item);
            if (at + il + 6 > len) {
                memcpy(buf + at, ", ...", 5);
                at += 5;
                break;
            }
            memcpy(buf + at, item, il);
            at += il;
            q += strlen(t) + 2;
        }
        buf[at++] = '}';
        buf[at] = 0;
        break;
    }
    default: snprintf(buf, len, "%s", v->str ? v->str : "?"); break;
    }
    return buf;
}

const char *wb_params_format(const wb_params *p, const char *name, char *buf, size_t len)
{
    pval *v = pfind(p, name);
    if (!v) {
        snprintf(buf, len, "nil");
        return buf;
    }
    if (v->type == WB_P_STR) {
        snprintf(buf, len, "%s", v->str);
        return buf;
    }
    return fmtval(v, buf, len);
}

const char *wb_param_spec_describe(const wb_param_spec *s, char *buf, size_t len)
{
    wb_buf b = {0};
    const char *sep = "";
    int numeric = s->types & (WB_P_INT | WB_P_NUM);
    char lo[64], hi[64];
    fmtnum(lo, sizeof lo, s->min);
    fmtnum(hi, sizeof hi, s->max);
    int has_lo = isfinite(s->min), has_hi = isfinite(s->max);
    if (numeric) {
        wb_buf_printf(&b, "%s", (s->types & WB_P_NUM) ? "a number" : "an integer");
        if (has_lo && has_hi)
            wb_buf_printf(&b, " in %c%s, %s%c", (s->flags & WB_P_MIN_EXCL) ? '(' : '[', lo, hi,
                          (s->flags & WB_P_MAX_EXCL) ? ')' : ']');
        else if (has_lo)
            wb_buf_printf(&b, " %s %s", (s->flags & WB_P_MIN_EXCL) ? ">" : ">=", lo);
        else if (has_hi)
            wb_buf_printf(&b, " %s %s", (s->flags & WB_P_MAX_EXCL) ? "<" : "<=", hi);
        sep = " or ";
    }
    if (s->types & WB_P_BOOL) {
        wb_buf_printf(&b, "%sa boolean", sep);
        sep = " or ";
    }
    if (s->types & WB_P_STR) {
        if (s->choices) {
            wb_buf_printf(&b, "%sone of ", sep);
            const char *c = s->choices;
            int first = 1;
            while (*c) {
                const char *e = strchr(c, '|');
                size_t l = e ? (size_t)(e - c) : strlen(c);
                wb_buf_printf(&b, "%s\"%.*s\"", first ? "" : ", ", (int)l, c);
                first = 0;
                c += l + (e ? 1 : 0);
            }
        } else
            wb_buf_printf(&b, "%sa string", sep);
        sep = " or ";
    }
    if (s->types & WB_P_ARRAY) {
        wb_buf_printf(&b, "%sa matrix (table of rows or dataset)", sep);
        sep = " or ";
    }
    if (s->types & WB_P_LIST) wb_buf_printf(&b, "%sa list of column names or 1-based indices", sep);
    snprintf(buf, len, "%s", b.p ? (char *)b.p : "a value");
    wb_buf_free(&b);
    return buf;
}

static int in_choices(const char *choices, const char *s)
{
    size_t l = strlen(s);
    const char *c = choices;
    while (*c) {
        const char *e = strchr(c, '|');
        size_t cl = e ? (size_t)(e - c) : strlen(c);
        if (cl == l && strncmp(c, s, l) == 0) return 1;
        c += cl + (e ? 1 : 0);
    }
    return 0;
}

/* parse a default given as text into a value of an allowed type */
static int parse_default(const wb_param_spec *s, pval *v)
{
    const char *t = s->def;
    char *end;
    if ((s->types & WB_P_BOOL) && (!strcmp(t, "true") || !strcmp(t, "false"))) {
        v->type = WB_P_BOOL;
        v->i = !strcmp(t, "true");
        return 0;
    }
    if (s->types & (WB_P_INT | WB_P_NUM)) {
        errno = 0;
        double x = strtod(t, &end);
        if (*t && !*end && !errno) {
            if ((s->types & WB_P_INT) && x == floor(x) && fabs(x) < 9e15 && !strpbrk(t, ".eE")) {
                v->type = WB_P_INT;
                v->i = (int64_t)x;
                v->num = x;
            } else {
                v->type = WB_P_NUM;
                v->num = x;
            }
            return 0;
        }
    }
    if (s->types & WB_P_STR) {
        v->type = WB_P_STR;
        v->str = wb_strdup(t);
        return v->str ? 0 : WB_ENOMEM;
    }
    return WB_EINVAL;
}

static int check_value(const char *who, const wb_param_spec *s, pval *v)
{
    char want[512], got[256];
    int t = v->type;
    /* numbers: an integral number is an integer; an integer is a number */
    if (t == WB_P_NUM && !(s->types & WB_P_NUM) && (s->types & WB_P_INT) && isfinite(v->num) &&
        v->num == floor(v->num) && fabs(v->num) < 9e15) {
        v->type = t = WB_P_INT;
        v->i = (int64_t)v->num;
    }
    if (t == WB_P_INT && !(s->types & WB_P_INT) && (s->types & WB_P_NUM)) {
        v->type = t = WB_P_NUM;
        v->num = (double)v->i;
    }
    /* a list from a single name, from a row of indices ({1, 3} reads as a
     * matrix) or from an empty table */
    if ((s->types & WB_P_LIST) && !(s->types & t)) {
        if (t == WB_P_STR) {
            const char *one = v->str;
            wb_params tmp = {0};
            int rc = wb_params_set_list(&tmp, "x", &one, NULL, 1);
            if (rc) return rc;
            free(v->str);
            *v = tmp.v[0];
            v->name = NULL;
            free(tmp.v[0].name);
            free(tmp.v);
            t = v->type;
        } else if (t == WB_P_ARRAY && (v->rows == 1 || v->rows * v->cols == 0)) {
            int64_t n = v->rows * v->cols, k;
            for (k = 0; k < n; k++)
                if (!(v->arr[k] >= 1 && v->arr[k] <= 9e15 && v->arr[k] == floor(v->arr[k]))) break;
            if (k == n) {
                char **items = calloc((size_t)(n ? n : 1), sizeof *items);
                int *idx = calloc((size_t)(n ? n : 1), sizeof *idx);
                wb_params tmp = {0};
                int rc = items && idx ? 0 : wb_seterr(WB_ENOMEM, "out of memory");
                for (k = 0; k < n && !rc; k++) {
                    char num[32];
                    snprintf(num, sizeof num, "%.0f", v->arr[k]);
                    items[k] = wb_strdup(num);
                    idx[k] = 1;
                    if (!items[k]) rc = wb_seterr(WB_ENOMEM, "out of memory");
                }
                if (!rc) rc = wb_params_set_list(&tmp, "x", (const char *const *)items, idx, n);
                for (k = 0; items && k < n; k++) free(items[k]);
                free(items);
                free(idx);
                if (rc) return rc;
                free(v->arr);
                *v = tmp.v[0];
                v->name = NULL;
                free(tmp.v[0].name);
                free(tmp.v);
                t = v->type;
            }
        }
    }
    int ok = (t & s->types) != 0, nonfinite = 0;
    if (ok && (t == WB_P_INT || t == WB_P_NUM)) {
        double x = t == WB_P_INT ? (double)v->i : v->num;
        if (isnan(x)) ok = 0;
        if (x < s->min || ((s->flags & WB_P_MIN_EXCL) && x == s->min)) ok = 0;
        if (x > s->max || ((s->flags & WB_P_MAX_EXCL) && x == s->max)) ok = 0;
        /* +-Inf only where the schema says it means something: an open
         * bound (max = INFINITY) is not an invitation (C = inf gave an
         * all-zero model reported as converged) */
        if (ok && isinf(x) && !(s->flags & WB_P_NONFINITE)) ok = 0, nonfinite = 1;
    }
    if (ok && t == WB_P_ARRAY) { /* NaN never, +-Inf as for numbers */
        for (int64_t i = 0; i < v->rows * v->cols; i++) {
            double x = v->arr[i];
            if (isnan(x) || (isinf(x) && !(s->flags & WB_P_NONFINITE)))
                return wb_seterr(WB_EPARAM, "%s: parameter '%s' has %s at row %lld, column %lld", who, s->name,
                                 isnan(x) ? "NaN" : x > 0 ? "Inf" : "-Inf", (long long)(i / v->cols + 1),
                                 (long long)(i % v->cols + 1));
        }
    }
    if (ok && t == WB_P_STR && s->choices && !in_choices(s->choices, v->str)) ok = 0;
    if (ok) return 0;
    wb_param_spec_describe(s, want, sizeof want);
    char fin[sizeof want + 16]; /* "a finite number > 0, got inf" */
    const char *wantp = want;
    if (nonfinite && (!strncmp(want, "a number", 8) || !strncmp(want, "an integer", 10))) {
        snprintf(fin, sizeof fin, "a finite %s", want + (want[1] == 'n' ? 3 : 2));
        wantp = fin;
    }
    fmtval(v, got, sizeof got);
    if (t == WB_P_STR && !(s->types & WB_P_STR))
        snprintf(got, sizeof got, "string \"%s\"", v->str);
    return wb_seterr(WB_EPARAM, "%s: parameter '%s' must be %s, got %s", who, s->name, wantp, got);
}

int wb_params_validate(const char *who, const wb_param_spec *spec, int nspec, const wb_params *in,
                       wb_params **out)
{
    *out = NULL;
    /* unknown names first: a typo should not hide behind another error */
    for (int i = 0; in && i < in->n; i++) {
        int known = 0;
        for (int j = 0; j < nspec; j++)
            if (strcmp(in->v[i].name, spec[j].name) == 0) known = 1;
        if (!known) {
            wb_buf b = {0};
            const char *names[256];
            int nn = 0;
            for (int j = 0; j < nspec; j++) {
                wb_buf_printf(&b, "%s%s", j ? ", " : "", spec[j].name);
                if (nn < 256) names[nn++] = spec[j].name;
            }
            const char *near = wb_closest(in->v[i].name, names, nn);
            char hint[160] = "";
            if (near) snprintf(hint, sizeof hint, "did you mean '%s'? ", near);
            wb_seterr(WB_EPARAM, "%s: unknown parameter '%s' (%sparameters: %s)", who, in->v[i].name, hint,
                      b.p ? (char *)b.p : "none");
            wb_buf_free(&b);
            return WB_EPARAM;
        }
    }
    wb_params *p = wb_params_new();
    if (!p) return wb_seterr(WB_ENOMEM, "out of memory");
    for (int j = 0; j < nspec; j++) {
        const wb_param_spec *s = &spec[j];
        const pval *given = pfind(in, s->name);
        pval v = {0};
        if (given) {
            v = *given;
            v.name = NULL;
            if (given->type == WB_P_LIST) {
                v.str = malloc((size_t)given->rows + 1);
                if (v.str) memcpy(v.str, given->str, (size_t)given->rows + 1);
            } else
                v.str = given->str ? wb_strdup(given->str) : NULL;
            v.arr = NULL;
            if (given->type == WB_P_ARRAY) {
                size_t n = (size_t)given->rows * (size_t)given->cols;
                v.arr = malloc(n * sizeof(double) + 8);
                if (v.arr && n) memcpy(v.arr, given->arr, n * sizeof(double));
            }
        } else if (s->def) {
            if (parse_default(s, &v)) {
                wb_params_free(p);
                return wb_seterr(WB_EINVAL, "%s: parameter '%s' has a bad default \"%s\"", who, s->name,
                                 s->def);
            }
        } else if (s->flags & WB_P_NULLABLE) {
            continue;
        } else {
            wb_params_free(p);
            return wb_seterr(WB_EPARAM, "%s: parameter '%s' is required", who, s->name);
        }
        int rc = check_value(who, s, &v);
        if (!rc) {
            pval *slot = pslot(p, s->name);
            if (!slot) rc = wb_seterr(WB_ENOMEM, "out of memory");
            else {
                char *nm = slot->name;
                *slot = v;
                slot->name = nm;
                v.str = NULL;
                v.arr = NULL;
            }
        }
        free(v.str);
        free(v.arr);
        if (rc) {
            wb_params_free(p);
            return rc;
        }
    }
    *out = p;
    return 0;
}

/* ---- encoding: "WBP1", u32 count, then per value: u16 name length, name,
 * u8 type, payload (INT i64 | NUM f64 | BOOL u8 | STR u32 len + bytes |
 * ARRAY i64 rows, i64 cols, doubles) */
static int put_u32(wb_buf *b, uint32_t x) { return wb_buf_add(b, &x, 4); }

int wb_params_encode(const wb_params *p, wb_buf *b)
{
    int rc = wb_buf_add(b, "WBP1", 4);
    uint32_t n = 0;
    for (int i = 0; p && i < p->n; i++)
        if (p->v[i].type != P_OTHER) n++;
    rc = rc ? rc : put_u32(b, n);
    for (int i = 0; !rc && p && i < p->n; i++) {
        const pval *v = &p->v[i];
        if (v->type == P_OTHER) continue;
        uint16_t nl = (uint16_t)strlen(v->name);
        uint8_t t = (uint8_t)v->type;
        rc = wb_buf_add(b, &nl, 2);
        if (!rc) rc = wb_buf_add(b, v->name, nl);
        if (!rc) rc = wb_buf_add(b, &t, 1);
        if (rc) break;
        switch (v->type) {
        case WB_P_INT: rc = wb_buf_add(b, &v->i, 8); break;
        case WB_P_NUM: rc = wb_buf_add(b, &v->num, 8); break;
        case WB_P_BOOL: {
            uint8_t x = (uint8_t)v->i;
            rc = wb_buf_add(b, &x, 1);
            break;
        }
        case WB_P_STR: {
            uint32_t l = (uint32_t)strlen(v->str);
            rc = put_u32(b, l);
            if (!rc) rc = wb_buf_add(b, v->str, l);
            break;
        }
        case WB_P_ARRAY:
            rc = wb_buf_add(b, &v->rows, 8);
            if (!rc) rc = wb_buf_add(b, &v->cols, 8);
            if (!rc) rc = wb_buf_add(b, v->arr, (size_t)v->rows * (size_t)v->cols * 8);
            break;
        case WB_P_LIST: { /* u32 count, per item: u8 kind ('s' | 'i'), u32 length, bytes */
            uint32_t cnt = (uint32_t)v->i;
            rc = put_u32(b, cnt);
            const char *q = v->str;
            for (int64_t k = 0; !rc && k < v->i; k++) {
                uint8_t kind = (uint8_t)q[0];
                uint32_t l = (uint32_t)strlen(q + 1);
                rc = wb_buf_add(b, &kind, 1);
                if (!rc) rc = put_u32(b, l);
                if (!rc) rc = wb_buf_add(b, q + 1, l);
                q += l + 2;
            }
            break;
        }
        }
    }
    return rc;
}

typedef struct rd {
    const unsigned char *p;
    size_t left;
} rd;

static int take(rd *r, void *dst, size_t n)
{
    if (r->left < n) return -1;
    memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

int wb_params_decode(const void *data, size_t size, wb_params **out)
{
    rd r = {data, size};
    char magic[4];
    uint32_t n;
    *out = NULL;
    if (take(&r, magic, 4) || memcmp(magic, "WBP1", 4) || take(&r, &n, 4))
        return wb_seterr(WB_EFORMAT, "parameters: bad header");
    if (n > 4096) return wb_seterr(WB_EFORMAT, "parameters: %u values is too many", n);
    wb_params *p = wb_params_new();
    if (!p) return wb_seterr(WB_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint16_t nl;
        uint8_t t;
        char name[65536];
        int rc = 0;
        if (take(&r, &nl, 2) || take(&r, name, nl) || take(&r, &t, 1)) goto bad;
        name[nl] = 0;
        if (strlen(name) != nl || nl == 0) goto bad;
        switch (t) {
        case WB_P_INT: {
            int64_t x;
            if (take(&r, &x, 8)) goto bad;
            rc = wb_params_set_int(p, name, x);
            break;
        }
        case WB_P_NUM: {
            double x;
            if (take(&r, &x, 8)) goto bad;
            rc = wb_params_set_num(p, name, x);
            break;
        }
        case WB_P_BOOL: {
            uint8_t x;
            if (take(&r, &x, 1) || x > 1) goto bad;
            rc = wb_params_set_bool(p, name, x);
            break;
        }
        case WB_P_STR: {
            uint32_t l;
            if (take(&r, &l, 4) || l > r.left) goto bad;
            char *s = malloc((size_t)l + 1);
            if (!s) goto nomem;
            memcpy(s, r.p, l);
            s[l] = 0;
            r.p += l;
            r.left -= l;
            rc = wb_params_set_str(p, name, s);
            free(s);
            break;
        }
        case WB_P_ARRAY: {
            int64_t rows, cols;
            if (take(&r, &rows, 8) || take(&r, &cols, 8) || rows < 0 || cols < 0 ||
                (cols && (uint64_t)rows > r.left / 8 / (uint64_t)cols))
                goto bad;
            size_t nb = (size_t)rows * (size_t)cols * 8;
            if (nb > r.left) goto bad;
            double *a = malloc(nb + 8);
            if (!a) goto nomem;
            memcpy(a, r.p, nb);
            r.p += nb;
            r.left -= nb;
            rc = wb_params_set_array(p, name, a, rows, cols);
            free(a);
            break;
        }
        case WB_P_LIST: {
            uint32_t cnt;
            if (take(&r, &cnt, 4) || cnt > r.left / 5) goto bad;
            char **items = calloc((size_t)cnt + 1, sizeof *items);
            int *idx = calloc((size_t)cnt + 1, sizeof *idx);
            int okl = items && idx;
            for (uint32_t k = 0; okl && k < cnt; k++) {
                uint8_t kind;
                uint32_t l;
                if (take(&r, &kind, 1) || (kind != 's' && kind != 'i') || take(&r, &l, 4) || l > r.left ||
                    !(items[k] = malloc((size_t)l + 1))) {
                    okl = 0;
                    break;
                }
                memcpy(items[k], r.p, l);
                items[k][l] = 0;
                r.p += l;
                r.left -= l;
                idx[k] = kind == 'i';
                if (strlen(items[k]) != l || (idx[k] && !index_text(items[k], NULL))) okl = 0;
            }
            if (okl) rc = wb_params_set_list(p, name, (const char *const *)items, idx, cnt);
            for (uint32_t k = 0; items && k < cnt; k++) free(items[k]);
            free(items);
            free(idx);
            if (!okl) goto bad;
            break;
        }
        default:
            goto bad;
        }
        if (rc) {
            wb_params_free(p);
            return rc;
        }
    }
    if (r.left) goto bad;
    *out = p;
    return 0;
bad:
    wb_params_free(p);
    return wb_seterr(WB_EFORMAT, "parameters: malformed encoding");
nomem:
    wb_params_free(p);
    return wb_seterr(WB_ENOMEM, "out of memory");
}
