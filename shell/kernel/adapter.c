/* adapter.c — the kernel's thin layer over the prompt's machinery
 * (shell/prompt.c, see prompt.h): a cell runs as a command at the prompt
 * does (wb_prompt_compile_cell: the prompt's rule, and a cell's last
 * expression is its result; "?name" through wb_prompt_help_query; the
 * clean-error message handler and Ctrl-C of wb_prompt_call; exit() and
 * quit() through wb_prompt_exit_request), completion is the prompt's
 * (wb_prompt_complete), is_complete its rule; lua/wb/kernel.lua makes the
 * MIME bundles of values (over wb.show, the prompt's printing), the
 * inspector's text (wb.help, the text help(name) prints) and a Jupyter
 * error of the prompt's message. Everything the kernel knows of wb's Lua
 * goes through here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../prompt.h"
#include "kernel.h"
#include "wblua.h"

/* ------------------------------------------------------------- Ctrl-C */

/* The prompt's Ctrl-C (wb_prompt_interrupt): while a cell runs, the first
 * SIGINT (the front end's interrupt, or interrupt_request) stops it at its
 * next Lua instruction, kernels at their next check of the interrupt flag;
 * the second says what is happening; a third leaves the kernel (for work
 * that does not poll the flag; the front end offers a restart). Between
 * cells SIGINT does nothing. Only the main thread runs Lua: another thread
 * that receives the signal passes it on. */
static volatile sig_atomic_t note; /* 1: the second press's note is to be published */
static pthread_t main_thread;
static int log_fd = 2;

static void say(const char *s)
{
    ssize_t r = write(log_fd, s, strlen(s));
    (void)r;
}

static void on_sigint(int sig)
{
    int saved = errno;
    if (!pthread_equal(pthread_self(), main_thread)) {
        pthread_kill(main_thread, sig);
        errno = saved;
        return;
    }
    int presses = wb_prompt_interrupt(); /* 0: no cell runs */
    if (presses == 2) {
        note = 1;
        say("wb kernel: stopping: waiting for the running work to notice (interrupt once more leaves the kernel)\n");
    } else if (presses >= 3) {
        say("wb kernel: interrupted 3 times, leaving\n");
        _exit(130);
    }
    errno = saved;
}

const char *kad_take_note(void)
{
    if (!note) return "";
    note = 0;
    return "wb: stopping: waiting for the running work to notice (interrupt once more leaves the kernel)\n";
}

void kad_interrupt(kernel *k) { pthread_kill(k->main_thread, SIGINT); }

/* ------------------------------------------------- calls into wb.kernel */

/* push require("wb.kernel")[fn]; 0 or -1 (message on the stack) */
static int push_kfn(lua_State *L, const char *fn)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "wb.kernel");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) return -1;
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    return 0;
}

/* a Lua string as JSON text (repaired where it is not UTF-8) */
static json_t *lua_json_text(lua_State *L, int idx)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    return s ? jmsg_text(s, n) : json_string("");
}

/* {mime = text} at idx -> a JSON object (NULL when not a table) */
static json_t *bundle_json(lua_State *L, int idx)
{
    if (!lua_istable(L, idx)) return NULL;
    idx = lua_absindex(L, idx);
    json_t *o = json_object();
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING)
            json_object_set_new(o, lua_tostring(L, -2), lua_json_text(L, -1));
        lua_pop(L, 1);
    }
    return o;
}

/* ename, evalue, traceback of the error message at the top (popped): the
 * prompt's message (its handler made it clean), split by wb.kernel.error */
