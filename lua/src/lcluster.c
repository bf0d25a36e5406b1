/* lcluster.c — the cluster from Lua: wb.connect, wb.disconnect, wb.cluster,
 * wb.executor (with the workers of a cluster), and remote functions:
 * wb.remote(fn) sends the function's bytecode and its upvalues' values to
 * run as a task ("lua.call") in a Lua state of the worker thread that runs
 * it (one state per pool thread, on the local executor too). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wb/cluster.h"
#include "wb/mpi.h"
#include "wblua.h"

/* ---------------------------------------------------------- executors */

static void push_info(lua_State *L, wb_exec *ex)
{
    wb_exec_info i;
    wb_exec_info_get(ex, &i);
    lua_newtable(L);
    lua_pushstring(L, i.kind);
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, i.workers);
    lua_setfield(L, -2, "workers");
    lua_pushinteger(L, i.threads);
    lua_setfield(L, -2, "threads");
    if (i.address[0]) {
        lua_pushstring(L, i.address);
        lua_setfield(L, -2, "address");
    }
    if (wb_exec_is_cluster(ex)) {
        const char *d = wb_cluster_dashboard(ex);
        if (d && *d) {
            lua_pushstring(L, d);
            lua_setfield(L, -2, "dashboard");
        }
        wb_cluster_worker_info w[256];
        int n = wb_cluster_workers(ex, w, 256);
        if (n > 256) n = 256;
        lua_createtable(L, n, 0);
        for (int k = 0; k < n; k++) {
            lua_createtable(L, 0, 5);
            lua_pushinteger(L, w[k].id);
            lua_setfield(L, -2, "id");
            lua_pushstring(L, w[k].address);
            lua_setfield(L, -2, "address");
            lua_pushinteger(L, w[k].threads);
            lua_setfield(L, -2, "threads");
            lua_pushinteger(L, w[k].pid);
            lua_setfield(L, -2, "pid");
            lua_pushboolean(L, w[k].alive);
            lua_setfield(L, -2, "alive");
            lua_rawseti(L, -2, k + 1);
        }
        lua_setfield(L, -2, "worker_list");
    }
    if (wb_exec_is_mpi(ex)) { /* ranks = {{rank=, host=, pid=, threads=}, ...}, the driver first */
        wb_mpi_rank_info r[256];
        int n = wb_mpi_ranks(ex, r, 256);
        if (n > 256) n = 256;
        lua_pushinteger(L, n);
        lua_setfield(L, -2, "size");
        lua_pushstring(L, wb_mpi_library());
        lua_setfield(L, -2, "library");
        lua_createtable(L, n, 0);
        for (int k = 0; k < n; k++) {
            lua_createtable(L, 0, 4);
            lua_pushinteger(L, r[k].rank);
            lua_setfield(L, -2, "rank");
            lua_pushstring(L, r[k].host);
            lua_setfield(L, -2, "host");
            lua_pushinteger(L, r[k].pid);
            lua_setfield(L, -2, "pid");
            lua_pushinteger(L, r[k].threads);
            lua_setfield(L, -2, "threads");
            lua_rawseti(L, -2, k + 1);
        }
        lua_setfield(L, -2, "ranks");
    }
}

/* wb.executor() -> {kind, workers, threads, address, dashboard, worker_list} */
static int l_executor(lua_State *L)
{
    push_info(L, wbl_exec(L));
    return 1;
}

static const char *opt_string_field(lua_State *L, int t, const char *k, const char *fname)
{
    lua_getfield(L, t, k);
    const char *v = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "bad argument #%d to '%s' (%s must be a string, got %s)", t, fname, k, luaL_typename(L, -1));
        v = lua_tostring(L, -1);
    }
    lua_pop(L, 1);
    return v; /* stays valid: the table holds it */
}

static void check_keys(lua_State *L, int t, const char *fname, const char *const *allowed)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        int ok = lua_type(L, -1) == LUA_TSTRING;
        for (int i = 0; ok && allowed[i]; i++)
            if (!strcmp(lua_tostring(L, -1), allowed[i])) {
                ok = 2;
                break;
            }
        if (ok != 2) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; allowed[i]; i++) {
                if (i) luaL_addstring(&b, ", ");
                luaL_addstring(&b, allowed[i]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "bad argument #%d to '%s' (unknown option '%s'; options: %s)", t, fname,
                       lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?", lua_tostring(L, -1));
        }
    }
}

