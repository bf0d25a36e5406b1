/* test_store.c — the object store: ids, reference counts, pending / ready /
 * failed states, waiting, the memory limit, many ids (rehashing). */
#include "wbtest.h"

#include <pthread.h>

#include "internal.h"

static void put_get_and_refcounts(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(3);
    wb_oid a, b;
    assert_ok(wb_store_put_bytes(s, "hello", 5, &a));
    assert_ok(wb_store_put_bytes(s, "", 0, &b));
    assert_int_equal(a >> 40, 3); /* the prefix */
    assert_int_not_equal(a, b);
    assert_int_equal(wb_store_count(s), 2);
    assert_int_equal(wb_store_bytes(s), 5);
    assert_int_equal(wb_store_state(s, a), WB_ST_READY);

    void *data;
    size_t size;
    assert_ok(wb_store_get_bytes(s, a, &data, &size));
    assert_int_equal(size, 5);
    assert_memory_equal(data, "hello", 5);
    free(data);
    assert_ok(wb_store_get_bytes(s, b, &data, &size));
    assert_int_equal(size, 0);
    free(data);

    wb_obj o;
    assert_ok(wb_store_acquire(s, a, &o)); /* +1 */
    assert_int_equal(o.type, WB_OBJ_BYTES);
    assert_int_equal(o.size, 5);
    assert_ok(wb_store_ref(s, a)); /* +1: three references */
    wb_store_unref(s, a);
    wb_store_unref(s, a);
    assert_int_equal(wb_store_state(s, a), WB_ST_READY);
    wb_store_unref(s, a); /* the last one */
    assert_int_equal(wb_store_state(s, a), -1);
    assert_int_equal(wb_store_count(s), 1);
    assert_int_equal(wb_store_bytes(s), 0);
    char msg[128];
    snprintf(msg, sizeof msg, "object %llx not in the store", (unsigned long long)a);
    assert_err(wb_store_ref(s, a), WB_ENOTFOUND, msg);
    assert_err(wb_store_acquire(s, a, &o), WB_ENOTFOUND, msg);
    assert_err(wb_store_wait(s, a), WB_ENOTFOUND, msg);
    assert_err(wb_store_get_bytes(s, a, &data, &size), WB_ENOTFOUND, msg);
    wb_store_unref(s, a); /* unknown ids are ignored */
    wb_store_unref(s, b);
    assert_int_equal(wb_store_count(s), 0);
    wb_store_free(s);
}

static void partitions(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(0);
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[4] = {1, 0, 1, 0};
    wb_part p = {4, 2, 4096, x, y};
    wb_oid id;
    assert_ok(wb_store_put_part(s, &p, &id));
    x[0] = 99; /* copied */
    wb_obj o;
    assert_ok(wb_store_acquire(s, id, &o));
    assert_int_equal(o.type, WB_OBJ_PART);
    assert_int_equal(o.size, 8 * 8 + 4 * 8);
    assert_int_equal(o.part.rows, 4);
    assert_int_equal(o.part.row0, 4096);
    assert_true(o.part.x[0] == 1.0);
    assert_memory_equal(o.part.y, y, sizeof y);
    wb_store_unref(s, id);
    wb_objstat st;
    assert_ok(wb_store_stat(s, id, &st));
    assert_int_equal(st.type, WB_OBJ_PART);
    assert_int_equal(st.rows, 4);
    assert_int_equal(st.cols, 2);
    assert_int_equal(st.row0, 4096);
    assert_int_equal(st.has_y, 1);
    void *data;
    size_t size;
    assert_ok(wb_store_get_bytes(s, id, &data, &size));
    wb_part q;
    assert_ok(wb_part_decode(data, size, &q));
    assert_int_equal(q.rows, 4);
    assert_true(q.x[0] == 1.0 && q.x[7] == 8.0 && q.y[2] == 1.0);
    free(data);
    assert_int_equal(wb_store_bytes(s), 96);
    wb_store_unref(s, id);
    assert_int_equal(wb_store_bytes(s), 0);
    wb_store_free(s);
}

