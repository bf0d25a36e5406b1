/* test_dataset.c — datasets: layout checks, from memory, reading rows,
 * labels, with_labels, select (slices, stratified ranges, invert, empty),
 * describe against a direct computation. */
#include "wbtest.h"

#include <math.h>

static wb_exec *EX;

static int setup(void **state)
{
    (void)state;
    wb_core_init();
    EX = wb_exec_local_new(3);
    return EX ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    size_t left = wb_store_count(wb_exec_local_store(EX));
    wb_exec_unref(EX);
    if (left) fprintf(stderr, "%zu objects left\n", left);
    return left ? -1 : 0;
}

/* x[i][j] = i + j / 100, y = i % 4 */
static double *xdata(int64_t n, int64_t d)
{
    double *x = malloc((size_t)(n * d + 1) * 8);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) x[i * d + j] = (double)i + (double)j / 100;
    return x;
}
static double *ydata(int64_t n)
{
    double *y = malloc((size_t)(n + 1) * 8);
    for (int64_t i = 0; i < n; i++) y[i] = (double)(i % 4);
    return y;
}

static void layout_checks(void **state)
{
    (void)state;
    wb_store *st = wb_exec_local_store(EX);
    size_t before = wb_store_count(st);
    double x[4096 * 2] = {0};
    wb_dspart parts[3];
    wb_dataset *ds = NULL;
    /* a middle partition that is not whole blocks */
    for (int k = 0; k < 3; k++) {
        int64_t rows = k == 0 ? 4096 : k == 1 ? 100 : 50;
        wb_part p = {rows, 2, 0, x, NULL};
        assert_ok(wb_exec_put_part(EX, &p, &parts[k].oid));
        parts[k].rows = rows;
        parts[k].row0 = k == 0 ? 0 : k == 1 ? 4096 : 4196;
    }
    assert_err(wb_ds_new(EX, 2, 0, 3, parts, &ds), WB_EINVAL,
               "dataset: partition 1 (rows 100 at 4096) breaks the layout (rows in order, blocks of 4096)");
    assert_int_equal(wb_store_count(st), before); /* the references it was given are dropped */
    /* a gap */
    for (int k = 0; k < 2; k++) {
        wb_part p = {4096, 2, 0, x, NULL};
        assert_ok(wb_exec_put_part(EX, &p, &parts[k].oid));
        parts[k].rows = 4096;
        parts[k].row0 = k * 8192;
    }
    assert_err(wb_ds_new(EX, 2, 0, 2, parts, &ds), WB_EINVAL,
               "dataset: partition 1 (rows 4096 at 8192) breaks the layout (rows in order, blocks of 4096)");
    /* an empty partition */
    wb_part p = {4096, 2, 0, x, NULL};
    assert_ok(wb_exec_put_part(EX, &p, &parts[0].oid));
    parts[0].rows = 0;
    parts[0].row0 = 0;
    assert_err(wb_ds_new(EX, 2, 0, 1, parts, &ds), WB_EINVAL,
               "dataset: partition 0 (rows 0 at 0) breaks the layout (rows in order, blocks of 4096)");
    assert_int_equal(wb_store_count(st), before);
    /* a good one: the last partition may be short */
    for (int k = 0; k < 2; k++) {
        wb_part q = {k ? 10 : 4096, 2, k * 4096, x, NULL};
        assert_ok(wb_exec_put_part(EX, &q, &parts[k].oid));
        parts[k].rows = q.rows;
        parts[k].row0 = q.row0;
    }
    assert_ok(wb_ds_new(EX, 2, 0, 2, parts, &ds));
    assert_int_equal(ds->n, 4106);
    assert_ok(wb_ds_check_aligned(ds));
    wb_ds_unref(ds);
    /* no partitions: an empty dataset */
    assert_ok(wb_ds_new(EX, 5, 0, 0, NULL, &ds));
    assert_int_equal(ds->n, 0);
    assert_int_equal(ds->d, 5);
    wb_ds_unref(ds);
    assert_int_equal(wb_store_count(st), before);
    /* partition sizes depend on the columns only, in whole blocks of about 4 MB */
    assert_int_equal(wb_partition_rows(1), 524288);
    assert_int_equal(wb_partition_rows(10), 49152);
    assert_int_equal(wb_partition_rows(100000), 4096);
    assert_int_equal(wb_partition_rows(0), 524288);
    for (int64_t d = 1; d < 3000; d += 37) assert_int_equal(wb_partition_rows(d) % 4096, 0);
}

