/* main.c — the wb program: `wb` (the wb> prompt on a terminal, else standard
 * input as a script), `wb -e ARG` (a script file if ARG names one, else a Lua
 * chunk), `wb FILE args...`, and subcommands (`wb head`, `wb worker`).
 * Errors print `wb: message` on stderr (a traceback too for errors in the
 * user's code, or always with --traceback) and exit 1; exit(n) exits n.
 * The prompt's machinery without readline (evaluation, completion,
 * printing, clean errors, Ctrl-C) is in prompt.c (see prompt.h): this file
 * puts readline, history and the signals around it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "commands.h"
#include "progress.h"
#include "prompt.h"
#include "wb/cluster.h"
#include "wb/mpi.h"
#include "wblua.h"

static lua_State *globalL;
static char exe_dir[PATH_MAX];

const char *wb_shell_exe_dir(void) { return exe_dir; }

/* ------------------------------------------------------ errors and calls */

/* Ctrl-C. While a command runs, the first press sets the interrupt flag that
 * kernels poll (host->cancelled) and installs a hook that raises
 * "interrupted!" in the running Lua code; the command stops, the process
 * stays. A second press says what is happening, a third leaves wb (for work
 * that does not poll the flag). At the prompt, Ctrl-C clears the line. The
 * signal is handled on the main thread: another thread that receives it
 * passes it on. */
static pthread_t main_thread;
static volatile sig_atomic_t prompt_sigint, winch_seen;

static void say(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
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
    if (!wb_prompt_running()) {
        prompt_sigint = 1;
    } else {
        int sigint_seen = wb_prompt_interrupt(); /* presses during this command */
        if (sigint_seen == 2)
            say("\nwb: stopping: waiting for the running work to notice (Ctrl-C once more leaves wb)\n");
        else if (sigint_seen >= 3) {
            say("\nwb: interrupted 3 times, leaving\n");
            _exit(130);
        }
    }
    errno = saved;
}

static void on_sigwinch(int sig)
{
    (void)sig;
    winch_seen = 1;
}

static void install_signals(void)
{
    main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigint; /* no SA_RESTART: a blocking read returns */
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_sigwinch;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGWINCH, &sa, NULL);
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
    if (wb_prompt_call(L, 1, 0) != LUA_OK) {
        wb_prompt_report(L, LUA_ERRRUN);
        lua_close(L);
        return NULL;
    }
    lua_getglobal(L, "wb");
    lua_getfield(L, -1, "core");
    lua_getfield(L, -1, "load_plugins");
    lua_remove(L, -2);
    lua_remove(L, -2);
    int st = wb_prompt_call(L, 0, 0);
    if (st != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "wb: warning: %s\n", msg ? msg : "a plugin failed to load");
        lua_pop(L, 1);
    }
    return L;
}

/* ---------------------------------------------------------------- scripts */

/* arg[0] = the script, arg[1..] its arguments, arg[-1..] what came before;
 * the arguments are also passed to the chunk as `...` */
