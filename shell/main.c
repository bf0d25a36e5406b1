/* main.c — the wb program: `wb` (the wb> prompt on a terminal, else standard
 * input as a script), `wb -e ARG` (a script file if ARG names one, else a Lua
 * chunk), `wb FILE args...`, and subcommands (`wb head`, `wb worker`).
 * Errors print `wb: message` and a traceback on stderr and exit 1. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "commands.h"
#include "progress.h"
#include "wblua.h"

static lua_State *globalL;
static char exe_dir[PATH_MAX];
static volatile sig_atomic_t at_prompt;

const char *wb_shell_exe_dir(void) { return exe_dir; }

/* ------------------------------------------------------ errors and calls */

static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
    (void)sig;
    wb_interrupt();
    if (at_prompt) return; /* readline clears the line */
    if (globalL) lua_sethook(globalL, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    wb_interrupt_clear();
    globalL = L;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    int status = lua_pcall(L, narg, nres, base);
    wb_shell_progress_end();
    sigaction(SIGINT, &old, NULL);
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base);
    return status;
}

static void report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "wb: %s\n", msg ? msg : "(error object is not a string)");
        fflush(stderr);
        lua_pop(L, 1);
    }
}

/* ------------------------------------------------------------ the state */

static void set_exe_dir(const char *argv0)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = 0;
    } else if (!realpath(argv0, buf)) {
        snprintf(buf, sizeof buf, "%s", argv0);
    }
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0;
    snprintf(exe_dir, sizeof exe_dir, "%s", buf);
    wb_plugin_set_exe_dir(exe_dir);
}

lua_State *wb_shell_newstate(int quiet)
{
    lua_State *L = luaL_newstate();
    if (!L) return NULL;
    luaL_openlibs(L);
    wb_shell_progress_install(quiet);
    wb_shell_progress_lua(L);
    lua_pushcfunction(L, luaopen_wb);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "wb: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    lua_pushcfunction(L, wb_shell_l_quiet);
    lua_setfield(L, -2, "quiet");
    lua_setglobal(L, "wb");
    /* the Lua library, then the plugins (their Lua chunks may use the library) */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "wb.lib");
    if (docall(L, 1, 0) != LUA_OK) {
        report(L, LUA_ERRRUN);
        lua_close(L);
        return NULL;
    }
    lua_getglobal(L, "wb");
    lua_getfield(L, -1, "core");
    lua_getfield(L, -1, "load_plugins");
    lua_remove(L, -2);
    lua_remove(L, -2);
    int st = docall(L, 0, 0);
    if (st != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "wb: warning: %s\n", msg ? msg : "a plugin failed to load");
        lua_pop(L, 1);
    }
    return L;
}

/* ---------------------------------------------------------------- scripts */

static int push_args(lua_State *L, char **argv, int argc, int script)
{
    /* arg[0] = script, arg[1..] = the rest */
    lua_createtable(L, argc - script - 1, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
    int n = argc - script - 1;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_pushstring(L, argv[script + i]);
    return n;
}

static int run_file(lua_State *L, const char *path, char **argv, int argc, int script)
{
    int status = luaL_loadfile(L, path);
    if (status == LUA_OK) {
        lua_insert(L, 1);
        lua_settop(L, 1);
        int n = push_args(L, argv, argc, script);
        status = docall(L, n, 0);
    }
    report(L, status);
    return status == LUA_OK ? 0 : 1;
}

static int run_string(lua_State *L, const char *chunk, char **argv, int argc, int script)
{
    int status = luaL_loadbuffer(L, chunk, strlen(chunk), "=(command line)");
    if (status == LUA_OK) {
        lua_insert(L, 1);
        lua_settop(L, 1);
        int n = push_args(L, argv, argc, script);
        status = docall(L, n, 0);
    }
    report(L, status);
    return status == LUA_OK ? 0 : 1;
}

/* ------------------------------------------------------------------ REPL */

static const char *history_path(void)
{
    static char path[PATH_MAX];
    const char *f = getenv("WB_HISTORY");
    if (f) return *f ? f : NULL;
    const char *home = getenv("HOME");
    if (!home) return NULL;
    snprintf(path, sizeof path, "%s/.wb_history", home);
    return path;
}

/* completion: globals, fields of tables (wb.da<TAB>), methods of objects (d:ro<TAB>) */
static char **completions;
static size_t ncompl, capcompl;

static void add_completion(const char *s)
{
    if (ncompl + 2 > capcompl) {
        capcompl = capcompl ? capcompl * 2 : 64;
        completions = realloc(completions, capcompl * sizeof *completions);
    }
    completions[ncompl++] = strdup(s);
    completions[ncompl] = NULL;
}

static void collect_keys(lua_State *L, int t, const char *prefix, const char *base, char sep)
{
    t = lua_absindex(L, t);
    size_t pl = strlen(prefix);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -2);
            if (strncmp(k, prefix, pl) == 0 && k[0] != '_') {
                char buf[512];
                snprintf(buf, sizeof buf, "%s%s%s%s", base, base[0] ? (char[]){sep, 0} : "", k,
                         lua_type(L, -1) == LUA_TFUNCTION ? "(" : "");
                add_completion(buf);
            }
        }
        lua_pop(L, 1);
    }
}

