/* store.c — the object store: ids -> objects, reference counted, thread-safe.
 * An object is pending until a task fulfils or fails it; waiters sleep on a
 * condition variable. Memory held is counted for the per-worker limit. */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

struct wb_mapping {
    atomic_int refs;
    void *addr;
    size_t len;
};

wb_mapping *wb_mapping_new(void *addr, size_t len)
{
    wb_mapping *m = malloc(sizeof *m);
    if (!m) return NULL;
    atomic_init(&m->refs, 1);
    m->addr = addr;
    m->len = len;
    return m;
}

void wb_mapping_ref(wb_mapping *m) { atomic_fetch_add(&m->refs, 1); }

void wb_mapping_unref(wb_mapping *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        if (m->addr && m->len) munmap(m->addr, m->len);
        free(m);
    }
}

typedef struct entry {
    wb_oid id;
    int refs;
    int state;
    int err;
    char *errmsg;
    wb_obj obj;
    void *buf;        /* owned memory */
    wb_mapping *map;  /* or a mapping */
    size_t bytes;     /* counted against the limit */
} entry;

/* big buffers of freed objects kept for the next object of about their size
 * (see wb_store_keep_buffers) */
#define KEEP_SLOTS 4
#define KEEP_MIN ((size_t)64 << 20)
typedef struct kept {
    void *p;
    size_t size; /* usable bytes */
    double since;
} kept;

struct wb_store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t prefix, next;
    entry **slots; /* open addressing, linear probing; NULL empty, TOMB deleted */
    size_t cap, count, used;
    size_t bytes, limit;
    size_t keep_max, kept_bytes;
    int nkept;
    kept kept[KEEP_SLOTS];
};

static entry tomb_entry;
#define TOMB (&tomb_entry)

static size_t hash_id(wb_oid id)
{
    uint64_t x = id;
    return (size_t)wb_splitmix64(&x);
}

wb_store *wb_store_new(uint64_t id_prefix)
{
    wb_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->prefix = id_prefix;
    s->next = 1;
    s->cap = 1024;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    return s;
}

/* a freed object's buffer: kept for reuse when the store keeps buffers and
 * it is big, else freed */
static void buf_release(wb_store *s, void *buf)
{
    if (!buf) return;
    if (s && s->keep_max) {
        size_t size = malloc_usable_size(buf);
        if (size >= KEEP_MIN) {
            pthread_mutex_lock(&s->mu);
            int keep = s->nkept < KEEP_SLOTS && size <= s->keep_max - s->kept_bytes &&
                       (!s->limit || s->bytes + s->kept_bytes + size <= s->limit);
            if (keep) {
                s->kept[s->nkept++] = (kept){buf, size, wb_now()};
                s->kept_bytes += size;
            }
            pthread_mutex_unlock(&s->mu);
            if (keep) return;
        }
    }
    free(buf);
}

static void entry_free(wb_store *s, entry *e)
{
    buf_release(s, e->buf);
    wb_mapping_unref(e->map);
    free(e->errmsg);
    free(e);
}

void wb_store_keep_buffers(wb_store *s, size_t max_bytes)
{
    pthread_mutex_lock(&s->mu);
    s->keep_max = max_bytes;
    pthread_mutex_unlock(&s->mu);
    if (!max_bytes) wb_store_trim_buffers(s, 0);
}

static int shed_kept(wb_store *s, size_t extra, void **out);

void *wb_store_take_buffer(wb_store *s, size_t size)
{
    if (size < KEEP_MIN) return NULL;
    void *p = NULL, *shed[KEEP_SLOTS];
    int nshed = 0;
    pthread_mutex_lock(&s->mu);
    /* the smallest that holds it, and no more than a quarter larger (a kept
     * buffer's extra bytes are memory the store does not count) */
    int best = -1;
    for (int i = 0; i < s->nkept; i++)
        if (s->kept[i].size >= size && s->kept[i].size - size <= size / 4 &&
            (best < 0 || s->kept[i].size < s->kept[best].size))
            best = i;
    if (best >= 0) {
        p = s->kept[best].p;
        s->kept_bytes -= s->kept[best].size;
        s->kept[best] = s->kept[--s->nkept];
    } else {
        nshed = shed_kept(s, size, shed); /* the caller allocates size bytes */
    }
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < nshed; i++) free(shed[i]);
    return p;
}

