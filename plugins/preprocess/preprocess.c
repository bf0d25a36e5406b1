/* preprocess — transformers that prepare tables for models (scikit-learn's
 * preprocessing and impute modules): the standard scaler, the imputer and
 * the one-hot and ordinal encoders. Each takes columns = {...} (names or
 * 1-based indices) and otherwise picks its columns by type: number columns
 * for scaler and impute, category columns for onehot and ordinal. Every
 * transform is one column program (preprocess.h) run per partition. */
#include "preprocess.h"

extern const wb_estimator_def pp_scaler_def, pp_impute_def, pp_onehot_def, pp_ordinal_def;
extern const char preprocess_lua_src[];

WB_PLUGIN("preprocess", "1.0")
{
    H = host;
    const char *lacks = wbc_host_lacks(host);
    if (lacks) return host->seterr(WB_EABI, WBC_HOST_TOO_OLD, "preprocess", lacks);
    int rc = pp_register_kernels();
    if (!rc) rc = host->register_estimator(&pp_scaler_def);
    if (!rc) rc = host->register_estimator(&pp_impute_def);
    if (!rc) rc = host->register_estimator(&pp_onehot_def);
    if (!rc) rc = host->register_estimator(&pp_ordinal_def);
    if (!rc) rc = host->register_lua("preprocess", preprocess_lua_src);
    return rc;
}
