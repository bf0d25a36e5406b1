/* model.c — a model is a plain value: the estimator's name, its checked
 * parameters and named numbers, strings and arrays. It encodes to bytes
 * (shipped to kernels and workers) and saves to a file bit-identically. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

typedef struct field {
    char *name;
    int type;
    double num;
    char *str;
    double *arr;
    int64_t rows, cols;
} field;

#define WB_MODEL_MAX_SIDE ((int64_t)INT32_MAX) /* rows or columns of an array */

struct wb_model {
    char *estimator;
    wb_params *params;
    field *f;
    int n, cap;
};

wb_model *wb_model_new(const char *estimator, const wb_params *params)
{
    wb_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->estimator = wb_strdup(estimator ? estimator : "");
    m->params = params ? wb_params_copy(params) : wb_params_new();
    if (!m->estimator || !m->params) {
        wb_model_free(m);
        return NULL;
    }
    return m;
}

void wb_model_free(wb_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        free(m->f[i].name);
        free(m->f[i].str);
        free(m->f[i].arr);
    }
    free(m->f);
    wb_params_free(m->params);
    free(m->estimator);
    free(m);
}

const char *wb_model_estimator(const wb_model *m) { return m->estimator; }
const wb_params *wb_model_params(const wb_model *m) { return m->params; }

static field *ffind(const wb_model *m, const char *name)
{
    for (int i = 0; m && name && i < m->n; i++)
        if (strcmp(m->f[i].name, name) == 0) return &m->f[i];
    return NULL;
}

static int bad_name(const char *name)
{
    if (name && *name && strlen(name) < 65536) return 0;
    return wb_seterr(WB_EINVAL, "model: a field needs a name (under 64 KB)");
}

static field *fslot(wb_model *m, const char *name)
{
    field *f = ffind(m, name);
    if (f) {
        free(f->str);
        free(f->arr);
        f->str = NULL;
        f->arr = NULL;
        return f;
    }
    if (m->n == m->cap) {
        int c = m->cap ? m->cap * 2 : 8;
        field *nf = realloc(m->f, (size_t)c * sizeof *nf);
        if (!nf) return NULL;
        m->f = nf;
        m->cap = c;
    }
    f = &m->f[m->n];
    memset(f, 0, sizeof *f);
    if (!(f->name = wb_strdup(name))) return NULL;
    m->n++;
    return f;
}

int wb_model_set_num(wb_model *m, const char *name, double v)
{
    if (bad_name(name)) return WB_EINVAL;
    field *f = name && *name ? fslot(m, name) : NULL;
    if (!f) return wb_seterr(WB_ENOMEM, "model: cannot set '%s'", name ? name : "");
    f->type = WB_F_NUM;
    f->num = v;
    return 0;
}

int wb_model_set_str(wb_model *m, const char *name, const char *v)
{
    if (bad_name(name)) return WB_EINVAL;
    field *f = name && *name ? fslot(m, name) : NULL;
    if (!f || !(f->str = wb_strdup(v ? v : ""))) return wb_seterr(WB_ENOMEM, "model: cannot set '%s'", name ? name : "");
    f->type = WB_F_STR;
    return 0;
}

int wb_model_set_array(wb_model *m, const char *name, const double *v, int64_t rows, int64_t cols)
{
    if (bad_name(name)) return WB_EINVAL;
    /* each side below 2^31: a product of the two never overflows, and a side
     * of an empty array (0 x 2^62) cannot make a reader loop for ever */
    if (rows < 0 || cols < 0 || rows > WB_MODEL_MAX_SIDE || cols > WB_MODEL_MAX_SIDE || (rows * cols > 0 && !v))
        return wb_seterr(WB_EINVAL, "model: bad array '%s'", name ? name : "");
    size_t n = (size_t)rows * (size_t)cols;
    field *f = name && *name ? fslot(m, name) : NULL;
    if (!f || !(f->arr = malloc(n * sizeof(double) + 8)))
        return wb_seterr(WB_ENOMEM, "model: cannot set '%s'", name ? name : "");
    if (n) memcpy(f->arr, v, n * sizeof(double));
    f->type = WB_F_ARRAY;
    f->rows = rows;
    f->cols = cols;
    return 0;
}

