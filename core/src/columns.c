/* columns.c — what a dataset knows about its columns besides the numbers:
 * a name and a type per column (number or category), the sorted level
 * strings of each category column, and the labels' name and levels.
 * See wb.h ("columns") for the representation. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct wb_levels {
    int refs; /* atomic */
    int64_t n;
    char **s;   /* n pointers into text */
    char *text; /* the strings, NUL-terminated, one after another */
};

/* ------------------------------------------------------------ level sets */

static int make_levels(const char *const *s, int64_t n, wb_levels **out)
{
    size_t bytes = 0;
    for (int64_t k = 0; k < n; k++) bytes += strlen(s[k]) + 1;
    wb_levels *l = calloc(1, sizeof *l);
    if (l) {
        l->s = malloc((size_t)(n ? n : 1) * sizeof *l->s);
        l->text = malloc(bytes ? bytes : 1);
    }
    if (!l || !l->s || !l->text) {
        if (l) {
            free(l->s);
            free(l->text);
        }
        free(l);
        return wb_seterr(WB_ENOMEM, "out of memory (%lld levels)", (long long)n);
    }
    char *p = l->text;
    for (int64_t k = 0; k < n; k++) {
        size_t len = strlen(s[k]) + 1;
        memcpy(p, s[k], len);
        l->s[k] = p;
        p += len;
    }
    l->n = n;
    l->refs = 1;
    *out = l;
    return 0;
}

int wb_levels_new(const char *const *s, int64_t n, wb_levels **out)
{
    *out = NULL;
    if (n < 0 || (n > 0 && !s)) return wb_seterr(WB_EINVAL, "levels: bad count %lld", (long long)n);
    for (int64_t k = 0; k < n; k++) {
        if (!s[k]) return wb_seterr(WB_EINVAL, "levels: level %lld is missing", (long long)k + 1);
        if (k > 0 && strcmp(s[k - 1], s[k]) >= 0)
            return wb_seterr(WB_EINVAL, "levels: \"%.60s\" before \"%.60s\" (levels must be sorted and distinct)",
                             s[k - 1], s[k]);
    }
    return make_levels(s, n, out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int64_t wb_levels_sort_unique(const char **s, int64_t n)
{
    if (n <= 1) return n < 0 ? 0 : n;
    qsort(s, (size_t)n, sizeof *s, cmp_str);
    int64_t k = 1;
    for (int64_t i = 1; i < n; i++) {
        if (strcmp(s[i], s[k - 1]) == 0) continue;
        const char *t = s[k]; /* keep every pointer: swap, do not overwrite */
        s[k] = s[i];
        s[i] = t;
        k++;
    }
    return k;
}

wb_levels *wb_levels_ref(wb_levels *l)
{
    if (l) __atomic_fetch_add(&l->refs, 1, __ATOMIC_SEQ_CST);
    return l;
}

void wb_levels_unref(wb_levels *l)
{
    if (!l || __atomic_fetch_sub(&l->refs, 1, __ATOMIC_SEQ_CST) != 1) return;
    free(l->s);
    free(l->text);
    free(l);
}

int64_t wb_levels_count(const wb_levels *l) { return l ? l->n : 0; }

const char *wb_levels_at(const wb_levels *l, int64_t k)
{
    return l && k >= 0 && k < l->n ? l->s[k] : NULL;
}

int64_t wb_levels_find(const wb_levels *l, const char *s)
{
    if (!l || !s) return -1;
    int64_t lo = 0, hi = l->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->s[mid], s);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

const char *wb_levels_code(const wb_levels *l, double code)
{
    if (!l || !(code >= 0) || code >= (double)l->n) return NULL;
    int64_t k = (int64_t)code;
    return (double)k == code ? l->s[k] : NULL;
}

int wb_levels_union(const wb_levels *a, const wb_levels *b, wb_levels **out, int64_t **map_a,
                    int64_t **map_b)
{
    int64_t na = wb_levels_count(a), nb = wb_levels_count(b);
    const char **u = malloc((size_t)(na + nb + 1) * sizeof *u);
    int64_t *ma = map_a ? malloc((size_t)(na + 1) * sizeof *ma) : NULL;
    int64_t *mb = map_b ? malloc((size_t)(nb + 1) * sizeof *mb) : NULL;
    if (!u || (map_a && !ma) || (map_b && !mb)) {
        free(u);
        free(ma);
        free(mb);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    int64_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a->s[i], b->s[j]);
        if (c <= 0) {
            if (ma) ma[i] = k;
            u[k] = a->s[i++];
        }
        if (c >= 0) {
            if (mb) mb[j] = k;
            u[k] = b->s[j++];
        }
        k++;
    }
    int rc = make_levels(u, k, out);
    free(u);
    if (rc) {
        free(ma);
        free(mb);
        return rc;
    }
    if (map_a) *map_a = ma;
    if (map_b) *map_b = mb;
    return 0;
}

/* ------------------------------------------------------ a dataset's columns */

void wb__ds_meta_free(wb_dataset *d)
{
    if (d->colnames) {
        for (int64_t j = 0; j < d->d; j++) free(d->colnames[j]);
        free(d->colnames);
        d->colnames = NULL;
    }
    if (d->levels) {
        for (int64_t j = 0; j < d->d; j++) wb_levels_unref(d->levels[j]);
        free(d->levels);
        d->levels = NULL;
    }
    free(d->coltypes);
    d->coltypes = NULL;
    free(d->label_name);
    d->label_name = NULL;
    wb_levels_unref(d->label_levels);
    d->label_levels = NULL;
}

int wb_ds_set_colnames(wb_dataset *d, const char *const *names)
{
    char **c = names ? calloc((size_t)(d->d > 0 ? d->d : 1), sizeof *c) : NULL;
    if (names && !c) return wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t j = 0; names && j < d->d; j++) {
        c[j] = wb_strdup(names[j] ? names[j] : "");
        if (!c[j]) {
            for (int64_t k = 0; k < j; k++) free(c[k]);
            free(c);
            return wb_seterr(WB_ENOMEM, "out of memory");
        }
    }
    if (d->colnames) {
        for (int64_t j = 0; j < d->d; j++) free(d->colnames[j]);
        free(d->colnames);
    }
    d->colnames = c;
    return 0;
}

