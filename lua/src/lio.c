/* lio.c — wb.save / wb.load: files in LIBSVM, CSV and NPY. */
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
    if (!isint || v < 1) wbl_argerror(L, 2, "%s must be an integer >= 1, got %s", key, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return v;
}

/* wb.load(path, {format=, header=, label="first"|"last"|name|false, features=, mmap=,
 *                zero_based=, delimiter=, max_rows=}) */
static int l_load(lua_State *L)
{
    const char *path = wbl_check_path(L, 1);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    wb_read_opts o;
    wb_read_opts_init(&o);
    o.format = format_of(L, 2, 2);
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
        } else if (!lua_isnil(L, -1))
            return wbl_argerror(L, 2, "label must be \"first\", \"last\", a column name or false, got %s", luaL_typename(L, -1));
        lua_pop(L, 1);
        o.features = opt_count(L, "features", o.features);
        o.max_rows = opt_count(L, "max_rows", o.max_rows);
        o.mmap = opt_bool(L, 2, "mmap", o.mmap);
        o.zero_based = opt_bool(L, 2, "zero_based", o.zero_based);
        lua_getfield(L, 2, "delimiter");
        if (!lua_isnil(L, -1)) {
            size_t n;
            const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
            if (!s || n != 1 || *s == '"' || *s == '\n' || *s == '\r')
                return wbl_argerror(L, 2, "delimiter must be one character, got %s",
                                    s ? s : luaL_typename(L, -1));
            o.delimiter = *s;
        }
        lua_pop(L, 1);
    }
    wb_dataset *d;
    /* label_name points into the options table (argument 2), alive meanwhile */
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
