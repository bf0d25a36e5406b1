/* test_rng.c — the seeded, splittable generator of wb/plugin.h: streams named
 * by (seed, stream, block), uniform and normal deviates. */
#include "wbtest.h"

#include <math.h>

/* xoshiro256++ as published by Blackman and Vigna, written out independently */
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t ref_next(uint64_t s[4])
{
    uint64_t result = rotl(s[0] + s[3], 23) + s[0], t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static void known_answers(void **state)
{
    (void)state;
    /* splitmix64 from 0: its well-known first outputs */
    uint64_t x = 0;
    assert_true(wb_splitmix64(&x) == 0xe220a8397b1dcdafULL);
    assert_true(wb_splitmix64(&x) == 0x6e789e6aa1b965f4ULL);
    /* the generator is xoshiro256++ */
    wb_rng r;
    wb_rng_init(&r, 1, 2, 3);
    uint64_t s[4];
    memcpy(s, r.s, sizeof s);
    for (int i = 0; i < 1000; i++) assert_true(wb_rng_u64(&r) == ref_next(s));
    /* its state comes from splitmix64 of the name's hash */
    uint64_t h = wb_hash64(wb_hash64(1, 2), 3), st[4];
    for (int i = 0; i < 4; i++) st[i] = wb_splitmix64(&h);
    wb_rng_init(&r, 1, 2, 3);
    assert_memory_equal(r.s, st, sizeof st);
}

static void same_name_same_numbers(void **state)
{
    (void)state;
    wb_rng a, b;
    wb_rng_init(&a, 42, 7, 1000);
    wb_rng_init(&b, 42, 7, 1000);
    for (int i = 0; i < 10000; i++) {
        assert_true(wb_rng_u64(&a) == wb_rng_u64(&b));
        assert_true(wb_rng_normal(&a) == wb_rng_normal(&b));
        assert_true(wb_rng_uniform(&a) == wb_rng_uniform(&b));
    }
    /* any change of seed, stream or block gives another sequence */
    uint64_t names[][3] = {{42, 7, 1000}, {43, 7, 1000}, {42, 8, 1000}, {42, 7, 1001},
                           {0, 0, 0},     {0, 0, 1},     {0, 1, 0},     {1, 0, 0}};
    uint64_t first[8][4];
    for (int k = 0; k < 8; k++) {
        wb_rng r;
        wb_rng_init(&r, names[k][0], names[k][1], names[k][2]);
        for (int i = 0; i < 4; i++) first[k][i] = wb_rng_u64(&r);
        for (int j = 0; j < k; j++) assert_true(memcmp(first[j], first[k], sizeof first[k]) != 0);
    }
    /* (seed, stream) is not symmetric */
    wb_rng p, q;
    wb_rng_init(&p, 5, 9, 0);
    wb_rng_init(&q, 9, 5, 0);
    assert_true(wb_rng_u64(&p) != wb_rng_u64(&q));
}

static void streams_are_independent(void **state)
{
    (void)state;
    /* neighbouring blocks and streams: no correlation between their uniforms */
    enum { N = 200000 };
    wb_rng pairs[3][2];
    wb_rng_init(&pairs[0][0], 1, 0, 10);
    wb_rng_init(&pairs[0][1], 1, 0, 11);
    wb_rng_init(&pairs[1][0], 1, 3, 10);
    wb_rng_init(&pairs[1][1], 1, 4, 10);
    wb_rng_init(&pairs[2][0], 1, 0, 10);
    wb_rng_init(&pairs[2][1], 2, 0, 10);
    for (int k = 0; k < 3; k++) {
        double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < N; i++) {
            double u = wb_rng_uniform(&pairs[k][0]), v = wb_rng_uniform(&pairs[k][1]);
            sx += u, sy += v, sxy += u * v, sxx += u * u, syy += v * v;
        }
        double cov = sxy / N - (sx / N) * (sy / N);
        double corr = cov / sqrt((sxx / N - (sx / N) * (sx / N)) * (syy / N - (sy / N) * (sy / N)));
        assert_true(fabs(corr) < 5 / sqrt((double)N));
    }
    /* the first draws of many consecutive blocks look uniform too */
    int hist[16] = {0};
    for (uint64_t blk = 0; blk < 160000; blk++) {
        wb_rng r;
        wb_rng_init(&r, 99, 0, blk);
        hist[wb_rng_u64(&r) >> 60]++;
    }
    double chi = 0;
    for (int k = 0; k < 16; k++) chi += (hist[k] - 10000.0) * (hist[k] - 10000.0) / 10000.0;
    assert_true(chi < 37.7); /* 15 degrees of freedom, p = 0.001 */
}

