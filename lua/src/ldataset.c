/* ldataset.c — wb.Dataset: a reference to a wb_dataset. Vectors (predictions,
 * labels) are one-column datasets marked as vectors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wblua.h"

wb_dataset *wbl_check_vector(lua_State *L, int idx, const wb_dataset *like)
{
    wb_dataset *d = wbl_to_dataset(L, idx);
    if (d) {
        if (d->is_vector || d->d == 1) return wb_ds_ref(d);
        if (d->has_labels) { /* its labels, as a vector */
            double *y;
            if (wb_ds_labels(d, &y)) wbl_error(L);
            wb_dataset *v;
            int rc = wb_ds_from_memory_like(d->ex, y, NULL, d->n, 1, d, &v);
            free(y);
            if (rc) wbl_error(L);
            v->is_vector = 1;
            /* the labels' name and class names go with them */
            if ((d->label_name && wb_ds_set_colname(v, 0, d->label_name)) ||
                (d->label_levels && wb_ds_set_coltype(v, 0, WB_COL_CATEGORY, d->label_levels))) {
                wb_ds_unref(v);
                wbl_error(L);
            }
            return v;
        }
        luaL_argerror(L, idx, "a vector, a labelled dataset or a table of numbers expected, got a dataset without labels");
    }
    if (!lua_istable(L, idx)) {
        const char *msg = lua_pushfstring(L, "vector expected, got %s", luaL_typename(L, idx));
        luaL_argerror(L, idx, msg);
    }
    int64_t n = (int64_t)lua_rawlen(L, idx);
    double *x = malloc((size_t)(n ? n : 1) * 8);
    if (!x) luaL_error(L, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        int ok;
        x[i] = lua_tonumberx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok) {
            free(x);
            luaL_argerror(L, idx, lua_pushfstring(L, "element %d of the vector is not a number", (int)i + 1));
        }
    }
    wb_dataset *v;
    int rc = wb_ds_from_memory_like(like ? like->ex : wbl_exec(L), x, NULL, n, 1,
                                    like && like->n == n ? like : NULL, &v);
    free(x);
    if (rc) wbl_error(L);
    v->is_vector = 1;
    return v;
}

static int ds_gc(lua_State *L)
{
    wbl_ds_box *u = luaL_checkudata(L, 1, WBL_DATASET);
    if (u->d) wb_ds_unref(u->d);
    u->d = NULL;
    return 0;
}

static int ds_rows(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)wbl_check_dataset(L, 1)->n);
    return 1;
}
static int ds_cols(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)wbl_check_dataset(L, 1)->d);
    return 1;
}
static int ds_partitions(lua_State *L)
{
    lua_pushinteger(L, wbl_check_dataset(L, 1)->nparts);
    return 1;
}
static int ds_has_labels(lua_State *L)
{
    lua_pushboolean(L, wbl_check_dataset(L, 1)->has_labels);
    return 1;
}
static int ds_is_vector(lua_State *L)
{
    lua_pushboolean(L, wbl_check_dataset(L, 1)->is_vector);
    return 1;
}

static lua_Integer check_row(lua_State *L, int arg, const wb_dataset *d)
{
    lua_Integer i = luaL_checkinteger(L, arg);
    if (i < 1 || i > d->n)
        wbl_argerror(L, arg, "row %lld out of range 1..%lld", (long long)i, (long long)d->n);
    return i;
}