void wb_store_trim_buffers(wb_store *s, double max_age)
{
    void *out[KEEP_SLOTS];
    int n = 0;
    double now = wb_now();
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nkept;) {
        if (now - s->kept[i].since >= max_age) {
            out[n++] = s->kept[i].p;
            s->kept_bytes -= s->kept[i].size;
            s->kept[i] = s->kept[--s->nkept];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < n; i++) free(out[i]);
}

size_t wb_store_kept_bytes(wb_store *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->kept_bytes;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void wb_store_free(wb_store *s)
{
    if (!s) return;
    for (int i = 0; i < s->nkept; i++) free(s->kept[i].p);
    s->nkept = 0;
    s->keep_max = 0; /* (the entries below are freed, not kept) */
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i] && s->slots[i] != TOMB) entry_free(s, s->slots[i]);
    free(s->slots);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static entry **find_slot(wb_store *s, wb_oid id)
{
    size_t mask = s->cap - 1, i = hash_id(id) & mask;
    for (;;) {
        entry *e = s->slots[i];
        if (!e) return NULL;
        if (e != TOMB && e->id == id) return &s->slots[i];
        i = (i + 1) & mask;
    }
}

static entry *find(wb_store *s, wb_oid id)
{
    entry **p = find_slot(s, id);
    return p ? *p : NULL;
}

static int grow(wb_store *s)
{
    size_t cap = s->count * 4 > s->cap ? s->cap * 2 : s->cap; /* rehash also clears tombs */
    entry **slots = calloc(cap, sizeof *slots);
    if (!slots) return WB_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        entry *e = s->slots[i];
        if (!e || e == TOMB) continue;
        size_t j = hash_id(e->id) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = e;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    s->used = s->count;
    return 0;
}

static int insert(wb_store *s, entry *e)
{
    if ((s->used + 1) * 4 > s->cap * 3 && grow(s)) return WB_ENOMEM;
    size_t mask = s->cap - 1, i = hash_id(e->id) & mask;
    while (s->slots[i] && s->slots[i] != TOMB) i = (i + 1) & mask;
    if (!s->slots[i]) s->used++;
    s->slots[i] = e;
    s->count++;
    return 0;
}

static int reserve_locked(wb_store *s, wb_oid id)
{
    if (find(s, id)) return wb_seterr(WB_EEXIST, "object %llx exists", (unsigned long long)id);
    entry *e = calloc(1, sizeof *e);
    if (!e) return wb_seterr(WB_ENOMEM, "out of memory");
    e->id = id;
    e->refs = 1;
    e->state = WB_ST_PENDING;
    if (insert(s, e)) {
        free(e);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    return 0;
}

int wb_store_reserve(wb_store *s, wb_oid *out)
{
    pthread_mutex_lock(&s->mu);
    wb_oid id = (s->prefix << 40) | (s->next++ & (((uint64_t)1 << 40) - 1));
    int rc = reserve_locked(s, id);
    pthread_mutex_unlock(&s->mu);
    if (!rc) *out = id;
    return rc;
}

int wb_store_reserve_id(wb_store *s, wb_oid id)
{
    pthread_mutex_lock(&s->mu);
    int rc = reserve_locked(s, id);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int check_limit(wb_store *s, size_t bytes)
{
    if (s->limit && s->bytes + bytes > s->limit)
        return wb_seterr(WB_ELIMIT,
                         "memory limit: an object of %zu bytes would bring the store to %zu of "
                         "%zu bytes",
                         bytes, s->bytes + bytes, s->limit);
    return 0;
}

/* kept buffers that objects (and extra bytes about to be allocated) need
 * the room of (under the lock; the caller frees them after it): the oldest
 * first */
static int shed_kept(wb_store *s, size_t extra, void **out)
{
    int n = 0;
    while (s->limit && s->nkept && s->bytes + s->kept_bytes + extra > s->limit) {
        int old = 0;
        for (int i = 1; i < s->nkept; i++)
            if (s->kept[i].since < s->kept[old].since) old = i;
        out[n++] = s->kept[old].p;
        s->kept_bytes -= s->kept[old].size;
        s->kept[old] = s->kept[--s->nkept];
    }
    return n;
}

static int fulfill(wb_store *s, wb_oid id, const wb_obj *obj, void *buf, wb_mapping *map,
                   size_t bytes)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, id);
    int rc = 0;
    if (!e)
        rc = wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
    else if (e->state != WB_ST_PENDING)
        rc = wb_seterr(WB_ESTATE, "object %llx already set", (unsigned long long)id);
    else if ((rc = check_limit(s, bytes)) != 0) {
        e->state = WB_ST_FAILED;
        e->err = rc;
        e->errmsg = wb_strdup(wb_errmsg());
        pthread_cond_broadcast(&s->cv);
    }
    if (rc) {
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    e->obj = *obj;
    e->buf = buf;
    e->map = map;
    if (map) wb_mapping_ref(map);
    e->bytes = bytes;
    s->bytes += bytes;
    e->state = WB_ST_READY;
    pthread_cond_broadcast(&s->cv);
    void *shed[KEEP_SLOTS];
    int nshed = shed_kept(s, 0, shed);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < nshed; i++) free(shed[i]);
    return 0;
}