/* make ex the executor for new work (the old cluster, if any, is disconnected) */
static void switch_to(lua_State *L, wb_exec *ex)
{
    wb_exec *cur = wbl_exec(L);
    if (wb_exec_is_cluster(cur) && cur != ex) wb_cluster_disconnect(cur);
    wbl_set_exec(L, ex);
}

/* wb.connect("host:port", {token=, token_file=, timeout=, workers=}) -> executor info */
static int l_connect(lua_State *L)
{
    const char *addr = luaL_checkstring(L, 1);
    wb_connect_opts o;
    wb_connect_opts_init(&o);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        static const char *const keys[] = {"token", "token_file", "timeout", "workers", NULL};
        check_keys(L, 2, "connect", keys);
        o.token = opt_string_field(L, 2, "token", "connect");
        o.token_file = opt_string_field(L, 2, "token_file", "connect");
        o.timeout = wbl_opt_number(L, 2, "timeout", 10, "connect");
        double w = wbl_opt_number(L, 2, "workers", 0, "connect");
        if (!(o.timeout > 0 && o.timeout <= 86400))
            return wbl_argerror(L, 2, "timeout must be in (0, 86400] seconds, got %g", o.timeout);
        /* NaN-safe range checks before any cast (found by tests/lua/api_sweep.lua
         * under -fsanitize=float-cast-overflow: workers = NaN reached (int)) */
        if (!(w >= 0 && w <= 4096) || w != (int)w) return wbl_argerror(L, 2, "workers must be an integer in 0..4096, got %g", w);
        o.wait_workers = (int)w;
    }
    wb_exec *ex;
    if (wb_cluster_connect(addr, &o, &ex)) return wbl_error(L);
    switch_to(L, ex);
    push_info(L, ex);
    return 1;
}

/* wb.disconnect(): back to the local executor; true if a cluster was connected */
static int l_disconnect(lua_State *L)
{
    wb_exec *cur = wbl_exec(L);
    if (!wb_exec_is_cluster(cur)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    wb_cluster_disconnect(cur);
    wbl_set_exec(L, wb_exec_ref(wbl_local_exec(L)));
    lua_pushboolean(L, 1);
    return 1;
}

/* wb.cluster{workers=2, threads=1, memory_limit="4GB", dashboard=true, plugins={...}, timeout=30} */
static int l_cluster(lua_State *L)
{
    wb_local_cluster_opts o;
    wb_local_cluster_opts_init(&o);
    const char *plugins[33] = {NULL};
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        static const char *const keys[] = {"workers", "threads", "memory_limit", "dashboard", "plugins", "timeout",
                                           "heartbeat_ms", "heartbeat_timeout_ms", NULL};
        check_keys(L, 1, "cluster", keys);
        double w = wbl_opt_number(L, 1, "workers", 2, "cluster");
        double t = wbl_opt_number(L, 1, "threads", 0, "cluster");
        /* NaN-safe range checks before any cast (found by tests/lua/api_sweep.lua
         * under -fsanitize=float-cast-overflow: NaN and 1e300 reached (int)) */
        if (!(w >= 1 && w <= 256) || w != (int)w) return wbl_argerror(L, 1, "workers must be an integer in 1..256, got %g", w);
        if (!(t >= 0 && t <= 1024) || t != (int)t) return wbl_argerror(L, 1, "threads must be an integer in 0..1024 (0: the cores shared among the workers), got %g", t);
        o.workers = (int)w;
        o.threads = (int)t;
        o.timeout = wbl_opt_number(L, 1, "timeout", 30, "cluster");
        if (!(o.timeout > 0 && o.timeout <= 86400))
            return wbl_argerror(L, 1, "timeout must be in (0, 86400] seconds, got %g", o.timeout);
        double hb = wbl_opt_number(L, 1, "heartbeat_ms", 0, "cluster");
        double hbt = wbl_opt_number(L, 1, "heartbeat_timeout_ms", 0, "cluster");
        if (!(hb >= 0 && hb <= 3600000) || hb != (int)hb)
            return wbl_argerror(L, 1, "heartbeat_ms must be an integer in 0..3600000, got %g", hb);
        if (!(hbt >= 0 && hbt <= 3600000) || hbt != (int)hbt)
            return wbl_argerror(L, 1, "heartbeat_timeout_ms must be an integer in 0..3600000, got %g", hbt);
        o.heartbeat_ms = (int)hb;
        o.timeout_ms = (int)hbt;
        lua_getfield(L, 1, "memory_limit");
        if (lua_type(L, -1) == LUA_TNUMBER) {
            double m = lua_tonumber(L, -1);
            if (!(m >= 0 && m < 1.8e19)) return wbl_argerror(L, 1, "memory_limit must be a size (e.g. \"4GB\") or bytes, got %g", m);
            o.memory_limit = (uint64_t)m;
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            if (wb_size_parse(lua_tostring(L, -1), &o.memory_limit))
                return wbl_argerror(L, 1, "memory_limit: %s", wb_errmsg());
        } else if (!lua_isnil(L, -1))
            return wbl_argerror(L, 1, "memory_limit must be a size (e.g. \"4GB\") or bytes, got %s", luaL_typename(L, -1));
        lua_pop(L, 1);
        lua_getfield(L, 1, "dashboard");
        if (!lua_isnil(L, -1)) o.dashboard = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, 1, "plugins");
        if (lua_istable(L, -1)) {
            int n = (int)lua_rawlen(L, -1);
            if (n > 32) return wbl_argerror(L, 1, "at most 32 plugins, got %d", n);
            for (int i = 0; i < n; i++) {
                lua_rawgeti(L, -1, i + 1);
                if (lua_type(L, -1) != LUA_TSTRING) return wbl_argerror(L, 1, "plugins must be paths (strings)");
                plugins[i] = lua_tostring(L, -1);
                lua_pop(L, 1); /* the table keeps the string alive */
            }
            o.plugins = plugins;
        } else if (!lua_isnil(L, -1))
            return wbl_argerror(L, 1, "plugins must be a table of paths");
        lua_pop(L, 1);
    }
    wb_exec *ex;
    if (wb_local_cluster(&o, &ex)) return wbl_error(L);
    switch_to(L, ex);
    push_info(L, ex);
    return 1;
}

