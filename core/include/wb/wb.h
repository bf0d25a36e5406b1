/*
 * wb/wb.h — the wb core (libwbcore) for programs that embed it: the Lua
 * binding, the shell, the cluster head and workers, tests.
 * Plugins use wb/plugin.h only.
 */
#ifndef WB_WB_H
#define WB_WB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_VERSION "0.1.0"

/* ------------------------------------------------------------------------
 * errors (error.c)
 * ---------------------------------------------------------------------- */
/* set the calling thread's message; returns code */
int wb_seterr(int code, const char *fmt, ...) WB_PRINTF(2, 3);
int wb_vseterr(int code, const char *fmt, va_list ap);
/* prefix the current message with "prefix: " (keeps the code); returns code */
int wb_preferr(int code, const char *fmt, ...) WB_PRINTF(2, 3);
const char *wb_errmsg(void);
const char *wb_strerror(int code); /* the fixed text of a code */
const char *wb_errname(int code);  /* "WB_EINVAL" */
void wb_clearerr(void);

/* ------------------------------------------------------------------------
 * utilities (util.c)
 * ---------------------------------------------------------------------- */
double wb_now(void); /* monotonic seconds */
int wb_ncpu(void);
char *wb_strdup(const char *s);
/* global interrupt flag (Ctrl-C): set by the shell's signal handler */
void wb_interrupt(void);
void wb_interrupt_clear(void);
int wb_interrupted(void);
/* peak resident set size of this process, bytes */
int64_t wb_peak_rss(void);
int64_t wb_current_rss(void);

/* "did you mean" (suggest.c): the candidate closest to name by edit
 * distance (at most 1 edit for names of up to 3 characters, 2 up to 8, 3
 * beyond), or NULL; never name itself */
const char *wb_closest(const char *name, const char *const *cands, int n);
int wb_edit_distance(const char *a, const char *b); /* names of up to 64 bytes */

/* sizes (mem.c): "4GB", "512MB", "1.5G", "100000" -> bytes (units of 1024) */
int wb_size_parse(const char *s, uint64_t *out);
void wb_size_format(uint64_t bytes, char *buf, size_t cap); /* "4.0 GB" */

/* growing byte buffer */
typedef struct wb_buf {
    unsigned char *p;
    size_t len, cap;
} wb_buf;
int wb_buf_reserve(wb_buf *b, size_t extra);
int wb_buf_add(wb_buf *b, const void *data, size_t n);
int wb_buf_printf(wb_buf *b, const char *fmt, ...) WB_PRINTF(2, 3);
void wb_buf_free(wb_buf *b);

/* Deterministic pairwise sums over blocks (treesum.c; see map_sum): a partial
 * result is a set of nodes (level, index, vector) of the fixed binary tree
 * over block indices; merging all partitions' nodes gives a value that
 * depends only on the blocks, never on how they were grouped. */
typedef struct wb_treesum wb_treesum;
wb_treesum *wb_treesum_new(size_t len, int64_t nblocks);
/* add a node (copied) */
int wb_treesum_add(wb_treesum *t, uint32_t level, uint64_t index, const double *v);
/* add all nodes of an encoded partial result (see wb_blocksum_*) */
int wb_treesum_add_encoded(wb_treesum *t, const void *data, size_t size);
/* the root; fails if blocks are missing */
int wb_treesum_result(wb_treesum *t, double *out);
void wb_treesum_free(wb_treesum *t);

/* ------------------------------------------------------------------------
 * partition encoding (for get / the wire): "WBPT" header, x, y
 * ---------------------------------------------------------------------- */
size_t wb_part_encoded_size(const wb_part *p);
void wb_part_encode(const wb_part *p, void *dst);
/* the header alone (wb_part_header_size() bytes): for a writer that puts
 * x and y right after it itself */
void wb_part_encode_header(const wb_part *p, void *dst);
size_t wb_part_header_size(void);
/* view into src (no copy); fails on malformed input */
int wb_part_decode(const void *src, size_t size, wb_part *out);

/* ------------------------------------------------------------------------
 * object store (store.c): ids -> objects, reference counted, thread-safe
 * ---------------------------------------------------------------------- */
typedef struct wb_store wb_store;
typedef struct wb_mapping wb_mapping; /* a shared, refcounted memory mapping */

enum { WB_ST_PENDING = 0, WB_ST_READY = 1, WB_ST_FAILED = 2 };

