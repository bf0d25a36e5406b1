/* test_plugin.c — the plugin loader and host: loading test plugins (tests/plugins),
 * refusing bad ones with a message naming the file and the reason, leaving
 * nothing behind when an init fails, registration only inside init. */
#include "wbtest.h"

#include <dlfcn.h>
#include <sys/stat.h>

static char path[4096];
static const char *P(const char *name)
{
    snprintf(path, sizeof path, "%s/%s.so", WB_TEST_PLUGIN_DIR, name);
    return path;
}

static int setup(void **state)
{
    (void)state;
    wb_core_init();
    return 0;
}

static void good_plugin(void **state)
{
    (void)state;
    int n0 = wb_plugin_count(), k0 = wb_kernel_count(), e0 = wb_estimator_count(),
        c0 = wb_luachunk_count();
    assert_ok(wb_plugin_load(P("good")));
    assert_int_equal(wb_plugin_count(), n0 + 1);
    const char *name, *version, *ppath;
    assert_ok(wb_plugin_info_at(n0, &name, &version, &ppath));
    assert_string_equal(name, "good");
    assert_string_equal(version, "1.2");
    assert_string_equal(ppath, P("good"));
    assert_int_equal(wb_plugin_info_at(n0 + 1, &name, NULL, NULL), WB_ENOTFOUND);
    assert_int_equal(wb_kernel_count(), k0 + 5);
    assert_non_null(wb_kernel_find("good.double"));
    assert_non_null(wb_kernel_find("good.colsum"));
    assert_int_equal(wb_estimator_count(), e0 + 1);
    const wb_estimator_def *e = wb_estimator_find("good.mean");
    assert_non_null(e);
    assert_int_equal(e->nparams, 3);
    assert_ptr_equal(wb_estimator_at(e0), e);
    assert_int_equal(wb_luachunk_count(), c0 + 1);
    const char *cn, *src;
    assert_ok(wb_luachunk_at(c0, &cn, &src));
    assert_string_equal(cn, "good");
    assert_non_null(strstr(src, "answer = 42"));
    /* the kernel list names them */
    int seen = 0;
    for (int i = 0; i < wb_kernel_count(); i++)
        if (!strcmp(wb_kernel_name_at(i), "good.double")) seen++;
    assert_int_equal(seen, 1);

    /* its kernel through the executor */
    wb_exec *ex = wb_exec_local_new(2);
    double x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {0, 1, 1};
    wb_dataset *d, *out;
    assert_ok(wb_ds_from_memory(ex, x, y, 3, 2, &d));
    assert_ok(wb_exec_map_dataset(ex, "good.double", d, NULL, 0, NULL, 0, &out));
    double got[6];
    assert_ok(wb_ds_read_rows(out, 0, 3, got, NULL));
    for (int i = 0; i < 6; i++) assert_true(got[i] == 2 * x[i]);
    wb_ds_unref(out);

    /* its estimator: the schema is checked, then fit runs */
    wb_params *p = wb_params_new();
    wb_params_set_num(p, "scale", 10);
    wb_params_set_str(p, "tag", "t1");
    wb_model *m;
    const wb_host *h = wb_host_table();
    assert_ok(h->fit(ex, "good.mean", d, p, &m));
    int64_t r, c;
    const double *mean = wb_model_array(m, "mean", &r, &c);
    assert_int_equal(c, 2);
    assert_true(mean[0] == 30 && mean[1] == 40);
    assert_true(wb_model_num(m, "rows") == 3);
    assert_string_equal(wb_model_str(m, "tag"), "t1");
    assert_true(wb_params_bool(wb_model_params(m), "strict")); /* the default, kept in the model */
    assert_string_equal(wb_model_estimator(m), "good.mean");
    wb_model_free(m);
    wb_params_set_num(p, "scale", -1);
    assert_err(h->fit(ex, "good.mean", d, p, &m), WB_EPARAM,
               "good.mean: parameter 'scale' must be a number > 0, got -1");
    wb_params_set_num(p, "scale", 1000);
    assert_err(h->fit(ex, "good.mean", d, p, &m), WB_EPARAM,
               "good.mean: scale above 100 needs strict = false");
    wb_params_set_bool(p, "strict", 0);
    assert_ok(h->fit(ex, "good.mean", d, p, &m));
    wb_model_free(m);
    wb_params_set_int(p, "scal", 1);
    assert_err(h->fit(ex, "good.mean", d, p, &m), WB_EPARAM,
               "good.mean: unknown parameter 'scal' (did you mean 'scale'? parameters: scale, strict, tag)");
    wb_params_free(p);
    assert_err(h->fit(ex, "nothing.here", d, NULL, &m), WB_ENOTFOUND, "no estimator named 'nothing.here'");
    assert_err(h->fit(ex, "good.mean", NULL, NULL, &m), WB_EINVAL, "good.mean: no data to fit");
    wb_dataset *nolab;
    assert_ok(wb_ds_from_memory(ex, x, NULL, 3, 2, &nolab));
    assert_err(h->fit(ex, "good.mean", nolab, NULL, &m), WB_EINVAL, "good.mean: the data has no labels");
    wb_ds_unref(nolab);
    wb_ds_unref(d);

    /* registration outside init is refused (the kernel tries while it runs) */
    wb_oid o;
    assert_ok(wb_exec_submit(ex, "good.late", NULL, 0, NULL, 0, &o));
    void *data;
    size_t size;
    assert_ok(wb_exec_get(ex, o, &data, &size));
    int rc;
    memcpy(&rc, data, sizeof rc);
    assert_int_equal(rc, WB_ESTATE);
    const char *want = "register_kernel: only allowed inside wb_plugin_init";
    assert_int_equal(size - sizeof rc, strlen(want));
    assert_memory_equal((char *)data + sizeof rc, want, strlen(want));
    free(data);
    wb_exec_release(ex, o);
    assert_null(wb_kernel_find("good.sneaky"));
    /* and through the host table from here */
    assert_err(h->register_estimator(e), WB_ESTATE, "register_estimator: only allowed inside wb_plugin_init");
    assert_err(h->register_lua("x", "y"), WB_ESTATE, "register_lua: only allowed inside wb_plugin_init");
    assert_err(h->register_source(NULL), WB_ESTATE, "register_source: only allowed inside wb_plugin_init");
    wb_exec_unref(ex);

    /* loading it again is refused by name */
    char msg[9000];
    snprintf(msg, sizeof msg, "plugin %s: a plugin named 'good' is already loaded from %s", P("good"), P("good"));
    assert_err(wb_plugin_load(P("good")), WB_EEXIST, msg);
    snprintf(msg, sizeof msg, "plugin %s: a plugin named 'good' is already loaded from %s/good.so",
             P("samename"), WB_TEST_PLUGIN_DIR);
    assert_err(wb_plugin_load(P("samename")), WB_EEXIST, msg);
    assert_int_equal(wb_plugin_count(), n0 + 1);
}

