/* commands.c — the table of subcommands. */
#include <stddef.h>

#include "commands.h"

int wb_cmd_head(int argc, char **argv);
int wb_cmd_worker(int argc, char **argv);

const wb_subcommand wb_subcommands[] = {
    {"head", "head [--host 127.0.0.1] [--port 7878] [--dashboard-port 7879] [--token-file F] ...", wb_cmd_head},
    {"worker", "worker --address HOST:PORT [--threads N] [--memory-limit 4GB] [--token-file F] ...", wb_cmd_worker},
    {NULL, NULL, NULL},
};
