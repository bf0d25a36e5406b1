/* fuzz_npy.c — the NPY reader (the header's Python dict, dtypes, shapes,
 * versions 1-3, the labels file beside it, memory-mapped and read
 * partitions).
 *
 * Input: the features file's bytes; when the magic "\x93NUMPY" appears a
 * second time, the bytes from there are NAME.labels.npy. Each input is read
 * twice, mapped (mmap=true) and read into memory (mmap=false).
 *
 * Properties: failures carry a code and a message; both reads agree (both
 * fail, or give the same shape and the same numbers); every row of a
 * mapped partition can be read (a view past the end of the file would
 * fault); what was read, written as NPY by wb and read again, is the same;
 * nothing is left in the store. */
#include "fuzz_text.h"

static const char magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_exec *ex = fz_exec();
    char path[600], lpath[600], out[600], lout[600];
    fz_path(path, sizeof path, "in.npy");
    fz_path(lpath, sizeof lpath, "in.labels.npy");
    fz_path(out, sizeof out, "out.npy");
    fz_path(lout, sizeof lout, "out.labels.npy");
    size_t split = size;
    for (size_t i = 1; i + sizeof magic <= size; i++)
        if (memcmp(data + i, magic, sizeof magic) == 0) {
            split = i;
            break;
        }
    fz_write(path, data, split);
    if (split < size)
        fz_write(lpath, data + split, size - split);
    else
        unlink(lpath);

    wb_dataset *d[2] = {NULL, NULL};
    int rc[2];
    for (int m = 0; m < 2; m++) {
        wb_read_opts o;
        wb_read_opts_init(&o);
        o.mmap = m == 0;
        rc[m] = wb_read(ex, path, &o, &d[m]);
        fz_check_err(rc[m], m == 0 ? "read (mapped)" : "read (copied)");
        if (rc[m] == 0) fz_touch_dataset(d[m]);
    }
    FZ_ASSERT((rc[0] == 0) == (rc[1] == 0), "mapped read %s, copied read %s", wb_errname(rc[0]),
              wb_errname(rc[1]));
    if (rc[0] == 0) {
        fz_accepted = 1;
        FZ_ASSERT(d[0]->is_vector == d[1]->is_vector, "vector flag differs");
        fz_same_dataset(d[0], d[1], "mapped vs copied");
        wb_write_opts wo;
        wb_write_opts_init(&wo);
        wo.meta = 0;
        int w = wb_write(d[0], out, &wo);
        fz_check_err(w, "write");
        FZ_ASSERT(w == 0, "writing what was read failed: %s", wb_errmsg());
        wb_dataset *back = NULL;
        w = wb_read(ex, out, NULL, &back);
        FZ_ASSERT(w == 0, "reading back what wb wrote failed: %s", wb_errmsg());
        fz_same_dataset(d[0], back, "NPY round trip");
        FZ_ASSERT(back->is_vector == d[0]->is_vector, "vector flag lost in the round trip");
        wb_ds_unref(back);
        unlink(lout);
    }
    wb_ds_unref(d[0]);
    wb_ds_unref(d[1]);
    fz_check_store_empty("npy");
    return 0;
}