/* WB_HOST_HAS: the plugin hostver calls register_lua and kctx_input only when
 * the running host's table has them. An older host hands a shorter table (its
 * own sizeof(wb_host) in `size`); the test makes one from the running host's
 * table, with registration entries that count the calls. */
static int nkernels, nchunks;
static int count_kernel(const char *name, wb_kernel_fn fn)
{
    (void)name, (void)fn;
    nkernels++;
    return 0;
}
static int count_lua(const char *name, const char *source)
{
    (void)name, (void)source;
    nchunks++;
    return 0;
}

static void host_has(void **state)
{
    (void)state;
    const wb_host *h = wb_host_table();
    /* the running host has every entry of this header */
    assert_int_equal(h->abi, WB_PLUGIN_ABI);
    assert_int_equal(h->size, sizeof(wb_host));
    assert_true(WB_HOST_HAS(h, register_kernel));
    assert_true(WB_HOST_HAS(h, register_lua));
    assert_true(WB_HOST_HAS(h, kctx_input));

    /* a host built before register_lua was appended: its table ends there */
    static wb_host old;
    old = *h;
    old.register_kernel = count_kernel;
    old.register_lua = count_lua;
    old.size = (uint32_t)offsetof(wb_host, register_lua);
    assert_true(WB_HOST_HAS(&old, register_source)); /* the entry before it */
    assert_false(WB_HOST_HAS(&old, register_lua));
    assert_false(WB_HOST_HAS(&old, kctx_input));
    old.size = (uint32_t)(offsetof(wb_host, register_lua) + sizeof old.register_lua - 1);
    assert_false(WB_HOST_HAS(&old, register_lua)); /* a byte short */
    old.size = (uint32_t)(offsetof(wb_host, register_lua) + sizeof old.register_lua);
    assert_true(WB_HOST_HAS(&old, register_lua));
    assert_false(WB_HOST_HAS(&old, ds_check_finite));
    /* in the table but not set */
    old.size = (uint32_t)sizeof(wb_host);
    old.kctx_input = NULL;
    assert_false(WB_HOST_HAS(&old, kctx_input));

    /* the plugin's init on the older table leaves its Lua out, on the full
     * one registers it */
    void *so = dlopen(P("hostver"), RTLD_NOW | RTLD_LOCAL);
    if (!so) fail_msg("dlopen %s: %s", P("hostver"), dlerror());
    int (*init)(const wb_host *) = (int (*)(const wb_host *))dlsym(so, "wb_plugin_init");
    assert_non_null(init);
    old.size = (uint32_t)offsetof(wb_host, register_lua);
    nkernels = nchunks = 0;
    assert_ok(init(&old));
    assert_int_equal(nkernels, 1);
    assert_int_equal(nchunks, 0);
    old.size = (uint32_t)sizeof(wb_host);
    nkernels = nchunks = 0;
    assert_ok(init(&old));
    assert_int_equal(nkernels, 1);
    assert_int_equal(nchunks, 1);

    /* loaded on the running host: its Lua chunk, and its kernel reads the
     * id of its input through kctx_input */
    int c0 = wb_luachunk_count();
    assert_ok(wb_plugin_load(P("hostver"))); /* its init runs again, on the host's table */
    dlclose(so);
    assert_int_equal(wb_luachunk_count(), c0 + 1);
    const char *cn, *src;
    assert_ok(wb_luachunk_at(c0, &cn, &src));
    assert_string_equal(cn, "hostver");
    wb_exec *ex = wb_exec_local_new(1);
    wb_oid in, out;
    assert_ok(wb_exec_put(ex, "x", 1, &in));
    assert_ok(wb_exec_submit(ex, "hostver.input", &in, 1, NULL, 0, &out));
    void *data;
    size_t size;
    assert_ok(wb_exec_get(ex, out, &data, &size));
    uint64_t got;
    assert_int_equal(size, sizeof got);
    memcpy(&got, data, sizeof got);
    assert_true(got == in);
    free(data);
    wb_exec_release(ex, out);
    wb_exec_release(ex, in);
    wb_exec_unref(ex);
}

