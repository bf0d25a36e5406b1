/* fit.c — fitting a model with a registered estimator (the host table's
 * fit, wb.fit): the parameters checked against the estimator's schema and
 * by its own check, then its fit; a failure without words gets a message
 * naming the estimator. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "wb/plugin_cols.h"

/* What a model remembers of the data it was fitted on, unless its estimator
 * set it: the column names (feature_names, JSON, null for an unnamed
 * column) when any column has one, and for estimators that learn from
 * labels the labels' name (label_name) and class names (label_levels, JSON:
 * code k of the labels is level k). Prediction names its output by them;
 * printouts and importances show the names. Models of data without names
 * gain nothing. */
static int record_schema(const wb_estimator_def *def, const wb_dataset *d, wb_model *m)
{
    int rc = 0, named = 0;
    for (int64_t j = 0; d->colnames && j < d->d && !named; j++) named = d->colnames[j] && d->colnames[j][0];
    if (named && !wb_model_field_type(m, "feature_names")) {
        const char **s = malloc((size_t)d->d * sizeof *s);
        if (!s) return wb_seterr(WB_ENOMEM, "out of memory");
        for (int64_t j = 0; j < d->d; j++) s[j] = d->colnames[j] && d->colnames[j][0] ? d->colnames[j] : NULL;
        char *j = wbc_json_list(s, d->d);
        free(s);
        rc = j ? wb_model_set_str(m, "feature_names", j) : wb_seterr(WB_ENOMEM, "out of memory");
        free(j);
    }
    if (rc || !def->needs_labels || !d->has_labels) return rc;
    if (d->label_name && d->label_name[0] && !wb_model_field_type(m, "label_name"))
        rc = wb_model_set_str(m, "label_name", d->label_name);
    int64_t L = wb_levels_count(d->label_levels);
    if (!rc && L > 0 && !wb_model_field_type(m, "label_levels")) {
        const char **s = malloc((size_t)L * sizeof *s);
        if (!s) return wb_seterr(WB_ENOMEM, "out of memory");
        for (int64_t k = 0; k < L; k++) s[k] = wb_levels_at(d->label_levels, k);
        char *j = wbc_json_list(s, L);
        free(s);
        rc = j ? wb_model_set_str(m, "label_levels", j) : wb_seterr(WB_ENOMEM, "out of memory");
        free(j);
    }
    return rc;
}

int wb__fit(wb_exec *ex, const char *estimator, const wb_dataset *d, const wb_params *in,
            wb_model **out)
{
    const wb_estimator_def *def = wb_estimator_find(estimator);
    if (!def) return wb_seterr(WB_ENOTFOUND, "no estimator named '%s'", estimator ? estimator : "");
    wb_params *p = NULL;
    int rc = wb_params_validate(def->name, def->params, def->nparams, in, &p);
    if (rc) return rc;
    if (!d || !ex) {
        wb_params_free(p);
        return wb_seterr(WB_EINVAL, "%s: no data to fit", def->name);
    }
    if (def->needs_labels && !d->has_labels) {
        wb_params_free(p);
        return wb_seterr(WB_EINVAL, "%s: the data has no labels", def->name);
    }
    if (def->check) wb_clearerr(); /* a check failing without words must not show a stale message */
    if (def->check && (rc = def->check(p, d)) != 0) {
        wb_params_free(p);
        if (rc > 0) rc = WB_EPARAM;
        if (!strncmp(wb_errmsg(), def->name, strlen(def->name))) return rc;
        return wb_preferr(rc, "%s", def->name);
    }
    wb_model *m = wb_model_new(def->name, p);
    wb_params_free(p);
    if (!m) return wb_seterr(WB_ENOMEM, "out of memory");
    wb_clearerr();
    double t0 = wb_now();
    rc = def->fit(ex, d, wb_model_params(m), m);
    if (rc) {
        wb_model_free(m);
        if (rc > 0) return wb_seterr(WB_EINTERNAL, "%s: fit returned %d", def->name, rc);
        if (!wb_errmsg()[0] || !strcmp(wb_errmsg(), wb_strerror(rc))) /* failed without words */
            return wb_seterr(rc, "%s: %s", def->name, wb_strerror(rc));
        return rc;
    }
    if ((rc = record_schema(def, d, m)) != 0) {
        wb_model_free(m);
        return rc;
    }
    /* a line in the dashboards' log (fits inside tasks, as grid search runs
     * them, are not: their tasks are in the task stream) */
    if (!wb__in_kernel)
        wb_log(WB_LOG_INFO, "%s: fitted on %lld rows x %lld columns in %.2f s", def->name, (long long)d->n,
               (long long)d->d, wb_now() - t0);
    *out = m;
    return 0;
}
