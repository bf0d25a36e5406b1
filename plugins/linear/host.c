/* host.c — the host's function table, kept by wb_plugin_init (linear.c) for
 * every file of the plugin */
#include "linear.h"

const wb_host *H;
