/* test_exec.c — the executors (local thread pool, inline) and the generic
 * operations over them: submit, wait, map, map_dataset, map_sum. */
#include "wbtest.h"

#include <math.h>
#include <pthread.h>
#include <time.h>

static const wb_host *H;

/* ------------------------------------------------------------ test kernels */

/* the argument bytes as the output */
static int k_const(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    (void)nin;
    void *o = H->out_bytes(ctx, arglen);
    if (!o) return WB_ENOMEM;
    memcpy(o, arg, arglen);
    return 0;
}

/* int64: the arg plus every input's int64 */
static int k_sum64(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t s = 0, v;
    if (arglen == 8) memcpy(&s, arg, 8);
    for (int i = 0; i < nin; i++) {
        if (in[i].type != WB_OBJ_BYTES || in[i].size != 8)
            return H->seterr(WB_EINVAL, "t.sum64: input %d is not an int64", i);
        memcpy(&v, in[i].data, 8);
        s += v;
    }
    int64_t *o = H->out_bytes(ctx, 8);
    if (!o) return WB_ENOMEM;
    *o = s;
    return 0;
}

static int k_fail(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx;
    (void)in;
    (void)nin;
    return H->seterr(WB_EINVAL, "t.fail: refused '%.*s'", (int)arglen, (const char *)arg);
}

static int k_failbare(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx, (void)in, (void)nin, (void)arg, (void)arglen;
    return WB_EIO;
}

static int k_positive(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx, (void)in, (void)nin, (void)arg, (void)arglen;
    return 3;
}

static int k_twice(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)nin, (void)arg, (void)arglen;
    if (!H->out_bytes(ctx, 4)) return WB_ENOMEM;
    if (!H->out_bytes(ctx, 4)) return WB_EINVAL;
    return 0;
}

static int k_nothing(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx, (void)in, (void)nin, (void)arg, (void)arglen;
    return 0;
}

/* runs until the work is interrupted (at most 20 s) */
static int k_spin(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)nin, (void)arg, (void)arglen;
    double t0 = wb_now();
    while (!H->cancelled(ctx)) {
        if (wb_now() - t0 > 20) return H->seterr(WB_ETIMEDOUT, "t.spin: never interrupted");
        usleep(1000);
    }
    return H->seterr(WB_ECANCELED, "t.spin: interrupted");
}

static int k_sleep(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)nin, (void)arg, (void)arglen;
    usleep(2000);
    int64_t *o = H->out_bytes(ctx, 8);
    if (!o) return WB_ENOMEM;
    *o = 1;
    return 0;
}

/* block kernel: per column sums in row order */
static int k_colsum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    const wb_part *p = &in[0].part;
    double *o = H->out_bytes(ctx, (size_t)p->cols * 8);
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++)
        for (int64_t j = 0; j < p->cols; j++) o[j] += p->x[i * p->cols + j];
    return 0;
}

/* block kernel: arg = int64 block indices, the first a block that takes
 * 30 ms, the others blocks that fail (naming the block); the others sum
 * their columns */
static int k_failat(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    const int64_t b = in[0].part.row0 / WB_BLOCK_ROWS;
    int64_t slow = -1;
    if (arglen >= 8) memcpy(&slow, arg, 8);
    if (b == slow) {
        struct timespec ts = {0, 30 * 1000000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 8; i + 8 <= arglen; i += 8) {
        int64_t f;
        memcpy(&f, (const char *)arg + i, 8);
        if (f == b) return H->seterr(WB_EINVAL, "t.failat: block %lld", (long long)b);
    }
    return k_colsum(ctx, in, nin, arg, arglen);
}

/* block kernel with the wrong output length */
static int k_badsum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)nin, (void)arg, (void)arglen;
    return H->out_bytes(ctx, 3) ? 0 : WB_EINVAL;
}

/* block kernel writing nothing */
static int k_nosum(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx, (void)in, (void)nin, (void)arg, (void)arglen;
    return 0;
}

/* map_dataset kernel: x * arg (a double), labels kept */
static int k_scale(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    double f = 1;
    if (arglen == 8) memcpy(&f, arg, 8);
    const wb_part *p = &in[0].part;
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, p->cols, p->row0, p->y != NULL, &x, &y);
    if (rc) return rc;
    for (int64_t i = 0; i < p->rows * p->cols; i++) x[i] = p->x[i] * f;
    if (y) memcpy(y, p->y, (size_t)p->rows * 8);
    return 0;
}

/* map_dataset kernel writing one row too few */
static int k_short(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    const wb_part *p = &in[0].part;
    double *x, *y;
    return H->out_part(ctx, p->rows - 1, p->cols, p->row0, 0, &x, &y);
}

