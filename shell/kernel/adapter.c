/* adapter.c — the kernel's thin layer over the prompt's machinery: run a
 * chunk as the prompt does (its compile rule, Ctrl-C, the results shown
 * through wb.show), and ask lua/wb/kernel.lua for completion, help and the
 * MIME bundles of values. Everything the kernel knows of wb's Lua goes
 * through here, so that the prompt's improvements reach the notebook by
 * changing this file and wb/kernel.lua only.
 *
 * The chunk rule (compile_chunk) and the Ctrl-C handling are those of the
 * prompt (shell/main.c), copied here; a notebook cell adds one rule
 * (compile_cell: its last expression is its result). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../progress.h"
#include "kernel.h"
#include "wblua.h"

/* ------------------------------------------------------------- Ctrl-C */

/* As at the prompt: while a chunk runs, the first SIGINT (the front end's
 * interrupt, or interrupt_request) sets the interrupt flag that kernels poll
 * and installs a hook that raises "interrupted!" in the running Lua code;
 * the second says what is happening; a third leaves the kernel (for work
 * that does not poll the flag; the front end offers a restart). Between
 * chunks SIGINT does nothing. */
static lua_State *running_L;
static volatile sig_atomic_t running, presses;
static volatile sig_atomic_t note; /* 1: the second press's note is to be published */
static pthread_t main_thread;
static int log_fd = 2;

static void say(const char *s)
{
    ssize_t r = write(log_fd, s, strlen(s));
    (void)r;
}