/* The plugins that use the column entries (wb/plugin_cols.h, appended
 * after kctx_input) refuse an older host's table that lacks them, naming
 * the first one missing, before they register anything. */
static void cols_host_entries(void **state)
{
    (void)state;
    static const char *const plugins[] = {"gbdt", "linear", "select", "preprocess"};
    static wb_host old;
    for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++) {
        char path[1024], want[256];
        snprintf(path, sizeof path, "%s/%s.so", WB_BUILD_PLUGIN_DIR, plugins[i]);
        void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!so) fail_msg("dlopen %s: %s", path, dlerror());
        int (*init)(const wb_host *) = (int (*)(const wb_host *))dlsym(so, "wb_plugin_init");
        assert_non_null(init);
        old = *wb_host_table();
        old.register_kernel = count_kernel;
        old.register_lua = count_lua;
        /* a host of before the columns: its table ends after kctx_input */
        old.size = (uint32_t)offsetof(wb_host, ds_col_name);
        nkernels = nchunks = 0;
        snprintf(want, sizeof want,
                 "%s: this wb is older than the plugin: its host table lacks ds_col_name (named, typed columns, list parameters)",
                 plugins[i]);
        assert_err(init(&old), WB_EABI, want);
        assert_int_equal(nkernels, 0);
        assert_int_equal(nchunks, 0);
        /* one with the columns but not list parameters */
        old.size = (uint32_t)offsetof(wb_host, param_list);
        snprintf(want, sizeof want,
                 "%s: this wb is older than the plugin: its host table lacks param_list (named, typed columns, list parameters)",
                 plugins[i]);
        assert_err(init(&old), WB_EABI, want);
        assert_int_equal(nkernels, 0);
        dlclose(so);
    }
}

