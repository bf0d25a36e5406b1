/* fuzz_gbdt_wire.c — the compact form of a wave's histogram sums
 * (plugins/gbdt/wire.c), which the driver decodes from a worker's message.
 *
 * Input: byte 0 gives the nodes (1 + b % 4), bytes 1..2 the entries per node
 * (1 + v % 700), byte 3 the mode; the rest is either
 *   - mode even: a message, decoded as it is;
 *   - mode odd: histogram values (8-byte words, shortened by a shift chosen
 *     from the word so that small, sparse and extreme sums all occur),
 *     encoded then decoded.
 *
 * Properties: a refused message says why; a decoded message encodes back to
 * a form that decodes to the same sums, and decoding with `add` onto those
 * sums gives twice them (mod 2^64); an encoding of any sums has the size
 * gb_wire_plan said and decodes to the same sums; an encoding cut short or
 * lengthened by a byte is refused. */
#include "fuzz.h"
#include "wire.h"

#define MAXNODES 4
#define MAXE 700

static gb_hentry hist[MAXNODES * MAXE], back[MAXNODES * MAXE];

static FZ_HARNESS int same(const gb_hentry *a, const gb_hentry *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static FZ_HARNESS void decode_into(const unsigned char *buf, size_t size, int nn, int64_t E, int add, gb_hentry *h,
                                   int expect_ok)
{
    gb_hentry *out[MAXNODES];
    for (int q = 0; q < nn; q++) out[q] = h + (size_t)q * (size_t)E;
    const char *why = NULL;
    int rc = gb_wire_read(buf, size, nn, E, add, out, &why);
    if (expect_ok) FZ_ASSERT(rc == 0, "an encoding was refused: %s", why ? why : "(no reason)");
    else FZ_ASSERT(rc == 0 || (why && *why), "a refusal without a reason");
}

/* encodes h, checks the size and that it decodes back to h; also that the
 * encoding cut short or with a byte more is refused */
static FZ_HARNESS void round_trip(const gb_hentry *h, int nn, int64_t E)
{
    gb_wire_node nodes[MAXNODES];
    size_t n = gb_wire_plan(h, nn, E, nodes);
    unsigned char *enc = fz_buf(0, n + 1);
    memset(enc, 0xA5, n + 1);
    gb_wire_write(h, nn, E, nodes, enc, n);
    FZ_ASSERT(enc[n] == 0xA5, "gb_wire_write wrote past the planned %zu bytes", n);
    memset(back, 0x5A, sizeof back);
    decode_into(enc, n, nn, E, 0, back, 1);
    FZ_ASSERT(same(h, back, (size_t)nn * (size_t)E), "sums changed through the wire form");
    const char *why = NULL;
    gb_hentry *out[MAXNODES];
    for (int q = 0; q < nn; q++) out[q] = back + (size_t)q * (size_t)E;
    FZ_ASSERT(gb_wire_read(enc, n - 1, nn, E, 0, out, &why) != 0 && why, "a short encoding was accepted");
    enc[n] = 0;
    FZ_ASSERT(gb_wire_read(enc, n + 1, nn, E, 0, out, &why) != 0 && why, "an encoding with a byte more was accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    int nn = 1 + data[0] % MAXNODES;
    int64_t E = 1 + (int64_t)((data[1] | (data[2] << 8)) % MAXE);
    int mode = data[3];
    data += 4;
    size -= 4;
    size_t cells = (size_t)nn * (size_t)E;
    if (mode & 1) {
        memset(hist, 0, cells * sizeof *hist);
        int64_t *w = (int64_t *)hist;
        size_t k = 0;
        for (size_t i = 0; i + 8 <= size && k < 3 * cells; i += 8, k++) {
            uint64_t v;
            memcpy(&v, data + i, 8);
            int shift = (int)(v & 63) < 40 ? (int)(v & 63) : 0; /* most values small */
            w[k] = (int64_t)v >> shift;
        }
        fz_accepted = 1;
        round_trip(hist, nn, E);
        return 0;
    }
    memset(hist, 0, cells * sizeof *hist);
    gb_hentry *out[MAXNODES];
    for (int q = 0; q < nn; q++) out[q] = hist + (size_t)q * (size_t)E;
    const char *why = NULL;
    if (gb_wire_read(data, size, nn, E, 0, out, &why) != 0) {
        FZ_ASSERT(why && *why, "a refusal without a reason");
        return 0;
    }
    fz_accepted = 1;
    round_trip(hist, nn, E);
    /* add: the decoded sums onto themselves */
    memcpy(back, hist, cells * sizeof *hist);
    decode_into(data, size, nn, E, 1, back, 1);
    for (size_t i = 0; i < cells; i++)
        FZ_ASSERT((uint64_t)back[i].G == 2 * (uint64_t)hist[i].G && (uint64_t)back[i].Hs == 2 * (uint64_t)hist[i].Hs &&
                      (uint64_t)back[i].N == 2 * (uint64_t)hist[i].N,
                  "decoding with add did not add entry %zu", i);
    return 0;
}
