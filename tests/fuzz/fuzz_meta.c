/* fuzz_meta.c — the .meta sidecar reader (a small JSON object).
 *
 * Input: the bytes of DATA.meta. Properties: failures carry a code and a
 * message naming the .meta file; on success every field is -1 (absent) or a
 * whole number >= 0, and when all four are present, writing them with
 * wb_meta_write and reading again gives the same values. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init_core();
    char path[600], meta[600];
    fz_path(path, sizeof path, "data.libsvm");
    fz_path(meta, sizeof meta, "data.libsvm.meta");
    fz_write(meta, data, size);
    wb_meta m;
    int rc = wb_meta_read(path, &m);
    fz_check_err(rc, "meta");
    if (rc) {
        FZ_ASSERT(strstr(wb_errmsg(), ".meta") != NULL, "the message does not name the file: %s", wb_errmsg());
        return 0;
    }
    fz_accepted = 1;
    int64_t v[4] = {m.num_samples, m.num_features, m.num_classes, m.dataset_size};
    int all = 1;
    for (int i = 0; i < 4; i++) {
        FZ_ASSERT(v[i] >= -1, "field %d read as %lld", i, (long long)v[i]);
        if (v[i] < 0) all = 0;
    }
    if (all) {
        rc = wb_meta_write(path, &m);
        FZ_ASSERT(rc == 0, "write: %s", wb_errmsg());
        wb_meta b;
        rc = wb_meta_read(path, &b);
        FZ_ASSERT(rc == 0, "reading back: %s", wb_errmsg());
        FZ_ASSERT(b.num_samples == m.num_samples && b.num_features == m.num_features &&
                      b.num_classes == m.num_classes && b.dataset_size == m.dataset_size,
                  "round trip changed the values");
    }
    return 0;
}
