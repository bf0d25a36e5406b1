/* io/npy.c — NumPy's .npy format (versions 1.0, 2.0, 3.0): a magic string, a
 * header that is a Python dict literal {'descr': '<f8', 'fortran_order':
 * False, 'shape': (n, d), }, then the array in C order.
 *
 * Features and labels: any little-endian number type (float64, float32,
 * integers, booleans: converted to float64), C order, 2-D (or 1-D: one
 * column). Labels: NAME.labels.npy beside NAME.npy, 1-D (or n x 1). float64
 * features are memory-mapped by default:
 * each partition is a zero-copy view of its rows of the mapping, so data
 * larger than memory streams from disk through the same kernels. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_internal.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* ------------------------------------------------------------- the header */

typedef struct pyparse {
    const char *p, *e;
} pyparse;

static void py_ws(pyparse *s)
{
    while (s->p < s->e && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

/* a quoted string into out (at most cap-1 bytes) */
static int py_str(pyparse *s, char *out, size_t cap)
{
    py_ws(s);
    if (s->p >= s->e || (*s->p != '\'' && *s->p != '"')) return -1;
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->e && *s->p != q) {
        if (n + 1 < cap) out[n++] = *s->p;
        s->p++;
    }
    if (s->p >= s->e) return -1;
    s->p++;
    out[n] = 0;
    return 0;
}

static int py_word(pyparse *s, const char *w)
{
    py_ws(s);
    size_t n = strlen(w);
    if ((size_t)(s->e - s->p) >= n && memcmp(s->p, w, n) == 0) {
        s->p += n;
        return 1;
    }
    return 0;
}

static int py_tuple(pyparse *s, int64_t *v, int *nd)
{
    py_ws(s);
    if (s->p >= s->e || *s->p != '(') return -1;
    s->p++;
    *nd = 0;
    for (;;) {
        py_ws(s);
        if (s->p < s->e && *s->p == ')') {
            s->p++;
            return 0;
        }
        uint64_t x;
        const char *st;
        if (wb__parse_uint(s->p, s->e, &x, &st) != 0) return -1;
        s->p = st;
        if (s->p < s->e && (*s->p == 'L' || *s->p == 'l')) s->p++; /* Python 2 longs */
        if (*nd < 8) v[*nd] = (int64_t)x;
        (*nd)++;
        py_ws(s);
        if (s->p < s->e && *s->p == ',') s->p++;
        else if (s->p < s->e && *s->p == ')') continue;
        else return -1;
    }
}

static int dtype_of(const char *descr, int *itemsize)
{
    static const struct {
        const char *name;
        int type, size;
    } t[] = {{"<f8", WB_NPY_F8, 8}, {"<f4", WB_NPY_F4, 4}, {"<i8", WB_NPY_I8, 8}, {"<i4", WB_NPY_I4, 4},
             {"<i2", WB_NPY_I2, 2}, {"|i1", WB_NPY_I1, 1}, {"<i1", WB_NPY_I1, 1}, {"<u8", WB_NPY_U8, 8},
             {"<u4", WB_NPY_U4, 4}, {"<u2", WB_NPY_U2, 2}, {"|u1", WB_NPY_U1, 1}, {"<u1", WB_NPY_U1, 1},
             {"|b1", WB_NPY_B1, 1}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(descr, t[i].name) == 0) {
            *itemsize = t[i].size;
            return t[i].type;
        }
    return 0;
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

int wb__npy_read_header(const char *path, const char *name, int any_dtype, wb_npy_hdr *h)
{
    memset(h, 0, sizeof *h);
    int fd;
    int64_t fsize;
    int rc = wb__io_open(path, name, &fd, &fsize);
    if (rc) return rc;
    h->fsize = fsize;
    unsigned char pre[12];
    char *text = NULL;
    if (fsize == 0) {
        rc = wb_seterr(WB_EFORMAT, "%s: empty file (expected an NPY header)", name);
        goto out;
    }
    size_t got = fsize < 12 ? (size_t)fsize : 12;
    if ((rc = wb__io_pread(fd, pre, got, 0, name)) != 0) goto out;
    if (memcmp(pre, npy_magic, got < 6 ? got : 6) != 0) {
        rc = wb_seterr(WB_EFORMAT, "%s: not an NPY file (expected it to start with \"\\x93NUMPY\")", name);
        goto out;
    }
    int major = got > 6 ? pre[6] : 0, minor = got > 7 ? pre[7] : 0;
    size_t lenbytes = major >= 2 ? 4 : 2;
    if (got < 8 + lenbytes) {
        rc = wb_seterr(WB_EFORMAT, "%s: truncated header (%lld bytes, expected at least %zu)", name,
                       (long long)fsize, 8 + lenbytes);
        goto out;
    }
    if (major < 1 || major > 3 || minor != 0) {
        rc = wb_seterr(WB_EFORMAT, "%s: NPY format version %d.%d is not supported (expected 1.0, 2.0 or 3.0)",
                       name, major, minor);
        goto out;
    }
    uint64_t hlen = major == 1 ? (uint64_t)pre[8] | (uint64_t)pre[9] << 8
                               : (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 |
                                     (uint64_t)pre[11] << 24;
    h->data_off = (int64_t)(8 + lenbytes + hlen);
    if (h->data_off > fsize) {
        rc = wb_seterr(WB_EFORMAT, "%s: truncated header (%lld bytes, expected at least %lld)", name,
                       (long long)fsize, (long long)h->data_off);
        goto out;
    }
    if (hlen > (1u << 24)) {
        rc = wb_seterr(WB_EFORMAT, "%s: header of %llu bytes is too long", name, (unsigned long long)hlen);
        goto out;
    }
    text = malloc(hlen + 1);
    if (!text) {
        rc = wb__io_nomem(name, hlen + 1);
        goto out;
    }
    if ((rc = wb__io_pread(fd, text, hlen, (int64_t)(8 + lenbytes), name)) != 0) goto out;
    text[hlen] = 0;

    pyparse s = {text, text + hlen};
    char descr[64] = "", key[64];
    int fortran = -1, have_shape = 0, bad = 0;
    py_ws(&s);
    if (s.p >= s.e || *s.p != '{') bad = 1;
    else s.p++;
    while (!bad) {
        py_ws(&s);
        if (s.p < s.e && *s.p == '}') break;
        if (py_str(&s, key, sizeof key) != 0) {
            bad = 1;
            break;
        }
        py_ws(&s);
        if (s.p >= s.e || *s.p != ':') {
            bad = 1;
            break;
        }
        s.p++;
        py_ws(&s);
        if (strcmp(key, "descr") == 0) {
            if (s.p < s.e && *s.p == '[') {
                rc = wb_seterr(WB_EFORMAT, "%s: a structured dtype is not supported (expected float64 '<f8' or float32 '<f4')", name);
                goto out;
            }
            if (py_str(&s, descr, sizeof descr) != 0) bad = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (py_word(&s, "True")) fortran = 1;
            else if (py_word(&s, "False")) fortran = 0;
            else bad = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (py_tuple(&s, h->shape, &h->ndim) != 0) bad = 1;
            have_shape = 1;
        } else
            bad = 1;
        py_ws(&s);
        if (s.p < s.e && *s.p == ',') s.p++;
    }
    if (bad || !descr[0] || fortran < 0 || !have_shape) {
        size_t tl = hlen;
        while (tl > 0 && (text[tl - 1] == ' ' || text[tl - 1] == '\n')) tl--;
        text[tl] = 0;
        rc = wb_seterr(WB_EFORMAT,
                       "%s: malformed header (expected a dict with 'descr', 'fortran_order' and 'shape', got \"%.80s\")",
                       name, text);
        goto out;
    }
    h->dtype = dtype_of(descr, &h->itemsize);
    char little[64];
    int isz;
    snprintf(little, sizeof little, "<%s", descr + 1);
    if (!h->dtype && descr[0] == '>' && dtype_of(little, &isz)) {
        rc = wb_seterr(WB_EFORMAT, "%s: dtype '%s' is big-endian (expected little-endian %s)", name, descr,
                       any_dtype ? "numbers" : "float64 '<f8' or float32 '<f4'");
        goto out;
    }
    if (!h->dtype || (!any_dtype && h->dtype != WB_NPY_F8 && h->dtype != WB_NPY_F4)) {
        rc = wb_seterr(WB_EFORMAT, "%s: dtype '%s' is not supported (expected %s)", name, descr,
                       any_dtype ? "numbers: '<f8', '<f4', '<i8', '<i4', ..."
                                 : "float64 '<f8' or float32 '<f4'");
        goto out;
    }
    if (fortran) {
        rc = wb_seterr(WB_EFORMAT, "%s: Fortran order is not supported (expected C order, fortran_order False)", name);
        goto out;
    }
    if (h->ndim < 1 || h->ndim > 2) {
        rc = wb_seterr(WB_EFORMAT, "%s: a %d-D array (expected 2-D rows x columns, or 1-D)", name, h->ndim);
        goto out;
    }
    if (h->ndim == 1) h->shape[1] = 1;
    if (!host_is_little_endian()) {
        rc = wb_seterr(WB_ENOTSUP, "%s: reading NPY needs a little-endian machine", name);
        goto out;
    }
    uint64_t cells, bytes;
    if (__builtin_mul_overflow((uint64_t)h->shape[0], (uint64_t)h->shape[1], &cells) ||
        __builtin_mul_overflow(cells, (uint64_t)h->itemsize, &bytes) || bytes > (uint64_t)INT64_MAX) {
        rc = wb_seterr(WB_EFORMAT, "%s: shape too large", name);
        goto out;
    }
    if ((uint64_t)(fsize - h->data_off) < bytes) {
        rc = wb_seterr(WB_EFORMAT, "%s: truncated data (%lld bytes after the header, expected %llu)", name,
                       (long long)(fsize - h->data_off), (unsigned long long)bytes);
        goto out;
    }
out:
    free(text);
    close(fd);
    return rc;
}

int wb__npy_header(wb_buf *b, int64_t n, int64_t d, int ndim)
{
    char dict[160];
    int len = ndim == 1 ? snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (%lld,), }",
                                   (long long)n)
                        : snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (%lld, %lld), }",
                                   (long long)n, (long long)d);
    size_t total = 10 + (size_t)len + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)len + pad + 1;
    unsigned char pre[10];
    memcpy(pre, npy_magic, 6);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    int rc = wb_buf_add(b, pre, 10);
    if (!rc) rc = wb_buf_add(b, dict, (size_t)len);
    if (!rc) rc = wb_buf_reserve(b, pad + 1);
    if (!rc) {
        memset(b->p + b->len, ' ', pad);
        b->p[b->len + pad] = '\n';
        b->len += pad + 1;
    }
    return rc;
}

