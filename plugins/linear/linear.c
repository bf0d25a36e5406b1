/* linear.c — the linear plugin: logistic regression (logreg.c) and the SGD
 * classifier (sgd.c), with the checks they share (prepare.c), one prediction
 * kernel (predict.c) and the optimizers (optim.c). This file registers them. */
#include "linear.h"

WB_PLUGIN("linear", "1.0")
{
    H = host;
    int rc = host->register_kernel("linear.class_counts", lin_k_class_counts);
    if (!rc) rc = host->register_kernel("linear.predict", lin_k_predict);
    if (!rc) rc = host->register_kernel("linear.logreg", lin_k_logreg);
    if (!rc) rc = host->register_kernel("linear.sgd", lin_k_sgd);
    if (!rc) rc = host->register_estimator(&lin_logreg_def);
    if (!rc) rc = host->register_estimator(&lin_sgd_def);
    if (!rc) rc = host->register_lua("linear", lin_lua_src);
    return rc;
}
