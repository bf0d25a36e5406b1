/*
 * wb/plugin.h — the one header a wb plugin author needs.
 *
 * A plugin is a shared object that exports two symbols:
 *
 *   WB_PLUGIN("name", "1.0");                     // data symbol wb_plugin_info
 *   int wb_plugin_init(const wb_host *host) { ... } // registration happens here
 *
 * The plugin does not link against the wb core. Everything it calls comes from
 * the versioned function table `wb_host` handed to wb_plugin_init. New entries
 * are only ever appended to that table, so a plugin built for an older ABI keeps
 * working; a plugin built for a newer ABI than the host is refused. A plugin
 * that calls an entry newer than the oldest host it supports tests for it first
 * with WB_HOST_HAS(host, entry) (see "Versions" below).
 *
 * Every plugin of wb keeps the table under one name, `H` (a `const wb_host *`
 * set first thing in wb_plugin_init). A plugin of several files defines it in
 * a small file of its own (host.c, declared `extern` in the plugin's header),
 * not in the file holding wb_plugin_init: that file uses the others' kernels
 * and estimators, so the others reaching it for H would make a cycle.
 *
 * Kernels are plain C functions that read one partition (or one block of rows)
 * plus broadcast arguments and write one result. They never know whether they
 * run in the driver's thread pool or on a cluster worker. Estimators drive
 * kernels through an executor (wb_exec) with map / map_sum / map_dataset.
 *
 * Ownership: every function that returns memory says who frees it.
 */
#ifndef WB_PLUGIN_H
#define WB_PLUGIN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Versions
 *
 * WB_PLUGIN_ABI (written into wb_plugin_info by WB_PLUGIN, in wb_host.abi by
 * the host) goes up only for a change that breaks a plugin built against the
 * previous header:
 *   - an entry of wb_host removed, moved, or given another signature or
 *     meaning (what it returns, who frees it, when it may be called);
 *   - a change of layout or meaning of what kernels and estimators share with
 *     the host: wb_part, wb_obj, wb_kernel_fn, wb_plugin_desc, the WB_E*
 *     codes, the WB_P_* and WB_EST_* values, WB_BLOCK_ROWS, the random
 *     streams of wb_rng;
 *   - a change of wb_param_spec, or of wb_estimator_def or wb_source_def
 *     other than a new descriptor version in their `version` field (after
 *     WB_ESTIMATOR_V1, WB_SOURCE_V1: the host refuses a version it does not
 *     know, "register_estimator: descriptor version 2, host knows 1").
 * The loader refuses a plugin whose ABI is newer than the host's ("plugin ABI
 * 2, host 1") and loads older ones: a host that raises WB_PLUGIN_ABI keeps
 * serving the older table, or its loader refuses the older ABI with a message.
 *
 * Everything else is appended, and WB_PLUGIN_ABI stays: a new host function
 * goes at the end of wb_host (wb_host.size grows), a new header function is
 * static inline, a new constant takes an unused value. A host built before an
 * entry was appended hands a shorter table, so a plugin calls an entry that
 * its oldest supported host may lack only behind WB_HOST_HAS (below); the
 * entries a plugin cannot do without, it checks in wb_plugin_init and refuses
 * to load with a message naming them.
 * ---------------------------------------------------------------------- */
#define WB_PLUGIN_ABI 1

/* Rows per block. Partitions hold a multiple of this many rows (except the
 * last), blocks are aligned to global row indices, and map_sum reduces per
 * block with an exact sum, so a result never depends on how the data is split
 * into partitions, threads or workers. Random streams are also per block. */
#define WB_BLOCK_ROWS 4096

#if defined(__GNUC__)
#define WB_EXPORT __attribute__((visibility("default")))
#define WB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WB_EXPORT
#define WB_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------------
 * Errors: negative codes from one list (0 is success).
 * ---------------------------------------------------------------------- */
