/* test_io_numfmt: the text <-> double conversions of the file formats are
 * exact: parsing matches strtod bit for bit (random decimals, ties, subnormal
 * and overflow edges), formatting is the shortest text that reads back to the
 * same double. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/numfmt.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return u;
}

static double parse(const char *s, const char **stop)
{
    double v = -12345;
    const char *st = NULL;
    int rc = wb__parse_double(s, s + strlen(s), &v, &st);
    if (stop) *stop = rc ? NULL : st;
    return rc ? -12345 : v;
}

static void check_parse(const char *s)
{
    const char *stop;
    double v = parse(s, &stop);
    double r = strtod(s, NULL);
    if (bits(v) != bits(r) || stop != s + strlen(s))
        fail_msg("\"%s\": parsed %.17g (%016llx), strtod %.17g (%016llx)", s, v, (unsigned long long)bits(v), r,
                 (unsigned long long)bits(r));
}

static void test_parse_random(void **state)
{
    (void)state;
    char t[128];
    for (int i = 0; i < 400000; i++) {
        int k = 0;
        if (next() % 2) t[k++] = '-';
        int nd = 1 + (int)(next() % 25), pt = (int)(next() % (unsigned)(nd + 1));
        for (int j = 0; j < nd; j++) {
            if (j == pt && j > 0) t[k++] = '.';
            t[k++] = (char)('0' + next() % 10);
        }
        if (next() % 2) k += sprintf(t + k, "e%d", (int)(next() % 700) - 350);
        t[k] = 0;
        check_parse(t);
    }
}

static void test_parse_roundtrip_bits(void **state)
{
    /* every double printed with %.17g reads back exactly */
    (void)state;
    char t[64];
    for (int i = 0; i < 300000; i++) {
        uint64_t b = next();
        double v;
        memcpy(&v, &b, 8);
        if (isnan(v)) continue;
        snprintf(t, sizeof t, "%.17g", v);
        check_parse(t);
        snprintf(t, sizeof t, "%.16e", v);
        check_parse(t);
    }
}

static void test_parse_hard(void **state)
{
    (void)state;
    static const char *hard[] = {
        "0", "-0", "0.0", "1", "0.1", "9007199254740993", "9007199254740992.5", "4503599627370497.5",
        "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
        "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "5e-324",
        "1e-323", "1e-324", "1e-400", "1.7976931348623157e308", "1.7976931348623158e308",
        "1.7976931348623159e308", "1e309", "1e23", "8.98846567431158e307", "7.038531e-26",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "123456789012345678901234567890", "0.000000000000000000000000000000000000000001",
        "000000000000000000000000000000000001.5", "1448997445238699", "6.631236846766476e-316",
        "3.0540412e5", "+12.5", "1E5", "1e+05", "1.e3", ".5", "-.5e-3", "0.30000000000000004",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093552384",
        NULL};
    for (int i = 0; hard[i]; i++) check_parse(hard[i]);
}

static void test_parse_special_and_stops(void **state)
{
    (void)state;
    const char *stop;
    assert_true(isnan(parse("nan", &stop)));
    assert_true(isnan(parse("NaN", &stop)));
    assert_true(parse("inf", &stop) == INFINITY);
    assert_true(parse("-Infinity", &stop) == -INFINITY);
    assert_true(parse("-INF", &stop) == -INFINITY);
    /* where a number stops */
    const char *s = "1.5x";
    assert_true(parse(s, &stop) == 1.5 && stop == s + 3);
    s = "2e";
    assert_true(parse(s, &stop) == 2 && stop == s + 1);
    s = "3e+";
    assert_true(parse(s, &stop) == 3 && stop == s + 1);
    s = "1.2.3";
    assert_true(parse(s, &stop) == 1.2 && stop == s + 3);
    s = "7 8";
    assert_true(parse(s, &stop) == 7 && stop == s + 1);
    /* no number at all */
    const char *bad[] = {"", "-", "+", ".", "e5", "abc", "-e", "in", "na", ".e1", NULL};
    for (int i = 0; bad[i]; i++) {
        double v;
        const char *st;
        assert_int_equal(wb__parse_double(bad[i], bad[i] + strlen(bad[i]), &v, &st), -1);
    }
    /* never reads past end: "12" inside "123" */
    s = "123";
    double v;
    assert_int_equal(wb__parse_double(s, s + 2, &v, &stop), 0);
    assert_true(v == 12 && stop == s + 2);
    /* unsigned integers */
    uint64_t u = 0;
    s = "42:";
    assert_int_equal(wb__parse_uint(s, s + 3, &u, &stop), 0);
    assert_true(u == 42 && stop == s + 2);
    s = "x";
    assert_int_equal(wb__parse_uint(s, s + 1, &u, &stop), -1);
    s = "1234567890123456789";
    assert_int_equal(wb__parse_uint(s, s + strlen(s), &u, &stop), -1);
}

