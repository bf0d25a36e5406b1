/* cluster/common.c — an id -> pointer map for the cluster's tables, plugin
 * lists copied out of messages and into them, the names of the roles, and
 * the cluster's two small
 * kernels: cluster.noop (an empty task: latency and throughput) and
 * cluster.size (the total size and a checksum of its inputs). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_internal.h"
#include "map.h"

static size_t slot_of(uint64_t k, size_t cap)
{
    uint64_t x = k;
    return (size_t)wb_splitmix64(&x) & (cap - 1);
}

void *wb_omap_get(const wb_omap *m, uint64_t k)
{
    if (!m->cap || !k) return NULL;
    size_t i = slot_of(k, m->cap);
    while (m->keys[i]) {
        if (m->keys[i] == k) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static int grow(wb_omap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *keys = calloc(cap, sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return WB_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot_of(m->keys[i], cap);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int wb_omap_put(wb_omap *m, uint64_t k, void *v)
{
    if (!k) return WB_EINVAL;
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m)) return wb_seterr(WB_ENOMEM, "out of memory");
    size_t i = slot_of(k, m->cap);
    while (m->keys[i]) {
        if (m->keys[i] == k) {
            m->vals[i] = v;
            return 0;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
    return 0;
}

void *wb_omap_del(wb_omap *m, uint64_t k)
{
    if (!m->cap || !k) return NULL;
    size_t mask = m->cap - 1, i = slot_of(k, m->cap);
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) & mask;
    if (!m->keys[i]) return NULL;
    void *v = m->vals[i];
    /* backward-shift deletion: no tombstones */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->keys[j]) break;
        size_t k = slot_of(m->keys[j], m->cap);
        /* the entry at j stays when its home k lies cyclically in (i, j] */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        i = j;
    }
    m->keys[i] = 0;
    m->vals[i] = NULL;
    m->n--;
    return v;
}

void wb_omap_free(wb_omap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

wb_cplugin *wb_cplugins_from(const wb_m_plugin *m, uint32_t n)
{
    wb_cplugin *pl = calloc(n ? n : 1, sizeof *pl);
    if (!pl) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        wb_pstr_copy(m[i].name, pl[i].name, sizeof pl[i].name);
        wb_pstr_copy(m[i].version, pl[i].version, sizeof pl[i].version);
    }
    return pl;
}

wb_m_plugin *wb_cplugins_view(const wb_cplugin *pl, uint32_t n)
{
    wb_m_plugin *m = calloc(n ? n : 1, sizeof *m);
    if (!m) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        m[i].name = wb_pstr_z(pl[i].name);
        m[i].version = wb_pstr_z(pl[i].version);
    }
    return m;
}

wb_m_plugin *wb_plugins_here(uint32_t *n)
{
    int np = wb_plugin_count();
    wb_m_plugin *m = calloc(np > 0 ? (size_t)np : 1, sizeof *m);
    if (!m) return NULL;
    for (int i = 0; i < np; i++) {
        const char *name, *version;
        wb_plugin_info_at(i, &name, &version, NULL);
        m[i].name = wb_pstr_z(name);
        m[i].version = wb_pstr_z(version);
    }
    *n = np > 0 ? (uint32_t)np : 0;
    return m;
}

const char *wb_role_name(int r)
{
    switch (r) {
    case WB_ROLE_HEAD: return "head";
    case WB_ROLE_WORKER: return "worker";
    case WB_ROLE_DRIVER: return "driver";
    case WB_ROLE_PEER: return "peer";
    default: return "unknown";
    }
}

/* -------------------------------------------------------------- kernels */

static int k_noop(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)ctx;
    (void)in;
    (void)nin;
    (void)arg;
    (void)arglen;
    return 0;
}

/* output: u64 total payload bytes of the inputs and u64 a checksum of their first and last bytes */
static int k_size(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)arg;
    (void)arglen;
    uint64_t total = 0, sum = 0;
    for (int i = 0; i < nin; i++) {
        total += in[i].size;
        if (in[i].type == WB_OBJ_BYTES && in[i].size) {
            const unsigned char *p = in[i].data;
            sum += p[0] + p[in[i].size - 1];
        } else if (in[i].type == WB_OBJ_PART && in[i].part.rows && in[i].part.cols) {
            sum += (uint64_t)(in[i].part.x[0] * 1000);
        }
    }
    uint64_t *o = wb__out_bytes(ctx, 16);
    if (!o) return WB_ENOMEM;
    o[0] = total;
    o[1] = sum;
    return 0;
}

static pthread_once_t kernels_once = PTHREAD_ONCE_INIT;
static void register_kernels(void)
{
    wb_register_kernel("cluster.noop", k_noop);
    wb_register_kernel("cluster.size", k_size);
}

void wb_cluster_kernels_init(void)
{
    wb_core_init();
    pthread_once(&kernels_once, register_kernels);
}