static json_t *error_json(lua_State *L)
{
    int top = lua_gettop(L) - 1;
    json_t *e = NULL;
    if (push_kfn(L, "error") == 0) {
        lua_pushvalue(L, top + 1);
        if (lua_pcall(L, 1, 3, 0) == LUA_OK && lua_istable(L, -1)) {
            json_t *tb = json_array();
            int n = (int)lua_rawlen(L, -1);
            for (int i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                json_array_append_new(tb, lua_json_text(L, -1));
                lua_pop(L, 1);
            }
            e = json_pack("{s:o, s:o, s:o}", "ename", lua_json_text(L, -3), "evalue", lua_json_text(L, -2),
                          "traceback", tb);
        }
    }
    if (!e) { /* wb.kernel failed: the prompt's text as it is */
        lua_settop(L, top + 1);
        const char *text = wb_prompt_error_text(L);
        json_t *msg = jmsg_text(text, strlen(text));
        e = json_pack("{s:s, s:O, s:[O]}", "ename", "wb", "evalue", msg, "traceback", msg);
        json_decref(msg);
    }
    lua_settop(L, top);
    return e;
}

void kad_result_free(kad_result *r)
{
    json_decref(r->bundle);
    json_decref(r->error);
    free(r->plain);
    memset(r, 0, sizeof *r);
}

/* a failed call's message (at the top): r->exit for exit()/quit(), else
 * r->error; popped */
static void failed(lua_State *L, kad_result *r)
{
    if (wb_prompt_exit_request(L, -1, &r->exit_code)) {
        r->exit = 1;
        lua_pop(L, 1);
    } else {
        r->error = error_json(L);
    }
}

void kad_execute(kernel *k, const char *code, kad_result *r)
{
    lua_State *L = k->L;
    memset(r, 0, sizeof *r);
    lua_settop(L, 0);
    char *asked = wb_prompt_help_query(L, code); /* "?name", "name?": help("name") */
    if (asked) code = asked;
    int more;
    int status = wb_prompt_compile_cell(L, code, &more);
    if (status != LUA_OK) {
        r->error = error_json(L);
        free(asked);
        return;
    }
    wb_prompt_set_chunk(L, code); /* error messages quote its lines */
    free(asked);
    wb_prompt_begin(L, 0);
    status = wb_prompt_call(L, 0, LUA_MULTRET);
    if (status != LUA_OK) {
        failed(L, r);
        lua_settop(L, 0);
        return;
    }
    int n = lua_gettop(L);
    if (n > 0) {
        /* wb.kernel's results: wb.show's text (wb_prompt_results's) with
         * the values' rich forms */
        if (push_kfn(L, "results") != 0) {
            lua_settop(L, 0);
            return;
        }
        lua_insert(L, 1);
        status = wb_prompt_call(L, n, 1);
        if (status != LUA_OK) {
            failed(L, r);
        } else {
            r->bundle = bundle_json(L, -1);
            json_t *plain = json_object_get(r->bundle, "text/plain");
            if (plain) r->plain = strdup(json_string_value(plain));
        }
    }
    lua_settop(L, 0);
}

json_t *kad_expression(kernel *k, const char *expr)
{
    lua_State *L = k->L;
    int top = lua_gettop(L);
    json_t *res;
    const char *text = lua_pushfstring(L, "return %s", expr);
    int status = luaL_loadbuffer(L, text, strlen(text), "=expression");
    lua_remove(L, -2);
    if (status == LUA_OK) status = wb_prompt_call(L, 0, 1);
    if (status == LUA_OK && push_kfn(L, "display") == 0) {
        lua_insert(L, -2);
        status = wb_prompt_call(L, 1, 1);
    } else if (status == LUA_OK) {
        status = LUA_ERRRUN;
    }
    if (status == LUA_OK) {
        res = json_pack("{s:s, s:o, s:{}}", "status", "ok", "data", bundle_json(L, -1), "metadata");
    } else {
        int code;
        if (wb_prompt_exit_request(L, -1, &code)) { /* exit() is no expression's business */
            lua_pop(L, 1);
            lua_pushliteral(L, "exit() and quit() leave the kernel from a cell, not from an expression");
        }
        res = error_json(L);
        json_object_set_new(res, "status", json_string("error"));
    }
    lua_settop(L, top);
    return res;
}

/* The prompt's completion (wb_prompt_complete, by context: names, methods
 * of the object's type, estimator, column and metric names and files
 * inside strings, parameter names) of the cell's line at the cursor, as the
 * prompt completes the line being typed; no closing quote is added (a
 * notebook's editor closes its strings itself) */
