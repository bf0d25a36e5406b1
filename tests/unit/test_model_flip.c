/* test_model_flip — a bit-flip sweep over one small saved model of each
 * estimator: every bit of every byte of the file flipped in turn, the file
 * loaded (wb_model_load) and, when it loads, every method of its estimator
 * run on a small dataset. Each outcome must be a clear error (a known code
 * and a message) or a result of the right shape; under the ASan+UBSan build
 * no flip may read or write out of bounds or overflow. The figures (flips,
 * refused at load, refused by every method, used by at least one) are
 * printed per model. */
#include <math.h>

#include "internal.h"
#include "wbtest.h"

static char *dir;
static wb_store *store;
static wb_exec *ex;
static wb_dataset *d3, *d2; /* 30 x 3 with labels 0..2; 30 x 2 with labels 0, 1 */

static void load_plugin(const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s.so", WB_BUILD_PLUGIN_DIR, name);
    int rc = wb_plugin_load(p);
    if (rc && !strstr(wb_errmsg(), "already loaded")) assert_ok(rc);
}

static int setup(void **state)
{
    (void)state;
    wb_core_init();
    dir = wbt_mkdtemp();
    static const char *plugins[] = {"linear", "gbdt", "kmeans", "pca", "select", "preprocess", "metrics"};
    for (size_t i = 0; i < sizeof plugins / sizeof *plugins; i++) load_plugin(plugins[i]);
    store = wb_store_new(3);
    ex = wb_exec_inline_new(store); /* tasks in this thread: the sweep runs many tiny ones */
    double x[90], y[30], x2[60], y2[30];
    for (int i = 0; i < 30; i++) {
        y[i] = i % 3;
        x[3 * i] = y[i] * 2 + (i % 5) * 0.3;
        x[3 * i + 1] = (i * 7 % 11) * 0.25 - y[i];
        x[3 * i + 2] = i % 2 ? 1.5 : -0.5;
        y2[i] = i % 2;
        x2[2 * i] = y2[i] + (i % 4) * 0.2;
        x2[2 * i + 1] = (i * 5 % 7) * 0.1 - y2[i];
    }
    if (wb_ds_from_memory(ex, x, y, 30, 3, &d3) || wb_ds_from_memory(ex, x2, y2, 30, 2, &d2)) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_ds_unref(d3);
    wb_ds_unref(d2);
    wb_exec_unref(ex);
    wb_store_free(store);
    wbt_rmdir(dir);
    return 0;
}

static const char *path(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)l + 1);
    assert_int_equal(fread(b, 1, (size_t)l, f), (size_t)l);
    fclose(f);
    *n = (size_t)l;
    return b;
}

/* overwritten in place, not truncated: a file truncated and written again is
 * flushed to disk on close (ext4's auto_da_alloc), which made the sweep wait
 * on the disk */
