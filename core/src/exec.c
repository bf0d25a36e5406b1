/* exec.c — the executor interface: generic operations over an executor's
 * vtable (map, map_dataset, map_sum), the task runner shared by every
 * executor, and the inline executor used for work nested inside a task. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* ---------------------------------------------------------------- kernels */

/* Memory for a partition (freed with free()). Big buffers are aligned to 2 MB
 * and marked for transparent huge pages: a partition then costs a couple of
 * page faults instead of a thousand, which matters for generation and reading
 * speed. */
void *wb__alloc_big(size_t size)
{
    const size_t huge = (size_t)2 << 20;
    if (size < 2 * huge) return malloc(size);
    void *p = NULL;
    if (posix_memalign(&p, huge, size) != 0) return NULL;
    madvise(p, (size + huge - 1) & ~(huge - 1), MADV_HUGEPAGE);
    return p;
}

/* Room for a kernel's output of `bytes`, checked before allocating it: the
 * store's memory limit (which the result would meet when stored), and the
 * machine's memory (an allocation past it can succeed under overcommit and
 * get the process killed when touched). Found by fuzzing the readers: a
 * short file could ask for a partition of many gigabytes. */
size_t wb__phys_bytes(void)
{
    static size_t phys;
    if (!phys) {
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        phys = pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz : SIZE_MAX;
    }
    return phys;
}

size_t wb__avail_bytes(void)
{
    size_t phys = wb__phys_bytes();
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return phys;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    if (!kb || kb > (unsigned long long)(SIZE_MAX / 1024)) return phys;
    size_t a = (size_t)kb * 1024;
    return a < phys ? a : phys;
}

static int out_room(wb_kctx *ctx, size_t bytes)
{
    size_t phys = wb__phys_bytes();
    if (bytes > phys)
        return wb_seterr(WB_ENOMEM, "%s: out of memory: an output of %zu bytes is more than this machine's %zu bytes",
                         ctx->kernel, bytes, phys);
    return ctx->store ? wb__store_room(ctx->store, bytes) : 0; /* the message fulfill would give */
}

void *wb__out_bytes(wb_kctx *ctx, size_t size)
{
    if (ctx->mode == WB_TASK_BLOCKSUM) {
        if (size != ctx->sumlen * sizeof(double) || ctx->slot_taken) {
            wb_seterr(WB_EINVAL, "%s: a block sum kernel writes exactly %zu doubles once",
                      ctx->kernel, ctx->sumlen);
            return NULL;
        }
        ctx->slot_taken = 1;
        return ctx->slot;
    }
    if (ctx->out_type) {
        wb_seterr(WB_EINVAL, "%s: a kernel writes one output", ctx->kernel);
        return NULL;
    }
    if (out_room(ctx, size)) return NULL;
    void *p = calloc(1, size ? size : 1);
    if (!p) {
        wb_seterr(WB_ENOMEM, "%s: out of memory (%zu bytes)", ctx->kernel, size);
        return NULL;
    }
    ctx->out_type = WB_OBJ_BYTES;
    ctx->out_buf = p;
    ctx->out_size = size;
    return p;
}

int wb__out_part(wb_kctx *ctx, int64_t rows, int64_t cols, int64_t row0, int has_y, double **x,
                 double **y)
{
    if (ctx->mode != WB_TASK_PLAIN || ctx->out_type)
        return wb_seterr(WB_EINVAL, "%s: a kernel writes one output", ctx->kernel);
    if (rows < 0 || cols < 0 || row0 < 0)
        return wb_seterr(WB_EINVAL, "%s: bad partition shape %lld x %lld", ctx->kernel,
                         (long long)rows, (long long)cols);
    size_t nx, ny = has_y ? (size_t)rows : 0, bytes;
    if (__builtin_mul_overflow((size_t)rows, (size_t)cols, &nx) ||
        __builtin_mul_overflow(nx + ny, sizeof(double), &bytes) || bytes > SIZE_MAX / 2)
        return wb_seterr(WB_ENOMEM, "%s: out of memory: a partition of %lld x %lld is too large", ctx->kernel,
                         (long long)rows, (long long)cols);
    int rc = out_room(ctx, bytes);
    if (rc) return rc;
    double *buf = wb__alloc_big(bytes + 8);
    if (!buf)
        return wb_seterr(WB_ENOMEM, "%s: out of memory (%zu bytes)", ctx->kernel,
                         (nx + ny) * sizeof(double));
    ctx->out_type = WB_OBJ_PART;
    ctx->out_buf = buf;
    ctx->out_part = (wb_part){rows, cols, row0, buf, has_y ? buf + nx : NULL};
    if (x) *x = buf;
    if (y) *y = has_y ? buf + nx : NULL;
    return 0;
}