/* d:row(i) -> {x1, ..., xd}, label */
static int ds_row(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    lua_Integer i = check_row(L, 2, d);
    double *x = malloc((size_t)(d->d ? d->d : 1) * 8), y = 0;
    if (!x) return luaL_error(L, "out of memory");
    if (wb_ds_read_rows(d, i - 1, i, x, d->has_labels ? &y : NULL)) {
        free(x);
        return wbl_error(L);
    }
    if (d->is_vector) {
        lua_pushnumber(L, x[0]);
        free(x);
        return 1;
    }
    lua_createtable(L, (int)d->d, 0);
    for (int64_t j = 0; j < d->d; j++) {
        lua_pushnumber(L, x[j]);
        lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    free(x);
    if (d->has_labels) {
        lua_pushnumber(L, y);
        return 2;
    }
    return 1;
}

/* d:rows_table(i, j) -> table of rows (and a table of labels), rows i..j */
static int ds_rows_table(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    lua_Integer a = luaL_optinteger(L, 2, 1), b = luaL_optinteger(L, 3, d->n);
    if (d->n == 0 || b < a) {
        lua_newtable(L);
        lua_newtable(L);
        return 2;
    }
    if (a < 1 || b > d->n) return wbl_argerror(L, 2, "rows %lld..%lld out of range 1..%lld", (long long)a, (long long)b, (long long)d->n);
    int64_t n = b - a + 1;
    if (n * (d->d + 1) > 50000000) return wbl_argerror(L, 3, "%lld rows is too many to turn into a Lua table", (long long)n);
    double *x = malloc((size_t)(n * d->d + 1) * 8), *y = d->has_labels ? malloc((size_t)n * 8) : NULL;
    if (!x || (d->has_labels && !y)) {
        free(x);
        free(y);
        return luaL_error(L, "out of memory");
    }
    if (wb_ds_read_rows(d, a - 1, b, x, y)) {
        free(x);
        free(y);
        return wbl_error(L);
    }
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        if (d->is_vector) {
            lua_pushnumber(L, x[i]);
        } else {
            lua_createtable(L, (int)d->d, 0);
            for (int64_t j = 0; j < d->d; j++) {
                lua_pushnumber(L, x[i * d->d + j]);
                lua_rawseti(L, -2, (lua_Integer)j + 1);
            }
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    if (y) {
        lua_createtable(L, (int)n, 0);
        for (int64_t i = 0; i < n; i++) {
            lua_pushnumber(L, y[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    } else
        lua_pushnil(L);
    free(x);
    free(y);
    return 2;
}

/* d:slice(i, j) -> rows i..j (1-based, inclusive) as a dataset */
static int ds_slice(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    lua_Integer a = luaL_checkinteger(L, 2), b = luaL_optinteger(L, 3, d->n);
    if (a < 1 || a > d->n + 1) return wbl_argerror(L, 2, "start %lld out of range 1..%lld", (long long)a, (long long)d->n);
    if (b < a - 1 || b > d->n) return wbl_argerror(L, 3, "end %lld out of range %lld..%lld", (long long)b, (long long)a - 1, (long long)d->n);
    wb_select s = {.row_lo = a - 1, .row_hi = b};
    wb_dataset *o;
    if (wb_ds_select(d, &s, &o)) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* d:labels() -> the labels as a vector */
static int ds_labels(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    if (!d->has_labels) return luaL_error(L, "the dataset has no labels");
    wb_dataset *v = wbl_check_vector(L, 1, d);
    wbl_push_dataset(L, v);
    return 1;
}

/* d:with_labels(v) -> a copy whose labels are v (a vector aligned with d); nil drops them */
static int ds_with_labels(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    int rc;
    if (lua_isnoneornil(L, 2)) {
        rc = wb_ds_with_labels(d, NULL, &o);
    } else {
        wb_dataset *v = wbl_check_vector(L, 2, d);
        if (v->n != d->n) {
            long long vn = (long long)v->n;
            wb_ds_unref(v);
            return wbl_argerror(L, 2, "%lld labels for %lld rows", vn, (long long)d->n);
        }
        rc = wb_ds_with_labels(d, v, &o);
        wb_ds_unref(v);
    }
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* d:describe() -> {count={...}, mean={...}, std, min, max, names} */
static int ds_describe(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    double *o = malloc((size_t)(5 * d->d + 1) * 8);
    if (!o) return luaL_error(L, "out of memory");
    if (wb_ds_describe(d, o)) {
        free(o);
        return wbl_error(L);
    }
    const char *names[] = {"count", "mean", "std", "min", "max"};
    lua_newtable(L);
    for (int k = 0; k < 5; k++) {
        lua_createtable(L, (int)d->d, 0);
        for (int64_t j = 0; j < d->d; j++) {
            lua_pushnumber(L, o[k * d->d + j]);
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
        lua_setfield(L, -2, names[k]);
    }
    free(o);
    return 1;
}

static int ds_names(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    if (lua_gettop(L) >= 2) { /* set */
        luaL_checktype(L, 2, LUA_TTABLE);
        if ((int64_t)lua_rawlen(L, 2) != d->d)
            return wbl_argerror(L, 2, "%d names for %lld columns", (int)lua_rawlen(L, 2), (long long)d->d);
        const char **n = calloc((size_t)(d->d ? d->d : 1), sizeof *n);
        for (int64_t j = 0; j < d->d; j++) {
            lua_rawgeti(L, 2, (lua_Integer)j + 1);
            n[j] = lua_tostring(L, -1);
            if (!n[j]) {
                free(n);
                return wbl_argerror(L, 2, "column name %lld is not a string", (long long)j + 1);
            }
            lua_pop(L, 1);
        }
        for (int64_t j = 0; j < d->d; j++) {
            lua_rawgeti(L, 2, (lua_Integer)j + 1);
            n[j] = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        lua_pushvalue(L, 2); /* keeps the strings alive during the copy */
        int rc = wb_ds_set_colnames(d, n);
        free(n);
        if (rc) return wbl_error(L);
        lua_pushvalue(L, 1);
        return 1;
    }
    lua_createtable(L, (int)d->d, 0);
    for (int64_t j = 0; j < d->d; j++) {
        if (d->colnames)
            lua_pushstring(L, d->colnames[j]);
        else
            lua_pushfstring(L, "x%d", (int)j + 1);
        lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    return 1;
}

/* a column argument: a name, or an index 1..d; returns 0-based, or raises */
int64_t wbl_check_column(lua_State *L, int idx, const wb_dataset *d)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        lua_Integer j = luaL_checkinteger(L, idx);
        if (j < 1 || j > d->d) wbl_argerror(L, idx, "column %lld out of range 1..%lld", (long long)j, (long long)d->d);
        return (int64_t)j - 1;
    }
    const char *name = lua_tostring(L, idx);
    if (lua_type(L, idx) != LUA_TSTRING)
        wbl_argerror(L, idx, "column name or index expected, got %s", luaL_typename(L, idx));
    int64_t j = wb_ds_find_col(d, name);
    if (j < 0) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int64_t k = 0; k < d->d && k < 20; k++) {
            const char *n = wb_ds_col_name(d, k);
            if (k) luaL_addstring(&b, ", ");
            if (n && *n) lua_pushfstring(L, "\"%s\"", n);
            else lua_pushfstring(L, "x%I", (lua_Integer)k + 1);
            luaL_addvalue(&b);
        }
        if (d->d > 20) luaL_addstring(&b, ", ...");
        luaL_pushresult(&b);
        wbl_argerror(L, idx, "no column named \"%s\" (columns: %s)", name, lua_tostring(L, -1));
    }
    return j;
}

static void push_levels(lua_State *L, const wb_levels *l)
{
    int64_t n = wb_levels_count(l);
    lua_createtable(L, (int)n, 0);
    for (int64_t k = 0; k < n; k++) {
        lua_pushstring(L, wb_levels_at(l, k));
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
}

/* d:types() -> {"number", "category", ...} */
static int ds_types(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    lua_createtable(L, (int)d->d, 0);
    for (int64_t j = 0; j < d->d; j++) {
        lua_pushstring(L, wb_ds_col_type(d, j) == WB_COL_CATEGORY ? "category" : "number");
        lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    return 1;
}

/* d:levels(col) -> the level strings of a category column (code k is
 * levels[k+1]), nil for a number column; d:levels() or d:levels(label
 * name) gives the labels' levels */
static int ds_levels(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    const wb_levels *l;
    if (lua_isnoneornil(L, 2)) {
        if (!d->has_labels && d->d == 1) l = wb_ds_col_levels(d, 0); /* a vector */
        else l = wb_ds_label_levels(d);
    } else if (lua_type(L, 2) == LUA_TSTRING && d->has_labels && d->label_name &&
               wb_ds_find_col(d, lua_tostring(L, 2)) < 0 && strcmp(d->label_name, lua_tostring(L, 2)) == 0)
        l = wb_ds_label_levels(d);
    else
        l = wb_ds_col_levels(d, wbl_check_column(L, 2, d));
    if (!l) {
        lua_pushnil(L);
        return 1;
    }
    push_levels(L, l);
    return 1;
}

/* d:label_levels() -> the class names of categorical labels, or nil */
static int ds_label_levels(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    if (!d->label_levels) {
        lua_pushnil(L);
        return 1;
    }
    push_levels(L, d->label_levels);
    return 1;
}

/* d:label_name() -> the labels' column name, or nil */
static int ds_label_name(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    if (!d->label_name) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, d->label_name);
    return 1;
}

static int ds_free(lua_State *L)
{
    wbl_ds_box *u = luaL_checkudata(L, 1, WBL_DATASET);
    if (u->d) wb_ds_unref(u->d);
    u->d = NULL;
    return 0;
}

static int ds_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)wbl_check_dataset(L, 1)->n);
    return 1;
}

static int ds_tostring(lua_State *L)
{
    wbl_ds_box *u = luaL_checkudata(L, 1, WBL_DATASET);
    if (!u->d) {
        lua_pushliteral(L, "Dataset (freed)");
        return 1;
    }
    wb_dataset *d = u->d;
    if (d->is_vector)
        lua_pushfstring(L, "Vector of %I in %d partitions", (lua_Integer)d->n, d->nparts);
    else
        lua_pushfstring(L, "Dataset %I x %I%s, %d partitions", (lua_Integer)d->n, (lua_Integer)d->d,
                        d->has_labels ? " with labels" : "", d->nparts);
    return 1;
}

/* d:executor() -> "local" | "cluster" ... */
static int ds_executor(lua_State *L)
{
    wb_exec_info i;
    wb_exec_info_get(wbl_check_dataset(L, 1)->ex, &i);
    lua_pushstring(L, i.kind);
    return 1;
}

/* wb.dataset(rows, labels?) -> a dataset from Lua tables */
static int l_dataset(lua_State *L)
{
    int64_t r, c;
    const char *err;
    luaL_checktype(L, 1, LUA_TTABLE);
    double *x = wbl_to_matrix(L, 1, &r, &c, &err);
    if (!x) return wbl_argerror(L, 1, "%s", err);
    lua_rawgeti(L, 1, 1);
    int flat = !lua_istable(L, -1);
    lua_pop(L, 1);
    if (flat) { /* a flat table: one column */
        c = 1;
        r = (int64_t)lua_rawlen(L, 1);
    }
    double *y = NULL;
    if (!lua_isnoneornil(L, 2)) {
        int64_t lr, lc;
        y = wbl_to_matrix(L, 2, &lr, &lc, &err);
        if (!y || !(lr == 1 && lc == r)) {
            free(x);
            free(y);
            return wbl_argerror(L, 2, "labels must be a table of %lld numbers", (long long)r);
        }
    }
    wb_dataset *d;
    int rc = wb_ds_from_memory(wbl_exec(L), x, y, r, c, &d);
    free(x);
    free(y);
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, d);
    return 1;
}

/* wb.vector(table) -> a vector */
static int l_vector(lua_State *L)
{
    wbl_push_dataset(L, wbl_check_vector(L, 1, NULL));
    return 1;
}

void wbl_open_dataset(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"rows", ds_rows},           {"cols", ds_cols},
        {"partitions", ds_partitions}, {"has_labels", ds_has_labels},
        {"is_vector", ds_is_vector}, {"row", ds_row},
        {"rows_table", ds_rows_table}, {"slice", ds_slice},
        {"labels", ds_labels},       {"with_labels", ds_with_labels},
        {"describe_raw", ds_describe}, {"names", ds_names},
        {"free", ds_free},           {"executor", ds_executor},
        {"types", ds_types},         {"levels", ds_levels},
        {"label_levels", ds_label_levels}, {"label_name", ds_label_name},
        {NULL, NULL}};
    luaL_newmetatable(L, WBL_DATASET);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ds_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, ds_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, ds_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, ds_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "Dataset");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_dataset);
    lua_setfield(L, -2, "dataset");
    lua_pushcfunction(L, l_vector);
    lua_setfield(L, -2, "vector");
}