/* ids are (prefix << 40) | counter */
wb_store *wb_store_new(uint64_t id_prefix);
void wb_store_free(wb_store *s);
/* a new pending object with one reference */
int wb_store_reserve(wb_store *s, wb_oid *out);
/* reserve a given id (from elsewhere, e.g. the cluster); EEXIST if present */
int wb_store_reserve_id(wb_store *s, wb_oid id);
/* set a pending object's value: takes ownership of buf (malloc'd) */
int wb_store_fulfill_bytes(wb_store *s, wb_oid id, void *buf, size_t size);
/* a partition whose x (and y) live in buf (malloc'd, owned) or in a mapping (ref taken) */
int wb_store_fulfill_part(wb_store *s, wb_oid id, const wb_part *p, void *buf, wb_mapping *m);
int wb_store_fail(wb_store *s, wb_oid id, int code, const char *msg);
/* put = reserve + fulfill */
int wb_store_put_bytes(wb_store *s, const void *data, size_t size, wb_oid *out);
int wb_store_put_part(wb_store *s, const wb_part *p, wb_oid *out); /* copies */
/* block until ready/failed; returns 0 or the failure (message set) */
int wb_store_wait(wb_store *s, wb_oid id);
/* a ready object, with a reference the caller drops with wb_store_unref */
int wb_store_acquire(wb_store *s, wb_oid id, wb_obj *out);
int wb_store_ref(wb_store *s, wb_oid id);
void wb_store_unref(wb_store *s, wb_oid id);
int wb_store_state(wb_store *s, wb_oid id);
size_t wb_store_count(wb_store *s);
size_t wb_store_bytes(wb_store *s);
/* refuse new objects beyond this many bytes (0: no limit) */
void wb_store_set_limit(wb_store *s, size_t bytes);
/* keep the big buffers (64 MB and more) of freed objects, up to max_bytes in
 * all (0: keep none, the default), for wb_store_take_buffer: memory a process
 * already has costs no page faults, fresh memory does (the kernel zeroes every
 * page on first touch, and under a hypervisor that may first have to back it).
 * Kept buffers never take the store past its limit; they go back to the
 * system when wb_store_trim_buffers finds them older than max_age seconds */
void wb_store_keep_buffers(wb_store *s, size_t max_bytes);
/* a kept buffer of at least size bytes (and at most a quarter more), with
 * stale contents, for the caller to overwrite; NULL if none (malloc'd: it
 * goes back with free() or to the store like any object's buffer). With
 * none, kept buffers in the way of size more bytes within the limit are
 * freed (the caller is about to allocate them) */
void *wb_store_take_buffer(wb_store *s, size_t size);
void wb_store_trim_buffers(wb_store *s, double max_age);
size_t wb_store_kept_bytes(wb_store *s);

wb_mapping *wb_mapping_new(void *addr, size_t len); /* takes the munmap duty */
void wb_mapping_ref(wb_mapping *m);
void wb_mapping_unref(wb_mapping *m);

/* ------------------------------------------------------------------------
 * registries (registry.c), plugins (plugin.c, host.c), built-in kernels
 * (init.c), progress and logs (log.c)
 * ---------------------------------------------------------------------- */

const wb_host *wb_host_table(void);
/* load the plugin at path (refused with a message naming file and reason) */
int wb_plugin_load(const char *path);
/* load every plugin found in the search path: WB_PLUGIN_PATH, then the
 * folders beside the executable; returns count loaded or an error */
int wb_plugin_load_default(void);
/* the folders searched by wb_plugin_load_default (':'-separated), for messages */
const char *wb_plugin_search_path(void);
void wb_plugin_set_exe_dir(const char *dir);
int wb_plugin_count(void);
/* i-th plugin: name, version, path */
int wb_plugin_info_at(int i, const char **name, const char **version, const char **path);
/* register built-in kernels of the core (io, select, describe); idempotent */
void wb_core_init(void);

wb_kernel_fn wb_kernel_find(const char *name);
int wb_kernel_count(void);
const char *wb_kernel_name_at(int i);
const wb_estimator_def *wb_estimator_find(const char *name);
int wb_estimator_count(void);
const wb_estimator_def *wb_estimator_at(int i);
const wb_source_def *wb_source_find(const char *name);
int wb_source_count(void);
const wb_source_def *wb_source_at(int i);
/* Lua chunks registered by plugins (the Lua layer runs them) */
int wb_luachunk_count(void);
int wb_luachunk_at(int i, const char **name, const char **source);
/* register from the core itself (same rules as the host table) */
int wb_register_kernel(const char *name, wb_kernel_fn fn);
int wb_register_estimator(const wb_estimator_def *def);
int wb_register_source(const wb_source_def *def);
int wb_register_lua(const char *name, const char *source);

/* progress reporting: the shell installs a sink; default is silent. Reports
 * made inside a running kernel (e.g. by fits in parallel tasks) are dropped:
 * the code waiting for the tasks reports their progress. */
