/* encode.c — category encoders (scikit-learn's OneHotEncoder and
 * OrdinalEncoder):
 *
 *  onehot   each category column becomes indicator columns "island=Biscoe",
 *           one per category seen in the training rows, in place; a missing
 *           value seen in training is a category of its own ("island=NA");
 *           min_frequency / max_categories group rare categories into
 *           "island=(infrequent)"; drop = "first" | "if_binary";
 *           handle_unknown = "error" | "ignore" (all zeros)
 *  ordinal  each category column becomes the index of its level among the
 *           categories seen in training (sorted), missing stays missing;
 *           handle_unknown = "error" | "use_encoded_value" (unknown_value)
 *
 * Levels are matched by their text, so data loaded separately (with other
 * level sets) is encoded the same way as the training rows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"

#define MAX_OUT_PER_COLUMN 65536

/* the category columns chosen by `columns` (or all of them); numbers refused */
static int cat_columns(const wb_dataset *d, const wb_params *p, const char *who, int64_t **cols, int64_t *n,
                       int64_t **L)
{
    int rc = wbc_select(H, d, p, "columns", WB_COL_CATEGORY, who, cols, n);
    if (rc) return rc;
    *L = malloc((size_t)(*n > 0 ? *n : 1) * sizeof **L);
    if (!*L) {
        free(*cols);
        return pp_oom(who);
    }
    for (int64_t k = 0; k < *n; k++) {
        if (H->ds_col_type(d, (*cols)[k]) != WB_COL_CATEGORY) {
            char b[32];
            rc = H->seterr(WB_EPARAM, "%s: column '%s' holds numbers; %s encodes category columns", who,
                           pp_label(d, (*cols)[k], b, sizeof b), who);
            free(*cols);
            free(*L);
            return rc;
        }
        (*L)[k] = H->ds_col_nlevels(d, (*cols)[k]);
    }
    return 0;
}

/* the categories of column k seen in the rows (counts > 0) as a JSON array into b */
static void put_categories(wbc_buf *b, const wb_dataset *d, int64_t j, const double *cnt, int64_t L)
{
    int first = 1;
    wbc_put(b, "[", 1);
    for (int64_t c = 0; c < L; c++) {
        if (!(cnt[c] > 0)) continue;
        if (!first) wbc_put(b, ",", 1);
        first = 0;
        wbc_put_json(b, H->ds_col_level(d, j, c));
    }
    wbc_put(b, "]", 1);
}

/* ----------------------------------------------------------------- onehot */

static const wb_param_spec onehot_params[] = {
    {.name = "handle_unknown", .types = WB_P_STR, .def = "error", .choices = "error|ignore",
     .doc = "a category not seen in training: an error naming the column and level, or all zeros"},
    {.name = "drop", .types = WB_P_STR, .flags = WB_P_NULLABLE, .choices = "first|if_binary",
     .doc = "drop the first indicator of each column (first), or of columns with two (if_binary); nil: keep all"},
    {.name = "min_frequency", .types = WB_P_NUM, .max = INFINITY, .flags = WB_P_NULLABLE | WB_P_MIN_EXCL,
     .doc = "categories with fewer training rows (a count >= 1, or a fraction of the rows below 1) share one column <name>=(infrequent)"},
    {.name = "max_categories", .types = WB_P_INT, .min = 1, .max = 1e9, .flags = WB_P_NULLABLE,
     .doc = "at most this many columns per input column, the infrequent one included"},
    {.name = "columns", .types = WB_P_LIST, .flags = WB_P_NULLABLE,
     .doc = "the columns to encode (names or 1-based indices); default: every category column"},
};

