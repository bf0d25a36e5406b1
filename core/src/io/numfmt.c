/* numfmt.c — decimal text <-> double, exact and fast (see numfmt.h): the
 * table of powers of ten, the slow path of reading (strtod in the C locale),
 * and writing.
 *
 * Writing: Schubfach (R. Giulietti, "The Schubfach way to render doubles"):
 * the shortest decimal in the rounding interval of v, found with three
 * round-to-odd products against the same table. */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "numfmt_table.h"

/* ------------------------------------------------- reading: the slow path */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;
static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* strtod on [p, s) in the C locale (the text is known to be a decimal number) */
double wb__parse_slow(const char *p, const char *s)
{
    char small[128];
    size_t n = (size_t)(s - p);
    char *b = n < sizeof small ? small : malloc(n + 1);
    if (!b) return strtod(p, NULL); /* out of memory: best effort */
    memcpy(b, p, n);
    b[n] = 0;
    pthread_once(&c_locale_once, make_c_locale);
    double v = c_locale ? strtod_l(b, NULL, c_locale) : strtod(b, NULL);
    if (b != small) free(b);
    return v;
}

/* --------------------------------------------------------------- writing */

/* round-to-odd of (g * cp) >> 127, g the 128-bit {hi, lo} */
static inline uint64_t round_to_odd(uint64_t ghi, uint64_t glo, uint64_t cp)
{
    uint64_t xhi, xlo, yhi, ylo;
    nf_mul64(cp, glo, &xhi, &xlo);
    nf_mul64(cp, ghi, &yhi, &ylo);
    ylo += xhi;
    yhi += ylo < xhi;
    (void)xlo;
    return ((yhi << 1) | (ylo >> 63)) | ((ylo & 0x7FFFFFFFFFFFFFFFULL) != 0);
}

/* v > 0 finite -> digits * 10^exp, digits < 10^17 */
static void to_decimal(double v, uint64_t *digits, int32_t *exp)
{
    uint64_t bits = nf_d2u(v);
    uint64_t fraction = bits & ((1ULL << 52) - 1);
    uint32_t biased = (uint32_t)(bits >> 52) & 0x7FF;
    uint64_t c;
    int32_t q;
    if (biased) {
        c = (1ULL << 52) | fraction;
        q = (int32_t)biased - 1075;
        if (q <= 0 && -q < 53) { /* small integers */
            uint64_t f = c >> -q;
            if (f << -q == c) {
                *digits = f;
                *exp = 0;
                return;
            }
        }
    } else {
        c = fraction;
        q = 1 - 1075;
    }
    int even = !(c & 1);
    int lower_closer = fraction == 0 && biased > 1;
    uint64_t cbl = 4 * c - 2 + (uint64_t)lower_closer, cb = 4 * c, cbr = 4 * c + 2;
    /* k = floor(log10(2^q)) or floor(log10(3/4 2^q)) */
    int32_t k = (q * 1262611 - (lower_closer ? 524031 : 0)) >> 22;
    /* h = q + floor(log2(10^-k)) */
    int32_t h = q + ((-k * 1741647) >> 19);
    const uint64_t *t = wb__pow10_128[-k - WB_POW10_QMIN];
    uint64_t ghi = t[0], glo = t[1];
    if (-k < -27 || -k > 55) { /* truncated entry: round it up (see numfmt_table.py) */
        glo++;
        if (glo == 0) ghi++;
    }
    uint64_t vbl = round_to_odd(ghi, glo, cbl << h);
    uint64_t vb = round_to_odd(ghi, glo, cb << h);
    uint64_t vbr = round_to_odd(ghi, glo, cbr << h);
    uint64_t lower = vbl + !even, upper = vbr - !even;
    uint64_t s = vb / 4;
    if (s >= 10) {
        uint64_t sp = s / 10;
        int up_in = lower <= 40 * sp, wp_in = 40 * sp + 40 <= upper;
        if (up_in != wp_in) {
            *digits = sp + (uint64_t)wp_in;
            *exp = k + 1;
            return;
        }
    }
    int u_in = lower <= 4 * s, w_in = 4 * s + 4 <= upper;
    if (u_in != w_in) {
        *digits = s + (uint64_t)w_in;
        *exp = k;
        return;
    }
    uint64_t mid = 4 * s + 2;
    int up = vb > mid || (vb == mid && (s & 1));
    *digits = s + (uint64_t)up;
    *exp = k;
}

