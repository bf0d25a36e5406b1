/* test_io: the streaming writer (chunks give the same bytes as one write;
 * errors and aborts leave nothing that looks complete), generating straight to
 * a file, the .meta sidecar, reading through a non-local executor (the
 * cluster's path: objects fetched, not shared), and zero-copy NPY mappings. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "wb/wb.h"
#include "io/io_internal.h"

static char dir[256];
static wb_exec *ex;

static void path(char *out, const char *name) { snprintf(out, 512, "%s/%s", dir, name); }

static char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    size_t got = fread(b, 1, (size_t)len, f);
    fclose(f);
    b[got] = 0;
    *n = got;
    return b;
}

/* the names in the folder, sorted, space-separated */
static void listing(char *out, size_t cap)
{
    struct dirent **e;
    int n = scandir(dir, &e, NULL, alphasort);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(e[i]->d_name, ".") && strcmp(e[i]->d_name, "..")) {
            strncat(out, e[i]->d_name, cap - strlen(out) - 2);
            strncat(out, " ", cap - strlen(out) - 1);
        }
        free(e[i]);
    }
    free(e);
}

static void clear_dir(void)
{
    struct dirent **e;
    int n = scandir(dir, &e, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char p[512];
        path(p, e[i]->d_name);
        if (strcmp(e[i]->d_name, ".") && strcmp(e[i]->d_name, "..")) unlink(p);
        free(e[i]);
    }
    free(e);
}

/* rows [lo, hi) of a deterministic labelled dataset with d columns */
static wb_dataset *rows(wb_exec *e, int64_t lo, int64_t hi, int64_t d)
{
    int64_t n = hi - lo;
    double *x = malloc((size_t)(n * d + 1) * 8), *y = malloc((size_t)(n + 1) * 8);
    for (int64_t i = 0; i < n; i++) {
        int64_t r = lo + i;
        for (int64_t j = 0; j < d; j++) x[i * d + j] = (r % 5 == j) ? 0.0 : (double)r / (j + 3) - 7.25;
        y[i] = (double)(r % 3);
    }
    wb_dataset *ds = NULL;
    assert_int_equal(wb_ds_from_memory(e, x, y, n, d, &ds), 0);
    free(x);
    free(y);
    return ds;
}

static int setup(void **state)
{
    (void)state;
    wb_core_init();
    snprintf(dir, sizeof dir, "/tmp/wb_test_io_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    ex = wb_exec_local_new(2);
    return ex ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    clear_dir();
    rmdir(dir);
    wb_exec_unref(ex);
    return 0;
}

/* appending in chunks gives the same bytes as writing the whole at once */
static void test_chunks_same_bytes(void **state)
{
    (void)state;
    const char *names[] = {"c.libsvm", "c.csv", "c.npy"};
    for (int f = 0; f < 3; f++) {
        char whole[512], chunked[512];
        path(whole, names[f]);
        snprintf(chunked, sizeof chunked, "%s/chunked-%s", dir, names[f]);
        wb_dataset *all = rows(ex, 0, 10000, 6);
        assert_int_equal(wb_write(all, whole, NULL), 0);
        wb_writer *w;
        assert_int_equal(wb_writer_open(chunked, NULL, 10000, 6, 1, &w), 0);
        for (int64_t lo = 0; lo < 10000; lo += 2500) {
            wb_dataset *c = rows(ex, lo, lo + 2500, 6);
            assert_int_equal(wb_writer_append(w, c), 0);
            wb_ds_unref(c);
        }
        assert_int_equal(wb_writer_close(w), 0);
        size_t n1, n2;
        char *a = slurp(whole, &n1), *b = slurp(chunked, &n2);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, n1);
        free(a);
        free(b);
        wb_meta m;
        assert_int_equal(wb_meta_read(chunked, &m), 0);
        assert_int_equal(m.num_samples, 10000);
        assert_int_equal(m.num_features, 6);
        assert_int_equal(m.num_classes, 3);
        /* and it reads back */
        wb_dataset *back;
        assert_int_equal(wb_read(ex, chunked, NULL, &back), 0);
        assert_int_equal(back->n, 10000);
        assert_int_equal(back->d, 6);
        double x1[6], x2[6], y1, y2;
        assert_int_equal(wb_ds_read_rows(all, 9999, 10000, x1, &y1), 0);
        assert_int_equal(wb_ds_read_rows(back, 9999, 10000, x2, &y2), 0);
        assert_memory_equal(x1, x2, sizeof x1);
        assert_true(y1 == y2);
        wb_ds_unref(back);
        wb_ds_unref(all);
    }
    clear_dir();
}

