/* host.c — the host function table, kept when the plugin loads (preprocess.c) */
#include "preprocess.h"

const wb_host *H;
