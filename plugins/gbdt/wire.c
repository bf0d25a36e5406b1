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

/* a node's hessian per row, from its entry 0 (the rows of the node) */
static inline int64_t hbar_of(const gb_hentry *v) { return v[0].N > 0 && v[0].Hs >= 0 ? v[0].Hs / v[0].N : 0; }

/* an entry's three values as they go on the wire: zig-zagged, the hessian
 * as its difference from N hbar (wrapping) */
static inline void wire_values(const gb_hentry *x, uint64_t hbar, uint64_t *g, uint64_t *hs, uint64_t *n)
{
    *g = zz(x->G);
    *hs = zz((int64_t)((uint64_t)x->Hs - (uint64_t)x->N * hbar));
    *n = zz(x->N);
}

/* the bits set in a 64-bit word (no POPCNT instruction assumed) */
static inline int popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

static inline int64_t nsegs(int64_t E) { return (E + GB_WIRE_SEG - 1) / GB_WIRE_SEG; }

/* the widths of segment [e0, e1) of a node (its non-zero entries) and their
 * count */
static inline int seg_widths(const gb_hentry *v, int64_t e0, int64_t e1, uint64_t hbar, int w[3])
{
    uint64_t mg = 0, mh = 0, mn = 0;
    int cnt = 0;
    for (int64_t e = e0; e < e1; e++) {
        if (!(v[e].G | v[e].Hs | v[e].N)) continue;
        uint64_t g, hs, n;
        wire_values(&v[e], hbar, &g, &hs, &n);
        mg |= g;
        mh |= hs;
        mn |= n;
        cnt++;
    }
    w[0] = width(mg);
    w[1] = width(mh);
    w[2] = width(mn);
    return cnt;
}

size_t gb_wire_plan(const gb_hentry *h, int nnodes, int64_t E, gb_wire_node *nodes)
{
    size_t size = HDR + TRAILER;
    for (int q = 0; q < nnodes; q++) {
        const gb_hentry *v = h + (size_t)q * (size_t)E;
        gb_wire_node *nd = &nodes[q];
        memset(nd, 0, sizeof *nd);
        const int64_t hb = E > 0 ? hbar_of(v) : 0;
        size_t body = 0;
        uint32_t nnz = 0;
        for (int64_t e0 = 0; e0 < E; e0 += GB_WIRE_SEG) {
            const int64_t e1 = E - e0 < GB_WIRE_SEG ? E : e0 + GB_WIRE_SEG;
            int w[3];
            const int cnt = seg_widths(v, e0, e1, (uint64_t)hb, w);
            nnz += (uint32_t)cnt;
            body += (size_t)cnt * (size_t)(w[0] + w[1] + w[2]);
        }
        nd->nnz = nnz;
        nd->dense = nnz > 0 && (int64_t)nnz == E;
        nd->hbar = nnz ? hb : 0;
        size += sizeof *nd;
        if (nnz) size += (nd->dense ? 0 : (size_t)(E + 7) / 8) + 2 * (size_t)nsegs(E) + body;
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
        unsigned char *wt = p; /* the segments' widths */
        p += 2 * (size_t)nsegs(E);
        const uint64_t hb = (uint64_t)nd.hbar;
        for (int64_t e0 = 0; e0 < E; e0 += GB_WIRE_SEG) {
            const int64_t e1 = E - e0 < GB_WIRE_SEG ? E : e0 + GB_WIRE_SEG;
            int w[3];
            if (!seg_widths(v, e0, e1, hb, w)) {
                wt += 2; /* no entries: widths 0 */
                continue;
            }
            *wt++ = (unsigned char)(w[0] | w[1] << 4);
            *wt++ = (unsigned char)w[2];
            for (int64_t e = e0; e < e1; e++) {
                if (!(v[e].G | v[e].Hs | v[e].N)) continue;
                uint64_t g, hs, n;
                wire_values(&v[e], hb, &g, &hs, &n);
                if (bits) bits[e >> 3] |= (unsigned char)(1u << (e & 7));
                /* each store writes 8 bytes, of which the next overwrites all
                 * but the value's own: the trailer keeps the last one inside */
                put64(p, g);
                p += w[0];
                put64(p, hs);
                p += w[1];
                put64(p, n);
                p += w[2];
            }
        }
    }
    /* the stores past the last value wrote zero bytes into the trailer */
}

