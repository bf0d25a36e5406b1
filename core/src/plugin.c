/* plugin.c — the plugin host: the versioned function table handed to plugins,
 * the registries of kernels, estimators, sources and Lua chunks, and the
 * loader (dlopen RTLD_NOW|RTLD_LOCAL; a plugin is refused with a message
 * naming the file and the reason). Registration is allowed only inside
 * wb_plugin_init; a plugin whose init fails leaves nothing registered. */
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifndef WB_PLUGIN_REL_DIR /* from the wb binary's folder to the installed plugins */
#define WB_PLUGIN_REL_DIR "../lib/wb/plugins"
#endif

/* ----------------------------------------------------------- registries */

typedef struct kentry {
    char *name;
    wb_kernel_fn fn;
    int owner; /* plugin index, -1 core */
} kentry;

typedef struct named {
    const void *def;
    char *name;
    char *source; /* lua chunks */
    int owner;
} named;

typedef struct plugin {
    char *path, *name, *version;
    void *handle;
} plugin;

static pthread_rwlock_t reg_lock = PTHREAD_RWLOCK_INITIALIZER;
static kentry *ktab; /* open addressing by name */
static size_t kcap, kcount;
static named *ests, *srcs, *chunks;
static int nests, nsrcs, nchunks, cap_ests, cap_srcs, cap_chunks;
static plugin *plugins;
static int nplugins, cap_plugins;
/* inside a wb_plugin_init on this thread (registration from any other thread,
 * or later, is refused); loads are serialized by load_lock */
static _Thread_local int loading = 0;
static _Thread_local int cur_owner = -1;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static char exe_dir[4096];

static size_t hstr(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return (size_t)h;
}

static int kgrow(void)
{
    size_t cap = kcap ? kcap * 2 : 256;
    kentry *t = calloc(cap, sizeof *t);
    if (!t) return WB_ENOMEM;
    for (size_t i = 0; i < kcap; i++) {
        if (!ktab[i].name) continue;
        size_t j = hstr(ktab[i].name) & (cap - 1);
        while (t[j].name) j = (j + 1) & (cap - 1);
        t[j] = ktab[i];
    }
    free(ktab);
    ktab = t;
    kcap = cap;
    return 0;
}

static kentry *kfind(const char *name)
{
    if (!kcap || !name) return NULL;
    size_t j = hstr(name) & (kcap - 1);
    while (ktab[j].name) {
        if (strcmp(ktab[j].name, name) == 0) return &ktab[j];
        j = (j + 1) & (kcap - 1);
    }
    return NULL;
}

static int valid_name(const char *name)
{
    if (!name || !*name || strlen(name) > 128) return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return 0;
    return 1;
}

static int valid_version(const char *v)
{
    size_t n = strlen(v);
    return n >= 1 && n <= 128 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") == n;
}

/* the host table's registration entries: only inside wb_plugin_init */
static int check_loading(const char *what)
{
    if (!loading) return wb_seterr(WB_ESTATE, "%s: only allowed inside wb_plugin_init", what);
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

int wb_register_kernel(const char *name, wb_kernel_fn fn)
{
    if (!valid_name(name) || !fn)
        return wb_seterr(WB_EINVAL, "register_kernel: bad kernel name '%s'", name ? name : "(null)");
    pthread_rwlock_wrlock(&reg_lock);
    if (kfind(name)) {
        pthread_rwlock_unlock(&reg_lock);
        return wb_seterr(WB_EEXIST, "register_kernel: a kernel named '%s' exists", name);
    }
    if ((kcount + 1) * 2 > kcap && kgrow()) {
        pthread_rwlock_unlock(&reg_lock);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    size_t j = hstr(name) & (kcap - 1);
    while (ktab[j].name) j = (j + 1) & (kcap - 1);
    ktab[j].name = wb_strdup(name);
    ktab[j].fn = fn;
    ktab[j].owner = cur_owner;
    kcount++;
    pthread_rwlock_unlock(&reg_lock);
    return 0;
}

wb_kernel_fn wb_kernel_find(const char *name)
{
    pthread_rwlock_rdlock(&reg_lock);
    kentry *e = kfind(name);
    wb_kernel_fn fn = e ? e->fn : NULL;
    pthread_rwlock_unlock(&reg_lock);
    return fn;
}

int wb_kernel_count(void) { return (int)kcount; }

const char *wb_kernel_name_at(int i)
{
    for (size_t j = 0; j < kcap; j++)
        if (ktab[j].name && i-- == 0) return ktab[j].name;
    return NULL;
}

static int push_named(named **arr, int *n, int *cap, named v)
{
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 16;
        named *p = realloc(*arr, (size_t)c * sizeof *p);
        if (!p) return WB_ENOMEM;
        *arr = p;
        *cap = c;
    }
    (*arr)[(*n)++] = v;
    return 0;
}

static const named *find_named(const named *arr, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(arr[i].name, name) == 0) return &arr[i];
    return NULL;
}

