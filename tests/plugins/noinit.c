/* noinit.c — declares its identity but has no wb_plugin_init: refused. */
#include <wb/plugin.h>

WB_EXPORT const wb_plugin_desc wb_plugin_info = {WB_PLUGIN_ABI, "noinit", "1.0"};
