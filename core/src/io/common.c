/* io/common.c — what the readers and writers share: files (open, pread, a
 * bounded line reader), the names beside a data file (the format from the
 * extension, PATH.meta, NAME.labels.npy), kernel arguments, the rows limit,
 * and the sets of label values counted for .meta. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_internal.h"

/* ------------------------------------------------------------------ files */

const char *wb__file_kind(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file";
}

int wb__open_regular(const char *path, int *fd, int64_t *size, mode_t *mode)
{
    /* O_NONBLOCK: opening a FIFO waits for no writer, a device is not read;
     * what fstat does not call a regular file is closed before any read */
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f < 0) return errno ? errno : EIO;
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return e ? e : EIO;
    }
    *mode = st.st_mode;
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return S_ISDIR(st.st_mode) ? EISDIR : ENODEV;
    }
    int fl = fcntl(f, F_GETFL); /* a regular file: reads block as usual */
    if (fl >= 0) fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = f;
    *size = (int64_t)st.st_size;
    return 0;
}

int wb__io_open(const char *path, const char *name, int *fd, int64_t *size)
{
    mode_t mode = 0;
    int e = wb__open_regular(path, fd, size, &mode);
    if (!e) return 0;
    if (e == EISDIR) return wb_seterr(WB_EIO, "%s: cannot read (a directory, expected a file)", name);
    if (e == ENODEV)
        return wb_seterr(WB_EIO, "%s: cannot read (not a regular file: %s)", name, wb__file_kind(mode));
    return wb_seterr(e == ENOENT ? WB_ENOTFOUND : WB_EIO, "%s: cannot open (%s)", name, strerror(e));
}

int wb__io_nomem(const char *name, size_t bytes)
{
    return wb_seterr(WB_ENOMEM, "%s: out of memory (%zu bytes asked for)", name, bytes);
}

int wb__io_part_err(int rc, const char *name)
{
    /* the memory a partition needs (the machine's, the store's limit, a
     * failed allocation): the message says which file asked for it */
    return rc == WB_ENOMEM || rc == WB_ELIMIT ? wb_preferr(rc, "%s", name) : rc;
}

int wb__io_pread(int fd, void *buf, size_t n, int64_t off, const char *name)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return wb_seterr(WB_EIO, "%s: read error at byte %lld (%s)", name, (long long)off, strerror(errno));
        if (r == 0)
            return wb_seterr(WB_EIO, "%s: the file ended at byte %lld while reading (was it changed?)",
                             name, (long long)off);
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int wb__lines_init(wb_lines *r, int fd, const char *name, int64_t start, int64_t fsize)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->name = name;
    r->fsize = fsize;
    r->base = start;
    /* no bigger than the bytes to read (small files are many), grown for long lines */
    r->cap = WB_IO_BUF;
    if (fsize - start + 1 < (int64_t)r->cap) r->cap = fsize - start + 1 < 4096 ? 4096 : (size_t)(fsize - start + 1);
    r->buf = malloc(r->cap);
    if (!r->buf) return wb_seterr(WB_ENOMEM, "%s: out of memory (a read buffer of %zu bytes)", name, r->cap);
    return 0;
}

void wb__lines_free(wb_lines *r)
{
    free(r->buf);
    r->buf = NULL;
}

int wb__lines_next(wb_lines *r, const char **line, size_t *len, int64_t *off)
{
    for (;;) {
        char *s = r->buf + r->beg;
        size_t avail = r->len - r->beg;
        char *nl = avail ? memchr(s, '\n', avail) : NULL;
        int64_t end_of_data = r->base + (int64_t)r->len;
        if (nl || (end_of_data >= r->fsize && avail > 0)) {
            size_t n = nl ? (size_t)(nl - s) : avail;
            *line = s;
            *off = r->base + (int64_t)r->beg;
            r->beg += n + (nl ? 1 : 0);
            if (n && s[n - 1] == '\r') n--;
            *len = n;
            return 1;
        }
        if (end_of_data >= r->fsize) return 0;
        /* keep the partial line, read more */
        if (r->beg) {
            memmove(r->buf, s, avail);
            r->base += (int64_t)r->beg;
            r->len = avail;
            r->beg = 0;
        }
        if (r->len == r->cap) {
            if (r->cap >= WB_IO_MAX_LINE)
                return wb_seterr(WB_ELIMIT, "%s: the line at byte %lld is longer than the limit of %zu MB", r->name,
                                 (long long)r->base, WB_IO_MAX_LINE >> 20);
            size_t cap = r->cap * 2 < WB_IO_MAX_LINE ? r->cap * 2 : WB_IO_MAX_LINE;
            char *b = realloc(r->buf, cap);
            if (!b) return wb_seterr(WB_ENOMEM, "%s: out of memory (a line of over %zu bytes: %zu asked for)", r->name, r->cap, cap);
            r->buf = b;
            r->cap = cap;
        }
        int64_t want = r->fsize - end_of_data;
        size_t room = r->cap - r->len;
        size_t n = want < (int64_t)room ? (size_t)want : room;
        int rc = wb__io_pread(r->fd, r->buf + r->len, n, end_of_data, r->name);
        if (rc) return rc;
        r->len += n;
    }
}

