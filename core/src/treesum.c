/* treesum.c — deterministic sums over blocks (map_sum, block-sum tasks).
 * Nodes of the implicit binary tree over block indices: leaf (0, j) is block j;
 * node (L, i) covers blocks [i*2^L, (i+1)*2^L) and equals left + right, where
 * a child lying wholly beyond the last block is absent and the node equals the
 * other child. The value of the root therefore depends only on the blocks,
 * never on how they were grouped into partitions or tasks.
 *
 * A task folds its partition's blocks as they come (wb__treesum_fold) and
 * returns the nodes it holds, encoded (wb__treesum_encode); the caller adds
 * every task's nodes (wb_treesum_add_encoded) and takes the root
 * (wb_treesum_result). Both sides add siblings with the one routine below. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct tnode {
    uint32_t level;
    uint64_t index;
    double *v;
} tnode;

struct wb_treesum {
    size_t len;
    int64_t nblocks;
    tnode *nodes;
    size_t n, cap;
};

wb_treesum *wb_treesum_new(size_t len, int64_t nblocks)
{
    wb_treesum *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->len = len;
    t->nblocks = nblocks;
    return t;
}

void wb_treesum_free(wb_treesum *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) free(t->nodes[i].v);
    free(t->nodes);
    free(t);
}

/* a node from its two children: left += right (the only place sums are made) */
static void add_sibling(double *left, const double *right, size_t len)
{
    for (size_t k = 0; k < len; k++) left[k] += right[k];
}

static int tree_push(wb_treesum *t, uint32_t level, uint64_t index, double *v)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        tnode *p = realloc(t->nodes, cap * sizeof *p);
        if (!p) return wb_seterr(WB_ENOMEM, "out of memory");
        t->nodes = p;
        t->cap = cap;
    }
    t->nodes[t->n++] = (tnode){level, index, v};
    return 0;
}

/* a node must cover at least one existing block */
static int node_check(const wb_treesum *t, uint32_t level, uint64_t index)
{
    if (level > 62) return wb_seterr(WB_EFORMAT, "block sum: bad level %u", level);
    if (t->nblocks <= 0 || index > (uint64_t)(t->nblocks - 1) >> level)
        return wb_seterr(WB_EFORMAT, "block sum: node (%u, %llu) lies beyond the last of %lld blocks",
                         level, (unsigned long long)index, (long long)t->nblocks);
    return 0;
}

int wb_treesum_add(wb_treesum *t, uint32_t level, uint64_t index, const double *v)
{
    int rc = node_check(t, level, index);
    if (rc) return rc;
    double *c = malloc(t->len * sizeof(double) + 1);
    if (!c) return wb_seterr(WB_ENOMEM, "out of memory");
    if (t->len) memcpy(c, v, t->len * sizeof(double));
    rc = tree_push(t, level, index, c);
    if (rc) free(c);
    return rc;
}

/* encoded partial: u64 count, u64 len, count x (u32 level, u32 pad, u64 index), count*len doubles */
int wb_treesum_add_encoded(wb_treesum *t, const void *data, size_t size)
{
    const unsigned char *p = data;
    uint64_t count, len;
    if (size < 16) return wb_seterr(WB_EFORMAT, "block sum: truncated result");
    memcpy(&count, p, 8);
    memcpy(&len, p + 8, 8);
    if (len != t->len || count > (1u << 24) ||
        size != 16 + count * 16 + count * len * sizeof(double))
        return wb_seterr(WB_EFORMAT, "block sum: result of %zu bytes does not match %zu values",
                         size, t->len);
    const unsigned char *hdr = p + 16, *vals = p + 16 + count * 16;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t level;
        uint64_t index;
        memcpy(&level, hdr + i * 16, 4);
        memcpy(&index, hdr + i * 16 + 8, 8);
        int rc = node_check(t, level, index);
        if (rc) return rc;
        double *v = malloc(len * sizeof(double) + 1);
        if (!v) return wb_seterr(WB_ENOMEM, "out of memory");
        if (len) memcpy(v, vals + i * len * sizeof(double), len * sizeof(double));
        rc = tree_push(t, level, index, v);
        if (rc) {
            free(v);
            return rc;
        }
    }
    return 0;
}