typedef void (*wb_progress_fn)(const char *stage, double done, double total, const char *info);
void wb_set_progress(wb_progress_fn fn);
void wb_progress(const char *stage, double done, double total, const char *info);
/* logging sink (default: stderr for WARN and ERROR) */
typedef void (*wb_log_fn)(int level, const char *msg);
void wb_set_log(wb_log_fn fn);
void wb_log(int level, const char *fmt, ...) WB_PRINTF(2, 3);

/* ------------------------------------------------------------------------
 * activity (activity.c): what this process does, for the dashboards. The
 * tasks it ran, its log lines (kept from INFO up) and the running job (the
 * stages of the progress reports made outside kernels, as the terminal's
 * progress line shows them). Readers keep a cursor: *_since gives what
 * came after it (the oldest first) and moves it on.
 * ---------------------------------------------------------------------- */
typedef struct wb_taskrec {
    char kernel[48];
    int thread;        /* the pool thread that ran it (0-based) */
    double start, end; /* wb_now() seconds */
    int ok;
} wb_taskrec;
typedef struct wb_logrec {
    double time; /* wb_now() seconds */
    int level;   /* WB_LOG_* */
    char msg[400];
} wb_logrec;
typedef struct wb_jobstage {
    char name[48];  /* "gbdt", "gridsearch", ... */
    char info[96];  /* "tree 12 loss 0.31" */
    double done, total, start;
} wb_jobstage;
void wb_activity_set_thread(int slot); /* a pool thread's number, for its records */
int wb_activity_thread(void);
void wb_activity_task(const char *kernel, double start, double end, int ok);
int wb_activity_tasks_since(uint64_t *cursor, wb_taskrec *out, int max);
void wb_activity_log(int level, const char *msg);
int wb_activity_logs_since(uint64_t *cursor, wb_logrec *out, int max);
void wb_activity_progress(const char *stage, double done, double total, const char *info);
void wb_activity_job_end(void); /* a call from the prompt or a script returned */
/* the running job's stages, outermost first (returns how many); *gen
 * changes with every report */
int wb_activity_job(wb_jobstage *out, int max, uint64_t *gen);
double wb_process_cpu_seconds(void); /* user + system */

/* for the dashboards' JSON (activity.c) */
typedef struct wb_sample {
    double t;        /* wb_now() */
    double rss, mem; /* bytes: resident, held objects */
    double cpu;      /* cores busy since the sample before */
} wb_sample;
void wb_json_str(wb_buf *b, const char *s);
/* [{"name", "done", "total", "info", "elapsed", "eta"}, ...] (eta -1: unknown) */
void wb_json_job(wb_buf *b, const wb_jobstage *s, int n, double now);
/* {"ago": [...], "rss": [...], "mem": [...], "cpu": [...]}: the last samples of
 * a ring of cap (n added so far), oldest first, ages in seconds before now */
void wb_json_samples(wb_buf *b, const wb_sample *ring, uint64_t n, int cap, double now);
/* {"ago", "source", "level", "message"}: the message as wb_redact gives it */
void wb_json_log(wb_buf *b, double ago, const char *source, int level, const char *msg);
/* a message as the dashboards show it (cut to cap): paths without their
 * folders, quoted excerpts ("...") of what a file held left out */
void wb_redact(const char *msg, char *out, size_t cap);

/* ------------------------------------------------------------------------
 * parameters (params.c)
 * ---------------------------------------------------------------------- */
/* an unchecked parameter set built by a caller (e.g. from a Lua table) */
wb_params *wb_params_new(void);
void wb_params_free(wb_params *p);
wb_params *wb_params_copy(const wb_params *p);
int wb_params_set_int(wb_params *p, const char *name, int64_t v);
int wb_params_set_num(wb_params *p, const char *name, double v);
int wb_params_set_bool(wb_params *p, const char *name, int v);
int wb_params_set_str(wb_params *p, const char *name, const char *v);
int wb_params_set_array(wb_params *p, const char *name, const double *v, int64_t rows,
                        int64_t cols);
/* a list (WB_P_LIST) of n items: item k is a name (is_index NULL or
 * is_index[k] == 0) or a 1-based column index (items[k] its decimal text) */
int wb_params_set_list(wb_params *p, const char *name, const char *const *items, const int *is_index,
                       int64_t n);
/* a value of a type no schema accepts (for messages): describes what was given */
int wb_params_set_other(wb_params *p, const char *name, const char *what);
int wb_params_count(const wb_params *p);
const char *wb_params_name_at(const wb_params *p, int i);
int wb_params_type(const wb_params *p, const char *name);
int wb_params_has(const wb_params *p, const char *name);
int64_t wb_params_int(const wb_params *p, const char *name);
double wb_params_num(const wb_params *p, const char *name);
int wb_params_bool(const wb_params *p, const char *name);
const char *wb_params_str(const wb_params *p, const char *name);
const double *wb_params_array(const wb_params *p, const char *name, int64_t *rows,
                              int64_t *cols);
