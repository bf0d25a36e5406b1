/* common.c — driver-side helpers of the preprocess plugin: building and
 * running column programs, the statistics the estimators fit from (code
 * counts, sums, exact medians and modes), and reading the fitted columns of
 * a model back with every check a model file from elsewhere needs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"

int pp_oom(const char *who) { return H->seterr(WB_ENOMEM, "%s: out of memory", who); }

/* ------------------------------------------------------------- programs */

void pp_prog_init(pp_prog *g, int64_t din, const char *who, const char *unknown)
{
    memset(g, 0, sizeof *g);
    g->h.magic = PP_MAGIC;
    g->h.din = din;
    g->h.who = pp_prog_str(g, who);
    g->h.unknown = pp_prog_str(g, unknown ? unknown : "");
}

void pp_prog_free(pp_prog *g)
{
    free(g->ops);
    free(g->tab);
    free(g->strs);
    memset(g, 0, sizeof *g);
}

int32_t pp_prog_str(pp_prog *g, const char *s)
{
    size_t l = strlen(s) + 1;
    if (g->bad || g->h.nstr + (int64_t)l > INT32_MAX) {
        g->bad = 1;
        return 0;
    }
    if (g->h.nstr + (int64_t)l > g->scap) {
        int64_t c = g->scap ? g->scap : 256;
        while (c < g->h.nstr + (int64_t)l) c *= 2;
        char *q = realloc(g->strs, (size_t)c);
        if (!q) {
            g->bad = 1;
            return 0;
        }
        g->strs = q;
        g->scap = c;
    }
    int32_t at = (int32_t)g->h.nstr;
    memcpy(g->strs + at, s, l);
    g->h.nstr += (int64_t)l;
    return at;
}