/* map_dataset kernels breaking the layout: more columns after the first
 * partition; a partition written at the wrong row */
static int k_ragged(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    const wb_part *p = &in[0].part;
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, p->row0 ? 2 : 1, p->row0, 0, &x, &y);
    if (!rc) memset(x, 0, (size_t)p->rows * (p->row0 ? 2 : 1) * 8);
    return rc;
}
static int k_misplaced(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    const wb_part *p = &in[0].part;
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, 1, p->row0 + 4096, 0, &x, &y);
    if (!rc) memset(x, 0, (size_t)p->rows * 8);
    return rc;
}

/* map kernel: {rows, row0, nin, first extra's int64 or -1} */
static int k_partinfo(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)arg, (void)arglen;
    int64_t *o = H->out_bytes(ctx, 32);
    if (!o) return WB_ENOMEM;
    o[0] = in[0].part.rows;
    o[1] = in[0].part.row0;
    o[2] = nin;
    o[3] = -1;
    if (nin > 1 && in[1].size == 8) memcpy(&o[3], in[1].data, 8);
    return 0;
}

/* a kernel running tasks of its own through the inline executor */
static int k_nested(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in, (void)nin, (void)arg, (void)arglen;
    wb_exec *ex = H->kctx_exec(ctx);
    if (!ex) return H->seterr(WB_ENOMEM, "no inline executor");
    int64_t ten = 10, five = 5;
    wb_oid a = 0, b = 0, c = 0;
    int rc = H->put(ex, &ten, 8, &a);
    if (!rc) rc = H->submit(ex, "t.sum64", &a, 1, &five, 8, &b); /* 15 */
    if (!rc) {
        wb_oid two[2] = {a, b};
        rc = H->submit(ex, "t.sum64", two, 2, NULL, 0, &c); /* 25 */
    }
    if (!rc) rc = H->wait(ex, &c, 1);
    void *data = NULL;
    size_t size = 0;
    if (!rc) rc = H->get(ex, c, &data, &size);
    if (!rc) {
        int64_t *o = H->out_bytes(ctx, 8);
        memcpy(o, data, 8);
        H->free(data);
    }
    H->release(ex, a);
    H->release(ex, b);
    H->release(ex, c);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    wb_core_init();
    H = wb_host_table();
    static int done;
    if (done) return 0;
    done = 1;
    struct {
        const char *n;
        wb_kernel_fn f;
    } ks[] = {{"t.const", k_const},       {"t.sum64", k_sum64},     {"t.fail", k_fail},
              {"t.failbare", k_failbare}, {"t.positive", k_positive}, {"t.twice", k_twice},
              {"t.nothing", k_nothing},   {"t.spin", k_spin},       {"t.sleep", k_sleep},
              {"t.colsum", k_colsum},     {"t.badsum", k_badsum},   {"t.nosum", k_nosum},
              {"t.scale", k_scale},       {"t.short", k_short},     {"t.partinfo", k_partinfo},
              {"t.nested", k_nested},     {"t.ragged", k_ragged},   {"t.misplaced", k_misplaced},
              {"t.failat", k_failat}};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        if (wb_register_kernel(ks[i].n, ks[i].f)) return -1;
    return 0;
}

static int64_t get64(wb_exec *ex, wb_oid id)
{
    void *data;
    size_t size;
    assert_ok(wb_exec_get(ex, id, &data, &size));
    assert_int_equal(size, 8);
    int64_t v;
    memcpy(&v, data, 8);
    free(data);
    return v;
}

static size_t live_objects(wb_exec *ex) { return wb_store_count(wb_exec_local_store(ex)); }

/* ------------------------------------------------------------------ tests */

static void submit_a_batch(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(3);
    assert_non_null(ex);
    wb_exec_info info;
    wb_exec_info_get(ex, &info);
    assert_string_equal(info.kind, "local");
    assert_int_equal(info.threads, 3);
    /* its objects live in this process, in a store they may be read from in place */
    assert_int_equal(info.remote, 0);
    assert_non_null(info.store);
    assert_ptr_equal(info.store, wb_exec_local_store(ex));
    assert_int_equal(wb_exec_parallelism(ex), 3);
    enum { N = 500 };
    int64_t vals[N];
    wb_task t[N];
    wb_oid outs[N];
    for (int i = 0; i < N; i++) {
        vals[i] = i * 7;
        t[i] = (wb_task){"t.sum64", NULL, 0, &vals[i], 8, WB_TASK_PLAIN, 0, -1};
    }
    assert_ok(wb_exec_submit_tasks(ex, t, N, outs));
    assert_ok(wb_exec_wait(ex, outs, N));
    for (int i = 0; i < N; i++) {
        assert_int_equal(get64(ex, outs[i]), i * 7);
        wb_exec_release(ex, outs[i]);
    }
    /* a batch sharing one argument buffer */
    int64_t shared = 42;
    for (int i = 0; i < N; i++) t[i].arg = &shared;
    assert_ok(wb_exec_submit_tasks(ex, t, N, outs));
    shared = 0; /* the arguments were copied at submit */
    assert_ok(wb_exec_wait(ex, outs, N));
    for (int i = 0; i < N; i++) {
        assert_int_equal(get64(ex, outs[i]), 42);
        wb_exec_release(ex, outs[i]);
    }
    assert_int_equal(live_objects(ex), 0);
    wb_exec_unref(ex);
}

