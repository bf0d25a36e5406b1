/* bounds.h — Lloyd iterations accelerated by distance bounds (Elkan 2003:
 * a lower bound per row and centre; Hamerly 2010: one lower bound per row),
 * exact accelerations: every row gets the centre Lloyd's pass gives it (the
 * same distances decide, ties to the lowest index), and the per-block sums
 * are made in Lloyd's order, so the model is the same bits as with Lloyd.
 *
 * The bounds live between iterations in one object per partition (the
 * result of kmeans.bounds, which also carries the partition's per-block
 * sums as nodes of the fixed tree over global blocks: see km_tree_root). */
#ifndef KM_BOUNDS_H
#define KM_BOUNDS_H

#include <stdint.h>

#include "kmeans.h"

/* kmarg.mode of kmeans.bounds */
enum { KB_INIT = 0, KB_UPDATE = 1, KB_FINAL = 2 };
/* kmarg.m of kmeans.bounds: the kind of bounds */
enum { KB_ELKAN = 1, KB_HAMERLY = 2 };

/* the relative error allowed for a computed squared distance of d columns
 * (a sum of d non-negative rounded terms), with room to spare */
double km_bound_eps(int64_t d);

/* the driver's part of an iteration: from the centres C (k x d) and the
 * previous centres P (NULL for the first pass), aux = the kernel's extra
 * input: k shifts (upper bounds on |C_j - P_j|), k half-gaps s_j (below
 * half the distance from C_j to its nearest other centre, with the safety
 * margin folded in) and, for Elkan, the k x k half distances between
 * centres. Returns the number of doubles written (2k or 2k + k^2). */
int64_t km_bounds_aux(const double *C, const double *P, int64_t k, int64_t d, int elkan, double *aux);

/* the root of the fixed tree over nblocks global blocks (as the host's
 * map_sum computes it) from the encoded node lists of every partition
 * (kmeans.bounds_sums results): out[len]; 0 or an error (seterr) */
int km_tree_root(const double *const *lists, const size_t *counts, int nlists, int64_t nblocks, size_t len,
                 double *out);

int km_bounds_register(void);

#endif
