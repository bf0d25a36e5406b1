/* test_hardening: the clean errors behind every crash the fuzz targets found
 * (tests/fuzz; each input is also kept in tests/fuzz/corpus/<target>/crash-*
 * and replayed by the replay.<target> tests), and the limits that protect the
 * process from the files it is handed: columns, line length, rows (the
 * caller's max_rows), memory of a partition (checked before it is allocated). */
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"
#include "wbtest.h"

static char *dir;
static wb_exec *ex;

static const char *path(const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_file(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_str(const char *p, const char *s) { write_file(p, s, strlen(s)); }

static int setup(void **state)
{
    (void)state;
    wb_core_init();
    dir = wbt_mkdtemp();
    ex = wb_exec_local_new(2);
    return ex ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    wb_exec_unref(ex);
    wbt_rmdir(dir);
    return 0;
}

static char msg[4096];
#define expect_err(rc, code, ...)                        \
    do {                                                 \
        snprintf(msg, sizeof msg, __VA_ARGS__);          \
        assert_err((rc), (code), msg);                   \
    } while (0)

/* ------------------------------------------------ crashes found by fuzzing */

/* fuzz meta: a number past int64 in a .meta file was converted (undefined) */
static void meta_huge_number(void **state)
{
    (void)state;
    write_str(path("m.libsvm.meta"), "{\n  \"num_samples\": 1e43,\n  \"num_features\": 3\n}\n");
    wb_meta m;
    expect_err(wb_meta_read(path("m.libsvm"), &m), WB_EFORMAT,
               "%s:2:18: malformed .meta (expected a whole number >= 0 of at most 2^53)", path("m.libsvm.meta"));
    write_str(path("m.libsvm.meta"), "{\"num_samples\": 9007199254740992}");
    assert_ok(wb_meta_read(path("m.libsvm"), &m));
    assert_int_equal(m.num_samples, (int64_t)1 << 53);
}

/* fuzz params_decode: an integer read of a huge number was converted (undefined) */
static void params_int_of_huge_number(void **state)
{
    (void)state;
    wb_params *p = wb_params_new();
    assert_ok(wb_params_set_num(p, "a", 1e300));
    assert_ok(wb_params_set_num(p, "b", -1e300));
    assert_ok(wb_params_set_num(p, "c", NAN));
    assert_ok(wb_params_set_num(p, "d", -3.7));
    assert_true(wb_params_int(p, "a") == INT64_MAX);
    assert_true(wb_params_int(p, "b") == INT64_MIN);
    assert_int_equal(wb_params_int(p, "c"), 0);
    assert_int_equal(wb_params_int(p, "d"), -3);
    wb_params_free(p);
}

static void load_plugin(const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s.so", WB_BUILD_PLUGIN_DIR, name);
    int rc = wb_plugin_load(p);
    if (rc && !strstr(wb_errmsg(), "already loaded")) assert_ok(rc);
}

/* fuzz params: pca's components = 1e300 (an integral number) was converted */
static void pca_huge_components(void **state)
{
    (void)state;
    load_plugin("pca");
    const wb_estimator_def *e = wb_estimator_find("pca");
    assert_non_null(e);
    wb_params *in = wb_params_new(), *p = NULL;
    assert_ok(wb_params_set_num(in, "components", 1e300));
    assert_ok(wb_params_validate(e->name, e->params, e->nparams, in, &p));
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 9};
    wb_dataset *d;
    assert_ok(wb_ds_from_memory(ex, x, NULL, 4, 2, &d));
    assert_ok(e->check(p, NULL));
    assert_err(e->check(p, d), WB_EPARAM,
               "pca: parameter 'components' (9223372036854775807) must be <= min(rows, columns) = 2");
    wb_ds_unref(d);
    wb_params_free(p);
    wb_params_free(in);
}

/* fuzz params: classes * clusters_per_class * informative^2 overflowed int64 */
static void classification_cluster_overflow(void **state)
{
    (void)state;
    load_plugin("datagen");
    wb_params *in = wb_params_new();
    assert_ok(wb_params_set_int(in, "n", 10));
    assert_ok(wb_params_set_int(in, "features", 80));
    assert_ok(wb_params_set_int(in, "informative", 70));
    assert_ok(wb_params_set_int(in, "redundant", 0));
    assert_ok(wb_params_set_int(in, "classes", (int64_t)1 << 40));
    assert_ok(wb_params_set_int(in, "clusters_per_class", (int64_t)1 << 40));
    wb_dataset *d = NULL;
    assert_err(wb_generate(ex, "classification", in, &d), WB_EPARAM,
               "datagen.classification: too many clusters for 70 informative features");
    assert_ok(wb_params_set_int(in, "informative", 2));
    assert_err(wb_generate(ex, "classification", in, &d), WB_EPARAM,
               "datagen.classification: classes * clusters_per_class (1208925819614629174706176) must be <= "
               "2^informative (4)");
    wb_params_free(in);
}

/* fuzz csv: column names the reader would trim or take for a byte-order mark
 * were written bare, and read back changed */
static void csv_names_round_trip(void **state)
{
    (void)state;
    double x[6] = {1, 2, 3, 4, 5, 6};
    wb_dataset *d, *back;
    assert_ok(wb_ds_from_memory(ex, x, NULL, 2, 3, &d));
    const char *names[3] = {("\xEF\xBB\xBF" "a"), "3\t", " b c "};
    assert_ok(wb_ds_set_colnames(d, names));
    assert_ok(wb_write(d, path("names.csv"), NULL));
    assert_ok(wb_read(ex, path("names.csv"), NULL, &back));
    assert_non_null(back->colnames);
    for (int j = 0; j < 3; j++) assert_string_equal(back->colnames[j], names[j]);
    wb_ds_unref(back);
    wb_ds_unref(d);
}

/* fuzz libsvm: a token that looks like an index past the limit (here a
 * number before ':') made the reader size a partition of gigabytes before
 * any line was parsed; now the line is named */
static void libsvm_huge_index(void **state)
{
    (void)state;
    write_str(path("big.libsvm"), "0.5 1:1\n3 1.7976931348632:1\n");
    wb_dataset *d = NULL;
    expect_err(wb_read(ex, path("big.libsvm"), NULL, &d), WB_EFORMAT,
               "%s:2:3: bad feature \"1.7976931348632:1\" (expected index:value)", path("big.libsvm"));
    write_str(path("big.libsvm"), "1 1:1\n0 3:1 2000000:2\n");
    expect_err(wb_read(ex, path("big.libsvm"), NULL, &d), WB_ELIMIT,
               "%s:2:7: index 2000000 out of range (expected at most 1048576 features, the limit of columns)",
               path("big.libsvm"));
    /* at the limit itself: read */
    write_str(path("big.libsvm"), "1 1048576:1\n");
    assert_ok(wb_read(ex, path("big.libsvm"), NULL, &d));
    assert_int_equal(d->d, 1048576);
    wb_ds_unref(d);
}

/* ------------------------------------------- files that are not regular files */

/* a FIFO or a device is refused without blocking: wb.load of a FIFO (data,
 * its .meta, a model) waited in open for ever, wb.load_model("/dev/zero")
 * read until memory ran out. Each refusal comes within a second (measured);
 * an alarm of 5 s around each fails the test instead of hanging it. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define WITHIN_A_SECOND(what, stmt)                                                  \
    do {                                                                             \
        alarm(5);                                                                    \
        double t0_ = now_s();                                                        \
        stmt;                                                                        \
        double dt_ = now_s() - t0_;                                                  \
        alarm(0);                                                                    \
        if (dt_ >= 1.0) fail_msg("%s: refused after %.2f s", what, dt_);             \
    } while (0)

static void not_regular_files(void **state)
{
    (void)state;
    wb_dataset *d = NULL;
    wb_model *m = NULL;
    const char *fifos[] = {"fifo.csv", "fifo.libsvm", "fifo.npy", "fifo.wbm"};
    for (int i = 0; i < 4; i++) {
        unlink(path(fifos[i]));
        assert_int_equal(mkfifo(path(fifos[i]), 0600), 0);
        if (i < 3)
            WITHIN_A_SECOND(fifos[i], expect_err(wb_read(ex, path(fifos[i]), NULL, &d), WB_EIO,
                                                 "%s: cannot read (not a regular file: a FIFO)", path(fifos[i])));
        else
            WITHIN_A_SECOND(fifos[i], expect_err(wb_model_load(path(fifos[i]), &m), WB_EIO,
                                                 "%s: cannot read (not a regular file: a FIFO)", path(fifos[i])));
        unlink(path(fifos[i]));
    }
    /* a .meta beside the data */
    write_str(path("m.libsvm"), "1 1:1\n0 2:1\n");
    unlink(path("m.libsvm.meta"));
    assert_int_equal(mkfifo(path("m.libsvm.meta"), 0600), 0);
    WITHIN_A_SECOND("m.libsvm.meta", expect_err(wb_read(ex, path("m.libsvm"), NULL, &d), WB_EIO,
                                                "%s.meta: cannot read (not a regular file: a FIFO)", path("m.libsvm")));
    wb_meta meta;
    WITHIN_A_SECOND("wb_meta_read", expect_err(wb_meta_read(path("m.libsvm"), &meta), WB_EIO,
                                               "%s.meta: cannot read (not a regular file: a FIFO)", path("m.libsvm")));
    unlink(path("m.libsvm.meta"));
    assert_ok(wb_read(ex, path("m.libsvm"), NULL, &d));
    wb_ds_unref(d);
    /* devices: /dev/zero as a model read until memory ran out */
    WITHIN_A_SECOND("/dev/zero as a model",
                    expect_err(wb_model_load("/dev/zero", &m), WB_EIO,
                               "/dev/zero: cannot read (not a regular file: a character device)"));
    wb_read_opts o;
    wb_read_opts_init(&o);
    o.format = WB_FMT_CSV;
    WITHIN_A_SECOND("/dev/zero as data",
                    expect_err(wb_read(ex, "/dev/zero", &o, &d), WB_EIO,
                               "/dev/zero: cannot read (not a regular file: a character device)"));
    WITHIN_A_SECOND("/dev/null as data",
                    expect_err(wb_read(ex, "/dev/null", &o, &d), WB_EIO,
                               "/dev/null: cannot read (not a regular file: a character device)"));
}