static void fifo_dependencies(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(4);
    int64_t one = 1, zero = 0;
    wb_oid prev, next;
    assert_ok(wb_exec_put(ex, &zero, 8, &prev));
    /* a chain: each task needs the one before; submitted without waiting */
    for (int i = 0; i < 300; i++) {
        assert_ok(wb_exec_submit(ex, "t.sum64", &prev, 1, &one, 8, &next));
        wb_exec_release(ex, prev); /* the queued task keeps its input alive */
        prev = next;
    }
    assert_ok(wb_exec_wait(ex, &prev, 1));
    assert_int_equal(get64(ex, prev), 300);
    wb_exec_release(ex, prev);
    /* a diamond with many inputs (more than the inline input slots) */
    wb_oid leaves[9], mid[3], top;
    for (int i = 0; i < 9; i++) {
        int64_t v = i + 1;
        assert_ok(wb_exec_submit(ex, "t.const", NULL, 0, &v, 8, &leaves[i]));
    }
    for (int i = 0; i < 3; i++) assert_ok(wb_exec_submit(ex, "t.sum64", leaves + 3 * i, 3, NULL, 0, &mid[i]));
    wb_oid all[12];
    memcpy(all, leaves, sizeof leaves);
    memcpy(all + 9, mid, sizeof mid);
    assert_ok(wb_exec_submit(ex, "t.sum64", all, 12, NULL, 0, &top));
    assert_ok(wb_exec_wait(ex, &top, 1));
    assert_int_equal(get64(ex, top), 45 * 2);
    for (int i = 0; i < 9; i++) wb_exec_release(ex, leaves[i]);
    for (int i = 0; i < 3; i++) wb_exec_release(ex, mid[i]);
    wb_exec_release(ex, top);
    assert_int_equal(live_objects(ex), 0);
    wb_exec_unref(ex);
}

static void failures_propagate(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(2);
    wb_oid bad, dep, ok;
    int64_t v = 5;
    assert_ok(wb_exec_submit(ex, "t.fail", NULL, 0, "xyz", 3, &bad));
    assert_ok(wb_exec_submit(ex, "t.sum64", &bad, 1, NULL, 0, &dep));
    assert_ok(wb_exec_submit(ex, "t.const", NULL, 0, &v, 8, &ok));
    assert_err(wb_exec_wait(ex, &bad, 1), WB_EINVAL, "t.fail: refused 'xyz'");
    /* a task needing a failed object fails with the kernel's message */
    assert_err(wb_exec_wait(ex, &dep, 1), WB_EINVAL, "t.fail: refused 'xyz'");
    /* waiting for several reports the first failure; the good one is fine */
    wb_oid three[3] = {ok, dep, bad};
    assert_err(wb_exec_wait(ex, three, 3), WB_EINVAL, "t.fail: refused 'xyz'");
    assert_ok(wb_exec_wait(ex, &ok, 1));
    void *data;
    size_t size;
    assert_err(wb_exec_get(ex, bad, &data, &size), WB_EINVAL, "t.fail: refused 'xyz'");
    wb_oid o[6];
    assert_ok(wb_exec_submit(ex, "t.failbare", NULL, 0, NULL, 0, &o[0]));
    assert_ok(wb_exec_submit(ex, "t.positive", NULL, 0, NULL, 0, &o[1]));
    assert_ok(wb_exec_submit(ex, "t.twice", NULL, 0, NULL, 0, &o[2]));
    assert_ok(wb_exec_submit(ex, "t.nope", NULL, 0, NULL, 0, &o[3]));
    assert_ok(wb_exec_submit(ex, "t.nothing", NULL, 0, NULL, 0, &o[4]));
    assert_ok(wb_exec_submit(ex, "t.sum64", &ok, 1, "abc", 3, &o[5])); /* arg not 8 bytes: 0 */
    assert_err(wb_exec_wait(ex, &o[0], 1), WB_EIO, "t.failbare: input/output error");
    assert_err(wb_exec_wait(ex, &o[1], 1), WB_EINTERNAL, "t.positive: kernel returned 3");
    assert_err(wb_exec_wait(ex, &o[2], 1), WB_EINVAL, "t.twice: a kernel writes one output");
    assert_err(wb_exec_wait(ex, &o[3], 1), WB_ENOTFOUND, "no kernel named 't.nope'");
    assert_ok(wb_exec_wait(ex, &o[4], 1));
    assert_ok(wb_exec_get(ex, o[4], &data, &size));
    assert_int_equal(size, 0);
    free(data);
    assert_int_equal(get64(ex, o[5]), 5);
    for (int i = 0; i < 6; i++) wb_exec_release(ex, o[i]);
    /* an input that does not exist: refused at submit, nothing queued */
    wb_oid ghost = 0xdead, out = 77;
    size_t before = live_objects(ex);
    assert_err_has(wb_exec_submit(ex, "t.sum64", &ghost, 1, NULL, 0, &out), WB_ENOTFOUND,
                   "not in the store");
    assert_int_equal(out, 0);
    assert_int_equal(live_objects(ex), before);
    /* a batch whose third task is bad: none of it runs */
    int64_t a = 1;
    wb_task t[4] = {{"t.const", NULL, 0, &a, 8, 0, 0, -1},
                    {"t.const", NULL, 0, &a, 8, 0, 0, -1},
                    {"t.sum64", &ghost, 1, NULL, 0, 0, 0, -1},
                    {"t.const", NULL, 0, &a, 8, 0, 0, -1}};
    wb_oid outs[4] = {9, 9, 9, 9};
    assert_int_equal(wb_exec_submit_tasks(ex, t, 4, outs), WB_ENOTFOUND);
    assert_int_equal(outs[0], 0);
    assert_int_equal(outs[1], 0);
    assert_int_equal(live_objects(ex), before);
    wb_exec_release(ex, bad);
    wb_exec_release(ex, dep);
    wb_exec_release(ex, ok);
    assert_int_equal(live_objects(ex), 0);
    wb_exec_unref(ex);
}

