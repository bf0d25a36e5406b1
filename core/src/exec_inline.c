/* exec_inline.c — the inline executor: runs every task at once in the
 * calling thread over a given store. A running kernel gets one for the work
 * nested inside its task (wb__kctx_exec), over the store the task runs
 * against. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

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

/* the inline executor of a running kernel (made when first asked; the task
 * runner drops it when the kernel returns) */
wb_exec *wb__kctx_exec(wb_kctx *ctx)
{
    if (!ctx->inl) ctx->inl = wb_exec_inline_new(ctx->store);
    return ctx->inl;
}

/* encoded block-sum result: see wb_treesum_add_encoded */