#define WB_ERRNO_MAP(X)                                   \
    X(EINVAL, -1, "invalid argument")                     \
    X(ENOMEM, -2, "out of memory")                        \
    X(EIO, -3, "input/output error")                      \
    X(EFORMAT, -4, "malformed input")                     \
    X(ENOTFOUND, -5, "not found")                         \
    X(EABI, -6, "plugin ABI mismatch")                    \
    X(ECANCELED, -7, "interrupted")                       \
    X(ENET, -8, "network error")                          \
    X(EAUTH, -9, "authentication failed")                 \
    X(EPROTO, -10, "protocol error")                      \
    X(ELIMIT, -11, "limit exceeded")                      \
    X(ESTATE, -12, "invalid state")                       \
    X(ETIMEDOUT, -13, "timed out")                        \
    X(EPARAM, -14, "bad parameter")                       \
    X(EINTERNAL, -15, "internal error")                   \
    X(EEXIST, -16, "already exists")                      \
    X(ENOTSUP, -17, "not supported")

enum {
    WB_OK = 0,
#define WB__ERRENUM(name, code, text) WB_##name = code,
    WB_ERRNO_MAP(WB__ERRENUM)
#undef WB__ERRENUM
};

/* ------------------------------------------------------------------------
 * Objects and partitions
 * ---------------------------------------------------------------------- */
typedef uint64_t wb_oid; /* object id; 0 is "no object" */

/* Column types. Every column is float64 in the partitions; a category column
 * holds codes 0..L-1 of its L levels (strings sorted bytewise), NaN missing.
 * host->ds_col_type / ds_col_level read them (see wb/wb.h, "columns"). */
enum { WB_COL_NUMBER = 0, WB_COL_CATEGORY = 1 };

/* A partition: a block of rows of a dataset. */
typedef struct wb_part {
    int64_t rows;    /* rows in this partition */
    int64_t cols;    /* columns (features) */
    int64_t row0;    /* global index of the first row */
    const double *x; /* rows x cols, row-major */
    const double *y; /* rows labels, or NULL when the dataset has none */
} wb_part;

enum {
    WB_OBJ_BYTES = 1, /* an opaque byte string */
    WB_OBJ_PART = 2   /* a partition */
};

/* An object as a kernel sees it (read-only). */
typedef struct wb_obj {
    int type;         /* WB_OBJ_BYTES or WB_OBJ_PART */
    size_t size;      /* BYTES: length of data; PART: payload bytes */
    const void *data; /* BYTES: the bytes; PART: NULL */
    wb_part part;     /* PART: the partition */
} wb_obj;

/* Opaque handles owned by the host. */
typedef struct wb_kctx wb_kctx;       /* a running kernel's context */
typedef struct wb_exec wb_exec;       /* an executor (local threads or cluster) */
typedef struct wb_dataset wb_dataset; /* n x d float64 in partitions */
typedef struct wb_params wb_params;   /* checked estimator parameters */
typedef struct wb_model wb_model;     /* parameters + learned arrays */

/*
 * A kernel: reads its inputs (in[0..nin-1]) and the broadcast argument bytes,
 * writes exactly one output through host->out_bytes or host->out_part.
 * Returns 0, or a negative WB_E* code after host->seterr(...).
 * For map and map_dataset, in[0] is one partition and in[1..] the extra
 * objects; for map_sum, in[0] is one block (a sub-partition of at most
 * WB_BLOCK_ROWS rows, aligned to global row indices).
 */
typedef int (*wb_kernel_fn)(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg,
                            size_t arglen);

/* ------------------------------------------------------------------------
 * Estimator parameters (schema checked by the host before any work starts)
 * ---------------------------------------------------------------------- */
enum {
    WB_P_INT = 1,   /* integer */
    WB_P_NUM = 2,   /* number */
    WB_P_BOOL = 4,  /* boolean */
    WB_P_STR = 8,   /* string; `choices` lists the allowed values ("a|b|c") */
    WB_P_ARRAY = 16, /* matrix of numbers (rows x cols), e.g. initial centres */
    WB_P_LIST = 32   /* list of names or 1-based indices, e.g. columns = {"age", 3}:
                      * host->param_list reads it */
};
enum {
    WB_P_MIN_EXCL = 1, /* value must be > min (default: >= min) */
    WB_P_MAX_EXCL = 2, /* value must be < max (default: <= max) */
    WB_P_NULLABLE = 4, /* may be absent (nil): no default */
    WB_P_NONFINITE = 8 /* +-Inf is a meaningful value (numbers and matrix entries; within
                          min..max). Without it +-Inf is refused even when max is
                          INFINITY (an open bound); NaN is refused always */
};