static void *interrupt_later(void *arg)
{
    usleep((useconds_t)(intptr_t)arg);
    wb_interrupt();
    return NULL;
}

/* a dataset of n x d values (x[i*d+j] = f(i, j)), labels i % 3 */
static wb_dataset *make_ds(wb_exec *ex, int64_t n, int64_t d, int labels)
{
    double *x = malloc((size_t)(n * d + 1) * 8), *y = malloc((size_t)(n + 1) * 8);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < d; j++) x[i * d + j] = (double)(i * 10 + j);
        y[i] = (double)(i % 3);
    }
    wb_dataset *ds = NULL;
    assert_ok(wb_ds_from_memory(ex, x, labels ? y : NULL, n, d, &ds));
    free(x);
    free(y);
    return ds;
}

static void cancellation(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(2);
    wb_interrupt_clear();
    enum { N = 6 };
    wb_oid outs[N];
    for (int i = 0; i < N; i++) assert_ok(wb_exec_submit(ex, "t.spin", NULL, 0, NULL, 0, &outs[i]));
    pthread_t th;
    pthread_create(&th, NULL, interrupt_later, (void *)(intptr_t)50000);
    double t0 = wb_now();
    int rc = wb_exec_wait(ex, outs, N);
    pthread_join(th, NULL);
    assert_int_equal(rc, WB_ECANCELED);
    assert_true(wb_now() - t0 < 10);
    for (int i = 0; i < N; i++) wb_exec_release(ex, outs[i]);
    /* while the flag is up, work is refused; once cleared, the next map works */
    wb_dataset *ds = make_ds(ex, 10000, 2, 0);
    double sum[2];
    wb_oid o;
    assert_ok(wb_exec_submit(ex, "t.sleep", NULL, 0, NULL, 0, &o));
    assert_err(wb_exec_wait(ex, &o, 1), WB_ECANCELED, "interrupted");
    wb_exec_release(ex, o);
    assert_int_equal(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, sum, 2), WB_ECANCELED);
    wb_interrupt_clear();
    assert_ok(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, sum, 2));
    /* sum of i*10 for i < 10000 */
    assert_true(sum[0] == 10.0 * 9999.0 * 10000.0 / 2);
    assert_true(sum[1] == sum[0] + 10000);
    /* a map interrupted half-way releases its results and reports the cancel */
    wb_dataset *big = make_ds(ex, 40 * 4096, 1, 0);
    wb_oid *mo = calloc((size_t)big->nparts, sizeof *mo);
    pthread_create(&th, NULL, interrupt_later, (void *)(intptr_t)20000);
    rc = wb_exec_map(ex, "t.spin", big, NULL, 0, NULL, 0, mo);
    pthread_join(th, NULL);
    assert_int_equal(rc, WB_ECANCELED);
    for (int i = 0; i < big->nparts; i++) assert_int_equal(mo[i], 0);
    free(mo);
    wb_interrupt_clear();
    wb_ds_unref(big);
    assert_ok(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, sum, 2));
    wb_ds_unref(ds);
    assert_int_equal(live_objects(ex), 0);
    wb_exec_unref(ex);
}

