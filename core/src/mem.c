/* mem.c — memory: partition-sized allocations (aligned for huge pages), the
 * machine's memory figures that outputs are checked against before they are
 * allocated, and sizes as text ("4GB" <-> bytes) for options and messages. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Memory for a partition (freed with free()). Big buffers are aligned to 2 MB
 * and marked for transparent huge pages: a partition then costs a couple of
 * page faults instead of a thousand, which matters for generation and reading
 * speed. */
void *wb__alloc_big(size_t size)
{
    const size_t huge = (size_t)2 << 20;
    if (size < 2 * huge) return malloc(size);
    void *p = NULL;
    if (posix_memalign(&p, huge, size) != 0) return NULL;
    madvise(p, (size + huge - 1) & ~(huge - 1), MADV_HUGEPAGE);
    return p;
}

/* Room for a kernel's output of `bytes`, checked before allocating it: the
 * store's memory limit (which the result would meet when stored), and the
 * machine's memory (an allocation past it can succeed under overcommit and
 * get the process killed when touched). Found by fuzzing the readers: a
 * short file could ask for a partition of many gigabytes. */
size_t wb__phys_bytes(void)
{
    static size_t phys;
    if (!phys) {
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        phys = pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz : SIZE_MAX;
    }
    return phys;
}

size_t wb__avail_bytes(void)
{
    size_t phys = wb__phys_bytes();
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return phys;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    if (!kb || kb > (unsigned long long)(SIZE_MAX / 1024)) return phys;
    size_t a = (size_t)kb * 1024;
    return a < phys ? a : phys;
}

int wb_size_parse(const char *s, uint64_t *out)
{
    if (!s || !*s) return wb_seterr(WB_EINVAL, "empty size");
    char *end;
    double v = strtod(s, &end);
    /* !(v >= 0): "nan" parses as a number (found by tests/lua/api_sweep.lua under
     * -fsanitize=float-cast-overflow: memory_limit = "nan" reached the cast below) */
    if (end == s || !(v >= 0)) return wb_seterr(WB_EINVAL, "bad size '%s' (e.g. 4GB, 512MB, 1000000)", s);
    while (*end == ' ') end++;
    double mul = 1;
    if (!*end || !strcasecmp(end, "b")) mul = 1;
    else if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib")) mul = 1024.0;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib")) mul = 1024.0 * 1024;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib")) mul = 1024.0 * 1024 * 1024;
    else if (!strcasecmp(end, "t") || !strcasecmp(end, "tb") || !strcasecmp(end, "tib"))
        mul = 1024.0 * 1024 * 1024 * 1024;
    else
        return wb_seterr(WB_EINVAL, "bad size '%s' (unit must be B, KB, MB, GB or TB)", s);
    double b = v * mul;
    if (b > 9.0e18) return wb_seterr(WB_EINVAL, "size '%s' is too large", s);
    *out = (uint64_t)b;
    return 0;
}

void wb_size_format(uint64_t b, char *buf, size_t cap)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    if (i == 0) snprintf(buf, cap, "%llu B", (unsigned long long)b);
    else snprintf(buf, cap, "%.1f %s", v, u[i]);
}