const char *wb_ds_col_name(const wb_dataset *d, int64_t j)
{
    return d && d->colnames && j >= 0 && j < d->d ? d->colnames[j] : NULL;
}

int wb_ds_col_type(const wb_dataset *d, int64_t j)
{
    return d && d->coltypes && j >= 0 && j < d->d ? d->coltypes[j] : WB_COL_NUMBER;
}

const wb_levels *wb_ds_col_levels(const wb_dataset *d, int64_t j)
{
    return d && d->levels && j >= 0 && j < d->d ? d->levels[j] : NULL;
}

static int eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
    }
    return *a == *b;
}

int64_t wb_ds_find_col(const wb_dataset *d, const char *name)
{
    if (!d || !name) return -1;
    if (d->colnames) {
        for (int64_t j = 0; j < d->d; j++)
            if (strcmp(d->colnames[j], name) == 0) return j;
        for (int64_t j = 0; j < d->d; j++)
            if (eq_nocase(d->colnames[j], name)) return j;
    }
    /* "x3": the default name of an unnamed column */
    if ((name[0] == 'x' || name[0] == 'X') && name[1] >= '1' && name[1] <= '9') {
        int64_t k = 0;
        const char *p = name + 1;
        while (*p >= '0' && *p <= '9' && k < ((int64_t)1 << 40)) k = k * 10 + (*p++ - '0');
        if (!*p && k >= 1 && k <= d->d && (!d->colnames || !d->colnames[k - 1][0])) return k - 1;
    }
    return -1;
}

int wb_ds_has_categories(const wb_dataset *d)
{
    for (int64_t j = 0; d && d->coltypes && j < d->d; j++)
        if (d->coltypes[j] == WB_COL_CATEGORY) return 1;
    return 0;
}

