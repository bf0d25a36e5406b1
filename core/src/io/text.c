/* io/text.c — reading and writing the text formats (LIBSVM, CSV) as kernels.
 *
 * Reading is two passes over byte ranges of the file, both kernels:
 *   io.scan  counts the records (non-blank lines; LIBSVM comments excluded)
 *            and lines of each subchunk (WB_IO_STEP bytes or more), and for
 *            LIBSVM the largest feature index;
 *   io.parse parses the rows of one partition: from the first line of the
 *            subchunk holding its first row, skipping the records before it.
 * Partitions therefore start at row multiples of wb_partition_rows(d) (block
 * aligned) without the driver ever reading the file's body, and each kernel
 * holds only a bounded buffer (WB_IO_BUF, grown for longer lines).
 * Writing: io.format turns one partition into text. */
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_internal.h"

/* ---------------------------------------------------------------- kernels */

static int open_checked(const char *path, const char *name, int64_t fsize, int *fd)
{
    int64_t size;
    int rc = wb__io_open(path, name, fd, &size);
    if (rc) return rc;
    if (size != fsize) {
        close(*fd);
        return wb_seterr(WB_EIO, "%s: the file changed while reading (%lld bytes, expected %lld)", name,
                         (long long)size, (long long)fsize);
    }
    return 0;
}

/* io.scan: arg wb_scan_arg + path + name -> {maxidx, maxoff, count, minidx, qid,
 * {records, lines}...} (maxoff: the byte offset of the line with the largest
 * index; minidx: the smallest index (-1 none); qid: a record has qid:N) */
static int k_scan(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    WB_UNUSED(in);
    WB_UNUSED(nin);
    wb_scan_arg a;
    const char *s[2];
    int rc = wb__arg_strings(arg, arglen, sizeof a, 2, s);
    if (rc) return rc;
    memcpy(&a, arg, sizeof a);
    if (a.step <= 0 || a.lo < a.data_start || a.hi < a.lo || a.hi > a.fsize)
        return wb_seterr(WB_EINVAL, "io.scan: bad range");
    int64_t nsub = (a.hi - a.lo + a.step - 1) / a.step;
    int64_t *o = wb__out_bytes(ctx, (size_t)(5 + 2 * nsub) * 8);
    if (!o) return wb__io_part_err(WB_ENOMEM, s[1]);
    o[0] = -1;
    o[1] = -1;
    o[2] = nsub;
    o[3] = -1;
    o[4] = 0;
    int64_t *cnt = o + 5;
    int fd;
    if ((rc = open_checked(s[0], s[1], a.fsize, &fd)) != 0) return rc;
    wb_lines r;
    int discard = a.lo > a.data_start;
    rc = wb__lines_init(&r, fd, s[1], discard ? a.lo - 1 : a.lo, a.fsize);
    const char *line;
    size_t len;
    int64_t off, seen = 0, maxidx = -1, maxoff = -1;
    while (!rc) {
        int got = wb__lines_next(&r, &line, &len, &off);
        if (got < 0) rc = got;
        if (got <= 0) break;
        if (discard) {
            discard = 0;
            continue;
        }
        if (off >= a.hi) break;
        int64_t j = (off - a.lo) / a.step;
        cnt[2 * j + 1]++;
        if (wb__is_record(a.fmt, line, len)) {
            cnt[2 * j]++;
            int qid = 0;
            int64_t mi = wb__libsvm_minidx(line, len, &qid);
            if (mi >= 0 && (o[3] < 0 || mi < o[3])) o[3] = mi;
            o[4] |= qid;
            if (a.want_max) {
                int64_t m = wb__libsvm_maxidx(line, len);
                if (m > maxidx) {
                    maxidx = m;
                    maxoff = off;
                }
            }
        }
        if ((++seen & 0xffff) == 0 && wb__cancelled(ctx)) rc = wb_seterr(WB_ECANCELED, "interrupted");
    }
    o[0] = maxidx;
    o[1] = maxoff;
    wb__lines_free(&r);
    close(fd);
    return rc;
}

