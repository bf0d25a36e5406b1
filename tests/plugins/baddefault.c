/* baddefault.c — an estimator whose default lies outside its own range,
 * after a required parameter: refused at load. */
#include <wb/plugin.h>

static int fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    (void)ex, (void)d, (void)p, (void)m;
    return 0;
}
static const wb_param_spec params[] = {
    {"n", WB_P_INT, NULL, 1, INFINITY, 0, NULL, "required, no default"},
    {"k", WB_P_INT, "0", 1, INFINITY, 0, NULL, "default out of range"},
};
static const wb_estimator_def est = {.version = WB_ESTIMATOR_V1, .name = "baddefault.est",
                                     .params = params, .nparams = 2, .fit = fit};

WB_PLUGIN("baddefault", "0.1")
{
    return host->register_estimator(&est);
}