static void from_memory_and_read_rows(void **state)
{
    (void)state;
    int64_t d = 3, P = wb_partition_rows(d), n = 2 * P + 777;
    double *x = xdata(n, d), *y = ydata(n);
    wb_dataset *ds;
    assert_ok(wb_ds_from_memory(EX, x, y, n, d, &ds));
    assert_int_equal(ds->n, n);
    assert_int_equal(ds->d, d);
    assert_int_equal(ds->nparts, 3);
    assert_true(ds->has_labels);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ds->parts[i].row0, i * P);
        assert_int_equal(ds->parts[i].rows, i < 2 ? P : 777);
    }
    /* reads: whole, inside one partition, across boundaries, empty */
    double *rx = malloc((size_t)(n * d) * 8), *ry = malloc((size_t)n * 8);
    assert_ok(wb_ds_read_rows(ds, 0, n, rx, ry));
    assert_memory_equal(rx, x, (size_t)(n * d) * 8);
    assert_memory_equal(ry, y, (size_t)n * 8);
    int64_t ranges[][2] = {{5, 9}, {P - 3, P + 3}, {P - 1, 2 * P + 1}, {n - 1, n}, {7, 7}, {0, 1}};
    for (int k = 0; k < 6; k++) {
        int64_t lo = ranges[k][0], hi = ranges[k][1];
        memset(rx, 0, (size_t)(n * d) * 8);
        assert_ok(wb_ds_read_rows(ds, lo, hi, rx, NULL));
        assert_memory_equal(rx, x + lo * d, (size_t)((hi - lo) * d) * 8);
        assert_ok(wb_ds_read_rows(ds, lo, hi, rx, ry));
        assert_memory_equal(ry, y + lo, (size_t)(hi - lo) * 8);
    }
    char msg[200];
    snprintf(msg, sizeof msg, "rows %lld..%lld out of range (the dataset has %lld rows)", (long long)n,
             (long long)n + 1, (long long)n);
    assert_err(wb_ds_read_rows(ds, n - 1, n + 1, rx, NULL), WB_EINVAL, msg);
    assert_int_equal(wb_ds_read_rows(ds, -1, 2, rx, NULL), WB_EINVAL);
    assert_int_equal(wb_ds_read_rows(ds, 5, 4, rx, NULL), WB_EINVAL);
    /* labels */
    double *lab;
    assert_ok(wb_ds_labels(ds, &lab));
    assert_memory_equal(lab, y, (size_t)n * 8);
    free(lab);
    assert_ok(wb_host_table()->ds_labels(EX, ds, &lab));
    assert_memory_equal(lab, y, (size_t)n * 8);
    free(lab);
    wb_ds_unref(ds);
    /* no labels */
    assert_ok(wb_ds_from_memory(EX, x, NULL, 10, d, &ds));
    assert_false(ds->has_labels);
    assert_err(wb_ds_labels(ds, &lab), WB_EINVAL, "the data has no labels");
    assert_err(wb_ds_read_rows(ds, 0, 2, rx, ry), WB_EINVAL, "the data has no labels");
    wb_ds_unref(ds);
    /* empty, and bad shapes */
    assert_ok(wb_ds_from_memory(EX, NULL, NULL, 0, d, &ds));
    assert_int_equal(ds->nparts, 0);
    assert_ok(wb_ds_read_rows(ds, 0, 0, rx, NULL));
    wb_ds_unref(ds);
    assert_err(wb_ds_from_memory(EX, x, NULL, -1, d, &ds), WB_EINVAL, "dataset: bad shape -1 x 3");
    assert_err(wb_ds_from_memory(EX, NULL, NULL, 2, d, &ds), WB_EINVAL, "dataset: bad shape 2 x 3");
    /* column names */
    assert_ok(wb_ds_from_memory(EX, x, NULL, 4, 3, &ds));
    const char *names[3] = {"a", NULL, "c"};
    assert_ok(wb_ds_set_colnames(ds, names));
    assert_string_equal(ds->colnames[1], "");
    assert_ok(wb_ds_set_colnames(ds, names)); /* replaced */
    assert_ok(wb_ds_set_colnames(ds, NULL));  /* removed */
    assert_null(ds->colnames);
    assert_ok(wb_ds_set_colnames(ds, names));
    wb_ds_unref(ds);
    free(rx);
    free(ry);
    free(x);
    free(y);
}

