/* host.c — the host table handed to plugins (wb/plugin.h): the versioned
 * table of function pointers through which a plugin registers what it
 * provides (only inside its wb_plugin_init), writes a kernel's output, runs
 * work on an executor, reads datasets, parameters and models, and reports
 * progress. Entries are the core's own functions or thin adapters to them. */
#include <stdarg.h>
#include <stdlib.h>

#include "internal.h"

/* the host table's registration entries: only inside wb_plugin_init */
static int check_loading(const char *what)
{
    if (wb__registry_owner() < 0) return wb_seterr(WB_ESTATE, "%s: only allowed inside wb_plugin_init", what);
    return 0;
}

static int h_register_kernel(const char *name, wb_kernel_fn fn)
{
    int rc = check_loading("register_kernel");
    return rc ? rc : wb_register_kernel(name, fn);
}
static int h_register_estimator(const wb_estimator_def *def)
{
    int rc = check_loading("register_estimator");
    return rc ? rc : wb_register_estimator(def);
}
static int h_register_source(const wb_source_def *def)
{
    int rc = check_loading("register_source");
    return rc ? rc : wb_register_source(def);
}
static int h_register_lua(const char *name, const char *source)
{
    int rc = check_loading("register_lua");
    return rc ? rc : wb_register_lua(name, source);
}

static int h_seterr(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wb_vseterr(code, fmt, ap);
    va_end(ap);
    return code;
}

static void *h_alloc(size_t n) { return malloc(n ? n : 1); }
static void h_free(void *p) { free(p); }

static int h_ds_from_parts(wb_exec *ex, const wb_oid *oids, int n, wb_dataset **out)
{
    wb_dspart *parts = calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
    if (!parts) return wb_seterr(WB_ENOMEM, "out of memory");
    int64_t cols = 0;
    int has_y = 0, rc = 0, refd = 0;
    for (int i = 0; i < n && !rc; i++) {
        wb_objstat st;
        rc = wb_exec_wait(ex, &oids[i], 1);
        if (!rc) rc = wb_exec_stat(ex, oids[i], &st);
        if (!rc && st.type != WB_OBJ_PART) rc = wb_seterr(WB_EINVAL, "object %d is not a partition", i);
        if (!rc && i > 0 && (st.cols != cols || st.has_y != has_y))
            rc = wb_seterr(WB_EINVAL, "partitions of different shapes (%lld vs %lld columns)",
                           (long long)st.cols, (long long)cols);
        if (rc) break;
        cols = st.cols;
        has_y = st.has_y;
        parts[i] = (wb_dspart){oids[i], st.rows, st.row0};
        rc = wb_exec_ref_obj(ex, oids[i]);
        if (!rc) refd++;
    }
    if (!rc) rc = wb_ds_new(ex, cols, has_y, n, parts, out);
    else
        for (int i = 0; i < refd; i++) wb_exec_release(ex, oids[i]);
    free(parts);
    return rc;
}

static int h_ds_labels(wb_exec *ex, const wb_dataset *d, double **out)
{
    WB_UNUSED(ex);
    return wb_ds_labels(d, out);
}

static int h_ds_check_finite(wb_exec *ex, const wb_dataset *d, const char *who)
{
    WB_UNUSED(ex);
    return wb_ds_check_finite(d, who ? who : "data");
}

static int h_ds_classes(wb_exec *ex, const wb_dataset *d, const char *who, int max_classes,
                        double **classes, int *nclasses)
{
    WB_UNUSED(ex);
    return wb_ds_classes(d, who ? who : "data", max_classes, classes, nclasses);
}

static int64_t h_ds_rows(const wb_dataset *d) { return d->n; }
static int64_t h_ds_cols(const wb_dataset *d) { return d->d; }
static int h_ds_nparts(const wb_dataset *d) { return d->nparts; }
static int h_ds_has_labels(const wb_dataset *d) { return d->has_labels; }
static int64_t h_ds_part_rows(const wb_dataset *d, int i)
{
    return i >= 0 && i < d->nparts ? d->parts[i].rows : 0;
}
static int64_t h_ds_part_row0(const wb_dataset *d, int i)
{
    return i >= 0 && i < d->nparts ? d->parts[i].row0 : 0;
}
static wb_oid h_ds_part_oid(const wb_dataset *d, int i)
{
    return i >= 0 && i < d->nparts ? d->parts[i].oid : 0;
}