/* --------------------------------------------------------------- the kernel */

typedef struct npy_arg {
    int32_t dtype, map, ldtype, pad;
    int64_t data_off, fsize, d, row0, rows, ldata_off, lfsize;
    /* then: path, name, labels path ("" for none), labels name */
} npy_arg;

static void convert(int dtype, const unsigned char *src, double *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (dtype) {
        case WB_NPY_F8: memcpy(&dst[i], src + 8 * i, 8); break;
        case WB_NPY_F4: { float f; memcpy(&f, src + 4 * i, 4); dst[i] = f; } break;
        case WB_NPY_I8: { int64_t v; memcpy(&v, src + 8 * i, 8); dst[i] = (double)v; } break;
        case WB_NPY_I4: { int32_t v; memcpy(&v, src + 4 * i, 4); dst[i] = v; } break;
        case WB_NPY_I2: { int16_t v; memcpy(&v, src + 2 * i, 2); dst[i] = v; } break;
        case WB_NPY_I1: dst[i] = (int8_t)src[i]; break;
        case WB_NPY_U8: { uint64_t v; memcpy(&v, src + 8 * i, 8); dst[i] = (double)v; } break;
        case WB_NPY_U4: { uint32_t v; memcpy(&v, src + 4 * i, 4); dst[i] = v; } break;
        case WB_NPY_U2: { uint16_t v; memcpy(&v, src + 2 * i, 2); dst[i] = v; } break;
        case WB_NPY_U1: dst[i] = src[i]; break;
        case WB_NPY_B1: dst[i] = src[i] != 0; break;
        default: dst[i] = NAN;
        }
    }
}