static int push_args(lua_State *L, char **argv, int argc, int script)
{
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

/* run the chunk loaded at the top of the stack; exit status */
static int run_loaded(lua_State *L, int status, char **argv, int argc, int script)
{
    if (status == LUA_OK) {
        lua_insert(L, 1);
        lua_settop(L, 1);
        int n = push_args(L, argv, argc, script);
        status = wb_prompt_call(L, n, 0);
    }
    int code;
    if (status != LUA_OK && wb_prompt_exit_request(L, -1, &code)) { /* exit(code) in the script */
        lua_pop(L, 1);
        return code;
    }
    wb_prompt_report(L, status);
    if (status == LUA_OK) return 0;
    return wb_prompt_interrupted_last() ? 130 : 1;
}

static int run_file(lua_State *L, const char *path, char **argv, int argc, int script)
{
    return run_loaded(L, luaL_loadfile(L, path), argv, argc, script);
}

/* `wb -e ARG` when ARG is no file: Lua code, unless it only looks like a
 * script's name (then say the file is missing, not a syntax error) */
static int run_string(lua_State *L, const char *chunk, char **argv, int argc, int script)
{
    wb_prompt_set_chunk(L, chunk);
    int status = luaL_loadbuffer(L, chunk, strlen(chunk), "=(command line)");
    size_t n = strlen(chunk);
    if (status == LUA_ERRSYNTAX && n > 4 && strcmp(chunk + n - 4, ".lua") == 0 &&
        strcspn(chunk, " \t\n()=\"'") == n) {
        lua_pop(L, 1);
        lua_pushfstring(L, "cannot open %s: %s", chunk, strerror(ENOENT));
    }
    return run_loaded(L, status, argv, argc, script);
}

/* ------------------------------------------------------------------ REPL */

static const char *history_path(void)
{
    static char path[PATH_MAX];
    const char *f = getenv("WB_HISTORY");
    if (f) return *f ? f : NULL;
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    snprintf(path, sizeof path, "%s/.wb_history", home);
    return path;
}

#define HISTORY_MAX 2000

/* history: one entry per chunk (a multi-line chunk stays one entry: the file
 * keeps timestamps, which mark where each entry starts); each entry is
 * appended to the file as soon as it is entered */
static void history_open(const char *hist)
{
    using_history();
    stifle_history(HISTORY_MAX);
    history_comment_char = '#'; /* timestamps are written as "#<seconds>" */
    history_write_timestamps = 1;
    history_multiline_entries = 1;
    if (!hist) return;
    int fd = open(hist, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) close(fd);
    read_history(hist);
}

static void history_add(const char *hist, const char *chunk)
{
    if (!chunk || !*chunk || strspn(chunk, " \t\n") == strlen(chunk)) return;
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (last && last->line && strcmp(last->line, chunk) == 0) return;
    add_history(chunk);
    if (hist) append_history(1, hist);
}

/* completion: the candidates come from the Lua side (wb/complete.lua's
 * line(line, cursor), by context: names, methods, estimator and column names
 * and files inside strings) */
static char **completions;
static size_t ncompl, capcompl;

static void clear_completions(void)
{
    for (size_t i = 0; i < ncompl; i++) free(completions[i]);
    ncompl = 0;
}

static void add_completion(const char *s)
{
    if (ncompl + 2 > capcompl) {
        size_t cap = capcompl ? capcompl * 2 : 64;
        char **c = realloc(completions, cap * sizeof *c);
        if (!c) return;
        completions = c;
        capcompl = cap;
    }
    char *d = strdup(s);
    if (!d) return;
    completions[ncompl++] = d;
    completions[ncompl] = NULL;
}

static char *completion_gen(const char *text, int state)
{
    static size_t idx;
    (void)text;
    if (state == 0) idx = 0;
    return idx < ncompl ? strdup(completions[idx++]) : NULL;
}

/* readline replaces `text` (the line from `start` to the cursor); the
 * candidates replace the line from complete_start: the same place told from
 * readline's start */
static char **wb_complete(const char *text, int start, int end)
{
    clear_completions();
    rl_attempted_completion_over = 1;
    rl_completion_suppress_quote = 1;
    rl_completion_append_character = '\0';
    lua_State *L = globalL;
    if (!L) return NULL;
    char **items = NULL;
    int nitems = 0, complete_start = end, complete_quote = 0, complete_files = 0;
    if (wb_prompt_complete(L, rl_line_buffer, end, &items, &nitems, &complete_start, &complete_quote,
                           &complete_files))
        return NULL;
    for (int i = 0; i < nitems; i++) {
        add_completion(items[i]);
        free(items[i]);
    }
    free(items);
    if (ncompl == 0) return NULL;
    int ms = complete_start < 0 ? 0 : complete_start > end ? end : complete_start;
    size_t k = 0;
    for (size_t i = 0; i < ncompl; i++) {
        char *c = completions[i], *r = NULL;
        if (ms <= start) { /* the candidate starts with what lies between the two starts */
            size_t skip = (size_t)(start - ms);
            if (strlen(c) >= skip && strncmp(c, rl_line_buffer + ms, skip) == 0) r = strdup(c + skip);
        } else {
            size_t pre = (size_t)(ms - start), len = strlen(c);
            r = malloc(pre + len + 1);
            if (r) {
                memcpy(r, rl_line_buffer + start, pre);
                memcpy(r + pre, c, len + 1);
            }
        }
        free(c);
        if (r) completions[k++] = r;
    }
    ncompl = k;
    if (completions) completions[ncompl] = NULL;
    if (ncompl == 0) return NULL;
    /* paths: the list shows their last part (readline's display of file
     * names), and readline marks folders with "/" itself */
    int folder = 0;
    if (complete_files) {
        rl_filename_completion_desired = 1;
        rl_filename_quoting_desired = 0;
        for (size_t i = 0; i < ncompl; i++) {
            size_t len = strlen(completions[i]);
            if (len > 1 && completions[i][len - 1] == '/') {
                completions[i][len - 1] = 0;
                folder = 1;
            }
        }
    }
    /* one candidate that ends the string (not a folder): close it */
    if (ncompl == 1 && complete_quote && !folder) {
        size_t len = strlen(completions[0]);
        if (len) {
            char *r = malloc(len + 2);
            if (r) {
                memcpy(r, completions[0], len);
                r[len] = (char)complete_quote;
                r[len + 1] = 0;
                free(completions[0]);
                completions[0] = r;
            }
        }
    }
    return rl_completion_matches(text, completion_gen);
}

/* readline through its callback interface, so that Ctrl-C at the prompt can
 * clear the line: 1 a line (*out, malloc'd), 0 end of input, -1 Ctrl-C */
static char *rl_got_line;
static int rl_got;

static void on_line(char *line)
{
    rl_got_line = line;
    rl_got = 1;
    rl_callback_handler_remove();
}

/* The signal mask read_line waits with (Ctrl-C and resizes let through) */
static sigset_t prompt_wait_mask;
static char prompt_bell[32]; /* bell-style to restore after prompt_getc's abort */

/* wait until fd can be read, with Ctrl-C and resizes let through: > 0 when
 * it can, < 0 with errno EINTR on a signal */
static int wait_input(int fd)
{
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    return pselect(fd + 1, &fds, NULL, NULL, NULL, &prompt_wait_mask);
}

/* readline's key reader. readline sometimes waits for a key inside a
 * command (a key it saw queued, then lost when Ctrl-C made the terminal
 * flush its input): its own reader waits with Ctrl-C blocked and would wait
 * for ever. This one waits with the prompt's mask, and on Ctrl-C leaves the
 * command through readline's abort, which returns from
 * rl_callback_read_char; read_line then clears the line. */
static int prompt_getc(FILE *stream)
{
    int fd = fileno(stream);
    for (;;) {
        if (prompt_sigint) {
            const char *bell = rl_variable_value("bell-style");
            snprintf(prompt_bell, sizeof prompt_bell, "%s", bell ? bell : "audible");
            rl_variable_bind("bell-style", "none"); /* rl_abort rings it */
            rl_abort(1, 0);                         /* does not return */
        }
        int r = wait_input(fd);
        if (r < 0) {
            if (errno == EINTR) continue;
            return EOF;
        }
        unsigned char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 1) return c;
        if (n == 0) return EOF;
        if (errno != EINTR && errno != EAGAIN) return EOF;
    }
}