static void with_labels(void **state)
{
    (void)state;
    int64_t d = 2, n = 5000;
    double *x = xdata(n, d), *y = ydata(n), *col = malloc((size_t)n * 8);
    for (int64_t i = 0; i < n; i++) col[i] = (double)(i * 3 % 7);
    wb_dataset *ds, *lab1, *labd, *out;
    assert_ok(wb_ds_from_memory(EX, x, NULL, n, d, &ds));
    const char *names[2] = {"u", "v"};
    wb_ds_set_colnames(ds, names);
    assert_ok(wb_ds_from_memory(EX, col, NULL, n, 1, &lab1));
    assert_ok(wb_ds_from_memory(EX, x, y, n, d, &labd));
    /* a one-column dataset becomes the labels */
    assert_ok(wb_ds_with_labels(ds, lab1, &out));
    assert_true(out->has_labels);
    assert_int_equal(out->d, 2);
    assert_string_equal(out->colnames[1], "v");
    double *got;
    assert_ok(wb_ds_labels(out, &got));
    assert_memory_equal(got, col, (size_t)n * 8);
    free(got);
    double *rx = malloc((size_t)(n * d) * 8);
    assert_ok(wb_ds_read_rows(out, 0, n, rx, NULL));
    assert_memory_equal(rx, x, (size_t)(n * d) * 8);
    /* NULL drops them again */
    wb_dataset *none;
    assert_ok(wb_ds_with_labels(out, NULL, &none));
    assert_false(none->has_labels);
    wb_ds_unref(none);
    wb_ds_unref(out);
    /* a labelled dataset of several columns gives its labels */
    assert_ok(wb_ds_with_labels(ds, labd, &out));
    assert_ok(wb_ds_labels(out, &got));
    assert_memory_equal(got, y, (size_t)n * 8);
    free(got);
    wb_ds_unref(out);
    /* errors */
    wb_dataset *shorter, *nolab;
    assert_ok(wb_ds_from_memory(EX, col, NULL, n - 1, 1, &shorter));
    assert_err(wb_ds_with_labels(ds, shorter, &out), WB_EINVAL,
               "labels: 4999 rows in 1 partitions do not line up with the data's 5000 rows in 1");
    assert_ok(wb_ds_from_memory(EX, x, NULL, n, d, &nolab));
    assert_err(wb_ds_with_labels(ds, nolab, &out), WB_EINVAL, "labels: need one column or a labelled dataset");
    wb_exec *other = wb_exec_local_new(1);
    wb_dataset *elsewhere;
    assert_ok(wb_ds_from_memory(other, col, NULL, n, 1, &elsewhere));
    assert_err(wb_ds_with_labels(ds, elsewhere, &out), WB_EINVAL,
               "labels: the labels belong to another executor than the data");
    wb_ds_unref(elsewhere);
    wb_exec_unref(other);
    wb_ds_unref(shorter);
    wb_ds_unref(nolab);
    wb_ds_unref(lab1);
    wb_ds_unref(labd);
    wb_ds_unref(ds);
    free(rx);
    free(x);
    free(y);
    free(col);
}

