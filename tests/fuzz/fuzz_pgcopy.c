/* fuzz_pgcopy.c — PostgreSQL's binary COPY data decoded into a chunk of
 * rows (core/src/sql/pgcopy.c, the decoder wb.sql.read runs on what the
 * server sends).
 *
 * Input: byte 0 gives the columns (1 + b % 6), the next ones each column's
 * kind (every kind the decoder reads: booleans, integers of 2, 4 and 8
 * bytes, oids, reals, doubles, dates, timestamps, times, text, text read as
 * numbers), one byte a seed for how the data is cut into pieces; the rest is
 * the COPY data.
 *
 * Properties: every failure carries a code and a message; the data fed in
 * one piece and fed in pieces (sizes 1..17 from the seed, as libpq may hand
 * them) give the same outcome: the same error code, or the same rows bit
 * for bit, the same levels of each text column in the same order, and the
 * same kinds seen; levels never exceed the limit; a successful end means
 * the trailer was read. */
#include "fuzz.h"
#include "sql/sql_internal.h"

#define MAXCOL 6

typedef struct outcome {
    int rc;
    sql_chunk ch;
} outcome;

static FZ_HARNESS void run(const uint8_t *kinds, int64_t ncol, const uint8_t *data, size_t size, int seed,
                           outcome *o)
{
    memset(o, 0, sizeof *o);
    int rc = wb__sql_chunk_init(&o->ch, ncol - 1, 1, 64); /* the last column as labels */
    FZ_ASSERT(rc == 0, "chunk init: %s", wb_errmsg());
    o->ch.where = "fuzz";
    sql_copydec dec;
    rc = wb__sql_copydec_init(&dec, ncol, kinds, &o->ch);
    FZ_ASSERT(rc == 0, "decoder init: %s", wb_errmsg());
    if (seed < 0) {
        rc = wb__sql_copydec_feed(&dec, data, size);
    } else {
        size_t at = 0;
        uint32_t k = (uint32_t)seed;
        while (!rc && at < size) {
            size_t n = (size_t)(1 + k % 17);
            k = k * 1103515245u + 12345u;
            if (n > size - at) n = size - at;
            rc = wb__sql_copydec_feed(&dec, data + at, n);
            at += n;
        }
    }
    if (!rc) rc = wb__sql_copydec_end(&dec);
    fz_check_err(rc, "COPY decoder");
    FZ_ASSERT(rc == 0 || rc == WB_EFORMAT || rc == WB_ELIMIT, "unexpected error %s: %s", wb_errname(rc), wb_errmsg());
    wb__sql_copydec_free(&dec);
    o->rc = rc;
}

static FZ_HARNESS void same(const outcome *a, const outcome *b, int64_t ncol)
{
    FZ_ASSERT(a->rc == b->rc, "whole: %s, in pieces: %s", wb_errname(a->rc), wb_errname(b->rc));
    if (a->rc) return;
    const sql_chunk *x = &a->ch, *y = &b->ch;
    FZ_ASSERT(x->rows == y->rows, "rows %lld vs %lld", (long long)x->rows, (long long)y->rows);
    size_t xb = (size_t)x->rows * (size_t)x->d * 8;
    if (xb) FZ_ASSERT(memcmp(x->buf + 64, y->buf + 64, xb) == 0, "the values differ");
    if (x->rows) FZ_ASSERT(memcmp(x->y, y->y, (size_t)x->rows * 8) == 0, "the labels differ");
    for (int64_t j = 0; j < ncol; j++) {
        const wb_csv_dict *p = &x->dict[j], *q = &y->dict[j];
        FZ_ASSERT(p->n == q->n, "column %lld: %u vs %u levels", (long long)j, p->n, q->n);
        FZ_ASSERT(p->n <= 64, "column %lld: %u levels, over the limit", (long long)j, p->n);
        for (uint32_t k = 0; k < p->n; k++)
            FZ_ASSERT(p->len[k] == q->len[k] && memcmp(p->text.p + p->off[k], q->text.p + q->off[k], p->len[k]) == 0,
                      "column %lld: level %u differs", (long long)j, k);
        FZ_ASSERT(x->seen[j] == y->seen[j] && x->first_num[j] == y->first_num[j] && x->first_text[j] == y->first_text[j],
                  "column %lld: kinds seen differ", (long long)j);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init_core();
    if (size < 3) return 0;
    int64_t ncol = 1 + data[0] % MAXCOL;
    if (size < (size_t)ncol + 2) return 0;
    uint8_t kinds[MAXCOL];
    for (int64_t j = 0; j < ncol; j++) kinds[j] = (uint8_t)(SK_BOOL + data[1 + j] % (SK_TEXTNUM - SK_BOOL + 1));
    int seed = data[1 + ncol];
    const uint8_t *copy = data + 2 + ncol;
    size_t n = size - 2 - (size_t)ncol;
    outcome whole, pieces;
    run(kinds, ncol, copy, n, -1, &whole);
    run(kinds, ncol, copy, n, seed, &pieces);
    same(&whole, &pieces, ncol);
    if (whole.rc == 0) fz_accepted = 1;
    wb__sql_chunk_free(&whole.ch);
    wb__sql_chunk_free(&pieces.ch);
    return 0;
}
