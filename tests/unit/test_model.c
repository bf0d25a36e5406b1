/* test_model.c — models: fields, encoding, files saved and loaded bit for bit,
 * corrupt input refused with a message naming the file. */
#include "wbtest.h"

#include <math.h>

static wb_model *sample(void)
{
    wb_params *p = wb_params_new();
    wb_params_set_int(p, "k", 3);
    wb_params_set_str(p, "init", "random");
    wb_params_set_num(p, "tol", 1e-4);
    wb_model *m = wb_model_new("kmeans", p);
    wb_params_free(p);
    double c[6] = {0.1, -0.0, 1e-310, INFINITY, NAN, -1.0 / 3};
    assert_ok(wb_model_set_array(m, "centers", c, 3, 2));
    assert_ok(wb_model_set_num(m, "inertia", 12345.678901234567));
    assert_ok(wb_model_set_num(m, "iterations", 17));
    assert_ok(wb_model_set_str(m, "note", "converged"));
    assert_ok(wb_model_set_array(m, "empty", NULL, 0, 0));
    return m;
}

static void fields(void **state)
{
    (void)state;
    wb_model *m = sample();
    assert_string_equal(wb_model_estimator(m), "kmeans");
    assert_int_equal(wb_params_int(wb_model_params(m), "k"), 3);
    assert_int_equal(wb_model_nfields(m), 5);
    int type;
    assert_string_equal(wb_model_field_at(m, 0, &type), "centers");
    assert_int_equal(type, WB_F_ARRAY);
    assert_null(wb_model_field_at(m, 5, &type));
    assert_int_equal(wb_model_field_type(m, "note"), WB_F_STR);
    assert_int_equal(wb_model_field_type(m, "nope"), 0);
    assert_true(wb_model_num(m, "iterations") == 17);
    assert_true(isnan(wb_model_num(m, "note"))); /* not a number */
    assert_true(isnan(wb_model_num(m, "nope")));
    assert_null(wb_model_str(m, "inertia"));
    assert_null(wb_model_array(m, "note", NULL, NULL));
    /* replacing a field changes its type in place */
    assert_ok(wb_model_set_str(m, "iterations", "many"));
    assert_int_equal(wb_model_nfields(m), 5);
    assert_string_equal(wb_model_str(m, "iterations"), "many");
    assert_err(wb_model_set_array(m, "bad", NULL, 2, 2), WB_EINVAL, "model: bad array 'bad'");
    assert_err(wb_model_set_array(m, "bad", NULL, -1, 2), WB_EINVAL, "model: bad array 'bad'");
    assert_err(wb_model_set_num(m, "", 1), WB_EINVAL, "model: a field needs a name (under 64 KB)");
    assert_err(wb_model_set_str(m, NULL, "x"), WB_EINVAL, "model: a field needs a name (under 64 KB)");
    /* the host table's view */
    const wb_host *h = wb_host_table();
    assert_true(h->model_has(m, "centers"));
    assert_false(h->model_has(m, "nope"));
    void *data;
    size_t size;
    assert_ok(h->model_encode(m, &data, &size));
    wb_model *q;
    assert_ok(h->model_decode(data, size, &q));
    assert_string_equal(wb_model_str(q, "iterations"), "many");
    h->model_free(q);
    h->free(data);
    wb_model_free(m);
}

