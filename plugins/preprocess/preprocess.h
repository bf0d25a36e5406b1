/* preprocess.h — shared between the files of the preprocess plugin (not
 * installed): the column program every transformer runs (kernels.c), the
 * driver helpers (common.c) and the estimators (impute.c, encode.c,
 * scaler.c). */
#ifndef WB_PREPROCESS_H
#define WB_PREPROCESS_H

#include <stdint.h>

#include "wb/plugin.h"
#include "wb/plugin_cols.h"

extern const wb_host *H; /* the host's function table, kept at init (host.c) */

/*
 * A column program: what preprocess.apply does to each row. Every op reads
 * one input column and writes one output column (or a block of them):
 *
 *   COPY    out = x
 *   FILL    out = isnan(x) ? a : x
 *   SCALE   out = (x - a) / b            (inverse: x * b + a)
 *   MISSING out = isnan(x) ? 1 : 0       (an indicator of missing values)
 *   MAP     x a category code c: out = tab[c] when >= 0; a missing x gives
 *           a; tab[c] == -1 gives b; tab[c] <= -2 is an error naming the
 *           level strs[-2 - tab[c]]
 *   ONEHOT  the block out[0..width) is zeroed, then for a code c the slot
 *           tab[c] (>= 0) gets 1 (-1: none, <= -2: an error as for MAP); a
 *           missing x uses slot `nan_slot` the same way
 *
 * A code must be an integer in [0, ntab of the op); anything else is an
 * error naming the row and column.
 */
enum { PP_COPY = 1, PP_FILL = 2, PP_SCALE = 3, PP_MISSING = 4, PP_MAP = 5, PP_ONEHOT = 6 };

typedef struct pp_op {
    int32_t kind, in, out, width; /* width: ONEHOT block width */
    int32_t nan_slot, name;       /* name: offset of the column's label in strs */
    int64_t tab, ntab;            /* the op's part of the int32 table */
    double a, b;
} pp_op;

#define PP_MAGIC 0x50505031u /* "PPP1" */

typedef struct pp_hdr {
    uint32_t magic;
    int32_t inverse;       /* SCALE runs backwards */
    int64_t din, dout, nops, ntab, nstr;
    int32_t who, unknown;  /* offsets in strs: the estimator's name, the parameter that allows unknown levels */
} pp_hdr; /* then pp_op ops[nops], int32 tab[ntab] (padded to 8), char strs[nstr] */

/* a program being built (common.c) */
typedef struct pp_prog {
    pp_hdr h;
    pp_op *ops;
    int64_t cap;
    int32_t *tab;
    int64_t tcap;
    char *strs;
    int64_t scap;
    int bad;
} pp_prog;

void pp_prog_init(pp_prog *g, int64_t din, const char *who, const char *unknown);
void pp_prog_free(pp_prog *g);
/* add a string; its offset */
int32_t pp_prog_str(pp_prog *g, const char *s);
/* add an op (its table entries are copied); returns the op for tweaks, NULL when out of memory */
pp_op *pp_prog_op(pp_prog *g, int kind, int64_t in, int64_t out, const int32_t *tab, int64_t ntab);
/* run the program over d: *out has dout columns (labels kept, column metadata
 * not set) */
int pp_prog_run(wb_exec *ex, pp_prog *g, const wb_dataset *d, wb_dataset **out);

int pp_register_kernels(void);

/* ------------------------------------------------------ driver helpers */

/* "who: out of memory" */
int pp_oom(const char *who);
/* a float64 code array of column j -> counts: map_sum of preprocess.codes
 * over columns cols[0..m) with L[k] levels each: out[off[k] + c] rows with
 * code c, out[off[k] + L[k]] missing rows; codes are checked */
int pp_code_counts(wb_exec *ex, const wb_dataset *d, const int64_t *cols, const int64_t *L, int64_t m,
                   const char *who, double **out, int64_t **off);
/* per column of cols: {valid rows, sum of the values, missing rows, infinite values} */
int pp_num_stats(wb_exec *ex, const wb_dataset *d, const int64_t *cols, int64_t m, double **out);
/* the exact medians of the non-missing values of columns cols[0..m)
 * (nvalid[k] >= 1 of them) into out[m], computed together */
int pp_medians(wb_exec *ex, const wb_dataset *d, const int64_t *cols, const int64_t *nvalid, int64_t m, double *out);
/* the most frequent non-missing value of column j (the smallest of ties) */
int pp_mode(wb_exec *ex, const wb_dataset *d, int64_t j, double *out);

/* the fitted columns of a model (field `columns`, 1-based, or every column
 * when absent) checked against d: its column count (`n_features`) and the
 * names the model was fitted with (`feature_names`); *cols 0-based */
int pp_model_cols(const wb_model *m, const wb_dataset *d, const char *who, int64_t **cols, int64_t *n);
/* store the fitted columns (only when they are not all of d's, so models of
 * data without categories stay as they were) */
int pp_set_model_cols(wb_model *m, const wb_dataset *d, const int64_t *cols, int64_t n);
/* the label column j is shown by ("island", "x3") */
const char *pp_label(const wb_dataset *d, int64_t j, char *buf, size_t len);
/* a JSON string field of m parsed, or NULL with an error naming the field */
wbc_jv *pp_json_field(const wb_model *m, const char *field, const char *who);

#endif
