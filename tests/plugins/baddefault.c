/* baddefault.c — an estimator whose default lies outside its own range,
 * after a required parameter: refused at load. */
#include <wb/plugin.h>

static int fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    (void)ex, (void)d, (void)p, (void)m;
    return 0;
}
static const wb_param_spec params[] = {
    {.name = "n", .types = WB_P_INT, .min = 1, .max = INFINITY, .doc = "required, no default"},
    {.name = "k", .types = WB_P_INT, .def = "0", .min = 1, .max = INFINITY, .doc = "default out of range"},
};
static const wb_estimator_def est = {.version = WB_ESTIMATOR_V1, .name = "baddefault.est",
                                     .params = params, .nparams = 2, .fit = fit};

WB_PLUGIN("baddefault", "0.1")
{
    return host->register_estimator(&est);
}
