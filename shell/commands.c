/* commands.c — the table of subcommands. */
#include <stddef.h>

#include "commands.h"

const wb_subcommand wb_subcommands[] = {
    {NULL, NULL, NULL},
};