/* io.parse: arg wb_parse_arg + path + name -> a partition */
static int k_parse(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    WB_UNUSED(in);
    WB_UNUSED(nin);
    wb_parse_arg a;
    const char *s[2];
    int rc = wb__arg_strings(arg, arglen, sizeof a, 2, s);
    if (rc) return rc;
    memcpy(&a, arg, sizeof a);
    if (a.rows <= 0 || a.d < 0 || a.start < a.data_start || a.skip < 0)
        return wb_seterr(WB_EINVAL, "io.parse: bad arguments");
    double *x, *y;
    if (a.dout < a.d || a.qid_col >= a.dout) return wb_seterr(WB_EINVAL, "io.parse: bad arguments");
    rc = wb__out_part(ctx, a.rows, a.dout, a.row0, a.has_y, &x, &y);
    if (rc) return wb__io_part_err(rc, s[1]);
    memset(x, 0, (size_t)a.rows * (size_t)a.dout * 8);
    if (a.qid_col >= 0) /* a record without qid:N has none */
        for (int64_t i = 0; i < a.rows; i++) x[(size_t)i * (size_t)a.dout + (size_t)a.qid_col] = NAN;
    int fd;
    if ((rc = open_checked(s[0], s[1], a.fsize, &fd)) != 0) return rc;
    wb_lines r;
    int discard = a.start > a.data_start;
    rc = wb__lines_init(&r, fd, s[1], discard ? a.start - 1 : a.start, a.fsize);
    int64_t lineno = a.line0 - 1, skip = a.skip, row = 0;
    double ydummy;
    const char *line;
    size_t len;
    int64_t off;
    while (!rc && row < a.rows) {
        int got = wb__lines_next(&r, &line, &len, &off);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 0) {
            rc = wb_seterr(WB_EIO, "%s: the file changed while reading (it ended before row %lld)", s[1],
                           (long long)(a.row0 + row + 1));
            break;
        }
        if (discard) {
            discard = 0;
            continue;
        }
        lineno++;
        if (!wb__is_record(a.fmt, line, len)) continue;
        if (skip > 0) {
            skip--;
            continue;
        }
        double *xr = x + (size_t)row * (size_t)a.dout, *yr = y ? y + row : &ydummy;
        rc = wb__libsvm_row(line, len, xr, yr, &a, s[1], lineno);
        row++;
        if ((row & 0xfff) == 0 && wb__cancelled(ctx)) rc = wb_seterr(WB_ECANCELED, "interrupted");
    }
    wb__lines_free(&r);
    close(fd);
    return rc;
}

/* text of one row */
static char *fmt_libsvm_row(char *p, const double *x, int64_t d, double y)
{
    p = wb__fmt_double(p, y);
    for (int64_t j = 0; j < d; j++) {
        if (x[j] == 0 && !__builtin_signbit(x[j])) continue;
        *p++ = ' ';
        p = wb__fmt_int(p, j + 1);
        *p++ = ':';
        p = wb__fmt_double(p, x[j]);
    }
    *p++ = '\n';
    return p;
}

/* a level's text as a CSV field: quoted when the reader would otherwise
 * split, trim or miss it */
static char *fmt_level(char *p, const char *s, char delim)
{
    size_t n = strlen(s);
    int quote = n == 0 || strpbrk(s, "\"\n\r") || strchr(s, delim) || s[0] == ' ' || s[0] == '\t' ||
                s[n - 1] == ' ' || s[n - 1] == '\t' ||
                wb__compression_of((const unsigned char *)s, n) != WB_IN_PLAIN; /* at a file's start: not gzip/zstd */
    if (!quote) {
        memcpy(p, s, n);
        return p + n;
    }
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"') *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    return p;
}

/* a value: a number, or a category's level (missing: empty) */
static char *fmt_value(char *p, double v, const char *const *lv, int64_t nlv, char delim)
{
    if (!lv) return wb__fmt_double(p, v);
    if (v != v) return p;
    int64_t k = (int64_t)v;
    if (v >= 0 && k < nlv && (double)k == v) return fmt_level(p, lv[k], delim);
    return wb__fmt_double(p, v); /* not a code: the number */
}

static char *fmt_csv_row(char *p, const double *x, int64_t d, const double *y, char delim, const wb_lvtab *lt)
{
    char *row = p;
    for (int64_t j = 0; j < d; j++) {
        if (j) *p++ = delim;
        p = lt ? fmt_value(p, x[j], lt->col[j + 1], lt->n[j + 1], delim) : wb__fmt_double(p, x[j]);
    }
    if (y) {
        if (d) *p++ = delim;
        p = lt ? fmt_value(p, *y, lt->col[0], lt->n[0], delim) : wb__fmt_double(p, *y);
    }
    if (p == row) { /* one missing category alone: "" (an empty line is no row) */
        *p++ = '"';
        *p++ = '"';
    }
    *p++ = '\n';
    return p;
}

