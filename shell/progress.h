/* progress.h — the progress line of the wb program: long operations report
 * (stage, done, total, info) through wb_progress(); on a terminal the shell
 * shows them as one line on stderr, otherwise (or with wb.quiet(true)) they
 * are silent. */
#ifndef WB_SHELL_PROGRESS_H
#define WB_SHELL_PROGRESS_H

struct lua_State;

/* install the sink with wb_set_progress(); quiet != 0 starts silent */
void wb_shell_progress_install(int quiet);
/* wb.quiet([flag]) -> the current setting */
int wb_shell_l_quiet(struct lua_State *L);
/* wrap print and io.write so they erase the line before writing */
void wb_shell_progress_lua(struct lua_State *L);
/* erase the line (it comes back at the next report) */
void wb_shell_progress_erase(void);
/* send the line elsewhere than the terminal: draw(line) shows it (a line of
 * at most 120 characters, each time it changes), erase() takes it away;
 * called with the progress lock held, from any thread. NULL: the terminal. */
void wb_shell_progress_output(void (*draw)(const char *line), void (*erase)(void));
/* a call from the prompt or a script returned: erase the line, forget the stages */
void wb_shell_progress_end(void);

#endif