int wb__out_part_view(wb_kctx *ctx, const wb_part *p, void *buf, wb_mapping *m)
{
    if (ctx->mode != WB_TASK_PLAIN || ctx->out_type) {
        free(buf);
        wb_mapping_unref(m);
        return wb_seterr(WB_EINVAL, "%s: a kernel writes one output", ctx->kernel);
    }
    ctx->out_type = WB_OBJ_PART;
    ctx->out_buf = buf;
    ctx->out_map = m;
    ctx->out_part = *p;
    return 0;
}

int wb__cancelled(wb_kctx *ctx)
{
    WB_UNUSED(ctx);
    return wb_interrupted();
}

wb_oid wb__kctx_input(wb_kctx *ctx, int i)
{
    return i >= 0 && i < ctx->nin ? ctx->in_ids[i] : 0;
}

wb_exec *wb__kctx_exec(wb_kctx *ctx)
{
    if (!ctx->inl) ctx->inl = wb_exec_inline_new(ctx->store);
    return ctx->inl;
}

/* encoded block-sum result: see wb_treesum_add_encoded */
typedef struct bnode {
    uint32_t level;
    uint64_t index;
    double *v;
} bnode;

static int run_blocksum(wb_kctx *ctx, wb_kernel_fn fn, const wb_obj *in, int nin,
                        const wb_task *t, void **res, size_t *ressize)
{
    const wb_part *p = &in[0].part;
    size_t len = t->sumlen;
    int64_t B = WB_BLOCK_ROWS;
    if (p->row0 % B)
        return wb_seterr(WB_EINVAL, "%s: partition at row %lld is not aligned to %lld-row blocks",
                         t->kernel, (long long)p->row0, (long long)B);
    int64_t nb = (p->rows + B - 1) / B;
    bnode *st = calloc((size_t)(nb > 0 ? nb : 1) + 64, sizeof *st);
    if (!st) return wb_seterr(WB_ENOMEM, "out of memory");
    int sp = 0, rc = 0;
    wb_obj *sub = malloc((size_t)nin * sizeof *sub);
    if (!sub) {
        free(st);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    memcpy(sub, in, (size_t)nin * sizeof *sub);
    for (int64_t b = 0; b < nb && !rc; b++) {
        int64_t r0 = b * B, r1 = r0 + B < p->rows ? r0 + B : p->rows;
        sub[0].part.rows = r1 - r0;
        sub[0].part.row0 = p->row0 + r0;
        sub[0].part.x = p->x + (size_t)r0 * (size_t)p->cols;
        sub[0].part.y = p->y ? p->y + r0 : NULL;
        sub[0].size = (size_t)(r1 - r0) * (size_t)p->cols * 8 + (p->y ? (size_t)(r1 - r0) * 8 : 0);
        double *v = calloc(len ? len : 1, sizeof(double));
        if (!v) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        ctx->slot = v;
        ctx->slot_taken = 0;
        wb_clearerr();
        rc = fn(ctx, sub, nin, t->arg, t->arglen);
        if (rc > 0) rc = wb_seterr(WB_EINTERNAL, "%s: kernel returned %d", t->kernel, rc);
        if (!rc && !ctx->slot_taken)
            rc = wb_seterr(WB_EINVAL, "%s: the kernel wrote no block sum", t->kernel);
        if (rc) {
            free(v);
            break;
        }
        st[sp++] = (bnode){0, (uint64_t)(p->row0 / B + b), v};
        /* merge completed siblings, as the global tree does */
        while (sp >= 2 && st[sp - 1].level == st[sp - 2].level &&
               (st[sp - 2].index & 1) == 0 && st[sp - 1].index == (st[sp - 2].index | 1)) {
            double *l = st[sp - 2].v, *r = st[sp - 1].v;
            for (size_t k = 0; k < len; k++) l[k] += r[k];
            free(r);
            sp--;
            st[sp - 1].level++;
            st[sp - 1].index >>= 1;
        }
        if (wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
    }
    free(sub);
    if (!rc) {
        size_t size = 16 + (size_t)sp * 16 + (size_t)sp * len * sizeof(double);
        unsigned char *o = malloc(size);
        if (!o)
            rc = wb_seterr(WB_ENOMEM, "out of memory");
        else {
            uint64_t count = (uint64_t)sp, l64 = len;
            memcpy(o, &count, 8);
            memcpy(o + 8, &l64, 8);
            for (int i = 0; i < sp; i++) {
                uint32_t pad = 0;
                memcpy(o + 16 + (size_t)i * 16, &st[i].level, 4);
                memcpy(o + 16 + (size_t)i * 16 + 4, &pad, 4);
                memcpy(o + 16 + (size_t)i * 16 + 8, &st[i].index, 8);
                if (len)
                    memcpy(o + 16 + (size_t)sp * 16 + (size_t)i * len * sizeof(double), st[i].v,
                           len * sizeof(double));
            }
            *res = o;
            *ressize = size;
        }
    }
    for (int i = 0; i < sp; i++) free(st[i].v);
    free(st);
    return rc;
}

static int task_run(wb_store *store, const wb_task *t, wb_kernel_fn fn, wb_oid out, int owned)
{
    int rc = 0;
    wb_obj *in = calloc((size_t)(t->nin > 0 ? t->nin : 1), sizeof *in);
    int got = 0;
    wb_kctx ctx = {.store = store, .kernel = t->kernel, .mode = t->mode, .sumlen = t->sumlen,
                   .in_ids = t->in, .nin = t->nin};
    if (!in) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc && !fn) rc = wb_seterr(WB_ENOTFOUND, "no kernel named '%s'", t->kernel);
    if (!rc && wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
    for (int i = 0; !rc && i < t->nin; i++) {
        rc = wb_store_wait(store, t->in[i]);
        if (!rc) rc = wb_store_acquire(store, t->in[i], &in[i]);
        if (!rc) got++;
    }
    wb__in_kernel++;
    if (!rc) {
        if (t->mode == WB_TASK_BLOCKSUM) {
            if (t->nin < 1 || in[0].type != WB_OBJ_PART)
                rc = wb_seterr(WB_EINVAL, "%s: a block sum needs a partition as first input",
                               t->kernel);
            else {
                void *res = NULL;
                size_t size = 0;
                rc = run_blocksum(&ctx, fn, in, t->nin, t, &res, &size);
                if (!rc) {
                    ctx.out_type = WB_OBJ_BYTES;
                    ctx.out_buf = res;
                    ctx.out_size = size;
                }
            }
        } else {
            wb_clearerr(); /* a kernel failing without a message must not show a stale one */
            rc = fn(&ctx, in, t->nin, t->arg, t->arglen);
            if (rc > 0) rc = wb_seterr(WB_EINTERNAL, "%s: kernel returned %d", t->kernel, rc);
            if (!rc && wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
        }
    }
    wb__in_kernel--;
    for (int i = 0; i < got; i++) wb_store_unref(store, t->in[i]);
    free(in);
    if (ctx.inl) wb_exec_unref(ctx.inl);
    if (owned) { /* the runner's references go before the result is published */
        for (int i = 0; i < t->nin; i++) wb_store_unref(store, t->in[i]);
        wb_store_unref(store, out);
    }
    if (!rc && t->out_rows >= 0 &&
        (ctx.out_type != WB_OBJ_PART || ctx.out_part.rows != t->out_rows))
        rc = wb_seterr(WB_EINVAL, "%s: the kernel must write a partition of %lld rows",
                       t->kernel, (long long)t->out_rows);
    if (!rc) {
        if (ctx.out_type == WB_OBJ_PART)
            rc = wb_store_fulfill_part(store, out, &ctx.out_part, ctx.out_buf, ctx.out_map);
        else if (ctx.out_type == WB_OBJ_BYTES)
            rc = wb_store_fulfill_bytes(store, out, ctx.out_buf, ctx.out_size);
        else
            rc = wb_store_fulfill_bytes(store, out, calloc(1, 1), 0);
        ctx.out_buf = NULL; /* owned by the store now, or freed on failure */
    }
    wb_mapping_unref(ctx.out_map); /* the store took its own reference */
    if (rc) {
        free(ctx.out_buf);
        if (!wb_errmsg()[0]) wb_seterr(rc, "%s: %s", t->kernel, wb_strerror(rc));
        wb_store_fail(store, out, rc, wb_errmsg());
    }
    return rc;
}

int wb_task_run(wb_store *store, const wb_task *t, wb_kernel_fn fn, wb_oid out)
{
    return task_run(store, t, fn, out, 0);
}

int wb__task_run_owned(wb_store *store, const wb_task *t, wb_kernel_fn fn, wb_oid out)
{
    return task_run(store, t, fn, out, 1);
}

/* ------------------------------------------------------- generic operations */

wb_exec *wb_exec_ref(wb_exec *ex)
{
    if (ex) __atomic_fetch_add(&ex->refs, 1, __ATOMIC_SEQ_CST);
    return ex;
}

void wb_exec_unref(wb_exec *ex)
{
    if (ex && __atomic_fetch_sub(&ex->refs, 1, __ATOMIC_SEQ_CST) == 1) ex->vt->destroy(ex);
}

void wb_exec_info_get(wb_exec *ex, wb_exec_info *out)
{
    memset(out, 0, sizeof *out);
    ex->vt->info(ex, out);
}

int wb_exec_parallelism(wb_exec *ex)
{
    wb_exec_info i;
    wb_exec_info_get(ex, &i);
    return i.threads > 0 ? i.threads : 1;
}

int wb__parallelism(wb_exec *ex) { return wb_exec_parallelism(ex); }

int wb_exec_put(wb_exec *ex, const void *data, size_t size, wb_oid *out)
{
    return ex->vt->put(ex, data, size, out);
}
int wb_exec_put_part(wb_exec *ex, const wb_part *p, wb_oid *out)
{
    return ex->vt->put_part(ex, p, out);
}
int wb_exec_get(wb_exec *ex, wb_oid id, void **data, size_t *size)
{
    return ex->vt->get(ex, id, data, size);
}
void wb_exec_release(wb_exec *ex, wb_oid id)
{
    if (id) ex->vt->release(ex, id);
}
int wb_exec_ref_obj(wb_exec *ex, wb_oid id) { return ex->vt->ref(ex, id); }
int wb_exec_stat(wb_exec *ex, wb_oid id, wb_objstat *out) { return ex->vt->stat(ex, id, out); }
int wb_exec_wait(wb_exec *ex, const wb_oid *ids, int n) { return ex->vt->wait(ex, ids, n); }
int wb_exec_submit_tasks(wb_exec *ex, const wb_task *tasks, int n, wb_oid *outs)
{
    return ex->vt->submit(ex, tasks, n, outs);
}

int wb_exec_submit(wb_exec *ex, const char *kernel, const wb_oid *in, int nin, const void *arg,
                   size_t arglen, wb_oid *out)
{
    wb_task t = {kernel, in, nin, arg, arglen, WB_TASK_PLAIN, 0, -1};
    return ex->vt->submit(ex, &t, 1, out);
}

/* one task per partition: inputs are the partition then extra[] */
static int map_tasks(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra,
                     int nextra, const void *arg, size_t arglen, int mode, size_t sumlen,
                     int aligned, wb_oid *outs)
{
    if (!d || d->ex != ex)
        return wb_seterr(WB_EINVAL, "%s: the dataset belongs to another executor", kernel);
    int np = d->nparts, nin = 1 + nextra;
    if (np == 0) return 0;
    wb_task *tasks = calloc((size_t)np, sizeof *tasks);
    wb_oid *ins = calloc((size_t)np * (size_t)nin, sizeof *ins);
    if (!tasks || !ins) {
        free(tasks);
        free(ins);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    for (int i = 0; i < np; i++) {
        ins[(size_t)i * nin] = d->parts[i].oid;
        for (int j = 0; j < nextra; j++) ins[(size_t)i * nin + 1 + j] = extra[j];
        tasks[i] = (wb_task){kernel, ins + (size_t)i * nin, nin, arg, arglen, mode, sumlen,
                             aligned ? d->parts[i].rows : -1};
    }
    int rc = ex->vt->submit(ex, tasks, np, outs);
    free(tasks);
    free(ins);
    if (rc) return rc;
    rc = ex->vt->wait(ex, outs, np);
    if (rc) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", wb_errmsg());
        for (int i = 0; i < np; i++) ex->vt->release(ex, outs[i]);
        memset(outs, 0, (size_t)np * sizeof *outs);
        return wb_seterr(rc, "%s", msg);
    }
    return 0;
}

int wb_exec_map(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra,
                int nextra, const void *arg, size_t arglen, wb_oid *outs)
{
    return map_tasks(ex, kernel, d, extra, nextra, arg, arglen, WB_TASK_PLAIN, 0, 0, outs);
}

int wb_exec_map_dataset(wb_exec *ex, const char *kernel, const wb_dataset *d,
                        const wb_oid *extra, int nextra, const void *arg, size_t arglen,
                        wb_dataset **out)
{
    if (!d || d->ex != ex)
        return wb_seterr(WB_EINVAL, "%s: the dataset belongs to another executor", kernel);
    int np = d->nparts;
    wb_oid *outs = calloc((size_t)(np ? np : 1), sizeof *outs);
    wb_dspart *parts = calloc((size_t)(np ? np : 1), sizeof *parts);
    if (!outs || !parts) {
        free(outs);
        free(parts);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    int rc = map_tasks(ex, kernel, d, extra, nextra, arg, arglen, WB_TASK_PLAIN, 0, 1, outs);
    int64_t cols = 0;
    int has_y = 0;
    for (int i = 0; !rc && i < np; i++) {
        wb_objstat st;
        rc = ex->vt->stat(ex, outs[i], &st);
        if (!rc && (st.type != WB_OBJ_PART || (i > 0 && (st.cols != cols || st.has_y != has_y))))
            rc = wb_seterr(WB_EINVAL, "%s: partitions of different shapes", kernel);
        if (!rc && st.row0 != d->parts[i].row0)
            rc = wb_seterr(WB_EINVAL, "%s: partition %d written at row %lld, expected %lld", kernel,
                           i, (long long)st.row0, (long long)d->parts[i].row0);
        cols = st.cols;
        has_y = st.has_y;
        parts[i] = (wb_dspart){outs[i], d->parts[i].rows, d->parts[i].row0};
    }
    if (!rc && np == 0) cols = 0;
    if (!rc) rc = wb_ds_new(ex, cols, has_y, np, parts, out);
    else
        for (int i = 0; i < np; i++) wb_exec_release(ex, outs[i]);
    free(outs);
    free(parts);
    return rc;
}

int wb_exec_map_sum(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra,
                    int nextra, const void *arg, size_t arglen, double *out, size_t len)
{
    if (!d || d->ex != ex)
        return wb_seterr(WB_EINVAL, "%s: the dataset belongs to another executor", kernel);
    if (ex->vt->map_sum) return ex->vt->map_sum(ex, kernel, d, extra, nextra, arg, arglen, out, len);
    int np = d->nparts;
    int rc = wb_ds_check_aligned(d);
    if (rc) return rc;
    wb_oid *outs = calloc((size_t)(np ? np : 1), sizeof *outs);
    if (!outs) return wb_seterr(WB_ENOMEM, "out of memory");
    rc = map_tasks(ex, kernel, d, extra, nextra, arg, arglen, WB_TASK_BLOCKSUM, len, 0, outs);
    if (rc) {
        free(outs);
        return rc;
    }
    wb_treesum *t = wb_treesum_new(len, (d->n + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS);
    if (!t) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int i = 0; i < np; i++) {
        if (!rc) {
            void *data = NULL;
            size_t size = 0;
            rc = ex->vt->get(ex, outs[i], &data, &size);
            if (!rc) rc = wb_treesum_add_encoded(t, data, size);
            free(data);
        }
        ex->vt->release(ex, outs[i]);
    }
    if (!rc) rc = wb_treesum_result(t, out);
    wb_treesum_free(t);
    free(outs);
    return rc;
}

/* ------------------------------------------------------- the inline executor */

typedef struct inline_impl {
    wb_store *store;
} inline_impl;

static wb_store *istore(wb_exec *ex) { return ((inline_impl *)ex->impl)->store; }


static int i_put(wb_exec *ex, const void *data, size_t size, wb_oid *out)
{
    return wb_store_put_bytes(istore(ex), data, size, out);
}
static int i_put_part(wb_exec *ex, const wb_part *p, wb_oid *out)
{
    return wb_store_put_part(istore(ex), p, out);
}
static int i_get(wb_exec *ex, wb_oid id, void **data, size_t *size)
{
    int rc = wb_store_wait(istore(ex), id); /* a future: get blocks until it is set */
    return rc ? rc : wb_store_get_bytes(istore(ex), id, data, size);
}
static int i_ref(wb_exec *ex, wb_oid id) { return wb_store_ref(istore(ex), id); }
static void i_release(wb_exec *ex, wb_oid id) { wb_store_unref(istore(ex), id); }
static int i_stat(wb_exec *ex, wb_oid id, wb_objstat *out)
{
    return wb_store_stat(istore(ex), id, out);
}

static int i_submit(wb_exec *ex, const wb_task *tasks, int n, wb_oid *outs)
{
    wb_store *s = istore(ex);
    for (int i = 0; i < n; i++) {
        int rc = wb_store_reserve(s, &outs[i]);
        if (rc) {
            for (int j = 0; j < i; j++) wb_store_unref(s, outs[j]);
            return rc;
        }
        wb_task_run(s, &tasks[i], wb_kernel_find(tasks[i].kernel), outs[i]);
    }
    return 0;
}

static int i_wait(wb_exec *ex, const wb_oid *ids, int n)
{
    int first = 0;
    char msg[1024] = "";
    for (int i = 0; i < n; i++) {
        int rc = wb_store_wait(istore(ex), ids[i]);
        if (rc && !first) {
            first = rc;
            snprintf(msg, sizeof msg, "%s", wb_errmsg());
        }
    }
    return first ? wb_seterr(first, "%s", msg) : 0;
}

static void i_info(wb_exec *ex, wb_exec_info *out)
{
    WB_UNUSED(ex);
    out->kind = "inline";
    out->workers = 1;
    out->threads = 1;
}

static void i_destroy(wb_exec *ex)
{
    free(ex->impl);
    free(ex);
}

static const wb_exec_vt inline_vt = {"inline", i_put, i_put_part, i_get, i_ref, i_release,
                                     i_submit, i_wait, i_stat, i_info, i_destroy};

wb_exec *wb_exec_inline_new(wb_store *store)
{
    wb_exec *ex = calloc(1, sizeof *ex);
    inline_impl *im = calloc(1, sizeof *im);
    if (!ex || !im) {
        free(ex);
        free(im);
        return NULL;
    }
    im->store = store;
    ex->vt = &inline_vt;
    ex->refs = 1;
    ex->impl = im;
    return ex;
}
