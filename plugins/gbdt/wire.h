/* wire.h — the compact form of a wave's histogram sums as a worker process
 * sends them to the driver (gbdt.wave's result after its token).
 *
 * Most entries of a small node's histogram are zero, and the non-zero sums
 * need far fewer than the 24 bytes of a gb_hentry. The form, lossless (the
 * driver decodes it into the same gb_hentry values, so sums and model stay
 * bit for bit the same):
 *
 *   header    uint32 magic GB_WIRE_MAGIC, uint32 nnodes, int64 nentries E
 *   per node  uint8 wG, wH, wN: the bytes of each zig-zagged value (0..8),
 *             uint8 dense (1: every entry present, no bitmap), uint32 nnz;
 *             unless dense or nnz = 0: a bitmap of the non-zero entries,
 *             ceil(E / 8) bytes (bit e % 8 of byte e / 8; bits past E zero);
 *             then nnz records, each G, Hs, N zig-zagged in wG, wH, wN bytes,
 *             least significant byte first
 *   trailer   8 zero bytes (so that every value is read and written as one
 *             8-byte word)
 *
 * The decoder reads a worker's message: it checks every length and field and
 * refuses anything else, never reading past the buffer. */
#ifndef WB_GBDT_WIRE_H
#define WB_GBDT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "gbdt.h"

#define GB_WIRE_MAGIC 0x48424247u /* "GBBH" */

/* one node's header, as on the wire */
typedef struct gb_wire_node {
    uint8_t w[3];
    uint8_t dense;
    uint32_t nnz;
} gb_wire_node;
_Static_assert(sizeof(gb_wire_node) == 8, "a node header is 8 bytes");

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
