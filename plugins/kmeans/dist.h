/* dist.h — nearest centres and distances for the k-means plugin.
 *
 * Rows are processed in sub-blocks of KM_SUB rows that always start at a
 * global row index that is a multiple of KM_SUB (callers pass whole 4096-row
 * blocks or whole partitions), so a row's result never depends on how the
 * data is split. For small d (<= KM_DIRECT_MAX_D) distances come from a
 * direct loop vectorised over rows; for larger d from one BLAS dgemm per
 * sub-block (the -2 X C^T + |C|^2 expansion, with a bound on its rounding
 * error, finds the centres that can be nearest; when more than one can, their
 * km_crit values decide, so the choice never depends on the BLAS; the chosen
 * centre's distance is then recomputed directly so inertia and sampling
 * weights are exact differences, never cancellations). */
#ifndef KM_DIST_H
#define KM_DIST_H

#include <stdint.h>

#define KM_SUB 256
/* rows per BLAS product in km_assign (a multiple of KM_SUB): fewer, larger
 * products pack the centres less often; the choice of centre does not depend
 * on it (km_crit decides near-ties) */
#define KM_BIG 1024
#define KM_DIRECT_MAX_D 8

typedef struct km_cs {
    int64_t k, d;
    const double *c; /* k x d, row-major */
    double *cn;      /* k squared norms (BLAS path), or NULL */
    double cnmax;    /* their largest (BLAS path) */
    double *g;       /* KM_SUB x k scratch (BLAS path), or NULL */
    int blas;
    float *cf;       /* direct path: the centres rounded to floats for the
                        screening pass (km_assign), or NULL when it cannot be
                        used (values too large for floats, very large k) */
    double cmax2;    /* direct path: the largest squared norm of a centre */
    float *cs32;     /* BLAS path: the centres rounded to floats for the
                        float product (sgemm), or NULL when it cannot be
                        used (values too large, d too large) */
    float *xf, *gf;  /* BLAS path, with cs32: KM_BIG x d and KM_BIG x k scratch */
} km_cs;

/* prepare centres c (k x d, not copied: must outlive cs); 0 or WB_ENOMEM */
int km_cs_init(km_cs *cs, const double *c, int64_t k, int64_t d);
void km_cs_free(km_cs *cs);

/* squared Euclidean distance, summed over columns in order */
static inline double km_dist2(const double *a, const double *b, int64_t d)
{
    double df = a[0] - b[0], s = df * df;
    for (int64_t t = 1; t < d; t++) {
        df = a[t] - b[t];
        s += df * df;
    }
    return s;
}

/* the value that decides a row's centre: the squared distance, summed over
 * columns in order for d <= KM_DIRECT_MAX_D (km_dist2), in 8 interleaved
 * partial sums added in a fixed order above (so it is the same bits however
 * and wherever it is computed, never a BLAS product) */
double km__crit_wide(const double *a, const double *b, int64_t d);
static inline double km_crit(const double *a, const double *b, int64_t d)
{
    return d <= KM_DIRECT_MAX_D ? km_dist2(a, b, d) : km__crit_wide(a, b, d);
}

/* for rows x[0..n) (row-major, n <= KM_SUB, or n <= KM_BIG when cs->blas):
 * the nearest centre, the one of
 * lowest km_crit (lowest index on ties), and the squared distance to it
 * (km_dist2) */
void km_assign(const km_cs *cs, const double *x, int n, int32_t *lab, double *dist);

/* for rows x[0..n) (n <= KM_SUB): the km_assign centre lab[i], its squared
 * distance crit[i] (km_crit or km_dist2), and lower bounds on the true squared distances: to
 * every centre, lo[i * k + j] (when lo is not NULL), and to the nearest
 * other centre, lo2[i] (when lo2 is not NULL). g: KM_SUB x k scratch. */
void km_assign_bounds(const km_cs *cs, const double *x, int n, int32_t *lab, double *crit, double *lo, double *lo2,
                      double *g);

/* the squared distance to the nearest centre, the minimum of km_dist2 over
 * the centres (bit-identical to min(km_dist2(x, c_j)) computed any other way) */
void km_mindist(const km_cs *cs, const double *x, int n, double *dist);

/* distances (not squared) from rows x[0..n) (n <= KM_SUB) to every centre:
 * out[i * k + j] */
void km_distances(const km_cs *cs, const double *x, int n, double *out);

/* per-cluster sums and counts of rows x[0..m) with centres lab[i], added
 * into acc (k rows of km_acc_width(d) lanes: the d sums, the count, zeros),
 * each lane in row order (the bits of a scalar loop over the rows) */
#define KM_ACC_MAX_D 7
static inline int64_t km_acc_width(int64_t d) { return d < 4 ? 4 : 8; }
void km__accum_direct(const double *x, int m, int64_t d, const int32_t *lab, double *acc);
/* per-cluster sums (k x d, row-major) and counts (k) of rows x[0..m) with
 * centres lab[i], added into sums and cnt, each value in row order */
void km__accum_wide(const double *x, int m, int64_t d, const int32_t *lab, double *sums, double *cnt);

#endif
