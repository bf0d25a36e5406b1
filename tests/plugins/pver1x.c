/* pver1x.c — plugin "pver" version 1 with another kernel set than pver1.c
 * (pver.extra too): the same version string over other code. */
#define PVER_VERSION "1"
#define PVER_FACTOR 1.0
#define PVER_EXTRA 1
#include "pver.inc"
