/* fuzz_model_use.c — models as untrusted input, used: a model is loaded (a
 * file through wb_model_load, or an encoding through wb_model_decode) and
 * every method its estimator has (predict, predict_proba, transform,
 * inverse_transform, score) runs on a small dataset, with every plugin of
 * the build loaded.
 *
 * Input: byte 0 picks the dataset (below), the rest is the model: when it
 * starts with the file header "WBMODEL 1\n", the bytes of a model file,
 * otherwise an encoding.
 *
 * Properties: besides the sanitizers, every failure carries a code and a
 * message naming the estimator (or the file, for a load); an output is a
 * dataset of the input's rows whose every number reads back; nothing but the
 * datasets is left in the store. */
#include "fuzz.h"

/* the datasets a model is used on: 12 x 3 with labels 0, 1, 2; the same
 * without labels; 12 x 1 with labels; 12 x 2 with labels 0 and 1 */
enum { NDS = 4 };
static wb_dataset *ds[NDS];
static size_t base_objects; /* the datasets' partitions */
static int verbose;          /* WB_FUZZ_VERBOSE set: each method's outcome on stderr */

static void fz_model_use_done(void)
{
    for (int i = 0; i < NDS; i++) {
        wb_ds_unref(ds[i]);
        ds[i] = NULL;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_core();
    wb_plugin_set_exe_dir(WB_BUILD_DIR);
    if (wb_plugin_load_default() != 0 && wb_estimator_count() == 0) {
        fprintf(stderr, "fuzz_model_use: %s\n", wb_errmsg());
        abort();
    }
    if (!wb_estimator_find("logreg") || !wb_estimator_find("pipeline")) {
        fprintf(stderr, "fuzz_model_use: the estimators are not registered (plugins in %s/plugins?)\n", WB_BUILD_DIR);
        abort();
    }
    wb_exec *ex = fz_exec();
    double x[36], y[12], y2[12];
    for (int i = 0; i < 12; i++) {
        x[3 * i] = i % 5 - 2;
        x[3 * i + 1] = (i * i) % 7 * 0.5;
        x[3 * i + 2] = i < 6 ? -1.5 : 2.25;
        y[i] = i % 3;
        y2[i] = i % 2;
    }
    if (wb_ds_from_memory(ex, x, y, 12, 3, &ds[0]) || wb_ds_from_memory(ex, x, NULL, 12, 3, &ds[1]) ||
        wb_ds_from_memory(ex, x, y, 12, 1, &ds[2]) || wb_ds_from_memory(ex, x, y2, 12, 2, &ds[3])) {
        fprintf(stderr, "fuzz_model_use: %s\n", wb_errmsg());
        abort();
    }
    base_objects = wb_store_count(fz_store_);
    verbose = getenv("WB_FUZZ_VERBOSE") != NULL;
    atexit(fz_model_use_done);
    return 0;
}

/* a refusal names the estimator, or (in a pipeline) one of its steps', or
 * for score the method as wb's m:score does ("score: the data has no labels") */
static void refused(int rc, const char *est, const char *method)
{
    fz_check_err(rc, method);
    const char *m = wb_errmsg();
    int named = strstr(m, est) != NULL || (!strcmp(method, "score") && !strncmp(m, "score: ", 7));
    for (int i = 0; !named && i < wb_estimator_count(); i++) {
        size_t l = strlen(wb_estimator_at(i)->name);
        named = !strncmp(m, wb_estimator_at(i)->name, l) && m[l] == ':';
    }
    FZ_ASSERT(named, "%s %s: the message does not name the estimator: %s", est, method, m);
}

static FZ_HARNESS void check_output(const wb_dataset *in, const wb_dataset *out, const char *what)
{
    FZ_ASSERT(out != NULL, "%s: success without an output", what);
    FZ_ASSERT(out->n == in->n, "%s: %lld rows out of %lld", what, (long long)out->n, (long long)in->n);
    fz_touch_dataset(out);
}

typedef int (*ds_method)(wb_exec *, const wb_model *, const wb_dataset *, wb_dataset **);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ds[0]) LLVMFuzzerInitialize(NULL, NULL);
    if (size < 1) return 0;
    const wb_dataset *d = ds[data[0] % NDS];
    data++;
    size--;
    static const char hdr[] = "WBMODEL 1\n";
    wb_model *m = NULL;
    int rc;
    if (size >= sizeof hdr - 1 && memcmp(data, hdr, sizeof hdr - 1) == 0) {
        char path[600];
        fz_path(path, sizeof path, "use.wbm");
        fz_write(path, data, size);
        rc = wb_model_load(path, &m);
        fz_check_err(rc, "load");
    } else {
        rc = wb_model_decode(data, size, &m);
        fz_check_err(rc, "decode");
    }
    if (rc) return 0;
    const wb_estimator_def *e = wb_estimator_find(wb_model_estimator(m));
    if (!e) {
        wb_model_free(m);
        return 0;
    }
    fz_accepted = 1;
    wb_exec *ex = fz_exec();
    const struct {
        const char *name;
        ds_method f;
    } methods[] = {{"predict", e->predict},
                   {"predict_proba", e->predict_proba},
                   {"transform", e->transform},
                   {"inverse_transform", e->inverse_transform}};
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
        if (!methods[k].f) continue;
        wb_dataset *out = NULL;
        wb_clearerr();
        rc = methods[k].f(ex, m, d, &out);
        if (verbose) fprintf(stderr, "  %s %s: %s\n", e->name, methods[k].name, rc ? wb_errmsg() : "ok");
        if (rc)
            refused(rc, e->name, methods[k].name);
        else
            check_output(d, out, methods[k].name);
        wb_ds_unref(out);
    }
    if (e->score) {
        double s = 0;
        wb_clearerr();
        rc = e->score(ex, m, d, &s);
        if (verbose) fprintf(stderr, "  %s score: %s\n", e->name, rc ? wb_errmsg() : "ok");
        if (rc) refused(rc, e->name, "score");
    }
    wb_model_free(m);
    size_t left = wb_store_count(fz_store_);
    FZ_ASSERT(left == base_objects, "%s: %zu objects left in the store", e->name, left - base_objects);
    return 0;
}