/* item i (0-based) of a list, NULL past its end or when not a list; *index
 * (if given) gets the item's 1-based index, 0 for a name */
const char *wb_params_list(const wb_params *p, const char *name, int64_t i, int64_t *index);
/* a parameter's value as text ("0.1", "l2", "true", "[4x3]") into buf */
const char *wb_params_format(const wb_params *p, const char *name, char *buf, size_t len);
/* check `in` against a schema; on success *out is a new set holding every
 * parameter of the schema (defaults filled in). `who` prefixes messages:
 * "kmeans: parameter 'k' must be an integer >= 1, got -3" */
int wb_params_validate(const char *who, const wb_param_spec *spec, int nspec,
                       const wb_params *in, wb_params **out);
/* describe a schema entry's constraint: "an integer >= 1" */
const char *wb_param_spec_describe(const wb_param_spec *s, char *buf, size_t len);
int wb_params_encode(const wb_params *p, wb_buf *out);
int wb_params_decode(const void *data, size_t size, wb_params **out);

/* ------------------------------------------------------------------------
 * models (model.c)
 * ---------------------------------------------------------------------- */
enum { WB_F_NUM = 1, WB_F_STR = 2, WB_F_ARRAY = 3 };
/* takes a copy of params; estimator name copied */
wb_model *wb_model_new(const char *estimator, const wb_params *params);
void wb_model_free(wb_model *m);
const char *wb_model_estimator(const wb_model *m);
const wb_params *wb_model_params(const wb_model *m);
int wb_model_set_num(wb_model *m, const char *name, double v);
int wb_model_set_str(wb_model *m, const char *name, const char *v);
int wb_model_set_array(wb_model *m, const char *name, const double *v, int64_t rows,
                       int64_t cols);
int wb_model_nfields(const wb_model *m);
const char *wb_model_field_at(const wb_model *m, int i, int *type);
int wb_model_field_type(const wb_model *m, const char *name); /* 0 if absent */
double wb_model_num(const wb_model *m, const char *name);
const char *wb_model_str(const wb_model *m, const char *name);
const double *wb_model_array(const wb_model *m, const char *name, int64_t *rows,
                             int64_t *cols);
int wb_model_encode(const wb_model *m, wb_buf *out);
int wb_model_decode(const void *data, size_t size, wb_model **out);
/* files: a header line, then the encoding; written to a temp file and renamed */
int wb_model_save(const wb_model *m, const char *path);
int wb_model_load(const char *path, wb_model **out);

/* ------------------------------------------------------------------------
 * executors (exec.c, exec_local.c, exec_inline.c), tasks (task.c), maps
 * over a dataset (map.c)
 * ---------------------------------------------------------------------- */
enum {
    WB_TASK_PLAIN = 0,   /* the kernel once over its inputs */
    WB_TASK_BLOCKSUM = 1 /* the kernel once per block of in[0]: tree-summed nodes */
};

typedef struct wb_task {
    const char *kernel;
    const wb_oid *in;
    int nin;
    const void *arg;
    size_t arglen;
    int mode;          /* WB_TASK_* */
    size_t sumlen;     /* BLOCKSUM: doubles per block */
    int64_t out_rows;  /* >= 0: the output must be a partition of this many rows */
} wb_task;

/* shape of a ready object, without its data */
typedef struct wb_objstat {
    int type;       /* WB_OBJ_* */
    size_t size;    /* bytes (PART: payload) */
    int64_t rows, cols, row0;
    int has_y;
} wb_objstat;

typedef struct wb_exec_info {
    const char *kind;  /* "local", "inline", "cluster", "mpi" */
    int workers;       /* 1 for local */
    int threads;       /* total threads */
    char address[128]; /* cluster address or "" */
    int remote;        /* the objects live in other processes (a cluster's
                          workers), not in this process's memory */
    wb_store *store;   /* the store holding the objects, when they may be read
                          in place (local), else NULL */
} wb_exec_info;

