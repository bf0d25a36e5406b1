/* test_gbdt_wire.c — the compact form of gbdt's wave histogram sums
 * (plugins/gbdt/wire.c): lossless round trips of sparse, dense and extreme
 * values, the sizes it promises, and refusal of malformed messages (every
 * truncation, bad fields, garbage) without reading past the buffer (which
 * ends at an inaccessible page). */
#include "wbtest.h"

#include <sys/mman.h>
#include <unistd.h>

#include "wire.h"

/* nnodes x E entries: node q has about density[q % 4] of its entries
 * non-zero, values of random magnitude and sign (some extreme) */
static gb_hentry *hists(int nnodes, int64_t E, uint64_t *s)
{
    static const double density[4] = {0, 0.05, 0.6, 1};
    gb_hentry *h = calloc((size_t)(nnodes * E) + 1, sizeof *h);
    for (int q = 0; q < nnodes; q++)
        for (int64_t e = 0; e < E; e++) {
            if (wbt_unif(s) >= density[q % 4]) continue;
            int64_t *v = &h[(size_t)q * (size_t)E + (size_t)e].G;
            for (int j = 0; j < 3; j++) {
                uint64_t r = wbt_next(s);
                int bits = (int)(wbt_next(s) % 65);
                int64_t x = bits >= 64 ? (int64_t)r : (int64_t)(r & (((uint64_t)1 << bits) - 1));
                if (wbt_next(s) & 1) x = -x;
                if (wbt_next(s) % 50 == 0) x = (wbt_next(s) & 1) ? INT64_MIN : INT64_MAX;
                v[j] = x;
            }
            if (wbt_next(s) % 7 == 0) v[wbt_next(s) % 3] = 0; /* partly zero entries too */
        }
    return h;
}

static unsigned char *encode(const gb_hentry *h, int nnodes, int64_t E, size_t *size)
{
    gb_wire_node *nodes = malloc(((size_t)nnodes + 1) * sizeof *nodes);
    *size = gb_wire_plan(h, nnodes, E, nodes);
    unsigned char *b = malloc(*size);
    memset(b, 0xa5, *size); /* the writer must set every byte */
    gb_wire_write(h, nnodes, E, nodes, b, *size);
    free(nodes);
    return b;
}

/* decodes a copy of exactly `size` bytes into fresh node buffers: the copy
 * ends where an inaccessible page begins, so that a read past it crashes
 * the test in any build (and ASan sees it too) */
static int decode(const unsigned char *b, size_t size, int nnodes, int64_t E, int add, gb_hentry *base,
                  gb_hentry *out, const char **why)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = (size + pg - 1) / pg * pg + pg;
    unsigned char *map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + span - pg, pg, PROT_NONE), 0);
    unsigned char *c = map + span - pg - size;
    memcpy(c, b, size);
    gb_hentry **o = malloc(((size_t)nnodes + 1) * sizeof *o);
    for (int q = 0; q < nnodes; q++) o[q] = out + (size_t)q * (size_t)E;
    if (base) memcpy(out, base, (size_t)(nnodes * E) * sizeof *out);
    *why = NULL;
    int rc = gb_wire_read(c, size, nnodes, E, add, o, why);
    free(o);
    munmap(map, span);
    return rc;
}

static void round_trips(void **state)
{
    (void)state;
    uint64_t s = 19;
    static const int64_t Es[] = {1, 7, 8, 9, 63, 64, 65, 257, 2570};
    for (size_t k = 0; k < sizeof Es / sizeof *Es; k++)
        for (int nnodes = 0; nnodes <= 9; nnodes += 3) {
            const int64_t E = Es[k];
            gb_hentry *h = hists(nnodes, E, &s);
            size_t size;
            unsigned char *b = encode(h, nnodes, E, &size);
            gb_hentry *out = malloc((size_t)(nnodes * E + 1) * sizeof *out);
            memset(out, 0x5a, (size_t)(nnodes * E + 1) * sizeof *out); /* written, not added */
            const char *why;
            if (decode(b, size, nnodes, E, 0, NULL, out, &why)) fail_msg("E %lld: refused: %s", (long long)E, why);
            if (nnodes) assert_memory_equal(out, h, (size_t)(nnodes * E) * sizeof *h);
            /* added onto what is there: the wrapping sum */
            gb_hentry *base = hists(nnodes, E, &s);
            assert_int_equal(decode(b, size, nnodes, E, 1, base, out, &why), 0);
            for (int64_t i = 0; i < nnodes * E; i++) {
                assert_true(out[i].G == (int64_t)((uint64_t)base[i].G + (uint64_t)h[i].G));
                assert_true(out[i].Hs == (int64_t)((uint64_t)base[i].Hs + (uint64_t)h[i].Hs));
                assert_true(out[i].N == (int64_t)((uint64_t)base[i].N + (uint64_t)h[i].N));
            }
            free(base);
            free(out);
            free(b);
            free(h);
        }
}

