/* progress.c — the progress line shown on stderr when it is a terminal. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "wblua.h"

static int quiet_flag;
static pthread_mutex_t prog_mu = PTHREAD_MUTEX_INITIALIZER;
static double prog_last, prog_start;
static char prog_stage[64];
static int prog_shown;

static void progress_sink(const char *stage, double done, double total, const char *info)
{
    if (quiet_flag || !isatty(2)) return;
    pthread_mutex_lock(&prog_mu);
    double now = wb_now();
    if (strncmp(prog_stage, stage, sizeof prog_stage - 1) != 0 || done <= 0) {
        snprintf(prog_stage, sizeof prog_stage, "%s", stage);
        prog_start = now;
    }
    int finished = total > 0 && done >= total;
    if (finished) {
        if (prog_shown) fprintf(stderr, "\r\033[K");
        prog_shown = 0;
        prog_stage[0] = 0;
    } else if (now - prog_last > 0.1 && now - prog_start > 0.5) {
        double el = now - prog_start;
        char eta[32] = "";
        if (total > 0 && done > 0) snprintf(eta, sizeof eta, " ETA %.0fs", el * (total - done) / done);
        fprintf(stderr, "\r\033[K%s %.0f/%.0f (%.0f%%) %.1fs%s%s%s", stage, done, total,
                total > 0 ? 100.0 * done / total : 0.0, el, eta, info ? "  " : "", info ? info : "");
        prog_last = now;
        prog_shown = 1;
    }
    pthread_mutex_unlock(&prog_mu);
}

void wb_shell_progress_install(int quiet)
{
    quiet_flag = quiet;
    wb_set_progress(progress_sink);
}

int wb_shell_l_quiet(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) quiet_flag = lua_toboolean(L, 1);
    lua_pushboolean(L, quiet_flag);
    return 1;
}