int wb_model_nfields(const wb_model *m) { return m->n; }
const char *wb_model_field_at(const wb_model *m, int i, int *type)
{
    if (i < 0 || i >= m->n) return NULL;
    if (type) *type = m->f[i].type;
    return m->f[i].name;
}
int wb_model_field_type(const wb_model *m, const char *name)
{
    field *f = ffind(m, name);
    return f ? f->type : 0;
}
double wb_model_num(const wb_model *m, const char *name)
{
    field *f = ffind(m, name);
    return f && f->type == WB_F_NUM ? f->num : NAN;
}
const char *wb_model_str(const wb_model *m, const char *name)
{
    field *f = ffind(m, name);
    return f && f->type == WB_F_STR ? f->str : NULL;
}
const double *wb_model_array(const wb_model *m, const char *name, int64_t *rows, int64_t *cols)
{
    field *f = ffind(m, name);
    if (!f || f->type != WB_F_ARRAY) return NULL;
    if (rows) *rows = f->rows;
    if (cols) *cols = f->cols;
    return f->arr;
}

/* encoding: "WBM1", u32 estimator length + bytes, u64 params length + params
 * encoding, u32 field count, per field: u16 name length, name, u8 type,
 * NUM f64 | STR u32 + bytes | ARRAY i64 rows, i64 cols, doubles */
int wb_model_encode(const wb_model *m, wb_buf *b)
{
    wb_buf pb = {0};
    int rc = wb_params_encode(m->params, &pb);
    uint32_t el = (uint32_t)strlen(m->estimator), n = (uint32_t)m->n;
    uint64_t pl = pb.len;
    if (!rc) rc = wb_buf_add(b, "WBM1", 4);
    if (!rc) rc = wb_buf_add(b, &el, 4);
    if (!rc) rc = wb_buf_add(b, m->estimator, el);
    if (!rc) rc = wb_buf_add(b, &pl, 8);
    if (!rc) rc = wb_buf_add(b, pb.p, pb.len);
    if (!rc) rc = wb_buf_add(b, &n, 4);
    wb_buf_free(&pb);
    for (int i = 0; !rc && i < m->n; i++) {
        const field *f = &m->f[i];
        uint16_t nl = (uint16_t)strlen(f->name);
        uint8_t t = (uint8_t)f->type;
        rc = wb_buf_add(b, &nl, 2);
        if (!rc) rc = wb_buf_add(b, f->name, nl);
        if (!rc) rc = wb_buf_add(b, &t, 1);
        if (rc) break;
        if (f->type == WB_F_NUM)
            rc = wb_buf_add(b, &f->num, 8);
        else if (f->type == WB_F_STR) {
            uint32_t l = (uint32_t)strlen(f->str);
            rc = wb_buf_add(b, &l, 4);
            if (!rc) rc = wb_buf_add(b, f->str, l);
        } else {
            rc = wb_buf_add(b, &f->rows, 8);
            if (!rc) rc = wb_buf_add(b, &f->cols, 8);
            if (!rc) rc = wb_buf_add(b, f->arr, (size_t)f->rows * (size_t)f->cols * 8);
        }
    }
    return rc;
}

typedef struct rd {
    const unsigned char *p;
    size_t left;
} rd;

static int take(rd *r, void *dst, size_t n)
{
    if (r->left < n) return -1;
    if (n) memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

int wb_model_decode(const void *data, size_t size, wb_model **out)
{
    rd r = {data, size};
    char magic[4], est[256];
    uint32_t el, n;
    uint64_t pl;
    wb_params *params = NULL;
    wb_model *m = NULL;
    size_t nomem = 0; /* an allocation of this many bytes failed */
    *out = NULL;
    if (take(&r, magic, 4) || memcmp(magic, "WBM1", 4)) goto bad;
    if (take(&r, &el, 4) || el >= sizeof est || take(&r, est, el)) goto bad;
    est[el] = 0;
    if (strlen(est) != el) goto bad;
    if (take(&r, &pl, 8) || pl > r.left) goto bad;
    if (wb_params_decode(r.p, (size_t)pl, &params)) goto bad;
    r.p += pl;
    r.left -= pl;
    m = wb_model_new(est, params);
    wb_params_free(params);
    if (!m) return wb_seterr(WB_ENOMEM, "out of memory");
    if (take(&r, &n, 4) || n > 65536) goto bad;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t nl;
        uint8_t t;
        char name[65536];
        int rc = 0;
        if (take(&r, &nl, 2) || nl == 0 || take(&r, name, nl) || take(&r, &t, 1)) goto bad;
        name[nl] = 0;
        if (strlen(name) != nl) goto bad;
        if (t == WB_F_NUM) {
            double x;
            if (take(&r, &x, 8)) goto bad;
            rc = wb_model_set_num(m, name, x);
        } else if (t == WB_F_STR) {
            uint32_t l;
            if (take(&r, &l, 4) || l > r.left) goto bad;
            char *s = malloc((size_t)l + 1);
            if (!s) {
                nomem = (size_t)l + 1;
                goto bad;
            }
            memcpy(s, r.p, l);
            s[l] = 0;
            r.p += l;
            r.left -= l;
            rc = wb_model_set_str(m, name, s);
            free(s);
        } else if (t == WB_F_ARRAY) {
            int64_t rows, cols;
            if (take(&r, &rows, 8) || take(&r, &cols, 8) || rows < 0 || cols < 0 || rows > WB_MODEL_MAX_SIDE ||
                cols > WB_MODEL_MAX_SIDE)
                goto bad;
            if (cols && (uint64_t)rows > r.left / 8 / (uint64_t)cols) goto bad;
            size_t nb = (size_t)rows * (size_t)cols * 8;
            if (nb > r.left) goto bad;
            double *a = malloc(nb + 8);
            if (!a) {
                nomem = nb + 8;
                goto bad;
            }
            if (nb) memcpy(a, r.p, nb);
            r.p += nb;
            r.left -= nb;
            rc = wb_model_set_array(m, name, a, rows, cols);
            free(a);
        } else
            goto bad;
        if (rc) { /* a name is checked above: out of memory */
            wb_model_free(m);
            return rc;
        }
    }
    if (r.left) goto bad;
    *out = m;
    return 0;
bad:
    wb_model_free(m);
    if (nomem) return wb_seterr(WB_ENOMEM, "model: out of memory (%zu bytes asked for)", nomem);
    return wb_seterr(WB_EFORMAT, "model: malformed encoding");
}