static void sizes(void **state)
{
    (void)state;
    const int64_t E = 2570;
    gb_hentry *h = calloc(3 * (size_t)E, sizeof *h);
    /* node 0: all zero; node 1: 100 entries of small sums; node 2: every
     * entry, G and Hs within 3 bytes after zig-zag (|G| < 4.8 M, Hs < 5.2 M),
     * N within 1 (at most 100: 200 zig-zagged) */
    for (int64_t e = 0; e < 100; e++) h[E + e * 25] = (gb_hentry){-(e + 1) * 1000, e * 500 + 1, e + 1};
    for (int64_t e = 0; e < E; e++) h[2 * E + e] = (gb_hentry){(e - 1000) * 3000, e * 2000 + 1, e % 100 + 1};
    size_t size;
    unsigned char *b = encode(h, 3, E, &size);
    /* header 16, trailer 8, node headers 3 x 16; 41 segments of 64 entries
     * (the last of 10), 2 bytes of widths each in nodes 1 and 2. Both nodes
     * have hbar 1 (entry 0: Hs 1, N 1), so the hessians go as Hs - N.
     * Node 1: bitmap 322 bytes; entry 25 e is in segment 25 e / 64: e <= 30
     * in segments 0-11 (|G| <= 31000, Hs - N = 499 e <= 14970: 2 + 2 bytes
     * zig-zagged, N 1), e in 31..63 in segments 12-24 (|G| <= 64000: 3
     * bytes, 499 e <= 31437: 2), e >= 64 in segments 25-40 (3 + 3: 499 x 66
     * zig-zagged is above 65535). Node 2: no bitmap, every segment 3 + 3 + 1
     * (|G| < 4.8 M, Hs - N < 5.2 M, N <= 100) */
    const size_t expect = 16 + 8 + 3 * 16 + (322 + 41 * 2 + 31 * (2 + 2 + 1) + 33 * (3 + 2 + 1) + 36 * (3 + 3 + 1)) +
                          (41 * 2 + (size_t)E * (3 + 3 + 1));
    assert_int_equal(size, expect);
    assert_true(size * 3 < (size_t)(3 * E) * sizeof *h); /* against 24 bytes an entry */
    gb_hentry *out = malloc(3 * (size_t)E * sizeof *out);
    const char *why;
    assert_int_equal(decode(b, size, 3, E, 0, NULL, out, &why), 0);
    assert_memory_equal(out, h, 3 * (size_t)E * sizeof *h);
    free(out);
    free(b);
    free(h);
}

/* a valid encoding to damage: nodes sparse, dense and empty */
static unsigned char *sample(int64_t E, size_t *size, gb_hentry **hp)
{
    uint64_t s = 7;
    gb_hentry *h = hists(4, E, &s);
    *hp = h;
    return encode(h, 4, E, size);
}

static void expect_refused(const unsigned char *b, size_t size, int nnodes, int64_t E, const char *part)
{
    gb_hentry *out = malloc((size_t)(nnodes * E + 1) * sizeof *out);
    const char *why;
    int rc = decode(b, size, nnodes, E, 0, NULL, out, &why);
    free(out);
    if (rc != -1 || !why) fail_msg("accepted a malformed message (expected: %s)", part);
    if (part && !strstr(why, part)) fail_msg("refused with \"%s\", expected \"%s\"", why, part);
}

