/* args.c — the kernels' argument and inputs, shared by the k-means kernels
 * (kmeans.c) and the cluster-quality metrics' kernels (metrics.c): the
 * common argument (kmarg) checked, the data partition and arrays of numbers
 * among the inputs, and numbers stored as an input object. */
#include <string.h>

#include "kmeans.h"

int km_arg(const void *arg, size_t arglen, kmarg *a, size_t extra)
{
    if (arglen != sizeof *a + extra) return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    memcpy(a, arg, sizeof *a);
    if (a->d < 1 || a->d > (1 << 24) || a->k < 0 || a->k > (1 << 26))
        return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    return 0;
}

const wb_part *km_part(const wb_obj *in, int nin, int64_t d)
{
    if (nin < 1 || in[0].type != WB_OBJ_PART || in[0].part.cols != d) {
        H->seterr(WB_EINVAL, "kmeans: the kernel needs a partition of %lld columns", (long long)d);
        return NULL;
    }
    return &in[0].part;
}

const double *km_doubles(const wb_obj *in, int nin, int i, int64_t count)
{
    if (i >= nin || in[i].type != WB_OBJ_BYTES || in[i].size != (size_t)count * sizeof(double)) {
        H->seterr(WB_EINVAL, "kmeans: input %d must hold %lld numbers", i, (long long)count);
        return NULL;
    }
    return in[i].data;
}

int km_put(wb_exec *ex, const double *v, int64_t count, wb_oid *out)
{
    static const double zero = 0;
    return H->put(ex, count > 0 ? (const void *)v : (const void *)&zero,
                  count > 0 ? (size_t)count * sizeof(double) : 0, out);
}
