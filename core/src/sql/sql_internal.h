/* sql/sql_internal.h — what the files of core/src/sql share.
 *
 * Why in libwbcore and not a plugin: reading is the CSV reader's job over
 * another source. Its driver half plans partitions, merges every
 * partition's category levels into the sorted union, lays the rows out in
 * block-aligned partitions and sets names, types and levels on the dataset:
 * core functions (wb_levels, wb_ds_new, wb_ds_set_coltype, the executor's
 * stat and submit of several inputs) that the plugin ABI does not offer,
 * and the Lua binding calls it the way it calls wb_read. Its kernels
 * (sql.pg_read, sql.sqlite_read, sql.info, sql.assemble) must exist in every
 * process that runs tasks — the local pool, `wb worker`, MPI ranks — as the
 * io.* kernels do, registered by wb_core_init. libpq and libsqlite3 are
 * Debian's shared libraries found by pkg-config; a build without one of
 * them (WB_HAVE_LIBPQ, WB_HAVE_SQLITE3 undefined) says so when a URL of its
 * kind is used.
 *
 * The files, each using only the ones above it in this list:
 *   url.c     URLs (the kinds, the password kept apart), identifiers quoted,
 *             passwords of this process for its own tasks, messages scrubbed
 *   chunk.c   a partition's rows as a task reads them (numbers, text as
 *             codes of the partition's own levels: "WBSQ" bytes); the kernels
 *             sql.info (rows and levels) and sql.assemble (rows laid out in
 *             aligned partitions, codes mapped to the dataset's levels)
 *   pgcopy.c  PostgreSQL's binary COPY format: rows decoded into a chunk,
 *             rows encoded for COPY FROM (no libpq: fuzzed alone)
 *   pg.c      libpq: connecting, describing, bounds, the sql.pg_read kernel,
 *             writing by COPY FROM STDIN
 *   lite.c    libsqlite3: the same for SQLite files
 *   read.c    wb_sql_read: the plan, the tasks, the levels, the dataset
 *   write.c   wb_sql_write: datasets and columns into a table
 */
#ifndef WB_SQL_INTERNAL_H
#define WB_SQL_INTERNAL_H
#include "../io/csv.h"
#include "wb/sql.h"

enum { SQL_SQLITE = 1, SQL_PG = 2 };

/* ------------------------------------------------------------ url.c */

typedef struct sql_url {
    int kind;        /* SQL_* */
    char *path;      /* SQLITE: the file, as given */
    char *conninfo;  /* PG: keyword='value' ... without the password */
    char *secrets;   /* PG: password='...' (and sslpassword) from the URL, or NULL */
    char *display;   /* "sqlite:path", "postgresql://user@host:port/dbname" */
} sql_url;

/* WB_EINVAL "who: bad URL ..." (never quoting a password) */
int wb__sql_url_parse(const char *url, const char *who, sql_url *u);
void wb__sql_url_free(sql_url *u);
/* append `name` quoted as one identifier ("a""b") */
int wb__sql_ident(wb_buf *b, const char *name);
/* a conninfo value quoted ('it''s' -> 'it\'s') */
int wb__sql_conn_value(wb_buf *b, const char *v);

/* secrets (a conninfo fragment) kept in this process under a random key:
 * tasks that run in this process find them, other processes do not */
uint64_t wb__sql_secret_put(const char *secrets);
char *wb__sql_secret_get(uint64_t key); /* a malloc'd copy, or NULL */
void wb__sql_secret_drop(uint64_t key);
/* replace every password of `secrets` (a conninfo fragment, may be NULL) and
 * of PGPASSWORD found in msg by "***", in place */
void wb__sql_scrub(char *msg, const char *secrets);

/* kernel arguments: a fixed struct, then strings {u32 length, bytes, NUL} */
int wb__sql_arg_str(wb_buf *b, const char *s);
/* the next string at *p (< e), or NULL when malformed */
const char *wb__sql_arg_next(const unsigned char **p, const unsigned char *e, size_t *len);