typedef struct wb_exec_vt {
    const char *kind;
    int (*put)(wb_exec *ex, const void *data, size_t size, wb_oid *out);
    int (*put_part)(wb_exec *ex, const wb_part *p, wb_oid *out); /* copies */
    int (*get)(wb_exec *ex, wb_oid id, void **data, size_t *size);
    int (*ref)(wb_exec *ex, wb_oid id);
    void (*release)(wb_exec *ex, wb_oid id);
    /* submit n tasks at once; outs[i] receives each result's id */
    int (*submit)(wb_exec *ex, const wb_task *tasks, int n, wb_oid *outs);
    int (*wait)(wb_exec *ex, const wb_oid *ids, int n);
    int (*stat)(wb_exec *ex, wb_oid id, wb_objstat *out); /* ready objects */
    void (*info)(wb_exec *ex, wb_exec_info *out);
    void (*destroy)(wb_exec *ex);
    /* optional (NULL: map_sum gets each task's nodes and sums them here):
     * the whole of wb_exec_map_sum, for an executor that reduces where the
     * partitions live (the MPI executor's tree) */
    int (*map_sum)(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra,
                   int nextra, const void *arg, size_t arglen, double *out, size_t len);
} wb_exec_vt;

struct wb_exec {
    const wb_exec_vt *vt;
    int refs; /* atomic */
    void *impl;
};

wb_exec *wb_exec_local_new(int threads); /* threads <= 0: one per core */
/* change the number of threads of a local executor (objects stay) */
int wb_exec_local_resize(wb_exec *ex, int threads);
/* the local executor's dashboard (wb.dashboard()): its status as the
 * dashboard's JSON, and a sample of memory and CPU for its charts (once a
 * second); exec is the wb_exec of a local executor (void * to serve as a
 * dashboard callback's context) */
void wb_exec_local_status_json(void *exec, wb_buf *out);
void wb_exec_local_sample(void *exec);
/* runs every task at once in the calling thread over the given store */
wb_exec *wb_exec_inline_new(wb_store *store);
/* the local executor's store (NULL for other kinds) */
wb_store *wb_exec_local_store(wb_exec *ex);
wb_exec *wb_exec_ref(wb_exec *ex);
void wb_exec_unref(wb_exec *ex);
void wb_exec_info_get(wb_exec *ex, wb_exec_info *out);
int wb_exec_parallelism(wb_exec *ex);

/* generic operations over the vtable (these are also the host-table entries) */
int wb_exec_put(wb_exec *ex, const void *data, size_t size, wb_oid *out);
int wb_exec_put_part(wb_exec *ex, const wb_part *p, wb_oid *out);
int wb_exec_get(wb_exec *ex, wb_oid id, void **data, size_t *size);
void wb_exec_release(wb_exec *ex, wb_oid id);
int wb_exec_ref_obj(wb_exec *ex, wb_oid id);
int wb_exec_stat(wb_exec *ex, wb_oid id, wb_objstat *out);
int wb_exec_submit(wb_exec *ex, const char *kernel, const wb_oid *in, int nin,
                   const void *arg, size_t arglen, wb_oid *out);
int wb_exec_submit_tasks(wb_exec *ex, const wb_task *tasks, int n, wb_oid *outs);
int wb_exec_wait(wb_exec *ex, const wb_oid *ids, int n);
int wb_exec_map(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra,
                int nextra, const void *arg, size_t arglen, wb_oid *outs);
int wb_exec_map_dataset(wb_exec *ex, const char *kernel, const wb_dataset *d,
                        const wb_oid *extra, int nextra, const void *arg, size_t arglen,
                        wb_dataset **out);
int wb_exec_map_sum(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra,
                    int nextra, const void *arg, size_t arglen, double *out, size_t len);

/* Run one task against a store (the local pool, the inline executor and
 * cluster workers all use this). On success the result is stored under `out`
 * (which must be reserved); on failure the object is failed with the message. */
int wb_task_run(wb_store *store, const wb_task *t, wb_kernel_fn fn, wb_oid out);
/* the shape of a store object */
int wb_store_stat(wb_store *s, wb_oid id, wb_objstat *out);
/* the ready objects of a store, the largest first (at most max) */
typedef struct wb_storeitem {
    wb_oid id;
    wb_objstat stat;
} wb_storeitem;
int wb_store_largest(wb_store *s, wb_storeitem *out, int max);
/* a store object as bytes (PART encoded); *data malloc'd */
int wb_store_get_bytes(wb_store *s, wb_oid id, void **data, size_t *size);

/* ------------------------------------------------------------------------
 * datasets (dataset.c, dataset_ops.c)
 * ---------------------------------------------------------------------- */
/* ------------------------------------------------------------------------
 * columns (columns.c): every column of a dataset has a name and a type.
 *
 * A dataset stays n x d float64 for every kernel. A column's type is
 * WB_COL_NUMBER or WB_COL_CATEGORY (plugin.h). A category column holds codes
 * 0..L-1 as doubles; its levels are the L distinct level strings, sorted
 * bytewise (strcmp), kept beside the dataset on the driver (partitions carry
 * numbers only, so nothing changes for kernels, the store or the wire).
 * Missing is NaN for both types. Labels may be categories too: their levels
 * are the class names, and a label's code is its class.
 *
 * Levels are sorted, so a dataset's codes never depend on how the data was
 * read (partitions, threads, workers): readers merge each partition's local
 * levels into the sorted union and remap the codes.
 *
 * A level set (wb_levels) is immutable once made and shared by reference
 * between datasets; the set_* functions below take their own reference.
 * Metadata is set by whoever makes a dataset, before it is shared.
 * ---------------------------------------------------------------------- */
