/* commands.h — subcommands of the wb program (`wb head`, `wb worker`, ...). */
#ifndef WB_SHELL_COMMANDS_H
#define WB_SHELL_COMMANDS_H

typedef struct wb_subcommand {
    const char *name;
    const char *usage;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand; returns exit status */
} wb_subcommand;

/* the table, ended by {NULL} (commands.c) */
extern const wb_subcommand wb_subcommands[];

/* set up a Lua state with wb loaded (shared with subcommands that need Lua) */
struct lua_State;
struct lua_State *wb_shell_newstate(int quiet);
/* the program's own folder (for plugins) */
const char *wb_shell_exe_dir(void);

/* `wb kernel ...` (shell/kernel/kernel.c): the Jupyter kernel, given the
 * prompt's Lua state constructor; argv[0] is "kernel" */
int wb_kernel_main(int argc, char **argv, struct lua_State *(*newstate)(int quiet));

#endif
