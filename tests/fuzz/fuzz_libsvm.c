/* fuzz_libsvm.c — the LIBSVM reader (wb_read of a .libsvm file: io.scan and
 * io.parse kernels, the line reader, number parsing, the .meta sidecar).
 *
 * Input: the file's bytes [+ "\0" + options]. Option bits:
 *   0  zero_based
 *   1  features = 1 + bits 4..6
 *   2  a .meta sidecar saying num_features = bits 4..6
 * See fuzz_text.h for the properties checked. */
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_exec *ex = fz_exec();
    int opt = fz_trailer(data, &size);
    char path[600], meta[600], out[600];
    fz_path(path, sizeof path, "in.libsvm");
    fz_path(meta, sizeof meta, "in.libsvm.meta");
    fz_path(out, sizeof out, "out.libsvm");
    fz_write(path, data, size);
    if (opt & 4) {
        char m[200];
        int len = snprintf(m, sizeof m, "{\"num_samples\": 1, \"num_features\": %d}\n", (opt >> 4) & 7);
        fz_write(meta, m, (size_t)len);
    } else
        unlink(meta);

    wb_read_opts o;
    wb_read_opts_init(&o);
    o.zero_based = opt & 1;
    if (opt & 2) o.features = 1 + ((opt >> 4) & 7);
    wb_dataset *d = NULL;
    int rc = wb_read(ex, path, &o, &d);
    fz_check_err(rc, "read");
    if (rc == 0) {
        fz_accepted = 1;
        FZ_ASSERT(d->has_labels, "a LIBSVM file read without labels");
        FZ_ASSERT(d->n > 0, "no rows but no error");
        fz_touch_dataset(d);
        /* round trip */
        wb_write_opts wo;
        wb_write_opts_init(&wo);
        wo.meta = 0;
        rc = wb_write(d, out, &wo);
        fz_check_err(rc, "write");
        FZ_ASSERT(rc == 0 || rc == WB_ELIMIT, "writing what was read failed: %s", wb_errmsg());
        if (rc == 0) {
            wb_read_opts ro;
            wb_read_opts_init(&ro);
            if (d->d > 0) ro.features = d->d;
            wb_dataset *back = NULL;
            rc = wb_read(ex, out, &ro, &back);
            /* the memory limit may refuse a second copy: the harness's limit, not wb's */
            FZ_ASSERT(rc == 0 || rc == WB_ELIMIT, "reading back what wb wrote failed: %s", wb_errmsg());
            if (rc == 0) fz_same_dataset(d, back, "LIBSVM round trip");
            wb_ds_unref(back);
        }
        wb_ds_unref(d);
    }
    fz_check_store_empty("libsvm");
    return 0;
}