typedef struct wb_param_spec {
    const char *name;
    int types;           /* a set of WB_P_* type bits */
    const char *def;     /* default, written as text ("1.0", "l2", "true"); NULL: none */
    double min, max;     /* allowed range for INT/NUM (use -INFINITY/INFINITY) */
    int flags;           /* WB_P_MIN_EXCL | WB_P_MAX_EXCL | WB_P_NULLABLE */
    const char *choices; /* STR: allowed values separated by '|'; NULL: any */
    const char *doc;     /* one line */
} wb_param_spec;

enum {
    WB_EST_CLASSIFIER = 1,
    WB_EST_REGRESSOR = 2,
    WB_EST_CLUSTERER = 3,
    WB_EST_TRANSFORMER = 4
};

#define WB_ESTIMATOR_V1 1

/*
 * An estimator. All function pointers but fit are optional (NULL).
 * fit() drives the algorithm on the caller's side: it maps kernels over the
 * partitions through `ex` and reduces the partial results. It fills `m` with
 * host->model_set_* (the host has already stored the checked parameters in m).
 * Outputs of predict/transform are new datasets aligned with the input
 * (same partitions); the caller owns them (host->ds_unref).
 */
typedef struct wb_estimator_def {
    uint32_t version; /* WB_ESTIMATOR_V1 */
    const char *name; /* "logreg" */
    const char *doc;  /* one line */
    int kind;         /* WB_EST_* */
    int needs_labels; /* fit refuses a dataset without labels */
    const wb_param_spec *params;
    int nparams;
    /* cross-parameter checks, before any work; d may be NULL */
    int (*check)(const wb_params *p, const wb_dataset *d);
    int (*fit)(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m);
    int (*predict)(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out);
    int (*predict_proba)(wb_exec *ex, const wb_model *m, const wb_dataset *d,
                         wb_dataset **out);
    int (*transform)(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out);
    int (*inverse_transform)(wb_exec *ex, const wb_model *m, const wb_dataset *d,
                             wb_dataset **out);
    /* higher is better; NULL: accuracy for classifiers, -inertia for clusterers */
    int (*score)(wb_exec *ex, const wb_model *m, const wb_dataset *d, double *out);
} wb_estimator_def;

/*
 * A data source (generator), called from Lua as wb.datagen.<name>{...}.
 * make() produces rows [lo, hi) of the data set (lo a multiple of
 * WB_BLOCK_ROWS) as partitions, normally by submitting one task per partition
 * so the rows are generated where they will live. Row r must not depend on
 * lo/hi: generating in chunks (straight to a file) gives the same data.
 */
#define WB_SOURCE_V1 1
typedef struct wb_source_def {
    uint32_t version;            /* WB_SOURCE_V1 */
    const char *name;            /* "classification" */
    const char *doc;             /* one line */
    const wb_param_spec *params; /* must include an integer 'n' (rows) */
    int nparams;
    int (*check)(const wb_params *p); /* cross-parameter checks; may be NULL */
    int (*make)(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out);
    int (*nclasses)(const wb_params *p); /* classes of the labels, 0 for none */
    int64_t (*cols)(const wb_params *p); /* columns of the data */
} wb_source_def;

/* ------------------------------------------------------------------------
 * The host function table. Fields are only ever appended (see "Versions").
 *
 * Lifetimes: every entry that returns a pointer (or fills one in) says how
 * long it stays valid and who frees it. "Host-owned" memory is never freed by
 * the plugin. A kernel's inputs (wb_obj: data, part.x, part.y) and its `arg`
 * bytes are valid until the kernel returns; keep a copy to use them later.
 * ---------------------------------------------------------------------- */
enum { WB_LOG_DEBUG = 0, WB_LOG_INFO = 1, WB_LOG_WARN = 2, WB_LOG_ERROR = 3 };

