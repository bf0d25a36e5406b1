/* io/libsvm.c — LIBSVM rows: `label index:value index:value ... [# comment]`,
 * indices 1-based (0-based with zero_based) and strictly increasing, missing
 * features are 0. The format of the original studies (and of scikit-learn's
 * dump_svmlight_file). A `qid:N` token (learning to rank) goes to the column
 * qid_col (the last), or is ignored when qid_col < 0. */
#include <stdio.h>
#include <string.h>

#include "io_internal.h"

static inline int is_ws(char c) { return c == ' ' || c == '\t'; }

int wb__libsvm_check_dense(wb_exec *ex, const char *path, int64_t n, int64_t d, int dsource)
{
    /* rows are stored dense: a short file with one large index asks for n x d
     * doubles (index 1048576 in a 24 KB file: 16 GB). Refused before any
     * partition is allocated when the data would take more than half of the
     * memory available (the rest is for what is computed from it); on a
     * cluster, where the partitions live on the workers, each partition
     * against this machine's (the workers check theirs again). */
    int64_t P = wb_partition_rows(d), rows = n;
    wb_exec_info info;
    wb_exec_info_get(ex, &info);
    if (info.remote && rows > P) rows = P;
    double need = (double)rows * (double)(d + 1) * 8.0; /* the labels too */
    size_t avail = wb__avail_bytes();
    if (need <= (double)avail / 2) return 0;
    char a[32], b[32];
    wb_size_format(need < 1.8e19 ? (uint64_t)need : UINT64_MAX, a, sizeof a);
    wb_size_format(avail, b, sizeof b);
    return wb_seterr(WB_ENOMEM,
                     "%s: %lld rows x %lld columns (%s) stored dense%s need %s (%.0f bytes), "
                     "more than half of the %s (%zu bytes) of memory available",
                     path, (long long)n, (long long)d,
                     dsource == 1 ? "features=" : dsource == 2 ? "num_features of the .meta" : "the largest feature index",
                     rows < n ? " in one partition" : "", a, need, b, avail);
}

/* the token at p for a message: up to the next blank, at most 40 bytes */
static int toklen(const char *p, const char *e)
{
    const char *q = p;
    while (q < e && !is_ws(*q) && q - p < 40) q++;
    return (int)(q - p);
}

int64_t wb__libsvm_maxidx(const char *s, size_t len)
{
    const char *hash = memchr(s, '#', len);
    const char *e = hash ? hash : s + len;
    const char *c = e;
    while (c > s && c[-1] != ':') c--;
    if (c == s) return -1; /* no feature */
    const char *dig_end = c - 1, *b = dig_end;
    while (b > s && (unsigned char)(b[-1] - '0') < 10) b--;
    if (b == dig_end || dig_end - b > 18) return -1; /* not an index (the parser will say so) */
    int64_t v = 0;
    for (const char *q = b; q < dig_end; q++) v = v * 10 + (*q - '0');
    return v;
}

int64_t wb__libsvm_minidx(const char *s, size_t len, int *qid)
{
    const char *p = s, *e = s + len;
    *qid = 0;
    while (p < e && is_ws(*p)) p++;
    while (p < e && !is_ws(*p) && *p != '#') p++; /* the label */
    for (;;) {
        while (p < e && is_ws(*p)) p++;
        if (p >= e || *p == '#') return -1;
        if (e - p >= 4 && memcmp(p, "qid:", 4) == 0) {
            *qid = 1;
            while (p < e && !is_ws(*p)) p++;
            continue;
        }
        uint64_t v;
        const char *st;
        if (wb__parse_uint(p, e, &v, &st) != 0 || st >= e || *st != ':') return -1; /* the parser will say */
        return (int64_t)v;
    }
}

