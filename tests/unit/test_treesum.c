/* test_treesum.c — wb_treesum: the fixed binary tree over block indices,
 * fed with nodes in any order and grouping. */
#include "wbtest.h"

#include <math.h>

enum { LEN = 4 };

static double *blocks(int64_t nb, uint64_t seed)
{
    double *b = malloc((size_t)(nb * LEN) * 8);
    for (int64_t i = 0; i < nb * LEN; i++) b[i] = (wbt_unif(&seed) - 0.5) * pow(10, (int)(wbt_next(&seed) % 30) - 10);
    return b;
}

/* node (level, idx) by the documented rule */
static void node(const double *b, int64_t nb, int level, int64_t idx, double *out)
{
    if (level == 0) {
        memcpy(out, b + idx * LEN, LEN * 8);
        return;
    }
    int64_t span = (int64_t)1 << (level - 1);
    node(b, nb, level - 1, 2 * idx, out);
    if ((2 * idx + 1) * span < nb) {
        double r[LEN];
        node(b, nb, level - 1, 2 * idx + 1, r);
        for (int j = 0; j < LEN; j++) out[j] += r[j];
    }
}

static int top_level(int64_t nb)
{
    int t = 0;
    while (((int64_t)1 << t) < nb) t++;
    return t;
}

static void shuffle(int64_t *a, int64_t n, uint64_t *s)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(wbt_next(s) % (uint64_t)(i + 1)), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static void leaves_in_random_order(void **state)
{
    (void)state;
    int64_t counts[] = {1, 2, 3, 5, 8, 13, 64, 100, 257};
    uint64_t s = 7;
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int64_t nb = counts[c];
        double *b = blocks(nb, 100 + c), ref[LEN];
        node(b, nb, top_level(nb), 0, ref);
        int64_t *order = malloc((size_t)nb * 8);
        for (int64_t i = 0; i < nb; i++) order[i] = i;
        for (int round = 0; round < 5; round++) {
            shuffle(order, nb, &s);
            wb_treesum *t = wb_treesum_new(LEN, nb);
            for (int64_t i = 0; i < nb; i++) assert_ok(wb_treesum_add(t, 0, (uint64_t)order[i], b + order[i] * LEN));
            double got[LEN];
            assert_ok(wb_treesum_result(t, got));
            assert_memory_equal(got, ref, sizeof ref);
            wb_treesum_free(t);
        }
        free(order);
        free(b);
    }
}

/* any cover of [0, nb) by aligned subtrees, in any order, gives the same root */
static void subtrees_in_random_order(void **state)
{
    (void)state;
    uint64_t s = 11;
    for (int trial = 0; trial < 200; trial++) {
        int64_t nb = 1 + (int64_t)(wbt_next(&s) % 300);
        double *b = blocks(nb, 500 + trial), ref[LEN];
        node(b, nb, top_level(nb), 0, ref);
        /* cut [0, nb) into aligned nodes: at each position take a random level that fits */
        int64_t lv[600], ix[600];
        int n = 0;
        for (int64_t pos = 0; pos < nb;) {
            int maxl = 0;
            while (pos % ((int64_t)1 << (maxl + 1)) == 0 && pos + ((int64_t)1 << (maxl + 1)) <= nb) maxl++;
            /* a node may also stick out past the last block (it is then partial) */
            if (pos % ((int64_t)1 << (maxl + 1)) == 0 && wbt_next(&s) % 4 == 0) maxl++;
            if (maxl > top_level(nb)) maxl = top_level(nb);
            int l = (int)(wbt_next(&s) % (uint64_t)(maxl + 1));
            lv[n] = l;
            ix[n] = pos >> l;
            n++;
            pos += (int64_t)1 << l;
        }
        int64_t order[600];
        for (int i = 0; i < n; i++) order[i] = i;
        shuffle(order, n, &s);
        wb_treesum *t = wb_treesum_new(LEN, nb);
        for (int i = 0; i < n; i++) {
            double v[LEN];
            node(b, nb, (int)lv[order[i]], ix[order[i]], v);
            assert_ok(wb_treesum_add(t, (uint32_t)lv[order[i]], (uint64_t)ix[order[i]], v));
        }
        double got[LEN];
        int rc = wb_treesum_result(t, got);
        if (rc) fail_msg("nb=%lld: %s", (long long)nb, wb_errmsg());
        assert_memory_equal(got, ref, sizeof ref);
        wb_treesum_free(t);
        free(b);
    }
}