/* a model file's read is bounded by its size, checked against the memory
 * available before anything is allocated (a sparse file of 1 TB: nothing on
 * disk, no memory used) */
static void model_file_size(void **state)
{
    (void)state;
    alarm(60);
    int fd = open(path("huge.wbm"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "WBMODEL 1\n", 10), 10);
    assert_int_equal(ftruncate(fd, (off_t)1 << 40), 0);
    close(fd);
    wb_model *m = NULL;
    int64_t before = wb_peak_rss();
    assert_err_has(wb_model_load(path("huge.wbm"), &m), WB_ENOMEM, ": a model file of 1099511627776 bytes is more than the ");
    assert_true(strstr(wb_errmsg(), path("huge.wbm")) && strstr(wb_errmsg(), "bytes of memory available"));
    assert_true(wb_peak_rss() - before < (int64_t)16 << 20);
    unlink(path("huge.wbm"));
    alarm(0);
}

/* LIBSVM rows are stored dense: a short file with one large index is refused
 * before any partition is allocated, with the shape, the bytes and the memory
 * available (index 1048576 in a 24 KB file asked for 16 GB) */
static void libsvm_dense_memory(void **state)
{
    (void)state;
    /* 200000 rows x 1048576 columns: 1.5 TB dense, from 2.4 MB */
    FILE *f = fopen(path("wide.libsvm"), "wb");
    assert_non_null(f);
    for (int i = 0; i < 200000; i++) fputs("1 1048576:1\n", f);
    assert_int_equal(fclose(f), 0);
    wb_dataset *d = NULL;
    int64_t before = wb_peak_rss();
    snprintf(msg, sizeof msg,
             "%s: 200000 rows x 1048576 columns (the largest feature index) stored dense need 1.5 TB (1677723200000 "
             "bytes), more than half of the ",
             path("wide.libsvm"));
    assert_err_has(wb_read(ex, path("wide.libsvm"), NULL, &d), WB_ENOMEM, msg);
    assert_non_null(strstr(wb_errmsg(), " of memory available"));
    assert_true(wb_peak_rss() - before < (int64_t)64 << 20);
    /* the file of the report: 2000 rows, 16 GB; refused wherever half the memory available is less */
    f = fopen(path("wide.libsvm"), "wb");
    for (int i = 0; i < 2000; i++) fputs("1 1048576:1\n", f);
    assert_int_equal(fclose(f), 0);
    if (wb__avail_bytes() / 2 < (size_t)16777232000) {
        snprintf(msg, sizeof msg,
                 "%s: 2000 rows x 1048576 columns (the largest feature index) stored dense need 15.6 GB (16777232000 bytes)",
                 path("wide.libsvm"));
        assert_err_has(wb_read(ex, path("wide.libsvm"), NULL, &d), WB_ENOMEM, msg);
    } else
        printf("libsvm_dense_memory: this machine has room for 16 GB; the 24 KB case is not tried\n");
    /* a small one still reads */
    write_str(path("wide.libsvm"), "1 1048576:1\n0 3:2\n");
    assert_ok(wb_read(ex, path("wide.libsvm"), NULL, &d));
    assert_int_equal(d->n, 2);
    wb_ds_unref(d);
    unlink(path("wide.libsvm"));
}

