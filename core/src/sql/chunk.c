/* sql/chunk.c — the rows one partition's query returned, as its task keeps
 * them, and the two kernels that turn such chunks into a dataset.
 *
 * A chunk ("WBSQ" bytes, one task's output) holds its rows as numbers,
 * row-major (the features, then the labels apart), with a text column's
 * values as codes of the chunk's own levels, in the order first seen; and
 * per column what kinds of values were seen (numbers, text) and where first.
 *
 *   sql.info      a chunk's rows, kinds and levels (small: no rows), for the
 *                 driver to merge the levels into their sorted union
 *   sql.assemble  one partition of the dataset (wb_partition_rows rows,
 *                 aligned to blocks) from the chunks that hold its rows,
 *                 each text column's codes mapped to the dataset's levels
 *                 (the maps: one object per chunk, made by the driver)
 *   sql.remap     a partition with its codes mapped (direct mode: a single
 *                 read on the local executor puts its rows in the store as
 *                 the dataset's partitions while they arrive)
 *
 * The chunk's buffer grows by realloc (large ones are remapped, not copied)
 * and is handed to the store as the task's output without a copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

typedef struct chunk_hdr {
    char magic[4];
    uint32_t version;
    int64_t rows, d, has_y;
    int64_t y_off, info_off, info_size;
    int64_t pad;
} chunk_hdr; /* 64 bytes: x follows at once */

/* per column in the info section */
typedef struct info_rec {
    uint8_t seen, pad[3];
    uint32_t nlevels;
    int64_t first_num, first_text;
} info_rec;

static int64_t rows_read; /* atomic: rows read by the tasks of this process */

int64_t wb__sql_rows_read(void) { return __atomic_load_n(&rows_read, __ATOMIC_RELAXED); }

int wb__sql_chunk_init(sql_chunk *c, int64_t d, int has_y, int64_t max_levels)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    c->has_y = has_y;
    c->ncol = d + (has_y != 0);
    c->max_levels = max_levels > 0 ? max_levels : WB_MAX_LEVELS;
    size_t n = (size_t)c->ncol + 1;
    c->dict = calloc(n, sizeof *c->dict);
    c->seen = calloc(n, 1);
    c->first_num = malloc(n * 8);
    c->first_text = malloc(n * 8);
    if (!c->dict || !c->seen || !c->first_num || !c->first_text) {
        wb__sql_chunk_free(c);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < n; j++) c->first_num[j] = c->first_text[j] = -1;
    return 0;
}

void wb__sql_chunk_direct(sql_chunk *c, wb_store *store, int64_t prows)
{
    c->store = store;
    c->prows = prows;
}

void wb__sql_chunk_free(sql_chunk *c)
{
    for (int64_t i = 0; c->parts && i < c->nparts; i++) wb_store_unref(c->store, c->parts[i]);
    free(c->parts);
    free(c->block);
    c->parts = NULL;
    c->block = NULL;
    c->nparts = 0;
    for (int64_t j = 0; c->dict && j < c->ncol; j++) wb__csv_dict_free(&c->dict[j]);
    free(c->dict);
    free(c->seen);
    free(c->first_num);
    free(c->first_text);
    free(c->buf);
    free(c->y);
    c->dict = NULL;
    c->seen = NULL;
    c->first_num = c->first_text = NULL;
    c->buf = NULL;
    c->y = NULL;
}

const char *wb__sql_chunk_name(const sql_chunk *c, int64_t j, char *buf, size_t cap)
{
    if (c->names && c->names[j] && c->names[j][0]) snprintf(buf, cap, "column \"%.100s\"", c->names[j]);
    else snprintf(buf, cap, "column %lld", (long long)j + 1);
    return buf;
}

/* room for one more row */
static int grow(sql_chunk *c)
{
    int64_t cap = c->cap ? c->cap * 2 : 4096;
    size_t xbytes = (size_t)cap * (size_t)(c->d > 0 ? c->d : 1) * 8;
    if (c->ctx && wb__out_room(c->ctx, xbytes + (size_t)cap * 8)) return WB_ENOMEM;
    unsigned char *b = realloc(c->buf, sizeof(chunk_hdr) + xbytes);
    if (!b) return wb_seterr(WB_ENOMEM, "%s: out of memory (%lld rows read)", c->where ? c->where : "sql",
                             (long long)c->rows);
    c->buf = b;
    if (c->has_y) {
        double *y = realloc(c->y, (size_t)cap * 8);
        if (!y) return wb_seterr(WB_ENOMEM, "%s: out of memory (%lld rows read)", c->where ? c->where : "sql",
                                 (long long)c->rows);
        c->y = y;
    }
    c->cap = cap;
    return 0;
}