static void uniform_and_below(void **state)
{
    (void)state;
    wb_rng r;
    wb_rng_init(&r, 3, 0, 0);
    enum { N = 1000000 };
    double s = 0, ss = 0, mn = 1, mx = 0;
    for (int i = 0; i < N; i++) {
        double u = wb_rng_uniform(&r);
        assert_true(u >= 0 && u < 1);
        s += u;
        ss += u * u;
        if (u < mn) mn = u;
        if (u > mx) mx = u;
    }
    double mean = s / N, var = ss / N - mean * mean;
    assert_true(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / N));
    assert_true(fabs(var - 1.0 / 12) < 0.001);
    assert_true(mn < 1e-5 && mx > 1 - 1e-5);
    /* below(n): never n or more, each value about equally often */
    uint64_t ns[] = {1, 2, 3, 7, 10, 1000, (uint64_t)1 << 63, UINT64_MAX};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int i = 0; i < 10000; i++) assert_true(wb_rng_below(&r, ns[k]) < ns[k]);
    int hist[7] = {0};
    for (int i = 0; i < 70000; i++) hist[wb_rng_below(&r, 7)]++;
    double chi = 0;
    for (int k = 0; k < 7; k++) chi += (hist[k] - 10000.0) * (hist[k] - 10000.0) / 10000.0;
    assert_true(chi < 22.5); /* 6 degrees of freedom, p = 0.001 */
}

static double phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void normal_deviates(void **state)
{
    (void)state;
    enum { N = 2000000 };
    double *v = malloc(N * sizeof *v);
    wb_rng r;
    wb_rng_init(&r, 2024, 1, 0);
    double s = 0, ss = 0, s3 = 0, s4 = 0;
    long tail = 0;
    for (int i = 0; i < N; i++) {
        double x = wb_rng_normal(&r);
        assert_true(isfinite(x));
        v[i] = x;
        s += x;
        ss += x * x;
        s3 += x * x * x;
        s4 += x * x * x * x;
        if (fabs(x) > WB_ZIG_R) tail++;
    }
    double mean = s / N, var = ss / N - mean * mean;
    assert_true(fabs(mean) < 5 / sqrt((double)N));
    assert_true(fabs(var - 1) < 5 * sqrt(2.0 / N));
    assert_true(fabs(s3 / N) < 5 * sqrt(15.0 / N));     /* skewness 0 */
    assert_true(fabs(s4 / N - 3) < 5 * sqrt(96.0 / N)); /* kurtosis 3 */
    /* the tail beyond the ziggurat's base: P(|x| > r) = 2 (1 - phi(r)) */
    double pt = 2 * (1 - phi(WB_ZIG_R)), et = pt * N;
    assert_true(fabs((double)tail - et) < 5 * sqrt(et));
    /* Kolmogorov-Smirnov against the normal distribution function */
    enum { M = 200000 };
    qsort(v, M, sizeof *v, cmpd);
    double dmax = 0;
    for (int i = 0; i < M; i++) {
        double f = phi(v[i]), d1 = fabs(f - (double)i / M), d2 = fabs(f - (double)(i + 1) / M);
        if (d1 > dmax) dmax = d1;
        if (d2 > dmax) dmax = d2;
    }
    assert_true(dmax < 1.95 / sqrt((double)M)); /* p = 0.001 */
    /* the layers: the share of draws in each band of |x| matches the distribution */
    double bands[] = {0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 10};
    long cnt[8] = {0};
    for (int i = 0; i < N && i < M; i++) {
        double a = fabs(v[i]);
        for (int k = 0; k < 8; k++)
            if (a >= bands[k] && a < bands[k + 1]) cnt[k]++;
    }
    for (int k = 0; k < 8; k++) {
        double p = 2 * (phi(bands[k + 1]) - phi(bands[k])), e = p * M;
        assert_true(fabs((double)cnt[k] - e) < 5 * sqrt(e) + 2);
    }
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answers),
        cmocka_unit_test(same_name_same_numbers),
        cmocka_unit_test(streams_are_independent),
        cmocka_unit_test(uniform_and_below),
        cmocka_unit_test(normal_deviates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