static void test_writer_misuse(void **state)
{
    (void)state;
    char p[512], msg[1024];
    path(p, "m.csv");
    wb_writer *w;
    wb_dataset *c = rows(ex, 0, 100, 3);
    /* more rows than announced */
    assert_int_equal(wb_writer_open(p, NULL, 50, 3, 1, &w), 0);
    assert_int_equal(wb_writer_append(w, c), WB_EINVAL);
    snprintf(msg, sizeof msg, "%s: 100 rows appended, more than the 50 announced", p);
    assert_string_equal(wb_errmsg(), msg);
    assert_int_equal(wb_writer_close(w), WB_ESTATE);
    snprintf(msg, sizeof msg, "%s: an earlier write failed", p);
    assert_string_equal(wb_errmsg(), msg);
    /* fewer rows than announced */
    assert_int_equal(wb_writer_open(p, NULL, 200, 3, 1, &w), 0);
    assert_int_equal(wb_writer_append(w, c), 0);
    assert_int_equal(wb_writer_close(w), WB_EINVAL);
    snprintf(msg, sizeof msg, "%s: 100 of the 200 announced rows were written", p);
    assert_string_equal(wb_errmsg(), msg);
    /* other columns */
    assert_int_equal(wb_writer_open(p, NULL, 100, 4, 1, &w), 0);
    assert_int_equal(wb_writer_append(w, c), WB_EINVAL);
    snprintf(msg, sizeof msg, "%s: appending 3 columns to a file of 4", p);
    assert_string_equal(wb_errmsg(), msg);
    wb_writer_abort(w);
    /* an abort after some rows */
    assert_int_equal(wb_writer_open(p, NULL, 200, 3, 1, &w), 0);
    assert_int_equal(wb_writer_append(w, c), 0);
    wb_writer_abort(w);
    char list[1024];
    listing(list, sizeof list);
    assert_string_equal(list, "");
    wb_ds_unref(c);
}

/* a write that fails half-way (file size limit: EFBIG) leaves no file, no
 * .meta, no temporary; an older complete file stays as it was */
static void test_write_fails_halfway(void **state)
{
    (void)state;
    const char *names[] = {"h.libsvm", "h.csv", "h.npy"};
    for (int f = 0; f < 3; f++) {
        char p[512];
        path(p, names[f]);
        wb_dataset *small = rows(ex, 0, 10, 3), *big = rows(ex, 0, 60000, 8);
        assert_int_equal(wb_write(small, p, NULL), 0);
        size_t n0;
        char *old = slurp(p, &n0);
        struct rlimit save, lim;
        getrlimit(RLIMIT_FSIZE, &save);
        lim = save;
        lim.rlim_cur = 300000;
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &lim);
        int rc = wb_write(big, p, NULL);
        setrlimit(RLIMIT_FSIZE, &save);
        assert_int_equal(rc, WB_EIO);
        /* the message names the file that could not be written */
        const char *e = wb_errmsg();
        assert_non_null(strstr(e, "write failed (File too large)"));
        assert_memory_equal(e, p, strlen(p));
        size_t n1;
        char *now = slurp(p, &n1);
        assert_int_equal(n0, n1);
        assert_memory_equal(old, now, n0);
        free(old);
        free(now);
        char list[1024], want[256];
        listing(list, sizeof list);
        if (f == 2)
            snprintf(want, sizeof want, "h.labels.npy h.npy h.npy.meta ");
        else
            snprintf(want, sizeof want, "%s %s.meta ", names[f], names[f]);
        assert_string_equal(list, want);
        wb_ds_unref(small);
        wb_ds_unref(big);
        clear_dir();
    }
}

/* a data source for wb_generate_to_file: rows of `rows`, failing at a row */
static int src_make(wb_exec *e, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    int64_t fail = wb_params_int(p, "fail_at");
    if (fail >= 0 && fail < hi) return wb_seterr(WB_EINVAL, "test.rows: failing at row %lld as asked", (long long)fail);
    *out = rows(e, lo, hi, 4);
    return 0;
}
static int src_nclasses(const wb_params *p) { (void)p; return 3; }
static int64_t src_cols(const wb_params *p) { (void)p; return 4; }
static const wb_param_spec src_params[] = {
    {"n", WB_P_INT, "10", 1, INFINITY, 0, NULL, "rows"},
    {"fail_at", WB_P_INT, "-1", -1, INFINITY, 0, NULL, "fail when reaching this row"},
};
static const wb_source_def src = {WB_SOURCE_V1, "test_rows", "rows for the io tests", src_params, 2, NULL,
                                  src_make, src_nclasses, src_cols};