/* the present entries of segment s (bitmap bits, or all of a dense node's) */
static inline int seg_count(const unsigned char *bits, int64_t E, int64_t s)
{
    const int64_t e0 = s * GB_WIRE_SEG, len = E - e0 < GB_WIRE_SEG ? E - e0 : GB_WIRE_SEG;
    if (!bits) return (int)len;
    const size_t b0 = (size_t)e0 / 8, nb = (size_t)(len + 7) / 8;
    uint64_t word = 0;
    for (size_t i = 0; i < nb; i++) word |= (uint64_t)bits[b0 + i] << (8 * i);
    if (len < 64) word &= ((uint64_t)1 << len) - 1; /* (bits past E are refused apart) */
    return popcount64(word);
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
    /* the bytes that hold node headers, bitmaps, widths and records */
    const size_t end = size - TRAILER;
    for (size_t i = end; i < size; i++)
        if (buf[i]) return *why = "bad trailer", -1;
    const int64_t S = nsegs(E);
    size_t at = HDR;
    for (int q = 0; q < nnodes; q++) {
        gb_wire_node nd;
        if (end - at < sizeof nd) return *why = "truncated node header", -1;
        memcpy(&nd, buf + at, sizeof nd);
        at += sizeof nd;
        if (nd.dense > 1 || nd.pad[0] || nd.pad[1] || nd.pad[2] || (int64_t)nd.nnz > E ||
            (nd.dense && (int64_t)nd.nnz != E) || (!nd.nnz && (nd.dense || nd.hbar)))
            return *why = "bad node header", -1;
        gb_hentry *o = out[q];
        if (!add) memset(o, 0, (size_t)E * sizeof *o);
        if (!nd.nnz) continue;
        const unsigned char *bits = NULL;
        const size_t nbytes = (size_t)(E + 7) / 8;
        if (!nd.dense) {
            if (end - at < nbytes) return *why = "truncated node", -1;
            bits = buf + at;
            at += nbytes;
            uint64_t cnt = 0;
            for (int64_t s = 0; s < S; s++) cnt += (uint64_t)seg_count(bits, E, s);
            if (cnt != nd.nnz) return *why = "bitmap does not match the entry count", -1;
            if ((E & 7) && (bits[nbytes - 1] >> (E & 7))) return *why = "bitmap bits past the entries", -1;
        }
        if (end - at < 2 * (size_t)S) return *why = "truncated node", -1;
        const unsigned char *wt = buf + at;
        at += 2 * (size_t)S;
        /* every segment's widths, and the records' bytes before any is read */
        size_t body = 0;
        for (int64_t s = 0; s < S; s++) {
            const int wg = wt[2 * s] & 15, wh = wt[2 * s] >> 4, wn = wt[2 * s + 1];
            if (wg > 8 || wh > 8 || wn > 8) return *why = "bad segment widths", -1;
            const int cnt = seg_count(bits, E, s);
            if (!cnt && (wg | wh | wn)) return *why = "bad segment widths", -1;
            body += (size_t)cnt * (size_t)(wg + wh + wn);
        }
        if (end - at < body) return *why = "truncated node", -1;
        /* the checks above keep the records before the trailer: every
         * 8-byte load below stays inside buf */
        const unsigned char *p = buf + at;
        const uint64_t hb = (uint64_t)nd.hbar;
        int first = 1;
        for (int64_t s = 0; s < S; s++) {
            const int wg = wt[2 * s] & 15, wh = wt[2 * s] >> 4, wn = wt[2 * s + 1];
            const int64_t a0 = s * GB_WIRE_SEG, a1 = E - a0 < GB_WIRE_SEG ? E : a0 + GB_WIRE_SEG;
            for (int64_t e = a0; e < a1; e++) {
                if (bits && !((bits[e >> 3] >> (e & 7)) & 1)) continue;
                const uint64_t g = unzz(low_bytes(get64(p), wg));
                p += wg;
                const uint64_t hd = unzz(low_bytes(get64(p), wh));
                p += wh;
                const uint64_t n = unzz(low_bytes(get64(p), wn));
                p += wn;
                const uint64_t hs = hd + n * hb;
                if (first) {
                    /* hbar is entry 0's hessian per row (0 when entry 0 is absent) */
                    const gb_hentry x = {(int64_t)g, (int64_t)hs, (int64_t)n};
                    if ((e == 0 ? hbar_of(&x) : 0) != nd.hbar) return *why = "bad node header", -1;
                    first = 0;
                }
                /* (wrapping adds: a hostile message cannot overflow a signed sum) */
                o[e].G = (int64_t)((uint64_t)o[e].G + g);
                o[e].Hs = (int64_t)((uint64_t)o[e].Hs + hs);
                o[e].N = (int64_t)((uint64_t)o[e].N + n);
            }
        }
        at = (size_t)(p - buf);
    }
    if (at != end) return *why = "trailing bytes", -1;
    return 0;
}
