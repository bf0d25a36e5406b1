/* dataset_copy.c — a dataset copied to another executor, partition by
 * partition, with its columns' names, types and levels (d:collect() brings a cluster's dataset to the driver's local
 * store before the cluster goes away). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int wb_ds_copy(const wb_dataset *d, wb_exec *to, wb_dataset **out)
{
    *out = NULL;
    wb_dspart *parts = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *parts);
    if (!parts) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = 0, made = 0;
    for (int i = 0; i < d->nparts && !rc; i++) {
        void *data = NULL;
        size_t size = 0;
        rc = wb_exec_wait(d->ex, &d->parts[i].oid, 1);
        if (!rc) rc = wb_exec_get(d->ex, d->parts[i].oid, &data, &size);
        wb_part p;
        if (!rc && wb_part_decode(data, size, &p))
            rc = wb_seterr(WB_EFORMAT, "partition %d of the dataset came back malformed", i + 1);
        if (!rc && (p.rows != d->parts[i].rows || p.cols != d->d))
            rc = wb_seterr(WB_EFORMAT, "partition %d of the dataset came back with %lld x %lld values, %lld x %lld expected",
                           i + 1, (long long)p.rows, (long long)p.cols, (long long)d->parts[i].rows, (long long)d->d);
        if (!rc) {
            p.row0 = d->parts[i].row0;
            rc = wb_exec_put_part(to, &p, &parts[i].oid);
        }
        free(data);
        if (!rc) {
            parts[i].rows = d->parts[i].rows;
            parts[i].row0 = d->parts[i].row0;
            made++;
        }
    }
    if (rc) {
        for (int i = 0; i < made; i++) wb_exec_release(to, parts[i].oid);
        free(parts);
        return rc;
    }
    wb_dataset *o = NULL;
    rc = wb_ds_new(to, d->d, d->has_labels, d->nparts, parts, &o); /* (releases the parts if it fails) */
    free(parts);
    if (rc) return rc;
    o->is_vector = d->is_vector;
    rc = wb_ds_copy_meta(o, d); /* names, types and levels, the labels' name and levels */
    if (rc) {
        wb_ds_unref(o);
        return rc;
    }
    *out = o;
    return 0;
}
