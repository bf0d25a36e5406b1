/* fuzz_params.c — the estimator parameter checker, from random Lua tables of
 * parameters, against every schema the built plugins register.
 *
 * The input is a small program that builds a Lua table: keys are parameter
 * names of the registered schemas (or other strings, or non-strings),
 * values are integers, numbers (NaN, infinities, huge), booleans, strings
 * (the schemas' choices or others), matrices (tables of rows), ragged and
 * nested tables, functions, userdata and a dataset. The table is then
 *   - checked with wb.core.check_params(name, table) for every estimator
 *     (the Lua-to-parameters conversion, wb_params_validate and the
 *     estimator's own check without data), and
 *   - converted once (wbl_check_params) and validated in C against every
 *     estimator (plus its check against a small labelled dataset) and every
 *     data source (plus its check, its column and class counts).
 *
 * Properties: nothing crashes; every refusal is a string naming the
 * estimator or source (or a Lua "bad argument"); a set that passes holds
 * every parameter of the schema with an allowed value (the checked set
 * validates again to the same encoding). */
#include <float.h>
#include <math.h>

#include "fuzz.h"
#include "wblua.h"

static lua_State *L;
static const char **pool;
static int npool;
static wb_dataset *tiny;

/* ------------------------------------------------------------ input bytes */

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static uint8_t u8(rd *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

static uint64_t u64(rd *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

static double num(rd *r)
{
    static const double special[] = {0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, 1e-300, 1e300, DBL_MAX, -DBL_MAX,
                                     INFINITY, -INFINITY, NAN, 2147483648.0, 9007199254740993.0,
                                     9.3e18, -9.3e18, 9e15, 4096.0, 1e6, 0.1, 1e-9, DBL_MIN, -1e-320};
    uint8_t k = u8(r);
    if (k < 200) return special[k % (sizeof special / sizeof special[0])];
    uint64_t b = u64(r);
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static lua_Integer integer(rd *r)
{
    static const lua_Integer special[] = {0, 1, -1, 2, 3, 4, 5, 10, 16, 100, 1000, 4096, 2147483647,
                                          -2147483647 - 1, 2147483648LL, 9007199254740993LL,
                                          INT64_MAX, INT64_MIN, (lua_Integer)1 << 40, -3};
    uint8_t k = u8(r);
    if (k < 200) return special[k % (sizeof special / sizeof special[0])];
    return (lua_Integer)u64(r);
}

/* a string: from the pool (names and choices) or raw bytes */
static void push_string(rd *r)
{
    uint8_t k = u8(r);
    if (k < 192 && npool) {
        lua_pushstring(L, pool[(k + (size_t)u8(r) * 192) % (size_t)npool]);
        return;
    }
    size_t len = u8(r) % 48;
    if (len > r->n) len = r->n;
    lua_pushlstring(L, (const char *)r->p, len);
    r->p += len;
    r->n -= len;
}

static void push_value(rd *r, int depth);

static int l_dummy(lua_State *Ls)
{
    (void)Ls;
    return 0;
}

static void push_value(rd *r, int depth)
{
    uint8_t k = u8(r) % 14;
    if (depth > 3 && k >= 5) k = k % 5;
    switch (k) {
    case 0: lua_pushinteger(L, integer(r)); break;
    case 1: lua_pushnumber(L, num(r)); break;
    case 2: lua_pushboolean(L, u8(r) & 1); break;
    case 3:
    case 4: push_string(r); break;
    case 5: { /* a matrix: rows x cols of numbers */
        int rows = u8(r) % 7, cols = u8(r) % 7;
        lua_createtable(L, rows, 0);
        for (int i = 0; i < rows; i++) {
            lua_createtable(L, cols, 0);
            for (int j = 0; j < cols; j++) {
                lua_pushnumber(L, num(r));
                lua_rawseti(L, -2, j + 1);
            }
            lua_rawseti(L, -2, i + 1);
        }
        break;
    }
    case 6: { /* a flat array of numbers */
        int n = u8(r) % 9;
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            lua_pushnumber(L, num(r));
            lua_rawseti(L, -2, i + 1);
        }
        break;
    }
    case 7:
    case 8: { /* an array of anything (ragged rows, nested tables, holes) */
        int n = u8(r) % 6;
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            push_value(r, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)(i + 1 + (u8(r) == 7 ? 3 : 0)));
        }
        break;
    }
    case 9: { /* a table with string keys */
        int n = u8(r) % 4;
        lua_createtable(L, 0, n);
        for (int i = 0; i < n; i++) {
            push_string(r);
            push_value(r, depth + 1);
            lua_rawset(L, -3);
        }
        break;
    }
    case 10: lua_pushcfunction(L, l_dummy); break;
    case 11: lua_newuserdatauv(L, 8, 0); break;
    case 12: wbl_push_dataset(L, wb_ds_ref(tiny)); break;
    default: lua_pushlightuserdata(L, (void *)r); break;
    }
}

