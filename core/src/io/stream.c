/* io/stream.c — input read from the start to the end once: a file
 * compressed with gzip (zlib) or zstd (libzstd), recognized by its first
 * bytes whatever its name, or standard input ("-"), itself plain or
 * compressed. The CSV reader cuts such a stream into partitions on the
 * driver and parses them in parallel (csv_read.c).
 *
 * Standard input can be read once only: its bytes are kept in an unlinked
 * temporary file while they are read, so the stream can be read again
 * (wb__instream_rewind) if the reader needs a second pass. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "io_internal.h"

#define RAW_BUF (256 << 10)

struct wb_instream {
    char *name;      /* for messages */
    int fd;          /* the file, standard input, or the spill file on a second pass */
    int is_stdin;
    FILE *spill;     /* standard input's bytes, kept for a second pass */
    int kind;        /* WB_IN_* */
    unsigned char *raw;
    size_t rawlen, rawpos;
    int raw_eof;
    z_stream z;
    int z_init, z_end;
    ZSTD_DStream *zs;
    size_t zs_ret;   /* the last ZSTD_decompressStream result: 0 at a frame's end */
    int64_t in_bytes; /* compressed bytes read */
    int started;
};

int wb__compression_of(const unsigned char *b, size_t n)
{
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return WB_IN_GZIP;
    if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return WB_IN_ZSTD;
    return WB_IN_PLAIN;
}

/* more raw bytes (keeping the unread ones); 0 at the end */
static int raw_fill(wb_instream *s)
{
    if (s->rawpos < s->rawlen) {
        memmove(s->raw, s->raw + s->rawpos, s->rawlen - s->rawpos);
        s->rawlen -= s->rawpos;
    } else
        s->rawlen = 0;
    s->rawpos = 0;
    while (s->rawlen < RAW_BUF && !s->raw_eof) {
        ssize_t r = read(s->fd, s->raw + s->rawlen, RAW_BUF - s->rawlen);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return wb_seterr(WB_EIO, "%s: read error (%s)", s->name, strerror(errno));
        if (r == 0) {
            s->raw_eof = 1;
            break;
        }
        if (s->spill && fwrite(s->raw + s->rawlen, 1, (size_t)r, s->spill) != (size_t)r)
            return wb_seterr(WB_EIO, "%s: cannot keep standard input in a temporary file (%s)", s->name,
                             strerror(errno));
        s->rawlen += (size_t)r;
        s->in_bytes += r;
        if (s->is_stdin) break; /* a pipe: take what is there */
    }
    return 0;
}

static int start(wb_instream *s)
{
    int rc = raw_fill(s);
    if (rc) return rc;
    s->kind = wb__compression_of(s->raw, s->rawlen);
    if (s->kind == WB_IN_GZIP) {
        memset(&s->z, 0, sizeof s->z);
        if (inflateInit2(&s->z, 15 + 32) != Z_OK) return wb_seterr(WB_ENOMEM, "%s: cannot start gzip", s->name);
        s->z_init = 1;
    } else if (s->kind == WB_IN_ZSTD) {
        s->zs = ZSTD_createDStream();
        if (!s->zs || ZSTD_isError(ZSTD_initDStream(s->zs))) return wb_seterr(WB_ENOMEM, "%s: cannot start zstd", s->name);
        s->zs_ret = 1;
    }
    s->started = 1;
    return 0;
}

