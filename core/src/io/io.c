/* io/io.c — files: options, reading dispatch by format, the streaming
 * writer (temporary file renamed into place, .meta last). See io_internal.h
 * for how reading and writing are split into kernels; the helpers the
 * readers and writers share are in io/common.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_internal.h"

/* --------------------------------------------------------------- options */

void wb_read_opts_init(wb_read_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = WB_FMT_AUTO;
    o->header = -1;
    o->label = WB_LABEL_AUTO;
    o->mmap = 1;
    o->delimiter = 0;
    o->zero_based = -1;
    o->nna_values = -1;
    o->qid = 1;
}

void wb_write_opts_init(wb_write_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = WB_FMT_AUTO;
    o->header = 1;
    o->meta = 1;
    o->nclasses = -1;
}

static int format_of(const char *path, int given, int *fmt)
{
    *fmt = given != WB_FMT_AUTO ? given : wb_format_from_path(path);
    if (*fmt < WB_FMT_LIBSVM || *fmt > WB_FMT_NPY)
        return wb_seterr(WB_EINVAL,
                         "%s: unknown file format (expected a name ending in .libsvm, .svm, .csv "
                         "or .npy, or the option format=\"libsvm\"|\"csv\"|\"npy\")",
                         path);
    return 0;
}

/* LIBSVM and NPY are read in place, in parallel: a compressed one is refused */
static int not_compressed(const char *path, int fmt)
{
    int fd;
    int64_t size;
    if (wb__io_open(path, path, &fd, &size) != 0) return 0; /* the reader says why */
    unsigned char b[4] = {0};
    size_t n = size < 4 ? (size_t)size : 4;
    int rc = wb__io_pread(fd, b, n, 0, path);
    close(fd);
    if (rc) return rc;
    int k = wb__compression_of(b, n);
    if (k == WB_IN_PLAIN) return 0;
    return wb_seterr(WB_ENOTSUP, "%s: %s-compressed %s is not read (decompress it first; CSV files are read compressed)",
                     path, k == WB_IN_GZIP ? "gzip" : "zstd", fmt == WB_FMT_NPY ? "NPY" : "LIBSVM");
}

/* ---------------------------------------------------------------- reading */

int wb_read(wb_exec *ex, const char *path, const wb_read_opts *o, wb_dataset **out)
{
    wb_read_opts def;
    if (!o) {
        wb_read_opts_init(&def);
        o = &def;
    }
    if (!path || !*path) return wb_seterr(WB_EINVAL, "load: no file name given");
    int fmt, rc = format_of(path, o->format == WB_FMT_AUTO && strcmp(path, "-") == 0 ? WB_FMT_CSV : o->format, &fmt);
    if (rc) return rc;
    if (fmt == WB_FMT_CSV) return wb__read_csv(ex, path, o, out);
    if (strcmp(path, "-") == 0)
        return wb_seterr(WB_ENOTSUP, "(standard input): only CSV is read from standard input (format=\"csv\")");
    if ((rc = not_compressed(path, fmt)) != 0) return rc;
    if (fmt == WB_FMT_NPY) return wb__read_npy(ex, path, o, out);
    return wb__read_text(ex, path, fmt == WB_FMT_LIBSVM ? WB_TXT_LIBSVM : WB_TXT_CSV, o, out);
}

/* ---------------------------------------------------------------- writing */

struct wb_writer {
    int fmt;
    wb_write_opts o;
    char *path, *tmp;        /* the file and its temporary */
    char *lpath, *ltmp;      /* NPY: the labels file and its temporary */
    int fd, lfd;
    int64_t n, d, rows;
    int has_labels;
    int started;             /* header written */
    int failed;
    int64_t bytes, lbytes;
    wb_labelset labels;
    wb_dataset *first;       /* the first chunk: its names, types and levels describe the file */
    char delim;              /* CSV */
};

