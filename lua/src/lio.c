/* lio.c — wb.save / wb.load: files in LIBSVM, CSV and NPY. */
#include <stdlib.h>
#include <string.h>

#include "wblua.h"

static int opt_bool(lua_State *L, int t, const char *k, int def)
{
    if (lua_isnoneornil(L, t)) return def;
    lua_getfield(L, t, k);
    int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static int format_of(lua_State *L, int t, int arg)
{
    if (lua_isnoneornil(L, t)) return WB_FMT_AUTO;
    lua_getfield(L, t, "format");
    int f = WB_FMT_AUTO;
    if (!lua_isnil(L, -1)) {
        const char *s = lua_tostring(L, -1);
        if (s && (!strcmp(s, "libsvm") || !strcmp(s, "svm"))) f = WB_FMT_LIBSVM;
        else if (s && !strcmp(s, "csv")) f = WB_FMT_CSV;
        else if (s && !strcmp(s, "npy")) f = WB_FMT_NPY;
        else wbl_argerror(L, arg, "format must be one of \"libsvm\", \"csv\", \"npy\", got %s", s ? s : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return f;
}

/* an optional count option of wb.load's table (argument 2): an integer >= 1 */
static lua_Integer opt_count(lua_State *L, const char *key, lua_Integer dflt)
{
    lua_getfield(L, 2, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return dflt;
    }
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < 1)
        wbl_argerror(L, 2, "%s must be an integer >= 1, got %s", key,
                     lua_type(L, -1) == LUA_TNUMBER || lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TBOOLEAN
                         ? luaL_tolstring(L, -1, NULL)
                         : luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* a list of column names option: a table of strings (or one string) into an
 * array that is a userdata left on the stack (freed by the collector; the
 * strings stay in the options table); NULL when absent */
static const char **opt_names(lua_State *L, const char *key, int64_t *n)
{
    *n = 0;
    lua_getfield(L, 2, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) == LUA_TSTRING) { /* one name */
        const char *one = lua_tostring(L, -1);
        lua_pop(L, 1);
        const char **a = lua_newuserdatauv(L, sizeof *a, 0);
        a[0] = one;
        *n = 1;
        return a;
    }
    if (!lua_istable(L, -1)) wbl_argerror(L, 2, "%s must be a list of column names, got %s", key, luaL_typename(L, -1));
    int64_t len = (int64_t)lua_rawlen(L, -1);
    const char **a = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *a, 0);
    lua_insert(L, -2); /* the array below the list */
    for (int64_t i = 0; i < len; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            wbl_argerror(L, 2, "%s[%d] must be a column name (a string), got %s", key, (int)i + 1, luaL_typename(L, -1));
        a[i] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    *n = len;
    return a;
}

/* wb.load's options: a key not among them is refused (a misspelt or newer
 * option would otherwise be ignored and the file read as if it were absent) */
static const char *const load_keys[] = {"format", "header", "label", "features", "max_rows", "max_levels", "mmap",
                                         "qid", "ragged", "zero_based", "sep", "delimiter", "columns", "drop",
                                         "na_values", "dtype", NULL};

static void check_load_keys(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        lua_pop(L, 1);
        int ok = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; !ok && load_keys[i]; i++) ok = !strcmp(lua_tostring(L, -1), load_keys[i]);
        if (!ok) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; load_keys[i]; i++) {
                if (i) luaL_addstring(&b, ", ");
                luaL_addstring(&b, load_keys[i]);
            }
            luaL_pushresult(&b);
            wbl_argerror(L, 2, "unknown option %s; options: %s",
                         lua_type(L, -2) == LUA_TSTRING ? lua_pushfstring(L, "'%s'", lua_tostring(L, -2))
                                                        : luaL_tolstring(L, -2, NULL),
                         lua_tostring(L, -1));
        }
    }
}

/* wb.load(path, {format=, header=, label="first"|"last"|name|index|false, features=, mmap=,
 *                zero_based=true|false|"auto", sep=|delimiter=, max_rows=, columns={...},
 *                drop={...}, dtype={col="number"|"category"}, na_values={...}, max_levels=,
 *                qid=}); path "-" reads standard input (CSV unless format= says) */