typedef struct wb_levels wb_levels;
/* a level set from n strings that must be strictly increasing (strcmp);
 * copied. WB_EINVAL naming the first out-of-order pair otherwise. */
int wb_levels_new(const char *const *s, int64_t n, wb_levels **out);
/* sort s[0..n) by strcmp and drop duplicates in place (the pointers are
 * moved, not freed: duplicates are set aside at the end); returns the number
 * kept */
int64_t wb_levels_sort_unique(const char **s, int64_t n);
wb_levels *wb_levels_ref(wb_levels *l);
void wb_levels_unref(wb_levels *l);
int64_t wb_levels_count(const wb_levels *l);
const char *wb_levels_at(const wb_levels *l, int64_t k); /* NULL when out of range */
int64_t wb_levels_find(const wb_levels *l, const char *s); /* its code, or -1 */
/* the sorted union of a and b; map_a[k] (map_b[k]) is the union's code of
 * a's (b's) level k (malloc'd; pass NULL when not wanted) */
int wb_levels_union(const wb_levels *a, const wb_levels *b, wb_levels **out, int64_t **map_a,
                    int64_t **map_b);
/* a code (a double read from a category column) as a level: NULL for NaN
 * and for a value that is not a code of l */
const char *wb_levels_code(const wb_levels *l, double code);

/* column j's name (NULL when the dataset has none: shown as x1, x2, ...) */
const char *wb_ds_col_name(const wb_dataset *d, int64_t j);
int wb_ds_col_type(const wb_dataset *d, int64_t j);                /* WB_COL_* */
const wb_levels *wb_ds_col_levels(const wb_dataset *d, int64_t j); /* NULL for numbers */
/* the column named `name` (exact match first, then ignoring ASCII case), or
 * "x<k>" for an unnamed dataset; -1 when absent */
int64_t wb_ds_find_col(const wb_dataset *d, const char *name);
/* any category column? */
int wb_ds_has_categories(const wb_dataset *d);
/* set column j's name (copied) */
int wb_ds_set_colname(wb_dataset *d, int64_t j, const char *name);
/* set column j's type; levels (a reference is taken) for WB_COL_CATEGORY,
 * NULL for WB_COL_NUMBER */
int wb_ds_set_coltype(wb_dataset *d, int64_t j, int type, wb_levels *levels);
const char *wb_ds_label_name(const wb_dataset *d);       /* NULL: unnamed */
const wb_levels *wb_ds_label_levels(const wb_dataset *d); /* NULL: numeric labels */
/* the labels' name (copied; NULL clears) and levels (reference taken; NULL: numeric) */
int wb_ds_set_label_meta(wb_dataset *d, const char *name, wb_levels *levels);
/* give dst's columns 0..m) the names, types and levels of src's columns
 * cols[0..m) (cols NULL: src's first m columns); m <= dst->d */
int wb_ds_copy_cols(wb_dataset *dst, const wb_dataset *src, const int64_t *cols, int64_t m);
/* dst gets src's label name and levels */
int wb_ds_copy_label_meta(wb_dataset *dst, const wb_dataset *src);
/* both: every column (same d) and the labels */
int wb_ds_copy_meta(wb_dataset *dst, const wb_dataset *src);

typedef struct wb_dspart {
    wb_oid oid;
    int64_t rows, row0;
} wb_dspart;

struct wb_dataset {
    int refs; /* atomic */
    wb_exec *ex;
    int64_t n, d;
    int nparts;
    wb_dspart *parts;
    int has_labels;
    int is_vector;  /* one column meant as a vector (predictions, labels) */
    char **colnames; /* d names, or NULL */
    /* column types and levels (columns.c; see "columns" below) */
    unsigned char *coltypes; /* d WB_COL_* values, or NULL: every column a number */
    wb_levels **levels;      /* d level sets (NULL for a number column), or NULL */
    char *label_name;        /* the labels' column name, or NULL */
    wb_levels *label_levels; /* categorical labels: their levels, or NULL */
};

/* rows per partition for d columns (a multiple of WB_BLOCK_ROWS) */
int64_t wb_partition_rows(int64_t d);
/* a dataset over partition objects (takes over one reference of each oid) */
int wb_ds_new(wb_exec *ex, int64_t d, int has_labels, int nparts, const wb_dspart *parts,
              wb_dataset **out);
