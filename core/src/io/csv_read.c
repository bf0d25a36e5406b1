/* io/csv_read.c — reading CSV (and TSV) into a typed dataset.
 *
 * The driver reads the header and a sample of rows, then the work runs as
 * kernels, in parallel, each over a bounded buffer:
 *
 *   io.csv_scan   byte ranges of the file (a few per thread): the records
 *                 and lines of each subchunk (WB_IO_STEP bytes). A range
 *                 starts at a line start whose quote state is not known yet,
 *                 so the scan runs the state machine twice, assuming the
 *                 line break before it was outside quotes and inside them
 *                 (the second run stops once both agree: usually at the
 *                 first line break). The driver chains the ranges from the
 *                 file's start and keeps the right run of each.
 *   io.csv_parse  the rows of one partition (wb_partition_rows rows, from
 *                 the first line of a subchunk, skipping records): fields to
 *                 numbers; a column with text (not a number, not a missing
 *                 token) becomes a category column in that partition, whose
 *                 values are codes into the partition's own list of levels.
 *                 For a compressed file or standard input, the driver cuts
 *                 the stream into partitions' records and hands each task
 *                 its bytes.
 *   io.csv_info   a partition's column kinds and its levels, sorted.
 *   io.csv_remap  the partition's codes mapped to the dataset's levels.
 *
 * Types are decided over the whole file: a column is a category when any
 * partition found text in it (or dtype says so), and a partition that read
 * numbers in such a column is parsed again reading them as text (rare: a
 * column of numbers with text further down). Levels are the sorted union
 * of every partition's levels, so codes do not depend on partitions,
 * threads or workers. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"

/* ------------------------------------------------------------ buffered input */

/* a window of the input: a file read with pread from an offset, or bytes in
 * memory (a stream chunk); buf[beg, len) not consumed yet */
typedef struct csv_src {
    int fd;              /* -1: memory */
    const char *name;
    int64_t fsize;       /* file: bytes of the file; memory: of the chunk */
    int64_t base;        /* file offset of buf[0] */
    char *buf;
    size_t cap, beg, len;
    int owned;           /* buf is ours (file) */
} csv_src;

static int src_file(csv_src *s, int fd, const char *name, int64_t start, int64_t fsize)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->name = name;
    s->fsize = fsize;
    /* read with pread into a buffer, not mapped: a file truncated by another
     * process while it is read must give "the file changed while reading",
     * not SIGBUS on a mapped page past its new end */
    s->base = start;
    s->cap = WB_IO_BUF;
    if (fsize - start + 1 < (int64_t)s->cap) s->cap = fsize - start + 1 < 4096 ? 4096 : (size_t)(fsize - start + 1);
    s->buf = malloc(s->cap);
    s->owned = 1;
    if (!s->buf) return wb_seterr(WB_ENOMEM, "%s: out of memory", name);
    return 0;
}

static void src_mem(csv_src *s, const char *data, size_t n, const char *name)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->name = name;
    s->buf = (char *)data;
    s->len = n;
    s->cap = n;
    s->fsize = (int64_t)n;
}

static void src_free(csv_src *s)
{
    if (s->owned) free(s->buf);
    s->buf = NULL;
}

static int src_eof(const csv_src *s) { return s->base + (int64_t)s->len >= s->fsize; }

/* read more: keep the unconsumed bytes, grow the buffer when it is full of
 * them (a record longer than it), up to WB_IO_MAX_LINE */
static int src_more(csv_src *s)
{
    if (src_eof(s)) return 0;
    if (s->beg) {
        memmove(s->buf, s->buf + s->beg, s->len - s->beg);
        s->base += (int64_t)s->beg;
        s->len -= s->beg;
        s->beg = 0;
    }
    if (s->len == s->cap) {
        if (s->cap >= WB_IO_MAX_LINE)
            return wb_seterr(WB_ELIMIT, "%s: the line at byte %lld is longer than the limit of %zu MB", s->name,
                             (long long)s->base, WB_IO_MAX_LINE >> 20);
        size_t cap = s->cap * 2 < WB_IO_MAX_LINE ? s->cap * 2 : WB_IO_MAX_LINE;
        char *b = realloc(s->buf, cap);
        if (!b) return wb_seterr(WB_ENOMEM, "%s: out of memory (a record of over %zu bytes)", s->name, s->cap);
        s->buf = b;
        s->cap = cap;
    }
    int64_t end = s->base + (int64_t)s->len, want = s->fsize - end;
    size_t room = s->cap - s->len, n = want < (int64_t)room ? (size_t)want : room;
    int rc = wb__io_pread(s->fd, s->buf + s->len, n, end, s->name);
    if (rc) return rc;
    s->len += n;
    return 0;
}

/* from a line start inside a quoted field (the scan's state Q): to the start
 * of the next record; *lines counts the line breaks passed. 1 done, 0 the
 * input ended (in the quote: unterminated), or an error */
static int src_skip_quoted(csv_src *s, char delim, int64_t *lines)
{
    wb_csv_sim m = {WB_CS_Q, delim, 0, NULL, NULL};
    for (;;) {
        /* run up to each '\n' and stop at the first one after which the state is a line start */
        while (s->beg < s->len) {
            char *p = s->buf + s->beg, *e = s->buf + s->len;
            char *nl = memchr(p, '\n', (size_t)(e - p));
            char *stop = nl ? nl + 1 : e;
            wb__csv_sim(&m, p, stop, 0);
            s->beg += (size_t)(stop - p);
            if (nl) (*lines)++;
            if (nl && m.state == WB_CS_LS) return 1;
        }
        if (src_eof(s)) return m.state == WB_CS_Q ? 0 : 1;
        int rc = src_more(s);
        if (rc) return rc;
    }
}

/* ------------------------------------------------------------ io.csv_scan */

typedef struct csv_scan_arg {
    int32_t delim, pad;
    int64_t data_start, lo, hi, step, fsize;
    /* then: path, name */
} csv_scan_arg;

/* one run's counts per subchunk of the range */
typedef struct scan_run {
    wb_csv_sim m;
    int64_t *rec;     /* records starting in each subchunk */
    int64_t *st;      /* the state at each subchunk's first line start */
    int64_t ds, step, j0;
} scan_run;

static void scan_on_record(wb_csv_sim *m, int64_t start)
{
    scan_run *r = m->user;
    r->rec[(start - r->ds) / r->step - r->j0]++;
}