static int item_size(int dtype)
{
    switch (dtype) {
    case WB_NPY_F8: case WB_NPY_I8: case WB_NPY_U8: return 8;
    case WB_NPY_F4: case WB_NPY_I4: case WB_NPY_U4: return 4;
    case WB_NPY_I2: case WB_NPY_U2: return 2;
    default: return 1;
    }
}

/* n values of dtype at byte offset off of fd into dst, through a bounded buffer */
static int read_converted(int fd, int dtype, int64_t off, double *dst, size_t n, const char *name)
{
    int isz = item_size(dtype);
    if (dtype == WB_NPY_F8) return wb__io_pread(fd, dst, n * 8, off, name);
    size_t chunk = (1 << 20) / (size_t)isz;
    unsigned char *buf = malloc(chunk * (size_t)isz);
    if (!buf) return wb__io_nomem(name, chunk * (size_t)isz);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk;
        rc = wb__io_pread(fd, buf, m * (size_t)isz, off + (int64_t)(i * (size_t)isz), name);
        if (!rc) convert(dtype, buf, dst + i, m);
    }
    free(buf);
    return rc;
}

static int open_sized(const char *path, const char *name, int64_t fsize, int *fd)
{
    int64_t size;
    int rc = wb__io_open(path, name, fd, &size);
    if (!rc && size != fsize) {
        close(*fd);
        rc = wb_seterr(WB_EIO, "%s: the file changed while reading (%lld bytes, expected %lld)", name,
                       (long long)size, (long long)fsize);
    }
    return rc;
}

