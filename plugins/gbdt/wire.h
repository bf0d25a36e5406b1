/* wire.h — the compact form of histogram sums as a worker process sends
 * them to the driver (gbdt.wave's result after its token, and gbdt.collect's
 * root histograms when the driver runs in another process).
 *
 * Most entries of a small node's histogram are zero, and the non-zero sums
 * need far fewer than the 24 bytes of a gb_hentry. The form, lossless (the
 * driver decodes it into the same gb_hentry values, so sums and model stay
 * bit for bit the same):
 *
 *   header    uint32 magic GB_WIRE_MAGIC, uint32 nnodes, int64 nentries E
 *   per node  uint8 dense (1: every entry present, no bitmap), 3 zero bytes,
 *             uint32 nnz, int64 hbar: the node's hessian per row, Hs / N of
 *             its entry 0 (0 when N <= 0 or Hs < 0);
 *             unless nnz = 0:
 *               unless dense, a bitmap of the non-zero entries, ceil(E / 8)
 *               bytes (bit e % 8 of byte e / 8; bits past E zero);
 *               per segment of 64 entries (the last one shorter), 2 bytes:
 *               wG | wH << 4, wN: the bytes of the segment's zig-zagged
 *               values (0..8; all 0 when the segment has no entries);
 *               then nnz records in entry order, each G, Hs - N hbar, N
 *               zig-zagged (wrapping arithmetic) in its segment's wG, wH, wN
 *               bytes, least significant byte first
 *   trailer   8 zero bytes (so that every value is read and written as one
 *             8-byte word)
 *
 * Widths per segment rather than per node, and the hessians as their
 * difference from N hbar (a regression hessian is exactly N hbar: 0 bytes),
 * make a wave's sums about 27 % smaller than one width per node (measured on
 * the studies' 500 k x 10 workload).
 *
 * The decoder reads a worker's message: it checks every length and field and
 * refuses anything else, never reading past the buffer. */
#ifndef WB_GBDT_WIRE_H
#define WB_GBDT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "gbdt.h"

#define GB_WIRE_MAGIC 0x48424247u /* "GBBH" */

#define GB_WIRE_SEG 64 /* entries of a segment (one 64-bit word of the bitmap) */

/* one node's header, as on the wire */
typedef struct gb_wire_node {
    uint8_t dense, pad[3];
    uint32_t nnz;
    int64_t hbar;
} gb_wire_node;
_Static_assert(sizeof(gb_wire_node) == 16, "a node header is 16 bytes");

/* the encoded size of nnodes histograms of E entries each (h: nnodes x E in
 * a row); fills nodes[nnodes] for gb_wire_write */
size_t gb_wire_plan(const gb_hentry *h, int nnodes, int64_t E, gb_wire_node *nodes);
/* writes the encoding planned by gb_wire_plan into out (size bytes, its
 * result) */
void gb_wire_write(const gb_hentry *h, int nnodes, int64_t E, const gb_wire_node *nodes, unsigned char *out,
                   size_t size);
/* decodes buf (size bytes) holding nnodes histograms of E entries each: node
 * q's entries into out[q] (written, or added to what is there with `add`).
 * 0 on success; -1 with *why naming what is wrong when buf is not such an
 * encoding (out may then be partly written) */
int gb_wire_read(const unsigned char *buf, size_t size, int nnodes, int64_t E, int add, gb_hentry *const *out,
                 const char **why);

#endif