int wb__libsvm_row(const char *s, size_t len, double *x, double *y, const wb_parse_arg *a,
                   const char *name, int64_t lineno)
{
    const char *p = s, *e = s + len, *st;
    while (p < e && is_ws(*p)) p++;
    if (wb__parse_double(p, e, y, &st) != 0 || (st < e && !is_ws(*st) && *st != '#'))
        return wb_seterr(WB_EFORMAT, "%s:%lld:%lld: bad label \"%.*s\" (expected a number)", name,
                         (long long)lineno, (long long)(p - s + 1), toklen(p, e), p);
    p = st;
    int64_t prev = a->zero_based ? -1 : 0;
    const char *beyond = NULL; /* an index past the last column */
    int64_t beyond_i = 0;
    for (;;) {
        while (p < e && is_ws(*p)) p++;
        if (p >= e || *p == '#') break;
        if (e - p >= 4 && memcmp(p, "qid:", 4) == 0) {
            if (a->qid_col >= 0) {
                double q;
                const char *v = p + 4;
                if (wb__parse_double(v, e, &q, &st) != 0 || (st < e && !is_ws(*st) && *st != '#'))
                    return wb_seterr(WB_EFORMAT, "%s:%lld:%lld: bad qid \"%.*s\" (expected qid:number)", name,
                                     (long long)lineno, (long long)(p - s + 1), toklen(p, e), p);
                x[a->qid_col] = q;
            }
            while (p < e && !is_ws(*p)) p++;
            continue;
        }
        uint64_t idx;
        if (wb__parse_uint(p, e, &idx, &st) != 0 || st >= e || *st != ':')
            return wb_seterr(WB_EFORMAT, "%s:%lld:%lld: bad feature \"%.*s\" (expected index:value)", name,
                             (long long)lineno, (long long)(p - s + 1), toklen(p, e), p);
        int64_t i = (int64_t)idx;
        if (i == 0 && !a->zero_based)
            return wb_seterr(WB_EFORMAT,
                             "%s:%lld:%lld: index 0 (expected indices from 1; zero_based=true reads "
                             "0-based files)",
                             name, (long long)lineno, (long long)(p - s + 1));
        if (i <= prev)
            return wb_seterr(WB_EFORMAT, "%s:%lld:%lld: index %lld after %lld (expected increasing indices)",
                             name, (long long)lineno, (long long)(p - s + 1), (long long)i, (long long)prev);
        int64_t col = a->zero_based ? i : i - 1;
        if (col >= a->d && a->dsource == 0 && !beyond) {
            /* d is the largest last index of a line: a later index of this
             * line must go down; report that */
            beyond = p;
            beyond_i = i;
        } else if (col >= a->d && a->dsource != 0) {
            char why[96] = "";
            if (a->dsource == 1) snprintf(why, sizeof why, ", as given by features=%lld", (long long)a->d);
            if (a->dsource == 2) snprintf(why, sizeof why, ", as the .meta file says");
            if (a->dsource == 3) snprintf(why, sizeof why, ", the limit of columns");
            return wb_seterr(WB_EFORMAT, "%s:%lld:%lld: index %lld out of range (expected at most %lld features%s)",
                             name, (long long)lineno, (long long)(p - s + 1), (long long)i, (long long)a->d, why);
        }
        const char *v = st + 1;
        double val;
        if (wb__parse_double(v, e, &val, &st) != 0 || (st < e && !is_ws(*st) && *st != '#'))
            return wb_seterr(WB_EFORMAT, "%s:%lld:%lld: bad value \"%.*s\" (expected a number)", name,
                             (long long)lineno, (long long)(v - s + 1), toklen(v, e), v);
        if (!beyond) x[col] = val;
        prev = i;
        p = st;
    }
    if (beyond)
        return wb_seterr(WB_EFORMAT, "%s:%lld:%lld: index %lld out of range (expected at most %lld features)",
                         name, (long long)lineno, (long long)(beyond - s + 1), (long long)beyond_i, (long long)a->d);
    return 0;
}
