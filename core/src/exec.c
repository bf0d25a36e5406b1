/* exec.c — the executor interface: the generic operations every executor
 * offers through its vtable (objects, tasks, waiting, the executor's
 * description), which are also the host table's entries. The executors:
 * exec_local.c (a thread pool), exec_inline.c (the calling thread),
 * cluster/driver.c (a cluster); how a task runs: task.c; maps over a
 * dataset: map.c. */
#include <string.h>

#include "internal.h"

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