/* io.csv_scan -> i64 {nsub, endR, endQ, then per subchunk: lines, recR, recQ, stR, stQ} */
static int k_csv_scan(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    WB_UNUSED(in);
    WB_UNUSED(nin);
    csv_scan_arg a;
    const char *s[2];
    int rc = wb__arg_strings(arg, arglen, sizeof a, 2, s);
    if (rc) return rc;
    memcpy(&a, arg, sizeof a);
    if (a.step <= 0 || a.lo < a.data_start || a.hi < a.lo || a.hi > a.fsize)
        return wb_seterr(WB_EINVAL, "io.csv_scan: bad range");
    int64_t nsub = (a.hi - a.lo + a.step - 1) / a.step, j0 = (a.lo - a.data_start) / a.step;
    int64_t *o = wb__out_bytes(ctx, (size_t)(3 + 5 * nsub) * 8);
    if (!o) return WB_ENOMEM;
    o[0] = nsub;
    int64_t *v = o + 3;
    int64_t *lines = calloc((size_t)nsub * 5 + 1, 8);
    if (!lines) return wb_seterr(WB_ENOMEM, "out of memory");
    int64_t *recR = lines + nsub, *recQ = recR + nsub, *stR = recQ + nsub, *stQ = stR + nsub;
    int fd;
    int64_t fsize;
    if ((rc = wb__io_open(s[0], s[1], &fd, &fsize)) != 0) {
        free(lines);
        return rc;
    }
    if (fsize != a.fsize) {
        close(fd);
        free(lines);
        return wb_seterr(WB_EIO, "%s: the file changed while reading (%lld bytes, expected %lld)", s[1],
                         (long long)fsize, (long long)a.fsize);
    }
    csv_src src;
    int first = a.lo == a.data_start;
    rc = src_file(&src, fd, s[1], first ? a.lo : a.lo - 1, a.fsize);
    /* the first line start at or after lo */
    int64_t p0 = a.lo;
    while (!rc && !first) {
        char *nl = memchr(src.buf + src.beg, '\n', src.len - src.beg);
        if (nl) {
            src.beg = (size_t)(nl + 1 - src.buf);
            p0 = src.base + (int64_t)src.beg;
            break;
        }
        src.beg = src.len;
        if (src_eof(&src)) {
            p0 = a.fsize;
            break;
        }
        rc = src_more(&src);
    }
    scan_run R = {{WB_CS_LS, (char)a.delim, p0, scan_on_record, NULL}, recR, stR, a.data_start, a.step, j0};
    scan_run Q = {{WB_CS_Q, (char)a.delim, p0, scan_on_record, NULL}, recQ, stQ, a.data_start, a.step, j0};
    R.m.user = &R;
    Q.m.user = &Q;
    int conv = 0;       /* Q agrees with R from here on */
    int64_t *snap = NULL; /* R's counts when they met */
    int64_t jn = 1;     /* the next subchunk whose first line start is to be found */
    int64_t end = p0;   /* where the range ends: the first line start at or after hi */
    int done = p0 >= a.fsize || p0 >= a.hi; /* no line starts in the range */
    if (!done) lines[(p0 - a.data_start) / a.step - j0]++;
    if (done) {
        for (int64_t j = 1; j < nsub; j++) {
            stR[j] = WB_CS_LS;
            stQ[j] = WB_CS_Q;
        }
        end = p0;
    }
    stR[0] = WB_CS_LS;
    stQ[0] = WB_CS_Q;
    int64_t seen = 0;
    while (!rc && !done) {
        if (src.beg >= src.len) {
            if (src_eof(&src)) {
                end = a.fsize;
                break;
            }
            if ((rc = src_more(&src)) != 0) break;
            continue;
        }
        /* the next boundary: the first '\n' at or after (nominal start of subchunk jn) - 1 */
        int64_t nb = jn < nsub ? a.lo + jn * a.step - 1 : a.hi - 1;
        char *p = src.buf + src.beg, *e = src.buf + src.len;
        int64_t off = src.base + (int64_t)src.beg;
        char *stop = e;
        int boundary = 0;
        if (off + (e - p) > nb) {
            char *from = off >= nb ? p : p + (nb - off);
            char *nl = memchr(from, '\n', (size_t)(e - from));
            if (nl) {
                stop = nl + 1;
                boundary = 1;
            }
        }
        /* line starts in [off, stop): each '\n' at o starts a line at o+1 */
        for (char *q = p; q < stop;) {
            /* by subchunk: the line breaks in [q, the subchunk's end) */
            int64_t at = src.base + (q - src.buf) + 1, j = (at - a.data_start) / a.step - j0;
            int64_t to = j + 1 < nsub ? a.data_start + (j0 + j + 1) * a.step - 1 : INT64_MAX;
            char *qe = to - src.base < stop - src.buf ? src.buf + (to - src.base) : stop;
            int64_t cnt = wb__csv_count(q, qe, '\n');
            /* a line break as the file's last byte starts no line */
            if (qe == stop && stop > q && stop[-1] == '\n' && src.base + (stop - src.buf) >= a.fsize) cnt--;
            lines[j < nsub ? j : nsub - 1] += cnt;
            q = qe;
        }
        wb__csv_sim(&R.m, p, stop, off);
        if (!conv) {
            wb__csv_sim(&Q.m, p, stop, off);
            if (Q.m.state == R.m.state && (R.m.state != WB_CS_U || Q.m.fs == R.m.fs)) {
                /* the same state at the same byte: the same from here on */
                conv = 1;
                snap = malloc((size_t)nsub * 8 + 8);
                if (!snap) rc = wb_seterr(WB_ENOMEM, "out of memory");
                else memcpy(snap, recR, (size_t)nsub * 8);
            }
        }
        src.beg += (size_t)(stop - p);
        if (boundary) {
            int64_t at = src.base + (int64_t)src.beg; /* the line start found */
            while (jn < nsub && a.lo + jn * a.step - 1 <= at - 1) {
                stR[jn] = R.m.state;
                stQ[jn] = conv ? R.m.state : Q.m.state;
                jn++;
            }
            if (a.hi - 1 <= at - 1) { /* the range's end: this line start belongs to the next range */
                end = at;
                if (at < a.fsize) {
                    int64_t j = (at - a.data_start) / a.step - j0;
                    lines[j < nsub ? j : nsub - 1]--;
                }
                break;
            }
        }
        if ((++seen & 63) == 0 && wb__cancelled(ctx)) rc = wb_seterr(WB_ECANCELED, "interrupted");
    }
    /* subchunks whose first line start is the range's end */
    for (; !rc && jn < nsub; jn++) {
        stR[jn] = R.m.state;
        stQ[jn] = conv ? R.m.state : Q.m.state;
    }
    if (!rc && conv)
        for (int64_t j = 0; j < nsub; j++) recQ[j] += recR[j] - snap[j];
    WB_UNUSED(end);
    o[1] = R.m.state;
    o[2] = conv ? R.m.state : Q.m.state;
    for (int64_t j = 0; j < nsub; j++) {
        v[5 * j] = lines[j];
        v[5 * j + 1] = recR[j];
        v[5 * j + 2] = recQ[j];
        v[5 * j + 3] = stR[j];
        v[5 * j + 4] = stQ[j];
    }
    free(snap);
    free(lines);
    src_free(&src);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------ io.csv_parse */

/* a column's mode while parsing (the driver's plan; a partition may turn
 * AUTO into TEXT) */
enum { CM_AUTO = 0, CM_NUMBER = 1, CM_TEXT = 2 };
/* io.csv_info: per column, the mode and whether numbers were read */
#define CI_TEXT 2
#define CI_VALUES 16

typedef struct csv_parse_arg {
    int32_t delim, has_y, start_state, nna;
    int64_t start, skip, rows, row0, line0, fsize;
    int64_t ncols;      /* fields per record */
    int64_t d;          /* feature columns (the label is column d) */
    int64_t max_levels;
    int32_t header, src; /* src: 0 the file, 1 in[0]'s bytes */
    int32_t discard;     /* file: start at the first line start after start - 1 */
    int32_t fill;        /* a short record's missing fields are missing values */
    /* then: int32 colmap[ncols] (-1 skipped, else 0..d), uint8 mode[d + 1] (8-aligned),
     * strings: path, name, the nna missing tokens, the d + 1 column names */
} csv_parse_arg;

typedef struct csv_plan {
    const csv_parse_arg *a;
    const int32_t *colmap;
    unsigned char *mode; /* d + 1, a copy (columns may turn to text) */
    const char *path, *name;
    const char **colname; /* d + 1 */
    wb_csv_na na;
} csv_plan;

static int plan_read(const void *arg, size_t arglen, csv_plan *p, const char **na_tok)
{
    memset(p, 0, sizeof *p);
    if (arglen < sizeof(csv_parse_arg)) return wb_seterr(WB_EINVAL, "io.csv_parse: bad arguments");
    const csv_parse_arg *a = arg;
    if (a->ncols < 1 || a->ncols > WB_IO_MAX_COLS || a->d < 0 || a->d > a->ncols || a->nna < 0 ||
        a->nna > WB_CSV_MAX_NA || a->rows <= 0 || a->skip < 0)
        return wb_seterr(WB_EINVAL, "io.csv_parse: bad arguments");
    size_t fixed = sizeof *a + (size_t)a->ncols * 4;
    size_t modes = ((size_t)a->d + 1 + 7) / 8 * 8;
    if (arglen < fixed + modes) return wb_seterr(WB_EINVAL, "io.csv_parse: bad arguments");
    p->a = a;
    p->colmap = (const int32_t *)((const char *)arg + sizeof *a);
    const char **s = malloc((size_t)(2 + a->nna + a->d + 1) * sizeof *s);
    p->mode = malloc((size_t)a->d + 1);
    if (!s || !p->mode) {
        free(s);
        free(p->mode);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    memcpy(p->mode, (const char *)arg + fixed, (size_t)a->d + 1);
    int rc = wb__arg_strings(arg, arglen, fixed + modes, (int)(2 + a->nna + a->d + 1), s);
    if (rc) {
        free(s);
        free(p->mode);
        return rc;
    }
    p->path = s[0];
    p->name = s[1];
    for (int i = 0; i < a->nna; i++) na_tok[i] = s[2 + i];
    wb__csv_na_init(&p->na, na_tok, a->nna);
    p->colname = s + 2 + a->nna;
    for (int64_t c = 0; c < a->ncols; c++)
        if (p->colmap[c] < -1 || p->colmap[c] > a->d || (p->colmap[c] == a->d && !a->has_y)) {
            free(s);
            free(p->mode);
            return wb_seterr(WB_EINVAL, "io.csv_parse: bad column map");
        }
    return 0;
}

static void plan_free(csv_plan *p)
{
    free((void *)(p->colname ? p->colname - 2 - p->a->nna : NULL));
    free(p->mode);
}

/* a column's name for messages: "name" or column k */
static void colref(char *buf, size_t cap, const csv_plan *p, int64_t m)
{
    const char *n = p->colname[m];
    if (n && *n) snprintf(buf, cap, "column \"%.60s\"", n);
    else snprintf(buf, cap, "column %lld", (long long)m + 1);
}

/* a field's text for a message: at most 40 bytes */
static int toklen(size_t n) { return n > 40 ? 40 : (int)n; }

typedef struct csv_out {
    double *x, *y;        /* rows x d, rows */
    wb_csv_dict *dict;    /* d + 1 (text columns) */
    unsigned char *info;  /* d + 1: CI_* */
} csv_out;

/* a field's value into *dst by its column's mode: a number, missing, or a
 * code of the partition's own levels. Returns 0, CV_TEXT when a column read
 * as numbers meets text (the partition is parsed again reading it as text),
 * or an error. */
enum { CV_TEXT = 1 };

static int convert_field(csv_plan *p, csv_out *o, int64_t m, const char *t, size_t len, double *dst, int64_t line)
{
    const char delim = (char)p->a->delim;
    char cref[96];
    int mode = p->mode[m];
    double v;
    if (!len) { /* empty: missing, whatever the tokens */
        *dst = NAN;
        return 0;
    }
    if (mode != CM_TEXT) {
        if (p->na.numeric && wb__csv_is_na(&p->na, t, len)) {
            *dst = NAN;
            return 0;
        }
        if (wb__csv_number(t, len, delim, &v)) {
            *dst = v;
            if (v == v) o->info[m] |= CI_VALUES;
            return 0;
        }
        if (wb__csv_is_na(&p->na, t, len)) {
            *dst = NAN;
            return 0;
        }
        if (mode == CM_NUMBER) {
            int b = wb__csv_bool(t, len);
            if (b >= 0) {
                *dst = b;
                o->info[m] |= CI_VALUES;
                return 0;
            }
            colref(cref, sizeof cref, p, m);
            while (len && (wb__csv_blank(*t, delim) || *t == '\n')) t++, len--;
            while (len && (wb__csv_blank(t[len - 1], delim) || t[len - 1] == '\n')) len--;
            return wb_seterr(WB_EFORMAT, "%s:%lld: %s: bad value \"%.*s\" (expected a number, as dtype says)", p->name,
                             (long long)line, cref, toklen(len), t);
        }
        p->mode[m] = CM_TEXT; /* text in a column read as numbers so far */
        return CV_TEXT;
    }
    if (wb__csv_is_na(&p->na, t, len)) {
        *dst = NAN;
        return 0;
    }
    int added;
    int64_t code = wb__csv_dict_put2(&o->dict[m], t, len, &added);
    if (code < 0)
        return code == WB_ELIMIT ? wb_seterr(WB_ELIMIT, "%s:%lld: too much text in one partition", p->name, (long long)line)
                                 : wb_seterr(WB_ENOMEM, "out of memory");
    /* levels are C strings: a NUL byte is refused where the text is first
     * seen (text equal to a level seen before has none) */
    if (added && memchr(t, 0, len)) {
        colref(cref, sizeof cref, p, m);
        return wb_seterr(WB_EFORMAT, "%s:%lld: %s: a NUL byte in the text (expected text)", p->name, (long long)line, cref);
    }
    if (code >= p->a->max_levels) {
        colref(cref, sizeof cref, p, m);
        return wb_seterr(WB_ELIMIT,
                         "%s:%lld: %s: more than %lld distinct values (the limit of levels of a category column, "
                         "max_levels = %lld; dtype = {...= \"number\"} if it holds numbers)",
                         p->name, (long long)line, cref, (long long)p->a->max_levels, (long long)p->a->max_levels);
    }
    *dst = (double)code;
    return 0;
}

/* record results besides a byte count */
enum { CR_MORE = -1000, CR_TEXT = -1001, CR_QUOTE = -1002 };

/* One record at s (a line start, outside quotes) split and converted in one
 * pass into row `row`: a number field is read where it starts (the number's
 * end must be the field's end), others are found as the tokenizer does.
 * Returns the bytes taken (through the '\n'), CR_MORE when [s, e) does not
 * hold the whole record and more input follows, CR_TEXT (parse again),
 * CR_QUOTE (a quote never closes: *qfield is its field), or an error.
 * *blank: a blank line (no row); *nl: line breaks inside quoted fields. */
static int64_t conv_record(csv_plan *p, csv_out *o, const char *s, const char *e, int eof, int64_t row, int64_t line,
                           char **scratch, size_t *scap, int *blank, int64_t *nl, int64_t *qfield)
{
    const csv_parse_arg *a = p->a;
    const char delim = (char)a->delim;
    const int64_t d = a->d, ncols = a->ncols;
    const char *b = s;
    *nl = 0;
    while (b < e && wb__csv_blank(*b, delim)) b++;
    if (b == e) {
        if (!eof) return CR_MORE;
        *blank = 1;
        return e - s;
    }
    if (*b == '\n') {
        *blank = 1;
        return b + 1 - s;
    }
    *blank = 0;
    double *xr = o->x + (size_t)row * (size_t)d, *yr = o->y ? o->y + row : NULL;
    const char *f = s;  /* the current field's first byte */
    const char *fe = s; /* its end: a delimiter, the '\n', or e (the end of the input) */
    int64_t c = 0;
    for (;;) {
        int32_t m = c < ncols ? p->colmap[c] : -1;
        double *dst = m < 0 ? NULL : m == d ? yr : xr + m;
        if (m >= 0 && p->mode[m] != CM_TEXT && !p->na.numeric && f < e && *f != '"') {
            /* the fast path: a number ending where the field ends */
            double v;
            const char *st;
            if (wb__parse_double(f, e, &v, &st) == 0 && st < e && st > f) {
                const char *z = st;
                if (*z == '\r' && z + 1 < e && z[1] == '\n') z++;
                if (*z == delim || *z == '\n') {
                    *dst = v;
                    if (v == v) o->info[m] |= CI_VALUES;
                    fe = z;
                    goto next;
                }
            }
        }
        {
            const char *q = f, *t;
            size_t len;
            while (q < e && wb__csv_blank(*q, delim)) q++;
            if (q < e && *q == '"') { /* quoted */
                const char *x = q + 1;
                int esc = 0;
                for (;;) {
                    const char *z = wb__csv_find2(x, e, '"', '\n'); /* counting line breaks as it goes */
                    while (z < e && *z == '\n') {
                        ++*nl;
                        z = wb__csv_find2(z + 1, e, '"', '\n');
                    }
                    if (z == e) {
                        if (!eof) return CR_MORE;
                        *qfield = c;
                        return CR_QUOTE;
                    }
                    if (z + 1 < e && z[1] == '"') {
                        esc = 1;
                        x = z + 2;
                        continue;
                    }
                    if (z + 1 >= e && !eof) return CR_MORE;
                    x = z + 1;
                    break;
                }
                fe = x < e && (*x == delim || *x == '\n') ? x : wb__csv_find2(x, e, delim, '\n');
                if (fe == e && !eof) return CR_MORE;
                const char *te = fe;
                if (te > x && te[-1] == '\r' && (fe == e || *fe == '\n')) te--;
                if (m >= 0) {
                    if (te > x || esc) { /* doubled quotes, or text after the closing quote */
                        wb_csv_field fl = {0, (uint32_t)(te - q), 1, 1};
                        if ((size_t)(te - q) > *scap) {
                            char *ns = realloc(*scratch, (size_t)(te - q) + 1);
                            if (!ns) return wb_seterr(WB_ENOMEM, "out of memory");
                            *scratch = ns;
                            *scap = (size_t)(te - q);
                        }
                        t = wb__csv_text(q, &fl, *scratch, &len);
                    } else {
                        t = q + 1;
                        len = (size_t)(x - 1 - (q + 1));
                    }
                }
            } else {
                fe = wb__csv_find2(q, e, delim, '\n');
                if (fe == e && !eof) return CR_MORE;
                const char *te = fe;
                if (te > f && te[-1] == '\r' && (fe == e || *fe == '\n')) te--;
                t = f;
                len = (size_t)(te - f);
            }
            if (m >= 0) {
                int rc = convert_field(p, o, m, t, len, dst, line);
                if (rc == CV_TEXT) return CR_TEXT;
                if (rc) return rc;
            }
        }
    next:
        c++;
        if (fe == e) break; /* the end of the input ends the record */
        if (*fe == '\n') {
            fe++;
            break;
        }
        f = fe + 1; /* after the delimiter */
        if (f == e) {
            if (!eof) return CR_MORE;
            /* a last, empty field */
            m = c < ncols ? p->colmap[c] : -1;
            if (m >= 0) *(m == d ? yr : xr + m) = NAN;
            c++;
            fe = e;
            break;
        }
    }
    if (c > ncols || (c < ncols && !a->fill))
        return wb_seterr(WB_EFORMAT, "%s:%lld: %lld fields (expected %lld, as in the %s line%s)", p->name, (long long)line,
                         (long long)c, (long long)ncols, a->header ? "header" : "first",
                         c < ncols ? "; ragged = \"fill\" reads the fields a line lacks at its end as missing" : "");
    for (; c < ncols; c++) { /* a short line (ragged = "fill"): missing */
        int32_t m = p->colmap[c];
        if (m >= 0) *(m == d ? yr : xr + m) = NAN;
    }
    return fe - s;
}

/* skip n records from a line start (the scan's machine, without splitting
 * fields); *lines counts the line breaks passed */
typedef struct skip_count {
    int64_t left;
} skip_count;

static void skip_on_record(wb_csv_sim *m, int64_t start)
{
    WB_UNUSED(start);
    skip_count *k = m->user;
    if (k->left-- == 0) m->stop = 1;
}

static int src_skip_records(csv_src *s, char delim, int64_t n, int64_t *lines)
{
    if (n <= 0) return 0;
    skip_count k = {n};
    wb_csv_sim m = {WB_CS_LS, delim, s->base + (int64_t)s->beg, skip_on_record, &k, 0, 0, 0};
    for (;;) {
        int64_t off = s->base + (int64_t)s->beg;
        const char *p = s->buf + s->beg, *e = s->buf + s->len;
        wb__csv_sim(&m, p, e, off);
        const char *stop = m.stop ? s->buf + (m.stop_at - s->base) : e;
        *lines += wb__csv_count(p, stop, '\n');
        if (m.stop) {
            s->beg = (size_t)(stop - s->buf);
            return 0;
        }
        if (src_eof(s)) return wb_seterr(WB_EIO, "%s: the file changed while reading (fewer records than counted)", s->name);
        /* a line start followed by blanks so far may start the record wanted:
         * keep those bytes (they belong to its first field); anything else
         * belongs to a record counted already */
        s->beg = m.state == WB_CS_LS ? (size_t)(m.rs - s->base) : s->len;
        int rc = src_more(s);
        if (rc) return rc;
    }
}

/* parse the partition's rows once with the plan's modes; returns 0, an
 * error, or 1 when a column turned from numbers to text (parse again) */
static int parse_rows(wb_kctx *ctx, csv_plan *p, csv_src *s, csv_out *o)
{
    const csv_parse_arg *a = p->a;
    const char delim = (char)a->delim;
    int64_t line = a->line0, row = 0;
    int rc = 0;
    if (a->start_state == WB_CS_Q) {
        int64_t nl = 0;
        rc = src_skip_quoted(s, delim, &nl);
        if (rc < 0) return rc;
        if (rc == 0)
            return wb_seterr(WB_EFORMAT, "%s:%lld: unterminated quote (a quoted field never ends)", p->name,
                             (long long)line);
        line += nl;
        rc = 0;
    }
    /* the records before this partition's first */
    int64_t skipped = 0;
    rc = src_skip_records(s, delim, a->skip, &skipped);
    if (rc) return rc;
    line += skipped;
    char *scratch = NULL;
    size_t scap = 0;
    while (row < a->rows) {
        if (s->beg >= s->len && src_eof(s)) {
            rc = wb_seterr(WB_EIO, "%s: the file changed while reading (it ended before row %lld)", p->name,
                           (long long)(a->row0 + row + 1));
            break;
        }
        int blank = 0;
        int64_t nl = 0, qfield = -1;
        int64_t got = conv_record(p, o, s->buf + s->beg, s->buf + s->len, src_eof(s), row, line, &scratch, &scap,
                                  &blank, &nl, &qfield);
        if (got == CR_MORE) {
            if ((rc = src_more(s)) != 0) break;
            continue;
        }
        if (got == CR_TEXT) {
            rc = 1;
            break;
        }
        if (got == CR_QUOTE) {
            char cref[96];
            int64_t m = qfield < a->ncols ? p->colmap[qfield] : -1;
            if (m >= 0) colref(cref, sizeof cref, p, m);
            rc = wb_seterr(WB_EFORMAT, "%s:%lld:%s%s: unterminated quote (the quoted field starting on this line never ends)",
                           p->name, (long long)line, m >= 0 ? " " : "", m >= 0 ? cref : "");
            break;
        }
        if (got < 0) {
            rc = (int)got;
            break;
        }
        s->beg += (size_t)got;
        line += 1 + nl;
        if (blank) continue;
        row++;
        if ((row & 0xfff) == 0 && wb__cancelled(ctx)) {
            rc = wb_seterr(WB_ECANCELED, "interrupted");
            break;
        }
    }
    free(scratch);
    return rc;
}

/* the io.csv_info section of a partition with text columns: per column its
 * CI_* byte (padded to 8), then per text column {u32 col, u32 n} and n
 * strings {u32 len, bytes} in code order */
static int info_encode(const csv_out *o, int64_t ncol, wb_buf *b)
{
    int rc = wb_buf_add(b, o->info, (size_t)ncol);
    static const char zeros[8] = {0};
    if (!rc && ncol % 8) rc = wb_buf_add(b, zeros, 8 - (size_t)(ncol % 8));
    for (int64_t m = 0; !rc && m < ncol; m++) {
        if (!(o->info[m] & CI_TEXT)) continue;
        const wb_csv_dict *t = &o->dict[m];
        uint32_t h[2] = {(uint32_t)m, t->n};
        rc = wb_buf_add(b, h, 8);
        for (uint32_t k = 0; !rc && k < t->n; k++) {
            rc = wb_buf_add(b, &t->len[k], 4);
            if (!rc) rc = wb_buf_add(b, t->text.p + t->off[k], t->len[k]);
        }
    }
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

/* "WBCP" bytes: a partition with codes of its own levels */
typedef struct cp_hdr {
    char magic[4];
    uint32_t version;
    int64_t part_size, ncol, info_size;
    int64_t pad[4];
} cp_hdr;

/* io.csv_parse: arg csv_parse_arg ...; in[0] the bytes when src = 1 ->
 * a partition (no text) or "WBCP" bytes */
static int k_csv_parse(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    csv_plan p;
    const char *na_tok[WB_CSV_MAX_NA];
    int rc = plan_read(arg, arglen, &p, na_tok);
    if (rc) return rc;
    const csv_parse_arg *a = p.a;
    int64_t d = a->d, ncol = d + a->has_y;
    size_t nx = (size_t)a->rows * (size_t)d, bytes = (nx + (size_t)(a->has_y ? a->rows : 0)) * 8;
    /* one buffer for either output: the partition's numbers at `head`,
     * after room for the "WBCP" and partition headers, so that a partition
     * with text becomes the "WBCP" bytes without a copy (the levels are
     * appended after the numbers) */
    size_t ph = wb_part_header_size(), head = (sizeof(cp_hdr) + ph + 7) / 8 * 8;
    int fd = -1;
    if (a->src == 1 && (nin < 1 || in[0].type != WB_OBJ_BYTES)) rc = wb_seterr(WB_EINVAL, "io.csv_parse: no input bytes");
    if (!rc) rc = wb__io_part_err(wb__out_room(ctx, head + bytes), p.name); /* the message names the file */
    char *mem = rc ? NULL : wb__alloc_big(head + bytes + 8);
    double *buf = mem ? (double *)(mem + head) : NULL;
    csv_out o = {0};
    o.dict = calloc((size_t)ncol + 1, sizeof *o.dict);
    o.info = calloc((size_t)ncol + 1, 1);
    if (!rc && (!buf || !o.dict || !o.info)) rc = wb_seterr(WB_ENOMEM, "%s: out of memory", p.name);
    o.x = buf;
    o.y = buf ? buf + nx : NULL;
    if (!rc && a->src == 0) {
        int64_t fsize;
        rc = wb__io_open(p.path, p.name, &fd, &fsize);
        if (!rc && fsize != a->fsize)
            rc = wb_seterr(WB_EIO, "%s: the file changed while reading (%lld bytes, expected %lld)", p.name,
                           (long long)fsize, (long long)a->fsize);
    }
    for (int attempt = 0; !rc; attempt++) {
        csv_src s;
        if (a->src == 0) {
            rc = src_file(&s, fd, p.name, a->discard ? a->start - 1 : a->start, a->fsize);
            while (!rc && a->discard) { /* to the first line start at or after start */
                char *nl = memchr(s.buf + s.beg, '\n', s.len - s.beg);
                if (nl) {
                    s.beg = (size_t)(nl + 1 - s.buf);
                    break;
                }
                s.beg = s.len;
                if (src_eof(&s)) break;
                rc = src_more(&s);
            }
        } else
            src_mem(&s, in[0].data, in[0].size, p.name);
        for (int64_t m = 0; m < ncol; m++) {
            wb__csv_dict_free(&o.dict[m]);
            o.info[m] = 0;
        }
        if (!rc) {
            wb_clearerr();
            rc = parse_rows(ctx, &p, &s, &o);
        }
        src_free(&s);
        if (rc != 1) break;
        rc = 0; /* a column turned to text: again */
    }
    if (fd >= 0) close(fd);
    int text = 0;
    for (int64_t m = 0; !rc && m < ncol; m++)
        if (p.mode[m] == CM_TEXT) {
            o.info[m] |= CI_TEXT;
            text = 1;
        }
    if (!rc && !text) { /* numbers only: the partition itself, no copy */
        wb_part part = {a->rows, d, a->row0, buf, a->has_y ? buf + nx : NULL};
        rc = wb__out_part_view(ctx, &part, mem, NULL);
        mem = NULL;
    } else if (!rc) { /* "WBCP": headers before the numbers, the levels after */
        wb_buf info = {0};
        rc = info_encode(&o, ncol, &info);
        wb_part part = {a->rows, d, a->row0, buf, a->has_y ? buf + nx : NULL};
        size_t ps = ph + bytes, ps8 = (ps + 7) / 8 * 8, start = head - ph - sizeof(cp_hdr);
        size_t total = head + ((bytes + 7) / 8 * 8) + info.len;
        if (!rc) rc = wb__io_part_err(wb__out_room(ctx, total - start), p.name);
        char *m2 = rc ? NULL : realloc(mem, total);
        if (!rc && !m2) rc = wb_seterr(WB_ENOMEM, "%s: out of memory", p.name);
        if (!rc) {
            mem = m2;
            cp_hdr h = {{'W', 'B', 'C', 'P'}, 1, (int64_t)ps, ncol, (int64_t)info.len, {0}};
            memcpy(mem + start, &h, sizeof h);
            wb_part_encode_header(&part, mem + start + sizeof h);
            memcpy(mem + start + sizeof h + ps8, info.p, info.len);
            if (start) memmove(mem, mem + start, total - start); /* (start is 0: cp_hdr and the header fill head) */
            rc = wb__out_bytes_own(ctx, mem, total - start);
            mem = NULL;
        }
        wb_buf_free(&info);
    }
    free(mem);
    for (int64_t m = 0; o.dict && m < ncol; m++) wb__csv_dict_free(&o.dict[m]);
    free(o.dict);
    free(o.info);
    plan_free(&p);
    return rc;
}

/* a "WBCP" object's parts */
static int cp_view(const wb_obj *o, cp_hdr *h, wb_part *part, const unsigned char **info)
{
    if (o->type != WB_OBJ_BYTES || o->size < sizeof *h) return wb_seterr(WB_EINVAL, "io.csv: bad partition bytes");
    memcpy(h, o->data, sizeof *h);
    size_t ps8 = ((size_t)h->part_size + 7) / 8 * 8;
    if (memcmp(h->magic, "WBCP", 4) != 0 || h->part_size < 0 || h->info_size < 0 || h->ncol < 0 ||
        sizeof *h + ps8 + (size_t)h->info_size != o->size)
        return wb_seterr(WB_EINVAL, "io.csv: bad partition bytes");
    int rc = wb_part_decode((const unsigned char *)o->data + sizeof *h, (size_t)h->part_size, part);
    if (!rc && part->cols + (part->y != NULL) != h->ncol) rc = wb_seterr(WB_EINVAL, "io.csv: bad partition bytes");
    *info = (const unsigned char *)o->data + sizeof *h + ps8;
    return rc;
}

/* ------------------------------------------------------------ io.csv_info */

/* io.csv_info: a parse output -> its info section (info_encode's layout;
 * for a partition of numbers only, the CI_* bytes from its values).
 * arg: i64 ncol */
static int k_csv_info(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t ncol;
    if (nin < 1 || arglen != 8) return wb_seterr(WB_EINVAL, "io.csv_info: bad arguments");
    memcpy(&ncol, arg, 8);
    if (ncol < 0 || ncol > WB_IO_MAX_COLS + 1) return wb_seterr(WB_EINVAL, "io.csv_info: bad arguments");
    size_t head = ((size_t)ncol + 7) / 8 * 8;
    if (in[0].type == WB_OBJ_PART) { /* numbers only: which columns hold some */
        const wb_part *p = &in[0].part;
        if (p->cols + (p->y != NULL) != ncol) return wb_seterr(WB_EINVAL, "io.csv_info: bad arguments");
        unsigned char *o = wb__out_bytes(ctx, head);
        if (!o) return WB_ENOMEM;
        for (int64_t i = 0; i < p->rows; i++) {
            const double *r = p->x + (size_t)i * (size_t)p->cols;
            for (int64_t j = 0; j < p->cols; j++)
                if (r[j] == r[j]) o[j] = CI_VALUES;
            if (p->y && p->y[i] == p->y[i]) o[p->cols] = CI_VALUES;
        }
        return 0;
    }
    cp_hdr h;
    wb_part part;
    const unsigned char *info;
    int rc = cp_view(&in[0], &h, &part, &info);
    if (rc) return rc;
    if (h.ncol != ncol || (size_t)h.info_size < head) return wb_seterr(WB_EINVAL, "io.csv_info: bad arguments");
    void *o = wb__out_bytes(ctx, (size_t)h.info_size);
    if (!o) return WB_ENOMEM;
    memcpy(o, info, (size_t)h.info_size);
    return 0;
}

/* ------------------------------------------------------------ io.csv_remap */

/* io.csv_remap: a "WBCP" parse output -> the partition with each text
 * column's codes replaced: arg {i64 count} then per column {u32 col, u32 n,
 * u32 map[n]} */
static int k_csv_remap(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    if (nin < 1) return wb_seterr(WB_EINVAL, "io.csv_remap: bad arguments");
    cp_hdr h;
    wb_part part;
    const unsigned char *info;
    int rc = cp_view(&in[0], &h, &part, &info);
    if (rc) return rc;
    const unsigned char *p = arg, *e = p + arglen;
    int64_t count;
    if (arglen < 8) return wb_seterr(WB_EINVAL, "io.csv_remap: bad arguments");
    memcpy(&count, p, 8);
    p += 8;
    if (count < 0 || count > h.ncol) return wb_seterr(WB_EINVAL, "io.csv_remap: bad arguments");
    typedef struct rcol {
        int64_t c;
        uint32_t n;
        const unsigned char *map;
    } rcol;
    rcol *rc_ = malloc((size_t)(count ? count : 1) * sizeof *rc_);
    if (!rc_) return wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t k = 0; k < count; k++) {
        uint32_t hh[2];
        if (e - p < 8) {
            free(rc_);
            return wb_seterr(WB_EINVAL, "io.csv_remap: bad arguments");
        }
        memcpy(hh, p, 8);
        p += 8;
        if (hh[0] >= (uint64_t)h.ncol || (uint64_t)(e - p) / 4 < hh[1]) {
            free(rc_);
            return wb_seterr(WB_EINVAL, "io.csv_remap: bad arguments");
        }
        rc_[k] = (rcol){hh[0], hh[1], p};
        p += (size_t)hh[1] * 4;
    }
    /* The output: the input's own numbers mapped in place when this task is
     * the input's only holder (the local pool: no new partition to fault in
     * and no copy); else a new partition, copied a block of rows at a time
     * and mapped while the block is in cache. The levels after the numbers
     * are not kept. */
    double *x, *y;
    char *mem = wb__kctx_take_input(ctx, 0);
    if (mem) {
        size_t keep = (size_t)((const char *)info - (const char *)in[0].data);
        char *m2 = realloc(mem, keep); /* shrinking: in place */
        if (m2 && m2 != mem) {
            /* (moved after all: the numbers' new place) */
            part.x = (const double *)(const void *)(m2 + ((const char *)part.x - (const char *)in[0].data));
            if (part.y) part.y = (const double *)(const void *)(m2 + ((const char *)part.y - (const char *)in[0].data));
        }
        if (m2) mem = m2;
        x = (double *)(uintptr_t)part.x;
        y = (double *)(uintptr_t)part.y;
        wb_part out = {part.rows, part.cols, part.row0, x, y};
        if ((rc = wb__out_part_view(ctx, &out, mem, NULL)) != 0) {
            free(rc_);
            return rc;
        }
    } else if ((rc = wb__out_part(ctx, part.rows, part.cols, part.row0, part.y != NULL, &x, &y)) != 0) {
        free(rc_);
        return rc;
    }
    const int64_t cols = part.cols, B = 512;
    for (int64_t i0 = 0; i0 < part.rows && !rc; i0 += B) {
        int64_t i1 = i0 + B < part.rows ? i0 + B : part.rows;
        if (!mem) {
            memcpy(x + (size_t)i0 * (size_t)cols, part.x + (size_t)i0 * (size_t)cols, (size_t)(i1 - i0) * (size_t)cols * 8);
            if (y) memcpy(y + i0, part.y + i0, (size_t)(i1 - i0) * 8);
        }
        for (int64_t k = 0; k < count && !rc; k++) {
            int64_t c = rc_[k].c;
            double *v = c == cols ? y : x + c;
            size_t stride = c == cols ? 1 : (size_t)cols;
            for (int64_t i = i0; i < i1; i++) {
                double code = v[(size_t)i * stride];
                if (code != code) continue;
                if (!(code >= 0 && code < rc_[k].n)) {
                    rc = wb_seterr(WB_EINVAL, "io.csv_remap: code %g out of range", code);
                    break;
                }
                uint32_t g;
                memcpy(&g, rc_[k].map + (size_t)code * 4, 4);
                v[(size_t)i * stride] = g;
            }
        }
    }
    free(rc_);
    return rc;
}

void wb__register_csv_kernels(void)
{
    wb_register_kernel("io.csv_scan", k_csv_scan);
    wb_register_kernel("io.csv_parse", k_csv_parse);
    wb_register_kernel("io.csv_info", k_csv_info);
    wb_register_kernel("io.csv_remap", k_csv_remap);
}

/* ================================================================ the driver */

/* the header line, the delimiter, and a sample of the first rows */
typedef struct csv_head {
    char delim;
    int64_t data_start;   /* the first byte after the header (or of the data) */
    int64_t header_lines; /* lines before data_start */
    int64_t ncols;
    char **names;         /* ncols header fields, or NULL: no header */
    unsigned char *texty; /* ncols: the sample found text there */
} csv_head;

static void head_free(csv_head *h)
{
    if (h->names) wb__csv_fields_free(h->names, h->ncols);
    free(h->texty);
    memset(h, 0, sizeof *h);
}

static int ends_with_nocase(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    if (m > n) return 0;
    for (size_t i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != suf[i]) return 0;
    }
    return 1;
}

/* tab for .tsv / .tab (also compressed: .tsv.gz), else 0 */
static char delim_of_path(const char *path)
{
    static const char *const tsv[] = {".tsv", ".tab", ".tsv.gz", ".tab.gz", ".tsv.zst", ".tab.zst", ".tsv.zstd", NULL};
    for (int i = 0; tsv[i]; i++)
        if (ends_with_nocase(path, tsv[i])) return '\t';
    return 0;
}

/* the delimiter of a first line: ',' if it has one outside quotes, else the
 * most frequent of ';', tab, '|', else ',' */
static char sniff_delim(const char *p, const char *e)
{
    int64_t n[4] = {0, 0, 0, 0};
    int q = 0;
    for (; p < e && (q || *p != '\n'); p++) {
        if (*p == '"') q = !q;
        else if (!q) {
            if (*p == ',') n[0]++;
            else if (*p == ';') n[1]++;
            else if (*p == '\t') n[2]++;
            else if (*p == '|') n[3]++;
        }
    }
    if (n[0]) return ',';
    static const char alt[3] = {';', '\t', '|'};
    int best = -1;
    for (int k = 0; k < 3; k++)
        if (n[k + 1] && (best < 0 || n[k + 1] > n[best + 1])) best = k;
    return best < 0 ? ',' : alt[best];
}

/* a field of the first line: data (a number, empty, a missing token) or a name? */
static int looks_like_data(const char *t, size_t len, char delim, const wb_csv_na *na)
{
    double v;
    return len == 0 || wb__csv_number(t, len, delim, &v) || wb__csv_is_na(na, t, len);
}

#define SAMPLE_ROWS 1000

/* Read the head from buf[0, len) (eof: that is all the input). Returns 0,
 * 1 when more bytes are needed for the first record, or an error. */
static int head_parse(const char *buf, size_t len, int eof, const char *name, const wb_read_opts *o,
                      char delim_hint, const wb_csv_na *na, csv_head *h)
{
    memset(h, 0, sizeof *h);
    size_t bom = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    const char *p = buf + bom, *e = buf + len;
    /* the first line with more than blanks decides the delimiter */
    const char *first = p;
    for (;;) {
        const char *q = first;
        while (q < e && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < e && *q == '\n') {
            first = q + 1;
            continue;
        }
        break;
    }
    char delim = o->delimiter ? o->delimiter : delim_hint ? delim_hint : 0;
    if (!delim) {
        int q = 0;
        const char *z = first;
        for (; z < e && (q || *z != '\n'); z++)
            if (*z == '"') q = !q;
        if (z == e && !eof) return 1;
        delim = sniff_delim(first, e);
    }
    h->delim = delim;
    wb_csv_rec r = {0};
    int64_t lines = 0;
    const char *rec = NULL;
    int rc = 0;
    for (;;) {
        int64_t got = wb__csv_record(p, e, eof, delim, &r);
        if (got == 0) {
            wb__csv_rec_free(&r);
            return 1;
        }
        if (got < 0) {
            rc = got == WB_EFORMAT ? wb_seterr(WB_EFORMAT, "%s:%lld: unterminated quote (the quoted field starting on this line never ends)", name, (long long)lines + 1)
                 : got == WB_ELIMIT ? wb_seterr(WB_ELIMIT, "%s:%lld: more than %lld fields (the limit of columns is %lld)", name, (long long)lines + 1,
                                                (long long)WB_IO_MAX_COLS, (long long)WB_IO_MAX_COLS)
                                    : wb_seterr(WB_ENOMEM, "out of memory");
            wb__csv_rec_free(&r);
            return rc;
        }
        rec = p;
        p += got;
        lines += 1 + r.newlines;
        if (!r.blank) break;
        if (p >= e) {
            wb__csv_rec_free(&r);
            return wb_seterr(WB_EFORMAT, "%s: %s (expected rows of comma-separated values)", name,
                             len ? "no data, only blank lines" : "empty file");
        }
    }
    h->ncols = r.n;
    char **f = calloc((size_t)r.n, sizeof *f);
    char *scratch = malloc((size_t)(p - rec) + 1);
    if (!f || !scratch) rc = wb_seterr(WB_ENOMEM, "out of memory");
    int header = o->header;
    for (int64_t c = 0; !rc && c < r.n; c++) {
        size_t tl;
        const char *t = wb__csv_text(rec, &r.f[c], scratch, &tl);
        if (header < 0 && !looks_like_data(t, tl, delim, na)) header = 1;
        /* names: blanks around an unquoted name are not part of it */
        if (!r.f[c].quoted) {
            while (tl && wb__csv_blank(*t, delim)) t++, tl--;
            while (tl && wb__csv_blank(t[tl - 1], delim)) tl--;
        }
        f[c] = malloc(tl + 1);
        if (!f[c]) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        memcpy(f[c], t, tl);
        f[c][tl] = 0;
    }
    if (header < 0) header = 0;
    /* a name that occurs twice gets ".1", ".2" (as pandas), so names find one column */
    for (int64_t c = 1; !rc && header && c < r.n; c++) {
        int dup = 0;
        for (int64_t q = 0; q < c && !dup; q++) dup = f[c][0] && strcmp(f[q], f[c]) == 0;
        for (int k = 1; dup && !rc; k++) {
            size_t nl = strlen(f[c]) + 24;
            char *m = malloc(nl);
            if (!m) {
                rc = wb_seterr(WB_ENOMEM, "out of memory");
                break;
            }
            snprintf(m, nl, "%s.%d", f[c], k);
            dup = 0;
            for (int64_t q = 0; q < r.n && !dup; q++) dup = q != c && strcmp(f[q], m) == 0;
            if (!dup) {
                free(f[c]);
                f[c] = m;
            } else
                free(m);
        }
    }
    if (!rc && header) {
        h->names = f;
        h->data_start = (int64_t)(p - buf);
        h->header_lines = lines;
        f = NULL;
    } else {
        h->data_start = (int64_t)bom;
        h->header_lines = 0;
        p = buf + bom;
    }
    if (f) wb__csv_fields_free(f, r.n);
    /* the sample: which columns have text in the first rows */
    h->texty = rc ? NULL : calloc((size_t)h->ncols + 1, 1);
    if (!rc && !h->texty) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int k = 0; !rc && k < SAMPLE_ROWS && p < e;) {
        int64_t got = wb__csv_record(p, e, eof, delim, &r);
        if (got <= 0) break; /* the rest is for the parse to judge */
        rec = p;
        p += got;
        if (r.blank) continue;
        k++;
        if (r.n > h->ncols) continue;
        for (int64_t c = 0; c < r.n; c++) {
            if (h->texty[c]) continue;
            size_t tl;
            char *sc = realloc(scratch, r.f[c].len + 1);
            if (!sc) break;
            scratch = sc;
            const char *t = wb__csv_text(rec, &r.f[c], scratch, &tl);
            if (!looks_like_data(t, tl, delim, na)) h->texty[c] = 1;
        }
    }
    free(scratch);
    wb__csv_rec_free(&r);
    if (rc) head_free(h);
    return rc;
}