/* a dataset from rows in memory (copied into partitions); _like follows the
 * partition layout of `like` (which must have n rows) so the two line up */
int wb_ds_from_memory_like(wb_exec *ex, const double *x, const double *y, int64_t n, int64_t d,
                           const wb_dataset *like, wb_dataset **out);
/* a dataset from rows in memory (copied into partitions) */
int wb_ds_from_memory(wb_exec *ex, const double *x, const double *y, int64_t n, int64_t d,
                      wb_dataset **out);
wb_dataset *wb_ds_ref(wb_dataset *d);
void wb_ds_unref(wb_dataset *d);
int wb_ds_set_colnames(wb_dataset *d, const char *const *names);
/* partition boundaries are multiples of WB_BLOCK_ROWS (checked by wb_ds_new) */
int wb_ds_check_aligned(const wb_dataset *d);
/* fetch rows [lo, hi) into x ((hi-lo)*d) and y (hi-lo, if labels and y != NULL) */
int wb_ds_read_rows(const wb_dataset *d, int64_t lo, int64_t hi, double *x, double *y);
/* all labels (n doubles, malloc'd) */
int wb_ds_labels(const wb_dataset *d, double **out);
/* a copy of the dataset with the labels replaced by / set to column `col`
 * of v (a dataset aligned with d) */
int wb_ds_with_labels(const wb_dataset *d, const wb_dataset *labels, wb_dataset **out);

/* Row selection, repacked into aligned partitions. A row r (global index) with
 * class c is kept when it falls in [row_lo, row_hi) and, if nranges > 0, its
 * key u = uniform(seed, r) lies in one of the class's ranges [lo, hi)
 * (invert: outside them). Used for slices, train/test splits and folds. */
typedef struct wb_select {
    int64_t row_lo, row_hi; /* row_hi < 0: to the end */
    uint64_t seed;
    int invert;
    int nclasses;        /* 0: one class for all rows (no labels needed) */
    const double *classes; /* nclasses label values, sorted */
    int nranges;         /* ranges per class */
    const double *lo;    /* nclasses*nranges (or nranges if nclasses==0) */
    const double *hi;
} wb_select;
int wb_ds_select(const wb_dataset *d, const wb_select *sel, wb_dataset **out);
/* the key u of a row, as wb_ds_select uses it */
double wb_select_key(uint64_t seed, int64_t row);

/* NaN/Inf anywhere in the features or labels -> WB_EINVAL naming row and column */
int wb_ds_check_finite(const wb_dataset *d, const char *who);
/* distinct integer label values, sorted (malloc'd) */
int wb_ds_classes(const wb_dataset *d, const char *who, int max_classes, double **classes,
                  int *nclasses);

/* Columns and masks (dataset_cols.c). Each keeps the names, types, levels
 * and labels of what it keeps. */
/* the columns cols[0..m) in that order (a column < 0: the labels as a column) */
int wb_ds_select_cols(const wb_dataset *d, const int64_t *cols, int64_t m, wb_dataset **out);
/* a new dataset over the same partitions (for renaming: its metadata is its own) */
int wb_ds_shallow(const wb_dataset *d, wb_dataset **out);
/* v (a vector, or a labelled dataset's labels, aligned with d) as column j
 * (j = d->d: a new last column) named name (NULL: unnamed); v's levels make
 * it a category column */
int wb_ds_with_column(const wb_dataset *d, int64_t j, const char *name, const wb_dataset *v, wb_dataset **out);
/* the rows whose mask value is 1 (a vector of 0 and 1 aligned with d), in order */
int wb_ds_filter(const wb_dataset *d, const wb_dataset *mask, wb_dataset **out);
/* the distinct values of column col (-1: the labels) and their counts,
 * missing values apart: for a category every code 0..L-1 in order (counts
 * may be 0), for numbers the sorted distinct values (malloc'd) */
int wb_ds_value_counts(const wb_dataset *d, int64_t col, double **values, double **counts, int64_t *n,
                       double *missing);
/* exact quantiles (numpy's "linear", as pandas' describe) of the non-NaN
 * values of columns cols[0..ncol) (-1: the labels): out[c * nprob + q] */
int wb_ds_quantiles(const wb_dataset *d, const int64_t *cols, int64_t ncol, const double *probs, int64_t nprob,
                    double *out);
/* a copy of d on the executor `to`, partition by partition, with the same
 * layout, labels and names (dataset_copy.c; d:collect()) */
int wb_ds_copy(const wb_dataset *d, wb_exec *to, wb_dataset **out);