static void pending_ready_failed(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(0);
    wb_oid a, b;
    assert_ok(wb_store_reserve(s, &a));
    assert_ok(wb_store_reserve(s, &b));
    assert_int_equal(wb_store_state(s, a), WB_ST_PENDING);
    wb_obj o;
    char msg[128];
    snprintf(msg, sizeof msg, "object %llx is not ready", (unsigned long long)a);
    assert_err(wb_store_acquire(s, a, &o), WB_ESTATE, msg);
    char *buf = malloc(3);
    memcpy(buf, "abc", 3);
    assert_ok(wb_store_fulfill_bytes(s, a, buf, 3));
    assert_int_equal(wb_store_state(s, a), WB_ST_READY);
    assert_ok(wb_store_wait(s, a));
    /* a second value is refused (and its buffer freed) */
    buf = malloc(3);
    snprintf(msg, sizeof msg, "object %llx already set", (unsigned long long)a);
    assert_err(wb_store_fulfill_bytes(s, a, buf, 3), WB_ESTATE, msg);

    assert_ok(wb_store_fail(s, b, WB_EIO, "disk on fire"));
    assert_int_equal(wb_store_state(s, b), WB_ST_FAILED);
    assert_err(wb_store_wait(s, b), WB_EIO, "disk on fire");
    assert_err(wb_store_acquire(s, b, &o), WB_EIO, "disk on fire");
    /* failing twice keeps the first reason; failing a ready object does nothing */
    wb_store_fail(s, b, WB_ENOMEM, "second");
    assert_err(wb_store_wait(s, b), WB_EIO, "disk on fire");
    wb_store_fail(s, a, WB_EIO, "late");
    assert_ok(wb_store_wait(s, a));
    /* a failure without a message gets the code's text */
    wb_oid c;
    assert_ok(wb_store_reserve(s, &c));
    wb_store_fail(s, c, WB_ETIMEDOUT, NULL);
    assert_err(wb_store_wait(s, c), WB_ETIMEDOUT, "timed out");
    wb_oid e;
    assert_ok(wb_store_reserve(s, &e));
    wb_store_fail(s, e, 0, ""); /* no code, no words: an internal error */
    assert_err(wb_store_wait(s, e), WB_EINTERNAL, "internal error");
    /* a given id */
    assert_ok(wb_store_reserve_id(s, ((wb_oid)7 << 40) | 5));
    snprintf(msg, sizeof msg, "object %llx exists", (unsigned long long)(((wb_oid)7 << 40) | 5));
    assert_err(wb_store_reserve_id(s, ((wb_oid)7 << 40) | 5), WB_EEXIST, msg);
    buf = malloc(1);
    assert_err_has(wb_store_fulfill_bytes(s, 12345, buf, 1), WB_ENOTFOUND, "not in the store");
    wb_store_free(s); /* frees what is left, pending or not */
}

typedef struct waiter {
    wb_store *s;
    wb_oid id;
    int rc;
    char msg[256];
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    w->rc = wb_store_wait(w->s, w->id);
    snprintf(w->msg, sizeof w->msg, "%s", w->rc ? wb_errmsg() : "");
    return NULL;
}

static void wait_blocks_until_set(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(0);
    wb_oid a, b, c;
    assert_ok(wb_store_reserve(s, &a));
    assert_ok(wb_store_reserve(s, &b));
    assert_ok(wb_store_reserve(s, &c));
    waiter wa = {s, a, 99, ""}, wb_ = {s, b, 99, ""}, wc = {s, c, 99, ""};
    pthread_t ta, tb, tc;
    pthread_create(&ta, NULL, wait_thread, &wa);
    pthread_create(&tb, NULL, wait_thread, &wb_);
    pthread_create(&tc, NULL, wait_thread, &wc);
    usleep(30000);
    /* nothing is set yet: the waiters still wait */
    assert_int_equal(__atomic_load_n(&wa.rc, __ATOMIC_SEQ_CST), 99);
    wb_store_fulfill_bytes(s, a, malloc(1), 1);
    wb_store_fail(s, b, WB_EINVAL, "kernel x: bad input");
    wb_store_unref(s, c); /* dropped while pending: its waiter must not hang */
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(tc, NULL);
    assert_int_equal(wa.rc, 0);
    assert_int_equal(wb_.rc, WB_EINVAL);
    assert_string_equal(wb_.msg, "kernel x: bad input");
    assert_int_equal(wc.rc, WB_ENOTFOUND);
    wb_store_free(s);
}