/* the prompt over a pipe (rank 0 of `mpirun -np N wb` on a terminal: the
 * launcher forwards the terminal's lines): no line editing, the terminal
 * echoes what is typed */
static int plain_line(const char *prompt, char **out)
{
    fputs(prompt, stdout);
    fflush(stdout);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return 0;
    }
    if (n > 0 && line[n - 1] == '\n') line[n - 1] = 0;
    *out = line;
    return 1;
}

static int read_line(const char *prompt, char **out)
{
    if (!isatty(fileno(rl_instream))) return plain_line(prompt, out);
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &block, &orig);
    prompt_wait_mask = orig;
    prompt_sigint = 0;
    if (winch_seen) {
        winch_seen = 0;
        rl_reset_screen_size();
    }
    rl_got = 0;
    rl_got_line = NULL;
    fflush(stdout);
    rl_callback_handler_install(prompt, on_line);
    int fd = fileno(rl_instream), result = 1;
    while (!rl_got) {
        if (prompt_sigint) {
            prompt_sigint = 0;
            rl_echo_signal_char(SIGINT);
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_callback_handler_remove();
            fputs("\n", rl_outstream);
            fflush(rl_outstream);
            result = -1;
            break;
        }
        if (winch_seen) {
            winch_seen = 0;
            rl_resize_terminal();
        }
        int r = wait_input(fd);
        if (r < 0) {
            if (errno == EINTR) continue;
            rl_callback_handler_remove();
            result = 0;
            break;
        }
        if (r > 0) rl_callback_read_char();
        if (prompt_bell[0]) { /* prompt_getc aborted a command on Ctrl-C */
            rl_variable_bind("bell-style", prompt_bell);
            prompt_bell[0] = 0;
        }
    }
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    if (result != 1) return result;
    *out = rl_got_line;
    return rl_got_line ? 1 : 0;
}

