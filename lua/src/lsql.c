/* lsql.c — wb.sql.read / wb.sql.write: datasets from and to SQL databases
 * (core/src/sql). Options are checked here (unknown ones refused by name);
 * result tables (grid search results, wb.bench tables, metrics) are turned
 * into typed columns for wb_sql_write_columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wb/sql.h"
#include "wblua.h"

/* a string argument without NUL bytes (a NUL would cut the name or query short) */
static const char *check_text(lua_State *L, int idx, const char *what)
{
    size_t n;
    if (lua_type(L, idx) != LUA_TSTRING) return luaL_typeerror(L, idx, what), NULL;
    const char *s = lua_tolstring(L, idx, &n);
    if (strlen(s) != n) wbl_argerror(L, idx, "%s contains a NUL byte at position %d", what, (int)strlen(s) + 1);
    return s;
}

/* every key of the options table (argument t) is one of `known` */
static void check_keys(lua_State *L, int t, const char *const *known)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        int ok = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; known[i]; i++) ok |= !strcmp(lua_tostring(L, -1), known[i]);
        if (!ok) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; known[i]; i++) {
                if (i) luaL_addstring(&b, ", ");
                luaL_addstring(&b, known[i]);
            }
            luaL_pushresult(&b);
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2);
            wbl_argerror(L, t, "unknown option '%s' (options: %s)", k, lua_tostring(L, -1));
        }
    }
}

/* a list of column names (or one name): an array in a userdata left on the stack */
static const char **opt_names(lua_State *L, int t, const char *key, int64_t *n)
{
    *n = 0;
    lua_getfield(L, t, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) == LUA_TSTRING) {
        const char *one = lua_tostring(L, -1);
        lua_pop(L, 1);
        const char **a = lua_newuserdatauv(L, sizeof *a, 0);
        a[0] = one;
        *n = 1;
        return a;
    }
    if (!lua_istable(L, -1)) wbl_argerror(L, t, "%s must be a list of column names, got %s", key, luaL_typename(L, -1));
    int64_t len = (int64_t)lua_rawlen(L, -1);
    const char **a = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *a, 0);
    lua_insert(L, -2);
    for (int64_t i = 0; i < len; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            wbl_argerror(L, t, "%s[%d] must be a column name (a string), got %s", key, (int)i + 1, luaL_typename(L, -1));
        a[i] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    *n = len;
    return a;
}

/* wb.sql.read(url, table_or_query, {partition_column =, partitions =, bounds = {...},
 *             label =, columns = {...}, drop = {...}, dtype = {col = "number"|"category"},
 *             max_levels =}) -> dataset */
