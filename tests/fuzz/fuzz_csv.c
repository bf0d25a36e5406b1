/* fuzz_csv.c — the CSV reader (wb_read of a .csv file: header detection, the
 * label column, quoted fields, io.scan/io.parse, number parsing).
 *
 * Input: the file's bytes [+ "\0" + options]. Option bits:
 *   0..1  header: detect, no, yes, detect
 *   2..4  label: auto, none, first, last, "label", "y", "no_such", auto
 *   5..6  delimiter: ',', ';', tab, '|'
 *   7     ragged = "fill", na_values = {"NA", "-"}, dtype = {b = "category"}
 * The bytes may be gzip or zstd (read as a stream, cut on the driver); text
 * fields make category columns, whose levels must survive the round trip.
 * gzip bytes are read twice, by the build's inflate (ISA-L when it has it)
 * and by zlib (WB_GZIP=zlib): the same dataset or the same error.  * See fuzz_text.h for the properties checked. */
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_exec *ex = fz_exec();
    int opt = fz_trailer(data, &size);
    char path[600], out[600];
    fz_path(path, sizeof path, "in.csv");
    fz_path(out, sizeof out, "out.csv");
    fz_write(path, data, size);

    wb_read_opts o;
    wb_read_opts_init(&o);
    static const int headers[4] = {-1, 0, 1, -1};
    o.header = headers[opt & 3];
    static const char *const names[8] = {NULL, NULL, NULL, NULL, "label", "y", "no_such", NULL};
    static const int labels[8] = {WB_LABEL_AUTO, WB_LABEL_NONE, WB_LABEL_FIRST, WB_LABEL_LAST,
                                  WB_LABEL_NAME, WB_LABEL_NAME, WB_LABEL_NAME, WB_LABEL_AUTO};
    o.label = labels[(opt >> 2) & 7];
    o.label_name = names[(opt >> 2) & 7];
    static const char delims[4] = {',', ';', '\t', '|'};
    o.delimiter = delims[(opt >> 5) & 3];
    static const char *const na[2] = {"NA", "-"};
    static const char *const dn[1] = {"b"};
    static const int dt[1] = {WB_COL_CATEGORY};
    if (opt & 128) {
        o.ragged_fill = 1;
        o.na_values = na;
        o.nna_values = 2;
        o.dtype_names = dn;
        o.dtype_types = dt;
        o.ndtype = 1;
    }

    wb_dataset *d = NULL;
    int rc = wb_read(ex, path, &o, &d);
    fz_check_err(rc, "read");
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        static char msg[4096];
        snprintf(msg, sizeof msg, "%s", rc ? wb_errmsg() : "");
        setenv("WB_GZIP", "zlib", 1);
        wb_dataset *z = NULL;
        int zrc = wb_read(ex, path, &o, &z);
        unsetenv("WB_GZIP");
        FZ_ASSERT(zrc == rc, "gzip: the build's inflate gives %d, zlib %d (%s)", rc, zrc, zrc ? wb_errmsg() : msg);
        if (rc) FZ_ASSERT(strcmp(msg, wb_errmsg()) == 0, "gzip: the build's inflate says \"%s\", zlib \"%s\"", msg, wb_errmsg());
        if (!rc) {
            fz_same_dataset(d, z, "gzip through zlib");
            for (int64_t j = 0; j < d->d; j++)
                FZ_ASSERT(wb_levels_count(wb_ds_col_levels(d, j)) == wb_levels_count(wb_ds_col_levels(z, j)),
                          "gzip through zlib: column %lld levels differ", (long long)j + 1);
        }
        wb_ds_unref(z);
    }
    if (rc == 0) {
        fz_accepted = 1;
        FZ_ASSERT(d->n > 0, "no rows but no error");
        fz_touch_dataset(d);
        /* round trip: written with a header, labels last */
        wb_write_opts wo;
        wb_write_opts_init(&wo);
        /* categories whose levels all read as numbers are numbers again
         * without the types .meta keeps: keep it then */
        wo.meta = wb_ds_has_categories(d) || d->label_levels;
        rc = wb_write(d, out, &wo);
        fz_check_err(rc, "write");
        FZ_ASSERT(rc == 0, "writing what was read failed: %s", wb_errmsg());
        wb_read_opts ro;
        wb_read_opts_init(&ro);
        ro.header = 1;
        ro.label = d->has_labels ? WB_LABEL_LAST : WB_LABEL_NONE;
        /* the same missing tokens: a level "null" is text only when it is not one */
        ro.na_values = o.na_values;
        ro.nna_values = o.nna_values;
        wb_dataset *back = NULL;
        rc = wb_read(ex, out, &ro, &back);
        /* the memory limit may refuse a second copy: the harness's limit, not wb's */
        FZ_ASSERT(rc == 0 || rc == WB_ELIMIT, "reading back what wb wrote failed: %s", wb_errmsg());
        if (rc == 0) fz_same_dataset(d, back, "CSV round trip");
        /* the same types and levels (all of them occur in the rows) */
        for (int64_t j = -1; back && j < d->d; j++) {
            const wb_levels *a = j < 0 ? d->label_levels : wb_ds_col_levels(d, j);
            const wb_levels *b = j < 0 ? back->label_levels : wb_ds_col_levels(back, j);
            FZ_ASSERT((a == NULL) == (b == NULL), "column %lld: category %d read back as %d", (long long)j + 1, a != NULL,
                      b != NULL);
            FZ_ASSERT(wb_levels_count(a) == wb_levels_count(b), "column %lld: %lld levels read back as %lld", (long long)j + 1,
                      (long long)wb_levels_count(a), (long long)wb_levels_count(b));
            for (int64_t k = 0; a && b && k < wb_levels_count(a); k++)
                FZ_ASSERT(strcmp(wb_levels_at(a, k), wb_levels_at(b, k)) == 0, "column %lld: level \"%s\" read back as \"%s\"",
                          (long long)j + 1, wb_levels_at(a, k), wb_levels_at(b, k));
        }
        /* the column names survive too */
        for (int64_t j = 0; back && d->colnames && j < d->d; j++)
            FZ_ASSERT((back->colnames && strcmp(d->colnames[j], back->colnames[j]) == 0) ||
                          (!d->colnames[j][0] && back->colnames && back->colnames[j][0] == 'x'),
                      "column %lld named \"%s\" read back as \"%s\"", (long long)j + 1, d->colnames[j],
                      back->colnames ? back->colnames[j] : "(none)");
        wb_ds_unref(back);
        wb_ds_unref(d);
    }
    fz_check_store_empty("csv");
    return 0;
}
