/* progress.c — the progress line shown on stderr when it is a terminal.
 *
 * Long operations report (stage, done, total, info) through wb_progress()
 * (plugins through host->progress). Stages nest: a stage is active from its
 * first report until done >= total; a report from an outer stage ends the
 * ones above it. The line shows the outermost stage and, after a bar, the
 * innermost one:
 *
 *   bench 3/24 (12%) 4.1s ETA 29s  logreg n=1M local:2 run 1/3 | logreg 12/100 (12%) 1.2s ETA 9s  iter 12 loss 0.3127
 *
 * It appears once an operation has run for half a second, redraws at most ten
 * times a second, is cut to the terminal width, and is erased when the
 * operation ends, before anything is printed, and when a call from the prompt
 * or a script returns. Nothing is written when stderr is not a terminal or
 * after wb.quiet(true). The stages themselves are kept by the core
 * (wb_activity_progress), so that the dashboards show the same job. The
 * Jupyter kernel sends the line elsewhere (wb_shell_progress_output): to a
 * display in the notebook. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"
#include "wblua.h"

#define MAX_DEPTH 6
#define SHOW_AFTER 0.5 /* seconds before the line appears */
#define REDRAW 0.1     /* seconds between redraws */

typedef wb_jobstage stage; /* the stages come from the core (wb_activity_job) */

static int quiet_flag;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double last_draw;
static int shown;
/* elsewhere than the terminal (wb_shell_progress_output) */
static void (*out_draw)(const char *line);
static void (*out_erase)(void);
#define OUT_WIDTH 120 /* the line's width there */

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
    return 80;
}

static void erase_locked(void)
{
    if (shown) {
        if (out_erase) {
            out_erase();
        } else {
            fputs("\r\033[K", stderr);
            fflush(stderr);
        }
        shown = 0;
    }
}

/* 4.2s, 38s, 2m05s, 1h02m */
static void format_secs(char *buf, size_t cap, double t)
{
    if (t < 0) t = 0;
    if (t < 10)
        snprintf(buf, cap, "%.1fs", t);
    else if (t < 60)
        snprintf(buf, cap, "%.0fs", t);
    else if (t < 3600)
        snprintf(buf, cap, "%dm%02ds", (int)t / 60, (int)t % 60);
    else
        snprintf(buf, cap, "%dh%02dm", (int)(t / 3600), (int)t % 3600 / 60);
}

/* "name done/total (pct%) elapsed ETA eta  info" */
static int format_stage(char *buf, size_t cap, const stage *s, double now)
{
    double el = now - s->start;
    char eta[40] = "", count[64], els[16], etas[16];
    format_secs(els, sizeof els, el);
    if (s->total > 0) {
        snprintf(count, sizeof count, "%.0f/%.0f (%.0f%%)", s->done, s->total, 100.0 * s->done / s->total);
        if (s->done > 0) {
            format_secs(etas, sizeof etas, el * (s->total - s->done) / s->done);
            snprintf(eta, sizeof eta, " ETA %s", etas);
        }
    } else {
        snprintf(count, sizeof count, "%.0f", s->done);
    }
    return snprintf(buf, cap, "%s %s %s%s%s%s", s->name, count, els, eta, s->info[0] ? "  " : "", s->info);
}

static void draw_locked(const stage *stack, int depth, double now)
{
    if (depth == 0) return;
    char line[512];
    int w = out_draw ? OUT_WIDTH : terminal_width() - 1;
    int n = format_stage(line, sizeof line, &stack[0], now);
    if (depth > 1 && n > 0 && (size_t)n < sizeof line - 4) {
        char inner[256];
        int m = format_stage(inner, sizeof inner, &stack[depth - 1], now);
        if (n + 3 + m > w) { /* narrow terminal: the outer stage as "name done/total" only */
            const stage *o = &stack[0];
            n = o->total > 0 ? snprintf(line, sizeof line, "%s %.0f/%.0f", o->name, o->done, o->total)
                             : snprintf(line, sizeof line, "%s %.0f", o->name, o->done);
        }
        snprintf(line + n, sizeof line - (size_t)n, " | %s", inner);
    }
    if ((int)strlen(line) > w) line[w] = 0;
    if (out_draw) {
        out_draw(line);
    } else {
        fprintf(stderr, "\r\033[K%s", line);
        fflush(stderr);
    }
    shown = 1;
    last_draw = now;
}

/* a report came: the core has updated the stages (wb_activity_progress,
 * the dashboards' job too); draw them */
static void progress_sink(const char *stage_name, double done, double total, const char *info)
{
    (void)info;
    if (quiet_flag || !stage_name) return;
    if (!out_draw && !isatty(2)) return;
    pthread_mutex_lock(&mu);
    double now = wb_now();
    stage stack[MAX_DEPTH];
    int depth = wb_activity_job(stack, MAX_DEPTH, NULL);
    if (total > 0 && done >= total) { /* a stage finished */
        if (depth == 0)
            erase_locked();
        else if (shown && now - last_draw >= REDRAW)
            draw_locked(stack, depth, now);
    } else if (depth > 0 && now - stack[0].start >= SHOW_AFTER && now - last_draw >= REDRAW) {
        draw_locked(stack, depth, now);
    }
    pthread_mutex_unlock(&mu);
}

void wb_shell_progress_install(int quiet)
{
    quiet_flag = quiet;
    wb_set_progress(progress_sink);
}

void wb_shell_progress_output(void (*draw)(const char *line), void (*erase)(void))
{
    pthread_mutex_lock(&mu);
    erase_locked();
    out_draw = draw;
    out_erase = draw ? erase : NULL;
    pthread_mutex_unlock(&mu);
}

void wb_shell_progress_end(void)
{
    pthread_mutex_lock(&mu);
    erase_locked();
    wb_activity_job_end();
    pthread_mutex_unlock(&mu);
}

void wb_shell_progress_erase(void)
{
    pthread_mutex_lock(&mu);
    erase_locked();
    pthread_mutex_unlock(&mu);
}

int wb_shell_l_quiet(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        quiet_flag = lua_toboolean(L, 1);
        if (quiet_flag) wb_shell_progress_erase();
    }
    lua_pushboolean(L, quiet_flag);
    return 1;
}

/* print and io.write erase the line first, so output starts at column 0 (the
 * line comes back at the next report) */
static int wrapped(lua_State *L)
{
    wb_shell_progress_erase();
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static void wrap(lua_State *L, int table, const char *name)
{
    lua_getfield(L, table, name);
    if (lua_isfunction(L, -1)) {
        lua_pushcclosure(L, wrapped, 1);
        lua_setfield(L, table, name);
    } else {
        lua_pop(L, 1);
    }
}

void wb_shell_progress_lua(lua_State *L)
{
    lua_pushglobaltable(L);
    wrap(L, lua_gettop(L), "print");
    lua_pop(L, 1);
    lua_getglobal(L, "io");
    if (lua_istable(L, -1)) wrap(L, lua_gettop(L), "write");
    lua_pop(L, 1);
}