static void encode_round_trip(void **state)
{
    (void)state;
    wb_model *m = sample();
    wb_buf b = {0}, b2 = {0};
    assert_ok(wb_model_encode(m, &b));
    wb_model *q;
    assert_ok(wb_model_decode(b.p, b.len, &q));
    assert_string_equal(wb_model_estimator(q), "kmeans");
    assert_string_equal(wb_params_str(wb_model_params(q), "init"), "random");
    int64_t r, c;
    const double *a = wb_model_array(q, "centers", &r, &c);
    assert_int_equal(r, 3);
    assert_int_equal(c, 2);
    assert_memory_equal(a, wb_model_array(m, "centers", NULL, NULL), 6 * 8);
    assert_true(wb_model_num(q, "inertia") == 12345.678901234567);
    assert_string_equal(wb_model_str(q, "note"), "converged");
    assert_non_null(wb_model_array(q, "empty", &r, &c));
    assert_int_equal(r * c, 0);
    assert_ok(wb_model_encode(q, &b2));
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.p, b2.p, b.len);
    wb_model_free(q);
    wb_buf_free(&b2);

    /* malformed: every truncation, trailing bytes, random bytes and mutations */
    for (size_t k = 0; k < b.len; k++) {
        q = (wb_model *)1;
        assert_int_equal(wb_model_decode(b.p, k, &q), WB_EFORMAT);
        assert_null(q);
    }
    assert_err(wb_model_decode(b.p, 2, &q), WB_EFORMAT, "model: malformed encoding");
    unsigned char *r2 = malloc(b.len + 8);
    memcpy(r2, b.p, b.len);
    memset(r2 + b.len, 0, 8);
    assert_int_equal(wb_model_decode(r2, b.len + 8, &q), WB_EFORMAT);
    /* oversized counts: the field count, the estimator name length, the params length */
    uint32_t el;
    memcpy(&el, b.p + 4, 4);
    size_t nfield_at = 4 + 4 + el + 8, plen;
    uint64_t pl;
    memcpy(&pl, b.p + 4 + 4 + el, 8);
    plen = (size_t)pl;
    nfield_at += plen;
    memcpy(r2, b.p, b.len);
    uint32_t huge = 0x7fffffff;
    memcpy(r2 + nfield_at, &huge, 4);
    assert_int_equal(wb_model_decode(r2, b.len, &q), WB_EFORMAT);
    memcpy(r2, b.p, b.len);
    memcpy(r2 + 4, &huge, 4);
    assert_int_equal(wb_model_decode(r2, b.len, &q), WB_EFORMAT);
    memcpy(r2, b.p, b.len);
    uint64_t hp = UINT64_MAX;
    memcpy(r2 + 4 + 4 + el, &hp, 8);
    assert_int_equal(wb_model_decode(r2, b.len, &q), WB_EFORMAT);
    uint64_t s = 5;
    int decoded = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(r2, b.p, b.len);
        if (round % 2)
            for (size_t i = 0; i < b.len; i++) r2[i] = (unsigned char)wbt_next(&s);
        else
            for (int f = 0; f < 3; f++) r2[wbt_next(&s) % b.len] = (unsigned char)wbt_next(&s);
        if (round % 4 == 1) memcpy(r2, "WBM1", 4);
        int rc = wb_model_decode(r2, b.len, &q);
        assert_true(rc == 0 || rc == WB_EFORMAT);
        if (!rc) {
            decoded++;
            wb_model_free(q);
        }
    }
    assert_true(decoded > 0);
    free(r2);
    wb_buf_free(&b);
    wb_model_free(m);
}

/* an array's sides stay below 2^31: an empty array of 0 x 2^40 was accepted,
 * and a reader looping over its rows would not end */
static void array_sides(void **state)
{
    (void)state;
    wb_model *m = wb_model_new("kmeans", NULL);
    assert_err(wb_model_set_array(m, "e", NULL, 0, (int64_t)1 << 40), WB_EINVAL, "model: bad array 'e'");
    assert_err(wb_model_set_array(m, "e", NULL, (int64_t)1 << 31, 0), WB_EINVAL, "model: bad array 'e'");
    assert_ok(wb_model_set_array(m, "e", NULL, 0, 2147483647));
    wb_buf b = {0};
    assert_ok(wb_model_encode(m, &b));
    wb_model *q = NULL;
    assert_ok(wb_model_decode(b.p, b.len, &q));
    wb_model_free(q);
    int64_t big = (int64_t)1 << 40; /* the encoding ends with the array's rows and columns */
    memcpy(b.p + b.len - 8, &big, 8);
    assert_err(wb_model_decode(b.p, b.len, &q), WB_EFORMAT, "model: malformed encoding");
    memcpy(b.p + b.len - 16, &big, 8);
    memset(b.p + b.len - 8, 0, 8);
    assert_err(wb_model_decode(b.p, b.len, &q), WB_EFORMAT, "model: malformed encoding");
    wb_buf_free(&b);
    wb_model_free(m);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)l + 1);
    assert_int_equal(fread(p, 1, (size_t)l, f), (size_t)l);
    fclose(f);
    *n = (size_t)l;
    return p;
}