/* io.format: a partition -> {u64 textlen, u32 ndistinct, u32 0} text distinct[] */
static int k_format(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    wb_format_arg a;
    if (nin < 1 || in[0].type != WB_OBJ_PART || arglen != sizeof a)
        return wb_seterr(WB_EINVAL, "io.format: bad arguments");
    memcpy(&a, arg, sizeof a);
    const wb_part *p = &in[0].part;
    int64_t d = p->cols;
    /* room for the text: CSV rows are dense; LIBSVM writes the nonzero
     * features only, so count them (sizing every LIBSVM row for all d
     * columns asked for gigabytes for wide sparse data: found by fuzzing) */
    size_t cap = WB_FMT_DOUBLE_BUF;
    wb_lvtab lt, *ltp = NULL;
    if (a.fmt == WB_TXT_CSV && nin >= 2) { /* category levels: text of their own length */
        if (in[1].type != WB_OBJ_BYTES) return wb_seterr(WB_EINVAL, "io.format: bad arguments");
        int rc = wb__levels_decode(in[1].data, in[1].size, d, &lt);
        if (rc) return rc;
        ltp = &lt;
        for (int64_t j = 0; j <= d; j++) {
            size_t longest = 0;
            for (int64_t k = 0; lt.col[j] && k < lt.n[j]; k++) {
                size_t n = strlen(lt.col[j][k]);
                if (n > longest) longest = n;
            }
            cap += (2 * longest + 3) * (size_t)p->rows; /* quoted, every quote doubled */
        }
    }
    if (a.fmt == WB_TXT_LIBSVM) {
        size_t nnz = 0;
        for (size_t k = 0, cells = (size_t)p->rows * (size_t)d; k < cells; k++)
            nnz += !(p->x[k] == 0 && !__builtin_signbit(p->x[k]));
        cap += (size_t)p->rows * (WB_FMT_DOUBLE_MAX + 2) + nnz * (WB_FMT_DOUBLE_MAX + 22);
    } else
        cap += ((size_t)(d + 1) * (WB_FMT_DOUBLE_MAX + 1) + 2) * (size_t)p->rows;
    char *text = malloc(cap);
    if (!text) {
        if (ltp) wb__levels_table_free(ltp);
        return wb_seterr(WB_ENOMEM, "io.format: out of memory (%zu bytes)", cap);
    }
    char *q = text;
    const double *y = a.labels ? p->y : NULL;
    for (int64_t i = 0; i < p->rows; i++) {
        const double *xr = p->x + (size_t)i * (size_t)d;
        if (a.fmt == WB_TXT_LIBSVM)
            q = fmt_libsvm_row(q, xr, d, y ? y[i] : 0.0);
        else
            q = fmt_csv_row(q, xr, d, y ? y + i : NULL, (char)a.delim, ltp);
        if ((i & 0xfff) == 0xfff && wb__cancelled(ctx)) {
            free(text);
            if (ltp) wb__levels_table_free(ltp);
            return wb_seterr(WB_ECANCELED, "interrupted");
        }
    }
    size_t textlen = (size_t)(q - text);
    if (ltp) wb__levels_table_free(ltp);
    wb_labelset ls = {0};
    if (a.stats && y) wb__labelset_add(&ls, y, p->rows);
    uint32_t nd = (a.stats && y && !ls.not_classes) ? (uint32_t)ls.n : UINT32_MAX;
    size_t size = 16 + textlen + (nd == UINT32_MAX ? 0 : (size_t)nd * 8);
    unsigned char *o = wb__out_bytes(ctx, size);
    if (!o) {
        free(text);
        wb__labelset_free(&ls);
        return WB_ENOMEM;
    }
    uint64_t tl = textlen;
    memcpy(o, &tl, 8);
    memcpy(o + 8, &nd, 4);
    memcpy(o + 16, text, textlen);
    if (nd != UINT32_MAX && nd) memcpy(o + 16 + textlen, ls.v, (size_t)nd * 8);
    free(text);
    wb__labelset_free(&ls);
    return 0;
}