static int cmp_count(const void *a, const void *b)
{
    const double *x = a, *y = b; /* {count, index}: stable by index */
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int onehot_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    int64_t *cols = NULL, n = 0, *L = NULL, *off = NULL;
    double *counts = NULL;
    if (H->ds_rows(d) == 0) return H->seterr(WB_EINVAL, "onehot: the data has no rows");
    int rc = cat_columns(d, p, "onehot", &cols, &n, &L);
    if (rc) return rc;
    if (n && (rc = pp_code_counts(ex, d, cols, L, n, "onehot", &counts, &off)) != 0) {
        free(cols);
        free(L);
        return rc;
    }
    const double rows = (double)H->ds_rows(d);
    const int has_minf = H->param_has(p, "min_frequency"), has_maxc = H->param_has(p, "max_categories");
    const double minf = has_minf ? H->param_num(p, "min_frequency") : 0;
    const int64_t maxc = has_maxc ? H->param_int(p, "max_categories") : 0;
    const char *drop = H->param_str(p, "drop");
    if (has_minf && minf > 1 && minf != floor(minf)) {
        rc = H->seterr(WB_EPARAM, "onehot: parameter 'min_frequency' must be a count (an integer >= 1) or a fraction below 1, got %g", minf);
        goto out;
    }
    wbc_buf cats = {0};
    int64_t total = 0;
    for (int64_t k = 0; k < n; k++) total += L[k] + 1;
    double *slots = malloc((size_t)(total > 0 ? total : 1) * sizeof *slots), *infreq = malloc((size_t)(total > 0 ? total : 1) * sizeof *infreq);
    double *width = malloc((size_t)(n > 0 ? n : 1) * sizeof *width), *missing = malloc((size_t)(n > 0 ? n : 1) * sizeof *missing);
    double *pairs = malloc((size_t)(2 * (total > 0 ? total : 1)) * sizeof *pairs);
    double *colv = malloc((size_t)(n > 0 ? n : 1) * sizeof *colv);
    if (!slots || !infreq || !width || !missing || !pairs || !colv) {
        rc = pp_oom("onehot");
        goto done;
    }
    int64_t at = 0; /* entries of slots / infreq */
    wbc_put(&cats, "[", 1);
    for (int64_t k = 0; k < n && !rc; k++) {
        const double *cnt = counts + off[k];
        const int64_t Lk = L[k];
        char b[32];
        const char *label = pp_label(d, cols[k], b, sizeof b);
        /* categories_: the levels seen, then missing when seen */
        int64_t nc = 0;
        double *cc = pairs; /* count, then index among categories_ */
        for (int64_t c = 0; c < Lk; c++)
            if (cnt[c] > 0) {
                cc[2 * nc] = cnt[c];
                cc[2 * nc + 1] = (double)nc;
                nc++;
            }
        missing[k] = cnt[Lk] > 0;
        if (missing[k]) {
            cc[2 * nc] = cnt[Lk];
            cc[2 * nc + 1] = (double)nc;
            nc++;
        }
        if (nc == 0) {
            rc = H->seterr(WB_EINVAL, "onehot: column '%s' has no values in the training rows", label);
            break;
        }
        /* infrequent categories (scikit-learn's rule) */
        double *inf = infreq + at;
        int64_t ninf = 0;
        for (int64_t c = 0; c < nc; c++) {
            inf[c] = has_minf && (minf >= 1 ? cc[2 * c] < minf : cc[2 * c] < minf * rows);
            ninf += inf[c] != 0;
        }
        if (has_maxc && maxc < nc - ninf + 1) {
            if (maxc - 1 == 0)
                for (int64_t c = 0; c < nc; c++) inf[c] = 1;
            else {
                qsort(cc, (size_t)nc, 2 * sizeof(double), cmp_count);
                for (int64_t q = 0; q < nc - (maxc - 1); q++) inf[(int64_t)cc[2 * q + 1]] = 1;
            }
            ninf = 0;
            for (int64_t c = 0; c < nc; c++) ninf += inf[c] != 0;
        }
        /* output slots: the frequent categories, then one for the infrequent */
        double *sl = slots + at;
        int64_t w = 0;
        for (int64_t c = 0; c < nc; c++)
            if (!inf[c]) sl[c] = (double)w++;
        for (int64_t c = 0; c < nc; c++)
            if (inf[c]) sl[c] = (double)w;
        if (ninf) w++;
        if (drop && (!strcmp(drop, "first") || (!strcmp(drop, "if_binary") && w == 2))) {
            double gone = sl[0];
            for (int64_t c = 0; c < nc; c++) sl[c] = sl[c] == gone ? -1 : sl[c] > gone ? sl[c] - 1 : sl[c];
            w--;
        }
        if (w > MAX_OUT_PER_COLUMN) {
            rc = H->seterr(WB_ELIMIT, "onehot: column '%s' has %lld categories, more than %d indicator columns "
                                      "(group rare ones with min_frequency or max_categories)",
                           label, (long long)nc, MAX_OUT_PER_COLUMN);
            break;
        }
        width[k] = (double)w;
        colv[k] = (double)cols[k] + 1;
        at += nc;
        if (k) wbc_put(&cats, ",", 1);
        put_categories(&cats, d, cols[k], cnt, Lk);
    }
    wbc_put(&cats, "]", 1);
    if (!rc && cats.bad) rc = pp_oom("onehot");
    if (!rc) rc = H->model_set_num(m, "n_features", (double)H->ds_cols(d));
    if (!rc) rc = H->model_set_array(m, "columns", colv, 1, n);
    if (!rc) rc = H->model_set_str(m, "categories", cats.p ? cats.p : "[]");
    if (!rc) rc = H->model_set_array(m, "missing", missing, 1, n);
    if (!rc) rc = H->model_set_array(m, "slots", slots, 1, at);
    if (!rc) rc = H->model_set_array(m, "infrequent", infreq, 1, at);
    if (!rc) rc = H->model_set_array(m, "widths", width, 1, n);
done:
    free(cats.p);
    free(slots);
    free(infreq);
    free(width);
    free(missing);
    free(pairs);
    free(colv);
out:
    free(counts);
    free(off);
    free(cols);
    free(L);
    return rc;
}