/* the columns: which fields become which columns, the label, the modes */
typedef struct csv_cols {
    int64_t ncols;        /* fields per record */
    int64_t label;        /* the label's field, or -1 */
    int64_t d;            /* feature columns */
    int32_t *colmap;      /* ncols: -1 skipped, 0..d-1 features, d the label */
    unsigned char *mode;  /* d + 1: CM_* */
    const char **name;    /* d + 1 (pointers into the head's names, or "") */
    wb_levels **seed;     /* d + 1: levels .meta gives */
} csv_cols;

static void cols_free(csv_cols *c)
{
    for (int64_t m = 0; c->seed && m <= c->d; m++) wb_levels_unref(c->seed[m]);
    free(c->seed);
    free(c->colmap);
    free(c->mode);
    free(c->name);
    memset(c, 0, sizeof *c);
}

static int eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
    }
    return *a == *b;
}

/* the field named s: exact, then ignoring case; "x3" without a header; -1 */
static int64_t field_of(const csv_head *h, const char *s)
{
    if (!s) return -1;
    if (h->names) {
        for (int64_t c = 0; c < h->ncols; c++)
            if (strcmp(h->names[c], s) == 0) return c;
        for (int64_t c = 0; c < h->ncols; c++)
            if (eq_nocase(h->names[c], s)) return c;
    }
    if ((s[0] == 'x' || s[0] == 'X') && s[1] >= '1' && s[1] <= '9') {
        int64_t k = 0;
        const char *p = s + 1;
        while (*p >= '0' && *p <= '9' && k < ((int64_t)1 << 40)) k = k * 10 + (*p++ - '0');
        if (!*p && k >= 1 && k <= h->ncols && (!h->names || !h->names[k - 1][0])) return k - 1;
    }
    return -1;
}