/* ------------------------------------------------------------ chunk.c */

/* how a column's values are read (one byte each in a task's argument) */
enum {
    SK_BOOL = 1, /* PostgreSQL binary: bool -> 0/1 */
    SK_INT2,
    SK_INT4,
    SK_INT8,
    SK_OID,
    SK_FLOAT4,
    SK_FLOAT8,
    SK_DATE,     /* days since 2000-01-01 -> seconds since 1970 (UTC) */
    SK_TS,       /* microseconds since 2000-01-01 -> seconds since 1970 */
    SK_TIME,     /* microseconds since midnight -> seconds */
    SK_TEXT,     /* text -> a category */
    SK_TEXTNUM,  /* text read as a number (dtype = number) */
    SK_LNUM,     /* SQLite: numbers (text that reads as one, else an error) */
    SK_LTEXT,    /* SQLite: text (numbers as SQLite writes them) */
    SK_LANY,     /* SQLite, no declared type: numbers or text, by the values */
    SK_LDATE,    /* SQLite, declared DATE/TIME: ISO 8601 text, unix seconds, Julian days */
    SK_LAST
};
/* the kind reads text (a category column) */
static inline int wb__sql_kind_text(int k) { return k == SK_TEXT || k == SK_LTEXT; }

#define SQL_SEEN_NUM 1
#define SQL_SEEN_TEXT 2

typedef struct sql_chunk {
    int64_t d, ncol;     /* features; columns read (d + has_y: the labels last) */
    int has_y;
    unsigned char *buf;  /* the header's room, then x (rows x d) */
    int64_t cap;         /* rows x has room for */
    double *y;
    int64_t rows;
    wb_csv_dict *dict;   /* per column: its levels, in the order first seen */
    uint8_t *seen;       /* per column: SQL_SEEN_* bits */
    int64_t *first_num, *first_text; /* per column: the first row of each (-1) */
    int64_t max_levels;
    wb_kctx *ctx;        /* for the store's room (NULL: none) */
    const char *where;   /* "partition 2 of 4 (id >= 10 AND id < 20)", for messages */
    char **names;        /* the columns' names, for messages (may be NULL) */
    /* direct mode (wb__sql_chunk_direct): the rows go to the store in
     * partitions of prows rows as they come, not into buf and y */
    wb_store *store;
    int64_t prows, inblock; /* rows per partition; rows in the current one */
    double *block;       /* the current partition: prows x d, then prows labels */
    wb_oid *parts;       /* the partitions made (one reference each) */
    int64_t nparts, capparts;
} sql_chunk;

int wb__sql_chunk_init(sql_chunk *c, int64_t d, int has_y, int64_t max_levels);
void wb__sql_chunk_free(sql_chunk *c);
/* the row r (ncol values: x then y) appended */
int wb__sql_chunk_add(sql_chunk *c, const double *r);
/* the code of text s in column j (its partition's own levels) */
int wb__sql_chunk_text(sql_chunk *c, int64_t j, const char *s, size_t n, double *code);
/* column j's name for messages ("column 3" when unnamed) */
const char *wb__sql_chunk_name(const sql_chunk *c, int64_t j, char *buf, size_t cap);
/* the chunk as the task's output ("WBSQ" bytes; the chunk is emptied). In
 * direct mode: the info (sql.info's layout) followed by {i64 n, n oids} of
 * the partitions, whose references pass to whoever gets the output */
int wb__sql_chunk_out(sql_chunk *c, wb_kctx *ctx);
/* direct mode, for a read that runs in the process that holds the dataset
 * (the local executor): its rows go to the store in partitions of prows rows
 * as they arrive, with no growing chunk (memory: its rows and one partition);
 * the first read's are the dataset's own partitions */
void wb__sql_chunk_direct(sql_chunk *c, wb_store *store, int64_t prows);