/* a fitted onehot model, checked */
typedef struct ohm {
    int64_t n, *cols;
    wbc_jv *cats;
    const double *missing, *slots, *infreq, *width;
    int64_t *start; /* each column's first entry in slots */
} ohm;

static void ohm_free(ohm *o)
{
    free(o->cols);
    free(o->start);
    wbc_json_free(o->cats);
}

static int ohm_read(const wb_model *m, const wb_dataset *d, ohm *o)
{
    memset(o, 0, sizeof *o);
    int rc = pp_model_cols(m, d, "onehot", &o->cols, &o->n);
    if (rc) return rc;
    int64_t r, c, ns, ni, nw, nm;
    o->missing = H->model_array(m, "missing", &r, &c);
    nm = r * c;
    o->slots = H->model_array(m, "slots", &r, &c);
    ns = r * c;
    o->infreq = H->model_array(m, "infrequent", &r, &c);
    ni = r * c;
    o->width = H->model_array(m, "widths", &r, &c);
    nw = r * c;
    if (!o->missing || !o->slots || !o->infreq || !o->width || nm != o->n || nw != o->n || ns != ni)
        goto bad;
    if (!(o->cats = pp_json_field(m, "categories", "onehot"))) {
        ohm_free(o);
        return WB_EFORMAT;
    }
    if (o->cats->type != WBC_J_ARR || o->cats->n != o->n) goto bad;
    o->start = malloc((size_t)(o->n + 1) * sizeof *o->start);
    if (!o->start) {
        ohm_free(o);
        return pp_oom("onehot");
    }
    int64_t at = 0;
    for (int64_t k = 0; k < o->n; k++) {
        const wbc_jv *cv = &o->cats->items[k];
        if (!wbc_json_is_strings(cv, -1, 1) || !(o->missing[k] == 0 || o->missing[k] == 1)) goto bad;
        const int64_t nc = cv->n + (o->missing[k] != 0);
        const double w = o->width[k];
        if (!(w >= 0 && w <= MAX_OUT_PER_COLUMN && w == floor(w)) || nc < 1 || at + nc > ns) goto bad;
        /* every slot in [-1, w), every output column reached by a category */
        char *hit = calloc((size_t)w + 1, 1);
        int64_t reached = 0;
        if (!hit) {
            ohm_free(o);
            return pp_oom("onehot");
        }
        for (int64_t q = 0; q < nc; q++) {
            double s = o->slots[at + q];
            if (!(s >= -1 && s < w && s == floor(s)) || !(o->infreq[at + q] == 0 || o->infreq[at + q] == 1)) {
                free(hit);
                goto bad;
            }
            if (s >= 0 && !hit[(int64_t)s]) {
                hit[(int64_t)s] = 1;
                reached++;
            }
        }
        free(hit);
        if (reached != (int64_t)w) goto bad;
        o->start[k] = at;
        at += nc;
    }
    o->start[o->n] = at;
    if (at != ns) goto bad;
    return 0;
bad:
    ohm_free(o);
    return H->seterr(WB_EFORMAT, "onehot: the model's categories, slots and widths do not fit together");
}