static int l_read(lua_State *L)
{
    const char *url = check_text(L, 1, "URL");
    const char *src = check_text(L, 2, "table name or query");
    if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
    wb_sql_read_opts o;
    wb_sql_read_opts_init(&o);
    if (!lua_isnoneornil(L, 3)) {
        static const char *const known[] = {"partition_column", "partitions", "bounds", "label", "columns",
                                            "drop", "dtype", "max_levels", NULL};
        check_keys(L, 3, known);
        lua_getfield(L, 3, "partition_column");
        if (lua_type(L, -1) == LUA_TSTRING) o.partition_column = lua_tostring(L, -1);
        else if (!lua_isnil(L, -1)) wbl_argerror(L, 3, "partition_column must be a column name, got %s", luaL_typename(L, -1));
        lua_pop(L, 1);
        o.partitions = wbl_opt_integer(L, 3, "partitions", 0, 1, 1 << 20);
        o.max_levels = wbl_opt_integer(L, 3, "max_levels", 0, 1, (lua_Integer)1 << 40);
        lua_getfield(L, 3, "label");
        if (lua_type(L, -1) == LUA_TSTRING) o.label = lua_tostring(L, -1);
        else if (!lua_isnil(L, -1) && !(lua_isboolean(L, -1) && !lua_toboolean(L, -1)))
            wbl_argerror(L, 3, "label must be a column name or false, got %s", luaL_typename(L, -1));
        lua_pop(L, 1);
        lua_getfield(L, 3, "bounds");
        if (!lua_isnil(L, -1)) {
            if (!lua_istable(L, -1)) wbl_argerror(L, 3, "bounds must be a list of numbers {lo, hi} or {b0, b1, ..., bk}, got %s", luaL_typename(L, -1));
            int64_t n = (int64_t)lua_rawlen(L, -1);
            if (n < 2 || n > (1 << 20)) wbl_argerror(L, 3, "bounds must hold 2 or more numbers, got %lld", (long long)n);
            double *b = lua_newuserdatauv(L, (size_t)n * sizeof *b, 0);
            lua_insert(L, -2);
            for (int64_t i = 0; i < n; i++) {
                lua_rawgeti(L, -1, (lua_Integer)i + 1);
                if (!lua_isnumber(L, -1)) wbl_argerror(L, 3, "bounds[%d] must be a number, got %s", (int)i + 1, luaL_typename(L, -1));
                b[i] = lua_tonumber(L, -1);
                lua_pop(L, 1);
                if (!isfinite(b[i]) || (i && !(b[i] > b[i - 1])))
                    wbl_argerror(L, 3, "bounds must be finite and increasing, got bounds[%d] = %g", (int)i + 1, b[i]);
            }
            o.bounds = b;
            o.nbounds = n;
        }
        lua_pop(L, 1);
        o.columns = opt_names(L, 3, "columns", &o.ncolumns);
        o.drop = opt_names(L, 3, "drop", &o.ndrop);
        lua_getfield(L, 3, "dtype");
        if (!lua_isnil(L, -1)) {
            if (!lua_istable(L, -1)) wbl_argerror(L, 3, "dtype must be a table {column = \"number\"|\"category\"}, got %s", luaL_typename(L, -1));
            int64_t n = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                n++;
                lua_pop(L, 1);
            }
            const char **names = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *names, 0);
            int *types = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *types, 0);
            lua_rotate(L, -3, 2);
            int64_t k = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                const char *t = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
                if (lua_type(L, -2) != LUA_TSTRING) wbl_argerror(L, 3, "dtype: its keys must be column names");
                if (!t || (strcmp(t, "number") && strcmp(t, "category")))
                    wbl_argerror(L, 3, "dtype.%s must be \"number\" or \"category\", got %s", lua_tostring(L, -2),
                                 t ? t : luaL_typename(L, -1));
                names[k] = lua_tostring(L, -2);
                types[k++] = !strcmp(t, "category") ? WB_COL_CATEGORY : WB_COL_NUMBER;
                lua_pop(L, 1);
            }
            o.dtype_names = names;
            o.dtype_types = types;
            o.ndtype = k;
        }
        lua_pop(L, 1);
    }
    wb_dataset *d;
    if (wb_sql_read(wbl_exec(L), url, src, &o, &d)) return wbl_error(L);
    wbl_push_dataset(L, d);
    return 1;
}

/* ------------------------------------------------------------ result tables */

/* what write_columns keeps (freed by __gc, so errors raised midway leak nothing) */
typedef struct cols_box {
    int64_t ncol, n;
    wb_sql_column *cols;
    char **names;
    double **num;
    const char ***text;
} cols_box;

static int box_gc(lua_State *L)
{
    cols_box *b = lua_touserdata(L, 1);
    for (int64_t j = 0; j < b->ncol; j++) {
        free(b->names ? b->names[j] : NULL);
        free(b->num ? b->num[j] : NULL);
        free(b->text ? (void *)b->text[j] : NULL);
    }
    free(b->cols);
    free(b->names);
    free(b->num);
    free(b->text);
    memset(b, 0, sizeof *b);
    return 0;
}

/* row r's cell of column c (name at stack index `name`, position j): r[name] or r[j] */
static int push_cell(lua_State *L, int row, int name, int64_t j)
{
    if (lua_getfield(L, row, lua_tostring(L, name)) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_rawgeti(L, row, (lua_Integer)j + 1);
    }
    return lua_type(L, -1);
}

/* the value at the top (left there) as text for a text column (tables as
 * JSON), kept in the anchor table at index `anchor` so that it lives while
 * written; row i and column `name` for messages */
