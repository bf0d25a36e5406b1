/* map.c — a kernel mapped over the partitions of a dataset, one task per
 * partition (the partition, then the extra inputs): the result objects
 * (map), a dataset of result partitions in the same layout (map_dataset), or
 * the tree sum of per-block sums (map_sum, deterministic: see treesum.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