/* ------------------------------------------------------------ the limits */

static void libsvm_columns_limit(void **state)
{
    (void)state;
    write_str(path("f.libsvm"), "1 1:1\n");
    wb_read_opts o;
    wb_read_opts_init(&o);
    o.features = 2000000;
    wb_dataset *d = NULL;
    expect_err(wb_read(ex, path("f.libsvm"), &o, &d), WB_ELIMIT,
               "%s: features=2000000 is more than the limit of 1048576 columns", path("f.libsvm"));
    write_str(path("f.libsvm.meta"), "{\"num_features\": 1048577}");
    expect_err(wb_read(ex, path("f.libsvm"), NULL, &d), WB_ELIMIT,
               "%s.meta: num_features 1048577 is more than the limit of 1048576 columns", path("f.libsvm"));
    unlink(path("f.libsvm.meta"));
}

static void csv_columns_limit(void **state)
{
    (void)state;
    size_t n = 1048577;
    char *line = malloc(2 * n + 1);
    assert_non_null(line);
    for (size_t i = 0; i < n; i++) {
        line[2 * i] = '0';
        line[2 * i + 1] = i + 1 < n ? ',' : '\n';
    }
    write_file(path("wide.csv"), line, 2 * n);
    wb_dataset *d = NULL;
    expect_err(wb_read(ex, path("wide.csv"), NULL, &d), WB_ELIMIT,
               "%s:1: more than 1048576 fields (the limit of columns is 1048576)", path("wide.csv"));
    /* one field fewer: read (the last one as labels) */
    line[2 * n - 3] = '\n';
    write_file(path("wide.csv"), line, 2 * n - 2);
    wb_read_opts o;
    wb_read_opts_init(&o);
    o.label = WB_LABEL_LAST;
    assert_ok(wb_read(ex, path("wide.csv"), &o, &d));
    assert_int_equal(d->d, 1048575);
    wb_ds_unref(d);
    free(line);
}