static void resize_keeps_objects(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(4);
    wb_dataset *ds = make_ds(ex, 3 * 4096 + 5, 3, 1);
    int64_t v = 11;
    wb_oid keep;
    assert_ok(wb_exec_put(ex, &v, 8, &keep));
    double ref[3], sum[3];
    assert_ok(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, ref, 3));
    /* queue slow work, then resize: the queue drains, nothing is lost */
    wb_oid slow[40];
    for (int i = 0; i < 40; i++) assert_ok(wb_exec_submit(ex, "t.sleep", NULL, 0, NULL, 0, &slow[i]));
    int sizes[] = {1, 3, 2, 2, 8};
    for (int k = 0; k < 5; k++) {
        assert_ok(wb_exec_local_resize(ex, sizes[k]));
        wb_exec_info info;
        wb_exec_info_get(ex, &info);
        assert_int_equal(info.threads, sizes[k]);
        assert_int_equal(get64(ex, keep), 11);
        assert_ok(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, sum, 3));
        assert_memory_equal(sum, ref, sizeof ref);
    }
    assert_ok(wb_exec_wait(ex, slow, 40));
    for (int i = 0; i < 40; i++) {
        assert_int_equal(get64(ex, slow[i]), 1);
        wb_exec_release(ex, slow[i]);
    }
    assert_ok(wb_exec_local_resize(ex, 0)); /* one per core */
    assert_int_equal(wb_exec_parallelism(ex), wb_ncpu());
    wb_exec *il = wb_exec_inline_new(wb_exec_local_store(ex));
    assert_err(wb_exec_local_resize(il, 2), WB_EINVAL, "not a local executor");
    assert_null(wb_exec_local_store(il));
    wb_exec_unref(il);
    wb_exec_release(ex, keep);
    wb_ds_unref(ds);
    assert_int_equal(live_objects(ex), 0);
    wb_exec_unref(ex);
}

static void inline_executor(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(2);
    wb_exec *ex = wb_exec_inline_new(s);
    wb_exec_info info;
    wb_exec_info_get(ex, &info);
    assert_string_equal(info.kind, "inline");
    assert_int_equal(info.threads, 1);
    assert_int_equal(info.remote, 0);
    assert_null(info.store); /* read through get, as before (only a local store is offered) */
    int64_t v = 4;
    wb_oid a, b, c;
    assert_ok(wb_exec_put(ex, &v, 8, &a));
    assert_ok(wb_exec_submit(ex, "t.sum64", &a, 1, &v, 8, &b));
    assert_int_equal(wb_store_state(s, b), WB_ST_READY); /* ran at submit */
    assert_int_equal(get64(ex, b), 8);
    assert_ok(wb_exec_submit(ex, "t.fail", &a, 1, "q", 1, &c));
    assert_err(wb_exec_wait(ex, &c, 1), WB_EINVAL, "t.fail: refused 'q'");
    wb_oid abc[3] = {a, c, b};
    assert_err(wb_exec_wait(ex, abc, 3), WB_EINVAL, "t.fail: refused 'q'");
    wb_exec_release(ex, a);
    wb_exec_release(ex, b);
    wb_exec_release(ex, c);
    /* map_sum over a dataset of the inline executor */
    wb_dataset *ds = make_ds(ex, 5000, 2, 0);
    double sum[2];
    assert_ok(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, sum, 2));
    assert_true(sum[0] == 10.0 * 4999.0 * 5000.0 / 2);
    wb_ds_unref(ds);
    assert_int_equal(wb_store_count(s), 0);
    wb_exec_unref(ex);
    wb_store_free(s);

    /* inside a kernel of the local pool */
    wb_exec *lx = wb_exec_local_new(2);
    wb_oid n;
    assert_ok(wb_exec_submit(lx, "t.nested", NULL, 0, NULL, 0, &n));
    assert_ok(wb_exec_wait(lx, &n, 1));
    assert_int_equal(get64(lx, n), 25);
    wb_exec_release(lx, n);
    assert_int_equal(live_objects(lx), 0);
    wb_exec_unref(lx);
}