/* direct mode: the current partition into the store */
static int flush_block(sql_chunk *c)
{
    if (!c->inblock) return 0;
    if (c->nparts == c->capparts) {
        int64_t cap = c->capparts ? c->capparts * 2 : 16;
        wb_oid *p = realloc(c->parts, (size_t)cap * sizeof *p);
        if (!p) return wb_seterr(WB_ENOMEM, "out of memory");
        c->parts = p;
        c->capparts = cap;
    }
    wb_oid id;
    int rc = wb_store_reserve(c->store, &id);
    if (rc) return rc;
    wb_part part = {c->inblock, c->d, c->rows - c->inblock, c->block,
                    c->has_y ? c->block + (size_t)c->prows * (size_t)c->d : NULL};
    rc = wb_store_fulfill_part(c->store, id, &part, c->block, NULL); /* takes the block */
    c->block = NULL;
    c->inblock = 0;
    if (rc) {
        wb_store_unref(c->store, id);
        return rc;
    }
    c->parts[c->nparts++] = id;
    return 0;
}

static int add_direct(sql_chunk *c, const double *r)
{
    if (!c->block) {
        size_t bytes = (size_t)c->prows * (size_t)(c->d + (c->has_y != 0)) * 8;
        if (c->ctx && wb__out_room(c->ctx, bytes)) return WB_ENOMEM;
        c->block = wb__alloc_big(bytes + 8);
        if (!c->block) return wb_seterr(WB_ENOMEM, "%s: out of memory (%lld rows read)", c->where ? c->where : "sql",
                                        (long long)c->rows);
    }
    memcpy(c->block + (size_t)c->inblock * (size_t)c->d, r, (size_t)c->d * 8);
    if (c->has_y) c->block[(size_t)c->prows * (size_t)c->d + (size_t)c->inblock] = r[c->d];
    c->inblock++;
    c->rows++;
    if ((c->rows & 0xfff) == 0) __atomic_fetch_add(&rows_read, 0x1000, __ATOMIC_RELAXED);
    return c->inblock == c->prows ? flush_block(c) : 0;
}

int wb__sql_chunk_add(sql_chunk *c, const double *r)
{
    if (c->store) return add_direct(c, r);
    if (c->rows == c->cap) {
        int rc = grow(c);
        if (rc) return rc;
    }
    double *x = (double *)(c->buf + sizeof(chunk_hdr)) + (size_t)c->rows * (size_t)c->d;
    memcpy(x, r, (size_t)c->d * 8);
    if (c->has_y) c->y[c->rows] = r[c->d];
    c->rows++;
    if ((c->rows & 0xfff) == 0) __atomic_fetch_add(&rows_read, 0x1000, __ATOMIC_RELAXED);
    return 0;
}

int wb__sql_chunk_text(sql_chunk *c, int64_t j, const char *s, size_t n, double *code)
{
    int64_t k = wb__csv_dict_put(&c->dict[j], s, n);
    if (k < 0) return wb_seterr(WB_ENOMEM, "out of memory");
    if (k >= c->max_levels) {
        char nm[128];
        return wb_seterr(WB_ELIMIT,
                         "%s: %s: more than %lld distinct values (the limit of levels of a category column, "
                         "max_levels = %lld; dtype = {...= \"number\"} if it holds numbers)",
                         c->where ? c->where : "sql", wb__sql_chunk_name(c, j, nm, sizeof nm), (long long)c->max_levels,
                         (long long)c->max_levels);
    }
    *code = (double)k;
    return 0;
}

