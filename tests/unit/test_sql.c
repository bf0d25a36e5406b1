/* test_sql: the parts of core/src/sql that need no server.
 *  - a read that fails in one partition after another succeeded leaves
 *    nothing in the store (no chunk, map or partition half made), and a read
 *    that succeeds leaves only its dataset;
 *  - the local executor's reads put their rows in the store as partitions
 *    while they come (direct mode): a failed read leaves none of them, the
 *    first read's partitions are the dataset's (row0 as the dataset says);
 *  - URLs: the password kept apart from the connection string and the name
 *    shown; scrubbing; identifiers quoted;
 *  - binary COPY: values encoded for COPY FROM read back by the decoder
 *    (every kind), numeric's base-10000 form as PostgreSQL documents it
 *    (numeric_send), and the checks of values that do not fit a column. */
#include "wbtest.h"
#include "sql/sql_internal.h"
#include <math.h>

static char *dir;

static void test_failed_read_leaves_nothing(void **state)
{
    (void)state;
    wb_store *st = wb_store_new(1);
    wb_exec *ex = wb_exec_inline_new(st);
    char url[600];
    snprintf(url, sizeof url, "sqlite:%s/half.db", dir);
    /* ids 1..6000, s: numbers as text, then words from id 3001 */
    enum { N = 6000 };
    static double id[N];
    static const char *s[N];
    static char buf[N][16];
    for (int i = 0; i < N; i++) {
        id[i] = i + 1;
        if (i < 3000) snprintf(buf[i], sizeof buf[i], "%d.5", i);
        else snprintf(buf[i], sizeof buf[i], "w%d", i);
        s[i] = buf[i];
    }
    wb_sql_column cols[2] = {{"id", WB_COL_NUMBER, 1, id, NULL}, {"s", WB_COL_CATEGORY, 0, NULL, s}};
    assert_ok(wb_sql_write_columns(cols, 2, N, url, "t", WB_SQL_FAIL));
    size_t base = wb_store_count(st);
    wb_sql_read_opts o;
    wb_sql_read_opts_init(&o);
    const char *dn[1] = {"s"};
    int dt[1] = {WB_COL_NUMBER};
    o.dtype_names = dn;
    o.dtype_types = dt;
    o.ndtype = 1;
    o.partition_column = "id";
    o.partitions = 2;
    wb_dataset *d = NULL;
    assert_err_has(wb_sql_read(ex, url, "t", &o, &d), WB_EFORMAT,
                   "partition 2 of 2 (\"id\" >= 3001 or NULL): row 1, column \"s\" (declared TEXT): \"w3000\" does not convert");
    assert_null(d);
    assert_int_equal(wb_store_count(st), base);
    /* read as text: a dataset, and nothing else left once it is freed */
    o.ndtype = 0;
    assert_ok(wb_sql_read(ex, url, "t", &o, &d));
    assert_int_equal(d->n, N);
    assert_int_equal(wb_ds_col_type(d, 1), WB_COL_CATEGORY);
    assert_int_equal(wb_store_count(st), (size_t)d->nparts + base);
    wb_ds_unref(d);
    assert_int_equal(wb_store_count(st), base);
    wb_exec_unref(ex);
    wb_store_free(st);
}

/* a read on the local executor puts its rows in the store as partitions
 * while they come (direct mode; the inline executor reads into chunks):
 *  - one read (no partition column): a failure after some partitions were
 *    made leaves none behind; a read that succeeds leaves its partitions;
 *  - two range reads, the first of exactly one partition's rows: the
 *    second's first partition is aligned with the dataset's, and is taken as
 *    it is (no text column) or with its codes mapped, its first row the
 *    dataset's (row0 as the dataset's partition says, not the read's own 0);
 *  - two range reads, the first of them made partitions and succeeded, the
 *    second failed: nothing left in the store. */
static wb_exec *direct_exec(int local, wb_store **st)
{
    if (local) {
        wb_exec *ex = wb_exec_local_new(2);
        *st = wb_exec_local_store(ex);
        return ex;
    }
    *st = wb_store_new(1);
    return wb_exec_inline_new(*st);
}

