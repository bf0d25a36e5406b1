/* lwb.c — the `wb` module: executor, plugins, estimators and generators,
 * fit, help data; loads the embedded Lua library and plugins' Lua chunks. */
#include <stdio.h>
#include <string.h>

#include "wblua.h"

/* ------------------------------------------------------------- executor */

static int l_threads(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, wb_exec_parallelism(wbl_local_exec(L)));
        return 1;
    }
    lua_Integer n = luaL_checkinteger(L, 1);
    if (n < 1 || n > 1024) return wbl_argerror(L, 1, "threads must be in 1..1024, got %lld", (long long)n);
    if (wb_exec_local_resize(wbl_local_exec(L), (int)n)) return wbl_error(L);
    lua_pushinteger(L, n);
    return 1;
}

static int l_executor(lua_State *L)
{
    wb_exec_info i;
    wb_exec_info_get(wbl_exec(L), &i);
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
    return 1;
}

/* ------------------------------------------------------------- plugins */

static void run_plugin_chunks(lua_State *L, int from);

static int l_plugin_load(lua_State *L)
{
    const char *path = wbl_check_path(L, 1);
    int before = wb_luachunk_count();
    if (wb_plugin_load(path)) return wbl_error(L);
    run_plugin_chunks(L, before);
    const char *name;
    wb_plugin_info_at(wb_plugin_count() - 1, &name, NULL, NULL);
    lua_pushstring(L, name);
    return 1;
}