static int repl(lua_State *L)
{
    int rc = 0;
    const char *hist = history_path();
    history_open(hist);
    rl_readline_name = "wb";
    rl_instream = stdin;
    rl_outstream = stdout;
    rl_catch_signals = 0; /* wb handles Ctrl-C (see read_line) */
    rl_catch_sigwinch = 0;
    rl_getc_function = prompt_getc;
    rl_attempted_completion_function = wb_complete;
    /* not '/' nor '~': readline skips a break character just after a quote,
     * which would cut "/path" and "~/path" in strings */
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*%^#[]}";
    rl_completer_word_break_characters = rl_basic_word_break_characters;
    rl_completer_quote_characters = "\"'";
    globalL = L;
    printf("wb %s -- an analysis workbench (Lua 5.4). help() for help, exit() or Ctrl-D to leave.\n",
           WB_VERSION);
    for (;;) {
        lua_settop(L, 0);
        char *line = NULL;
        int r = read_line("wb> ", &line);
        if (r == 0) break;
        if (r < 0) continue; /* Ctrl-C: a fresh line */
        if (strspn(line, " \t") == strlen(line)) {
            free(line);
            continue;
        }
        char *asked = wb_prompt_help_query(L, line);
        if (asked) {
            free(line);
            line = asked;
        }
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addstring(&b, line);
        luaL_pushresult(&b); /* index 1: the chunk so far */
        free(line);
        int more, status, eof = 0, cancel = 0;
        for (;;) {
            status = wb_prompt_compile(L, lua_tostring(L, 1), &more);
            if (!more) break;
            lua_pop(L, 1); /* the message */
            char *next = NULL;
            int rr = read_line("...> ", &next);
            if (rr <= 0) {
                eof = rr == 0;
                cancel = rr < 0;
                break;
            }
            lua_pushvalue(L, 1);
            lua_pushliteral(L, "\n");
            lua_pushstring(L, next);
            lua_concat(L, 3);
            lua_replace(L, 1);
            free(next);
        }
        history_add(hist, lua_tostring(L, 1));
        if (eof) break;
        if (cancel) continue;
        if (status != LUA_OK) {
            wb_prompt_report(L, status);
            continue;
        }
        wb_prompt_set_chunk(L, lua_tostring(L, 1));
        lua_remove(L, 1);
        int rows = 0, cols = 0;
        rl_get_screen_size(&rows, &cols);
        wb_prompt_begin(L, cols);
        status = wb_prompt_call(L, 0, LUA_MULTRET);
        int code;
        if (status != LUA_OK && wb_prompt_exit_request(L, -1, &code)) { /* exit() or quit() */
            rc = code;
            break;
        }
        if (status == LUA_OK) {
            char *text = wb_prompt_results(L, &status);
            if (text) {
                size_t len = strlen(text);
                fwrite(text, 1, len, stdout);
                if (len && text[len - 1] != '\n') fputc('\n', stdout);
                free(text);
            }
            fflush(stdout);
        }
        if (status != LUA_OK) wb_prompt_report(L, status);
    }
    printf("\n");
    fflush(stdout);
    if (hist) history_truncate_file(hist, HISTORY_MAX);
    wb_interrupt(); /* work still queued is not wanted any more */
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wb                      the wb> prompt (on a terminal), else standard input as a script\n"
            "       wb -e ARG [args...]     run ARG: a script file if one of that name exists, else Lua code\n"
            "       wb FILE [args...]       run a script with arg set (FILE '-': standard input)\n"
            "       wb --version | --help\n"
            "       mpirun -np N wb [--threads T] FILE   rank 0 runs FILE, ranks 1..N-1 run its tasks (also srun;\n"
            "                               wb --mpi forces MPI, WB_MPI=0 turns the detection off)\n");
    for (const wb_subcommand *c = wb_subcommands; c->name; c++) fprintf(f, "       wb %s\n", c->usage);
    fprintf(f, "       wb kernel -f CONNECTION_FILE | wb kernel install [--user | --prefix P]   (Jupyter)\n");
    fprintf(f, "       --traceback: every error with its Lua traceback (the same as wb.debug(true))\n");
    /* the manual: installed (man wb), or beside a wb run from its build tree */
    char page[PATH_MAX + 64];
    snprintf(page, sizeof page, "%s/share/man/man1/wb.1", exe_dir);
    if (access(page, R_OK) == 0)
        fprintf(f, "The manual: man wb when wb is installed; from this build: man -l %s\n", page);
    else
        fprintf(f, "The manual: man wb (wb(1)).\n");
    fprintf(f, "At the prompt: help() lists what there is, help(\"name\") or ?name shows one.\n");
}