static char *completion_gen(const char *text, int state)
{
    static size_t idx;
    if (state == 0) idx = 0;
    return idx < ncompl ? strdup(completions[idx++]) : NULL;
}

static char **wb_complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    lua_State *L = globalL;
    for (size_t i = 0; i < ncompl; i++) free(completions[i]);
    ncompl = 0;
    rl_attempted_completion_over = 1;
    if (!L) return NULL;
    char path[512];
    snprintf(path, sizeof path, "%s", text);
    char *cut = strrchr(path, '.'), *colon = strrchr(path, ':');
    char sep = '.';
    if (colon && (!cut || colon > cut)) {
        cut = colon;
        sep = ':';
    }
    int top = lua_gettop(L);
    if (!cut) {
        lua_pushglobaltable(L);
        collect_keys(L, -1, path, "", '.');
    } else {
        *cut = 0;
        const char *prefix = cut + 1;
        lua_pushglobaltable(L);
        int ok = 1;
        for (char *save = NULL, *p = strtok_r(path, ".:", &save); p && ok; p = strtok_r(NULL, ".:", &save)) {
            if (!lua_istable(L, -1)) {
                ok = 0;
                break;
            }
            lua_getfield(L, -1, p);
            lua_remove(L, -2);
        }
        snprintf(path, sizeof path, "%s", text);
        path[cut - path] = 0;
        if (ok) {
            if (lua_istable(L, -1)) collect_keys(L, -1, prefix, path, sep);
            if (lua_getmetatable(L, -1)) { /* methods of an object */
                lua_getfield(L, -1, "__index");
                if (lua_istable(L, -1)) collect_keys(L, -1, prefix, path, sep);
                lua_pop(L, 1);
                lua_getfield(L, -1, "methods");
                if (lua_istable(L, -1)) collect_keys(L, -1, prefix, path, sep);
                lua_pop(L, 2);
            }
        }
    }
    lua_settop(L, top);
    if (ncompl == 0) return NULL;
    qsort(completions, ncompl, sizeof *completions, (int (*)(const void *, const void *))strcmp);
    rl_completion_append_character = '\0';
    return rl_completion_matches(text, completion_gen);
}

static int incomplete(lua_State *L, int status)
{
    if (status == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        if (lmsg >= 5 && strcmp(msg + lmsg - 5, "<eof>") == 0) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

static void sigint_prompt(int sig)
{
    (void)sig;
    wb_interrupt();
    if (at_prompt) {
        write(1, "\n", 1);
        rl_on_new_line();
        rl_replace_line("", 0);
        rl_redisplay();
    }
}

static char *read_line(const char *prompt)
{
    struct sigaction sa = {0}, old;
    sa.sa_handler = sigint_prompt;
    sigaction(SIGINT, &sa, &old);
    at_prompt = 1;
    char *line = readline(prompt);
    at_prompt = 0;
    sigaction(SIGINT, &old, NULL);
    return line;
}

/* print the values left on the stack through wb.show */
static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0) return;
    luaL_checkstack(L, 4, "too many results to print");
    for (int i = 1; i <= n; i++) {
        lua_getglobal(L, "wb");
        lua_getfield(L, -1, "show");
        lua_remove(L, -2);
        lua_pushvalue(L, i);
        if (docall(L, 1, 1) != LUA_OK) {
            report(L, LUA_ERRRUN);
            continue;
        }
        const char *s = lua_tostring(L, -1);
        printf("%s%s", s ? s : "?", i < n ? "\t" : "\n");
        lua_pop(L, 1);
    }
    fflush(stdout);
    lua_settop(L, 0);
}

