/* io/csv.h — the CSV tokenizer, the scan's state machine, field tests and
 * string sets (csv.c), shared by the CSV reader (csv_read.c) and writer. */
#ifndef WB_IO_CSV_H
#define WB_IO_CSV_H
#include "io_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* the first byte in [p, e) equal to a or b, or e: sixteen bytes at a time
 * (inline: the fields and the spans between quotes are short, so a call
 * per search costs more than the search) */
static inline const char *wb__csv_find2(const char *p, const char *e, char a, char b)
{
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
    while (e - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)));
        if (m) return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < e && *p != a && *p != b) p++;
    return p;
}

/* the number of bytes c in [p, e) */
static inline int64_t wb__csv_count(const char *p, const char *e, char c)
{
    int64_t n = 0;
#if defined(__SSE2__)
    const __m128i vc = _mm_set1_epi8(c), zero = _mm_setzero_si128();
    while (e - p >= 16) {
        /* per byte lane, up to 255 matches (0 - -1 each), then summed */
        __m128i acc = zero;
        for (int k = 0; k < 255 && e - p >= 16; k++, p += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), vc));
        __m128i s = _mm_sad_epu8(acc, zero);
        n += _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s));
    }
#endif
    for (; p < e; p++) n += *p == c;
    return n;
}

/* a blank: space, tab or CR, unless it is the delimiter */
static inline int wb__csv_blank(char c, char delim)
{
    return (c == ' ' || c == '\t' || c == '\r') && c != delim;
}

/* ------------------------------------------------------------ records */

typedef struct wb_csv_field {
    uint32_t off, len; /* from the record's first byte: the text (inside the
                          quotes), or for an escaped field the raw bytes from
                          the opening quote */
    uint8_t quoted;    /* the field was quoted */
    uint8_t escaped;   /* needs wb__csv_text (doubled quotes, text after the
                          closing quote) */
} wb_csv_field;

typedef struct wb_csv_rec {
    wb_csv_field *f;
    int64_t n, cap;
    int64_t newlines; /* line breaks inside quoted fields */
    int blank;        /* a blank line: not a record */
    int64_t open_field; /* unterminated quote: the field it opens */
} wb_csv_rec;

/* Split the record starting at s (a line start, outside quotes). Returns
 * the bytes it takes (through its '\n'; to e at the end of the input),
 * 0 when [s, e) does not hold all of it and more input follows (!eof),
 * WB_EFORMAT for a quote that never closes (eof), WB_ELIMIT for more than
 * WB_IO_MAX_COLS fields, WB_ENOMEM. */
int64_t wb__csv_record(const char *s, const char *e, int eof, char delim, wb_csv_rec *r);
void wb__csv_rec_free(wb_csv_rec *r);
/* a field's text: in place, or unescaped into scratch (f->len bytes suffice) */
const char *wb__csv_text(const char *rec, const wb_csv_field *f, char *scratch, size_t *len);

/* ------------------------------------------------------------ the scan
 * The tokenizer's states reduced to what decides where records start:
 *   LS  at a line start (blanks so far: a blank line is no record)
 *   F   at a field start (a '"' opens a quote)
 *   U   outside quotes (at a field's start when fs is set: F is U with fs)
 *   Q   in a quoted field
 *   QQ  in a quoted field just after a '"' (a second one is a quote char)
 * At a line start the state is LS or Q (the line break was quoted). */
enum { WB_CS_LS = 0, WB_CS_F, WB_CS_U, WB_CS_Q, WB_CS_QQ };

typedef struct wb_csv_sim {
    int state;
    char delim;
    int64_t rs; /* file offset of the current line start (a record's start) */
    void (*on_record)(struct wb_csv_sim *m, int64_t start); /* a record starts at `start` */
    void *user;
    int stop;        /* set by on_record: wb__csv_sim returns at once, at the
                        record's start (state LS, position stop_at) */
    int64_t stop_at;
    int fs;          /* state U: at a field's start (blanks since a delimiter) */
} wb_csv_sim;
/* run the machine over the bytes [p, e), which sit at file offset off */
void wb__csv_sim(wb_csv_sim *m, const char *p, const char *e, int64_t off);

/* ------------------------------------------------------------ fields */

#define WB_CSV_MAX_NA 64
typedef struct wb_csv_na {
    const char *s[WB_CSV_MAX_NA];
    uint8_t len[WB_CSV_MAX_NA];
    int n;
    uint32_t lens;  /* bit k: a token of k bytes exists */
    uint64_t first[4]; /* bit b: a token starts with byte b */
    int numeric;    /* a token reads as a number: test before numbers */
} wb_csv_na;
/* the missing-value tokens wb reads by default (pandas' list and "?"),
 * NULL-terminated */
const char *const *wb__csv_default_na(void);
/* tokens of at most 31 bytes (pointers kept: they must outlive na) */
void wb__csv_na_init(wb_csv_na *na, const char *const *tokens, int n);
int wb__csv_is_na_slow(const wb_csv_na *na, const char *s, size_t len);
/* inline: most fields fail the length or first-byte test */
static inline int wb__csv_is_na(const wb_csv_na *na, const char *s, size_t len)
{
    if (len > 31 || !((na->lens >> len) & 1)) return 0;
    if (len) {
        unsigned char b = (unsigned char)s[0];
        if (!((na->first[b >> 6] >> (b & 63)) & 1)) return 0;
    }
    return wb__csv_is_na_slow(na, s, len);
}
/* the field reads entirely as a number (blanks around allowed): 1 and *v */
int wb__csv_number(const char *s, size_t len, char delim, double *v);
/* true/yes -> 1, false/no -> 0 (any case), else -1 */
int wb__csv_bool(const char *s, size_t len);

/* ------------------------------------------------------------ string sets */

uint64_t wb__csv_hash(const char *s, size_t n);
/* distinct strings in the order first seen (codes 0..n-1) */
typedef struct wb_csv_slot {
    uint32_t tag, code1;    /* the hash's high bits; code + 1 (0: empty) */
} wb_csv_slot;
typedef struct wb_csv_key {
    uint64_t w0, w1;        /* the string (up to 16 bytes), or its hash and first bytes */
} wb_csv_key;
typedef struct wb_csv_dict {
    wb_csv_slot *slot; /* open addressing: small slots, so that the table
                          stays in cache (a lookup's cost is its misses) */
    wb_csv_key *key;   /* per code */
    uint32_t cap, n;
    uint32_t *off, *len; /* each string's place in text (NUL-terminated there) */
    wb_buf text;
} wb_csv_dict;
/* the code of s (added if new), or a negative error */
int64_t wb__csv_dict_put(wb_csv_dict *t, const char *s, size_t n);
/* the same; *added: s was new */
int64_t wb__csv_dict_put2(wb_csv_dict *t, const char *s, size_t n, int *added);
/* the same with hv = wb__csv_hash(s, n) */
int64_t wb__csv_dict_put_h(wb_csv_dict *t, const char *s, size_t n, uint64_t hv, int *added);
void wb__csv_dict_free(wb_csv_dict *t);

#endif