/* rank 0 under mpirun: is the launcher's standard input a terminal? (it
 * forwards it to rank 0 through a pipe) */
static int launcher_on_tty(void)
{
    char path[64], target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/fd/0", (int)getppid());
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = 0;
    return !strncmp(target, "/dev/pts/", 9) || !strncmp(target, "/dev/tty", 8);
}

/* An MPI launch (mpirun, srun, mpiexec) or `wb --mpi`: ranks > 0 load the
 * plugins and run tasks until the driver stops them (returns their exit
 * status, *done set); rank 0 goes on as the driver. */
static int mpi_start(int force, int threads, int *done)
{
    *done = 0;
    char what[96] = "";
    int detected = wb_mpi_detect(what, sizeof what, NULL);
    if (!force && !detected) return 0;
    if (!wb_mpi_built()) {
        fprintf(stderr, "wb: %s%s%s: this build of wb has no MPI (install an MPI library, e.g. Debian's "
                        "libopenmpi-dev, and rebuild with cmake -DWB_MPI=ON)\n",
                force ? "--mpi" : "started by an MPI launcher (", force ? "" : what, force ? "" : ")");
        *done = 1;
        return 1;
    }
    int rank = 0, size = 1;
    if (wb_mpi_init(&rank, &size)) {
        fprintf(stderr, "wb: %s\n", wb_errmsg());
        *done = 1;
        return 1;
    }
    if (rank == 0) return 2;
    /* an executor rank: the same kernels as everywhere (core, plugins, Lua functions) */
    *done = 1;
    wb_core_init();
    wb_cluster_kernels_init();
    if (wb_plugin_load_default() < 0) fprintf(stderr, "wb: mpi rank %d: warning: %s\n", rank, wb_errmsg());
    wbl_register_remote_kernel();
    wb_mpi_opts o;
    wb_mpi_opts_init(&o);
    o.threads = threads;
    return wb_mpi_executor_main(&o);
}