/* "no column named "s" in <what> (columns: "a", "b", ...)" */
static int no_such(const char *path, const csv_head *h, const char *s, const char *what)
{
    wb_buf b = {0};
    for (int64_t c = 0; c < h->ncols && c < 20; c++) {
        if (h->names && h->names[c][0]) wb_buf_printf(&b, "%s\"%s\"", c ? ", " : "", h->names[c]);
        else wb_buf_printf(&b, "%sx%lld", c ? ", " : "", (long long)c + 1);
    }
    if (h->ncols > 20) wb_buf_printf(&b, ", ...");
    int rc = wb_seterr(WB_EINVAL, "%s: no column named \"%s\" %s (columns: %s)", path, s, what, b.p ? (char *)b.p : "");
    wb_buf_free(&b);
    return rc;
}

static int cols_plan(const char *path, const csv_head *h, const wb_read_opts *o, const wb_meta_cols *meta,
                     csv_cols *c)
{
    memset(c, 0, sizeof *c);
    int64_t nf = h->ncols;
    c->ncols = nf;
    c->label = -1;
    int rc = 0;
    switch (o->label) {
    case WB_LABEL_FIRST: c->label = 0; break;
    case WB_LABEL_LAST: c->label = nf - 1; break;
    case WB_LABEL_INDEX:
        if (o->label_index < 1 || o->label_index > nf)
            return wb_seterr(WB_EINVAL, "%s: label = %lld, but the file has %lld columns", path, (long long)o->label_index,
                             (long long)nf);
        c->label = o->label_index - 1;
        break;
    case WB_LABEL_NAME:
        if (!h->names)
            return wb_seterr(WB_EINVAL, "%s: label = \"%s\" names a column, but the file has no header line", path,
                             o->label_name ? o->label_name : "");
        c->label = field_of(h, o->label_name);
        if (c->label < 0) return no_such(path, h, o->label_name ? o->label_name : "", "for the labels");
        break;
    case WB_LABEL_AUTO:
        if (meta && meta->has_label && meta->label_name && h->names) c->label = field_of(h, meta->label_name);
        for (int64_t j = 0; h->names && j < nf && c->label < 0; j++)
            if (eq_nocase(h->names[j], "label") || eq_nocase(h->names[j], "y") || eq_nocase(h->names[j], "target") ||
                eq_nocase(h->names[j], "class"))
                c->label = j;
        break;
    default: break;
    }
    /* the features: columns = {...} in its order, or every field; less drop = {...} and the label */
    int64_t *order = malloc((size_t)(nf + (o->columns ? o->ncolumns : 0) + 1) * sizeof *order);
    unsigned char *used = calloc((size_t)nf + 1, 1);
    c->colmap = malloc((size_t)nf * sizeof *c->colmap);
    if (!order || !used || !c->colmap) rc = wb_seterr(WB_ENOMEM, "out of memory");
    int64_t d = 0;
    if (!rc && o->columns) {
        for (int64_t k = 0; k < o->ncolumns && !rc; k++) {
            int64_t f = field_of(h, o->columns[k]);
            if (f < 0) rc = no_such(path, h, o->columns[k], "in columns = {...}");
            else if (used[f]) rc = wb_seterr(WB_EINVAL, "%s: column \"%s\" is listed twice in columns = {...}", path, o->columns[k]);
            else {
                used[f] = 1;
                if (f != c->label) order[d++] = f;
            }
        }
    } else
        for (int64_t f = 0; f < nf && !rc; f++)
            if (f != c->label) order[d++] = f;
    for (int64_t k = 0; !rc && o->drop && k < o->ndrop; k++) {
        int64_t f = field_of(h, o->drop[k]);
        if (f < 0) {
            rc = no_such(path, h, o->drop[k], "in drop = {...}");
            break;
        }
        if (f == c->label) {
            if (o->label == WB_LABEL_AUTO) c->label = -1; /* the guessed label: not wanted */
            else rc = wb_seterr(WB_EINVAL, "%s: column \"%s\" is the label and is in drop = {...}", path, o->drop[k]);
            continue;
        }
        int64_t w = 0;
        for (int64_t i = 0; i < d; i++)
            if (order[i] != f) order[w++] = order[i];
        d = w;
    }
    c->d = d;
    c->mode = rc ? NULL : calloc((size_t)d + 1, 1);
    c->name = rc ? NULL : calloc((size_t)d + 1, sizeof *c->name);
    c->seed = rc ? NULL : calloc((size_t)d + 1, sizeof *c->seed);
    if (!rc && (!c->mode || !c->name || !c->seed)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t f = 0; !rc && f < nf; f++) c->colmap[f] = f == c->label ? (int32_t)d : -1;
    for (int64_t m = 0; !rc && m < d; m++) c->colmap[order[m]] = (int32_t)m;
    for (int64_t m = 0; !rc && m <= d; m++) {
        int64_t f = m < d ? order[m] : c->label;
        c->name[m] = f >= 0 && h->names ? h->names[f] : "";
        if (f >= 0 && h->texty && h->texty[f]) c->mode[m] = CM_TEXT;
        /* .meta: the types and levels of a file wb wrote */
        for (int64_t k = 0; meta && f >= 0 && h->names && k < meta->n; k++)
            if (strcmp(meta->names[k], h->names[f]) == 0 && meta->types[k] == WB_COL_CATEGORY) {
                c->mode[m] = CM_TEXT;
                c->seed[m] = wb_levels_ref(meta->levels[k]);
            }
        if (m == d && f >= 0 && meta && meta->has_label && meta->label_levels && meta->label_name && h->names &&
            strcmp(meta->label_name, h->names[f]) == 0) {
            c->mode[m] = CM_TEXT;
            wb_levels_unref(c->seed[m]);
            c->seed[m] = wb_levels_ref(meta->label_levels);
        }
    }
    /* dtype = {name = "number" | "category"} */
    for (int64_t k = 0; !rc && o->dtype_names && k < o->ndtype; k++) {
        int64_t f = field_of(h, o->dtype_names[k]);
        if (f < 0) {
            rc = no_such(path, h, o->dtype_names[k], "in dtype = {...}");
            break;
        }
        int32_t m = c->colmap[f];
        if (m < 0) continue; /* not read */
        c->mode[m] = o->dtype_types[k] == WB_COL_CATEGORY ? CM_TEXT : CM_NUMBER;
        if (o->dtype_types[k] != WB_COL_CATEGORY) {
            wb_levels_unref(c->seed[m]);
            c->seed[m] = NULL;
        }
    }
    free(order);
    free(used);
    if (rc) cols_free(c);
    return rc;
}

