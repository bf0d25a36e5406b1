/* io/meta.c — the .meta sidecar the studies kept beside each data file:
 * PATH.meta, a small JSON object
 *
 *   {
 *     "num_samples": 1000000,
 *     "num_features": 10,
 *     "num_classes": 2,
 *     "dataset_size": 212311040
 *   }
 *
 * num_classes is the number of distinct label values when the labels are
 * integers (0 without labels or for other labels); dataset_size is the size
 * in bytes of the data file (for NPY with labels, of both .npy files).
 * Written to a temporary file and renamed, after the data itself, so a .meta
 * always describes a complete file. Reading accepts any JSON object and
 * ignores unknown keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_internal.h"

int wb_meta_write(const char *datapath, const wb_meta *m)
{
    char *path = wb__meta_path(datapath);
    if (!path) return wb__io_nomem(datapath, strlen(datapath) + 6);
    size_t n = strlen(path) + 40;
    char *tmp = malloc(n);
    if (!tmp) {
        free(path);
        return wb__io_nomem(datapath, n);
    }
    snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
    char text[256];
    int len = snprintf(text, sizeof text,
                       "{\n  \"num_samples\": %lld,\n  \"num_features\": %lld,\n  \"num_classes\": %lld,\n"
                       "  \"dataset_size\": %lld\n}\n",
                       (long long)m->num_samples, (long long)m->num_features, (long long)m->num_classes,
                       (long long)m->dataset_size);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) rc = wb_seterr(WB_EIO, "%s: cannot write (%s)", path, strerror(errno));
    if (!rc) {
        ssize_t w = write(fd, text, (size_t)len);
        if (w != len) rc = wb_seterr(WB_EIO, "%s: write failed (%s)", path, w < 0 ? strerror(errno) : "short write");
        if (close(fd) != 0 && !rc) rc = wb_seterr(WB_EIO, "%s: write failed (%s)", path, strerror(errno));
        if (!rc && rename(tmp, path) != 0) rc = wb_seterr(WB_EIO, "%s: cannot write (%s)", path, strerror(errno));
        if (rc) unlink(tmp);
    }
    free(tmp);
    free(path);
    return rc;
}

typedef struct jp {
    const char *s, *p, *e, *name;
} jp;

static void j_ws(jp *j)
{
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int j_err(jp *j, const char *what)
{
    int line = 1, col = 1;
    for (const char *q = j->s; q < j->p; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else
            col++;
    }
    return wb_seterr(WB_EFORMAT, "%s:%d:%d: malformed .meta (expected %s)", j->name, line, col, what);
}

/* a JSON string into out (escapes kept as the escaped character) */
static int j_str(jp *j, char *out, size_t cap)
{
    if (j->p >= j->e || *j->p != '"') return j_err(j, "a string");
    j->p++;
    size_t n = 0;
    while (j->p < j->e && *j->p != '"') {
        if (*j->p == '\\' && j->p + 1 < j->e) j->p++;
        if (n + 1 < cap) out[n++] = *j->p;
        j->p++;
    }
    if (j->p >= j->e) return j_err(j, "a closing '\"'");
    j->p++;
    out[n] = 0;
    return 0;
}

/* skip any JSON value */
static int j_skip(jp *j, int depth)
{
    j_ws(j);
    if (j->p >= j->e) return j_err(j, "a value");
    char c = *j->p;
    if (c == '"') {
        char tmp[8];
        return j_str(j, tmp, sizeof tmp);
    }
    if (c == '{' || c == '[') {
        if (depth > 32) return j_err(j, "less nesting");
        char close = c == '{' ? '}' : ']';
        j->p++;
        j_ws(j);
        if (j->p < j->e && *j->p == close) {
            j->p++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                char k[8];
                j_ws(j);
                if (j_str(j, k, sizeof k)) return WB_EFORMAT;
                j_ws(j);
                if (j->p >= j->e || *j->p != ':') return j_err(j, "':'");
                j->p++;
            }
            if (j_skip(j, depth + 1)) return WB_EFORMAT;
            j_ws(j);
            if (j->p < j->e && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->e && *j->p == close) {
                j->p++;
                return 0;
            }
            return j_err(j, c == '{' ? "',' or '}'" : "',' or ']'");
        }
    }
    const char *q = j->p;
    while (q < j->e && (*q == '-' || *q == '+' || *q == '.' || (*q >= '0' && *q <= '9') || *q == 'e' ||
                        *q == 'E' || (*q >= 'a' && *q <= 'z')))
        q++;
    if (q == j->p) return j_err(j, "a value");
    j->p = q;
    return 0;
}

int wb_meta_read(const char *datapath, wb_meta *m)
{
    m->num_samples = m->num_features = m->num_classes = m->dataset_size = -1;
    char *path = wb__meta_path(datapath);
    if (!path) return wb__io_nomem(datapath, strlen(datapath) + 6);
    int fd;
    int64_t fsize;
    mode_t mode;
    int e = wb__open_regular(path, &fd, &fsize, &mode); /* a FIFO, a device: refused, never read */
    if (e) {
        int rc = e == ENOENT ? wb_seterr(WB_ENOTFOUND, "%s: not found", path)
                 : e == EISDIR || e == ENODEV
                     ? wb_seterr(WB_EIO, "%s: cannot read (not a regular file: %s)", path, wb__file_kind(mode))
                     : wb_seterr(WB_EIO, "%s: cannot open (%s)", path, strerror(e));
        free(path);
        return rc;
    }
    char buf[65536];
    size_t len = 0, want = fsize < (int64_t)sizeof buf ? (size_t)fsize : sizeof buf; /* bounded by its size */
    ssize_t r;
    while (len < want && ((r = read(fd, buf + len, want - len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0) len += (size_t)r;
    close(fd);
    jp j = {buf, buf, buf + len, path};
    int rc = 0;
    j_ws(&j);
    if (j.p >= j.e || *j.p != '{') rc = j_err(&j, "a JSON object '{'");
    else j.p++;
    int first = 1;
    while (!rc) {
        j_ws(&j);
        if (j.p < j.e && *j.p == '}') break;
        if (!first) {
            if (j.p >= j.e || *j.p != ',') {
                rc = j_err(&j, "',' or '}'");
                break;
            }
            j.p++;
            j_ws(&j);
        }
        first = 0;
        char key[64];
        if ((rc = j_str(&j, key, sizeof key)) != 0) break;
        j_ws(&j);
        if (j.p >= j.e || *j.p != ':') {
            rc = j_err(&j, "':'");
            break;
        }
        j.p++;
        j_ws(&j);
        int64_t *dst = strcmp(key, "num_samples") == 0    ? &m->num_samples
                       : strcmp(key, "num_features") == 0 ? &m->num_features
                       : strcmp(key, "num_classes") == 0  ? &m->num_classes
                       : strcmp(key, "dataset_size") == 0 ? &m->dataset_size
                                                          : NULL;
        if (dst) {
            double v = -1;
            const char *st;
            /* range first: converting a double past int64 is undefined (found by fuzzing) */
            int parsed = wb__parse_double(j.p, j.e, &v, &st) == 0;
            if (parsed && v > 9007199254740992.0) {
                rc = j_err(&j, "a whole number >= 0 of at most 2^53");
                break;
            }
            if (!parsed || !(v >= 0) || v != (double)(int64_t)v) {
                rc = j_err(&j, "a whole number >= 0");
                break;
            }
            *dst = (int64_t)v;
            j.p = st;
        } else
            rc = j_skip(&j, 0);
    }
    free(path);
    return rc;
}