static int l_plugin_list(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; i < wb_plugin_count(); i++) {
        const char *name, *version, *path;
        wb_plugin_info_at(i, &name, &version, &path);
        lua_newtable(L);
        lua_pushstring(L, name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, version);
        lua_setfield(L, -2, "version");
        lua_pushstring(L, path);
        lua_setfield(L, -2, "path");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* ------------------------------------------------------ schema as a table */

static const char *type_names(int t, char *buf, size_t len)
{
    buf[0] = 0;
    const char *names[] = {"integer", "number", "boolean", "string", "matrix"};
    for (int b = 0; b < 5; b++)
        if (t & (1 << b)) {
            if (buf[0]) strncat(buf, "|", len - strlen(buf) - 1);
            strncat(buf, names[b], len - strlen(buf) - 1);
        }
    return buf;
}

static void push_schema(lua_State *L, const wb_param_spec *s, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        char buf[512];
        lua_newtable(L);
        lua_pushstring(L, s[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, type_names(s[i].types, buf, sizeof buf));
        lua_setfield(L, -2, "type");
        lua_pushstring(L, wb_param_spec_describe(&s[i], buf, sizeof buf));
        lua_setfield(L, -2, "allowed");
        if (s[i].def) {
            lua_pushstring(L, s[i].def);
            lua_setfield(L, -2, "default");
        }
        lua_pushstring(L, s[i].doc ? s[i].doc : "");
        lua_setfield(L, -2, "doc");
        lua_rawseti(L, -2, i + 1);
    }
}

static int l_estimators(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; i < wb_estimator_count(); i++) {
        lua_pushstring(L, wb_estimator_at(i)->name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const char *kind_name(int k)
{
    switch (k) {
    case WB_EST_CLASSIFIER: return "classifier";
    case WB_EST_REGRESSOR: return "regressor";
    case WB_EST_CLUSTERER: return "clusterer";
    case WB_EST_TRANSFORMER: return "transformer";
    default: return "estimator";
    }
}

/* wb.core.estimator_info(name) -> {name, doc, kind, params = {...}, methods = {...}} or nil */
static int l_estimator_info(lua_State *L)
{
    const wb_estimator_def *e = wb_estimator_find(luaL_checkstring(L, 1));
    if (!e) return 0;
    lua_newtable(L);
    lua_pushstring(L, e->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, e->doc ? e->doc : "");
    lua_setfield(L, -2, "doc");
    lua_pushstring(L, kind_name(e->kind));
    lua_setfield(L, -2, "kind");
    lua_pushboolean(L, e->needs_labels);
    lua_setfield(L, -2, "needs_labels");
    push_schema(L, e->params, e->nparams);
    lua_setfield(L, -2, "params");
    lua_newtable(L);
    int k = 1;
#define M(f)                          \
    if (e->f) {                       \
        lua_pushstring(L, #f);        \
        lua_rawseti(L, -2, k++);      \
    }
    M(predict) M(predict_proba) M(transform) M(inverse_transform) M(score)
#undef M
    lua_setfield(L, -2, "methods");
    return 1;
}

static int l_source_info(lua_State *L)
{
    const wb_source_def *s = wb_source_find(luaL_checkstring(L, 1));
    if (!s) return 0;
    lua_newtable(L);
    lua_pushstring(L, s->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, s->doc ? s->doc : "");
    lua_setfield(L, -2, "doc");
    push_schema(L, s->params, s->nparams);
    lua_setfield(L, -2, "params");
    return 1;
}

static int l_sources(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; i < wb_source_count(); i++) {
        lua_pushstring(L, wb_source_at(i)->name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* wb.core.check_params(estimator, table) -> checked table (defaults filled) */
static int l_check_params(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const wb_estimator_def *e = wb_estimator_find(name);
    if (!e) return wbl_argerror(L, 1, "no estimator named '%.64s' (see wb.estimators())", name);
    wb_params *in = wbl_check_params(L, 2, "check_params"), *p = NULL;
    int rc = wb_params_validate(e->name, e->params, e->nparams, in, &p);
    wb_params_free(in);
    if (!rc && e->check && (rc = e->check(p, NULL)) != 0) {
        if (strncmp(wb_errmsg(), e->name, strlen(e->name)) != 0) wb_preferr(rc, "%s", e->name);
    }
    if (rc) {
        wb_params_free(p);
        return wbl_error(L);
    }
    wbl_push_params(L, p);
    wb_params_free(p);
    return 1;
}

/* wb.fit(name, data, params) -> model */
static int l_fit(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const wb_estimator_def *e = wb_estimator_find(name);
    if (!e) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        const char *names[256];
        int nn = 0;
        for (int i = 0; i < wb_estimator_count(); i++) {
            if (i) luaL_addstring(&b, ", ");
            luaL_addstring(&b, wb_estimator_at(i)->name);
            if (nn < 256) names[nn++] = wb_estimator_at(i)->name;
        }
        luaL_pushresult(&b);
        const char *near = wb_closest(name, names, nn);
        return wbl_argerror(L, 1, "no estimator named '%.64s' (%s%s%sestimators: %s)", name, near ? "did you mean '" : "",
                            near ? near : "", near ? "'? " : "", lua_tostring(L, -1));
    }
    wb_dataset *d = wbl_check_dataset(L, 2);
    wb_params *in = wbl_check_params(L, 3, "fit");
    wb_model *m = NULL;
    int rc = wb_host_table()->fit(d->ex, name, d, in, &m);
    wb_params_free(in);
    if (rc) return wbl_error(L);
    wbl_push_model(L, m);
    return 1;
}

/* wb.core.generate(source, params) -> dataset; with params.file: writes it */
static int l_generate(lua_State *L)
{
    const char *src = luaL_checkstring(L, 1);
    if (!wb_source_find(src)) return wbl_argerror(L, 1, "no data source named '%.64s'", src);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "file");
    size_t flen = 0;
    const char *file = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &flen) : NULL;
    if (!lua_isnil(L, -1) && (!file || flen == 0 || strlen(file) != flen)) {
        /* a number is not a path here (found by tests/lua/api_sweep.lua:
         * file = 3 wrote "3"), nor is "" or a string with a NUL byte */
        char fname[160];
        snprintf(fname, sizeof fname, "datagen.%s", src);
        return luaL_error(L, "%s: parameter 'file' must be a path, got %s", fname,
                          !file ? luaL_typename(L, -1) : flen == 0 ? "an empty string" : "a string with a NUL byte");
    }
    lua_pop(L, 1);
    /* params without 'file' */
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "file") == 0) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -4);
    }
    char fname[160];
    snprintf(fname, sizeof fname, "datagen.%s", src);
    wb_params *p = wbl_check_params(L, lua_gettop(L), fname);
    int rc;
    if (file) {
        rc = wb_generate_to_file(wbl_exec(L), src, p, file, NULL);
        wb_params_free(p);
        if (rc) return wbl_error(L);
        lua_pushstring(L, file);
        return 1;
    }
    wb_dataset *d;
    rc = wb_generate(wbl_exec(L), src, p, &d);
    wb_params_free(p);
    if (rc) return wbl_error(L);
    wbl_push_dataset(L, d);
    return 1;
}

/* wb.core.closest(name, {candidates}) -> the candidate closest to name by
 * edit distance (a likely typo), or nil */