int wb__instream_open(const char *path, wb_instream **out)
{
    *out = NULL;
    wb_instream *s = calloc(1, sizeof *s);
    if (!s) return wb_seterr(WB_ENOMEM, "out of memory");
    s->fd = -1;
    s->is_stdin = strcmp(path, "-") == 0;
    s->name = wb_strdup(s->is_stdin ? "(standard input)" : path);
    s->raw = malloc(RAW_BUF);
    int rc = !s->name || !s->raw ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    if (!rc && s->is_stdin) {
        s->fd = dup(0);
        if (s->fd < 0) rc = wb_seterr(WB_EIO, "(standard input): cannot read (%s)", strerror(errno));
        if (!rc && !(s->spill = tmpfile()))
            rc = wb_seterr(WB_EIO, "(standard input): cannot make a temporary file (%s)", strerror(errno));
    } else if (!rc) {
        int64_t size;
        rc = wb__io_open(path, path, &s->fd, &size);
    }
    if (!rc) rc = start(s);
    if (rc) {
        wb__instream_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int wb__instream_kind(const wb_instream *s) { return s->kind; }
const char *wb__instream_name(const wb_instream *s) { return s->name; }

static void end_codec(wb_instream *s)
{
    if (s->z_init) inflateEnd(&s->z);
    s->z_init = 0;
    if (s->zs) ZSTD_freeDStream(s->zs);
    s->zs = NULL;
}

void wb__instream_close(wb_instream *s)
{
    if (!s) return;
    end_codec(s);
    if (s->fd >= 0) close(s->fd);
    if (s->spill) fclose(s->spill);
    free(s->raw);
    free(s->name);
    free(s);
}

int wb__instream_rewind(wb_instream *s)
{
    end_codec(s);
    int fd = -1;
    if (s->is_stdin) {
        /* the rest of standard input first, so the copy is whole */
        while (!s->raw_eof) {
            s->rawpos = s->rawlen;
            int rc = raw_fill(s);
            if (rc) return rc;
        }
        if (fflush(s->spill) != 0) return wb_seterr(WB_EIO, "%s: temporary file: %s", s->name, strerror(errno));
        fd = dup(fileno(s->spill));
        if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
            if (fd >= 0) close(fd);
            return wb_seterr(WB_EIO, "%s: temporary file: %s", s->name, strerror(errno));
        }
        fclose(s->spill);
        s->spill = NULL;
        s->is_stdin = 0; /* a file from now on */
    } else {
        int64_t size;
        int rc = wb__io_open(s->name, s->name, &fd, &size);
        if (rc) return rc;
    }
    close(s->fd);
    s->fd = fd;
    s->rawlen = s->rawpos = 0;
    s->raw_eof = 0;
    s->z_end = 0;
    return start(s);
}

int wb__instream_read(wb_instream *s, void *buf, size_t cap, size_t *got)
{
    *got = 0;
    if (cap == 0) return 0;
    for (;;) {
        if (s->rawpos >= s->rawlen && !s->raw_eof) {
            int rc = raw_fill(s);
            if (rc) return rc;
        }
        size_t avail = s->rawlen - s->rawpos;
        if (s->kind == WB_IN_PLAIN) {
            size_t n = avail < cap ? avail : cap;
            memcpy(buf, s->raw + s->rawpos, n);
            s->rawpos += n;
            *got = n;
            return 0;
        }
        if (avail == 0 && s->raw_eof) {
            if (s->kind == WB_IN_GZIP && !s->z_end)
                return wb_seterr(WB_EFORMAT, "%s: the gzip data ends early (a truncated file?)", s->name);
            if (s->kind == WB_IN_ZSTD && s->zs_ret != 0)
                return wb_seterr(WB_EFORMAT, "%s: the zstd data ends early (a truncated file?)", s->name);
            return 0;
        }
        if (s->kind == WB_IN_GZIP) {
            if (s->z_end) { /* another gzip member follows (as gzip -c a b) */
                if (inflateReset(&s->z) != Z_OK) return wb_seterr(WB_EFORMAT, "%s: bad gzip data", s->name);
                s->z_end = 0;
            }
            s->z.next_in = s->raw + s->rawpos;
            s->z.avail_in = (uInt)(avail > UINT_MAX ? UINT_MAX : avail);
            s->z.next_out = buf;
            s->z.avail_out = (uInt)(cap > UINT_MAX ? UINT_MAX : cap);
            int zr = inflate(&s->z, Z_NO_FLUSH);
            s->rawpos = (size_t)(s->z.next_in - s->raw);
            *got = (size_t)((unsigned char *)s->z.next_out - (unsigned char *)buf);
            if (zr == Z_STREAM_END) s->z_end = 1;
            else if (zr != Z_OK && zr != Z_BUF_ERROR)
                return wb_seterr(WB_EFORMAT, "%s: bad gzip data after %lld compressed bytes (%s)", s->name,
                                 (long long)s->in_bytes, s->z.msg ? s->z.msg : "inflate failed");
        } else {
            ZSTD_inBuffer zin = {s->raw + s->rawpos, avail, 0};
            ZSTD_outBuffer zout = {buf, cap, 0};
            size_t zr = ZSTD_decompressStream(s->zs, &zout, &zin);
            s->rawpos += zin.pos;
            *got = zout.pos;
            if (ZSTD_isError(zr))
                return wb_seterr(WB_EFORMAT, "%s: bad zstd data after %lld compressed bytes (%s)", s->name,
                                 (long long)s->in_bytes, ZSTD_getErrorName(zr));
            s->zs_ret = zr;
        }
        if (*got) return 0;
    }
}
