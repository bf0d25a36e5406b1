/* pver1.c — plugin "pver" version 1: kernel pver.value (1 per row), estimator pver.est. */
#define PVER_VERSION "1"
#define PVER_FACTOR 1.0
#include "pver.inc"