static const char *fmt(double v)
{
    static char buf[64];
    char *e = wb__fmt_double(buf, v);
    assert_true(e - buf <= WB_FMT_DOUBLE_MAX);
    *e = 0;
    return buf;
}

static void test_format_text(void **state)
{
    (void)state;
    assert_string_equal(fmt(0.0), "0");
    assert_string_equal(fmt(-0.0), "-0");
    assert_string_equal(fmt(1), "1");
    assert_string_equal(fmt(-7), "-7");
    assert_string_equal(fmt(0.1), "0.1");
    assert_string_equal(fmt(0.5), "0.5");
    assert_string_equal(fmt(123.456), "123.456");
    assert_string_equal(fmt(1e16), "10000000000000000");
    assert_string_equal(fmt(1e17), "1e+17");
    assert_string_equal(fmt(12345678901234567.0), "12345678901234568");
    assert_string_equal(fmt(0.0001), "0.0001");
    assert_string_equal(fmt(0.00001), "0.00001");
    assert_string_equal(fmt(1.5e-7), "1.5e-07");
    assert_string_equal(fmt(1e300), "1e+300");
    assert_string_equal(fmt(5e-324), "5e-324");
    assert_string_equal(fmt(-2.2250738585072014e-308), "-2.2250738585072014e-308");
    assert_string_equal(fmt(1.7976931348623157e308), "1.7976931348623157e+308");
    assert_string_equal(fmt(0.30000000000000004), "0.30000000000000004");
    assert_string_equal(fmt(1.0 / 3), "0.3333333333333333");
    assert_string_equal(fmt(INFINITY), "inf");
    assert_string_equal(fmt(-INFINITY), "-inf");
    assert_string_equal(fmt(NAN), "nan");
    char b[32];
    *wb__fmt_int(b, 0) = 0;
    assert_string_equal(b, "0");
    *wb__fmt_int(b, -9223372036854775807LL - 1) = 0;
    assert_string_equal(b, "-9223372036854775808");
    *wb__fmt_int(b, 1000000) = 0;
    assert_string_equal(b, "1000000");
}

/* the fewest significant digits with which v reads back */
static int shortest_digits(double v)
{
    char t[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, v);
        if (strtod(t, NULL) == v) return p;
    }
    return 17;
}

static int sig_digits(const char *s)
{
    int n = 0, last = 0, started = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9') continue;
        if (*s != '0') started = 1;
        if (!started) continue;
        n++;
        if (*s != '0') last = n;
    }
    return last;
}

static void test_format_roundtrip_shortest(void **state)
{
    (void)state;
    for (int i = 0; i < 600000; i++) {
        uint64_t b = next();
        if (i % 3 == 0) /* also many ordinary magnitudes */
            b = (b & 0x800FFFFFFFFFFFFFULL) | ((uint64_t)(1023 + (int)(next() % 60) - 30) << 52);
        if (i % 7 == 0) b &= 0x800FFFFFFFFFFFFFULL; /* subnormals */
        double v;
        memcpy(&v, &b, 8);
        if (isnan(v)) continue;
        const char *s = fmt(v);
        const char *stop;
        double r = parse(s, &stop);
        if (bits(r) != bits(v) || strtod(s, NULL) != v)
            fail_msg("%.17g printed as \"%s\" reads back as %.17g", v, s, r);
        if (i % 10 == 0 && v != 0 && sig_digits(s) > shortest_digits(v))
            fail_msg("%.17g printed as \"%s\": %d digits, %d suffice", v, s, sig_digits(s), shortest_digits(v));
    }
    /* integers and short decimals print as typed */
    char t[64];
    for (int i = 0; i < 20000; i++) {
        int64_t k = (int64_t)(next() % 2000001) - 1000000;
        snprintf(t, sizeof t, "%lld", (long long)k);
        assert_string_equal(fmt((double)k), t);
        snprintf(t, sizeof t, "%lld.25", (long long)(k < 0 ? -k : k));
        assert_string_equal(fmt(strtod(t, NULL)), t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_random),
        cmocka_unit_test(test_parse_roundtrip_bits),
        cmocka_unit_test(test_parse_hard),
        cmocka_unit_test(test_parse_special_and_stops),
        cmocka_unit_test(test_format_text),
        cmocka_unit_test(test_format_roundtrip_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
