/* lcluster.c — the cluster from Lua: wb.connect, wb.disconnect, wb.cluster,
 * wb.executor (with the workers of a cluster), wb.core.replicate and
 * wb.core.holder, d:collect() and the datasets a cluster would take with it; runs the embedded wb/cluster.lua (futures, wb.remote, whose
 * values travel through lremote.c). */
#include <string.h>

#include "wb/cluster.h"
#include "wb/mpi.h"
#include "wblua.h"

/* ---------------------------------------------------------- executors */

/* the local executor's dashboard server (a thread of its own, wb.dashboard());
 * stopped when the Lua state closes */
typedef struct dashbox {
    wb_dash *d;
    wb_exec *ex; /* a reference: the executor outlives the server */
    char url[96];
} dashbox;

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
    if (!wb_exec_is_cluster(ex) && !wb_exec_is_mpi(ex)) {
        if (lua_getfield(L, LUA_REGISTRYINDEX, "wb.dashboard") == LUA_TUSERDATA) {
            dashbox *b = lua_touserdata(L, -1);
            if (b->d) {
                lua_pushstring(L, b->url);
                lua_setfield(L, -3, "dashboard");
            }
        }
        lua_pop(L, 1);
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

static int opt_bool_field(lua_State *L, int t, const char *k, const char *fname)
{
    lua_getfield(L, t, k);
    int v = 0;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            luaL_error(L, "bad argument #%d to '%s' (%s must be true or false, got %s)", t, fname, k, luaL_typename(L, -1));
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* head_timeout and worker_timeout: seconds in (0, 86400] */
static void opt_timeouts(lua_State *L, int t, const char *fname, double *head, double *worker)
{
    *head = wbl_opt_number(L, t, "head_timeout", 30, fname);
    *worker = wbl_opt_number(L, t, "worker_timeout", 120, fname);
    if (!(*head > 0 && *head <= 86400)) wbl_argerror(L, t, "head_timeout must be in (0, 86400] seconds, got %g", *head);
    if (!(*worker > 0 && *worker <= 86400))
        wbl_argerror(L, t, "worker_timeout must be in (0, 86400] seconds, got %g", *worker);
}

/* wb.connect("host:port", {token=, token_file=, timeout=, workers=, head_timeout=, worker_timeout=,
 * tls_cert=, tls_key=, tls_ca=, insecure_no_tls=}) -> executor info */
static int l_connect(lua_State *L)
{
    const char *addr = luaL_checkstring(L, 1);
    wb_connect_opts o;
    wb_connect_opts_init(&o);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        static const char *const keys[] = {"token", "token_file", "timeout", "workers", "head_timeout",
                                           "worker_timeout", "tls_cert", "tls_key", "tls_ca", "insecure_no_tls", NULL};
        check_keys(L, 2, "connect", keys);
        o.token = opt_string_field(L, 2, "token", "connect");
        o.token_file = opt_string_field(L, 2, "token_file", "connect");
        o.tls.cert = opt_string_field(L, 2, "tls_cert", "connect");
        o.tls.key = opt_string_field(L, 2, "tls_key", "connect");
        o.tls.ca = opt_string_field(L, 2, "tls_ca", "connect");
        o.tls.off = opt_bool_field(L, 2, "insecure_no_tls", "connect");
        if (wb_tls_check_opts(&o.tls)) return wbl_argerror(L, 2, "%s", wb_errmsg());
        opt_timeouts(L, 2, "connect", &o.head_timeout, &o.worker_timeout);
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

/* wb.cluster{workers=2, threads=1, memory_limit="4GB", dashboard=true, plugins={...}, timeout=30,
 * head_timeout=30, worker_timeout=120, insecure_no_tls=false} */
static int l_cluster(lua_State *L)
{
    wb_local_cluster_opts o;
    wb_local_cluster_opts_init(&o);
    const char *plugins[33] = {NULL};
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        static const char *const keys[] = {"workers",      "threads",        "memory_limit",   "dashboard",
                                           "plugins",      "timeout",        "heartbeat_ms",   "heartbeat_timeout_ms",
                                           "head_timeout", "worker_timeout", "insecure_no_tls", NULL};
        check_keys(L, 1, "cluster", keys);
        o.insecure_no_tls = opt_bool_field(L, 1, "insecure_no_tls", "cluster");
        opt_timeouts(L, 1, "cluster", &o.head_timeout, &o.worker_timeout);
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

/* ---------------------------------------------- data after a cluster */

static int is_remote(wb_exec *ex)
{
    wb_exec_info i;
    memset(&i, 0, sizeof i);
    wb_exec_info_get(ex, &i);
    return i.remote;
}

/* d:collect() -> the dataset in this process's local store (itself when it
 * is there already) */
static int ds_collect(lua_State *L)
{
    wb_dataset *d = wbl_check_dataset(L, 1), *o;
    if (!is_remote(d->ex)) {
        lua_settop(L, 1);
        return 1;
    }
    if (wb_ds_copy(d, wbl_local_exec(L), &o)) return wbl_error(L);
    wbl_push_dataset(L, o);
    return 1;
}

/* wb.core.cluster_datasets() -> the datasets still referenced whose data is
 * on the executor new work runs on, when that is a cluster (a full garbage
 * collection first, so that only the ones in use are listed) */
static int l_cluster_datasets(lua_State *L)
{
    wb_exec *cur = wbl_exec(L);
    lua_newtable(L);
    if (!is_remote(cur)) return 1;
    lua_gc(L, LUA_GCCOLLECT);
    lua_gc(L, LUA_GCCOLLECT); /* (twice: finalizers of the first pass free more) */
    wbl_live_datasets(L);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        wbl_ds_box *u = luaL_testudata(L, -1, WBL_DATASET);
        if (u && u->d && u->d->ex == cur) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, -4, ++n);
        }
    }
    lua_pop(L, 1);
    return 1;
}

/* wb.core.collect_in_place(d): the dataset's data copied to this process,
 * and the dataset (every variable holding it) now refers to the copy */
static int l_collect_in_place(lua_State *L)
{
    wbl_ds_box *u = luaL_checkudata(L, 1, WBL_DATASET);
    if (!u->d) return luaL_error(L, "attempt to use a freed dataset");
    if (!is_remote(u->d->ex)) return 0;
    wb_dataset *o;
    if (wb_ds_copy(u->d, wbl_local_exec(L), &o)) return wbl_error(L);
    wb_ds_unref(u->d);
    u->d = o;
    return 0;
}

/* ------------------------------------------------ the local dashboard */

static int dashbox_gc(lua_State *L)
{
    dashbox *b = lua_touserdata(L, 1);
    if (b->d) wb_dashboard_stop(b->d);
    b->d = NULL;
    if (b->ex) wb_exec_unref(b->ex);
    b->ex = NULL;
    return 0;
}

/* one name of allow_hosts (at stack top: not empty, no comma) added to
 * out (cap bytes, "a,b") */
static void add_allow_host(lua_State *L, char *out, size_t cap)
{
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "bad argument #1 to 'dashboard' (allow_hosts must be a host name or a list of them, got %s)",
                   luaL_typename(L, -1));
    size_t len, have = strlen(out);
    const char *v = lua_tolstring(L, -1, &len);
    if (!len || len > 255 || memchr(v, ',', len) || memchr(v, 0, len))
        luaL_error(L, "bad argument #1 to 'dashboard' (allow_hosts takes host names (or \"*\"), one per string)");
    if (have + len + 2 > cap) luaL_error(L, "bad argument #1 to 'dashboard' (allow_hosts: too many names)");
    if (have) out[have++] = ',';
    memcpy(out + have, v, len);
    out[have + len] = 0;
}