static void memory_limit(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(0);
    wb_store_set_limit(s, 1000);
    char buf[1200] = {0};
    wb_oid a, b, c;
    assert_ok(wb_store_put_bytes(s, buf, 800, &a));
    assert_err(wb_store_put_bytes(s, buf, 300, &b), WB_ELIMIT,
               "memory limit: an object of 300 bytes would bring the store to 1100 of 1000 bytes");
    assert_int_equal(wb_store_count(s), 1); /* the refused object is gone */
    assert_int_equal(wb_store_bytes(s), 800);
    /* a pending object fulfilled past the limit fails with the same reason */
    assert_ok(wb_store_reserve(s, &c));
    assert_int_equal(wb_store_fulfill_bytes(s, c, malloc(201), 201), WB_ELIMIT);
    assert_err(wb_store_wait(s, c), WB_ELIMIT,
               "memory limit: an object of 201 bytes would bring the store to 1001 of 1000 bytes");
    wb_store_unref(s, c);
    assert_ok(wb_store_put_bytes(s, buf, 200, &b)); /* exactly at the limit */
    assert_int_equal(wb_store_bytes(s), 1000);
    wb_store_unref(s, a);
    assert_ok(wb_store_put_bytes(s, buf, 700, &a)); /* room again */
    wb_store_set_limit(s, 0);                       /* no limit */
    assert_ok(wb_store_put_bytes(s, buf, 1200, &c));
    /* partitions count their payload */
    wb_store_set_limit(s, wb_store_bytes(s) + 100);
    double x[20] = {0};
    wb_part p = {10, 2, 0, x, NULL};
    wb_oid d;
    assert_err_has(wb_store_put_part(s, &p, &d), WB_ELIMIT, "an object of 160 bytes");
    wb_store_free(s);
}

static void many_ids_and_rehash(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(1);
    enum { N = 50000 };
    wb_oid *ids = malloc(N * sizeof *ids);
    for (int i = 0; i < N; i++) assert_ok(wb_store_put_bytes(s, &i, sizeof i, &ids[i]));
    assert_int_equal(wb_store_count(s), N);
    /* every id distinct and readable */
    for (int i = 0; i < N; i += 7) {
        wb_obj o;
        assert_ok(wb_store_acquire(s, ids[i], &o));
        assert_int_equal(*(const int *)o.data, i);
        wb_store_unref(s, ids[i]);
    }
    /* drop the odd ones: tombstones everywhere */
    for (int i = 1; i < N; i += 2) wb_store_unref(s, ids[i]);
    assert_int_equal(wb_store_count(s), N / 2);
    for (int i = 0; i < N; i++) assert_int_equal(wb_store_state(s, ids[i]), i % 2 ? -1 : WB_ST_READY);
    /* churn: many puts and drops with a small live set must not fill the table with tombstones */
    for (int r = 0; r < 200000; r++) {
        wb_oid t;
        assert_ok(wb_store_put_bytes(s, &r, sizeof r, &t));
        wb_store_unref(s, t);
    }
    assert_int_equal(wb_store_count(s), N / 2);
    for (int i = 0; i < N; i += 2) {
        wb_obj o;
        assert_ok(wb_store_acquire(s, ids[i], &o));
        assert_int_equal(*(const int *)o.data, i);
        wb_store_unref(s, ids[i]);
        wb_store_unref(s, ids[i]);
    }
    assert_int_equal(wb_store_count(s), 0);
    assert_int_equal(wb_store_bytes(s), 0);
    free(ids);
    wb_store_free(s);
}

typedef struct hammer {
    wb_store *s;
    int seed;
    int ok;
} hammer;

static void *hammer_thread(void *arg)
{
    hammer *h = arg;
    uint64_t rng = (uint64_t)h->seed;
    wb_oid live[64] = {0};
    h->ok = 1;
    for (int r = 0; r < 20000; r++) {
        int k = (int)(wbt_next(&rng) % 64);
        if (live[k]) {
            wb_obj o;
            if (wb_store_acquire(h->s, live[k], &o) || o.size != 8 ||
                *(const uint64_t *)o.data != live[k] * 3)
                h->ok = 0;
            wb_store_unref(h->s, live[k]);
            wb_store_unref(h->s, live[k]);
            live[k] = 0;
        } else {
            wb_oid id;
            if (wb_store_reserve(h->s, &id)) {
                h->ok = 0;
                continue;
            }
            uint64_t *v = malloc(8);
            *v = id * 3;
            if (wb_store_fulfill_bytes(h->s, id, v, 8)) h->ok = 0;
            live[k] = id;
        }
    }
    for (int k = 0; k < 64; k++)
        if (live[k]) wb_store_unref(h->s, live[k]);
    return NULL;
}