typedef struct wb_host {
    uint32_t abi;  /* WB_PLUGIN_ABI of the host */
    uint32_t size; /* sizeof(wb_host) of the host: how far its table reaches (WB_HOST_HAS) */

    /* --- registration (only inside wb_plugin_init) --- */
    /* name is "plugin.kernel"; copied */
    int (*register_kernel)(const char *name, wb_kernel_fn fn);
    /* def must stay valid while the plugin is loaded (use a static) */
    int (*register_estimator)(const wb_estimator_def *def);

    /* --- errors and logging --- */
    /* sets the thread's error message; returns code */
    int (*seterr)(int code, const char *fmt, ...) WB_PRINTF(2, 3);
    /* the calling thread's last error message (never NULL, "" for none):
     * host-owned, per thread; the text is replaced by the next host call on
     * this thread that sets or clears an error, so copy it before calling the
     * host again */
    const char *(*errmsg)(void);
    void (*log)(int level, const char *fmt, ...) WB_PRINTF(2, 3);

    /* --- memory (for buffers handed to or received from the host) --- */
    void *(*alloc)(size_t size); /* NULL on failure; the caller frees it with host->free */
    void (*free)(void *p);

    /* --- inside a kernel --- */
    /* the output as bytes: returns a zeroed buffer of `size` bytes (NULL, the
     * error set, when out of memory or when the kernel has its output already),
     * host-owned; write it before the kernel returns, after that it is the
     * task's result object */
    void *(*out_bytes)(wb_kctx *ctx, size_t size);
    /* the output as a partition: *x (rows*cols) and *y (rows, if has_y; else
     * NULL) host-owned, written before the kernel returns */
    int (*out_part)(wb_kctx *ctx, int64_t rows, int64_t cols, int64_t row0, int has_y,
                    double **x, double **y);
    /* nonzero once the user interrupted the work: return WB_ECANCELED soon */
    int (*cancelled)(wb_kctx *ctx);
    /* an executor that runs tasks inline in this kernel's thread, over the objects
     * this kernel can see (for an estimator fit inside a task, e.g. grid search);
     * host-owned, valid until the kernel returns (not to be kept or unref'd) */
    wb_exec *(*kctx_exec)(wb_kctx *ctx);

    /* --- executor (the same interface locally and on a cluster) --- */
    /* store bytes as an object (copied); the caller owns one reference */
    int (*put)(wb_exec *ex, const void *data, size_t size, wb_oid *out);
    /* fetch an object's bytes, waiting until it is set (a PART is serialized);
     * *data is the caller's, freed with host->free */
    int (*get)(wb_exec *ex, wb_oid id, void **data, size_t *size);
    /* drop one reference */
    void (*release)(wb_exec *ex, wb_oid id);
    /* one task: kernel over inputs; *out is the (future) result object */
    int (*submit)(wb_exec *ex, const char *kernel, const wb_oid *in, int nin,
                  const void *arg, size_t arglen, wb_oid *out);
    /* wait until the given results exist (or one failed: returns its error) */
    int (*wait)(wb_exec *ex, const wb_oid *ids, int n);
    /* one task per partition of d; inputs: the partition, then extra[].
     * outs[nparts] receives the result objects (caller releases them) */
    int (*map)(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra,
               int nextra, const void *arg, size_t arglen, wb_oid *outs);
    /* like map, the kernel writing one partition per input partition: a new dataset
     * aligned with d (*out is the caller's: host->ds_unref) */
    int (*map_dataset)(wb_exec *ex, const char *kernel, const wb_dataset *d,
                       const wb_oid *extra, int nextra, const void *arg, size_t arglen,
                       wb_dataset **out);
    /* the kernel runs once per block and writes `len` doubles (out_bytes(len*8));
     * the host adds all blocks' vectors with an exact (order-independent) sum */
    int (*map_sum)(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra,
                   int nextra, const void *arg, size_t arglen, double *out, size_t len);
    /* number of parallel slots (threads over all workers) */
    int (*parallelism)(wb_exec *ex);

    /* --- datasets --- */
    int64_t (*ds_rows)(const wb_dataset *d);
    int64_t (*ds_cols)(const wb_dataset *d);
    int (*ds_nparts)(const wb_dataset *d);
    int (*ds_has_labels)(const wb_dataset *d);
    int64_t (*ds_part_rows)(const wb_dataset *d, int i);
    int64_t (*ds_part_row0)(const wb_dataset *d, int i);
    wb_oid (*ds_part_oid)(const wb_dataset *d, int i);
    /* d itself, with one more reference (the caller's: host->ds_unref) */
    wb_dataset *(*ds_ref)(wb_dataset *d);
    void (*ds_unref)(wb_dataset *d);
    /* a dataset over existing partition objects of ex (each gains a reference);
     * *out is the caller's (host->ds_unref) */
    int (*ds_from_parts)(wb_exec *ex, const wb_oid *parts, int nparts, wb_dataset **out);
    /* the labels of all rows, in order (n doubles, the caller's: host->free) */
    int (*ds_labels)(wb_exec *ex, const wb_dataset *d, double **out);

    /* --- parameters (already checked against the schema) --- */
    int (*param_has)(const wb_params *p, const char *name); /* present, not nil */
    int64_t (*param_int)(const wb_params *p, const char *name);
    double (*param_num)(const wb_params *p, const char *name);
    int (*param_bool)(const wb_params *p, const char *name);
    /* NULL if not a string; the string lives as long as p */
    const char *(*param_str)(const wb_params *p, const char *name);
    /* NULL if not an array; the pointer lives as long as p */
    const double *(*param_array)(const wb_params *p, const char *name, int64_t *rows,
                                 int64_t *cols);
    int (*param_type)(const wb_params *p, const char *name); /* WB_P_* or 0 */

    /* --- models: named numbers, strings and arrays (saved, printed, shipped) --- */
    /* the model's checked parameters: they live as long as m */
    const wb_params *(*model_params)(const wb_model *m);
    int (*model_set_num)(wb_model *m, const char *name, double v);
    int (*model_set_str)(wb_model *m, const char *name, const char *v); /* copies v */
    /* copies rows*cols doubles */
    int (*model_set_array)(wb_model *m, const char *name, const double *v, int64_t rows,
                           int64_t cols);
    int (*model_has)(const wb_model *m, const char *name);
    double (*model_num)(const wb_model *m, const char *name); /* NAN if absent */
    /* NULL if absent or not a string; lives until m is freed or the field is set again */
    const char *(*model_str)(const wb_model *m, const char *name);
    /* NULL if absent or not an array; lives until m is freed or the field is set again */
    const double *(*model_array)(const wb_model *m, const char *name, int64_t *rows,
                                 int64_t *cols);
    /* serialize a model (for shipping to kernels as an argument); *data is the
     * caller's, freed with host->free */
    int (*model_encode)(const wb_model *m, void **data, size_t *size);
    /* decode; *out is the caller's, freed with host->model_free */
    int (*model_decode)(const void *data, size_t size, wb_model **out);
    void (*model_free)(wb_model *m);

    /* --- progress (stage, done of total; info may be NULL); dropped when
     *     called inside a kernel: whoever waits for the tasks reports --- */
    void (*progress)(const char *stage, double done, double total, const char *info);

    /* --- estimators (to fit and score one estimator from another, e.g. search) --- */
    /* the registered descriptor (NULL if none): owned by the plugin that
     * registered it, valid while the host runs (plugins are not unloaded) */
    const wb_estimator_def *(*estimator)(const char *name);
    /* check parameters p against def's schema, then fit; *out freed with model_free */
    int (*fit)(wb_exec *ex, const char *estimator, const wb_dataset *d, const wb_params *p,
               wb_model **out);
    /* wall clock, monotonic, seconds */
    double (*now)(void);

    /* --- more registration (only inside wb_plugin_init) --- */
    int (*register_source)(const wb_source_def *def);
    /* Lua code run when the plugin loads (e.g. wb.metrics.* front-ends over the
     * plugin's kernels); `name` names the chunk in tracebacks; source copied.
     * What the chunk receives: "The Lua half" below */
    int (*register_lua)(const char *name, const char *source);

    /* --- data checks shared by estimators --- */
    /* refuse NaN/Inf: "<who>: the data has NaN at row 17, column 3" (1-based), also for labels */
    int (*ds_check_finite)(wb_exec *ex, const wb_dataset *d, const char *who);
    /* the distinct label values, sorted (*classes is the caller's: host->free);
     * labels must be integers ("<who>: label 0.5 at row 3 is not an integer
     * class") and at most max_classes distinct values */
    int (*ds_classes)(wb_exec *ex, const wb_dataset *d, const char *who, int max_classes,
                      double **classes, int *nclasses);

    /* --- inside a kernel: the object id of input i (for host->ds_from_parts
     * over kctx_exec, e.g. to fit an estimator on a fold inside a task) --- */
    wb_oid (*kctx_input)(wb_kctx *ctx, int i);

    /* --- new entries go here, at the end (WB_PLUGIN_ABI stays); a plugin
     *     that may meet an older host calls them behind WB_HOST_HAS --- */

    /* --- columns: names, types and category levels (driver side; kernels
     *     see float64 codes). j counts from 0; k is a code 0..nlevels-1. --- */
    const char *(*ds_col_name)(const wb_dataset *d, int64_t j); /* NULL: unnamed */
    int (*ds_col_type)(const wb_dataset *d, int64_t j);         /* WB_COL_* */
    int64_t (*ds_col_nlevels)(const wb_dataset *d, int64_t j);  /* 0 for a number column */
    const char *(*ds_col_level)(const wb_dataset *d, int64_t j, int64_t k); /* NULL out of range */
    const char *(*ds_label_name)(const wb_dataset *d);          /* NULL: unnamed */
    int64_t (*ds_label_nlevels)(const wb_dataset *d);           /* 0: numeric labels */
    const char *(*ds_label_level)(const wb_dataset *d, int64_t k);
    /* describe column j of a dataset the caller made (before it is shared):
     * name (NULL: unchanged), type, and for WB_COL_CATEGORY the levels,
     * strictly increasing by strcmp (copied) */
    int (*ds_set_col)(wb_dataset *d, int64_t j, const char *name, int type,
                      const char *const *levels, int64_t nlevels);
    /* the labels' name (NULL: none) and levels (nlevels 0: numeric labels) */
    int (*ds_set_label)(wb_dataset *d, const char *name, const char *const *levels,
                        int64_t nlevels);
    /* dst's columns 0..m) get the names, types and levels of src's columns
     * cols[0..m) (cols NULL: the first m); with labels_too, also the labels' */
    int (*ds_copy_cols)(wb_dataset *dst, const wb_dataset *src, const int64_t *cols, int64_t m,
                        int labels_too);

    /* --- a WB_P_LIST parameter: item i (0-based) as text, NULL past the end
     * (or when the parameter is not a list); *index (may be NULL) gets the
     * item's 1-based index when it was given as a number, else 0 --- */
    const char *(*param_list)(const wb_params *p, const char *name, int64_t i, int64_t *index);
} wb_host;