/* wb.dashboard([{port = 0, host = "127.0.0.1", allow_hosts = {names}}]) -> the
 * dashboard's URL: the local executor's (served from this process; status
 * from the executor, sampled every second; it answers for loopback names,
 * its own address and allow_hosts, "*": any), or the head's when a cluster
 * is connected */
static int l_dashboard(lua_State *L)
{
    const char *host = "127.0.0.1";
    const char *allow = NULL;
    char allowbuf[64 * 257] = "";
    int port = 0;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        static const char *const keys[] = {"port", "host", "allow_hosts", NULL};
        check_keys(L, 1, "dashboard", keys);
        port = (int)wbl_opt_integer(L, 1, "port", 0, 0, 65535);
        const char *h = opt_string_field(L, 1, "host", "dashboard");
        if (h) host = h;
        int t = lua_getfield(L, 1, "allow_hosts");
        if (t == LUA_TTABLE) {
            lua_Integer k = (lua_Integer)lua_rawlen(L, -1);
            if (k > 64) luaL_error(L, "bad argument #1 to 'dashboard' (allow_hosts has %d names, at most 64)", (int)k);
            for (lua_Integer i = 1; i <= k; i++) {
                lua_rawgeti(L, -1, i);
                add_allow_host(L, allowbuf, sizeof allowbuf);
                lua_pop(L, 1);
            }
            allow = allowbuf;
        } else if (t != LUA_TNIL) {
            add_allow_host(L, allowbuf, sizeof allowbuf);
            allow = allowbuf;
        }
        lua_pop(L, 1);
    }
    wb_exec *cur = wbl_exec(L);
    if (wb_exec_is_cluster(cur)) {
        const char *u = wb_cluster_dashboard(cur);
        if (u && *u) {
            lua_pushstring(L, u);
            return 1;
        }
    }
    if (lua_getfield(L, LUA_REGISTRYINDEX, "wb.dashboard") == LUA_TUSERDATA) {
        dashbox *b = lua_touserdata(L, -1);
        if (b->d) {
            lua_pushstring(L, b->url);
            return 1;
        }
    }
    lua_pop(L, 1);
    dashbox *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, dashbox_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    wb_exec *local = wbl_local_exec(L);
    int bound = 0;
    if (wb_dashboard_start(host, port, allow, wb_exec_local_status_json, wb_exec_local_sample, local, &b->d, &bound))
        return wbl_error(L);
    b->ex = wb_exec_ref(local);
    if (strchr(host, ':'))
        snprintf(b->url, sizeof b->url, "http://[%s]:%d/", host, bound);
    else
        snprintf(b->url, sizeof b->url, "http://%s:%d/", host, bound);
    lua_setfield(L, LUA_REGISTRYINDEX, "wb.dashboard");
    wb_log(WB_LOG_INFO, "the local executor's dashboard is at %s", b->url);
    lua_pushstring(L, b->url);
    return 1;
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
    static const luaL_Reg fns[] = {{"connect", l_connect},   {"disconnect", l_disconnect}, {"cluster", l_cluster},
                                   {"executor", l_executor}, {"dashboard", l_dashboard},   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
    static const luaL_Reg core_fns[] = {{"replicate", l_replicate}, {"holder", l_holder},
                                        {"mpi_bench_reduce", l_mpi_bench_reduce},
                                        {"cluster_datasets", l_cluster_datasets},
                                        {"collect_in_place", l_collect_in_place}, {NULL, NULL}};
    lua_getfield(L, -1, "core");
    luaL_setfuncs(L, core_fns, 0);
    lua_pop(L, 1);
    /* d:collect() */
    luaL_getmetatable(L, WBL_DATASET);
    lua_getfield(L, -1, "__index");
    lua_pushcfunction(L, ds_collect);
    lua_setfield(L, -2, "collect");
    lua_pop(L, 2);
    run_cluster_lua(L);
}