static int onehot_transform(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    ohm o;
    int rc = ohm_read(m, d, &o);
    if (rc) return rc;
    const char *hu = H->param_str(H->model_params(m), "handle_unknown");
    const int ignore = hu && !strcmp(hu, "ignore");
    const int64_t dc = H->ds_cols(d);
    int64_t *which = malloc((size_t)(dc > 0 ? dc : 1) * sizeof *which), dout = 0;
    for (int64_t j = 0; which && j < dc; j++) which[j] = -1;
    for (int64_t k = 0; which && k < o.n; k++) which[o.cols[k]] = k;
    for (int64_t j = 0; which && j < dc; j++) dout += which[j] < 0 ? 1 : (int64_t)o.width[which[j]];
    int64_t *src = malloc((size_t)(dout > 0 ? dout : 1) * sizeof *src);
    char **names = calloc((size_t)(dout > 0 ? dout : 1), sizeof *names);
    int32_t *tab = NULL;
    pp_prog g;
    pp_prog_init(&g, dc, "onehot", "handle_unknown = \"error\"");
    g.h.dout = dout;
    if (!which || !src || !names) {
        rc = pp_oom("onehot");
        goto out;
    }
    for (int64_t j = 0, at = 0; j < dc && !rc; j++) {
        const int64_t k = which[j];
        char b[32];
        const char *label = pp_label(d, j, b, sizeof b);
        if (k < 0) {
            src[at] = j;
            pp_prog_op(&g, PP_COPY, j, at++, NULL, 0);
            continue;
        }
        if (H->ds_col_type(d, j) != WB_COL_CATEGORY) {
            rc = H->seterr(WB_EINVAL, "onehot: column '%s' holds numbers in the data, categories when fitted", label);
            break;
        }
        const wbc_jv *cv = &o.cats->items[k];
        const double *sl = o.slots + o.start[k], *inf = o.infreq + o.start[k];
        const int64_t ncat = cv->n, w = (int64_t)o.width[k];
        const char **cs = wbc_json_strings(cv);
        int32_t *map = NULL;
        int64_t nmap = 0;
        if (!cs || (rc = wbc_level_map(H, d, j, cs, ncat, &map, &nmap)) != 0) {
            free(cs);
            if (!rc) rc = pp_oom("onehot");
            break;
        }
        free(tab);
        tab = malloc((size_t)(nmap > 0 ? nmap : 1) * sizeof *tab);
        if (!tab) {
            free(cs);
            free(map);
            rc = pp_oom("onehot");
            break;
        }
        for (int64_t c = 0; c < nmap; c++) {
            if (map[c] >= 0) tab[c] = (int32_t)sl[map[c]];
            else if (ignore) tab[c] = -1;
            else tab[c] = -2 - pp_prog_str(&g, H->ds_col_level(d, j, c));
        }
        free(map);
        pp_op *op = pp_prog_op(&g, PP_ONEHOT, j, at, tab, nmap);
        if (op) {
            op->width = (int32_t)w;
            op->name = pp_prog_str(&g, label);
            op->nan_slot = o.missing[k] != 0 ? (int32_t)sl[ncat] : ignore ? -1 : -1000000;
        }
        /* the names of the block's columns */
        for (int64_t s = 0; s < w && !rc; s++) {
            int64_t q = 0;
            while (q < ncat + (o.missing[k] != 0) && sl[q] != (double)s) q++;
            char nm[2200];
            if (inf[q]) snprintf(nm, sizeof nm, "%.1000s=(infrequent)", label);
            else if (q == ncat) snprintf(nm, sizeof nm, "%.1000s=NA", label);
            else snprintf(nm, sizeof nm, "%.1000s=%.1000s", label, cs[q]);
            src[at + s] = j;
            if (!(names[at + s] = strdup(nm))) rc = pp_oom("onehot");
        }
        free(cs);
        at += w;
    }
    if (!rc) rc = pp_prog_run(ex, &g, d, out);
    if (!rc) {
        rc = H->ds_copy_cols(*out, d, src, dout, 1);
        for (int64_t q = 0; q < dout && !rc; q++)
            if (names[q]) rc = H->ds_set_col(*out, q, names[q], WB_COL_NUMBER, NULL, 0);
        if (rc) H->ds_unref(*out);
    }
out:
    pp_prog_free(&g);
    for (int64_t q = 0; names && q < dout; q++) free(names[q]);
    free(names);
    free(src);
    free(which);
    free(tab);
    ohm_free(&o);
    return rc;
}