/* per-column count, mean, std (ddof 1), min, max as a map/reduce: out is 5*d
 * doubles: count[d], mean[d], std[d], min[d], max[d] */
int wb_ds_describe(const wb_dataset *d, double *out);

/* ------------------------------------------------------------------------
 * files (io/)
 * ---------------------------------------------------------------------- */
enum { WB_FMT_AUTO = 0, WB_FMT_LIBSVM = 1, WB_FMT_CSV = 2, WB_FMT_NPY = 3 };

typedef struct wb_read_opts {
    int format;          /* WB_FMT_* (AUTO: from the extension) */
    int header;          /* CSV: -1 detect, 0 no, 1 yes */
    int label;           /* CSV: WB_LABEL_* */
    const char *label_name; /* CSV: label column by name */
    int64_t features;    /* LIBSVM: number of columns (0: from the data / .meta) */
    int zero_based;      /* LIBSVM: -1 detect (the default: 0-based when an index 0
                            occurs, as scikit-learn's "auto"), 0 1-based, 1 0-based */
    int mmap;            /* NPY: 1 map the file (default), 0 read into memory */
    char delimiter;      /* CSV: 0 (default) tab for .tsv/.tab, else sniffed from the
                            first line: ',' unless it has none and has ';' (or tab, '|') */
    int64_t max_rows;    /* a file of more rows is refused (WB_ELIMIT) before its
                            partitions are made (0: no limit but the file's size
                            and the store's memory) */
    /* CSV columns (names as in the header; each name must exist) */
    const char *const *columns; /* keep these, in this order (NULL: all) */
    int64_t ncolumns;
    const char *const *drop;    /* leave these out */
    int64_t ndrop;
    const char *const *dtype_names; /* force these columns' types ... */
    const int *dtype_types;         /* ... WB_COL_NUMBER or WB_COL_CATEGORY */
    int64_t ndtype;
    const char *const *na_values; /* the missing-value tokens (replacing the default ones) */
    int64_t nna_values;           /* -1: the default ones (empty, NA, N/A, NaN, nan, null,
                                     NULL, ?, and the rest of pandas' list) */
    int64_t label_index;          /* WB_LABEL_INDEX: the label column, from 1 */
    int64_t max_levels;  /* CSV: a category column of more levels is refused (0: WB_MAX_LEVELS) */
    int qid;             /* LIBSVM: qid:N kept as a last column "qid" (1, default) or dropped (0) */
    int ragged_fill;     /* CSV: a line with fewer fields than the header has missing values
                            for the rest (1), or is an error (0, the default) */
} wb_read_opts;
enum { WB_LABEL_NONE = 0, WB_LABEL_FIRST = 1, WB_LABEL_LAST = 2, WB_LABEL_NAME = 3,
       WB_LABEL_AUTO = 4, WB_LABEL_INDEX = 5 };
#define WB_MAX_LEVELS 1000000

typedef struct wb_write_opts {
    int format;   /* WB_FMT_* (AUTO: from the extension) */
    char delimiter; /* CSV: 0 (default): tab for .tsv/.tab, else ',' */
    int header;   /* CSV: write a header (default 1) */
    int meta;     /* write the .meta sidecar (default 1) */
    int nclasses; /* for .meta (-1: count from labels) */
} wb_write_opts;

void wb_read_opts_init(wb_read_opts *o);
void wb_write_opts_init(wb_write_opts *o);
int wb_format_from_path(const char *path);
int wb_read(wb_exec *ex, const char *path, const wb_read_opts *o, wb_dataset **out);
int wb_write(const wb_dataset *d, const char *path, const wb_write_opts *o);

/* streaming writer: datasets appended in row order, n known in advance */
typedef struct wb_writer wb_writer;
int wb_writer_open(const char *path, const wb_write_opts *o, int64_t n, int64_t d,
                   int has_labels, wb_writer **out);
int wb_writer_append(wb_writer *w, const wb_dataset *chunk);
/* finish: rename into place and write .meta; on error or abort nothing is left */
int wb_writer_close(wb_writer *w);
void wb_writer_abort(wb_writer *w);

/* the studies' .meta sidecar */
typedef struct wb_meta {
    int64_t num_samples, num_features, num_classes, dataset_size;
} wb_meta;
int wb_meta_write(const char *datapath, const wb_meta *m);
int wb_meta_read(const char *datapath, wb_meta *m); /* ENOTFOUND if absent */

/* generate with a registered source, in memory or straight to a file */
int wb_generate(wb_exec *ex, const char *source, const wb_params *in, wb_dataset **out);
int wb_generate_to_file(wb_exec *ex, const char *source, const wb_params *in,
                        const char *path, const wb_write_opts *o);

#ifdef __cplusplus
}
#endif
#endif /* WB_WB_H */