/*
 * WB_HOST_HAS(host, entry): nonzero when the running host's table has `entry`
 * (a field of wb_host): the table, host->size bytes long, reaches past it,
 * and it is set. A host built before the entry was appended hands a shorter
 * table, and reading past its end would read whatever follows it. E.g.
 *
 *     if (WB_HOST_HAS(H, register_lua)) rc = H->register_lua("mine", src);
 *     // else: no Lua front-end on this host; the kernels work without it
 *
 * Entries that were in the table when a plugin's oldest supported host was
 * built need no test.
 */
#define WB_HOST_HAS(host, entry)                                                      \
    ((size_t)(host)->size >= offsetof(wb_host, entry) + sizeof((host)->entry) &&    \
     (host)->entry != NULL)

/*
 * A plugin's kernels as one table, registered in order by wb_register_kernels
 * inside wb_plugin_init (a header function over host->register_kernel):
 *
 *     static const wb_kernel_def kernels[] = {
 *         {.name = "hello.norms", .fn = k_norms},
 *         {.name = "hello.colsum", .fn = k_colsum},
 *     };
 *     int rc = wb_register_kernels(host, kernels, sizeof kernels / sizeof kernels[0]);
 *
 * Returns 0, or the first failure (the kernels before it stay registered
 * until the failed init makes the host drop them all).
 */