static void map_and_map_dataset(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(3);
    int64_t P = wb_partition_rows(2);
    wb_dataset *ds = make_ds(ex, 2 * P + 100, 2, 1);
    assert_int_equal(ds->nparts, 3);
    int64_t tag = 77;
    wb_oid extra, outs[3];
    assert_ok(wb_exec_put(ex, &tag, 8, &extra));
    assert_ok(wb_exec_map(ex, "t.partinfo", ds, &extra, 1, NULL, 0, outs));
    for (int i = 0; i < 3; i++) {
        void *data;
        size_t size;
        assert_ok(wb_exec_get(ex, outs[i], &data, &size));
        int64_t *r = data;
        assert_int_equal(r[0], i < 2 ? P : 100);
        assert_int_equal(r[1], i * P);
        assert_int_equal(r[2], 2);
        assert_int_equal(r[3], 77);
        free(data);
        wb_exec_release(ex, outs[i]);
    }
    double f = 2.5;
    wb_dataset *sc;
    assert_ok(wb_exec_map_dataset(ex, "t.scale", ds, NULL, 0, &f, 8, &sc));
    assert_int_equal(sc->n, ds->n);
    assert_int_equal(sc->d, 2);
    assert_int_equal(sc->nparts, 3);
    assert_true(sc->has_labels);
    double x[4], y[2];
    assert_ok(wb_ds_read_rows(sc, P - 1, P + 1, x, y)); /* across a boundary */
    assert_true(x[0] == 2.5 * (double)((P - 1) * 10) && x[3] == 2.5 * (double)(P * 10 + 1));
    assert_true(y[0] == (double)((P - 1) % 3) && y[1] == (double)(P % 3));
    wb_ds_unref(sc);
    /* a kernel writing the wrong number of rows */
    wb_dataset *one = make_ds(ex, 4096, 2, 0);
    assert_err(wb_exec_map_dataset(ex, "t.short", one, NULL, 0, NULL, 0, &sc), WB_EINVAL,
               "t.short: the kernel must write a partition of 4096 rows");
    assert_err(wb_exec_map_dataset(ex, "t.fail", one, NULL, 0, "m", 1, &sc), WB_EINVAL,
               "t.fail: refused 'm'");
    assert_err(wb_exec_map_dataset(ex, "t.partinfo", one, NULL, 0, NULL, 0, &sc), WB_EINVAL,
               "t.partinfo: the kernel must write a partition of 4096 rows");
    assert_err(wb_exec_map_dataset(ex, "t.ragged", ds, NULL, 0, NULL, 0, &sc), WB_EINVAL,
               "t.ragged: partitions of different shapes");
    assert_err(wb_exec_map_dataset(ex, "t.misplaced", one, NULL, 0, NULL, 0, &sc), WB_EINVAL,
               "t.misplaced: partition 0 written at row 4096, expected 0");
    /* a dataset of another executor */
    wb_exec *other = wb_exec_local_new(1);
    assert_err(wb_exec_map(other, "t.partinfo", ds, NULL, 0, NULL, 0, outs), WB_EINVAL,
               "t.partinfo: the dataset belongs to another executor");
    assert_err(wb_exec_map_dataset(other, "t.scale", ds, NULL, 0, NULL, 0, &sc), WB_EINVAL,
               "t.scale: the dataset belongs to another executor");
    double s2[2];
    assert_err(wb_exec_map_sum(other, "t.colsum", ds, NULL, 0, NULL, 0, s2, 2), WB_EINVAL,
               "t.colsum: the dataset belongs to another executor");
    wb_exec_unref(other);
    /* map_sum kernels that break the rule */
    assert_err(wb_exec_map_sum(ex, "t.badsum", one, NULL, 0, NULL, 0, s2, 2), WB_EINVAL,
               "t.badsum: a block sum kernel writes exactly 2 doubles once");
    assert_err(wb_exec_map_sum(ex, "t.nosum", one, NULL, 0, NULL, 0, s2, 2), WB_EINVAL,
               "t.nosum: the kernel wrote no block sum");
    assert_err(wb_exec_map_sum(ex, "t.positive", one, NULL, 0, NULL, 0, s2, 2), WB_EINTERNAL,
               "t.positive: kernel returned 3");
    /* an empty dataset */
    wb_dataset *empty = make_ds(ex, 0, 2, 0);
    assert_int_equal(empty->nparts, 0);
    s2[0] = s2[1] = 9;
    assert_ok(wb_exec_map_sum(ex, "t.colsum", empty, NULL, 0, NULL, 0, s2, 2));
    assert_true(s2[0] == 0 && s2[1] == 0);
    assert_ok(wb_exec_map_dataset(ex, "t.scale", empty, NULL, 0, NULL, 0, &sc));
    assert_int_equal(sc->n, 0);
    wb_ds_unref(sc);
    wb_ds_unref(empty);
    wb_ds_unref(one);
    wb_exec_release(ex, extra);
    wb_ds_unref(ds);
    assert_int_equal(live_objects(ex), 0);
    wb_exec_unref(ex);
}

