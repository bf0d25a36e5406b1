/* laux.c — what every C file of the Lua binding uses: the executors new
 * work runs on (kept in the registry), errors and argument checks in Lua's
 * style, options in a table argument, the userdata of wb's types (push, test,
 * check; their metatables and methods are in ldataset.c, lmodel.c, lcore.c),
 * parameter tables, and matrices from Lua tables or datasets. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wblua.h"

/* ---------------------------------------------------------- executors */

#define EXEC_KEY "wb.exec"
#define LOCAL_KEY "wb.localexec"

typedef struct exbox {
    wb_exec *ex;
} exbox;

static int exbox_gc(lua_State *L)
{
    exbox *b = lua_touserdata(L, 1);
    if (b->ex) wb_exec_unref(b->ex);
    b->ex = NULL;
    return 0;
}

static exbox *getbox(lua_State *L, const char *key)
{
    lua_getfield(L, LUA_REGISTRYINDEX, key);
    exbox *b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b;
}

static void newbox(lua_State *L, const char *key, wb_exec *ex)
{
    exbox *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->ex = ex;
    if (luaL_newmetatable(L, "wb.ExecBox")) {
        lua_pushcfunction(L, exbox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, key);
}

void wbl_exec_init(lua_State *L, wb_exec *local)
{
    newbox(L, LOCAL_KEY, local);
    newbox(L, EXEC_KEY, wb_exec_ref(local));
}

wb_exec *wbl_exec(lua_State *L) { return getbox(L, EXEC_KEY)->ex; }
wb_exec *wbl_local_exec(lua_State *L) { return getbox(L, LOCAL_KEY)->ex; }

void wbl_set_exec(lua_State *L, wb_exec *ex)
{
    exbox *b = getbox(L, EXEC_KEY);
    wb_exec *old = b->ex;
    b->ex = ex;
    if (old) wb_exec_unref(old);
}

/* ---------------------------------------------------- errors and options */

int wbl_error(lua_State *L)
{
    const char *m = wb_errmsg();
    lua_pushstring(L, m && *m ? m : "error");
    return lua_error(L);
}

const char *wbl_check_path(lua_State *L, int idx)
{
    size_t n;
    /* a number is not a path (Lua would turn 3 into the file "3") */
    if (lua_type(L, idx) != LUA_TSTRING) luaL_typeerror(L, idx, "path");
    const char *s = lua_tolstring(L, idx, &n);
    if (n == 0) luaL_argerror(L, idx, "path expected, got an empty string");
    if (strlen(s) != n) wbl_argerror(L, idx, "path contains a NUL byte at position %d", (int)strlen(s) + 1);
    if (n > 4096) wbl_argerror(L, idx, "path of %zu bytes, longer than 4096", n); /* not echoed in full */
    return s;
}

int wbl_argerror(lua_State *L, int arg, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return luaL_argerror(L, arg, msg);
}

/* field k of the table at t pushed (1), or nothing when it is nil (0) */
static int push_option(lua_State *L, int t, const char *k)
{
    if (lua_getfield(L, t, k) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    return 0;
}

double wbl_opt_number(lua_State *L, int t, const char *k, double def, const char *fname)
{
    if (!push_option(L, t, k)) return def;
    if (!lua_isnumber(L, -1))
        luaL_error(L, "bad argument #%d to '%s' (%s must be a number, got %s)", t, fname, k, luaL_typename(L, -1));
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

lua_Integer wbl_opt_integer(lua_State *L, int t, const char *k, lua_Integer def, lua_Integer lo, lua_Integer hi)
{
    if (!push_option(L, t, k)) return def;
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < lo || v > hi)
        wbl_argerror(L, t, "%s must be an integer in %lld..%lld, got %s", k, (long long)lo, (long long)hi,
                     lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL) : luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* ------------------------------------------------------------- userdata */

#define LIVE_KEY "wb.live_datasets"

void wbl_push_dataset(lua_State *L, wb_dataset *d)
{
    wbl_ds_box *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->d = d;
    luaL_setmetatable(L, WBL_DATASET);
    /* every dataset made is listed (weakly), so that wb.disconnect() can name
     * the ones a cluster takes with it (wbl_live_datasets) */
    if (lua_getfield(L, LUA_REGISTRYINDEX, LIVE_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, LIVE_KEY);
    }
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void wbl_live_datasets(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, LIVE_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
}

wb_dataset *wbl_to_dataset(lua_State *L, int idx)
{
    wbl_ds_box *u = luaL_testudata(L, idx, WBL_DATASET);
    return u ? u->d : NULL;
}

int wbl_values_are_vector(const wb_dataset *d)
{
    return d->is_vector || (d->d == 1 && !d->has_labels);
}

wb_dataset *wbl_check_dataset(lua_State *L, int idx)
{
    wbl_ds_box *u = luaL_testudata(L, idx, WBL_DATASET);
    if (!u) {
        const char *msg = lua_pushfstring(L, "dataset expected, got %s", luaL_typename(L, idx));
        luaL_argerror(L, idx, msg);
    }
    if (!u->d) luaL_error(L, "attempt to use a freed dataset");
    return u->d;
}

void wbl_push_model(lua_State *L, wb_model *m)
{
    wbl_model_box *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->m = m;
    luaL_setmetatable(L, WBL_MODEL);
}

wb_model *wbl_check_model(lua_State *L, int idx)
{
    wbl_model_box *u = luaL_checkudata(L, idx, WBL_MODEL);
    if (!u->m) luaL_error(L, "attempt to use a freed model");
    return u->m;
}

void wbl_push_object(lua_State *L, wb_exec *ex, wb_oid id)
{
    wbl_object_box *o = lua_newuserdatauv(L, sizeof *o, 0);
    o->ex = wb_exec_ref(ex);
    o->id = id;
    luaL_setmetatable(L, WBL_OBJECT);
}

wb_oid wbl_check_object(lua_State *L, int idx, wb_exec **ex)
{
    wbl_object_box *o = luaL_checkudata(L, idx, WBL_OBJECT);
    if (!o->id) luaL_error(L, "attempt to use a freed object");
    if (ex) *ex = o->ex;
    return o->id;
}

/* ---------------------------------------------------- params and matrices */

static int is_array_table(lua_State *L, int idx)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    int count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        lua_pop(L, 1);
    }
    return n > 0 && count == n;
}

double *wbl_to_matrix(lua_State *L, int idx, int64_t *rows, int64_t *cols, const char **err)
{
    idx = lua_absindex(L, idx);
    *err = NULL;
    wb_dataset *d = wbl_to_dataset(L, idx);
    if (d) {
        double *x = malloc((size_t)(d->n * d->d > 0 ? d->n * d->d : 1) * 8);
        if (!x) {
            *err = "out of memory";
            return NULL;
        }
        if (wb_ds_read_rows(d, 0, d->n, x, NULL)) {
            free(x);
            *err = wb_errmsg();
            return NULL;
        }
        *rows = d->n;
        *cols = d->d;
        return x;
    }
    if (!lua_istable(L, idx) || !is_array_table(L, idx)) {
        *err = "a matrix must be a table of rows, a table of numbers, or a dataset";
        return NULL;
    }
    int64_t r = (int64_t)lua_rawlen(L, idx), c = -1;
    lua_rawgeti(L, idx, 1);
    int nested = lua_istable(L, -1);
    lua_pop(L, 1);
    if (!nested) {
        c = r;
        r = 1;
    } else {
        lua_rawgeti(L, idx, 1);
        c = (int64_t)lua_rawlen(L, -1);
        lua_pop(L, 1);
    }
    double *x = malloc((size_t)(r * c > 0 ? r * c : 1) * 8);
    if (!x) {
        *err = "out of memory";
        return NULL;
    }
    for (int64_t i = 0; i < r; i++) {
        if (nested) {
            lua_rawgeti(L, idx, (lua_Integer)i + 1);
            if (!lua_istable(L, -1) || (int64_t)lua_rawlen(L, -1) != c) {
                lua_pop(L, 1);
                free(x);
                *err = "the rows of a matrix must be tables of the same length";
                return NULL;
            }
            for (int64_t j = 0; j < c; j++) {
                lua_rawgeti(L, -1, (lua_Integer)j + 1);
                int ok;
                x[i * c + j] = lua_tonumberx(L, -1, &ok);
                lua_pop(L, 1);
                if (!ok) {
                    lua_pop(L, 1);
                    free(x);
                    *err = "a matrix must hold numbers only";
                    return NULL;
                }
            }
            lua_pop(L, 1);
        } else {
            for (int64_t j = 0; j < c; j++) {
                lua_rawgeti(L, idx, (lua_Integer)j + 1);
                int ok;
                x[j] = lua_tonumberx(L, -1, &ok);
                lua_pop(L, 1);
                if (!ok) {
                    free(x);
                    *err = "a matrix must hold numbers only";
                    return NULL;
                }
            }
        }
    }
    *rows = r;
    *cols = c;
    return x;
}

/* the table on top as a list parameter (WB_P_LIST) when it is empty or a
 * sequence of names and integers with at least one name ({"age", 3});
 * returns 1 when it is not such a table (a matrix, perhaps), else 0 or an
 * error code */
static int list_param(lua_State *L, wb_params *p, const char *k)
{
    int t = lua_gettop(L);
    if (lua_getmetatable(L, t)) {
        lua_pop(L, 1);
        return 1;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, t);
    int count = 0, names = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        count++;
        if (lua_type(L, -1) == LUA_TSTRING) names++;
        else if (!lua_isinteger(L, -1)) names = -1000000;
        lua_pop(L, 1);
    }
    if (count != n || (n > 0 && names <= 0)) return 1;
    const char **items = calloc((size_t)n + 1, sizeof *items);
    int *idx = calloc((size_t)n + 1, sizeof *idx);
    if (!items || !idx) {
        free(items);
        free(idx);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    int rc = lua_checkstack(L, (int)n + 2) ? 0 : wb_seterr(WB_ENOMEM, "a list of %lld items is too long", (long long)n);
    /* the items stay on the stack while their strings are used (numbers
     * are converted to text in their stack slots, not in the table) */
    int below = 0;
    for (lua_Integer i = 1; !rc && i <= n; i++) {
        lua_rawgeti(L, t, i);
        idx[i - 1] = lua_type(L, -1) == LUA_TNUMBER;
        if (idx[i - 1] && lua_tointeger(L, -1) < 1) below = 1;
        items[i - 1] = lua_tostring(L, -1);
    }
    if (!rc && below) rc = wb_params_set_other(p, k, "a list with an index below 1");
    else if (!rc) rc = wb_params_set_list(p, k, items, idx, (int64_t)n);
    lua_settop(L, t);
    free(items);
    free(idx);
    return rc;
}

wb_params *wbl_check_params(lua_State *L, int idx, const char *fname)
{
    idx = lua_absindex(L, idx);
    wb_params *p = wb_params_new();
    if (!p) luaL_error(L, "out of memory");
    if (lua_isnoneornil(L, idx)) return p;
    if (!lua_istable(L, idx)) {
        wb_params_free(p);
        luaL_error(L, "bad argument #%d to '%s' (table of parameters expected, got %s)", idx, fname,
                   luaL_typename(L, idx));
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            wb_params_free(p);
            luaL_error(L, "bad argument #%d to '%s' (parameter names must be strings)", idx, fname);
        }
        const char *k = lua_tostring(L, -2);
        int rc = 0;
        switch (lua_type(L, -1)) {
        case LUA_TNUMBER:
            if (lua_isinteger(L, -1))
                rc = wb_params_set_int(p, k, (int64_t)lua_tointeger(L, -1));
            else
                rc = wb_params_set_num(p, k, lua_tonumber(L, -1));
            break;
        case LUA_TBOOLEAN: rc = wb_params_set_bool(p, k, lua_toboolean(L, -1)); break;
        case LUA_TSTRING: rc = wb_params_set_str(p, k, lua_tostring(L, -1)); break;
        case LUA_TTABLE:
        case LUA_TUSERDATA: {
            int64_t r, c;
            const char *err;
            if (lua_type(L, -1) == LUA_TTABLE && (rc = list_param(L, p, k)) != 1) break;
            rc = 0;
            if (lua_type(L, -1) == LUA_TUSERDATA && !wbl_to_dataset(L, -1)) {
                rc = wb_params_set_other(p, k, "a userdata");
                break;
            }
            double *x = wbl_to_matrix(L, -1, &r, &c, &err);
            if (!x)
                rc = wb_params_set_other(p, k, "a table that is not a matrix");
            else {
                rc = wb_params_set_array(p, k, x, r, c);
                free(x);
            }
            break;
        }
        default: {
            char what[64];
            snprintf(what, sizeof what, "a %s", luaL_typename(L, -1));
            rc = wb_params_set_other(p, k, what);
        }
        }
        lua_pop(L, 1);
        if (rc) {
            wb_params_free(p);
            wbl_error(L);
        }
    }
    return p;
}

void wbl_push_params(lua_State *L, const wb_params *p)
{
    lua_newtable(L);
    for (int i = 0; i < wb_params_count(p); i++) {
        const char *k = wb_params_name_at(p, i);
        switch (wb_params_type(p, k)) {
        case WB_P_INT: lua_pushinteger(L, (lua_Integer)wb_params_int(p, k)); break;
        case WB_P_NUM: lua_pushnumber(L, wb_params_num(p, k)); break;
        case WB_P_BOOL: lua_pushboolean(L, wb_params_bool(p, k)); break;
        case WB_P_STR: lua_pushstring(L, wb_params_str(p, k)); break;
        case WB_P_LIST: {
            lua_newtable(L);
            int64_t index;
            const char *item;
            for (int64_t i2 = 0; (item = wb_params_list(p, k, i2, &index)) != NULL; i2++) {
                if (index > 0) lua_pushinteger(L, (lua_Integer)index);
                else lua_pushstring(L, item);
                lua_rawseti(L, -2, (lua_Integer)i2 + 1);
            }
            break;
        }
        case WB_P_ARRAY: {
            int64_t r, c;
            const double *a = wb_params_array(p, k, &r, &c);
            lua_createtable(L, (int)r, 0);
            for (int64_t i2 = 0; i2 < r; i2++) {
                lua_createtable(L, (int)c, 0);
                for (int64_t j = 0; j < c; j++) {
                    lua_pushnumber(L, a[i2 * c + j]);
                    lua_rawseti(L, -2, (lua_Integer)j + 1);
                }
                lua_rawseti(L, -2, (lua_Integer)i2 + 1);
            }
            break;
        }
        default: continue;
        }
        lua_setfield(L, -2, k);
    }
}