pp_op *pp_prog_op(pp_prog *g, int kind, int64_t in, int64_t out, const int32_t *tab, int64_t ntab)
{
    if (g->bad) return NULL;
    if (g->h.nops == g->cap) {
        int64_t c = g->cap ? g->cap * 2 : 16;
        pp_op *q = realloc(g->ops, (size_t)c * sizeof *q);
        if (!q) {
            g->bad = 1;
            return NULL;
        }
        g->ops = q;
        g->cap = c;
    }
    if (g->h.ntab + ntab > g->tcap) {
        int64_t c = g->tcap ? g->tcap : 64;
        while (c < g->h.ntab + ntab) c *= 2;
        int32_t *q = realloc(g->tab, (size_t)c * sizeof *q);
        if (!q) {
            g->bad = 1;
            return NULL;
        }
        g->tab = q;
        g->tcap = c;
    }
    pp_op *o = &g->ops[g->h.nops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->in = (int32_t)in;
    o->out = (int32_t)out;
    o->width = 1;
    o->nan_slot = -1;
    o->tab = g->h.ntab;
    o->ntab = ntab;
    if (ntab) memcpy(g->tab + g->h.ntab, tab, (size_t)ntab * sizeof *tab);
    g->h.ntab += ntab;
    if (kind != PP_COPY && kind != PP_SCALE && kind != PP_FILL && kind != PP_MISSING) o->b = NAN;
    return o;
}

int pp_prog_run(wb_exec *ex, pp_prog *g, const wb_dataset *d, wb_dataset **out)
{
    const char *who = g->strs ? g->strs + g->h.who : "preprocess";
    if (g->bad) return pp_oom(who);
    if (g->h.din > INT32_MAX || g->h.dout > INT32_MAX) return H->seterr(WB_ELIMIT, "%s: too many columns", who);
    const size_t tabbytes = ((size_t)g->h.ntab * 4 + 7) & ~(size_t)7;
    size_t len = sizeof g->h + (size_t)g->h.nops * sizeof(pp_op) + tabbytes + (size_t)g->h.nstr;
    unsigned char *a = calloc(1, len);
    if (!a) return pp_oom(who);
    memcpy(a, &g->h, sizeof g->h);
    if (g->h.nops) memcpy(a + sizeof g->h, g->ops, (size_t)g->h.nops * sizeof(pp_op));
    if (g->h.ntab) memcpy(a + sizeof g->h + (size_t)g->h.nops * sizeof(pp_op), g->tab, (size_t)g->h.ntab * 4);
    memcpy(a + sizeof g->h + (size_t)g->h.nops * sizeof(pp_op) + tabbytes, g->strs, (size_t)g->h.nstr);
    int rc = H->map_dataset(ex, "preprocess.apply", d, NULL, 0, a, len, out);
    free(a);
    if (rc && strncmp(H->errmsg(), who, strlen(who))) {
        char buf[2048];
        snprintf(buf, sizeof buf, "%s", H->errmsg());
        rc = H->seterr(rc, "%s: %s", who, buf);
    }
    return rc;
}

/* ----------------------------------------------------------- statistics */

int pp_code_counts(wb_exec *ex, const wb_dataset *d, const int64_t *cols, const int64_t *L, int64_t m,
                   const char *who, double **out, int64_t **offp)
{
    *out = NULL;
    *offp = NULL;
    size_t alen = 8 + 16 * (size_t)m, len = 0;
    int64_t *a = malloc(alen), *off = malloc((size_t)(m + 1) * sizeof *off);
    if (!a || !off) {
        free(a);
        free(off);
        return pp_oom(who);
    }
    a[0] = m;
    for (int64_t k = 0; k < m; k++) {
        a[1 + k] = cols[k];
        a[1 + m + k] = L[k];
        off[k] = (int64_t)len;
        len += (size_t)L[k] + 1;
    }
    off[m] = (int64_t)len;
    double *o = calloc(len ? len : 1, sizeof *o);
    int rc = o ? H->map_sum(ex, "preprocess.codes", d, NULL, 0, a, alen, o, len) : pp_oom(who);
    free(a);
    if (rc) {
        char buf[2048];
        snprintf(buf, sizeof buf, "%s", H->errmsg());
        if (strncmp(buf, who, strlen(who))) rc = H->seterr(rc, "%s: %s", who, buf);
        free(o);
        free(off);
        return rc;
    }
    *out = o;
    *offp = off;
    return 0;
}

int pp_num_stats(wb_exec *ex, const wb_dataset *d, const int64_t *cols, int64_t m, double **out)
{
    double *o = calloc((size_t)(m > 0 ? 4 * m : 1), sizeof *o);
    if (!o) return H->seterr(WB_ENOMEM, "out of memory");
    int rc = m ? H->map_sum(ex, "preprocess.numstats", d, NULL, 0, cols, (size_t)m * 8, o, (size_t)(4 * m)) : 0;
    if (rc) {
        free(o);
        return rc;
    }
    *out = o;
    return 0;
}

typedef struct radix_arg {
    int64_t col;
    int32_t shift, bits;
    uint64_t prefix;
} radix_arg;

/* the results of a map, one after another (each freed) */
static int map_all(wb_exec *ex, const char *kernel, const wb_dataset *d, const void *arg, size_t arglen,
                   int (*each)(void *ctx, const void *data, size_t size), void *ctx)
{
    int np = H->ds_nparts(d);
    wb_oid *outs = calloc((size_t)(np ? np : 1), sizeof *outs);
    if (!outs) return H->seterr(WB_ENOMEM, "out of memory");
    int rc = H->map(ex, kernel, d, NULL, 0, arg, arglen, outs);
    for (int i = 0; i < np; i++) {
        void *data = NULL;
        size_t size = 0;
        if (!rc) rc = H->get(ex, outs[i], &data, &size);
        if (!rc) rc = each(ctx, data, size);
        H->free(data);
        if (outs[i]) H->release(ex, outs[i]);
    }
    free(outs);
    return rc;
}

typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

static int add_values(void *ctx, const void *data, size_t size)
{
    dvec *s = ctx;
    size_t n = size / sizeof(double);
    if (size % sizeof(double)) return H->seterr(WB_EINTERNAL, "preprocess: bad result");
    if (s->n + n > s->cap) {
        size_t c = s->cap ? s->cap : 1024;
        while (c < s->n + n) c *= 2;
        double *q = realloc(s->v, c * sizeof *q);
        if (!q) return H->seterr(WB_ENOMEM, "out of memory");
        s->v = q;
        s->cap = c;
    }
    if (n) memcpy(s->v + s->n, data, size);
    s->n += n;
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double key_value(uint64_t k)
{
    uint64_t b = (k >> 63) ? k & ~0x8000000000000000ULL : ~k;
    double v;
    memcpy(&v, &b, 8);
    return v;
}

#define GATHER_MAX 65536

/* one rank being found: its column, the rank left within the prefix, the
 * prefix and how many bits of the key it fixes, and the answer */
typedef struct rank_q {
    int64_t col, rank;
    int32_t shift, done;
    uint64_t prefix;
    double value;
} rank_q;

typedef struct radix_sum {
    double *v; /* per item: counts, minima, maxima */
    const radix_arg *items;
    int n;
} radix_sum;

static int add_radix(void *ctx, const void *data, size_t size)
{
    radix_sum *s = ctx;
    const double *v = data;
    size_t at = 0;
    for (int q = 0; q < s->n; q++) {
        const size_t nb = (size_t)1 << s->items[q].bits;
        if (size < (at + 3 * nb) * sizeof(double)) return H->seterr(WB_EINTERNAL, "preprocess.radix: bad result");
        double *o = s->v + at;
        for (size_t b = 0; b < nb; b++) {
            o[b] += v[at + b];
            if (v[at + nb + b] < o[nb + b]) o[nb + b] = v[at + nb + b];
            if (v[at + 2 * nb + b] > o[2 * nb + b]) o[2 * nb + b] = v[at + 2 * nb + b];
        }
        at += 3 * nb;
    }
    return size == at * sizeof(double) ? 0 : H->seterr(WB_EINTERNAL, "preprocess.radix: bad result");
}

/* the values of 0-based ranks among the non-missing values of columns: the
 * 12-bit digits of the ordered keys from the top, one histogram pass a digit
 * for every rank at once, until a rank's bucket holds one value (its minimum
 * equals its maximum) or few; then those buckets' values are gathered (one
 * pass each) and sorted */
static int rank_values(wb_exec *ex, const wb_dataset *d, rank_q *r, int n)
{
    radix_arg *items = malloc((size_t)(n > 0 ? n : 1) * sizeof *items);
    int *item_of = malloc((size_t)(n > 0 ? n : 1) * sizeof *item_of);
    double *sums = NULL;
    int rc = items && item_of ? 0 : H->seterr(WB_ENOMEM, "out of memory");
    for (int pass = 0; !rc; pass++) {
        /* the histograms this pass needs: one per distinct (column, prefix) */
        int ni = 0;
        size_t len = 0;
        for (int q = 0; q < n; q++) {
            item_of[q] = -1;
            if (r[q].done) continue;
            int bits = r[q].shift < 12 ? r[q].shift : 12;
            for (int i = 0; i < ni; i++)
                if (items[i].col == r[q].col && items[i].shift == r[q].shift && items[i].prefix == r[q].prefix) item_of[q] = i;
            if (item_of[q] < 0) {
                items[ni] = (radix_arg){r[q].col, r[q].shift, bits, r[q].prefix};
                len += 3 * ((size_t)1 << bits);
                item_of[q] = ni++;
            }
        }
        if (!ni) break;
        free(sums);
        sums = malloc(len * sizeof *sums);
        if (!sums) {
            rc = H->seterr(WB_ENOMEM, "out of memory");
            break;
        }
        for (size_t at = 0, i = 0; i < (size_t)ni; i++) {
            const size_t nb = (size_t)1 << items[i].bits;
            for (size_t b = 0; b < nb; b++) {
                sums[at + b] = 0;
                sums[at + nb + b] = INFINITY;
                sums[at + 2 * nb + b] = -INFINITY;
            }
            at += 3 * nb;
        }
        radix_sum rs = {sums, items, ni};
        rc = map_all(ex, "preprocess.radix", d, items, (size_t)ni * sizeof *items, add_radix, &rs);
        for (int q = 0; q < n && !rc; q++) {
            if (r[q].done) continue;
            const radix_arg *it = &items[item_of[q]];
            size_t at = 0;
            for (int i = 0; i < item_of[q]; i++) at += 3 * ((size_t)1 << items[i].bits);
            const int nb = 1 << it->bits;
            const double *cnt = sums + at, *mn = cnt + nb, *mx = mn + nb;
            int64_t cum = 0;
            int b = 0;
            for (; b < nb; b++) {
                if (r[q].rank < cum + (int64_t)cnt[b]) break;
                cum += (int64_t)cnt[b];
            }
            if (b == nb) {
                rc = H->seterr(WB_EINTERNAL, "preprocess: the median's rank is beyond the values");
                break;
            }
            r[q].rank -= cum;
            r[q].prefix = (r[q].shift == 64 ? 0 : r[q].prefix << it->bits) | (uint64_t)b;
            r[q].shift -= it->bits;
            if (mn[b] == mx[b]) { /* one value in the bucket */
                r[q].value = mn[b];
                r[q].done = 1;
            } else if (r[q].shift == 0) {
                r[q].value = key_value(r[q].prefix);
                r[q].done = 1;
            } else if (cnt[b] <= GATHER_MAX)
                r[q].done = 2; /* gather below */
        }
        /* ranks whose buckets are small: their values gathered */
        for (int q = 0; q < n && !rc; q++) {
            if (r[q].done != 2) continue;
            radix_arg g = {r[q].col, r[q].shift, 0, r[q].prefix};
            dvec v = {0};
            rc = map_all(ex, "preprocess.gather", d, &g, sizeof g, add_values, &v);
            if (!rc && (int64_t)v.n <= r[q].rank) rc = H->seterr(WB_EINTERNAL, "preprocess: the median's bucket lost values");
            if (!rc) {
                qsort(v.v, v.n, sizeof *v.v, cmp_d);
                /* every rank of this bucket from the same values */
                for (int q2 = q; q2 < n; q2++)
                    if (r[q2].done == 2 && r[q2].col == r[q].col && r[q2].shift == r[q].shift && r[q2].prefix == r[q].prefix) {
                        r[q2].value = v.v[r[q2].rank];
                        r[q2].done = 1;
                    }
            }
            free(v.v);
        }
    }
    free(items);
    free(item_of);
    free(sums);
    return rc;
}

int pp_medians(wb_exec *ex, const wb_dataset *d, const int64_t *cols, const int64_t *nvalid, int64_t m, double *out)
{
    rank_q *r = calloc((size_t)(2 * m > 0 ? 2 * m : 1), sizeof *r);
    if (!r) return H->seterr(WB_ENOMEM, "out of memory");
    if (m > 2048) {
        free(r);
        return H->seterr(WB_ELIMIT, "preprocess: medians of more than 2048 columns at once");
    }
    for (int64_t k = 0; k < m; k++) {
        r[2 * k] = (rank_q){cols[k], (nvalid[k] - 1) / 2, 64, 0, 0, 0};
        r[2 * k + 1] = (rank_q){cols[k], nvalid[k] / 2, 64, 0, 0, 0};
    }
    int rc = rank_values(ex, d, r, (int)(2 * m));
    /* numpy's median: the mean of the two middle values */
    for (int64_t k = 0; !rc && k < m; k++) out[k] = nvalid[k] % 2 ? r[2 * k].value : (r[2 * k].value + r[2 * k + 1].value) / 2;
    free(r);
    return rc;
}

static int cmp_pair(const void *a, const void *b) { return cmp_d(a, b); }

int pp_mode(wb_exec *ex, const wb_dataset *d, int64_t j, double *out)
{
    dvec v = {0};
    int rc = map_all(ex, "preprocess.distinct", d, &j, 8, add_values, &v);
    if (!rc && v.n % 2) rc = H->seterr(WB_EINTERNAL, "preprocess.distinct: bad result");
    if (!rc) {
        size_t n = v.n / 2;
        qsort(v.v, n, 2 * sizeof(double), cmp_pair);
        double best = NAN, bestc = 0;
        for (size_t i = 0; i < n;) {
            double val = v.v[2 * i], c = 0;
            for (; i < n && v.v[2 * i] == val; i++) c += v.v[2 * i + 1];
            if (c > bestc) {
                bestc = c;
                best = val;
            }
        }
        *out = best;
    }
    free(v.v);
    return rc;
}

/* -------------------------------------------------------- fitted columns */

const char *pp_label(const wb_dataset *d, int64_t j, char *buf, size_t len) { return wbc_col_label(H, d, j, buf, len); }

wbc_jv *pp_json_field(const wb_model *m, const char *field, const char *who)
{
    wbc_jv *v = NULL;
    const char *s = H->model_str(m, field);
    if (!s) {
        H->seterr(WB_EFORMAT, "%s: the model has no '%s' (not a %s model?)", who, field, who);
        return NULL;
    }
    if (wbc_json_parse(s, &v)) {
        H->seterr(WB_EFORMAT, "%s: the model's '%s' is malformed", who, field);
        return NULL;
    }
    return v;
}

int pp_model_cols(const wb_model *m, const wb_dataset *d, const char *who, int64_t **colsp, int64_t *np)
{
    *colsp = NULL;
    *np = 0;
    const int64_t dc = H->ds_cols(d);
    double nf = H->model_num(m, "n_features");
    if (H->model_has(m, "n_features") && !(nf >= 0 && nf <= 1e9 && nf == floor(nf)))
        return H->seterr(WB_EFORMAT, "%s: the model's n_features is malformed", who);
    if (H->model_has(m, "n_features") && (int64_t)nf != dc)
        return H->seterr(WB_EINVAL, "%s: fitted on %lld columns, the data has %lld", who, (long long)nf, (long long)dc);
    if (!H->model_has(m, "n_features")) nf = (double)dc;
    int64_t r = 0, c = 0;
    const double *cv = H->model_array(m, "columns", &r, &c);
    int64_t n = cv ? r * c : (int64_t)nf;
    if (H->model_has(m, "columns") && !cv) return H->seterr(WB_EFORMAT, "%s: the model's columns is malformed", who);
    int64_t *cols = malloc((size_t)(n > 0 ? n : 1) * sizeof *cols);
    char *seen = calloc((size_t)(dc > 0 ? dc : 1), 1);
    if (!cols || !seen) {
        free(cols);
        free(seen);
        return pp_oom(who);
    }
    for (int64_t k = 0; k < n; k++) {
        double v = cv ? cv[k] : (double)(k + 1);
        if (!(v >= 1 && v <= (double)dc && v == floor(v)) || seen[(int64_t)v - 1]) {
            free(cols);
            free(seen);
            return H->seterr(WB_EFORMAT, "%s: the model's columns are malformed (column %g of %lld)", who, v, (long long)dc);
        }
        seen[(int64_t)v - 1] = 1;
        cols[k] = (int64_t)v - 1;
    }
    free(seen);
    /* the names the model was fitted with, when both sides have names */
    const char *fn = H->model_str(m, "feature_names");
    int named = 0;
    for (int64_t j = 0; j < dc && !named; j++) {
        const char *s = H->ds_col_name(d, j);
        named = s && *s;
    }
    if (fn && named) {
        wbc_jv *v = NULL;
        if (wbc_json_parse(fn, &v) || v->type != WBC_J_ARR || v->n != dc) {
            wbc_json_free(v);
            free(cols);
            return H->seterr(WB_EFORMAT, "%s: the model's feature_names are malformed", who);
        }
        for (int64_t j = 0; j < dc; j++) {
            const char *want = v->items[j].type == WBC_J_STR ? v->items[j].s : "";
            const char *have = H->ds_col_name(d, j);
            if (!have) have = "";
            if (*want && strcmp(want, have)) {
                int rc = H->seterr(WB_EINVAL, "%s: column %lld of the data is \"%.100s\", the model was fitted with \"%.100s\" there",
                                   who, (long long)j + 1, have, want);
                wbc_json_free(v);
                free(cols);
                return rc;
            }
        }
        wbc_json_free(v);
    }
    *colsp = cols;
    *np = n;
    return 0;
}

int pp_set_model_cols(wb_model *m, const wb_dataset *d, const int64_t *cols, int64_t n)
{
    const int64_t dc = H->ds_cols(d);
    int all = n == dc;
    for (int64_t k = 0; all && k < n; k++) all = cols[k] == k;
    if (all) return 0;
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t k = 0; k < n; k++) v[k] = (double)cols[k] + 1;
    int rc = H->model_set_array(m, "columns", v, 1, n);
    if (!rc) rc = H->model_set_num(m, "n_features", (double)dc);
    free(v);
    return rc;
}