/* an NPY header, then the file made `bytes` long (sparse) */
static void npy_file(const char *p, const char *dict, off_t bytes)
{
    char hdr[128];
    int len = snprintf(hdr + 10, sizeof hdr - 10, "%s", dict);
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    int hl = len + pad + 1;
    hdr[8] = (char)(hl & 0xff);
    hdr[9] = (char)(hl >> 8);
    memset(hdr + 10 + len, ' ', (size_t)pad);
    hdr[10 + len + pad] = '\n';
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, hdr, (size_t)(10 + hl)), 10 + hl);
    assert_int_equal(ftruncate(fd, 10 + hl + bytes), 0);
    close(fd);
}

static void npy_limits(void **state)
{
    (void)state;
    wb_dataset *d = NULL;
    npy_file(path("wide.npy"), "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1048577), }", 8 * 1048577);
    expect_err(wb_read(ex, path("wide.npy"), NULL, &d), WB_ELIMIT,
               "%s: 1048577 columns, more than the limit of 1048576", path("wide.npy"));
    /* rows of no bytes: the shape alone would decide the rows */
    npy_file(path("empty.npy"), "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 0), }", 0);
    expect_err(wb_read(ex, path("empty.npy"), NULL, &d), WB_EFORMAT,
               "%s: no columns (shape (1000000000000, 0)); a dataset has at least one column", path("empty.npy"));
    /* and wb does not write what it would not read */
    double y[3] = {0, 1, 0};
    assert_ok(wb_ds_from_memory(ex, y, y, 3, 0, &d));
    expect_err(wb_write(d, path("none.npy"), NULL), WB_EINVAL,
               "%s: a dataset without columns cannot be saved as NPY (wb reads NPY files of at least one column)",
               path("none.npy"));
    assert_int_equal(access(path("none.npy"), F_OK), -1);
    wb_ds_unref(d);
}