/* wb.core.replicate(object, worker_id): copy an object to a worker (blocks) */
static int l_replicate(lua_State *L)
{
    wb_exec *ex;
    wb_oid id = wbl_check_object(L, 1, &ex);
    lua_Integer w = luaL_checkinteger(L, 2);
    if (!wb_exec_is_cluster(ex)) return wbl_argerror(L, 1, "the object is not on a cluster");
    if (w < 1 || w >= (1 << 22)) return wbl_argerror(L, 2, "worker id out of range");
    if (wb_cluster_replicate(ex, &id, 1, (uint32_t)w)) return wbl_error(L);
    lua_pushboolean(L, 1);
    return 1;
}

/* wb.core.holder(object) -> worker id, or rank on MPI (0 on a local executor or when unknown) */
static int l_holder(lua_State *L)
{
    wb_exec *ex;
    wb_oid id = wbl_check_object(L, 1, &ex);
    /* on MPI: the rank (-1: a small put, on every rank) */
    lua_pushinteger(L, wb_exec_is_mpi(ex) ? wb_mpi_holder(ex, id) : (lua_Integer)wb_cluster_holder(ex, id));
    return 1;
}

/* ------------------------------------------------- values on the wire */

enum {
    V_NIL = 0, V_FALSE = 1, V_TRUE = 2, V_INT = 3, V_NUM = 4, V_STR = 5, V_TABLE = 6, V_REF = 7,
    V_FUNC = 8, V_INPUT = 9, V_LIBFN = 10, V_LIBTAB = 11
};
#define MAX_DEPTH 100

typedef struct enc {
    wb_buf *b; /* owned by a userdata on the stack: freed by the GC on errors */
    int seen;     /* stack index of a table: table/function -> id */
    int names;    /* stack index of the standard library names (value -> "lib.name") */
    int inputs;   /* stack index of the list of futures' objects (or 0) */
    int ninputs;
    int nextid;
    const char *where;
    int level; /* for the position in error messages */
} enc;