int wb__arg_strings(const void *arg, size_t arglen, size_t fixed, int n, const char **out)
{
    if (arglen < fixed) return wb_seterr(WB_EINVAL, "io: bad kernel argument");
    const char *p = (const char *)arg + fixed, *end = (const char *)arg + arglen;
    for (int i = 0; i < n; i++) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        if (!z) return wb_seterr(WB_EINVAL, "io: bad kernel argument");
        out[i] = p;
        p = z + 1;
    }
    return 0;
}

int wb__io_check_rows(const char *path, int64_t n, const wb_read_opts *o)
{
    if (o->max_rows > 0 && n > o->max_rows)
        return wb_seterr(WB_ELIMIT, "%s: %lld rows, more than the limit of %lld rows (max_rows)", path, (long long)n,
                         (long long)o->max_rows);
    return 0;
}

/* ------------------------------------------------------------------ names */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n) return 0;
    for (size_t i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != suffix[i]) return 0;
    }
    return 1;
}

int wb_format_from_path(const char *path)
{
    if (!path) return WB_FMT_AUTO;
    /* a compressed file: the format of the name without .gz / .zst */
    static const char *const zsuf[] = {".gz", ".zst", ".zstd", NULL};
    for (int i = 0; zsuf[i]; i++)
        if (ends_with(path, zsuf[i])) {
            size_t n = strlen(path) - strlen(zsuf[i]);
            char *base = malloc(n + 1);
            if (!base) return WB_FMT_AUTO;
            memcpy(base, path, n);
            base[n] = 0;
            int f = ends_with(base, ".csv") || ends_with(base, ".tsv") || ends_with(base, ".tab") ? WB_FMT_CSV
                    : wb_format_from_path(base) != WB_FMT_AUTO                                    ? -1
                                                                                                  : WB_FMT_AUTO;
            free(base);
            return f < 0 ? WB_FMT_AUTO : f; /* compressed LIBSVM or NPY: not read */
        }
    if (ends_with(path, ".libsvm") || ends_with(path, ".svm") || ends_with(path, ".svmlight"))
        return WB_FMT_LIBSVM;
    if (ends_with(path, ".csv") || ends_with(path, ".tsv") || ends_with(path, ".tab")) return WB_FMT_CSV;
    if (ends_with(path, ".npy")) return WB_FMT_NPY;
    return WB_FMT_AUTO;
}

char *wb__meta_path(const char *path)
{
    size_t n = strlen(path);
    char *m = malloc(n + 6);
    if (m) {
        memcpy(m, path, n);
        memcpy(m + n, ".meta", 6);
    }
    return m;
}

char *wb__npy_labels_path(const char *path)
{
    size_t n = strlen(path);
    if (ends_with(path, ".npy")) n -= 4;
    char *m = malloc(n + 12);
    if (m) {
        memcpy(m, path, n);
        memcpy(m + n, ".labels.npy", 12);
    }
    return m;
}

/* ------------------------------------------------------------- label sets */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void wb__labelset_merge(wb_labelset *s, const double *v, size_t n, int not_classes)
{
    if (not_classes) s->not_classes = 1;
    if (s->not_classes || n == 0) return;
    /* both sorted: merge */
    size_t cap = s->n + n;
    double *m = malloc(cap * sizeof *m);
    if (!m) {
        s->not_classes = 1;
        return;
    }
    size_t i = 0, j = 0, k = 0;
    while (i < s->n || j < n) {
        double x;
        if (j >= n || (i < s->n && s->v[i] < v[j])) x = s->v[i++];
        else if (i >= s->n || v[j] < s->v[i]) x = v[j++];
        else {
            x = s->v[i++];
            j++;
        }
        m[k++] = x;
    }
    free(s->v);
    s->v = m;
    s->n = k;
    s->cap = cap;
    if (s->n > WB_IO_MAX_CLASSES) s->not_classes = 1;
}

