/* registry.c — the registries of what the core and the plugins provide:
 * kernels (a hash table by name: kernels are looked up for every task),
 * estimators, data sources and Lua chunks (lists, in registration order).
 * Each entry remembers its owner, the plugin being initialized when it was
 * registered (-1: the core), so a plugin whose init fails leaves nothing
 * behind. Descriptors are checked when registered: names, versions, and
 * parameter schemas whose defaults must satisfy them. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

static pthread_rwlock_t reg_lock = PTHREAD_RWLOCK_INITIALIZER;
static kentry *ktab; /* open addressing by name */
static size_t kcap, kcount;
static named *ests, *srcs, *chunks;
static int nests, nsrcs, nchunks, cap_ests, cap_srcs, cap_chunks;
/* the plugin whose wb_plugin_init runs on this thread (its index; -1: none,
 * registration by the core itself) */
static _Thread_local int cur_owner = -1;

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

int wb__valid_name(const char *name)
{
    if (!name || !*name || strlen(name) > 128) return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return 0;
    return 1;
}

void wb__registry_set_owner(int owner) { cur_owner = owner; }
int wb__registry_owner(void) { return cur_owner; }

int wb_register_kernel(const char *name, wb_kernel_fn fn)
{
    if (!wb__valid_name(name) || !fn)
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
        if (!wb__valid_name(spec[i].name) || !spec[i].types)
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
    if (!wb__valid_name(def->name) || !def->fit)
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
    if (!wb__valid_name(def->name) || !def->make || !def->cols)
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

void wb__registry_drop(int owner)
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
