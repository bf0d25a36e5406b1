/* impute.c — missing values filled per column (scikit-learn's SimpleImputer):
 * the mean, the median, the most frequent value or a constant, learned from
 * the training rows. Category columns take most_frequent or constant (a
 * level, added to the column's levels when it is new); add_indicator appends
 * a 0/1 column "<name>=NA" for every imputed column that had missing values
 * in the training rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"

static const wb_param_spec impute_params[] = {
    {.name = "strategy", .types = WB_P_STR, .def = "mean", .choices = "mean|median|most_frequent|constant",
     .doc = "the fill value of a column: the mean or median of its values, its most frequent value (numbers or "
            "categories), or fill_value"},
    {.name = "fill_value", .types = WB_P_NUM | WB_P_STR, .min = -INFINITY, .max = INFINITY, .flags = WB_P_NULLABLE,
     .doc = "strategy constant: the value (default 0 for number columns, \"missing_value\" for category columns)"},
    {.name = "add_indicator", .types = WB_P_BOOL, .def = "false",
     .doc = "append a 0/1 column <name>=NA for each imputed column with missing values in the training rows"},
    {.name = "columns", .types = WB_P_LIST, .flags = WB_P_NULLABLE,
     .doc = "the columns to impute (names or 1-based indices); default: every number column"},
};

/* fill_value as the text of a level */
static void fill_text(const wb_params *p, char *buf, size_t len)
{
    if (H->param_type(p, "fill_value") == WB_P_STR) snprintf(buf, len, "%s", H->param_str(p, "fill_value"));
    else if (H->param_has(p, "fill_value")) snprintf(buf, len, "%.17g", H->param_num(p, "fill_value"));
    else snprintf(buf, len, "missing_value");
}

static int impute_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    const char *strategy = H->param_str(p, "strategy");
    const int mean = !strcmp(strategy, "mean"), median = !strcmp(strategy, "median"),
              frequent = !strcmp(strategy, "most_frequent"), constant = !strcmp(strategy, "constant");
    const int indicator = H->param_bool(p, "add_indicator");
    int64_t *cols = NULL, n = 0, ncat = 0;
    if (H->ds_rows(d) == 0) return H->seterr(WB_EINVAL, "impute: the data has no rows");
    int rc = wbc_select(H, d, p, "columns", WB_COL_NUMBER, "impute", &cols, &n);
    if (rc) return rc;
    double *stat = calloc((size_t)(n > 0 ? n : 1), sizeof *stat), *miss = calloc((size_t)(n > 0 ? n : 1), sizeof *miss);
    char **fill = calloc((size_t)(n > 0 ? n : 1), sizeof *fill);
    int64_t *ccols = malloc((size_t)(n > 0 ? n : 1) * sizeof *ccols), *ncols = malloc((size_t)(n > 0 ? n : 1) * sizeof *ncols);
    int64_t *L = malloc((size_t)(n > 0 ? n : 1) * sizeof *L);
    double *st = NULL, *counts = NULL;
    int64_t *off = NULL, nnum = 0, nmed = 0, *at_med = malloc((size_t)(n > 0 ? n : 1) * sizeof *at_med);
    int64_t *med_n = malloc((size_t)(n > 0 ? n : 1) * sizeof *med_n);
    if (!stat || !miss || !fill || !ccols || !ncols || !L || !at_med || !med_n) {
        rc = pp_oom("impute");
        goto out;
    }
    for (int64_t k = 0; k < n; k++) {
        if (H->ds_col_type(d, cols[k]) == WB_COL_CATEGORY) {
            char b[32];
            if (mean || median) {
                rc = H->seterr(WB_EPARAM,
                               "impute: strategy \"%s\" needs numbers; column '%s' holds categories (use most_frequent or constant)",
                               strategy, pp_label(d, cols[k], b, sizeof b));
                goto out;
            }
            L[ncat] = H->ds_col_nlevels(d, cols[k]);
            ccols[ncat++] = cols[k];
        } else {
            if (constant && H->param_type(p, "fill_value") == WB_P_STR) {
                char b[32];
                rc = H->seterr(WB_EPARAM, "impute: fill_value \"%.100s\" is text; column '%s' holds numbers",
                               H->param_str(p, "fill_value"), pp_label(d, cols[k], b, sizeof b));
                goto out;
            }
            ncols[nnum++] = cols[k];
        }
    }
    /* numbers: valid rows, sums, missing rows, infinities */
    if ((rc = pp_num_stats(ex, d, ncols, nnum, &st)) != 0) goto out;
    if (ncat && (rc = pp_code_counts(ex, d, ccols, L, ncat, "impute", &counts, &off)) != 0) goto out;
    for (int64_t k = 0, a = 0, c = 0; k < n; k++) {
        char b[32];
        const char *name = pp_label(d, cols[k], b, sizeof b);
        if (H->ds_col_type(d, cols[k]) == WB_COL_CATEGORY) {
            const double *cnt = counts + off[c];
            const int64_t Lc = L[c++];
            miss[k] = cnt[Lc];
            stat[k] = NAN;
            char text[512];
            const char *lev = NULL;
            if (frequent) {
                int64_t best = -1;
                for (int64_t q = 0; q < Lc; q++)
                    if (cnt[q] > 0 && (best < 0 || cnt[q] > cnt[best])) best = q;
                if (best < 0) {
                    rc = H->seterr(WB_EINVAL, "impute: column '%s' has no values in the training rows", name);
                    goto out;
                }
                lev = H->ds_col_level(d, cols[k], best);
            } else {
                fill_text(p, text, sizeof text);
                lev = text;
            }
            if (!(fill[k] = strdup(lev ? lev : ""))) {
                rc = pp_oom("impute");
                goto out;
            }
            continue;
        }
        const double *s = st + 4 * a++;
        miss[k] = s[2];
        if (s[3] > 0) {
            rc = H->seterr(WB_EINVAL, "impute: column '%s' has Inf in %.0f rows (impute fills missing values, NaN)", name, s[3]);
            goto out;
        }
        if (constant) {
            stat[k] = H->param_has(p, "fill_value") ? H->param_num(p, "fill_value") : 0;
            continue;
        }
        if (s[0] < 1) {
            rc = H->seterr(WB_EINVAL, "impute: column '%s' has no values in the training rows (strategy \"%s\")", name, strategy);
            goto out;
        }
        if (mean) stat[k] = s[1] / s[0];
        else if (median) {
            at_med[nmed] = k; /* the medians below, all together */
            med_n[nmed++] = (int64_t)s[0];
        } else if ((rc = pp_mode(ex, d, cols[k], &stat[k])) != 0)
            goto out;
    }
    if (nmed) {
        double *med = malloc((size_t)nmed * sizeof *med);
        int64_t *med_cols = malloc((size_t)nmed * sizeof *med_cols);
        for (int64_t q = 0; med_cols && q < nmed; q++) med_cols[q] = cols[at_med[q]];
        rc = med && med_cols ? pp_medians(ex, d, med_cols, med_n, nmed, med) : pp_oom("impute");
        free(med_cols);
        for (int64_t q = 0; !rc && q < nmed; q++) stat[at_med[q]] = med[q];
        free(med);
        if (rc) goto out;
    }
    rc = H->model_set_array(m, "statistics", stat, 1, n);
    if (!rc && ncat) {
        char *j = wbc_json_list((const char *const *)fill, n);
        rc = j ? H->model_set_str(m, "fill_levels", j) : pp_oom("impute");
        free(j);
    }
    if (!rc && indicator) {
        int64_t q = 0;
        for (int64_t k = 0; k < n; k++)
            if (miss[k] > 0) stat[q++] = (double)cols[k] + 1;
        rc = H->model_set_array(m, "indicator_columns", stat, 1, q);
    }
    if (!rc) rc = H->model_set_array(m, "missing", miss, 1, n);
    if (!rc) rc = H->model_set_num(m, "n_features", (double)H->ds_cols(d));
    if (!rc) {
        for (int64_t k = 0; k < n; k++) stat[k] = (double)cols[k] + 1;
        rc = H->model_set_array(m, "columns", stat, 1, n);
    }