static __thread lua_State *buf_L; /* the state to raise out-of-memory in (per thread) */

static void put_raw(wb_buf *b, const void *p, size_t n)
{
    if (wb_buf_add(b, p, n) && buf_L) luaL_error(buf_L, "wb.remote: out of memory");
}
static void put_u8(wb_buf *b, int v)
{
    unsigned char c = (unsigned char)v;
    put_raw(b, &c, 1);
}
static void put_u32(wb_buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put_raw(b, c, 4);
}
static void put_lstr(wb_buf *b, const char *s, size_t n)
{
    put_u32(b, (uint32_t)n);
    put_raw(b, s, n);
}

static int encbuf_gc(lua_State *L)
{
    wb_buf *b = lua_touserdata(L, 1);
    wb_buf_free(b);
    return 0;
}

/* a byte buffer owned by a new userdata on the stack */
static wb_buf *push_encbuf(lua_State *L)
{
    wb_buf *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, "wb.EncBuf")) {
        lua_pushcfunction(L, encbuf_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b;
}

/* value -> "lib.name" for the functions and tables of the standard library */
static void push_lib_names(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, "wb.remote.names") == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_newtable(L);
    static const char *const libs[] = {"string", "table", "math", "utf8", "coroutine", "os", "io", NULL};
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) { /* globals that are C functions: print, pairs, ... */
        if (lua_type(L, -2) == LUA_TSTRING && lua_iscfunction(L, -1)) {
            lua_pushvalue(L, -1);
            lua_pushvalue(L, -3);
            lua_rawset(L, -6);
        }
        lua_pop(L, 1);
    }
    for (int i = 0; libs[i]; i++) {
        if (lua_getfield(L, -1, libs[i]) != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -1);
        lua_pushfstring(L, "%s", libs[i]);
        lua_rawset(L, -5); /* the table itself */
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_iscfunction(L, -1)) {
                lua_pushvalue(L, -1);
                lua_pushfstring(L, "%s.%s", libs[i], lua_tostring(L, -3));
                lua_rawset(L, -7); /* names, globals, lib, key, value, copy, name */
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1); /* globals */
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "wb.remote.names");
}

static int encode_value(lua_State *L, enc *e, int idx, int depth);

static int enc_error(lua_State *L, enc *e, const char *what)
{
    /* the position of the user's call (remote_encode is called from wb/cluster.lua) */
    luaL_where(L, e->level);
    lua_pushfstring(L, "wb.remote: cannot send %s (%s)", what, e->where);
    lua_concat(L, 2);
    return lua_error(L);
}

static int encode_function(lua_State *L, enc *e, int idx, int depth)
{
    wb_buf *b = e->b;
    /* the bytecode (with debug information: errors name lines) */
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "dump");
    lua_remove(L, -2);
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) return enc_error(L, e, "a function that string.dump refuses");
    size_t n;
    const char *code = lua_tolstring(L, -1, &n);
    put_u8(b, V_FUNC);
    put_lstr(b, code, n);
    lua_pop(L, 1);
    int nup = 0;
    while (lua_getupvalue(L, idx, nup + 1)) {
        lua_pop(L, 1);
        nup++;
    }
    if (nup > 255) return enc_error(L, e, "a function with more than 255 upvalues");
    put_u8(b, nup);
    for (int i = 1; i <= nup; i++) {
        const char *name = lua_getupvalue(L, idx, i);
        if (name && strcmp(name, "_ENV") == 0) {
            lua_pop(L, 1);
            put_u8(b, 1); /* the worker's globals */
            continue;
        }
        put_u8(b, 0);
        const char *saved = e->where;
        char where[200];
        snprintf(where, sizeof where, "upvalue '%s'", name && *name ? name : "?");
        e->where = where;
        encode_value(L, e, -1, depth + 1);
        lua_pop(L, 1);
        e->where = saved;
    }
    return 0;
}

