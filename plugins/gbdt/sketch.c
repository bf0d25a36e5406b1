/* sketch.c — a mergeable quantile sketch for the bin edges.
 *
 * A feature's summary is a sorted list of at most GB_SKETCH_CAP distinct
 * values with integer weights. Each 4096-row block is summarised on its own
 * (its sampled values sorted, equal values merged, then compressed when there
 * are too many); summaries merge by a merge of the sorted lists followed by
 * the same compression. Blocks are merged in a fixed binary tree over their
 * global indices (as map_sum adds vectors), so the edges depend only on the
 * data, never on how it is split into partitions or workers. While a feature
 * has few distinct values the summary is exact and every value gets its own
 * bin. */
#include <math.h>
#include <stdlib.h>

#include "gbdt.h"

gb_sknode *gb_sk_new(int64_t d, int K)
{
    gb_sknode *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->d = d;
    s->K = K;
    s->ymin = INFINITY;
    s->ymax = -INFINITY;
    s->counts = calloc((size_t)(K > 0 ? K : 1), sizeof *s->counts);
    s->f = calloc((size_t)(d > 0 ? d : 1), sizeof *s->f);
    s->store = malloc((size_t)(d > 0 ? d : 1) * GB_SKETCH_CAP * sizeof *s->store);
    if (!s->counts || !s->f || !s->store) {
        gb_sk_free(s);
        return NULL;
    }
    for (int64_t j = 0; j < d; j++) s->f[j].p = s->store + j * GB_SKETCH_CAP;
    return s;
}

void gb_sk_free(gb_sknode *s)
{
    if (!s) return;
    free(s->counts);
    free(s->f);
    free(s->store);
    free(s);
}

/* sort n doubles (no NaN) ascending: LSD radix sort on order-preserving
 * integer keys, 8 bits a pass, passes where every key has the same byte
 * skipped; tmp holds n uint64 */
