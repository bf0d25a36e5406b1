/* fuzz_meta.c — the .meta sidecar reader (a small JSON object, parsed with
 * libjansson).
 *
 * Input: the bytes of DATA.meta. Properties: failures carry a code and a
 * message naming the .meta file; on success every field is -1 (absent) or a
 * whole number >= 0, and when all four are present, writing them with
 * wb_meta_write and reading again gives the same values. The columns'
 * reader (names, types, levels) gets the same bytes: it fails the same way,
 * or gives names and levels (sorted, distinct) for each column it counts. */
#include "fuzz.h"
#include "io/io_internal.h"

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
    wb_meta mc;
    wb_meta_cols c;
    rc = wb__meta_read_cols(path, &mc, &c);
    fz_check_err(rc, "meta columns");
    if (rc) FZ_ASSERT(strstr(wb_errmsg(), ".meta") != NULL, "the message does not name the file: %s", wb_errmsg());
    else {
        FZ_ASSERT(mc.num_samples == m.num_samples && mc.num_features == m.num_features &&
                      mc.num_classes == m.num_classes && mc.dataset_size == m.dataset_size,
                  "the columns' reader read other numbers");
        for (int64_t j = 0; j < c.n; j++) {
            FZ_ASSERT(c.names[j] != NULL, "column %lld has no name", (long long)j);
            FZ_ASSERT((c.types[j] == WB_COL_CATEGORY) == (c.levels[j] != NULL), "column %lld: type and levels disagree",
                      (long long)j);
            for (int64_t k = 1; c.levels[j] && k < wb_levels_count(c.levels[j]); k++)
                FZ_ASSERT(strcmp(wb_levels_at(c.levels[j], k - 1), wb_levels_at(c.levels[j], k)) < 0,
                          "column %lld: levels not sorted", (long long)j);
        }
        wb__meta_cols_free(&c);
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
