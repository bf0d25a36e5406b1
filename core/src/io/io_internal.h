/* io/io_internal.h — what the file readers and writers (the files of io/) share.
 *
 * Reading runs as kernels ("io.*") through the executor, so on a cluster the
 * workers read their own byte ranges of a shared file:
 *   text (LIBSVM, CSV): io.scan counts the records and lines of fixed-size
 *     byte ranges ("subchunks") of the file; the driver turns the counts into
 *     partitions of wb_partition_rows(d) rows, each starting at the first line
 *     of a subchunk plus a number of records to skip; io.parse parses one
 *     partition's rows with pread in a bounded buffer.
 *   NPY: io.npy makes one partition, a zero-copy view of a memory mapping of
 *     the file (float64) or a converted copy (float32, or mmap=false).
 * Writing goes to a temporary file renamed into place at the end (wb_writer);
 * text is formatted by io.format kernels, a bounded window of partitions in
 * flight, written in order. */
#ifndef WB_IO_INTERNAL_H
#define WB_IO_INTERNAL_H
#include "../internal.h"
#include "numfmt.h"

/* bytes read at a time by the text kernels (lines longer than this grow it) */
#define WB_IO_BUF (1 << 20)
/* the smallest byte range whose records io.scan counts separately */
#define WB_IO_STEP (256 << 10)

/* Limits that protect the process from files it is handed (each refusal is a
 * WB_ELIMIT naming the file and where):
 *   columns: a dataset is dense, and a partition holds at least WB_BLOCK_ROWS
 *            rows, so a LIBSVM index or a CSV/NPY width decides memory;
 *   line:    the text readers' buffer grows to hold a line, up to this.
 * Rows are bounded by the file's size (a text row takes 2 bytes or more, an
 * NPY row at least one: NPY arrays of zero columns are refused), and a
 * partition's memory by the store's limit and the machine's memory, checked
 * before it is allocated (task.c). */
#ifndef WB_IO_MAX_COLS /* the fuzz build sets a smaller one (CMakeLists.txt) */
#define WB_IO_MAX_COLS ((int64_t)1 << 20)
#endif
#define WB_IO_MAX_LINE ((size_t)64 << 20)
/* rows: the caller's limit (wb_read_opts.max_rows) over the n rows of a file */
int wb__io_check_rows(const char *path, int64_t n, const wb_read_opts *o);

/* ------------------------------------------------------------ files */

/* an allocation of `bytes` failed: "name: out of memory (N bytes asked for)" */
int wb__io_nomem(const char *name, size_t bytes);
/* a partition's output refused for memory (WB_ENOMEM, WB_ELIMIT): "name: " in
 * front of the message; other codes returned as they are */
int wb__io_part_err(int rc, const char *name);
/* read exactly n bytes at off; a short read is an error naming the file */
int wb__io_pread(int fd, void *buf, size_t n, int64_t off, const char *name);

/* lines of a file from a start offset, through a bounded buffer */
typedef struct wb_lines {
    int fd;
    const char *name;
    int64_t fsize;
    int64_t base; /* file offset of buf[0] */
    char *buf;
    size_t cap, beg, len; /* unread bytes are buf[beg..len) */
} wb_lines;
int wb__lines_init(wb_lines *r, int fd, const char *name, int64_t start, int64_t fsize);
/* the next line (without '\n' and a trailing '\r'), its file offset; returns
 * 1, 0 at the end of the file, or a negative error */
int wb__lines_next(wb_lines *r, const char **line, size_t *len, int64_t *off);
void wb__lines_free(wb_lines *r);

/* ------------------------------------------------------------ kernel args */

/* a kernel argument is a fixed struct followed by n NUL-terminated strings:
 * check and find them */
int wb__arg_strings(const void *arg, size_t arglen, size_t fixed, int n, const char **out);

/* ------------------------------------------------------------ text formats */

enum { WB_TXT_LIBSVM = 1, WB_TXT_CSV = 2 };

