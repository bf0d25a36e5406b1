/* prompt.c — the prompt's machinery without readline (see prompt.h):
 * compiling what was typed, running it with the message handler that makes
 * errors clean, Ctrl-C, printing results through wb.show, "?name", and
 * completion through wb.complete. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "prompt.h"

static lua_State *runL;                   /* the state of the running call */
static volatile sig_atomic_t running;     /* a call runs */
static volatile sig_atomic_t presses;     /* Ctrl-C during this call */
static int interrupted_last;              /* the last call stopped on Ctrl-C */

/* ------------------------------------------------------------- Ctrl-C */

static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

int wb_prompt_running(void) { return running; }

int wb_prompt_interrupt(void)
{
    if (!running) return 0;
    wb_interrupt();
    if (runL) lua_sethook(runL, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    return ++presses;
}

int wb_prompt_interrupted_last(void) { return interrupted_last; }

/* ------------------------------------------------------------- errors */

/* exit(code) / quit(code): the error object they raise (a table with field
 * wb_exit = the status) */
int wb_prompt_exit_request(lua_State *L, int idx, int *code)
{
    if (!lua_istable(L, idx)) return 0;
    int t = lua_getfield(L, idx, "wb_exit");
    int isnum = 0;
    lua_Integer c = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (t == LUA_TNIL) return 0;
    *code = isnum ? (int)(c & 255) : 0;
    return 1;
}

static int msghandler(lua_State *L)
{
    int code;
    if (wb_prompt_exit_request(L, 1, &code)) return 1; /* not an error: the object as it is */
    if (wb_interrupted()) { /* whatever the running code made of it */
        luaL_traceback(L, L, "interrupted!", 1);
        return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    /* wb/errors.lua decides: wb's own errors as the message alone, the
     * user's with a traceback (its failure is no reason to lose the error) */
    if (lua_getfield(L, LUA_REGISTRYINDEX, "wb.errhandler") == LUA_TFUNCTION) {
        lua_pushstring(L, msg);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) return 1;
    }
    lua_pop(L, 1);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

void wb_prompt_set_chunk(lua_State *L, const char *text)
{
    if (text)
        lua_pushstring(L, text);
    else
        lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "wb.chunk");
}

int wb_prompt_call(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    wb_interrupt_clear();
    runL = L;
    presses = 0;
    running = 1;
    int status = lua_pcall(L, narg, nres, base);
    running = 0;
    lua_sethook(L, NULL, 0, 0);
    interrupted_last = status != LUA_OK && wb_interrupted();
    lua_remove(L, base);
    wb_shell_progress_end();
    return status;
}

const char *wb_prompt_error_text(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    return msg ? msg : "(error object is not a string)";
}

void wb_prompt_report(lua_State *L, int status)
{
    int code;
    if (status != LUA_OK && wb_prompt_exit_request(L, -1, &code)) {
        lua_pop(L, 1);
        return;
    }
    if (status != LUA_OK) {
        const char *msg = wb_prompt_error_text(L);
        fflush(stdout);
        /* after the "^C" the terminal echoed */
        if (interrupted_last && isatty(2)) fputc('\n', stderr);
        fprintf(stderr, "wb: %s\n", msg);
        fflush(stderr);
        lua_pop(L, 1);
    }
}

/* ------------------------------------------------------------ compiling */

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

/* as an expression ("return chunk;") when it is one, else as statements
 * ("=expr" is "return expr"); *more when the chunk is unfinished, as
 * statements or as an expression ("{1," then "2}") */
int wb_prompt_compile(lua_State *L, const char *chunk, int *more)
{
    *more = 0;
    interrupted_last = 0; /* a new command */
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
        /* not statements: maybe an unfinished expression ("{1,"), or a
         * faulty one ("1 +* 2"), whose own message says more */
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

char *wb_prompt_help_query(lua_State *L, const char *line)
{
    int top = lua_gettop(L);
    char *out = NULL;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "wb.help");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
        lua_getfield(L, -1, "query");
        lua_pushstring(L, line);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
            const char *name = lua_tostring(L, -1);
            size_t n = strlen(name) + 16;
            out = malloc(n);
            if (out) snprintf(out, n, "help(\"%s\")", name);
        }
    }
    lua_settop(L, top);
    return out;
}

/* ------------------------------------------------------------- printing */

/* call wb.show's fn with the nargs values at the top of the stack */
static int show_call(lua_State *L, const char *fn, int nargs, int nres)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "wb.show");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1 + nargs);
        return -1;
    }
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    lua_insert(L, -1 - nargs);
    return wb_prompt_call(L, nargs, nres);
}

int wb_prompt_begin(lua_State *L, int width)
{
    if (width > 0)
        lua_pushinteger(L, width);
    else
        lua_pushnil(L);
    int st = show_call(L, "begin", 1, 0);
    if (st > 0) lua_pop(L, 1);
    return st;
}

char *wb_prompt_results(lua_State *L, int *status)
{
    *status = LUA_OK;
    int n = lua_gettop(L);
    if (n == 0) return NULL;
    int st = show_call(L, "results", n, 1);
    if (st != LUA_OK) {
        if (st > 0) {
            *status = st; /* the message stays, alone */
            lua_replace(L, 1);
            lua_settop(L, 1);
        } else
            lua_settop(L, 0);
        return NULL;
    }
    char *out = NULL;
    if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        out = malloc(len + 1);
        if (out) memcpy(out, s, len + 1);
    }
    lua_settop(L, 0);
    return out;
}

/* ----------------------------------------------------------- completion */

typedef struct complete_out {
    char **items;
    int n, start, quote, files;
} complete_out;

static int lua_complete(lua_State *L)
{
    complete_out *o = lua_touserdata(L, 3);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "wb.complete");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "line");
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 4);
    o->start = (int)lua_tointeger(L, -3);
    o->quote = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)[0] : 0;
    o->files = lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "files");
    lua_pop(L, 3);
    int n = (int)luaL_len(L, -1);
    o->items = calloc((size_t)n + 1, sizeof *o->items);
    if (!o->items) return 0;
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        const char *c = lua_tostring(L, -1);
        if (c && (o->items[o->n] = strdup(c)) != NULL) o->n++;
        lua_pop(L, 1);
    }
    return 0;
}

int wb_prompt_complete(lua_State *L, const char *line, int cursor, char ***out, int *n, int *start, int *quote,
                       int *files)
{
    complete_out o = {NULL, 0, cursor, 0, 0};
    int top = lua_gettop(L);
    lua_pushcfunction(L, lua_complete);
    lua_pushstring(L, line);
    lua_pushinteger(L, cursor);
    lua_pushlightuserdata(L, &o);
    int rc = lua_pcall(L, 3, 0, 0); /* no candidates, no noise */
    lua_settop(L, top);
    if (rc != LUA_OK || o.n == 0) {
        for (int i = 0; i < o.n; i++) free(o.items[i]);
        free(o.items);
        return -1;
    }
    *out = o.items;
    *n = o.n;
    *start = o.start;
    *quote = o.quote;
    *files = o.files;
    return 0;
}