/* what sql.info returns, decoded */
typedef struct sql_info_col {
    uint8_t seen;
    uint32_t nlevels;
    int64_t first_num, first_text;
    const unsigned char *levels; /* nlevels {u32 len, bytes} */
} sql_info_col;
typedef struct sql_info {
    int64_t rows, ncol;
    sql_info_col *col; /* ncol (malloc'd) */
    size_t end;        /* the bytes the info takes (direct mode: the partitions follow) */
} sql_info;
int wb__sql_info_decode(const void *data, size_t size, int64_t ncol, sql_info *out);

void wb__sql_register_chunk_kernels(void);

/* rows read by the tasks running in this process, counted by
 * wb__sql_chunk_add (the driver's progress line on the local executor) */
int64_t wb__sql_rows_read(void);

/* ------------------------------------------------------------ pgcopy.c */

typedef struct sql_copydec {
    int state;            /* 0 the header, 1 rows, 2 the trailer was read */
    int64_t ncol;
    const uint8_t *kinds; /* ncol SK_* */
    sql_chunk *out;
    double *row;          /* ncol */
    wb_buf acc;           /* bytes of a row not complete yet */
} sql_copydec;

int wb__sql_copydec_init(sql_copydec *c, int64_t ncol, const uint8_t *kinds, sql_chunk *out);
/* the next bytes of the COPY data (any split): the complete rows go to out */
int wb__sql_copydec_feed(sql_copydec *c, const void *data, size_t n);
/* the end of the data: WB_EFORMAT unless it ended with the trailer */
int wb__sql_copydec_end(sql_copydec *c);
void wb__sql_copydec_free(sql_copydec *c);

/* writing: the file header, a row's field count, one field, the trailer */
int wb__sql_copy_header(wb_buf *b);
int wb__sql_copy_row(wb_buf *b, int16_t nfields);
int wb__sql_copy_null(wb_buf *b);
int wb__sql_copy_float8(wb_buf *b, double v);
int wb__sql_copy_bytes(wb_buf *b, const void *p, size_t n);
/* a number as column kind k (SK_INT2/4/8, SK_FLOAT4/8, SK_BOOL, SK_DATE, SK_TS,
 * SK_TIME, SK_OID; SK_TEXT: as its shortest decimal text), or an error
 * message in err naming why it does not fit */
int wb__sql_copy_number(wb_buf *b, int k, double v, char *err, size_t cap);
#define SQL_NUMERIC 100 /* wb__sql_copy_number's kind for numeric (never read as such: cast to float8) */
int wb__sql_copy_trailer(wb_buf *b);

/* ------------------------------------------------------------ backends */

/* the column of a source as the database describes it */
typedef struct sql_col {
    char *name;
    char *type;   /* the database's name of its type, for messages */
    int kind;     /* SK_* it is read as by default */
    const char *cast; /* PostgreSQL: the cast that makes it readable as kind ("" none, "::float8", "::text") */
    int orderable; /* it may be a partition column: 1 integer, 2 real, 3 date/time */
    uint32_t oid; /* PostgreSQL: its type */
} sql_col;

typedef struct sql_desc {
    sql_col *col;
    int64_t ncol;
} sql_desc;
void wb__sql_desc_free(sql_desc *d);

/* bounds of a partition column: integers or reals (dates as epoch seconds) */
typedef struct sql_bounds {
    int kind;     /* 0 no rows (NULL min), 1 integer, 2 real */
    int64_t imin, imax;
    double dmin, dmax;
} sql_bounds;

/* the arguments of sql.pg_read and sql.sqlite_read */
#define SQL_TARG_MAGIC 0x51534257u /* "WBSQ" */
typedef struct sql_targ {
    uint32_t magic, backend;
    int32_t part, nparts;
    int64_t d, has_y, max_levels;
    uint64_t secret;      /* PG: this process's secrets (0: none) */
    int64_t file_size;    /* SQLite: the file as the driver saw it */
    uint8_t file_head[32]; /* SQLite: its first bytes */
    int32_t nbind, bkind; /* SQLite: parameters ?1 ?2 bound (1 integers, 2 reals) */
    int64_t bi[2];
    double bd[2];
    int64_t direct;       /* > 0: direct mode, partitions of this many rows */
    /* then the strings: kinds (ncol bytes), where (the partition, for
     * messages), conninfo or the file's path, the query, the URL for
     * messages, the snapshot (PG, "" for none), then ncol column names */
} sql_targ;