static void sort_doubles(double *v, int64_t n, uint64_t *tmp)
{
    uint64_t *a = (uint64_t *)v, *b = tmp;
    for (int64_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        a[i] = (u >> 63) ? ~u : u | 0x8000000000000000ULL;
    }
    for (int sh = 0; sh < 64; sh += 8) {
        int64_t cnt[256] = {0};
        for (int64_t i = 0; i < n; i++) cnt[(a[i] >> sh) & 255]++;
        if (n == 0 || cnt[(a[0] >> sh) & 255] == n) continue;
        int64_t at = 0;
        for (int q = 0; q < 256; q++) {
            int64_t c = cnt[q];
            cnt[q] = at;
            at += c;
        }
        for (int64_t i = 0; i < n; i++) b[cnt[(a[i] >> sh) & 255]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t u = a[i];
        u = (u >> 63) ? u & 0x7fffffffffffffffULL : ~u;
        memcpy(&v[i], &u, 8);
    }
}

/* m sorted distinct points -> at most cap points (groups of consecutive
 * points by the midpoint of their weight interval; a group keeps the value of
 * the point where its weight crosses half, and the group's weight) */
static int compress(const gb_skpt *in, int64_t m, int cap, gb_skpt *out)
{
    if (m <= cap) {
        memmove(out, in, (size_t)m * sizeof *in);
        return (int)m;
    }
    int64_t W = 0;
    for (int64_t i = 0; i < m; i++) W += in[i].w;
    int n = 0;
    int64_t cum = 0, i = 0;
    /* the group of a point is floor(mid cap / 2W), mid = 2 cum + w the middle
     * of its weight interval; groups rise with mid, so walk their upper
     * boundaries ceil((g + 1) 2W / cap) instead of dividing for every point */
    const int64_t twoW = 2 * W;
    int64_t g = 0, bnd = (twoW + cap - 1) / cap;
    while (i < m) {
        int64_t mid = 2 * cum + in[i].w;
        while (mid >= bnd) {
            g++;
            bnd = (int64_t)(((__int128)(g + 1) * twoW + cap - 1) / cap);
        }
        int64_t j = i, gw = 0, c2 = cum;
        while (j < m && 2 * c2 + in[j].w < bnd) {
            gw += in[j].w;
            c2 += in[j].w;
            j++;
        }
        /* the value where the group's weight crosses half */
        int64_t half = 0, pick = i;
        for (int64_t q = i; q < j; q++) {
            half += in[q].w;
            if (2 * half >= gw) {
                pick = q;
                break;
            }
        }
        out[n].v = in[pick].v;
        out[n].w = gw;
        n++;
        cum = c2;
        i = j;
    }
    return n;
}

int gb_sk_block(gb_sknode *s, const double *x, int64_t rows, int64_t d, const unsigned char *keep,
                double *scratch)
{
    for (int64_t j = 0; j < d; j++) {
        int64_t m = 0, nan = 0;
        for (int64_t i = 0; i < rows; i++) {
            if (!keep[i]) continue;
            double v = x[i * d + j];
            if (isnan(v))
                nan++;
            else
                scratch[m++] = v;
        }
        sort_doubles(scratch, m, (uint64_t *)(scratch + 3 * WB_BLOCK_ROWS));
        /* distinct values with counts, in place over a point array */
        gb_skpt *pts = (gb_skpt *)(scratch + WB_BLOCK_ROWS);
        int64_t k = 0;
        for (int64_t i = 0; i < m; i++) {
            if (k > 0 && pts[k - 1].v == scratch[i])
                pts[k - 1].w++;
            else
                pts[k++] = (gb_skpt){scratch[i], 1};
        }
        gb_fsum *f = &s->f[j];
        f->nan = nan;
        f->compressed = k > GB_SKETCH_CAP;
        f->n = compress(pts, k, GB_SKETCH_CAP, f->p);
    }
    return 0;
}

int gb_sk_merge(gb_sknode *a, const gb_sknode *b, gb_skpt *scratch)
{
    a->ntrain += b->ntrain;
    a->ysum += b->ysum;
    if (b->ymin < a->ymin) a->ymin = b->ymin;
    if (b->ymax > a->ymax) a->ymax = b->ymax;
    for (int k = 0; k < a->K; k++) a->counts[k] += b->counts[k];
    for (int64_t j = 0; j < a->d; j++) {
        gb_fsum *fa = &a->f[j];
        const gb_fsum *fb = &b->f[j];
        int64_t i = 0, q = 0, m = 0;
        while (i < fa->n || q < fb->n) {
            gb_skpt p;
            if (q >= fb->n || (i < fa->n && fa->p[i].v < fb->p[q].v))
                p = fa->p[i++];
            else if (i >= fa->n || fb->p[q].v < fa->p[i].v)
                p = fb->p[q++];
            else {
                p = fa->p[i++];
                p.w += fb->p[q++].w;
            }
            scratch[m++] = p;
        }
        fa->compressed = fa->compressed || fb->compressed || m > GB_SKETCH_CAP;
        fa->nan += fb->nan;
        fa->n = compress(scratch, m, GB_SKETCH_CAP, fa->p);
    }
    return 0;
}

/* encoding: u32 level, u32 pad, u64 index, i64 ntrain, f64 ysum, ymin, ymax,
 * i64 counts[K], then per feature i32 n, i32 compressed, i64 nan, n points */
size_t gb_sk_encoded_size(const gb_sknode *s)
{
    size_t z = 48 + 8 * (size_t)s->K;
    for (int64_t j = 0; j < s->d; j++) z += 16 + (size_t)s->f[j].n * sizeof(gb_skpt);
    return z;
}

void gb_sk_encode(const gb_sknode *s, unsigned char *o)
{
    uint32_t pad = 0;
    memcpy(o, &s->level, 4);
    memcpy(o + 4, &pad, 4);
    memcpy(o + 8, &s->index, 8);
    memcpy(o + 16, &s->ntrain, 8);
    memcpy(o + 24, &s->ysum, 8);
    memcpy(o + 32, &s->ymin, 8);
    memcpy(o + 40, &s->ymax, 8);
    o += 48;
    memcpy(o, s->counts, 8 * (size_t)s->K);
    o += 8 * (size_t)s->K;
    for (int64_t j = 0; j < s->d; j++) {
        const gb_fsum *f = &s->f[j];
        memcpy(o, &f->n, 4);
        memcpy(o + 4, &f->compressed, 4);
        memcpy(o + 8, &f->nan, 8);
        memcpy(o + 16, f->p, (size_t)f->n * sizeof(gb_skpt));
        o += 16 + (size_t)f->n * sizeof(gb_skpt);
    }
}

int gb_sk_decode(const unsigned char *src, size_t size, int64_t d, int K, gb_sknode **out,
                 size_t *used)
{
    size_t need = 48 + 8 * (size_t)K;
    if (size < need) return H->seterr(WB_EFORMAT, "gbdt: truncated sketch");
    gb_sknode *s = gb_sk_new(d, K);
    if (!s) return H->seterr(WB_ENOMEM, "out of memory");
    memcpy(&s->level, src, 4);
    memcpy(&s->index, src + 8, 8);
    memcpy(&s->ntrain, src + 16, 8);
    memcpy(&s->ysum, src + 24, 8);
    memcpy(&s->ymin, src + 32, 8);
    memcpy(&s->ymax, src + 40, 8);
    memcpy(s->counts, src + 48, 8 * (size_t)K);
    size_t at = need;
    for (int64_t j = 0; j < d; j++) {
        gb_fsum *f = &s->f[j];
        if (size - at < 16) goto bad;
        memcpy(&f->n, src + at, 4);
        memcpy(&f->compressed, src + at + 4, 4);
        memcpy(&f->nan, src + at + 8, 8);
        at += 16;
        if (f->n < 0 || f->n > GB_SKETCH_CAP || (size - at) / sizeof(gb_skpt) < (size_t)f->n) goto bad;
        memcpy(f->p, src + at, (size_t)f->n * sizeof(gb_skpt));
        at += (size_t)f->n * sizeof(gb_skpt);
    }
    *out = s;
    *used = at;
    return 0;
bad:
    gb_sk_free(s);
    return H->seterr(WB_EFORMAT, "gbdt: malformed sketch");
}

/* a threshold between a < b: a <= t < b */
static double between(double a, double b)
{
    double t = a / 2 + b / 2;
    if (!(a <= t && t < b)) t = a;
    return t;
}

int gb_sk_edges(const gb_fsum *f, int max_bins, double *edges)
{
    int n = f->n, ne = 0;
    if (n <= 1) return 1;
    if (!f->compressed && n <= max_bins) {
        for (int i = 0; i + 1 < n; i++) edges[ne++] = between(f->p[i].v, f->p[i + 1].v);
        return ne + 1;
    }
    int64_t W = 0;
    for (int i = 0; i < n; i++) W += f->p[i].w;
    int64_t cum = 0;
    int i = 0;
    for (int b = 1; b < max_bins; b++) {
        /* the first point whose cumulative weight reaches b/max_bins of W */
        while (i < n && (cum + f->p[i].w) * (__int128)max_bins < (__int128)b * W) cum += f->p[i++].w;
        if (i >= n - 1) break;
        double e = between(f->p[i].v, f->p[i + 1].v);
        if (ne == 0 || e > edges[ne - 1]) edges[ne++] = e;
    }
    return ne + 1;
}
