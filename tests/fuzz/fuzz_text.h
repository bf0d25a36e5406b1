/* fuzz_text.h — the text readers' targets (LIBSVM, CSV) share this: an input
 * is the file's bytes, optionally followed by a trailer "\0" + one option
 * byte (so the seeds are plain files, read with the default options).
 *
 * Properties checked beyond "no crash":
 *   - a failure has a known code and a message (fz_check_err);
 *   - a dataset read has partitions that tile its rows, and every row can be
 *     read back;
 *   - round trip: what was read, written by wb in the same format and read
 *     again, gives the same numbers bit for bit (NaN as NaN), the same shape
 *     and the same labels — wb reads back what it writes;
 *   - nothing is left in the store. */
#ifndef WB_FUZZ_TEXT_H
#define WB_FUZZ_TEXT_H

#include <math.h>

#include "fuzz.h"

/* split off the trailer: returns the option byte (0 without one) */
static inline int fz_trailer(const uint8_t *data, size_t *size)
{
    if (*size >= 2 && data[*size - 2] == 0) {
        *size -= 2;
        return data[*size + 1];
    }
    return 0;
}

static inline int fz_same_double(double a, double b)
{
    if (isnan(a) && isnan(b)) return 1;
    return memcmp(&a, &b, sizeof a) == 0;
}

/* rows [lo, hi) of d (x, and y when labelled); 0, or WB_ELIMIT when the
 * rows read back do not fit beside the data in the store (the harness's
 * memory limit: the reading is refused with its message, as it must be) */
static FZ_HARNESS int fz_rows(const wb_dataset *d, int64_t lo, int64_t hi, double *x, double *y)
{
    int rc = wb_ds_read_rows(d, lo, hi, x, d->has_labels ? y : NULL);
    fz_check_err(rc, "read rows");
    FZ_ASSERT(rc == 0 || rc == WB_ELIMIT, "reading rows %lld..%lld: %s", (long long)lo, (long long)hi, wb_errmsg());
    return rc;
}

/* a and b hold the same shape, numbers and labels (compared in chunks of
 * about 1 MB, under the store's limit) */
static FZ_HARNESS void fz_same_dataset(const wb_dataset *a, const wb_dataset *b, const char *what)
{
    FZ_ASSERT(a->n == b->n && a->d == b->d && a->has_labels == b->has_labels,
              "%s: %lld x %lld (labels %d) read back as %lld x %lld (labels %d)", what, (long long)a->n,
              (long long)a->d, a->has_labels, (long long)b->n, (long long)b->d, b->has_labels);
    int64_t d = a->d, chunk = ((int64_t)1 << 17) / (d > 0 ? d : 1);
    if (chunk < 1) chunk = 1;
    if (chunk > a->n) chunk = a->n > 0 ? a->n : 1;
    double *xa = fz_buf(0, (size_t)(chunk * d) * 8 + 8), *xb = fz_buf(2, (size_t)(chunk * d) * 8 + 8);
    double *ya = fz_buf(1, (size_t)chunk * 8), *yb = fz_buf(3, (size_t)chunk * 8);
    for (int64_t lo = 0; lo < a->n; lo += chunk) {
        int64_t hi = lo + chunk < a->n ? lo + chunk : a->n;
        if (fz_rows(a, lo, hi, xa, ya) || fz_rows(b, lo, hi, xb, yb)) break; /* the store is full */
        for (int64_t i = 0; i < (hi - lo) * d; i++)
            FZ_ASSERT(fz_same_double(xa[i], xb[i]), "%s: row %lld column %lld: %.17g read back as %.17g", what,
                      (long long)(lo + i / d + 1), (long long)(i % d + 1), xa[i], xb[i]);
        for (int64_t i = 0; a->has_labels && i < hi - lo; i++)
            FZ_ASSERT(fz_same_double(ya[i], yb[i]), "%s: label of row %lld: %.17g read back as %.17g", what,
                      (long long)(lo + i + 1), ya[i], yb[i]);
    }
}

#endif