static void threads_share_a_store(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(0);
    hammer h[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (hammer){s, i + 1, 0};
        pthread_create(&t[i], NULL, hammer_thread, &h[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(h[i].ok);
    }
    assert_int_equal(wb_store_count(s), 0);
    assert_int_equal(wb_store_bytes(s), 0);
    wb_store_free(s);
}

static void mappings_are_shared(void **state)
{
    (void)state;
    /* a mapping stays alive while a partition uses it */
    wb_store *s = wb_store_new(0);
    double *x = malloc(4 * sizeof *x);
    for (int i = 0; i < 4; i++) x[i] = i;
    wb_mapping *m = wb_mapping_new(NULL, 0); /* no munmap duty: memory owned here */
    wb_part p = {2, 2, 0, x, NULL};
    wb_oid id;
    assert_ok(wb_store_reserve(s, &id));
    assert_ok(wb_store_fulfill_part(s, id, &p, NULL, m));
    wb_mapping_unref(m); /* the store keeps its own reference */
    assert_int_equal(wb_store_bytes(s), 0); /* mapped data is not counted */
    wb_obj o;
    assert_ok(wb_store_acquire(s, id, &o));
    assert_true(o.part.x[3] == 3.0);
    wb_store_unref(s, id);
    wb_store_unref(s, id);
    free(x);
    wb_store_free(s);
}

/* the big buffers of freed objects kept for reuse (workers receive objects
 * into them): only when asked, only big ones, within the store's limit and
 * the keeping limit, at most four, no smaller than asked for and at most a
 * quarter larger, given back by age */
static wb_oid put_owned(wb_store *s, void *buf, size_t size)
{
    wb_oid id;
    assert_ok(wb_store_reserve(s, &id));
    assert_ok(wb_store_fulfill_bytes(s, id, buf, size));
    return id;
}

static void kept_buffers(void **state)
{
    (void)state;
    const size_t MB = (size_t)1 << 20;
    wb_store *s = wb_store_new(0);
    /* not asked: freed */
    wb_store_unref(s, put_owned(s, malloc(64 * MB), 64 * MB));
    assert_int_equal(wb_store_kept_bytes(s), 0);
    assert_null(wb_store_take_buffer(s, 64 * MB));

    wb_store_keep_buffers(s, 1024 * MB);
    void *big = malloc(64 * MB);
    wb_store_unref(s, put_owned(s, big, 64 * MB));
    assert_true(wb_store_kept_bytes(s) >= 64 * MB);
    wb_store_unref(s, put_owned(s, malloc(MB), MB)); /* small: freed */
    assert_true(wb_store_kept_bytes(s) < 66 * MB);
    assert_null(wb_store_take_buffer(s, 100 * MB)); /* too small for it */
    assert_null(wb_store_take_buffer(s, 32 * MB));  /* small asks are not served */
    assert_ptr_equal(wb_store_take_buffer(s, 64 * MB), big);
    assert_int_equal(wb_store_kept_bytes(s), 0);
    assert_null(wb_store_take_buffer(s, 64 * MB)); /* given once */
    free(big);

    /* no more than a quarter larger than asked */
    big = malloc(96 * MB);
    wb_store_unref(s, put_owned(s, big, 96 * MB));
    assert_null(wb_store_take_buffer(s, 64 * MB));
    assert_ptr_equal(wb_store_take_buffer(s, 80 * MB), big);
    free(big);

    /* at most four, and the keeping limit */
    wb_oid ids[5];
    for (int i = 0; i < 5; i++) ids[i] = put_owned(s, malloc(64 * MB), 64 * MB);
    for (int i = 0; i < 5; i++) wb_store_unref(s, ids[i]);
    size_t k = wb_store_kept_bytes(s);
    assert_true(k >= 4 * 64 * MB && k < 5 * 64 * MB);
    wb_store_trim_buffers(s, 3600); /* not old enough */
    assert_int_equal(wb_store_kept_bytes(s), k);
    wb_store_trim_buffers(s, 0);
    assert_int_equal(wb_store_kept_bytes(s), 0);
    wb_store_keep_buffers(s, 100 * MB);
    for (int i = 0; i < 2; i++) ids[i] = put_owned(s, malloc(64 * MB), 64 * MB);
    for (int i = 0; i < 2; i++) wb_store_unref(s, ids[i]);
    k = wb_store_kept_bytes(s);
    assert_true(k >= 64 * MB && k <= 100 * MB);
    wb_store_keep_buffers(s, 0); /* no more keeping: the kept ones go */
    assert_int_equal(wb_store_kept_bytes(s), 0);

    /* the store's limit counts kept buffers: kept only while objects and
     * kept buffers fit in it */
    wb_store_keep_buffers(s, 1024 * MB);
    wb_store_set_limit(s, 150 * MB);
    ids[0] = put_owned(s, malloc(64 * MB), 64 * MB);
    ids[1] = put_owned(s, malloc(64 * MB), 64 * MB);
    wb_store_unref(s, ids[0]); /* 64 in the store + 64 kept: fits */
    assert_true(wb_store_kept_bytes(s) >= 64 * MB);
    ids[0] = put_owned(s, malloc(40 * MB), 40 * MB);
    wb_store_unref(s, ids[1]); /* 40 + 64 kept + 64: past 150 */
    k = wb_store_kept_bytes(s);
    assert_true(k >= 64 * MB && k < 128 * MB);
    /* an object that needs the room of a kept buffer gets it */
    ids[1] = put_owned(s, malloc(64 * MB), 64 * MB); /* 40 + 64 + 64 kept */
    assert_int_equal(wb_store_kept_bytes(s), 0);
    wb_store_unref(s, ids[1]); /* 40 + 64 kept */
    assert_true(wb_store_kept_bytes(s) >= 64 * MB);
    /* and a buffer about to be allocated for one (none kept fits) */
    assert_null(wb_store_take_buffer(s, 100 * MB)); /* 40 + 64 kept + 100: past 150 */
    assert_int_equal(wb_store_kept_bytes(s), 0);
    wb_store_unref(s, ids[0]);
    wb_store_free(s); /* frees what it kept (valgrind and ASan check) */
}

/* wb__store_take_bytes: an object's malloc'd bytes handed over only to the
 * holder of exactly the references named, never a partition's; the object
 * frees them no more */
static void take_bytes(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(1);
    wb_oid a, p;
    assert_ok(wb_store_put_bytes(s, "abcdefgh", 8, &a));
    void *buf = (void *)1;
    assert_int_equal(wb__store_take_bytes(s, a, 2, &buf), 0); /* one reference, not two */
    assert_null(buf);
    assert_ok(wb_store_ref(s, a));
    assert_int_equal(wb__store_take_bytes(s, a, 1, &buf), 0); /* two, not one */
    assert_int_equal(wb__store_take_bytes(s, 12345, 2, &buf), 0); /* no such object */
    wb_obj o;
    assert_ok(wb_store_acquire(s, a, &o)); /* three */
    assert_int_equal(wb__store_take_bytes(s, a, 3, &buf), 1);
    assert_ptr_equal(buf, o.data);
    memcpy(buf, "changed!", 8); /* the taker's now */
    void *again = (void *)1;
    assert_int_equal(wb__store_take_bytes(s, a, 3, &again), 0); /* taken already */
    assert_null(again);
    wb_store_unref(s, a);
    wb_store_unref(s, a);
    wb_store_unref(s, a);
    assert_int_equal(wb_store_count(s), 0);
    free(buf); /* the store did not (ASan: no double free) */

    double x[4] = {1, 2, 3, 4};
    wb_part part = {2, 2, 0, x, NULL};
    assert_ok(wb_store_put_part(s, &part, &p));
    assert_int_equal(wb__store_take_bytes(s, p, 1, &buf), 0); /* a partition */
    wb_store_unref(s, p);

    wb_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_and_refcounts),
        cmocka_unit_test(partitions),
        cmocka_unit_test(pending_ready_failed),
        cmocka_unit_test(wait_blocks_until_set),
        cmocka_unit_test(memory_limit),
        cmocka_unit_test(many_ids_and_rehash),
        cmocka_unit_test(threads_share_a_store),
        cmocka_unit_test(mappings_are_shared),
        cmocka_unit_test(kept_buffers),
        cmocka_unit_test(take_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