int wb__treesum_fold(wb_treesum *t, uint64_t index, double *v)
{
    int rc = node_check(t, 0, index);
    if (!rc) rc = tree_push(t, 0, index, v);
    if (rc) {
        free(v);
        return rc;
    }
    /* merge completed siblings, as the global tree does */
    tnode *s = t->nodes;
    while (t->n >= 2 && s[t->n - 1].level == s[t->n - 2].level && (s[t->n - 2].index & 1) == 0 &&
           s[t->n - 1].index == (s[t->n - 2].index | 1)) {
        add_sibling(s[t->n - 2].v, s[t->n - 1].v, t->len);
        free(s[t->n - 1].v);
        t->n--;
        s[t->n - 1].level++;
        s[t->n - 1].index >>= 1;
    }
    return 0;
}

int wb__treesum_take(wb_treesum *dst, wb_treesum *src)
{
    if (dst->len != src->len || dst->nblocks != src->nblocks)
        return wb_seterr(WB_EINTERNAL, "block sum: trees of different shapes");
    while (src->n) {
        tnode *s = &src->nodes[src->n - 1];
        int rc = tree_push(dst, s->level, s->index, s->v);
        if (rc) return rc;
        src->n--;
    }
    return 0;
}

int wb__treesum_encode(const wb_treesum *t, void **out, size_t *size)
{
    size_t n = t->n, len = t->len;
    size_t bytes = 16 + n * 16 + n * len * sizeof(double);
    unsigned char *o = malloc(bytes);
    if (!o) return wb_seterr(WB_ENOMEM, "out of memory");
    uint64_t count = (uint64_t)n, l64 = len;
    memcpy(o, &count, 8);
    memcpy(o + 8, &l64, 8);
    for (size_t i = 0; i < n; i++) {
        uint32_t pad = 0;
        memcpy(o + 16 + i * 16, &t->nodes[i].level, 4);
        memcpy(o + 16 + i * 16 + 4, &pad, 4);
        memcpy(o + 16 + i * 16 + 8, &t->nodes[i].index, 8);
        if (len) memcpy(o + 16 + n * 16 + i * len * sizeof(double), t->nodes[i].v, len * sizeof(double));
    }
    *out = o;
    *size = bytes;
    return 0;
}

static int node_cmp(const void *a, const void *b)
{
    const tnode *x = a, *y = b;
    if (x->level != y->level) return x->level < y->level ? -1 : 1;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return 0;
}

int wb_treesum_result(wb_treesum *t, double *out)
{
    if (t->nblocks <= 0) {
        if (t->n) return wb_seterr(WB_EINTERNAL, "block sum: %zu nodes for no blocks", t->n);
        if (t->len) memset(out, 0, t->len * sizeof(double));
        return 0;
    }
    if (!t->n) return wb_seterr(WB_EINTERNAL, "block sum: missing node (0, 0)");
    uint32_t top = 0;
    while (((int64_t)1 << top) < t->nblocks) top++;
    for (uint32_t level = 0; level <= top; level++) {
        qsort(t->nodes, t->n, sizeof *t->nodes, node_cmp);
        if (level == top) break;
        /* nodes at this level are complete now; merge or promote them */
        size_t i = 0;
        while (i < t->n && t->nodes[i].level < level) i++;
        size_t n0 = t->n;
        int64_t span = (int64_t)1 << level;
        while (i < n0 && t->nodes[i].level == level) {
            tnode *a = &t->nodes[i];
            uint64_t sib = a->index ^ 1;
            if (a->index & 1) /* a right child whose left sibling never came */
                return wb_seterr(WB_EINTERNAL, "block sum: missing node (%u, %llu)", level,
                                 (unsigned long long)sib);
            if (i + 1 < n0 && t->nodes[i + 1].level == level && t->nodes[i + 1].index == sib) {
                double *r = t->nodes[i + 1].v;
                add_sibling(a->v, r, t->len);
                free(r);
                t->nodes[i + 1].v = NULL;
                t->nodes[i + 1].level = UINT32_MAX; /* dead */
                i += 2;
            } else if ((int64_t)sib * span < t->nblocks) {
                return wb_seterr(WB_EINTERNAL, "block sum: missing node (%u, %llu)", level,
                                 (unsigned long long)sib);
            } else {
                i += 1; /* promoted: the sibling lies beyond the last block */
            }
            a->level = level + 1;
            a->index >>= 1;
        }
        size_t w = 0;
        for (size_t j = 0; j < t->n; j++)
            if (t->nodes[j].level != UINT32_MAX) t->nodes[w++] = t->nodes[j];
        t->n = w;
    }
    if (t->n != 1 || t->nodes[0].level != top || t->nodes[0].index != 0)
        return wb_seterr(WB_EINTERNAL, "block sum: %zu nodes left", t->n);
    if (t->len) memcpy(out, t->nodes[0].v, t->len * sizeof(double));
    return 0;
}