static void line_length_limit(void **state)
{
    (void)state;
    /* a line of 64 MB and one byte: refused at the limit, not grown further */
    size_t n = ((size_t)64 << 20) + 1;
    char *buf = malloc(n + 16);
    assert_non_null(buf);
    memcpy(buf, "a,b\n1,", 6);
    memset(buf + 6, '7', n);
    memcpy(buf + 6 + n, "\n", 1);
    write_file(path("long.csv"), buf, n + 7);
    free(buf);
    wb_dataset *d = NULL;
    expect_err(wb_read(ex, path("long.csv"), NULL, &d), WB_ELIMIT,
               "%s: the line at byte 4 is longer than the limit of 64 MB", path("long.csv"));
    unlink(path("long.csv"));
}

/* a partition past the store's memory limit is refused before it is
 * allocated (an inline executor over a store with a limit, as a worker's),
 * and the message names the file that asked for it and the bytes, in every
 * reader (LIBSVM, CSV, NPY) */
static void partition_memory_limit(void **state)
{
    (void)state;
    wb_store *s = wb_store_new(7);
    wb_store_set_limit(s, (size_t)1 << 20);
    wb_exec *inl = wb_exec_inline_new(s);
    /* 3 rows x 1000000 columns: 24 MB of features */
    write_str(path("wide.libsvm"), "1 1000000:1\n0 1:1\n1 2:2\n");
    wb_dataset *d = NULL;
    int64_t before = wb_peak_rss();
    expect_err(wb_read(inl, path("wide.libsvm"), NULL, &d), WB_ELIMIT,
               "%s: memory limit: an object of 24000024 bytes would bring the store to 24000024 of 1048576 bytes",
               path("wide.libsvm"));
    /* nothing of that size was touched */
    assert_true(wb_peak_rss() - before < (int64_t)16 << 20);
    assert_int_equal(wb_store_count(s), 0);
    unlink(path("wide.libsvm"));
    /* CSV: 50000 rows x 3 columns with labels, one partition of 1.6 MB (the
     * reader asks for the numbers and the partition's header: 1600000 + 96) */
    FILE *f = fopen(path("long.csv"), "wb");
    assert_non_null(f);
    for (int i = 0; i < 50000; i++) fprintf(f, "%d,2,3,%d\n", i, i % 2);
    assert_int_equal(fclose(f), 0);
    wb_read_opts o;
    wb_read_opts_init(&o);
    o.label = WB_LABEL_LAST;
    expect_err(wb_read(inl, path("long.csv"), &o, &d), WB_ELIMIT,
               "%s: memory limit: an object of 1600096 bytes would bring the store to 1600096 of 1048576 bytes",
               path("long.csv"));
    unlink(path("long.csv"));
    /* NPY (float32, converted into a partition): 2000 x 100, 1.6 MB as doubles */
    npy_file(path("big.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (2000, 100), }", 4 * 2000 * 100);
    expect_err(wb_read(inl, path("big.npy"), NULL, &d), WB_ELIMIT,
               "%s: memory limit: an object of 1600000 bytes would bring the store to 1600000 of 1048576 bytes",
               path("big.npy"));
    unlink(path("big.npy"));
    wb_exec_unref(inl);
    wb_store_free(s);
}

/* an allocation that fails names the file and the bytes asked for ("io.parse:
 * out of memory (N bytes)" did not say which file). A child process whose
 * address space is limited (RLIMIT_AS) to 128 MB over what it uses reads a
 * LIBSVM file of 40 rows with index 1048576 (320 MB dense, well under the
 * machine's memory, so only the allocation fails). Not under ASan (its shadow
 * memory is address space) nor valgrind, which manage memory themselves. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WB_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define WB_TEST_ASAN 1
#endif
#include <sys/resource.h>
#include <sys/wait.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else /* no valgrind on this machine: the test does not run under it */
#define RUNNING_ON_VALGRIND 0
#endif

static void allocation_failure_names_file(void **state)
{
    (void)state;
#ifdef WB_TEST_ASAN
    printf("allocation_failure_names_file: not under AddressSanitizer\n");
    return;
#else
    if (RUNNING_ON_VALGRIND) {
        printf("allocation_failure_names_file: not under valgrind\n");
        return;
    }
    FILE *f = fopen(path("oom.libsvm"), "wb");
    assert_non_null(f);
    for (int i = 0; i < 40; i++) fputs(i % 2 ? "1 1048576:1\n" : "0 3:1\n", f);
    assert_int_equal(fclose(f), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the child: no threads but this one, so an inline executor */
        close(fds[0]);
        long pages = 0, psz = sysconf(_SC_PAGESIZE);
        FILE *st = fopen("/proc/self/statm", "r");
        if (!st || fscanf(st, "%ld", &pages) != 1) _exit(2);
        fclose(st);
        struct rlimit rl = {(rlim_t)pages * (rlim_t)psz + ((rlim_t)128 << 20), RLIM_INFINITY};
        rl.rlim_max = rl.rlim_cur;
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
        wb_store *s = wb_store_new(9);
        wb_exec *inl = s ? wb_exec_inline_new(s) : NULL;
        if (!inl) _exit(4);
        wb_dataset *d = NULL;
        int rc = wb_read(inl, path("oom.libsvm"), NULL, &d);
        char out[1200];
        int n = snprintf(out, sizeof out, "%s %s", wb_errname(rc), rc ? wb_errmsg() : "");
        if (write(fds[1], out, (size_t)n) != n) _exit(5);
        _exit(0);
    }
    close(fds[1]);
    char got[1200] = "";
    size_t len = 0;
    ssize_t r;
    while (len < sizeof got - 1 && (r = read(fds[0], got + len, sizeof got - 1 - len)) > 0) len += (size_t)r;
    got[len] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    snprintf(msg, sizeof msg, "%s %s: io.parse: out of memory (335544640 bytes)", wb_errname(WB_ENOMEM),
             path("oom.libsvm"));
    assert_string_equal(got, msg);
    unlink(path("oom.libsvm"));
#endif
}

/* the caller's limit on rows (wb_read_opts.max_rows; Lua: max_rows=), in
 * every reader, checked before any partition is made */
static void rows_limit(void **state)
{
    (void)state;
    wb_read_opts o;
    wb_read_opts_init(&o);
    o.max_rows = 4;
    wb_dataset *d = NULL;
    write_str(path("rows.csv"), "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,0\n");
    expect_err(wb_read(ex, path("rows.csv"), &o, &d), WB_ELIMIT,
               "%s: 5 rows, more than the limit of 4 rows (max_rows)", path("rows.csv"));
    assert_null(d);
    write_str(path("rows.libsvm"), "0 1:1\n1 2:1\n# a comment\n0 1:2\n1 1:3\n0 2:2\n");
    expect_err(wb_read(ex, path("rows.libsvm"), &o, &d), WB_ELIMIT,
               "%s: 5 rows, more than the limit of 4 rows (max_rows)", path("rows.libsvm"));
    npy_file(path("rows.npy"), "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 2), }", 80);
    expect_err(wb_read(ex, path("rows.npy"), &o, &d), WB_ELIMIT,
               "%s: 5 rows, more than the limit of 4 rows (max_rows)", path("rows.npy"));
    /* at the limit: read */
    o.max_rows = 5;
    const char *files[3] = {"rows.csv", "rows.libsvm", "rows.npy"};
    for (int i = 0; i < 3; i++) {
        assert_ok(wb_read(ex, path(files[i]), &o, &d));
        assert_int_equal(d->n, 5);
        wb_ds_unref(d);
        d = NULL;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: it measures the peak memory, before other tests raise it */
        cmocka_unit_test(partition_memory_limit),
        cmocka_unit_test(allocation_failure_names_file),
        cmocka_unit_test(meta_huge_number),
        cmocka_unit_test(params_int_of_huge_number),
        cmocka_unit_test(pca_huge_components),
        cmocka_unit_test(classification_cluster_overflow),
        cmocka_unit_test(csv_names_round_trip),
        cmocka_unit_test(libsvm_huge_index),
        cmocka_unit_test(libsvm_columns_limit),
        cmocka_unit_test(csv_columns_limit),
        cmocka_unit_test(npy_limits),
        cmocka_unit_test(line_length_limit),
        cmocka_unit_test(rows_limit),
        cmocka_unit_test(not_regular_files),
        cmocka_unit_test(model_file_size),
        cmocka_unit_test(libsvm_dense_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