void wb__register_text_kernels(void)
{
    wb_register_kernel("io.scan", k_scan);
    wb_register_kernel("io.parse", k_parse);
    wb_register_kernel("io.format", k_format);
}

/* ---------------------------------------------------------------- driver */

static const char *what_libsvm = "lines of \"label index:value ...\"";

/* wait for n tasks in order, reporting each one done on the progress line
 * (stage "load"); every task is waited for, and the first failure's message
 * is the one returned */
static int wait_reporting(wb_exec *ex, wb_oid *outs, int64_t n, const char *what)
{
    int rc = 0;
    char msg[1024] = "";
    if (n <= 0) return 0;
    for (int64_t k = 0; k < n; k++) {
        int r = wb_exec_wait(ex, &outs[k], 1);
        if (r && !rc) {
            rc = r;
            snprintf(msg, sizeof msg, "%s", wb_errmsg());
        }
        if (!rc && k + 1 < n) wb_progress("load", (double)(k + 1), (double)n, what);
    }
    wb_progress("load", (double)n, (double)n, NULL);
    return rc ? wb_seterr(rc, "%s", msg) : 0;
}

/* LIBSVM: the largest index found by io.scan is past the limit of columns.
 * Say where: the line (counted up to the byte offset io.scan found) parsed
 * against the limit gives the exact message (a bad feature, or the index). */
static int libsvm_too_wide(const char *path, int64_t fsize, int64_t off, int zero_based)
{
    int fd;
    int64_t size;
    int rc = wb__io_open(path, path, &fd, &size);
    if (rc) return rc;
    wb_lines r;
    rc = wb__lines_init(&r, fd, path, 0, fsize);
    const char *line;
    size_t len;
    int64_t at, lineno = 0;
    while (!rc) {
        int got = wb__lines_next(&r, &line, &len, &at);
        if (got <= 0) {
            rc = got;
            break;
        }
        lineno++;
        if (at < off) continue;
        wb_parse_arg a;
        memset(&a, 0, sizeof a);
        a.fmt = WB_TXT_LIBSVM;
        a.zero_based = zero_based;
        a.d = WB_IO_MAX_COLS;
        a.dsource = 3;
        double *x = calloc((size_t)WB_IO_MAX_COLS, sizeof *x), y;
        if (!x) {
            rc = wb__io_nomem(path, (size_t)WB_IO_MAX_COLS * sizeof *x);
            break;
        }
        rc = wb__libsvm_row(line, len, x, &y, &a, path, lineno);
        free(x);
        if (rc == WB_EFORMAT && strstr(wb_errmsg(), "out of range")) rc = WB_ELIMIT;
        break;
    }
    wb__lines_free(&r);
    close(fd);
    if (!rc) /* the parser accepts the line: still name it */
        rc = wb_seterr(WB_ELIMIT, "%s:%lld: an index past the limit of %lld columns", path, (long long)lineno,
                       (long long)WB_IO_MAX_COLS);
    return rc;
}

