/* badversion.c — a version string with a space: refused (it could not be told to a cluster). */
#include <wb/plugin.h>

WB_PLUGIN("badversion", "1.0 beta")
{
    (void)host;
    return 0;
}