int wb_ds_set_colname(wb_dataset *d, int64_t j, const char *name)
{
    if (j < 0 || j >= d->d) return wb_seterr(WB_EINVAL, "column %lld out of range 1..%lld", (long long)j + 1, (long long)d->d);
    if (!d->colnames) {
        d->colnames = calloc((size_t)d->d, sizeof *d->colnames);
        if (!d->colnames) return wb_seterr(WB_ENOMEM, "out of memory");
        for (int64_t k = 0; k < d->d; k++) {
            d->colnames[k] = wb_strdup("");
            if (!d->colnames[k]) return wb_seterr(WB_ENOMEM, "out of memory");
        }
    }
    char *c = wb_strdup(name ? name : "");
    if (!c) return wb_seterr(WB_ENOMEM, "out of memory");
    free(d->colnames[j]);
    d->colnames[j] = c;
    return 0;
}

int wb_ds_set_coltype(wb_dataset *d, int64_t j, int type, wb_levels *levels)
{
    if (j < 0 || j >= d->d) return wb_seterr(WB_EINVAL, "column %lld out of range 1..%lld", (long long)j + 1, (long long)d->d);
    if (type != WB_COL_NUMBER && type != WB_COL_CATEGORY)
        return wb_seterr(WB_EINVAL, "column %lld: type %d is neither a number nor a category", (long long)j + 1, type);
    if (type == WB_COL_CATEGORY && !levels)
        return wb_seterr(WB_EINVAL, "column %lld: a category column needs its levels", (long long)j + 1);
    if (type == WB_COL_NUMBER && !d->coltypes) return 0;
    if (!d->coltypes) {
        d->coltypes = calloc((size_t)d->d, 1);
        d->levels = calloc((size_t)d->d, sizeof *d->levels);
        if (!d->coltypes || !d->levels) {
            free(d->coltypes);
            free(d->levels);
            d->coltypes = NULL;
            d->levels = NULL;
            return wb_seterr(WB_ENOMEM, "out of memory");
        }
    }
    wb_levels *old = d->levels[j];
    d->coltypes[j] = (unsigned char)type;
    d->levels[j] = type == WB_COL_CATEGORY ? wb_levels_ref(levels) : NULL;
    wb_levels_unref(old);
    return 0;
}

const char *wb_ds_label_name(const wb_dataset *d) { return d ? d->label_name : NULL; }
const wb_levels *wb_ds_label_levels(const wb_dataset *d) { return d ? d->label_levels : NULL; }

int wb_ds_set_label_meta(wb_dataset *d, const char *name, wb_levels *levels)
{
    char *c = NULL;
    if (name && !(c = wb_strdup(name))) return wb_seterr(WB_ENOMEM, "out of memory");
    free(d->label_name);
    d->label_name = c;
    wb_levels *old = d->label_levels;
    d->label_levels = wb_levels_ref(levels);
    wb_levels_unref(old);
    return 0;
}

int wb_ds_copy_cols(wb_dataset *dst, const wb_dataset *src, const int64_t *cols, int64_t m)
{
    if (m < 0 || m > dst->d) return wb_seterr(WB_EINVAL, "columns: %lld columns for a dataset of %lld", (long long)m, (long long)dst->d);
    for (int64_t k = 0; k < m; k++) {
        int64_t j = cols ? cols[k] : k;
        if (j < 0 || j >= src->d) return wb_seterr(WB_EINVAL, "columns: column %lld out of range 1..%lld", (long long)j + 1, (long long)src->d);
        int rc = 0;
        if (src->colnames || dst->colnames) rc = wb_ds_set_colname(dst, k, src->colnames ? src->colnames[j] : "");
        if (!rc) rc = wb_ds_set_coltype(dst, k, wb_ds_col_type(src, j), (wb_levels *)wb_ds_col_levels(src, j));
        if (rc) return rc;
    }
    return 0;
}

int wb_ds_copy_label_meta(wb_dataset *dst, const wb_dataset *src)
{
    return wb_ds_set_label_meta(dst, src->label_name, src->label_levels);
}

int wb_ds_copy_meta(wb_dataset *dst, const wb_dataset *src)
{
    if (dst->d != src->d) return wb_seterr(WB_EINVAL, "columns: %lld columns cannot describe %lld", (long long)src->d, (long long)dst->d);
    int rc = wb_ds_copy_cols(dst, src, NULL, src->d);
    if (!rc) rc = wb_ds_copy_label_meta(dst, src);
    return rc;
}