static const char *cell_text(lua_State *L, int anchor, int64_t i, const char *name)
{
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE) {
        lua_getglobal(L, "require");
        lua_pushstring(L, "wb.table");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "json_value");
        lua_remove(L, -2);
        lua_pushvalue(L, -2);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK)
            wbl_argerror(L, 1, "row %d, column \"%s\": %s", (int)i + 1, name,
                         lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "a table that cannot be written as JSON");
    } else if (t == LUA_TBOOLEAN)
        lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
    else
        luaL_tolstring(L, -1, NULL);
    const char *s = lua_tostring(L, -1);
    lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1); /* the value stays at the top */
    return s;
}

/* a result table -> typed columns in the box (pushed); x at index 1 */
static cols_box *table_columns(lua_State *L, int x)
{
    int top = lua_gettop(L);
    (void)top;
    /* the column names: x.columns, else the keys of the rows (sorted), else
     * x's own keys (one row: a table of metrics) */
    lua_newtable(L); /* names */
    int names = lua_gettop(L);
    lua_newtable(L); /* rows */
    int rows = lua_gettop(L);
    lua_newtable(L); /* anchor for converted strings */
    int anchor = lua_gettop(L);
    if (lua_getfield(L, x, "columns") == LUA_TTABLE) {
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING) wbl_argerror(L, 1, "columns[%d] must be a column name", (int)i);
            lua_rawseti(L, names, i);
        }
        lua_pop(L, 1);
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, x); i++) {
            lua_rawgeti(L, x, i);
            if (!lua_istable(L, -1)) wbl_argerror(L, 1, "row %d must be a table, got %s", (int)i, luaL_typename(L, -1));
            lua_rawseti(L, rows, i);
        }
    } else {
        lua_pop(L, 1);
        int rowlist = lua_rawlen(L, x) > 0;
        if (rowlist)
            for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, x); i++) {
                lua_rawgeti(L, x, i);
                if (!lua_istable(L, -1)) wbl_argerror(L, 1, "row %d must be a table, got %s", (int)i, luaL_typename(L, -1));
                lua_rawseti(L, rows, i);
            }
        else {
            lua_pushvalue(L, x);
            lua_rawseti(L, rows, 1);
        }
        /* the names: string keys of the rows, sorted */
        lua_newtable(L);
        int set = lua_gettop(L);
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, rows); i++) {
            lua_rawgeti(L, rows, i);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                if (lua_type(L, -1) == LUA_TSTRING) {
                    lua_pushvalue(L, -1);
                    lua_pushboolean(L, 1);
                    lua_rawset(L, set);
                }
            }
            lua_pop(L, 1);
        }
        lua_getglobal(L, "table");
        lua_getfield(L, -1, "sort");
        lua_remove(L, -2);
        lua_Integer k = 0;
        lua_pushnil(L);
        while (lua_next(L, set)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_rawseti(L, names, ++k);
        }
        lua_pushvalue(L, names);
        lua_call(L, 1, 0);
        lua_pop(L, 1); /* set */
    }
    int64_t ncol = (int64_t)lua_rawlen(L, names), n = (int64_t)lua_rawlen(L, rows);
    if (ncol == 0) wbl_argerror(L, 1, "a table with no columns to write");
    cols_box *b = lua_newuserdatauv(L, sizeof *b, 1);
    memset(b, 0, sizeof *b);
    lua_newtable(L);
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, anchor);
    lua_setiuservalue(L, -2, 1);
    b->cols = calloc((size_t)ncol, sizeof *b->cols);
    b->names = calloc((size_t)ncol, sizeof *b->names);
    b->num = calloc((size_t)ncol, sizeof *b->num);
    b->text = calloc((size_t)ncol, sizeof *b->text);
    if (!b->cols || !b->names || !b->num || !b->text) luaL_error(L, "out of memory");
    b->ncol = ncol;
    b->n = n;
    for (int64_t j = 0; j < ncol; j++) {
        lua_rawgeti(L, names, (lua_Integer)j + 1);
        int name = lua_gettop(L);
        b->names[j] = strdup(lua_tostring(L, name));
        if (!b->names[j]) luaL_error(L, "out of memory");
        /* the column's type: text if any value is a string or a table */
        int text = 0, integer = 1;
        for (int64_t i = 0; i < n; i++) {
            lua_rawgeti(L, rows, (lua_Integer)i + 1);
            int t = push_cell(L, lua_gettop(L), name, j);
            if (t == LUA_TSTRING || t == LUA_TTABLE) text = 1;
            else if (t == LUA_TNUMBER && !lua_isinteger(L, -1)) integer = 0;
            else if (t != LUA_TNUMBER && t != LUA_TBOOLEAN && t != LUA_TNIL)
                wbl_argerror(L, 1, "row %d, column \"%s\": a %s cannot be written", (int)i + 1, b->names[j], luaL_typename(L, -1));
            lua_pop(L, 2);
        }
        b->cols[j].name = b->names[j];
        b->cols[j].type = text ? WB_COL_CATEGORY : WB_COL_NUMBER;
        b->cols[j].integer = integer;
        if (text) b->text[j] = calloc((size_t)(n ? n : 1), sizeof *b->text[j]);
        else b->num[j] = malloc((size_t)(n ? n : 1) * sizeof *b->num[j]);
        if (text ? !b->text[j] : !b->num[j]) luaL_error(L, "out of memory");
        for (int64_t i = 0; i < n; i++) {
            lua_rawgeti(L, rows, (lua_Integer)i + 1);
            int t = push_cell(L, lua_gettop(L), name, j);
            if (text) b->text[j][i] = t == LUA_TNIL ? NULL : cell_text(L, anchor, i, b->names[j]);
            else b->num[j][i] = t == LUA_TNIL ? NAN : t == LUA_TBOOLEAN ? lua_toboolean(L, -1) : lua_tonumber(L, -1);
            lua_pop(L, 2);
        }
        b->cols[j].num = b->num[j];
        b->cols[j].text = b->text[j];
        lua_pop(L, 1); /* name */
    }
    return b;
}

