/* cluster/map.h — an open-addressing map from nonzero 64-bit ids to pointers. */
#ifndef WB_CLUSTER_MAP_H
#define WB_CLUSTER_MAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct wb_omap {
    uint64_t *keys; /* 0: empty */
    void **vals;
    size_t cap, n;
} wb_omap;

void *wb_omap_get(const wb_omap *m, uint64_t k);
int wb_omap_put(wb_omap *m, uint64_t k, void *v); /* replaces */
void *wb_omap_del(wb_omap *m, uint64_t k);        /* the value removed, or NULL */
void wb_omap_free(wb_omap *m);
#endif
