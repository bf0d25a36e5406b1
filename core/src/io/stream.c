/* io/stream.c — input read from the start to the end once: a file
 * compressed with gzip or zstd (libzstd), recognized by its first bytes
 * whatever its name, or standard input ("-"), itself plain or compressed.
 * The CSV reader cuts such a stream into partitions on the driver and
 * parses them in parallel (csv_read.c).
 *
 * gzip is inflated with ISA-L's igzip when the build has it (WB_HAVE_ISAL;
 * two to three times zlib's speed), with zlib otherwise or when the
 * environment says WB_GZIP=zlib. Both give the same bytes and the same
 * errors: ISA-L takes the members that start with gzip's magic bytes and no
 * reserved flag; anything else after a member (trailing garbage, a zlib
 * stream) goes to zlib as before; on an ISA-L error in a file the file is
 * inflated again with zlib up to the bytes already given, so the message
 * (or the data, if zlib takes it) is zlib's, word for word.
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
#ifdef WB_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

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
#ifdef WB_HAVE_ISAL
    struct inflate_state *isal; /* set while ISA-L inflates the current gzip member */
    int no_isal;                /* zlib from the start (WB_GZIP=zlib) or after an ISA-L error */
#endif
    int64_t out_bytes; /* decompressed bytes given since the start */
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

static int zlib_start(wb_instream *s)
{
    memset(&s->z, 0, sizeof s->z);
    if (inflateInit2(&s->z, 15 + 32) != Z_OK) return wb_seterr(WB_ENOMEM, "%s: cannot start gzip", s->name);
    s->z_init = 1;
    return 0;
}

#ifdef WB_HAVE_ISAL
static int isal_start(wb_instream *s)
{
    if (!s->isal && !(s->isal = malloc(sizeof *s->isal))) return wb_seterr(WB_ENOMEM, "%s: cannot start gzip", s->name);
    isal_inflate_init(s->isal);
    s->isal->crc_flag = ISAL_GZIP;
    return 0;
}

/* ISA-L takes a member whose header zlib would take too: gzip's magic
 * bytes, and no reserved flag (zlib refuses those, ISA-L does not look) */
static int isal_takes(const wb_instream *s)
{
    const unsigned char *b = s->raw + s->rawpos;
    return s->rawlen - s->rawpos >= 4 && b[0] == 0x1f && b[1] == 0x8b && (b[3] & 0xe0) == 0;
}

static const char *isal_msg(int r)
{
    switch (r) { /* zlib's words for the same faults */
    case ISAL_INVALID_BLOCK: return "invalid block type";
    case ISAL_INVALID_SYMBOL: return "invalid literal/length code";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
    default: return "inflate failed";
    }
}
#endif