/* ------------------------------------------------------------ a read */

typedef struct csv_job {
    wb_exec *ex;
    const char *path;      /* as the user gave it (messages) */
    char *abs;             /* the file for the kernels (file mode) */
    int stream;            /* partitions from chunks cut by the driver */
    int64_t fsize;
    csv_head h;
    csv_cols c;
    const char *na_tok[WB_CSV_MAX_NA];
    int nna;
    int64_t max_levels;
    int fill;              /* ragged = "fill" */
    int64_t n, P, np, cap;
    /* per partition */
    int64_t *start, *skip, *line0, *rows;
    int32_t *state;
    wb_oid *out;           /* its parse output (one reference) */
    unsigned char **info;  /* io.csv_info of it (malloc'd) */
    size_t *infolen;
} csv_job;

static void job_free(csv_job *j)
{
    for (int64_t k = 0; k < j->np; k++) {
        if (j->out && j->out[k]) wb_exec_release(j->ex, j->out[k]);
        if (j->info) free(j->info[k]);
    }
    free(j->start);
    free(j->skip);
    free(j->line0);
    free(j->rows);
    free(j->state);
    free(j->out);
    free(j->info);
    free(j->infolen);
    free(j->abs);
    head_free(&j->h);
    cols_free(&j->c);
}