static void put(const char *p, const unsigned char *b, size_t n)
{
    FILE *f = fopen(p, "r+b");
    if (!f) f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* a failure: a known code and a message */
static void clear_error(int rc, const char *what, size_t byte, int bit)
{
    const char *name = wb_errname(rc);
    if (!(rc < 0 && name && !strncmp(name, "WB_E", 4) && wb_errmsg()[0]))
        fail_msg("%s, byte %zu bit %d: an unclear failure %d \"%s\"", what, byte, bit, rc, wb_errmsg());
}

typedef int (*ds_method)(wb_exec *, const wb_model *, const wb_dataset *, wb_dataset **);

/* every method of m's estimator on d, each running or refusing clearly;
 * returns how many ran */
static int use(const wb_model *m, const wb_dataset *d, size_t byte, int bit)
{
    const wb_estimator_def *e = wb_estimator_find(wb_model_estimator(m));
    if (!e) return 0; /* the estimator's name was flipped: nothing to run */
    ds_method f[4] = {e->predict, e->predict_proba, e->transform, e->inverse_transform};
    int ran = 0;
    for (int k = 0; k < 4; k++) {
        if (!f[k]) continue;
        wb_dataset *out = NULL;
        wb_clearerr();
        int rc = f[k](ex, m, d, &out);
        if (rc)
            clear_error(rc, e->name, byte, bit);
        else {
            if (!out || out->n != d->n) fail_msg("%s, byte %zu bit %d: an output of the wrong rows", e->name, byte, bit);
            double *buf = malloc((size_t)(out->n * out->d + 1) * sizeof(double));
            assert_ok(wb_ds_read_rows(out, 0, out->n, buf, NULL)); /* every number reads back */
            free(buf);
            ran++;
        }
        wb_ds_unref(out);
    }
    if (e->score) {
        double s;
        wb_clearerr();
        int rc = e->score(ex, m, d, &s);
        if (rc) clear_error(rc, e->name, byte, bit);
        else ran++;
    }
    return ran;
}

/* fit, save, then flip every bit of the file in turn */
static void sweep(const char *name, wb_model *m, const wb_dataset *d)
{
    char file[1024];
    snprintf(file, sizeof file, "%s", path(name));
    assert_ok(wb_model_save(m, file));
    wb_model_free(m);
    size_t n;
    unsigned char *orig = slurp(file, &n), *b = malloc(n);
    char flipped[1100];
    snprintf(flipped, sizeof flipped, "%s.flip", file);
    size_t objects = wb_store_count(store);
    int at_load = 0, at_use = 0, used = 0;
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, orig, n);
            b[i] ^= (unsigned char)(1u << bit);
            put(flipped, b, n);
            wb_model *q = NULL;
            int rc = wb_model_load(flipped, &q);
            if (rc) {
                clear_error(rc, "load", i, bit);
                if (!strstr(wb_errmsg(), flipped)) fail_msg("byte %zu bit %d: the message does not name the file: %s", i, bit, wb_errmsg());
                at_load++;
                continue;
            }
            if (use(q, d, i, bit)) used++;
            else at_use++;
            wb_model_free(q);
            if (wb_store_count(store) != objects)
                fail_msg("%s, byte %zu bit %d: %zu objects left in the store", name, i, bit, wb_store_count(store) - objects);
        }
    printf("%-12s %5zu bytes, %6zu flips: %6d refused at load, %6d refused by every method, %6d used\n", name, n,
           n * 8, at_load, at_use, used);
    free(orig);
    free(b);
    unlink(flipped);
    unlink(file);
}

static wb_model *fit(const char *est, const wb_dataset *d, wb_params *p)
{
    wb_model *m = NULL;
    int rc = wb__fit(ex, est, d, p, &m);
    wb_params_free(p);
    assert_ok(rc);
    return m;
}

static void flip_logreg(void **state)
{
    (void)state;
    wb_params *p = wb_params_new();
    wb_params_set_int(p, "max_iter", 20);
    sweep("logreg.wbm", fit("logreg", d3, p), d3);
}

static void flip_sgd(void **state)
{
    (void)state;
    wb_params *p = wb_params_new();
    wb_params_set_str(p, "loss", "log_loss");
    wb_params_set_int(p, "epochs", 2);
    wb_params_set_bool(p, "tol", 0);
    sweep("sgd.wbm", fit("sgd", d2, p), d2);
}

static void flip_gbdt(void **state)
{
    (void)state;
    wb_params *p = wb_params_new();
    wb_params_set_int(p, "n_trees", 2);
    wb_params_set_int(p, "max_leaves", 3);
    wb_params_set_int(p, "min_samples_leaf", 4);
    sweep("gbdt.wbm", fit("gbdt", d2, p), d2);
}

static void flip_kmeans(void **state)
{
    (void)state;
    wb_params *p = wb_params_new();
    wb_params_set_int(p, "k", 3);
    wb_params_set_int(p, "max_iter", 5);
    sweep("kmeans.wbm", fit("kmeans", d3, p), d3);
}