static void test_generate_to_file(void **state)
{
    (void)state;
    static int registered;
    if (!registered) assert_int_equal(wb_register_source(&src), 0);
    registered = 1;
    char p[512], list[1024];
    path(p, "g.npy");
    wb_params *in = wb_params_new();
    wb_params_set_int(in, "n", 5000);
    assert_int_equal(wb_generate_to_file(ex, "test_rows", in, p, NULL), 0);
    wb_meta m;
    assert_int_equal(wb_meta_read(p, &m), 0);
    assert_int_equal(m.num_samples, 5000);
    assert_int_equal(m.num_classes, 3);
    wb_dataset *d;
    assert_int_equal(wb_read(ex, p, NULL, &d), 0);
    assert_int_equal(d->n, 5000);
    assert_true(d->has_labels);
    wb_ds_unref(d);
    clear_dir();
    /* the source fails: nothing is left */
    wb_params_set_int(in, "fail_at", 100);
    path(p, "g.libsvm");
    assert_int_equal(wb_generate_to_file(ex, "test_rows", in, p, NULL), WB_EINVAL);
    assert_string_equal(wb_errmsg(), "test.rows: failing at row 100 as asked");
    listing(list, sizeof list);
    assert_string_equal(list, "");
    wb_params_free(in);
}

/* the .meta columns (read with libjansson): the data's bytes come back as
 * they were (a Latin-1 name, a raw control character, escapes), and a fault
 * names the place and what was expected. The expected texts are those of
 * the former hand-written reader on the same files. */
static int meta_case(const char *text, wb_meta_cols *c)
{
    char p[512], mp[512];
    path(p, "c.npy");
    path(mp, "c.npy.meta");
    FILE *f = fopen(mp, "wb");
    fputs(text, f);
    fclose(f);
    wb_meta m;
    return wb__meta_read_cols(p, &m, c);
}

static void meta_fault(const char *text, const char *where_what)
{
    char mp[512], msg[1024];
    path(mp, "c.npy.meta");
    wb_meta_cols c;
    assert_int_equal(meta_case(text, &c), WB_EFORMAT);
    snprintf(msg, sizeof msg, "%s:%s", mp, where_what);
    assert_string_equal(wb_errmsg(), msg);
}