static int encode_value(lua_State *L, enc *e, int idx, int depth)
{
    idx = lua_absindex(L, idx);
    wb_buf *b = e->b;
    luaL_checkstack(L, 8, "wb.remote");
    if (depth > MAX_DEPTH) return enc_error(L, e, "a value nested more than 100 levels deep");
    switch (lua_type(L, idx)) {
    case LUA_TNIL: put_u8(b, V_NIL); return 0;
    case LUA_TBOOLEAN: put_u8(b, lua_toboolean(L, idx) ? V_TRUE : V_FALSE); return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            lua_Integer v = lua_tointeger(L, idx);
            put_u8(b, V_INT);
            put_raw(b, &v, 8);
        } else {
            lua_Number v = lua_tonumber(L, idx);
            put_u8(b, V_NUM);
            put_raw(b, &v, 8);
        }
        return 0;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        put_u8(b, V_STR);
        put_lstr(b, s, n);
        return 0;
    }
    case LUA_TTABLE:
    case LUA_TFUNCTION: {
        /* the standard library goes by name */
        lua_pushvalue(L, idx);
        lua_rawget(L, e->names);
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t n;
            const char *s = lua_tolstring(L, -1, &n);
            put_u8(b, lua_type(L, idx) == LUA_TTABLE ? V_LIBTAB : V_LIBFN);
            put_lstr(b, s, n);
            lua_pop(L, 1);
            return 0;
        }
        lua_pop(L, 1);
        /* a future passed as an argument becomes a task input */
        if (lua_type(L, idx) == LUA_TTABLE && e->inputs && lua_getmetatable(L, idx)) {
            lua_getfield(L, LUA_REGISTRYINDEX, "wb.Future");
            int is_future = lua_rawequal(L, -1, -2);
            lua_pop(L, 2);
            if (is_future) {
                if (depth != 1) return enc_error(L, e, "a future inside a table (pass futures as arguments)");
                lua_getfield(L, idx, "object");
                lua_rawseti(L, e->inputs, ++e->ninputs);
                put_u8(b, V_INPUT);
                put_u32(b, (uint32_t)(e->ninputs - 1));
                return 0;
            }
        }
        lua_pushvalue(L, idx);
        lua_rawget(L, e->seen);
        if (lua_isinteger(L, -1)) {
            lua_Integer id = lua_tointeger(L, -1);
            lua_pop(L, 1);
            put_u8(b, V_REF);
            put_u32(b, (uint32_t)id);
            return 0;
        }
        lua_pop(L, 1);
        int id = e->nextid++;
        lua_pushvalue(L, idx);
        lua_pushinteger(L, id);
        lua_rawset(L, e->seen);
        if (lua_type(L, idx) == LUA_TFUNCTION) {
            if (lua_iscfunction(L, idx)) return enc_error(L, e, "a C function that is not in the standard library");
            return encode_function(L, e, idx, depth);
        }
        if (lua_getmetatable(L, idx)) {
            lua_pop(L, 1);
            return enc_error(L, e, "a table with a metatable");
        }
        put_u8(b, V_TABLE);
        put_u32(b, (uint32_t)id);
        /* count, then pairs */
        uint32_t count = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            count++;
            lua_pop(L, 1);
        }
        put_u32(b, count);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            encode_value(L, e, -2, depth + 1);
            encode_value(L, e, -1, depth + 1);
            lua_pop(L, 1);
        }
        return 0;
    }
    case LUA_TUSERDATA:
    case LUA_TLIGHTUSERDATA: {
        const char *tn = NULL;
        if (lua_getmetatable(L, idx)) {
            lua_getfield(L, -1, "__name");
            tn = lua_tostring(L, -1);
            lua_pop(L, 2);
        }
        char what[120];
        snprintf(what, sizeof what, "a userdata%s%s%s", tn ? " (" : "", tn ? tn : "", tn ? ")" : "");
        return enc_error(L, e, what);
    }
    default: return enc_error(L, e, lua_typename(L, lua_type(L, idx)));
    }
}

/* ------------------------------------------------------------ decoding */

typedef struct dec {
    const unsigned char *p;
    size_t n, off;
    int refs;  /* stack index: id -> table/function */
    int names; /* stack index: "lib.name" lookups use the globals */
    const wb_obj *in;
    int nin;
} dec;

static int dec_fail(lua_State *L, const char *what) { return luaL_error(L, "wb.remote: malformed value (%s)", what); }

static const unsigned char *take(lua_State *L, dec *d, size_t k)
{
    if (d->n - d->off < k) dec_fail(L, "truncated");
    const unsigned char *q = d->p + d->off;
    d->off += k;
    return q;
}