static void memory_limit_of_results(void **state)
{
    (void)state;
    wb_exec *ex = wb_exec_local_new(2);
    wb_dataset *ds = make_ds(ex, 3 * 4096, 2, 0); /* 196608 bytes */
    wb_store *st = wb_exec_local_store(ex);
    wb_store_set_limit(st, wb_store_bytes(st) + 100000);
    /* doubled data does not fit: the kernel's result is refused with the reason */
    wb_dataset *out;
    double f = 2;
    assert_err(wb_exec_map_dataset(ex, "t.scale", ds, NULL, 0, &f, 8, &out), WB_ELIMIT,
               "memory limit: an object of 196608 bytes would bring the store to 393216 of 296608 bytes");
    /* small results still fit, and the store holds what it held */
    double s[2];
    assert_ok(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, s, 2));
    assert_int_equal(wb_store_count(st), 1);
    wb_store_set_limit(st, 0);
    assert_ok(wb_exec_map_dataset(ex, "t.scale", ds, NULL, 0, &f, 8, &out));
    wb_ds_unref(out);
    wb_ds_unref(ds);
    assert_int_equal(live_objects(ex), 0);
    wb_exec_unref(ex);
}

/* ----------------------------------------------------- tree sum: bit-identity */

/* data where the order of additions changes the result: magnitudes from 1e-8 to 1e16 */
static double *awkward_data(int64_t n, int64_t d, uint64_t seed)
{
    double *x = malloc((size_t)(n * d) * 8);
    for (int64_t i = 0; i < n * d; i++) {
        double u = wbt_unif(&seed) - 0.5;
        int e = (int)(wbt_next(&seed) % 25) - 8;
        x[i] = u * pow(10.0, e);
    }
    return x;
}

/* the documented value: per block a sum in row order, then the fixed binary
 * tree over global block indices (a child beyond the last block is absent) */
static void tree_node(const double *bs, int64_t nb, int64_t d, int level, int64_t idx, double *out)
{
    if (level == 0) {
        memcpy(out, bs + idx * d, (size_t)d * 8);
        return;
    }
    int64_t span = (int64_t)1 << (level - 1);
    tree_node(bs, nb, d, level - 1, 2 * idx, out);
    if ((2 * idx + 1) * span < nb) {
        double *r = malloc((size_t)d * 8);
        tree_node(bs, nb, d, level - 1, 2 * idx + 1, r);
        for (int64_t j = 0; j < d; j++) out[j] += r[j];
        free(r);
    }
}

static void reference_sum(const double *x, int64_t n, int64_t d, double *out)
{
    int64_t nb = (n + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS;
    double *bs = calloc((size_t)(nb * d + 1), 8);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) bs[(i / WB_BLOCK_ROWS) * d + j] += x[i * d + j];
    int top = 0;
    while (((int64_t)1 << top) < nb) top++;
    tree_node(bs, nb, d, top, 0, out);
    free(bs);
}

/* a dataset with the given partition sizes (in blocks; the last one takes the rest) */
static wb_dataset *layout_ds(wb_exec *ex, const double *x, int64_t n, int64_t d, const int *blocks,
                             int nb)
{
    wb_dspart parts[512];
    int np = 0;
    int64_t r0 = 0;
    for (int k = 0; r0 < n; k++) {
        int64_t rows = k < nb - 1 ? (int64_t)blocks[k] * WB_BLOCK_ROWS : n - r0;
        if (rows > n - r0) rows = n - r0;
        wb_part p = {rows, d, r0, x + r0 * d, NULL};
        assert_ok(wb_exec_put_part(ex, &p, &parts[np].oid));
        parts[np].rows = rows;
        parts[np].row0 = r0;
        np++;
        r0 += rows;
    }
    wb_dataset *ds;
    assert_ok(wb_ds_new(ex, d, 0, np, parts, &ds));
    return ds;
}