/* a task's argument taken apart (url.c) */
typedef struct sql_targs {
    sql_targ t;
    int64_t ncol;
    const uint8_t *kinds;
    const char *where, *conn, *query, *display, *snapshot;
    char **names; /* ncol, pointing into the argument (the array malloc'd) */
} sql_targs;
int wb__sql_targ_build(wb_buf *b, const sql_targ *t, const uint8_t *kinds, const char *where, const char *conn,
                       const char *query, const char *display, const char *snapshot, char *const *names);
int wb__sql_targ_parse(const void *arg, size_t arglen, sql_targs *a);
void wb__sql_targ_free(sql_targs *a);

/* pg.c (built without libpq: every entry says so) */
typedef struct sql_pg sql_pg; /* a connection of the driver */
int wb__sql_pg_open(const sql_url *u, const char *who, sql_pg **out);
void wb__sql_pg_close(sql_pg *c);
/* start a snapshot the partitions share (REPEATABLE READ, exported): its id
 * into snap (empty when the server cannot: each partition then reads its own) */
int wb__sql_pg_snapshot(sql_pg *c, char *snap, size_t cap);
/* the columns of `from` (a quoted table or a query, its text as given in
 * `query` for the position of an error) */
int wb__sql_pg_describe(sql_pg *c, const char *select_sql, const char *query, sql_desc *out);
/* min and max of column `col` (kind from describe) over `from_sql` */
int wb__sql_pg_bounds(sql_pg *c, const char *from_sql, const sql_col *col, sql_bounds *out);
/* a bound as a literal for column col ("12", "1.5", "to_timestamp(1.5)") */
int wb__sql_pg_literal(wb_buf *b, const sql_col *col, int kind, int64_t i, double v);
/* the select-list entry for reading column col as kind k: "a", "a"::float8, "a"::text */
int wb__sql_pg_select_item(wb_buf *b, const sql_col *col, int k);
int wb__sql_pg_write(const sql_url *u, const char *table, int if_exists, void *src, const char *who);
void wb__sql_register_pg_kernels(void);

/* lite.c (built without libsqlite3: every entry says so) */
typedef struct sql_lite sql_lite;
int wb__sql_lite_open(const sql_url *u, const char *who, sql_lite **out);
void wb__sql_lite_close(sql_lite *c);
/* the file's size and first bytes (for workers to check they see the same file) */
int wb__sql_lite_identity(sql_lite *c, int64_t *size, uint8_t head[32], char **abspath);
int wb__sql_lite_describe(sql_lite *c, const char *select_sql, const char *query, sql_desc *out);
int wb__sql_lite_bounds(sql_lite *c, const char *from_sql, const sql_col *col, sql_bounds *out);
int wb__sql_lite_write(const sql_url *u, const char *table, int if_exists, void *src, const char *who);
void wb__sql_register_lite_kernels(void);

/* ------------------------------------------------------------ write.c */

/* a source of rows to write (write.c makes them; the backends read them) */
enum { SW_NUM = 1, SW_INT = 2, SW_TEXT = 3 };
typedef struct sql_wcol {
    char *name;
    int kind; /* SW_* */
} sql_wcol;
typedef struct sql_wsrc {
    int64_t n, ncol;
    sql_wcol *cols;
    /* the next batch of rows (0 at the end): num[i * ncol + j] (NaN: NULL),
     * text[i * ncol + j] (NULL: NULL) for the text columns; valid until the
     * next call */
    int (*next)(struct sql_wsrc *s, int64_t *rows, const double **num, const char *const **text);
    /* the backend reports rows sent (the progress line) */
    void (*progress)(struct sql_wsrc *s, int64_t done);
    void *u;
    int threads; /* threads the backend may use (SQLite: encoding rows in parallel); <= 1: one */
} sql_wsrc;

#endif
