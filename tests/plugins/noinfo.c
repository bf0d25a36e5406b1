/* noinfo.c — has wb_plugin_init but no wb_plugin_info: refused. */
#include <wb/plugin.h>

WB_EXPORT int wb_plugin_init(const wb_host *host)
{
    (void)host;
    return 0;
}