const wb_estimator_def pp_onehot_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "onehot",
    .doc = "one-hot encoding of category columns: island -> island=Biscoe, island=Dream, ... (scikit-learn's OneHotEncoder)",
    .kind = WB_EST_TRANSFORMER,
    .params = onehot_params,
    .nparams = sizeof onehot_params / sizeof onehot_params[0],
    .fit = onehot_fit,
    .transform = onehot_transform,
};

/* ---------------------------------------------------------------- ordinal */

static const wb_param_spec ordinal_params[] = {
    {.name = "handle_unknown", .types = WB_P_STR, .def = "error", .choices = "error|use_encoded_value",
     .doc = "a category not seen in training: an error naming the column and level, or unknown_value"},
    {.name = "unknown_value", .types = WB_P_NUM | WB_P_STR, .def = "-1", .min = -INFINITY, .max = INFINITY, .choices = "nan",
     .doc = "the code of unseen categories with handle_unknown = \"use_encoded_value\" (a number or \"nan\")"},
    {.name = "columns", .types = WB_P_LIST, .flags = WB_P_NULLABLE,
     .doc = "the columns to encode (names or 1-based indices); default: every category column"},
};

static int ordinal_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    int64_t *cols = NULL, n = 0, *L = NULL, *off = NULL;
    double *counts = NULL, *colv = NULL;
    if (H->ds_rows(d) == 0) return H->seterr(WB_EINVAL, "ordinal: the data has no rows");
    int rc = cat_columns(d, p, "ordinal", &cols, &n, &L);
    if (rc) return rc;
    if (n) rc = pp_code_counts(ex, d, cols, L, n, "ordinal", &counts, &off);
    wbc_buf cats = {0};
    if (!rc && !(colv = malloc((size_t)(n > 0 ? n : 1) * sizeof *colv))) rc = pp_oom("ordinal");
    wbc_put(&cats, "[", 1);
    for (int64_t k = 0; k < n && !rc; k++) {
        if (k) wbc_put(&cats, ",", 1);
        put_categories(&cats, d, cols[k], counts + off[k], L[k]);
        colv[k] = (double)cols[k] + 1;
    }
    wbc_put(&cats, "]", 1);
    if (!rc && cats.bad) rc = pp_oom("ordinal");
    if (!rc) rc = H->model_set_num(m, "n_features", (double)H->ds_cols(d));
    if (!rc) rc = H->model_set_array(m, "columns", colv, 1, n);
    if (!rc) rc = H->model_set_str(m, "categories", cats.p);
    free(cats.p);
    free(colv);
    free(counts);
    free(off);
    free(cols);
    free(L);
    return rc;
}