/* wb.sql.write(x, url, table, {if_exists = "fail"|"replace"|"append"}) -> rows written;
 * x: a dataset or vector, or a result table (rows of named columns) */
static int l_write(lua_State *L)
{
    wb_dataset *d = wbl_to_dataset(L, 1);
    if (!d && !lua_istable(L, 1))
        return wbl_argerror(L, 1, "dataset, vector or result table expected, got %s", luaL_typename(L, 1));
    const char *url = check_text(L, 2, "URL");
    const char *table = check_text(L, 3, "table name");
    if (!*table) return wbl_argerror(L, 3, "table name expected, got an empty string");
    if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TTABLE);
    int if_exists = WB_SQL_FAIL;
    if (!lua_isnoneornil(L, 4)) {
        static const char *const known[] = {"if_exists", NULL};
        check_keys(L, 4, known);
        lua_getfield(L, 4, "if_exists");
        if (!lua_isnil(L, -1)) {
            const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            if (s && !strcmp(s, "fail")) if_exists = WB_SQL_FAIL;
            else if (s && !strcmp(s, "replace")) if_exists = WB_SQL_REPLACE;
            else if (s && !strcmp(s, "append")) if_exists = WB_SQL_APPEND;
            else wbl_argerror(L, 4, "if_exists must be \"fail\", \"replace\" or \"append\", got %s", s ? s : luaL_typename(L, -1));
        }
        lua_pop(L, 1);
    }
    if (d) {
        int64_t rows = 0;
        if (wb_sql_write(d, url, table, if_exists, &rows)) return wbl_error(L);
        lua_pushinteger(L, (lua_Integer)rows);
        return 1;
    }
    cols_box *b = table_columns(L, 1);
    if (wb_sql_write_columns(b->cols, b->ncol, b->n, url, table, if_exists)) return wbl_error(L);
    lua_pushinteger(L, (lua_Integer)b->n);
    return 1;
}

void wbl_open_sql(lua_State *L)
{
    static const luaL_Reg fns[] = {{"read", l_read}, {"write", l_write}, {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_pushstring(L, wb_sql_backends());
    lua_setfield(L, -2, "backends");
    lua_setfield(L, -2, "sql");
}