/* defaults must satisfy their own schema: a plugin author's mistake is caught
 * at load time, not at a user's first call */
static int check_schema(const char *who, const wb_param_spec *spec, int n)
{
    if (n < 0 || (n > 0 && !spec)) return wb_seterr(WB_EINVAL, "%s: bad parameter list", who);
    for (int i = 0; i < n; i++) {
        if (!valid_name(spec[i].name) || !spec[i].types)
            return wb_seterr(WB_EINVAL, "%s: parameter %d has no name or type", who, i);
        for (int j = 0; j < i; j++)
            if (strcmp(spec[i].name, spec[j].name) == 0)
                return wb_seterr(WB_EINVAL, "%s: parameter '%s' listed twice", who, spec[i].name);
    }
    /* each entry on its own: a required parameter (no default) must not hide
     * a bad default further down the list */
    for (int i = 0; i < n; i++) {
        if ((spec[i].types & (WB_P_INT | WB_P_NUM)) &&
            (isnan(spec[i].min) || isnan(spec[i].max) || spec[i].min > spec[i].max))
            return wb_seterr(WB_EINVAL, "%s: parameter '%s' has an empty range", who, spec[i].name);
        if (!spec[i].def) continue;
        wb_params *out = NULL;
        int rc = wb_params_validate(who, &spec[i], 1, NULL, &out);
        wb_params_free(out);
        if (rc) return wb_preferr(rc, "bad default");
    }
    return 0;
}

int wb_register_estimator(const wb_estimator_def *def)
{
    int rc = 0;
    if (!def || def->version != WB_ESTIMATOR_V1)
        return wb_seterr(WB_EABI, "register_estimator: descriptor version %u, host knows %d",
                         def ? def->version : 0, WB_ESTIMATOR_V1);
    if (!valid_name(def->name) || !def->fit)
        return wb_seterr(WB_EINVAL, "register_estimator: needs a name and a fit function");
    if ((rc = check_schema(def->name, def->params, def->nparams)) != 0) return rc;
    pthread_rwlock_wrlock(&reg_lock);
    if (find_named(ests, nests, def->name)) {
        pthread_rwlock_unlock(&reg_lock);
        return wb_seterr(WB_EEXIST, "register_estimator: an estimator named '%s' exists", def->name);
    }
    rc = push_named(&ests, &nests, &cap_ests, (named){def, wb_strdup(def->name), NULL, cur_owner});
    pthread_rwlock_unlock(&reg_lock);
    return rc ? wb_seterr(rc, "out of memory") : 0;
}

int wb_register_source(const wb_source_def *def)
{
    int rc = 0;
    if (!def || def->version != WB_SOURCE_V1)
        return wb_seterr(WB_EABI, "register_source: descriptor version %u, host knows %d",
                         def ? def->version : 0, WB_SOURCE_V1);
    if (!valid_name(def->name) || !def->make || !def->cols)
        return wb_seterr(WB_EINVAL, "register_source: needs a name, make and cols");
    int has_n = 0;
    for (int i = 0; i < def->nparams; i++)
        if (def->params && strcmp(def->params[i].name, "n") == 0) has_n = 1;
    if (!has_n) return wb_seterr(WB_EINVAL, "register_source: '%s' has no parameter 'n'", def->name);
    if ((rc = check_schema(def->name, def->params, def->nparams)) != 0) return rc;
    pthread_rwlock_wrlock(&reg_lock);
    if (find_named(srcs, nsrcs, def->name)) {
        pthread_rwlock_unlock(&reg_lock);
        return wb_seterr(WB_EEXIST, "register_source: a source named '%s' exists", def->name);
    }
    rc = push_named(&srcs, &nsrcs, &cap_srcs, (named){def, wb_strdup(def->name), NULL, cur_owner});
    pthread_rwlock_unlock(&reg_lock);
    return rc ? wb_seterr(rc, "out of memory") : 0;
}

int wb_register_lua(const char *name, const char *source)
{
    int rc = 0;
    if (!name || !*name || !source) return wb_seterr(WB_EINVAL, "register_lua: needs a name and source");
    pthread_rwlock_wrlock(&reg_lock);
    rc = push_named(&chunks, &nchunks, &cap_chunks,
                    (named){NULL, wb_strdup(name), wb_strdup(source), cur_owner});
    pthread_rwlock_unlock(&reg_lock);
    return rc ? wb_seterr(rc, "out of memory") : 0;
}

