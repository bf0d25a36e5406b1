/* util.c — clocks, interrupt flag, buffers, memory figures, partition encoding,
 * and the deterministic tree sum behind map_sum. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "wb/wb.h"

double wb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int wb_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

char *wb_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static atomic_int interrupted;
void wb_interrupt(void) { atomic_store(&interrupted, 1); }
void wb_interrupt_clear(void) { atomic_store(&interrupted, 0); }
int wb_interrupted(void) { return atomic_load_explicit(&interrupted, memory_order_relaxed); }

int64_t wb_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return (int64_t)ru.ru_maxrss * 1024;
}

int64_t wb_current_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long pages = 0, rss = 0;
    int ok = fscanf(f, "%ld %ld", &pages, &rss) == 2;
    fclose(f);
    return ok ? (int64_t)rss * sysconf(_SC_PAGESIZE) : -1;
}

/* ---- buffers ---- */
int wb_buf_reserve(wb_buf *b, size_t extra)
{
    if (b->len + extra <= b->cap && b->len + extra >= b->len) return 0;
    if (extra > (SIZE_MAX >> 2) - b->len) return wb_seterr(WB_ENOMEM, "out of memory (%zu more bytes)", extra);
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes)", cap);
    b->p = p;
    b->cap = cap;
    return 0;
}

int wb_buf_add(wb_buf *b, const void *data, size_t n)
{
    int rc = wb_buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

int wb_buf_printf(wb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return wb_seterr(WB_EINVAL, "bad format");
    int rc = wb_buf_reserve(b, (size_t)n + 1);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void wb_buf_free(wb_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- partition encoding ---- */
typedef struct {
    char magic[4]; /* "WBPT" */
    uint32_t has_y;
    int64_t rows, cols, row0;
} part_hdr;

size_t wb_part_encoded_size(const wb_part *p)
{
    return sizeof(part_hdr) + (size_t)p->rows * (size_t)p->cols * 8 + (p->y ? (size_t)p->rows * 8 : 0);
}

void wb_part_encode(const wb_part *p, void *dst)
{
    part_hdr h;
    memcpy(h.magic, "WBPT", 4);
    h.has_y = p->y != NULL;
    h.rows = p->rows;
    h.cols = p->cols;
    h.row0 = p->row0;
    unsigned char *o = dst;
    memcpy(o, &h, sizeof h);
    o += sizeof h;
    size_t nx = (size_t)p->rows * (size_t)p->cols * 8;
    if (nx) memcpy(o, p->x, nx);
    o += nx;
    if (p->y && p->rows) memcpy(o, p->y, (size_t)p->rows * 8);
}

int wb_part_decode(const void *src, size_t size, wb_part *out)
{
    part_hdr h;
    if (size < sizeof h) return wb_seterr(WB_EFORMAT, "partition: truncated header (%zu bytes)", size);
    memcpy(&h, src, sizeof h);
    if (memcmp(h.magic, "WBPT", 4) != 0) return wb_seterr(WB_EFORMAT, "partition: bad magic");
    if (h.rows < 0 || h.cols < 0 || h.row0 < 0 || h.has_y > 1 || h.rows > ((int64_t)1 << 40) ||
        h.cols > ((int64_t)1 << 30))
        return wb_seterr(WB_EFORMAT, "partition: bad shape %lld x %lld", (long long)h.rows,
                         (long long)h.cols);
    unsigned __int128 need = (unsigned __int128)h.rows * (unsigned __int128)h.cols * 8 +
                             (h.has_y ? (unsigned __int128)h.rows * 8 : 0) + sizeof h;
    if (need != size)
        return wb_seterr(WB_EFORMAT, "partition: size %zu does not match shape %lld x %lld", size,
                         (long long)h.rows, (long long)h.cols);
    const unsigned char *p = (const unsigned char *)src + sizeof h;
    out->rows = h.rows;
    out->cols = h.cols;
    out->row0 = h.row0;
    out->x = (const double *)p;
    out->y = h.has_y ? (const double *)(p + (size_t)h.rows * (size_t)h.cols * 8) : NULL;
    return 0;
}

/* ---- tree sum ----
 * Nodes of the implicit binary tree over block indices: leaf (0, j) is block j;
 * node (L, i) covers blocks [i*2^L, (i+1)*2^L) and equals left + right, where
 * a child lying wholly beyond the last block is absent and the node equals the
 * other child. The value of the root therefore depends only on the blocks. */
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
                double *l = a->v, *r = t->nodes[i + 1].v;
                for (size_t k = 0; k < t->len; k++) l[k] += r[k];
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