static int start(wb_instream *s)
{
    int rc = raw_fill(s);
    if (rc) return rc;
    s->kind = wb__compression_of(s->raw, s->rawlen);
    s->out_bytes = 0;
    if (s->kind == WB_IN_GZIP) {
#ifdef WB_HAVE_ISAL
        if (!s->no_isal) {
            const char *e = getenv("WB_GZIP");
            s->no_isal = e && strcmp(e, "zlib") == 0;
        }
        if (!s->no_isal && isal_takes(s)) {
            s->started = 1;
            return isal_start(s);
        }
#endif
        rc = zlib_start(s);
        if (rc) return rc;
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
#ifdef WB_HAVE_ISAL
    free(s->isal);
    s->isal = NULL;
#endif
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

/* the stream read again from its descriptor's start: no raw bytes held, the codec started anew */
static int restart(wb_instream *s)
{
    s->rawlen = s->rawpos = 0;
    s->raw_eof = 0;
    s->z_end = 0;
    return start(s);
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
    return restart(s);
}

#ifdef WB_HAVE_ISAL
/* an ISA-L error: a file is inflated again with zlib, which gives the bytes
 * already given and then its own error (or goes on if it takes the data);
 * standard input, read once, gets zlib's words for ISA-L's fault */
static int isal_fault(wb_instream *s, int r, void *buf, size_t cap, size_t *got)
{
    *got = 0;
    free(s->isal);
    s->isal = NULL;
    s->no_isal = 1;
    if (s->is_stdin)
        return wb_seterr(WB_EFORMAT, "%s: bad gzip data after %lld compressed bytes (%s)", s->name,
                         (long long)s->in_bytes, isal_msg(r));
    int64_t given = s->out_bytes;
    if (lseek(s->fd, 0, SEEK_SET) != 0) return wb_seterr(WB_EIO, "%s: cannot read again (%s)", s->name, strerror(errno));
    s->in_bytes = 0;
    int rc = restart(s);
    while (!rc && s->out_bytes < given) {
        size_t want = (uint64_t)(given - s->out_bytes) < cap ? (size_t)(given - s->out_bytes) : cap;
        rc = wb__instream_read(s, buf, want, got);
        if (!rc && *got == 0) rc = wb_seterr(WB_EFORMAT, "%s: bad gzip data", s->name);
    }
    *got = 0;
    return rc ? rc : wb__instream_read(s, buf, cap, got);
}

/* ISA-L inflates the gzip members; 0 with nothing in *got at the end, or
 * with s->isal NULL when what follows a member is zlib's to read */
static int isal_read(wb_instream *s, void *buf, size_t cap, size_t *got)
{
    struct inflate_state *st = s->isal;
    *got = 0;
    for (;;) {
        if (s->rawpos >= s->rawlen && !s->raw_eof) {
            int rc = raw_fill(s);
            if (rc) return rc;
        }
        size_t avail = s->rawlen - s->rawpos;
        if (st->block_state == ISAL_BLOCK_FINISH) {
            if (avail == 0 && s->raw_eof) return 0;
            if (avail < 4 && !s->raw_eof) {
                int rc = raw_fill(s);
                if (rc) return rc;
                continue;
            }
            if (!isal_takes(s)) {
                free(s->isal);
                s->isal = NULL;
                s->z_end = 0;
                return 0;
            }
            isal_inflate_reset(st); /* another gzip member follows (as gzip -c a b) */
            st->crc_flag = ISAL_GZIP;
        }
        st->next_in = s->raw + s->rawpos;
        st->avail_in = (uint32_t)(avail > UINT32_MAX ? UINT32_MAX : avail);
        st->next_out = buf;
        st->avail_out = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
        int r = isal_inflate(st);
        s->rawpos = (size_t)(st->next_in - s->raw);
        *got = (size_t)(st->next_out - (uint8_t *)buf);
        if (r < 0) return isal_fault(s, r, buf, cap, got);
        s->out_bytes += (int64_t)*got;
        if (*got) return 0;
        if (avail == 0 && s->raw_eof && st->block_state != ISAL_BLOCK_FINISH) {
            /* a file is read again by zlib for zlib's words: a member cut inside its trailer may
             * also carry a wrong check value, which zlib names first (found by fuzz_csv) */
            if (!s->is_stdin) return isal_fault(s, 0, buf, cap, got);
            return wb_seterr(WB_EFORMAT, "%s: the gzip data ends early (a truncated file?)", s->name);
        }
    }
}
#endif

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
#ifdef WB_HAVE_ISAL
        if (s->isal) {
            int rc = isal_read(s, buf, cap, got);
            if (rc || *got || s->isal) return rc;
            avail = s->rawlen - s->rawpos; /* zlib takes over */
        }
#endif
        if (avail == 0 && s->raw_eof) {
            if (s->kind == WB_IN_GZIP && !s->z_end)
                return wb_seterr(WB_EFORMAT, "%s: the gzip data ends early (a truncated file?)", s->name);
            if (s->kind == WB_IN_ZSTD && s->zs_ret != 0)
                return wb_seterr(WB_EFORMAT, "%s: the zstd data ends early (a truncated file?)", s->name);
            return 0;
        }
        if (s->kind == WB_IN_GZIP) {
            if (!s->z_init) { /* after ISA-L's members: something else follows */
                int rc = zlib_start(s);
                if (rc) return rc;
                s->z_end = 0;
            } else if (s->z_end) { /* another gzip member follows (as gzip -c a b) */
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
        s->out_bytes += (int64_t)*got;
        if (*got) return 0;
    }
}