static void map_sum_is_bit_identical(void **state)
{
    (void)state;
    const int64_t d = 3;
    int64_t sizes[] = {37 * 4096 - 1234, 4096, 4095, 1, 64 * 4096, 33 * 4096};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int64_t n = sizes[si];
        double *x = awkward_data(n, d, 1000 + si);
        double ref[3], naive[3] = {0, 0, 0};
        reference_sum(x, n, d, ref);
        for (int64_t i = 0; i < n * d; i++) naive[i % d] += x[i];
        if (si == 0) /* the data is such that the order of additions shows */
            assert_true(memcmp(naive, ref, sizeof ref) != 0);
        int64_t nblocks = (n + 4095) / 4096;
        /* layouts: one partition; one per block; irregular; the default */
        int one[1] = {(int)nblocks + 1}, each[1] = {1}, irregular[6] = {3, 1, 5, 2, 7, 1};
        struct {
            const int *b;
            int nb;
        } layouts[] = {{one, 1}, {each, 0}, {irregular, 6}, {NULL, -1}};
        int threads[] = {1, 2, 3, 8};
        for (size_t li = 0; li < 4; li++)
            for (size_t ti = 0; ti < 5; ti++) {
                wb_store *st = NULL;
                wb_exec *ex;
                if (ti < 4)
                    ex = wb_exec_local_new(threads[ti]);
                else {
                    st = wb_store_new(0);
                    ex = wb_exec_inline_new(st);
                }
                wb_dataset *ds;
                if (layouts[li].nb < 0)
                    assert_ok(wb_ds_from_memory(ex, x, NULL, n, d, &ds));
                else if (layouts[li].nb == 0) { /* one partition per block */
                    int ones[512];
                    for (int k = 0; k < 512; k++) ones[k] = 1;
                    ds = layout_ds(ex, x, n, d, ones, (int)nblocks);
                } else
                    ds = layout_ds(ex, x, n, d, layouts[li].b, layouts[li].nb);
                if (li == 0) assert_int_equal(ds->nparts, 1);
                if (li == 1) assert_int_equal(ds->nparts, nblocks);
                double got[3];
                assert_ok(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, got, 3));
                if (memcmp(got, ref, sizeof ref) != 0)
                    fail_msg("n=%lld layout %zu threads %d: %.17g %.17g %.17g vs %.17g %.17g %.17g",
                             (long long)n, li, ti < 4 ? threads[ti] : 0, got[0], got[1], got[2],
                             ref[0], ref[1], ref[2]);
                wb_ds_unref(ds);
                wb_exec_unref(ex);
                wb_store_free(st);
            }
        free(x);
    }
}

/* several blocks fail: the error is the first failing block's, whatever
 * the threads, the layout and the order the blocks ran in */
static void map_sum_first_error(void **state)
{
    (void)state;
    const int64_t d = 2, n = 150 * 4096 - 17;
    double *x = awkward_data(n, d, 77);
    /* {a slow block, failing blocks}: with threads, block 2 taking its time
     * lets 80 fail before 3 does */
    int64_t fails[][4] = {{-1, 149, 3, 80}, {-1, 0, 149, 1}, {-1, 64, 65, 127}, {2, 80, 3, 140}};
    int irregular[6] = {3, 1, 5, 2, 7, 1}, one[1] = {151};
    int threads[] = {1, 2, 3, 8};
    for (int li = 0; li < 3; li++)
        for (int ti = 0; ti < 4; ti++) {
            wb_exec *ex = wb_exec_local_new(threads[ti]);
            wb_dataset *ds;
            if (li == 0)
                assert_ok(wb_ds_from_memory(ex, x, NULL, n, d, &ds));
            else
                ds = layout_ds(ex, x, n, d, li == 1 ? irregular : one, li == 1 ? 6 : 1);
            for (int fi = 0; fi < 4; fi++) {
                int64_t first = fails[fi][1];
                for (int k = 2; k < 4; k++) first = fails[fi][k] < first ? fails[fi][k] : first;
                char want[64];
                snprintf(want, sizeof want, "t.failat: block %lld", (long long)first);
                double got[2];
                assert_err(wb_exec_map_sum(ex, "t.failat", ds, NULL, 0, fails[fi], sizeof fails[fi], got, 2),
                           WB_EINVAL, want);
            }
            /* and the executor is fine afterwards */
            double ok1[2], ok2[2];
            assert_ok(wb_exec_map_sum(ex, "t.failat", ds, NULL, 0, NULL, 0, ok1, 2));
            assert_ok(wb_exec_map_sum(ex, "t.colsum", ds, NULL, 0, NULL, 0, ok2, 2));
            assert_memory_equal(ok1, ok2, sizeof ok1);
            wb_ds_unref(ds);
            wb_exec_unref(ex);
        }
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(submit_a_batch),
        cmocka_unit_test(fifo_dependencies),
        cmocka_unit_test(failures_propagate),
        cmocka_unit_test(cancellation),
        cmocka_unit_test(resize_keeps_objects),
        cmocka_unit_test(inline_executor),
        cmocka_unit_test(map_and_map_dataset),
        cmocka_unit_test(memory_limit_of_results),
        cmocka_unit_test(map_sum_is_bit_identical),
        cmocka_unit_test(map_sum_first_error),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
