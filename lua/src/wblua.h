/* wblua.h — the Lua binding of wb: what its C files share. laux.c holds the
 * helpers every file uses; each type's file its metatable and methods
 * (ldataset.c, lmodel.c, lcore.c); lwb.c opens the module and calls the
 * other files' openers. */
#ifndef WB_WBLUA_H
#define WB_WBLUA_H
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "wb/wb.h"

#define WBL_DATASET "wb.Dataset"
#define WBL_MODEL "wb.Model"
#define WBL_OBJECT "wb.Object"

/* open the `wb` module (the table is left on the stack) (lwb.c) */
int luaopen_wb(lua_State *L);

/* ------------------------------------------------------------ laux.c */

/* keep the local executor (takes over the caller's reference) as both the
 * local executor and the one new work runs on (luaopen_wb calls it once) */
void wbl_exec_init(lua_State *L, wb_exec *local);
/* the executor new work runs on (never NULL after luaopen_wb) */
wb_exec *wbl_exec(lua_State *L);
/* replace it (takes over the caller's reference) */
void wbl_set_exec(lua_State *L, wb_exec *ex);
/* the local executor (kept while a cluster is connected) */
wb_exec *wbl_local_exec(lua_State *L);

/* raise a Lua error with wb_errmsg() (never returns) */
int wbl_error(lua_State *L);
/* a file path argument: a string, not empty, without NUL bytes (a path with
 * one would name a different file than the string shows) */
const char *wbl_check_path(lua_State *L, int idx);
/* raise "bad argument #arg to 'fname' (msg)" */
int wbl_argerror(lua_State *L, int arg, const char *fmt, ...);

/* Options in a table argument (at index t, also its argument number in errors).
 * An optional number field: def when nil; a number (or a string convertible to
 * one) else "bad argument #t to 'fname' (k must be a number, got string)". */
double wbl_opt_number(lua_State *L, int t, const char *k, double def, const char *fname);
/* An optional integer field within [lo, hi]: def when nil, else "bad argument
 * #t to '<the running function>' (k must be an integer in lo..hi, got 2.5)". */
lua_Integer wbl_opt_integer(lua_State *L, int t, const char *k, lua_Integer def, lua_Integer lo, lua_Integer hi);

/* the userdata of each type (the pointer is NULL once freed) */
typedef struct wbl_ds_box {
    wb_dataset *d;
} wbl_ds_box;
typedef struct wbl_model_box {
    wb_model *m;
} wbl_model_box;
typedef struct wbl_object_box {
    wb_exec *ex;
    wb_oid id;
} wbl_object_box;

/* datasets */
void wbl_push_dataset(lua_State *L, wb_dataset *d); /* takes over the reference */
wb_dataset *wbl_check_dataset(lua_State *L, int idx);
wb_dataset *wbl_to_dataset(lua_State *L, int idx); /* NULL if not one */
/* push the table whose keys are the dataset userdata made so far (weak keys:
 * the ones not collected yet) */
void wbl_live_datasets(lua_State *L);

/* a column argument (a name, or an index 1..d) of d -> its 0-based index, or raises */
int64_t wbl_check_column(lua_State *L, int idx, const wb_dataset *d);

/* models */
void wbl_push_model(lua_State *L, wb_model *m); /* takes ownership */
wb_model *wbl_check_model(lua_State *L, int idx);

/* objects */
void wbl_push_object(lua_State *L, wb_exec *ex, wb_oid id); /* takes over the reference */
wb_oid wbl_check_object(lua_State *L, int idx, wb_exec **ex);

/* a Lua table of parameters -> a new unchecked wb_params (errors raise) */
wb_params *wbl_check_params(lua_State *L, int idx, const char *fname);
/* push a parameter set as a Lua table */
void wbl_push_params(lua_State *L, const wb_params *p);
/* a matrix argument (table of rows, flat table, or dataset) -> malloc'd doubles */
double *wbl_to_matrix(lua_State *L, int idx, int64_t *rows, int64_t *cols, const char **err);

/* ------------------------------------------------------ the other files */

/* a dataset, a vector, or a Lua array of numbers -> a dataset (new reference);
 * `like` (may be NULL) gives the executor and partition layout to follow
 * (ldataset.c) */
wb_dataset *wbl_check_vector(lua_State *L, int idx, const wb_dataset *like);
/* nonzero when d's values are a vector's: d is a vector (predictions, labels),
 * or one column without labels. A labelled dataset of one column is a
 * dataset: as a vector it stands for its labels */
int wbl_values_are_vector(const wb_dataset *d);

/* C parts of the module, each adds its functions to the table at the top */
void wbl_open_dataset(lua_State *L);
void wbl_open_model(lua_State *L);
void wbl_open_core(lua_State *L);
void wbl_open_io(lua_State *L);
void wbl_open_remote(lua_State *L);  /* lremote.c: values of remote functions, lua.call */
void wbl_open_cluster(lua_State *L); /* lcluster.c: connect, cluster, executor */
void wbl_open_sql(lua_State *L);     /* lsql.c: wb.sql.read, wb.sql.write */
void wbl_register_remote_kernel(void); /* the "lua.call" kernel (workers register it too) */

/* the Lua library files embedded in the binary (generated) */
typedef struct wbl_embedded {
    const char *name; /* module name, "wb.print" */
    const char *source;
    size_t len;
} wbl_embedded;
extern const wbl_embedded wbl_embedded_files[];

#endif