#define MODEL_HEADER "WBMODEL 1\n"

int wb_model_save(const wb_model *m, const char *path)
{
    wb_buf b = {0};
    int rc = wb_buf_add(&b, MODEL_HEADER, strlen(MODEL_HEADER));
    if (!rc) rc = wb_model_encode(m, &b);
    if (rc) {
        wb_buf_free(&b);
        return rc;
    }
    char tmp[4200];
    if (strlen(path) > 4000) {
        wb_buf_free(&b);
        return wb_seterr(WB_EINVAL, "model: a file name of %zu bytes is too long", strlen(path));
    }
    static atomic_uint seq; /* two saves at once (threads) never share a temporary file */
    snprintf(tmp, sizeof tmp, "%s.tmp.%d.%u", path, (int)getpid(), atomic_fetch_add(&seq, 1));
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        wb_buf_free(&b);
        return wb_seterr(WB_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
    int ok = fwrite(b.p, 1, b.len, f) == b.len;
    ok = (fflush(f) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    wb_buf_free(&b);
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return wb_seterr(WB_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

int wb_model_load(const char *path, wb_model **out)
{
    int fd;
    int64_t size;
    mode_t mode = 0;
    int e = wb__open_regular(path, &fd, &size, &mode); /* never blocks: a FIFO or a device is refused */
    if (e == EISDIR) return wb_seterr(WB_EFORMAT, "%s: not a wb model file (no \"WBMODEL 1\" header)", path);
    if (e == ENODEV) return wb_seterr(WB_EIO, "%s: cannot read (not a regular file: %s)", path, wb__file_kind(mode));
    if (e) return wb_seterr(WB_ENOTFOUND, "%s: cannot open: %s", path, strerror(e));
    /* every read is bounded by the file's size, checked against the memory
     * there is before it is allocated */
    size_t avail = wb__avail_bytes();
    if ((uint64_t)size > avail) {
        close(fd);
        return wb_seterr(WB_ENOMEM, "%s: a model file of %lld bytes is more than the %zu bytes of memory available",
                         path, (long long)size, avail);
    }
    unsigned char *p = malloc((size_t)size + 1);
    if (!p) {
        close(fd);
        return wb_seterr(WB_ENOMEM, "%s: out of memory (%lld bytes to read the model)", path, (long long)size);
    }
    size_t n = 0;
    while (n < (size_t)size) {
        ssize_t r = read(fd, p + n, (size_t)size - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            e = errno;
            close(fd);
            free(p);
            return wb_seterr(WB_EIO, "%s: read error at byte %zu (%s)", path, n, strerror(e));
        }
        if (r == 0) break; /* shorter than when it was opened: what is there is decoded */
        n += (size_t)r;
    }
    close(fd);
    int rc;
    size_t hl = strlen(MODEL_HEADER);
    if (n < hl || memcmp(p, MODEL_HEADER, hl) != 0)
        rc = wb_seterr(WB_EFORMAT, "%s: not a wb model file (no \"WBMODEL 1\" header)", path);
    else if ((rc = wb_model_decode(p + hl, n - hl, out)) != 0)
        rc = wb_seterr(rc, "%s: %s", path, wb_errmsg());
    free(p);
    return rc;
}
