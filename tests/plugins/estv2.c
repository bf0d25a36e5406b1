/* estv2.c — an estimator descriptor of a version the host does not know. */
#include <wb/plugin.h>

static int fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    (void)ex, (void)d, (void)p, (void)m;
    return 0;
}
static const wb_estimator_def est = {.version = 2, .name = "estv2.est", .fit = fit};

WB_PLUGIN("estv2", "0.1")
{
    return host->register_estimator(&est);
}