static int l_closest(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int n = (int)lua_rawlen(L, 2);
    if (n > 100000) n = 100000;
    const char **c = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *c, 0);
    int k = 0;
    for (int i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 2, i) == LUA_TSTRING) c[k++] = lua_tostring(L, -1);
        lua_pop(L, 1); /* the table keeps the string */
    }
    const char *best = wb_closest(name, c, k);
    if (!best) return 0;
    lua_pushstring(L, best);
    return 1;
}

static int l_version(lua_State *L)
{
    lua_pushstring(L, WB_VERSION);
    return 1;
}

static int l_now(lua_State *L)
{
    lua_pushnumber(L, wb_now());
    return 1;
}

static int l_peak_rss(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)wb_peak_rss());
    return 1;
}

static int l_rss(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)wb_current_rss());
    return 1;
}

static void run_plugin_chunks(lua_State *L, int from)
{
    for (int i = from; i < wb_luachunk_count(); i++) {
        const char *name, *src;
        wb_luachunk_at(i, &name, &src);
        char chunkname[256];
        snprintf(chunkname, sizeof chunkname, "=%s", name);
        /* wb's own code: errors raised in it are reported without its
         * positions (lua/wb/errors.lua) */
        if (lua_getfield(L, LUA_REGISTRYINDEX, "wb.chunks") != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, LUA_REGISTRYINDEX, "wb.chunks");
        }
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, chunkname);
        lua_pop(L, 1);
        if (luaL_loadbuffer(L, src, strlen(src), chunkname) != LUA_OK) lua_error(L);
        lua_getglobal(L, "wb");
        lua_call(L, 1, 0);
    }
}

/* wb.core.load_plugins(): every plugin on the search path, then their Lua */
static int l_load_default_plugins(lua_State *L)
{
    int before = wb_luachunk_count();
    int rc = wb_plugin_load_default();
    if (rc < 0) return wbl_error(L);
    run_plugin_chunks(L, before);
    lua_pushinteger(L, rc);
    return 1;
}

static int l_plugin_path(lua_State *L)
{
    lua_pushstring(L, wb_plugin_search_path());
    return 1;
}

static int embedded_loader(lua_State *L)
{
    const wbl_embedded *f = lua_touserdata(L, lua_upvalueindex(1));
    char chunkname[256];
    snprintf(chunkname, sizeof chunkname, "@%s.lua", f->name);
    for (char *p = chunkname; *p; p++)
        if (*p == '.' && strcmp(p, ".lua") != 0) *p = '/';
    if (luaL_loadbuffer(L, f->source, f->len, chunkname) != LUA_OK) return lua_error(L);
    /* a library file receives the wb table and its own name */
    lua_getglobal(L, "wb");
    lua_pushvalue(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

int luaopen_wb(lua_State *L)
{
    wb_core_init();
    wb_exec *ex = wb_exec_local_new(0);
    if (!ex) return wbl_error(L);
    wbl_exec_init(L, ex);

    /* the embedded Lua library as package.preload entries */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    for (const wbl_embedded *f = wbl_embedded_files; f->name; f++) {
        lua_pushlightuserdata(L, (void *)f);
        lua_pushcclosure(L, embedded_loader, 1);
        lua_setfield(L, -2, f->name);
    }
    lua_pop(L, 2);

    static const luaL_Reg fns[] = {
        {"threads", l_threads},       {"executor", l_executor}, {"fit", l_fit},
        {"estimators", l_estimators}, {"version", l_version},   {"now", l_now},
        {NULL, NULL}};
    luaL_newlib(L, fns);

    static const luaL_Reg plugin_fns[] = {{"load", l_plugin_load}, {"list", l_plugin_list},
                                          {"path", l_plugin_path}, {NULL, NULL}};
    luaL_newlib(L, plugin_fns);
    lua_setfield(L, -2, "plugin");

    static const luaL_Reg core_fns[] = {
        {"estimator_info", l_estimator_info}, {"source_info", l_source_info},
        {"sources", l_sources},               {"check_params", l_check_params},
        {"generate", l_generate},             {"load_plugins", l_load_default_plugins},
        {"peak_rss", l_peak_rss},             {"rss", l_rss},
        {"closest", l_closest},
        {NULL, NULL}};
    luaL_newlib(L, core_fns);
    lua_setfield(L, -2, "core");

    wbl_open_dataset(L);
    wbl_open_model(L);
    wbl_open_core(L);
    wbl_open_io(L);
    wbl_open_remote(L);
    wbl_open_cluster(L);
    wbl_open_sql(L);
    return 1;
}