/* io.scan: counts per subchunk */
typedef struct wb_scan_arg {
    int32_t fmt;
    int32_t delim;
    int32_t want_max; /* LIBSVM: find the largest index (d not known) */
    int32_t pad;
    int64_t data_start; /* first byte of the records (after a CSV header) */
    int64_t lo, hi;     /* byte range of subchunks to scan */
    int64_t step;       /* subchunk size; subchunk j = [data_start + j*step, +step) */
    int64_t fsize;
    /* then: path, name */
} wb_scan_arg;
/* io.scan output: {i64 maxidx, i64 offset of its line, i64 count, i64 minidx, i64 qid}
 * then count pairs {records, lines} */

/* io.parse: one partition */
typedef struct wb_parse_arg {
    int32_t fmt;
    int32_t delim;
    int32_t zero_based;
    int32_t has_y;
    int32_t dsource; /* LIBSVM: where d came from: 0 the data, 1 features=, 2 .meta, 3 the limit */
    int32_t header;  /* CSV: the file has a header line */
    int64_t start;      /* the subchunk's first byte */
    int64_t data_start;
    int64_t skip;       /* records to skip from the subchunk's first line */
    int64_t rows, row0;
    int64_t line0;      /* line number of the subchunk's first line */
    int64_t d;
    int64_t dout;       /* columns of the partition (d, and the qid column) */
    int64_t qid_col;    /* LIBSVM: the column of qid:N, or -1 (ignored) */
    int64_t fsize;
    /* then: path, name */
} wb_parse_arg;

/* is the line a record (not blank, not a LIBSVM comment)? */
static inline int wb__is_record(int fmt, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
    return i < len && !(fmt == WB_TXT_LIBSVM && s[i] == '#');
}

/* parse one record into x[0..d) (zeroed by the caller) and *y; messages name
 * name:lineno:col */
int wb__libsvm_row(const char *s, size_t len, double *x, double *y, const wb_parse_arg *a,
                   const char *name, int64_t lineno);
/* LIBSVM: the largest feature index of a record (0 if none) */
int64_t wb__libsvm_maxidx(const char *s, size_t len);
/* LIBSVM: n rows of d columns stored dense fit in the memory available?
 * (refused with the shape, where d came from as wb_parse_arg.dsource, the
 * bytes needed and the memory available) */
int wb__libsvm_check_dense(wb_exec *ex, const char *path, int64_t n, int64_t d, int dsource);
/* LIBSVM: the first (smallest) feature index of a record (-1 if none) and
 * whether it has a qid:N token */
int64_t wb__libsvm_minidx(const char *s, size_t len, int *qid);

/* header fields (malloc'd strings) */
void wb__csv_fields_free(char **f, int64_t n);

/* io.format: a partition as text; arg below; output {u64 textlen, u32 ndistinct
 * (UINT32_MAX: not class labels), u32 pad} text, distinct label values */
typedef struct wb_format_arg {
    int32_t fmt;
    int32_t delim;
    int32_t labels;  /* write the labels (CSV: last column; LIBSVM: first) */
    int32_t stats;   /* collect distinct label values */
} wb_format_arg;
#define WB_IO_MAX_CLASSES 65536

/* the sorted distinct label values seen (for num_classes in .meta) */
typedef struct wb_labelset {
    double *v;
    size_t n, cap;
    int not_classes; /* a non-integer label or too many values */
} wb_labelset;
void wb__labelset_add(wb_labelset *s, const double *y, int64_t n);
void wb__labelset_merge(wb_labelset *s, const double *v, size_t n, int not_classes);
void wb__labelset_free(wb_labelset *s);

/* ------------------------------------------------------------ streams (stream.c) */