/* columns */
static int64_t h_ds_col_nlevels(const wb_dataset *d, int64_t j)
{
    return wb_levels_count(wb_ds_col_levels(d, j));
}
static const char *h_ds_col_level(const wb_dataset *d, int64_t j, int64_t k)
{
    return wb_levels_at(wb_ds_col_levels(d, j), k);
}
static int64_t h_ds_label_nlevels(const wb_dataset *d) { return wb_levels_count(wb_ds_label_levels(d)); }
static const char *h_ds_label_level(const wb_dataset *d, int64_t k)
{
    return wb_levels_at(wb_ds_label_levels(d), k);
}
static int h_ds_set_col(wb_dataset *d, int64_t j, const char *name, int type, const char *const *levels,
                        int64_t nlevels)
{
    if (j < 0 || j >= d->d)
        return wb_seterr(WB_EINVAL, "column %lld out of range 1..%lld", (long long)j + 1, (long long)d->d);
    wb_levels *l = NULL;
    int rc = 0;
    if (type == WB_COL_CATEGORY) rc = wb_levels_new(levels, nlevels, &l);
    if (!rc && name) rc = wb_ds_set_colname(d, j, name);
    if (!rc) rc = wb_ds_set_coltype(d, j, type, l);
    wb_levels_unref(l);
    return rc;
}
static int h_ds_set_label(wb_dataset *d, const char *name, const char *const *levels, int64_t nlevels)
{
    wb_levels *l = NULL;
    int rc = nlevels > 0 ? wb_levels_new(levels, nlevels, &l) : 0;
    if (!rc) rc = wb_ds_set_label_meta(d, name, l);
    wb_levels_unref(l);
    return rc;
}
static int h_ds_copy_cols(wb_dataset *dst, const wb_dataset *src, const int64_t *cols, int64_t m, int labels_too)
{
    int rc = wb_ds_copy_cols(dst, src, cols, m);
    if (!rc && labels_too) rc = wb_ds_copy_label_meta(dst, src);
    return rc;
}

static int h_model_encode(const wb_model *m, void **data, size_t *size)
{
    wb_buf b = {0};
    int rc = wb_model_encode(m, &b);
    if (rc) {
        wb_buf_free(&b);
        return rc;
    }
    *data = b.p;
    *size = b.len;
    return 0;
}

static int h_model_decode(const void *data, size_t size, wb_model **out)
{
    return wb_model_decode(data, size, out);
}

static const wb_host host = {
    .abi = WB_PLUGIN_ABI,
    .size = sizeof(wb_host),
    .register_kernel = h_register_kernel,
    .register_estimator = h_register_estimator,
    .seterr = h_seterr,
    .errmsg = wb_errmsg,
    .log = wb_log,
    .alloc = h_alloc,
    .free = h_free,
    .out_bytes = wb__out_bytes,
    .out_part = wb__out_part,
    .cancelled = wb__cancelled,
    .kctx_exec = wb__kctx_exec,
    .put = wb_exec_put,
    .get = wb_exec_get,
    .release = wb_exec_release,
    .submit = wb_exec_submit,
    .wait = wb_exec_wait,
    .map = wb_exec_map,
    .map_dataset = wb_exec_map_dataset,
    .map_sum = wb_exec_map_sum,
    .parallelism = wb__parallelism,
    .ds_rows = h_ds_rows,
    .ds_cols = h_ds_cols,
    .ds_nparts = h_ds_nparts,
    .ds_has_labels = h_ds_has_labels,
    .ds_part_rows = h_ds_part_rows,
    .ds_part_row0 = h_ds_part_row0,
    .ds_part_oid = h_ds_part_oid,
    .ds_ref = wb_ds_ref,
    .ds_unref = wb_ds_unref,
    .ds_from_parts = h_ds_from_parts,
    .ds_labels = h_ds_labels,
    .param_has = wb_params_has,
    .param_int = wb_params_int,
    .param_num = wb_params_num,
    .param_bool = wb_params_bool,
    .param_str = wb_params_str,
    .param_array = wb_params_array,
    .param_type = wb_params_type,
    .model_params = wb_model_params,
    .model_set_num = wb_model_set_num,
    .model_set_str = wb_model_set_str,
    .model_set_array = wb_model_set_array,
    .model_has = NULL, /* set below */
    .model_num = wb_model_num,
    .model_str = wb_model_str,
    .model_array = wb_model_array,
    .model_encode = h_model_encode,
    .model_decode = h_model_decode,
    .model_free = wb_model_free,
    .progress = wb_progress,
    .estimator = wb_estimator_find,
    .fit = wb__fit,
    .now = wb_now,
    .register_source = h_register_source,
    .register_lua = h_register_lua,
    .ds_check_finite = h_ds_check_finite,
    .ds_classes = h_ds_classes,
    .kctx_input = wb__kctx_input,
    .ds_col_name = wb_ds_col_name,
    .ds_col_type = wb_ds_col_type,
    .ds_col_nlevels = h_ds_col_nlevels,
    .ds_col_level = h_ds_col_level,
    .ds_label_name = wb_ds_label_name,
    .ds_label_nlevels = h_ds_label_nlevels,
    .ds_label_level = h_ds_label_level,
    .ds_set_col = h_ds_set_col,
    .ds_set_label = h_ds_set_label,
    .ds_copy_cols = h_ds_copy_cols,
    .param_list = wb_params_list,
};

static int h_model_has(const wb_model *m, const char *name) { return wb_model_field_type(m, name) != 0; }

const wb_host *wb_host_table(void)
{
    static wb_host h;
    static int once;
    if (!once) {
        h = host;
        h.model_has = h_model_has;
        once = 1;
    }
    return &h;
}