out:
    for (int64_t k = 0; fill && k < n; k++) free(fill[k]);
    free(fill);
    free(stat);
    free(miss);
    free(ccols);
    free(ncols);
    free(L);
    free(at_med);
    free(med_n);
    free(st);
    free(counts);
    free(off);
    free(cols);
    return rc;
}

static int impute_transform(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    int64_t *cols = NULL, n = 0, r, c, ir = 0, ic = 0;
    int rc = pp_model_cols(m, d, "impute", &cols, &n);
    if (rc) return rc;
    const double *stat = H->model_array(m, "statistics", &r, &c);
    const double *ind = H->model_array(m, "indicator_columns", &ir, &ic);
    wbc_jv *fl = NULL;
    if (!stat || r * c != n) {
        free(cols);
        return H->seterr(WB_EFORMAT, "impute: the model's statistics do not fit its columns");
    }
    if (H->model_has(m, "fill_levels") && (!(fl = pp_json_field(m, "fill_levels", "impute")) || fl->type != WBC_J_ARR || fl->n != n)) {
        wbc_json_free(fl);
        free(cols);
        return H->seterr(WB_EFORMAT, "impute: the model's fill_levels do not fit its columns");
    }
    if (H->model_has(m, "indicator_columns") && !ind) {
        free(cols);
        return H->seterr(WB_EFORMAT, "impute: the model's indicator_columns are malformed");
    }
    const int64_t dc = H->ds_cols(d), q = ir * ic, dout = dc + q;
    int64_t *which = malloc((size_t)(dc > 0 ? dc : 1) * sizeof *which), *src = malloc((size_t)(dout > 0 ? dout : 1) * sizeof *src);
    char **names = calloc((size_t)(dout > 0 ? dout : 1), sizeof *names);
    const char ***levels = calloc((size_t)(dc > 0 ? dc : 1), sizeof *levels);
    int64_t *nlev = calloc((size_t)(dc > 0 ? dc : 1), sizeof *nlev);
    int32_t *tab = NULL;
    pp_prog g;
    pp_prog_init(&g, dc, "impute", NULL);
    g.h.dout = dout;
    if (!which || !src || !names || !levels || !nlev) {
        rc = pp_oom("impute");
        goto out;
    }
    for (int64_t j = 0; j < dc; j++) which[j] = -1;
    for (int64_t k = 0; k < n; k++) which[cols[k]] = k;
    for (int64_t j = 0; j < dc && !rc; j++) {
        const int64_t k = which[j];
        char b[32];
        const char *label = pp_label(d, j, b, sizeof b);
        src[j] = j;
        if (k < 0) {
            pp_prog_op(&g, PP_COPY, j, j, NULL, 0);
            continue;
        }
        const int cat = H->ds_col_type(d, j) == WB_COL_CATEGORY;
        const wbc_jv *f = fl ? &fl->items[k] : NULL;
        if (cat != (f && f->type == WBC_J_STR) || (!cat && f && f->type != WBC_J_NULL)) {
            rc = H->seterr(WB_EINVAL, "impute: column '%s' holds %s in the data, %s when fitted", label,
                           cat ? "categories" : "numbers", cat ? "numbers" : "categories");
            break;
        }
        if (!cat) {
            pp_op *o = pp_prog_op(&g, PP_FILL, j, j, NULL, 0);
            if (o) o->a = stat[k];
            continue;
        }
        /* a category column: the fill level, added to the levels when new */
        const int64_t Lj = H->ds_col_nlevels(d, j);
        int64_t at = 0, found = -1;
        for (; at < Lj; at++) {
            int cmp = strcmp(H->ds_col_level(d, j, at), f->s);
            if (!cmp) found = at;
            if (cmp >= 0) break;
        }
        if (found >= 0) {
            pp_op *o = pp_prog_op(&g, PP_FILL, j, j, NULL, 0);
            if (o) o->a = (double)found;
            continue;
        }
        free(tab);
        tab = malloc((size_t)(Lj > 0 ? Lj : 1) * sizeof *tab);
        levels[j] = malloc((size_t)(Lj + 1) * sizeof *levels[j]);
        if (!tab || !levels[j]) {
            rc = pp_oom("impute");
            break;
        }
        for (int64_t c2 = 0; c2 < Lj; c2++) {
            tab[c2] = (int32_t)(c2 < at ? c2 : c2 + 1);
            levels[j][tab[c2]] = H->ds_col_level(d, j, c2);
        }
        levels[j][at] = f->s;
        nlev[j] = Lj + 1;
        pp_op *o = pp_prog_op(&g, PP_MAP, j, j, tab, Lj);
        if (o) o->a = (double)at;
    }
    for (int64_t i = 0; i < q && !rc; i++) {
        double v = ind[i];
        if (!(v >= 1 && v <= (double)dc && v == floor(v)) || which[(int64_t)v - 1] < 0) {
            rc = H->seterr(WB_EFORMAT, "impute: the model's indicator_columns are malformed");
            break;
        }
        int64_t j = (int64_t)v - 1;
        char b[32], nm[1100];
        snprintf(nm, sizeof nm, "%.1000s=NA", pp_label(d, j, b, sizeof b));
        src[dc + i] = j;
        if (!(names[dc + i] = strdup(nm))) rc = pp_oom("impute");
        pp_prog_op(&g, PP_MISSING, j, dc + i, NULL, 0);
    }
    if (!rc) rc = pp_prog_run(ex, &g, d, out);
    if (!rc) {
        rc = H->ds_copy_cols(*out, d, src, dout, 1);
        for (int64_t j = 0; j < dc && !rc; j++)
            if (levels[j]) rc = H->ds_set_col(*out, j, NULL, WB_COL_CATEGORY, levels[j], nlev[j]);
        for (int64_t o = dc; o < dout && !rc; o++) rc = H->ds_set_col(*out, o, names[o], WB_COL_NUMBER, NULL, 0);
        if (rc) H->ds_unref(*out);
    }
out:
    pp_prog_free(&g);
    for (int64_t j = 0; levels && j < dc; j++) free(levels[j]);
    for (int64_t o = 0; names && o < dout; o++) free(names[o]);
    free(levels);
    free(names);
    free(nlev);
    free(tab);
    free(which);
    free(src);
    free(cols);
    wbc_json_free(fl);
    return rc;
}

const wb_estimator_def pp_impute_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "impute",
    .doc = "missing values filled per column: mean, median, most frequent or a constant (scikit-learn's SimpleImputer)",
    .kind = WB_EST_TRANSFORMER,
    .params = impute_params,
    .nparams = sizeof impute_params / sizeof impute_params[0],
    .fit = impute_fit,
    .transform = impute_transform,
};