static int job_grow(csv_job *j, int64_t np)
{
    if (np <= j->cap) return 0;
    int64_t cap = j->cap ? j->cap : 16;
    while (cap < np) cap *= 2;
#define G(f) do { void *q = realloc(j->f, (size_t)cap * sizeof *j->f); if (!q) return wb_seterr(WB_ENOMEM, "out of memory"); j->f = q; } while (0)
    G(start); G(skip); G(line0); G(rows); G(state); G(out); G(info); G(infolen);
#undef G
    for (int64_t k = j->cap; k < cap; k++) {
        j->out[k] = 0;
        j->info[k] = NULL;
        j->infolen[k] = 0;
    }
    j->cap = cap;
    return 0;
}

/* the io.csv_parse argument of partition k */
static int parse_arg(const csv_job *j, int64_t k, const unsigned char *mode, wb_buf *b)
{
    csv_parse_arg a;
    memset(&a, 0, sizeof a);
    a.delim = (unsigned char)j->h.delim;
    a.has_y = j->c.label >= 0;
    a.start_state = j->stream ? WB_CS_LS : j->state[k];
    a.nna = j->nna;
    a.start = j->stream ? 0 : j->start[k];
    a.skip = j->stream ? 0 : j->skip[k];
    a.rows = j->rows[k];
    a.row0 = k * j->P;
    a.line0 = j->line0[k];
    a.fsize = j->fsize;
    a.ncols = j->c.ncols;
    a.d = j->c.d;
    a.max_levels = j->max_levels;
    a.header = j->h.names != NULL;
    a.src = j->stream;
    a.discard = !j->stream && j->start[k] > j->h.data_start;
    a.fill = j->fill;
    int rc = wb_buf_add(b, &a, sizeof a);
    if (!rc) rc = wb_buf_add(b, j->c.colmap, (size_t)j->c.ncols * 4);
    size_t modes = ((size_t)j->c.d + 1 + 7) / 8 * 8;
    if (!rc) rc = wb_buf_reserve(b, modes);
    if (!rc) {
        memset(b->p + b->len, 0, modes);
        memcpy(b->p + b->len, mode, (size_t)j->c.d + 1);
        b->len += modes;
    }
    const char *file = j->abs ? j->abs : "";
    if (!rc) rc = wb_buf_add(b, file, strlen(file) + 1);
    if (!rc) rc = wb_buf_add(b, j->path, strlen(j->path) + 1);
    for (int i = 0; !rc && i < j->nna; i++) rc = wb_buf_add(b, j->na_tok[i], strlen(j->na_tok[i]) + 1);
    for (int64_t m = 0; !rc && m <= j->c.d; m++) rc = wb_buf_add(b, j->c.name[m], strlen(j->c.name[m]) + 1);
    return rc ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
}

/* wait for n tasks in order (progress stage "load"); the first failure's
 * message is the one returned */
static int wait_all(wb_exec *ex, const wb_oid *outs, int64_t n, const char *what)
{
    int rc = 0;
    char msg[1024] = "";
    for (int64_t k = 0; k < n; k++) {
        if (!outs[k]) continue;
        int r = wb_exec_wait(ex, &outs[k], 1);
        if (r && !rc) {
            rc = r;
            snprintf(msg, sizeof msg, "%s", wb_errmsg());
        }
        if (!rc && k + 1 < n && what) wb_progress("load", (double)(k + 1), (double)n, what);
    }
    if (what) wb_progress("load", (double)n, (double)n, NULL);
    return rc ? wb_seterr(rc, "%s", msg) : 0;
}

/* submit the parse of partition k (file mode) */
static int submit_file_parse(csv_job *j, int64_t k, const unsigned char *mode, wb_oid *out)
{
    wb_buf b = {0};
    int rc = parse_arg(j, k, mode, &b);
    if (!rc) {
        wb_task t = {"io.csv_parse", NULL, 0, b.p, b.len, WB_TASK_PLAIN, 0, -1};
        rc = wb_exec_submit_tasks(j->ex, &t, 1, out);
    }
    wb_buf_free(&b);
    return rc;
}

/* file mode: the scan, then every partition's parse */
static int file_scan_parse(csv_job *j)
{
    int64_t ds = j->h.data_start, body = j->fsize - ds;
    int64_t step = WB_IO_STEP;
    if (body / step > 65536) step = (body / 65536 + 4095) / 4096 * 4096;
    int64_t nsub = (body + step - 1) / step;
    int par = wb_exec_parallelism(j->ex);
    int64_t ntask = nsub < 4 * (int64_t)par ? nsub : 4 * (int64_t)par;
    size_t la = strlen(j->abs) + 1, ln = strlen(j->path) + 1, asz = sizeof(csv_scan_arg) + la + ln;
    int64_t *rec = calloc((size_t)nsub + 1, 8), *lines = calloc((size_t)nsub + 1, 8), *st = calloc((size_t)nsub + 1, 8);
    wb_oid *outs = calloc((size_t)(ntask ? ntask : 1), sizeof *outs);
    unsigned char *args = malloc((size_t)(ntask ? ntask : 1) * asz);
    wb_task *tasks = calloc((size_t)(ntask ? ntask : 1), sizeof *tasks);
    int rc = (!rec || !lines || !st || !outs || !args || !tasks) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    for (int64_t t = 0; !rc && t < ntask; t++) {
        int64_t j0 = nsub * t / ntask, j1 = nsub * (t + 1) / ntask;
        csv_scan_arg a = {(unsigned char)j->h.delim, 0, ds, ds + j0 * step,
                          ds + j1 * step < j->fsize ? ds + j1 * step : j->fsize, step, j->fsize};
        unsigned char *p = args + (size_t)t * asz;
        memcpy(p, &a, sizeof a);
        memcpy(p + sizeof a, j->abs, la);
        memcpy(p + sizeof a + la, j->path, ln);
        tasks[t] = (wb_task){"io.csv_scan", NULL, 0, p, asz, WB_TASK_PLAIN, 0, -1};
    }
    if (!rc && ntask) rc = wb_exec_submit_tasks(j->ex, tasks, (int)ntask, outs);
    if (!rc && ntask) {
        rc = wait_all(j->ex, outs, ntask, "scanning");
        int64_t state = WB_CS_LS; /* at the first range's start */
        for (int64_t t = 0; t < ntask; t++) {
            int64_t j0 = nsub * t / ntask, j1 = nsub * (t + 1) / ntask;
            void *data = NULL;
            size_t size = 0;
            if (!rc) rc = wb_exec_get(j->ex, outs[t], &data, &size);
            if (!rc) {
                const int64_t *v = data;
                if (size < 24 || v[0] != j1 - j0 || size != (size_t)(3 + 5 * v[0]) * 8)
                    rc = wb_seterr(WB_EINTERNAL, "io.csv_scan: bad result");
                int q = state == WB_CS_Q; /* which run holds */
                for (int64_t s = j0; !rc && s < j1; s++) {
                    const int64_t *w = v + 3 + 5 * (s - j0);
                    lines[s] = w[0];
                    rec[s] = q ? w[2] : w[1];
                    st[s] = q ? w[4] : w[3];
                }
                if (!rc) state = q ? v[2] : v[1];
            }
            free(data);
            wb_exec_release(j->ex, outs[t]);
        }
    }
    free(tasks);
    free(args);
    free(outs);
    int64_t n = 0;
    for (int64_t s = 0; !rc && s < nsub; s++) n += rec[s];
    if (!rc && n == 0) rc = wb_seterr(WB_EFORMAT, "%s: no data rows after the header line", j->path);
    j->n = n;
    int64_t np = rc ? 0 : (n + j->P - 1) / j->P;
    if (np > INT_MAX / 2) rc = wb_seterr(WB_ELIMIT, "%s: too many rows", j->path);
    if (!rc) rc = job_grow(j, np);
    int64_t s = 0, cum = 0, cumlines = 0;
    for (int64_t k = 0; !rc && k < np; k++) {
        int64_t r0 = k * j->P, rows = n - r0 < j->P ? n - r0 : j->P;
        while (cum + rec[s] <= r0) {
            cum += rec[s];
            cumlines += lines[s];
            s++;
        }
        j->start[k] = s == 0 ? ds : ds + s * step; /* the kernel finds the line start */
        j->state[k] = (int32_t)st[s];
        j->skip[k] = r0 - cum;
        j->rows[k] = rows;
        j->line0[k] = j->h.header_lines + cumlines + 1;
        j->np = k + 1;
    }
    free(rec);
    free(lines);
    free(st);
    /* the parse: the kernel starts at the subchunk's first line start */
    for (int64_t k = 0; !rc && k < j->np; k++) rc = submit_file_parse(j, k, j->c.mode, &j->out[k]);
    if (!rc) rc = wait_all(j->ex, j->out, j->np, "parsing");
    return rc;
}

/* ------------------------------------------------------------ stream mode */

typedef struct cut_state {
    int64_t count, want;
} cut_state;

static void cut_on_record(wb_csv_sim *m, int64_t start)
{
    WB_UNUSED(start);
    cut_state *c = m->user;
    if (++c->count > c->want) m->stop = 1;
}

#define STREAM_READ ((size_t)1 << 20)

/* A partition's records, win[beg, cut), as an object for its parse task.
 * On the local pool the window itself becomes the object (its bytes moved
 * to its start, shrunk to them; no copy, and no second buffer of a
 * partition's text kept beside the chunks in flight): *win is then a new
 * buffer of cap bytes holding the len - cut bytes after the cut, and
 * *handed is set. Elsewhere the records are copied (wb_exec_put). */
static int put_chunk(wb_exec *ex, char **win, size_t cap, size_t beg, size_t cut, size_t len, wb_oid *out,
                     int *handed)
{
    *out = 0;
    *handed = 0;
    wb_store *ls = wb_exec_local_store(ex);
    char *nw = ls ? malloc(cap) : NULL;
    if (!nw) return wb_exec_put(ex, *win + beg, cut - beg, out);
    memcpy(nw, *win + cut, len - cut);
    char *old = *win;
    *win = nw;
    *handed = 1;
    if (beg) memmove(old, old + beg, cut - beg);
    char *shrunk = realloc(old, cut - beg ? cut - beg : 1);
    if (shrunk) old = shrunk;
    int rc = wb_store_reserve(ls, out);
    if (rc) {
        free(old);
        *out = 0;
        return rc;
    }
    return wb_store_fulfill_bytes(ls, *out, old, cut - beg); /* takes old, also on failure */
}

/* Read the stream from its start: the head (first pass only), then the
 * records cut into partitions of P records, each handed to a parse task
 * with its bytes. On a second pass (need != NULL) only the partitions
 * marked are parsed again, into again[k]. */
