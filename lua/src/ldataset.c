/* ldataset.c — wb.Dataset: a reference to a wb_dataset. Vectors (predictions,
 * labels) are one-column datasets marked as vectors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wblua.h"

/* the labels of d as a vector aligned with it (the caller's reference) */
static wb_dataset *labels_vector(lua_State *L, const wb_dataset *d)
{
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

wb_dataset *wbl_check_vector(lua_State *L, int idx, const wb_dataset *like)
{
    wb_dataset *d = wbl_to_dataset(L, idx);
    if (d) {
        if (wbl_values_are_vector(d)) return wb_ds_ref(d);
        if (d->has_labels) return labels_vector(L, d); /* one column or more: its labels */
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
    wbl_push_dataset(L, labels_vector(L, d)); /* its labels, whatever its columns */
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
        if (d->colnames && d->colnames[j][0])
            lua_pushstring(L, d->colnames[j]);
        else /* unnamed */
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
        size_t nl = strlen(name);
        wbl_argerror(L, idx, "no column named \"%.60s%s\" (columns: %s)", name, nl > 60 ? "..." : "", lua_tostring(L, -1));
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

/* the columns a list names (names or indices; the label's name: -1), into
 * a userdata array left on the stack */
static int64_t *check_column_list(lua_State *L, int idx, const wb_dataset *d, int64_t *m, const char *what)
{
    if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER) { /* one column */
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, idx);
        lua_rawseti(L, -2, 1);
        lua_replace(L, idx);
    }
    if (!lua_istable(L, idx)) wbl_argerror(L, idx, "%s: a list of column names expected, got %s", what, luaL_typename(L, idx));
    int64_t n = (int64_t)lua_rawlen(L, idx);
    int64_t *cols = lua_newuserdatauv(L, (size_t)(n ? n : 1) * 8, 0);
    for (int64_t k = 0; k < n; k++) {
        lua_rawgeti(L, idx, (lua_Integer)k + 1);
        int top = lua_gettop(L);
        if (lua_type(L, top) == LUA_TSTRING && d->has_labels && d->label_name &&
            wb_ds_find_col(d, lua_tostring(L, top)) < 0 && strcmp(lua_tostring(L, top), d->label_name) == 0)
            cols[k] = -1;
        else
            cols[k] = wbl_check_column(L, top, d);
        lua_pop(L, 1);
        for (int64_t q = 0; q < k; q++)
            if (cols[q] == cols[k]) {
                const char *nm = cols[k] < 0 ? d->label_name : wb_ds_col_name(d, cols[k]);
                wbl_argerror(L, idx, "%s: column %s%s%s listed twice", what, nm && *nm ? "\"" : "",
                             nm && *nm ? nm : lua_pushfstring(L, "%I", (lua_Integer)cols[k] + 1), nm && *nm ? "\"" : "");
            }
    }
    *m = n;
    return cols;
}

/* d:select{"a", "b"} -> those columns in that order (the labels kept) */
static int ds_select(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    int64_t m;
    int64_t *cols = check_column_list(L, 2, d, &m, "select");
    if (wb_ds_select_cols(d, cols, m, &o)) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* d:drop{"year"} -> the other columns (naming the label drops the labels) */
static int ds_drop(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    int64_t m;
    int64_t *cols = check_column_list(L, 2, d, &m, "drop");
    int64_t *keep = lua_newuserdatauv(L, (size_t)(d->d ? d->d : 1) * 8, 0);
    int64_t k = 0;
    int labels = d->has_labels;
    for (int64_t j = 0; j < d->d; j++) {
        int gone = 0;
        for (int64_t q = 0; q < m; q++) gone |= cols[q] == j;
        if (!gone) keep[k++] = j;
    }
    for (int64_t q = 0; q < m; q++)
        if (cols[q] < 0) labels = 0;
    int rc = wb_ds_select_cols(d, keep, k, &o);
    if (!rc && !labels && d->has_labels) {
        wb_dataset *o2;
        rc = wb_ds_with_labels(o, NULL, &o2);
        wb_ds_unref(o);
        o = o2;
        if (!rc) wb_ds_set_label_meta(o, NULL, NULL);
    }
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* d:rename{old = "new", ...} -> the same data with those names (the label's too) */
static int ds_rename(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    luaL_checktype(L, 2, LUA_TTABLE);
    /* check every pair first */
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) != LUA_TSTRING && lua_type(L, -2) != LUA_TNUMBER)
            return wbl_argerror(L, 2, "rename: keys must be column names, got %s", luaL_typename(L, -2));
        if (lua_type(L, -1) != LUA_TSTRING)
            return wbl_argerror(L, 2, "rename: new names must be strings, got %s", luaL_typename(L, -1));
        int is_label = lua_type(L, -2) == LUA_TSTRING && d->has_labels && d->label_name &&
                       strcmp(lua_tostring(L, -2), d->label_name) == 0 && wb_ds_find_col(d, lua_tostring(L, -2)) < 0;
        if (!is_label) {
            lua_pushvalue(L, -2);
            wbl_check_column(L, lua_gettop(L), d);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    if (wb_ds_shallow(d, &o)) return wbl_error(L);
    int rc = 0;
    if (!o->colnames)
        for (int64_t j = 0; !rc && j < o->d; j++) rc = wb_ds_set_colname(o, j, "");
    lua_pushnil(L);
    while (!rc && lua_next(L, 2)) {
        const char *nw = lua_tostring(L, -1);
        if (lua_type(L, -2) == LUA_TSTRING && d->has_labels && d->label_name &&
            strcmp(lua_tostring(L, -2), d->label_name) == 0 && wb_ds_find_col(d, lua_tostring(L, -2)) < 0)
            rc = wb_ds_set_label_meta(o, nw, d->label_levels);
        else {
            lua_pushvalue(L, -2);
            int64_t j = wbl_check_column(L, lua_gettop(L), d);
            lua_pop(L, 1);
            rc = wb_ds_set_colname(o, j, nw);
        }
        lua_pop(L, 1);
    }
    if (rc) {
        wb_ds_unref(o);
        return wbl_error(L);
    }
    wbl_push_dataset(L, o);
    return 1;
}

/* d:col("age") -> the column as a vector (its name and levels kept); the
 * label's name gives the labels */
static int ds_col(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    int64_t j;
    if (lua_type(L, 2) == LUA_TSTRING && d->has_labels && d->label_name && wb_ds_find_col(d, lua_tostring(L, 2)) < 0 &&
        strcmp(lua_tostring(L, 2), d->label_name) == 0)
        j = -1;
    else
        j = wbl_check_column(L, 2, d);
    if (wb_ds_select_cols(d, &j, 1, &o)) return wbl_error(L);
    wb_dataset *v = o;
    if (o->has_labels) { /* a vector has no labels */
        int rc = wb_ds_with_labels(o, NULL, &v);
        wb_ds_unref(o);
        if (rc) return wbl_error(L);
        wb_ds_set_label_meta(v, NULL, NULL);
    }
    v->is_vector = 1;
    wbl_push_dataset(L, v);
    return 1;
}

/* a vector from a Lua table of strings (and nil/false for missing): a
 * category column, levels sorted */
static wb_dataset *strings_vector(lua_State *L, int idx, const wb_dataset *like)
{
    int64_t n = (int64_t)lua_rawlen(L, idx);
    const char **s = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *s, 0);
    const char **u = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *u, 0);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        if (lua_type(L, -1) == LUA_TSTRING) s[i] = u[k++] = lua_tostring(L, -1);
        else if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && !lua_toboolean(L, -1))) s[i] = NULL;
        else wbl_argerror(L, idx, "element %d is not a string (a list of strings makes a category column)", (int)i + 1);
        lua_pop(L, 1); /* the string stays in the table */
    }
    k = wb_levels_sort_unique(u, k);
    wb_levels *lv;
    if (wb_levels_new(u, k, &lv)) wbl_error(L);
    double *x = malloc((size_t)(n ? n : 1) * 8);
    if (!x) {
        wb_levels_unref(lv);
        luaL_error(L, "out of memory");
    }
    for (int64_t i = 0; i < n; i++) x[i] = s[i] ? (double)wb_levels_find(lv, s[i]) : NAN;
    wb_dataset *v;
    int rc = wb_ds_from_memory_like(like ? like->ex : wbl_exec(L), x, NULL, n, 1, like && like->n == n ? like : NULL, &v);
    free(x);
    if (!rc) rc = wb_ds_set_coltype(v, 0, WB_COL_CATEGORY, lv);
    wb_levels_unref(lv);
    if (rc) wbl_error(L);
    v->is_vector = 1;
    return v;
}

