/* dupname.c — registers a kernel of its own, then one whose name the good
 * plugin already uses: refused, and its own kernel removed. */
#include <wb/plugin.h>

static int k(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx, (void)in, (void)nin, (void)arg, (void)arglen;
    return 0;
}

WB_PLUGIN("dupname", "0.1")
{
    int rc = host->register_kernel("dupname.first", k);
    if (!rc) rc = host->register_kernel("good.double", k);
    return rc;
}