static int stream_pass(csv_job *j, wb_instream *in, const wb_read_opts *o, const wb_csv_na *na,
                       const wb_meta_cols *meta, const unsigned char *need, wb_oid *again)
{
    char *win = NULL;
    size_t cap = 0, len = 0;
    int eof = 0, rc = 0;
    /* read until the head is known */
    int headed = need != NULL;
    size_t want = STREAM_READ;
    while (!rc && !headed) {
        while (!rc && !eof && len < want) {
            if (cap - len < STREAM_READ) {
                char *w = realloc(win, cap + STREAM_READ * 2);
                if (!w) {
                    rc = wb_seterr(WB_ENOMEM, "out of memory");
                    break;
                }
                win = w;
                cap += STREAM_READ * 2;
            }
            size_t got;
            rc = wb__instream_read(in, win + len, cap - len, &got);
            if (!rc && got == 0) eof = 1;
            len += got;
        }
        if (rc) break;
        if (len == 0 && eof) {
            rc = wb_seterr(WB_EFORMAT, "%s: empty %s (expected rows of comma-separated values)", j->path,
                           strcmp(j->path, "-") == 0 ? "input" : "file");
            break;
        }
        rc = head_parse(win ? win : "", len, eof, j->path, o, delim_of_path(j->path), na, &j->h);
        if (rc == 1) {
            rc = 0;
            if (want >= WB_IO_MAX_LINE) {
                rc = wb_seterr(WB_ELIMIT, "%s: the first record is longer than the limit of %zu MB", j->path,
                               WB_IO_MAX_LINE >> 20);
                break;
            }
            want *= 2;
            continue;
        }
        headed = 1;
        rc = cols_plan(j->path, &j->h, o, meta, &j->c);
        if (!rc) j->P = wb_partition_rows(j->c.d);
    }
    size_t beg = 0;
    int64_t k = 0, line = j->h.header_lines + 1, submitted = 0, waited = 0;
    /* parse tasks in flight past the oldest unfinished one: about one per
     * thread keeps them busy, and each holds a partition's text (peak memory) */
    int window = wb_exec_parallelism(j->ex);
    if (window < 2) window = 2;
    if (!rc && need) { /* second pass: skip the head */
        while (!rc && (int64_t)len < j->h.data_start && !eof) {
            if (cap - len < STREAM_READ) {
                char *w = realloc(win, cap + STREAM_READ * 2);
                if (!w) {
                    rc = wb_seterr(WB_ENOMEM, "out of memory");
                    break;
                }
                win = w;
                cap += STREAM_READ * 2;
            }
            size_t got;
            rc = wb__instream_read(in, win + len, cap - len, &got);
            if (!rc && got == 0) eof = 1;
            len += got;
        }
    }
    if (!rc) beg = (size_t)j->h.data_start;
    if (!rc && beg > len) rc = wb_seterr(WB_EIO, "%s: the input changed between two readings", j->path);
    /* cut: [beg, cut) holds the next P records */
    cut_state cs = {0, j->P};
    wb_csv_sim m = {WB_CS_LS, j->h.delim, (int64_t)beg, cut_on_record, &cs, 0, 0};
    size_t done = beg; /* the machine has run over [beg, done) */
    while (!rc) {
        if (done < len) {
            m.stop = 0;
            wb__csv_sim(&m, win + done, win + len, (int64_t)done);
            if (m.stop) done = (size_t)m.stop_at;
            else done = len;
        }
        int full = m.stop != 0;
        int last = !full && eof;
        if (!full && !last && len - (size_t)m.rs > WB_IO_MAX_LINE) { /* a record without end */
            rc = wb_seterr(WB_ELIMIT, "%s: the line at byte %lld is longer than the limit of %zu MB", j->path,
                           (long long)m.rs, WB_IO_MAX_LINE >> 20);
            break;
        }
        if (!full && !last) { /* more input: keep [beg, len) */
            if (beg > 0) { /* (after a cut: the few bytes read past it) */
                memmove(win, win + beg, len - beg);
                len -= beg;
                done -= beg;
                m.rs -= (int64_t)beg;
                beg = 0;
            }
            if (cap - len < STREAM_READ) {
                /* by half: the window holds a partition's records and a read
                 * (the bytes before beg were moved out), not twice that */
                size_t ncap = cap + cap / 2 + STREAM_READ;
                char *w = realloc(win, ncap);
                if (!w) {
                    rc = wb_seterr(WB_ENOMEM, "out of memory");
                    break;
                }
                win = w;
                cap = ncap;
            }
            size_t got;
            rc = wb__instream_read(in, win + len, cap - len, &got);
            if (!rc && got == 0) eof = 1;
            len += got;
            continue;
        }
        int64_t rows = full ? j->P : cs.count;
        size_t cut = full ? done : len;
        if (rows > 0) {
            int64_t nl = 0;
            nl = wb__csv_count(win + beg, win + cut, '\n');
            if (!need) {
                rc = job_grow(j, k + 1);
                if (!rc) {
                    j->rows[k] = rows;
                    j->line0[k] = line;
                    j->np = k + 1;
                }
            } else if (k >= j->np || j->rows[k] != rows || j->line0[k] != line)
                rc = wb_seterr(WB_EIO, "%s: the input changed between two readings", j->path);
            if (!rc && (!need || need[k])) {
                wb_oid chunk = 0;
                int handed = 0;
                rc = put_chunk(j->ex, &win, cap, beg, cut, len, &chunk, &handed);
                if (handed) { /* win holds the bytes after the cut now */
                    len -= cut;
                    cut = 0;
                }
                wb_buf b = {0};
                if (!rc) rc = parse_arg(j, k, j->c.mode, &b);
                if (!rc) {
                    wb_task t = {"io.csv_parse", &chunk, 1, b.p, b.len, WB_TASK_PLAIN, 0, -1};
                    rc = wb_exec_submit_tasks(j->ex, &t, 1, need ? &again[k] : &j->out[k]);
                }
                wb_buf_free(&b);
                if (chunk) wb_exec_release(j->ex, chunk);
                submitted = k + 1;
            }
            line += nl;
            j->n += need ? 0 : rows;
            k++;
            /* a bounded number of chunks in flight */
            while (!rc && waited < submitted && submitted - waited > window) {
                wb_oid w = need ? again[waited] : j->out[waited];
                if (w) rc = wb_exec_wait(j->ex, &w, 1);
                waited++;
            }
            if (!rc && k % 8 == 0) wb_progress("load", (double)j->n, 0, "parsing");
        }
        if (last) break;
        beg = cut;
        cs.count = 0;
        m.state = WB_CS_LS;
        m.rs = (int64_t)beg;
        m.stop = 0;
        done = beg;
    }
    if (!rc && !need && j->n == 0) rc = wb_seterr(WB_EFORMAT, "%s: no data rows after the header line", j->path);
    if (!rc && need && k != j->np) rc = wb_seterr(WB_EIO, "%s: the input changed between two readings", j->path);
    free(win);
    return rc;
}

/* ------------------------------------------------------------ types and levels */

/* fetch io.csv_info of partitions marked (NULL: all) */
static int get_infos(csv_job *j, const unsigned char *which)
{
    int64_t ncol = j->c.d + (j->c.label >= 0);
    wb_oid *res = calloc((size_t)(j->np ? j->np : 1), sizeof *res);
    if (!res) return wb_seterr(WB_ENOMEM, "out of memory");
    int rc = 0;
    for (int64_t k = 0; !rc && k < j->np; k++) {
        if (which && !which[k]) continue;
        wb_task t = {"io.csv_info", &j->out[k], 1, &ncol, 8, WB_TASK_PLAIN, 0, -1};
        rc = wb_exec_submit_tasks(j->ex, &t, 1, &res[k]);
    }
    if (!rc) rc = wait_all(j->ex, res, j->np, NULL);
    for (int64_t k = 0; k < j->np; k++) {
        if (!res[k]) continue;
        if (!rc) {
            void *data = NULL;
            size_t size = 0;
            rc = wb_exec_get(j->ex, res[k], &data, &size);
            if (!rc && size < (size_t)(ncol + 7) / 8 * 8) rc = wb_seterr(WB_EINTERNAL, "io.csv_info: bad result");
            if (!rc) {
                free(j->info[k]);
                j->info[k] = data;
                j->infolen[k] = size;
            } else
                free(data);
        }
        wb_exec_release(j->ex, res[k]);
    }
    free(res);
    return rc;
}

/* walk a partition's info: the strings of text column m */
typedef struct info_col {
    uint32_t n;
    const unsigned char *p; /* n {u32 len, bytes} */
} info_col;

static int info_find(const csv_job *j, int64_t k, int64_t ncol, int64_t m, info_col *out)
{
    const unsigned char *p = j->info[k], *e = p + j->infolen[k];
    if (!(p[m] & CI_TEXT)) return 0;
    p += ((size_t)ncol + 7) / 8 * 8;
    for (int64_t c = 0; c < ncol; c++) {
        if (!(j->info[k][c] & CI_TEXT)) continue;
        uint32_t hh[2];
        if (e - p < 8) return wb_seterr(WB_EINTERNAL, "io.csv_info: bad result");
        memcpy(hh, p, 8);
        p += 8;
        if (hh[0] != (uint32_t)c) return wb_seterr(WB_EINTERNAL, "io.csv_info: bad result");
        const unsigned char *s = p;
        for (uint32_t i = 0; i < hh[1]; i++) {
            uint32_t len;
            if (e - p < 4) return wb_seterr(WB_EINTERNAL, "io.csv_info: bad result");
            memcpy(&len, p, 4);
            p += 4;
            if ((uint64_t)(e - p) < len) return wb_seterr(WB_EINTERNAL, "io.csv_info: bad result");
            p += len;
        }
        if (c == m) {
            out->n = hh[1];
            out->p = s;
            return 1;
        }
    }
    return 0;
}

/* the types over all partitions; partitions that read numbers in a column
 * that is a category elsewhere are parsed again reading it as text */
static int decide_types(csv_job *j, wb_instream *in, const wb_read_opts *o, const wb_csv_na *na, unsigned char *cat)
{
    int64_t ncol = j->c.d + (j->c.label >= 0);
    int rc = get_infos(j, NULL);
    for (int round = 0; !rc; round++) {
        for (int64_t m = 0; m < ncol; m++) {
            cat[m] = j->c.mode[m] == CM_TEXT;
            for (int64_t k = 0; k < j->np && !cat[m]; k++) cat[m] = (j->info[k][m] & CI_TEXT) != 0;
        }
        unsigned char *need = calloc((size_t)j->np + 1, 1);
        unsigned char *mode = malloc((size_t)ncol + 1);
        if (!need || !mode) {
            free(need);
            free(mode);
            return wb_seterr(WB_ENOMEM, "out of memory");
        }
        int any = 0;
        for (int64_t m = 0; m <= j->c.d; m++) mode[m] = m < ncol && cat[m] ? CM_TEXT : j->c.mode[m];
        for (int64_t k = 0; k < j->np; k++)
            for (int64_t m = 0; m < ncol; m++)
                if (cat[m] && (j->info[k][m] & (CI_TEXT | CI_VALUES)) == CI_VALUES) need[k] = any = 1;
        if (any && round > 2) rc = wb_seterr(WB_EINTERNAL, "%s: the column types do not settle", j->path);
        if (any && !rc) {
            memcpy(j->c.mode, mode, (size_t)j->c.d + 1);
            wb_oid *again = calloc((size_t)j->np + 1, sizeof *again);
            if (!again) rc = wb_seterr(WB_ENOMEM, "out of memory");
            if (!rc && j->stream) {
                rc = wb__instream_rewind(in);
                if (!rc) rc = stream_pass(j, in, o, na, NULL, need, again);
            } else
                for (int64_t k = 0; !rc && k < j->np; k++)
                    if (need[k]) rc = submit_file_parse(j, k, j->c.mode, &again[k]);
            if (!rc) rc = wait_all(j->ex, again, j->np, NULL);
            for (int64_t k = 0; again && k < j->np; k++) {
                if (!again[k]) continue;
                if (rc) wb_exec_release(j->ex, again[k]);
                else {
                    wb_exec_release(j->ex, j->out[k]);
                    j->out[k] = again[k];
                }
            }
            free(again);
            if (!rc) rc = get_infos(j, need);
        }
        free(need);
        free(mode);
        if (!any) break;
    }
    return rc;
}

typedef struct gent {
    const char *s;
    uint32_t len, id;
} gent;

static int cmp_gent(const void *x, const void *y)
{
    const gent *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, n);
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* the levels of category column m (the sorted union of every partition's
 * and the .meta ones) and each partition's map to them */