int wb_store_fulfill_bytes(wb_store *s, wb_oid id, void *buf, size_t size)
{
    wb_obj o = {.type = WB_OBJ_BYTES, .size = size, .data = buf};
    int rc = fulfill(s, id, &o, buf, NULL, size);
    if (rc) free(buf);
    return rc;
}

int wb_store_fulfill_part(wb_store *s, wb_oid id, const wb_part *p, void *buf, wb_mapping *m)
{
    size_t payload = (size_t)p->rows * (size_t)p->cols * 8 + (p->y ? (size_t)p->rows * 8 : 0);
    wb_obj o = {.type = WB_OBJ_PART, .size = payload, .data = NULL, .part = *p};
    int rc = fulfill(s, id, &o, buf, m, m ? 0 : payload);
    if (rc) free(buf);
    return rc;
}

int wb_store_fail(wb_store *s, wb_oid id, int code, const char *msg)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, id);
    if (e && e->state == WB_ST_PENDING) {
        e->state = WB_ST_FAILED;
        e->err = code ? code : WB_EINTERNAL;
        e->errmsg = wb_strdup(msg && *msg ? msg : wb_strerror(e->err));
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int wb_store_put_bytes(wb_store *s, const void *data, size_t size, wb_oid *out)
{
    void *buf = malloc(size ? size : 1);
    if (!buf) return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes)", size);
    if (size) memcpy(buf, data, size);
    wb_oid id;
    int rc = wb_store_reserve(s, &id);
    if (rc) {
        free(buf);
        return rc;
    }
    rc = wb_store_fulfill_bytes(s, id, buf, size);
    if (rc) {
        wb_store_unref(s, id);
        return rc;
    }
    *out = id;
    return 0;
}

int wb_store_put_part(wb_store *s, const wb_part *p, wb_oid *out)
{
    size_t nx = (size_t)p->rows * (size_t)p->cols, ny = p->y ? (size_t)p->rows : 0;
    double *buf = wb__alloc_big((nx + ny) * 8 + 8);
    if (!buf) return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes)", (nx + ny) * 8);
    if (nx) memcpy(buf, p->x, nx * 8);
    if (ny) memcpy(buf + nx, p->y, ny * 8);
    wb_part q = *p;
    q.x = buf;
    q.y = ny ? buf + nx : NULL;
    wb_oid id;
    int rc = wb_store_reserve(s, &id);
    if (rc) {
        free(buf);
        return rc;
    }
    rc = wb_store_fulfill_part(s, id, &q, buf, NULL);
    if (rc) {
        wb_store_unref(s, id);
        return rc;
    }
    *out = id;
    return 0;
}

int wb_store_wait(wb_store *s, wb_oid id)
{
    pthread_mutex_lock(&s->mu);
    entry *e;
    int rc = 0;
    for (;;) {
        e = find(s, id);
        if (!e) {
            rc = wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
            break;
        }
        if (e->state == WB_ST_READY) break;
        if (e->state == WB_ST_FAILED) {
            rc = wb_seterr(e->err, "%s", e->errmsg ? e->errmsg : wb_strerror(e->err));
            break;
        }
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int wb_store_acquire(wb_store *s, wb_oid id, wb_obj *out)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, id);
    int rc = 0;
    if (!e)
        rc = wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
    else if (e->state == WB_ST_FAILED)
        rc = wb_seterr(e->err, "%s", e->errmsg ? e->errmsg : wb_strerror(e->err));
    else if (e->state != WB_ST_READY)
        rc = wb_seterr(WB_ESTATE, "object %llx is not ready", (unsigned long long)id);
    else {
        e->refs++;
        *out = e->obj;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int wb_store_ref(wb_store *s, wb_oid id)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, id);
    if (e) e->refs++;
    pthread_mutex_unlock(&s->mu);
    return e ? 0 : wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
}