/* the parameter table: string keys mostly */
static void push_table(rd *r)
{
    int n = u8(r) % 8;
    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        uint8_t k = u8(r);
        if (k == 255)
            lua_pushinteger(L, integer(r));
        else if (k == 254)
            lua_pushnumber(L, num(r));
        else
            push_string(r);
        if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TNUMBER && isnan(lua_tonumber(L, -1)))) {
            lua_pop(L, 1);
            continue;
        }
        push_value(r, 1);
        lua_rawset(L, -3);
    }
}

/* ------------------------------------------------------------ checks */

/* a set that passed validation holds every schema parameter that has a value
 * (required or defaulted) and validates again to the same encoding */
static void check_passed(const char *who, const wb_param_spec *spec, int nspec, const wb_params *p)
{
    for (int j = 0; j < nspec; j++)
        if (spec[j].def || !(spec[j].flags & WB_P_NULLABLE))
            FZ_ASSERT(wb_params_has(p, spec[j].name), "%s: checked set lacks '%s'", who, spec[j].name);
    wb_params *q = NULL;
    int rc = wb_params_validate(who, spec, nspec, p, &q);
    FZ_ASSERT(rc == 0, "%s: a checked set fails a second check: %s", who, wb_errmsg());
    wb_buf a = {0}, b = {0};
    FZ_ASSERT(wb_params_encode(p, &a) == 0 && wb_params_encode(q, &b) == 0, "encode");
    FZ_ASSERT(a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "%s: checking twice changed the set", who);
    wb_buf_free(&a);
    wb_buf_free(&b);
    wb_params_free(q);
}

static void refused(int rc, const char *who)
{
    fz_check_err(rc, who);
    FZ_ASSERT(strstr(wb_errmsg(), who) != NULL, "the message does not name %s: %s", who, wb_errmsg());
}

/* the C side: validate the converted set against every schema */
static int l_c_checks(lua_State *Ls)
{
    wb_params *in = wbl_check_params(Ls, 1, "fuzz");
    for (int i = 0; i < wb_estimator_count(); i++) {
        const wb_estimator_def *e = wb_estimator_at(i);
        wb_params *p = NULL;
        int rc = wb_params_validate(e->name, e->params, e->nparams, in, &p);
        if (rc) {
            refused(rc, e->name);
            continue;
        }
        check_passed(e->name, e->params, e->nparams, p);
        if (e->check) {
            wb_clearerr();
            rc = e->check(p, NULL);
            if (rc) fz_check_err(rc, e->name);
            wb_clearerr();
            rc = e->check(p, tiny);
            if (rc) fz_check_err(rc, e->name);
        }
        wb_params_free(p);
    }
    for (int i = 0; i < wb_source_count(); i++) {
        const wb_source_def *s = wb_source_at(i);
        char who[160];
        snprintf(who, sizeof who, "datagen.%s", s->name);
        wb_params *p = NULL;
        int rc = wb_params_validate(who, s->params, s->nparams, in, &p);
        if (rc) {
            refused(rc, who);
            continue;
        }
        check_passed(who, s->params, s->nparams, p);
        fz_accepted = 1;
        wb_clearerr();
        rc = s->check ? s->check(p) : 0;
        if (rc) fz_check_err(rc, who);
        if (!rc) {
            FZ_ASSERT(wb_params_int(p, "n") >= 0, "%s: n < 0 passed", who);
            if (s->cols) FZ_ASSERT(s->cols(p) >= 0, "%s: negative column count", who);
            if (s->nclasses) FZ_ASSERT(s->nclasses(p) >= 0, "%s: negative class count", who);
        }
        wb_params_free(p);
    }
    wb_params_free(in);
    return 0;
}