static void drop_exec(int local, wb_exec *ex, wb_store *st)
{
    wb_exec_unref(ex);
    if (!local) wb_store_free(st);
}

static void check_row0(wb_dataset *d)
{
    for (int i = 0; i < d->nparts; i++) {
        wb_objstat os;
        assert_ok(wb_exec_stat(d->ex, d->parts[i].oid, &os));
        assert_int_equal(os.row0, d->parts[i].row0);
        assert_int_equal(os.rows, d->parts[i].rows);
    }
}

static void test_direct_read(void **state)
{
    (void)state;
    char url[600];
    snprintf(url, sizeof url, "sqlite:%s/direct.db", dir);
    int64_t P = wb_partition_rows(2), n = 2 * P + 100;
    double *id = malloc((size_t)n * 8), *x = malloc((size_t)n * 8);
    const char **s = malloc((size_t)n * sizeof *s);
    for (int64_t i = 0; i < n; i++) {
        id[i] = (double)(i + 1);
        x[i] = (double)i / 2;
        s[i] = i == 2 * P + 50 ? "oops" : i % 3 ? "1.5" : "2";
    }
    wb_sql_column cols[3] = {{"id", WB_COL_NUMBER, 1, id, NULL},
                             {"s", WB_COL_CATEGORY, 0, NULL, s},
                             {"x", WB_COL_NUMBER, 0, x, NULL}};
    assert_ok(wb_sql_write_columns(cols, 3, n, url, "t", WB_SQL_FAIL));
    for (int local = 0; local < 2; local++) {
        wb_store *st;
        wb_exec *ex = direct_exec(local, &st);
        size_t base = wb_store_count(st);
        wb_sql_read_opts o;
        wb_sql_read_opts_init(&o);
        const char *dn[1] = {"s"};
        int dt[1] = {WB_COL_NUMBER};
        o.dtype_names = dn;
        o.dtype_types = dt;
        o.ndtype = 1;
        wb_dataset *d = NULL;
        char want[100];
        snprintf(want, sizeof want, "row %lld, column \"s\" (declared TEXT): \"oops\" does not convert",
                 (long long)(2 * P + 51));
        assert_err_has(wb_sql_read(ex, url, "t", &o, &d), WB_EFORMAT, want);
        assert_null(d);
        assert_int_equal(wb_store_count(st), base);
        o.ndtype = 0; /* as text: the codes mapped to the sorted levels */
        const char *two[2] = {"id", "s"};
        o.columns = two;
        o.ncolumns = 2;
        assert_ok(wb_sql_read(ex, url, "t", &o, &d));
        assert_int_equal(d->n, n);
        assert_int_equal(d->nparts, 3);
        assert_int_equal(wb_store_count(st), base + (size_t)d->nparts);
        check_row0(d);
        const wb_levels *lv = wb_ds_col_levels(d, 1);
        assert_int_equal(wb_levels_count(lv), 3);
        assert_string_equal(wb_levels_at(lv, 0), "1.5");
        double row[2];
        assert_ok(wb_ds_read_rows(d, 2 * P + 50, 2 * P + 51, row, NULL));
        assert_true(row[0] == 2 * P + 51 && row[1] == 2); /* "oops" */
        assert_ok(wb_ds_read_rows(d, 3, 4, row, NULL));
        assert_true(row[0] == 4 && row[1] == 1); /* "2" */
        wb_ds_unref(d);
        assert_int_equal(wb_store_count(st), base);

        /* two reads, the first of exactly P rows */
        o.partition_column = "id";
        o.partitions = 2;
        o.nbounds = 3;
        double b1[3] = {1, (double)P + 1, (double)n + 1};
        o.bounds = b1;
        for (int text = 0; text < 2; text++) {
            const char *nums[2] = {"id", "x"};
            o.columns = text ? two : nums;
            assert_ok(wb_sql_read(ex, url, "t", &o, &d));
            assert_int_equal(d->n, n);
            assert_int_equal(d->nparts, 3);
            check_row0(d);
            for (int64_t r = P - 1; r <= P + 1; r++) {
                assert_ok(wb_ds_read_rows(d, r, r + 1, row, NULL));
                assert_true(row[0] == r + 1);
            }
            wb_ds_unref(d);
            assert_int_equal(wb_store_count(st), base);
        }
        /* two reads, the first of P + 10 rows made two partitions; the second fails */
        o.columns = NULL;
        o.ncolumns = 0;
        o.ndtype = 1;
        double b2[3] = {1, (double)P + 11, (double)n + 1};
        o.bounds = b2;
        assert_err_has(wb_sql_read(ex, url, "t", &o, &d), WB_EFORMAT, "partition 2 of 2");
        assert_null(d);
        assert_int_equal(wb_store_count(st), base);
        drop_exec(local, ex, st);
    }
    free(id);
    free(x);
    free(s);
}

