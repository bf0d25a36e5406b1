/* wire.c — the compact form of a wave's histogram sums (wire.h). */
#include "wire.h"

#include <string.h>

enum { HDR = 16, TRAILER = 8 };

static inline uint64_t zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t unzz(uint64_t z) { return (int64_t)((z >> 1) ^ (0 - (z & 1))); }

/* the bytes needed for the largest of values whose OR is m */
static inline int width(uint64_t m)
{
    int w = 0;
    while (m) {
        w++;
        m >>= 8;
    }
    return w;
}

/* little-endian 8-byte words, whatever the host's order */
static inline void put64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
#endif
}

static inline uint64_t get64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
#endif
}

static inline uint64_t low_bytes(uint64_t v, int w) { return w >= 8 ? v : v & (((uint64_t)1 << (8 * w)) - 1); }

static size_t node_body(int64_t E, const gb_wire_node *n)
{
    size_t s = (n->dense || !n->nnz) ? 0 : (size_t)(E + 7) / 8;
    return s + (size_t)n->nnz * (size_t)(n->w[0] + n->w[1] + n->w[2]);
}

size_t gb_wire_plan(const gb_hentry *h, int nnodes, int64_t E, gb_wire_node *nodes)
{
    size_t size = HDR + TRAILER;
    for (int q = 0; q < nnodes; q++) {
        const gb_hentry *v = h + (size_t)q * (size_t)E;
        uint64_t mg = 0, mh = 0, mn = 0;
        uint32_t nnz = 0;
        for (int64_t e = 0; e < E; e++) {
            const uint64_t g = zz(v[e].G), hs = zz(v[e].Hs), n = zz(v[e].N);
            mg |= g;
            mh |= hs;
            mn |= n;
            nnz += (g | hs | n) != 0;
        }
        gb_wire_node *nd = &nodes[q];
        nd->w[0] = (uint8_t)width(mg);
        nd->w[1] = (uint8_t)width(mh);
        nd->w[2] = (uint8_t)width(mn);
        nd->nnz = nnz;
        nd->dense = nnz > 0 && (int64_t)nnz == E;
        size += sizeof *nd + node_body(E, nd);
    }
    return size;
}

void gb_wire_write(const gb_hentry *h, int nnodes, int64_t E, const gb_wire_node *nodes, unsigned char *out,
                   size_t size)
{
    memset(out, 0, size);
    const uint32_t magic = GB_WIRE_MAGIC, nn = (uint32_t)nnodes;
    memcpy(out, &magic, 4);
    memcpy(out + 4, &nn, 4);
    memcpy(out + 8, &E, 8);
    unsigned char *p = out + HDR;
    for (int q = 0; q < nnodes; q++) {
        const gb_hentry *v = h + (size_t)q * (size_t)E;
        const gb_wire_node nd = nodes[q];
        memcpy(p, &nd, sizeof nd);
        p += sizeof nd;
        if (!nd.nnz) continue;
        unsigned char *bits = NULL;
        if (!nd.dense) {
            bits = p; /* zeroed above */
            p += (size_t)(E + 7) / 8;
        }
        const int wg = nd.w[0], wh = nd.w[1], wn = nd.w[2];
        for (int64_t e = 0; e < E; e++) {
            const uint64_t g = zz(v[e].G), hs = zz(v[e].Hs), n = zz(v[e].N);
            if (!(g | hs | n)) continue;
            if (bits) bits[e >> 3] |= (unsigned char)(1u << (e & 7));
            /* each store writes 8 bytes, of which the next overwrites all
             * but the value's own: the trailer keeps the last one inside */
            put64(p, g);
            p += wg;
            put64(p, hs);
            p += wh;
            put64(p, n);
            p += wn;
        }
    }
    /* the stores past the last value wrote zero bytes into the trailer */
}

int gb_wire_read(const unsigned char *buf, size_t size, int nnodes, int64_t E, int add, gb_hentry *const *out,
                 const char **why)
{
    uint32_t magic, nn;
    int64_t e0;
    if (size < HDR + TRAILER) return *why = "shorter than its header", -1;
    memcpy(&magic, buf, 4);
    memcpy(&nn, buf + 4, 4);
    memcpy(&e0, buf + 8, 8);
    if (magic != GB_WIRE_MAGIC) return *why = "bad magic", -1;
    if (nnodes < 0 || E < 0 || nn != (uint32_t)nnodes || e0 != E) return *why = "not the wave's nodes and entries", -1;
    /* the bytes that hold node headers, bitmaps and records */
    const size_t end = size - TRAILER;
    for (size_t i = end; i < size; i++)
        if (buf[i]) return *why = "bad trailer", -1;
    size_t at = HDR;
    for (int q = 0; q < nnodes; q++) {
        gb_wire_node nd;
        if (end - at < sizeof nd) return *why = "truncated node header", -1;
        memcpy(&nd, buf + at, sizeof nd);
        at += sizeof nd;
        if (nd.w[0] > 8 || nd.w[1] > 8 || nd.w[2] > 8 || nd.dense > 1 || (int64_t)nd.nnz > E ||
            (nd.dense && (int64_t)nd.nnz != E) || (!nd.nnz && (nd.dense || nd.w[0] || nd.w[1] || nd.w[2])))
            return *why = "bad node header", -1;
        if (end - at < node_body(E, &nd)) return *why = "truncated node", -1;
        gb_hentry *o = out[q];
        if (!add) memset(o, 0, (size_t)E * sizeof *o);
        if (!nd.nnz) continue;
        const unsigned char *bits = NULL;
        if (!nd.dense) {
            bits = buf + at;
            const size_t nbytes = (size_t)(E + 7) / 8;
            at += nbytes;
            uint64_t cnt = 0;
            for (size_t i = 0; i < nbytes; i++) cnt += (uint64_t)__builtin_popcount(bits[i]);
            if (cnt != nd.nnz) return *why = "bitmap does not match the entry count", -1;
            if ((E & 7) && (bits[nbytes - 1] >> (E & 7))) return *why = "bitmap bits past the entries", -1;
        }
        const int wg = nd.w[0], wh = nd.w[1], wn = nd.w[2];
        /* node_body checked that the records end before the trailer: every
         * 8-byte load below stays inside buf */
        const unsigned char *p = buf + at;
        for (int64_t e = 0; e < E; e++) {
            if (bits && !((bits[e >> 3] >> (e & 7)) & 1)) continue;
            const uint64_t g = unzz(low_bytes(get64(p), wg));
            p += wg;
            const uint64_t hs = unzz(low_bytes(get64(p), wh));
            p += wh;
            const uint64_t n = unzz(low_bytes(get64(p), wn));
            p += wn;
            /* (wrapping adds: a hostile message cannot overflow a signed sum) */
            o[e].G = (int64_t)((uint64_t)o[e].G + g);
            o[e].Hs = (int64_t)((uint64_t)o[e].Hs + hs);
            o[e].N = (int64_t)((uint64_t)o[e].N + n);
        }
        at = (size_t)(p - buf);
    }
    if (at != end) return *why = "trailing bytes", -1;
    return 0;
}
