/* internal.h — shared between core source files only, by the file that
 * defines each part. */
#ifndef WB_INTERNAL_H
#define WB_INTERNAL_H
#include <sys/types.h>

#include "wb/wb.h"

#define WB_UNUSED(x) (void)(x)

/* ------------------------------------------------------------ memory (mem.c) */

/* the machine's physical memory in bytes (SIZE_MAX when unknown) */
size_t wb__phys_bytes(void);
/* the memory available now (MemAvailable; the physical memory when unknown) */
size_t wb__avail_bytes(void);
/* partition-sized memory, freed with free() */
void *wb__alloc_big(size_t size);

/* ------------------------------------------------- opening files (io/common.c) */

/* Open a file to read without ever blocking: O_NONBLOCK (a FIFO waits for no
 * writer, a device is not read), fstat, and what is not a regular file closed
 * before any read (wb.load of a FIFO hung in open; wb.load_model("/dev/zero")
 * read until memory ran out). Returns 0 with *fd (blocking reads again) and
 * *size, the bound of every read; or an errno value: the open's, EISDIR for
 * a directory, ENODEV for anything else not a regular file (*mode says what,
 * see wb__file_kind). Messages are the caller's. */
int wb__open_regular(const char *path, int *fd, int64_t *size, mode_t *mode);
/* "a FIFO", "a character device", ... for a file mode */
const char *wb__file_kind(mode_t mode);
/* wb__open_regular with the readers' messages: "name: cannot open (reason)",
 * "name: cannot read (not a regular file: a FIFO)" */
int wb__io_open(const char *path, const char *name, int *fd, int64_t *size);

/* ------------------------------------------------------- the store (store.c) */

/* 0 if the store has room for an object of `bytes` under its memory limit,
 * else WB_ELIMIT with the limit's message */
int wb__store_room(wb_store *s, size_t bytes);
/* Take over the memory of bytes object id when exactly `refs` references
 * hold it and it owns that memory (not a mapping): 1 and *buf (malloc'd,
 * now the caller's; the object still points at it until freed, and frees
 * it no more), else 0. For a kernel that changes its only holder's input
 * in place. */
int wb__store_take_bytes(wb_store *s, wb_oid id, int refs, void **buf);

/* ------------------------------------------------------- tree sums (treesum.c) */

/* a partition's blocks in order: leaf `index` (takes over v, malloc'd, also
 * on failure) added and merged at once with the siblings it completes, so the
 * partial result holds few nodes */
int wb__treesum_fold(wb_treesum *t, uint64_t index, double *v);
/* the nodes held, encoded as wb_treesum_add_encoded reads them (*out malloc'd) */
int wb__treesum_encode(const wb_treesum *t, void **out, size_t *size);
/* move every node of src (a tree of the same length and blocks) into dst,
 * leaving src empty: as wb_treesum_add of each node, without the copies */
int wb__treesum_take(wb_treesum *dst, wb_treesum *src);

/* ------------------------------------------------ running a task (task.c) */

struct wb_kctx {
    wb_store *store;
    const char *kernel;
    int mode;
    size_t sumlen;
    double *slot;    /* BLOCKSUM: the current block's vector */
    int slot_taken;
    /* PLAIN output */
    int out_type;    /* 0 none yet */
    void *out_buf;
    size_t out_size;
    wb_part out_part;
    wb_mapping *out_map; /* PART viewing a mapping (one reference held) */
    wb_exec *inl;    /* lazily made inline executor (exec_inline.c) */
    const wb_oid *in_ids;
    int nin;
    int owned;       /* the runner holds one reference to each input */
};

/* host-table entries: a kernel's output, inputs and cancellation */
void *wb__out_bytes(wb_kctx *ctx, size_t size);
/* the output as bytes the kernel made itself (buf malloc'd, taken over, also
 * on failure): no copy of a large result built in growing memory */
int wb__out_bytes_take(wb_kctx *ctx, void *buf, size_t size);
int wb__out_part(wb_kctx *ctx, int64_t rows, int64_t cols, int64_t row0, int has_y, double **x,
                 double **y);
