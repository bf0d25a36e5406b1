/* host.c — the host's function table, kept by wb_plugin_init (gbdt.c) for
 * every file of the plugin */
#include "gbdt.h"

const wb_host *H;
