/* util.c — clocks, interrupt flag, buffers, memory figures of the process,
 * partition encoding. */
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

void wb_part_encode_header(const wb_part *p, void *dst)
{
    part_hdr h;
    memcpy(h.magic, "WBPT", 4);
    h.has_y = p->y != NULL;
    h.rows = p->rows;
    h.cols = p->cols;
    h.row0 = p->row0;
    memcpy(dst, &h, sizeof h);
}

size_t wb_part_header_size(void) { return sizeof(part_hdr); }

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
