/* kmeans.h — shared by the k-means plugin's files */
#ifndef KM_KMEANS_H
#define KM_KMEANS_H

#include "wb/plugin.h"

extern const wb_host *H; /* the host's function table, kept at init (host.c) */

/* the common kernel argument (fields used as each kernel says) */
typedef struct kmarg {
    int64_t k, d, mode, m;
    uint64_t seed, stream;
    double f;
    int64_t row;
} kmarg;

/* the kernels' argument and inputs (args.c) */
/* parse a kernel argument of exactly sizeof(kmarg) + extra bytes */
int km_arg(const void *arg, size_t arglen, kmarg *a, size_t extra);
/* in[0] as a partition of d columns (NULL after seterr) */
const wb_part *km_part(const wb_obj *in, int nin, int64_t d);
/* in[i] as exactly count doubles (NULL after seterr) */
const double *km_doubles(const wb_obj *in, int nin, int i, int64_t count);
/* store count doubles as an object */
int km_put(wb_exec *ex, const double *v, int64_t count, wb_oid *out);

/* the cluster-quality metrics' kernels (metrics.c) */
int km_metrics_register(void);
/* metric ("davies_bouldin", "calinski_harabasz" or "silhouette") of data d
 * with labels 0..K-1 (a vector aligned with d) */
int km_metric_score(wb_exec *ex, const wb_dataset *d, const wb_dataset *labels, int64_t K, const char *metric,
                    double *out);

#endif