const wb_estimator_def *wb_estimator_find(const char *name)
{
    pthread_rwlock_rdlock(&reg_lock);
    const named *e = name ? find_named(ests, nests, name) : NULL;
    const wb_estimator_def *d = e ? e->def : NULL;
    pthread_rwlock_unlock(&reg_lock);
    return d;
}
int wb_estimator_count(void) { return nests; }
const wb_estimator_def *wb_estimator_at(int i) { return i >= 0 && i < nests ? ests[i].def : NULL; }

const wb_source_def *wb_source_find(const char *name)
{
    pthread_rwlock_rdlock(&reg_lock);
    const named *e = name ? find_named(srcs, nsrcs, name) : NULL;
    const wb_source_def *d = e ? e->def : NULL;
    pthread_rwlock_unlock(&reg_lock);
    return d;
}
int wb_source_count(void) { return nsrcs; }
const wb_source_def *wb_source_at(int i) { return i >= 0 && i < nsrcs ? srcs[i].def : NULL; }

int wb_luachunk_count(void) { return nchunks; }
int wb_luachunk_at(int i, const char **name, const char **source)
{
    if (i < 0 || i >= nchunks) return WB_ENOTFOUND;
    *name = chunks[i].name;
    *source = chunks[i].source;
    return 0;
}

/* delete slot i of the kernel table (linear probing, backward shift: no
 * tombstones, no allocation, so it cannot fail half-way) */
static void kdelete_at(size_t i)
{
    size_t mask = kcap - 1, j = i;
    free(ktab[i].name);
    ktab[i].name = NULL;
    kcount--;
    for (;;) {
        j = (j + 1) & mask;
        if (!ktab[j].name) break;
        size_t k = hstr(ktab[j].name) & mask;
        /* entry j may move to the hole i unless its home k lies cyclically in (i, j] */
        int stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            ktab[i] = ktab[j];
            ktab[j].name = NULL;
            i = j;
        }
    }
}

/* remove everything a plugin registered (its init failed) */
static void unregister_owner(int owner)
{
    pthread_rwlock_wrlock(&reg_lock);
    for (int again = 1; again;) {
        again = 0;
        for (size_t j = 0; j < kcap; j++)
            if (ktab[j].name && ktab[j].owner == owner) {
                kdelete_at(j);
                again = 1;
            }
    }
    named **arrs[3] = {&ests, &srcs, &chunks};
    int *ns[3] = {&nests, &nsrcs, &nchunks};
    for (int a = 0; a < 3; a++) {
        int w = 0;
        for (int i = 0; i < *ns[a]; i++) {
            named *e = &(*arrs[a])[i];
            if (e->owner == owner) {
                free(e->name);
                free(e->source);
                continue;
            }
            (*arrs[a])[w++] = *e;
        }
        *ns[a] = w;
    }
    pthread_rwlock_unlock(&reg_lock);
}

/* ------------------------------------------------------ progress and logs */

static wb_progress_fn progress_sink;
static wb_log_fn log_sink;

void wb_set_progress(wb_progress_fn fn) { progress_sink = fn; }
_Thread_local int wb__in_kernel;
void wb_progress(const char *stage, double done, double total, const char *info)
{
    if (progress_sink && !wb__in_kernel) progress_sink(stage, done, total, info);
}
void wb_set_log(wb_log_fn fn) { log_sink = fn; }

static void vlog(int level, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (log_sink)
        log_sink(level, msg);
    else if (level >= WB_LOG_WARN)
        fprintf(stderr, "wb: %s: %s\n", level >= WB_LOG_ERROR ? "error" : "warning", msg);
}

void wb_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
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

/* ------------------------------------------------------------- the loader */

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
    rc = def->fit(ex, d, wb_model_params(m), m);
    if (rc) {
        wb_model_free(m);
        if (rc > 0) return wb_seterr(WB_EINTERNAL, "%s: fit returned %d", def->name, rc);
        if (!wb_errmsg()[0] || !strcmp(wb_errmsg(), wb_strerror(rc))) /* failed without words */
            return wb_seterr(rc, "%s: %s", def->name, wb_strerror(rc));
        return rc;
    }
    *out = m;
    return 0;
}

void wb_plugin_set_exe_dir(const char *dir)
{
    snprintf(exe_dir, sizeof exe_dir, "%s", dir ? dir : "");
}

const char *wb_plugin_search_path(void)
{
    static char buf[16384];
    const char *env = getenv("WB_PLUGIN_PATH");
    snprintf(buf, sizeof buf, "%s%s%s/plugins:%s/%s:%s", env ? env : "", env && *env ? ":" : "",
             exe_dir, exe_dir, WB_PLUGIN_REL_DIR, WB_PLUGIN_INSTALL_DIR);
    return buf;
}