static const char two_digits[200] = {
    '0', '0', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5', '0', '6', '0', '7', '0', '8', '0', '9',
    '1', '0', '1', '1', '1', '2', '1', '3', '1', '4', '1', '5', '1', '6', '1', '7', '1', '8', '1', '9',
    '2', '0', '2', '1', '2', '2', '2', '3', '2', '4', '2', '5', '2', '6', '2', '7', '2', '8', '2', '9',
    '3', '0', '3', '1', '3', '2', '3', '3', '3', '4', '3', '5', '3', '6', '3', '7', '3', '8', '3', '9',
    '4', '0', '4', '1', '4', '2', '4', '3', '4', '4', '4', '5', '4', '6', '4', '7', '4', '8', '4', '9',
    '5', '0', '5', '1', '5', '2', '5', '3', '5', '4', '5', '5', '5', '6', '5', '7', '5', '8', '5', '9',
    '6', '0', '6', '1', '6', '2', '6', '3', '6', '4', '6', '5', '6', '6', '6', '7', '6', '8', '6', '9',
    '7', '0', '7', '1', '7', '2', '7', '3', '7', '4', '7', '5', '7', '6', '7', '7', '7', '8', '7', '9',
    '8', '0', '8', '1', '8', '2', '8', '3', '8', '4', '8', '5', '8', '6', '8', '7', '8', '8', '8', '9',
    '9', '0', '9', '1', '9', '2', '9', '3', '9', '4', '9', '5', '9', '6', '9', '7', '9', '8', '9', '9'};

static inline int ndigits(uint64_t v)
{
    static const uint64_t p10[20] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL,
                                     10000000000000000000ULL};
    if (v < 10) return 1;
    /* log10 estimate from the bit length, corrected by one comparison */
    int bl = 64 - nf_clz64(v);
    int d = (bl * 1233) >> 12;
    return d + (v >= p10[d]);
}

/* exactly eight digits of v < 10^8 at p */
static inline void put8(char *p, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    memcpy(p, two_digits + 2 * (hi / 100), 2);
    memcpy(p + 2, two_digits + 2 * (hi % 100), 2);
    memcpy(p + 4, two_digits + 2 * (lo / 100), 2);
    memcpy(p + 6, two_digits + 2 * (lo % 100), 2);
}

/* v < 10^8 with n digits at buf[0..n) */
static inline void put_small(char *buf, uint32_t v, int n)
{
    char *p = buf + n;
    while (v >= 100) {
        uint32_t q = v / 100;
        p -= 2;
        memcpy(p, two_digits + 2 * (v - q * 100), 2);
        v = q;
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, two_digits + 2 * v, 2);
    } else
        *--p = (char)('0' + v);
}

/* write v (n digits) at buf[0..n) */
static inline void put_digits(char *buf, uint64_t v, int n)
{
    if (n > 16) { /* up to 20 digits */
        uint64_t hi = v / 100000000, lo = v % 100000000;
        uint32_t h2 = (uint32_t)(hi / 100000000), l2 = (uint32_t)(hi % 100000000);
        put_small(buf, h2, n - 16);
        put8(buf + n - 16, l2);
        put8(buf + n - 8, (uint32_t)lo);
    } else if (n > 8) {
        uint32_t hi = (uint32_t)(v / 100000000), lo = (uint32_t)(v % 100000000);
        put_small(buf, hi, n - 8);
        put8(buf + n - 8, lo);
    } else
        put_small(buf, (uint32_t)v, n);
}

char *wb__fmt_int(char *buf, int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        *buf++ = '-';
        u = 0 - u;
    }
    int n = ndigits(u);
    put_digits(buf, u, n);
    return buf + n;
}

char *wb__fmt_double(char *buf, double v)
{
    uint64_t bits = nf_d2u(v);
    if ((bits & ~(1ULL << 63)) > 0x7FF0000000000000ULL) {
        memcpy(buf, "nan", 3);
        return buf + 3;
    }
    if (bits >> 63) *buf++ = '-';
    bits &= ~(1ULL << 63);
    if (bits == 0x7FF0000000000000ULL) {
        memcpy(buf, "inf", 3);
        return buf + 3;
    }
    if (bits == 0) {
        *buf = '0';
        return buf + 1;
    }
    uint64_t dig;
    int32_t e;
    to_decimal(nf_u2d(bits), &dig, &e);
    while (dig >= 10 && dig % 10 == 0) {
        dig /= 10;
        e++;
    }
    int n = ndigits(dig);
    int point = n + e; /* the decimal point sits after `point` digits */
    /* the digits, then fixed-size copies (see WB_FMT_DOUBLE_BUF) */
    char d[48];
    put_digits(d, dig, n);
    if (e >= 0 && point <= 17) {
        /* an integer: the digits and e zeros */
        memset(d + n, '0', 17);
        memcpy(buf, d, 17);
        return buf + point;
    }
    if (point > 0 && point < n) {
        /* dig.its */
        memcpy(buf, d, 16);
        buf[point] = '.';
        memcpy(buf + point + 1, d + point, 16);
        return buf + n + 1;
    }
    if (point <= 0 && point > -5) {
        /* 0.000digits */
        memcpy(buf, "0.0000", 6);
        memcpy(buf + 2 - point, d, 17);
        return buf + 2 - point + n;
    }
    /* d.igitse-XX */
    buf[0] = d[0];
    char *p = buf + 1;
    if (n > 1) {
        buf[1] = '.';
        memcpy(buf + 2, d + 1, 16);
        p = buf + n + 1;
    }
    int x = point - 1;
    *p++ = 'e';
    *p++ = x < 0 ? '-' : '+';
    if (x < 0) x = -x;
    if (x >= 100) {
        *p++ = (char)('0' + x / 100);
        x %= 100;
    }
    memcpy(p, two_digits + 2 * x, 2);
    return p + 2;
}