/* the rows a selection keeps, computed directly */
static int64_t kept_rows(const wb_select *s, const double *y, int64_t n, int64_t *rows)
{
    int64_t m = 0, hi = s->row_hi < 0 ? n : s->row_hi;
    for (int64_t r = 0; r < n; r++) {
        if (r < s->row_lo || r >= hi) continue;
        int keep = 1;
        if (s->nranges) {
            int c = 0;
            if (s->nclasses)
                for (c = 0; c < s->nclasses && s->classes[c] != y[r]; c++) {
                }
            double u = wb_select_key(s->seed, r);
            int in = 0;
            for (int k = 0; k < s->nranges; k++)
                if (u >= s->lo[c * s->nranges + k] && u < s->hi[c * s->nranges + k]) in = 1;
            keep = s->invert ? !in : in;
        }
        if (keep) rows[m++] = r;
    }
    return m;
}

static void check_selection(wb_dataset *ds, const double *x, const double *y, const wb_select *s)
{
    int64_t n = ds->n, d = ds->d;
    int64_t *rows = malloc((size_t)(n + 1) * 8);
    int64_t m = kept_rows(s, y, n, rows);
    wb_dataset *out;
    assert_ok(wb_ds_select(ds, s, &out));
    assert_int_equal(out->n, m);
    assert_int_equal(out->d, d);
    assert_int_equal(out->has_labels, ds->has_labels);
    int64_t P = wb_partition_rows(d);
    assert_int_equal(out->nparts, (m + P - 1) / P); /* repacked into full partitions */
    assert_ok(wb_ds_check_aligned(out));
    double *ox = malloc((size_t)(m * d + 1) * 8), *oy = malloc((size_t)(m + 1) * 8);
    assert_ok(wb_ds_read_rows(out, 0, m, ox, ds->has_labels ? oy : NULL));
    for (int64_t i = 0; i < m; i++) {
        assert_memory_equal(ox + i * d, x + rows[i] * d, (size_t)d * 8);
        if (ds->has_labels) assert_true(oy[i] == y[rows[i]]);
    }
    free(ox);
    free(oy);
    free(rows);
    wb_ds_unref(out);
}

