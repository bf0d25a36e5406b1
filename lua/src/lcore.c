/* lcore.c — wb.core: the executor's primitives for Lua code (plugins' Lua
 * front-ends, grid search, metrics): objects, submit/wait/get/put, map,
 * map_sum, map_dataset, row selection, packing numbers into argument bytes. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wblua.h"

static int o_gc(lua_State *L)
{
    wbl_object_box *o = luaL_checkudata(L, 1, WBL_OBJECT);
    if (o->id) wb_exec_release(o->ex, o->id);
    if (o->ex) wb_exec_unref(o->ex);
    o->id = 0;
    o->ex = NULL;
    return 0;
}

static int o_tostring(lua_State *L)
{
    wbl_object_box *o = luaL_checkudata(L, 1, WBL_OBJECT);
    lua_pushfstring(L, "Object %p", (void *)(uintptr_t)o->id);
    return 1;
}

static int o_id(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)wbl_check_object(L, 1, NULL));
    return 1;
}

/* the executor of the first object in the list at idx (errors name argument
 * idx: checking the element in place named argument #-1, found by
 * tests/lua/api_sweep.lua) */
static void first_exec(lua_State *L, int idx, wb_exec **ex)
{
    if (lua_rawlen(L, idx) == 0) return;
    lua_rawgeti(L, idx, 1);
    wbl_object_box *o = luaL_testudata(L, -1, WBL_OBJECT);
    if (!o || !o->id) luaL_argerror(L, idx, "element 1 is not an object");
    *ex = o->ex;
    lua_pop(L, 1);
}