/* ------------------------------------------------------------ set-up */

static void pool_add(const char *s)
{
    for (int i = 0; i < npool; i++)
        if (!strcmp(pool[i], s)) return;
    const char **np = realloc(pool, (size_t)(npool + 1) * sizeof *np);
    if (!np) abort();
    pool = np;
    pool[npool++] = wb_strdup(s);
}

static void pool_spec(const wb_param_spec *spec, int n)
{
    for (int j = 0; j < n; j++) {
        pool_add(spec[j].name);
        if (spec[j].def) pool_add(spec[j].def);
        const char *c = spec[j].choices;
        while (c && *c) {
            const char *e = strchr(c, '|');
            size_t l = e ? (size_t)(e - c) : strlen(c);
            char buf[256];
            snprintf(buf, sizeof buf, "%.*s", (int)l, c);
            pool_add(buf);
            c += l + (e ? 1 : 0);
        }
    }
}

/* at exit: everything freed, so the leak checkers see only real leaks */
static void fz_params_done(void)
{
    wb_ds_unref(tiny);
    tiny = NULL;
    if (L) lua_close(L);
    L = NULL;
    for (int i = 0; i < npool; i++) free((void *)pool[i]);
    free(pool);
    pool = NULL;
    npool = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_core();
    wb_plugin_set_exe_dir(WB_BUILD_DIR);
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_pushcfunction(L, luaopen_wb);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "fuzz_params: %s\n", lua_tostring(L, -1));
        abort();
    }
    lua_setglobal(L, "wb");
    if (luaL_dostring(L, "require('wb.lib'); wb.threads(1); wb.core.load_plugins()") != LUA_OK) {
        fprintf(stderr, "fuzz_params: %s\n", lua_tostring(L, -1));
        abort();
    }
    if (wb_estimator_count() == 0 || wb_source_count() == 0) {
        fprintf(stderr, "fuzz_params: no estimators or sources registered (plugins in %s/plugins?)\n",
                WB_BUILD_DIR);
        abort();
    }
    for (int i = 0; i < wb_estimator_count(); i++) pool_spec(wb_estimator_at(i)->params, wb_estimator_at(i)->nparams);
    for (int i = 0; i < wb_source_count(); i++) pool_spec(wb_source_at(i)->params, wb_source_at(i)->nparams);
    static const char *extra[] = {"file", "", "x", "n", "seed", "k-means++", "random", "auto", "true", "1",
                                  "nan", "inf", "-1", "0x10"};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) pool_add(extra[i]);
    double x[15] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, y[5] = {0, 1, 0, 1, 1};
    if (wb_ds_from_memory(wbl_exec(L), x, y, 5, 3, &tiny)) {
        fprintf(stderr, "fuzz_params: %s\n", wb_errmsg());
        abort();
    }
    atexit(fz_params_done);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!L) LLVMFuzzerInitialize(NULL, NULL);
    rd r = {data, size};
    int top = lua_gettop(L);
    push_table(&r);
    int t = lua_gettop(L);
    /* the Lua path, per estimator */
    lua_getglobal(L, "wb");
    lua_getfield(L, -1, "core");
    for (int i = 0; i < wb_estimator_count(); i++) {
        const char *name = wb_estimator_at(i)->name;
        lua_getfield(L, -1, "check_params");
        lua_pushstring(L, name);
        lua_pushvalue(L, t);
        if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
            FZ_ASSERT(lua_type(L, -1) == LUA_TSTRING, "%s: error value of type %s", name, luaL_typename(L, -1));
            const char *m = lua_tostring(L, -1);
            FZ_ASSERT(m[0] && (strstr(m, name) || strstr(m, "bad argument") || strstr(m, "parameter")),
                      "%s: unclear refusal \"%s\"", name, m);
        } else {
            fz_accepted = 1;
            FZ_ASSERT(lua_istable(L, -1), "%s: check_params returned %s", name, luaL_typename(L, -1));
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    /* the C path, every estimator and source */
    lua_pushcfunction(L, l_c_checks);
    lua_pushvalue(L, t);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        FZ_ASSERT(m && (strstr(m, "bad argument") || strstr(m, "fuzz") || strstr(m, "parameter")),
                  "conversion refused: %s", m ? m : "?");
    }
    lua_settop(L, top);
    static unsigned runs;
    if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