static void malformed(void **state)
{
    (void)state;
    const int64_t E = 45;
    size_t size;
    gb_hentry *h;
    unsigned char *b = sample(E, &size, &h);
    unsigned char *c = malloc(size + 16);
    /* every truncation, and extra bytes */
    for (size_t n = 0; n < size; n++) expect_refused(b, n, 4, E, NULL);
    memcpy(c, b, size);
    c[size] = 0;
    expect_refused(c, size + 1, 4, E, NULL);
    memset(c + size, 0, 8);
    expect_refused(c, size + 8, 4, E, "trailing bytes");
    /* not the wave's shape */
    expect_refused(b, size, 3, E, "nodes and entries");
    expect_refused(b, size, 4, E + 1, "nodes and entries");
    /* fields */
    memcpy(c, b, size);
    c[0] ^= 1;
    expect_refused(c, size, 4, E, "bad magic");
    memcpy(c, b, size);
    c[size - 1] = 1;
    expect_refused(c, size, 4, E, "bad trailer");
    /* node 1 (sparse: 5 % of 45 entries; its header follows node 0's, which
     * is empty) */
    const size_t n1 = 16 + 16;
    gb_wire_node nd;
    memcpy(&nd, b + n1, sizeof nd);
    assert_true(nd.nnz > 0 && !nd.dense);
    memcpy(c, b, size);
    c[n1] = 1; /* dense, yet fewer than E entries */
    expect_refused(c, size, 4, E, "bad node header");
    memcpy(c, b, size);
    c[n1] = 2;
    expect_refused(c, size, 4, E, "bad node header");
    memcpy(c, b, size);
    c[n1 + 2] = 1; /* padding */
    expect_refused(c, size, 4, E, "bad node header");
    memcpy(c, b, size);
    uint32_t big = (uint32_t)E + 1;
    memcpy(c + n1 + 4, &big, 4);
    expect_refused(c, size, 4, E, "bad node header");
    memcpy(c, b, size);
    uint32_t huge = 0xffffffffu;
    memcpy(c + n1 + 4, &huge, 4);
    expect_refused(c, size, 4, E, "bad node header");
    /* hbar: not entry 0's hessian per row */
    memcpy(c, b, size);
    int64_t hb = nd.hbar + 1;
    memcpy(c + n1 + 8, &hb, 8);
    expect_refused(c, size, 4, E, "bad node header");
    /* node 0 is empty: a predictor without entries */
    memcpy(c, b, size);
    c[16 + 8] = 1;
    expect_refused(c, size, 4, E, "bad node header");
    /* the bitmap: a bit more than the count says, a bit past E */
    const size_t bm = n1 + 16;
    memcpy(c, b, size);
    for (int i = 0; i < 8; i++)
        if (!(c[bm] & (1 << i))) {
            c[bm] |= (unsigned char)(1 << i);
            break;
        }
    expect_refused(c, size, 4, E, "bitmap does not match");
    memcpy(c, b, size);
    c[bm + (E + 7) / 8 - 1] |= 0x80; /* E = 45: bit 47 is past the entries */
    expect_refused(c, size, 4, E, NULL);
    /* the widths of the (one) segment: 9 bytes */
    const size_t wt = bm + (E + 7) / 8;
    memcpy(c, b, size);
    c[wt] = 9;
    expect_refused(c, size, 4, E, "bad segment widths");
    memcpy(c, b, size);
    c[wt + 1] = 9;
    expect_refused(c, size, 4, E, "bad segment widths");
    /* widths for a segment without entries (E 200: entries 0 and 150 only,
     * segment 1 is empty) */
    {
        gb_hentry h2[200] = {{0}};
        h2[0] = (gb_hentry){5, 8, 2};
        h2[150] = (gb_hentry){-3, 4, 1};
        size_t s2;
        unsigned char *b2 = encode(h2, 1, 200, &s2);
        const size_t w1 = 16 + 16 + 25 + 2; /* header, node header, bitmap, segment 0's widths */
        assert_int_equal(b2[w1], 0);
        assert_int_equal(b2[w1 + 1], 0);
        gb_hentry back[200];
        const char *why2;
        assert_int_equal(decode(b2, s2, 1, 200, 0, NULL, back, &why2), 0);
        assert_memory_equal(back, h2, sizeof h2);
        b2[w1 + 1] = 1;
        expect_refused(b2, s2, 1, 200, "bad segment widths");
        free(b2);
    }
    /* a count that moves the records: the lengths no longer add up */
    memcpy(c, b, size);
    uint32_t fewer = nd.nnz - 1;
    memcpy(c + n1 + 4, &fewer, 4);
    expect_refused(c, size, 4, E, NULL);
    /* random bytes and random damage: refused or decoded, never a read past
     * the buffer (ASan) */
    uint64_t s = 5;
    gb_hentry *out = malloc((size_t)(4 * E) * sizeof *out);
    for (int t = 0; t < 20000; t++) {
        size_t n = (size_t)(wbt_next(&s) % (size + 9));
        if (t & 1) {
            for (size_t i = 0; i < n; i++) c[i] = (unsigned char)wbt_next(&s);
            if (n >= 16) memcpy(c, b, 16); /* a valid header, so the nodes get read */
        } else {
            memcpy(c, b, size);
            n = size;
            for (int k = 0; k < 3; k++) c[wbt_next(&s) % size] = (unsigned char)wbt_next(&s);
        }
        const char *why;
        (void)decode(c, n, 4, E, 0, NULL, out, &why);
    }
    free(out);
    free(c);
    free(b);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(sizes),
        cmocka_unit_test(malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