int wb__read_text(wb_exec *ex, const char *path, int fmt, const wb_read_opts *o, wb_dataset **out)
{
    int fd;
    int64_t fsize;
    int rc = wb__io_open(path, path, &fd, &fsize);
    if (rc) return rc;
    if (fsize == 0) {
        close(fd);
        return wb_seterr(WB_EFORMAT, "%s: empty file (expected %s)", path,
                         fmt == WB_TXT_LIBSVM ? what_libsvm : "rows of comma-separated numbers");
    }
    int64_t data_start = 0;
    close(fd);
    char *abs = realpath(path, NULL);
    if (!abs) return wb_seterr(WB_EIO, "%s: cannot open (%s)", path, strerror(errno));
    size_t la = strlen(abs) + 1, ln = strlen(path) + 1;

    /* the shape: LIBSVM's from features=, the .meta file, or the largest index */
    int64_t d = 0;
    int dsource = 0;
    if (fmt == WB_TXT_LIBSVM) {
        if (o->features > 0) {
            d = o->features;
            dsource = 1;
            if (d > WB_IO_MAX_COLS)
                rc = wb_seterr(WB_ELIMIT, "%s: features=%lld is more than the limit of %lld columns", path,
                               (long long)d, (long long)WB_IO_MAX_COLS);
        } else {
            wb_meta m;
            int mrc = wb_meta_read(path, &m);
            if (mrc == 0 && m.num_features >= 0) {
                d = m.num_features;
                dsource = 2;
                if (d > WB_IO_MAX_COLS)
                    rc = wb_seterr(WB_ELIMIT, "%s.meta: num_features %lld is more than the limit of %lld columns",
                                   path, (long long)d, (long long)WB_IO_MAX_COLS);
            } else if (mrc && mrc != WB_ENOTFOUND)
                rc = mrc;
        }
    }

    /* pass 1: records and lines per subchunk */
    int64_t body = fsize - data_start;
    int64_t step = WB_IO_STEP;
    if (body / step > 65536) step = (body / 65536 + 4095) / 4096 * 4096;
    int64_t nsub = (body + step - 1) / step;
    int par = wb_exec_parallelism(ex);
    int64_t ntask = nsub < 4 * (int64_t)par ? nsub : 4 * (int64_t)par;
    int64_t *rec = calloc((size_t)nsub + 1, 8), *lines = calloc((size_t)nsub + 1, 8);
    wb_oid *outs = calloc((size_t)(ntask ? ntask : 1), sizeof *outs);
    unsigned char *args = malloc((size_t)(ntask ? ntask : 1) * (sizeof(wb_scan_arg) + la + ln));
    wb_task *tasks = calloc((size_t)(ntask ? ntask : 1), sizeof *tasks);
    int64_t maxidx = -1, maxoff = -1, minidx = -1;
    int has_qid = 0;
    if (!rec || !lines || !outs || !args || !tasks) {
        size_t per_task = sizeof *outs + sizeof *tasks + sizeof(wb_scan_arg) + la + ln;
        rc = wb__io_nomem(path, ((size_t)nsub + 1) * 16 + (size_t)(ntask ? ntask : 1) * per_task);
    }
    for (int64_t t = 0; !rc && t < ntask; t++) {
        int64_t j0 = nsub * t / ntask, j1 = nsub * (t + 1) / ntask;
        wb_scan_arg a = {fmt, o->delimiter ? o->delimiter : ',', fmt == WB_TXT_LIBSVM && !dsource, 0,
                         data_start, data_start + j0 * step,
                         data_start + j1 * step < fsize ? data_start + j1 * step : fsize, step, fsize};
        unsigned char *p = args + (size_t)t * (sizeof a + la + ln);
        memcpy(p, &a, sizeof a);
        memcpy(p + sizeof a, abs, la);
        memcpy(p + sizeof a + la, path, ln);
        tasks[t] = (wb_task){"io.scan", NULL, 0, p, sizeof a + la + ln, WB_TASK_PLAIN, 0, -1};
    }
    if (!rc && ntask) rc = wb_exec_submit_tasks(ex, tasks, (int)ntask, outs);
    if (!rc && ntask) {
        rc = wait_reporting(ex, outs, ntask, "scanning");
        for (int64_t t = 0; t < ntask; t++) {
            int64_t j0 = nsub * t / ntask, j1 = nsub * (t + 1) / ntask;
            void *data = NULL;
            size_t size = 0;
            if (!rc) rc = wb_exec_get(ex, outs[t], &data, &size);
            if (!rc) {
                const int64_t *v = data;
                if (size < 40 || v[2] != j1 - j0 || size != (size_t)(5 + 2 * v[2]) * 8)
                    rc = wb_seterr(WB_EINTERNAL, "io.scan: bad result");
                if (!rc && v[3] >= 0 && (minidx < 0 || v[3] < minidx)) minidx = v[3];
                if (!rc) has_qid |= v[4] != 0;
                for (int64_t j = j0; !rc && j < j1; j++) {
                    rec[j] = v[5 + 2 * (j - j0)];
                    lines[j] = v[6 + 2 * (j - j0)];
                }
                if (!rc && v[0] > maxidx) {
                    maxidx = v[0];
                    maxoff = v[1];
                }
            }
            free(data);
            wb_exec_release(ex, outs[t]);
        }
    }
    free(tasks);
    free(args);
    free(outs);
    int64_t n = 0;
    for (int64_t j = 0; !rc && j < nsub; j++) n += rec[j];
    if (!rc && n == 0) {
        if (fmt == WB_TXT_LIBSVM)
            rc = wb_seterr(WB_EFORMAT, "%s: no data, only blank or comment lines (expected %s)", path,
                           what_libsvm);
        else
            rc = wb_seterr(WB_EFORMAT, "%s: no data rows after the header line", path);
    }
    /* 0-based when an index 0 occurs, unless told (scikit-learn's zero_based="auto") */
    int zero_based = o->zero_based >= 0 ? o->zero_based != 0 : minidx == 0;
    if (!rc && fmt == WB_TXT_LIBSVM && !dsource) {
        d = maxidx < 0 ? 0 : (zero_based ? maxidx + 1 : maxidx);
        if (d > WB_IO_MAX_COLS) rc = libsvm_too_wide(path, fsize, maxoff, zero_based);
    }
    /* qid:N kept as a last column "qid" (the query of learning-to-rank files) */
    int64_t qid_col = has_qid && o->qid ? d : -1, dout = d + (qid_col >= 0);

    if (!rc) rc = wb__io_check_rows(path, n, o);
    if (!rc && fmt == WB_TXT_LIBSVM) rc = wb__libsvm_check_dense(ex, path, n, d, dsource);

    /* pass 2: one parse task per partition */
    int64_t P = wb_partition_rows(dout);
    int64_t np = rc ? 0 : (n + P - 1) / P;
    if (np > INT_MAX / 2) rc = wb_seterr(WB_ELIMIT, "%s: too many rows", path);
    wb_parse_arg *pa = calloc((size_t)(np ? np : 1), sizeof(wb_parse_arg) + la + ln);
    tasks = calloc((size_t)(np ? np : 1), sizeof *tasks);
    outs = calloc((size_t)(np ? np : 1), sizeof *outs);
    wb_dspart *parts = calloc((size_t)(np ? np : 1), sizeof *parts);
    if (!rc && (!pa || !tasks || !outs || !parts))
        rc = wb__io_nomem(path, (size_t)(np ? np : 1) * (sizeof(wb_parse_arg) + la + ln + sizeof *tasks + sizeof *outs +
                                                         sizeof *parts));
    int has_y = 1;
    size_t asz = sizeof(wb_parse_arg) + la + ln;
    int64_t j = 0, cum = 0, cumlines = 0; /* records and lines before subchunk j */
    for (int64_t k = 0; !rc && k < np; k++) {
        int64_t r0 = k * P, rows = n - r0 < P ? n - r0 : P;
        while (cum + rec[j] <= r0) {
            cum += rec[j];
            cumlines += lines[j];
            j++;
        }
        wb_parse_arg a = {fmt, ',', zero_based, has_y, dsource,
                          0,
                          data_start + j * step, data_start, r0 - cum, rows, r0,
                          cumlines + 1, d, dout, qid_col, fsize};
        unsigned char *p = (unsigned char *)pa + (size_t)k * asz;
        memcpy(p, &a, sizeof a);
        memcpy(p + sizeof a, abs, la);
        memcpy(p + sizeof a + la, path, ln);
        tasks[k] = (wb_task){"io.parse", NULL, 0, p, asz, WB_TASK_PLAIN, 0, rows};
        parts[k] = (wb_dspart){0, rows, r0};
    }
    if (!rc && np) rc = wb_exec_submit_tasks(ex, tasks, (int)np, outs);
    if (!rc) {
        rc = wait_reporting(ex, outs, np, "parsing");
        for (int64_t k = 0; k < np; k++) parts[k].oid = outs[k];
        if (rc)
            for (int64_t k = 0; k < np; k++) wb_exec_release(ex, outs[k]);
        else
            rc = wb_ds_new(ex, dout, has_y, (int)np, parts, out);
    }
    if (!rc && qid_col >= 0) rc = wb_ds_set_colname(*out, qid_col, "qid");
    if (!rc) { /* the names and types .meta gives */
        wb_meta m;
        wb_meta_cols mc;
        if (wb__meta_read_cols(path, &m, &mc) == 0) {
            rc = wb__meta_apply(*out, &mc);
            wb__meta_cols_free(&mc);
        }
        if (rc) wb_ds_unref(*out);
    }
    free(pa);
    free(tasks);
    free(outs);
    free(parts);
    free(rec);
    free(lines);
    free(abs);
    return rc;
}
