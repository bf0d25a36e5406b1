/* test_error.c — error codes, names, messages (error.c) and small utilities (util.c). */
#include "wbtest.h"

#include <pthread.h>

static void codes_are_distinct_and_named(void **state)
{
    (void)state;
    int codes[] = {
#define X(name, code, text) code,
        WB_ERRNO_MAP(X)
#undef X
    };
    const char *names[] = {
#define X(name, code, text) "WB_" #name,
        WB_ERRNO_MAP(X)
#undef X
    };
    int n = (int)(sizeof codes / sizeof codes[0]);
    assert_true(n >= 17);
    for (int i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        assert_string_equal(wb_errname(codes[i]), names[i]);
        assert_string_not_equal(wb_strerror(codes[i]), "unknown error");
        for (int j = 0; j < i; j++) assert_int_not_equal(codes[i], codes[j]);
    }
    assert_int_equal(WB_EINVAL, -1);
    assert_int_equal(WB_ECANCELED, -7);
    assert_string_equal(wb_strerror(WB_ECANCELED), "interrupted");
    assert_string_equal(wb_strerror(WB_ENOMEM), "out of memory");
    assert_string_equal(wb_strerror(0), "success");
    assert_string_equal(wb_errname(0), "WB_OK");
    assert_string_equal(wb_strerror(-999), "unknown error");
    assert_string_equal(wb_errname(-999), "WB_E?");
    assert_string_equal(wb_errname(5), "WB_E?");
}

static void seterr_and_preferr(void **state)
{
    (void)state;
    wb_clearerr();
    assert_string_equal(wb_errmsg(), "");
    assert_int_equal(wb_seterr(WB_EINVAL, "bad %s %d", "thing", 3), WB_EINVAL);
    assert_string_equal(wb_errmsg(), "bad thing 3");
    assert_int_equal(wb_preferr(WB_EIO, "file.txt:%d", 12), WB_EIO);
    assert_string_equal(wb_errmsg(), "file.txt:12: bad thing 3");
    /* the message may be its own argument */
    wb_seterr(WB_EINVAL, "outer (%s)", wb_errmsg());
    assert_string_equal(wb_errmsg(), "outer (file.txt:12: bad thing 3)");
    /* no message: the code's text */
    wb_clearerr();
    wb_preferr(WB_ENOTFOUND, "plugin x");
    assert_string_equal(wb_errmsg(), "plugin x: not found");
    wb_clearerr();
    wb_seterr(WB_EIO, "%s", "");
    assert_string_equal(wb_errmsg(), "input/output error");
    wb_clearerr();
    assert_string_equal(wb_errmsg(), "");
}

static void long_messages_are_truncated_safely(void **state)
{
    (void)state;
    char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    wb_seterr(WB_EINVAL, "%s", big);
    size_t l = strlen(wb_errmsg());
    assert_true(l > 500 && l < sizeof big);
    for (int i = 0; i < 5; i++) wb_preferr(WB_EINVAL, "%s", big); /* repeated prefixes */
    assert_true(strlen(wb_errmsg()) < 2048);
    assert_int_equal(wb_errmsg()[0], 'a');
    wb_clearerr();
}

static void *other_thread(void *arg)
{
    (void)arg;
    wb_seterr(WB_EIO, "from the other thread");
    return (void *)(intptr_t)(strcmp(wb_errmsg(), "from the other thread") == 0);
}

static void messages_are_per_thread(void **state)
{
    (void)state;
    wb_seterr(WB_EINVAL, "main thread");
    pthread_t t;
    void *ok;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &ok);
    assert_true(ok != NULL);
    assert_string_equal(wb_errmsg(), "main thread");
}

static void buffers_grow(void **state)
{
    (void)state;
    wb_buf b = {0};
    for (int i = 0; i < 1000; i++) assert_ok(wb_buf_printf(&b, "%d,", i));
    assert_ok(wb_buf_add(&b, "", 0));
    assert_ok(wb_buf_add(&b, "x", 1));
    assert_true(b.len < b.cap || b.len == b.cap);
    assert_int_equal(memcmp(b.p, "0,1,2,", 6), 0);
    assert_int_equal(b.p[b.len - 1], 'x');
    assert_int_equal(memcmp(b.p + b.len - 5, "999,x", 5), 0);
    size_t len = b.len;
    assert_err_has(wb_buf_reserve(&b, SIZE_MAX), WB_ENOMEM, "out of memory");
    assert_err_has(wb_buf_reserve(&b, SIZE_MAX - b.len + 1), WB_ENOMEM, "out of memory");
    assert_int_equal(b.len, len); /* untouched */
    wb_buf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
}

static void interrupt_flag_and_misc(void **state)
{
    (void)state;
    wb_interrupt_clear();
    assert_false(wb_interrupted());
    wb_interrupt();
    assert_true(wb_interrupted());
    wb_interrupt_clear();
    assert_false(wb_interrupted());
    assert_true(wb_ncpu() >= 1);
    double t0 = wb_now();
    usleep(20000);
    double t1 = wb_now();
    assert_true(t1 - t0 >= 0.019 && t1 - t0 < 5);
    assert_true(wb_peak_rss() > 0);
    assert_true(wb_current_rss() > 0);
    assert_null(wb_strdup(NULL));
    char *s = wb_strdup("abc");
    assert_string_equal(s, "abc");
    free(s);
}

static void partition_encoding(void **state)
{
    (void)state;
    double x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {0, 1, 0};
    wb_part p = {3, 2, 8192, x, y}, q;
    size_t n = wb_part_encoded_size(&p);
    unsigned char *buf = malloc(n);
    wb_part_encode(&p, buf);
    assert_ok(wb_part_decode(buf, n, &q));
    assert_int_equal(q.rows, 3);
    assert_int_equal(q.cols, 2);
    assert_int_equal(q.row0, 8192);
    assert_memory_equal(q.x, x, sizeof x);
    assert_memory_equal(q.y, y, sizeof y);
    /* every truncation is refused */
    for (size_t k = 0; k < n; k++) assert_int_equal(wb_part_decode(buf, k, &q), WB_EFORMAT);
    assert_err(wb_part_decode(buf, 10, &q), WB_EFORMAT, "partition: truncated header (10 bytes)");
    assert_err(wb_part_decode(buf, n - 8, &q), WB_EFORMAT,
               "partition: size 96 does not match shape 3 x 2");
    buf[0] = 'X';
    assert_err(wb_part_decode(buf, n, &q), WB_EFORMAT, "partition: bad magic");
    buf[0] = 'W';
    int64_t huge = (int64_t)1 << 62;
    memcpy(buf + 8, &huge, 8); /* rows */
    assert_err_has(wb_part_decode(buf, n, &q), WB_EFORMAT, "partition: bad shape");
    free(buf);
    /* without labels */
    wb_part r = {3, 2, 0, x, NULL};
    n = wb_part_encoded_size(&r);
    buf = malloc(n);
    wb_part_encode(&r, buf);
    assert_ok(wb_part_decode(buf, n, &q));
    assert_null(q.y);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes_are_distinct_and_named),
        cmocka_unit_test(seterr_and_preferr),
        cmocka_unit_test(long_messages_are_truncated_safely),
        cmocka_unit_test(messages_are_per_thread),
        cmocka_unit_test(buffers_grow),
        cmocka_unit_test(interrupt_flag_and_misc),
        cmocka_unit_test(partition_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
