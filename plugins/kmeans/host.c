/* host.c — the host's function table, kept by wb_plugin_init (kmeans.c) for
 * every file of the plugin */
#include "kmeans.h"

const wb_host *H;
