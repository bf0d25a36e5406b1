/* fuzz_params_decode.c — the parameter-set decoder (wb_params_decode: the
 * encoding that ships parameters to kernels, workers and model files).
 *
 * Properties: failures carry a code and a message; a decoded set re-encodes
 * stably (encode . decode . encode = encode), copies to an equal set, and
 * every value formats and reads back by name with its type. */
#include "fuzz.h"

static void encode(const wb_params *p, wb_buf *b)
{
    int rc = wb_params_encode(p, b);
    FZ_ASSERT(rc == 0, "encode: %s", wb_errmsg());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init_core();
    wb_params *p = NULL;
    int rc = wb_params_decode(data, size, &p);
    fz_check_err(rc, "decode");
    if (rc) return 0;
    fz_accepted = 1;
    for (int i = 0; i < wb_params_count(p); i++) {
        const char *name = wb_params_name_at(p, i);
        FZ_ASSERT(name && name[0] && wb_params_has(p, name), "value %d", i);
        char buf[128];
        wb_params_format(p, name, buf, sizeof buf);
        int t = wb_params_type(p, name);
        if (t == WB_P_STR) FZ_ASSERT(wb_params_str(p, name) != NULL, "string '%s'", name);
        if (t == WB_P_ARRAY) {
            int64_t r, c;
            FZ_ASSERT(wb_params_array(p, name, &r, &c) != NULL && r >= 0 && c >= 0, "array '%s'", name);
        }
        (void)wb_params_num(p, name);
        (void)wb_params_int(p, name);
        (void)wb_params_bool(p, name);
    }
    wb_buf a = {0}, b = {0}, c = {0};
    encode(p, &a);
    wb_params *q = NULL;
    rc = wb_params_decode(a.p, a.len, &q);
    FZ_ASSERT(rc == 0, "decoding an encoding: %s", wb_errmsg());
    encode(q, &b);
    FZ_ASSERT(a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "encode . decode is not stable");
    wb_params *r = wb_params_copy(q);
    FZ_ASSERT(r != NULL, "copy");
    encode(r, &c);
    FZ_ASSERT(a.len == c.len && memcmp(a.p, c.p, a.len) == 0, "a copy encodes differently");
    wb_buf_free(&a);
    wb_buf_free(&b);
    wb_buf_free(&c);
    wb_params_free(p);
    wb_params_free(q);
    wb_params_free(r);
    return 0;
}