typedef struct wb_kernel_def {
    const char *name; /* "plugin.kernel" */
    wb_kernel_fn fn;
} wb_kernel_def;

static inline int wb_register_kernels(const wb_host *host, const wb_kernel_def *k, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = host->register_kernel(k[i].name, k[i].fn);
    return rc;
}

/* Plugin identity, read by the host before wb_plugin_init runs. */
typedef struct wb_plugin_desc {
    uint32_t abi;        /* WB_PLUGIN_ABI the plugin was built with */
    const char *name;    /* "datagen" */
    const char *version; /* "1.0" */
} wb_plugin_desc;

#define WB_PLUGIN(name, version)                                                     \
    WB_EXPORT const wb_plugin_desc wb_plugin_info = {WB_PLUGIN_ABI, (name), (version)}; \
    WB_EXPORT int wb_plugin_init(const wb_host *host)

/* ------------------------------------------------------------------------
 * The Lua half: what a chunk given to host->register_lua receives and may call.
 *
 * When it runs: once, in the wb process's Lua state (the shell, `wb -e`, a
 * script; never on a cluster's workers, where only kernels run), after
 * wb_plugin_init succeeded: at start-up after wb's Lua library and every
 * plugin on the search path have loaded (chunks in registration order), or
 * when wb.plugin.load(path) loads the plugin. Its chunk name is "=<name>"
 * (tracebacks show the name given to register_lua). An error in it is raised
 * by wb.plugin.load (at start-up: printed as "wb: warning: ...").
 *
 * What it receives: `local wb = ...` -- the one argument is the global `wb`
 * table; the chunk adds its front-ends to it (wb.<plugin>.*, or to a shared
 * table such as wb.metrics, creating it when absent: wb.metrics =
 * wb.metrics or {}). Return values are ignored. The standard Lua libraries
 * and wb's library modules are there: require("wb.table") (result tables),
 * require("wb.show"), require("wb.help") (help texts: wb.doc(name, text)).
 * Datasets are userdata whose metatable is debug.getregistry()["wb.Dataset"].
 *
 * wb.core: the executor's primitives, the same as the host table's, on the
 * executor of the datasets and objects passed (else the current one). Errors
 * are raised as Lua errors with the host's message. "object" is a reference
 * to a stored object: o:id() -> integer, o:get() -> bytes (waits), o:free()
 * (drops the reference now; also by garbage collection, or `local o <close>`).
 *
 *   put(bytes [, dataset_or_object]) -> object     (on that one's executor)
 *   get(object) -> bytes                            (waits for it)
 *   submit(kernel, {objects}, argbytes) -> object   (a task; the result, later)
 *   wait({objects}) -> true                         (raises the first failure)
 *   map(kernel, dataset, {extra objects}, argbytes) -> {objects}, one a partition
 *   map_sum(kernel, dataset, {extra}, argbytes, len) -> {len numbers}, exact sum
 *   map_dataset(kernel, dataset, {extra}, argbytes) -> dataset aligned with it
 *   parts(dataset) -> {objects}                     (its partitions)
 *   dataset({objects} [, like]) -> dataset          (over partition objects; like:
 *          a dataset of as many columns whose names, types and levels it gets)
 *   select(dataset, {row_lo=, row_hi=, seed=, invert=, classes=, lo=, hi=,
 *          nranges=}) -> dataset                    (rows by range or by key)
 *   labels(dataset) -> {numbers}    (its labels; a vector's values)
 *   pack_doubles({numbers}) -> bytes; unpack_doubles(bytes [, offset]) -> {numbers}
 *   params_encode(table) -> bytes                   (a wb_params, unchecked)
 *   check_finite(dataset [, who]) -> true           (host->ds_check_finite)
 *   classes(dataset [, who [, max = 1000]]) -> {sorted classes} (host->ds_classes)
 *   kernels() -> {names};  interrupted() -> boolean (Ctrl-C: stop soon)
 *   progress(stage, done, total [, info])           (host->progress)
 *   estimator_info(name) -> {name, doc, kind, needs_labels, params = {{name,
 *          type, allowed, default, doc}...}, methods = {...}} or nil
 *   source_info(name) -> {name, doc, params} or nil;  sources() -> {names}
 *   check_params(estimator, table) -> the checked table, defaults filled
 *   model_new(estimator, params) -> model           (m:set(name, value) fills it)
 *   model_decode(bytes) -> model                    (from m:encode())
 *
 * `argbytes` are the kernel's `arg` (string.pack or pack_doubles); kernels
 * are named "plugin.kernel" as registered. The other wb.core functions
 * (generate, load_plugins, read_meta, rss, peak_rss, replicate, holder,
 * remote_encode, remote_decode) serve wb's own library and may change.
 *
 * The same rule as the host table: while WB_PLUGIN_ABI stays, the functions
 * above keep their arguments and results; new functions and new optional
 * arguments are only added, and a chunk that may run on an older wb tests a
 * newer function first (`if wb.core.name then ... end`).
 * ---------------------------------------------------------------------- */