static void flip_pca(void **state)
{
    (void)state;
    wb_params *p = wb_params_new();
    wb_params_set_int(p, "components", 2);
    wb_params_set_bool(p, "whiten", 1);
    sweep("pca.wbm", fit("pca", d2, p), d2);
}

static void flip_scaler(void **state)
{
    (void)state;
    sweep("scaler.wbm", fit("scaler", d3, wb_params_new()), d3);
}

/* a pipeline's parameters are its steps' parameter carriers, hex-encoded (as
 * wb.pipeline builds them) */
static char *hex_carrier(const char *est)
{
    wb_model *c = wb_model_new(est, NULL);
    wb_buf b = {0};
    assert_ok(wb_model_encode(c, &b));
    wb_model_free(c);
    char *h = malloc(2 * b.len + 1);
    for (size_t i = 0; i < b.len; i++) sprintf(h + 2 * i, "%02x", b.p[i]);
    wb_buf_free(&b);
    return h;
}

/* the bytes of a hex string (malloc'd) */
static unsigned char *unhex(const char *h, size_t *n)
{
    *n = strlen(h) / 2;
    unsigned char *b = malloc(*n + 1);
    for (size_t i = 0; i < *n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        b[i] = (unsigned char)v;
    }
    return b;
}

/* a pipeline keeps its fitted steps as hex-encoded models: flips inside a
 * step's bytes (the hex stays valid) reach the step's own checks through the
 * pipeline */
static void sweep_steps(wb_model *pipe, const wb_dataset *d)
{
    for (int k = 1; k <= 2; k++) {
        char key[16];
        snprintf(key, sizeof key, "step%d", k);
        const char *hex = wb_model_str(pipe, key);
        assert_non_null(hex);
        size_t n;
        unsigned char *orig = unhex(hex, &n), *b = malloc(n);
        char *h = malloc(2 * n + 1);
        int at_use = 0, used = 0;
        for (size_t i = 0; i < n; i++)
            for (int bit = 0; bit < 8; bit++) {
                memcpy(b, orig, n);
                b[i] ^= (unsigned char)(1u << bit);
                for (size_t j = 0; j < n; j++) sprintf(h + 2 * j, "%02x", b[j]);
                wb_buf e = {0};
                assert_ok(wb_model_encode(pipe, &e));
                wb_model *q = NULL;
                assert_ok(wb_model_decode(e.p, e.len, &q));
                wb_buf_free(&e);
                assert_ok(wb_model_set_str(q, key, h));
                if (use(q, d, i, bit)) used++;
                else at_use++;
                wb_model_free(q);
            }
        printf("pipeline %s %5zu bytes, %6zu flips: %6d refused by every method, %6d used\n", key, n, n * 8, at_use,
               used);
        free(orig);
        free(b);
        free(h);
    }
}

static void flip_pipeline(void **state)
{
    (void)state;
    char *a = hex_carrier("scaler"), *l = hex_carrier("logreg");
    char *spec = malloc(strlen(a) + strlen(l) + 2);
    sprintf(spec, "%s,%s", a, l);
    wb_params *p = wb_params_new();
    wb_params_set_str(p, "steps", "scaler,logreg");
    wb_params_set_str(p, "spec", spec);
    free(a);
    free(l);
    free(spec);
    wb_model *m = fit("pipeline", d2, p);
    wb_buf e = {0};
    assert_ok(wb_model_encode(m, &e));
    wb_model *copy = NULL;
    assert_ok(wb_model_decode(e.p, e.len, &copy));
    wb_buf_free(&e);
    sweep("pipeline.wbm", m, d2);
    sweep_steps(copy, d2);
    wb_model_free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flip_logreg), cmocka_unit_test(flip_sgd),    cmocka_unit_test(flip_gbdt),
        cmocka_unit_test(flip_kmeans), cmocka_unit_test(flip_pca),    cmocka_unit_test(flip_scaler),
        cmocka_unit_test(flip_pipeline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