/* a list of objects at idx -> oids (malloc'd); all must be on ex */
static wb_oid *check_objects(lua_State *L, int idx, wb_exec *ex, int *n)
{
    if (lua_isnoneornil(L, idx)) {
        *n = 0;
        return NULL;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    int k = (int)lua_rawlen(L, idx);
    wb_oid *ids = malloc((size_t)(k ? k : 1) * sizeof *ids);
    if (!ids) luaL_error(L, "out of memory");
    for (int i = 0; i < k; i++) {
        lua_rawgeti(L, idx, i + 1);
        wbl_object_box *o = luaL_testudata(L, -1, WBL_OBJECT);
        if (!o || !o->id || (ex && o->ex != ex)) {
            free(ids);
            luaL_argerror(L, idx, lua_pushfstring(L, "element %d is not an object of this executor", i + 1));
        }
        ids[i] = o->id;
        lua_pop(L, 1);
    }
    *n = k;
    return ids;
}

static int l_put(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    /* wb.core.put(bytes [, dataset or object]): on the executor of the second
     * argument when given, so that work on a dataset made before wb.cluster()
     * keeps its inputs together (found by tests/lua/api_sweep.lua: metrics
     * then failed with "element 1 is not an object of this executor") */
    wb_exec *ex = wbl_exec(L);
    if (!lua_isnoneornil(L, 2)) {
        wb_dataset *d = wbl_to_dataset(L, 2);
        wbl_object_box *o = d ? NULL : luaL_testudata(L, 2, WBL_OBJECT);
        if (d) ex = d->ex;
        else if (o && o->id) ex = o->ex;
        else return wbl_argerror(L, 2, "dataset or object expected, got %s", luaL_typename(L, 2));
    }
    wb_oid id;
    if (wb_exec_put(ex, s, n, &id)) return wbl_error(L);
    wbl_push_object(L, ex, id);
    return 1;
}

static int l_get(lua_State *L)
{
    wb_exec *ex;
    wb_oid id = wbl_check_object(L, 1, &ex);
    void *data;
    size_t size;
    if (wb_exec_wait(ex, &id, 1) || wb_exec_get(ex, id, &data, &size)) return wbl_error(L);
    lua_pushlstring(L, data, size);
    free(data);
    return 1;
}

/* wb.core.submit(kernel, {objects}, argbytes) -> object (a future) */
static int l_submit(lua_State *L)
{
    const char *k = luaL_checkstring(L, 1);
    if (!wb_kernel_find(k)) return wbl_argerror(L, 1, "no kernel named '%s'", k);
    size_t alen = 0;
    const char *arg = luaL_optlstring(L, 3, "", &alen);
    wb_exec *ex = wbl_exec(L);
    if (lua_istable(L, 2) && lua_rawlen(L, 2) > 0) { /* follow the inputs' executor */
        lua_rawgeti(L, 2, 1);
        wbl_object_box *o = luaL_testudata(L, -1, WBL_OBJECT);
        if (o && o->ex) ex = o->ex;
        lua_pop(L, 1);
    }
    int n;
    wb_oid *in = check_objects(L, 2, ex, &n), out;
    int rc = wb_exec_submit(ex, k, in, n, arg, alen, &out);
    free(in);
    if (rc) return wbl_error(L);
    wbl_push_object(L, ex, out);
    return 1;
}

/* wb.core.wait({objects}) -> true, or raises the first failure */
static int l_wait(lua_State *L)
{
    int n;
    luaL_checktype(L, 1, LUA_TTABLE);
    wb_exec *ex = NULL;
    first_exec(L, 1, &ex);
    wb_oid *ids = check_objects(L, 1, ex, &n);
    int rc = n ? wb_exec_wait(ex, ids, n) : 0;
    free(ids);
    if (rc) return wbl_error(L);
    lua_pushboolean(L, 1);
    return 1;
}

/* wb.core.map(kernel, dataset, {extra objects}, argbytes) -> {objects} */
static int l_map(lua_State *L)
{
    const char *k = luaL_checkstring(L, 1);
    if (!wb_kernel_find(k)) return wbl_argerror(L, 1, "no kernel named '%s'", k);
    wb_dataset *d = wbl_check_dataset(L, 2);
    int n;
    wb_oid *extra = check_objects(L, 3, d->ex, &n);
    size_t alen = 0;
    const char *arg = luaL_optlstring(L, 4, "", &alen);
    wb_oid *outs = calloc((size_t)(d->nparts ? d->nparts : 1), sizeof *outs);
    int rc = outs ? wb_exec_map(d->ex, k, d, extra, n, arg, alen, outs) : WB_ENOMEM;
    free(extra);
    if (rc) {
        free(outs);
        return wbl_error(L);
    }
    lua_createtable(L, d->nparts, 0);
    for (int i = 0; i < d->nparts; i++) {
        wbl_push_object(L, d->ex, outs[i]);
        lua_rawseti(L, -2, i + 1);
    }
    free(outs);
    return 1;
}

/* wb.core.map_sum(kernel, dataset, {extra}, argbytes, len) -> {numbers} */
static int l_map_sum(lua_State *L)
{
    const char *k = luaL_checkstring(L, 1);
    if (!wb_kernel_find(k)) return wbl_argerror(L, 1, "no kernel named '%s'", k);
    wb_dataset *d = wbl_check_dataset(L, 2);
    int n;
    size_t alen = 0;
    const char *arg = luaL_optlstring(L, 4, "", &alen);
    lua_Integer len = luaL_checkinteger(L, 5);
    if (len < 0 || len > (1 << 28)) return wbl_argerror(L, 5, "bad length");
    wb_oid *extra = check_objects(L, 3, d->ex, &n);
    double *out = calloc((size_t)(len ? len : 1), 8);
    int rc = out ? wb_exec_map_sum(d->ex, k, d, extra, n, arg, alen, out, (size_t)len) : WB_ENOMEM;
    free(extra);
    if (rc) {
        free(out);
        return wbl_error(L);
    }
    lua_createtable(L, (int)len, 0);
    for (lua_Integer i = 0; i < len; i++) {
        lua_pushnumber(L, out[i]);
        lua_rawseti(L, -2, i + 1);
    }
    free(out);
    return 1;
}

/* wb.core.map_dataset(kernel, dataset, {extra}, argbytes) -> dataset */
static int l_map_dataset(lua_State *L)
{
    const char *k = luaL_checkstring(L, 1);
    if (!wb_kernel_find(k)) return wbl_argerror(L, 1, "no kernel named '%s'", k);
    wb_dataset *d = wbl_check_dataset(L, 2), *o;
    int n;
    size_t alen = 0;
    const char *arg = luaL_optlstring(L, 4, "", &alen);
    wb_oid *extra = check_objects(L, 3, d->ex, &n);
    int rc = wb_exec_map_dataset(d->ex, k, d, extra, n, arg, alen, &o);
    free(extra);
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* wb.core.parts(dataset) -> {objects} (each a new reference) */
static int l_parts(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    lua_createtable(L, d->nparts, 0);
    for (int i = 0; i < d->nparts; i++) {
        if (wb_exec_ref_obj(d->ex, d->parts[i].oid)) return wbl_error(L);
        wbl_push_object(L, d->ex, d->parts[i].oid);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* wb.core.dataset({objects}) -> dataset over partition objects */
static int l_from_parts(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    wb_exec *ex = wbl_exec(L);
    first_exec(L, 1, &ex);
    int n;
    wb_oid *ids = check_objects(L, 1, ex, &n);
    wb_dataset *d;
    int rc = wb_host_table()->ds_from_parts(ex, ids, n, &d);
    free(ids);
    if (rc) return wbl_error(L);
    /* pushed first: Lua owns it, so an error below leaves nothing behind */
    wbl_push_dataset(L, d);
    /* wb.core.dataset(objects, like): the column names, types and levels and
     * the labels' name and levels of `like` (the same rows, cut otherwise) */
    if (!lua_isnoneornil(L, 2)) {
        wb_dataset *like = wbl_check_dataset(L, 2);
        if (like->d != d->d)
            return wbl_argerror(L, 2, "a dataset of %lld columns expected, got %lld", (long long)d->d, (long long)like->d);
        if (wb_ds_copy_meta(d, like)) return wbl_error(L);
    }
    return 1;
}

/* a list of numbers in field of the table at t -> an array owned by Lua (a
 * userdata left on the stack, so that a later error frees it) */
static double *num_array(lua_State *L, int t, const char *field, int *n)
{
    lua_getfield(L, t, field);
    if (lua_isnil(L, -1)) {
        *n = 0;
        return NULL; /* the nil stays on the stack as a placeholder */
    }
    if (!lua_istable(L, -1))
        wbl_argerror(L, t, "%s must be a table of numbers, got %s", field, luaL_typename(L, -1));
    lua_Unsigned k = lua_rawlen(L, -1);
    if (k > (1u << 24)) wbl_argerror(L, t, "%s has more than %d numbers", field, 1 << 24);
    double *a = lua_newuserdatauv(L, (size_t)(k ? k : 1) * sizeof *a, 0);
    for (lua_Unsigned i = 0; i < k; i++) {
        lua_rawgeti(L, -2, (lua_Integer)i + 1);
        int isnum;
        a[i] = lua_tonumberx(L, -1, &isnum);
        if (!isnum) wbl_argerror(L, t, "%s[%d] must be a number, got %s", field, (int)i + 1, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    lua_remove(L, -2); /* the list; its array stays */
    *n = (int)k;
    return a;
}

/* wb.core.select(dataset, {row_lo=, row_hi=, seed=, invert=, classes={}, lo={}, hi={}, nranges=})
 * (0-based rows; lo/hi per class, nranges each) -> dataset */
static int l_select(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    luaL_checktype(L, 2, LUA_TTABLE);
    wb_select s = {0};
    /* checked fields (found by tests/lua/api_sweep.lua: a wrong type named
     * argument #-1, nranges = 2^31 overflowed an int) */
    s.row_lo = (int64_t)wbl_opt_integer(L, 2, "row_lo", 0, 0, INT64_MAX);
    s.row_hi = (int64_t)wbl_opt_integer(L, 2, "row_hi", -1, -1, INT64_MAX);
    s.seed = (uint64_t)wbl_opt_integer(L, 2, "seed", 0, LUA_MININTEGER, LUA_MAXINTEGER);
    lua_getfield(L, 2, "invert");
    s.invert = lua_toboolean(L, -1);
    lua_pop(L, 1);
    s.nranges = (int)wbl_opt_integer(L, 2, "nranges", 0, 0, 1 << 20);
    int nc, nlo, nhi;
    double *cls = num_array(L, 2, "classes", &nc), *lo = num_array(L, 2, "lo", &nlo),
           *hi = num_array(L, 2, "hi", &nhi);
    s.nclasses = nc;
    s.classes = cls;
    s.lo = lo;
    s.hi = hi;
    int64_t want = (int64_t)(nc ? nc : 1) * s.nranges;
    int rc = 0;
    if (nlo != want || nhi != want) rc = wb_seterr(WB_EINVAL, "select: %d ranges given, %lld expected", nlo, (long long)want);
    if (!rc) rc = wb_ds_select(d, &s, &o);
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* wb.core.labels(dataset) -> Lua table of labels */
static int l_labels(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    double *y;
    if (wbl_values_are_vector(d)) {
        y = malloc((size_t)(d->n ? d->n : 1) * 8);
        if (!y) return luaL_error(L, "out of memory");
        if (wb_ds_read_rows(d, 0, d->n, y, NULL)) {
            free(y);
            return wbl_error(L);
        }
    } else if (wb_ds_labels(d, &y))
        return wbl_error(L);
    lua_createtable(L, (int)d->n, 0);
    for (int64_t i = 0; i < d->n; i++) {
        lua_pushnumber(L, y[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free(y);
    return 1;
}

/* wb.core.pack_doubles({...}) -> bytes; unpack_doubles(bytes) -> {...} */
static int l_pack_doubles(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t n = lua_rawlen(L, 1);
    luaL_Buffer b;
    double *p = (double *)luaL_buffinitsize(L, &b, n * 8);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 1, (lua_Integer)i + 1);
        int ok;
        p[i] = lua_tonumberx(L, -1, &ok);
        if (!ok) return wbl_argerror(L, 1, "element %d is not a number", (int)i + 1);
        lua_pop(L, 1);
    }
    luaL_pushresultsize(&b, n * 8);
    return 1;
}

static int l_unpack_doubles(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    lua_Integer off = luaL_optinteger(L, 2, 0);
    if (off < 0 || (size_t)off > n) return wbl_argerror(L, 2, "offset out of range");
    size_t k = (n - (size_t)off) / 8;
    lua_createtable(L, (int)k, 0);
    for (size_t i = 0; i < k; i++) {
        double v;
        memcpy(&v, s + off + i * 8, 8);
        lua_pushnumber(L, v);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* wb.core.params_encode(table) -> bytes (unchecked parameters, for kernel arguments) */
static int l_params_encode(lua_State *L)
{
    wb_params *p = wbl_check_params(L, 1, "params_encode");
    wb_buf b = {0};
    int rc = wb_params_encode(p, &b);
    wb_params_free(p);
    if (rc) {
        wb_buf_free(&b);
        return wbl_error(L);
    }
    lua_pushlstring(L, (const char *)b.p, b.len);
    wb_buf_free(&b);
    return 1;
}

/* wb.core.check_finite(dataset, who) -> true or raises naming the row */
static int l_check_finite(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    if (wb_ds_check_finite(d, luaL_optstring(L, 2, "data"))) return wbl_error(L);
    lua_pushboolean(L, 1);
    return 1;
}

/* wb.core.classes(dataset, who, max) -> sorted distinct integer labels */
static int l_classes(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1);
    double *c;
    int n;
    if (wb_ds_classes(d, luaL_optstring(L, 2, "data"), (int)luaL_optinteger(L, 3, 1000), &c, &n)) return wbl_error(L);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, c[i]);
        lua_rawseti(L, -2, i + 1);
    }
    free(c);
    return 1;
}

static int l_kernels(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; i < wb_kernel_count(); i++) {
        lua_pushstring(L, wb_kernel_name_at(i));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_interrupted(lua_State *L)
{
    lua_pushboolean(L, wb_interrupted());
    return 1;
}

static int l_progress(lua_State *L)
{
    wb_progress(luaL_checkstring(L, 1), luaL_checknumber(L, 2), luaL_checknumber(L, 3), luaL_optstring(L, 4, NULL));
    return 0;
}

/* wb.core.dir(path) -> the names in a folder (folders end in "/"), for
 * completing file names; raises when it cannot be read */
static int l_dir(lua_State *L)
{
    const char *path = wbl_check_path(L, 1);
    DIR *dir = opendir(path);
    if (!dir) return luaL_error(L, "%s: cannot read the folder", path);
    lua_newtable(L);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n < 100000) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        int isdir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            lua_pushfstring(L, "%s/%s", path, e->d_name);
            struct stat st;
            isdir = stat(lua_tostring(L, -1), &st) == 0 && S_ISDIR(st.st_mode);
            lua_pop(L, 1);
        }
        lua_pushfstring(L, "%s%s", e->d_name, isdir ? "/" : "");
        lua_rawseti(L, -2, ++n);
    }
    closedir(dir);
    return 1;
}

void wbl_open_core(lua_State *L)
{
    luaL_newmetatable(L, WBL_OBJECT);
    lua_pushcfunction(L, o_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, o_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, o_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);
    lua_pushcfunction(L, o_id);
    lua_setfield(L, -2, "id");
    lua_pushcfunction(L, l_get);
    lua_setfield(L, -2, "get");
    lua_pushcfunction(L, o_gc);
    lua_setfield(L, -2, "free");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        {"put", l_put},           {"get", l_get},
        {"submit", l_submit},     {"wait", l_wait},
        {"map", l_map},           {"map_sum", l_map_sum},
        {"map_dataset", l_map_dataset}, {"parts", l_parts},
        {"dataset", l_from_parts}, {"select", l_select},
        {"labels", l_labels},     {"pack_doubles", l_pack_doubles},
        {"unpack_doubles", l_unpack_doubles}, {"params_encode", l_params_encode},
        {"kernels", l_kernels},   {"interrupted", l_interrupted},
        {"progress", l_progress}, {"check_finite", l_check_finite},
        {"classes", l_classes},   {"dir", l_dir},
        {NULL, NULL}};
    lua_getfield(L, -1, "core");
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}