static int labelset_has(const wb_labelset *s, double v)
{
    if (s->n <= 16) { /* few classes: a scan without unpredictable branches */
        int found = 0;
        for (size_t k = 0; k < s->n; k++) found |= s->v[k] == v;
        return found;
    }
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->v[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n && s->v[lo] == v;
}

void wb__labelset_add(wb_labelset *s, const double *y, int64_t n)
{
    if (s->not_classes || n <= 0) return;
    /* new values gather in a small buffer, merged (sorted) when full */
    double buf[256];
    size_t nb = 0;
    for (int64_t i = 0; i < n && !s->not_classes; i++) {
        double v = y[i];
        if (labelset_has(s, v)) continue; /* the set holds integers only */
        if (!(v == v) || v > 9.0e15 || v < -9.0e15 || v != (double)(int64_t)v) {
            s->not_classes = 1;
            break;
        }
        int dup = 0;
        for (size_t k = 0; k < nb; k++) dup |= buf[k] == v;
        if (dup) continue;
        buf[nb++] = v;
        if (nb == 256) {
            qsort(buf, nb, sizeof *buf, cmp_double);
            wb__labelset_merge(s, buf, nb, 0);
            nb = 0;
        }
    }
    if (nb && !s->not_classes) {
        qsort(buf, nb, sizeof *buf, cmp_double);
        wb__labelset_merge(s, buf, nb, 0);
    }
}

void wb__labelset_free(wb_labelset *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------- levels */

int wb__levels_encode(const wb_dataset *d, wb_buf *b)
{
    int64_t count = 0;
    int rc = wb_buf_add(b, &count, 8);
    for (int64_t j = -1; !rc && j < d->d; j++) {
        const wb_levels *l = j < 0 ? (d->has_labels ? d->label_levels : NULL) : wb_ds_col_levels(d, j);
        if (!l) continue;
        int64_t h[2] = {j, wb_levels_count(l)};
        rc = wb_buf_add(b, h, 16);
        for (int64_t k = 0; !rc && k < h[1]; k++) {
            const char *s = wb_levels_at(l, k);
            rc = wb_buf_add(b, s, strlen(s) + 1);
        }
        count++;
    }
    if (!rc) memcpy(b->p, &count, 8);
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

int wb__levels_decode(const void *data, size_t size, int64_t d, wb_lvtab *t)
{
    memset(t, 0, sizeof *t);
    const char *p = data, *e = p + size;
    int64_t count;
    if (size < 8) return wb_seterr(WB_EINVAL, "levels: bad encoding");
    memcpy(&count, p, 8);
    p += 8;
    t->col = calloc((size_t)d + 2, sizeof *t->col);
    t->n = calloc((size_t)d + 2, sizeof *t->n);
    if (!t->col || !t->n) {
        wb__levels_table_free(t);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    t->d = d;
    for (int64_t k = 0; k < count; k++) {
        int64_t h[2];
        if (e - p < 16) goto bad;
        memcpy(h, p, 16);
        p += 16;
        if (h[0] < -1 || h[0] >= d || h[1] < 0 || h[1] > (int64_t)(e - p)) goto bad;
        const char **s = malloc((size_t)(h[1] ? h[1] : 1) * sizeof *s);
        if (!s) {
            wb__levels_table_free(t);
            return wb_seterr(WB_ENOMEM, "out of memory");
        }
        for (int64_t i = 0; i < h[1]; i++) {
            const char *z = memchr(p, 0, (size_t)(e - p));
            if (!z) {
                free(s);
                goto bad;
            }
            s[i] = p;
            p = z + 1;
        }
        free(t->col[h[0] + 1]);
        t->col[h[0] + 1] = s;
        t->n[h[0] + 1] = h[1];
    }
    return 0;
bad:
    wb__levels_table_free(t);
    return wb_seterr(WB_EINVAL, "levels: bad encoding");
}

void wb__levels_table_free(wb_lvtab *t)
{
    for (int64_t j = 0; t->col && j < t->d + 1; j++) free(t->col[j]);
    free(t->col);
    free(t->n);
    memset(t, 0, sizeof *t);
}