enum { WB_IN_PLAIN = 0, WB_IN_GZIP = 1, WB_IN_ZSTD = 2 };
/* the compression of data starting with these bytes (WB_IN_*) */
int wb__compression_of(const unsigned char *b, size_t n);
typedef struct wb_instream wb_instream;
/* a file (decompressed when gzip or zstd) or "-" for standard input */
int wb__instream_open(const char *path, wb_instream **out);
/* up to cap bytes; *got 0 at the end */
int wb__instream_read(wb_instream *s, void *buf, size_t cap, size_t *got);
/* read it again from the start (standard input from its kept copy) */
int wb__instream_rewind(wb_instream *s);
int wb__instream_kind(const wb_instream *s);
const char *wb__instream_name(const wb_instream *s);
void wb__instream_close(wb_instream *s);

/* ------------------------------------------------------------ .meta columns (meta.c) */

/* the column part of a .meta sidecar: names, types and levels of the
 * columns, the labels' name and levels */
typedef struct wb_meta_cols {
    int64_t n;            /* columns described (0: the file has none) */
    char **names;         /* n */
    unsigned char *types; /* n WB_COL_* */
    wb_levels **levels;   /* n (NULL for numbers) */
    int has_label;
    char *label_name;     /* or NULL */
    wb_levels *label_levels; /* or NULL */
} wb_meta_cols;
/* read PATH.meta's numbers and columns; WB_ENOTFOUND when there is none */
int wb__meta_read_cols(const char *datapath, wb_meta *m, wb_meta_cols *c);
void wb__meta_cols_free(wb_meta_cols *c);
/* write PATH.meta: the numbers, and d's columns when it has names or
 * categories (d may be NULL) */
int wb__meta_write_ds(const char *datapath, const wb_meta *m, const wb_dataset *d);
/* give d the names, types and levels .meta describes, when they fit it */
int wb__meta_apply(wb_dataset *d, const wb_meta_cols *c);

/* ------------------------------------------------------------ levels as a kernel argument (common.c) */

/* a dataset's category levels (columns, then labels) as bytes */
int wb__levels_encode(const wb_dataset *d, wb_buf *b);
/* the same read back (pointing into data): col[j + 1] the n[j + 1] levels of
 * column j (j = -1: the labels), NULL for numbers */
typedef struct wb_lvtab {
    int64_t d;
    const char ***col;
    int64_t *n;
} wb_lvtab;
int wb__levels_decode(const void *data, size_t size, int64_t d, wb_lvtab *t);
void wb__levels_table_free(wb_lvtab *t);

/* ------------------------------------------------------------ readers */
int wb__read_text(wb_exec *ex, const char *path, int fmt, const wb_read_opts *o,
                  wb_dataset **out);
int wb__read_npy(wb_exec *ex, const char *path, const wb_read_opts *o, wb_dataset **out);
int wb__read_csv(wb_exec *ex, const char *path, const wb_read_opts *o, wb_dataset **out);

/* NPY header */
enum { WB_NPY_F8 = 1, WB_NPY_F4, WB_NPY_I8, WB_NPY_I4, WB_NPY_I2, WB_NPY_I1, WB_NPY_U8,
       WB_NPY_U4, WB_NPY_U2, WB_NPY_U1, WB_NPY_B1 };
typedef struct wb_npy_hdr {
    int dtype;
    int itemsize;
    int ndim;
    int64_t shape[2];
    int64_t data_off;
    int64_t fsize;
} wb_npy_hdr;
/* features: only float dtypes are allowed unless any_dtype */
int wb__npy_read_header(const char *path, const char *name, int any_dtype, wb_npy_hdr *h);
/* an NPY v1 header for shape (n, d) or (n,) of float64, padded to 64 bytes */
int wb__npy_header(wb_buf *b, int64_t n, int64_t d, int ndim);

/* NAME.labels.npy beside NAME.npy (malloc'd) */
char *wb__npy_labels_path(const char *path);
/* PATH.meta (malloc'd) */
char *wb__meta_path(const char *path);

/* registration of the io kernels of each file (init.c calls them) */
void wb__register_text_kernels(void);
void wb__register_npy_kernels(void);
void wb__register_csv_kernels(void);

#endif