/* the first string-or-number element decides: strings make a category */
static int table_of_strings(lua_State *L, int idx)
{
    if (!lua_istable(L, idx) || wbl_to_dataset(L, idx)) return 0;
    int64_t n = (int64_t)lua_rawlen(L, idx);
    for (int64_t i = 1; i <= n; i++) {
        int t = lua_rawgeti(L, idx, (lua_Integer)i);
        lua_pop(L, 1);
        if (t == LUA_TSTRING) return 1;
        if (t == LUA_TNUMBER) return 0;
    }
    return 0;
}

/* d:with_column(name, v) -> a copy with column `name` set to v (a vector,
 * a table of numbers, or of strings: a category), replaced or added last */
static int ds_with_column(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    const char *name = luaL_checkstring(L, 2);
    wb_dataset *v = table_of_strings(L, 3) ? strings_vector(L, 3, d) : wbl_check_vector(L, 3, d);
    if (v->n != d->n) {
        long long vn = (long long)v->n;
        wb_ds_unref(v);
        return wbl_argerror(L, 3, "%lld values for %lld rows", vn, (long long)d->n);
    }
    int64_t j = d->d; /* a new last column, unless one has that very name */
    for (int64_t k = 0; k < d->d && j == d->d; k++) {
        const char *nm = wb_ds_col_name(d, k);
        if (nm && *nm ? strcmp(nm, name) == 0 : wb_ds_find_col(d, name) == k) j = k;
    }
    int rc = wb_ds_with_column(d, j, name, v, &o);
    wb_ds_unref(v);
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* d:filter(mask) -> the rows where mask is 1 (a vector or table of 0/1 or booleans), in order */
static int ds_filter(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    if (lua_istable(L, 2) && !wbl_to_dataset(L, 2)) { /* booleans -> 0/1 */
        int64_t n = (int64_t)lua_rawlen(L, 2);
        lua_createtable(L, (int)n, 0);
        for (int64_t i = 1; i <= n; i++) {
            int t = lua_rawgeti(L, 2, (lua_Integer)i);
            if (t == LUA_TBOOLEAN) {
                int b = lua_toboolean(L, -1);
                lua_pop(L, 1);
                lua_pushinteger(L, b);
            }
            lua_rawseti(L, -2, (lua_Integer)i);
        }
        lua_replace(L, 2);
    }
    wb_dataset *m = wbl_check_vector(L, 2, d);
    if (m->n != d->n) {
        long long mn = (long long)m->n;
        wb_ds_unref(m);
        return wbl_argerror(L, 2, "a mask of %lld values for %lld rows", mn, (long long)d->n);
    }
    int rc = wb_ds_filter(d, m, &o);
    wb_ds_unref(m);
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* d:value_counts_raw(col) -> values (level strings for a category), counts, missing */
static int ds_value_counts_raw(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    int64_t j;
    if (lua_isnoneornil(L, 2) && (d->is_vector || d->d == 1) && !d->has_labels) j = 0;
    else if (lua_type(L, 2) == LUA_TSTRING && d->has_labels && d->label_name && wb_ds_find_col(d, lua_tostring(L, 2)) < 0 &&
             strcmp(lua_tostring(L, 2), d->label_name) == 0)
        j = -1;
    else
        j = wbl_check_column(L, 2, d);
    double *v, *c, miss;
    int64_t n;
    if (wb_ds_value_counts(d, j, &v, &c, &n, &miss)) return wbl_error(L);
    const wb_levels *lv = j < 0 ? d->label_levels : wb_ds_col_levels(d, j);
    lua_createtable(L, (int)n, 0);
    for (int64_t k = 0; k < n; k++) {
        if (lv) lua_pushstring(L, wb_levels_at(lv, k));
        else lua_pushnumber(L, v[k]);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_createtable(L, (int)n, 0);
    for (int64_t k = 0; k < n; k++) {
        lua_pushinteger(L, (lua_Integer)c[k]);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_pushinteger(L, (lua_Integer)miss);
    free(v);
    free(c);
    return 3;
}

/* d:quantiles_raw({p, ...}) -> per column (then the labels, if any) a list
 * of its quantiles */
static int ds_quantiles_raw(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int64_t np = (int64_t)lua_rawlen(L, 2);
    if (np < 1 || np > 64) return wbl_argerror(L, 2, "1 to 64 probabilities expected, got %lld", (long long)np);
    double probs[64];
    for (int64_t q = 0; q < np; q++) {
        lua_rawgeti(L, 2, (lua_Integer)q + 1);
        int ok;
        probs[q] = lua_tonumberx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok || !(probs[q] >= 0 && probs[q] <= 1)) return wbl_argerror(L, 2, "probabilities must be numbers in 0..1");
    }
    int64_t nc = d->d + d->has_labels;
    int64_t *cols = lua_newuserdatauv(L, (size_t)(nc ? nc : 1) * 8, 0);
    double *out = lua_newuserdatauv(L, (size_t)(nc ? nc : 1) * (size_t)np * 8, 0);
    for (int64_t j = 0; j < nc; j++) cols[j] = j < d->d ? j : -1;
    if (wb_ds_quantiles(d, cols, nc, probs, np, out)) return wbl_error(L);
    lua_createtable(L, (int)nc, 0);
    for (int64_t j = 0; j < nc; j++) {
        lua_createtable(L, (int)np, 0);
        for (int64_t q = 0; q < np; q++) {
            lua_pushnumber(L, out[j * np + q]);
            lua_rawseti(L, -2, (lua_Integer)q + 1);
        }
        lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
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
    const char *parts = d->nparts == 1 ? "partition" : "partitions";
    if (d->is_vector)
        lua_pushfstring(L, "Vector of %I in %d %s", (lua_Integer)d->n, d->nparts, parts);
    else
        lua_pushfstring(L, "Dataset %I x %I%s, %d %s", (lua_Integer)d->n, (lua_Integer)d->d,
                        d->has_labels ? " with labels" : "", d->nparts, parts);
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
        {"select", ds_select},       {"drop", ds_drop},
        {"rename", ds_rename},       {"col", ds_col},
        {"with_column", ds_with_column}, {"filter", ds_filter},
        {"value_counts_raw", ds_value_counts_raw}, {"quantiles_raw", ds_quantiles_raw},
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