/* everything the registries hold, to compare before and after a refused plugin */
typedef struct snapshot {
    int plugins, kernels, estimators, sources, chunks;
} snapshot;
static snapshot snap(void)
{
    return (snapshot){wb_plugin_count(), wb_kernel_count(), wb_estimator_count(), wb_source_count(),
                      wb_luachunk_count()};
}
static void same(snapshot a, snapshot b)
{
    assert_int_equal(a.plugins, b.plugins);
    assert_int_equal(a.kernels, b.kernels);
    assert_int_equal(a.estimators, b.estimators);
    assert_int_equal(a.sources, b.sources);
    assert_int_equal(a.chunks, b.chunks);
}

static void refused(const char *plugin, int code, const char *reason)
{
    char msg[9000];
    snprintf(msg, sizeof msg, "plugin %s: %s", P(plugin), reason);
    snapshot before = snap();
    assert_err(wb_plugin_load(P(plugin)), code, msg);
    same(before, snap());
}

static void bad_plugins(void **state)
{
    (void)state;
    char reason[512];
    snprintf(reason, sizeof reason, "plugin ABI %d, host %d", WB_PLUGIN_ABI + 1, WB_PLUGIN_ABI);
    refused("abi2", WB_EABI, reason);
    refused("abi2", WB_EABI, "plugin ABI 2, host 1");
    refused("noinit", WB_EABI,
            "missing symbol 'wb_plugin_init' (declare it with WB_PLUGIN(name, version))");
    refused("noinfo", WB_EABI,
            "missing symbol 'wb_plugin_info' (declare it with WB_PLUGIN(name, version))");
    refused("badname", WB_EABI, "bad plugin name");
    refused("badversion", WB_EABI, "bad version '1.0 beta' (1 to 128 characters of A-Z a-z 0-9 _ . + -)");
    refused("silentfail", WB_EINVAL, "init failed: no reason given");
    refused("baddefault", WB_EPARAM,
            "init failed: bad default: baddefault.est: parameter 'k' must be an integer >= 1, got 0");
    refused("estv2", WB_EABI, "init failed: register_estimator: descriptor version 2, host knows 1");
    assert_null(wb_estimator_find("baddefault.est"));
}

