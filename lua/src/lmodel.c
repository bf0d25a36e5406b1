/* lmodel.c — wb.Model: a fitted model. Fields read as m.name (numbers,
 * strings, arrays as Lua tables); methods from the estimator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wblua.h"
#include "wb/plugin_cols.h"

static int m_gc(lua_State *L)
{
    wbl_model_box *u = luaL_checkudata(L, 1, WBL_MODEL);
    wb_model_free(u->m);
    u->m = NULL;
    return 0;
}

static const wb_estimator_def *def_of(lua_State *L, wb_model *m)
{
    const wb_estimator_def *e = wb_estimator_find(wb_model_estimator(m));
    if (!e) luaL_error(L, "the estimator '%s' of this model is not loaded", wb_model_estimator(m));
    return e;
}

/* a 1 x n array is a flat list; any other shape a list of rows (so k x 1
 * centres are still rows) */
static void push_array(lua_State *L, const double *a, int64_t r, int64_t c)
{
    if (r == 1) {
        int64_t n = r * c;
        lua_createtable(L, (int)n, 0);
        for (int64_t i = 0; i < n; i++) {
            lua_pushnumber(L, a[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return;
    }
    lua_createtable(L, (int)r, 0);
    for (int64_t i = 0; i < r; i++) {
        lua_createtable(L, (int)c, 0);
        for (int64_t j = 0; j < c; j++) {
            lua_pushnumber(L, a[i * c + j]);
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static int push_field(lua_State *L, wb_model *m, const char *k)
{
    int t = wb_model_field_type(m, k);
    if (t == WB_F_NUM) {
        double v = wb_model_num(m, k);
        if (v == floor(v) && fabs(v) < 9e15)
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
    } else if (t == WB_F_STR) {
        lua_pushstring(L, wb_model_str(m, k));
    } else if (t == WB_F_ARRAY) {
        int64_t r, c;
        const double *a = wb_model_array(m, k, &r, &c);
        push_array(L, a, r, c);
    } else
        return 0;
    return 1;
}

typedef int (*ds_method)(wb_exec *, const wb_model *, const wb_dataset *, wb_dataset **);

/* the labels' class names a model keeps (label_levels, JSON), or NULL */
static wbc_jv *class_names(const wb_model *m)
{
    wbc_jv *v = NULL;
    const char *s = wb_model_str(m, "label_levels");
    if (!s) return NULL;
    if (wbc_json_parse(s, &v) || !wbc_json_is_strings(v, -1, 1) || v->n < 1) {
        wbc_json_free(v);
        wb_seterr(WB_EFORMAT, "%s: the model's label_levels are malformed", wb_model_estimator(m));
        return NULL;
    }
    return v;
}

/* the output of predict (which 0) or predict_proba (1) named after the
 * labels the model learned: predictions carry the labels' name and, for
 * categorical labels, their class names (so they print and save as text);
 * probability columns are named by class */
static int name_output(const wb_model *m, wb_dataset *o, int which)
{
    const char *lname = wb_model_str(m, "label_name");
    wbc_jv *cn = class_names(m);
    if (!cn && wb_model_field_type(m, "label_levels")) return WB_EFORMAT;
    int64_t r = 0, c = 0, L = cn ? cn->n : 0;
    const double *cls = wb_model_array(m, "classes", &r, &c);
    int rc = 0;
    if (cn && cls) /* classes are codes of the class names */
        for (int64_t k = 0; k < r * c && !rc; k++)
            if (!(cls[k] >= 0 && cls[k] < (double)L && cls[k] == (int64_t)cls[k]))
                rc = wb_seterr(WB_EFORMAT, "%s: the model's class %g is not one of its %lld class names",
                               wb_model_estimator(m), cls[k], (long long)L);
    if (!rc && which == 0 && o->d == 1) {
        if (lname && lname[0]) rc = wb_ds_set_colname(o, 0, lname);
        if (!rc && cn) {
            const char **s = wbc_json_strings(cn);
            wb_levels *lv = NULL;
            rc = s ? wb_levels_new(s, L, &lv) : wb_seterr(WB_ENOMEM, "out of memory");
            if (!rc) rc = wb_ds_set_coltype(o, 0, WB_COL_CATEGORY, lv);
            wb_levels_unref(lv);
            free(s);
        }
    } else if (!rc && which == 1 && cls && r * c == o->d && (cn || lname)) {
        for (int64_t k = 0; k < o->d && !rc; k++) {
            char buf[64];
            const char *nm = cn ? cn->items[(int64_t)cls[k]].s : buf;
            if (!cn) snprintf(buf, sizeof buf, "%.17g", cls[k]);
            rc = wb_ds_set_colname(o, k, nm);
        }
    }
    wbc_json_free(cn);
    return rc;
}

static int call_ds_method(lua_State *L, const char *name, int which)
{
    wb_model *m = wbl_check_model(L, 1);
    const wb_estimator_def *e = def_of(L, m);
    wb_dataset *d = wbl_check_dataset(L, 2), *o = NULL;
    ds_method f = which == 0 ? e->predict : which == 1 ? e->predict_proba : which == 2 ? e->transform : e->inverse_transform;
    if (!f) return luaL_error(L, "%s has no %s", e->name, name);
    if (f(d->ex, m, d, &o)) return wbl_error(L);
    if (which == 0) o->is_vector = 1;
    if (which <= 1 && (e->kind == WB_EST_CLASSIFIER || e->kind == WB_EST_REGRESSOR) && name_output(m, o, which)) {
        wb_ds_unref(o);
        return wbl_error(L);
    }
    wbl_push_dataset(L, o);
    return 1;
}

static int m_predict(lua_State *L) { return call_ds_method(L, "predict", 0); }
static int m_predict_proba(lua_State *L) { return call_ds_method(L, "predict_proba", 1); }
static int m_transform(lua_State *L) { return call_ds_method(L, "transform", 2); }
static int m_inverse_transform(lua_State *L) { return call_ds_method(L, "inverse_transform", 3); }

/* m:score_raw(d) -> the estimator's own score, or nil when it has none */
static int m_score_raw(lua_State *L)
{
    wb_model *m = wbl_check_model(L, 1);
    const wb_estimator_def *e = def_of(L, m);
    wb_dataset *d = wbl_check_dataset(L, 2);
    if (!e->score) return 0;
    double s;
    if (e->score(d->ex, m, d, &s)) return wbl_error(L);
    lua_pushnumber(L, s);
    return 1;
}

static int m_save(lua_State *L)
{
    wb_model *m = wbl_check_model(L, 1);
    const char *path = wbl_check_path(L, 2);
    if (wb_model_save(m, path)) return wbl_error(L);
    lua_pushstring(L, path);
    return 1;
}

static int m_params(lua_State *L)
{
    wbl_push_params(L, wb_model_params(wbl_check_model(L, 1)));
    return 1;
}

static int m_estimator(lua_State *L)
{
    lua_pushstring(L, wb_model_estimator(wbl_check_model(L, 1)));
    return 1;
}

/* m:fields() -> { {name=, type="number"|"string"|"array", rows=, cols=}, ... } */
static int m_fields(lua_State *L)
{
    wb_model *m = wbl_check_model(L, 1);
    lua_newtable(L);
    for (int i = 0; i < wb_model_nfields(m); i++) {
        int t;
        const char *k = wb_model_field_at(m, i, &t);
        lua_newtable(L);
        lua_pushstring(L, k);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, t == WB_F_NUM ? "number" : t == WB_F_STR ? "string" : "array");
        lua_setfield(L, -2, "type");
        if (t == WB_F_ARRAY) {
            int64_t r, c;
            wb_model_array(m, k, &r, &c);
            lua_pushinteger(L, (lua_Integer)r);
            lua_setfield(L, -2, "rows");
            lua_pushinteger(L, (lua_Integer)c);
            lua_setfield(L, -2, "cols");
        }
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* m:get(name) -> a field (also m.name) */
static int m_get(lua_State *L)
{
    wb_model *m = wbl_check_model(L, 1);
    if (!push_field(L, m, luaL_checkstring(L, 2))) lua_pushnil(L);
    return 1;
}

/* m:encode() -> bytes; wb.core.model_decode(bytes) -> model */
static int m_encode(lua_State *L)
{
    wb_buf b = {0};
    if (wb_model_encode(wbl_check_model(L, 1), &b)) {
        wb_buf_free(&b);
        return wbl_error(L);
    }
    lua_pushlstring(L, (const char *)b.p, b.len);
    wb_buf_free(&b);
    return 1;
}

static int l_model_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    wb_model *m;
    if (wb_model_decode(s, n, &m)) return wbl_error(L);
    wbl_push_model(L, m);
    return 1;
}

static int l_load_model(lua_State *L)
{
    wb_model *m;
    if (wb_model_load(wbl_check_path(L, 1), &m)) return wbl_error(L);
    wbl_push_model(L, m);
    return 1;
}

/* wb.core.model_new(estimator, params, fields) -> a model built from Lua
 * (for estimators written in Lua, e.g. pipelines) */
static int l_model_new(lua_State *L)
{
    const char *est = luaL_checkstring(L, 1);
    wb_params *p = wbl_check_params(L, 2, "model_new");
    wb_model *m = wb_model_new(est, p);
    wb_params_free(p);
    if (!m) return luaL_error(L, "out of memory");
    wbl_push_model(L, m);
    return 1;
}

/* m:set(name, value): a number, string or matrix field */
static int m_set(lua_State *L)
{
    wb_model *m = wbl_check_model(L, 1);
    const char *k = luaL_checkstring(L, 2);
    int rc;
    if (lua_type(L, 3) == LUA_TNUMBER)
        rc = wb_model_set_num(m, k, lua_tonumber(L, 3));
    else if (lua_type(L, 3) == LUA_TSTRING)
        rc = wb_model_set_str(m, k, lua_tostring(L, 3));
    else if (lua_type(L, 3) == LUA_TBOOLEAN)
        rc = wb_model_set_num(m, k, lua_toboolean(L, 3));
    else {
        int64_t r, c;
        const char *err;
        double *x = wbl_to_matrix(L, 3, &r, &c, &err);
        if (!x) return wbl_argerror(L, 3, "%s", err);
        rc = wb_model_set_array(m, k, x, r, c);
        free(x);
    }
    if (rc) return wbl_error(L);
    return 0;
}

static int m_index(lua_State *L)
{
    /* methods first (from the metatable's method table), then fields */
    luaL_getmetatable(L, WBL_MODEL);
    lua_getfield(L, -1, "methods");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 3);
    wb_model *m = wbl_check_model(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING && push_field(L, m, lua_tostring(L, 2))) return 1;
    return 0;
}

void wbl_open_model(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"predict", m_predict},   {"predict_proba", m_predict_proba}, {"transform", m_transform},
        {"inverse_transform", m_inverse_transform}, {"score_raw", m_score_raw},
        {"save", m_save},         {"params", m_params},   {"estimator", m_estimator},
        {"fields", m_fields},     {"get", m_get},         {"set", m_set},
        {"encode", m_encode},     {NULL, NULL}};
    luaL_newmetatable(L, WBL_MODEL);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
    lua_pushcfunction(L, m_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, m_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, m_gc);
    lua_setfield(L, -2, "__close");
    lua_pushliteral(L, "Model");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_load_model);
    lua_setfield(L, -2, "load_model");
    lua_getfield(L, -1, "core");
    lua_pushcfunction(L, l_model_decode);
    lua_setfield(L, -2, "model_decode");
    lua_pushcfunction(L, l_model_new);
    lua_setfield(L, -2, "model_new");
    lua_pop(L, 1);
}
