/* task.c — running one task against a store, for every executor (the local
 * pool, the inline executor, cluster workers): its inputs waited for and
 * held, the kernel called with a context (wb_kctx) through which it writes
 * its one output (bytes or a partition, checked against the store's limit
 * and the machine's memory first), or once per block for a block sum; the
 * result stored under the task's reserved id, or the id failed with the
 * message. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------ a kernel's outputs */

int wb__out_room(wb_kctx *ctx, size_t bytes)
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
    if (wb__out_room(ctx, size)) return NULL;
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

int wb__out_bytes_take(wb_kctx *ctx, void *buf, size_t size)
{
    if (ctx->mode != WB_TASK_PLAIN || ctx->out_type) {
        free(buf);
        return wb_seterr(WB_EINVAL, "%s: a kernel writes one output", ctx->kernel);
    }
    int rc = wb__out_room(ctx, size);
    if (rc) {
        free(buf);
        return rc;
    }
    ctx->out_type = WB_OBJ_BYTES;
    ctx->out_buf = buf;
    ctx->out_size = size;
    return 0;
}

int wb__out_bytes_own(wb_kctx *ctx, void *buf, size_t size)
{
    if (ctx->mode != WB_TASK_PLAIN || ctx->out_type) {
        free(buf);
        return wb_seterr(WB_EINVAL, "%s: a kernel writes one output", ctx->kernel);
    }
    ctx->out_type = WB_OBJ_BYTES;
    ctx->out_buf = buf;
    ctx->out_size = size;
    return 0;
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
    int rc = wb__out_room(ctx, bytes);
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

void *wb__kctx_take_input(wb_kctx *ctx, int i)
{
    void *buf = NULL;
    /* the runner's reference and the one taken for the kernel's inputs */
    if (ctx->owned && i >= 0 && i < ctx->nin) wb__store_take_bytes(ctx->store, ctx->in_ids[i], 2, &buf);
    return buf;
}

wb_oid wb__kctx_input(wb_kctx *ctx, int i)
{
    return i >= 0 && i < ctx->nin ? ctx->in_ids[i] : 0;
}

/* ------------------------------------------------------------- running */

/* a block-sum task: the kernel once per block of in[0]; the block sums are
 * folded into tree nodes as they come and the nodes returned, encoded */
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
    /* the tree over the blocks up to this partition's last */
    wb_treesum *st = wb_treesum_new(len, p->row0 / B + nb);
    if (!st) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = 0;
    wb_obj *sub = malloc((size_t)nin * sizeof *sub);
    if (!sub) {
        wb_treesum_free(st);
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
        rc = wb__treesum_fold(st, (uint64_t)(p->row0 / B + b), v);
        if (!rc && wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
    }
    free(sub);
    if (!rc) rc = wb__treesum_encode(st, res, ressize);
    wb_treesum_free(st);
    return rc;
}

static int task_run(wb_store *store, const wb_task *t, wb_kernel_fn fn, wb_oid out, int owned)
{
    int rc = 0;
    wb_obj *in = calloc((size_t)(t->nin > 0 ? t->nin : 1), sizeof *in);
    int got = 0;
    wb_kctx ctx = {.store = store, .kernel = t->kernel, .mode = t->mode, .sumlen = t->sumlen,
                   .in_ids = t->in, .nin = t->nin, .owned = owned};
    if (!in) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc && !fn) rc = wb_seterr(WB_ENOTFOUND, "no kernel named '%s'", t->kernel);
    if (!rc && wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
    for (int i = 0; !rc && i < t->nin; i++) {
        rc = wb_store_wait(store, t->in[i]);
        if (!rc) rc = wb_store_acquire(store, t->in[i], &in[i]);
        if (!rc) got++;
    }
    /* the outermost tasks of this thread go to the dashboards' task stream */
    int top = wb__in_kernel == 0;
    double t0 = top ? wb_now() : 0;
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
    if (top) wb_activity_task(t->kernel, t0, wb_now(), rc == 0);
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