static int l_load(lua_State *L)
{
    const char *path = wbl_check_path(L, 1);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        check_load_keys(L);
    }
    wb_read_opts o;
    wb_read_opts_init(&o);
    o.format = format_of(L, 2, 2);
    if (o.format == WB_FMT_AUTO && strcmp(path, "-") == 0) o.format = WB_FMT_CSV;
    const char **columns = NULL, **drop = NULL, **dnames = NULL, **na = NULL;
    int *dtypes = NULL;
    if (!lua_isnoneornil(L, 2)) {
        lua_getfield(L, 2, "header");
        if (!lua_isnil(L, -1)) o.header = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, 2, "label");
        if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
            o.label = WB_LABEL_NONE;
        else if (lua_type(L, -1) == LUA_TSTRING) {
            const char *s = lua_tostring(L, -1);
            if (!strcmp(s, "first")) o.label = WB_LABEL_FIRST;
            else if (!strcmp(s, "last")) o.label = WB_LABEL_LAST;
            else {
                o.label = WB_LABEL_NAME;
                o.label_name = s;
            }
        } else if (lua_type(L, -1) == LUA_TNUMBER) {
            int isint;
            lua_Integer k = lua_tointegerx(L, -1, &isint);
            if (!isint || k < 1) return wbl_argerror(L, 2, "label must be a column index >= 1, got %s", luaL_tolstring(L, -1, NULL));
            /* (a number: its text has no address) */
            o.label = WB_LABEL_INDEX;
            o.label_index = k;
        } else if (!lua_isnil(L, -1))
            return wbl_argerror(L, 2, "label must be \"first\", \"last\", a column name or index, or false, got %s", luaL_typename(L, -1));
        lua_pop(L, 1);
        o.features = opt_count(L, "features", o.features);
        o.max_rows = opt_count(L, "max_rows", o.max_rows);
        o.max_levels = opt_count(L, "max_levels", o.max_levels);
        o.mmap = opt_bool(L, 2, "mmap", o.mmap);
        o.qid = opt_bool(L, 2, "qid", o.qid);
        lua_getfield(L, 2, "ragged");
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "fill") == 0) o.ragged_fill = 1;
        else if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "error") == 0) o.ragged_fill = 0;
        else if (!lua_isnil(L, -1))
            return wbl_argerror(L, 2, "ragged must be \"error\" or \"fill\", got %s",
                                lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
        lua_pop(L, 1);
        lua_getfield(L, 2, "zero_based");
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "auto") == 0) o.zero_based = -1;
        else if (lua_isboolean(L, -1)) o.zero_based = lua_toboolean(L, -1);
        else if (!lua_isnil(L, -1))
            return wbl_argerror(L, 2, "zero_based must be true, false or \"auto\", got %s",
                                lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL)
                                                                                                 : luaL_typename(L, -1));
        lua_pop(L, 1);
        for (int k = 0; k < 2; k++) {
            const char *key = k ? "delimiter" : "sep";
            lua_getfield(L, 2, key);
            if (!lua_isnil(L, -1)) {
                size_t n;
                const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
                if (s && n == 2 && s[0] == '\\' && s[1] == 't') n = 1, s = "\t";
                if (!s || n != 1 || *s == '"' || *s == '\n' || *s == '\r')
                    return wbl_argerror(L, 2, "%s must be one character, got %s", key, s ? s : luaL_typename(L, -1));
                o.delimiter = *s;
            }
            lua_pop(L, 1);
        }
        columns = opt_names(L, "columns", &o.ncolumns);
        o.columns = columns;
        drop = opt_names(L, "drop", &o.ndrop);
        o.drop = drop;
        lua_getfield(L, 2, "na_values");
        int has_na = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (has_na) {
            na = opt_names(L, "na_values", &o.nna_values);
            o.na_values = na;
        }
        lua_getfield(L, 2, "dtype");
        if (!lua_isnil(L, -1)) {
            if (!lua_istable(L, -1)) {
                return wbl_argerror(L, 2, "dtype must be a table {column = \"number\"|\"category\"}, got %s", luaL_typename(L, -1));
            }
            int64_t n = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                n++;
                lua_pop(L, 1);
            }
            dnames = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *dnames, 0);
            dtypes = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *dtypes, 0);
            lua_rotate(L, -3, 2); /* the arrays below the dtype table */
            int64_t k = 0;
            const char *bad = NULL;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                const char *t = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
                if (lua_type(L, -2) != LUA_TSTRING) bad = "its keys must be column names";
                else if (!t || (strcmp(t, "number") && strcmp(t, "category")))
                    bad = lua_pushfstring(L, "dtype.%s must be \"number\" or \"category\", got %s", lua_tostring(L, -2),
                                          t ? t : luaL_typename(L, -2));
                if (bad) break;
                dnames[k] = lua_tostring(L, -2);
                dtypes[k++] = !strcmp(t, "category") ? WB_COL_CATEGORY : WB_COL_NUMBER;
                lua_pop(L, 1);
            }
            if (bad) return wbl_argerror(L, 2, "%s", bad);
            o.dtype_names = dnames;
            o.dtype_types = dtypes;
            o.ndtype = k;
        }
        lua_pop(L, 1);
    }
    wb_dataset *d;
    /* the names point into the options table (argument 2), alive meanwhile */
    int rc = wb_read(wbl_exec(L), path, &o, &d);
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, d);
    return 1;
}

/* wb.save(dataset, path, {format=, header=, meta=}) */
static int l_save(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    const char *path = wbl_check_path(L, 2);
    if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
    wb_write_opts o;
    wb_write_opts_init(&o);
    o.format = format_of(L, 3, 3);
    o.header = opt_bool(L, 3, "header", o.header);
    o.meta = opt_bool(L, 3, "meta", o.meta);
    if (wb_write(d, path, &o)) return wbl_error(L);
    lua_pushstring(L, path);
    return 1;
}

/* wb.core.read_meta(path) -> table or nil */
static int l_read_meta(lua_State *L)
{
    wb_meta m;
    int rc = wb_meta_read(wbl_check_path(L, 1), &m);
    if (rc == WB_ENOTFOUND) return 0;
    if (rc) return wbl_error(L);
    lua_newtable(L);
    lua_pushinteger(L, (lua_Integer)m.num_samples);
    lua_setfield(L, -2, "num_samples");
    lua_pushinteger(L, (lua_Integer)m.num_features);
    lua_setfield(L, -2, "num_features");
    lua_pushinteger(L, (lua_Integer)m.num_classes);
    lua_setfield(L, -2, "num_classes");
    lua_pushinteger(L, (lua_Integer)m.dataset_size);
    lua_setfield(L, -2, "dataset_size");
    return 1;
}

void wbl_open_io(lua_State *L)
{
    lua_pushcfunction(L, l_load);
    lua_setfield(L, -2, "load");
    lua_pushcfunction(L, l_save);
    lua_setfield(L, -2, "save");
    lua_getfield(L, -1, "core");
    lua_pushcfunction(L, l_read_meta);
    lua_setfield(L, -2, "read_meta");
    lua_pop(L, 1);
}