static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
    int saved = errno;
    if (!pthread_equal(pthread_self(), main_thread)) {
        pthread_kill(main_thread, sig);
        errno = saved;
        return;
    }
    if (running) {
        wb_interrupt();
        if (running_L) lua_sethook(running_L, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
        presses++;
        if (presses == 2) {
            note = 1;
            say("wb kernel: stopping: waiting for the running work to notice (interrupt once more leaves the kernel)\n");
        } else if (presses >= 3) {
            say("wb kernel: interrupted 3 times, leaving\n");
            _exit(130);
        }
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

static int msghandler(lua_State *L)
{
    if (wb_interrupted()) { /* whatever the running code made of it */
        luaL_traceback(L, L, "interrupted!", 1);
        return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    wb_interrupt_clear();
    running_L = L;
    presses = 0;
    running = 1;
    int status = lua_pcall(L, narg, nres, base);
    running = 0;
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base);
    wb_shell_progress_end();
    return status;
}

/* ------------------------------------------------------ the chunk rule */

static int incomplete(lua_State *L, int status)
{
    if (status == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        if (lmsg >= 5 && strcmp(msg + lmsg - 5, "<eof>") == 0) return 1;
    }
    return 0;
}

static int load_text(lua_State *L, const char *fmt, const char *src)
{
    const char *text = lua_pushfstring(L, fmt, src);
    int status = luaL_loadbuffer(L, text, strlen(text), "=stdin");
    lua_remove(L, -2);
    return status;
}

/* a chunk as the prompt compiles it: an expression ("return chunk;") when it
 * is one, else statements ("=expr" is "return expr"); *more when it is
 * unfinished. The function or the message is left on the stack. */
static int compile_chunk(lua_State *L, const char *chunk, int *more)
{
    *more = 0;
    int eq = chunk[0] == '=';
    const char *src = eq ? chunk + 1 : chunk;
    int status = load_text(L, "return %s;", src);
    if (status == LUA_OK) return status;
    lua_pop(L, 1);
    status = load_text(L, eq ? "return %s" : "%s", src);
    if (status == LUA_OK) return status;
    if (incomplete(L, status)) {
        *more = 1;
        return status;
    }
    if (!eq && status == LUA_ERRSYNTAX) {
        int st2 = load_text(L, "return %s", src);
        if (incomplete(L, st2)) *more = 1;
        const char *p = src + strspn(src, " \t\n");
        int statement_start = *p == '_' || *p == '(' || *p == ':' || *p == ';' ||
                              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                              (p[0] == '-' && p[1] == '-');
        if (*more || statement_start) {
            lua_pop(L, 1);
        } else {
            lua_remove(L, -2);
            status = st2;
        }
    }
    return status;
}

/* a notebook cell: the prompt's rule, and when the cell is statements whose
 * last lines are an expression (a name, a call such as wb.plot.scatter(...)),
 * that expression's value is the cell's result, as a notebook shows it:
 *   d = wb.datagen.blobs{n = 100}
 *   d                                  -> shown
 * The split is at a line start: the lines before it compile alone as
 * statements, the lines from it alone as an expression (so a split never
 * falls inside a block, a string or a call), and together with "return"
 * before the expression (the line numbers stay those of the cell). The last
 * such expression is taken; one starting with "(" is not (Lua would read it
 * as a call of what comes before). */
#define SPLIT_LINES 200

static int compiles(lua_State *L, const char *text, size_t len)
{
    int ok = luaL_loadbuffer(L, text, len, "=stdin") == LUA_OK;
    lua_pop(L, 1);
    return ok;
}

static int compile_split(lua_State *L, const char *code)
{
    size_t len = strlen(code);
    luaL_Buffer b;
    int tried = 0;
    for (size_t k = len; k > 0 && tried < SPLIT_LINES; k--) {
        if (code[k - 1] != '\n') continue;
        tried++;
        const char *suffix = code + k;
        const char *p = suffix + strspn(suffix, " \t\r\n");
        if (!*p || *p == '(' || (p[0] == '-' && p[1] == '-')) continue;
        lua_pushfstring(L, "return %s\n;", suffix);
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        int expr = compiles(L, s, n);
        lua_pop(L, 1);
        if (!expr || !compiles(L, code, k)) continue;
        luaL_buffinit(L, &b);
        luaL_addlstring(&b, code, k);
        luaL_addstring(&b, "return ");
        luaL_addstring(&b, suffix);
        luaL_addstring(&b, "\n;");
        luaL_pushresult(&b);
        s = lua_tolstring(L, -1, &n);
        int status = luaL_loadbuffer(L, s, n, "=stdin");
        lua_remove(L, -2);
        if (status == LUA_OK) return 1;
        lua_pop(L, 1);
    }
    return 0;
}

static int compile_cell(lua_State *L, const char *code, int *more)
{
    *more = 0;
    if (code[0] != '=') {
        if (load_text(L, "return %s;", code) == LUA_OK) return LUA_OK;
        lua_pop(L, 1);
        if (compile_split(L, code)) return LUA_OK;
    }
    return compile_chunk(L, code, more);
}

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

/* ename, evalue, traceback of the error message at the top (popped) */
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
    if (!e) { /* wb.kernel failed: the message as it is */
        json_t *msg = lua_json_text(L, top + 1);
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

/* wb.show's begin(): a new command (what it printed is forgotten) */
static void show_begin(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "wb.show");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
        lua_getfield(L, -1, "begin");
        if (lua_pcall(L, 0, 0, 0) != LUA_OK) lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

void kad_execute(kernel *k, const char *code, kad_result *r)
{
    lua_State *L = k->L;
    memset(r, 0, sizeof *r);
    lua_settop(L, 0);
    int more;
    int status = compile_cell(L, code, &more);
    if (status != LUA_OK) {
        r->error = error_json(L);
        return;
    }
    show_begin(L);
    status = docall(L, 0, LUA_MULTRET);
    if (status != LUA_OK) {
        r->error = error_json(L);
        lua_settop(L, 0);
        return;
    }
    int n = lua_gettop(L);
    if (n > 0) {
        if (push_kfn(L, "results") != 0) {
            lua_pop(L, 1);
            lua_settop(L, 0);
            return;
        }
        lua_insert(L, 1);
        status = docall(L, n, 1);
        if (status != LUA_OK) {
            r->error = error_json(L);
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
    if (status == LUA_OK) status = docall(L, 0, 1);
    if (status == LUA_OK && push_kfn(L, "display") == 0) {
        lua_insert(L, -2);
        status = docall(L, 1, 1);
    } else if (status == LUA_OK) {
        status = LUA_ERRRUN;
    }
    if (status == LUA_OK) {
        res = json_pack("{s:s, s:o, s:{}}", "status", "ok", "data", bundle_json(L, -1), "metadata");
    } else {
        res = error_json(L);
        json_object_set_new(res, "status", json_string("error"));
    }
    lua_settop(L, top);
    return res;
}

/* call wb.kernel's fn(code, cursor) with nres results, protected; 0 or -1 */
static int call_kfn(lua_State *L, const char *fn, const char *code, size_t cursor, int nres)
{
    if (push_kfn(L, fn) != 0) return -1;
    lua_pushstring(L, code);
    lua_pushinteger(L, (lua_Integer)cursor);
    return lua_pcall(L, 2, nres, 0) == LUA_OK ? 0 : -1;
}

json_t *kad_complete(kernel *k, const char *code, size_t cursor, size_t *start, size_t *end)
{
    lua_State *L = k->L;
    int top = lua_gettop(L);
    json_t *m = json_array();
    *start = *end = cursor;
    if (call_kfn(L, "complete", code, cursor, 3) == 0 && lua_istable(L, -3)) {
        int n = (int)lua_rawlen(L, -3);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, -3, i);
            if (lua_type(L, -1) == LUA_TSTRING) json_array_append_new(m, lua_json_text(L, -1));
            lua_pop(L, 1);
        }
        lua_Integer s = lua_tointeger(L, -2), e = lua_tointeger(L, -1);
        size_t len = strlen(code);
        if (s >= 0 && e >= s && (size_t)e <= len) {
            *start = (size_t)s;
            *end = (size_t)e;
        }
    } else {
        klog(k, "completion failed: %s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
    }
    lua_settop(L, top);
    return m;
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
    int more;
    int status = compile_cell(L, code, &more);
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

/* listdir(dir) -> {{name, is_dir}, ...} (file-name completion) */
static int l_listdir(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    DIR *d = opendir(dir);
    if (!d) return luaL_error(L, "%s: %s", dir, strerror(errno));
    lua_newtable(L);
    int i = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && i < 10000) {
        int is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            char p[4096];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            is_dir = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
        }
        lua_createtable(L, 2, 0);
        lua_pushstring(L, e->d_name);
        lua_rawseti(L, -2, 1);
        lua_pushboolean(L, is_dir);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, ++i);
    }
    closedir(d);
    return 1;
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
    static const luaL_Reg fns[] = {{"input", l_input}, {"display", l_display}, {"listdir", l_listdir}, {NULL, NULL}};
    luaL_newlib(L, fns);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        klog(k, "wb.kernel.install: %s", lua_tostring(L, -1));
        lua_settop(L, 0);
        return -1;
    }
    return 0;
}