json_t *kad_complete(kernel *k, const char *code, size_t cursor, size_t *start, size_t *end)
{
    json_t *m = json_array();
    *start = *end = cursor;
    size_t ls = cursor;
    while (ls > 0 && code[ls - 1] != '\n') ls--;
    char *line = strndup(code + ls, cursor - ls);
    char **items = NULL;
    int n = 0, from = 0, quote = 0, files = 0;
    if (line && wb_prompt_complete(k->L, line, (int)(cursor - ls), &items, &n, &from, &quote, &files) == 0) {
        for (int i = 0; i < n; i++) {
            json_array_append_new(m, jmsg_text(items[i], strlen(items[i])));
            free(items[i]);
        }
        free(items);
        if (from >= 0 && (size_t)from <= cursor - ls) *start = ls + (size_t)from;
    }
    free(line);
    return m;
}

/* call wb.kernel's fn(code, cursor) with nres results, protected; 0 or -1 */
static int call_kfn(lua_State *L, const char *fn, const char *code, size_t cursor, int nres)
{
    if (push_kfn(L, fn) != 0) return -1;
    lua_pushstring(L, code);
    lua_pushinteger(L, (lua_Integer)cursor);
    return lua_pcall(L, 2, nres, 0) == LUA_OK ? 0 : -1;
}

char *kad_inspect(kernel *k, const char *code, size_t cursor)
{
    lua_State *L = k->L;
    int top = lua_gettop(L);
    char *text = NULL;
    if (call_kfn(L, "inspect", code, cursor, 1) == 0) {
        if (lua_type(L, -1) == LUA_TSTRING) text = strdup(lua_tostring(L, -1));
    } else {
        klog(k, "inspect failed: %s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
    }
    lua_settop(L, top);
    return text;
}

const char *kad_is_complete(kernel *k, const char *code)
{
    lua_State *L = k->L;
    int top = lua_gettop(L);
    char *asked = wb_prompt_help_query(L, code);
    int more;
    int status = wb_prompt_compile_cell(L, asked ? asked : code, &more);
    free(asked);
    lua_settop(L, top);
    if (status == LUA_OK) return "complete";
    return more ? "incomplete" : "invalid";
}

/* ------------------------------------------------ what wb.kernel calls */

static kernel *kk;

/* input(prompt, password) -> the line the front end sent, or nil and why */
static int l_input(lua_State *L)
{
    const char *prompt = luaL_optstring(L, 1, "");
    int password = lua_toboolean(L, 2);
    const char *why;
    char *line = kio_input(kk, prompt, password, &why);
    if (!line) {
        lua_pushnil(L);
        lua_pushstring(L, why ? why : "no input");
        return 2;
    }
    lua_pushstring(L, line);
    free(line);
    return 1;
}

/* display(bundle): a display_data message now */
static int l_display(lua_State *L)
{
    json_t *b = bundle_json(L, 1);
    if (!b) return luaL_argerror(L, 1, "table of MIME type -> text expected");
    kio_publish(kk, "display_data", json_pack("{s:o, s:{}, s:{}}", "data", b, "metadata", "transient"));
    return 0;
}

int kad_init(kernel *k)
{
    kk = k;
    main_thread = k->main_thread;
    log_fd = k->log ? fileno(k->log) : 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigint; /* no SA_RESTART: a blocking wait returns */
    sigaction(SIGINT, &sa, NULL);

    lua_State *L = k->L;
    if (push_kfn(L, "install") != 0) {
        klog(k, "cannot load wb.kernel: %s", lua_tostring(L, -1));
        lua_settop(L, 0);
        return -1;
    }
    static const luaL_Reg fns[] = {{"input", l_input}, {"display", l_display}, {NULL, NULL}};
    luaL_newlib(L, fns);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        klog(k, "wb.kernel.install: %s", lua_tostring(L, -1));
        lua_settop(L, 0);
        return -1;
    }
    return 0;
}