int wb_plugin_count(void) { return nplugins; }

int wb_plugin_info_at(int i, const char **name, const char **version, const char **path)
{
    if (i < 0 || i >= nplugins) return WB_ENOTFOUND;
    if (name) *name = plugins[i].name;
    if (version) *version = plugins[i].version;
    if (path) *path = plugins[i].path;
    return 0;
}

static int load_locked(const char *path);

int wb_plugin_load(const char *path)
{
    if (!path || !*path) return wb_seterr(WB_EINVAL, "plugin: no path given");
    if (loading) return wb_seterr(WB_ESTATE, "plugin %s: cannot load from inside a plugin", path);
    pthread_mutex_lock(&load_lock);
    int rc = load_locked(path);
    pthread_mutex_unlock(&load_lock);
    return rc;
}

static int load_locked(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        return wb_seterr(WB_ENOTFOUND, "plugin %s: cannot open: %s", path, e ? e : "unknown error");
    }
    const wb_plugin_desc *info = dlsym(h, "wb_plugin_info");
    int (*init)(const wb_host *) = (int (*)(const wb_host *))dlsym(h, "wb_plugin_init");
    if (!info || !init) {
        dlclose(h);
        return wb_seterr(WB_EABI, "plugin %s: missing symbol '%s' (declare it with WB_PLUGIN(name, version))",
                         path, !info ? "wb_plugin_info" : "wb_plugin_init");
    }
    if (info->abi > WB_PLUGIN_ABI || info->abi == 0) {
        int abi = (int)info->abi;
        dlclose(h);
        return wb_seterr(WB_EABI, "plugin %s: plugin ABI %d, host %d", path, abi, WB_PLUGIN_ABI);
    }
    if (!info->name || !valid_name(info->name)) {
        dlclose(h);
        return wb_seterr(WB_EABI, "plugin %s: bad plugin name", path);
    }
    /* the version travels in the cluster's handshakes: the same characters as names (and '+') */
    if (!info->version || !valid_version(info->version)) {
        char v[160];
        snprintf(v, sizeof v, "%.128s", info->version ? info->version : "(null)");
        dlclose(h);
        return wb_seterr(WB_EABI, "plugin %s: bad version '%s' (1 to 128 characters of A-Z a-z 0-9 _ . + -)", path, v);
    }
    for (int i = 0; i < nplugins; i++)
        if (strcmp(plugins[i].name, info->name) == 0) {
            char name[256];
            snprintf(name, sizeof name, "%s", info->name);
            dlclose(h);
            return wb_seterr(WB_EEXIST, "plugin %s: a plugin named '%s' is already loaded from %s",
                             path, name, plugins[i].path);
        }
    if (nplugins == cap_plugins) {
        int c = cap_plugins ? cap_plugins * 2 : 16;
        plugin *p = realloc(plugins, (size_t)c * sizeof *p);
        if (!p) {
            dlclose(h);
            return wb_seterr(WB_ENOMEM, "out of memory");
        }
        plugins = p;
        cap_plugins = c;
    }
    int owner = nplugins;
    loading = 1;
    cur_owner = owner;
    wb_clearerr();
    int rc = init(wb_host_table());
    loading = 0;
    cur_owner = -1;
    if (rc != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", wb_errmsg()[0] ? wb_errmsg() : "no reason given");
        unregister_owner(owner);
        dlclose(h);
        return wb_seterr(rc < 0 ? rc : WB_EINVAL, "plugin %s: init failed: %s", path, msg);
    }
    plugins[nplugins++] = (plugin){wb_strdup(path), wb_strdup(info->name),
                                   wb_strdup(info->version), h};
    return 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every *.so in one folder, in name order; a plugin already loaded by name is skipped */
static int load_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".so") != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) break;
            names = p;
        }
        names[n++] = wb_strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmpstr);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int r = wb_plugin_load(path);
        if (r == 0)
            (*count)++;
        else if (r != WB_EEXIST && !rc)
            rc = r;
        else if (r == WB_EEXIST)
            wb_clearerr();
        free(names[i]);
    }
    free(names);
    return rc;
}

int wb_plugin_load_default(void)
{
    char *path = wb_strdup(wb_plugin_search_path());
    int count = 0, rc = 0;
    char msg[1024] = "";
    for (char *save = NULL, *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        if (!*dir) continue;
        int r = load_dir(dir, &count);
        if (r && !rc) {
            rc = r;
            snprintf(msg, sizeof msg, "%s", wb_errmsg());
        }
    }
    free(path);
    if (rc) return wb_seterr(rc, "%s", msg);
    return count;
}

void wb_core_init(void)
{
    static int done;
    if (done) return;
    done = 1;
    wb__register_core_kernels();
    wb__register_io_kernels();
}
