/* fuzz_model.c — model files and encodings (wb_model_load, wb_model_decode,
 * and the parameter decoder inside a model).
 *
 * Input: when it starts with the file header "WBMODEL 1\n", the bytes of a
 * model file loaded with wb_model_load; otherwise an encoding given to
 * wb_model_decode.
 *
 * Properties: failures carry a code and a message (the file's name for
 * files); a model that loads encodes to bytes that decode to a model
 * encoding to the same bytes (encode . decode is stable), its fields read
 * back by name with their types, and save + load keep it bit-identical. */
#include "fuzz.h"
#include "wb/plugin_cols.h"

static void check_model(const wb_model *m)
{
    int n = wb_model_nfields(m);
    for (int i = 0; i < n; i++) {
        int type = 0;
        const char *name = wb_model_field_at(m, i, &type);
        FZ_ASSERT(name && name[0], "field %d without a name", i);
        FZ_ASSERT(wb_model_field_type(m, name) == type, "field '%s': type by name differs", name);
        if (type == WB_F_STR) {
            const char *sv = wb_model_str(m, name);
            FZ_ASSERT(sv != NULL, "string field '%s' reads NULL", name);
            /* lists of names are kept as JSON (wb/plugin_cols.h): the parser
             * sees whatever a model file holds */
            wbc_jv *v = NULL;
            if (wbc_json_parse(sv, &v) == 0) {
                FZ_ASSERT(v != NULL, "field '%s': parsed to nothing", name);
                if (wbc_json_is_strings(v, -1, 0)) {
                    const char **ls = wbc_json_strings(v);
                    for (int64_t k = 0; ls && k < v->n; k++) FZ_ASSERT(ls[k] != NULL, "field '%s': item %lld", name, (long long)k);
                    free((void *)ls);
                }
                wbc_json_free(v);
            } else
                FZ_ASSERT(v == NULL, "field '%s': a failed parse left a value", name);
        }
        if (type == WB_F_ARRAY) {
            int64_t r = -1, c = -1;
            const double *a = wb_model_array(m, name, &r, &c);
            FZ_ASSERT(a && r >= 0 && c >= 0, "array field '%s'", name);
            volatile double s = 0;
            for (int64_t k = 0; k < r * c; k++) s += a[k];
            (void)s;
        }
    }
    const wb_params *p = wb_model_params(m);
    for (int i = 0; i < wb_params_count(p); i++) {
        char buf[256];
        const char *pn = wb_params_name_at(p, i);
        wb_params_format(p, pn, buf, sizeof buf);
        int64_t index;
        for (int64_t k = 0; wb_params_list(p, pn, k, &index) != NULL; k++) FZ_ASSERT(index >= 0, "list item %lld", (long long)k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init_core();
    static const char hdr[] = "WBMODEL 1\n";
    wb_model *m = NULL;
    int rc;
    char path[600];
    fz_path(path, sizeof path, "in.wbm");
    if (size >= sizeof hdr - 1 && memcmp(data, hdr, sizeof hdr - 1) == 0) {
        fz_write(path, data, size);
        rc = wb_model_load(path, &m);
        fz_check_err(rc, "load");
        if (rc) FZ_ASSERT(strstr(wb_errmsg(), "in.wbm") != NULL, "the message does not name the file: %s", wb_errmsg());
    } else {
        rc = wb_model_decode(data, size, &m);
        fz_check_err(rc, "decode");
    }
    if (rc) return 0;
    fz_accepted = 1;
    check_model(m);
    wb_buf a = {0}, b = {0};
    rc = wb_model_encode(m, &a);
    FZ_ASSERT(rc == 0, "encode: %s", wb_errmsg());
    wb_model *m2 = NULL;
    rc = wb_model_decode(a.p, a.len, &m2);
    FZ_ASSERT(rc == 0, "decoding an encoding: %s", wb_errmsg());
    rc = wb_model_encode(m2, &b);
    FZ_ASSERT(rc == 0 && a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "encode . decode is not stable");
    char out[600];
    fz_path(out, sizeof out, "out.wbm");
    rc = wb_model_save(m2, out);
    FZ_ASSERT(rc == 0, "save: %s", wb_errmsg());
    wb_model *m3 = NULL;
    rc = wb_model_load(out, &m3);
    FZ_ASSERT(rc == 0, "load after save: %s", wb_errmsg());
    wb_buf c = {0};
    rc = wb_model_encode(m3, &c);
    FZ_ASSERT(rc == 0 && c.len == a.len && memcmp(c.p, a.p, a.len) == 0, "save + load changed the model");
    wb_buf_free(&a);
    wb_buf_free(&b);
    wb_buf_free(&c);
    wb_model_free(m);
    wb_model_free(m2);
    wb_model_free(m3);
    return 0;
}