/* the output as a partition that views memory it does not copy: p's x and y
 * point into the mapping m and/or into buf (malloc'd). Takes over buf and the
 * caller's reference of m (either may be NULL), also on failure. Used by the
 * NPY reader for zero-copy partitions of a memory-mapped file. */
int wb__out_part_view(wb_kctx *ctx, const wb_part *p, void *buf, wb_mapping *m);
int wb__cancelled(wb_kctx *ctx);
/* 0 if an output of `bytes` fits (the store's limit, the machine's memory):
 * for a kernel that builds its output in memory of its own first */
int wb__out_room(wb_kctx *ctx, size_t bytes);
/* the output as bytes the kernel allocated (malloc'd; taken over, also on
 * failure), after checking wb__out_room for them */
int wb__out_bytes_own(wb_kctx *ctx, void *buf, size_t size);
wb_oid wb__kctx_input(wb_kctx *ctx, int i);
/* input i's bytes (in[i].data) taken over by the kernel when no one else
 * holds the object (the local pool: the runner's and this task's references
 * only): malloc'd, the kernel's to change and to output or free; NULL
 * otherwise (the kernel copies) */
void *wb__kctx_take_input(wb_kctx *ctx, int i);

/* wb_task_run for a runner that holds one reference to each input and to
 * `out` (the local pool's queue): they are dropped before the result is
 * published, so a waiter that wakes finds the task holding nothing */
int wb__task_run_owned(wb_store *store, const wb_task *t, wb_kernel_fn fn, wb_oid out);

/* ------------------------------------------------------- executors */

/* the inline executor of a running kernel, for its nested work (exec_inline.c) */
wb_exec *wb__kctx_exec(wb_kctx *ctx);
/* the host table's parallelism (exec.c) */
int wb__parallelism(wb_exec *ex);

/* ------------------------------------------------------- logs (log.c) */

/* kernels running on this thread (task_run counts them): wb_progress drops
 * the reports made inside a kernel, e.g. by fits that grid search runs in
 * parallel tasks, whose lines would replace each other and the caller's */
extern _Thread_local int wb__in_kernel;

/* ------------------------------------------------- the registry (registry.c) */

/* a name of a kernel, estimator, source or plugin: 1 to 128 of A-Z a-z 0-9 _ . - */
int wb__valid_name(const char *name);
/* the plugin whose wb_plugin_init runs on this thread: what is registered
 * now belongs to it (-1: none; the core registers as -1, and the host
 * table's registration entries are refused) */
void wb__registry_set_owner(int owner);
int wb__registry_owner(void);
/* remove everything a plugin registered (its init failed) */
void wb__registry_drop(int owner);

/* ------------------------------------------------------- fitting (fit.c) */

/* fit through the registry (host->fit) */
int wb__fit(wb_exec *ex, const char *estimator, const wb_dataset *d, const wb_params *p,
            wb_model **out);

/* ------------------------------------------------- columns (columns.c) */

/* free a dataset's names, types and levels (wb_ds_unref) */
void wb__ds_meta_free(wb_dataset *d);
/* the last step of a row-gathering operation (filter, select): submits the nout tasks t (when rc
 * is 0), waits, makes *out of their outputs with d's columns, names and types, and frees t (with
 * each task's input list), outs and parts; returns rc or the first error */
int wb__ds_gather_finish(const wb_dataset *d, int rc, wb_task *t, int nout, wb_oid *outs,
                         wb_dspart *parts, wb_dataset **out);

/* ------------------------------------------ built-in kernels (init.c calls) */

/* the dataset operations' kernels (dataset_ops.c); the io kernels: io_internal.h */
void wb__register_core_kernels(void);
/* the column and mask operations' kernels (dataset_cols.c) */
void wb__register_col_kernels(void);
/* the databases' kernels: sql.pg_read, sql.sqlite_read, sql.info,
 * sql.assemble (sql/read.c) */
void wb__register_sql_kernels(void);

#endif
