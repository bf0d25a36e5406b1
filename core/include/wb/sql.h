/*
 * wb/sql.h — datasets read from and written to SQL databases (core/src/sql):
 * SQLite files (libsqlite3) and PostgreSQL servers (libpq).
 *
 * A URL names the database:
 *   sqlite:path/to/file.db        (also SQLAlchemy's sqlite:///rel.db, sqlite:////abs.db)
 *   postgresql://user@host:port/dbname?param=value&...   (postgres:// too; any libpq
 *                                  parameter; or postgresql:key=value ... conninfo)
 * Passwords come from libpq's own sources (PGPASSWORD, ~/.pgpass, PGPASSFILE,
 * the URL). Messages name the database as postgresql://user@host:port/dbname,
 * never with its password; a password given in the URL stays in this process
 * (tasks that run elsewhere, on a cluster's workers or MPI ranks, connect
 * with their own machine's libpq sources).
 *
 * Reading plans range partitions and runs each partition's query as a task
 * where its rows will live (see core/src/sql/read.c); writing streams the
 * rows in one transaction (core/src/sql/write.c).
 */
#ifndef WB_SQL_H
#define WB_SQL_H

#include "wb.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_sql_read_opts {
    /* range partitions: a numeric, date or timestamp column (need not be
     * among the columns read); NULL: one streaming read */
    const char *partition_column;
    int64_t partitions;    /* 0: one per thread of the executor (with a partition column) */
    const double *bounds;  /* NULL: min and max of the column. {lo, hi}: split evenly into
                              `partitions`; {b0, b1, ..., bk}: k partitions split at b1..b(k-1).
                              The first partition also takes the values below, the last the
                              values above and NULL: no row is ever left out */
    int64_t nbounds;
    const char *label;     /* the column read as the labels (NULL: none) */
    const char *const *columns; /* these columns, in this order (NULL: all) */
    int64_t ncolumns;
    const char *const *drop;    /* leave these out */
    int64_t ndrop;
    const char *const *dtype_names; /* force these columns' types ... */
    const int *dtype_types;         /* ... WB_COL_NUMBER or WB_COL_CATEGORY */
    int64_t ndtype;
    int64_t max_levels;    /* a category column of more levels is refused (0: WB_MAX_LEVELS) */
} wb_sql_read_opts;

void wb_sql_read_opts_init(wb_sql_read_opts *o);

/* table_or_query: a table name (quoted as one identifier) or a query
 * (starting with SELECT, WITH, VALUES or TABLE). *out is the caller's. */
int wb_sql_read(wb_exec *ex, const char *url, const char *table_or_query, const wb_sql_read_opts *o,
                wb_dataset **out);

enum { WB_SQL_FAIL = 0, WB_SQL_REPLACE = 1, WB_SQL_APPEND = 2 };

/* a table in memory, by columns (result tables): n rows */
typedef struct wb_sql_column {
    const char *name;
    int type;                 /* WB_COL_NUMBER (num) or WB_COL_CATEGORY (text) */
    int integer;              /* numbers that are all integers: an integer column */
    const double *num;        /* n values, NaN for NULL */
    const char *const *text;  /* n strings, NULL for NULL */
} wb_sql_column;

/* Write a dataset (its columns, then its labels; categories as text,
 * missing as NULL) as table `table`, in one transaction. *rows (may be
 * NULL) receives the rows written. */
int wb_sql_write(const wb_dataset *d, const char *url, const char *table, int if_exists, int64_t *rows);
/* the same for columns in memory */
int wb_sql_write_columns(const wb_sql_column *cols, int64_t ncol, int64_t n, const char *url, const char *table,
                         int if_exists);

/* the database kinds this build can reach: "sqlite postgresql" */
const char *wb_sql_backends(void);

#ifdef __cplusplus
}
#endif
#endif /* WB_SQL_H */