static int merge_levels(csv_job *j, int64_t m, wb_levels **lv, uint32_t **maps)
{
    int64_t ncol = j->c.d + (j->c.label >= 0);
    wb_csv_dict all = {0};
    int rc = 0;
    uint32_t **prov = calloc((size_t)j->np + 1, sizeof *prov); /* per partition: local code -> id in all */
    if (!prov) return wb_seterr(WB_ENOMEM, "out of memory");
    const wb_levels *seed = j->c.seed[m];
    for (int64_t k = 0; !rc && k < wb_levels_count(seed); k++) {
        const char *s = wb_levels_at(seed, k);
        if (wb__csv_dict_put(&all, s, strlen(s)) < 0) rc = wb_seterr(WB_ENOMEM, "out of memory");
    }
    for (int64_t k = 0; !rc && k < j->np; k++) {
        info_col ic;
        int f = info_find(j, k, ncol, m, &ic);
        if (f < 0) rc = f;
        if (f <= 0) continue;
        prov[k] = malloc((size_t)(ic.n ? ic.n : 1) * 4);
        if (!prov[k]) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        const unsigned char *p = ic.p;
        for (uint32_t i = 0; i < ic.n && !rc; i++) {
            uint32_t len;
            memcpy(&len, p, 4);
            int64_t id = wb__csv_dict_put(&all, (const char *)p + 4, len);
            if (id < 0) rc = wb_seterr(WB_ENOMEM, "out of memory");
            else prov[k][i] = (uint32_t)id;
            p += 4 + len;
        }
        if (!rc && all.n > (uint64_t)j->max_levels) {
            char cref[96];
            const char *nm = j->c.name[m];
            if (nm && *nm) snprintf(cref, sizeof cref, "column \"%.60s\"", nm);
            else snprintf(cref, sizeof cref, "column %lld", (long long)m + 1);
            rc = wb_seterr(WB_ELIMIT,
                           "%s: %s: more than %lld distinct values (the limit of levels of a category column, "
                           "max_levels = %lld; dtype = {...= \"number\"} if it holds numbers)",
                           j->path, cref, (long long)j->max_levels, (long long)j->max_levels);
        }
    }
    gent *g = rc ? NULL : malloc((size_t)(all.n ? all.n : 1) * sizeof *g);
    uint32_t *rank = rc ? NULL : malloc((size_t)(all.n ? all.n : 1) * 4);
    const char **strs = rc ? NULL : malloc((size_t)(all.n ? all.n : 1) * sizeof *strs);
    if (!rc && (!g || !rank || !strs)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc) {
        for (uint32_t i = 0; i < all.n; i++) g[i] = (gent){(const char *)all.text.p + all.off[i], all.len[i], i};
        qsort(g, all.n, sizeof *g, cmp_gent);
        for (uint32_t i = 0; i < all.n; i++) {
            rank[g[i].id] = i;
            strs[i] = g[i].s;
        }
        rc = wb_levels_new(strs, all.n, lv);
    }
    for (int64_t k = 0; !rc && k < j->np; k++) {
        if (!prov[k]) continue;
        info_col ic;
        info_find(j, k, ncol, m, &ic);
        for (uint32_t i = 0; i < ic.n; i++) prov[k][i] = rank[prov[k][i]];
        maps[k] = prov[k];
        prov[k] = NULL;
    }
    for (int64_t k = 0; k < j->np; k++) free(prov[k]);
    free(prov);
    free(g);
    free(rank);
    free(strs);
    wb__csv_dict_free(&all);
    return rc;
}

/* ------------------------------------------------------------ the entry */

static int read_csv(csv_job *j, const wb_read_opts *o, wb_dataset **out)
{
    wb_csv_na na;
    const char *const *tok;
    int64_t ntok;
    if (o->nna_values >= 0 && o->na_values) {
        tok = o->na_values;
        ntok = o->nna_values;
    } else {
        tok = wb__csv_default_na();
        for (ntok = 0; tok[ntok]; ntok++) {}
    }
    if (ntok > WB_CSV_MAX_NA)
        return wb_seterr(WB_EINVAL, "%s: %lld missing-value tokens, more than the limit of %d", j->path, (long long)ntok,
                         WB_CSV_MAX_NA);
    for (int64_t i = 0; i < ntok; i++) {
        if (strlen(tok[i]) > 31)
            return wb_seterr(WB_EINVAL, "%s: the missing-value token \"%.40s...\" is longer than 31 bytes", j->path, tok[i]);
        j->na_tok[i] = tok[i];
    }
    j->nna = (int)ntok;
    wb__csv_na_init(&na, tok, (int)ntok);
    j->max_levels = o->max_levels > 0 ? o->max_levels : WB_MAX_LEVELS;
    j->fill = o->ragged_fill;

    /* the input: a plain file is read in parallel; compressed or standard input as a stream */
    int rc = 0;
    wb_instream *in = NULL;
    int is_stdin = strcmp(j->path, "-") == 0;
    int fd = -1;
    if (!is_stdin) {
        rc = wb__io_open(j->path, j->path, &fd, &j->fsize);
        unsigned char magic[4] = {0};
        if (!rc && j->fsize == 0) rc = wb_seterr(WB_EFORMAT, "%s: empty file (expected rows of comma-separated values)", j->path);
        if (!rc) rc = wb__io_pread(fd, magic, j->fsize < 4 ? (size_t)j->fsize : 4, 0, j->path);
        if (!rc) j->stream = wb__compression_of(magic, j->fsize < 4 ? (size_t)j->fsize : 4) != WB_IN_PLAIN;
    } else
        j->stream = 1;
    wb_meta m;
    wb_meta_cols meta;
    memset(&meta, 0, sizeof meta);
    int have_meta = 0;
    if (!rc && !is_stdin) {
        int mrc = wb__meta_read_cols(j->path, &m, &meta);
        if (mrc == 0) have_meta = 1;
        else if (mrc != WB_ENOTFOUND) rc = mrc;
    }
    if (!rc && j->stream) rc = wb__instream_open(j->path, &in);
    if (!rc && !j->stream) {
        /* the head from the file's first bytes (more when the first record is longer) */
        size_t want = STREAM_READ;
        char *buf = NULL;
        for (;;) {
            size_t n = j->fsize < (int64_t)want ? (size_t)j->fsize : want;
            char *b = realloc(buf, n + 1);
            if (!b) {
                rc = wb_seterr(WB_ENOMEM, "out of memory");
                break;
            }
            buf = b;
            rc = wb__io_pread(fd, buf, n, 0, j->path);
            if (!rc) rc = head_parse(buf, n, (int64_t)n == j->fsize, j->path, o, delim_of_path(j->path), &na, &j->h);
            if (rc != 1) break;
            rc = 0;
            if (want >= WB_IO_MAX_LINE) {
                rc = wb_seterr(WB_ELIMIT, "%s: the first record is longer than the limit of %zu MB", j->path,
                               WB_IO_MAX_LINE >> 20);
                break;
            }
            want *= 2;
        }
        free(buf);
        if (!rc) {
            j->abs = realpath(j->path, NULL);
            if (!j->abs) rc = wb_seterr(WB_EIO, "%s: cannot open (%s)", j->path, strerror(errno));
        }
    }
    if (fd >= 0) close(fd);
    /* the rows: scanned and parsed in parallel, or cut from the stream (which
     * reads the head and plans the columns first) */
    if (!rc && !j->stream) {
        rc = cols_plan(j->path, &j->h, o, have_meta ? &meta : NULL, &j->c);
        if (!rc) j->P = wb_partition_rows(j->c.d);
        if (!rc) rc = file_scan_parse(j);
    }
    if (!rc && j->stream) {
        rc = stream_pass(j, in, o, &na, have_meta ? &meta : NULL, NULL, NULL);
        if (!rc) rc = wait_all(j->ex, j->out, j->np, "parsing");
    }
    if (!rc) rc = wb__io_check_rows(j->path, j->n, o);
    int64_t ncol = j->c.d + (j->c.label >= 0);
    unsigned char *cat = rc ? NULL : calloc((size_t)ncol + 1, 1);
    if (!rc && !cat) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc) rc = decide_types(j, in, o, &na, cat);
    /* levels, and the codes of each partition mapped to them */
    wb_levels **lv = rc ? NULL : calloc((size_t)ncol + 1, sizeof *lv);
    uint32_t **maps = rc ? NULL : calloc((size_t)(ncol + 1) * (size_t)(j->np + 1), sizeof *maps);
    if (!rc && (!lv || !maps)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t c = 0; !rc && c < ncol; c++)
        if (cat[c]) rc = merge_levels(j, c, &lv[c], maps + (size_t)c * (size_t)(j->np + 1));
    /* remap the partitions that hold codes of their own */
    wb_oid *fin = rc ? NULL : calloc((size_t)j->np + 1, sizeof *fin);
    if (!rc && !fin) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int64_t k = 0; !rc && k < j->np; k++) {
        int text = 0;
        for (int64_t c = 0; c < ncol; c++) text |= (j->info[k][c] & CI_TEXT) != 0;
        if (!text) continue;
        wb_buf b = {0};
        int64_t count = 0;
        rc = wb_buf_add(&b, &count, 8);
        for (int64_t c = 0; !rc && c < ncol; c++) {
            uint32_t *map = maps[(size_t)c * (size_t)(j->np + 1) + (size_t)k];
            if (!(j->info[k][c] & CI_TEXT)) continue;
            info_col ic;
            rc = info_find(j, k, ncol, c, &ic) < 0 ? WB_EINTERNAL : 0;
            uint32_t hh[2] = {(uint32_t)c, ic.n};
            if (!rc) rc = wb_buf_add(&b, hh, 8);
            if (!rc && ic.n) rc = wb_buf_add(&b, map, (size_t)ic.n * 4);
            count++;
        }
        if (!rc) memcpy(b.p, &count, 8);
        if (!rc) {
            wb_task t = {"io.csv_remap", &j->out[k], 1, b.p, b.len, WB_TASK_PLAIN, 0, j->rows[k]};
            rc = wb_exec_submit_tasks(j->ex, &t, 1, &fin[k]);
        }
        if (!rc) { /* the task holds it now: freed once remapped, so the two copies never all coexist */
            wb_exec_release(j->ex, j->out[k]);
            j->out[k] = 0;
        }
        wb_buf_free(&b);
    }
    if (!rc) rc = wait_all(j->ex, fin, j->np, NULL);
    for (int64_t k = 0; fin && k < j->np; k++) {
        if (!fin[k]) continue;
        if (rc) wb_exec_release(j->ex, fin[k]);
        else j->out[k] = fin[k];
    }
    free(fin);
    for (size_t i = 0; maps && i < (size_t)(ncol + 1) * (size_t)(j->np + 1); i++) free(maps[i]);
    free(maps);
    /* the dataset */
    if (!rc) {
        wb_dspart *parts = calloc((size_t)j->np + 1, sizeof *parts);
        if (!parts) rc = wb_seterr(WB_ENOMEM, "out of memory");
        for (int64_t k = 0; !rc && k < j->np; k++) {
            parts[k] = (wb_dspart){j->out[k], j->rows[k], k * j->P};
            j->out[k] = 0; /* the dataset takes the reference */
        }
        if (!rc) rc = wb_ds_new(j->ex, j->c.d, j->c.label >= 0, (int)j->np, parts, out);
        free(parts);
    }
    if (!rc && j->h.names) {
        for (int64_t c = 0; !rc && c < j->c.d; c++) rc = wb_ds_set_colname(*out, c, j->c.name[c]);
    }
    for (int64_t c = 0; !rc && c < j->c.d; c++)
        if (cat[c]) rc = wb_ds_set_coltype(*out, c, WB_COL_CATEGORY, lv[c]);
    if (!rc && j->c.label >= 0)
        rc = wb_ds_set_label_meta(*out, j->h.names ? j->c.name[j->c.d] : NULL, cat[j->c.d] ? lv[j->c.d] : NULL);
    for (int64_t c = 0; lv && c < ncol; c++) wb_levels_unref(lv[c]);
    free(lv);
    free(cat);
    wb__instream_close(in);
    wb__meta_cols_free(&meta);
    return rc;
}

int wb__read_csv(wb_exec *ex, const char *path, const wb_read_opts *o, wb_dataset **out)
{
    csv_job j;
    memset(&j, 0, sizeof j);
    j.ex = ex;
    j.path = path;
    *out = NULL;
    int rc = read_csv(&j, o, out);
    if (rc && *out) {
        wb_ds_unref(*out);
        *out = NULL;
    }
    job_free(&j);
    return rc;
}