int main(int argc, char **argv)
{
    set_exe_dir(argv[0]);
    /* Kernels run single-threaded; parallelism comes from the executor. BLAS is
     * loaded with the plugins (dlopen, after this), so the setting takes effect
     * before its thread pool would start. */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    setenv("OMP_NUM_THREADS", "1", 1);
    /* leading options: --mpi, --threads N, --traceback */
    int force_mpi = 0, threads = 0, traceback = 0;
    while (argc >= 2 &&
           (!strcmp(argv[1], "--mpi") || !strcmp(argv[1], "--threads") || !strcmp(argv[1], "--traceback"))) {
        int take = 1;
        if (!strcmp(argv[1], "--mpi"))
            force_mpi = 1;
        else if (!strcmp(argv[1], "--traceback"))
            traceback = 1;
        else {
            char *end = NULL;
            long t = argc >= 3 ? strtol(argv[2], &end, 10) : 0;
            if (argc < 3 || !*argv[2] || *end || t < 1 || t > 1024) {
                fprintf(stderr, "wb: --threads must be an integer in 1..1024, got '%s'\n", argc >= 3 ? argv[2] : "");
                return 2;
            }
            threads = (int)t;
            take = 2;
        }
        memmove(argv + 1, argv + 1 + take, (size_t)(argc - take) * sizeof *argv);
        argc -= take;
    }
    if (argc >= 2 && strcmp(argv[1], "kernel") == 0) return wb_kernel_main(argc - 1, argv + 1, wb_shell_newstate);
    if (argc >= 2) {
        for (const wb_subcommand *c = wb_subcommands; c->name; c++)
            if (strcmp(argv[1], c->name) == 0) {
                char what[96] = "";
                int rank = -1;
                if (force_mpi || wb_mpi_detect(what, sizeof what, &rank)) {
                    /* one line per job, not one per rank */
                    if (rank <= 0)
                        fprintf(stderr,
                                "wb %s: started by an MPI launcher (%s): wb's own cluster (head, workers) does not "
                                "run as MPI ranks. Run a script with the MPI executor instead (mpirun -np N wb "
                                "script.lua), or start `wb %s` without the launcher (WB_MPI=0 turns this check off)\n",
                                c->name, force_mpi ? "--mpi" : what, c->name);
                    return 2;
                }
                return c->run(argc - 1, argv + 1);
            }
        if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v")) {
            printf("wb %s\n", WB_VERSION);
            return 0;
        }
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[1], "-e") && argc < 3) {
            fprintf(stderr, "wb: option -e needs an argument (a script file or Lua code)\n");
            usage(stderr);
            return 1;
        }
        if (argv[1][0] == '-' && argv[1][1] != 0 && strcmp(argv[1], "-e") != 0) {
            fprintf(stderr, "wb: unknown option '%s'\n", argv[1]);
            usage(stderr);
            return 1;
        }
    }
    int mpi_done = 0, mpi = mpi_start(force_mpi, threads, &mpi_done);
    if (mpi_done) return mpi;
    install_signals();
    /* the executor's threads start inside: keep Ctrl-C and resizes for this one */
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &block, &orig);
    lua_State *L = wb_shell_newstate(0);
    if (L && mpi) {
        /* rank 0: the driver; the script's work runs on the other ranks */
        wb_mpi_opts o;
        wb_mpi_opts_init(&o);
        wb_exec *ex = NULL;
        if (wb_mpi_driver_start(&o, &ex)) {
            fprintf(stderr, "wb: %s\n", wb_errmsg());
            lua_close(L);
            return 1;
        }
        wbl_set_exec(L, ex);
    } else if (L && threads > 0 && wb_exec_local_resize(wbl_local_exec(L), threads)) {
        fprintf(stderr, "wb: --threads: %s\n", wb_errmsg());
        lua_close(L);
        return 1;
    }
    pthread_sigmask(SIG_SETMASK, &orig, NULL);
    if (L && traceback) { /* every error with its traceback: wb.debug(true) */
        lua_getglobal(L, "wb");
        lua_getfield(L, -1, "debug");
        if (lua_isfunction(L, -1)) {
            lua_pushboolean(L, 1);
            lua_pcall(L, 1, 0, 0);
        } else
            lua_pop(L, 1);
        lua_pop(L, 1);
    }
    if (!L) {
        if (mpi) wb_mpi_abort("mpi: the driver could not start Lua", 1);
        return 1;
    }
    int rc = 0;
    if (argc >= 2 && strcmp(argv[1], "-e") == 0) {
        struct stat st;
        if (stat(argv[2], &st) == 0 && S_ISREG(st.st_mode))
            rc = run_file(L, argv[2], argv, argc, 2);
        else
            rc = run_string(L, argv[2], argv, argc, 2);
    } else if (argc >= 2) {
        rc = run_file(L, strcmp(argv[1], "-") == 0 ? NULL : argv[1], argv, argc, 1);
    } else if (isatty(0) || (mpi && launcher_on_tty())) {
        rc = repl(L);
    } else {
        rc = run_file(L, NULL, argv, argc, 0);
    }
    lua_close(L);
    if (mpi) wb_mpi_finish(rc);
    return rc;
}
