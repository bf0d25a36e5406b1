/* pver2.c — plugin "pver" version 2: kernels pver.value (2 per row) and pver.extra, estimator pver.est. */
#define PVER_VERSION "2"
#define PVER_FACTOR 2.0
#define PVER_EXTRA 1
#include "pver.inc"