/* ------------------------------------------------------------------------
 * Seeded, splittable random numbers (header-only, bit-identical everywhere).
 *
 * A stream is named by (seed, stream id, block id): the same name always gives
 * the same numbers, whichever thread, partition or worker draws them. Data is
 * drawn per block of WB_BLOCK_ROWS global rows. The generator is xoshiro256++
 * seeded from the name through splitmix64; normals come from a 256-layer
 * ziggurat whose tables are constants (wb/plugin_rng.h).
 * ---------------------------------------------------------------------- */
#include "plugin_rng.h"

typedef struct wb_rng {
    uint64_t s[4];
} wb_rng;

static inline uint64_t wb_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* mix two 64-bit values into one (for naming streams) */
static inline uint64_t wb_hash64(uint64_t a, uint64_t b)
{
    uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);
    return wb_splitmix64(&x);
}

/* the stream named (seed, stream, block) */
static inline void wb_rng_init(wb_rng *r, uint64_t seed, uint64_t stream, uint64_t block)
{
    uint64_t x = wb_hash64(wb_hash64(seed, stream), block);
    for (int i = 0; i < 4; i++) r->s[i] = wb_splitmix64(&x);
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline uint64_t wb_rng_u64(wb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t t0 = s[0] + s[3];
    uint64_t result = ((t0 << 23) | (t0 >> 41)) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* uniform in [0, 1) with 53 random bits */
static inline double wb_rng_uniform(wb_rng *r)
{
    return (double)(int64_t)(wb_rng_u64(r) >> 11) * 0x1.0p-53; /* < 2^53: exact */
}

/* uniform integer in [0, n) without modulo bias (n > 0) */
static inline uint64_t wb_rng_below(wb_rng *r, uint64_t n)
{
    uint64_t lim = (0 - n) % n; /* 2^64 mod n */
    for (;;) {
        uint64_t v = wb_rng_u64(r);
        if (v >= lim) return v % n;
    }
}

/* standard normal deviate (ziggurat) */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline double wb_rng_normal(wb_rng *r)
{
    for (;;) {
        uint64_t u = wb_rng_u64(r);
        int idx = (int)(u & 0xff);
        u >>= 8;
        int neg = (int)(u & 1);
        uint64_t rabs = (u >> 1) & 0x000fffffffffffffULL;
        double x = (double)(int64_t)rabs * wb_zig_wi[idx]; /* rabs < 2^52: a signed conversion is exact */
        /* the sign by flipping the sign bit, not by a branch (half of them
         * would be mispredicted) */
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        bits ^= (uint64_t)neg << 63;
        memcpy(&x, &bits, sizeof x);
#if defined(__GNUC__)
        if (__builtin_expect(rabs < wb_zig_ki[idx], 1)) return x; /* the fast path, ~99% */
#else
        if (rabs < wb_zig_ki[idx]) return x; /* the fast path, ~99% */
#endif
        if (idx == 0) {                       /* the tail beyond r */
            for (;;) {
                double xx = -WB_ZIG_INV_R * log1p(-wb_rng_uniform(r));
                double yy = -log1p(-wb_rng_uniform(r));
                if (yy + yy > xx * xx) return neg ? -(WB_ZIG_R + xx) : WB_ZIG_R + xx;
            }
        }
        if ((wb_zig_fi[idx - 1] - wb_zig_fi[idx]) * wb_rng_uniform(r) + wb_zig_fi[idx] <
            exp(-0.5 * x * x))
            return x;
    }
}

/* fill out[0..n) with standard normal deviates: the same numbers as n calls
 * of wb_rng_normal, with the state kept in registers */
static inline void wb_rng_normals(wb_rng *r, double *out, size_t n)
{
    wb_rng st = *r;
    for (size_t i = 0; i < n; i++) out[i] = wb_rng_normal(&st);
    *r = st;
}

/* fill out[0..n) with uniform deviates in [0, 1) */
static inline void wb_rng_uniforms(wb_rng *r, double *out, size_t n)
{
    wb_rng st = *r;
    for (size_t i = 0; i < n; i++) out[i] = wb_rng_uniform(&st);
    *r = st;
}

#ifdef __cplusplus
}
#endif
#endif /* WB_PLUGIN_H */