static uint32_t get_u32(lua_State *L, dec *d)
{
    const unsigned char *q = take(L, d, 4);
    return (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16) | ((uint32_t)q[3] << 24);
}

static void decode_value(lua_State *L, dec *d, int depth);

static void push_lib(lua_State *L, const char *name, size_t n)
{
    char buf[80];
    if (n >= sizeof buf) dec_fail(L, "library name");
    memcpy(buf, name, n);
    buf[n] = 0;
    char *dot = strchr(buf, '.');
    lua_pushglobaltable(L);
    if (dot) {
        *dot = 0;
        lua_getfield(L, -1, buf);
        lua_remove(L, -2);
        if (!lua_istable(L, -1)) dec_fail(L, "unknown library");
        lua_getfield(L, -1, dot + 1);
        lua_remove(L, -2);
    } else {
        lua_getfield(L, -1, buf);
        lua_remove(L, -2);
    }
    if (lua_isnil(L, -1)) luaL_error(L, "wb.remote: '%s' is not in this worker's standard library", buf);
}

static void decode_value(lua_State *L, dec *d, int depth)
{
    if (depth > MAX_DEPTH + 2) dec_fail(L, "nested too deep");
    luaL_checkstack(L, 8, "wb.remote");
    int tag = *take(L, d, 1);
    switch (tag) {
    case V_NIL: lua_pushnil(L); return;
    case V_FALSE: lua_pushboolean(L, 0); return;
    case V_TRUE: lua_pushboolean(L, 1); return;
    case V_INT: {
        lua_Integer v;
        memcpy(&v, take(L, d, 8), 8);
        lua_pushinteger(L, v);
        return;
    }
    case V_NUM: {
        lua_Number v;
        memcpy(&v, take(L, d, 8), 8);
        lua_pushnumber(L, v);
        return;
    }
    case V_STR: {
        uint32_t n = get_u32(L, d);
        const unsigned char *s = take(L, d, n);
        lua_pushlstring(L, (const char *)s, n);
        return;
    }
    case V_LIBFN:
    case V_LIBTAB: {
        uint32_t n = get_u32(L, d);
        const unsigned char *s = take(L, d, n);
        push_lib(L, (const char *)s, n);
        return;
    }
    case V_REF: {
        uint32_t id = get_u32(L, d);
        if (lua_rawgeti(L, d->refs, (lua_Integer)id + 1) == LUA_TNIL) dec_fail(L, "reference");
        return;
    }
    case V_INPUT: {
        uint32_t i = get_u32(L, d);
        if (!d->in || (int)i >= d->nin || d->in[i].type != WB_OBJ_BYTES) dec_fail(L, "input");
        /* the input is the result of another remote call: its first value */
        dec sub = {d->in[i].data, d->in[i].size, 0, 0, 0, NULL, 0};
        lua_newtable(L);
        sub.refs = lua_gettop(L);
        uint32_t nv = get_u32(L, &sub);
        if (nv == 0) lua_pushnil(L);
        else decode_value(L, &sub, depth + 1);
        lua_remove(L, sub.refs);
        return;
    }
    case V_TABLE: {
        uint32_t id = get_u32(L, d);
        uint32_t count = get_u32(L, d);
        if (count > d->n) dec_fail(L, "table size");
        lua_createtable(L, 0, (int)(count < 1024 ? count : 1024));
        lua_pushvalue(L, -1);
        lua_rawseti(L, d->refs, (lua_Integer)id + 1);
        for (uint32_t k = 0; k < count; k++) {
            decode_value(L, d, depth + 1);
            decode_value(L, d, depth + 1);
            if (lua_isnil(L, -2)) dec_fail(L, "nil key");
            lua_rawset(L, -3);
        }
        return;
    }
    case V_FUNC: {
        uint32_t n = get_u32(L, d);
        const unsigned char *code = take(L, d, n);
        if (luaL_loadbufferx(L, (const char *)code, n, "=remote", "b") != LUA_OK) lua_error(L);
        int f = lua_gettop(L);
        int nup = *take(L, d, 1);
        for (int i = 1; i <= nup; i++) {
            int kind = *take(L, d, 1);
            if (kind == 1) lua_pushglobaltable(L);
            else decode_value(L, d, depth + 1);
            if (!lua_setupvalue(L, f, i)) lua_pop(L, 1);
        }
        return;
    }
    default: dec_fail(L, "unknown tag");
    }
}