/* io.npy: one partition of rows [row0, row0+rows) */
static int k_npy(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    WB_UNUSED(in);
    WB_UNUSED(nin);
    npy_arg a;
    const char *s[4];
    int rc = wb__arg_strings(arg, arglen, sizeof a, 4, s);
    if (rc) return rc;
    memcpy(&a, arg, sizeof a);
    if (a.rows <= 0 || a.d < 0 || a.row0 < 0) return wb_seterr(WB_EINVAL, "io.npy: bad arguments");
    int has_y = s[2][0] != 0;
    int fd;
    if ((rc = open_sized(s[0], s[1], a.fsize, &fd)) != 0) return rc;
    int isz = item_size(a.dtype);
    int64_t off = a.data_off + a.row0 * a.d * isz;
    size_t n = (size_t)a.rows * (size_t)a.d;
    double *y = NULL;
    if (has_y) {
        int lfd;
        y = malloc((size_t)a.rows * 8 + 8);
        if (!y) rc = wb__io_nomem(s[3], (size_t)a.rows * 8 + 8);
        if (!rc) rc = open_sized(s[2], s[3], a.lfsize, &lfd);
        if (!rc) {
            rc = read_converted(lfd, a.ldtype, a.ldata_off + a.row0 * item_size(a.ldtype), y,
                                (size_t)a.rows, s[3]);
            close(lfd);
        }
        if (rc) {
            free(y);
            close(fd);
            return rc;
        }
    }
    long pg = sysconf(_SC_PAGESIZE);
    if (a.map && a.dtype == WB_NPY_F8 && n > 0 && off % 8 == 0 && pg > 0) {
        int64_t aoff = off / pg * pg;
        size_t mlen = n * 8 + (size_t)(off - aoff);
        void *addr = mmap(NULL, mlen, PROT_READ, MAP_SHARED, fd, (off_t)aoff);
        if (addr != MAP_FAILED) {
            close(fd);
            wb_mapping *m = wb_mapping_new(addr, mlen);
            if (!m) {
                munmap(addr, mlen);
                free(y);
                return wb__io_nomem(s[1], sizeof(void *) * 4);
            }
            wb_part p = {a.rows, a.d, a.row0, (const double *)((const char *)addr + (off - aoff)), y};
            return wb__out_part_view(ctx, &p, y, m);
        }
        /* no mapping possible (e.g. a special file system): read instead */
    }
    double *x, *yo;
    rc = wb__out_part(ctx, a.rows, a.d, a.row0, has_y, &x, &yo);
    if (rc) rc = wb__io_part_err(rc, s[1]);
    if (!rc) rc = read_converted(fd, a.dtype, off, x, n, s[1]);
    if (!rc && has_y) memcpy(yo, y, (size_t)a.rows * 8);
    free(y);
    close(fd);
    return rc;
}

void wb__register_npy_kernels(void) { wb_register_kernel("io.npy", k_npy); }

/* --------------------------------------------------------------- the driver */

