/* badname.c — a plugin name with a space: refused. */
#include <wb/plugin.h>

WB_PLUGIN("bad name", "0.1")
{
    (void)host;
    return 0;
}