static void test_urls(void **state)
{
    (void)state;
    sql_url u;
    assert_ok(wb__sql_url_parse("postgresql://ann:p%40ss%27w0rd@db.example:6543/sales?sslmode=disable&application_name=x",
                                "who", &u));
    assert_int_equal(u.kind, SQL_PG);
    assert_string_equal(u.display, "postgresql://ann@db.example:6543/sales");
    assert_null(strstr(u.conninfo, "p@ss"));
    assert_non_null(strstr(u.conninfo, "sslmode='disable'"));
    assert_string_equal(u.secrets, "password='p@ss\\'w0rd'");
    char msg[200] = "FATAL: bad login p@ss'w0rd and p%40ss%27w0rd";
    wb__sql_scrub(msg, "password='p@ss\\'w0rd'");
    assert_null(strstr(msg, "w0rd"));
    wb__sql_url_free(&u);
    char raw[200] = "invalid token in postgresql://ann:hunter22@h/db";
    wb__sql_scrub(raw, NULL); /* no secrets known: only PGPASSWORD */
    assert_non_null(strstr(raw, "hunter22"));
    assert_ok(wb__sql_url_parse("sqlite:///rel/x.db", "who", &u));
    assert_string_equal(u.path, "rel/x.db");
    wb__sql_url_free(&u);
    assert_ok(wb__sql_url_parse("sqlite:////abs/x.db", "who", &u));
    assert_string_equal(u.path, "/abs/x.db");
    wb__sql_url_free(&u);
    assert_err(wb__sql_url_parse("mysql://a/b", "who", &u), WB_EINVAL,
               "who: bad URL: unknown kind of database 'mysql:' (sqlite:path/to/file.db or postgresql://user@host:port/dbname)");
    wb_buf b = {0};
    assert_ok(wb__sql_ident(&b, "a\"b; c"));
    assert_string_equal((char *)b.p, "\"a\"\"b; c\"");
    wb_buf_free(&b);
}