static void test_meta_cols(void **state)
{
    (void)state;
    wb_meta_cols c;
    assert_int_equal(meta_case("{\"columns\": [{\"name\": \"caf\xe9\", \"type\": \"category\", \"levels\": "
                               "[\"a\x01\", \"caf\xe9\", \"\xc3\xa9t\\u00e9\", \"\xff\"]}, {\"name\": \"n\\\"x\"}], "
                               "\"label\": {\"name\": \"sp\xe9" "cies\", \"levels\": [\"\\u00e9\", \"\\ud83d\\ude00\"]}}",
                               &c),
                     0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.names[0], "caf\xe9");
    assert_int_equal(c.types[0], WB_COL_CATEGORY);
    assert_int_equal(wb_levels_count(c.levels[0]), 4);
    assert_string_equal(wb_levels_at(c.levels[0], 0), "a\x01");
    assert_string_equal(wb_levels_at(c.levels[0], 1), "caf\xe9");
    assert_string_equal(wb_levels_at(c.levels[0], 2), "\xc3\xa9t\xc3\xa9");
    assert_string_equal(wb_levels_at(c.levels[0], 3), "\xff");
    assert_string_equal(c.names[1], "n\"x");
    assert_int_equal(c.types[1], WB_COL_NUMBER);
    assert_null(c.levels[1]);
    assert_true(c.has_label);
    assert_string_equal(c.label_name, "sp\xe9" "cies");
    assert_string_equal(wb_levels_at(c.label_levels, 0), "\xc3\xa9");
    assert_string_equal(wb_levels_at(c.label_levels, 1), "\xf0\x9f\x98\x80");
    wb__meta_cols_free(&c);
    /* what the writer makes of a Latin-1 category is read back the same */
    const char *lv[] = {"Paris", "caf\xe9"};
    wb_levels *l;
    assert_int_equal(wb_levels_new(lv, 2, &l), 0);
    wb_dataset *d;
    double x[2] = {0, 1};
    assert_int_equal(wb_ds_from_memory(ex, x, NULL, 2, 1, &d), 0);
    assert_int_equal(wb_ds_set_coltype(d, 0, WB_COL_CATEGORY, l), 0);
    char p[512];
    path(p, "c.npy");
    wb_meta m = {2, 1, 0, 16}, r;
    assert_int_equal(wb__meta_write_ds(p, &m, d), 0);
    assert_int_equal(wb__meta_read_cols(p, &r, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(wb_levels_count(c.levels[0]), 2);
    assert_string_equal(wb_levels_at(c.levels[0], 1), "caf\xe9");
    wb__meta_cols_free(&c);
    wb_ds_unref(d);
    wb_levels_unref(l);

    /* faults: the value's place, or where the text went wrong */
    meta_fault("{\"num_samples\": 3,\n \"columns\": [{\"name\": \"a\", \"type\": \"category\", \"levels\": [\"b\", \"a\"]}]}",
               "2:68: malformed .meta (expected levels sorted and distinct)");
    meta_fault("{\"columns\": [\n  {\"name\": \"a\", \"type\": \"text\"}]}",
               "2:31: malformed .meta (expected type \"number\" or \"category\")");
    meta_fault("{\"columns\": [1]}", "1:14: malformed .meta (expected a column object '{')");
    meta_fault("{\"columns\": [{\"name\": \"a\"}, ]}", "1:29: malformed .meta (expected a column object '{')");
    meta_fault("{\"num_samples\": tru}", "1:17: malformed .meta (expected a whole number >= 0)");
    meta_fault("{\"label\": {\"levels\": [\"x\", 5]}}", "1:28: malformed .meta (expected a string)");
    meta_fault("{\"columns\": [{\"name\": \"a\\u0000b\"}]}", "1:31: malformed .meta (expected no NUL character in a string)");
    meta_fault("{\"num_samples\": 1 \"num_features\": 2}", "1:19: malformed .meta (expected ',' or '}')");
    meta_fault("{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
               "1:40: malformed .meta (expected less nesting)");
    meta_fault("{\"columns\": [{\"name\": \"caf\xe9\", \"type\" \"number\"}]}",
               "1:38: malformed .meta (expected ':')");
    char mp[512];
    path(mp, "c.npy.meta");
    unlink(mp);
}

static void test_meta(void **state)
{
    (void)state;
    char p[512], mp[512], msg[1024];
    path(p, "x.csv");
    path(mp, "x.csv.meta");
    wb_meta m = {7, 3, 2, 1234}, r;
    assert_int_equal(wb_meta_write(p, &m), 0);
    assert_int_equal(wb_meta_read(p, &r), 0);
    assert_memory_equal(&m, &r, sizeof m);
    /* any JSON object; unknown keys ignored; missing ones are -1 */
    FILE *f = fopen(mp, "w");
    fputs("{\"format\": \"csv\", \"extra\": {\"a\": [1, 2, {}]}, \"num_samples\": 5e2, \"ok\": true}", f);
    fclose(f);
    assert_int_equal(wb_meta_read(p, &r), 0);
    assert_int_equal(r.num_samples, 500);
    assert_int_equal(r.num_features, -1);
    f = fopen(mp, "w");
    fputs("{\"num_samples\": 5,\n\"num_features\" 3}", f);
    fclose(f);
    assert_int_equal(wb_meta_read(p, &r), WB_EFORMAT);
    snprintf(msg, sizeof msg, "%s:2:16: malformed .meta (expected ':')", mp);
    assert_string_equal(wb_errmsg(), msg);
    f = fopen(mp, "w");
    fputs("[1, 2]", f);
    fclose(f);
    assert_int_equal(wb_meta_read(p, &r), WB_EFORMAT);
    snprintf(msg, sizeof msg, "%s:1:1: malformed .meta (expected a JSON object '{')", mp);
    assert_string_equal(wb_errmsg(), msg);
    unlink(mp);
    assert_int_equal(wb_meta_read(p, &r), WB_ENOTFOUND);
    assert_int_equal(wb_format_from_path("a.LIBSVM"), WB_FMT_LIBSVM);
    assert_int_equal(wb_format_from_path("a.svm"), WB_FMT_LIBSVM);
    assert_int_equal(wb_format_from_path("dir.npy/a.csv"), WB_FMT_CSV);
    assert_int_equal(wb_format_from_path("a.npy"), WB_FMT_NPY);
    assert_int_equal(wb_format_from_path("a.npz"), WB_FMT_AUTO);
}

/* an executor without shared memory (objects are fetched as bytes, as from
 * a cluster) reads and writes the same files, with the same errors */
static void test_non_local_executor(void **state)
{
    (void)state;
    wb_store *st = wb_store_new(7);
    wb_exec *inl = wb_exec_inline_new(st);
    const char *names[] = {"i.libsvm", "i.csv", "i.npy"};
    for (int f = 0; f < 3; f++) {
        char p[512], q[512];
        path(p, names[f]);
        snprintf(q, sizeof q, "%s/copy-%s", dir, names[f]);
        wb_dataset *a = rows(ex, 0, 9000, 130), *b, *c;
        assert_int_equal(wb_write(a, p, NULL), 0);
        assert_int_equal(wb_read(inl, p, NULL, &b), 0);
        assert_int_equal(b->nparts, 3);
        assert_int_equal(wb_write(b, q, NULL), 0); /* written from the other executor */
        size_t n1, n2;
        char *s1 = slurp(p, &n1), *s2 = slurp(q, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(s1, s2, n1);
        free(s1);
        free(s2);
        assert_int_equal(wb_read(ex, q, NULL, &c), 0);
        double *s_a = malloc(5 * 130 * 8), *s_b = malloc(5 * 130 * 8), *s_c = malloc(5 * 130 * 8);
        assert_int_equal(wb_ds_describe(a, s_a), 0);
        assert_int_equal(wb_ds_describe(b, s_b), 0);
        assert_int_equal(wb_ds_describe(c, s_c), 0);
        assert_memory_equal(s_a, s_b, 5 * 130 * 8);
        assert_memory_equal(s_a, s_c, 5 * 130 * 8);
        free(s_a);
        free(s_b);
        free(s_c);
        wb_ds_unref(a);
        wb_ds_unref(b);
        wb_ds_unref(c);
    }
    /* a kernel's error comes back with its message */
    char p[512], msg[1024];
    path(p, "bad.libsvm");
    FILE *fp = fopen(p, "w");
    for (int i = 0; i < 20000; i++) fprintf(fp, "1 1:%d 200:1\n", i);
    fprintf(fp, "1 1:oops\n");
    fclose(fp);
    wb_dataset *d;
    assert_int_equal(wb_read(inl, p, NULL, &d), WB_EFORMAT);
    snprintf(msg, sizeof msg, "%s:20001:5: bad value \"oops\" (expected a number)", p);
    assert_string_equal(wb_errmsg(), msg);
    wb_exec_unref(inl);
    wb_store_free(st);
    clear_dir();
}

/* float64 NPY is mapped: its partitions take no store memory; read into
 * memory (mmap = 0) they do */
static void test_npy_mapped(void **state)
{
    (void)state;
    char p[512];
    path(p, "map.npy");
    wb_dataset *a = rows(ex, 0, 20000, 50), *m, *r;
    wb_write_opts wo;
    wb_write_opts_init(&wo);
    wo.meta = 0;
    /* without labels: the mapped partitions own nothing */
    wb_dataset *nolab;
    assert_int_equal(wb_ds_with_labels(a, NULL, &nolab), 0);
    assert_int_equal(wb_write(nolab, p, &wo), 0);
    wb_store *st = wb_exec_local_store(ex);
    size_t before = wb_store_bytes(st);
    assert_int_equal(wb_read(ex, p, NULL, &m), 0);
    size_t mapped = wb_store_bytes(st) - before;
    wb_read_opts ro;
    wb_read_opts_init(&ro);
    ro.mmap = 0;
    before = wb_store_bytes(st);
    assert_int_equal(wb_read(ex, p, &ro, &r), 0);
    size_t copied = wb_store_bytes(st) - before;
    assert_int_equal(mapped, 0);
    assert_int_equal(copied, 20000 * 50 * 8);
    double *s1 = malloc(5 * 50 * 8), *s2 = malloc(5 * 50 * 8), *s3 = malloc(5 * 50 * 8);
    assert_int_equal(wb_ds_describe(nolab, s1), 0);
    assert_int_equal(wb_ds_describe(m, s2), 0);
    assert_int_equal(wb_ds_describe(r, s3), 0);
    assert_memory_equal(s1, s2, 5 * 50 * 8);
    assert_memory_equal(s1, s3, 5 * 50 * 8);
    free(s1);
    free(s2);
    free(s3);
    /* the mapping outlives the file name */
    unlink(p);
    double row[50];
    assert_int_equal(wb_ds_read_rows(m, 19999, 20000, row, NULL), 0);
    assert_true(row[49] == 19999.0 / 52 - 7.25);
    wb_ds_unref(m);
    wb_ds_unref(r);
    wb_ds_unref(nolab);
    wb_ds_unref(a);
    clear_dir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_same_bytes),  cmocka_unit_test(test_writer_misuse),
        cmocka_unit_test(test_write_fails_halfway), cmocka_unit_test(test_generate_to_file),
        cmocka_unit_test(test_meta),                cmocka_unit_test(test_meta_cols),                cmocka_unit_test(test_non_local_executor),
        cmocka_unit_test(test_npy_mapped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