static void select_rows(void **state)
{
    (void)state;
    int64_t d = 40, P = wb_partition_rows(d), n = 3 * P + 1000; /* small partitions: 4 + */
    double *x = xdata(n, d), *y = ydata(n);
    wb_dataset *ds;
    assert_ok(wb_ds_from_memory(EX, x, y, n, d, &ds));
    assert_int_equal(ds->nparts, 4);
    /* slices: inside, across partitions, to the end, empty */
    wb_select s = {0};
    int64_t sl[][2] = {{0, -1}, {10, 20}, {P - 5, 2 * P + 7}, {P + 1, -1}, {100, 100}, {n, -1}, {0, 1}};
    for (int k = 0; k < 7; k++) {
        s = (wb_select){.row_lo = sl[k][0], .row_hi = sl[k][1]};
        check_selection(ds, x, y, &s);
    }
    /* one range for all rows (no labels needed): a 30 % sample and its complement */
    double lo1[1] = {0.0}, hi1[1] = {0.3};
    s = (wb_select){.row_lo = 0, .row_hi = -1, .seed = 42, .nranges = 1, .lo = lo1, .hi = hi1};
    check_selection(ds, x, y, &s);
    s.invert = 1;
    check_selection(ds, x, y, &s);
    /* a sample and its complement partition the rows: sizes add up */
    wb_dataset *a, *b;
    s.invert = 0;
    assert_ok(wb_ds_select(ds, &s, &a));
    s.invert = 1;
    assert_ok(wb_ds_select(ds, &s, &b));
    assert_int_equal(a->n + b->n, n);
    assert_true(fabs((double)a->n / (double)n - 0.3) < 0.02);
    wb_ds_unref(a);
    wb_ds_unref(b);
    /* stratified: per class ranges (two ranges each: a fold made of two pieces) */
    double cls[4] = {0, 1, 2, 3};
    double lo[8] = {0.0, 0.5, 0.1, 0.6, 0.0, 0.9, 0.2, 0.2};
    double hi[8] = {0.1, 0.6, 0.2, 0.7, 0.05, 1.0, 0.4, 0.2};
    s = (wb_select){.row_lo = 0, .row_hi = -1, .seed = 7, .nclasses = 4, .classes = cls,
                    .nranges = 2, .lo = lo, .hi = hi};
    check_selection(ds, x, y, &s);
    s.invert = 1;
    check_selection(ds, x, y, &s);
    /* the classes in any order: the same rows */
    {
        double rcls[4] = {2, 0, 3, 1};
        double rlo[8] = {0.0, 0.05, 0.0, 0.5, 0.2, 0.2, 0.1, 0.6};
        double rhi[8] = {0.05, 1.0, 0.1, 0.6, 0.4, 0.2, 0.2, 0.7};
        /* class 2 -> lo[4..5] of the sorted spec, etc.: rebuild the sorted spec to compare */
        double slo[8] = {0.0, 0.5, 0.1, 0.6, 0.0, 0.05, 0.2, 0.2};
        double shi[8] = {0.1, 0.6, 0.2, 0.7, 0.05, 1.0, 0.4, 0.2};
        wb_select r = {.row_lo = 0, .row_hi = -1, .seed = 7, .nclasses = 4, .classes = rcls,
                       .nranges = 2, .lo = rlo, .hi = rhi};
        wb_select q = {.row_lo = 0, .row_hi = -1, .seed = 7, .nclasses = 4, .classes = cls,
                       .nranges = 2, .lo = slo, .hi = shi};
        wb_dataset *ra, *qa;
        assert_ok(wb_ds_select(ds, &r, &ra));
        assert_ok(wb_ds_select(ds, &q, &qa));
        check_selection(ds, x, y, &q);
        assert_int_equal(ra->n, qa->n);
        assert_true(ra->n > 0);
        double *xa = malloc((size_t)(ra->n * d) * 8), *xb = malloc((size_t)(ra->n * d) * 8);
        assert_ok(wb_ds_read_rows(ra, 0, ra->n, xa, NULL));
        assert_ok(wb_ds_read_rows(qa, 0, qa->n, xb, NULL));
        assert_memory_equal(xa, xb, (size_t)(ra->n * d) * 8);
        free(xa);
        free(xb);
        wb_ds_unref(ra);
        wb_ds_unref(qa);
        double dup[4] = {0, 1, 1, 3};
        r.classes = dup;
        assert_err(wb_ds_select(ds, &r, &ra), WB_EINVAL, "select: class 1 listed twice");
        dup[1] = NAN;
        assert_err(wb_ds_select(ds, &r, &ra), WB_EINVAL, "select: class nan is not a label");
        r.nranges = -1;
        assert_err(wb_ds_select(ds, &r, &ra), WB_EINVAL,
                   "select: 4 classes with -1 ranges each is not a selection");
    }
    /* ranges combined with a slice */
    s.invert = 0;
    s.row_lo = P / 2;
    s.row_hi = 2 * P;
    check_selection(ds, x, y, &s);
    /* the same seed gives the same rows; another seed other rows */
    wb_dataset *c1, *c2, *c3;
    s = (wb_select){.row_lo = 0, .row_hi = -1, .seed = 1, .nranges = 1, .lo = lo1, .hi = hi1};
    assert_ok(wb_ds_select(ds, &s, &c1));
    assert_ok(wb_ds_select(ds, &s, &c2));
    s.seed = 2;
    assert_ok(wb_ds_select(ds, &s, &c3));
    assert_int_equal(c1->n, c2->n);
    double r1[40], r3[40];
    assert_ok(wb_ds_read_rows(c1, 0, 1, r1, NULL));
    assert_ok(wb_ds_read_rows(c3, 0, 1, r3, NULL));
    assert_true(c1->n != c3->n || memcmp(r1, r3, sizeof r1) != 0);
    wb_ds_unref(c1);
    wb_ds_unref(c2);
    wb_ds_unref(c3);
    /* nothing kept */
    double z[1] = {0.5};
    s = (wb_select){.row_lo = 0, .row_hi = -1, .nranges = 1, .lo = z, .hi = z};
    wb_dataset *e;
    assert_ok(wb_ds_select(ds, &s, &e));
    assert_int_equal(e->n, 0);
    assert_int_equal(e->nparts, 0);
    assert_int_equal(e->d, d);
    wb_ds_unref(e);
    /* errors: stratifying without labels, a label that is not a class */
    wb_dataset *nolab;
    assert_ok(wb_ds_from_memory(EX, x, NULL, 100, d, &nolab));
    s = (wb_select){.row_lo = 0, .row_hi = -1, .nclasses = 4, .classes = cls, .nranges = 2, .lo = lo, .hi = hi};
    assert_err(wb_ds_select(nolab, &s, &e), WB_EINVAL, "select: stratifying needs labels");
    wb_ds_unref(nolab);
    double two[2] = {0, 1};
    s.nclasses = 2;
    s.classes = two;
    assert_err(wb_ds_select(ds, &s, &e), WB_EINVAL, "select: label 2 of row 3 is not a known class");
    /* select keeps the column names */
    const char *names[40];
    for (int j = 0; j < 40; j++) names[j] = j % 2 ? "odd" : "even";
    wb_ds_set_colnames(ds, names);
    s = (wb_select){.row_lo = 3, .row_hi = 9};
    assert_ok(wb_ds_select(ds, &s, &e));
    assert_string_equal(e->colnames[39], "odd");
    wb_ds_unref(e);
    wb_ds_unref(ds);
    free(x);
    free(y);
}