/* ---------------------------------------------- the lua.call kernel */

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void close_state(void *p) { lua_close(p); }
static void make_key(void) { pthread_key_create(&state_key, close_state); }

static lua_State *thread_state(void)
{
    pthread_once(&state_once, make_key);
    lua_State *L = pthread_getspecific(state_key);
    if (L) return L;
    L = luaL_newstate();
    if (!L) return NULL;
    luaL_openlibs(L);
    pthread_setspecific(state_key, L);
    return L;
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

typedef struct callctx {
    const unsigned char *arg;
    size_t arglen;
    const wb_obj *in;
    int nin;
    wb_kctx *ctx;
} callctx;

static const wb_host *H;

/* run in protected mode: decode the function and arguments, call, encode the results */
static int pcall_body(lua_State *L)
{
    callctx *c = lua_touserdata(L, 1);
    lua_settop(L, 0);
    lua_newtable(L); /* 1: references */
    dec d = {c->arg, c->arglen, 0, 1, 0, c->in, c->nin};
    if (d.n < 4) dec_fail(L, "truncated");
    uint32_t nargs = get_u32(L, &d);
    if (nargs > 250) dec_fail(L, "argument count");
    decode_value(L, &d, 0); /* the function */
    if (!lua_isfunction(L, -1)) dec_fail(L, "not a function");
    for (uint32_t i = 0; i < nargs; i++) decode_value(L, &d, 1);
    if (d.off != d.n) dec_fail(L, "trailing bytes");
    lua_pushcfunction(L, traceback);
    int base = lua_gettop(L) - (int)nargs - 1;
    lua_insert(L, base);
    if (lua_pcall(L, (int)nargs, LUA_MULTRET, base) != LUA_OK) {
        lua_remove(L, base);
        return lua_error(L);
    }
    lua_remove(L, base);
    int nres = lua_gettop(L) - 1;
    /* results: u32 n, values */
    lua_newtable(L);
    int seen = lua_gettop(L);
    push_lib_names(L);
    int names = lua_gettop(L);
    wb_buf *b = push_encbuf(L);
    buf_L = L; /* inside lua_pcall: an error is caught below */
    put_u32(b, (uint32_t)nres);
    enc e = {b, seen, names, 0, 0, 0, "a result", 1};
    for (int i = 0; i < nres; i++) encode_value(L, &e, 2 + i, 1);
    void *o = H->out_bytes(c->ctx, b->len);
    if (!o) return luaL_error(L, "%s", H->errmsg());
    if (b->len) memcpy(o, b->p, b->len);
    return 0;
}

static __thread wb_kctx *hook_ctx;

/* every 10000 instructions: stop when the work is interrupted */
static void cancel_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (hook_ctx && H->cancelled(hook_ctx)) luaL_error(L, "interrupted");
}

static int k_lua_call(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    lua_State *L = thread_state();
    if (!L) return H->seterr(WB_ENOMEM, "lua.call: cannot make a Lua state");
    hook_ctx = ctx;
    lua_sethook(L, cancel_hook, LUA_MASKCOUNT, 10000);
    callctx c = {arg, arglen, in, nin, ctx};
    int top = lua_gettop(L);
    lua_pushcfunction(L, pcall_body);
    lua_pushlightuserdata(L, &c);
    int st = lua_pcall(L, 1, 0, 0);
    int rc = 0;
    if (st != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        rc = H->seterr(WB_EINVAL, "remote function failed: %s", m ? m : "(no message)");
    }
    lua_settop(L, top);
    lua_sethook(L, NULL, 0, 0);
    hook_ctx = NULL;
    lua_gc(L, LUA_GCSTEP, 0);
    if (rc && H->cancelled(ctx)) rc = H->seterr(WB_ECANCELED, "interrupted");
    return rc;
}

void wbl_register_remote_kernel(void)
{
    static int done;
    if (done) return;
    done = 1;
    H = wb_host_table();
    wb_cluster_kernels_init();
    wb_register_kernel("lua.call", k_lua_call);
}