void wb_store_unref(wb_store *s, wb_oid id)
{
    entry *dead = NULL;
    pthread_mutex_lock(&s->mu);
    entry **slot = find_slot(s, id);
    if (slot && --(*slot)->refs == 0) {
        dead = *slot;
        *slot = TOMB;
        s->count--;
        s->bytes -= dead->bytes;
        pthread_cond_broadcast(&s->cv); /* a waiter on it must learn it is gone */
    }
    pthread_mutex_unlock(&s->mu);
    if (dead) entry_free(s, dead);
}

int wb__store_take_bytes(wb_store *s, wb_oid id, int refs, void **buf)
{
    *buf = NULL;
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, id);
    if (e && e->state == WB_ST_READY && e->refs == refs && e->obj.type == WB_OBJ_BYTES && e->buf && !e->map &&
        e->obj.data == e->buf) {
        *buf = e->buf;
        e->buf = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    return *buf != NULL;
}

int wb_store_state(wb_store *s, wb_oid id)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, id);
    int st = e ? e->state : -1;
    pthread_mutex_unlock(&s->mu);
    return st;
}

size_t wb_store_count(wb_store *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t wb_store_bytes(wb_store *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->bytes;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int wb__store_room(wb_store *s, size_t bytes)
{
    pthread_mutex_lock(&s->mu);
    int rc = check_limit(s, bytes);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void wb_store_set_limit(wb_store *s, size_t bytes)
{
    pthread_mutex_lock(&s->mu);
    s->limit = bytes;
    pthread_mutex_unlock(&s->mu);
}

int wb_store_stat(wb_store *s, wb_oid id, wb_objstat *out)
{
    wb_obj o;
    int rc = wb_store_acquire(s, id, &o);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    out->type = o.type;
    out->size = o.size;
    if (o.type == WB_OBJ_PART) {
        out->rows = o.part.rows;
        out->cols = o.part.cols;
        out->row0 = o.part.row0;
        out->has_y = o.part.y != NULL;
    }
    wb_store_unref(s, id);
    return 0;
}

int wb_store_get_bytes(wb_store *s, wb_oid id, void **data, size_t *size)
{
    wb_obj o;
    int rc = wb_store_acquire(s, id, &o);
    if (rc) return rc;
    size_t n = o.type == WB_OBJ_PART ? wb_part_encoded_size(&o.part) : o.size;
    void *p = malloc(n ? n : 1);
    if (!p) {
        wb_store_unref(s, id);
        return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes)", n);
    }
    if (o.type == WB_OBJ_PART)
        wb_part_encode(&o.part, p);
    else if (n)
        memcpy(p, o.data, n);
    wb_store_unref(s, id);
    *data = p;
    *size = n;
    return 0;
}

int wb_store_largest(wb_store *s, wb_storeitem *out, int max)
{
    int n = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->cap && max > 0; i++) {
        entry *e = s->slots[i];
        if (!e || e == TOMB || e->state != WB_ST_READY) continue;
        size_t size = e->obj.size;
        if (n == max && out[n - 1].stat.size >= size) continue;
        int k = n < max ? n++ : max - 1;
        while (k > 0 && out[k - 1].stat.size < size) {
            out[k] = out[k - 1];
            k--;
        }
        memset(&out[k], 0, sizeof out[k]);
        out[k].id = e->id;
        out[k].stat.type = e->obj.type;
        out[k].stat.size = size;
        if (e->obj.type == WB_OBJ_PART) {
            out[k].stat.rows = e->obj.part.rows;
            out[k].stat.cols = e->obj.part.cols;
            out[k].stat.row0 = e->obj.part.row0;
            out[k].stat.has_y = e->obj.part.y != NULL;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}
