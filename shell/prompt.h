/* prompt.h — the machinery of the wb> prompt, without readline: what a
 * front-end needs to run what a user types and show what comes back. The
 * terminal prompt (main.c) puts readline around it; a notebook kernel (the
 * Jupyter protocol) reuses it as it is:
 *
 *   evaluation    wb_prompt_compile(L, text, &more) then wb_prompt_call(L, 0,
 *                 LUA_MULTRET): a chunk as an expression when it is one
 *                 ("1 + 1" shows 2), else as statements; "=expr" is an
 *                 expression; help_query turns "?name" / "name?" into
 *                 help("name") first.
 *   is complete   wb_prompt_compile's *more: the chunk is unfinished (a
 *                 statement or an expression that ends at <eof>) and takes
 *                 another line.
 *   printing      wb_prompt_begin(L, width) before a command (the terminal's
 *                 width, 0: none), wb_prompt_results(L) after it: the text
 *                 the prompt prints for the values on the stack (wb.show:
 *                 datasets, models and tables as tables), or NULL; the first
 *                 value becomes `_`. In Lua: require("wb.show").results(...).
 *   errors        wb_prompt_call's message handler makes the "clean" text:
 *                 wb's own errors as the message alone, the user's with a
 *                 traceback (lua/wb/errors.lua, wb.debug(true) for always);
 *                 wb_prompt_error_text gives it, wb_prompt_report prints
 *                 "wb: <text>". exit()/quit() are not errors:
 *                 wb_prompt_exit_request tells them apart.
 *   completion    wb_prompt_complete(L, line, cursor, ...): the candidates
 *                 at any place of a line, by context (lua/wb/complete.lua's
 *                 line(): names, methods of the object's type, estimator,
 *                 column and metric names and files inside strings,
 *                 parameter names), each replacing the line from *start.
 *   help          wb_prompt_help_query, or in Lua require("wb.help").text(
 *                 name, width) (the text, wrapped) and .topics().
 *   Ctrl-C        wb_prompt_interrupt() from a signal handler (or another
 *                 thread): the running chunk stops with "interrupted!" at
 *                 its next Lua instruction, kernels at their next check of
 *                 wb_interrupted(); wb_prompt_running() says whether a call
 *                 runs. */
#ifndef WB_SHELL_PROMPT_H
#define WB_SHELL_PROMPT_H

#include "wblua.h"

/* compile what was typed: the function (LUA_OK) or the message on the
 * stack; *more: it is unfinished (read another line, join with "\n") */
int wb_prompt_compile(lua_State *L, const char *chunk, int *more);
/* "?name" or "name?": the chunk help("name") to run instead (malloc'd), or NULL */
char *wb_prompt_help_query(lua_State *L, const char *line);
/* the text of the chunk about to run (error messages quote its lines) */
void wb_prompt_set_chunk(lua_State *L, const char *text);

/* lua_pcall with the prompt's message handler; Ctrl-C (wb_prompt_interrupt)
 * stops it; the progress line is ended after it */
int wb_prompt_call(lua_State *L, int narg, int nres);
/* the last call stopped on Ctrl-C */
int wb_prompt_interrupted_last(void);
/* exit(code) / quit(code): the value at idx is one (1, *code set) */
int wb_prompt_exit_request(lua_State *L, int idx, int *code);
/* the message of a failed call (at the top of the stack), or NULL */
const char *wb_prompt_error_text(lua_State *L);
/* print "wb: <message>" on stderr and pop it (nothing for exit()) */
void wb_prompt_report(lua_State *L, int status);

/* wb.show's begin(width) before a command (width <= 0: none) */
int wb_prompt_begin(lua_State *L, int width);
/* the text to print for the values on the stack (malloc'd; NULL: nothing);
 * clears the stack; *status is not LUA_OK when printing failed (its message
 * is then on the stack) */
char *wb_prompt_results(lua_State *L, int *status);

/* completion: the candidates for line[0..cursor) (malloc'd array of
 * malloc'd strings, *n of them); each replaces the line from byte *start;
 * *quote: the quote of the string being completed (0: none); *files: the
 * candidates are paths. Returns 0, or -1 (no candidates) */
int wb_prompt_complete(lua_State *L, const char *line, int cursor, char ***out, int *n, int *start, int *quote,
                       int *files);

/* Ctrl-C, from a signal handler: stop the running call (returns the
 * presses during this call, 0 when none runs) */
int wb_prompt_interrupt(void);
int wb_prompt_running(void);

#endif