/* one row of COPY data with each kind of column, read back */
static void test_copy_roundtrip(void **state)
{
    (void)state;
    const uint8_t kinds[] = {SK_BOOL, SK_INT2, SK_INT4, SK_INT8, SK_OID, SK_FLOAT4, SK_FLOAT8, SK_DATE, SK_TS, SK_TIME, SK_TEXT};
    enum { K = sizeof kinds };
    const double rows[3][K] = {
        {1, -32768, 2147483647, -9007199254740991.0, 4294967295.0, 0.15625, -1e-300, 946684800.0 + 86400.0 * 3, 1709164800.123456, 3600.5, 0},
        {0, 0, -1, 0, 0, -INFINITY, NAN, -INFINITY, INFINITY, 0, 0},
        {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN}};
    wb_buf b = {0};
    char err[80];
    assert_ok(wb__sql_copy_header(&b));
    for (int r = 0; r < 3; r++) {
        assert_ok(wb__sql_copy_row(&b, K));
        for (int j = 0; j < K; j++) {
            double v = rows[r][j];
            if (kinds[j] == SK_TEXT) assert_ok(r == 2 ? wb__sql_copy_null(&b) : wb__sql_copy_bytes(&b, r ? "" : "h\xc3\xa9", r ? 0 : 3));
            else if (v != v && !(r == 1 && j == 6)) assert_ok(wb__sql_copy_null(&b));
            else assert_ok(wb__sql_copy_number(&b, kinds[j], v, err, sizeof err));
        }
    }
    assert_ok(wb__sql_copy_trailer(&b));
    sql_chunk ch;
    assert_ok(wb__sql_chunk_init(&ch, K - 1, 1, 0));
    sql_copydec dec;
    assert_ok(wb__sql_copydec_init(&dec, K, kinds, &ch));
    /* byte by byte: the decoder takes any split */
    for (size_t i = 0; i < b.len; i++) assert_ok(wb__sql_copydec_feed(&dec, b.p + i, 1));
    assert_ok(wb__sql_copydec_end(&dec));
    assert_int_equal(ch.rows, 3);
    const double *x = (const double *)(ch.buf + 64);
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < K - 1; j++) {
            double want = rows[r][j], got = x[r * (K - 1) + j];
            if (want != want) assert_true(got != got);
            else if (got != want && !(kinds[j] == SK_TS && fabs(got - want) < 1e-6))
                fail_msg("row %d, column %d: %.17g read back as %.17g", r, j, want, got);
        }
    assert_true(ch.y[0] == 0 && ch.y[1] == 1 && ch.y[2] != ch.y[2]); /* "hé", then "" */
    assert_int_equal(ch.dict[K - 1].n, 2);
    wb__sql_copydec_free(&dec);
    wb__sql_chunk_free(&ch);
    /* values that do not fit */
    b.len = 0;
    assert_int_equal(wb__sql_copy_number(&b, SK_INT4, 1.5, err, sizeof err), WB_EINVAL);
    assert_string_equal(err, "is not a whole number");
    assert_int_equal(wb__sql_copy_number(&b, SK_INT2, 40000, err, sizeof err), WB_EINVAL);
    assert_string_equal(err, "is out of range");
    assert_int_equal(wb__sql_copy_number(&b, SK_DATE, 100, err, sizeof err), WB_EINVAL);
    assert_int_equal(wb__sql_copy_number(&b, SK_BOOL, 2, err, sizeof err), WB_EINVAL);
    assert_int_equal(wb__sql_copy_number(&b, SK_FLOAT4, 1e300, err, sizeof err), WB_EINVAL);
    wb_buf_free(&b);
}

/* numeric as numeric_send writes it: int16 ndigits, weight, sign, dscale, base-10000 digits */
static void check_numeric(double v, const int16_t *want, int n)
{
    wb_buf b = {0};
    char err[80];
    assert_ok(wb__sql_copy_number(&b, SQL_NUMERIC, v, err, sizeof err));
    assert_int_equal(b.len, 4 + 2 * (size_t)n);
    uint32_t len = (uint32_t)b.p[0] << 24 | (uint32_t)b.p[1] << 16 | (uint32_t)b.p[2] << 8 | b.p[3];
    assert_int_equal(len, 2 * n);
    for (int i = 0; i < n; i++) {
        int16_t got = (int16_t)(b.p[4 + 2 * i] << 8 | b.p[5 + 2 * i]);
        if (got != want[i]) fail_msg("numeric %g: word %d is %d, expected %d", v, i, got, want[i]);
    }
    wb_buf_free(&b);
}

static void test_numeric(void **state)
{
    (void)state;
    check_numeric(123.45, (const int16_t[]){2, 0, 0, 2, 123, 4500}, 6);
    check_numeric(-0.001, (const int16_t[]){1, -1, 0x4000, 3, 10}, 5);
    check_numeric(1e20, (const int16_t[]){1, 5, 0, 0, 1}, 5);
    check_numeric(0, (const int16_t[]){0, 0, 0, 0}, 4);
    check_numeric(12345678.5, (const int16_t[]){3, 1, 0, 1, 1234, 5678, 5000}, 7);
    check_numeric(1.5e-7, (const int16_t[]){1, -2, 0, 8, 15}, 5); /* 0.0000 0015 */
    check_numeric(INFINITY, (const int16_t[]){0, 0, (int16_t)0xD000, 0}, 4);
}

int main(void)
{
    wb_core_init();
    dir = wbt_mkdtemp();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_read_leaves_nothing),
        cmocka_unit_test(test_direct_read),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_copy_roundtrip),
        cmocka_unit_test(test_numeric),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wbt_rmdir(dir);
    return rc;
}