int wb__sql_chunk_out(sql_chunk *c, wb_kctx *ctx)
{
    wb_buf info = {0};
    int rc = 0;
    if (c->store) { /* direct: the info, then the partitions */
        int64_t head[2] = {c->rows, c->ncol};
        rc = flush_block(c);
        if (!rc) rc = wb_buf_add(&info, head, sizeof head) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    }
    if (rc) return rc;
    for (int64_t j = 0; !rc && j < c->ncol; j++) {
        info_rec r = {c->seen[j], {0}, c->dict[j].n, c->first_num[j], c->first_text[j]};
        rc = wb_buf_add(&info, &r, sizeof r);
    }
    for (int64_t j = 0; !rc && j < c->ncol; j++) {
        const wb_csv_dict *t = &c->dict[j];
        for (uint32_t k = 0; !rc && k < t->n; k++) {
            rc = wb_buf_add(&info, &t->len[k], 4);
            if (!rc) rc = wb_buf_add(&info, t->text.p + t->off[k], t->len[k]);
        }
    }
    static const char zeros[8] = {0};
    if (!rc && info.len % 8) rc = wb_buf_add(&info, zeros, 8 - info.len % 8);
    if (!rc && c->store) {
        rc = wb_buf_add(&info, &c->nparts, 8) || wb_buf_add(&info, c->parts, (size_t)c->nparts * sizeof *c->parts);
        if (!rc) {
            __atomic_fetch_add(&rows_read, c->rows & 0xfff, __ATOMIC_RELAXED);
            rc = wb__out_bytes_take(ctx, info.p, info.len);
            info.p = NULL;
            if (!rc) c->nparts = 0; /* their references are the output's reader's now */
            return rc;
        }
    }
    if (rc) {
        wb_buf_free(&info);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    size_t xb = (size_t)c->rows * (size_t)c->d * 8, yb = c->has_y ? (size_t)c->rows * 8 : 0;
    size_t total = sizeof(chunk_hdr) + xb + yb + info.len;
    unsigned char *b = realloc(c->buf, total);
    if (!b) {
        wb_buf_free(&info);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    c->buf = NULL;
    chunk_hdr h = {{'W', 'B', 'S', 'Q'}, 1, c->rows, c->d, c->has_y,
                   (int64_t)(sizeof h + xb), (int64_t)(sizeof h + xb + yb), (int64_t)info.len, 0};
    memcpy(b, &h, sizeof h);
    if (yb) memcpy(b + h.y_off, c->y, yb);
    if (info.len) memcpy(b + h.info_off, info.p, info.len);
    wb_buf_free(&info);
    __atomic_fetch_add(&rows_read, c->rows & 0xfff, __ATOMIC_RELAXED);
    return wb__out_bytes_take(ctx, b, total);
}

/* a chunk object's parts */
static int chunk_view(const wb_obj *o, chunk_hdr *h, const double **x, const double **y)
{
    if (o->type != WB_OBJ_BYTES || o->size < sizeof *h) return wb_seterr(WB_EINVAL, "sql: bad chunk bytes");
    memcpy(h, o->data, sizeof *h);
    size_t xb;
    if (memcmp(h->magic, "WBSQ", 4) != 0 || h->version != 1 || h->rows < 0 || h->d < 0 || h->info_size < 0 ||
        __builtin_mul_overflow((size_t)h->rows, (size_t)h->d * 8, &xb) ||
        h->y_off != (int64_t)(sizeof *h + xb) ||
        h->info_off != h->y_off + (h->has_y ? h->rows * 8 : 0) || (size_t)(h->info_off + h->info_size) != o->size)
        return wb_seterr(WB_EINVAL, "sql: bad chunk bytes");
    *x = (const double *)((const unsigned char *)o->data + sizeof *h);
    *y = h->has_y ? (const double *)((const unsigned char *)o->data + h->y_off) : NULL;
    return 0;
}

int wb__sql_info_decode(const void *data, size_t size, int64_t ncol, sql_info *out)
{
    memset(out, 0, sizeof *out);
    const unsigned char *p = data, *e = p + size;
    if (size < 16) return wb_seterr(WB_EINTERNAL, "sql.info: bad result");
    int64_t rows, nc;
    memcpy(&rows, p, 8);
    memcpy(&nc, p + 8, 8);
    p += 16;
    if (rows < 0 || nc != ncol || (size_t)(e - p) / sizeof(info_rec) < (size_t)ncol)
        return wb_seterr(WB_EINTERNAL, "sql.info: bad result");
    out->rows = rows;
    out->ncol = ncol;
    out->col = calloc((size_t)ncol + 1, sizeof *out->col);
    if (!out->col) return wb_seterr(WB_ENOMEM, "out of memory");
    const unsigned char *s = p + (size_t)ncol * sizeof(info_rec);
    for (int64_t j = 0; j < ncol; j++) {
        info_rec r;
        memcpy(&r, p + (size_t)j * sizeof r, sizeof r);
        out->col[j] = (sql_info_col){r.seen, r.nlevels, r.first_num, r.first_text, s};
        for (uint32_t k = 0; k < r.nlevels; k++) {
            uint32_t len;
            if (e - s < 4) goto bad;
            memcpy(&len, s, 4);
            if ((size_t)(e - s - 4) < len) goto bad;
            s += 4 + (size_t)len;
        }
    }
    out->end = (size_t)(s - (const unsigned char *)data);
    out->end = (out->end + 7) / 8 * 8;
    return 0;
bad:
    free(out->col);
    out->col = NULL;
    return wb_seterr(WB_EINTERNAL, "sql.info: bad result");
}

/* sql.info: a chunk -> {i64 rows, i64 ncol, ncol info_rec, the levels} */
static int k_info(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)arg;
    (void)arglen;
    if (nin < 1) return wb_seterr(WB_EINVAL, "sql.info: bad arguments");
    chunk_hdr h;
    const double *x, *y;
    int rc = chunk_view(&in[0], &h, &x, &y);
    if (rc) return rc;
    int64_t ncol = h.d + (h.has_y != 0);
    if ((size_t)h.info_size < (size_t)ncol * sizeof(info_rec)) return wb_seterr(WB_EINVAL, "sql: bad chunk bytes");
    unsigned char *o = wb__out_bytes(ctx, 16 + (size_t)h.info_size);
    if (!o) return WB_ENOMEM;
    memcpy(o, &h.rows, 8);
    memcpy(o + 8, &ncol, 8);
    memcpy(o + 16, (const unsigned char *)in[0].data + h.info_off, (size_t)h.info_size);
    return 0;
}

/* the rows of a piece: a chunk's, or a partition's (direct mode) */
static int piece_view(const wb_obj *o, chunk_hdr *h, const double **x, const double **y)
{
    if (o->type != WB_OBJ_PART) return chunk_view(o, h, x, y);
    memset(h, 0, sizeof *h);
    h->rows = o->part.rows;
    h->d = o->part.cols;
    h->has_y = o->part.y != NULL;
    *x = o->part.x;
    *y = o->part.y;
    return 0;
}

/* sql.assemble: in[0..m) chunks (or partitions), then the map objects; arg: {i64 row0, rows,
 * d, has_y, m}, then per chunk {i64 from, count, map input index or -1}.
 * A map object: {i64 count} then per column {u32 col, u32 n, u32 map[n]}. */
static int k_assemble(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t a[5];
    if (arglen < sizeof a) return wb_seterr(WB_EINVAL, "sql.assemble: bad arguments");
    memcpy(a, arg, sizeof a);
    int64_t row0 = a[0], rows = a[1], d = a[2], has_y = a[3], m = a[4];
    if (rows < 0 || d < 0 || m < 0 || m > nin || arglen != sizeof a + (size_t)m * 24)
        return wb_seterr(WB_EINVAL, "sql.assemble: bad arguments");
    double *x, *y;
    int rc = wb__out_part(ctx, rows, d, row0, has_y != 0, &x, &y);
    if (rc) return rc;
    int64_t done = 0;
    const unsigned char *spec = (const unsigned char *)arg + sizeof a;
    for (int64_t k = 0; k < m; k++) {
        int64_t s[3];
        memcpy(s, spec + k * 24, 24);
        chunk_hdr h;
        const double *cx, *cy;
        if ((rc = piece_view(&in[k], &h, &cx, &cy)) != 0) return rc;
        if (h.d != d || (h.has_y != 0) != (has_y != 0) || s[0] < 0 || s[1] < 0 || s[0] + s[1] > h.rows ||
            done + s[1] > rows || s[2] >= nin || (s[2] >= 0 && s[2] < m))
            return wb_seterr(WB_EINVAL, "sql.assemble: bad arguments");
        double *dx = x + (size_t)done * (size_t)d, *dy = y ? y + done : NULL;
        memcpy(dx, cx + (size_t)s[0] * (size_t)d, (size_t)s[1] * (size_t)d * 8);
        if (dy) memcpy(dy, cy + s[0], (size_t)s[1] * 8);
        if (s[2] >= 0) {
            const wb_obj *mo = &in[s[2]];
            if (mo->type != WB_OBJ_BYTES || mo->size < 8) return wb_seterr(WB_EINVAL, "sql.assemble: bad map");
            const unsigned char *p = mo->data, *e = p + mo->size;
            int64_t count;
            memcpy(&count, p, 8);
            p += 8;
            for (int64_t c = 0; c < count; c++) {
                uint32_t hh[2];
                if (e - p < 8) return wb_seterr(WB_EINVAL, "sql.assemble: bad map");
                memcpy(hh, p, 8);
                p += 8;
                if (!(hh[0] < (uint64_t)d || (hh[0] == (uint64_t)d && has_y)) || (uint64_t)(e - p) / 4 < hh[1])
                    return wb_seterr(WB_EINVAL, "sql.assemble: bad map");
                const unsigned char *map = p;
                p += (size_t)hh[1] * 4;
                int64_t col = hh[0];
                double *v = col == d ? dy : dx + col;
                size_t stride = col == d ? 1 : (size_t)d;
                for (int64_t i = 0; i < s[1]; i++) {
                    double code = v[(size_t)i * stride];
                    if (code != code) continue;
                    if (!(code >= 0 && code < hh[1]))
                        return wb_seterr(WB_EINVAL, "sql.assemble: code %g out of range", code);
                    uint32_t g;
                    memcpy(&g, map + (size_t)code * 4, 4);
                    v[(size_t)i * stride] = g;
                }
            }
        }
        done += s[1];
    }
    if (done != rows) return wb_seterr(WB_EINVAL, "sql.assemble: %lld rows of %lld", (long long)done, (long long)rows);
    return 0;
}

/* sql.remap: in[0] a partition, in[1] a map object (sql.assemble's
 * layout) -> the partition with each mapped column's codes replaced */
static int k_remap(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)arg;
    (void)arglen;
    if (nin < 2 || in[0].type != WB_OBJ_PART || in[1].type != WB_OBJ_BYTES || in[1].size < 8)
        return wb_seterr(WB_EINVAL, "sql.remap: bad arguments");
    const wb_part *p = &in[0].part;
    double *x, *y;
    int rc = wb__out_part(ctx, p->rows, p->cols, p->row0, p->y != NULL, &x, &y);
    if (rc) return rc;
    memcpy(x, p->x, (size_t)p->rows * (size_t)p->cols * 8);
    if (y) memcpy(y, p->y, (size_t)p->rows * 8);
    const unsigned char *m = in[1].data, *e = m + in[1].size;
    int64_t count;
    memcpy(&count, m, 8);
    m += 8;
    for (int64_t c = 0; c < count; c++) {
        uint32_t hh[2];
        if (e - m < 8) return wb_seterr(WB_EINVAL, "sql.remap: bad map");
        memcpy(hh, m, 8);
        m += 8;
        if (!(hh[0] < (uint64_t)p->cols || (hh[0] == (uint64_t)p->cols && y)) || (uint64_t)(e - m) / 4 < hh[1])
            return wb_seterr(WB_EINVAL, "sql.remap: bad map");
        const unsigned char *map = m;
        m += (size_t)hh[1] * 4;
        double *v = hh[0] == (uint64_t)p->cols ? y : x + hh[0];
        size_t stride = hh[0] == (uint64_t)p->cols ? 1 : (size_t)p->cols;
        for (int64_t i = 0; i < p->rows; i++) {
            double code = v[(size_t)i * stride];
            if (code != code) continue;
            if (!(code >= 0 && code < hh[1])) return wb_seterr(WB_EINVAL, "sql.remap: code %g out of range", code);
            uint32_t g;
            memcpy(&g, map + (size_t)code * 4, 4);
            v[(size_t)i * stride] = g;
        }
    }
    return 0;
}

void wb__sql_register_chunk_kernels(void)
{
    wb_register_kernel("sql.info", k_info);
    wb_register_kernel("sql.assemble", k_assemble);
    wb_register_kernel("sql.remap", k_remap);
}