static void repl(lua_State *L)
{
    const char *hist = history_path();
    using_history();
    stifle_history(2000);
    if (hist) read_history(hist);
    rl_readline_name = "wb";
    rl_attempted_completion_function = wb_complete;
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^#[]~";
    globalL = L;
    printf("wb %s -- an analysis workbench (Lua 5.4). help() for help, Ctrl-D to leave.\n", WB_VERSION);
    for (;;) {
        lua_settop(L, 0);
        wb_interrupt_clear();
        char *line = read_line("wb> ");
        if (!line) break;
        if (!*line) {
            free(line);
            continue;
        }
        lua_pushstring(L, line[0] == '=' ? line + 1 : line);
        int is_eq = line[0] == '=';
        free(line);
        /* first try it as an expression */
        const char *src = lua_tostring(L, 1);
        const char *ret = lua_pushfstring(L, "return %s;", src);
        int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
        if (status == LUA_OK) {
            lua_remove(L, -2); /* the "return" text */
        } else {
            lua_pop(L, 2);
            (void)is_eq; /* "=expr" that is not an expression is compiled as a statement */
            for (;;) {
                size_t len;
                const char *chunk = lua_tolstring(L, 1, &len);
                status = luaL_loadbuffer(L, chunk, len, "=stdin");
                if (!incomplete(L, status)) break;
                char *more = read_line("...> ");
                if (!more) {
                    status = -1;
                    break;
                }
                lua_pushvalue(L, 1);
                lua_pushliteral(L, "\n");
                lua_pushstring(L, more);
                lua_concat(L, 3);
                lua_replace(L, 1);
                free(more);
            }
            if (status == -1) break;
        }
        {
            const char *whole = lua_tostring(L, 1);
            if (whole && *whole) {
                add_history(whole);
                if (hist) append_history(1, hist);
            }
        }
        if (status != LUA_OK) {
            report(L, status);
            continue;
        }
        lua_remove(L, 1);
        status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            print_results(L);
        else
            report(L, status);
    }
    printf("\n");
    if (hist) {
        write_history(hist);
        history_truncate_file(hist, 2000);
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wb                      the wb> prompt (on a terminal) or standard input as a script\n"
            "       wb -e ARG [args...]     run ARG: a script file if one of that name exists, else Lua code\n"
            "       wb FILE [args...]       run a script with arg set\n"
            "       wb --version | --help\n");
    for (const wb_subcommand *c = wb_subcommands; c->name; c++) fprintf(f, "       wb %s\n", c->usage);
}

int main(int argc, char **argv)
{
    set_exe_dir(argv[0]);
    /* Kernels run single-threaded; parallelism comes from the executor. BLAS is
     * loaded with the plugins (dlopen, after this), so the setting takes effect
     * before its thread pool would start. */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    setenv("OMP_NUM_THREADS", "1", 1);
    if (argc >= 2) {
        for (const wb_subcommand *c = wb_subcommands; c->name; c++)
            if (strcmp(argv[1], c->name) == 0) return c->run(argc - 1, argv + 1);
        if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v")) {
            printf("wb %s\n", WB_VERSION);
            return 0;
        }
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            usage(stdout);
            return 0;
        }
    }
    lua_State *L = wb_shell_newstate(0);
    if (!L) return 1;
    int rc = 0;
    if (argc >= 2 && strcmp(argv[1], "-e") == 0) {
        if (argc < 3) {
            usage(stderr);
            rc = 1;
        } else {
            struct stat st;
            if (stat(argv[2], &st) == 0 && S_ISREG(st.st_mode))
                rc = run_file(L, argv[2], argv, argc, 2);
            else
                rc = run_string(L, argv[2], argv, argc, 2);
        }
    } else if (argc >= 2 && argv[1][0] == '-' && argv[1][1] != 0) {
        fprintf(stderr, "wb: unknown option '%s'\n", argv[1]);
        usage(stderr);
        rc = 1;
    } else if (argc >= 2) {
        rc = run_file(L, strcmp(argv[1], "-") == 0 ? NULL : argv[1], argv, argc, 1);
    } else if (isatty(0)) {
        repl(L);
    } else {
        rc = run_file(L, NULL, argv, argc, 0);
    }
    lua_close(L);
    return rc;
}