static void select_keys_are_uniform(void **state)
{
    (void)state;
    int hist[10] = {0};
    double sum = 0;
    for (int64_t r = 0; r < 100000; r++) {
        double u = wb_select_key(3, r);
        assert_true(u >= 0 && u < 1);
        hist[(int)(u * 10)]++;
        sum += u;
    }
    for (int k = 0; k < 10; k++) assert_true(abs(hist[k] - 10000) < 500);
    assert_true(fabs(sum / 100000 - 0.5) < 0.005);
    assert_true(wb_select_key(3, 17) == wb_select_key(3, 17));
    assert_true(wb_select_key(3, 17) != wb_select_key(4, 17));
}

static void describe_matches_direct(void **state)
{
    (void)state;
    int64_t d = 4, P = wb_partition_rows(d), n = P + 4096 * 3 + 11;
    double *x = malloc((size_t)(n * d) * 8);
    uint64_t s = 1;
    for (int64_t i = 0; i < n; i++) {
        x[i * d + 0] = wbt_unif(&s) * 1e6;
        x[i * d + 1] = (wbt_unif(&s) - 0.5) * 1e-3 + 7; /* a large mean, a small spread */
        x[i * d + 2] = i % 10 == 3 ? NAN : (double)(i % 100); /* missing values */
        x[i * d + 3] = NAN;                                     /* all missing */
    }
    x[5 * d + 0] = -3e7;
    x[(n - 1) * d + 0] = 9e9;
    wb_dataset *ds;
    assert_ok(wb_ds_from_memory(EX, x, NULL, n, d, &ds));
    double *out = malloc((size_t)(5 * d) * 8);
    assert_ok(wb_ds_describe(ds, out));
    for (int64_t j = 0; j < d; j++) {
        long double cnt = 0, sum = 0, mn = INFINITY, mx = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            double v = x[i * d + j];
            if (isnan(v)) continue;
            cnt++;
            sum += v;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
        }
        long double mean = sum / cnt, ss = 0;
        for (int64_t i = 0; i < n; i++)
            if (!isnan(x[i * d + j])) ss += (x[i * d + j] - mean) * (x[i * d + j] - mean);
        double c = out[j], m = out[d + j], sd = out[2 * d + j], lo = out[3 * d + j], hi = out[4 * d + j];
        if (j == 3) {
            assert_true(c == 0);
            assert_true(isnan(m) && isnan(sd) && isnan(lo) && isnan(hi));
            continue;
        }
        assert_true(c == (double)cnt);
        assert_true(fabs(m - (double)mean) <= 1e-12 * fabs((double)mean) + 1e-15);
        double sdr = sqrtl(ss / (cnt - 1));
        assert_true(fabs(sd - sdr) <= 1e-9 * sdr);
        assert_true(lo == (double)mn && hi == (double)mx);
    }
    assert_true(out[2] == (double)(n - (n + 6) / 10));
    /* the same numbers, bit for bit, with any thread count and layout */
    for (int t = 1; t <= 4; t++) {
        wb_exec *ex = wb_exec_local_new(t);
        wb_dataset *d2;
        if (t == 4) { /* one partition per block */
            wb_dspart parts[64];
            int np = 0;
            for (int64_t r0 = 0; r0 < n; r0 += 4096, np++) {
                int64_t rows = n - r0 < 4096 ? n - r0 : 4096;
                wb_part p = {rows, d, r0, x + r0 * d, NULL};
                assert_ok(wb_exec_put_part(ex, &p, &parts[np].oid));
                parts[np].rows = rows;
                parts[np].row0 = r0;
            }
            assert_ok(wb_ds_new(ex, d, 0, np, parts, &d2));
        } else
            assert_ok(wb_ds_from_memory(ex, x, NULL, n, d, &d2));
        double *o2 = malloc((size_t)(5 * d) * 8);
        assert_ok(wb_ds_describe(d2, o2));
        assert_memory_equal(o2, out, (size_t)(5 * d) * 8);
        free(o2);
        wb_ds_unref(d2);
        wb_exec_unref(ex);
    }
    /* one row: std is NaN (ddof 1) */
    wb_dataset *one;
    assert_ok(wb_ds_from_memory(EX, x, NULL, 1, d, &one));
    assert_ok(wb_ds_describe(one, out));
    assert_true(out[0] == 1 && out[d] == x[0] && isnan(out[2 * d]) && out[3 * d] == x[0]);
    wb_ds_unref(one);
    free(out);
    wb_ds_unref(ds);
    free(x);
}

