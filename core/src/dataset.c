/* dataset.c — a dataset: n x d float64 in partitions of block-aligned rows,
 * each an object of an executor; made from partition objects or from rows in
 * memory. The operations over a dataset's rows are in dataset_ops.c; its
 * column names, types and levels in columns.c. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int64_t wb_partition_rows(int64_t d)
{
    /* about 4 MB of features a partition: big enough to stream well, small
     * enough to balance over threads; never depends on the thread count */
    int64_t target = (int64_t)4 << 20, B = WB_BLOCK_ROWS;
    int64_t rows = target / (8 * (d > 0 ? d : 1));
    rows = rows / B * B;
    return rows < B ? B : rows;
}

int wb_ds_new(wb_exec *ex, int64_t d, int has_labels, int nparts, const wb_dspart *parts,
              wb_dataset **out)
{
    int64_t n = 0;
    for (int i = 0; i < nparts; i++) {
        if (parts[i].row0 != n || parts[i].rows <= 0 ||
            (i < nparts - 1 && parts[i].rows % WB_BLOCK_ROWS)) {
            for (int j = 0; j < nparts; j++) wb_exec_release(ex, parts[j].oid);
            return wb_seterr(WB_EINVAL,
                             "dataset: partition %d (rows %lld at %lld) breaks the layout (rows "
                             "in order, blocks of %d)",
                             i, (long long)parts[i].rows, (long long)parts[i].row0, WB_BLOCK_ROWS);
        }
        n += parts[i].rows;
    }
    wb_dataset *ds = calloc(1, sizeof *ds);
    if (ds) ds->parts = calloc((size_t)(nparts > 0 ? nparts : 1), sizeof *ds->parts);
    if (!ds || !ds->parts) {
        free(ds);
        for (int j = 0; j < nparts; j++) wb_exec_release(ex, parts[j].oid);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    ds->refs = 1;
    ds->ex = wb_exec_ref(ex);
    ds->n = n;
    ds->d = d;
    ds->nparts = nparts;
    if (nparts) memcpy(ds->parts, parts, (size_t)nparts * sizeof *parts);
    ds->has_labels = has_labels;
    *out = ds;
    return 0;
}

wb_dataset *wb_ds_ref(wb_dataset *d)
{
    if (d) __atomic_fetch_add(&d->refs, 1, __ATOMIC_SEQ_CST);
    return d;
}

void wb_ds_unref(wb_dataset *d)
{
    if (!d || __atomic_fetch_sub(&d->refs, 1, __ATOMIC_SEQ_CST) != 1) return;
    for (int i = 0; i < d->nparts; i++) wb_exec_release(d->ex, d->parts[i].oid);
    wb__ds_meta_free(d);
    wb_exec_unref(d->ex);
    free(d->parts);
    free(d);
}

int wb_ds_check_aligned(const wb_dataset *d)
{
    for (int i = 0; i < d->nparts; i++)
        if (d->parts[i].row0 % WB_BLOCK_ROWS)
            return wb_seterr(WB_EINVAL, "dataset: partition %d starts at row %lld, not a block boundary",
                             i, (long long)d->parts[i].row0);
    return 0;
}

int wb_ds_from_memory_like(wb_exec *ex, const double *x, const double *y, int64_t n, int64_t d,
                           const wb_dataset *like, wb_dataset **out)
{
    if (n < 0 || d < 0 || (n > 0 && d > 0 && !x))
        return wb_seterr(WB_EINVAL, "dataset: bad shape %lld x %lld", (long long)n, (long long)d);
    if (like && like->n != n)
        return wb_seterr(WB_EINVAL, "dataset: %lld rows cannot follow the layout of %lld rows", (long long)n,
                         (long long)like->n);
    /* the partition sizes: like's, or the default for d columns */
    int64_t P = wb_partition_rows(d);
    int np = like ? like->nparts : (int)((n + P - 1) / P);
    wb_dspart *parts = calloc((size_t)(np ? np : 1), sizeof *parts);
    if (!parts) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = 0, made = 0;
    for (int i = 0; i < np && !rc; i++) {
        int64_t r0 = like ? like->parts[i].row0 : (int64_t)i * P;
        int64_t rows = like ? like->parts[i].rows : (n - r0 < P ? n - r0 : P);
        wb_part p = {rows, d, r0, x + (size_t)r0 * (size_t)d, y ? y + r0 : NULL};
        rc = wb_exec_put_part(ex, &p, &parts[i].oid);
        parts[i].rows = rows;
        parts[i].row0 = r0;
        if (!rc) made++;
    }
    if (rc) {
        for (int i = 0; i < made; i++) wb_exec_release(ex, parts[i].oid);
        free(parts);
        return rc;
    }
    rc = wb_ds_new(ex, d, y != NULL, np, parts, out);
    free(parts);
    return rc;
}

int wb_ds_from_memory(wb_exec *ex, const double *x, const double *y, int64_t n, int64_t d,
                      wb_dataset **out)
{
    return wb_ds_from_memory_like(ex, x, y, n, d, NULL, out);
}