static void failed_init_leaves_nothing(void **state)
{
    (void)state;
    /* the kernels of the core and of the good plugin before */
    int nk = wb_kernel_count();
    char **names = calloc((size_t)nk, sizeof *names);
    for (int i = 0; i < nk; i++) names[i] = wb_strdup(wb_kernel_name_at(i));
    refused("initfail", WB_ENOTFOUND, "init failed: licence key not found in /etc/initfail.key");
    assert_null(wb_kernel_find("initfail.k0"));
    assert_null(wb_kernel_find("initfail.k299"));
    assert_null(wb_estimator_find("initfail.est"));
    assert_null(wb_source_find("initfail.src"));
    for (int i = 0; i < wb_luachunk_count(); i++) {
        const char *cn, *src;
        wb_luachunk_at(i, &cn, &src);
        assert_string_not_equal(cn, "initfail");
    }
    /* every kernel that was there is still found (the table was not damaged) */
    for (int i = 0; i < nk; i++) {
        assert_non_null(wb_kernel_find(names[i]));
        free(names[i]);
    }
    free(names);
    /* a duplicate kernel name: refused, and its first kernel removed */
    refused("dupname", WB_EEXIST, "init failed: register_kernel: a kernel named 'good.double' exists");
    assert_null(wb_kernel_find("dupname.first"));
    assert_non_null(wb_kernel_find("good.double"));
    /* the same plugin refused twice in a row: the same answer */
    refused("initfail", WB_ENOTFOUND, "init failed: licence key not found in /etc/initfail.key");
}

static void not_a_plugin(void **state)
{
    (void)state;
    char *dir = wbt_mkdtemp();
    char f[4200], msg[9000];
    snprintf(f, sizeof f, "%s/text.so", dir);
    FILE *fp = fopen(f, "w");
    fputs("this is not a shared object\n", fp);
    fclose(fp);
    snapshot before = snap();
    int rc = wb_plugin_load(f);
    assert_int_equal(rc, WB_ENOTFOUND);
    snprintf(msg, sizeof msg, "plugin %s: cannot open: ", f);
    assert_memory_equal(wb_errmsg(), msg, strlen(msg)); /* then dlerror()'s words */
    assert_non_null(strstr(wb_errmsg(), "text.so"));
    same(before, snap());
    snprintf(f, sizeof f, "%s/none.so", dir);
    assert_err_has(wb_plugin_load(f), WB_ENOTFOUND, "cannot open");
    assert_non_null(strstr(wb_errmsg(), f));
    assert_err(wb_plugin_load(""), WB_EINVAL, "plugin: no path given");
    assert_err(wb_plugin_load(NULL), WB_EINVAL, "plugin: no path given");
    wbt_rmdir(dir);
}

static void search_path(void **state)
{
    (void)state;
    char *dir = wbt_mkdtemp(), cmd[9000], msg[9000];
    /* a folder with a refused plugin: its message names the copy */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/zz_abi2.so' && touch '%s/readme.txt'", P("abi2"), dir, dir);
    assert_int_equal(system(cmd), 0);
    setenv("WB_PLUGIN_PATH", dir, 1);
    wb_plugin_set_exe_dir("/nonexistent-wb-dir");
    assert_non_null(strstr(wb_plugin_search_path(), dir));
    assert_non_null(strstr(wb_plugin_search_path(), "/nonexistent-wb-dir/plugins"));
    snprintf(msg, sizeof msg, "plugin %s/zz_abi2.so: plugin ABI 2, host 1", dir);
    assert_err(wb_plugin_load_default(), WB_EABI, msg);
    /* a copy of a loaded plugin is skipped by name; an empty folder loads nothing */
    snprintf(cmd, sizeof cmd, "rm '%s/zz_abi2.so' && cp '%s' '%s/good_copy.so'", dir, P("good"), dir);
    assert_int_equal(system(cmd), 0);
    int n = wb_plugin_count();
    assert_int_equal(wb_plugin_load_default(), 0);
    assert_int_equal(wb_plugin_count(), n);
    unsetenv("WB_PLUGIN_PATH");
    wbt_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_plugin),
        cmocka_unit_test(host_has),
        cmocka_unit_test(cols_host_entries),
        cmocka_unit_test(bad_plugins),
        cmocka_unit_test(failed_init_leaves_nothing),
        cmocka_unit_test(not_a_plugin),
        cmocka_unit_test(search_path),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