static void save_and_load(void **state)
{
    (void)state;
    char *dir = wbt_mkdtemp();
    char a[4200], b[4200], bad[4200], msg[5000];
    snprintf(a, sizeof a, "%s/a.wbm", dir);
    snprintf(b, sizeof b, "%s/b.wbm", dir);
    wb_model *m = sample();
    assert_ok(wb_model_save(m, a));
    wb_model *q;
    assert_ok(wb_model_load(a, &q));
    assert_ok(wb_model_save(q, b));
    size_t na, nb;
    unsigned char *pa = slurp(a, &na), *pb = slurp(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na); /* the same bytes after a round trip */
    assert_memory_equal(pa, "WBMODEL 1\n", 10);
    assert_memory_equal(wb_model_array(q, "centers", NULL, NULL), wb_model_array(m, "centers", NULL, NULL), 48);
    wb_model_free(q);
    /* nothing else is left in the folder (the temporary file was renamed) */
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", dir);
    assert_int_equal(system(cmd), 0);

    /* a corrupt file: the message names it */
    snprintf(bad, sizeof bad, "%s/bad.wbm", dir);
    for (int cut = 0; cut < 3; cut++) {
        FILE *f = fopen(bad, "wb");
        size_t keep = cut == 0 ? na - 5 : cut == 1 ? 10 : 4;
        fwrite(pa, 1, keep, f);
        fclose(f);
        q = (wb_model *)1;
        if (cut < 2) {
            snprintf(msg, sizeof msg, "%s: model: malformed encoding", bad);
            assert_err(wb_model_load(bad, &q), WB_EFORMAT, msg);
        } else {
            snprintf(msg, sizeof msg, "%s: not a wb model file (no \"WBMODEL 1\" header)", bad);
            assert_err(wb_model_load(bad, &q), WB_EFORMAT, msg);
        }
    }
    FILE *f = fopen(bad, "wb");
    fputs("hello, this is text\n", f);
    fclose(f);
    snprintf(msg, sizeof msg, "%s: not a wb model file (no \"WBMODEL 1\" header)", bad);
    assert_err(wb_model_load(bad, &q), WB_EFORMAT, msg);
    /* a flipped byte in the middle of an array is not detected (no checksum),
     * but a flipped length is */
    pa[10 + 4] ^= 0x40; /* the estimator name's length */
    f = fopen(bad, "wb");
    fwrite(pa, 1, na, f);
    fclose(f);
    snprintf(msg, sizeof msg, "%s: model: malformed encoding", bad);
    assert_err(wb_model_load(bad, &q), WB_EFORMAT, msg);
    /* missing file, folder, unwritable place */
    snprintf(bad, sizeof bad, "%s/none.wbm", dir);
    snprintf(msg, sizeof msg, "%s: cannot open: No such file or directory", bad);
    assert_err(wb_model_load(bad, &q), WB_ENOTFOUND, msg);
    snprintf(msg, sizeof msg, "%s: not a wb model file (no \"WBMODEL 1\" header)", dir);
    assert_err(wb_model_load(dir, &q), WB_EFORMAT, msg);
    snprintf(bad, sizeof bad, "%s/no/such/dir/m.wbm", dir);
    snprintf(msg, sizeof msg, "%s: cannot write: No such file or directory", bad);
    assert_err(wb_model_save(m, bad), WB_EIO, msg);
    char *longname = malloc(5000);
    memset(longname, 'a', 4999);
    longname[4999] = 0;
    assert_err(wb_model_save(m, longname), WB_EINVAL, "model: a file name of 4999 bytes is too long");
    free(longname);
    free(pa);
    free(pb);
    wb_model_free(m);
    wbt_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields),
        cmocka_unit_test(encode_round_trip),
        cmocka_unit_test(array_sides),
        cmocka_unit_test(save_and_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
