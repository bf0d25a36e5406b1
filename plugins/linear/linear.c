/* linear.c — the linear plugin: logistic regression (logreg.c) and the SGD
 * classifier (sgd.c), with the checks they share (prepare.c), one prediction
 * kernel (predict.c) and the optimizers (optim.c). This file registers them. */
#include "linear.h"
#include "wb/plugin_cols.h"

static const wb_kernel_def kernels[] = {
    {.name = "linear.class_counts", .fn = lin_k_class_counts},
    {.name = "linear.predict", .fn = lin_k_predict},
    {.name = "linear.logreg", .fn = lin_k_logreg},
    {.name = "linear.sgd", .fn = lin_k_sgd},
};

WB_PLUGIN("linear", "1.0")
{
    H = host;
    const char *lacks = wbc_host_lacks(host); /* category columns refused by name */
    if (lacks) return host->seterr(WB_EABI, WBC_HOST_TOO_OLD, "linear", lacks);
    int rc = wb_register_kernels(host, kernels, sizeof kernels / sizeof kernels[0]);
    if (!rc) rc = host->register_estimator(&lin_logreg_def);
    if (!rc) rc = host->register_estimator(&lin_sgd_def);
    if (!rc) rc = host->register_lua("linear", lin_lua_src);
    return rc;
}