static int ordinal_apply(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out, int inverse)
{
    int64_t *cols = NULL, n = 0;
    int rc = pp_model_cols(m, d, "ordinal", &cols, &n);
    if (rc) return rc;
    wbc_jv *cats = pp_json_field(m, "categories", "ordinal");
    if (!cats) {
        free(cols);
        return WB_EFORMAT;
    }
    int ok = cats->type == WBC_J_ARR && cats->n == n;
    for (int64_t k = 0; ok && k < n; k++) ok = wbc_json_is_strings(&cats->items[k], -1, 1);
    if (!ok) {
        wbc_json_free(cats);
        free(cols);
        return H->seterr(WB_EFORMAT, "ordinal: the model's categories do not fit its columns");
    }
    const wb_params *p = H->model_params(m);
    const char *hu = H->param_str(p, "handle_unknown");
    const int use = hu && !strcmp(hu, "use_encoded_value");
    const double uv = H->param_type(p, "unknown_value") == WB_P_STR ? NAN : H->param_num(p, "unknown_value");
    const int64_t dc = H->ds_cols(d);
    int64_t *which = malloc((size_t)(dc > 0 ? dc : 1) * sizeof *which);
    int32_t *tab = NULL;
    pp_prog g;
    pp_prog_init(&g, dc, "ordinal", "handle_unknown = \"error\"");
    g.h.dout = dc;
    if (!which) rc = pp_oom("ordinal");
    for (int64_t j = 0; !rc && j < dc; j++) which[j] = -1;
    for (int64_t k = 0; !rc && k < n; k++) which[cols[k]] = k;
    for (int64_t j = 0; j < dc && !rc; j++) {
        const int64_t k = which[j];
        char b[32];
        const char *label = pp_label(d, j, b, sizeof b);
        if (k < 0) {
            pp_prog_op(&g, PP_COPY, j, j, NULL, 0);
            continue;
        }
        const wbc_jv *cv = &cats->items[k];
        free(tab);
        tab = NULL;
        if (inverse) {
            /* codes back to categories: checked to be codes 0..K-1 */
            if (H->ds_col_type(d, j) == WB_COL_CATEGORY) {
                rc = H->seterr(WB_EINVAL, "ordinal: column '%s' holds categories; inverse_transform takes codes", label);
                break;
            }
            tab = malloc((size_t)(cv->n > 0 ? cv->n : 1) * sizeof *tab);
            if (!tab) {
                rc = pp_oom("ordinal");
                break;
            }
            for (int64_t c = 0; c < cv->n; c++) tab[c] = (int32_t)c;
            pp_op *op = pp_prog_op(&g, PP_MAP, j, j, tab, cv->n);
            if (op) {
                op->a = NAN;
                op->name = pp_prog_str(&g, label);
            }
            continue;
        }
        if (H->ds_col_type(d, j) != WB_COL_CATEGORY) {
            rc = H->seterr(WB_EINVAL, "ordinal: column '%s' holds numbers in the data, categories when fitted", label);
            break;
        }
        const char **cs = wbc_json_strings(cv);
        int64_t nmap = 0;
        if (!cs || (rc = wbc_level_map(H, d, j, cs, cv->n, &tab, &nmap)) != 0) {
            free(cs);
            if (!rc) rc = pp_oom("ordinal");
            break;
        }
        free(cs);
        for (int64_t c = 0; c < nmap; c++)
            if (tab[c] < 0) tab[c] = use ? -1 : -2 - pp_prog_str(&g, H->ds_col_level(d, j, c));
        pp_op *op = pp_prog_op(&g, PP_MAP, j, j, tab, nmap);
        if (op) {
            op->a = NAN;
            op->b = uv;
            op->name = pp_prog_str(&g, label);
        }
    }
    if (!rc) rc = pp_prog_run(ex, &g, d, out);
    if (!rc) {
        rc = H->ds_copy_cols(*out, d, NULL, dc, 1);
        for (int64_t k = 0; k < n && !rc; k++) {
            const char **cs = inverse ? wbc_json_strings(&cats->items[k]) : NULL;
            if (inverse && !cs) rc = pp_oom("ordinal");
            else if (inverse) rc = H->ds_set_col(*out, cols[k], NULL, WB_COL_CATEGORY, cs, cats->items[k].n);
            else rc = H->ds_set_col(*out, cols[k], NULL, WB_COL_NUMBER, NULL, 0);
            free(cs);
        }
        if (rc) H->ds_unref(*out);
    }
    pp_prog_free(&g);
    free(tab);
    free(which);
    free(cols);
    wbc_json_free(cats);
    return rc;
}

static int ordinal_transform(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return ordinal_apply(ex, m, d, out, 0);
}

static int ordinal_inverse(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return ordinal_apply(ex, m, d, out, 1);
}

const wb_estimator_def pp_ordinal_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "ordinal",
    .doc = "category columns -> the index of each level among those seen in training, sorted (scikit-learn's OrdinalEncoder)",
    .kind = WB_EST_TRANSFORMER,
    .params = ordinal_params,
    .nparams = sizeof ordinal_params / sizeof ordinal_params[0],
    .fit = ordinal_fit,
    .transform = ordinal_transform,
    .inverse_transform = ordinal_inverse,
};