/* wb.core.remote_encode(fn, ...) -> bytes, {objects of future arguments} */
static int l_remote_encode(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    int nargs = lua_gettop(L) - 1;
    if (nargs > 250) return luaL_error(L, "wb.remote: at most 250 arguments");
    lua_newtable(L);
    int seen = lua_gettop(L);
    push_lib_names(L);
    int names = lua_gettop(L);
    lua_newtable(L);
    int inputs = lua_gettop(L);
    wb_buf *b = push_encbuf(L);
    buf_L = L;
    put_u32(b, (uint32_t)nargs);
    enc e = {b, seen, names, inputs, 0, 0, "the function", 3};
    if (lua_iscfunction(L, 1)) return luaL_error(L, "wb.remote: cannot send a C function (the function)");
    encode_value(L, &e, 1, 0);
    for (int i = 0; i < nargs; i++) {
        char where[40];
        snprintf(where, sizeof where, "argument %d", i + 1);
        e.where = where;
        encode_value(L, &e, 2 + i, 1);
    }
    lua_pushlstring(L, (const char *)b->p, b->len);
    lua_pushvalue(L, inputs);
    return 2;
}

/* wb.core.remote_decode(bytes) -> the values */
static int l_remote_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    lua_settop(L, 1);
    lua_newtable(L);
    dec d = {(const unsigned char *)s, n, 0, 2, 0, NULL, 0};
    uint32_t nv = get_u32(L, &d);
    if (nv > 250) dec_fail(L, "value count");
    luaL_checkstack(L, (int)nv + 8, "wb.remote");
    for (uint32_t i = 0; i < nv; i++) decode_value(L, &d, 1);
    if (d.off != d.n) dec_fail(L, "trailing bytes");
    return (int)nv;
}

/* wb.core.mpi_bench_reduce(len, reps) -> seconds per sum by wb's tree, by
 * MPI_Reduce, and whether the two sums are equal bit for bit (MPI only) */
static int l_mpi_bench_reduce(lua_State *L)
{
    lua_Integer len = luaL_checkinteger(L, 1), reps = luaL_optinteger(L, 2, 100);
    if (len < 1 || len > (1 << 24)) return wbl_argerror(L, 1, "len must be in 1..16777216, got %lld", (long long)len);
    if (reps < 1 || reps > 1000000) return wbl_argerror(L, 2, "reps must be in 1..1000000, got %lld", (long long)reps);
    if (!wb_exec_is_mpi(wbl_exec(L))) return luaL_error(L, "wb.core.mpi_bench_reduce: the executor is not MPI");
    double out[3];
    if (wb_mpi_bench_reduce(wbl_exec(L), (size_t)len, (int)reps, out)) return wbl_error(L);
    lua_pushnumber(L, out[0]);
    lua_pushnumber(L, out[1]);
    lua_pushboolean(L, out[2] != 0);
    return 3;
}

/* run the embedded lua/wb/cluster.lua with the module table */
static void run_cluster_lua(lua_State *L)
{
    for (const wbl_embedded *f = wbl_embedded_files; f->name; f++) {
        if (strcmp(f->name, "wb.cluster") != 0) continue;
        if (luaL_loadbuffer(L, f->source, f->len, "@wb/cluster.lua") != LUA_OK) lua_error(L);
        lua_pushvalue(L, -2);
        lua_call(L, 1, 0);
        return;
    }
}

void wbl_open_cluster(lua_State *L)
{
    wbl_register_remote_kernel();
    static const luaL_Reg fns[] = {{"connect", l_connect}, {"disconnect", l_disconnect}, {"cluster", l_cluster},
                                   {"executor", l_executor}, {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
    static const luaL_Reg core_fns[] = {{"replicate", l_replicate},
                                        {"holder", l_holder},
                                        {"remote_encode", l_remote_encode},
                                        {"remote_decode", l_remote_decode},
                                        {"mpi_bench_reduce", l_mpi_bench_reduce},
                                        {NULL, NULL}};
    lua_getfield(L, -1, "core");
    luaL_setfuncs(L, core_fns, 0);
    lua_pop(L, 1);
    run_cluster_lua(L);
}
