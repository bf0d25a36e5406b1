/* abi2.c — built for a newer plugin ABI than the host's: refused. */
#include <wb/plugin.h>

WB_EXPORT const wb_plugin_desc wb_plugin_info = {WB_PLUGIN_ABI + 1, "abi2", "1.0"};
WB_EXPORT int wb_plugin_init(const wb_host *host)
{
    (void)host;
    return 0;
}