int wb__read_npy(wb_exec *ex, const char *path, const wb_read_opts *o, wb_dataset **out)
{
    wb_npy_hdr h, lh;
    int rc = wb__npy_read_header(path, path, 1, &h);
    if (rc) return rc;
    int64_t n = h.shape[0], d = h.shape[1];
    if (n == 0) return wb_seterr(WB_EFORMAT, "%s: no rows (shape (0, %lld))", path, (long long)d);
    /* a row of no bytes leaves the rows unbounded by the file's size */
    if (d == 0)
        return wb_seterr(WB_EFORMAT, "%s: no columns (shape (%lld, 0)); a dataset has at least one column", path,
                         (long long)n);
    if (d > WB_IO_MAX_COLS)
        return wb_seterr(WB_ELIMIT, "%s: %lld columns, more than the limit of %lld", path, (long long)d,
                         (long long)WB_IO_MAX_COLS);
    if ((rc = wb__io_check_rows(path, n, o))) return rc;

    char *lpath = wb__npy_labels_path(path);
    if (!lpath) return wb__io_nomem(path, strlen(path) + 12);
    struct stat st;
    int has_y = stat(lpath, &st) == 0;
    if (has_y) {
        rc = wb__npy_read_header(lpath, lpath, 1, &lh);
        if (!rc && !(lh.ndim == 1 || lh.shape[1] == 1))
            rc = wb_seterr(WB_EFORMAT, "%s: shape (%lld, %lld) (expected one label per row: (%lld,))", lpath,
                           (long long)lh.shape[0], (long long)lh.shape[1], (long long)n);
        if (!rc && lh.shape[0] != n)
            rc = wb_seterr(WB_EFORMAT, "%s: %lld labels for the %lld rows of %s", lpath, (long long)lh.shape[0],
                           (long long)n, path);
    }
    char *abs = rc ? NULL : realpath(path, NULL);
    char *labs = rc || !has_y ? NULL : realpath(lpath, NULL);
    if (!rc && (!abs || (has_y && !labs))) rc = wb_seterr(WB_EIO, "%s: cannot open (%s)", path, strerror(errno));
    const char *ls[2] = {labs ? labs : "", has_y ? lpath : ""};
    size_t l0 = abs ? strlen(abs) + 1 : 0, l1 = strlen(path) + 1, l2 = strlen(ls[0]) + 1, l3 = strlen(ls[1]) + 1;
    size_t asz = sizeof(npy_arg) + l0 + l1 + l2 + l3;
    int64_t P = wb_partition_rows(d), np = (n + P - 1) / P;
    unsigned char *args = rc ? NULL : malloc((size_t)np * asz);
    wb_task *tasks = rc ? NULL : calloc((size_t)np, sizeof *tasks);
    wb_oid *outs = rc ? NULL : calloc((size_t)np, sizeof *outs);
    wb_dspart *parts = rc ? NULL : calloc((size_t)np, sizeof *parts);
    if (!rc && (!args || !tasks || !outs || !parts))
        rc = wb__io_nomem(path, (size_t)np * (asz + sizeof *tasks + sizeof *outs + sizeof *parts));
    for (int64_t k = 0; !rc && k < np; k++) {
        int64_t r0 = k * P, rows = n - r0 < P ? n - r0 : P;
        npy_arg a = {h.dtype, o->mmap != 0, has_y ? lh.dtype : 0, 0, h.data_off, h.fsize, d, r0, rows,
                     has_y ? lh.data_off : 0, has_y ? lh.fsize : 0};
        unsigned char *p = args + (size_t)k * asz;
        memcpy(p, &a, sizeof a);
        p += sizeof a;
        memcpy(p, abs, l0);
        memcpy(p + l0, path, l1);
        memcpy(p + l0 + l1, ls[0], l2);
        memcpy(p + l0 + l1 + l2, ls[1], l3);
        tasks[k] = (wb_task){"io.npy", NULL, 0, args + (size_t)k * asz, asz, WB_TASK_PLAIN, 0, rows};
        parts[k] = (wb_dspart){0, rows, r0};
    }
    if (!rc) rc = wb_exec_submit_tasks(ex, tasks, (int)np, outs);
    if (!rc) {
        rc = wb_exec_wait(ex, outs, (int)np);
        for (int64_t k = 0; k < np; k++) parts[k].oid = outs[k];
        if (rc)
            for (int64_t k = 0; k < np; k++) wb_exec_release(ex, outs[k]);
        else
            rc = wb_ds_new(ex, d, has_y, (int)np, parts, out);
        if (!rc && h.ndim == 1) (*out)->is_vector = 1;
    }
    if (!rc) { /* names, types and levels from .meta */
        wb_meta m;
        wb_meta_cols mc;
        int mrc = wb__meta_read_cols(path, &m, &mc);
        if (mrc == 0) {
            rc = wb__meta_apply(*out, &mc);
            wb__meta_cols_free(&mc);
        } else if (mrc != WB_ENOTFOUND)
            rc = mrc;
        if (rc) {
            wb_ds_unref(*out);
            *out = NULL;
        }
    }
    free(args);
    free(tasks);
    free(outs);
    free(parts);
    free(abs);
    free(labs);
    free(lpath);
    return rc;
}