static void classes_and_finite(void **state)
{
    (void)state;
    int64_t d = 40, P = wb_partition_rows(d), n = 2 * P + 5;
    double *x = xdata(n, d), *y = ydata(n);
    wb_dataset *ds;
    assert_ok(wb_ds_from_memory(EX, x, y, n, d, &ds));
    double *cls;
    int nc;
    assert_ok(wb_ds_classes(ds, "t", 10, &cls, &nc));
    assert_int_equal(nc, 4);
    for (int k = 0; k < 4; k++) assert_true(cls[k] == k);
    free(cls);
    assert_err(wb_ds_classes(ds, "t", 3, &cls, &nc), WB_EINVAL, "t: more than 3 distinct labels (classes expected)");
    assert_ok(wb_ds_classes(ds, "t", 1 << 30, &cls, &nc)); /* a huge limit is clamped, not overflowed */
    free(cls);
    assert_ok(wb_ds_check_finite(ds, "t"));
    wb_ds_unref(ds);
    /* the first bad value is named by row and column from 1, in the last partition too */
    x[(2 * P + 3) * d + 7] = -INFINITY;
    y[P + 1] = 2.5;
    assert_ok(wb_ds_from_memory(EX, x, y, n, d, &ds));
    char msg[128];
    snprintf(msg, sizeof msg, "t: the data has -Inf at row %lld, column 8", (long long)(2 * P + 4));
    assert_err(wb_ds_check_finite(ds, "t"), WB_EINVAL, msg);
    snprintf(msg, sizeof msg, "t: label 2.5 at row %lld is not an integer class", (long long)(P + 2));
    assert_err(wb_ds_classes(ds, "t", 10, &cls, &nc), WB_EINVAL, msg);
    wb_ds_unref(ds);
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_checks),
        cmocka_unit_test(from_memory_and_read_rows),
        cmocka_unit_test(with_labels),
        cmocka_unit_test(select_rows),
        cmocka_unit_test(select_keys_are_uniform),
        cmocka_unit_test(describe_matches_direct),
        cmocka_unit_test(classes_and_finite),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