static int write_all(int fd, const void *data, size_t n, const char *name)
{
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return wb_seterr(WB_EIO, "%s: write failed (%s)", name, strerror(errno));
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* a new temporary file beside path: "path.tmp-PID-N" */
static int open_temp(const char *path, char **tmp, int *fd)
{
    static int counter;
    size_t n = strlen(path) + 64;
    char *t = malloc(n);
    if (!t) return wb__io_nomem(path, n);
    for (int attempt = 0; attempt < 100; attempt++) {
        int k = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
        snprintf(t, n, "%s.tmp-%ld-%d", path, (long)getpid(), k);
        int f = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (f >= 0) {
            *tmp = t;
            *fd = f;
            return 0;
        }
        if (errno != EEXIST) {
            int e = errno;
            free(t);
            return wb_seterr(WB_EIO, "%s: cannot write (%s)", path, strerror(e));
        }
    }
    free(t);
    return wb_seterr(WB_EIO, "%s: cannot create a temporary file beside it", path);
}

static void writer_free(wb_writer *w)
{
    if (w->fd >= 0) close(w->fd);
    if (w->lfd >= 0) close(w->lfd);
    if (w->tmp) unlink(w->tmp);
    if (w->ltmp) unlink(w->ltmp);
    free(w->tmp);
    free(w->ltmp);
    free(w->path);
    free(w->lpath);
    wb__labelset_free(&w->labels);
    wb_ds_unref(w->first);
    free(w);
}

void wb_writer_abort(wb_writer *w)
{
    if (w) writer_free(w);
}

int wb_writer_open(const char *path, const wb_write_opts *o, int64_t n, int64_t d, int has_labels,
                   wb_writer **out)
{
    *out = NULL;
    if (!path || !*path) return wb_seterr(WB_EINVAL, "save: no file name given");
    if (n < 0 || d < 0) return wb_seterr(WB_EINVAL, "%s: bad shape %lld x %lld", path, (long long)n, (long long)d);
    wb_writer *w = calloc(1, sizeof *w);
    if (!w) return wb__io_nomem(path, sizeof *w);
    w->fd = w->lfd = -1;
    if (o)
        w->o = *o;
    else
        wb_write_opts_init(&w->o);
    int rc = format_of(path, w->o.format, &w->fmt);
    if (rc) {
        free(w);
        return rc;
    }
    if (w->fmt == WB_FMT_NPY && d == 0) {
        free(w);
        return wb_seterr(WB_EINVAL, "%s: a dataset without columns cannot be saved as NPY (wb reads NPY files of "
                                    "at least one column)", path);
    }
    w->n = n;
    w->d = d;
    w->has_labels = has_labels;
    {
        size_t pl = strlen(path);
        int tsv = (pl >= 4 && (strcmp(path + pl - 4, ".tsv") == 0 || strcmp(path + pl - 4, ".tab") == 0));
        w->delim = w->o.delimiter ? w->o.delimiter : tsv ? '\t' : ',';
    }
    w->path = wb_strdup(path);
    if (!w->path) rc = wb__io_nomem(path, strlen(path) + 1);
    if (!rc) rc = open_temp(path, &w->tmp, &w->fd);
    if (!rc && w->fmt == WB_FMT_NPY) {
        w->lpath = wb__npy_labels_path(path);
        if (!w->lpath) rc = wb__io_nomem(path, strlen(path) + 12);
        if (!rc && has_labels) rc = open_temp(w->lpath, &w->ltmp, &w->lfd);
    }
    if (rc) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* the header: CSV column names, NPY headers */
static int writer_start(wb_writer *w, const wb_dataset *first)
{
    if (w->started) return 0;
    w->started = 1;
    wb_buf b = {0};
    int rc = 0;
    if (w->fmt == WB_FMT_CSV && w->o.header) {
        for (int64_t j = 0; !rc && j <= w->d; j++) {
            if (j == w->d && !w->has_labels) break;
            const char *nm = j < w->d ? (first && first->colnames ? first->colnames[j] : NULL)
                                      : (first && first->label_name && *first->label_name ? first->label_name : "label");
            if (j) rc = wb_buf_add(&b, &w->delim, 1);
            if (rc) break;
            if (nm && *nm) {
                size_t nl = strlen(nm);
                /* quoted when the reader would otherwise split or trim it
                 * (leading/trailing blanks, a leading byte-order mark at the
                 * start of the file: found by fuzzing) */
                /* (also the other delimiters the reader sniffs for, so the header reads back the same) */
                int quote = strpbrk(nm, ",;|\t\"\n\r") != NULL || strchr(nm, w->delim) != NULL || nm[0] == ' ' || nm[0] == '\t' ||
                            nm[nl - 1] == ' ' || nm[nl - 1] == '\t' || (j == 0 && !strncmp(nm, "\xEF\xBB\xBF", 3)) ||
                            (j == 0 && wb__compression_of((const unsigned char *)nm, nl) != WB_IN_PLAIN); /* read as gzip/zstd */
                if (quote) rc = wb_buf_add(&b, "\"", 1);
                for (const char *c = nm; !rc && *c; c++)
                    rc = *c == '"' ? wb_buf_add(&b, "\"\"", 2) : wb_buf_add(&b, c, 1);
                if (!rc && quote) rc = wb_buf_add(&b, "\"", 1);
            } else { /* unnamed: x<j>, unless a named column has that name */
                char nm2[64];
                snprintf(nm2, sizeof nm2, "x%lld", (long long)j + 1);
                for (int k = 1; first && first->colnames; k++) {
                    int taken = 0;
                    for (int64_t q = 0; q < w->d && !taken; q++) taken = strcmp(first->colnames[q], nm2) == 0;
                    if (!taken) break;
                    snprintf(nm2, sizeof nm2, "x%lld_%d", (long long)j + 1, k);
                }
                rc = wb_buf_add(&b, nm2, strlen(nm2));
            }
        }
        if (!rc) rc = wb_buf_add(&b, "\n", 1);
    } else if (w->fmt == WB_FMT_NPY) {
        int vec = first && first->is_vector && w->d == 1;
        rc = wb__npy_header(&b, w->n, w->d, vec ? 1 : 2);
        if (!rc && w->has_labels) {
            wb_buf lb = {0};
            rc = wb__npy_header(&lb, w->n, 1, 1);
            if (!rc) rc = write_all(w->lfd, lb.p, lb.len, w->lpath);
            w->lbytes += (int64_t)lb.len;
            wb_buf_free(&lb);
        }
    }
    if (!rc && b.len) {
        rc = write_all(w->fd, b.p, b.len, w->path);
        w->bytes += (int64_t)b.len;
    }
    wb_buf_free(&b);
    return rc;
}

/* an object's bytes or partition: a view when the executor is local, else a copy */
typedef struct objview {
    wb_obj obj;
    void *copy;
    wb_store *store;
    wb_oid id;
} objview;

static int view_get(wb_exec *ex, wb_oid id, objview *v)
{
    memset(v, 0, sizeof *v);
    wb_exec_info info;
    wb_exec_info_get(ex, &info);
    wb_store *s = info.store;
    if (s) {
        int rc = wb_store_wait(s, id);
        if (!rc) rc = wb_store_acquire(s, id, &v->obj);
        if (rc) return rc;
        v->store = s;
        v->id = id;
        return 0;
    }
    size_t size = 0;
    int rc = wb_exec_get(ex, id, &v->copy, &size);
    if (rc) return rc;
    wb_objstat st;
    rc = wb_exec_stat(ex, id, &st);
    if (!rc && st.type == WB_OBJ_PART) {
        v->obj.type = WB_OBJ_PART;
        rc = wb_part_decode(v->copy, size, &v->obj.part);
    } else if (!rc) {
        v->obj.type = WB_OBJ_BYTES;
        v->obj.data = v->copy;
        v->obj.size = size;
    }
    if (rc) {
        free(v->copy);
        v->copy = NULL;
    }
    return rc;
}

static void view_done(objview *v)
{
    if (v->store) wb_store_unref(v->store, v->id);
    free(v->copy);
    memset(v, 0, sizeof *v);
}

static int append_text(wb_writer *w, const wb_dataset *c)
{
    wb_exec *ex = c->ex;
    int np = c->nparts;
    wb_oid *outs = calloc((size_t)(np ? np : 1), sizeof *outs);
    if (!outs) return wb__io_nomem(w->path, (size_t)(np ? np : 1) * sizeof *outs);
    wb_format_arg arg = {w->fmt == WB_FMT_LIBSVM ? WB_TXT_LIBSVM : WB_TXT_CSV, w->delim, w->has_labels,
                         w->has_labels && w->o.nclasses < 0};
    /* CSV: the category columns' levels, for their text */
    wb_oid lv = 0;
    if (w->fmt == WB_FMT_CSV && (wb_ds_has_categories(c) || (w->has_labels && c->label_levels))) {
        wb_buf b = {0};
        int rc = wb__levels_encode(c, &b);
        if (!rc) rc = wb_exec_put(ex, b.p, b.len, &lv);
        wb_buf_free(&b);
        if (rc) {
            free(outs);
            return rc;
        }
    }
    wb_oid ins[2];
    int window = 2 * wb_exec_parallelism(ex);
    if (window < 2) window = 2;
    int sub = 0, wr = 0, rc = 0;
    while (wr < np && !rc) {
        while (!rc && sub < np && sub - wr < window) {
            ins[0] = c->parts[sub].oid;
            ins[1] = lv;
            wb_task t = {"io.format", ins, lv ? 2 : 1, &arg, sizeof arg, WB_TASK_PLAIN, 0, -1};
            rc = wb_exec_submit_tasks(ex, &t, 1, &outs[sub]);
            if (!rc) sub++;
        }
        if (rc) break;
        rc = wb_exec_wait(ex, &outs[wr], 1);
        objview v;
        if (!rc) rc = view_get(ex, outs[wr], &v);
        if (!rc) {
            const unsigned char *p = v.obj.data;
            uint64_t textlen = 0;
            uint32_t nd = 0;
            if (v.obj.type != WB_OBJ_BYTES || v.obj.size < 16) rc = wb_seterr(WB_EINTERNAL, "io.format: bad output");
            if (!rc) {
                memcpy(&textlen, p, 8);
                memcpy(&nd, p + 8, 4);
                size_t need = 16 + textlen + (nd == UINT32_MAX ? 0 : (size_t)nd * 8);
                if (need != v.obj.size) rc = wb_seterr(WB_EINTERNAL, "io.format: bad output");
            }
            if (!rc) rc = write_all(w->fd, p + 16, textlen, w->path);
            if (!rc) {
                w->bytes += (int64_t)textlen;
                if (arg.stats) {
                    if (nd == UINT32_MAX)
                        wb__labelset_merge(&w->labels, NULL, 0, 1);
                    else {
                        double *vals = malloc((size_t)(nd ? nd : 1) * 8);
                        if (!vals) rc = wb__io_nomem(w->path, (size_t)(nd ? nd : 1) * 8);
                        else {
                            memcpy(vals, p + 16 + textlen, (size_t)nd * 8);
                            wb__labelset_merge(&w->labels, vals, nd, 0);
                            free(vals);
                        }
                    }
                }
            }
            view_done(&v);
        }
        wb_exec_release(ex, outs[wr]);
        outs[wr] = 0;
        wr++;
    }
    for (int i = wr; i < sub; i++) wb_exec_release(ex, outs[i]);
    if (lv) wb_exec_release(ex, lv);
    free(outs);
    return rc;
}

static int append_npy(wb_writer *w, const wb_dataset *c)
{
    int rc = 0;
    for (int i = 0; i < c->nparts && !rc; i++) {
        objview v;
        rc = view_get(c->ex, c->parts[i].oid, &v);
        if (rc) break;
        const wb_part *p = &v.obj.part;
        if (v.obj.type != WB_OBJ_PART || p->cols != w->d || p->rows != c->parts[i].rows)
            rc = wb_seterr(WB_EINTERNAL, "%s: partition %d has the wrong shape", w->path, i);
        size_t nx = (size_t)p->rows * (size_t)p->cols * 8;
        if (!rc) rc = write_all(w->fd, p->x, nx, w->path);
        if (!rc) w->bytes += (int64_t)nx;
        if (!rc && w->has_labels) {
            if (!p->y) rc = wb_seterr(WB_EINTERNAL, "%s: partition %d has no labels", w->path, i);
            if (!rc) rc = write_all(w->lfd, p->y, (size_t)p->rows * 8, w->lpath);
            if (!rc) {
                w->lbytes += p->rows * 8;
                if (w->o.nclasses < 0) wb__labelset_add(&w->labels, p->y, p->rows);
            }
        }
        view_done(&v);
    }
    return rc;
}

int wb_writer_append(wb_writer *w, const wb_dataset *c)
{
    if (!w) return wb_seterr(WB_EINVAL, "writer: closed");
    if (w->failed) return wb_seterr(WB_ESTATE, "%s: an earlier write failed", w->path);
    int rc = 0;
    if (c->d != w->d)
        rc = wb_seterr(WB_EINVAL, "%s: appending %lld columns to a file of %lld", w->path, (long long)c->d,
                       (long long)w->d);
    else if (w->has_labels && !c->has_labels)
        rc = wb_seterr(WB_EINVAL, "%s: appending rows without labels to a file with labels", w->path);
    else if (w->rows + c->n > w->n)
        rc = wb_seterr(WB_EINVAL, "%s: %lld rows appended, more than the %lld announced", w->path,
                       (long long)(w->rows + c->n), (long long)w->n);
    if (!rc) rc = writer_start(w, c);
    if (!rc && !w->first) w->first = wb_ds_ref((wb_dataset *)c);
    if (!rc) rc = w->fmt == WB_FMT_NPY ? append_npy(w, c) : append_text(w, c);
    if (!rc) w->rows += c->n;
    if (rc) w->failed = 1;
    return rc;
}

static int close_fd(int *fd, const char *name)
{
    int f = *fd;
    *fd = -1;
    if (f >= 0 && close(f) != 0) return wb_seterr(WB_EIO, "%s: write failed (%s)", name, strerror(errno));
    return 0;
}

int wb_writer_close(wb_writer *w)
{
    if (!w) return wb_seterr(WB_EINVAL, "writer: closed");
    int rc = w->failed ? wb_seterr(WB_ESTATE, "%s: an earlier write failed", w->path) : 0;
    if (!rc && w->rows != w->n)
        rc = wb_seterr(WB_EINVAL, "%s: %lld of the %lld announced rows were written", w->path,
                       (long long)w->rows, (long long)w->n);
    if (!rc) rc = writer_start(w, NULL);
    if (!rc) rc = close_fd(&w->fd, w->path);
    if (!rc) rc = close_fd(&w->lfd, w->lpath ? w->lpath : w->path);
    char *meta = rc ? NULL : wb__meta_path(w->path);
    if (!rc && !meta) rc = wb__io_nomem(w->path, strlen(w->path) + 6);
    if (rc) {
        free(meta);
        writer_free(w);
        return rc;
    }
    /* the old sidecar goes first: a .meta never describes other data */
    if (unlink(meta) != 0 && errno != ENOENT)
        rc = wb_seterr(WB_EIO, "%s: cannot replace (%s)", meta, strerror(errno));
    if (!rc && w->fmt == WB_FMT_NPY) {
        if (w->has_labels) {
            if (rename(w->ltmp, w->lpath) != 0)
                rc = wb_seterr(WB_EIO, "%s: cannot write (%s)", w->lpath, strerror(errno));
            else {
                free(w->ltmp);
                w->ltmp = NULL;
            }
        } else if (unlink(w->lpath) != 0 && errno != ENOENT) /* stale labels of older data */
            rc = wb_seterr(WB_EIO, "%s: cannot remove (%s)", w->lpath, strerror(errno));
    }
    if (!rc) {
        if (rename(w->tmp, w->path) != 0) {
            rc = wb_seterr(WB_EIO, "%s: cannot write (%s)", w->path, strerror(errno));
            if (w->has_labels && w->lpath) unlink(w->lpath);
        } else {
            free(w->tmp);
            w->tmp = NULL;
        }
    }
    if (!rc && w->o.meta) {
        wb_meta m = {w->n, w->d, 0, w->bytes + w->lbytes};
        if (w->o.nclasses >= 0) m.num_classes = w->o.nclasses;
        else if (w->has_labels && !w->labels.not_classes) m.num_classes = (int64_t)w->labels.n;
        rc = wb__meta_write_ds(w->path, &m, w->first);
    }
    free(meta);
    writer_free(w);
    return rc;
}

int wb_write(const wb_dataset *d, const char *path, const wb_write_opts *o)
{
    if (!d) return wb_seterr(WB_EINVAL, "save: no dataset");
    wb_writer *w;
    int rc = wb_writer_open(path, o, d->n, d->d, d->has_labels, &w);
    if (rc) return rc;
    rc = wb_writer_append(w, d);
    if (rc) {
        wb_writer_abort(w);
        return rc;
    }
    return wb_writer_close(w);
}