static void encoded_partials(void **state)
{
    (void)state;
    /* two partials: blocks 0..1 as one node, block 2 as a leaf */
    double b[3 * LEN];
    for (int i = 0; i < 3 * LEN; i++) b[i] = i + 0.25;
    unsigned char buf[16 + 2 * 16 + 2 * LEN * 8];
    uint64_t count = 2, len = LEN;
    memcpy(buf, &count, 8);
    memcpy(buf + 8, &len, 8);
    uint32_t l1 = 1, l0 = 0, pad = 0;
    uint64_t i0 = 0, i2 = 2;
    memcpy(buf + 16, &l1, 4);
    memcpy(buf + 20, &pad, 4);
    memcpy(buf + 24, &i0, 8);
    memcpy(buf + 32, &l0, 4);
    memcpy(buf + 36, &pad, 4);
    memcpy(buf + 40, &i2, 8);
    double n01[LEN];
    for (int j = 0; j < LEN; j++) n01[j] = b[j] + b[LEN + j];
    memcpy(buf + 48, n01, sizeof n01);
    memcpy(buf + 48 + LEN * 8, b + 2 * LEN, LEN * 8);
    wb_treesum *t = wb_treesum_new(LEN, 3);
    assert_ok(wb_treesum_add_encoded(t, buf, sizeof buf));
    double got[LEN], ref[LEN];
    assert_ok(wb_treesum_result(t, got));
    node(b, 3, 2, 0, ref);
    assert_memory_equal(got, ref, sizeof ref);
    wb_treesum_free(t);
    /* malformed partials are refused, never read past the end */
    t = wb_treesum_new(LEN, 3);
    for (size_t k = 0; k < sizeof buf; k++) assert_int_equal(wb_treesum_add_encoded(t, buf, k), WB_EFORMAT);
    assert_err(wb_treesum_add_encoded(t, buf, 8), WB_EFORMAT, "block sum: truncated result");
    assert_err(wb_treesum_add_encoded(t, buf, sizeof buf - 1), WB_EFORMAT,
               "block sum: result of 111 bytes does not match 4 values");
    uint64_t huge = (uint64_t)1 << 60;
    memcpy(buf, &huge, 8);
    assert_int_equal(wb_treesum_add_encoded(t, buf, sizeof buf), WB_EFORMAT);
    memcpy(buf, &count, 8);
    len = 3;
    memcpy(buf + 8, &len, 8);
    assert_int_equal(wb_treesum_add_encoded(t, buf, sizeof buf), WB_EFORMAT);
    wb_treesum_free(t);
}

static void missing_and_extra_nodes(void **state)
{
    (void)state;
    double v[LEN] = {1, 2, 3, 4}, got[LEN];
    /* block 5 of 8 never came */
    wb_treesum *t = wb_treesum_new(LEN, 8);
    for (int i = 0; i < 8; i++)
        if (i != 5) assert_ok(wb_treesum_add(t, 0, (uint64_t)i, v));
    assert_err(wb_treesum_result(t, got), WB_EINTERNAL, "block sum: missing node (0, 5)");
    wb_treesum_free(t);
    /* block 4 missing: its right sibling 5 is an orphan */
    t = wb_treesum_new(LEN, 8);
    for (int i = 0; i < 8; i++)
        if (i != 4) assert_ok(wb_treesum_add(t, 0, (uint64_t)i, v));
    assert_err(wb_treesum_result(t, got), WB_EINTERNAL, "block sum: missing node (0, 4)");
    wb_treesum_free(t);
    /* nothing at all */
    t = wb_treesum_new(LEN, 3);
    assert_err(wb_treesum_result(t, got), WB_EINTERNAL, "block sum: missing node (0, 0)");
    wb_treesum_free(t);
    /* a block given twice */
    t = wb_treesum_new(LEN, 2);
    assert_ok(wb_treesum_add(t, 0, 0, v));
    assert_ok(wb_treesum_add(t, 0, 0, v));
    assert_ok(wb_treesum_add(t, 0, 1, v));
    assert_int_equal(wb_treesum_result(t, got), WB_EINTERNAL);
    wb_treesum_free(t);
    /* a block beyond the end */
    t = wb_treesum_new(LEN, 2);
    assert_ok(wb_treesum_add(t, 0, 0, v));
    assert_ok(wb_treesum_add(t, 0, 1, v));
    assert_err(wb_treesum_add(t, 0, 9, v), WB_EFORMAT,
               "block sum: node (0, 9) lies beyond the last of 2 blocks");
    assert_err(wb_treesum_add(t, 2, 1, v), WB_EFORMAT,
               "block sum: node (2, 1) lies beyond the last of 2 blocks");
    assert_ok(wb_treesum_add(t, 1, 0, v)); /* a duplicate cover of both blocks */
    assert_int_equal(wb_treesum_result(t, got), WB_EINTERNAL);
    wb_treesum_free(t);
    /* a partial node: (1, 2) covers block 4 of 5 (block 5 does not exist) */
    double b5[5 * LEN], ref[LEN];
    for (int i = 0; i < 5 * LEN; i++) b5[i] = 1.0 / (i + 1);
    t = wb_treesum_new(LEN, 5);
    double n03[LEN];
    node(b5, 5, 2, 0, n03);
    assert_ok(wb_treesum_add(t, 1, 2, b5 + 4 * LEN));
    assert_ok(wb_treesum_add(t, 2, 0, n03));
    assert_ok(wb_treesum_result(t, got));
    node(b5, 5, 3, 0, ref);
    assert_memory_equal(got, ref, sizeof ref);
    wb_treesum_free(t);
    /* a level that cannot be */
    t = wb_treesum_new(LEN, 2);
    assert_err(wb_treesum_add(t, 63, 0, v), WB_EFORMAT, "block sum: bad level 63");
    wb_treesum_free(t);
    /* no blocks: zeros */
    t = wb_treesum_new(LEN, 0);
    assert_err(wb_treesum_add(t, 0, 0, v), WB_EFORMAT,
               "block sum: node (0, 0) lies beyond the last of 0 blocks");
    got[0] = 5;
    assert_ok(wb_treesum_result(t, got));
    assert_true(got[0] == 0 && got[3] == 0);
    wb_treesum_free(t);
    /* a zero-length vector */
    t = wb_treesum_new(0, 2);
    assert_ok(wb_treesum_add(t, 0, 0, NULL));
    assert_ok(wb_treesum_add(t, 0, 1, NULL));
    assert_ok(wb_treesum_result(t, NULL));
    wb_treesum_free(t);
    wb_treesum_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaves_in_random_order),
        cmocka_unit_test(subtrees_in_random_order),
        cmocka_unit_test(encoded_partials),
        cmocka_unit_test(missing_and_extra_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
